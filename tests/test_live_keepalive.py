"""Live: which client connections keepalive_timeout and keepalive_requests govern,
measured with a real nginx (1.22.1 on Debian 12), and NGX201/NGX203 saying so.

Since nginx 1.19.7 both lines govern HTTP/2 connections too, from the server level
(facts §1; tlslint/checks/_keepalive.py). Measured here, for five requests a client
sends one after another (curl reuses a connection whenever nginx keeps it):

* ``keepalive_timeout 0``: a new connection for every request, HTTP/1.1 and HTTP/2
  alike (since 1.19.8 nginx sends GOAWAY with an HTTP/2 connection's first request); a
  ``keepalive_requests 2`` beside it changes nothing, so NGX203 is silent there;
* ``keepalive_requests 2`` in http{} with ``keepalive_timeout 0`` there, and a server's
  own ``keepalive_timeout 65s``: a new connection every 2 requests on both protocols;
  NGX203 reports the line for that server;
* a location's ``keepalive_timeout 0``: HTTP/1.1 requests there close their connection,
  HTTP/2 requests keep theirs (location lines do not apply to HTTP/2);
* ``http2_max_requests 2``: nginx warns and ignores it (obsolete since 1.19.7).

And for three requests two seconds apart (curl ``--rate 30/m``, still one handle):

* ``keepalive_timeout 1s``: a new connection for every request on both protocols, so
  NGX202 says "idle clients", HTTP/2 ones included;
* ``http2_idle_timeout 1s``: one connection on both protocols; nginx warns and ignores
  the line (the default keepalive_timeout, 75s, keeps the HTTP/2 connection), so NGX202
  does not report it on 1.22.1.

The client is curl built with HTTP/2 (nghttp2); everything stays on 127.0.0.1 and
every wait is bounded (tests/live_nginx.py).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import nginx_binary
from helpers import check_files
from live_nginx import REQUEST_TIMEOUT, free_port, running_nginx

from tlslint.findings import Finding

pytestmark = pytest.mark.nginx

PATHS = ("/a", "/b", "/c", "/d", "/e")
SERVER = """\
    server {{
        listen 127.0.0.1:{port} ssl{http2};
        server_name live.test;
        {server}
        location / {{
            return 200 ok;
        }}
        location /x {{
            {location}
            return 200 x;
        }}
    }}"""


@pytest.fixture
def curl() -> str:
    nginx_binary()  # skips without nginx (fails under TLSLINT_REQUIRE_NGINX=1)
    found = shutil.which("curl")
    if found is None:
        pytest.skip("curl is not installed")
    features = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=10, check=False)
    if "HTTP2" not in features.stdout:
        pytest.skip("this curl is built without HTTP/2 (nghttp2)")
    return found


def config(port: int, http: str = "", server: str = "", location: str = "", http2: bool = True) -> str:
    body = SERVER.format(port=port, http2=" http2" if http2 else "", server=server, location=location)
    return f"http {{\n    {http}\n{body}\n}}\n"


def new_connections(curl: str, port: int, paths: tuple[str, ...], http2: bool, rate: str = "") -> int:
    """How many connections curl opened for ``paths``, requested one after another on one
    handle (it reuses a connection nginx keeps open); each response checked. ``rate``:
    curl's ``--rate`` (``30/m``: a request every two seconds), to leave the connection idle."""
    urls = [arg for path in paths for arg in ("--output", "/dev/null", f"https://127.0.0.1:{port}{path}")]
    done = subprocess.run(
        [
            curl, "--silent", "--insecure", "--max-time", str(REQUEST_TIMEOUT),
            "--http2" if http2 else "--http1.1",
            *(("--rate", rate) if rate else ()),
            "--write-out", "%{http_version} %{http_code} %{num_connects}\\n",
            *urls,
        ],
        capture_output=True, text=True, timeout=REQUEST_TIMEOUT * len(paths) + 10, check=False,
    )  # fmt: skip
    rows = [line.split() for line in done.stdout.splitlines()]
    assert len(rows) == len(paths), done.stdout + done.stderr
    assert {(version, status) for version, status, _ in rows} == {("2" if http2 else "1.1", "200")}, rows
    return sum(int(count) for _, _, count in rows)


def measured(
    curl: str, text: str, port: int, prefix: Path, paths: tuple[str, ...] = PATHS, rate: str = ""
) -> dict[str, int]:
    with running_nginx(text, port, prefix) as nginx:
        found = {
            "HTTP/2": new_connections(curl, port, paths, http2=True, rate=rate),
            "HTTP/1.1": new_connections(curl, port, paths, http2=False, rate=rate),
        }
        found["warnings"] = nginx.output().count("[warn]")
    return found


