"""Resolved paths, computed once per run.

``Path.resolve()`` walks the file system (realpath) and is called for every
file, include and finding; within one run a path resolves to the same place.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_RESOLVED: dict[str, Path] = {}  # absolute path -> where it resolves
_BY_PATH: dict[Path, Path] = {}  # the same, for absolute Path objects
# Relative Path objects (a walk of "." yields them), valid while the working directory
# is ``_RELATIVE_TO``: abspath's join and normpath were a twentieth of a cold check.
_BY_RELATIVE: dict[Path, Path] = {}
_RELATIVE_TO = ""
_PINNED = ""  # the working directory for the length of a run (``working_directory_pinned``)
_LIMIT = 65536  # a long-lived process (the API) starts over past this many


def resolved(path: Path) -> Path:
    found = _BY_PATH.get(path)  # an absolute Path asked again: no abspath to compute
    if found is not None:
        return found
    if isinstance(path, Path) and not path.is_absolute():
        return _resolved_relative(path)
    # Keyed on the absolute path: "." means another place after a chdir.
    found = resolved_text(os.path.abspath(path))
    if isinstance(path, Path):  # absolute: a relative one was answered above
        if len(_BY_PATH) >= _LIMIT:
            _BY_PATH.clear()
        _BY_PATH[path] = found
    return found


def _resolved_relative(path: Path) -> Path:
    global _RELATIVE_TO
    here = _PINNED or os.getcwd()
    if here != _RELATIVE_TO:  # "." is another place after a chdir
        _BY_RELATIVE.clear()
        _RELATIVE_TO = here
    found = _BY_RELATIVE.get(path)
    if found is None:
        found = resolved_text(os.path.normpath(os.path.join(here, path)))
        if len(_BY_RELATIVE) >= _LIMIT:
            _BY_RELATIVE.clear()
        _BY_RELATIVE[path] = found
    return found


@contextmanager
def working_directory_pinned() -> Iterator[None]:
    """Ask for the working directory once for a whole run: tlslint never changes it, and a
    system call for each relative path was 6 % of a warm check of 10,000 hosts."""
    global _PINNED
    outer = _PINNED
    _PINNED = os.getcwd()
    try:
        yield
    finally:
        _PINNED = outer


def resolved_text(absolute: str) -> Path:
    """Where the normalised absolute path ``absolute`` resolves, asked of the file system once."""
    found = _RESOLVED.get(absolute)
    if found is None:
        if len(_RESOLVED) >= _LIMIT:
            forget()
        found = _RESOLVED[absolute] = Path(os.path.realpath(absolute))
    return found


def remember(path: Path, absolute: str, real: Path, cwd: str) -> Path:
    """Record where ``path`` (``absolute``, made while the working directory was ``cwd``)
    resolves, known without asking the file system: a directory walk knows a plain
    file's place from its directory's (realpath would lstat every component of every
    file's path). Where it resolves: ``real``, or what was known already."""
    global _RELATIVE_TO
    found = _RESOLVED.get(absolute)
    if found is None:
        found = real
        if len(_RESOLVED) < _LIMIT:
            _RESOLVED[absolute] = real
    if len(_BY_PATH) < _LIMIT:
        _BY_PATH[found] = found  # a real path resolves to itself
    if path.is_absolute():
        if len(_BY_PATH) < _LIMIT:
            _BY_PATH[path] = found
    else:
        if cwd != _RELATIVE_TO:  # as _resolved_relative: its entries hold for one directory
            _BY_RELATIVE.clear()
            _RELATIVE_TO = cwd
        if len(_BY_RELATIVE) < _LIMIT:
            _BY_RELATIVE[path] = found
    return found


def known(absolute: str) -> Path | None:
    """The Path already made for ``absolute`` (normalised) when it resolves to itself, as
    the files a walk found do: one object per file, its text and hash computed once
    (each first use of a new Path's text or hash raises and catches an AttributeError)."""
    found = _RESOLVED.get(absolute)
    return found if found is not None and os.fspath(found) == absolute else None


def forget() -> None:
    """Drop cached resolutions (after files were created or moved)."""
    _RESOLVED.clear()
    _BY_PATH.clear()
    _BY_RELATIVE.clear()


def user_cache_dir() -> Path:
    """tlslint's directory in the user's cache (``$XDG_CACHE_HOME/tlslint``): what a
    repository must not be able to plant (the cache key, validated settings)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tlslint"
