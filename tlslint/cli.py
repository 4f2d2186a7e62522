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
from tlslint.check_command import internal_error
from tlslint.quick_args import COMPLETION_VARIABLE, SUBCOMMANDS

app = typer.Typer(
    add_completion=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Lint and fix the TLS settings behind handshake failures and handshake storms.",
)

_TOP_LEVEL_FLAGS = ("--help", "-h", "--install-completion", "--show-completion")


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    gitlab = "gitlab"
    junit = "junit"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"
    never = "never"


# Options the commands share, declared once.
FailOnOption = Annotated[
    Optional[FailOn], typer.Option("--fail-on", help="Lowest severity that exits 1 (default: warning).")
]
ConfigOption = Annotated[
    Optional[Path], typer.Option("--config", help="Settings file to use instead of searching.")
]
# probe's and logs' selection (check's own say what else it takes: prefixes, names).
SelectOption = Annotated[
    Optional[list[str]],
    typer.Option("--select", help="Comma-separated codes to run, not the settings' (repeatable)."),
]
ExtendSelectOption = Annotated[
    Optional[list[str]],
    typer.Option("--extend-select", help="Comma-separated codes to run as well (repeatable)."),
]
IgnoreOption = Annotated[
    Optional[list[str]], typer.Option("--ignore", help="Comma-separated codes not to run (repeatable).")
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print findings only.")]


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
    fail_on: FailOnOption = None,
    config: ConfigOption = None,
    select: Annotated[
        Optional[list[str]],
        typer.Option(
            "--select",
            help="Comma-separated codes, prefixes or names to run, instead of what the settings select "
            "or ignore (repeatable: the lists add up).",
        ),
    ] = None,
    extend_select: Annotated[
        Optional[list[str]],
        typer.Option(
            "--extend-select",
            help="Comma-separated codes, prefixes or names to run as well (repeatable).",
        ),
    ] = None,
    ignore: Annotated[
        Optional[list[str]],
        typer.Option("--ignore", help="Comma-separated codes, prefixes or names not to run (repeatable)."),
    ] = None,
    nginx_version: Annotated[
        Optional[str], typer.Option("--nginx-version", help="Target nginx version, e.g. 1.22.")
    ] = None,
    statistics: Annotated[
        bool, typer.Option("--statistics", help="Print counts per rule instead of findings.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print findings only, no summary.")] = False,
    baseline: Annotated[
        Optional[Path],
        typer.Option("--baseline", metavar="FILE", help="Ignore the findings recorded in FILE."),
    ] = None,
    write_baseline: Annotated[
        Optional[Path],
        typer.Option("--write-baseline", metavar="FILE", help="Record the current findings in FILE."),
    ] = None,
    changed_since: Annotated[
        Optional[str],
        typer.Option(
            "--changed-since",
            metavar="REV",
            help="Report only the findings that changes since the git revision REV can have made.",
        ),
    ] = None,
    force_exclude: Annotated[
        bool,
        typer.Option(
            "--force-exclude",
            help="Filter files named on the command line like walked ones: exclude, .gitignore, "
            "content (for pre-commit).",
        ),
    ] = False,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Neither read nor write .tlslint_cache/ (parsed models).")
    ] = False,
    show_settings: Annotated[
        bool,
        typer.Option(
            "--show-settings",
            help="Print the settings in force and their file, and the nginx version each "
            "configuration under PATHS is judged by (and why), then exit.",
        ),
    ] = False,
    stdin_filename: Annotated[
        Optional[Path],
        typer.Option(
            "--stdin-filename",
            metavar="NAME",
            help="The name of what `-` reads from standard input (its format, settings and findings).",
        ),
    ] = None,
    allow_remote_bases: Annotated[
        bool,
        typer.Option("--allow-remote-bases", help="Let kustomize fetch remote bases (git, HTTP)."),
    ] = False,
    fix_symlink_targets: Annotated[
        bool,
        typer.Option(
            "--fix-symlink-targets",
            help="With --fix: also write files that symlinks lead to outside the paths given.",
        ),
    ] = False,
) -> None:
    """Check nginx configs (the default command)."""
    from tlslint.check_command import CommandError, run_check

    try:
        status = run_check(
            paths,
            fix=fix,
            unsafe_fixes=unsafe_fixes,
            diff=diff,
            output_format=output_format.value,
            fail_on=fail_on.value if fail_on is not None else None,
            config=config,
            select=select,
            extend_select=extend_select,
            ignore=ignore,
            nginx_version=nginx_version,
            statistics=statistics,
            quiet=quiet,
            baseline=baseline,
            write_baseline=write_baseline,
            changed_since=changed_since,
            force_exclude=force_exclude,
            no_cache=no_cache,
            show_settings=show_settings,
            stdin_filename=stdin_filename,
            allow_remote_bases=allow_remote_bases,
            fix_symlink_targets=fix_symlink_targets,
        )
    except CommandError as error:
        raise _fail(str(error)) from None
    raise typer.Exit(status)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to write the settings.")] = Path("."),
    pyproject: Annotated[
        Optional[bool],
        typer.Option(
            "--pyproject/--no-pyproject",
            help="Append [tool.tlslint] to the existing pyproject.toml instead of writing .tlslint.toml.",
        ),
    ] = None,
    nginx_version: Annotated[
        Optional[str],
        typer.Option("--nginx-version", help="The nginx version your servers run (default: `nginx -v`)."),
    ] = None,
) -> None:
    """Write a commented starter config (.tlslint.toml); asks only on a terminal."""
    from tlslint.init import InitError, Questions, interactive
    from tlslint.init import init as write_starter

    questions = None
    if interactive():
        questions = Questions(
            confirm=lambda text, default: typer.confirm(text, default=default),
            prompt=lambda text, default: str(typer.prompt(text, default=default, show_default=bool(default))),
        )
    try:
        written = write_starter(
            directory, pyproject=pyproject, nginx_version=nginx_version, questions=questions
        )
    except InitError as error:
        raise _fail(str(error)) from None
    where = f"[tool.tlslint] to {written.path}" if written.appended else str(written.path)
    version = f"nginx {written.version} ({written.note})" if written.version else "nginx version not set"
    if not written.version and written.note.startswith("not the nginx"):
        version += f" ({written.note})"
    print(f"tlslint: wrote {where}; {version}")
    print("Next: `tlslint` checks this directory, `tlslint --fix` applies the safe fixes.")


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
        fix = {"safe": "fix", "unsafe": "unsafe fix", "mixed": "fix/unsafe", "none": ""}[meta.fix_safety]
        print(f"{meta.code:<6}  {meta.name:<42} {meta.severity!s:<8} {fix:<10} {meta.summary}")


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

        names = [meta.name for meta in index.values()]
        close = difflib.get_close_matches(code.upper(), list(index), n=1) or difflib.get_close_matches(
            code, names, n=1
        )
        hint = f"; did you mean {close[0]}?" if close else ""
        raise _fail(f"unknown rule '{code}'{hint}")
    entry = catalogue.load_entries()[wanted]
    sys.stdout.write(rule_page(entry))


class LogsFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"
    html = "html"


@app.command()
def probe(
    endpoint: Annotated[
        str, typer.Argument(metavar="HOST[:PORT]", help="The TLS endpoint (port 443 by default).")
    ],
    sni: Annotated[
        Optional[str],
        typer.Option("--sni", help="Server name to send (default: HOST unless it is an address)."),
    ] = None,
    connect: Annotated[
        Optional[str],
        typer.Option("--connect", help="Connect to this IP address, still sending HOST as SNI."),
    ] = None,
    count: Annotated[int, typer.Option("--count", help="Reconnects per TLS version for resumption.")] = 10,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds for each network step.")] = 5.0,
    verify: Annotated[
        bool, typer.Option("--verify", help="Verify certificates (off: a probe is diagnostics).")
    ] = False,
    cafile: Annotated[Optional[Path], typer.Option("--cafile", help="CA bundle for --verify.")] = None,
    min_ratio: Annotated[
        Optional[float], typer.Option("--min-ratio", help="LIV102: lowest resumed share (default 0.9).")
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.")
    ] = OutputFormat.text,
    fail_on: FailOnOption = None,
    config: ConfigOption = None,
    select: SelectOption = None,
    extend_select: ExtendSelectOption = None,
    ignore: IgnoreOption = None,
    quiet: QuietOption = False,
) -> None:
    """Measure one TLS endpoint: SNI, resumption, keep-alive, protocol versions (LIV rules)."""
    from tlslint.live.command import run_probe

    raise typer.Exit(
        run_probe(
            endpoint,
            sni=sni,
            connect=connect,
            count=count,
            timeout=timeout,
            verify=verify,
            cafile=cafile,
            min_ratio=min_ratio,
            output_format=output_format.value,
            fail_on=fail_on.value if fail_on else None,
            config=config,
            select=select,
            extend_select=extend_select,
            ignore=ignore,
            quiet=quiet,
        )
    )


