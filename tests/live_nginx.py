"""A real nginx and a counting HTTP backend on 127.0.0.1, for live tests.

* ``Backend``: a ``ThreadingHTTPServer`` speaking HTTP/1.1 (every response has
  a Content-Length, so a connection can be kept), counting the TCP connections
  it accepts and recording each request's version and headers. Other live tests
  build their own backends on ``CountingBackend`` with a ``QuietHandler``.
* ``running_nginx(text, port)``: the configuration is prepared by the nginx -t
  harness (``nginx_harness.nginx_t(..., directory=prefix)``: temporary prefix,
  logs and temp paths under it, environment-only adjustments, and it must pass
  ``nginx -t``), then nginx is started in the foreground as a single process
  (``-g "daemon off; master_process off; pid PREFIX/nginx.pid;"``) in its own
  process group. A single process never switches user, so no ``user`` line and
  no world-readable prefix are needed when the tests run as root; as another
  user nginx simply runs as that user. The group is killed on exit (SIGTERM,
  then SIGKILL) and the exit checks that no process is left.

Every wait is bounded: requests, start-up and shut-down have timeouts. Nothing
listens or connects beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import nginx_harness
from conftest import ROOT, nginx_binary

LOCALHOST = "127.0.0.1"
START_TIMEOUT = 5.0
STOP_TIMEOUT = 5.0
REQUEST_TIMEOUT = 5.0
CLI_TIMEOUT = 60.0


def send_ok(handler: BaseHTTPRequestHandler) -> None:
    """Answer 200 "ok" with a Content-Length, so the connection can be kept alive."""
    body = b"ok\n"
    handler.send_response(200)
    handler.send_header("Content-Type", "text/plain")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m tlslint ARGS` from the checkout, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "tlslint", *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def free_port() -> int:
    """A free TCP port on 127.0.0.1 chosen by the kernel (ephemeral, so high)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Seen:
    """One request as the backend received it."""

    version: str  # "HTTP/1.0" | "HTTP/1.1"
    path: str
    headers: dict[str, str]  # names lower-cased
    peer_port: int  # nginx's source port: the same port means the same connection


class CountingServer(ThreadingHTTPServer):
    """A loopback HTTP server that counts, in ``owner.connections`` (under
    ``owner.lock``), the connections it accepts; ``handler`` answers them."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, owner: Any, handler: type[BaseHTTPRequestHandler]) -> None:
        self.owner = owner
        super().__init__((LOCALHOST, 0), handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = super().get_request()
        with self.owner.lock:
            self.owner.connections += 1
        return connection, address


class QuietHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 (keep-alive), served by a ``CountingServer``, logging nothing."""

    protocol_version = "HTTP/1.1"
    server: CountingServer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        owner = self.server.owner
        seen = Seen(
            self.request_version,
            self.path,
            {name.lower(): value for name, value in self.headers.items()},
            self.client_address[1],
        )
        with owner.lock:
            owner.requests.append(seen)
        send_ok(self)


_Served = TypeVar("_Served", bound="CountingBackend")


@dataclass
class CountingBackend:
    """A loopback HTTP/1.1 backend on a free port, served from a daemon thread, that
    counts in ``connections`` (under ``lock``) the connections it accepts; its
    ``HANDLER`` answers them. Use as a context manager."""

    HANDLER: ClassVar[type[QuietHandler]]
    SERVER: ClassVar[type[CountingServer]] = CountingServer
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: CountingServer | None = None
    _thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "the backend is not running"
        port: int = self._server.server_address[1]
        return port

    def __enter__(self: _Served) -> _Served:
        self._server = self.SERVER(self, self.HANDLER)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=STOP_TIMEOUT)
        assert not self._thread.is_alive(), "the backend thread did not stop"


@dataclass
class Backend(CountingBackend):
    """A counting backend that records each request's version and headers."""

    HANDLER: ClassVar[type[QuietHandler]] = _Handler
    requests: list[Seen] = field(default_factory=list)

    def reset(self) -> None:
        with self.lock:
            self.connections = 0
            self.requests.clear()


def get(port: int, path: str = "/", host: str = "live.test") -> tuple[int, bytes]:
    """One GET on a fresh client connection (closed after the response)."""
    client = http.client.HTTPConnection(LOCALHOST, port, timeout=REQUEST_TIMEOUT)
    try:
        client.request("GET", path, headers={"Host": host, "Connection": "close"})
        response = client.getresponse()
        return response.status, response.read()
    finally:
        client.close()


@dataclass
class RunningNginx:
    process: subprocess.Popen[bytes]
    prefix: Path
    port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection((LOCALHOST, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise RuntimeError(f"nginx did not listen on {port} within {START_TIMEOUT:g} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Kill nginx's process group (SIGTERM, then SIGKILL) and check nothing is left."""
    group = process.pid  # start_new_session: the group id is nginx's pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)
    deadline = time.monotonic() + STOP_TIMEOUT
    while True:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return  # the group is empty
        if time.monotonic() > deadline:
            raise AssertionError(f"processes of nginx's group {group} are still running")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        time.sleep(0.02)


@contextlib.contextmanager
def running_nginx(text: str, port: int, prefix: Path) -> Iterator[RunningNginx]:
    """nginx serving ``text`` (an http{}-level snippet or a full file) until the block ends.

    ``port`` is the port the text listens on (waited for). The text is first
    prepared and checked with the nginx -t harness in ``prefix``.
    """
    checked = nginx_harness.nginx_t(text, directory=prefix)
    if not checked.ok or checked.errors:
        raise AssertionError(f"the live configuration fails nginx -t\n{checked.describe()}")
    pid = prefix / "nginx-live.pid"
    log = prefix / "nginx-live.log"
    binary = nginx_binary()
    command = [
        binary,
        "-p", f"{prefix}/",
        "-c", str(checked.config_path),
        "-g", f"daemon off; master_process off; pid {pid};",
    ]  # fmt: skip
    if nginx_harness.nginx_version(binary) >= (1, 19, 5):
        command[1:1] = ["-e", "stderr"]  # else the error log opens under /var before -g applies
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=prefix,
            start_new_session=True,
        )
    try:
        _wait_for_port(port, process, log)
        yield RunningNginx(process, prefix, port, log)
    finally:
        _stop(process)
