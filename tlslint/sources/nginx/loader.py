"""Parse nginx files once each and follow their includes as nginx does.

nginx resolves a relative include against its configuration prefix (the
directory of the main file), not against the including file; absolute paths
are mapped into the repository through ``nginx.roots``.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from tlslint.nginx_values import in_envsubst_file, placeholder
from tlslint.paths import known, resolved_text
from tlslint.paths import resolved as resolve_path
from tlslint.sources.nginx.model import Directive, ParsedFile, SourceText
from tlslint.sources.nginx.parser import Scanned, from_scanned, parse_file, parse_text
from tlslint.sources.text import SourceError, brief, listing_problem, not_a_file

if TYPE_CHECKING:
    from tlslint.cache import ModelCache

# Files every nginx package ships; an include of them that is not in the repo
# is expected and carries no TLS settings.
STOCK_FILES = frozenset(
    {
        "mime.types", "fastcgi_params", "fastcgi.conf", "scgi_params", "uwsgi_params",
        "proxy_params", "koi-utf", "koi-win", "win-utf", "snippets/fastcgi-php.conf",
        "snippets/snakeoil.conf",
    }
)  # fmt: skip
# Where distributions keep the configuration; mapped to the main file's
# directory unless nginx.roots says otherwise.
DEFAULT_PREFIXES = ("/etc/nginx", "/usr/local/nginx/conf", "/usr/local/etc/nginx")
_CONF_WORD = 4096  # nginx's NGX_CONF_BUFFER: no word of an include line is longer
# Directory names that hold snippets, one level below the prefix.
SNIPPET_DIRS = frozenset({"sites-available", "sites-enabled", "conf.d", "snippets", "includes", "http.d"})
# An include path a template fills in; a bare "$x" is no mark: nginx expands no variable
# in an include and opens "$x.conf" as named (outside a *.template file, see _templated).
_TEMPLATE_MARKS = ("${", "{{", "<")


@dataclass(frozen=True, slots=True)
class IncludeResult:
    """The files an ``include`` names, or why it cannot be followed."""

    paths: tuple[Path, ...]
    problem: str = ""  # empty when resolved (a glob may match nothing)
    templated: bool = False
    # What a glob matched or needed and could not read (a FIFO, a directory that
    # cannot be listed), with a message that says it: the rest of the include is followed.
    unreadable: tuple[tuple[Path, str], ...] = ()
    # What a glob matched and nginx fails on (a directory, a dangling symlink), with the
    # message: an error (NGX002), as a missing include is; the rest is followed.
    refused: tuple[tuple[Path, str], ...] = ()


@dataclass
class NginxFiles:
    """Parsed files by resolved path, each parsed at most once."""

    max_bytes: int
    roots: Mapping[str, Path] = field(default_factory=dict)
    parsed: dict[Path, ParsedFile] = field(default_factory=dict)
    errors: dict[Path, SourceError] = field(default_factory=dict)
    # Edited texts not yet written (the fixer's passes), by resolved path.
    overlay: Mapping[Path, SourceText] = field(default_factory=dict)
    # A symlink named by the user, by the resolved path it points to.
    aliases: dict[Path, Path] = field(default_factory=dict)
    cache: ModelCache | None = None  # trees parsed by earlier runs, by file stat
    # What an include names, by what decides it (its arguments, the prefix, whether its
    # file is a template), not by directive: the includer scan and the splice both ask,
    # a glob over 10,000 files costs, and 10,000 sites include the same few snippets
    # (a path made, a readlink and a stat each).
    _includes: dict[tuple[tuple[str, ...], Path, bool], IncludeResult] = field(
        default_factory=dict, repr=False
    )
    # What each file that does not parse includes, by its path and prefix: the loader
    # (prefixes below it) and the fix guard (files below it) both ask.
    _unparsed_includes: dict[tuple[Path, Path], tuple[Path, ...]] = field(default_factory=dict, repr=False)

    def prefetch(self, paths: Iterable[Path]) -> None:
        """Scan, across processes, the files ``get`` would otherwise read one by one.

        Only files not parsed, not edited in the overlay and not in the cache;
        nothing happens below the threshold where workers pay (see ``parallel``).
        """
        from tlslint.sources.nginx import parallel

        todo: dict[Path, None] = {}
        for path in paths:
            where = resolve_path(path)
            if where in self.parsed or where in self.errors or where in self.overlay:
                continue
            if self.cache is not None and self.cache.contains(where):
                continue
            todo[where] = None
        if len(todo) >= parallel.MIN_FILES:
            parallel.scan_in_parallel(list(todo), self.max_bytes, self._take)

    def _take(self, path: Path, scanned: Scanned | SourceError) -> None:
        """A file scanned by a worker: built now, so its tokens are freed at once."""
        try:
            if isinstance(scanned, SourceError):
                raise scanned
            parsed = self.parsed[path] = from_scanned(path, scanned)
            if self.cache is not None:
                self.cache.put(path, parsed)
        except SourceError as error:
            self.errors[path] = error

    def get(self, path: Path) -> ParsedFile | None:
        resolved = resolve_path(path)
        # os.path, not Path.absolute(): that builds Path.cwd() for every file. Normalised
        # or not, the two differ where the file itself is a symlink, which is what is asked.
        if path is not resolved and os.fspath(resolved) != os.path.abspath(path) and path.is_symlink():
            self.aliases.setdefault(resolved, path)
        path = resolved
        if path in self.parsed:
            return self.parsed[path]
        if path in self.errors:
            return None
        try:
            edited = self.overlay.get(path)
            parsed = parse_text(edited) if edited is not None else self._parse(path)
        except SourceError as error:
            self.errors[path] = error
            return None
        self.parsed[path] = parsed
        return parsed

    def _parse(self, path: Path) -> ParsedFile:
        """The file's tree, from the cache or read now; only a file that parses is cached."""
        if self.cache is None:
            return parse_file(path, self.max_bytes)
        parsed = self.cache.get(path)
        if parsed is None:
            parsed = parse_file(path, self.max_bytes)
            self.cache.put(path, parsed)
        return parsed

    def unparsed_includes(self, path: Path, prefix: Path) -> tuple[Path, ...]:
        """The files that ``path``, an nginx file that does not parse (in ``errors``),
        names in its include lines, as far as its text can be read into words: the
        files nginx reads in its context once it parses. An include inside a block
        counts as much as one at the top: where the error leaves the blocks is not
        known, and the files are only withheld from fixes (engine)."""
        where = resolve_path(path)
        if where not in self.errors:
            return ()
        known = self._unparsed_includes.get((where, prefix))
        if known is None:
            known = self._unparsed_includes[(where, prefix)] = self._read_unparsed_includes(where, prefix)
        return known

    def _read_unparsed_includes(self, where: Path, prefix: Path) -> tuple[Path, ...]:
        from tlslint.sources.nginx.lexer import COMMENT, QUOTED, SEMI, WORD, LexError, RawToken, scan
        from tlslint.sources.text import read_source

        try:
            source = self.overlay.get(where) or read_source(where, self.max_bytes)
        except SourceError:
            return ()  # not read at all: what it includes is not known
        text = source.text
        # Scanned up to the last include statement only (one of nginx's 4 KiB words and
        # some): engine.load_nginx asks of every file that does not parse, and 15 MiB of
        # ";" after the first error is not worth 6 s of words.
        last = text.rfind("include")
        if last < 0:
            return ()
        text = text[: last + 3 * _CONF_WORD]
        found: list[Path] = []
        first: RawToken | None = None  # the statement's first word, and how many it has
        count = 0

        def take(token: RawToken) -> None:  # as scanned: no list of every token is kept
            nonlocal first, count
            kind = token[0]
            if kind in (WORD, QUOTED):
                first = token if count == 0 else first
                count += 1
                return
            if kind == SEMI and count == 2 and first is not None and first[:2] == (WORD, "include"):
                line = text[first[2] : token[3]]  # the statement as written
                try:
                    directive = parse_text(SourceText(where, line)).includes[0]
                except (SourceError, IndexError):
                    pass
                else:
                    found.extend(self._resolve_include(directive, prefix).paths)
            if kind != COMMENT:
                first, count = None, 0

        with contextlib.suppress(LexError):  # the words before the error were taken
            scan(text, take)
        return tuple(dict.fromkeys(resolve_path(p) for p in found))

    def names_absent(self, directive: Directive, prefix: Path, absent: Collection[Path]) -> list[Path]:
        """Which of ``absent`` (resolved paths that do not exist: files deleted since a git
        revision) the include's path or glob names: the files it read before they went.
        A glob's ``*`` matches within one path component and not a leading dot, as
        nginx's glob(3) does."""
        if not absent or len(directive.args) != 1 or _templated(directive, directive.args[0]):
            return []
        target = self._map(directive.args[0], prefix)
        if target is None:
            return []
        static = _static_part(target)
        where = resolve_path(static).joinpath(*target.parts[len(static.parts) :])
        if not glob.has_magic(str(target)):
            return [where] if where in absent else []
        pattern = where.parts
        return [
            path
            for path in absent
            if len(path.parts) == len(pattern)
            and all(_glob_part(part, wanted) for part, wanted in zip(path.parts, pattern, strict=True))
        ]

    def resolve_include(self, directive: Directive, prefix: Path) -> IncludeResult:
        key = (directive.args, prefix, in_envsubst_file(directive))
        found = self._includes.get(key)
        if found is None:
            found = self._includes[key] = self._resolve_include(directive, prefix)
        return found

    def _resolve_include(self, directive: Directive, prefix: Path) -> IncludeResult:
        if len(directive.args) != 1:
            return IncludeResult(())  # nginx refuses the line itself (NGX012), reads nothing
        pattern = directive.args[0]
        if _templated(directive, pattern):
            return IncludeResult((), templated=True)
        shown = brief(pattern, 120)
        target = self._map(pattern, prefix)
        if target is None:
            return IncludeResult((), _unmapped(shown, pattern))
        climbs = ".." in PurePosixPath(pattern).parts
        if climbs and not self._inside_roots(_static_part(target), prefix):
            return IncludeResult((), _outside_root(shown, prefix))
        if glob.has_magic(str(target)):
            # Sorted as strings (as nginx's glob does), then made Paths: sorting Paths is slow.
            found, files, links = glob_entries(str(target))
            matches, unmatched, fatal = self._glob_matches(shown, found, files, links, prefix)
            if climbs and not all(self._inside_roots(match, prefix) for match in matches):
                return IncludeResult((), _outside_root(shown, prefix))
            unreadable: tuple[tuple[Path, str], ...] = ()
            if unmatched or not found:  # a FIFO, a directory, a dangling symlink... or nothing
                unreadable, more = _unreadable_matches(shown, target, found, unmatched)
                fatal.extend(more)
            return IncludeResult(tuple(matches), unreadable=unreadable, refused=tuple(fatal))
        mapped = self._mapped_link(target, prefix)
        if mapped is not None:  # a symlink to /etc/nginx/...: read in the tree, never on this host
            if os.path.isfile(mapped):
                return IncludeResult((mapped,))
            return IncludeResult((), f'include "{shown}" {_broken_link(target, mapped)}')
        # os.path: False, not an error, for a path in a directory that cannot be read.
        if os.path.isfile(target):
            return IncludeResult((target,))
        if pattern in STOCK_FILES or _stock_suffix(pattern):
            return IncludeResult(())
        if os.path.isdir(target):
            return IncludeResult((), f'include "{shown}" names a directory')
        problem = not_a_file(target)  # a FIFO, a broken symlink: never opened
        if problem:
            return IncludeResult((), f'include "{shown}" {problem}')
        return IncludeResult((), f'include file "{shown}" not found (looked for {_shown(target)})')

    def _glob_matches(
        self, shown: str, found: list[str], files: list[str], links: set[str], prefix: Path
    ) -> tuple[list[Path], list[str], list[tuple[Path, str]]]:
        """The files a glob include reads, in nginx's order; what it matched and cannot
        read; and why nginx refuses the include (a symlink into a mapped root whose
        target the tree does not hold)."""
        readable = set(files)
        if not links:
            return [known(p) or Path(p) for p in files], [p for p in found if p not in readable], []
        matches: list[Path] = []
        unmatched: list[str] = []
        fatal: list[tuple[Path, str]] = []
        for match in found:
            mapped = self._mapped_link(Path(match), prefix) if match in links else None
            if mapped is None:
                if match in readable:
                    matches.append(Path(match))
                else:
                    unmatched.append(match)
            elif os.path.isfile(mapped):
                matches.append(mapped)
            else:
                named = _shown_unresolved(Path(match))
                fatal.append(
                    (
                        Path(match),
                        f'include "{shown}" matches {named}, which {_broken_link(Path(match), mapped)}',
                    )
                )
        return matches, unmatched, fatal

    def _mapped_link(self, path: Path, prefix: Path) -> Path | None:
        return mapped_link(path, prefix, self.roots)

    def _inside_roots(self, path: Path, prefix: Path) -> bool:
        """Whether ``path``, symlinks resolved, is in the prefix tree or a nginx.roots directory.

        An include that climbs out with ".." is refused unless it lands in one of
        them: nginx would read ``/etc/nginx/../x`` on the host, which the repository
        does not hold unless a root maps it, and a fix must never write outside the
        configuration it was given.
        """
        where = resolve_path(path)
        return any(where.is_relative_to(resolve_path(root)) for root in (prefix, *self.roots.values()))

    def _map(self, pattern: str, prefix: Path) -> Path | None:
        return map_absolute(pattern, prefix, self.roots)


