"""What each rule costs on one tree: the checks timed one by one, in one process.

Not part of the unit tests. The tree is loaded once (as ``tlslint check`` loads it,
helpers off); then each check runs alone, ``--repeat`` times, on that workspace,
with the indexes that checks share (``per_config``) dropped before every run, so
that a rule is charged for the indexes it asks for. The minimum of the runs is
reported, with the loading phases, so that the next regression names itself.

    python tests/bench/rules.py TREE [--repeat 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any

from tlslint import catalogue, collector, engine, run_checks
from tlslint.checks import load_checks
from tlslint.discovery import discover
from tlslint.filters import Filters
from tlslint.settings import from_mapping
from tlslint.sources.nginx import parallel
from tlslint.sources.nginx.loader import NginxFiles
from tlslint.workspace import Workspace


def timings(tree: Path, repeat: int) -> dict[str, dict[str, float]]:
    """{"phases": {phase: seconds}, "rules": {code: seconds}}, minima of ``repeat`` runs."""
    parallel.MIN_FILES = run_checks.MIN_FILES = 10**9  # one process: each rule's own time
    settings = from_mapping({}, None)
    settings.base = tree
    index = catalogue.index()
    phases: dict[str, float] = {}
    rules: dict[str, float] = {}
    clock = time.perf_counter
    for _ in range(repeat):
        with collector.paused():
            start = clock()
            found = discover([tree], settings.exclude, settings.base)
            discovered = clock()
            files = NginxFiles(max_bytes=settings.max_file_size, roots=settings.nginx_roots)
            files.prefetch(found.nginx)
            for path in found.nginx:
                files.get(path)
            parsed = clock()
            configs = engine.load_nginx(files, found.nginx)
            workspace = Workspace(nginx=configs, nginx_version=settings.nginx_version)
            filters = Filters(settings, files)
            linked = clock()
            engine._add_apigee(workspace, filters, found.yaml, settings, None, [tree])
            engine._add_backends(workspace, filters, found.backend, settings, None)
            loaded = clock()
            checks = load_checks(partial(_wanted, filters, workspace, index))
            for check in checks:  # once, for imports and the blocks' own lazy indexes
                run_checks._run(check, settings, workspace, filters)
            for check in checks:
                for config in workspace.nginx:
                    config.memo.clear()
                if workspace.backends is not None:
                    workspace.backends.memo.clear()
                began = clock()
                run_checks._run(check, settings, workspace, filters)
                rules[check.code] = min(rules.get(check.code, float("inf")), clock() - began)
        for name, seconds in (
            ("discovery", discovered - start),
            ("reading and parsing nginx files", parsed - discovered),
            ("building the configurations", linked - parsed),
            ("loading Apigee and app-server files", loaded - linked),
        ):
            phases[name] = min(phases.get(name, float("inf")), seconds)
    phases["checks, one after another"] = sum(rules.values())
    return {"phases": phases, "rules": dict(sorted(rules.items(), key=lambda item: -item[1]))}


def _wanted(filters: Filters, workspace: Workspace, index: dict[str, Any], code: str) -> bool:
    return filters.enabled(code) and engine._has_input(index[code].target, workspace)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tree", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the timings here too")
    args = parser.parse_args()
    found = timings(args.tree, args.repeat)
    if args.json:
        args.json.write_text(json.dumps(found, indent=1))
    for name, seconds in found["phases"].items():
        print(f"{name:40} {seconds * 1000:8.1f} ms")
    for code, seconds in found["rules"].items():
        print(f"{code:40} {seconds * 1000:8.1f} ms")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
