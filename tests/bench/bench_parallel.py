"""Where parallel scanning starts to pay: one process against worker processes.

Not part of the unit tests. For each N, reads and parses every file of a
generated tree (``generate.nginx_tree``) through ``NginxFiles``, once with the
pool disabled and once with it forced, interleaved, and prints the medians and
their ratio. ``tlslint.sources.nginx.parallel.MIN_FILES`` comes from this table.

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

from tlslint import collector  # noqa: E402
from tlslint.sources.nginx import parallel  # noqa: E402
from tlslint.sources.nginx.loader import NginxFiles  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 2000, 5000, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"workers: {parallel.available_cpus()}")
    print("| files | one process | workers | ratio |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="tlslint-parallel-") as scratch:
        for size in args.sizes:
            tree = Path(scratch) / f"tree-{size}"
            nginx_tree(tree, size)
            paths = sorted(tree.rglob("*.conf"))
            serial: list[float] = []
            forked: list[float] = []
            for _ in range(args.repeat):
                serial.append(parse_all(paths, 10**9))
                forked.append(parse_all(paths, 2))
            one, many = statistics.median(serial), statistics.median(forked)
            print(f"| {len(paths):,} | {one:.3f} s | {many:.3f} s | {many / one:.2f} |")


if __name__ == "__main__":
    main()
