"""BKD101's fixes: nginx's keepalive_timeout, or the backend's value (only its token changes)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.fixing import apply_fixes
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python import validate_text
from tlslint.sources.python.commands import validate_text as validate_command
from tlslint.sources.python.tomlconfig import validate as validate_toml
from tlslint.sources.text import SourceError

NGINX_130 = """\
upstream app {
    server 127.0.0.1:8000;
}
server {
    listen 80;
    location / {
        proxy_pass http://app;
    }
}
"""
BACKEND_SIDE: dict[str, Any] = {"nginx": {"version": "1.30"}, "rules": {"BKD101": {"fix-side": "backend"}}}


def fix(tmp_path: Path, files: dict[str, str], mapping: dict[str, Any]) -> dict[str, str]:
    """Write ``files``, run --fix --unsafe-fixes, return every file's new text (bytes kept)."""
    result = check_files(tmp_path, files, {**mapping, "select": ["BKD101"]})
    assert "BKD101" in [f.code for f in result.findings], result.findings
    settings = settings_for(tmp_path, {**mapping, "select": ["BKD101"]})
    outcome = apply_fixes(result, settings, unsafe=True, write=True)
    assert not outcome.messages, outcome.messages
    after = run([tmp_path], settings)
    assert "BKD101" not in [f.code for f in after.findings]
    return {name: (tmp_path / name).read_bytes().decode("utf-8") for name in files}


def only_changed(before: str, after: str, old: str, new: str) -> None:
    """``after`` is ``before`` with one occurrence of ``old`` replaced by ``new``, nothing else."""
    assert before.count(old) >= 1
    start = next(i for i in range(len(before)) if before.startswith(old, i) and after.startswith(new, i))
    assert after == before[:start] + new + before[start + len(old) :]


# --------------------------------------------------------------------------- nginx side


def test_nginx_side_replaces_the_existing_keepalive_timeout(tmp_path: Path) -> None:
    conf = NGINX_130.replace(
        "    server 127.0.0.1:8000;\n", "    server 127.0.0.1:8000;\n    keepalive_timeout 75s;  # long\n"
    )
    out = fix(
        tmp_path,
        {"app.conf": conf, "main.py": "import uvicorn\nuvicorn.run(app, port=8000)\n"},
        {"nginx": {"version": "1.30"}},
    )
    only_changed(conf, out["app.conf"], "75s", "4s")


def test_the_lowest_backend_decides_for_a_shared_upstream(tmp_path: Path) -> None:
    conf = NGINX_130.replace(
        "    server 127.0.0.1:8000;\n", "    server 127.0.0.1:8000;\n    server 127.0.0.1:8001;\n"
    )
    out = fix(
        tmp_path,
        {
            "app.conf": conf,
            "a.py": "import uvicorn\nuvicorn.run(app, port=8000)\n",  # 5 s
            "hypercorn.toml": 'bind = "127.0.0.1:8001"\nkeep_alive_timeout = 1.5\n',
        },
        {"nginx": {"version": "1.30"}},
    )
    assert "    server 127.0.0.1:8001;\n    keepalive_timeout 500ms;\n}" in out["app.conf"]


def test_an_include_shared_by_upstreams_makes_the_backend_the_fix(tmp_path: Path) -> None:
    conf = NGINX_130.replace(
        "    server 127.0.0.1:8000;\n", "    server 127.0.0.1:8000;\n    include upstream-timeouts.conf;\n"
    )
    files = {
        "nginx.conf": "events {}\nhttp {\n    include app.conf;\n}\n",
        "app.conf": conf,
        "upstream-timeouts.conf": "keepalive_timeout 30s;\n",
        "gunicorn.conf.py": 'bind = "127.0.0.1:8000"\nworker_class = "gthread"\n',
    }
    out = fix(tmp_path, files, {"nginx": {"version": "1.30"}})
    assert out["upstream-timeouts.conf"] == files["upstream-timeouts.conf"]
    assert out["app.conf"] == conf
    # keepalive_timeout 30s + 5, after the bind line
    assert out["gunicorn.conf.py"] == 'bind = "127.0.0.1:8000"\nkeepalive = 35\nworker_class = "gthread"\n'


# --------------------------------------------------------------------------- backend side: Python