def mapped_link(path: Path, prefix: Path, roots: Mapping[str, Path]) -> Path | None:
    """Where the symlink ``path`` leads in the tree when a link on its way names an
    absolute path that a root maps (``sites-enabled/x -> /etc/nginx/sites-available/x``,
    as ``ln -s`` makes it on the server), or None: not a symlink, or none such (the
    file system resolves it as it is)."""
    mapped = False
    for _ in range(40):  # the kernel's limit of links followed (ELOOP)
        try:
            target = os.readlink(path)
        except OSError:
            break  # no symlink (any more)
        if target.startswith("/"):
            local = map_absolute(target, prefix, roots)
            if local is None or os.fspath(local) == os.path.normpath(target):
                if not mapped:
                    return None  # a host path no root maps: as the file system says
                path = Path(target)
                continue
            path, mapped = local, True
        else:
            path = Path(os.path.normpath(os.path.join(path.parent, target)))
    return path if mapped else None


def map_absolute(pattern: str, prefix: Path, roots: Mapping[str, Path]) -> Path | None:
    """Where an include's path lies in the tree: relative to ``prefix``, or an absolute
    path through ``roots`` and the default prefixes (mapped to ``prefix``); None when
    no root maps it."""
    if not pattern.startswith("/"):
        return prefix / pattern
    posix = PurePosixPath(pattern)
    mappings = dict(roots)
    for default in DEFAULT_PREFIXES:
        mappings.setdefault(default, prefix)
    for absolute, local in sorted(mappings.items(), key=lambda item: -len(item[0])):
        try:
            rest = posix.relative_to(absolute)
        except ValueError:
            continue
        return local / Path(*rest.parts) if rest.parts else local
    return None


