"""Live: before nginx 1.29.2 the default server of a TLS socket decides session tickets
and ssl_protocols for the virtual servers on it, as NGX101 and NGX105 read it.

A real nginx (Debian's 1.22.1 here; the tests skip on 1.29.2 and later, where each
virtual server decides its own) serves a default server and a virtual server
``api.example.com`` on one port (tests/live_probe_nginx.py: two workers, every wait
bounded, 127.0.0.1 only). A client (Python's ssl) makes a full handshake with SNI, then
offers the session it got ``TRIES`` times and counts the resumed handshakes:

* the default server turns tickets off and has no cache, the virtual server has tickets
  on (and a key file of its own): it never resumes, in TLS 1.2 or 1.3; with the default
  server's tickets on it resumes every time. NGX101 says it never resumes, and NGX105
  says nothing (no ticket resumes on that port);
* the default server turns tickets off and has a shared cache: the virtual server gets
  no ticket in TLS 1.2 (it resumes by session ID from the default server's cache), and
  in TLS 1.3 the ticket it gets never resumes: no ticket resumes on that port, so NGX105
  says nothing of random ticket keys there;
* the default server's ssl_protocols decides for the virtual server: `TLSv1.3` on the
  virtual server alone still completes TLS 1.2 handshakes (NGX101 reports it), and
  `TLSv1.2 TLSv1.3` on it under a TLSv1.3-only default server does not (NGX101 does not).
"""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path

import pytest
from conftest import nginx_binary
from helpers import check_files
from live_probe_nginx import running_nginx
from nginx_harness import nginx_version

from tlslint.findings import Finding

pytestmark = pytest.mark.nginx

API = "api.example.com"
TRIES = 3
TIMEOUT = 3.0

DEFAULT_TICKETS_OFF = """\
http {{
    ssl_protocols TLSv1.2 TLSv1.3;
    server {{
        listen 443 ssl default_server;
        ssl_certificate     /etc/ssl/default.pem;
        ssl_certificate_key /etc/ssl/default.key;
{default}
        return 444;
    }}
    server {{
        listen 443 ssl;
        server_name api.example.com;
        ssl_certificate     /etc/ssl/api.pem;
        ssl_certificate_key /etc/ssl/api.key;
{vhost}
        return 200 "api\\n";
    }}
}}
"""


@pytest.fixture(autouse=True)
def _before_1_29_2() -> None:
    if nginx_version(nginx_binary()) >= (1, 29, 2):
        pytest.skip("since nginx 1.29.2 each virtual server decides its own tickets and protocols")


def _client(version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    return context


def _connect(
    port: int, context: ssl.SSLContext, session: ssl.SSLSession | None
) -> tuple[bool, ssl.SSLSession]:
    """One request to ``API`` offering ``session``: whether it resumed, and the session
    to offer next (TLS 1.3 tickets arrive after the handshake: read the whole response)."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname=API, session=session) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {API}\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := tls.recv(4096):
            response += chunk
        assert response.endswith(b"api\n"), response  # the virtual server answered
        got = tls.session
        assert got is not None
        return tls.session_reused, got


def resumptions(port: int, version: ssl.TLSVersion) -> tuple[bool, int]:
    """Whether the first handshake gave a ticket, and how many of ``TRIES`` resumed."""
    context = _client(version)
    _, session = _connect(port, context, None)
    ticket = session.has_ticket
    resumed = 0
    for _ in range(TRIES):
        reused, session = _connect(port, context, session)
        resumed += reused
    return ticket, resumed


def measured(tmp_path: Path, text: str) -> dict[str, tuple[bool, int]]:
    with running_nginx(tmp_path / "prefix", text) as live:
        return {
            "TLSv1.2": resumptions(live.port, ssl.TLSVersion.TLSv1_2),
            "TLSv1.3": resumptions(live.port, ssl.TLSVersion.TLSv1_3),
        }


def findings(tmp_path: Path, text: str, select: str) -> list[Finding]:
    result = check_files(
        tmp_path / "lint",
        {"nginx.conf": f"events {{}}\n{text}"},
        {"select": [select], "nginx": {"version": "1.22.1"}},
    )
    return result.findings


def _said(finding: Finding) -> str:
    """A finding's message and its related locations' notes (the servers a cause names)."""
    return " ".join([finding.message, *(related.message for related in finding.related)])


def _key_file(tmp_path: Path) -> Path:
    key = tmp_path / "ticket.key"
    key.write_bytes(os.urandom(80))
    return key


def test_a_default_server_with_tickets_off_and_no_cache_stops_a_vhosts_tickets(tmp_path: Path) -> None:
    key = _key_file(tmp_path)
    text = DEFAULT_TICKETS_OFF.format(
        default="        ssl_session_tickets off;", vhost=f"        ssl_session_ticket_key {key};"
    )
    assert measured(tmp_path / "off", text) == {"TLSv1.2": (False, 0), "TLSv1.3": (True, 0)}
    # The control: the same virtual server under a default server with tickets on.
    control = DEFAULT_TICKETS_OFF.format(default="", vhost=f"        ssl_session_ticket_key {key};")
    assert measured(tmp_path / "on", control) == {"TLSv1.2": (True, TRIES), "TLSv1.3": (True, TRIES)}

    vhost = [f for f in findings(tmp_path, text, "NGX101") if API in _said(f)]
    assert vhost, findings(tmp_path, text, "NGX101")
    assert "never resume" in vhost[0].message and "random keys" not in vhost[0].message
    assert findings(tmp_path, text, "NGX105") == []


def test_a_default_server_with_tickets_off_and_a_cache_resumes_no_ticket(tmp_path: Path) -> None:
    text = DEFAULT_TICKETS_OFF.format(
        default="        ssl_session_cache shared:SSL:10m;\n        ssl_session_tickets off;", vhost=""
    )
    # TLS 1.2: no ticket, resumed by session ID from the default server's cache; TLS 1.3:
    # a ticket is sent, but the default server's context (tickets off) never takes it.
    assert measured(tmp_path, text) == {"TLSv1.2": (False, TRIES), "TLSv1.3": (True, 0)}
    assert findings(tmp_path, text, "NGX105") == []
    assert findings(tmp_path, text, "NGX101") == []


def test_the_default_servers_protocols_decide_for_a_vhost(tmp_path: Path) -> None:
    vhost13 = DEFAULT_TICKETS_OFF.format(default="", vhost="        ssl_protocols TLSv1.3;")
    # Its own TLSv1.3 is ignored: TLS 1.2 clients connect, and resume only with tickets.
    assert measured(tmp_path / "vhost13", vhost13)["TLSv1.2"] == (True, TRIES)
    assert any(API in _said(f) for f in findings(tmp_path, vhost13, "NGX101"))

    default13 = (
        DEFAULT_TICKETS_OFF.replace("ssl_protocols TLSv1.2 TLSv1.3;\n", "")
        .replace("{default}", "        ssl_protocols TLSv1.3;")
        .format(vhost="        ssl_protocols TLSv1.2 TLSv1.3;")
    )
    with running_nginx(tmp_path / "default13", default13) as live, pytest.raises(ssl.SSLError):
        _connect(live.port, _client(ssl.TLSVersion.TLSv1_2), None)
    assert findings(tmp_path, default13, "NGX101") == []