@pytest.mark.parametrize(
    "template",
    [
        'bind = "127.0.0.1:8000"\nworker_class = "gevent"\nkeepalive = {5}  # seconds\n',
        "bind = '127.0.0.1:8000'\r\nworker_class = 'gevent'\r\n"
        "keepalive\t=\t( {5} )\t# crlf, tabs, parentheses\r\n",
        '\ufeff# -*- coding: utf-8 -*-\nbind = "127.0.0.1:8000"\nworker_class = "gevent"\n'
        "keepalive = (\n    {5}  # split\n)\n",
        'bind = "127.0.0.1:8000"; worker_class = "gevent"; keepalive = {5}; workers = 2\n',
        '"""Docs: keepalive = 5."""\nbind = "127.0.0.1:8000"\nworker_class = "gevent"\nkeepalive = {5}\n',
    ],
    ids=["plain", "crlf-tabs-parens", "bom-multiline", "semicolons", "docstring"],
)
def test_the_libcst_edit_changes_only_the_value_token(tmp_path: Path, template: str) -> None:
    """Comments, quotes, layout, line endings and the BOM stay byte for byte."""
    before = template.replace("{5}", "5").encode("utf-8")
    (tmp_path / "gunicorn.conf.py").write_bytes(before)
    result = check_files(tmp_path, {"app.conf": NGINX_130}, {**BACKEND_SIDE, "select": ["BKD101"]})
    settings = settings_for(tmp_path, {**BACKEND_SIDE, "select": ["BKD101"]})
    apply_fixes(result, settings, unsafe=True, write=True)
    assert (tmp_path / "gunicorn.conf.py").read_bytes() == template.replace("{5}", "65").encode("utf-8")
    assert (tmp_path / "app.conf").read_text(encoding="utf-8") == NGINX_130


def test_a_number_written_as_a_string_stays_a_string(tmp_path: Path) -> None:
    """gunicorn reads keepalive = "5" as 5: the fix changes the digits inside the quotes."""
    config = 'bind = "127.0.0.1:8000"\nworker_class = "gthread"\nkeepalive = "5"  # seconds\n'
    out = fix(tmp_path, {"app.conf": NGINX_130, "gunicorn.conf.py": config}, BACKEND_SIDE)
    only_changed(config, out["gunicorn.conf.py"], '"5"', '"65"')


def test_a_missing_setting_becomes_a_new_line_after_bind(tmp_path: Path) -> None:
    config = '# app\nbind = "127.0.0.1:8000"  # local\nworkers = 2\nworker_class = "gthread"\n'
    out = fix(tmp_path, {"app.conf": NGINX_130, "gunicorn.conf.py": config}, BACKEND_SIDE)
    assert out["gunicorn.conf.py"] == (
        '# app\nbind = "127.0.0.1:8000"  # local\nkeepalive = 65\nworkers = 2\nworker_class = "gthread"\n'
    )


def test_a_new_line_at_the_end_of_a_file_without_newline(tmp_path: Path) -> None:
    out = fix(tmp_path, {"app.conf": NGINX_130, "hypercorn.py": "workers = 2"}, BACKEND_SIDE)
    assert out["hypercorn.py"] == "workers = 2\nkeep_alive_timeout = 65"


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("uvicorn.run(app, port=8000)\n", "uvicorn.run(app, port=8000, timeout_keep_alive=65)\n"),
        ("uvicorn.run(app, port=8000,)\n", "uvicorn.run(app, port=8000, timeout_keep_alive=65,)\n"),
        (
            "uvicorn.run(\n    app,\n    port=8000,\n)\n",
            "uvicorn.run(\n    app,\n    port=8000,\n    timeout_keep_alive=65,\n)\n",
        ),
        (
            "uvicorn.run(\n    app,\n    port=8000  # the API\n)\n",
            "uvicorn.run(\n    app,\n    port=8000,  # the API\n    timeout_keep_alive=65,\n)\n",
        ),
        (
            "uvicorn.run(app,\n            port=8000)\n",
            "uvicorn.run(app,\n            port=8000, timeout_keep_alive=65)\n",
        ),
        (
            "uvicorn.run(\n    app, host='127.0.0.1', port=8000\n)\n",
            "uvicorn.run(\n    app, host='127.0.0.1', port=8000, timeout_keep_alive=65\n)\n",
        ),
        (
            "uvicorn.run(app, port=8000, timeout_keep_alive=5)\n",
            "uvicorn.run(app, port=8000, timeout_keep_alive=65)\n",
        ),
    ],
    ids=["inline", "trailing-comma", "hanging", "hanging-comment", "aligned", "closing-line", "replace"],
)
def test_uvicorn_keyword_in_the_call_layout(tmp_path: Path, call: str, expected: str) -> None:
    out = fix(tmp_path, {"app.conf": NGINX_130, "main.py": "import uvicorn\n\n" + call}, BACKEND_SIDE)
    assert out["main.py"] == "import uvicorn\n\n" + expected


