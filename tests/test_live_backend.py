"""Live: the backend keep-alive race (BKD101) before and after ``tlslint --fix``.

A real nginx (the installed one, 1.22.1 on Debian 12) keeps connections to an
upstream (``keepalive 16`` with HTTP/1.1) in front of a small HTTP/1.1 server
whose idle keep-alive timeout is 2 s, like gunicorn's default ``keepalive``.
The repository beside the nginx file has the ``gunicorn.conf.py`` that such a
backend would run with (``keepalive = 2``), bound to the server's address, so
tlslint links the two by address.

The race needs the backend's close and nginx's next request to cross in
flight. A server that closes at exactly 2 s sends its FIN while nginx is idle,
nginx sees it on the pooled connection and drops it, and a request 2.1 s later
goes on a new connection: that alone never shows the 502 (measured, see
docs/backends.md). In production the crossing happens under load; here the
server makes it deterministic: a connection idle for more than 2 s is one it
has decided to close, and it closes it when the next request arrives, without
answering. That is what nginx meets when the two cross: a POST on a pooled
connection gets ``upstream prematurely closed connection`` and a 502 (POSTs are
not retried).

* before: 5 POSTs 2.1 s apart: 200, 502, 200, 502, 200 (a POST on a pooled
  connection idle past 2 s fails; the failed connection is gone, so the next
  POST opens a fresh one, which the one after reuses);
* ``python -m tlslint --fix --unsafe-fixes --select BKD --nginx-version 1.22``
  (the real CLI) sets ``keepalive_timeout 1s;`` in the upstream;
* after: the same pattern, no 502: nginx closes its idle connection first and
  opens a new one for each request.

Bounded: about 20 s in all; nginx's process group is killed and checked empty,
the backend thread joined; requests and subprocesses have timeouts; nothing
leaves 127.0.0.1.
"""

from __future__ import annotations

import http.client
import select
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import nginx_binary
from live_nginx import (
    LOCALHOST,
    REQUEST_TIMEOUT,
    CountingBackend,
    QuietHandler,
    cli,
    free_port,
    running_nginx,
    send_ok,
)

pytestmark = pytest.mark.nginx

IDLE_TIMEOUT = 2.0  # the backend's keep-alive timeout, as gunicorn's default keepalive
GAP = 2.1  # just over it
REQUESTS = 5
IDLE_LIMIT = 10.0  # a connection nobody uses is closed after this long anyway

NGINX = """\
upstream app {{
    server 127.0.0.1:{backend};
    keepalive 16;
}}
server {{
    listen 127.0.0.1:{port};
    location / {{
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }}
}}
"""
GUNICORN = """\
# The backend this test runs stands in for gunicorn with these settings.
bind = "127.0.0.1:{backend}"
worker_class = "gthread"
threads = 4
keepalive = 2  # gunicorn's default, written out
"""


class _Handler(QuietHandler):
    """A connection idle for more than IDLE_TIMEOUT is closed when the next request
    reaches it, unanswered."""

    def handle(self) -> None:
        self.close_connection = True
        self.handle_one_request()
        while not self.close_connection:
            idle_since = time.monotonic()
            readable, _, _ = select.select([self.connection], [], [], IDLE_LIMIT)
            if not readable:
                return
            if time.monotonic() - idle_since > IDLE_TIMEOUT:
                with self.server.owner.lock:
                    self.server.owner.closed_idle += 1
                self.connection.recv(65536)  # read what came, answer nothing, close
                return
            self.handle_one_request()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with self.server.owner.lock:
            self.server.owner.answered += 1
        send_ok(self)


@dataclass
class IdleBackend(CountingBackend):
    HANDLER: ClassVar[type[QuietHandler]] = _Handler
    answered: int = 0
    closed_idle: int = 0  # connections closed on a request that came after the idle timeout

    def reset(self) -> None:
        with self.lock:
            self.connections = self.answered = self.closed_idle = 0


def post(port: int) -> int:
    """One POST on a fresh client connection; the status nginx answers."""
    client = http.client.HTTPConnection(LOCALHOST, port, timeout=REQUEST_TIMEOUT)
    try:
        client.request(
            "POST", "/orders", body=b"item=1", headers={"Host": "live.test", "Connection": "close"}
        )
        response = client.getresponse()
        response.read()
        return response.status
    finally:
        client.close()


def pattern(port: int) -> Iterator[int]:
    """REQUESTS POSTs with GAP seconds of quiet between them."""
    for index in range(REQUESTS):
        if index:
            time.sleep(GAP)
        yield post(port)


def test_the_fix_ends_the_502s_of_the_keepalive_race(tmp_path: Path) -> None:
    nginx_binary()  # skips without nginx (fails under TLSLINT_REQUIRE_NGINX=1)
    repo = tmp_path / "repo"
    repo.mkdir()
    site = repo / "app.conf"
    config = repo / "gunicorn.conf.py"
    started = time.monotonic()
    with IdleBackend() as backend:
        port = free_port()
        site.write_text(NGINX.format(backend=backend.port, port=port), encoding="utf-8")
        config.write_text(GUNICORN.format(backend=backend.port), encoding="utf-8")
        gunicorn_before = config.read_bytes()

        report = cli("--select", "BKD", "--nginx-version", "1.22", "--format", "json", str(repo))
        assert '"BKD101"' in report.stdout, report.stdout + report.stderr

        with running_nginx(site.read_text(encoding="utf-8"), port, tmp_path / "before") as nginx:
            before = list(pattern(port))
            log_before = nginx.output()
        failures_before = sum(status == 502 for status in before)
        # A pooled connection idle past 2 s fails the POST; the next one opens a fresh
        # connection (the failed one is gone), which the one after reuses, and so on.
        assert before == [200, 502, 200, 502, 200], (before, log_before)
        assert backend.closed_idle == failures_before
        assert "upstream prematurely closed connection" in log_before, log_before

        fixed_run = cli("--fix", "--unsafe-fixes", "--select", "BKD", "--nginx-version", "1.22", str(repo))
        assert fixed_run.returncode == 0, fixed_run.stdout + fixed_run.stderr
        fixed = site.read_text(encoding="utf-8")
        assert "    keepalive 16;\n    keepalive_timeout 1s;\n" in fixed, fixed
        assert config.read_bytes() == gunicorn_before  # the nginx side was fixed, not the backend

        backend.reset()
        with running_nginx(fixed, port, tmp_path / "after") as nginx:
            after = list(pattern(port))
            log_after = nginx.output()
        assert after == [200] * REQUESTS, (after, log_after)
        assert backend.closed_idle == 0
        assert backend.connections == REQUESTS  # nginx closed each idle connection first
        assert "prematurely closed" not in log_after
    print(f"502s before the fix: {failures_before}/{REQUESTS}; after: {after.count(502)}/{REQUESTS}")
    assert time.monotonic() - started < 30
