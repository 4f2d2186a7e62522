"""NGX101: before nginx 1.29.2 a virtual server whose ssl_session_tickets differs from its
default server's never resumes a TLS 1.3 session, though the default server's cache
serves its TLS 1.2 ones (measured on 1.22.1 in tests/test_live_session_default.py:
either way round, TLS 1.3 resumes 0 of 3, TLS 1.2 3 of 3; the same setting on both, 3
of 3). Which ssl_protocols lets TLS 1.3 in is the default server's before 1.29.2.
"""

from __future__ import annotations

from pathlib import Path

from helpers import check_files
from test_session_default_server import API, CERT, OPEN, E, I, lint, said, servers

CACHE = "ssl_session_cache shared:SSL:10m;"
OFF = "ssl_session_tickets off;"
DEFAULT_OFF = servers(f"{CACHE} {OFF}")  # the vhost has tickets on, nginx's default
VHOST_OFF = servers(CACHE, OFF)
NOTE = (
    "no automatic fix: give the default server and its virtual servers the same ssl_session_tickets "
    "(once in http{}, with no server setting its own), or run nginx >= 1.29.2; with both off, TLS 1.3 "
    "resumes from the default server's session cache"
)


def test_a_vhost_with_tickets_on_under_a_default_server_with_them_off(tmp_path: Path) -> None:
    (finding,) = lint(tmp_path, DEFAULT_OFF, "NGX101", "1.22.1")
    assert finding.severity is E
    assert finding.message == (
        f"TLS {API} never resumes a TLS 1.3 session before nginx 1.29.2 (nginx.version 1.22.1): it has "
        "session tickets on and its default server server[*:443] has them off; a virtual server's sessions "
        "resume in its default server's context, where with the two settings different no TLS 1.3 session "
        "does (its TLS 1.3 tickets are refused), so every TLS 1.3 connection to it is a full handshake "
        "(TLS 1.2 clients still resume by session ID, in the default server's cache)"
    )
    assert finding.location.line == 7  # the default server's `ssl_session_tickets off`
    assert finding.fix is None and finding.fix_note == NOTE
    assert [r.message for r in finding.related] == ["default server for *:443 (session tickets off)"]


def test_a_vhost_with_tickets_off_under_a_default_server_with_them_on(tmp_path: Path) -> None:
    (finding,) = lint(tmp_path, VHOST_OFF, "NGX101", "1.22.1")
    assert finding.severity is E
    assert "it has session tickets off and its default server server[*:443] has them on" in finding.message
    assert "(it issues no TLS 1.3 ticket)" in finding.message
    assert finding.location.line == 13  # the vhost's own line


def test_the_version_open_says_what_holds_before_and_from_1_29_2(tmp_path: Path) -> None:
    (finding,) = lint(tmp_path, DEFAULT_OFF, "NGX101")
    assert finding.severity is I
    assert finding.message.startswith(f"TLS {API} never resumes a TLS 1.3 session on nginx before 1.29.2: ")
    assert finding.message.endswith(f"; from 1.29.2 each server's own ssl_session_tickets counts {OPEN}")
    assert lint(tmp_path, DEFAULT_OFF, "NGX101", "1.29.2") == []
    assert lint(tmp_path, VHOST_OFF, "NGX101", "1.31.4") == []


def test_the_same_setting_on_both_is_not_reported(tmp_path: Path) -> None:
    for text in (
        servers(f"{CACHE} {OFF}", OFF),  # each its own line
        servers(CACHE, http=f"ssl_protocols TLSv1.2 TLSv1.3; {OFF}"),  # one line in http{}
        servers(OFF, OFF, http=f"ssl_protocols TLSv1.2 TLSv1.3; {CACHE}"),  # TLS 1.3 stateful tickets
        servers(CACHE, "ssl_session_tickets on;"),
    ):
        assert lint(tmp_path, text, "NGX101", "1.22.1") == [], text