def test_hypercorn_serve_script_attribute(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """\
        from hypercorn.config import Config

        def main():
            config = Config()
            config.bind = ["127.0.0.1:8000"]  # local only
            config.workers = 2
        """
    )
    out = fix(tmp_path, {"app.conf": NGINX_130, "serve.py": script}, BACKEND_SIDE)
    assert out["serve.py"] == script.replace(
        "# local only\n", "# local only\n    config.keep_alive_timeout = 65\n"
    )


# --------------------------------------------------------------------------- backend side: TOML, commands


def test_toml_value_and_new_key(tmp_path: Path) -> None:
    toml = '# hypercorn\nbind = ["127.0.0.1:8000"]\nkeep_alive_timeout = 5.0  # s\n\n[logging]\nx = 1\n'
    out = fix(tmp_path, {"app.conf": NGINX_130, "hypercorn.toml": toml}, BACKEND_SIDE)
    only_changed(toml, out["hypercorn.toml"], "5.0", "65")
    (tmp_path / "hypercorn.toml").write_text("[logging]\nx = 1\n", encoding="utf-8")
    out = fix(tmp_path, {"app.conf": NGINX_130, "hypercorn.toml": "[logging]\nx = 1\n"}, BACKEND_SIDE)
    assert out["hypercorn.toml"] == "keep_alive_timeout = 65\n\n[logging]\nx = 1\n"


def test_toml_quoted_key_is_read_and_its_value_replaced(tmp_path: Path) -> None:
    toml = 'bind = ["127.0.0.1:8000"]\n"keep_alive_timeout" = 5\n'
    out = fix(tmp_path, {"app.conf": NGINX_130, "hypercorn.toml": toml}, BACKEND_SIDE)
    only_changed(toml, out["hypercorn.toml"], "5\n", "65\n")
    (tmp_path / "hypercorn.toml").write_text(toml.replace("5", "120"), encoding="utf-8")
    assert "BKD101" not in [f.code for f in run([tmp_path], settings_for(tmp_path, BACKEND_SIDE)).findings]


@pytest.mark.parametrize(
    ("name", "command", "expected"),
    [
        (
            "Procfile",
            "web: gunicorn app:app -b 127.0.0.1:8000 -k gevent --keep-alive 5\n",
            "web: gunicorn app:app -b 127.0.0.1:8000 -k gevent --keep-alive 65\n",
        ),
        (
            "Procfile",
            "web: gunicorn app:app -b 127.0.0.1:8000 -k gevent --keep-alive='5'\n",
            "web: gunicorn app:app -b 127.0.0.1:8000 -k gevent --keep-alive='65'\n",
        ),
        (
            "Procfile",
            "web: gunicorn app:app -b 127.0.0.1:8000 -k gevent --keep-alive=5\n",
            "web: gunicorn app:app -b 127.0.0.1:8000 -k gevent --keep-alive=65\n",
        ),
        ("Procfile", "web: uvicorn main:app\n", "web: uvicorn --timeout-keep-alive 65 main:app\n"),
        (
            "Dockerfile",
            'FROM python\nCMD ["hypercorn", "--keep-alive", "5", "app:app"]\n',
            'FROM python\nCMD ["hypercorn", "--keep-alive", "65", "app:app"]\n',
        ),
        (
            "Dockerfile",
            'FROM python\nCMD ["python", "-m", "gunicorn", "-k", "gthread", "app:app"]\n',
            'FROM python\nCMD ["python", "-m", "gunicorn", "--keep-alive", "65", '
            '"-k", "gthread", "app:app"]\n',
        ),
        (
            "app.service",
            "[Service]\nExecStart=/srv/bin/uvicorn main:app \\\n    --timeout-keep-alive 5\n",
            "[Service]\nExecStart=/srv/bin/uvicorn main:app \\\n    --timeout-keep-alive 65\n",
        ),
        (  # `# escape=``: the backquote continues the line, and the flag read is the one edited
            "Dockerfile",
            "# escape=`\nFROM python\nCMD gunicorn -k gthread `\n    --keep-alive 5 `\n    app:app\n",
            "# escape=`\nFROM python\nCMD gunicorn -k gthread `\n    --keep-alive 65 `\n    app:app\n",
        ),
        (  # the list's own separators: no blank after the commas
            "Dockerfile",
            'FROM python\nCMD ["gunicorn","-k","gthread","app:app"]\n',
            'FROM python\nCMD ["gunicorn","--keep-alive","65","-k","gthread","app:app"]\n',
        ),
    ],
    ids=[
        "flag",
        "quoted",
        "equals",
        "added",
        "json",
        "json-added",
        "systemd",
        "escape-directive",
        "json-compact",
    ],
)
def test_command_line_values(tmp_path: Path, name: str, command: str, expected: str) -> None:
    out = fix(tmp_path, {"app.conf": NGINX_130, name: command}, BACKEND_SIDE)
    assert out[name] == expected


