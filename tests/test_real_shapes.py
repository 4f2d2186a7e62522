"""Configurations nobody here wrote, in the shapes real projects ship (hand-written here).

Each test takes a shape seen in a public project's production or shipped configuration
(issue 15) and holds tlslint's findings on it to what the configuration says: no message
states what the file contradicts, deliberate choices are not "fixed" by plain --fix, and
one cause is one finding.
"""

from __future__ import annotations

from pathlib import Path

from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.findings import Finding, Severity
from tlslint.fixing import apply_fixes

# A privacy-focused OS project's production edge: keep-alive off and a low request cap at
# http level on purpose, ticket keys rotated by its own tooling (the first encrypts, the
# others only decrypt), no session cache, a catch-all that rejects handshakes as the
# default server, HTTP/2 everywhere, and a time endpoint whose location keeps HTTP/1.x
# connections short (location keep-alive settings do not apply to HTTP/2).
EDGE = """\
events {}
http {
    keepalive_requests 16;
    keepalive_timeout 0;

    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate /etc/tls/example.org.pem;
    ssl_certificate_key /etc/tls/example.org.key;

    # managed externally in noswap tmpfs
    ssl_session_ticket_key /etc/tls/session-ticket-keys/4.key;
    ssl_session_ticket_key /etc/tls/session-ticket-keys/3.key;
    ssl_session_ticket_key /etc/tls/session-ticket-keys/2.key;
    ssl_session_ticket_key /etc/tls/session-ticket-keys/1.key;
    ssl_session_ticket_key /etc/tls/session-ticket-keys/next.key;
    ssl_session_timeout 1d;

    log_format main '$connection-$connection_requests $remote_addr $ssl_session_reused $ssl_protocol '
        '$server_protocol $host "$request_uri" $status';
    access_log /var/log/nginx/access.log main;

    server {
        listen 80 default_server;
        location / {
            return 421;
        }
    }

    server {
        listen 80;
        server_name example.org time.example.org;
        location / {
            return 301 https://$host$request_uri;
        }
    }

    server {
        listen 443 default_server ssl;
        http2 on;
        ssl_reject_handshake on;
        location / {
            return 421;
        }
    }

    server {
        listen 443 ssl;
        http2 on;
        server_name example.org;
        root /srv/example.org;
    }

    server {
        listen 443 ssl;
        http2 on;
        server_name time.example.org;

        location = / {
            # note: location block keepalive configuration does not work for HTTP/2
            keepalive_requests 2;
            keepalive_timeout 15s;
            return 204;
        }

        location / {
            return 404;
        }
    }
}
"""
EDGE_SETTINGS = {"nginx": {"version": "1.26"}}


