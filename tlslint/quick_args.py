"""The everyday ``tlslint [check]`` command lines, read without importing typer.

typer (and the click inside it) costs about 30 ms to import, a third of a
pre-commit hook's run on a small repository. The console script reads the
command lines that hooks and people type most (paths, flags and the options
below) here and hands anything else to typer: a help request, a value it would
refuse, another command, ``--``. typer's reading is the reference: the tests
hold this one to it argument for argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

SUBCOMMANDS = ("check", "rules", "explain", "init", "probe", "logs")
OUTPUT_FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")
FAIL_ON = ("error", "warning", "info", "never")

_FLAGS = {
    "--fix": "fix",
    "--unsafe-fixes": "unsafe_fixes",
    "--diff": "diff",
    "--statistics": "statistics",
    "--quiet": "quiet",
    "-q": "quiet",
    "--force-exclude": "force_exclude",
    "--no-cache": "no_cache",
    "--fix-symlink-targets": "fix_symlink_targets",
    "--allow-remote-bases": "allow_remote_bases",
}
# Options that take a value: keyword, the values typer accepts (None: any), and
# whether it names a file (typer hands a Path). The selectors are repeatable: each use
# adds to a list, as typer's list options do.
_VALUED: dict[str, tuple[str, tuple[str, ...] | None, bool]] = {
    "--format": ("output_format", OUTPUT_FORMATS, False),
    "--fail-on": ("fail_on", FAIL_ON, False),
    "--select": ("select", None, False),
    "--extend-select": ("extend_select", None, False),
    "--ignore": ("ignore", None, False),
    "--nginx-version": ("nginx_version", None, False),
    "--config": ("config", None, True),
    "--stdin-filename": ("stdin_filename", None, True),
}
_REPEATABLE = frozenset({"select", "extend_select", "ignore"})
# Set by a shell asking typer to complete a word: only typer answers that.
COMPLETION_VARIABLE = "_TLSLINT_COMPLETE"

Arguments = dict[str, object]


def check_arguments(args: list[str], environ: Mapping[str, str]) -> Arguments | None:
    """``run_check``'s keyword arguments for ``args``, or None: let typer read them."""
    if COMPLETION_VARIABLE in environ:
        return None
    if args and args[0] == "check":
        args = args[1:]
    elif args and args[0] in SUBCOMMANDS:
        return None
    found: Arguments = {}
    paths: list[Path] = []
    pending: str | None = None  # an option whose value is the next argument
    for arg in args:
        if pending is not None:
            if not _take(found, pending, arg):
                return None  # typer says what is wrong with it
            pending = None
        elif arg in _FLAGS:
            found[_FLAGS[arg]] = True
        elif arg in _VALUED:
            pending = arg
        elif arg.startswith("-") or not arg:
            option, equals, value = arg.partition("=")
            if not (equals and option in _VALUED and _take(found, option, value)):
                return None
        else:
            paths.append(Path(arg))
    if pending is not None:
        return None
    return {"paths": paths or None, **found}


def _take(found: Arguments, option: str, value: str) -> bool:
    """Record ``option``'s value; False for one typer would refuse."""
    name, choices, is_path = _VALUED[option]
    if choices is not None and value not in choices:
        return False
    if name in _REPEATABLE:
        found[name] = [*found.get(name, ()), value]  # type: ignore[misc]
    else:
        found[name] = Path(value) if is_path else value
    return True