GUNICORN_IMAGE = 'FROM python:3.12\nCMD ["gunicorn", "app:app"]\n'


@pytest.mark.parametrize(
    ("files", "written", "edited"),
    [
        # im, im2 (found by a tester): the Dockerfile's gunicorn reads gunicorn.conf.py, where
        # the fix goes; the description said "set --keep-alive 65 in Dockerfile"
        (
            {
                "Dockerfile": GUNICORN_IMAGE,
                "gunicorn.conf.py": 'bind = "0.0.0.0:8000"\nworker_class = "gthread"\n',
            },
            "keepalive = 65",
            "gunicorn.conf.py",
        ),
        (
            {
                "Dockerfile": GUNICORN_IMAGE,
                "gunicorn.conf.py": 'bind = "0.0.0.0:8000"\nworker_class = "gthread"\nkeepalive = 5\n',
            },
            "keepalive = 65",
            "gunicorn.conf.py",
        ),
        # c4b: -c names another file
        (
            {
                "Dockerfile": "FROM python\nWORKDIR /app\nCOPY . .\n"
                'CMD ["gunicorn", "-c", "gunicorn_config.py", "app:app"]\n',
                "gunicorn_config.py": 'bind = "0.0.0.0:8000"\nworker_class = "gthread"\nthreads = 4\n',
            },
            "keepalive = 65",
            "gunicorn_config.py",
        ),
        ({"main.py": "import uvicorn\nuvicorn.run(app, port=8000)\n"}, "timeout_keep_alive=65", "main.py"),
        (
            {"Procfile": "web: gunicorn app:app -b 127.0.0.1:8000 -k gevent --keep-alive=5\n"},
            "--keep-alive=65",
            "Procfile",
        ),
        ({"Procfile": "web: uvicorn main:app\n"}, "--timeout-keep-alive 65", "Procfile"),
        (
            {"Dockerfile": 'FROM python\nCMD ["hypercorn", "--keep-alive", "5", "app:app"]\n'},
            '"--keep-alive", "65"',
            "Dockerfile",
        ),
        (
            {"Dockerfile": 'FROM python\nCMD ["uvicorn", "main:app"]\n'},
            '"--timeout-keep-alive", "65"',
            "Dockerfile",
        ),
        ({"hypercorn.toml": "[logging]\nx = 1\n"}, "keep_alive_timeout = 65", "hypercorn.toml"),
    ],
    ids=["im", "im2", "c4b", "keyword", "equals", "flag-added", "json", "json-added", "toml"],
)
def test_the_fix_says_what_it_writes_and_where(
    tmp_path: Path, files: dict[str, str], written: str, edited: str
) -> None:
    """The description (and the nginx side's note) names the file edited and the setting as
    it reads there."""
    found = check_files(tmp_path, {"app.conf": NGINX_130, **files}, {**BACKEND_SIDE, "select": ["BKD101"]})
    [finding] = found.findings
    assert finding.fix is not None
    assert finding.fix.description.startswith(f"set {written} in {edited}: above upstream app's")
    assert {edit.path.name for edit in finding.fix.edits} == {edited}
    settings = settings_for(tmp_path, {**BACKEND_SIDE, "select": ["BKD101"]})
    apply_fixes(found, settings, unsafe=True, write=True)
    assert written in (tmp_path / edited).read_text(encoding="utf-8")
    nginx_side = check_files(
        tmp_path / "n", {"app.conf": NGINX_130, **files}, {"nginx": {"version": "1.30"}, "select": ["BKD101"]}
    )
    [other] = nginx_side.findings
    assert f"instead ({written} in {edited}); with [rules.BKD101]" in other.fix_note


