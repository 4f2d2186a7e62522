"""Shapes from a trial on nginx configurations nobody here wrote (hand-written here).

Each test is the smallest shape, written for this file, of something tlslint got wrong
on a public project's configuration: a message that stated what the file contradicts.
"""

from __future__ import annotations

from pathlib import Path

from helpers import check_files

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

NO_CACHE = PLAIN_AND_TLS.replace("    ssl_session_cache shared:SSL:10m;\n", "")


def test_tickets_are_named_on_tls_sockets_only(tmp_path: Path) -> None:
    for text in (PLAIN_AND_TLS, NO_CACHE):
        result = check_files(tmp_path, {"nginx.conf": text})
        tickets = [f for f in result.findings if f.code == "NGX105"]
        assert tickets, [f.message for f in result.findings]
        for finding in tickets:
            assert "session tickets on *:443 are" in finding.message, finding.message
            assert "*:80" not in finding.message.split(" are encrypted")[0], finding.message
