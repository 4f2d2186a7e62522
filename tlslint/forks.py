"""Forked helper processes that send bytes back through a pipe.

A run on 2 CPUs can tokenise half its files, or run half its checks, in a
fork: the child starts with everything already imported and built, so only
the results travel, as length-prefixed messages. ``multiprocessing`` would cost
its import and a process more than the work it saves below a few thousand
files. Whatever a helper does not deliver (it died, it failed) the caller does
itself, so a helper can only ever save time. A helper dies with its parent: a run
killed (SIGKILL, the OOM killer) leaves no helper working on behind it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

_LENGTH = 8  # bytes of a message's length prefix
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Linux, and no other thread (a fork can leave a lock held forever in the child)."""
    threading = sys.modules.get("threading")
    alone = threading is None or threading.active_count() == 1
    return sys.platform.startswith("linux") and alone


class Helper:
    """A forked process writing the messages ``produce`` yields; see ``start``."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid = pid
        self.pipe = pipe
        self.received = bytearray()
        self.done = False

    @classmethod
    def start(cls, produce: Callable[[], Iterator[bytes]]) -> Helper | None:
        """Fork a process that writes each message of ``produce()`` and exits; None
        when no process or pipe can be had (the caller then does the work)."""
        try:
            reader, writer = os.pipe()
        except OSError:
            return None
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            os.close(reader)
            os.close(writer)
            return None
        if pid == 0:  # the helper: never returns
            os.close(reader)
            _die_with(parent)
            _serve(produce, writer)
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

    def messages(self) -> Iterator[memoryview]:
        """The whole messages received so far, one at a time (each valid until the
        next); the start of a message not yet whole stays for later."""
        view, offset = memoryview(self.received), 0
        try:
            while offset + _LENGTH <= len(view):
                size = int.from_bytes(view[offset : offset + _LENGTH], "little")
                end = offset + _LENGTH + size
                if end > len(view):
                    break
                yield view[offset + _LENGTH : end]
                offset = end
        finally:
            rest = bytes(view[offset:])
            view.release()
            self.received = bytearray(rest)

    def stop(self) -> None:
        """Close the pipe and reap the process (killed first if it is not done)."""
        os.close(self.pipe)
        if not self.done:  # interrupted: no one will read the rest
            import signal

            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _die_with(parent: int) -> None:
    """Have the kernel SIGKILL this helper when its parent dies (``PR_SET_PDEATHSIG``),
    and leave at once if the parent died before that was set. The checks' helper writes
    its one message at the end of its work, so a closed pipe alone would tell it too late."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (ImportError, OSError, AttributeError):  # not Linux: the pipe closes, the helper ends
        pass
    if os.getppid() != parent:
        os._exit(1)


def _serve(produce: Callable[[], Iterator[bytes]], pipe: int) -> None:
    """Write every message, then leave without Python's shutdown: the parent's
    buffers and exit handlers are not this process's to run."""
    try:
        for message in produce():
            _write_all(pipe, len(message).to_bytes(_LENGTH, "little") + message)
    except BaseException:  # the parent does whatever did not arrive
        os._exit(1)
    os._exit(0)


def _write_all(pipe: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(pipe, view) :]