# --------------------------------------------------------------------------- validators


def test_validators() -> None:
    validate_text(SourceText(Path("gunicorn.conf.py"), "keepalive = 65  # ok\n"))
    with pytest.raises(SourceError, match="invalid Python"):
        validate_text(SourceText(Path("gunicorn.conf.py"), "keepalive = (65\n"))
    with pytest.raises(SourceError, match="invalid TOML"):
        validate_toml(SourceText(Path("hypercorn.toml"), "keep_alive_timeout = = 5\n"))
    validate_command(SourceText(Path("Dockerfile"), 'CMD ["gunicorn", "app:app"]\n'))
    with pytest.raises(SourceError, match="no longer a JSON array"):
        validate_command(SourceText(Path("Dockerfile"), 'CMD ["gunicorn", "app:app",]\n'))
    validate_command(SourceText(Path("Procfile"), "web: anything at all\n"))


@pytest.mark.parametrize(
    ("config", "timeout_line"),
    [
        (
            'bind = "127.0.0.1:8000"\nworker_class = "uvicorn.workers.UvicornWorker"\n',
            "keepalive_timeout 1s;",
        ),
        ('bind = "127.0.0.1:8000"\nworker_class = "gevent"\nkeepalive = 75\n', None),  # above nginx's 60s
    ],
)
def test_ngx210_safe_fix_starts_no_race(tmp_path: Path, config: str, timeout_line: str | None) -> None:
    """NGX210's safe fix turns keep-alive on: in front of an app server that closes idle
    connections before nginx's 60s it also writes a keepalive_timeout below the server's.
    It wrote `keepalive 32;` alone, and the next run found BKD101 [error] it had caused."""
    files = {"app.conf": NGINX_130, "gunicorn.conf.py": config}
    mapping: dict[str, Any] = {"nginx": {"version": "1.22"}, "select": ["NGX210", "NGX211", "BKD101"]}
    result = check_files(tmp_path, files, mapping)
    assert [f.code for f in result.findings] == ["NGX210"]
    settings = settings_for(tmp_path, mapping)
    apply_fixes(run([tmp_path], settings), settings, unsafe=False, write=True)
    fixed = (tmp_path / "app.conf").read_text(encoding="utf-8")
    assert "    keepalive 32;\n" in fixed
    if timeout_line is None:
        assert "keepalive_timeout" not in fixed
    else:
        assert f"    keepalive 32;\n    {timeout_line}\n" in fixed
    assert run([tmp_path], settings).findings == []


KEEPALIVE_122 = NGINX_130.replace(
    "    server 127.0.0.1:8000;\n", "    server 127.0.0.1:8000;\n    keepalive 32;\n"
)
GEVENT_5 = 'bind = "127.0.0.1:8000"\nworker_class = "gevent"\nkeepalive = 5\n'
# The realistic benchmark's site00139: gunicorn started by a Dockerfile's CMD.
DOCKERFILE_5 = (
    "FROM python:3.12-slim\n"
    'CMD ["gunicorn", "-k", "gevent", "--keep-alive", "5", "-b", "0.0.0.0:8000", "app:app"]\n'
)
UPSTREAM_RULES = ["NGX004", "NGX210", "NGX211", "NGX212", "BKD101"]


@pytest.mark.nginx
@pytest.mark.parametrize(
    ("name", "backend"), [("gunicorn.conf.py", GEVENT_5), ("Dockerfile", DOCKERFILE_5)], ids=["conf", "cmd"]
)
def test_ngx211_safe_fix_starts_no_race(tmp_path: Path, name: str, backend: str) -> None:
    """An upstream with keepalive whose every location defeats it (HTTP/1.0, "Connection:
    close") holds no idle connection, and BKD101 is silent. NGX211's safe fix makes the
    location reuse them: in front of gunicorn's 5s it also adds keepalive_timeout 4s. It
    added the location's two lines alone, and --fix reported BKD101 as its own bug."""
    from nginx_harness import nginx_t

    files = {"app.conf": KEEPALIVE_122, name: backend}
    mapping: dict[str, Any] = {"nginx": {"version": "1.22"}, "select": UPSTREAM_RULES}
    result = check_files(tmp_path, files, mapping)
    assert [f.code for f in result.findings] == ["NGX211"]
    settings = settings_for(tmp_path, mapping)
    outcome = apply_fixes(result, settings, unsafe=False, write=True)
    assert outcome.messages == []
    fixed = (tmp_path / "app.conf").read_text(encoding="utf-8")
    assert "    keepalive 32;\n    keepalive_timeout 4s;\n}" in fixed
    assert '        proxy_http_version 1.1;\n        proxy_set_header Connection "";\n' in fixed
    assert run([tmp_path], settings).findings == []
    checked = nginx_t(fixed)
    assert checked.ok, checked.describe()


