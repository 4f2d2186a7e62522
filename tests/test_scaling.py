"""The scaling guard: every rule linear in its input, proven from its catalogue examples.

For every rule with configuration examples, each ``bad`` and ``good`` example is
replicated (tests/scaling.py) into trees of 1, k and 8k copies, checked with that
rule alone, and the work of the rule's check and of the whole run is counted
(lines and calls, not time: the same on a loaded 2-core runner as on an idle one).
What each copy adds is compared (``per_copy_growth``), so that what a run costs
whatever its size does not hide growth: linear work grows 8x, quadratic about 64x;
the guard fails above 16x, and above 10x on the large nginx trees, where a quadratic
term too small for 16x shows (``STRICT_LIMIT``). A rule is covered the day its catalogue entry has
examples: a target that cannot be replicated fails here until it is taught or
excluded with a reason.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

import pytest
from helpers import settings_for
from scaling import (
    DISTINCT,
    SHARED,
    Counts,
    count_parse,
    count_run,
    example_files,
    is_nginx,
    replicate,
    write_tree,
)

from tlslint import catalogue, forks, run_checks
from tlslint.sources.nginx import parallel, parser
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python import prefetch

ENTRIES = catalogue.load_entries()
GROWTH = 8
LIMIT = 16.0  # the issue's: quadratic work grows about 64x
# Where the trees are large (64 and 512 copies), every linear rule measures 7.7 to 8.4x
# (all 469 measures, 2026-12-06) and a quadratic term too small for 16x still shows:
# NGX107's scan of every zone for each cache line it moves measured 11.2x, NGX101's old
# scan of every server for each server's default 11.8x. The YAML and app-server trees
# (8 and 64 copies) are small enough for a rule's bounded steps to show (APG104 compares
# every route name up to 16 routes, 32 of them beyond: 12.9x): 16x there.
STRICT_LIMIT = {"nginx": 10.0, "any": 10.0}
# Copies in the middle tree, by target: enough that NGX305's old scan of every server
# for each `listen ... http2` grows past the limit (20x at 64 copies, 15x at 32), and
# GW103's old comparison of each routed host with every server name (16.3x at 8, 23x
# at 16); YAML and app-server files load through ruamel and libcst, dearer per copy.
COPIES = {"nginx": 64, "apigee": 8, "backend": 8, "kubernetes": 8, "any": 64}
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


def _one_process() -> None:
    """Forked helpers would take work out of the count."""
    parallel.MIN_FILES = prefetch.MIN_FILES = run_checks.MIN_FILES = 10**9


@pytest.fixture
def one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in (parallel, prefetch, run_checks):
        monkeypatch.setattr(module, "MIN_FILES", 10**9)


@pytest.fixture(scope="module")
def measured(request: pytest.FixtureRequest) -> Iterator[dict[str, list[AsyncResult[tuple[str, bool]]]]]:
    """Work is counted, not timed: the same in any process, busy or idle. So the
    examples of every rule this session tests are measured side by side from the
    start, by a worker per CPU (forked: tlslint and the catalogue as this process has
    them), and each test waits for its own. Empty where there is one CPU."""
    cpus = forks.available_cpus()
    if cpus < 2 or not forks.can_fork():
        yield {}
        return
    codes = [
        item.callspec.params["code"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_rule_scales_linearly" and hasattr(item, "callspec")
    ]
    where = request.getfixturevalue("tmp_path_factory").mktemp("scaling")
    with multiprocessing.get_context("fork").Pool(min(cpus, 4), initializer=_one_process) as pool:
        yield {
            code: [pool.apply_async(_task, (task,)) for task in tasks(where / code, code)] for code in codes
        }


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


# Where, the rule, its example's index and key, the copies, the variant.
Task = tuple[Path, str, int, str, int, str]


def tasks(tmp_path: Path, code: str, examples: list[int] | None = None) -> list[Task]:
    """What to measure for ``code``: each example and variant."""
    entry = ENTRIES[code]
    copies = COPIES[entry["target"]]
    found = []
    for index, example in enumerate(entry["examples"]):
        if examples is not None and index not in examples:
            continue
        key = "bad" if "bad" in example else "good"
        for variant in VARIANTS[entry["target"]]:
            if variant != DISTINCT and _same_trees(example, key, copies, variant):
                continue  # nothing here has ports, maps or default_server: the same measure
            found.append((tmp_path / f"{index}", code, index, key, copies, variant))
    return found


def growth(tmp_path: Path, code: str, examples: list[int] | None = None) -> list[tuple[str, bool]]:
    """For each example and variant: a line of counts, and whether it grew too much."""
    return [_task(task) for task in tasks(tmp_path, code, examples)]


def _task(task: Task) -> tuple[str, bool]:
    where, code, index, key, copies, variant = task
    return _growth(where, code, ENTRIES[code]["examples"][index], key, copies, variant, index)


def _growth(
    where: Path, code: str, example: dict[str, Any], key: str, copies: int, variant: str, index: int
) -> tuple[str, bool]:
    measure(where / "warm", code, example, key, 1, variant, False)  # imports and caches
    sizes = (1, copies, copies * GROWTH)
    one, small, large = (measure(where, code, example, key, n, variant, False) for n in sizes)
    shape = f"{variant}, 1/{copies}/{copies * GROWTH} copies"
    if large.run - small.run < one.run // 100:  # nothing inside grew: text that does not load
        sizes = (1, SPLIT_COPIES, SPLIT_COPIES * GROWTH)
        one, small, large = (measure(where, code, example, key, n, variant, True) for n in sizes)
        shape = f"a directory per copy, 1/{SPLIT_COPIES}/{SPLIT_COPIES * GROWTH}"
    rule = per_copy_growth(one.rule, small.rule, large.rule, sizes)
    run = per_copy_growth(one.run, small.run, large.run, sizes)
    line = (
        f"examples[{index}].{key} ({shape}): rule {one.rule:,}/{small.rule:,}/{large.rule:,} ({rule:.1f}x), "
        f"run {one.run:,}/{small.run:,}/{large.run:,} ({run:.1f}x)"
    )
    if large.run - small.run < one.run // 100:
        return f"{line}\n  ^ the tree did not grow: tests/scaling.py cannot replicate it", True
    limit = STRICT_LIMIT.get(ENTRIES[code]["target"], LIMIT)
    if rule > limit or run > limit:
        return f"{line}\n  ^ more than {limit:g}x the work for {GROWTH}x the input", True
    return line, False


def per_copy_growth(one: int, small: int, large: int, sizes: tuple[int, int, int]) -> float:
    """How the work grows for ``GROWTH`` times the copies, without what a run costs
    whatever its size (which hides growth in small trees): the work each copy adds
    between the two larger trees over the work each adds between the two smaller ones,
    times ``GROWTH``. Linear work gives exactly ``GROWTH``; quadratic, about 8 times it."""
    early = (small - one) / (sizes[1] - sizes[0])
    late = (large - small) / (sizes[2] - sizes[1])
    if early <= 0:
        return 0.0 if late <= 0 else float("inf")
    return GROWTH * late / early


def _same_trees(example: dict[str, Any], key: str, copies: int, variant: str) -> bool:
    return replicate(example, key, copies, variant).files == replicate(example, key, copies, DISTINCT).files


def test_every_target_is_guarded_or_excluded() -> None:
    targets = {entry["target"] for entry in ENTRIES.values()}
    assert targets <= set(COPIES) | set(EXCLUDED), "teach tests/scaling.py to replicate the new target"


@pytest.mark.usefixtures("one_process")
@pytest.mark.parametrize("code", RULES)
def test_rule_scales_linearly(
    tmp_path: Path, code: str, measured: dict[str, list[AsyncResult[tuple[str, bool]]]]
) -> None:
    results = [result.get() for result in measured[code]] if code in measured else growth(tmp_path, code)
    assert not any(failed for _, failed in results), f"{code}:\n" + "\n".join(line for line, _ in results)


def test_the_nginx_parser_is_linear() -> None:
    """The rules' runs count the characters the nginx parser is given, not its work
    (tests/scaling.py): its work is held linear here, over every nginx text of the
    catalogue that parses, one after another, 1, 2 and 16 times (past the size from
    which a text is lexed in chunks; 10x measured)."""
    texts = {
        text
        for entry in ENTRIES.values()
        for example in entry["examples"]
        for key in ("bad", "good", "fixed")
        if key in example
        for path, text in example_files(example, key).items()
        if is_nginx(path)
    }
    unit = "\n".join(sorted(text for text in texts if _parses(text))) + "\n"
    sizes = (1, 2, 16)
    assert len(unit) * sizes[-1] > parser.CHUNKED_ABOVE > len(unit) * sizes[1]
    count_parse(unit)  # imports and caches
    one, small, large = (count_parse(unit * n) for n in sizes)
    growth = per_copy_growth(one, small, large, sizes)
    assert growth <= LIMIT, f"the parser's work: {one:,}/{small:,}/{large:,} calls ({growth:.1f}x)"


def _parses(text: str) -> bool:
    try:
        parser.parse_text(SourceText(Path("example.conf"), text))
    except parser.ParseError:
        return False
    return True


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
    results = growth(tmp_path, "NGX305", examples=[0])  # here, where the scan is
    assert all(failed for _, failed in results), "\n".join(line for line, _ in results)


@pytest.mark.usefixtures("one_process")
def test_the_guard_catches_a_scan_of_every_zone_per_moved_cache_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NGX107 as it was: each cache line it moves found its zone's declarations among every
    zone of the configuration. 11.2x, which 16x let through; the strict limit must not."""
    from tlslint.checks import _placement
    from tlslint.checks import ngx103_session_cache_too_small as ngx103

    def scan(config: Any) -> dict[tuple[str, str], list[Any]]:
        found: dict[tuple[str, str], list[Any]] = {}
        for zone in _placement.declared_zones(config):  # every zone, for each line asked
            found.setdefault((zone.name, zone.use), []).append(zone.directive)
        return found

    monkeypatch.setattr(ngx103, "zone_declarations", scan)
    results = growth(tmp_path, "NGX107", examples=[1])  # a small cache on a virtual server: resized
    assert all(failed for _, failed in results), "\n".join(line for line, _ in results)