def test_tls13_is_the_default_servers_to_let_in(tmp_path: Path) -> None:
    tls12 = servers(f"ssl_protocols TLSv1.2; {CACHE} {OFF}", "ssl_protocols TLSv1.2 TLSv1.3;")
    assert lint(tmp_path, tls12, "NGX101", "1.22.1") == []  # measured: TLS 1.3 is refused
    assert lint(tmp_path, tls12, "NGX101") == []  # and from 1.29.2 the vhost's own tickets count
    # nginx's default ssl_protocols: TLSv1.3 from 1.23.4.
    default = servers(f"{CACHE} {OFF}", http="")
    assert lint(tmp_path, default, "NGX101", "1.22.1") == []
    (later,) = lint(tmp_path, default, "NGX101", "1.24.0")
    assert later.severity is E and "before nginx 1.29.2 (nginx.version 1.24.0)" in later.message
    (open_,) = lint(tmp_path, default, "NGX101")
    assert open_.severity is I
    assert (
        "never resumes a TLS 1.3 session on nginx from 1.23.4 (where nginx's default ssl_protocols has "
        "TLSv1.3) to before 1.29.2: " in open_.message
    )


def test_one_default_server_and_many_vhosts_is_one_finding(tmp_path: Path) -> None:
    vhost = (
        "    server {{\n        listen 443 ssl;\n        server_name {}.example.com;\n        {}\n    }}\n"
    )
    vhosts = "".join(vhost.format(name, CERT) for name in ("a", "b", "c"))
    text = (
        f"http {{\n    ssl_protocols TLSv1.3;\n    server {{\n        listen 443 ssl default_server;\n"
        f"        {CERT}\n        {CACHE}\n        {OFF}\n    }}\n{vhosts}}}\n"
    )
    (finding,) = lint(tmp_path, text, "NGX101", "1.22.1")
    assert finding.severity is E
    assert finding.message == (
        "`ssl_session_tickets off` of the default server server[*:443] differs from the setting of 3 virtual "
        "servers on its sockets: they never resume a TLS 1.3 session before nginx 1.29.2 (nginx.version "
        "1.22.1): a virtual server's sessions resume in its default server's context, where with the two "
        "settings different no TLS 1.3 session does (their TLS 1.3 tickets are refused), so every TLS 1.3 "
        "connection to them is a full handshake"  # TLSv1.3 only: no TLS 1.2 client to speak of
    )
    assert [r.message for r in finding.related][:3] == [
        f"TLS server[{name}.example.com@*:443]" for name in ("a", "b", "c")
    ]
    assert [r.location.line for r in finding.related][:3] == [10, 15, 20]  # each server


def test_a_vhosts_own_cache_under_a_default_server_without_one(tmp_path: Path) -> None:
    # Only the default server's cache counts: no TLS 1.2 session resumes either (measured
    # 0 of 3 both ways); NGX107 reports the vhost's cache as unused.
    text = servers(OFF, CACHE)
    found = [f for f in lint(tmp_path, text, "NGX101", "1.22.1") if f.message.startswith(f"TLS {API}")]
    assert [f.severity for f in found] == [E]
    assert found[0].message.endswith(
        "(TLS 1.2 clients do not resume either: only the default server's session cache counts, and it has "
        "none (this server's own is unused: NGX107))"
    )


def test_no_cache_anywhere_is_a_cause_apart(tmp_path: Path) -> None:
    # The cache's finding (nothing resumes) has a fix, a cache, that leaves TLS 1.3 as it is:
    # the tickets that differ are a cause of their own, reported beside it.
    for text in (servers(OFF), servers("", OFF)):
        found = lint(tmp_path, text, "NGX101", "1.22.1")
        assert [f.message.startswith(f"TLS {API} never resumes a TLS 1.3 session") for f in found] == [
            False,
            True,
        ]
        assert found[0].fix is not None and "have no session cache" in found[0].message
        assert found[1].message.endswith(
            "(TLS 1.2 clients do not resume either: only the default server's session cache counts, and it "
            "has none)"
        )
    # TLS 1.3 only: a cache would change nothing for the vhost, and only the tickets are reported.
    only13 = servers(OFF, http="ssl_protocols TLSv1.3;")
    found = [f for f in lint(tmp_path, only13, "NGX101", "1.22.1") if API in said(f)]
    assert [f.message.split("): ")[0] + ")" for f in found] == [
        f"TLS {API} never resumes a TLS 1.3 session before nginx 1.29.2 (nginx.version 1.22.1)"
    ]
    assert "TLS 1.2" not in found[0].message


