"""Partial runs: the whole cross-file model, findings reported for part of it.

Two kinds of run check more than they report:

* **Files named on the command line** (a pre-commit hook passes the files a commit
  changes), and **a directory given** below the project's root. An nginx file that an
  ``nginx.conf`` above it includes (else another nginx file in a directory above its
  own) is checked in that includer's context, as nginx would load it, and the run
  reports the findings located in the named files and in the files they include. An
  includer beside the file's directory is not looked for: that would take a walk of the
  whole project (docs/usage.md says what differs from a full run).
* **``--changed-since REV``**: every path given is checked, and the run reports the
  findings located in the files changed since ``REV``, in the files that include them
  (a changed snippet can make its includer wrong) and in those they include; a file
  deleted or renamed away is included by each file whose include names it (its path, or
  a glob it matched). A change to what every server of a configuration inherits
  (``shared_changes``) reports all of that configuration. What does not load is reported
  wherever it is (the engine).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tlslint.paths import resolved
from tlslint.project import is_root, project_directories, upward
from tlslint.sources.nginx.loader import NginxFiles, prefix_for
from tlslint.sources.nginx.model import Directive, ParsedFile
from tlslint.workspace.nginx import NginxConfig

MAIN_FILE = "nginx.conf"
IncludeGraph = dict[Path, set[Path]]  # resolved file -> resolved files it includes


@dataclass(frozen=True)
class Scope:
    """The files whose findings a run reports (resolved paths)."""

    files: frozenset[Path]
    includes: bool = False  # also the files these include, transitively
    includers: bool = False  # also the files whose includes reach these
    # Of the files gone, those whose text (as the revision had it) held directives other
    # than server and upstream blocks: spliced where every server inherits, what they
    # set is gone for all of them (``shared_changes``).
    gone_shared: frozenset[Path] = frozenset()

    @classmethod
    def of(cls, paths: Iterable[Path], *, includes: bool = False, includers: bool = False) -> Scope:
        return cls(frozenset(p.resolve() for p in paths), includes=includes, includers=includers)

    @property
    def absent(self) -> frozenset[Path]:
        """The files that are gone (deleted, or renamed away): their includers count too."""
        return frozenset(path for path in self.files if not os.path.lexists(path))

    def reported(self, graph: IncludeGraph) -> set[Path]:
        result = set(self.files)
        if self.includes:
            result |= reachable(graph, self.files)
        if self.includers:
            result |= reachable(reverse(graph), self.files)
        return result


def include_graph(
    files: NginxFiles, configs: Iterable[NginxConfig], absent: Collection[Path] = ()
) -> IncludeGraph:
    """Who includes whom, each include resolved against its own configuration's prefix;
    with ``absent`` (files deleted since a revision), also who included those: each
    include whose path or glob names one."""
    graph: IncludeGraph = {}
    for config in configs:
        for path, _, targets in _includes(files, config, absent):
            graph.setdefault(path, set()).update(targets)
    return graph


def _includes(
    files: NginxFiles, config: NginxConfig, absent: Collection[Path]
) -> Iterator[tuple[Path, Directive | None, list[Path]]]:
    """Each parsed file of ``config`` in splice order, with each of its includes and what
    that names (resolved; with ``absent``, also the gone files it named); a file without
    includes once, with None."""
    for path in config.files:
        parsed = files.parsed.get(path)
        if parsed is None:
            continue
        if not parsed.includes:
            yield path, None, []
        for directive in parsed.includes:
            targets = [p.resolve() for p in files.resolve_include(directive, config.prefix).paths]
            targets += files.names_absent(directive, config.prefix, absent)
            yield path, directive, targets


# Contexts whose own directives every server below inherits (and whose maps, geo
# blocks and log formats any server may use).
_SHARED_CONTEXTS = frozenset({"main", "http", "stream", "mail"})
# Blocks a change to which shows in findings located in the file itself, or in those of
# its includers (a server's own settings; an upstream's, whose users' findings carry a
# fix or a related place in its file).
_LOCAL_BLOCKS = frozenset({"server", "upstream"})


def shared_changes(files: NginxFiles, configs: Iterable[NginxConfig], scope: Scope) -> set[Path]:
    """The files of each configuration in which a changed file adds to what every server
    inherits: one spliced at the main, http, stream or mail level that holds a directive
    there other than a ``server`` or ``upstream`` block (``ssl_protocols``, a ``map``, an
    ``include``), or held one before it went (``Scope.gone_shared``). Each server of those
    configurations may then be judged differently, wherever its file is."""
    found: set[Path] = set()
    absent = scope.absent
    for config in configs:
        spliced = _splice_contexts(files, config, absent)
        if any(
            spliced.get(path) in _SHARED_CONTEXTS
            and (path in scope.gone_shared if path in absent else adds_shared(files.parsed.get(path)))
            for path in scope.files
        ):
            found.update(config.files)
    return found


def _splice_contexts(files: NginxFiles, config: NginxConfig, absent: Collection[Path]) -> dict[Path, str]:
    """The context each file of ``config`` is spliced into (its root's: "main"), by
    resolved path; a gone file by each include that named it."""
    contexts = {resolved(config.root.path): config.context}
    for path, directive, targets in _includes(files, config, absent):
        if directive is None:
            continue
        context = directive.parent.name if directive.parent is not None else contexts.get(path, "")
        for target in targets:
            contexts.setdefault(target, context)
    return contexts


def adds_shared(parsed: ParsedFile | None) -> bool:
    """The file holds a top-level directive other than a server or upstream block."""
    if parsed is None:
        return False  # it does not parse: reported wherever it is (the engine)
    return any(
        directive.block is None or directive.name not in _LOCAL_BLOCKS for directive in parsed.directives
    )


def gone_shared(absent: Iterable[Path], text_at: Callable[[Path], str | None]) -> frozenset[Path]:
    """Of the files ``absent``, those whose earlier text (``text_at``) adds to what every
    server inherits; one whose text is unknown or does not parse, too (what it set is
    not known)."""
    from tlslint.sources.nginx.model import SourceText
    from tlslint.sources.nginx.parser import parse_text
    from tlslint.sources.text import SourceError

    found: set[Path] = set()
    for path in absent:
        text = text_at(path)
        try:
            parsed = parse_text(SourceText(path, text)) if text is not None else None
        except SourceError:
            parsed = None
        if parsed is None or adds_shared(parsed):
            found.add(path)
    return frozenset(found)


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


def find_includers(
    files: NginxFiles, named: Iterable[Path], stops: Iterable[Path], nginx_in: NginxIn | None = None
) -> list[Path]:
    """For each named nginx file, the nearest ``nginx.conf`` above it whose includes reach it.

    The search looks in the file's directory and each parent, and ends at the project
    root (``tlslint.project``: a stop, the settings file's directory, or a directory
    that holds ``.git``), or at the file system's root where there is none. Files are
    parsed through ``files``, so the run that follows reads each one once.

    Where no ``nginx.conf`` includes it, ``nginx_in`` (the nginx files a walk finds in a
    directory) gives the other candidates: the nginx files of each directory above its
    own, up to the project root, whose includes reach it (``site.conf`` including
    ``h5bp/tls/certificate_files.conf`` in a chart's ``files/``); of a chain of them, the
    one no other includes, as the root run would load it. Its own directory's other
    files are not read for this (a directory of sites does not include itself, and a
    hook run on one site would parse them all).
    """
    search = _Search(files, stops, nginx_in)
    roots: list[Path] = []
    for path in (p.resolve() for p in named):
        if path.name == MAIN_FILE:
            continue  # a main file is a root itself
        above = project_directories(path.parent, search.boundaries)
        root = search.main_file({path}, path.parent) or search.other_file({path}, above, path.parent)
        if root is not None and root not in roots:
            roots.append(root)
    return roots


def find_directory_includers(
    files: NginxFiles,
    directories: Iterable[Path],
    walked: Iterable[Path],
    stops: Iterable[Path],
    nginx_in: NginxIn | None = None,
) -> list[Path]:
    """For each directory given, the nearest ``nginx.conf`` above it whose includes reach
    a file found in the walk (``cd sites-enabled && tlslint .`` gets the context that
    naming the files gets); where none does, another nginx file above it, as for
    ``find_includers``.

    The search starts in the directory's parent (an ``nginx.conf`` inside was walked) and
    ends as ``find_includers``'s does; a directory that is itself a stop or a repository
    root has no includer looked for above it.
    """
    search = _Search(files, stops, nginx_in)
    found: set[Path] | None = None  # the walked files, resolved once a candidate is met
    roots: list[Path] = []
    for directory in (d.resolve() for d in directories):
        if is_root(directory, search.boundaries):
            continue
        if found is None:
            found = {resolved(p) for p in walked}
        # Bounded by the directory given, too: with no project root, nothing above it is read.
        above = project_directories(directory, search.boundaries, [Path.cwd().resolve(), directory])
        root = search.main_file(found, directory.parent) or search.other_file(found, above, directory)
        if root is not None and root not in roots:
            roots.append(root)
    return roots


NginxIn = Callable[[Path], Sequence[Path]]  # a directory (resolved) -> its nginx files (resolved)


class _Search:
    """The includers above some files, each candidate's closure computed once."""

    def __init__(self, files: NginxFiles, stops: Iterable[Path], nginx_in: NginxIn | None) -> None:
        self.files = files
        self.boundaries = {stop.resolve() for stop in stops}
        self.nginx_in = nginx_in
        self.closures: dict[Path, set[Path]] = {}

    def closure(self, root: Path) -> set[Path]:
        if root not in self.closures:
            self.closures[root] = _closure(self.files, root)
        return self.closures[root]

    def main_file(self, targets: set[Path], start: Path) -> Path | None:
        """The nearest ``nginx.conf`` in ``start`` or above whose includes reach ``targets``."""
        for directory, _ in upward(start, self.boundaries):
            candidate = directory / MAIN_FILE
            if not candidate.is_file():
                continue
            candidate = candidate.resolve()
            if candidate not in targets and not targets.isdisjoint(self.closure(candidate)):
                return candidate
        return None

    def other_file(self, targets: set[Path], directories: Iterable[Path], skip: Path) -> Path | None:
        """The top of the chain of other nginx files in ``directories`` (but ``skip``)
        whose includes reach ``targets``; None without ``nginx_in``.

        Every directory up to the project root is looked at (an includer of the includer
        may sit higher), bounded like the search for deployment files where there is no
        project root (``project_directories``): the file system above the working
        directory is no one's configuration."""
        if self.nginx_in is None:
            return None
        found: Path | None = None
        for directory in directories:
            if directory == skip:
                continue
            for candidate in self.nginx_in(directory):
                if candidate in targets or candidate == found or candidate.name == MAIN_FILE:
                    continue  # an nginx.conf that reaches them was looked for first
                reached = targets if found is None else {found}
                if not reached.isdisjoint(self.closure(candidate)):
                    found = candidate
        return found


def walked_nginx(exclude: Sequence[str], base: Path) -> NginxIn:
    """The nginx files directly in a directory, classified as a walk would (``exclude``,
    ``.gitignore``, content), each directory listed once."""
    listed: dict[Path, list[Path]] = {}

    def nginx_in(directory: Path) -> list[Path]:
        found = listed.get(directory)
        if found is None:
            from tlslint.discovery import discover

            try:
                with os.scandir(directory) as entries:
                    names = sorted(entry.name for entry in entries if _is_file(entry))
            except OSError:
                names = []
            kept = discover([directory / name for name in names], exclude, base, force_exclude=True).nginx
            found = listed[directory] = [resolved(path) for path in kept]
        return found

    return nginx_in


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


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
