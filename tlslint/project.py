"""The project a file belongs to: where a search above it for its context ends.

A run given part of a tree (files named on the command line, as a pre-commit hook
passes them, or a directory) looks above what it was given for what a run from the
project's top would give it: the ``nginx.conf`` that includes a named file
(``tlslint.scope``), and the deployment files of a configuration
(``tlslint.deployment_near``). Every such search ends at the project root: the first
directory that holds the settings file (its ``exclude`` patterns and a run's scope are
relative to it) or ``.git`` (the work tree CI checks; nothing above it is in a clone of
the repository).

The searches differ only where no project root is found. An includer is proved by its
includes (they reach the file), so that search goes on to the file system's root
(``tlslint /etc/nginx/sites-enabled/default`` gets ``/etc/nginx/nginx.conf``). A
deployment file proves nothing about the files below it, so that search stops at the
current directory (what ``tlslint .`` walks), and a file outside it has only its own
directory searched (``project_directories``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tlslint.settings import Settings


def stops(settings: Settings) -> list[Path]:
    """The directories that end a search besides a ``.git`` one: the settings file's."""
    return [settings.base] if settings.source is not None else []


def is_root(directory: Path, stops: Collection[Path]) -> bool:
    """A project root: a stop, or a repository's work tree (one ``.git`` stat)."""
    return directory in stops or (directory / ".git").exists()


def upward(start: Path, stops: Collection[Path]) -> Iterator[tuple[Path, bool]]:
    """``start`` (resolved) and its parents, nearest first, each with whether it is the
    project root; the root is the last one (the file system's root where none is)."""
    for directory in (start, *start.parents):
        root = is_root(directory, stops)
        yield directory, root
        if root:
            return


def project_directories(
    start: Path, stops: Collection[Path], bounds: Collection[Path] | None = None
) -> Iterator[Path]:
    """``start`` (resolved) and its parents up to the project root, nearest first; with
    no project root, only those at or below one of ``bounds`` (resolved; by default the
    current directory, what ``tlslint .`` walks), and ``start`` alone when none holds it.
    Each is checked for ``.git`` only as the search reaches it."""
    bounds = bounds if bounds is not None else [Path.cwd().resolve()]
    held = [bound for bound in bounds if start.is_relative_to(bound)]
    top = min(held, key=lambda bound: len(bound.parts)) if held else None  # the highest holds the others
    inside = top is not None
    above: list[Path] = []  # beyond every bound: only if a project root is found
    for directory, root in upward(start, stops):
        if inside:
            yield directory
            inside = directory != top
        else:
            above.append(directory)
        if root:
            yield from above
            return
    if top is None:
        yield start
