"""Every catalogue example is a test: bad raises the code, good does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, codes, settings_for

from tlslint import catalogue
from tlslint.checks import check_modules, module_code
from tlslint.engine import run
from tlslint.fixing import apply_fixes

ENTRIES = catalogue.load_entries()
# Examples of these targets are configurations; `live` and `logs` examples are server
# descriptions and log excerpts, run by tests/test_probe.py and tests/test_logs.py;
# `render` examples need kubectl (or no kubectl), run by tests/test_kustomize.py.
CONFIG_TARGETS = frozenset({"nginx", "apigee", "backend", "kubernetes", "any"})
EXAMPLES = [
    pytest.param(code, index, example, id=f"{code}-{index}-{'bad' if 'bad' in example else 'good'}")
    for code, entry in ENTRIES.items()
    if entry["target"] in CONFIG_TARGETS
    for index, example in enumerate(entry["examples"])
]


def example_settings(code: str, example: dict[str, Any]) -> dict[str, Any]:
    """The example's settings, its rule selected (with the rules the example selects beside it)."""
    settings = example.get("settings", {})
    return {**settings, "select": [code, *settings.get("select", [])]}


def run_example(tmp_path: Path, code: str, example: dict[str, Any], text: str) -> list[str]:
    settings = example_settings(code, example)
    files = {example.get("path", "example.conf"): text, **example.get("files", {})}
    return codes(check_files(tmp_path, files, settings))


@pytest.mark.parametrize(("code", "index", "example"), EXAMPLES)
def test_example(tmp_path: Path, code: str, index: int, example: dict[str, Any]) -> None:
    if "bad" in example:
        assert code in run_example(tmp_path, code, example, example["bad"])
    else:
        assert code not in run_example(tmp_path, code, example, example["good"])


BAD = [p for p in EXAMPLES if "bad" in p.values[2]]


@pytest.mark.parametrize(("code", "index", "example"), BAD)
def test_fix_gives_fixed_exactly(tmp_path: Path, code: str, index: int, example: dict[str, Any]) -> None:
    """fix(bad) == fixed byte for byte; without `fixed`, --fix changes nothing."""
    settings = settings_for(tmp_path, example_settings(code, example))
    path = tmp_path / example.get("path", "example.conf")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(example["bad"], encoding="utf-8")
    for name, text in example.get("files", {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    unsafe = bool(example.get("unsafe"))
    if unsafe:  # an unsafe fix is not applied by plain --fix
        apply_fixes(run([tmp_path], settings), settings, unsafe=False, write=True)
        assert path.read_text(encoding="utf-8") == example["bad"]
    apply_fixes(run([tmp_path], settings), settings, unsafe=unsafe, write=True)
    assert path.read_text(encoding="utf-8") == example.get("fixed", example["bad"])
    if ENTRIES[code]["target"] == "backend":  # multi-file: the fix edits the example's own file only
        for name, text in example.get("files", {}).items():
            assert (tmp_path / name).read_text(encoding="utf-8") == text, name
    if "fixed" in example:
        after = run([tmp_path], settings)
        assert code not in [f.code for f in after.findings]
        second = apply_fixes(after, settings, unsafe=True, write=True)
        assert second.written == [] and second.diff == ""


def test_index_is_fresh() -> None:
    """rules/index.json is compiled from the YAML (python -m tlslint.catalogue)."""
    compiled = catalogue.compile_index(ENTRIES)
    assert (catalogue.rules_dir() / catalogue.INDEX_NAME).read_text() == compiled


def test_every_check_has_an_entry_and_every_entry_a_check_or_loader() -> None:
    checked = {module_code(name) for name in check_modules()}
    loaders = {"NGX001", "NGX002", "NGX003"}
    nginx_checked = {c for c in checked if c.startswith("NGX")}
    assert nginx_checked | loaders == {c for c in ENTRIES if c.startswith("NGX")}
    # Apigee: template skipped, invalid YAML / schema, duplicate keys come from the loader.
    apigee_loaders = {"APG001", "APG201", "APG205"}
    apigee_checked = {code for code in checked if code.startswith("APG")}
    assert apigee_checked | apigee_loaders == {c for c in ENTRIES if c.startswith("APG")}
    assert not apigee_checked & apigee_loaders
    # Backends: a file that does not load comes from the loader (BKD001); the rest are checks.
    backend_loaders = {"BKD001"}
    backend_checked = {c for c in checked if c.startswith("BKD")}
    assert backend_checked | backend_loaders == {c for c in ENTRIES if c.startswith("BKD")}
    assert not backend_checked & backend_loaders
    # Kubernetes gateways: template skipped, invalid YAML / schema, duplicate keys come from the loader.
    kubernetes_loaders = {"GW001", "GW002", "GW003"}
    kubernetes_checked = {code for code in checked if code.startswith(("GW", "ING"))}
    assert kubernetes_checked | kubernetes_loaders == {c for c in ENTRIES if c.startswith(("GW", "ING"))}
    assert not kubernetes_checked & kubernetes_loaders


def test_every_rule_has_bad_and_good_examples() -> None:
    for code, entry in ENTRIES.items():
        kinds = {"bad" if "bad" in e else "good" for e in entry["examples"]}
        assert kinds == {"bad", "good"}, code


def test_every_rule_has_a_near_miss() -> None:
    """Issue 15: each rule shows at least one configuration that looks like its problem but
    is right, in a real configuration's shape, and says why (every example is a test)."""
    families = ("NGX", "APG", "BKD", "LIV", "LOG")  # the rules issue 15 audited
    missing = [
        code
        for code, entry in ENTRIES.items()
        if code.startswith(families)
        and not any(e.get("near-miss") and "good" in e for e in entry["examples"])
    ]
    assert missing == []
