"""A fragment checked without its includer (a conf.d/ file of server blocks, a server
snippet): the rules that report an unset, http-inheritable setting say what this file
does not set and that the includer decides, never that nginx's default applies; and the
fixes that add such a setting are unsafe there (the includer may set it: a zone of
another size, a value the fix would override). A complete configuration keeps its
messages and safe fixes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.findings import Finding
from tlslint.fixing import apply_fixes

SERVER = """server {
    listen 443 ssl;
    server_name a.example.com;
    ssl_certificate /etc/ssl/a.pem;
    ssl_certificate_key /etc/ssl/a.key;
}
"""
SECOND = """server {
    listen 443 ssl;
    server_name b.example.com;
    ssl_session_cache shared:B:10m;
    ssl_certificate /etc/ssl/b.pem;
    ssl_certificate_key /etc/ssl/b.key;
}
"""
SNIPPET = """ssl_certificate /etc/ssl/a.pem;
ssl_certificate_key /etc/ssl/a.key;
"""


def whole(*servers: str) -> str:
    """The servers in a complete nginx.conf (context main)."""
    inner = "".join("    " + line + "\n" if line else "\n" for s in servers for line in s.splitlines())
    return f"events {{}}\nhttp {{\n{inner}}}\n"


def findings(tmp_path: Path, name: str, text: str, code: str, **extra: Any) -> list[Finding]:
    result = check_files(tmp_path, {name: text}, {"select": [code], **extra})
    return [f for f in result.findings if f.code == code]


def one(tmp_path: Path, name: str, text: str, code: str, **extra: Any) -> Finding:
    (found,) = findings(tmp_path, name, text, code, **extra)
    return found


FRAGMENT = "conf.d/site.conf"
# SERVER says nothing that only http{} or only stream{} has: either may include it.
INCLUDER = "the including http{} or stream{}"


def test_ngx101_hedges_in_a_fragment_and_its_fix_is_unsafe(tmp_path: Path) -> None:
    finding = one(tmp_path / "f", FRAGMENT, SERVER, "NGX101")
    assert finding.message.startswith(
        f"TLS server[a.example.com@*:443] has no session cache unless {INCLUDER} sets one "
        "(nothing in this file sets ssl_session_cache; nginx's default is none): "
    )
    assert "no ssl_session_cache applies" not in finding.message
    assert "(unless the includer sets ssl_session_ticket_key)" in finding.message
    assert finding.fix is not None and not finding.fix.safe


def test_ngx101_keeps_its_message_and_safe_fix_in_a_complete_configuration(tmp_path: Path) -> None:
    finding = one(tmp_path, "nginx.conf", whole(SERVER), "NGX101")
    assert finding.message == (
        "TLS server[a.example.com@*:443] has no session cache (no ssl_session_cache applies; nginx's "
        "default is none): only session tickets can resume, and with nginx's random ticket keys they "
        "die on every reload and differ between nodes"
    )
    assert finding.fix is not None and finding.fix.safe


def test_ngx101_one_cause_in_a_fragment_hedges(tmp_path: Path) -> None:
    second = SERVER.replace("a.example.com", "c.example.com")
    finding = one(tmp_path, FRAGMENT, SERVER + second, "NGX101")
    assert finding.message.startswith(
        "nothing in this file sets ssl_session_cache (nginx's default is none), so 2 TLS servers have no "
        f"session cache unless {INCLUDER} sets one: "
    )
    assert "whose random keys (unless the includer sets ssl_session_ticket_key)" in finding.message
    assert finding.fix is not None and not finding.fix.safe


def test_a_server_snippet_names_its_including_server_too(tmp_path: Path) -> None:
    finding = one(tmp_path, "snippets/tls.conf", SNIPPET, "NGX101")
    assert "unless the including server{} or its http{} or stream{} sets one" in finding.message
    assert finding.fix is not None and not finding.fix.safe


def test_ngx105_hedges_in_a_fragment_and_its_fix_is_unsafe(tmp_path: Path) -> None:
    finding = one(tmp_path / "f", FRAGMENT, SERVER, "NGX105")
    assert finding.message == (
        "session tickets on *:443 are encrypted with the keys of the default server "
        "server[a.example.com@*:443], which sets neither ssl_session_ticket_key nor a shared "
        f"ssl_session_cache in this file: unless {INCLUDER} does or turns ssl_session_tickets off, nginx's "
        "random keys are kept by no shared session cache, so every reload invalidates all tickets, and "
        "each node has its own keys; a shared cache keeps and rotates them from nginx 1.23.2 only "
        "(nginx.version is not configured: set nginx.version to decide)"
    )
    assert finding.fix is not None and not finding.fix.safe
    # Tickets turned on by a line of the file: the includer cannot turn them off for it.
    written = SERVER.replace("    ssl_certificate ", "    ssl_session_tickets on;\n    ssl_certificate ")
    said = one(tmp_path / "t", FRAGMENT, written, "NGX105").message
    assert f"unless {INCLUDER} does, nginx's random keys" in said
    assert "turns ssl_session_tickets off" not in said
    # Complete, on a version whose shared cache keeps the keys (open, the fix is unsafe too).
    complete = one(tmp_path / "w", "nginx.conf", whole(SERVER), "NGX105", nginx={"version": "1.24.0"})
    assert "which has no ssl_session_ticket_key: no shared session cache keeps" in complete.message
    assert complete.fix is not None and complete.fix.safe


def test_ngx107_hedges_in_a_fragment(tmp_path: Path) -> None:
    finding = one(tmp_path / "f", FRAGMENT, SERVER + SECOND, "NGX107")
    assert f"which sets no session cache in this file ({INCLUDER} may give it one)" in finding.message
    complete = one(tmp_path / "w", "nginx.conf", whole(SERVER, SECOND), "NGX107")
    assert "which has no session cache; move the setting" in complete.message


@pytest.mark.parametrize(
    ("code", "extra", "option"),
    [
        ("NGX202", {"rules": {"NGX202": {"min": "120s"}}}, "keepalive_timeout"),
        ("NGX203", {"rules": {"NGX203": {"min": "2000"}}}, "keepalive_requests"),
    ],
)
def test_keepalive_unset_hedges_in_a_fragment_and_its_fix_is_unsafe(
    tmp_path: Path, code: str, extra: dict[str, Any], option: str
) -> None:
    finding = one(tmp_path / "f", FRAGMENT, SERVER, code, **extra)
    assert finding.message.startswith(
        # keepalive is http{}'s alone
        f"nothing in this file sets {option} for TLS server[a.example.com@*:443]: "
        "unless the including http{} sets it, "
    )
    assert finding.fix is not None and not finding.fix.safe
    complete = one(tmp_path / "w", "nginx.conf", whole(SERVER), code, **extra)
    assert complete.message.startswith(f"{option} is not set for TLS server[a.example.com@*:443]: nginx's")
    assert complete.fix is not None and complete.fix.safe


def test_ngx203_raises_rather_than_removes_in_a_fragment(tmp_path: Path) -> None:
    text = SERVER.replace("}\n", "    keepalive_requests 500;\n}\n")
    finding = one(tmp_path / "f", FRAGMENT, text, "NGX203", nginx={"version": "1.24"})
    assert finding.fix is not None and finding.fix.description == "raise keepalive_requests to 1000"
    complete = one(tmp_path / "w", "nginx.conf", whole(text), "NGX203", nginx={"version": "1.24"})
    assert complete.fix is not None
    assert complete.fix.description.startswith("remove `keepalive_requests 500;` (then nginx's default 1000")


@pytest.mark.parametrize("code", ["NGX302", "NGX303"])
def test_protocols_hedge_in_a_fragment(tmp_path: Path, code: str) -> None:
    finding = one(tmp_path / "f", FRAGMENT, SERVER, code)
    assert finding.message.startswith(
        f"unless {INCLUDER} sets ssl_protocols, nginx's default ssl_protocols (TLSv1 TLSv1.1 TLSv1.2 "
        "before 1.23.4, TLSv1.3 added then, TLSv1 and TLSv1.1 dropped in 1.27.3; nothing in this file "
        "sets ssl_protocols)"
    )
    complete = one(tmp_path / "w", "nginx.conf", whole(SERVER), code)
    assert complete.message.startswith(
        "nginx's default ssl_protocols (TLSv1 TLSv1.1 TLSv1.2 before 1.23.4, TLSv1.3 added then, TLSv1 "
        "and TLSv1.1 dropped in 1.27.3; no ssl_protocols line applies)"
    )


def test_plain_fix_leaves_a_fragment_alone(tmp_path: Path) -> None:
    """Nothing `--fix` adds to a fragment depends on the includer: NGX101/NGX105 add nothing."""
    path = tmp_path / FRAGMENT
    path.parent.mkdir(parents=True)
    path.write_text(SERVER, encoding="utf-8")
    settings = settings_for(tmp_path, {"select": ["NGX101", "NGX105"]})
    apply_fixes(run([tmp_path], settings), settings, unsafe=False, write=True)
    assert path.read_text(encoding="utf-8") == SERVER


def _fixed_fragment(tmp_path: Path) -> str:
    path = tmp_path / FRAGMENT
    path.parent.mkdir(parents=True)
    path.write_text(SERVER, encoding="utf-8")
    settings = settings_for(tmp_path, {"select": ["NGX101"]})
    apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    fixed = path.read_text(encoding="utf-8")
    assert "ssl_session_cache shared:SSL:10m;" in fixed
    return fixed


INCLUDING = "events {{}}\nhttp {{\n{cache}    include conf.d/*.conf;\n}}\n"


@pytest.mark.nginx
def test_the_fixed_fragment_is_valid_in_an_includer_without_a_cache(tmp_path: Path) -> None:
    from conftest import nginx_binary
    from nginx_harness import nginx_t

    nginx_binary()
    fixed = _fixed_fragment(tmp_path)
    result = nginx_t(INCLUDING.format(cache=""), files={FRAGMENT: fixed})
    assert result.ok, result.describe()


@pytest.mark.nginx
def test_the_fixed_fragment_breaks_an_includer_that_declares_the_zone(tmp_path: Path) -> None:
    """Why the fix is unsafe in a fragment: the includer's `SSL` zone of another size."""
    from conftest import nginx_binary
    from nginx_harness import nginx_t

    nginx_binary()
    fixed = _fixed_fragment(tmp_path)
    includer = INCLUDING.format(cache="    ssl_session_cache shared:SSL:50m;\n")
    before = nginx_t(includer, files={FRAGMENT: SERVER})
    assert before.ok, before.describe()
    after = nginx_t(includer, files={FRAGMENT: fixed})
    assert not after.ok
    assert "conflicts with already declared size" in after.describe()


