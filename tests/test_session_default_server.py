"""NGX101 and NGX105 on either side of nginx 1.29.2, when the default server of a TLS
socket decides session tickets and ssl_protocols for its virtual servers (facts/nginx.md
§1; measured on 1.22.1 in tests/test_live_session_default.py).

Before 1.29.2 a default server with ``ssl_session_tickets off`` keeps every virtual
server on its sockets from resuming a ticket, and its ssl_protocols decide for them;
since 1.29.2 each virtual server's own lines count. With no nginx.version, the messages
say what holds on each side.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from helpers import check_files

from tlslint.findings import Finding, Severity

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741
API = "server[api.example.com@*:443]"
CERT = "ssl_certificate /etc/ssl/a.pem; ssl_certificate_key /etc/ssl/a.key;"
OPEN = "(nginx.version is not configured: set nginx.version to decide)"


def lint(tmp_path: Path, text: str, code: str, version: str | None = None, **extra: Any) -> list[Finding]:
    mapping: dict[str, Any] = {"select": [code], **extra}
    if version is not None:
        mapping["nginx"] = {"version": version}
    directory = Path(tempfile.mkdtemp(dir=tmp_path))
    return check_files(directory, {"nginx.conf": f"events {{}}\n{text}"}, mapping).findings


def said(finding: Finding) -> str:
    return " | ".join([finding.message, *(related.message for related in finding.related)])


def servers(default: str, vhost: str = "", http: str = "ssl_protocols TLSv1.2 TLSv1.3;") -> str:
    return (
        f"http {{\n    {http}\n"
        f"    server {{\n        listen 443 ssl default_server;\n        {CERT}\n        {default}\n    }}\n"
        f"    server {{\n        listen 443 ssl;\n        server_name api.example.com;\n        {CERT}\n"
        f"        {vhost}\n    }}\n}}\n"
    )


# Case A: the default server has a shared cache and tickets off; the vhost has tickets on.
CACHED_OFF = servers("ssl_session_cache shared:SSL:10m; ssl_session_timeout 1d; ssl_session_tickets off;")
UNCACHED_OFF = servers("ssl_session_tickets off;")  # no cache anywhere
# Case B: no cache; the vhost's own key file does not count either.
KEYED_VHOST = servers("ssl_session_tickets off; return 444;", "ssl_session_ticket_key /etc/nginx/t.key;")


def test_ngx105_no_ticket_resumes_where_the_default_server_turns_them_off(tmp_path: Path) -> None:
    for version in ("1.18", "1.22", "1.22.1", "1.29.1"):
        assert lint(tmp_path, CACHED_OFF, "NGX105", version) == [], version
        assert lint(tmp_path, UNCACHED_OFF, "NGX105", version) == [], version
        assert lint(tmp_path, KEYED_VHOST, "NGX105", version) == [], version
    # From 1.29.2 the vhost's tickets resume: the shared cache keeps the keys (>= 1.23.2).
    assert lint(tmp_path, CACHED_OFF, "NGX105", "1.29.2") == []
    assert lint(tmp_path, CACHED_OFF, "NGX105") == []  # neither side has random keys to lose


def test_ngx105_speaks_of_1_29_2_and_later_where_the_version_is_open(tmp_path: Path) -> None:
    (known,) = lint(tmp_path, UNCACHED_OFF, "NGX105", "1.29.2")
    assert known.severity is W and "1.29.2" not in known.message
    (open_,) = lint(tmp_path, UNCACHED_OFF, "NGX105")
    assert open_.severity is I
    assert open_.message.endswith(
        "which has no ssl_session_ticket_key: from nginx 1.29.2, where a virtual server's own "
        "ssl_session_tickets counts, no shared session cache keeps nginx's random keys, so every reload "
        "invalidates all tickets, and each node has its own keys; before, no session ticket resumes on "
        f"*:443, since this default server turns ssl_session_tickets off and its setting decides there {OPEN}"
    )
    assert open_.fix is not None and open_.fix.safe  # adds the missing cache, as before
    # An inferred range below 1.29.2 decides it: `ssl on` was removed in 1.25.1.
    older = UNCACHED_OFF.replace("listen 443 ssl default_server;", "listen 443 default_server; ssl on;")
    assert lint(tmp_path, older, "NGX105") == []


def test_ngx105_a_fleet_needs_shared_keys_only_from_1_29_2_there(tmp_path: Path) -> None:
    fleet = {"profile": "throughput"}  # require-key-file
    assert lint(tmp_path, CACHED_OFF, "NGX105", "1.22", **fleet) == []
    (known,) = lint(tmp_path, CACHED_OFF, "NGX105", "1.29.2", **fleet)
    assert "on this node only:" in known.message and "from 1.23.2" not in known.message
    (open_,) = lint(tmp_path, CACHED_OFF, "NGX105", **fleet)
    assert open_.severity is I and "from nginx 1.29.2, where a virtual server's own" in open_.message
    assert "from 1.23.2" not in open_.message  # 1.29.2 and later keep the keys in the cache


def test_ngx105_keeps_a_later_only_default_server_apart_from_the_others(tmp_path: Path) -> None:
    # One fix (a cache in http{}) would do for both default servers, but what holds differs.
    text = (
        UNCACHED_OFF[: UNCACHED_OFF.rindex("}")]
        + f"    server {{\n        listen 8443 ssl;\n        {CERT}\n    }}\n}}\n"
    )
    found = sorted(lint(tmp_path, text, "NGX105"), key=lambda f: f.location.line)
    assert [(f.severity, "from nginx 1.29.2" in f.message) for f in found] == [(I, True), (W, False)]


def cache_findings(found: list[Finding]) -> list[Finding]:
    """NGX101's findings of a missing cache, without its TLS 1.3 one of tickets set unlike
    the default server's (tests/test_session_tickets_differ.py)."""
    return [f for f in found if "TLS 1.3 session" not in f.message]