def test_a_socket_whose_default_has_a_cache_resumes_tls12_only(tmp_path: Path) -> None:
    text = (
        "http {\n    ssl_protocols TLSv1.2 TLSv1.3;\n"
        f"    server {{\n        listen 443 ssl;\n        listen [::]:443 ssl;\n"
        f"        server_name a.example.com;\n        {CERT}\n        ssl_session_cache shared:A:10m;\n"
        f"        {OFF}\n    }}\n"
        "    server {\n        listen [::]:443 ssl ipv6only=on default_server;\n"
        f"        ssl_reject_handshake on;\n        {OFF}\n    }}\n"
        f"    server {{\n        listen 443 ssl;\n        listen [::]:443 ssl;\n"
        f"        server_name c.example.com;\n        {CERT}\n    }}\n}}\n"
    )
    found = [f for f in lint(tmp_path, text, "NGX101", "1.22") if "c.example.com" in f.message]
    # One finding for each default server whose tickets differ: a.example.com's (a cache)
    # and the catch-all's (none).
    tls13 = [f.message for f in found if "TLS 1.3 session" in f.message]
    assert [m.split(" before nginx")[0] for m in tls13] == [
        "TLS server[c.example.com@*:443,[::]:443] never resumes a TLS 1.3 session on *:443",
        "TLS server[c.example.com@*:443,[::]:443] never resumes a TLS 1.3 session on [::]:443",
    ]
    assert tls13[0].endswith("(TLS 1.2 clients still resume by session ID, in the default server's cache)")
    (cache,) = [f for f in found if "has no session cache" in f.message]
    assert "on *:443 its TLS 1.2 sessions resume in the cache of the default server" in cache.message
    (later,) = [f for f in lint(tmp_path, text, "NGX101", "1.29.2") if "c.example.com" in f.message]
    assert "on *:443 its sessions resume in the cache" in later.message


def test_a_setting_tlslint_cannot_see_is_not_judged(tmp_path: Path) -> None:
    # An include not followed in the vhost may set its tickets.
    hidden = servers(f"{CACHE} {OFF}", "include /etc/nginx/snippets/ssl.conf;")
    assert "TLS 1.3 session" not in " ".join(said(f) for f in lint(tmp_path, hidden, "NGX101", "1.22.1"))
    # A conf.d/ file: the including http{} may set what the vhost inherits.
    fragment = servers(f"{CACHE} {OFF}", http="ssl_protocols TLSv1.2 TLSv1.3;")
    fragment = fragment.replace("http {\n", "").rsplit("}", 1)[0]
    mapping = {"select": ["NGX101"], "nginx": {"version": "1.24.0"}}
    found = check_files(tmp_path / "conf.d", {"site.conf": fragment}, mapping).findings
    assert "TLS 1.3 session" not in " ".join(said(f) for f in found)
    # Both lines in the file: judged.
    both = fragment.replace(
        "server_name api.example.com;", "server_name api.example.com; ssl_session_tickets on;"
    )
    found = check_files(tmp_path / "both", {"site.conf": both}, mapping).findings
    assert [f.severity for f in found if "TLS 1.3 session" in f.message] == [E]


def test_stream_servers_sharing_a_port_from_1_25_5(tmp_path: Path) -> None:
    text = (
        "stream {\n    ssl_protocols TLSv1.2 TLSv1.3;\n"
        f"    server {{\n        listen 8883 ssl default_server;\n        {CERT}\n        {CACHE}\n"
        f"        {OFF}\n        proxy_pass 127.0.0.1:1883;\n    }}\n"
        f"    server {{\n        listen 8883 ssl;\n        server_name mqtt.example.com;\n        {CERT}\n"
        "        proxy_pass 127.0.0.1:1884;\n    }\n}\n"
    )
    (finding,) = lint(tmp_path, text, "NGX101", "1.26.0")
    assert finding.severity is E
    assert finding.message.startswith(
        "TLS stream server[mqtt.example.com@*:8883] never resumes a TLS 1.3 session before nginx 1.29.2"
    )
    assert lint(tmp_path, text, "NGX101", "1.29.2") == []
