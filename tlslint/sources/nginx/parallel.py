"""Read and tokenise many nginx files across processes.

Tokenising is two thirds of parsing; the tree is built in the parent from the
tokens, which workers send back through ``marshal`` (plain tuples load about
five times faster than a pickled tree). Workers are forked, so they start
without importing anything, and the results are keyed by path, so the output
does not depend on which worker finished first.

Below ``MIN_FILES`` files the pool costs more than it saves. Measured on this
project's 2-CPU machines with ``tests/bench/bench_parallel.py`` (reading and
parsing every file of a generated tree; workers' time over one process's):
1.00 at 300 files, 1.11 at 1,000, 1.04 at 1,500, 0.87-1.00 at 2,000, 0.87 at
5,000, 0.80 at 10,000. The parent's share (loading the tokens, building the
trees) bounds the gain; more CPUs would lower the break-even.
"""

from __future__ import annotations

import marshal
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from tlslint.sources.nginx.parser import Scanned, scan_file
from tlslint.sources.text import SourceError

MIN_FILES = 2000
# Small chunks: fewer tokens wait in the parent (10,000 files: 256 MB peak instead of 273).
_CHUNKS_PER_WORKER = 16


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def scan_in_parallel(
    paths: Sequence[Path],
    max_bytes: int,
    take: Callable[[Path, Scanned | SourceError], None],
    jobs: int | None = None,
    min_files: int = MIN_FILES,
) -> bool:
    """Scan ``paths`` in worker processes and hand each result to ``take`` as it
    arrives (the parent builds trees while the workers scan, and no more than a
    few chunks of tokens are alive at once). False, with nothing taken, when a
    pool would not pay (too few files, one CPU, no ``fork``) or cannot be made:
    callers then parse one file at a time, as they would anyway."""
    workers = min(jobs or available_cpus(), len(paths))
    if workers < 2 or len(paths) < min_files:
        return False
    import multiprocessing  # only here: a check of a few files never pays for it

    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    size = -(-len(paths) // (workers * _CHUNKS_PER_WORKER))
    chunks = [[str(p) for p in paths[i : i + size]] for i in range(0, len(paths), size)]
    try:
        pool = multiprocessing.get_context("fork").Pool(workers)
    except OSError:
        return False
    try:
        for blob in pool.imap_unordered(_scan_chunk, [(chunk, max_bytes) for chunk in chunks]):
            for text_path, scanned, error in marshal.loads(blob):
                path = Path(text_path)
                take(path, scanned if error is None else SourceError(path, error[0], error[1]))
        pool.close()
    finally:
        pool.terminate()
        pool.join()
    return True


def _scan_chunk(job: tuple[list[str], int]) -> bytes:
    text_paths, max_bytes = job
    results: list[tuple[str, Scanned | None, tuple[int, str] | None]] = []
    for text_path in text_paths:
        try:
            results.append((text_path, scan_file(Path(text_path), max_bytes), None))
        except SourceError as error:
            results.append((text_path, None, (error.line, error.message)))
    return marshal.dumps(results)