def by_code(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        out.setdefault(finding.code, []).append(finding)
    return out


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_edge_ticket_keys_make_a_missing_cache_an_info(tmp_path: Path) -> None:
    found = by_code(check_files(tmp_path, {"nginx.conf": EDGE}, EDGE_SETTINGS).findings)
    (cache,) = found["NGX101"]  # one cause (no cache in http{}), not one per server
    assert cache.severity == Severity.INFO
    assert cache.location.line == line_of(EDGE, "http {")
    assert (
        "ssl_session_ticket_key" in cache.message
        and "TLS 1.2 clients without ticket support" in cache.message
    )
    assert "die on every reload" not in cache.message and "random" not in cache.message
    # The servers it stands for: the two that serve TLS, and the catch-all default server in
    # whose context their sessions resume (it rejects handshakes itself).
    servers = [r.message for r in cache.related if r.message.startswith("TLS server")]
    assert len(servers) == 3 and "(a default server that rejects handshakes)" in servers[0]
    assert "NGX105" not in found  # the default server's keys are files: nothing random


def test_edge_keepalive_choices_are_reported_once_and_never_replaced(tmp_path: Path) -> None:
    found = by_code(check_files(tmp_path, {"nginx.conf": EDGE}, EDGE_SETTINGS).findings)
    (timeout,) = found["NGX201"]
    assert timeout.location.line == line_of(EDGE, "keepalive_timeout 0;")
    # 1.26: keepalive_timeout governs HTTP/2 connections too (since 1.19.7), one request each.
    assert "HTTP/1.x clients open a new TCP connection for every request, and so do HTTP/2 clients" in (
        timeout.message
    )
    assert "server[*:443" not in timeout.message  # the catch-all keeps no connection
    # The http-level 16 counts nowhere: with keepalive_timeout 0 every HTTP/1.x connection
    # closes after one request, and every HTTP/2 connection serves one (measured on 1.22.1,
    # tests/test_live_keepalive.py); the location's 2 is an HTTP/1.x choice.
    assert "NGX203" not in found
    assert "NGX202" not in found  # the location's 15s is for HTTP/1.x clients only
    assert timeout.fix is not None and not timeout.fix.safe


def test_edge_plain_fix_only_adds_what_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_text(EDGE, encoding="utf-8")
    settings = settings_for(tmp_path, EDGE_SETTINGS)
    apply_fixes(run([tmp_path], settings), settings, unsafe=False, write=True)
    after = path.read_text(encoding="utf-8")
    added = [line for line in after.splitlines() if line not in EDGE.splitlines()]
    assert added == ["    ssl_session_cache shared:SSL:10m;"]
    # keepalive_timeout 0, keepalive_requests 16 and the location's 2 were typed by an
    # operator: plain --fix once rewrote them; only --unsafe-fixes may (docs/fix-safety.md).
    assert [line for line in EDGE.splitlines() if line not in after.splitlines()] == []
    unsafe = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=False)
    assert "-    keepalive_timeout 0;" in unsafe.diff and "-    keepalive_requests 16;" in unsafe.diff
    assert "keepalive_requests 2;" not in unsafe.diff  # an HTTP/1.x choice, not reported at all


# A federated social network's shipped example (an http-level snippet): a WebSocket map
# whose value for plain requests is `close`, an application upstream and a streaming one,
# the certificate lines commented out until one is acquired.
SOCIAL = """\
map $http_upgrade $connection_upgrade {
  default upgrade;
  ''      close;
}

upstream backend {
    server 127.0.0.1:3000 fail_timeout=0;
}

upstream streaming {
    server 127.0.0.1:4000 fail_timeout=0;
}

server {
  listen 443 ssl http2;
  listen [::]:443 ssl http2;
  server_name example.com;

  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache shared:SSL:10m;
  ssl_session_tickets off;

  # Uncomment these lines once you acquire a certificate:
  # ssl_certificate     /etc/letsencrypt/live/example.com/fullchain.pem;
  # ssl_certificate_key /etc/letsencrypt/live/example.com/privkey.pem;

  location / {
    proxy_set_header Host $host;
    proxy_pass http://backend;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
  }

  location ^~ /api/v1/streaming {
    proxy_set_header Host $host;
    proxy_pass http://streaming;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
  }
}
"""


def test_social_upstream_note_says_what_the_location_lacks(tmp_path: Path) -> None:
    found = by_code(check_files(tmp_path, {"mastodon.conf": SOCIAL}, {"nginx": {"version": "1.22"}}).findings)
    (upstream,) = found["NGX210"]  # backend; streaming carries only WebSocket connections
    assert upstream.location.line == line_of(SOCIAL, "upstream backend")
    # The location already speaks HTTP/1.1: only its Connection value is missing.
    assert "proxy_http_version" not in upstream.message
    assert "location[/] needs a Connection value that is empty for plain requests" in upstream.message
    assert "map $connection_upgrade gives `close`" in upstream.message
    assert "NGX213" not in found  # the map form, not a constant


def test_social_missing_certificate_is_not_called_a_sni_problem(tmp_path: Path) -> None:
    found = by_code(check_files(tmp_path, {"mastodon.conf": SOCIAL}, {"nginx": {"version": "1.22"}}).findings)
    (certificate,) = found["NGX301"]
    assert certificate.message.startswith("the default server server[example.com@")
    assert "unless the http{} that includes it sets one" in certificate.message  # a snippet
    assert "with or without SNI" in certificate.message
    assert "clients that send no SNI cannot connect" not in certificate.message


