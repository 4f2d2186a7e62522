"""NGX212's fixes declare one upstream{} per address in a configuration (nginx refuses a
second of one name: "duplicate upstream"), however many files pass to it, and a file's
fixes settle in one run. The fixed trees are held to real ``nginx -t``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import nginx_binary
from helpers import settings_for

from tlslint.engine import run
from tlslint.fixing import apply_fixes

pytestmark = pytest.mark.nginx

MAIN = "events {}\nhttp {\n    access_log off;\n    include conf.d/*.conf;\n}\n"


def _vhost(port: int, backend: str) -> str:
    return f"server {{\n    listen {port};\n    location / {{ proxy_pass http://{backend}; }}\n}}\n"


def _tree(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _fix(tmp_path: Path) -> list[str]:
    settings = settings_for(tmp_path, {"select": ["NGX212"]})
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert outcome.refused == []
    return outcome.messages


def _nginx_t(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g",
         f"pid {tmp_path / 'nginx.pid'}; error_log stderr;"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def _declared(tmp_path: Path, name: str) -> int:
    return sum(path.read_text().count(f"upstream {name} ") for path in tmp_path.rglob("*.conf"))


def test_two_included_files_passing_to_one_address_share_one_upstream(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "nginx.conf": MAIN,
            "conf.d/x.conf": _vhost(8081, "127.0.0.1:9000"),
            "conf.d/y.conf": _vhost(8082, "127.0.0.1:9000"),
        },
    )
    assert _nginx_t(tmp_path).returncode == 0
    _fix(tmp_path)
    assert _declared(tmp_path, "backend_127_0_0_1_9000") == 1
    # In the file of the first pass nginx reads; the other file's pass uses it.
    assert "upstream backend_127_0_0_1_9000 {" in (tmp_path / "conf.d/x.conf").read_text()
    assert "proxy_pass http://backend_127_0_0_1_9000;" in (tmp_path / "conf.d/y.conf").read_text()
    checked = _nginx_t(tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert not run([tmp_path], settings_for(tmp_path, {"select": ["NGX212"]})).findings


def test_a_file_a_glob_reads_twice_gets_no_upstream(tmp_path: Path) -> None:
    _tree(tmp_path, {"nginx.conf": MAIN, "conf.d/a.conf": _vhost(8081, "127.0.0.1:9000")})
    (tmp_path / "conf.d/b.conf").symlink_to("a.conf")
    before = (tmp_path / "conf.d/a.conf").read_text()
    findings = run([tmp_path], settings_for(tmp_path, {"select": ["NGX212"]})).findings
    assert [f.code for f in findings] == ["NGX212"]
    assert findings[0].fix is None
    assert "read more than once into http{}" in (findings[0].fix_note or "")
    _fix(tmp_path)
    assert (tmp_path / "conf.d/a.conf").read_text() == before
    assert _nginx_t(tmp_path).returncode == 0


def test_many_addresses_in_one_file_settle_in_one_run(tmp_path: Path) -> None:
    locations = "".join(
        f"        location /{n} {{ proxy_pass http://127.0.0.1:{9000 + n}; }}\n" for n in range(11)
    )
    server = f"    server {{\n        listen 8081;\n{locations}    }}\n"
    text = f"events {{}}\nhttp {{\n    access_log off;\n{server}}}\n"
    _tree(tmp_path, {"nginx.conf": text})
    messages = _fix(tmp_path)
    assert not any("did not settle" in message for message in messages), messages
    assert not run([tmp_path], settings_for(tmp_path, {"select": ["NGX212"]})).findings
    fixed = (tmp_path / "nginx.conf").read_text()
    assert all(_declared(tmp_path, f"backend_127_0_0_1_{9000 + n}") == 1 for n in range(11)), fixed
    checked = _nginx_t(tmp_path)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("twice", [False, True])
def test_a_duplicate_upstream_is_reported_as_nginx_refuses_it(tmp_path: Path, twice: bool) -> None:
    """What the fix once wrote (an upstream{} per file, or one in a file read twice) is
    NGX012's: the re-check of a broken tree is not clean."""
    vhost = (
        "upstream b { server 127.0.0.1:9000; }\nserver { listen 8081; location / { proxy_pass http://b; } }\n"
    )
    _tree(tmp_path, {"nginx.conf": MAIN, "conf.d/a.conf": vhost})
    if twice:
        (tmp_path / "conf.d/b.conf").symlink_to("a.conf")
    else:
        (tmp_path / "conf.d/b.conf").write_text("upstream B { server 127.0.0.1:9001; }\n")
    refused = _nginx_t(tmp_path)
    assert refused.returncode != 0 and "duplicate upstream" in refused.stderr
    findings = run([tmp_path], settings_for(tmp_path, {"select": ["NGX012"]})).findings
    assert [(f.code, f.location.path.name) for f in findings] == [("NGX012", "a.conf" if twice else "b.conf")]
    assert findings[0].message.startswith("duplicate upstream")
    assert ("read twice" in findings[0].message) == twice