def _shown(path: Path) -> str:
    """A path as the user knows it: relative to the working directory when inside it."""
    try:
        return resolve_path(path).relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):
        return str(path)


def glob_files(pattern: str) -> tuple[list[str], list[str]]:
    """``glob.glob(pattern)`` sorted as strings (as nginx's glob sorts), and which of them
    are files."""
    found, files, _ = glob_entries(pattern)
    return found, files


def glob_entries(pattern: str) -> tuple[list[str], list[str], set[str]]:
    """``glob_files``, and which matches are symlinks. Where only the last part has magic
    (``conf.d/*.conf``), one ``scandir`` answers all three: glob's listing and then a stat
    per match was 10,000 system calls more."""
    directory, name = os.path.split(pattern)
    if not directory or not name or glob.has_magic(directory):
        found = sorted(glob.glob(pattern))
        return (
            found,
            [path for path in found if os.path.isfile(path)],
            {p for p in found if os.path.islink(p)},
        )
    try:
        with os.scandir(directory) as listing:
            entries = {entry.name: entry for entry in listing}
    except OSError:
        return [], [], set()  # as glob: no directory, no matches
    names = entries.keys() if name[0] == "." else [n for n in entries if n[0] != "."]  # glob hides dot files
    found = [os.path.join(directory, n) for n in sorted(fnmatch.filter(names, name))]
    files, links = [], set()
    for path in found:
        entry = entries[os.path.basename(path)]
        if entry.is_symlink():
            links.add(path)
        if _is_file(entry):
            files.append(path)
    return found, files, links


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()  # a symlink is followed: a loop raises ELOOP
    except OSError:
        return False