# A stream{} server file (streams-enabled/) checked without its includer: its lines
# (proxy_timeout, proxy_pass to a bare address, ssl_preread...) exist only in stream{},
# so it is judged as stream{}'s, as it would be with its includer in the tree (T4).
STREAM_SERVER = """server {
    listen 8883 ssl;
    ssl_certificate /etc/ssl/a.pem;
    ssl_certificate_key /etc/ssl/a.key;
    ssl_session_tickets off;
    proxy_timeout 1h;
    proxy_pass 127.0.0.1:1883;
}
"""
PREREAD = STREAM_SERVER.replace(
    "    proxy_timeout 1h;\n", "    ssl_preread on;\n    ssl_handshake_timeout 10s;\n"
)
STREAM_SNIPPET = "".join(line.strip() + "\n" for line in STREAM_SERVER.splitlines()[1:-1])


@pytest.mark.parametrize(
    ("name", "text", "outer"),
    [
        (FRAGMENT, STREAM_SERVER, "the including stream{}"),
        (FRAGMENT, PREREAD, "the including stream{}"),
        ("snippets/mqtt.conf", STREAM_SNIPPET, "the including server{} or its stream{}"),
    ],
)
def test_a_stream_fragment_is_judged_as_stream(tmp_path: Path, name: str, text: str, outer: str) -> None:
    result = check_files(tmp_path, {name: text}, {"select": ["NGX101", "NGX302", "NGX401"]})
    by_code = {f.code: f for f in result.findings}
    assert by_code["NGX101"].message.startswith(
        f"TLS stream server[*:8883] has no session cache unless {outer} sets"
    )
    assert all("http{}" not in f.message for f in result.findings), result.findings
    # stream's default is `access_log off`: nothing is logged in a format that lacks the variables
    assert "NGX401" not in by_code
    fix = by_code["NGX101"].fix
    assert fix is not None and not fix.safe
    assert "shared:STREAM_SSL:10m" in fix.edits[0].replacement


