"""SIGTERM handled as Ctrl-C is, while files are written.

A cancelled CI job, ``timeout`` and ``docker stop`` send SIGTERM, whose default action
ends the process at once: a fixed file's temporary copy beside it (``fixing``) was left
behind, a dotfile that ``git add -A`` then commits. Raised as an exception where it
arrives, it unwinds through the ``finally`` that removes the copy; the run exits 143.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwound as an interrupt, exit 128 + SIGTERM."""

    exit_code = 128 + signal.SIGTERM


def exit_code(interrupt: KeyboardInterrupt) -> int:
    return Terminated.exit_code if isinstance(interrupt, Terminated) else 128 + signal.SIGINT


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` (in the main thread, where Python
    runs signal handlers; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
