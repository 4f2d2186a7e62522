"""NGX304 on mail{}: mail's `ssl on;` went the way of http's (deprecated in 1.15.0,
removed in 1.25.1: nginx.org's ngx_mail_ssl_module page, CHANGES), and the fix moves it
onto the mail server's `listen` lines. stream{} never had an `ssl` directive.

nginx -t runs with Debian's mail module (libnginx-mod-mail), loaded by the text itself;
where this nginx builds mail as a dynamic module and the module is not installed, those
tests skip and say so."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.findings import Finding, Severity
from tlslint.fixing import apply_fixes

MAIL_MODULE = Path("/usr/lib/nginx/modules/ngx_mail_module.so")  # Debian's libnginx-mod-mail

IN_SERVER = """mail {
    auth_http 127.0.0.1:9000/auth;
    ssl_certificate /etc/ssl/a.pem;
    ssl_certificate_key /etc/ssl/a.key;
    server {
        listen 127.0.0.1:19993;
        protocol imap;
        ssl on;
    }
}
"""
AT_MAIL = IN_SERVER.replace("        ssl on;\n", "").replace("    auth_http", "    ssl on;\n    auth_http")


def ngx304(tmp_path: Path, text: str, version: str) -> list[Finding]:
    mapping = {"select": ["NGX304"], "nginx": {"version": version}}
    result = check_files(tmp_path, {"nginx.conf": "events {}\n" + text}, mapping)
    return [f for f in result.findings if f.code == "NGX304"]


@pytest.mark.parametrize("text", [IN_SERVER, AT_MAIL])
def test_mail_ssl_on_is_reported_by_version(tmp_path: Path, text: str) -> None:
    (removed,) = ngx304(tmp_path / "new", text, "1.25.1")
    assert removed.severity == Severity.ERROR
    assert 'refuses to start (`unknown directive "ssl"`)' in removed.message
    lines = ("events {}\n" + text).splitlines()
    assert removed.location.line == next(n for n, line in enumerate(lines, 1) if "ssl on;" in line)
    (deprecated,) = ngx304(tmp_path / "old", text, "1.22")
    assert deprecated.severity == Severity.WARNING
    assert "nginx -t warns" in deprecated.message


def test_stream_has_no_ssl_directive_to_report(tmp_path: Path) -> None:
    text = "stream {\n  server {\n    listen 127.0.0.1:18883 ssl;\n    proxy_pass 127.0.0.1:1;\n  }\n}\n"
    assert ngx304(tmp_path, text, "1.30") == []


def _fixed(tmp_path: Path, text: str) -> str:
    path = tmp_path / "nginx.conf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("events {}\n" + text, encoding="utf-8")
    settings = settings_for(tmp_path, {"select": ["NGX304"], "nginx": {"version": "1.30"}})
    apply_fixes(run([tmp_path], settings), settings, unsafe=False, write=True)
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("text", [IN_SERVER, AT_MAIL])
def test_the_fix_puts_ssl_on_the_mail_listen(tmp_path: Path, text: str) -> None:
    fixed = _fixed(tmp_path, text)
    assert "listen 127.0.0.1:19993 ssl;" in fixed
    assert "ssl on;" not in fixed


def test_ssl_off_in_a_server_under_a_mail_level_ssl_on_waits(tmp_path: Path) -> None:
    text = AT_MAIL.replace("        protocol imap;\n", "        protocol imap;\n        ssl off;\n")
    found = ngx304(tmp_path, text, "1.30")
    assert len(found) == 2
    off = next(f for f in found if "ssl off" in f.message)
    assert off.fix is None
    on = next(f for f in found if "ssl on" in f.message)
    # the server that turns it off keeps its plain listen: nothing to add there
    assert on.fix is not None and all(" ssl" not in edit.replacement for edit in on.fix.edits)


def _mail_module(binary: str) -> str:
    """The module a mail{} text must load on this nginx ('' when mail is built in)."""
    proc = subprocess.run([binary, "-V"], capture_output=True, text=True, timeout=10, check=False)
    if "--with-mail=dynamic" not in proc.stdout + proc.stderr:
        return ""
    if not MAIL_MODULE.exists():
        pytest.skip(
            f"this nginx builds mail{{}} as a dynamic module and {MAIL_MODULE} is not installed "
            "(Debian: apt-get install libnginx-mod-mail)"
        )
    return f"load_module {MAIL_MODULE};\n"


@pytest.mark.nginx
@pytest.mark.parametrize("text", [IN_SERVER, AT_MAIL])
def test_the_fixed_mail_text_passes_nginx_t(tmp_path: Path, text: str) -> None:
    from conftest import nginx_binary
    from nginx_harness import nginx_t

    load = _mail_module(nginx_binary())
    before = nginx_t(load + "events {}\n" + text, kind="main")
    assert before.ok, before.describe()
    assert "deprecated" in before.output  # 1.22.1 warns, as NGX304 says
    after = nginx_t(load + _fixed(tmp_path, text), kind="main")
    assert after.ok, after.describe()
    assert "deprecated" not in after.output