def test_a_fragment_with_http_lines_names_http(tmp_path: Path) -> None:
    text = SERVER.replace("}\n", "    location / { return 204; }\n}\n")
    finding = one(tmp_path, FRAGMENT, text, "NGX101")
    assert "unless the including http{} sets one" in finding.message
    # proxy_pass with a scheme is http's (in a location); stream's takes a bare address
    text = SERVER.replace("}\n", "    location / { proxy_pass https://127.0.0.1:8443; }\n}\n")
    assert "unless the including http{} sets one" in one(tmp_path / "p", FRAGMENT, text, "NGX101").message


@pytest.mark.nginx
def test_the_fixed_stream_fragment_is_valid_beside_an_http_ssl_zone(tmp_path: Path) -> None:
    """The includer's http{} declares the usual `SSL` zone: a stream server given `SSL` too
    is `already declared for a different use`; the fix gives it stream's own name."""
    from conftest import nginx_binary
    from nginx_harness import nginx_t

    nginx_binary()
    path = tmp_path / FRAGMENT
    path.parent.mkdir(parents=True)
    path.write_text(STREAM_SERVER, encoding="utf-8")
    settings = settings_for(tmp_path, {"select": ["NGX101", "NGX302"]})
    apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    fixed = path.read_text(encoding="utf-8")
    assert "ssl_session_cache shared:STREAM_SSL:10m;" in fixed
    includer = (
        "events {}\nhttp {\n    ssl_session_cache shared:SSL:10m;\n}\n"
        "stream {\n    include conf.d/*.conf;\n}\n"
    )
    assert nginx_t(includer, files={FRAGMENT: STREAM_SERVER}).ok
    result = nginx_t(includer, files={FRAGMENT: fixed})
    assert result.ok, result.describe()


@pytest.mark.parametrize(
    ("text", "module"),
    [
        (STREAM_SERVER, "stream"),
        (STREAM_SNIPPET, "stream"),
        (SERVER, ""),  # listen, server_name and certificates: both modules have them
        (SNIPPET, ""),
        # proxy_connect_timeout is in both servers; proxy_pass with a scheme is http's
        (SERVER.replace("}\n", "    proxy_connect_timeout 5s;\n}\n"), ""),
        ("proxy_pass https://127.0.0.1:8443;\n", "http"),
        ("proxy_pass backend;\nproxy_responses 1;\n", "stream"),
        (SERVER.replace("}\n", "    root /srv;\n}\n"), "http"),
        # a line of each: nginx refuses it in either (NGX011); read as http{}'s, as before
        (STREAM_SERVER.replace("}\n", "    root /srv;\n}\n"), "http"),
    ],
)
def test_which_block_includes_a_fragment(tmp_path: Path, text: str, module: str) -> None:
    result = check_files(tmp_path, {FRAGMENT: text}, {"select": ["NGX101"]})
    (config,) = result.workspace.nginx
    assert config.module == module