def test_ngx101_a_vhost_under_a_default_server_with_tickets_off_never_resumes(tmp_path: Path) -> None:
    (finding,) = cache_findings(lint(tmp_path, KEYED_VHOST, "NGX101", "1.22.1"))
    assert finding.severity is E
    assert finding.message == (
        "http{} sets no ssl_session_cache (nginx's default is none), so 2 TLS servers have no session "
        "cache: 1 of them (ssl_session_tickets off) never resume: every connection is a full handshake; "
        "1 of them never resume: their default server turns ssl_session_tickets off, which before nginx "
        "1.29.2 (nginx.version 1.22.1) decides ticket resumption for them too, so every connection is a "
        "full handshake"
    )
    assert f"TLS {API}: never resumes (its default server turns tickets off)" in said(finding)
    assert "random" not in finding.message  # its key file, or nginx's keys: no ticket resumes at all
    (later,) = lint(tmp_path, KEYED_VHOST, "NGX101", "1.29.2")  # the tickets differ, and count apart
    assert later.message.endswith(
        "1 of them resume only with session tickets, whose random keys die on every reload and differ "
        "between nodes"
    )  # its own key file is not the default server's: nginx's random keys (facts §1)


def test_ngx101_says_what_holds_on_each_side_where_the_version_is_open(tmp_path: Path) -> None:
    (grouped,) = cache_findings(lint(tmp_path, KEYED_VHOST, "NGX101"))
    assert grouped.severity is E  # the default server never resumes on any version
    assert grouped.message.endswith(
        "1 of them, before nginx 1.29.2, never resume (their default server's ssl_session_tickets off "
        "decides ticket resumption for them), and from 1.29.2 resume only with session tickets, whose "
        f"random keys die on every reload and differ between nodes {OPEN}"
    )
    # The vhost alone (the default server's own `none` is a cause of its own).
    alone = servers("ssl_session_cache none; ssl_session_tickets off;")
    vhost = [f for f in cache_findings(lint(tmp_path, alone, "NGX101")) if API in f.message]
    assert [f.severity for f in vhost] == [W]  # a problem on both sides, at least a warning
    assert vhost[0].message == (
        f"TLS {API} has no session cache (no ssl_session_cache applies; nginx's default is none): before "
        "nginx 1.29.2, its default server server[*:443] turns ssl_session_tickets off, which decides ticket "
        "resumption for it too: it never resumes, and every connection is a full handshake; from 1.29.2, "
        "only session tickets can resume, and with nginx's random ticket keys they die on every reload and "
        f"differ between nodes {OPEN}"
    )
    assert [r.message for r in vhost[0].related] == ["session tickets are turned off here"]
    (known,) = [f for f in cache_findings(lint(tmp_path, alone, "NGX101", "1.22")) if API in f.message]
    assert known.severity is E and "which before nginx 1.29.2 (nginx.version 1.22.0) decides" in known.message


def test_ngx101_a_vhosts_own_tls13_counts_from_1_29_2(tmp_path: Path) -> None:
    text = servers("ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv1.3;", http="")
    (later,) = lint(tmp_path, text, "NGX101", "1.29.2")
    assert later.message.startswith("TLS server[*:443] has no session cache") and API not in said(later)
    (before,) = lint(tmp_path, text, "NGX101", "1.22")  # the default server's protocols decide
    assert f"TLS {API}: resumes only with tickets, whose keys die on reload" in said(before)
    (open_,) = lint(tmp_path, text, "NGX101")
    assert open_.message.endswith(
        "1 of them, before nginx 1.29.2, resume only with session tickets, whose random keys die on every "
        "reload and differ between nodes, and from 1.29.2 speak only TLS 1.3, whose clients resume with "
        f"session tickets {OPEN}"
    )