def _shown_unresolved(path: Path) -> str:
    """A path as matched, its last symlink not followed (a dangling match is named as the
    include names it): relative to the working directory when inside it."""
    absolute, here = os.path.abspath(path), os.getcwd()
    return os.path.relpath(absolute, here) if absolute.startswith(here + os.sep) else absolute


def _broken_link(link: Path, mapped: Path) -> str:
    return (
        f"is a symlink to {os.readlink(link)}, read as {_shown(mapped)} (nginx.roots), which "
        f"{'is not a file' if os.path.exists(mapped) else 'does not exist'}; nginx fails there"
    )


def _unreadable_matches(
    shown: str, target: Path, found: list[str], unmatched: list[str]
) -> tuple[tuple[tuple[Path, str], ...], list[tuple[Path, str]]]:
    """What a glob include matched and cannot read, and why nginx refuses it: a directory
    (nginx's pread() fails with EISDIR) or a dangling symlink (its open() fails), named
    as matched. A FIFO or a socket is a warning. When the glob matched nothing, the
    directory it could not list (Python's glob says nothing of it; nginx fails)."""
    problems = []
    fatal = []
    for match in map(Path, unmatched):
        named = _shown_unresolved(match)
        if os.path.isdir(match):
            fatal.append(
                (
                    match,
                    f'include "{shown}" matches {named}, a directory: nginx cannot read it (Is a directory)',
                )
            )
            continue
        problem = not_a_file(match)
        if problem.startswith(("is a dangling symlink", "is a symlink loop")):
            problem = problem.removesuffix("; not read")
            fatal.append(
                (match, f'include "{shown}" matches {named}, which {problem}: nginx fails to open it')
            )
        elif problem:
            problems.append((match, f'include "{shown}" matches {named}, which {problem}'))
    if not found:
        directory = _static_part(target)
        problem = listing_problem(directory)
        if problem:
            problems.append((directory, f'include "{shown}": {_shown(directory)} {problem}'))
    return tuple(problems), fatal


