"""Every rule's fixes held to the fix-safety model (docs/fix-safety.md).

Safe: adds a directive that is missing, rewrites a value to one nginx treats the same,
or removes what nginx ignores. Unsafe: replaces a value the operator wrote, removes a
setting that has effect, or changes who can connect. So a safe fix must leave every
argument of every existing line as it was, except on the lines the rule's catalogue
entry names in ``fix-equivalence``; the tests apply the safe fixes of each catalogue
example and compare the lines before and after.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, settings_for

from tlslint import catalogue
from tlslint.engine import run
from tlslint.fixing import apply_fixes
from tlslint.sources.nginx.model import Directive, SourceText
from tlslint.sources.nginx.parser import parse_text

ENTRIES = catalogue.load_entries()
CONFIG_TARGETS = frozenset({"nginx", "apigee", "backend"})
# The bad examples of the rules that have safe fixes.
SAFE_FIXED = [
    pytest.param(code, index, example, id=f"{code}-{index}")
    for code, entry in ENTRIES.items()
    if entry["target"] in CONFIG_TARGETS and entry["fix-safety"] in ("safe", "mixed")
    for index, example in enumerate(entry["examples"])
    if "bad" in example
]


def write_example(tmp_path: Path, example: dict[str, Any]) -> dict[str, Path]:
    files = {example.get("path", "example.conf"): example["bad"], **example.get("files", {})}
    paths = {}
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths


def fixes_of(tmp_path: Path, code: str, example: dict[str, Any]) -> list[bool]:
    """The safety of each fix the rule offers on the example (first pass)."""
    result = check_files(tmp_path, {}, {**example.get("settings", {}), "select": [code]})
    return [f.fix.safe for f in result.findings if f.code == code and f.fix is not None]


def test_every_rule_states_its_fix_safety_and_why() -> None:
    for code, entry in ENTRIES.items():
        assert entry["fix-safety"] in ("safe", "unsafe", "mixed", "none"), code
        assert len(entry["fix-safety-reason"].split()) >= 5, code
        if entry.get("fix-equivalence"):
            assert entry["fix-safety"] in ("safe", "mixed"), f"{code}: equivalences are for safe fixes"


def test_declared_safety_matches_what_the_examples_fix(tmp_path: Path) -> None:
    """safe: every fix is safe; unsafe: every fix is unsafe; mixed: the examples show
    both kinds; none: no fix at all."""
    problems = []
    for code, entry in ENTRIES.items():
        if entry["target"] not in CONFIG_TARGETS:
            continue
        seen: Counter[bool] = Counter()
        for index, example in enumerate(entry["examples"]):
            if "bad" not in example:
                continue
            base = tmp_path / f"{code}-{index}"
            write_example(base, example)
            seen.update(fixes_of(base, code, example))
        declared = entry["fix-safety"]
        expected = {
            "safe": {True},
            "unsafe": {False},
            "mixed": {True, False},
            "none": set(),
        }[declared]
        if set(seen) != expected:
            problems.append(f"{code}: fix-safety {declared}, the examples' fixes are {dict(seen)}")
    assert problems == []


# --- safe fixes keep every argument of every existing line ---------------------------------------


Line = tuple[tuple[str, ...], str, tuple[str, ...]]  # (enclosing blocks, name, arguments)


def nginx_lines(text: str) -> Counter[Line]:
    """Every directive with its enclosing blocks and arguments, counted."""
    lines: Counter[Line] = Counter()

    def visit(directives: list[Directive], outer: tuple[str, ...]) -> None:
        for directive in directives:
            lines[(outer, directive.name, directive.args)] += 1
            if directive.block is not None:
                visit(directive.block, (*outer, " ".join((directive.name, *directive.args))))

    visit(parse_text(SourceText(Path("x.conf"), text)).directives, ())
    return lines


def yaml_lines(text: str) -> Counter[Line]:
    """Every scalar of every document with its keys, counted (name: the nearest key)."""
    from ruamel.yaml import YAML

    lines: Counter[Line] = Counter()

    def visit(node: Any, path: tuple[str, ...], key: str) -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                visit(value, (*path, str(name)), str(name))
        elif isinstance(node, list):
            for item in node:
                visit(item, (*path, "-"), key)
        else:
            lines[(path, key, (repr(node),))] += 1

    for number, document in enumerate(YAML(typ="safe", pure=True).load_all(text)):
        visit(document, (str(number),), "")
    return lines


def changed_names(before: Counter[Line], after: Counter[Line]) -> set[str]:
    """The names of the lines a fix changed or removed: those before that are not after."""
    return {name for _, name, _ in before - after}


@pytest.mark.parametrize(("code", "index", "example"), SAFE_FIXED)
def test_safe_fixes_keep_every_argument(
    tmp_path: Path, code: str, index: int, example: dict[str, Any]
) -> None:
    entry = ENTRIES[code]
    paths = write_example(tmp_path, example)
    before = {name: path.read_text(encoding="utf-8") for name, path in paths.items()}
    settings = settings_for(tmp_path, {**example.get("settings", {}), "select": [code]})
    apply_fixes(run([tmp_path], settings), settings, unsafe=False, write=True)
    allowed = {item["name"] for item in entry.get("fix-equivalence", [])}
    for name, path in paths.items():
        after = path.read_text(encoding="utf-8")
        yaml = name.endswith((".yaml", ".yml"))
        if name.endswith(".py") or name.endswith(".toml") or "Procfile" in name or "Dockerfile" in name:
            assert after == before[name], f"a safe fix edited {name}"
            continue
        parse = yaml_lines if yaml else nginx_lines
        changed = changed_names(parse(before[name]), parse(after))
        assert changed <= allowed, (
            f"{code} examples[{index}]: a safe fix changed or removed {sorted(changed - allowed)} "
            f"in {name} (fix-equivalence names {sorted(allowed) or 'nothing'})\n"
            f"--- before\n{before[name]}--- after\n{after}"
        )
