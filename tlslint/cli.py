"""Command line: ``tlslint [check] [PATHS]...``, ``rules``, ``explain CODE``.

Heavy modules are imported inside the commands: a pre-commit hook pays the
start-up on every commit.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from tlslint import __version__

app = typer.Typer(
    add_completion=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    help="Lint and fix the TLS settings behind handshake failures and handshake storms.",
)

SUBCOMMANDS = ("check", "rules", "explain")
_TOP_LEVEL_FLAGS = ("--help", "-h", "--install-completion", "--show-completion")


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


def _fail(message: str) -> typer.Exit:
    print(f"tlslint: {message}", file=sys.stderr)
    return typer.Exit(2)


@app.command()
def check(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or directories (default: .)")] = None,
    fix: Annotated[bool, typer.Option("--fix", help="Apply safe fixes in place.")] = False,
    unsafe_fixes: Annotated[bool, typer.Option("--unsafe-fixes", help="Also apply unsafe fixes.")] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Print what --fix would change as a unified diff; write nothing.")
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.text,
    fail_on: Annotated[
        Optional[FailOn], typer.Option("--fail-on", help="Lowest severity that exits 1 (default: warning).")
    ] = None,
    config: Annotated[
        Optional[Path], typer.Option("--config", help="Settings file to use instead of searching.")
    ] = None,
    select: Annotated[
        Optional[str], typer.Option("--select", help="Comma-separated codes, prefixes or names to enable.")
    ] = None,
    ignore: Annotated[
        Optional[str], typer.Option("--ignore", help="Comma-separated codes, prefixes or names to disable.")
    ] = None,
    nginx_version: Annotated[
        Optional[str], typer.Option("--nginx-version", help="Target nginx version, e.g. 1.22.")
    ] = None,
    statistics: Annotated[
        bool, typer.Option("--statistics", help="Print counts per rule instead of findings.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print findings only, no summary.")] = False,
) -> None:
    """Check nginx configs (the default command)."""
    from tlslint.findings import Severity
    from tlslint.settings import SettingsError, load_settings

    targets = paths or [Path(".")]
    try:
        settings = load_settings(targets[0], config)
        if select is not None:
            settings.select = [s for s in select.split(",") if s.strip()]
        if ignore is not None:
            settings.ignore = [*settings.ignore, *(s for s in ignore.split(",") if s.strip())]
        if nginx_version is not None:
            from tlslint.nginx_versions import parse_version

            settings.nginx_version = parse_version(nginx_version)
    except (SettingsError, ValueError) as error:
        raise _fail(str(error)) from None
    from tlslint.engine import run

    result = run(targets, settings)
    for missing in result.missing_paths:
        print(f"tlslint: {missing}: no such file or directory", file=sys.stderr)
    if fix or diff:
        from tlslint.fixing import apply_fixes

        outcome = apply_fixes(result, settings, unsafe=unsafe_fixes, write=not diff)
        for message in outcome.messages:
            print(f"tlslint: {message}", file=sys.stderr)
        if diff:
            sys.stdout.write(outcome.diff)
            raise typer.Exit(2 if result.has_load_errors else (1 if outcome.diff else 0))
        if outcome.written:
            count = len(outcome.written)
            print(f"tlslint: fixed {count} file{'s' if count != 1 else ''}", file=sys.stderr)
        result = outcome.result
    threshold = settings.fail_on
    if fail_on is not None:
        threshold = Severity.ERROR + 1 if fail_on is FailOn.never else Severity.parse(fail_on.value)  # type: ignore[assignment]
    from tlslint.report import render

    text = render(output_format.value, result, statistics=statistics, quiet=quiet)
    sys.stdout.write(text)
    raise typer.Exit(result.exit_code(threshold))


@app.command()
def rules(
    output_format: Annotated[str, typer.Option("--format", help="text or json")] = "text",
) -> None:
    """List the rule catalogue."""
    from tlslint import catalogue

    index = catalogue.index()
    if output_format == "json":
        import json

        payload = [
            {"code": m.code, "name": m.name, "severity": str(m.severity), "target": m.target,
             "summary": m.summary, "fix": m.fix_safety}
            for m in index.values()
        ]  # fmt: skip
        print(json.dumps(payload, indent=2))
        return
    for meta in index.values():
        fix = {"safe": "fix", "unsafe": "unsafe fix", "none": ""}[meta.fix_safety]
        print(f"{meta.code}  {meta.name:<42} {meta.severity!s:<8} {fix:<10} {meta.summary}")


@app.command()
def explain(code: Annotated[str, typer.Argument(help="Rule code or name, e.g. NGX101.")]) -> None:
    """Print one rule's page from the catalogue."""
    from tlslint import catalogue
    from tlslint.report.rule_page import rule_page

    index = catalogue.index()
    wanted = (
        code.upper() if code.upper() in index else next((c for c, m in index.items() if m.name == code), None)
    )
    if wanted is None:
        import difflib

        close = difflib.get_close_matches(code.upper(), list(index), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise _fail(f"unknown rule '{code}'{hint}")
    entry = catalogue.load_entries()[wanted]
    sys.stdout.write(rule_page(entry))


def _version_callback(value: bool) -> None:
    if value:
        print(f"tlslint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """tlslint: nginx, Apigee hybrid and app-server TLS settings, checked and fixed."""


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (
        args[0] not in SUBCOMMANDS and args[0] not in _TOP_LEVEL_FLAGS and args[0] != "--version"
    ):
        args = ["check", *args]
    try:
        app(args=args, prog_name="tlslint")
    except Exception as error:  # a bug: one clear line, the traceback only on request
        if os.environ.get("TLSLINT_DEBUG"):
            raise
        print(
            f"tlslint: internal error: {type(error).__name__}: {error} "
            "(please report it; set TLSLINT_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        sys.exit(2)
