"""The everyday ``tlslint [check]`` command lines, read without importing typer.

typer (and the click inside it) costs about 30 ms to import, a third of a
pre-commit hook's run on a small repository. The console script reads the
command lines that hooks and people type most (paths and the options below)
here and hands anything else to typer: a help request, a value it does not
know, another command, ``--``. typer's reading is the reference: the tests
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
}
_CHOICES = {"--format": ("output_format", OUTPUT_FORMATS), "--fail-on": ("fail_on", FAIL_ON)}
# Set by a shell asking typer to complete a word: only typer answers that.
_COMPLETION_VARIABLE = "_TLSLINT_COMPLETE"

Arguments = dict[str, object]


def check_arguments(args: list[str], environ: Mapping[str, str]) -> Arguments | None:
    """``run_check``'s keyword arguments for ``args``, or None: let typer read them."""
    if _COMPLETION_VARIABLE in environ:
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
            name, choices = _CHOICES[pending]
            if arg not in choices:
                return None  # typer says what is wrong with it
            found[name] = arg
            pending = None
        elif arg in _FLAGS:
            found[_FLAGS[arg]] = True
        elif arg in _CHOICES:
            pending = arg
        elif arg.startswith("-") or not arg:
            option, equals, value = arg.partition("=")
            if not (equals and option in _CHOICES and value in _CHOICES[option][1]):
                return None
            found[_CHOICES[option][0]] = value
        else:
            paths.append(Path(arg))
    if pending is not None:
        return None
    return {"paths": paths or None, **found}