def test_ngx101_before_1_29_2_a_tls13_only_default_server_decides(tmp_path: Path) -> None:
    text = servers("ssl_protocols TLSv1.3;", "ssl_protocols TLSv1.2 TLSv1.3;", http="")
    assert lint(tmp_path, text, "NGX101", "1.22") == []  # TLS 1.2 is refused on *:443 (measured)
    (later,) = lint(tmp_path, text, "NGX101", "1.29.2")
    assert later.severity is W and API in later.message
    (open_,) = lint(tmp_path, text, "NGX101")
    assert open_.severity is I  # a problem from 1.29.2 only
    assert (
        "before nginx 1.29.2, it speaks only TLS 1.3 (its default server's ssl_protocols applies), whose "
        "clients resume with session tickets; from 1.29.2, only session tickets can resume" in open_.message
    )


def test_ngx101_names_the_sockets_a_tickets_off_default_server_blocks(tmp_path: Path) -> None:
    # The vhost is the default of *:443 itself; [::]:443's default, a catch-all, turns tickets off.
    text = (
        "http {\n"
        f"    server {{\n        listen 443 ssl;\n        listen [::]:443 ssl;\n"
        f"        server_name api.example.com;\n        {CERT}\n    }}\n"
        "    server {\n        listen [::]:443 ssl ipv6only=on default_server;\n"
        "        ssl_reject_handshake on;\n        ssl_session_tickets off;\n    }\n}\n"
    )
    vhost = [f for f in lint(tmp_path, text, "NGX101", "1.22") if "api.example.com" in f.message]
    assert [f.severity for f in vhost] == [W]  # tickets still resume on *:443
    assert vhost[0].message.endswith(
        "only session tickets can resume, and with nginx's random ticket keys they die on every reload and "
        "differ between nodes; on [::]:443 not even tickets resume: the default server there, "
        "server[[::]:443], turns ssl_session_tickets off, which before nginx 1.29.2 (nginx.version 1.22.0) "
        "decides ticket resumption for it too"
    )
    later = [f for f in lint(tmp_path, text, "NGX101", "1.29.2") if "api.example.com" in said(f)]
    assert later and all("not even tickets" not in f.message for f in later)
    # TLS 1.3 only everywhere: tickets resume on *:443, and on [::]:443 nothing does, with
    # a cache or without (tickets set unlike the default server's there): no cache is missing.
    tls13 = text.replace("http {\n", "http {\n    ssl_protocols TLSv1.3;\n")
    vhost = [f for f in lint(tmp_path, tls13, "NGX101", "1.22") if "api.example.com" in f.message]
    assert [f.severity for f in vhost] == [E]
    assert vhost[0].message.startswith(
        "TLS server[api.example.com@*:443,[::]:443] never resumes a TLS 1.3 session on [::]:443 before "
        "nginx 1.29.2 (nginx.version 1.22.0): it has session tickets on and its default server "
        "server[[::]:443] has them off"
    )
    assert [f for f in lint(tmp_path, tls13, "NGX101", "1.29.2") if "api.example.com" in said(f)] == []


def test_ngx101_a_blocked_socket_beside_one_whose_default_has_a_cache(tmp_path: Path) -> None:
    text = (
        "http {\n"
        f"    server {{\n        listen 443 ssl;\n        listen [::]:443 ssl;\n"
        f"        server_name a.example.com;\n        {CERT}\n"
        "        ssl_session_cache shared:A:10m;\n    }\n"
        "    server {\n        listen [::]:443 ssl ipv6only=on default_server;\n"
        "        ssl_reject_handshake on;\n        ssl_session_tickets off;\n    }\n"
        f"    server {{\n        listen 443 ssl;\n        listen [::]:443 ssl;\n"
        f"        server_name c.example.com;\n        {CERT}\n    }}\n}}\n"
    )
    (vhost,) = [f for f in lint(tmp_path, text, "NGX101", "1.22") if "c.example.com" in f.message]
    assert vhost.severity is E
    assert (
        "on [::]:443, whose default server has none either, its default server server[[::]:443] turns "
        "ssl_session_tickets off, which before nginx 1.29.2 (nginx.version 1.22.0) decides ticket resumption "
        "for it too: it never resumes, and every connection is a full handshake; on *:443 its sessions "
        "resume in the cache of the default server server[a.example.com" in vhost.message
    )


