"""The scaling guard: every rule linear in its input, proven from its catalogue examples.

For every rule with configuration examples, each ``bad`` and ``good`` example is
replicated (tests/scaling.py) into a tree of k and of 8k copies, checked with
that rule alone, and the work of the rule's check and of the whole run is
counted (lines and calls, not time: the same on a loaded 2-core runner as on an
idle one). Linear work grows 8x; quadratic, 64x. The guard fails above 16x.
A rule is covered the day its catalogue entry has examples: a target that
cannot be replicated fails here until it is taught or excluded with a reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import settings_for
from scaling import DISTINCT, SHARED, Counts, count_run, replicate, write_tree

from tlslint import catalogue, run_checks
from tlslint.sources.nginx import parallel

ENTRIES = catalogue.load_entries()
GROWTH = 8
LIMIT = 16.0
# Copies in the smaller tree, by target: enough that NGX305's old scan of every
# server for each `listen ... http2` grows past the limit (22x at 64 copies, 15x at
# 32); YAML and app-server files load through ruamel and libcst, dearer per copy.
COPIES = {"nginx": 64, "apigee": 8, "backend": 16, "kubernetes": 8, "any": 64}
SPLIT_COPIES = 16  # a directory per copy (text that does not load): a run per file is dearer
VARIANTS = {
    "nginx": (DISTINCT, SHARED),
    "backend": (DISTINCT, SHARED),
    "apigee": (DISTINCT,),
    "kubernetes": (DISTINCT,),
    "any": (DISTINCT, SHARED),
}
EXCLUDED = {
    "live": "probes a running server: its cost is round trips to one endpoint, not a tree",
    "logs": "streams log lines: tests/bench/bench_logs.py holds 1 GiB to the rate of 100 MB",
    "render": "its cost is kubectl kustomize's or helm's build, a process per root "
    "(tests/bench/bench_kustomize.py times 50 overlays against kubectl alone); what a build "
    "renders is checked by the apigee and kubernetes rules, guarded here",
    "paths": "its examples are shell sessions (a path that does not exist, a directory that "
    "cannot be listed, a read-only file), not configuration to replicate: one finding a path",
}
RULES = [
    pytest.param(code, id=code)
    for code, entry in sorted(ENTRIES.items())
    if entry["target"] not in EXCLUDED and entry["examples"]
]


@pytest.fixture
def one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forked helpers would take work out of the count."""
    monkeypatch.setattr(parallel, "MIN_FILES", 10**9)
    monkeypatch.setattr(run_checks, "MIN_FILES", 10**9)


def measure(
    tmp_path: Path, code: str, example: dict[str, Any], key: str, copies: int, variant: str, split: bool
) -> Counts:
    tree = replicate(example, key, copies, variant, split=split)
    directory = tmp_path / f"{key}-{variant}-{copies}{'-split' if split else ''}"
    write_tree(directory, tree)
    # An opt-in rule about other rules (TLS001) runs with the ones its example selects.
    select = [code, *(other for other in tree.settings.get("select", ()) if other != code)]
    settings = settings_for(directory, {**tree.settings, "select": select})
    return count_run(directory, settings, code)


def growth(tmp_path: Path, code: str, examples: list[int] | None = None) -> Iterator[tuple[str, bool]]:
    """For each example and variant: a line of counts, and whether it grew too much."""
    entry = ENTRIES[code]
    copies = COPIES[entry["target"]]
    for index, example in enumerate(entry["examples"]):
        if examples is not None and index not in examples:
            continue
        key = "bad" if "bad" in example else "good"
        for variant in VARIANTS[entry["target"]]:
            if variant != DISTINCT and _same_trees(example, key, copies, variant):
                continue  # nothing here has ports, maps or default_server: the same measure
            where = tmp_path / f"{index}"
            measure(where / "warm", code, example, key, 1, variant, False)  # imports and caches
            small = measure(where, code, example, key, copies, variant, False)
            large = measure(where, code, example, key, copies * GROWTH, variant, False)
            shape = f"{variant}, {copies} -> {copies * GROWTH} copies"
            if large.run < small.run * 2:  # nothing inside grew: text that does not load
                small = measure(where, code, example, key, SPLIT_COPIES, variant, True)
                large = measure(where, code, example, key, SPLIT_COPIES * GROWTH, variant, True)
                shape = f"a directory per copy, {SPLIT_COPIES} -> {SPLIT_COPIES * GROWTH}"
            run = large.run / small.run
            rule = large.rule / small.rule if small.rule else 0.0
            line = (
                f"examples[{index}].{key} ({shape}): rule {small.rule:,} -> {large.rule:,} ({rule:.1f}x), "
                f"run {small.run:,} -> {large.run:,} ({run:.1f}x)"
            )
            if run < 2:
                yield f"{line}\n  ^ the tree did not grow: tests/scaling.py cannot replicate it", True
            elif rule > LIMIT or run > LIMIT:
                yield f"{line}\n  ^ more than {LIMIT:g}x the work for {GROWTH}x the input", True
            else:
                yield line, False


def _same_trees(example: dict[str, Any], key: str, copies: int, variant: str) -> bool:
    return replicate(example, key, copies, variant).files == replicate(example, key, copies, DISTINCT).files


def test_every_target_is_guarded_or_excluded() -> None:
    targets = {entry["target"] for entry in ENTRIES.values()}
    assert targets <= set(COPIES) | set(EXCLUDED), "teach tests/scaling.py to replicate the new target"


@pytest.mark.usefixtures("one_process")
@pytest.mark.parametrize("code", RULES)
def test_rule_scales_linearly(tmp_path: Path, code: str) -> None:
    results = list(growth(tmp_path, code))
    assert not any(failed for _, failed in results), f"{code}:\n" + "\n".join(line for line, _ in results)


@pytest.mark.usefixtures("one_process")
def test_the_guard_catches_a_lookup_of_every_server_per_listen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NGX305 as it was (issue 17): the server of each `listen ... http2` found by
    scanning every server. 52x slower from 1,000 to 10,000 servers; the guard must see it."""
    from tlslint.checks import ngx305_http2_syntax_for_version as ngx305

    class Scan:
        def __init__(self, config: Any) -> None:
            self.servers = config.servers

        def get(self, key: int) -> Any:
            return next((s for s in self.servers if any(id(lst.directive) == key for lst in s.listens)), None)

    monkeypatch.setattr(ngx305, "listen_owners", Scan)
    results = list(growth(tmp_path, "NGX305", examples=[0]))
    assert all(failed for _, failed in results), "\n".join(line for line, _ in results)