def findings(tmp_path: Path, text: str) -> dict[str, list[Finding]]:
    mapping = {"select": ["NGX201", "NGX202", "NGX203"], "nginx": {"version": "1.22.1"}}
    out: dict[str, list[Finding]] = {}
    for finding in check_files(tmp_path / "lint", {"nginx.conf": text}, mapping).findings:
        out.setdefault(finding.code, []).append(finding)
    return out


def test_timeout_zero_closes_http2_connections_too_and_the_request_limit_counts_nowhere(
    tmp_path: Path, curl: str
) -> None:
    port = free_port()
    text = config(port, server="keepalive_timeout 0;\n        keepalive_requests 2;")
    assert measured(curl, text, port, tmp_path / "zero") == {"HTTP/2": 5, "HTTP/1.1": 5, "warnings": 0}
    # keepalive_timeout 0 alone: the same, so the keepalive_requests line has no effect.
    alone = config(port, server="keepalive_timeout 0;")
    assert measured(curl, alone, port, tmp_path / "alone") == {"HTTP/2": 5, "HTTP/1.1": 5, "warnings": 0}
    found = findings(tmp_path, text)
    (timeout,) = found["NGX201"]
    assert "HTTP/1.x clients open a new TCP connection for every request, and so do HTTP/2 clients" in (
        timeout.message
    )
    assert "NGX203" not in found


def test_request_limit_counts_where_the_server_keeps_connections(tmp_path: Path, curl: str) -> None:
    port = free_port()
    text = config(
        port, http="keepalive_timeout 0;\n    keepalive_requests 2;", server="keepalive_timeout 65s;"
    )
    # 5 requests, 2 a connection: 3 connections, HTTP/2 (from the server level) and HTTP/1.1.
    assert measured(curl, text, port, tmp_path / "nginx") == {"HTTP/2": 3, "HTTP/1.1": 3, "warnings": 0}
    (requests,) = findings(tmp_path, text)["NGX203"]
    assert "keepalive_requests 2 for TLS server[live.test@" in requests.message
    assert "clients must reconnect, with a new TLS handshake, after every 2 requests" in requests.message
    assert "HTTP/1.x" not in requests.message  # both protocols: "clients" is the whole truth


def test_location_timeout_zero_closes_only_http1_connections(tmp_path: Path, curl: str) -> None:
    port = free_port()
    text = config(port, server="keepalive_timeout 65s;", location="keepalive_timeout 0;")
    paths = ("/x", "/x", "/x")
    assert measured(curl, text, port, tmp_path / "nginx", paths) == {
        "HTTP/2": 1,
        "HTTP/1.1": 3,
        "warnings": 0,
    }
    assert "NGX201" not in findings(tmp_path, text)  # an endpoint's choice for HTTP/1.x clients


def test_http2_max_requests_is_ignored_since_1_19_7(tmp_path: Path, curl: str) -> None:
    port = free_port()
    text = config(port, server="http2_max_requests 2;")
    # nginx warns (obsolete) and ignores it: keepalive_requests' default (1000) decides.
    assert measured(curl, text, port, tmp_path / "nginx") == {"HTTP/2": 1, "HTTP/1.1": 1, "warnings": 1}
    assert "NGX203" not in findings(tmp_path, text)  # it limits nothing here


SPACED = ("/a", "/b", "/c")  # two seconds apart: each leaves the connection idle for about 2s


@pytest.fixture
def spacing_curl(curl: str) -> str:
    """curl with ``--rate`` (7.84.0 and later), which spaces the requests of one handle."""
    listed = subprocess.run([curl, "--help", "all"], capture_output=True, text=True, timeout=10, check=False)
    if "--rate" not in listed.stdout:
        pytest.skip("this curl has no --rate (7.84.0 and later)")
    return curl


def test_short_keepalive_timeout_drops_idle_http2_connections_too(tmp_path: Path, spacing_curl: str) -> None:
    port = free_port()
    text = config(port, server="keepalive_timeout 1s;")
    assert measured(spacing_curl, text, port, tmp_path / "nginx", SPACED, rate="30/m") == {
        "HTTP/2": 3,
        "HTTP/1.1": 3,
        "warnings": 0,
    }
    (short,) = findings(tmp_path, text)["NGX202"]
    assert short.message.endswith(
        "is below the minimum 10s: idle clients are dropped sooner and come back with a new TCP connection "
        "and TLS handshake"
    )


def test_http2_idle_timeout_is_ignored_since_1_19_7(tmp_path: Path, spacing_curl: str) -> None:
    port = free_port()
    text = config(port, server="http2_idle_timeout 1s;")
    # nginx warns (obsolete) and ignores it: keepalive_timeout's default (75s) keeps both.
    assert measured(spacing_curl, text, port, tmp_path / "nginx", SPACED, rate="30/m") == {
        "HTTP/2": 1,
        "HTTP/1.1": 1,
        "warnings": 1,
    }
    assert "NGX202" not in findings(tmp_path, text)
