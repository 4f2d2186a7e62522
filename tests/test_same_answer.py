"""The same answer whatever the path: a directory below its includer gets the includer's
context, as files named on the command line do (issue 15 §6)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import settings_for

from tlslint.engine import RunResult, run

ROOT = Path(__file__).resolve().parent.parent
EDGE = ROOT / "examples" / "edge"

# The shape of the bundled example: http{} turns tickets off and has no session cache;
# a catch-all default server and a virtual server with its own small cache are included.
MAIN = """\
events {}
http {
    ssl_session_tickets off;
    ssl_session_timeout 2h;
    include sites-enabled/*.conf;
}
"""
CATCH_ALL = """\
server {
    listen 443 ssl default_server;
    ssl_reject_handshake on;
}
"""
API = """\
server {
    listen 443 ssl;
    server_name api.example.com;
    ssl_certificate     /etc/ssl/api.pem;
    ssl_certificate_key /etc/ssl/api.key;
    ssl_session_cache   shared:SSL:1m;
}
"""
Seen = list[tuple[str, str, int, str]]


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def seen(result: RunResult) -> Seen:
    return sorted(
        (f.location.path.resolve().as_posix(), f.code, f.location.line, f.message) for f in result.findings
    )


def edge(root: Path) -> Path:
    write(
        root,
        {"nginx.conf": MAIN, "sites-enabled/00-catch-all.conf": CATCH_ALL, "sites-enabled/api.conf": API},
    )
    return root / "sites-enabled"


def test_a_directory_gets_its_includers_context(tmp_path: Path) -> None:
    sites = edge(tmp_path)
    settings = settings_for(tmp_path, {"nginx": {"version": "1.24"}})
    by_directory = run([sites], settings)
    named = run(sorted(sites.iterdir()), settings)
    assert seen(by_directory) == seen(named)
    codes = {(Path(path).name, code) for path, code, _, _ in seen(by_directory)}
    # In the includer's http{}, tickets are off: NGX101 is an error and NGX105 is silent;
    # the virtual server's cache is not used by the default server (NGX107, NGX108).
    assert ("00-catch-all.conf", "NGX101") in codes
    assert not {code for _, code in codes} & {"NGX105"}
    assert {("api.conf", "NGX107"), ("api.conf", "NGX108")} <= codes
    assert all(Path(path).parent == sites for path, _, _, _ in seen(by_directory))  # not the includer's
    assert (tmp_path / "nginx.conf") in by_directory.files


def test_the_includer_may_be_several_levels_up_past_one_that_does_not_include(tmp_path: Path) -> None:
    write(tmp_path, {"nginx.conf": MAIN.replace("sites-enabled/*.conf", "sites/enabled/*.conf")})
    write(tmp_path / "sites", {"nginx.conf": "events {}\nhttp {\n    include other/*.conf;\n}\n"})
    write(tmp_path / "sites" / "enabled", {"00-catch-all.conf": CATCH_ALL, "api.conf": API})
    settings = settings_for(tmp_path, {"nginx": {"version": "1.24"}})
    by_directory = run([tmp_path / "sites" / "enabled"], settings)
    assert (tmp_path / "nginx.conf") in by_directory.files
    assert seen(by_directory) == seen(run(sorted((tmp_path / "sites" / "enabled").iterdir()), settings))


def test_no_includer_is_looked_for_above_a_repository_root(tmp_path: Path) -> None:
    write(tmp_path, {"nginx.conf": MAIN.replace("sites-enabled/*.conf", "repo/*.conf")})
    write(tmp_path / "repo", {"00-catch-all.conf": CATCH_ALL, "api.conf": API})
    (tmp_path / "repo" / ".git").mkdir()
    result = run([tmp_path / "repo"], settings_for(tmp_path / "repo"))
    assert (tmp_path / "nginx.conf") not in result.files


def tlslint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlslint", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("extra", [[], ["--diff"], ["--diff", "--unsafe-fixes"], ["--format", "json"]])
def test_the_bundled_example_gives_one_answer_whatever_the_path(extra: list[str]) -> None:
    sites = EDGE / "sites-enabled"
    dot = tlslint(sites, *extra, ".")
    named = tlslint(sites, *extra, "api.conf", "00-catch-all.conf")
    assert dot.stdout == named.stdout
    assert dot.returncode == named.returncode
    if extra:
        return
    from_above = tlslint(EDGE, "sites-enabled")
    # Paths are relative to the working directory: sites-enabled/api.conf, nginx.conf there.
    assert from_above.stdout.replace("sites-enabled/", "") == dot.stdout.replace(
        "../nginx.conf", "nginx.conf"
    )
    assert "NGX105" not in dot.stdout  # the including http{} has ssl_session_tickets off
    assert "NGX107" in dot.stdout
    assert "00-catch-all.conf:2:1: NGX101 [error]" in dot.stdout
