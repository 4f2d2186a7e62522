"""Read and tokenise many nginx files across processes.

Reading and tokenising are three quarters of parsing; the trees are built in
this process from the tokens, which forked workers send back through a pipe,
``marshal``-ed (plain tuples load about five times faster than a pickled tree).
This process scans a share of the files itself while the workers scan theirs,
and builds the workers' files as their messages arrive (so their bytes do not
pile up). Results are keyed by path, so the output does not depend on timing,
and a file a worker did not deliver (it died, say) is simply parsed here later.
No ``multiprocessing``: a pool costs its import and a process more than this.

Below ``MIN_FILES`` files the workers cost more than they save; the threshold
comes from ``tests/bench/bench_parallel.py`` (see docs/performance.md).
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tlslint.sources.nginx.parser import Scanned, scan_file
from tlslint.sources.text import SourceError

MIN_FILES = 200
_CHUNK = 32  # files per message from a worker
_DRAIN_EVERY = 8  # own files scanned between reads of the workers' pipes
# This process's share over a worker's. It builds every tree and a worker only
# tokenises, but a worker also pays for the fork (its first writes to each page
# copy it); at 1,000 files 0.85 left this process waiting 11 ms, 1.0 not at all,
# and 1.15 and 1.3 were slower (tests/bench/bench_parallel.py, 2 CPUs).
_OWN_WEIGHT = 1.0
_LENGTH = 8  # bytes of a message's length prefix

Take = Callable[[Path, "Scanned | SourceError"], None]
Result = tuple[str, "Scanned | None", "tuple[int, str] | None"]


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


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
    if workers < 2 or len(paths) < threshold or not _can_fork():
        return False
    own, shares = _split(paths, workers)
    children: list[_Worker] = []
    try:
        for share in shares:
            worker = _Worker.start(share, max_bytes)
            if worker is None:  # no fork: this process scans that share itself
                own = [*own, *share]
            else:
                children.append(worker)
        for index, path in enumerate(own):
            take(path, _scan(path, max_bytes))
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


def _deliver(worker: _Worker, take: Take) -> None:
    for text_path, scanned, error in worker.results():
        path = Path(text_path)
        if error is not None:
            take(path, SourceError(path, error[0], error[1]))
        elif scanned is not None:
            take(path, scanned)


def _can_fork() -> bool:
    # Forking a process with threads can leave a lock held forever in the child.
    threading = sys.modules.get("threading")
    alone = threading is None or threading.active_count() == 1
    return sys.platform.startswith("linux") and alone


def _split(paths: Sequence[Path], workers: int) -> tuple[list[Path], list[list[Path]]]:
    own_size = round(len(paths) * _OWN_WEIGHT / (_OWN_WEIGHT + workers - 1))
    rest = paths[own_size:]
    size = -(-len(rest) // (workers - 1))
    return list(paths[:own_size]), [list(rest[i : i + size]) for i in range(0, len(rest), size)]


def _scan(path: Path, max_bytes: int) -> Scanned | SourceError:
    try:
        return scan_file(path, max_bytes)
    except SourceError as error:
        return error


class _Worker:
    """A forked process scanning ``share`` and writing length-prefixed messages."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid = pid
        self.pipe = pipe
        self.received = bytearray()
        self.done = False

    @classmethod
    def start(cls, share: list[Path], max_bytes: int) -> _Worker | None:
        try:
            reader, writer = os.pipe()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            os.close(reader)
            os.close(writer)
            return None
        if pid == 0:  # the worker: never returns
            os.close(reader)
            _work(share, max_bytes, writer)
        os.close(writer)
        os.set_blocking(reader, False)
        return cls(pid, reader)

    def drain(self, *, block: bool) -> None:
        """Move what the pipe holds into ``received``; with ``block``, up to its end."""
        if self.done:
            return
        if block:
            os.set_blocking(self.pipe, True)
        while True:
            try:
                data = os.read(self.pipe, 1 << 20)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.done = True
                return
            self.received += data

    def results(self) -> Iterator[Result]:
        """The whole messages received so far, decoded one at a time (the tokens of a
        few files alive at once); the start of a message not yet whole stays."""
        view, offset = memoryview(self.received), 0
        try:
            while offset + _LENGTH <= len(view):
                size = int.from_bytes(view[offset : offset + _LENGTH], "little")
                end = offset + _LENGTH + size
                if end > len(view):
                    break
                chunk: list[Result] = marshal.loads(view[offset + _LENGTH : end])
                offset = end
                yield from chunk
        finally:
            rest = bytes(view[offset:])
            view.release()
            self.received = bytearray(rest)

    def stop(self) -> None:
        os.close(self.pipe)
        if not self.done:  # interrupted: no one will read the rest
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _work(share: list[Path], max_bytes: int, pipe: int) -> None:
    """Scan ``share`` in chunks, each one message; leave without Python's shutdown
    (the parent's buffers and exit handlers are not this process's to run)."""
    try:
        for start in range(0, len(share), _CHUNK):
            chunk: list[Result] = []
            for path in share[start : start + _CHUNK]:
                scanned = _scan(path, max_bytes)
                if isinstance(scanned, SourceError):
                    chunk.append((str(path), None, (scanned.line, scanned.message)))
                else:
                    chunk.append((str(path), scanned, None))
            blob = marshal.dumps(chunk)
            _write_all(pipe, len(blob).to_bytes(_LENGTH, "little") + blob)
    except BaseException:  # the parent parses whatever did not arrive
        os._exit(1)
    os._exit(0)


def _write_all(pipe: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(pipe, view) :]
