"""Resolved paths, computed once per run.

``Path.resolve()`` walks the file system (realpath) and is called for every
file, include and finding; within one run a path resolves to the same place.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=65536)
def _resolve(text: str) -> Path:
    return Path(os.path.realpath(text))


def resolved(path: Path) -> Path:
    # Keyed on the absolute path: "." means another place after a chdir.
    return _resolve(os.path.abspath(path))


def forget() -> None:
    """Drop cached resolutions (after files were created or moved)."""
    _resolve.cache_clear()


def user_cache_dir() -> Path:
    """tlslint's directory in the user's cache (``$XDG_CACHE_HOME/tlslint``): what a
    repository must not be able to plant (the cache key, validated settings)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tlslint"
