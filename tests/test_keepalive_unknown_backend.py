"""NGX210's and NGX212's fixes in front of a backend the run does not know.

The fixes turn upstream keep-alive on. nginx keeps an idle upstream connection 60s (its
keepalive_timeout default, since 1.15.3), far longer than gunicorn's 2s: where the run links
an app server the fix writes keepalive_timeout below the server's, and where it links none
the fix (still safe for NGX210: it adds what is missing) said nothing of the race it may
start (facts/nginx.md §3; the shape of gunicorn's own examples/nginx.conf).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.findings import Finding
from tlslint.fixing import apply_fixes

# gunicorn's examples/nginx.conf, trimmed: a unix-socket upstream and no app-server config.
GUNICORN_EXAMPLE = """\
events {}
http {
  upstream app_server {
    server unix:/tmp/gunicorn.sock fail_timeout=0;
  }
  server {
    listen 80 default;
    location / {
      proxy_set_header Host $http_host;
      proxy_pass http://app_server;
    }
  }
}
"""
IMPLICIT = GUNICORN_EXAMPLE.replace("http://app_server", "http://unix:/tmp/gunicorn.sock:")
UNKNOWN = "the backend's idle keep-alive timeout is unknown"
SIXTY = "nginx's upstream keepalive_timeout (60s by default) must stay below it"


def only(tmp_path: Path, files: dict[str, str], code: str, version: str | None = "1.22") -> Finding:
    mapping: dict[str, Any] = {"select": [code, "BKD101"]}
    if version is not None:
        mapping["nginx"] = {"version": version}
    [finding] = check_files(tmp_path, files, mapping).findings
    assert finding.code == code
    return finding


@pytest.mark.parametrize("version", ["1.22", None])
def test_ngx210_note_names_the_timeout_nginx_must_keep_below_the_backend(
    tmp_path: Path, version: str | None
) -> None:
    finding = only(tmp_path, {"nginx.conf": GUNICORN_EXAMPLE}, "NGX210", version)
    assert finding.fix is not None and finding.fix.safe  # adding what is missing stays safe
    assert finding.fix_note.startswith(f"{UNKNOWN} (no app server's config is in the run): {SIXTY}")
    assert finding.fix_note.endswith("add `keepalive_timeout` below the backend's to upstream app_server")
    settings = settings_for(tmp_path, {"select": ["NGX210"], "nginx": {"version": "1.22"}})
    apply_fixes(run([tmp_path], settings), settings, unsafe=False, write=True)
    fixed = (tmp_path / "nginx.conf").read_text(encoding="utf-8")
    assert "keepalive 32;" in fixed and "keepalive_timeout" not in fixed  # the fix itself is unchanged


def test_ngx210_note_before_1_15_3_does_not_offer_the_refused_line(tmp_path: Path) -> None:
    finding = only(tmp_path, {"nginx.conf": GUNICORN_EXAMPLE}, "NGX210", "1.14")
    assert finding.fix is not None
    assert finding.fix_note.startswith(
        f"{UNKNOWN} (no app server's config is in the run): before nginx 1.15.3 (nginx.version 1.14.0) "
        "upstream{} has no keepalive_timeout (nginx refuses the line)"
    )
    assert "60s" not in finding.fix_note and "add `keepalive_timeout`" not in finding.fix_note


def test_ngx210_note_where_the_image_holds_both_sides_of_1_15_3(tmp_path: Path) -> None:
    files = {"nginx.conf": GUNICORN_EXAMPLE, "Dockerfile": "FROM nginx:1.15\nCOPY nginx.conf /etc/nginx/\n"}
    finding = only(tmp_path, files, "NGX210", None)
    assert finding.fix is not None
    assert f"{UNKNOWN} (no app server's config is in the run): on nginx 1.15.3 or later, {SIXTY}" in (
        finding.fix_note
    )
    assert finding.fix_note.endswith(
        "; before nginx 1.15.3 (nginx is known only to be 1.15.x, FROM nginx:1.15 at Dockerfile:1) "
        "upstream{} has no keepalive_timeout (nginx refuses the line), and an idle pooled connection "
        "has no timeout of nginx's own"
    )


def test_ngx210_note_keeps_the_timeout_the_block_writes(tmp_path: Path) -> None:
    conf = GUNICORN_EXAMPLE.replace("fail_timeout=0;\n", "fail_timeout=0;\n    keepalive_timeout 30s;\n")
    finding = only(tmp_path, {"nginx.conf": conf}, "NGX210")
    assert finding.fix is not None
    assert (
        f"{UNKNOWN} (no app server's config is in the run): the keepalive_timeout of upstream "
        "app_server (30s) must stay below it" in finding.fix_note
    )
    assert "60s" not in finding.fix_note


def test_ngx210_note_with_an_app_server_elsewhere(tmp_path: Path) -> None:
    files = {"nginx.conf": GUNICORN_EXAMPLE, "gunicorn.conf.py": 'bind = "127.0.0.1:9000"\n'}
    finding = only(tmp_path, files, "NGX210")
    assert finding.fix_note.startswith(f"{UNKNOWN} (no app server in the run is linked to it): {SIXTY}")


@pytest.mark.parametrize(
    ("backend", "timeout_line"),
    [
        ('bind = "unix:/tmp/gunicorn.sock"\nworker_class = "uvicorn.workers.UvicornWorker"\n', True),
        ('bind = "unix:/tmp/gunicorn.sock"\nworker_class = "gevent"\nkeepalive = 75\n', False),
    ],
    ids=["racing", "above-nginx"],
)
def test_ngx210_says_nothing_unknown_where_the_run_links_the_backend(
    tmp_path: Path, backend: str, timeout_line: bool
) -> None:
    finding = only(tmp_path, {"nginx.conf": GUNICORN_EXAMPLE, "gunicorn.conf.py": backend}, "NGX210")
    assert finding.fix is not None and finding.fix_note == ""
    assert ("keepalive_timeout 1s" in finding.fix.description) is timeout_line


def test_ngx212_note_names_the_timeout_nginx_must_keep_below_the_backend(tmp_path: Path) -> None:
    finding = only(tmp_path, {"nginx.conf": IMPLICIT}, "NGX212")
    assert finding.fix is not None and not finding.fix.safe
    assert finding.fix_note == (
        f"{UNKNOWN} (no app server's config is in the run): {SIXTY} (gunicorn's default is 2s, "
        "uvicorn's 5s), or a request sent on an idle connection as the backend closes it meets a "
        "502 (a POST is not retried): add `keepalive_timeout` below the backend's to the new upstream{}"
    )
    linked = only(
        tmp_path / "linked",
        {
            "nginx.conf": IMPLICIT,
            "gunicorn.conf.py": 'bind = "unix:/tmp/gunicorn.sock"\nworker_class = "gthread"\n',
        },
        "NGX212",
    )
    assert linked.fix is not None and "keepalive_timeout 1s" in linked.fix.description
    assert linked.fix_note == ""
