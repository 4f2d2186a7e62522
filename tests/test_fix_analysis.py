"""Every fix analysed before it is written: a fix whose output nginx would refuse is not
written, and the run reports it as tlslint's own bug (exit 2, the rule, the line)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import settings_for

from tlslint import catalogue
from tlslint.check_command import run_check
from tlslint.checks import RuleContext
from tlslint.engine import run
from tlslint.findings import Edit, Finding, Fix
from tlslint.fixing import apply_fixes
from tlslint.nginx_analysis import check_config
from tlslint.nginx_directives import table_for
from tlslint.workspace import Workspace

SERVER = """http {
    server {
        listen 443 ssl;
        server_name example.com;
        location / {
            proxy_pass http://127.0.0.1:8080;
        }
    }
}
"""


def _bad_fix(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    """A stand-in for a buggy rule: its fix puts a session cache inside a location."""
    for config in workspace.nginx:
        for block in config.top.walk():
            if block.context == "location" and block.directive is not None:
                directive = block.directive
                at = directive.block_open + 1
                edit = Edit(directive.path, at, at, "\n            ssl_session_cache shared:SSL:10m;")
                yield ctx.finding(directive, "planted", fix=Fix("add a session cache", (edit,)))


def _plant(monkeypatch: pytest.MonkeyPatch) -> None:
    import tlslint.checks.ngx101_session_cache_missing as planted

    monkeypatch.setattr(planted, "check", _bad_fix)


def test_a_fix_nginx_would_refuse_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _plant(monkeypatch)
    path = tmp_path / "nginx.conf"
    path.write_text(SERVER)
    settings = settings_for(tmp_path, {"select": ["NGX101"]})
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=False, write=True)
    assert path.read_text() == SERVER
    assert outcome.written == []
    (message,) = outcome.refused
    assert f"{path}:6:13: tlslint bug: the fix for NGX101" in message
    assert '"ssl_session_cache" directive is not allowed here (in location' in message


def test_the_other_fixes_of_the_pass_are_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NGX203's good fix to the same file is kept; only the refused fix is dropped."""
    _plant(monkeypatch)
    path = tmp_path / "nginx.conf"
    path.write_text(SERVER.replace("    server {", "    keepalive_requests 10;\n    server {", 1))
    settings = settings_for(tmp_path, {"select": ["NGX101", "NGX203"], "nginx": {"version": "1.22.1"}})
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert len(outcome.refused) == 1
    fixed = path.read_text()
    assert "keepalive_requests 10;" not in fixed and "ssl_session_cache" not in fixed


def test_the_command_exits_2_and_names_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _plant(monkeypatch)
    (tmp_path / "nginx.conf").write_text(SERVER)
    monkeypatch.chdir(tmp_path)
    code = run_check([tmp_path / "nginx.conf"], fix=True, select="NGX101", no_cache=True)
    assert code == 2
    err = capsys.readouterr().err
    assert "tlslint bug: the fix for NGX101" in err and "nginx.conf:6:13" in err
    assert (tmp_path / "nginx.conf").read_text() == SERVER
    assert run_check([tmp_path / "nginx.conf"], diff=True, select="NGX101", no_cache=True) == 2


def test_problems_the_file_already_had_do_not_block_a_fix(tmp_path: Path) -> None:
    """A third-party directive tlslint does not know stays; the session fix still applies."""
    path = tmp_path / "nginx.conf"
    text = "http {\n    my_module_thing on;\n    server {\n        listen 443 ssl;\n    }\n}\n"
    path.write_text(text)
    settings = settings_for(tmp_path, {"select": ["NGX101"]})
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert outcome.refused == [] and outcome.written == [path.resolve()]
    assert "ssl_session_cache" in path.read_text()


# --------------------------------------------------------------------------- every catalogue fix


def _fixable() -> list[Any]:
    params = []
    for code, entry in catalogue.load_entries().items():
        if entry["target"] != "nginx":
            continue
        for index, example in enumerate(entry["examples"]):
            if "bad" not in example:
                continue
            configured = example.get("settings", {}).get("nginx", {}).get("version")
            versions = [configured] if configured else [None, "1.18.0", "1.22.1", "1.31.4"]
            for version in versions:
                params.append(pytest.param(code, example, version, id=f"{code}-{index}-{version}"))
    return params


@pytest.mark.parametrize(("code", "example", "version"), _fixable())
def test_every_catalogue_fix_gives_what_nginx_loads(
    tmp_path: Path, code: str, example: dict[str, Any], version: str | None
) -> None:
    """Every rule's fix of its bad examples, safe and unsafe, on each target version: no
    fix is refused, and the fixed tree has no directive nginx would refuse that the bad one
    had not (the analyzer over the whole configuration, includes followed)."""
    mapping = {**example.get("settings", {}), "select": [code]}
    if version is not None:
        mapping["nginx"] = {**mapping.get("nginx", {}), "version": version}
    files = {example.get("path", "example.conf"): example["bad"], **example.get("files", {})}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    settings = settings_for(tmp_path, mapping)
    before = run([tmp_path], settings)
    table = table_for(before.workspace.nginx_version)
    had = _problems(before, table)
    outcome = apply_fixes(before, settings, unsafe=True, write=True)
    assert outcome.refused == []
    after = run([tmp_path], settings)
    assert _problems(after, table) <= had


def _problems(result: Any, table: Any) -> set[tuple[str, str, str]]:
    return {
        (p.directive.path.name, p.kind, p.message(table))
        for config in result.workspace.nginx
        for p in check_config(config, table)
    }