def test_ngx101_names_every_default_server_that_turns_tickets_off(tmp_path: Path) -> None:
    # Their own `none` makes each default server a cause of its own: the vhost's finding stands alone.
    default = (
        "    server {{\n        listen {port} ssl default_server;\n        {cert}\n"
        "        ssl_session_cache none;\n        ssl_session_tickets off;\n    }}\n"
    )
    vhost = (
        f"    server {{\n        listen 443 ssl;\n        listen 8443 ssl;\n"
        f"        server_name api.example.com;\n        {CERT}\n    }}\n"
    )
    text = (
        "http {\n"
        + default.format(port=443, cert=CERT)
        + default.format(port=8443, cert=CERT)
        + vhost
        + "}\n"
    )
    (found,) = [f for f in lint(tmp_path, text, "NGX101", "1.22") if "api.example.com" in f.message]
    assert found.severity is E
    assert (
        "its default servers server[*:443] and server[*:8443] turn ssl_session_tickets off, which before "
        "nginx 1.29.2 (nginx.version 1.22.0) decides ticket resumption for it too: it never resumes"
    ) in found.message


# A socket whose every server rejects handshakes: none completes, so nothing resumes and
# no cache is missing (the report: a reject-only catch-all on *:443 beside a plain
# redirect on *:80 was told it "is where the sessions of those sockets resume").
REJECT_ONLY = (
    "http {\n"
    "    server {\n        listen 443 ssl default_server;\n        ssl_reject_handshake on;\n    }\n"
    "    server {\n        listen 80;\n        server_name a.example;\n"
    "        return 301 https://$host$request_uri;\n    }\n"
    "}\n"
)
REJECT_ONLY_STREAM = (
    "stream {\n    server {\n        listen 5432 ssl;\n        ssl_reject_handshake on;\n"
    "        proxy_pass 127.0.0.1:5433;\n    }\n}\n"
)


def test_a_socket_whose_every_server_rejects_resumes_nothing(tmp_path: Path) -> None:
    for version in ("1.22.1", "1.29.2", None):
        assert lint(tmp_path, REJECT_ONLY, "NGX101", version) == []
        assert lint(tmp_path, REJECT_ONLY + REJECT_ONLY_STREAM, "NGX101", "1.25.5") == []
    two = REJECT_ONLY.replace(
        "    server {\n        listen 80;",
        "    server {\n        listen 443 ssl;\n        server_name b.example;\n"
        "        ssl_reject_handshake on;\n    }\n    server {\n        listen 80;",
    )
    assert lint(tmp_path, two, "NGX101", "1.22.1") == []  # two servers, both rejecting


def test_a_rejecting_default_server_with_a_server_that_accepts_is_still_reported(tmp_path: Path) -> None:
    """The others' sessions resume in the catch-all's context (facts §1)."""
    text = REJECT_ONLY.replace(
        "    server {\n        listen 80;",
        f"    server {{\n        listen 443 ssl;\n        server_name api.example.com;\n        {CERT}\n"
        "    }\n    server {\n        listen 80;",
    )
    (finding,) = lint(tmp_path, text, "NGX101", "1.22.1")
    assert "TLS server[*:443] (a default server that rejects handshakes)" in said(finding)
    # Its cache is the one that counts: the virtual server's own does not help.
    own = text.replace(CERT, f"{CERT} ssl_session_cache shared:API:10m;")
    (finding,) = lint(tmp_path, own, "NGX101", "1.22.1")
    assert finding.message.startswith(
        "TLS server[*:443] rejects handshakes itself, but as the default server of *:443 it is where"
    )


def test_a_rejecting_default_server_names_only_the_sockets_where_another_accepts(tmp_path: Path) -> None:
    text = (
        "http {\n"
        "    server {\n        listen 443 ssl default_server;\n        listen 8443 ssl default_server;\n"
        "        ssl_reject_handshake on;\n    }\n"
        f"    server {{\n        listen 443 ssl;\n        server_name api.example.com;\n        {CERT}\n"
        "        ssl_session_cache shared:API:10m;\n    }\n"
        "}\n"
    )
    (finding,) = lint(tmp_path, text, "NGX101", "1.22.1")
    assert "as the default server of *:443 it is where" in finding.message


def test_a_lone_server_whose_rejection_a_template_decides_is_still_judged(tmp_path: Path) -> None:
    """`ssl_reject_handshake ${REJECT};` may render off: the server may then resume."""
    text = REJECT_ONLY.replace(
        "ssl_reject_handshake on;", f"ssl_reject_handshake ${{REJECT}};\n        {CERT}"
    )
    (finding,) = lint(tmp_path, text, "NGX101", "1.22.1")
    assert "may reject handshakes itself (a template decides)" in finding.message
