"""ssl_session_timeout is the default server's, as the session cache and ticket keys are.

nginx stores a new session with the timeout of the SSL context it was accepted in, the
default server's of the listen address:port (``SSL_CTX_get_timeout(c->ssl->session_ctx)``),
before SNI picks the virtual server. Measured on Debian's 1.22.1 (tester's repro, and
tests/test_live_session_timeout.py): default 8s / virtual server 1h, a session offered
11 s later is not resumed; default 1h / virtual server 8s, it is. So:

* NGX104 judges the timeout in force where sessions are stored (each TLS socket's default
  server: its own line or what it inherits), not a virtual server's line;
* NGX107 reports a virtual server's own timeout that differs from its default server's
  as not used, as it reports its cache and ticket keys;
* NGX107's (and NGX101's) move of a virtual server's cache to http{} carries the server's
  own timeout along when nothing in force there has one, so that the operator's value
  takes effect (the Home Assistant nginx_proxy add-on: `ssl_session_timeout 1d` was left
  behind, and sessions lived 5m); a value in force there is not replaced.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.findings import Finding
from tlslint.fixing import apply_fixes

CERT = "ssl_certificate c.pem; ssl_certificate_key k.pem;"


def lint(tmp_path: Path, text: str, codes: list[str], version: str = "1.22.1") -> list[Finding]:
    directory = Path(tempfile.mkdtemp(dir=tmp_path))
    mapping: dict[str, Any] = {"select": codes, "nginx": {"version": version}}
    result = check_files(directory, {"nginx.conf": f"events {{}}\n{text}"}, mapping)
    return [f for f in result.findings if f.code in codes]


def fix(tmp_path: Path, text: str, codes: list[str], version: str = "1.22.1", unsafe: bool = False) -> str:
    directory = Path(tempfile.mkdtemp(dir=tmp_path))
    path = directory / "nginx.conf"
    path.write_text(f"events {{}}\n{text}", encoding="utf-8")
    configured = settings_for(directory, {"select": codes, "nginx": {"version": version}})
    apply_fixes(run([directory], configured), configured, unsafe=unsafe, write=True)
    return path.read_text(encoding="utf-8").removeprefix("events {}\n")


def two(default: str, vhost: str, http: str = "ssl_session_cache shared:SSL:10m;") -> str:
    return (
        f"http {{\n    {http}\n"
        f"    server {{ listen 443 ssl default_server; {CERT} {default} }}\n"
        f"    server {{ listen 443 ssl; server_name vh.test; {CERT} {vhost} }}\n}}\n"
    )


# The tester's repro: the virtual server's 1m is not in force, the default server's 1d is.
REPRO = two("ssl_session_timeout 1d;", "ssl_session_timeout 1m;")


def test_ngx104_does_not_judge_a_virtual_servers_timeout(tmp_path: Path) -> None:
    assert lint(tmp_path, REPRO, ["NGX104"], "1.25.3") == []
    # The default server's own line is the one in force: judged.
    (short,) = lint(tmp_path, two("ssl_session_timeout 1m;", "ssl_session_timeout 1d;"), ["NGX104"], "1.25.3")
    assert short.message.startswith("ssl_session_timeout 1m is below the minimum 5m")
    # http{}'s line is in force where the default server has none of its own.
    inherited = two("", "", http="ssl_session_cache shared:SSL:10m; ssl_session_timeout 1m;")
    assert len(lint(tmp_path, inherited, ["NGX104"])) == 1
    # ... and not where only virtual servers inherit it (the default server sets 1d).
    overridden = two("ssl_session_timeout 1d;", "", http="ssl_session_timeout 1m;")
    assert lint(tmp_path, overridden, ["NGX104"]) == []


def test_ngx107_a_virtual_servers_own_timeout_is_not_used(tmp_path: Path) -> None:
    (finding,) = lint(tmp_path, REPRO, ["NGX107"], "1.25.3")
    assert finding.message.startswith(
        "ssl_session_timeout here is not used: sessions on *:443 are resumed in the context of its "
        "default server server[*:443], whose ssl_session_timeout is 1d (its own line), not this 1m"
    )
    assert finding.location.line == 5
    assert finding.fix is None  # the default server's own 1d is an operator's value
    assert "ssl_session_timeout" in finding.fix_note


def test_ngx107_a_timeout_the_same_as_the_default_servers_is_not_reported(tmp_path: Path) -> None:
    assert lint(tmp_path, two("ssl_session_timeout 1d;", "ssl_session_timeout 24h;"), ["NGX107"]) == []
    # nginx's default is 5m: a virtual server's 5m under a default server with none.
    assert lint(tmp_path, two("", "ssl_session_timeout 5m;"), ["NGX107"]) == []


def test_ngx107_moves_a_lone_timeout_to_http_when_none_is_in_force(tmp_path: Path) -> None:
    text = two("", "ssl_session_timeout 1d;")
    (finding,) = lint(tmp_path, text, ["NGX107"])
    assert "which has none (nginx's default 5m), not this 1d" in finding.message
    assert finding.fix is not None and finding.fix.safe
    fixed = fix(tmp_path, text, ["NGX107"])
    head, vhost = fixed.split("server_name vh.test;")
    assert "ssl_session_timeout 1d;" in head.split("server")[0] and "ssl_session_timeout" not in vhost
    assert lint(tmp_path, fixed, ["NGX107", "NGX104"]) == []


# The Home Assistant nginx_proxy add-on (its nginx.conf, trimmed).
HA = """\
http {
    ssl_protocols TLSv1.2 TLSv1.3;

    server {
        server_name _;
        listen 443 ssl default_server;
        ssl_reject_handshake on;
        return 444;
    }

    server {
        server_name home.example.com;

        ssl_session_timeout 1d;  # a day
        ssl_session_cache shared:MozSSL:10m;
        ssl_session_tickets off;
        ssl_certificate /ssl/fullchain.pem;
        ssl_certificate_key /ssl/privkey.pem;
        listen 443 ssl;
    }
}
"""
HA_FIXED = """\
http {
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_timeout 1d;
    ssl_session_cache shared:MozSSL:10m;

    server {
        server_name _;
        listen 443 ssl default_server;
        ssl_reject_handshake on;
        return 444;
    }

    server {
        server_name home.example.com;

        # a day
        ssl_session_tickets off;
        ssl_certificate /ssl/fullchain.pem;
        ssl_certificate_key /ssl/privkey.pem;
        listen 443 ssl;
    }
}
"""


# A trailing comment stays where the line was, as for every removed line (test_fixing.py).
@pytest.mark.parametrize("codes", [["NGX107"], ["NGX101"], ["NGX101", "NGX107", "NGX104", "NGX108"]])
def test_the_cache_move_carries_the_timeout_along(tmp_path: Path, codes: list[str]) -> None:
    before = lint(tmp_path, HA, ["NGX107"])
    assert sorted(f.message.split(" here")[0] for f in before) == ["ssl_session_cache", "ssl_session_timeout"]
    fixed = fix(tmp_path, HA, codes)
    assert fixed == HA_FIXED
    assert fix(tmp_path, fixed, codes) == fixed  # idempotent
    assert lint(tmp_path, fixed, ["NGX107", "NGX104", "NGX108"]) == []


@pytest.mark.parametrize(
    ("http", "default", "in_force"),
    [
        pytest.param("ssl_session_timeout 1h;", "", "1h (from http{})", id="http"),
        pytest.param("", "ssl_session_timeout 10m;", "10m (its own line)", id="default"),
    ],
)
def test_a_timeout_in_force_at_the_destination_is_not_replaced(
    tmp_path: Path, http: str, default: str, in_force: str
) -> None:
    text = two(
        f"ssl_reject_handshake on; {default}", "ssl_session_timeout 1d; ssl_session_cache shared:A:10m;", http
    )
    fixed = fix(tmp_path, text, ["NGX107"])
    # The cache moved (safe: the default server had none), the timeout stayed, and the
    # re-check says it is not used.
    assert "ssl_session_cache shared:A:10m;" in fixed.split("server")[0]
    assert "ssl_session_timeout 1d;" in fixed.split("server", 1)[1]
    if http:
        assert fixed.split("server")[0].count("ssl_session_timeout") == 1
    (left,) = lint(tmp_path, fixed, ["NGX107"])
    assert f"whose ssl_session_timeout is {in_force}, not this 1d" in left.message
    assert left.fix is None


def test_the_timeout_in_the_default_servers_of_stream_from_1_25_5(tmp_path: Path) -> None:
    text = (
        "stream {\n"
        "    server { listen 8883 ssl default_server; ssl_reject_handshake on; proxy_pass 127.0.0.1:1883; }\n"
        f"    server {{ listen 8883 ssl; server_name m.test; {CERT} ssl_session_timeout 1m; "
        "proxy_pass 127.0.0.1:1883; }\n}\n"
    )
    assert lint(tmp_path, text, ["NGX104"], "1.26") == []
    (finding,) = lint(tmp_path, text, ["NGX107"], "1.26")
    assert finding.message.startswith("ssl_session_timeout here is not used: sessions on *:8883")
    # Before 1.25.5 a stream address:port has one server: not judged as a virtual server.
    assert lint(tmp_path, text, ["NGX107"], "1.22.1") == []


@pytest.mark.nginx
def test_the_fixed_file_passes_nginx_t() -> None:
    from nginx_harness import nginx_t

    result = nginx_t(HA_FIXED)
    assert result.ok, result
