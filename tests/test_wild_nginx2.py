"""Shapes from a second trial on nginx configurations nobody here wrote (hand-written here).

Each test is the smallest shape, written for this file, of something tlslint got wrong
on a public project's configuration (OpenResty, ingress-nginx's generated nginx.conf,
Ansible role output, ConfigMaps, stream and QUIC configurations).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import check_files, fix

from tlslint.sources.nginx.lexer import CLOSE, OPEN, tokenize

# OpenResty and ingress-nginx write Lua in *_by_lua_block: lua-nginx-module reads the
# block as Lua, so statements without ";", quotes nginx would not close and braces in
# strings or comments are all fine there.
LUA = """\
events {}
http {
    init_by_lua_block {
        collectgarbage("collect")
        local ok, res = pcall(require, "lua_ingress")
        ngx.log(ngx.INFO, "it's } not the end") -- nor is this }
        local t = { a = [==[ } ]==] }
        --[[ a long comment with an unmatched { ]]
    }
    ssl_protocols TLSv1.2;
    server {
        listen 443 ssl;
        server_name lua.example.org;
        ssl_certificate /etc/tls/lua.pem;
        ssl_certificate_key /etc/tls/lua.key;
        ssl_session_cache shared:SSL:10m;
        ssl_certificate_by_lua_block {
            certificate.call()
        }
        location / {
            set_by_lua_block $backend { return "up" }
            content_by_lua_block {
                ngx.say('{')
            }
        }
    }
}
"""


def test_lua_blocks_are_read_as_lua(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"nginx.conf": LUA})
    messages = [f.message for f in result.findings]
    assert not [f for f in result.findings if f.code.startswith("NGX00")], messages
    # The directives after the Lua blocks are still read.
    (protocols,) = [f for f in result.findings if f.code == "NGX302"]
    assert "lua.example.org" in protocols.message


def test_a_lua_block_is_an_empty_block_ending_at_its_brace() -> None:
    text = 'content_by_lua_block { ngx.say("}") } listen 80;'
    kinds = [(t.kind, text[t.start : t.end]) for t in tokenize(text)]
    assert kinds[1:3] == [(OPEN, "{"), (CLOSE, "}")]
    assert kinds[3][1] == "listen"


def test_an_unterminated_lua_block_is_a_parse_error(tmp_path: Path) -> None:
    text = "init_by_lua_block {\n    local s = '}'\n"
    result = check_files(tmp_path, {"nginx.conf": text})
    (error,) = [f for f in result.findings if f.code == "NGX001"]
    assert error.location.line == 1 and "Lua block" in error.message, error.message


def test_fixes_keep_lua_blocks_byte_identical(tmp_path: Path) -> None:
    fixed = fix(tmp_path, {"nginx.conf": LUA}, unsafe=True)["nginx.conf"].decode()
    assert fixed != LUA
    lua_lines = [line for line in LUA.splitlines() if "lua" in line or "(" in line]
    assert lua_lines and all(line in fixed.splitlines() for line in lua_lines)


# ingress-nginx's generated nginx.conf: http{} with its TLS servers, and a stream{} whose
# servers (Lua-balanced TCP services) are all plain.
HTTP_AND_PLAIN_STREAM = """\
events {}
http {
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
    ssl_session_cache shared:SSL:10m;
    server {
        listen 443 ssl;
        server_name app.example.org;
        ssl_certificate /etc/tls/app.pem;
        ssl_certificate_key /etc/tls/app.key;
    }
}
stream {
    server {
        listen 127.0.0.1:10247;
        proxy_pass 127.0.0.1:5432;
    }
}
"""


def test_a_plain_stream_block_does_not_judge_http_protocols_again(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"nginx.conf": HTTP_AND_PLAIN_STREAM})
    for code in ("NGX302", "NGX303"):
        found = [f.message for f in result.findings if f.code == code]
        assert len(found) == 1 and "app.example.org" in found[0], (code, found)
        assert "included from elsewhere" not in found[0]


# An old HAProxy-behind-nginx guide: a plain default server, and a virtual server on the
# same socket with the legacy `ssl on;`. nginx reads `ssl on` from the socket's default
# server only (measured on 1.22.1: the socket speaks plain HTTP, to both servers).
SSL_ON_VIRTUAL = """\
events {}
http {
    server {
        listen 8080;
        server_name plain.example.org;
    }
    server {
        listen 8080;
        server_name tls.example.org;
        ssl on;
        ssl_certificate /etc/tls/tls.pem;
        ssl_certificate_key /etc/tls/tls.key;
    }
}
"""


def test_ssl_on_in_a_virtual_server_leaves_the_socket_plain(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"nginx.conf": SSL_ON_VIRTUAL}, {"nginx": {"version": "1.22"}})
    # Nothing about TLS on *:8080: no certificate refusal, no session cache, no protocols.
    assert [f.code for f in result.findings] == ["NGX304"], [f.message for f in result.findings]
    # As the default server, `ssl on` does make the socket TLS.
    first = SSL_ON_VIRTUAL.replace(
        "listen 8080;\n        server_name tls", "listen 8080 default_server;\n        server_name tls"
    )
    result = check_files(tmp_path, {"nginx.conf": first}, {"nginx": {"version": "1.22"}})
    assert "NGX101" in [f.code for f in result.findings], [f.message for f in result.findings]


@pytest.mark.nginx
def test_ssl_on_in_a_virtual_server_passes_nginx_t() -> None:
    from nginx_harness import nginx_t

    outcome = nginx_t(SSL_ON_VIRTUAL)
    assert outcome.ok, outcome.describe()


def test_one_fix_shared_by_many_findings_is_chosen_in_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """ingress-nginx's generated nginx.conf with 3,000 `listen ... http2` lines: NGX305's
    one fix (every listen line, and `http2 on;`) rides on each of the 3,000 findings.
    Choosing fixes compared every edit with every edit taken, per finding: the fix ran
    for hours. Counted in comparisons of edits, not time."""
    from tlslint.findings import Edit, Finding, Fix, Location, Severity
    from tlslint.fixing import choose_fixes

    path = Path("nginx.conf")
    edits = tuple(Edit(path, 10 * i, 10 * i + 5, "listen 443 ssl") for i in range(60))
    fix = Fix("remove the http2 parameter", edits, True)
    findings = [
        Finding(
            "NGX305", "http2-syntax-for-version", Severity.INFO, f"listen {i}", Location(path, i + 1), fix=fix
        )
        for i in range(60)
    ]
    compared = 0
    original = Edit.__eq__

    def counting(self: Edit, other: object) -> bool:
        nonlocal compared
        compared += 1
        return original(self, other)

    monkeypatch.setattr(Edit, "__eq__", counting)
    chosen = choose_fixes(findings, unsafe=False)
    assert [len(f.edits) for f in chosen if f.edits] == [60]
    assert compared < 10 * 60 * 60, compared
