"""Shapes from a trial on nginx configurations nobody here wrote (hand-written here).

Each test is the smallest shape, written for this file, of something tlslint got wrong
on a public project's configuration: a message that stated what the file contradicts.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import check_files, fix
from nginx_harness import nginx_t

# One server for plain HTTP and TLS (`listen 80; listen 443 ssl;`), as env-templated
# Docker configs and WordPress stacks ship it: port 80 carries no TLS and no tickets.
PLAIN_AND_TLS = """\
events {}
http {
    ssl_session_cache shared:SSL:10m;
    server {
        listen 80;
        listen 443 ssl;
        server_name app.example.org;
        ssl_certificate /etc/tls/app.pem;
        ssl_certificate_key /etc/tls/app.key;
        ssl_protocols TLSv1.2 TLSv1.3;
    }
}
"""


@pytest.fixture
def nginx() -> str:
    from conftest import nginx_binary

    return nginx_binary()


NO_CACHE = PLAIN_AND_TLS.replace("    ssl_session_cache shared:SSL:10m;\n", "")


def test_tickets_are_named_on_tls_sockets_only(tmp_path: Path) -> None:
    for text in (PLAIN_AND_TLS, NO_CACHE):
        result = check_files(tmp_path, {"nginx.conf": text})
        tickets = [f for f in result.findings if f.code == "NGX105"]
        assert tickets, [f.message for f in result.findings]
        for finding in tickets:
            assert "session tickets on *:443 are" in finding.message, finding.message
            assert "*:80" not in finding.message.split(" are encrypted")[0], finding.message


# A vhost with the key files its rotation tooling manages (the first encrypts, the
# others only decrypt), behind a catch-all default server that rejects handshakes.
KEYS_ON_VHOST = """\
events {}
http {
    ssl_session_cache shared:SSL:10m;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen 443 ssl default_server;
        ssl_reject_handshake on;
    }
    server {
        listen 443 ssl;
        server_name shop.example.org;
        ssl_certificate /etc/tls/shop.pem;
        ssl_certificate_key /etc/tls/shop.key;
        ssl_session_ticket_key /etc/nginx/ticket-keys/current.key;
        ssl_session_ticket_key /etc/nginx/ticket-keys/previous.key;
    }
}
"""


def test_moved_ticket_keys_keep_every_key_in_order(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"nginx.conf": KEYS_ON_VHOST})
    moves = [f for f in result.findings if f.code == "NGX107"]
    assert len(moves) == 1, [f.message for f in result.findings]
    assert moves[0].fix is not None and moves[0].fix.safe
    assert "overrides" not in moves[0].fix.description, moves[0].fix.description
    fixed = fix(tmp_path / "fixed", {"nginx.conf": KEYS_ON_VHOST})["nginx.conf"].decode()
    http_part, vhost = fixed.split("server_name shop.example.org;")
    # Both keys, the encrypting one first, now in http{}; none left in the vhost.
    assert http_part.index("current.key") < http_part.index("previous.key"), fixed
    assert "ssl_session_ticket_key" not in vhost, fixed


@pytest.mark.nginx
def test_moved_ticket_keys_pass_nginx_t(nginx: str, tmp_path: Path) -> None:
    fixed = fix(tmp_path, {"nginx.conf": KEYS_ON_VHOST})["nginx.conf"].decode()
    assert fixed != KEYS_ON_VHOST
    outcome = nginx_t(fixed)
    assert outcome.ok, outcome.describe()


# Debian's nginx.conf sets ssl_protocols (with TLSv1 and TLSv1.1) and access_log in
# http{}; certbot's vhosts include its options file, which sets their own ssl_protocols.
# Checked without /etc/letsencrypt, that include is not followed.
DEBIAN_AND_CERTBOT = """\
events {}
http {
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    access_log /var/log/nginx/access.log;
    server {
        server_name app.example.org;
        listen 443 ssl; # managed by Certbot
        ssl_certificate /etc/letsencrypt/live/app.example.org/fullchain.pem;
        ssl_certificate_key /etc/letsencrypt/live/app.example.org/privkey.pem;
        include /etc/letsencrypt/options-ssl-nginx.conf; # managed by Certbot
    }
    server {
        listen 8443 ssl;
        server_name admin.example.org;
        ssl_certificate /etc/tls/admin.pem;
        ssl_certificate_key /etc/tls/admin.key;
    }
}
"""


def test_server_with_unfollowed_include_is_not_judged_by_http_values(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"nginx.conf": DEBIAN_AND_CERTBOT})
    about = {
        f.code: f.message
        for f in result.findings
        if f.code in ("NGX302", "NGX303", "NGX401") and "app.example.org" in f.message
    }
    assert about == {}, about
    # The server with nothing unknown is still judged by the http{} values.
    legacy = [f for f in result.findings if f.code == "NGX303"]
    assert len(legacy) == 1 and "admin.example.org" in legacy[0].message, [f.message for f in result.findings]
    logs = [f for f in result.findings if f.code == "NGX401"]
    assert len(logs) == 1 and "admin.example.org" in logs[0].message, [f.message for f in logs]


# Templates named as nginx files (a Go template, a Jinja loop, a str.format placeholder,
# a mustache value): nginx's own message is kept, and the line's template syntax named.
@pytest.mark.parametrize(
    ("text", "line", "syntax"),
    [
        ("server {\n    listen {{ .port }} default_server;\n}\n", 2, "{{"),
        ("{% for up in upstreams %}\nupstream {{ up.name }} { server a; }\n{% endfor %}\n", 1, "{%"),
        ("server {\n    server_name {domain} *.{domain};\n}\n", 2, "{domain}"),
        ("fastcgi_read_timeout {{PHP_TIMEOUT}};\n", 1, "{{"),
        (
            "ssl_session_cache shared:SSL:10m;\n{{ if .Env.TLS }}\nssl_protocols TLSv1.3;\n{{ end }}\n",
            2,
            "{{",
        ),
        ("http {\n  $log_format\n  server {\n    listen 8443 ssl;\n  }\n}\n", 2, "$log_format"),
    ],
)
def test_template_syntax_is_named_in_the_parse_error(
    tmp_path: Path, text: str, line: int, syntax: str
) -> None:
    result = check_files(tmp_path, {"site.conf": text})
    errors = [f for f in result.findings if f.code == "NGX001"]
    assert len(errors) == 1, [f.message for f in result.findings]
    assert errors[0].location.line == line
    assert f"template syntax `{syntax}`" in errors[0].message, errors[0].message


def test_a_plain_syntax_error_names_no_template(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"site.conf": "server {\n    location ~ ^/a{2,3}$ {\n}\n"})
    assert [f.code for f in result.findings] == ["NGX001"]
    assert "template" not in result.findings[0].message


# A hardening guide's http{} sets short keep-alive values; each vhost includes its
# certificate and listen snippets, one of them not found here.
SHORT_KEEPALIVE = """\
events {}
http {
    keepalive_requests 100;
    keepalive_timeout 5s 5s;
    ssl_session_cache shared:SSL:10m;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen 443 ssl;
        server_name app.example.org;
        include /etc/nginx/master/certs/app.conf;
        location / {
            return 204;
        }
    }
    server {
        listen 8443 ssl;
        server_name admin.example.org;
        ssl_certificate /etc/tls/admin.pem;
        ssl_certificate_key /etc/tls/admin.key;
    }
}
"""


def test_keepalive_values_are_not_pinned_on_a_server_with_an_unfollowed_include(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"nginx.conf": SHORT_KEEPALIVE})
    for code in ("NGX202", "NGX203"):
        found = [f for f in result.findings if f.code == code]
        assert len(found) == 1, (code, [f.message for f in result.findings])
        message = found[0].message
        assert "admin.example.org" in message and "app.example.org" not in message, message


# HTTP/3 as nginx's docs show it: a `listen 443 quic` is a UDP socket of its own, with its
# own default server; the TCP `listen 443 ssl` sockets keep theirs. Here the first server
# on port 443 listens on QUIC only, so the TLS-over-TCP default server is the second.
QUIC_FIRST = """\
events {}
http {
    ssl_protocols TLSv1.2 TLSv1.3;
    log_format tls '$remote_addr $ssl_protocol $ssl_session_reused';
    access_log /var/log/nginx/access.log tls;
    server {
        listen 443 quic reuseport;
        server_name h3.example.org;
        ssl_certificate /etc/tls/h3.pem;
        ssl_certificate_key /etc/tls/h3.key;
    }
    server {
        listen 443 ssl;
        http2 on;
        server_name www.example.org;
        ssl_certificate /etc/tls/www.pem;
        ssl_certificate_key /etc/tls/www.key;
        ssl_session_cache shared:SSL:10m;
    }
}
"""


def test_a_quic_listen_is_not_the_tcp_sockets_default_server(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"nginx.conf": QUIC_FIRST})
    wrong = [
        f.message for f in result.findings if "h3.example.org" in f.message or f.code in ("NGX107", "NGX108")
    ]
    assert wrong == [], wrong


def test_quic_and_tcp_listens_are_named_apart(tmp_path: Path) -> None:
    both = QUIC_FIRST.replace(
        "        listen 443 ssl;\n", "        listen 443 ssl;\n        listen 443 quic;\n"
    )
    both = both.replace("        ssl_session_cache shared:SSL:10m;\n", "")
    result = check_files(tmp_path, {"nginx.conf": both})
    labels = [f.message for f in result.findings if f.code == "NGX101"]
    assert labels and all("server[www.example.org@*:443,*:443/quic]" in m for m in labels), labels


# An envsubst template (the nginx image's /etc/nginx/templates/*.template) named on the
# command line: placeholders where nginx takes no variables.
ENVSUBST = """\
http {
    real_ip_recursive ${REAL_IP_RECURSIVE};
    server {
        listen ${PORT} ssl;
        server_name ${SERVER_NAME};
    }
}
"""


def test_a_placeholder_listen_is_no_port_80(tmp_path: Path) -> None:
    """`listen ${PORT} ssl` was shown as the socket ${PORT}:80, a port the file never names."""
    findings = check_files(tmp_path, {"nginx.conf": ENVSUBST}).findings
    assert findings
    for finding in findings:
        assert ":80" not in finding.message, finding.message
    (tickets,) = [f for f in findings if f.code == "NGX105"]
    assert "session tickets on ${PORT} " in tickets.message


def test_a_flag_a_template_fills_in_is_not_judged(tmp_path: Path) -> None:
    """`real_ip_recursive ${REAL_IP_RECURSIVE};` renders to on or off before nginx reads
    it (the file is an envsubst template, whatever its name): a value not known yet, as
    docs/rules/NGX012.md says of every placeholder."""
    findings = check_files(tmp_path, {"nginx.conf": ENVSUBST}).findings
    assert not [f for f in findings if f.code == "NGX012"]
    # nginx's own lower-case ${variable} is no placeholder: refused, with no such note.
    plain = ENVSUBST.replace("${REAL_IP_RECURSIVE}", "${host}")
    (refused,) = [f for f in check_files(tmp_path, {"nginx.conf": plain}).findings if f.code == "NGX012"]
    assert "placeholder" not in refused.message
