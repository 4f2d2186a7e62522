"""Partial runs: the whole cross-file model, findings reported for part of it.

Two kinds of run check more than they report:

* **Files named on the command line** (a pre-commit hook passes the files a commit
  changes). An nginx file that an ``nginx.conf`` above it includes is checked in that
  includer's context, as nginx would load it, and the run reports the findings located
  in the named files and in the files they include.
* **``--changed-since REV``**: every path given is checked, and the run reports the
  findings located in the files changed since ``REV`` and in the files that include them
  (a changed snippet can make its includer wrong).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tlslint.paths import resolved
from tlslint.project import is_root, upward
from tlslint.sources.nginx.loader import NginxFiles, prefix_for
from tlslint.workspace.nginx import NginxConfig

MAIN_FILE = "nginx.conf"
IncludeGraph = dict[Path, set[Path]]  # resolved file -> resolved files it includes


@dataclass(frozen=True)
class Scope:
    """The files whose findings a run reports (resolved paths)."""

    files: frozenset[Path]
    includes: bool = False  # also the files these include, transitively
    includers: bool = False  # also the files whose includes reach these

    @classmethod
    def of(cls, paths: Iterable[Path], *, includes: bool = False, includers: bool = False) -> Scope:
        return cls(frozenset(p.resolve() for p in paths), includes=includes, includers=includers)

    def reported(self, graph: IncludeGraph) -> set[Path]:
        result = set(self.files)
        if self.includes:
            result |= reachable(graph, self.files)
        if self.includers:
            result |= reachable(reverse(graph), self.files)
        return result


def include_graph(files: NginxFiles, configs: Iterable[NginxConfig]) -> IncludeGraph:
    """Who includes whom, each include resolved against its own configuration's prefix."""
    graph: IncludeGraph = {}
    for config in configs:
        for path in config.files:
            parsed = files.parsed.get(path)
            if parsed is None:
                continue
            targets = graph.setdefault(path, set())
            for directive in parsed.includes:
                targets.update(p.resolve() for p in files.resolve_include(directive, config.prefix).paths)
    return graph


def reachable(graph: IncludeGraph, start: Iterable[Path]) -> set[Path]:
    """``start`` and every file reachable from it."""
    seen = set(start)
    stack = list(seen)
    while stack:
        for target in graph.get(stack.pop(), ()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def reverse(graph: IncludeGraph) -> IncludeGraph:
    reversed_graph: IncludeGraph = {}
    for source, targets in graph.items():
        for target in targets:
            reversed_graph.setdefault(target, set()).add(source)
    return reversed_graph


def find_includers(files: NginxFiles, named: Iterable[Path], stops: Iterable[Path]) -> list[Path]:
    """For each named nginx file, the nearest ``nginx.conf`` above it whose includes reach it.

    The search looks in the file's directory and each parent, and ends at the project
    root (``tlslint.project``: a stop, the settings file's directory, or a directory
    that holds ``.git``), or at the file system's root where there is none. Files are
    parsed through ``files``, so the run that follows reads each one once.
    """
    boundaries = {stop.resolve() for stop in stops}
    closures: dict[Path, set[Path]] = {}
    roots: list[Path] = []
    for path in (p.resolve() for p in named):
        if path.name == MAIN_FILE:
            continue  # a main file is a root itself
        for directory, _ in upward(path.parent, boundaries):
            candidate = (directory / MAIN_FILE).resolve()
            if candidate == path or not candidate.is_file():
                continue
            if candidate not in closures:
                closures[candidate] = _closure(files, candidate)
            if path in closures[candidate]:
                if candidate not in roots:
                    roots.append(candidate)
                break
    return roots


def find_directory_includers(
    files: NginxFiles, directories: Iterable[Path], walked: Iterable[Path], stops: Iterable[Path]
) -> list[Path]:
    """For each directory given, the nearest ``nginx.conf`` above it whose includes reach
    a file found in the walk (``cd sites-enabled && tlslint .`` gets the context that
    naming the files gets).

    The search starts in the directory's parent (an ``nginx.conf`` inside was walked) and
    ends as ``find_includers``'s does; a directory that is itself a stop or a repository
    root has no includer looked for above it.
    """
    boundaries = {stop.resolve() for stop in stops}
    found: set[Path] | None = None  # the walked files, resolved once a candidate is met
    roots: list[Path] = []
    for directory in (d.resolve() for d in directories):
        if is_root(directory, boundaries):
            continue
        for parent, _ in upward(directory.parent, boundaries):
            candidate = parent / MAIN_FILE
            if not candidate.is_file():
                continue
            candidate = candidate.resolve()
            if found is None:
                found = {resolved(p) for p in walked}
            if candidate in found:
                continue
            if not found.isdisjoint(_closure(files, candidate)):
                if candidate not in roots:
                    roots.append(candidate)
                break
    return roots


def _closure(files: NginxFiles, root: Path) -> set[Path]:
    """Every file that ``root`` includes, transitively, with ``root``'s prefix (as the run loads it)."""
    prefix = prefix_for(root)
    seen = {root}
    stack = [root]
    while stack:
        parsed = files.get(stack.pop())
        if parsed is None:
            continue
        for directive in parsed.includes:
            for target in files.resolve_include(directive, prefix).paths:
                resolved = target.resolve()
                if resolved not in seen:
                    seen.add(resolved)
                    stack.append(resolved)
    return seen
