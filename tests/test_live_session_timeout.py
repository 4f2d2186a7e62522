"""Live: the default server's ssl_session_timeout is the one sessions get, as NGX104 and
NGX107 read it, and the cache move that carries a virtual server's timeout makes it count.

A real nginx (tests/live_probe_nginx.py: two workers, 127.0.0.1 only, stopped by its PID)
serves a default server and a virtual server ``api.example.com`` on one port, with a
shared cache in http{}. A client (Python's ssl) makes a full handshake with SNI to the
virtual server in TLS 1.2 and 1.3, waits ``WAIT`` seconds, and offers the sessions:

* default 2s, virtual server 1h: neither resumes (the sessions expired);
* default 1h, virtual server 2s: both resume.

nginx stores a session with the timeout of the SSL context it was accepted in, the
default server's (``SSL_CTX_get_timeout(c->ssl->session_ctx)``); only TLS 1.2 and 1.3
with tickets on and a shared cache were measured, on Debian's 1.22.1 (the tester saw the
same with openssl s_client, 8s against 1h, 11 s wait).

Then the Home Assistant shape: a `ssl_reject_handshake` default server and a virtual
server with `ssl_session_timeout 2s; ssl_session_cache shared:...; ssl_session_tickets
off;`. After `tlslint --fix` (NGX107 moves both lines to http{}) TLS 1.2 sessions resume
at once and no longer after ``WAIT`` seconds: the operator's timeout is in force. Left
behind in the virtual server (the move before), it did nothing: they still resumed.
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path

import pytest
from helpers import settings_for
from live_probe_nginx import resume_request, running_nginx, tls_client

from tlslint.engine import run
from tlslint.fixing import apply_fixes

pytestmark = pytest.mark.nginx

API = "api.example.com"
SHORT, LONG = "2s", "1h"
WAIT = 3.5  # seconds: past SHORT with a margin, far below LONG
TIMEOUT = 3.0
VERSIONS = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)

TWO_SERVERS = """\
http {{
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    server {{
        listen 443 ssl default_server;
        ssl_certificate     /etc/ssl/default.pem;
        ssl_certificate_key /etc/ssl/default.key;
        ssl_session_timeout {default};
        return 444;
    }}
    server {{
        listen 443 ssl;
        server_name api.example.com;
        ssl_certificate     /etc/ssl/api.pem;
        ssl_certificate_key /etc/ssl/api.key;
        ssl_session_timeout {vhost};
        return 200 "api\\n";
    }}
}}
"""

HOME_ASSISTANT = f"""\
http {{
    ssl_protocols TLSv1.2 TLSv1.3;
    server {{
        server_name _;
        listen 443 ssl default_server;
        ssl_reject_handshake on;
        return 444;
    }}
    server {{
        server_name api.example.com;
        ssl_session_timeout {SHORT};
        ssl_session_cache shared:MozSSL:10m;
        ssl_session_tickets off;
        ssl_certificate     /etc/ssl/api.pem;
        ssl_certificate_key /etc/ssl/api.key;
        listen 443 ssl;
        return 200 "api\\n";
    }}
}}
"""


def resumed_after_wait(port: int, versions: tuple[ssl.TLSVersion, ...]) -> dict[str, tuple[bool, bool]]:
    """For each version: whether a session resumed at once, and after ``WAIT`` seconds
    (one wait for all versions, so the test takes seconds, not minutes)."""
    first = {}
    for version in versions:
        context = tls_client(version)
        _, session = resume_request(port, context, None, API, TIMEOUT)
        at_once, _ = resume_request(port, context, session, API, TIMEOUT)
        first[version] = (context, session, at_once)
    time.sleep(WAIT)
    return {
        version.name: (at_once, resume_request(port, context, session, API, TIMEOUT)[0])
        for version, (context, session, at_once) in first.items()
    }


@pytest.mark.parametrize(
    ("default", "vhost", "later"),
    [
        pytest.param(SHORT, LONG, False, id="default-short"),
        pytest.param(LONG, SHORT, True, id="vhost-short"),
    ],
)
def test_the_default_servers_timeout_is_the_one_sessions_get(
    tmp_path: Path, default: str, vhost: str, later: bool
) -> None:
    text = TWO_SERVERS.format(default=default, vhost=vhost)
    with running_nginx(tmp_path / "prefix", text) as live:
        got = resumed_after_wait(live.port, VERSIONS)
    assert got == {"TLSv1_2": (True, later), "TLSv1_3": (True, later)}


def _fixed(tmp_path: Path, text: str) -> str:
    directory = tmp_path / "lint"
    directory.mkdir()
    path = directory / "nginx.conf"
    path.write_text(f"events {{}}\n{text}", encoding="utf-8")
    configured = settings_for(directory, {"select": ["NGX107"], "nginx": {"version": "1.22.1"}})
    apply_fixes(run([directory], configured), configured, unsafe=False, write=True)
    return path.read_text(encoding="utf-8").removeprefix("events {}\n")


def test_the_moved_timeout_is_in_force(tmp_path: Path) -> None:
    fixed = _fixed(tmp_path, HOME_ASSISTANT)
    http_level = fixed.split("server {")[0]
    assert f"ssl_session_timeout {SHORT};" in http_level and "shared:MozSSL:10m" in http_level
    # TLS 1.2 only: before nginx 1.29.2 the virtual server's tickets off (unlike its
    # default server's on) lets no TLS 1.3 session resume (NGX101).
    with running_nginx(tmp_path / "prefix", fixed) as live:
        got = resumed_after_wait(live.port, (ssl.TLSVersion.TLSv1_2,))
    assert got == {"TLSv1_2": (True, False)}
    # The control, what the move did before: the cache alone in http{}, the timeout left
    # in the virtual server, where it does nothing: nginx's default 5m is in force.
    left_behind = HOME_ASSISTANT.replace("        ssl_session_cache shared:MozSSL:10m;\n", "").replace(
        "TLSv1.3;\n", "TLSv1.3;\n    ssl_session_cache shared:MozSSL:10m;\n", 1
    )
    with running_nginx(tmp_path / "control", left_behind) as live:
        got = resumed_after_wait(live.port, (ssl.TLSVersion.TLSv1_2,))
    assert got == {"TLSv1_2": (True, True)}
