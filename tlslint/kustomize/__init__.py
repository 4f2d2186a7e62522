"""Kustomize: which builds a tree has, rendered by the real engine, findings mapped back.

``graph`` reads the kustomization files (never writes them) and finds the buildable
roots; ``render`` runs ``kubectl kustomize`` (or ``kustomize build``) on each through
a temporary wrapper that adds origin annotations; ``origin`` maps a field of a
rendered resource to the file and line that set it (the resource's own file, or the
patch that set the field).

Importing this package is cheap; nothing here is imported unless a kustomization is
in scope.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from tlslint.paths import resolved

# The file names kustomize looks for in a directory, in its order.
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def kustomization_in(directory: Path) -> Path | None:
    """The kustomization file of ``directory``, as kustomize picks it."""
    for name in KUSTOMIZATION_NAMES:
        candidate = directory / name
        if os.path.isfile(candidate):
            return candidate
    return None


def enclosing(path: Path, stops: Iterable[Path]) -> Path | None:
    """The nearest kustomization file in ``path``'s directory or above it, up to a stop
    (the settings file's directory) or a repository root: a file there may be one a
    build reads (kustomize reads files only inside a kustomization's directory)."""
    boundaries = {resolved(stop) for stop in stops}
    start = resolved(path)
    for directory in (start.parent, *start.parent.parents):
        found = kustomization_in(directory)
        if found is not None:
            return found
        if directory in boundaries or (directory / ".git").exists():
            return None
    return None
