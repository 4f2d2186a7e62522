"""Read and tokenise many nginx files across processes.

Reading and tokenising are three quarters of parsing; the trees are built in
this process from the tokens, which forked workers send back through a pipe,
``marshal``-ed (plain tuples load about five times faster than a pickled tree).
This process scans a share of the files itself while the workers scan theirs,
and builds the workers' files as their messages arrive (so their bytes do not
pile up). Results are keyed by path, so the output does not depend on timing,
and a file a worker did not deliver (it died, say) is simply parsed here later.
The processes are ``tlslint.forks`` helpers.

Below ``MIN_FILES`` files the workers cost more than they save. It was 200 files
(``tests/bench/bench_parallel.py``, docs/performance.md) while the scan was the only
helper; since the checks and the Python configs have helpers of their own, the three
compete for two CPUs on a small tree: whole cold checks of both generators' trees, 5
runs each, were 0.02 to 0.04 s slower with the scan shared at 1,000 files and 0.04 to
0.09 s faster at 3,000 (0.15 to 0.2 s at 10,000).
"""

from __future__ import annotations

import marshal
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path

from tlslint.forks import Helper, available_cpus, can_fork
from tlslint.sources.nginx.parser import Scanned, scan_file
from tlslint.sources.text import SourceError

__all__ = ["MIN_FILES", "available_cpus", "scan_in_parallel"]

MIN_FILES = 2000
_CHUNK = 32  # files per message from a worker
_DRAIN_EVERY = 8  # own files scanned between reads of the workers' pipes

# This process's share over a worker's. It builds every tree and a worker only
# tokenises, but a worker also pays for the fork (its first writes to each page
# copy it). At 1,000 files (tests/bench/bench_parallel.py, 2 CPUs) 0.5 and 0.7 left
# this process waiting 20 and 6 ms for the worker; 0.85 and 1.0 not at all, and
# 0.85 finished first.
_OWN_WEIGHT = 0.85

Take = Callable[[Path, "Scanned | SourceError"], None]
Result = tuple[str, "Scanned | None", "tuple[int, str] | None"]


def scan_in_parallel(
    paths: Sequence[Path],
    max_bytes: int,
    take: Take,
    jobs: int | None = None,
    min_files: int | None = None,
) -> bool:
    """Scan ``paths`` here and in forked workers, handing each result to ``take``.

    False, with nothing taken, when workers would not pay (too few files, one CPU)
    or cannot be forked safely (not Linux, threads running): callers then parse one
    file at a time, as they would anyway.
    """
    workers = min(jobs or available_cpus(), len(paths))
    threshold = MIN_FILES if min_files is None else min_files  # read now: benchmarks set it
    if workers < 2 or len(paths) < threshold or not can_fork():
        return False
    own, shares = _split(paths, workers)
    children: list[Helper] = []
    try:
        for share in shares:
            worker = Helper.start(partial(_scan_share, share, max_bytes))
            if worker is None:  # no fork: this process scans that share itself
                own = [*own, *share]
            else:
                children.append(worker)
        for index, path in enumerate(own):
            scanned = _scan(path, max_bytes)
            if scanned is not None:  # None: a large file, built later while it is scanned
                take(path, scanned)
            if index % _DRAIN_EVERY == 0:
                for worker in children:
                    worker.drain(block=False)
                    _deliver(worker, take)  # trees built early free the bytes
        for worker in children:
            worker.drain(block=True)  # a message cut off by a worker's death stays unread
            _deliver(worker, take)
    finally:
        for worker in children:
            worker.stop()
    return True


def _deliver(worker: Helper, take: Take) -> None:
    """Build the files of every whole message received (a few files' tokens at once)."""
    for message in worker.messages():
        _take_chunk(marshal.loads(message), take)


def _take_chunk(chunk: list[Result], take: Take) -> None:
    for text_path, scanned, error in chunk:
        path = Path(text_path)
        if error is not None:
            take(path, SourceError(path, error[0], error[1]))
        elif scanned is not None:
            take(path, scanned)


def _split(paths: Sequence[Path], workers: int) -> tuple[list[Path], list[list[Path]]]:
    own_size = round(len(paths) * _OWN_WEIGHT / (_OWN_WEIGHT + workers - 1))
    rest = paths[own_size:]
    size = -(-len(rest) // (workers - 1))
    return list(paths[:own_size]), [list(rest[i : i + size]) for i in range(0, len(rest), size)]


def _scan(path: Path, max_bytes: int) -> Scanned | SourceError | None:
    try:
        return scan_file(path, max_bytes)
    except SourceError as error:
        return error


def _scan_share(share: list[Path], max_bytes: int) -> Iterator[bytes]:
    """In a worker: the share's results, a chunk of files a message."""
    for start in range(0, len(share), _CHUNK):
        chunk: list[Result] = []
        for path in share[start : start + _CHUNK]:
            scanned = _scan(path, max_bytes)
            if isinstance(scanned, SourceError):
                chunk.append((str(path), None, (scanned.line, scanned.message)))
            else:
                chunk.append((str(path), scanned, None))
        yield marshal.dumps(chunk)
