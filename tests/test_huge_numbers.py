"""A number too long for Python's int() (past 4,300 digits it raises ValueError) wherever
a configuration may hold one: a clear verdict, never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import check_files

from tlslint.units import parse_size, parse_time, whole_number

HUGE = "1" * 5_000


def http(lines: str, server: str = "server { listen 80; }") -> str:
    return f"http {{\n    {lines}\n    {server}\n}}\n"


TLS = "server { listen 443 ssl; }"
NGINX = {
    "keepalive_timeout": http(f"keepalive_timeout {HUGE};"),
    "ssl_session_timeout": http(f"ssl_session_timeout {HUGE};", TLS),
    "ssl_session_cache": http(f"ssl_session_cache shared:SSL:{HUGE}m;", TLS),
    "keepalive_requests": http(f"keepalive_requests {HUGE};"),
    "client_max_body_size": http(f"client_max_body_size {HUGE};"),
    "upstream keepalive": http(
        f"upstream u {{ server 127.0.0.1:8000; keepalive {HUGE}; keepalive_timeout {HUGE}; }}",
        "server { listen 80; location / { proxy_pass http://u; } }",
    ),
    "listen port": http("", f"server {{ listen 127.0.0.1:{HUGE}; }}"),
}
OTHERS = {
    "Dockerfile image tag": {
        "nginx.conf": "http {\n    server { listen 80; }\n}\n",
        "Dockerfile": f"FROM nginx:1.{HUGE}.3\n",
    },
    "gunicorn bind port": {
        "nginx.conf": "http {\n    upstream u { server 127.0.0.1:8000; keepalive 8; }\n"
        "    server {\n        listen 80;\n        location / { proxy_pass http://u; }\n    }\n}\n",
        "gunicorn.conf.py": f'bind = "127.0.0.1:{HUGE}"\nkeepalive = {HUGE}\n',
    },
    "overrides.yaml": {"overrides.yaml": f"virtualhosts:\n  - name: a\n    sslCertPath: {HUGE}\n"},
    "ingress-nginx ConfigMap": {
        "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-nginx-controller\n"
        f'data:\n  keep-alive: "{HUGE}"\n  keep-alive-requests: "0x{HUGE}"\n  use-http2: "true"\n'
    },
    "ingress-nginx values": {
        "values.yaml": f"ingress-nginx:\n  controller:\n    replicaCount: {HUGE}\n"
        f"    config:\n      keep-alive: {HUGE}\n"
    },
}


@pytest.mark.parametrize("files", [{"nginx.conf": text} for text in NGINX.values()] + list(OTHERS.values()),
                         ids=[*NGINX, *OTHERS])  # fmt: skip
def test_a_huge_number_is_a_verdict_not_an_internal_error(tmp_path: Path, files: dict[str, str]) -> None:
    result = check_files(tmp_path, files)
    assert result.findings is not None  # it ran: an internal error raises out of run()


def test_the_readers_of_numbers_refuse_what_int_cannot_read() -> None:
    assert whole_number(HUGE) is None
    assert whole_number("123") == 123
    assert whole_number("-1") is None
    assert parse_size(HUGE + "m") is None
    assert parse_time(HUGE + "s") is None
    assert parse_time("1h30m") == 5400


def test_a_probes_port_is_a_port_or_an_error() -> None:
    from tlslint.live.probe import _port

    assert _port("0443", "h:0443") == 443
    for text in (HUGE, "²", "70000"):
        with pytest.raises(ValueError, match="invalid port"):
            _port(text, f"h:{text[:8]}")
