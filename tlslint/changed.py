"""``--changed-since REV``: the files a branch changed, from git.

A file counts as changed when ``git diff --name-only REV...HEAD`` names it (what the
branch changed since it left ``REV``, as a pull request shows it), or when it has
uncommitted changes, staged or not, or is untracked and not ignored. A rename counts
as its two paths (``--no-renames``): the name it left is gone, and whoever included it
now includes nothing there (tlslint.scope).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path


class ChangedError(Exception):
    """Why the changed files are unknown, worded for the user."""


def _git(args: list[str], cwd: Path) -> str:
    git = shutil.which("git")
    if git is None:
        raise ChangedError("--changed-since needs git, which is not installed")
    try:
        proc = subprocess.run(
            [git, "-c", "core.quotepath=off", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="surrogateescape",
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise ChangedError(f"git {args[0]} failed: {error}") from None
    if proc.returncode != 0:
        message = proc.stderr.strip().splitlines()
        raise ChangedError(f"git {' '.join(args)}: {message[-1] if message else f'exit {proc.returncode}'}")
    return proc.stdout


def repository_root(start: Path) -> Path:
    directory = start if start.is_dir() else start.parent
    try:
        return Path(_git(["rev-parse", "--show-toplevel"], directory).strip()).resolve()
    except ChangedError:
        raise ChangedError(f"--changed-since: {directory.resolve()} is not inside a git repository") from None


def changed_in(rev: str, starts: Sequence[Path]) -> set[Path]:
    """Resolved paths changed since ``rev`` in each repository holding one of ``starts``
    (paths from two checkouts are each judged in their own; not only the first's)."""
    directories = dict.fromkeys(start if start.is_dir() else start.parent for start in starts)
    roots = dict.fromkeys(repository_root(directory) for directory in directories)
    changed: set[Path] = set()
    for root in roots:
        changed |= changed_files(rev, root)
    return changed


def changed_files(rev: str, start: Path) -> set[Path]:
    """Resolved paths changed since ``rev`` in the repository holding ``start``."""
    root = repository_root(start)
    if rev.startswith("-") or not rev.strip():
        raise ChangedError(f"--changed-since: {rev!r} is not a git revision")
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)
    except ChangedError:
        raise ChangedError(
            f"--changed-since: unknown revision {rev!r} in {root} "
            "(a shallow CI clone may need `git fetch` of that branch)"
        ) from None
    names: set[str] = set()
    names.update(_names(_git(["diff", "--name-only", "--no-renames", "-z", f"{rev}...HEAD", "--"], root)))
    names.update(_names(_git(["diff", "--name-only", "--no-renames", "-z", "HEAD", "--"], root)))
    names.update(_names(_git(["ls-files", "--others", "--exclude-standard", "-z"], root)))
    return {(root / name).resolve() for name in names}


def _names(output: str) -> list[str]:
    return [name for name in output.split("\0") if name]


def texts_at(rev: str) -> Callable[[Path], str | None]:
    """What reads a file's text at ``rev``'s merge base with HEAD (what the branch left),
    or None where git cannot say (not there then, not text); the merge base is asked once
    per repository for this run."""
    bases: dict[Path, str] = {}

    def text_at(path: Path) -> str | None:
        try:
            root = repository_root(path.parent)
            if root not in bases:
                bases[root] = _git(["merge-base", rev, "HEAD"], root).strip()
            return _git(["show", f"{bases[root]}:{path.resolve().relative_to(root).as_posix()}"], root)
        except (ChangedError, ValueError):
            return None

    return text_at
