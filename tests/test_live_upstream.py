"""Live: upstream keep-alive before and after ``tlslint --fix``, with a real nginx.

A real nginx (the installed one, 1.22.1 on Debian 12) proxies to a counting
HTTP/1.1 backend on 127.0.0.1 (tests/live_nginx.py). Five sequential requests
show whether nginx reuses its backend connection:

* NGX210 (no keepalive) and NGX211 (keepalive without HTTP/1.1) configs: one
  backend connection per request, HTTP/1.0 with ``Connection: close``;
* after the real CLI, ``python -m tlslint --fix DIR --nginx-version 1.22``:
  at most two connections (one, in practice), HTTP/1.1, and the backend still
  receives the ``Host`` and ``X-Real-IP`` headers the location inherited from
  its server (the fix copies them: ``proxy_set_header`` is all or nothing).
* NGX212 (implicit upstream) with ``--unsafe-fixes``: pooled afterwards, and
  the Host header the backend sees is unchanged although proxy_pass now names
  an upstream.

Everything is bounded: nginx and the backend stop in ``finally`` blocks
(nginx's process group is killed and checked empty), requests and subprocesses
have timeouts. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import nginx_binary
from live_nginx import Backend, Seen, cli, free_port, get, running_nginx

pytestmark = pytest.mark.nginx

REQUESTS = 5

SERVER = """\
server {{
    listen 127.0.0.1:{port};
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    location / {{
        proxy_pass {target};
    }}
}}
"""
NO_KEEPALIVE = "upstream app {{\n    server 127.0.0.1:{backend};\n}}\n" + SERVER
KEEPALIVE_ONLY = "upstream app {{\n    server 127.0.0.1:{backend};\n    keepalive 16;\n}}\n" + SERVER
IMPLICIT = """\
server {{
    listen 127.0.0.1:{port};
    location / {{
        proxy_pass http://127.0.0.1:{backend};
    }}
}}
"""


@pytest.fixture
def backend() -> Backend:
    nginx_binary()  # skips without nginx (fails under TLSLINT_REQUIRE_NGINX=1)
    return Backend()


def serve(text: str, port: int, backend: Backend, prefix: Path) -> list[Seen]:
    """Start nginx on ``text``, send REQUESTS sequential GETs, return what the backend saw."""
    backend.reset()
    with running_nginx(text, port, prefix) as nginx:
        for _ in range(REQUESTS):
            status, body = get(port)
            assert (status, body) == (200, b"ok\n"), nginx.output()
    with backend.lock:
        return list(backend.requests)


@pytest.mark.parametrize(
    ("template", "code", "target"),
    [
        (NO_KEEPALIVE, "NGX210", "http://app"),
        (KEEPALIVE_ONLY, "NGX211", "http://app"),
        # Variables after the host: the URL is built per request, and its host still finds
        # upstream app before any resolver (none is set: a lookup would fail with 502).
        (KEEPALIVE_ONLY, "NGX211", "http://app$request_uri"),
    ],
    ids=["NGX210-no-keepalive", "NGX211-keepalive-without-http11", "NGX211-variable-uri"],
)
def test_fix_makes_nginx_reuse_backend_connections(
    tmp_path: Path, backend: Backend, template: str, code: str, target: str
) -> None:
    config_dir = tmp_path / "conf"
    config_dir.mkdir()
    site = config_dir / "site.conf"
    with backend:
        port = free_port()
        site.write_text(template.format(port=port, backend=backend.port, target=target))
        original = site.read_text()

        report = cli("--select", "NGX21", "--nginx-version", "1.22", "--format", "json", str(config_dir))
        assert f'"{code}"' in report.stdout, report.stdout + report.stderr

        before = serve(original, port, backend, tmp_path / "before")
        assert backend.connections == REQUESTS, f"{code}: one backend connection per request expected"
        assert {seen.version for seen in before} == {"HTTP/1.0"}
        assert {seen.headers.get("connection") for seen in before} == {"close"}
        assert {(s.headers.get("host"), s.headers.get("x-real-ip")) for s in before} == {
            ("live.test", "127.0.0.1")
        }

        fixed_run = cli("--fix", "--select", "NGX21", "--nginx-version", "1.22", str(config_dir))
        assert fixed_run.returncode in (0, 1), fixed_run.stdout + fixed_run.stderr
        fixed = site.read_text()
        assert fixed != original
        # The location keeps the headers it inherited, next to the new ones.
        location = fixed[fixed.index("location / {") :]
        for line in (
            "proxy_http_version 1.1;",
            'proxy_set_header Connection "";',
            "proxy_set_header Host $host;",
            "proxy_set_header X-Real-IP $remote_addr;",
        ):
            assert line in location, fixed
        assert "keepalive " in fixed[: fixed.index("server {")]
        again = cli("--select", "NGX21", "--nginx-version", "1.22", str(config_dir))
        assert again.returncode == 0, again.stdout

        after = serve(fixed, port, backend, tmp_path / "after")
        assert backend.connections <= 2, (
            f"after --fix: {backend.connections} connections for {REQUESTS} requests"
        )
        assert len(after) == REQUESTS
        assert {seen.version for seen in after} == {"HTTP/1.1"}
        assert {seen.headers.get("connection") for seen in after} == {None}
        assert {(s.headers.get("host"), s.headers.get("x-real-ip")) for s in after} == {
            ("live.test", "127.0.0.1")
        }
        assert (
            len({seen.peer_port for seen in after}) == backend.connections
        )  # one source port per connection


def test_a_naive_fix_would_drop_the_inherited_headers(tmp_path: Path, backend: Backend) -> None:
    """The control for the fix above: one ``proxy_set_header`` in the location, no copies."""
    with backend:
        port = free_port()
        naive = (
            'proxy_pass http://app;\n        proxy_http_version 1.1;\n        proxy_set_header Connection "";'
        )
        text = KEEPALIVE_ONLY.format(port=port, backend=backend.port, target="http://app")
        text = text.replace("proxy_pass http://app;", naive)
        seen = serve(text, port, backend, tmp_path / "naive")
        assert backend.connections <= 2  # pooled...
        # ...but Host is back to its default ($proxy_host, the upstream's name) and X-Real-IP is gone.
        assert {(s.headers.get("host"), s.headers.get("x-real-ip")) for s in seen} == {("app", None)}


def test_unsafe_fix_pools_an_implicit_upstream_and_keeps_the_host_header(
    tmp_path: Path, backend: Backend
) -> None:
    config_dir = tmp_path / "conf"
    config_dir.mkdir()
    site = config_dir / "site.conf"
    with backend:
        port = free_port()
        site.write_text(IMPLICIT.format(port=port, backend=backend.port))
        before = serve(site.read_text(), port, backend, tmp_path / "before")
        assert backend.connections == REQUESTS
        host_before = {seen.headers.get("host") for seen in before}
        assert host_before == {f"127.0.0.1:{backend.port}"}  # $proxy_host, the default Host

        safe_only = cli("--fix", "--select", "NGX21", "--nginx-version", "1.22", str(config_dir))
        assert safe_only.returncode in (0, 1)
        assert "proxy_pass http://127.0.0.1:" in site.read_text(), (
            "NGX212's fix is unsafe: not applied by --fix"
        )

        fixed_run = cli(
            "--fix", "--unsafe-fixes", "--select", "NGX21", "--nginx-version", "1.22", str(config_dir)
        )
        assert fixed_run.returncode == 0, fixed_run.stdout + fixed_run.stderr
        fixed = site.read_text()
        assert f"upstream backend_127_0_0_1_{backend.port} {{" in fixed

        after = serve(fixed, port, backend, tmp_path / "after")
        assert backend.connections <= 2
        assert {seen.version for seen in after} == {"HTTP/1.1"}
        assert {seen.headers.get("host") for seen in after} == host_before


BALANCER_AFTER_KEEPALIVE = """\
upstream app {{
    server 127.0.0.1:{a};
    server 127.0.0.1:{b};
    keepalive 16;
    least_conn;
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
BALANCED_REQUESTS = 8


def _balanced(text: str, port: int, backends: tuple[Backend, Backend], prefix: Path) -> int:
    """Sequential GETs through nginx; the connections both backends accepted."""
    for backend in backends:
        backend.reset()
    with running_nginx(text, port, prefix) as nginx:
        for _ in range(BALANCED_REQUESTS):
            assert get(port) == (200, b"ok\n"), nginx.output()
    assert sum(len(backend.requests) for backend in backends) == BALANCED_REQUESTS
    return sum(backend.connections for backend in backends)


def test_balancer_below_keepalive_keeps_nothing_until_the_fix_moves_it(tmp_path: Path) -> None:
    """NGX211: before 1.29.7 `least_conn` below `keepalive` replaces it (nginx -t only warns):
    one backend connection per request; after --fix (the line moved above), pooled."""
    nginx_binary()
    config_dir = tmp_path / "conf"
    config_dir.mkdir()
    site = config_dir / "site.conf"
    with Backend() as first, Backend() as second:
        port = free_port()
        site.write_text(BALANCER_AFTER_KEEPALIVE.format(a=first.port, b=second.port, port=port))
        original = site.read_text()
        report = cli("--select", "NGX21", "--nginx-version", "1.22", str(config_dir))
        assert "NGX211" in report.stdout and "`least_conn` comes after `keepalive 16`" in report.stdout

        backends = (first, second)
        assert _balanced(original, port, backends, tmp_path / "before") == BALANCED_REQUESTS

        fixed_run = cli("--fix", "--select", "NGX21", "--nginx-version", "1.22", str(config_dir))
        assert fixed_run.returncode == 0, fixed_run.stdout + fixed_run.stderr
        fixed = site.read_text()
        assert fixed == original.replace(
            "    keepalive 16;\n    least_conn;\n", "    least_conn;\n    keepalive 16;\n"
        )
        assert _balanced(fixed, port, backends, tmp_path / "after") <= 2  # one per backend at most


def test_an_upstream_takes_no_pass_with_a_port_nor_one_it_did_not_see_first(
    tmp_path: Path, backend: Backend
) -> None:
    """What tlslint.nginx_upstream_names encodes, live: a variable URL with a port is not
    matched to the upstream{} (nginx resolves the name: 502 without a resolver), and a
    pass with another port than the first, above the upstream{}, goes to the name by DNS."""
    with backend, Backend() as other:
        port = free_port()
        text = (
            f"server {{\n    listen 127.0.0.1:{port};\n"
            "    location /first { proxy_pass http://localhost; }\n"
            f"    location /other {{ proxy_pass http://localhost:{other.port}; }}\n"
            "    location /variable { set $to http://localhost; proxy_pass $to; }\n"
            # Its port is the upstream's server's: only the DNS could send it there.
            f"    location /variable-port {{ set $to http://localhost:{backend.port}; proxy_pass $to; }}\n"
            f"}}\nupstream localhost {{\n    server 127.0.0.1:{backend.port};\n}}\n"
        )
        with running_nginx(text, port, tmp_path / "nginx") as nginx:
            for path in ("/first", "/variable"):
                backend.reset()
                assert get(port, path) == (200, b"ok\n"), nginx.output()
                assert backend.connections == 1, path  # the upstream{}
            assert get(port, "/other") == (200, b"ok\n"), nginx.output()
            assert [seen.path for seen in other.requests] == ["/other"]  # localhost by DNS
            assert get(port, "/variable-port")[0] == 502
            assert "no resolver defined to resolve localhost" in nginx.output()