@app.command()
def logs(
    files: Annotated[
        list[Path], typer.Argument(metavar="FILE...", help="Access logs (gzip, bzip2, xz too).")
    ],
    since: Annotated[
        Optional[str],
        typer.Option("--since", help="Only entries from this time (ISO 8601, or 2h: before now)."),
    ] = None,
    window: Annotated[str, typer.Option("--window", help="Window for handshake counts, e.g. 1m, 5m.")] = "1m",
    baseline: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--baseline", help="Log(s) of normal traffic (default: the windows of FILE without spikes)."
        ),
    ] = None,
    log_format: Annotated[
        Optional[str],
        typer.Option("--log-format", help="An nginx log_format string (or directive) for the files."),
    ] = None,
    per_client_limit: Annotated[
        Optional[int],
        typer.Option("--per-client-limit", help="LOG104: full handshakes per client per minute."),
    ] = None,
    output_format: Annotated[LogsFormat, typer.Option("--format", help="Output format.")] = LogsFormat.text,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the report to this file.")
    ] = None,
    fail_on: FailOnOption = None,
    config: ConfigOption = None,
    select: SelectOption = None,
    extend_select: ExtendSelectOption = None,
    ignore: IgnoreOption = None,
    quiet: QuietOption = False,
) -> None:
    """Analyse access logs: non-SNI resets, session reuse, handshake spikes and floods (LOG rules)."""
    from tlslint.logs.command import run_logs

    raise typer.Exit(
        run_logs(
            files,
            since=since,
            window=window,
            baseline=baseline or [],
            log_format=log_format,
            per_client_limit=per_client_limit,
            output_format=output_format.value,
            output=output,
            fail_on=fail_on.value if fail_on else None,
            config=config,
            select=select,
            extend_select=extend_select,
            ignore=ignore,
            quiet=quiet,
        )
    )


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


def _named_shell_completion(args: list[str]) -> int | None:
    """``--show-completion SHELL`` / ``--install-completion SHELL``, or None for anything else.

    With shellingham installed, typer's options are flags that detect the shell from the
    parent process and ignore a shell named after them (``--show-completion zsh`` printed
    bash's script when run from bash).
    """
    option, equals, value = args[0].partition("=") if args else ("", "", "")
    if option not in ("--show-completion", "--install-completion"):
        return None
    if equals and len(args) == 1:
        shell = value
    elif not equals and len(args) == 2:
        shell = args[1]
    else:
        return None  # the bare flag: typer detects the shell
    # typer pinned below 0.29 (pyproject); these are what its own completion options call.
    from typer._completion_shared import Shells, get_completion_script, install

    shells = [member.value for member in Shells]
    if shell not in shells:
        print(f"tlslint: {option}: unknown shell '{shell}' (one of: {', '.join(shells)})", file=sys.stderr)
        return 2
    if option == "--show-completion":
        print(get_completion_script(prog_name="tlslint", complete_var=COMPLETION_VARIABLE, shell=shell))
        return 0
    shell, path = install(shell=shell, prog_name="tlslint")
    print(f"{shell} completion installed in {path}")
    print("Completion will take effect once you restart the terminal")
    return 0


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    completion = _named_shell_completion(args)
    if completion is not None:
        sys.exit(completion)
    if not args or (
        args[0] not in SUBCOMMANDS and args[0] not in _TOP_LEVEL_FLAGS and args[0] != "--version"
    ):
        args = ["check", *args]
    try:
        app(args=args, prog_name="tlslint")
    except Exception as error:  # a bug: one clear line, the traceback only on request
        if os.environ.get("TLSLINT_DEBUG"):
            raise
        print(internal_error(error), file=sys.stderr)
        sys.exit(2)
