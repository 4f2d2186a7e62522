"""Where forked helpers start to pay: one process against helpers.

Not part of the unit tests. For each N, on a generated tree
(``generate.nginx_tree``), interleaved, medians and their ratio:

- scanning: reads and parses every file through ``NginxFiles``, with workers
  disabled and forced (``tlslint.sources.nginx.parallel.MIN_FILES``);
- checks: a whole run (``tlslint.engine.run``) with the upstream checks' helper
  disabled and forced, scanning as usual (``tlslint.run_checks.MIN_FILES``).

    python tests/bench/bench_parallel.py --sizes 300 1000 2000 5000 10000 --repeat 5
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import nginx_tree  # noqa: E402

from tlslint import collector, run_checks  # noqa: E402
from tlslint.engine import run  # noqa: E402
from tlslint.settings import from_mapping  # noqa: E402
from tlslint.sources.nginx import parallel  # noqa: E402
from tlslint.sources.nginx.loader import NginxFiles  # noqa: E402

SCAN_MIN_FILES = parallel.MIN_FILES  # as shipped: whole runs scan as users' runs do


def parse_all(paths: list[Path], min_files: int) -> float:
    parallel.MIN_FILES = min_files
    files = NginxFiles(max_bytes=2**24)
    start = time.perf_counter()
    with collector.paused():  # as in a run
        files.prefetch(paths)
        for path in paths:
            files.get(path)
    elapsed = time.perf_counter() - start
    del files
    gc.collect()
    return elapsed


def check_all(tree: Path, min_files: int) -> float:
    parallel.MIN_FILES = SCAN_MIN_FILES
    run_checks.MIN_FILES = min_files
    settings = from_mapping({}, None)
    settings.base = tree
    start = time.perf_counter()
    run([tree], settings)
    elapsed = time.perf_counter() - start
    gc.collect()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 2000, 5000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"CPUs: {parallel.available_cpus()}")
    rows: list[str] = []
    check_rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tlslint-parallel-") as scratch:
        for size in args.sizes:
            tree = Path(scratch) / f"tree-{size}"
            nginx_tree(tree, size)
            paths = sorted(tree.rglob("*.conf"))
            serial: list[float] = []
            forked: list[float] = []
            alone: list[float] = []
            helped: list[float] = []
            for _ in range(args.repeat):
                serial.append(parse_all(paths, 10**9))
                forked.append(parse_all(paths, 2))
                alone.append(check_all(tree, 10**9))
                helped.append(check_all(tree, 0))
            one, many = statistics.median(serial), statistics.median(forked)
            rows.append(f"| {len(paths):,} | {one:.3f} s | {many:.3f} s | {many / one:.2f} |")
            one, many = statistics.median(alone), statistics.median(helped)
            check_rows.append(f"| {len(paths):,} | {one:.3f} s | {many:.3f} s | {many / one:.2f} |")
    print("\nscanning\n\n| files | one process | with workers | ratio |\n|---|---|---|---|")
    print("\n".join(rows))
    print("\nwhole run, checks\n\n| files | one process | with the helper | ratio |\n|---|---|---|---|")
    print("\n".join(check_rows))


if __name__ == "__main__":
    main()