# A help desk's and a chat server's shipped examples set nothing about logs, protocols or
# sessions in their server blocks: for one file of servers, each on its own port (so each
# the default server of its socket), that is one cause each, not one per server.
SITES = (
    "http {\n"
    + "".join(
        f"    server {{\n        listen {port} ssl;\n        server_name {name}.example.com;\n    }}\n"
        for name, port in (("www", 443), ("api", 8443), ("chat", 9443), ("desk", 10443))
    )
    + "}\n"
)


def test_one_http_level_cause_is_one_finding(tmp_path: Path) -> None:
    codes = ["NGX101", "NGX105", "NGX302", "NGX303", "NGX401"]
    result = check_files(tmp_path, {"nginx.conf": SITES}, {"nginx": {"version": "1.22"}, "select": codes})
    found = by_code(result.findings)
    assert sorted(found) == codes
    for code in codes:
        (finding,) = found[code]
        assert finding.location.line == 1, code  # at http {, where the fix goes
        assert finding.places == 4, code


def test_one_default_server_decides_for_its_socket(tmp_path: Path) -> None:
    """Before 1.29.2 the default server's ssl_protocols decides for every server on its
    socket: the cause is at that server, and the message names the servers it decides for."""
    one_socket = SITES.replace("8443", "443").replace("9443", "443").replace("10443", "443")
    result = check_files(
        tmp_path, {"nginx.conf": one_socket}, {"nginx": {"version": "1.22"}, "select": ["NGX302"]}
    )
    (finding,) = result.findings
    assert finding.location.line == 2
    places = [r.message for r in finding.related]
    assert [
        name for name in ("www", "api", "chat", "desk") if any(f"{name}.example.com" in p for p in places)
    ] == [
        "www",
        "api",
        "chat",
        "desk",
    ]


def test_a_cause_for_many_servers_prints_ten_of_them(tmp_path: Path) -> None:
    from tlslint.report import text

    servers = "".join(
        f"    server {{\n        listen 443 ssl;\n        server_name s{n}.example.com;\n    }}\n"
        for n in range(25)
    )
    result = check_files(tmp_path, {"nginx.conf": f"http {{\n{servers}}}\n"}, {"select": ["NGX101"]})
    (finding,) = result.findings
    assert finding.places == 25  # every server: the default one of *:443 lacks a cache too
    out = text.render(result, colour=False)
    assert out.count("  --> ") == text.SHOWN_RELATED + 1
    assert (
        f"... and {len(finding.related) - text.SHOWN_RELATED} more (--format json or sarif lists all)" in out
    )


def test_a_run_on_some_files_reports_the_cause_of_their_servers(tmp_path: Path) -> None:
    """A hook passes only the changed site file; its server's cause lies in the nginx.conf
    that includes it (no cache in http{}), and is reported because the site is one of its
    places. A site that is not among the places leaves it out."""
    files = {
        "nginx.conf": "events {}\nhttp {\n    include sites-enabled/*.conf;\n}\n",
        "sites-enabled/a.conf": "server {\n    listen 443 ssl;\n    server_name a.example.com;\n}\n",
        "sites-enabled/b.conf": "server {\n    listen 443 ssl;\n    server_name b.example.com;\n}\n",
        "sites-enabled/plain.conf": "server {\n    listen 80;\n    server_name plain.example.com;\n}\n",
    }
    check_files(tmp_path, files)
    named = run([tmp_path / "sites-enabled" / "a.conf"], settings_for(tmp_path, {"select": ["NGX101"]}))
    (finding,) = named.findings
    assert finding.location.path.name == "nginx.conf" and finding.places == 2
    plain = run([tmp_path / "sites-enabled" / "plain.conf"], settings_for(tmp_path, {"select": ["NGX101"]}))
    assert plain.findings == []
