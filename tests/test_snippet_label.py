"""A server-level snippet checked alone has no server{} of its own: messages name it as the
server that includes the file, never ``server[no listen]`` (T7 P3: certbot's
options-ssl-nginx.conf read "TLS server[no listen]", a server with no listen being plain
*:80, and "the default server server[no listen]", a server that exists nowhere). The
anchors keep the old label, so that baselines written before still match."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import check_files

# certbot's options-ssl-nginx.conf shape (mjgil/nginx-conf `ssl`, trimmed).
SNIPPET = "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\nssl_session_cache shared:SSL:50m;\n"
RULES = {"select": ["NGX105", "NGX302", "NGX303"]}


def test_messages_name_the_server_that_includes_the_snippet(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"ssl.conf": SNIPPET}, RULES)
    messages = {f.code: f.message for f in result.findings}
    assert sorted(messages) == ["NGX105", "NGX302", "NGX303"]
    assert all("no listen" not in m for m in messages.values())
    assert "the keys of the default server server[including ssl.conf], which sets" in messages["NGX105"]
    assert "so TLS server[including ssl.conf] cannot negotiate it" in messages["NGX302"]
    assert messages["NGX303"].endswith("enables TLSv1 and TLSv1.1 for TLS server[including ssl.conf]: TLSv1 "
                                       "and TLSv1.1 are deprecated by RFC 8996")  # fmt: skip
    # The anchors (baseline keys) are what they were.
    assert sorted(f.anchor for f in result.findings) == [
        "server[no listen] > ssl_protocols",
        "server[no listen] > ssl_protocols",
        "server[no listen] > ssl_session_tickets",
    ]


def test_a_baseline_written_with_the_old_label_still_matches(tmp_path: Path) -> None:
    (tmp_path / "ssl.conf").write_text(SNIPPET, encoding="utf-8")
    entries = [
        {"code": code, "path": "ssl.conf", "anchor": f"server[no listen] > {name}",
         "message": "... server[no listen] ...", "count": 1}
        for code, name in (("NGX105", "ssl_session_tickets"), ("NGX302", "ssl_protocols"),
                           ("NGX303", "ssl_protocols"))
    ]  # fmt: skip
    recorded = {"version": 1, "tool": {"name": "tlslint", "version": "0.1.0"}, "findings": entries}
    (tmp_path / "b.json").write_text(json.dumps(recorded), encoding="utf-8")
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "tlslint",
            "check",
            "--no-cache",
            "--select",
            "NGX105,NGX302,NGX303",
            "--baseline",
            "b.json",
            "ssl.conf",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        # This checkout's tlslint, whatever the working directory does to a relative path.
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        check=False,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "ignored 3 recorded findings" in ran.stderr and "stale" not in ran.stderr


def test_real_servers_and_snippets_with_listens_keep_their_label(tmp_path: Path) -> None:
    whole = "http {\n    server {\n        listen 443 ssl;\n        server_name a.example.com;\n" + "".join(
        f"        {line}\n" for line in SNIPPET.splitlines()
    ) + "    }\n}\n"  # fmt: skip
    result = check_files(tmp_path / "whole", {"nginx.conf": whole}, RULES)
    assert "TLS server[a.example.com@*:443]" in next(f.message for f in result.findings if f.code == "NGX302")
    snippet = check_files(tmp_path / "listens", {"site.conf": "listen 443 ssl;\n" + SNIPPET}, RULES)
    assert "TLS server[*:443]" in next(f.message for f in snippet.findings if f.code == "NGX302")


def test_ngx304_on_a_snippet_says_the_includer_holds_the_listen(tmp_path: Path) -> None:
    """A server snippet with `ssl on;` has no listen line of its own: whether the server
    that includes it listens on the default port cannot be seen from it (it usually has a
    listen line), so the note sends `ssl` to that server's listen lines."""
    snippet = (
        "server_name c.example.com;\nssl_certificate /etc/ssl/c.pem;\n"
        "ssl_certificate_key /etc/ssl/c.key;\nssl on;\n"
    )
    result = check_files(tmp_path, {"site.conf": snippet}, {"select": ["NGX304"]})
    (finding,) = result.findings
    assert finding.fix is None
    assert "default port" not in finding.fix_note
    assert finding.fix_note == (
        "this snippet (site.conf) has no listen line to put `ssl` on: add `ssl` to the listen "
        "lines of the server that includes it"
    )
