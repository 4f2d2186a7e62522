"""NGX210 and NGX212 add no keep-alive in front of gunicorn's sync worker, which closes
each connection after its response: the pool would hold nothing, and the fix would
create BKD102's finding. Another worker class gets the fix (held to real ``nginx -t``)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import nginx_binary
from helpers import settings_for

from tlslint.engine import run
from tlslint.fixing import apply_fixes

RULES = ["NGX210", "NGX212", "BKD102"]
NAMED = """\
events {}
http {
    upstream app { server 127.0.0.1:8000; }
    server {
        listen 8081;
        location / { proxy_pass http://app; }
    }
}
"""
IMPLICIT = """\
events {}
http {
    server {
        listen 8081;
        location / { proxy_pass http://127.0.0.1:8000; }
    }
}
"""
SYNC = 'bind = "127.0.0.1:8000"\nkeepalive = 10\n'
GTHREAD = 'bind = "127.0.0.1:8000"\nkeepalive = 10\nworker_class = "gthread"\nthreads = 4\n'


def _fix(tmp_path: Path, nginx: str, gunicorn: str) -> tuple[list[str], str]:
    (tmp_path / "nginx.conf").write_text(nginx)
    (tmp_path / "gunicorn.conf.py").write_text(gunicorn)
    settings = settings_for(tmp_path, {"select": RULES, "nginx": {"version": "1.27.3"}})
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert outcome.refused == []
    return outcome.messages, (tmp_path / "nginx.conf").read_text()


@pytest.mark.parametrize(("nginx", "code"), [(NAMED, "NGX210"), (IMPLICIT, "NGX212")])
def test_no_keepalive_fix_in_front_of_a_sync_worker(tmp_path: Path, nginx: str, code: str) -> None:
    (tmp_path / "nginx.conf").write_text(nginx)
    (tmp_path / "gunicorn.conf.py").write_text(SYNC)
    settings = settings_for(tmp_path, {"select": RULES, "nginx": {"version": "1.27.3"}})
    findings = run([tmp_path], settings).findings
    assert [f.code for f in findings] == [code]
    assert findings[0].fix is None
    note = findings[0].fix_note or ""
    assert "sync worker" in note and "closes each connection" in note and "another worker class" in note
    messages, after = _fix(tmp_path, nginx, SYNC)
    assert not any("appeared after a fix" in m for m in messages), messages
    assert after == nginx


@pytest.mark.nginx
@pytest.mark.parametrize(("nginx", "code"), [(NAMED, "NGX210"), (IMPLICIT, "NGX212")])
def test_another_worker_class_gets_the_fix(tmp_path: Path, nginx: str, code: str) -> None:
    messages, after = _fix(tmp_path, nginx, GTHREAD)
    assert not any("appeared after a fix" in m for m in messages), messages
    assert "keepalive 32;" in after
    settings = settings_for(tmp_path, {"select": RULES, "nginx": {"version": "1.27.3"}})
    assert code not in [f.code for f in run([tmp_path], settings).findings]
    checked = subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g",
         f"pid {tmp_path / 'nginx.pid'}; error_log stderr;"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
