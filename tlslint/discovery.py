"""Find the files to check and say what each one is."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathspec import PathSpec

NGINX = "nginx"

NGINX_DIRS = frozenset({"sites-available", "sites-enabled", "conf.d", "nginx"})
ALWAYS_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".tlslint_cache", "__pycache__", ".mypy_cache", ".ruff_cache",
     ".pytest_cache", ".tox", ".nox", "node_modules"}
)  # fmt: skip
_SNIFF_BYTES = 64 * 1024
# A line that ends an nginx statement: `name args;` or `name args {`.
_NGINX_STATEMENT = re.compile(rb"^\s*[A-Za-z_][\w.-]*(?:\s[^\n#]*)?[;{]\s*(?:#[^\n]*)?$", re.M)
_INI_SECTION = re.compile(rb"^\[[^\]\n]+\]\s*$", re.M)


@dataclass
class Discovered:
    nginx: list[Path] = field(default_factory=list)
    explicit: set[Path] = field(default_factory=set)
    missing: list[Path] = field(default_factory=list)


def discover(paths: Iterable[Path], exclude: Iterable[str] = (), base: Path | None = None) -> Discovered:
    found = Discovered()
    excludes = _exclude_spec(list(exclude))
    base = (base or Path.cwd()).resolve()
    seen: set[Path] = set()
    for path in paths:
        if not path.exists() and not path.is_symlink():
            found.missing.append(path)
            continue
        if path.is_dir():
            for file in _walk(path, excludes, base):
                _add(found, file, seen, explicit=False)
        else:
            _add(found, path, seen, explicit=True)
    return found


def _add(found: Discovered, path: Path, seen: set[Path], *, explicit: bool) -> None:
    resolved = path.resolve()
    if resolved in seen:
        return
    kind = classify(path, explicit=explicit)
    if kind is None:
        return
    seen.add(resolved)
    if explicit:
        found.explicit.add(resolved)
    if kind == NGINX:
        found.nginx.append(path)


def classify(path: Path, *, explicit: bool) -> str | None:
    name = path.name
    parent = path.parent.name
    if name == "nginx.conf" or parent in NGINX_DIRS:
        return NGINX
    if explicit:
        return NGINX
    if name.endswith(".conf") and _sniff_nginx(path):
        return NGINX
    return None


def _sniff_nginx(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return True  # named like nginx; report the read error when parsing
    if b"\x00" in head:
        return True  # reported as binary, not skipped silently
    if _INI_SECTION.search(head):
        return False
    return _NGINX_STATEMENT.search(head) is not None


def _exclude_spec(patterns: list[str]) -> PathSpec[Any] | None:
    if not patterns:
        return None
    from pathspec import PathSpec

    return PathSpec.from_lines("gitwildmatch", patterns)


def _walk(top: Path, excludes: PathSpec[Any] | None, base: Path) -> Iterator[Path]:
    ignores = _ancestor_gitignores(top.resolve())
    yield from _walk_dir(top, ignores, excludes, base)


def _walk_dir(
    directory: Path,
    ignores: list[tuple[Path, PathSpec[Any]]],
    excludes: PathSpec[Any] | None,
    base: Path,
) -> Iterator[Path]:
    local = _gitignore(directory)
    if local is not None:
        ignores = [*ignores, (directory.resolve(), local)]
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        is_dir = entry.is_dir(follow_symlinks=False)
        if is_dir and entry.name in ALWAYS_SKIPPED_DIRS:
            continue
        if _ignored(path, is_dir, ignores, excludes, base):
            continue
        if is_dir:
            yield from _walk_dir(path, ignores, excludes, base)
        elif entry.is_file():
            yield path


def _ignored(
    path: Path,
    is_dir: bool,
    ignores: list[tuple[Path, PathSpec[Any]]],
    excludes: PathSpec[Any] | None,
    base: Path,
) -> bool:
    resolved = path.absolute()
    suffix = "/" if is_dir else ""
    if excludes is not None:
        try:
            relative = resolved.relative_to(base).as_posix()
        except ValueError:
            relative = path.as_posix()
        if excludes.match_file(relative + suffix):
            return True
    for root, spec in ignores:
        try:
            relative = resolved.relative_to(root).as_posix()
        except ValueError:
            continue
        if spec.match_file(relative + suffix):
            return True
    return False


def _gitignore(directory: Path) -> PathSpec[Any] | None:
    candidate = directory / ".gitignore"
    if not candidate.is_file():
        return None
    from pathspec import GitIgnoreSpec

    try:
        lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return GitIgnoreSpec.from_lines(lines)


def _ancestor_gitignores(top: Path) -> list[tuple[Path, PathSpec[Any]]]:
    """.gitignore files above ``top`` up to the repository root."""
    found: list[tuple[Path, PathSpec[Any]]] = []
    for directory in top.parents:
        spec = _gitignore(directory)
        if spec is not None:
            found.append((directory, spec))
        if (directory / ".git").exists():
            break
    else:
        return []  # not inside a repository: its parents' ignores do not apply
    found.reverse()
    return found
