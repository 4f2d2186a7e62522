"""NGX006 against the real nginx: a TLS address:port whose default server has no
certificate (nor ``ssl_reject_handshake on``), a server without either behind a rejecting
default server, a stream TLS port without one. nginx refuses each (measured on 1.22.1),
whatever the non-SNI policy, at the line the finding names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import check_files

from tlslint.findings import Finding, Severity

CERT = "        ssl_certificate     /etc/ssl/a.pem;\n        ssl_certificate_key /etc/ssl/a.key;\n"


def http(*servers: str, before: str = "") -> str:
    return "events {}\nhttp {\n" + before + "".join(servers) + "}\n"


def server(listen: str, body: str = "") -> str:
    return f"    server {{\n        listen {listen};\n{body}    }}\n"


STREAM_NO_CERT = (
    "events {}\nstream {\n    server {\n        listen 5433;\n        listen 5432 ssl;\n"
    "        proxy_pass 127.0.0.1:5431;\n    }\n}\n"
)

REFUSED = {
    "a default server without a certificate": http(server("8443 ssl", "        server_name a.test;\n")),
    "a plain listen of a TLS address:port as its default server": http(
        server("8443", "        return 444;\n"), server("8443 ssl", CERT)
    ),
    "a server without either behind a rejecting default server": http(
        server("8443 ssl default_server", "        ssl_reject_handshake on;\n"),
        server("8443 ssl", "        server_name b.test;\n"),
    ),
    "a default server of two TLS ports": http(server("8443 ssl", "        listen 8444 ssl;\n")),
    "a stream TLS port without a certificate": STREAM_NO_CERT,
    "the legacy `ssl on;` without a certificate": http(server("8443", "        ssl on;\n")),
    "http{}'s `ssl on;` without a certificate": http(server("8443"), server("8444"), before="    ssl on;\n"),
}


def findings(tmp_path: Path, text: str, settings: dict[str, object] | None = None) -> list[Finding]:
    mapping = {"select": ["NGX006"], **(settings or {})}
    return [f for f in check_files(tmp_path, {"nginx.conf": text}, mapping).findings if f.code == "NGX006"]


@pytest.mark.parametrize("case", list(REFUSED))
def test_nginx_refuses_where_the_finding_says(tmp_path: Path, case: str) -> None:
    from nginx_harness import nginx_t

    text = REFUSED[case]
    (finding,) = findings(tmp_path, text)
    result = nginx_t(text, add_missing_certificates=False)
    assert not result.ok and result.errors, result.describe()
    match = re.search(r"\[emerg\] (.*) in \$PREFIX/nginx\.conf:(\d+)$", result.errors[0])
    assert match is not None, result.describe()
    assert finding.location.line == int(match[2]), (finding.message, result.errors[0])
    assert f"nginx refuses to start (`{match[1]}`" in finding.message
    assert finding.severity == Severity.ERROR


ACCEPTED = {
    "http{}'s certificate": http(server("8443 ssl"), before=CERT.replace("        ", "    ")),
    "a rejecting default server, and servers with a certificate or rejecting": http(
        server("8443 ssl default_server", "        ssl_reject_handshake on;\n"),
        server("8443 ssl", "        server_name b.test;\n        ssl_reject_handshake on;\n"),
        server("8443 ssl", "        server_name c.test;\n" + CERT),
    ),
    "a server without a certificate behind a default server with one": http(
        server("8443 ssl", CERT), server("8443 ssl", "        server_name b.test;\n")
    ),
    "a certificate named by $ssl_server_name": http(
        server("8443 ssl", CERT.replace("/etc/ssl/a.", "/etc/ssl/$ssl_server_name."))
    ),
    "a plain address:port": http(server("8080")),
    "stream{}'s certificate": STREAM_NO_CERT.replace("stream {\n", "stream {\n" + CERT),
    "a plain stream port": STREAM_NO_CERT.replace("        listen 5432 ssl;\n", ""),
}


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_near_misses_nginx_loads(tmp_path: Path, case: str) -> None:
    from nginx_harness import nginx_t

    text = ACCEPTED[case]
    assert findings(tmp_path, text) == []
    result = nginx_t(text, add_missing_certificates=False)
    if "$ssl_server_name" not in text:  # the harness replaces certificate paths, variables aside
        assert result.ok and not result.errors, result.describe()


def test_a_refusal_fails_the_run_whatever_the_non_sni_policy(tmp_path: Path) -> None:
    """The non-SNI policy is NGX301's: `forbidden` silences it, not nginx's refusal."""
    text = REFUSED["a default server without a certificate"]
    result = check_files(tmp_path, {"nginx.conf": text}, {"non-sni": "forbidden"})
    (finding,) = [f for f in result.findings if f.code == "NGX006"]
    assert finding.severity == Severity.ERROR
    assert not [f for f in result.findings if f.code == "NGX301"]


def test_ngx301_leaves_the_refusal_of_a_whole_configuration_to_ngx006(tmp_path: Path) -> None:
    text = REFUSED["a default server without a certificate"]
    result = check_files(tmp_path, {"nginx.conf": text}, {"non-sni": "required"})
    assert [f.code for f in result.findings if f.code in ("NGX006", "NGX301")] == ["NGX006"]


def test_a_file_of_server_blocks_is_not_judged(tmp_path: Path) -> None:
    """Its includer's http{} may set the certificate: NGX301 says so, NGX006 says nothing."""
    text = server("8443 ssl", "        server_name a.test;\n").replace("    ", "", 1)
    found = check_files(tmp_path, {"site.conf": text}).findings
    assert not [f for f in found if f.code == "NGX006"]
    (hedged,) = [f for f in found if f.code == "NGX301"]
    assert "unless the http{} that includes it sets one" in hedged.message


def test_an_include_not_followed_may_hold_the_certificate(tmp_path: Path) -> None:
    text = http(server("8443 ssl", "        include /etc/nginx/snippets/ssl-example.conf;\n"))
    assert findings(tmp_path, text) == []


def test_the_message_names_the_tls_addresses_only(tmp_path: Path) -> None:
    text = http(server("8080", "        listen 8443 ssl;\n        listen 8444 ssl;\n"))
    (finding,) = findings(tmp_path, text)
    assert "the default server of *:8443, *:8444, has no ssl_certificate" in finding.message
