"""A fix must not create another rule's finding.

For every catalogue example with a fix (and the bundled example, and each corpus file):
check the configuration with every rule, apply one rule's fixes only, check again with
every rule. A finding that was not there
before (keyed as baselines key findings: rule, file, structural anchor) is a bug of the
fix or of the rule that reports its result.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import shared_files
from helpers import settings_for

from tlslint import catalogue
from tlslint.baseline import Key, key_for
from tlslint.engine import RunOptions, RunResult, run
from tlslint.fixing import apply_fixes

ENTRIES = catalogue.load_entries()
CONFIG_TARGETS = frozenset({"nginx", "apigee", "backend"})
FIXED = [
    pytest.param(code, example, id=f"{code}-{index}")
    for code, entry in ENTRIES.items()
    if entry["target"] in CONFIG_TARGETS
    for index, example in enumerate(entry["examples"])
    if "bad" in example and "fixed" in example
]


def keys(result: RunResult, base: Path) -> Counter[Key]:
    return Counter(key_for(finding, base) for finding in result.findings)


def created_by_fix(root: Path, settings: dict[str, Any], code: str, *, unsafe: bool) -> list[str]:
    """The findings of any rule that applying ``code``'s fixes under ``root`` creates."""
    every_rule = settings_for(root, settings)
    this_rule = settings_for(root, {**settings, "select": [code]})
    checked = run([root], every_rule)
    before = keys(checked, root)
    selected = run([root], this_rule)
    # What a fix says it brings into play (NGX201's keep-alive makes NGX203 count).
    brought = {c for f in selected.findings if f.fix is not None for c in f.fix.brings}
    fixed = apply_fixes(selected, this_rule, unsafe=unsafe, write=True)
    assert fixed.written, f"{code}'s fix changed nothing"
    # The same nginx runs the fixed file: judged by the versions inferred before the fix,
    # as the fixer's own re-checks judge it (a removed `ssl on;` still proves < 1.25.1).
    after = run([root], every_rule, run_options=RunOptions(nginx_pinned=checked.workspace.nginx_pins()))
    messages = {key_for(f, root): f.message for f in after.findings}
    return [
        f"{key[0]} {key[1]} {key[2]}: {messages[key]}"
        for key in keys(after, root) - before
        if key[0] not in brought
    ]


@pytest.mark.parametrize(("code", "example"), FIXED)
def test_a_fix_creates_no_finding_of_any_rule(tmp_path: Path, code: str, example: dict[str, Any]) -> None:
    settings = {key: value for key, value in example.get("settings", {}).items() if key != "select"}
    files = {example.get("path", "example.conf"): example["bad"], **example.get("files", {})}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    assert created_by_fix(tmp_path, settings, code, unsafe=bool(example.get("unsafe"))) == []


EDGE = Path(__file__).resolve().parent.parent / "examples" / "edge"


def fixable_codes(root: Path, settings: dict[str, Any]) -> list[str]:
    result = run([root], settings_for(root, settings))
    return sorted({f.code for f in result.findings if f.fix is not None})


@pytest.mark.parametrize("code", fixable_codes(EDGE, {}))
def test_no_fix_of_the_bundled_example_creates_a_finding(tmp_path: Path, code: str) -> None:
    shutil.copytree(EDGE, tmp_path / "edge")
    assert created_by_fix(tmp_path / "edge", {}, code, unsafe=True) == []


@pytest.mark.parametrize("version", [None, "1.22", "1.27"])
@pytest.mark.parametrize("path", shared_files("corpus", "nginx"))
def test_no_fix_of_a_corpus_file_creates_a_finding(tmp_path: Path, path: Path, version: str | None) -> None:
    settings = {"nginx": {"version": version}} if version else {}
    copy = tmp_path / path.name
    copy.write_bytes(path.read_bytes())  # the corpus is read-only
    for code in fixable_codes(tmp_path, settings):
        copy.write_bytes(path.read_bytes())
        assert created_by_fix(tmp_path, settings, code, unsafe=True) == [], code


def test_a_zone_no_default_server_uses_is_not_raised(tmp_path: Path) -> None:
    """The bundled example's case: NGX103 raised the virtual server's zone to 10m, which
    NGX108 then reported as allocated for nothing (ten times the memory, for nothing)."""
    shutil.copytree(EDGE, tmp_path / "edge")
    root = tmp_path / "edge"
    result = run([root], settings_for(root))
    codes = {(f.location.path.name, f.code) for f in result.findings}
    assert {("api.conf", "NGX107"), ("api.conf", "NGX108")} <= codes
    assert ("api.conf", "NGX103") not in codes
    fixed = apply_fixes(result, settings_for(root), unsafe=False, write=True)
    assert "shared:SSL:1m" in (root / "sites-enabled" / "api.conf").read_text(encoding="utf-8")
    assert "shared:SSL:10m" not in "".join(p.read_text(encoding="utf-8") for p in fixed.written)


def test_the_fixpoint_loop_says_when_a_fix_creates_a_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tripwire for users' configurations the tests above have not seen."""
    from tlslint import fixing
    from tlslint.findings import Finding, Location, Severity

    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "http {\n    ssl_session_cache shared:SSL:1m;\n    server {\n        listen 443 ssl;\n    }\n}\n"
    )
    settings = settings_for(tmp_path, {"select": ["NGX103"]})
    real_run = fixing.run

    def run_with_a_new_finding(*args: Any, **kwargs: Any) -> RunResult:
        result = real_run(*args, **kwargs)
        made = Finding("NGX108", "x", Severity.INFO, "made by the fix", Location(conf, 2, 5), anchor="new")
        result.findings.append(made)
        return result

    monkeypatch.setattr(fixing, "run", run_with_a_new_finding)
    # NGX103's fix replaces the operator's size: unsafe (docs/fix-safety.md).
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=False)
    assert outcome.diff
    [message] = outcome.messages
    assert message.endswith(
        "nginx.conf:2: NGX108 appeared after a fix "
        "(a fix should not create another rule's finding; please report this)"
    )
    monkeypatch.undo()
    assert apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=False).messages == []


def test_keep_alive_turned_on_names_the_limit_it_brings_into_play(tmp_path: Path) -> None:
    """Tester: `keepalive_timeout 0; keepalive_requests 16;` at http level; NGX201's
    unsafe fix (0 -> 75s) made the 16 count again, and --fix said "NGX203 appeared after a
    fix". The fix says so itself, and NGX203's fix follows in the same run."""
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        "events {}\nhttp {\n    keepalive_timeout 0;\n    keepalive_requests 16;\n    server {\n"
        "        listen 443 ssl;\n        ssl_session_cache shared:SSL:10m;\n    }\n}\n"
    )
    settings = settings_for(tmp_path, {"nginx": {"version": "1.22.1"}})
    result = run([tmp_path], settings)
    (ngx201,) = [f for f in result.findings if f.code == "NGX201"]
    assert ngx201.fix is not None and ngx201.fix.brings == ("NGX203",)
    assert "`keepalive_requests 16;` then counts again" in ngx201.fix.description
    assert "NGX203" not in {f.code for f in result.findings}  # the 0 makes the 16 moot
    outcome = apply_fixes(result, settings, unsafe=True, write=True)
    assert outcome.messages == []
    text = conf.read_text()
    assert "keepalive_timeout 75s;" in text and "keepalive_requests 16;" not in text
    again = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert again.written == [] and again.messages == []
