"""Temporary files written beside their targets and renamed into place (fixed files,
the cache's shards and entries), and the sweep of those a killed run left.

A writer holds an exclusive ``flock`` on its temporary from just after creating it until
it is renamed into place; the kernel drops the lock when the writer dies (SIGKILL, or
SIGTERM's default, runs no cleanup). A sweep removes only temporaries no one holds.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TEMP_MARK = ".tlslint-"
TEMP_SUFFIX = ".tmp"
STALE_AFTER = 10.0  # seconds: a temporary this old whose writer holds no lock is removed


def remove_stale_temporaries(directory: Path) -> None:
    """Remove the temporary files that a killed run left in ``directory`` (beside the
    files it fixes, or among the cache's).

    Only those whose writer is gone: a writer holds a lock on its temporary file
    (``flock``) from just after creating it until it is renamed into place, and the
    kernel drops the lock when the writer dies. A temporary younger than
    ``STALE_AFTER`` seconds is left alone too, for the instant between its creation and
    its lock.
    """
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and TEMP_MARK in name and name.endswith(TEMP_SUFFIX)):
            continue
        try:
            descriptor = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            if now - os.fstat(descriptor).st_mtime >= STALE_AFTER and try_lock(descriptor):
                os.unlink(entry.path)
        except OSError:
            pass
        finally:
            os.close(descriptor)


def try_lock(descriptor: int, blocking: bool = False) -> bool:
    """An exclusive ``flock``; False when another process holds it (where there is no
    flock, every lock is had: the age of a temporary decides alone)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True