def test_ngx211_leaves_a_race_already_run_to_bkd101(tmp_path: Path) -> None:
    """Where another location reuses the upstream's connections, the race is on already:
    BKD101 reports it with its own fix, and NGX211's fix is the location's lines alone."""
    conf = KEEPALIVE_122.replace(
        "    }\n}\n",
        "    }\n    location /ok/ {\n        proxy_pass http://app;\n        proxy_http_version 1.1;\n"
        '        proxy_set_header Connection "";\n    }\n}\n',
    )
    files = {"app.conf": conf, "gunicorn.conf.py": GEVENT_5}
    result = check_files(tmp_path, files, {"nginx": {"version": "1.22"}, "select": UPSTREAM_RULES})
    assert [f.code for f in result.findings] == ["BKD101", "NGX211"]
    fix = result.findings[1].fix
    assert fix is not None and fix.safe and "keepalive_timeout" not in fix.description


def test_ngx211_replaces_a_racing_timeout_unsafely(tmp_path: Path) -> None:
    """A keepalive_timeout the upstream states at or above the app server's is replaced,
    which is unsafe (a value the operator wrote)."""
    conf = KEEPALIVE_122.replace("    keepalive 32;\n", "    keepalive 32;\n    keepalive_timeout 75s;\n")
    files = {"app.conf": conf, "gunicorn.conf.py": GEVENT_5}
    mapping: dict[str, Any] = {"nginx": {"version": "1.22"}, "select": UPSTREAM_RULES}
    result = check_files(tmp_path, files, mapping)
    (finding,) = result.findings
    assert finding.fix is not None and not finding.fix.safe
    settings = settings_for(tmp_path, mapping)
    assert apply_fixes(result, settings, unsafe=True, write=True).messages == []
    assert "    keepalive 32;\n    keepalive_timeout 4s;\n}" in (tmp_path / "app.conf").read_text(
        encoding="utf-8"
    )
    assert run([tmp_path], settings).findings == []


BEFORE_1153 = [
    pytest.param(KEEPALIVE_122, "NGX211", id="NGX211"),
    # nginx 1.14 refuses the line (NGX004): replacing its value left BKD101 [no timeout].
    pytest.param(
        NGINX_130.replace(
            "    server 127.0.0.1:8000;\n", "    server 127.0.0.1:8000;\n    keepalive_timeout 75s;\n"
        ),
        "NGX210",
        id="NGX210-refused-line",
    ),
    # The fix's upstream{} had keepalive_timeout 4s, which nginx 1.14 refuses.
    pytest.param(NGINX_130.replace("http://app", "http://127.0.0.1:8000"), "NGX212", id="NGX212"),
]


@pytest.mark.parametrize(("conf", "code"), BEFORE_1153)
def test_no_fix_starts_a_race_before_1_15_3(tmp_path: Path, conf: str, code: str) -> None:
    """Before 1.15.3 upstream{} has no keepalive_timeout: keep-alive reuse that a fix would
    start races gunicorn with nothing to end it, so the fix is withheld and the note says so."""
    files = {"app.conf": conf, "gunicorn.conf.py": GEVENT_5}
    mapping: dict[str, Any] = {"nginx": {"version": "1.14"}, "select": UPSTREAM_RULES}
    result = check_files(tmp_path, files, mapping)
    (finding,) = [f for f in result.findings if f.code == code]
    assert finding.fix is None
    assert "would race gunicorn's idle timeout of 5s (BKD101)" in finding.fix_note
    assert "On nginx 1.15.3 or later" in finding.fix_note and "keepalive_timeout 4s" in finding.fix_note
    settings = settings_for(tmp_path, mapping)
    assert apply_fixes(result, settings, unsafe=True, write=True).messages == []
