"""The scaling guard for fixes: every catalogue fix linear in the number of findings.

tests/test_scaling.py holds each rule's check linear; the fixer has work of its own
(choosing fixes that do not overlap, screening each with nginx's directive table,
applying edits, the diff), and a quadratic there once made ``--diff`` on a file of
3,000 servers take 54 s while the check took 0.8 s. Here every example with a
``fixed`` text is replicated (tests/scaling.py) into trees of k, 2k and 16k copies,
its fixes applied (not written) with that rule alone, and the work of applying them
counted (``count_fix``: lines and calls, not time). The re-checks between passes are
checks, guarded there, and are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from helpers import settings_for
from scaling import DISTINCT, SHARED, count_fix, replicate, write_tree
from test_scaling import EXCLUDED, GROWTH, LIMIT, per_copy_growth

from tlslint import catalogue, fixing, run_checks, text_diff
from tlslint.findings import Finding, Fix
from tlslint.sources.nginx import parallel
from tlslint.sources.python import prefetch

ENTRIES = catalogue.load_entries()
# Copies in the smallest tree (then twice and sixteen times as many): each copy adds a
# finding and its fix. What the first copies add varies with what a fix shares (one
# tree of one copy has nothing to share), so the growth is measured from k copies up.
# YAML and app-server files load through ruamel and libcst, dearer per copy.
COPIES = {"nginx": 16, "apigee": 4, "backend": 4, "kubernetes": 4, "any": 16}
FIXED = [
    pytest.param(code, index, id=f"{code}-{index}")
    for code, entry in sorted(ENTRIES.items())
    if entry["target"] not in EXCLUDED
    for index, example in enumerate(entry["examples"])
    if "fixed" in example and "bad" in example
]


@pytest.fixture(autouse=True)
def one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forked helpers would take work out of the count; and the diff is made as on a
    large file (anchored), at every size: difflib's own matching, which files below
    ``text_diff.LARGE`` lines keep, is superlinear on repeated lines, and bounded there."""
    for module in (parallel, prefetch, run_checks):
        monkeypatch.setattr(module, "MIN_FILES", 10**9)
    monkeypatch.setattr(text_diff, "LARGE", 0)


def _measure(
    tmp_path: Path, code: str, example: dict[str, Any], copies: int, variant: str
) -> tuple[int, int]:
    tree = replicate(example, "bad", copies, variant)
    directory = tmp_path / f"{variant}-{copies}"
    write_tree(directory, tree)
    settings = settings_for(directory, {**tree.settings, "select": [code]})
    counts = count_fix(directory, settings, unsafe=bool(example.get("unsafe")))
    return counts.changed, counts.work


def test_every_fix_is_guarded() -> None:
    """The examples with a fixed text are the ones measured: a rule with a fix has one."""
    fixable = {code for code, entry in ENTRIES.items() if entry.get("fix-safety") not in (None, "none")}
    guarded = {param.values[0] for param in FIXED}
    assert fixable - set(EXCLUDED) <= guarded | {
        code for code in fixable if ENTRIES[code]["target"] in EXCLUDED
    }, "a rule with a fix has no example with a fixed text"


def fix_growth(tmp_path: Path, code: str, index: int) -> tuple[list[str], bool]:
    """For each variant: a line of counts; and whether the work grew too much."""
    example = ENTRIES[code]["examples"][index]
    copies = COPIES[ENTRIES[code]["target"]]
    sizes = (copies, 2 * copies, 2 * copies * GROWTH)
    lines = []
    failed = False
    for variant in (DISTINCT, SHARED):
        if variant == SHARED and replicate(example, "bad", copies, SHARED).files == (
            replicate(example, "bad", copies, DISTINCT).files
        ):
            continue
        _measure(tmp_path / "warm", code, example, 1, variant)  # imports and caches
        measured = [_measure(tmp_path, code, example, n, variant) for n in sizes]
        changed = [lines for lines, _ in measured]
        one, small, large = (work for _, work in measured)
        growth = per_copy_growth(one, small, large, sizes)
        lines.append(f"{variant}: lines changed {changed}, work {one:,}/{small:,}/{large:,} ({growth:.1f}x)")
        # A fix that does not grow with the copies (one route added for all of them; no
        # fix where copies conflict, as APG105's wildcard routes do) is still measured:
        # its findings, and the fixer's choosing among them, grow.
        if growth > LIMIT:
            failed = True
            lines.append(f"  ^ more than {LIMIT:g}x the work for {GROWTH}x the fixes")
    return lines, failed


@pytest.mark.parametrize(("code", "index"), FIXED)
def test_fix_scales_linearly(tmp_path: Path, code: str, index: int) -> None:
    lines, failed = fix_growth(tmp_path, code, index)
    assert not failed, f"{code} examples[{index}]:\n" + "\n".join(lines)


def test_the_guard_catches_fixes_compared_with_every_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shape of the fixer's old quadratic: each fix's edits compared with every edit
    chosen before it (a list, not the sorted spans of ``fixing._Spans``)."""
    real = fixing.choose_fixes

    def compared(findings: Iterable[Finding], unsafe: bool) -> list[Fix]:
        chosen = real(findings, unsafe)
        edits = [edit for fix in chosen for edit in fix.edits]
        for edit in edits:
            for other in edits:
                fixing._overlap(edit.start, edit.end, other.start, other.end)
        return chosen

    monkeypatch.setattr(fixing, "choose_fixes", compared)
    lines, failed = fix_growth(tmp_path, "NGX212", 0)
    assert failed, "\n".join(lines)