def _glob_part(name: str, pattern: str) -> bool:
    """Whether one path component matches one of a glob's (``*``, ``?``, ``[...]``)."""
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


def _static_part(target: Path) -> Path:
    """The leading components of an include path, up to the first glob character."""
    parts = target.parts
    for index, part in enumerate(parts):
        if glob.has_magic(part):
            return Path(*parts[:index])
    return target


def _templated(directive: Directive, pattern: str) -> bool:
    """An include path a template fills in: ``${NAME}``, ``{{ }}``, ``<name>``, or a bare
    ``$NAME`` in a ``*.template`` file (nginx_values.placeholder)."""
    if any(mark in pattern for mark in _TEMPLATE_MARKS):
        return True
    return "$" in pattern and placeholder(pattern, envsubst_file=in_envsubst_file(directive))


def _unmapped(shown: str, pattern: str) -> str:
    """Name the setting that lets the include be read (certbot's
    /etc/letsencrypt/options-ssl-nginx.conf is the usual one)."""
    directory = brief(PurePosixPath(pattern).parent.as_posix(), 80)
    return (
        f'absolute include "{shown}" is outside the mapped roots: map it with nginx.roots '
        f'(roots = {{ "{directory}" = "<a directory with a copy>" }}), or ignore NGX002 for this '
        "file in per-file-ignores (what the include sets is then unknown to the checks)"
    )


def _outside_root(shown: str, prefix: Path) -> str:
    return (
        f'include "{shown}" is outside the configuration root ({_shown(prefix)}); not read: '
        "map it with nginx.roots to allow it"
    )


def _stock_suffix(pattern: str) -> bool:
    return any(pattern.endswith("/" + name) for name in STOCK_FILES)


def prefix_for(path: Path) -> Path:
    """The directory nginx would treat as its prefix for a file checked alone: that of
    the path given, not of a symlink's target (``nginx -c link/nginx.conf`` reads
    ``link/conf.d/``); its directory's symlinks resolved."""
    # By the directory's text, and its prefix once per directory: a Path made, parsed
    # and resolved for every call (load_nginx asks twice per file) cost a third of
    # what discovering the file does.
    return prefix_of_directory(resolved_text(os.path.dirname(os.path.abspath(path))))


@lru_cache(maxsize=4096)  # by name only (no file system): asked for every file of a directory
def prefix_of_directory(parent: Path) -> Path:
    """The prefix for a file in the (resolved) directory ``parent``."""
    if parent.name in SNIPPET_DIRS:
        return parent.parent
    if parent.parent.name in SNIPPET_DIRS:  # e.g. conf.d/templates/x.conf
        return parent.parent.parent
    return parent
