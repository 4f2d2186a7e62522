"""A real nginx for the probe tests: temporary prefix, free port, ``daemon off``, stopped by its PID.

``running_nginx(http_text)`` starts ``nginx -p PREFIX -c PREFIX/nginx.conf`` in its
own session, waits (bounded) until the port accepts connections, yields a
``LiveNginx`` and, in teardown, stops it with SIGTERM to its PID (SIGKILL to its
process group if it does not exit in time), so that nothing is left running.

The text is the http{} block of a configuration as the catalogue writes it:
``listen 443`` becomes ``listen 127.0.0.1:PORT`` and every ``ssl_certificate`` /
``ssl_certificate_key`` names the test certificate (``make_certificate``).
``write_main_config`` writes the whole file (main context, events{}, logs and
temp paths under the prefix), for tests that run ``tlslint --fix`` on it first.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from conftest import nginx_binary
from nginx_harness import make_certificate

START_TIMEOUT = 10.0  # seconds until the port must accept connections
STOP_TIMEOUT = 5.0

_LISTEN_443 = re.compile(r"\blisten\s+(?:\*:|0\.0\.0\.0:)?443\b")
_CERTIFICATE = re.compile(r"\b(ssl_certificate(?:_key)?)\s+[^;]+;")


@dataclass
class LiveNginx:
    process: subprocess.Popen[bytes]
    prefix: Path
    port: int
    config_path: Path

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    def error_log(self) -> str:
        path = self.prefix / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.process.pid, signal.SIGTERM)  # fast shutdown of master and workers
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def adapt_http_text(http_text: str, port: int, cert: Path, key: Path) -> str:
    """The catalogue's ``listen 443`` and certificate paths, made to run here."""
    text = _LISTEN_443.sub(f"listen 127.0.0.1:{port}", http_text)

    def certificate(match: re.Match[str]) -> str:
        return f"{match[1]} {key if match[1].endswith('_key') else cert};"

    return _CERTIFICATE.sub(certificate, text)


def write_main_config(prefix: Path, http_text: str, *, workers: int = 2) -> Path:
    """PREFIX/nginx.conf: main context, events{}, then ``http_text`` with paths under the prefix."""
    for sub in ("logs", "temp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    inside = f"    access_log {prefix}/logs/access.log;\n" + "".join(
        f"    {name}_temp_path {prefix}/temp/{name};\n"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    body = http_text.strip()
    if not body.startswith("http"):
        raise ValueError("the text must be an http{} block")
    head, rest = body.split("{", 1)
    config = (
        f"daemon off;\nworker_processes {workers};\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/logs/error.log info;\n"
        "events { worker_connections 128; }\n"
        f"{head}{{\n{inside}{rest}\n"
    )
    path = prefix / "nginx.conf"
    path.write_text(config, encoding="utf-8")
    return path


def prepare(prefix: Path, http_text: str, port: int | None = None) -> tuple[Path, int]:
    """Write a runnable configuration for ``http_text``; return its path and port."""
    port = port or free_port()
    cert, key = make_certificate(prefix / "certs")
    return write_main_config(prefix, adapt_http_text(http_text, port, cert, key)), port


def start(config_path: Path, port: int) -> LiveNginx:
    binary = nginx_binary()
    prefix = config_path.parent
    process = subprocess.Popen(
        [binary, "-p", f"{prefix}/", "-c", str(config_path), "-e", f"{prefix}/logs/error.log"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    live = LiveNginx(process, prefix, port, config_path)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise RuntimeError(
                f"nginx exited with status {process.returncode}:\n{stderr}\n{live.error_log()}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if time.monotonic() > deadline:
                live.stop()
                raise RuntimeError(f"nginx did not listen on {port} within {START_TIMEOUT:g} s") from None
            time.sleep(0.02)
    return live


@contextlib.contextmanager
def running(config_path: Path, port: int) -> Iterator[LiveNginx]:
    live = start(config_path, port)
    try:
        yield live
    finally:
        live.stop()


@contextlib.contextmanager
def running_nginx(prefix: Path, http_text: str) -> Iterator[LiveNginx]:
    config_path, port = prepare(prefix, http_text)
    with running(config_path, port) as live:
        yield live


def tls_client(version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client of one TLS version that takes the test certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = context.maximum_version = version
    return context


def resume_request(
    port: int, context: ssl.SSLContext, session: ssl.SSLSession | None, host: str, timeout: float = 3.0
) -> tuple[bool, ssl.SSLSession]:
    """One request to ``host`` offering ``session``: whether it resumed, and the session
    to offer next (TLS 1.3 tickets arrive after the handshake: the whole response is
    read). The server named answers its name's first label and a newline."""
    with (
        socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw,
        context.wrap_socket(raw, server_hostname=host, session=session) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := tls.recv(4096):
            response += chunk
        assert response.endswith(host.split(".")[0].encode() + b"\n"), response
        got = tls.session
        assert got is not None
        return tls.session_reused, got
