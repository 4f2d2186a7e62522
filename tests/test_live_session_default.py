"""Live: before nginx 1.29.2 the default server of a TLS socket decides session tickets
and ssl_protocols for the virtual servers on it, as NGX101 and NGX105 read it.

A real nginx (Debian's 1.22.1 here; the tests skip on 1.29.2 and later, where each
virtual server decides its own) serves a default server and a virtual server
``api.example.com`` on one port (tests/live_probe_nginx.py: two workers, every wait
bounded, 127.0.0.1 only). A client (Python's ssl) makes a full handshake with SNI, then
offers the session it got ``TRIES`` times and counts the resumed handshakes:

* the default server turns tickets off and has no cache, the virtual server has tickets
  on (and a key file of its own): it never resumes, in TLS 1.2 or 1.3; with the default
  server's tickets on it resumes every time. NGX101 says it never resumes (no cache), and
  that its tickets differ from the default server's (no TLS 1.3 session resumes, with a
  cache or not), and NGX105 says nothing (no ticket resumes on that port);
* the default server turns tickets off and has a shared cache: the virtual server gets
  no ticket in TLS 1.2 (it resumes by session ID from the default server's cache), and
  in TLS 1.3 the ticket it gets never resumes: no ticket resumes on that port, so NGX105
  says nothing of random ticket keys there;
* the default server's ssl_protocols decides for the virtual server: `TLSv1.3` on the
  virtual server alone still completes TLS 1.2 handshakes (NGX101 reports it), and
  `TLSv1.2 TLSv1.3` on it under a TLSv1.3-only default server does not (NGX101 does not);
* whichever way the virtual server's ssl_session_tickets differs from its default
  server's, with the default server's shared cache, its TLS 1.3 sessions never resume
  (off under on: it issues no TLS 1.3 ticket) while its TLS 1.2 ones do, by session ID,
  and the default server itself resumes both: NGX101 reports the virtual server, an
  error on 1.22.1. The same setting on both (each its own line, one line in http{},
  both off with the cache in http{}: TLS 1.3 stateful tickets) resumes everything, and
  a default server that lets no TLS 1.3 in has nothing to lose: NGX101 says nothing.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest
from conftest import nginx_binary
from helpers import check_files
from live_probe_nginx import resume_request, running_nginx, tls_client
from nginx_harness import nginx_version

from tlslint.findings import Finding, Severity

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


def resumptions(port: int, version: ssl.TLSVersion, host: str = API) -> tuple[bool, int]:
    """Whether the first handshake gave a ticket, and how many of ``TRIES`` resumed."""
    context = tls_client(version)
    _, session = resume_request(port, context, None, host, TIMEOUT)
    ticket = session.has_ticket
    resumed = 0
    for _ in range(TRIES):
        reused, session = resume_request(port, context, session, host, TIMEOUT)
        resumed += reused
    return ticket, resumed


def measured(tmp_path: Path, text: str, host: str = API) -> dict[str, tuple[bool, int]]:
    with running_nginx(tmp_path / "prefix", text) as live:
        return _both(live.port, host)


def _both(port: int, host: str) -> dict[str, tuple[bool, int]]:
    return {
        "TLSv1.2": resumptions(port, ssl.TLSVersion.TLSv1_2, host),
        "TLSv1.3": resumptions(port, ssl.TLSVersion.TLSv1_3, host),
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
    assert [
        f.message.startswith(f"TLS server[{API}@*:443] never resumes a TLS 1.3 session") for f in vhost
    ] == [
        False,
        True,
    ]  # no cache (its fix lets TLS 1.2 resume), and tickets set unlike the default server's
    assert "never resume" in vhost[0].message and "random keys" not in vhost[0].message
    assert "TLS 1.2 clients do not resume either" in vhost[1].message
    assert findings(tmp_path, text, "NGX105") == []


def test_a_default_server_with_tickets_off_and_a_cache_resumes_no_ticket(tmp_path: Path) -> None:
    text = DEFAULT_TICKETS_OFF.format(
        default="        ssl_session_cache shared:SSL:10m;\n        ssl_session_tickets off;", vhost=""
    )
    # TLS 1.2: no ticket, resumed by session ID from the default server's cache; TLS 1.3:
    # a ticket is sent, but the default server's context (tickets off) never takes it.
    assert measured(tmp_path, text) == {"TLSv1.2": (False, TRIES), "TLSv1.3": (True, 0)}
    assert findings(tmp_path, text, "NGX105") == []
    # No TLS 1.3 session of the virtual server resumes: NGX101 says so (TLS 1.2 ones do).
    (vhost,) = findings(tmp_path, text, "NGX101")
    assert vhost.message.startswith(f"TLS server[{API}@*:443] never resumes a TLS 1.3 session")
    assert vhost.severity is Severity.ERROR and "TLS 1.2 clients still resume" in vhost.message


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
        resume_request(live.port, tls_client(ssl.TLSVersion.TLSv1_2), None, API, TIMEOUT)
    assert findings(tmp_path, default13, "NGX101") == []


# A default server and a virtual server that both answer (the default server by its own
# name), the default server with a shared cache unless the case moves it to http{}.
BOTH_ANSWER = """\
http {{
    ssl_protocols TLSv1.2 TLSv1.3;
{http}
    server {{
        listen 443 ssl default_server;
        server_name default.example.com;
        ssl_certificate     /etc/ssl/default.pem;
        ssl_certificate_key /etc/ssl/default.key;
{default}
        return 200 "default\\n";
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
DEFAULT_HOST = "default.example.com"
CACHE = "ssl_session_cache shared:SSL:10m;"
OFF = "ssl_session_tickets off;"
EVERY = {"TLSv1.2": TRIES, "TLSv1.3": TRIES}


def _text(http: str = "", default: str = "", vhost: str = "") -> str:
    return BOTH_ANSWER.format(http=f"    {http}", default=f"        {default}", vhost=f"        {vhost}")


def _resumed(got: dict[str, tuple[bool, int]]) -> dict[str, int]:
    return {version: count for version, (_, count) in got.items()}


@pytest.mark.parametrize(
    ("default", "vhost", "tls12_ticket", "tls13_ticket"),
    [
        pytest.param(f"{CACHE} {OFF}", "", False, True, id="default-off-vhost-on"),
        pytest.param(CACHE, OFF, False, False, id="default-on-vhost-off"),
    ],
)
def test_tickets_that_differ_from_the_default_servers_never_resume_tls13(
    tmp_path: Path, default: str, vhost: str, tls12_ticket: bool, tls13_ticket: bool
) -> None:
    text = _text(default=default, vhost=vhost)
    with running_nginx(tmp_path / "prefix", text) as live:
        api, own = _both(live.port, API), _both(live.port, DEFAULT_HOST)
    # TLS 1.2 resumes by session ID in the default server's cache (a ticket only where
    # both have tickets on); TLS 1.3: a ticket that never resumes, or none at all.
    assert api == {"TLSv1.2": (tls12_ticket, TRIES), "TLSv1.3": (tls13_ticket, 0)}
    assert _resumed(own) == EVERY  # the default server resumes its own sessions

    (vhost_finding,) = findings(tmp_path, text, "NGX101")
    assert vhost_finding.severity is Severity.ERROR
    assert vhost_finding.message.startswith(
        f"TLS server[{API}@*:443] never resumes a TLS 1.3 session before nginx 1.29.2 (nginx.version 1.22.1)"
    )
    assert "TLS 1.2 clients still resume by session ID" in vhost_finding.message


@pytest.mark.parametrize(
    ("http", "default", "vhost"),
    [
        pytest.param("", CACHE, "", id="both-on"),
        pytest.param("", f"{CACHE} {OFF}", OFF, id="both-off-own-lines"),
        pytest.param(OFF, CACHE, "", id="off-in-http"),
        pytest.param(CACHE, OFF, OFF, id="both-off-cache-in-http"),
    ],
)
def test_the_same_tickets_setting_on_both_resumes_everything(
    tmp_path: Path, http: str, default: str, vhost: str
) -> None:
    text = _text(http, default, vhost)
    with running_nginx(tmp_path / "prefix", text) as live:
        api, own = _both(live.port, API), _both(live.port, DEFAULT_HOST)
    assert _resumed(api) == EVERY and _resumed(own) == EVERY
    if OFF in http + vhost:
        # TLS 1.3 with tickets off: a stateful ticket (the session's ID), kept in the cache.
        assert api["TLSv1.3"] == (True, TRIES) and api["TLSv1.2"] == (False, TRIES)
    assert findings(tmp_path, text, "NGX101") == []


def test_tickets_that_differ_where_the_default_server_lets_no_tls13_in(tmp_path: Path) -> None:
    text = _text(default=f"ssl_protocols TLSv1.2; {CACHE} {OFF}")
    with running_nginx(tmp_path / "prefix", text) as live:
        assert resumptions(live.port, ssl.TLSVersion.TLSv1_2) == (False, TRIES)
        with pytest.raises(ssl.SSLError):  # its own TLSv1.3 does not count before 1.29.2
            resume_request(live.port, tls_client(ssl.TLSVersion.TLSv1_3), None, API, TIMEOUT)
    assert findings(tmp_path, text, "NGX101") == []


# The configuration of the report against NGX302's fix (tests/test_protocols_fix_resumption.py):
# a shared cache in http{}, a catch-all default server with tickets on (nginx's default),
# a virtual server with them off, and no ssl_protocols (nginx's default before 1.23.4 has
# no TLSv1.3) unless the fix's line is added.
TICKETS_OFF_VHOST = """\
http {{
    ssl_session_cache shared:SSL:10m;
{protocols}
    server {{
        listen 443 ssl default_server;
        ssl_certificate     /etc/ssl/default.pem;
        ssl_certificate_key /etc/ssl/default.key;
        return 444;
    }}
    server {{
        listen 443 ssl;
        server_name api.example.com;
        ssl_certificate     /etc/ssl/api.pem;
        ssl_certificate_key /etc/ssl/api.key;
        ssl_session_tickets off;
        return 200 "api\\n";
    }}
}}
"""


def test_letting_tls13_in_stops_a_vhost_with_other_tickets_resuming(tmp_path: Path) -> None:
    if nginx_version(nginx_binary()) >= (1, 23, 4):
        pytest.skip("nginx's default ssl_protocols has TLSv1.3 from 1.23.4")
    any_version = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # what a client offers by default
    any_version.check_hostname = False
    any_version.verify_mode = ssl.CERT_NONE
    any_version.minimum_version = ssl.TLSVersion.TLSv1_2

    def resumed(port: int) -> int:
        _, session = resume_request(port, any_version, None, API, TIMEOUT)
        count = 0
        for _ in range(TRIES):
            reused, session = resume_request(port, any_version, session, API, TIMEOUT)
            count += reused
        return count

    as_written = TICKETS_OFF_VHOST.format(protocols="")
    with running_nginx(tmp_path / "written", as_written) as live:
        with pytest.raises(ssl.SSLError):  # nginx's default offers no TLS 1.3 before 1.23.4
            resume_request(live.port, tls_client(ssl.TLSVersion.TLSv1_3), None, API, TIMEOUT)
        assert resumed(live.port) == TRIES  # TLS 1.2, by session ID in the default server's cache
    with_the_line = TICKETS_OFF_VHOST.format(protocols="    ssl_protocols TLSv1.2 TLSv1.3;")
    with running_nginx(tmp_path / "line", with_the_line) as live:
        assert resumed(live.port) == 0  # TLS 1.3 now, and none of its sessions resumes

    # So NGX302 and NGX303 offer no fix that adds the line, and say why; with the line,
    # NGX101 reports what was measured.
    for code in ("NGX302", "NGX303"):
        (finding,) = findings(tmp_path / code, as_written, code)
        assert finding.fix is None and "never resume a TLS 1.3 session" in finding.fix_note
    (lost,) = findings(tmp_path / "after", with_the_line, "NGX101")
    assert lost.message.startswith(f"TLS server[{API}@*:443] never resumes a TLS 1.3 session")
