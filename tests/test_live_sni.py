"""Live: NGX215, the server name nginx sends an https backend, before and after
``tlslint --fix --unsafe-fixes``, with a real nginx.

The backend is a TLS server on 127.0.0.1 that serves one name and refuses any other
handshake, as an Envoy gateway without a catch-all chain (Apigee hybrid's ingress,
Istio) or an nginx ``ssl_reject_handshake`` server does: its SNI callback records the
name each ClientHello carries (None for none) and answers ``unrecognized_name`` to a
wrong one. A real nginx (1.22.1 on Debian 12) proxies to it:

* ``proxy_pass https://api.partner.test`` (an upstream named like the host): no SNI,
  502; the fix adds ``proxy_ssl_server_name on`` and the backend sees its name, 200;
* ``proxy_ssl_server_name on`` with an upstream named ``partner``: the backend sees
  ``partner``, the upstream's name, as the finding says;
* ``proxy_ssl_name`` without the switch: never sent, 502; the fix adds the switch.

Everything is bounded and stays on 127.0.0.1 (tests/live_nginx.py).
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from conftest import nginx_binary
from live_nginx import (
    CountingBackend,
    CountingServer,
    QuietHandler,
    cli,
    free_port,
    get,
    running_nginx,
    send_ok,
)
from nginx_harness import make_certificate

pytestmark = pytest.mark.nginx

SERVED = "api.partner.test"  # the one name the backend serves (the templates below name it too)
REQUESTS = 3


class _TlsServer(CountingServer):
    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        # The handshake happens here: a refused one raises ssl.SSLError, an OSError,
        # which socketserver drops with the connection.
        return self.owner.context.wrap_socket(connection, server_side=True), address


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        send_ok(self)


@dataclass
class SniBackend(CountingBackend):
    """Serves ``SERVED`` over TLS, records each ClientHello's server name."""

    HANDLER: ClassVar[type[QuietHandler]] = _Handler
    SERVER: ClassVar[type[CountingServer]] = _TlsServer
    names: list[str | None] = field(default_factory=list)
    context: ssl.SSLContext = field(init=False)

    def __post_init__(self) -> None:
        cert, key = make_certificate()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.context.sni_callback = self._sni

    def _sni(self, _socket: ssl.SSLObject, name: str | None, _context: ssl.SSLContext) -> int | None:
        with self.lock:
            self.names.append(name)
        return None if name == SERVED else ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME

    def seen(self) -> set[str | None]:
        with self.lock:
            names = set(self.names)
            self.names.clear()
        return names


@pytest.fixture
def backend() -> SniBackend:
    nginx_binary()  # skips without nginx (fails under TLSLINT_REQUIRE_NGINX=1)
    return SniBackend()


def statuses(text: str, port: int, prefix: Path) -> set[int]:
    with running_nginx(text, port, prefix):
        return {get(port)[0] for _ in range(REQUESTS)}


def fixed(tmp_path: Path, text: str) -> str:
    directory = tmp_path / "conf"
    directory.mkdir()
    (directory / "site.conf").write_text(text)
    safe = cli("--fix", "--select", "NGX215", "--nginx-version", "1.22", str(directory))
    assert (directory / "site.conf").read_text() == text, "NGX215's fix is unsafe: not applied by --fix"
    assert safe.returncode == 1, safe.stdout + safe.stderr
    unsafe = cli("--fix", "--unsafe-fixes", "--select", "NGX215", "--nginx-version", "1.22", str(directory))
    assert unsafe.returncode == 0, unsafe.stdout + unsafe.stderr
    return (directory / "site.conf").read_text()


# No SNI, though the upstream bears the host's name; a proxy_ssl_name without the switch.
NAMED_LIKE_THE_HOST = """\
upstream api.partner.test {{
    server 127.0.0.1:{backend};
}}
server {{
    listen 127.0.0.1:{port};
    location / {{
        proxy_pass https://api.partner.test;
    }}
}}
"""
NAME_WITHOUT_SWITCH = """\
server {{
    listen 127.0.0.1:{port};
    proxy_ssl_name api.partner.test;
    location / {{
        proxy_pass https://127.0.0.1:{backend};
    }}
}}
"""
UPSTREAMS_NAME = """\
upstream partner {{
    server 127.0.0.1:{backend};
}}
server {{
    listen 127.0.0.1:{port};
    proxy_ssl_server_name on;
    location / {{
        proxy_pass https://partner;
    }}
}}
"""


@pytest.mark.parametrize(
    "template", [NAMED_LIKE_THE_HOST, NAME_WITHOUT_SWITCH], ids=["upstream", "proxy_ssl_name"]
)
def test_no_sni_is_refused_and_the_fix_sends_the_name(
    tmp_path: Path, backend: SniBackend, template: str
) -> None:
    with backend:
        port = free_port()
        text = template.format(backend=backend.port, port=port)
        assert statuses(text, port, tmp_path / "before") == {502}
        assert backend.seen() == {None}
        after = fixed(tmp_path, text)
        assert "proxy_ssl_server_name on;" in after
        assert statuses(after, port, tmp_path / "after") == {200}
        assert backend.seen() == {SERVED}


def test_with_the_switch_on_nginx_sends_the_upstreams_name(tmp_path: Path, backend: SniBackend) -> None:
    with backend:
        port = free_port()
        text = UPSTREAMS_NAME.format(backend=backend.port, port=port)
        assert statuses(text, port, tmp_path / "before") == {502}
        assert backend.seen() == {"partner"}  # $proxy_host: the upstream's name, as NGX215 says
        named = text.replace(
            "proxy_ssl_server_name on;", f"proxy_ssl_server_name on;\n    proxy_ssl_name {SERVED};"
        )
        assert statuses(named, port, tmp_path / "named") == {200}
        assert backend.seen() == {SERVED}


GRPC = NAMED_LIKE_THE_HOST.replace("proxy_pass https://", "grpc_pass grpcs://")


def test_grpc_pass_sends_no_sni_until_the_fix(tmp_path: Path, backend: SniBackend) -> None:
    """grpc_ssl_server_name is off by default too. The backend speaks no HTTP/2, so every
    request ends in 502 after the handshake: the name in the ClientHello is what counts."""
    with backend:
        port = free_port()
        text = GRPC.format(backend=backend.port, port=port)
        statuses(text, port, tmp_path / "before")
        assert backend.seen() == {None}
        after = fixed(tmp_path, text)
        assert "grpc_ssl_server_name on;" in after
        statuses(after, port, tmp_path / "after")
        assert backend.seen() == {SERVED}
