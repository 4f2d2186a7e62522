"""Concurrent ``--fix`` runs on one tree take turns.

Two runs that fix the same files at once would each read the files, then write their
own edits over the other's (a lost update), and their temporaries would meet in the
same directories. ``--fix`` therefore holds an advisory lock (``flock``) on each
directory it may write in (``tlslint.fixing.write_roots``) from before it reads until
it has written; a second run waits, and says so. The lock of a directory is a file in
the user's cache (``$XDG_CACHE_HOME/tlslint/locks/``, named by a hash of the directory's
resolved path), so the tree itself gets no lock file and a read-only tree can be locked.

Roots may nest (``tlslint --fix .`` and ``tlslint --fix conf/`` from a hook): a run
locks each of its roots exclusively and every directory above them shared, so a run
on a directory waits for runs below it and the other way round, while runs on
disjoint directories do not wait at all. Locks are taken in one global order (sorted
paths), so two runs never wait for each other. The kernel drops a lock when its
process ends, however it ends: a killed run never leaves one behind.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from tlslint.paths import user_cache_dir

LOCKS = "locks"
UNLOCKED = "a concurrent --fix is not kept out"


class RootLock:
    """The locks one run holds; ``release`` (or the end of the process) drops them."""

    def __init__(self, descriptors: list[int]) -> None:
        self.descriptors = descriptors

    def release(self) -> None:
        while self.descriptors:
            os.close(self.descriptors.pop())

    def __del__(self) -> None:  # an exception between lock and release: not held forever
        self.release()


def lock_roots(roots: Iterable[Path], say: Callable[[str], None]) -> RootLock:
    """Lock ``roots`` (resolved directories) for writing, waiting for other runs; ``say``
    tells the user once when it has to wait, or that locking is not possible here (the
    run then goes on unlocked, as it did before locks)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return RootLock([])
    wanted: dict[Path, int] = {}
    for root in roots:
        for above in root.parents:
            wanted.setdefault(above, fcntl.LOCK_SH)
    for root in roots:
        wanted[root] = fcntl.LOCK_EX
    directory = user_cache_dir() / LOCKS
    held = RootLock([])
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        say(f"cannot lock the paths to fix ({directory}: {error.strerror}); {UNLOCKED}")
        return held
    waited = False
    for path in sorted(wanted, key=str):
        mode = wanted[path]
        name = hashlib.blake2b(str(path).encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()
        try:
            descriptor = os.open(directory / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as error:
            say(f"cannot lock {path} ({error.strerror}); {UNLOCKED}")
            continue
        held.descriptors.append(descriptor)
        try:
            fcntl.flock(descriptor, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            if not waited:
                where = "in or below" if mode == fcntl.LOCK_EX else "in"
                say(f"another tlslint --fix is writing {where} {path}; waiting for it to finish")
                waited = True
            fcntl.flock(descriptor, mode)
    return held
