"""The ``check`` command, free of the CLI framework.

``tlslint.cli`` declares the command line with typer; this module does the work,
so that the console script can run the common invocations (paths and a few
flags, see ``tlslint.quick_args``) without importing typer (~30 ms a commit).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tlslint.baseline import Baseline
    from tlslint.engine import RunOptions, RunResult
    from tlslint.locking import RootLock
    from tlslint.selection import Given
    from tlslint.settings import Settings
    from tlslint.sources.nginx.model import SourceText

PROGRESS_MIN_FILES = 300  # a progress bar below this would only flicker
# Set by the console script (tlslint.__main__), which ends the process without freeing
# what it built: each run's result is kept here, rather than freed one object at a time
# as run_check returns (42 ms at 10,000 hosts). None: freed as usual.
kept_runs: list[object] | None = None
STALE_SHOWN = 20  # stale baseline entries listed on stderr


class CommandError(Exception):
    """A usage or input problem: one line on stderr, exit 2."""


def run_quick(arguments: dict[str, object]) -> int:
    """``run_check`` for a command line read by ``tlslint.quick_args``, with the
    outcomes typer would give: a usage error, an interrupt, a closed pipe, a bug."""
    try:
        return run_check(**arguments)  # type: ignore[arg-type]
    except CommandError as error:
        print(f"tlslint: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as interrupt:
        from tlslint.interrupts import exit_code

        return exit_code(interrupt)  # as typer: 128 + SIGINT (or SIGTERM, while writing)
    except BrokenPipeError:  # `tlslint | head`: the reader has what it wanted
        return 1
    except Exception as error:
        if os.environ.get("TLSLINT_DEBUG"):
            raise
        print(internal_error(error), file=sys.stderr)
        return 2


def internal_error(error: Exception) -> str:
    """A bug: one clear line, the traceback only on request."""
    return (
        f"tlslint: internal error: {type(error).__name__}: {error} "
        "(please report it; set TLSLINT_DEBUG=1 for the traceback)"
    )


def run_check(
    paths: list[Path] | None = None,
    *,
    fix: bool = False,
    unsafe_fixes: bool = False,
    diff: bool = False,
    output_format: str = "text",
    fail_on: str | None = None,
    config: Path | None = None,
    select: Given = None,
    extend_select: Given = None,
    ignore: Given = None,
    nginx_version: str | None = None,
    statistics: bool = False,
    quiet: bool = False,
    baseline: Path | None = None,
    write_baseline: Path | None = None,
    changed_since: str | None = None,
    force_exclude: bool = False,
    no_cache: bool = False,
    show_settings: bool = False,
    fix_symlink_targets: bool = False,
    stdin_filename: Path | None = None,
    allow_remote_bases: bool = False,
) -> int:
    """Check, fix or diff; print the report; return the exit status.

    Raises ``CommandError`` for a usage or input problem (the caller says it, exit 2).
    """
    from tlslint import selection, stdin
    from tlslint.findings import Severity
    from tlslint.settings import SettingsError, load_settings

    reads_stdin = stdin.given(paths) or (stdin_filename is not None and not paths)
    if reads_stdin and (fix or diff or write_baseline is not None):
        other = "--fix" if fix else ("--diff" if diff else "--write-baseline")
        raise CommandError(f"{other} works on files; it cannot be combined with standard input (-)")
    targets = [p for p in paths or [] if str(p) != stdin.STDIN] if reads_stdin else (paths or [Path(".")])
    try:
        # Every path counts, in any order: the settings file is found from their common directory.
        named = [*targets, *([stdin_filename] if reads_stdin and stdin_filename is not None else [])]
        settings = load_settings(named or [Path(".")], config)
        given = selection.command_line(select, extend_select, ignore)
        if not given.empty:
            settings.overrides.append(given)  # after the file's: ruff's layering
        selection.require_some(settings.selections())
        if nginx_version is not None:
            from tlslint.nginx_versions import parse_version

            settings.nginx_version = parse_version(nginx_version)
            settings.nginx_version_text = nginx_version
    except (SettingsError, ValueError) as error:
        raise CommandError(str(error)) from None
    if settings.nginx_version_text:
        from tlslint.nginx_versions import below_supported_warning, partial_version_warning

        for warning in (
            partial_version_warning(settings.nginx_version_text),
            below_supported_warning(settings.nginx_version_text),
        ):
            if warning:
                print(f"tlslint: warning: {warning}", file=sys.stderr)
    if show_settings:
        from tlslint.init import show_settings as describe
        from tlslint.version_report import show_versions

        sys.stdout.write(describe(settings))
        sys.stdout.write(show_versions(targets, settings))
        return 0
    if write_baseline is not None and (changed_since is not None or diff):
        other = "--changed-since" if changed_since is not None else "--diff"
        raise CommandError(
            f"--write-baseline records every finding of a run; it cannot be combined with {other}"
        )
    from tlslint.engine import run

    # Writing a baseline records every finding: an older baseline given too hides none.
    recorded = baseline if write_baseline is None else None
    options = _run_options(
        settings, targets or [Path(".")], recorded, changed_since, force_exclude, quiet, no_cache
    )
    if reads_stdin or allow_remote_bases:
        import dataclasses

        piped = _read_stdin(stdin_filename, settings) if reads_stdin else None
        options = dataclasses.replace(options, stdin=piped, allow_remote_bases=allow_remote_bases)
    lock = _lock_for_fix(targets or [Path(".")], settings) if fix and not diff else None  # before reading
    result = run(targets, settings, run_options=options)
    if kept_runs is not None:
        kept_runs.append(result)
    _clear_progress(options.progress)
    from tlslint.discovery import is_shell_script, missing_reason

    for missing in result.missing_paths:
        print(f"tlslint: {missing}: {missing_reason(missing)}", file=sys.stderr)
    refused = False
    for empty in result.empty_paths:
        where = "under" if os.path.isdir(empty) else "in"
        print(f"tlslint: no nginx, Apigee or app-server configuration found {where} {empty}", file=sys.stderr)
        if where == "in" and is_shell_script(empty):
            script = f"tlslint: {empty} is a shell script that starts no gunicorn, uvicorn or hypercorn"
            print(script, file=sys.stderr)
    _warn(result)
    if fix or diff:
        from tlslint.fixing import apply_fixes

        outcome = apply_fixes(
            result, settings, unsafe=unsafe_fixes, write=not diff, symlink_targets=fix_symlink_targets
        )
        _clear_progress(options.progress)
        for message in outcome.messages:
            print(f"tlslint: {message}", file=sys.stderr)
        if diff:
            sys.stdout.write(outcome.diff)
            return 2 if result.has_load_errors or outcome.refused else (1 if outcome.diff else 0)
        if outcome.written:
            count = len(outcome.written)
            print(f"tlslint: fixed {count} file{'s' if count != 1 else ''}", file=sys.stderr)
        result = outcome.result
        refused = bool(outcome.refused)  # a fix nginx would refuse: tlslint's own bug
    if lock is not None:
        lock.release()
    if options.cache is not None:
        options.cache.save()
    if options.results is not None:
        options.results.save()
    if write_baseline is not None:
        result = _write_baseline(write_baseline, result, settings)
    _report_baseline(result, quiet=quiet)
    threshold = settings.fail_on
    if fail_on is not None:
        threshold = Severity.ERROR + 1 if fail_on == "never" else Severity.parse(fail_on)  # type: ignore[assignment]
    from tlslint.report import render_pieces

    # In pieces: the stream encodes what it is given at once, a second copy of a report
    # of 10,000 findings at the run's peak of memory.
    for text in render_pieces(output_format, result, statistics=statistics, quiet=quiet):
        for offset in range(0, len(text), _WRITE_CHUNK):
            sys.stdout.write(text[offset : offset + _WRITE_CHUNK])
    return 2 if refused else result.exit_code(threshold)


_WRITE_CHUNK = 1 << 16  # characters


def _warn(result: RunResult) -> None:
    """Problems that are no finding (a suppression naming no rule), once, on stderr."""
    from tlslint.report.text import display_path

    for location, message in result.warnings:
        where = f"{display_path(location.path)}:{location.line}:{location.column}"
        print(f"tlslint: warning: {where}: {message}", file=sys.stderr)


def _read_stdin(name: Path | None, settings: Settings) -> SourceText:
    from tlslint import stdin
    from tlslint.sources.text import SourceError

    try:
        source = stdin.read(name, max_bytes=settings.max_file_size)
    except SourceError as error:
        raise CommandError(f"standard input: {error.message}") from None
    except ValueError as error:
        raise CommandError(str(error)) from None
    # Nothing is what a failed `kubectl kustomize ... | tlslint check -` pipes (a shell
    # without pipefail passes on the last command's status): never "All checks passed".
    if not source.text.strip():
        raise CommandError(
            "standard input is empty: nothing checked (did the command piping into tlslint fail? "
            "`set -o pipefail` makes the shell say so)"
        )
    return source


def _lock_for_fix(targets: list[Path], settings: Settings) -> RootLock:
    """The lock a ``--fix`` holds on where it writes (tlslint.locking), waiting with a
    message on stderr while another run holds it."""
    from tlslint.fixing import write_roots
    from tlslint.locking import lock_roots

    return lock_roots(
        write_roots(targets, settings), lambda message: print(f"tlslint: {message}", file=sys.stderr)
    )


def _run_options(
    settings: Settings,
    targets: list[Path],
    baseline: Path | None,
    changed_since: str | None,
    force_exclude: bool,
    quiet: bool,
    no_cache: bool = False,
) -> RunOptions:
    from tlslint.engine import RunOptions

    scope = None
    if changed_since is not None:
        from dataclasses import replace

        from tlslint.changed import ChangedError, changed_in, texts_at
        from tlslint.scope import Scope, gone_shared

        try:
            scope = Scope.of(changed_in(changed_since, targets or [Path(".")]), includes=True, includers=True)
            scope = replace(scope, gone_shared=gone_shared(scope.absent, texts_at(changed_since)))
        except ChangedError as error:
            raise CommandError(str(error)) from None
    recorded = None
    if baseline is not None:
        from tlslint import baseline as baselines

        try:
            recorded = baselines.load(baseline, baselines.base_for(settings))
        except baselines.BaselineError as error:
            raise CommandError(str(error)) from None
    progress = None if quiet else _progress_bar(sys.stderr)
    cache = results = None
    if not no_cache:
        from tlslint.cache import ModelCache
        from tlslint.results import ResultStore

        # Beside the settings file, else in the working directory (as ruff does).
        home = settings.base if settings.source is not None else Path.cwd()
        cache, results = ModelCache.open(home), ResultStore.open(home)
    return RunOptions(
        scope=scope,
        baseline=recorded,
        force_exclude=force_exclude,
        progress=progress,
        cache=cache,
        results=results,
    )


def _write_baseline(file: Path, result: RunResult, settings: Settings) -> RunResult:
    """Record the findings, then report the run as the new baseline would see it.

    Writing over a baseline keeps the entries this run could not have judged (rules that
    did not run, files not checked, codes that name no rule): a run of one rule, or over
    one file, refreshes their entries and leaves the others as they were.
    """
    import dataclasses

    from tlslint import baseline as baselines

    base = baselines.base_for(settings)
    entries = baselines.entries_for(result.findings, base)
    recorded = sum(entry.count for entry in entries.values())
    previous = _previous_baseline(file, base)
    kept = baselines.unjudged(previous, entries, result.baseline_judge(base)) if previous else []
    entries.update((entry.key, entry) for entry in kept)
    try:
        baselines.write(file, entries, base)
    except baselines.BaselineError as error:
        raise CommandError(str(error)) from None
    unrecordable = [finding for finding in result.findings if not baselines.recordable(finding)]
    count = len(entries) - len(kept)
    note = f"; kept {len(kept)} entr{'ies' if len(kept) != 1 else 'y'} this run did not judge" if kept else ""
    print(
        f"tlslint: {file}: recorded {recorded} finding{'s' if recorded != 1 else ''} "
        f"({count} entr{'ies' if count != 1 else 'y'}){note}",
        file=sys.stderr,
    )
    outcome = baselines.BaselineOutcome(
        file, unknown=baselines.unknown(kept), recorded=recorded, kept=len(kept)
    )
    return dataclasses.replace(result, findings=unrecordable, baseline=outcome)


def _previous_baseline(file: Path, base: Path) -> Baseline | None:
    """The baseline ``file`` holds now, whose unjudged entries a new one keeps; None when
    there is none, or none this tlslint reads (it is written anew, as the error asks)."""
    from tlslint import baseline as baselines

    if not os.path.lexists(file):
        return None
    try:
        return baselines.load(file, base)
    except baselines.BaselineError as error:
        print(f"tlslint: warning: {error}; writing it anew, keeping none of its entries", file=sys.stderr)
        return None


def _report_baseline(result: RunResult, *, quiet: bool) -> None:
    """A note on stderr: how many findings the baseline hid, its stale entries, and those
    whose code names no rule."""
    outcome = result.baseline
    if outcome is None:
        return
    from tlslint.baseline import DEAD_ANCHORS

    by_code: dict[str, list[str]] = {}
    for entry in outcome.unknown:
        by_code.setdefault(entry.code, []).append(entry.path)
    for code, paths in by_code.items():
        entries = f"{len(paths)} entr{'ies' if len(paths) != 1 else 'y'}"
        where = ", ".join(paths[:3]) + (", ..." if len(paths) > 3 else "")
        print(
            f"tlslint: warning: {outcome.file}: {entries} for unknown rule code '{code}' ({where}): "
            "no rule has that code, so nothing matches; never stale, kept by --write-baseline "
            "(remove by hand if the code is a typo)",
            file=sys.stderr,
        )
    if outcome.recorded is not None:  # written: said when writing
        return
    if outcome.matched and not quiet:
        plural = "s" if outcome.matched != 1 else ""
        print(f"tlslint: {outcome.file}: ignored {outcome.matched} recorded finding{plural}", file=sys.stderr)
    if outcome.stale:
        stale = sum(entry.count for entry in outcome.stale)
        plural = "ies" if len(outcome.stale) != 1 else "y"
        print(
            f"tlslint: {outcome.file}: {len(outcome.stale)} stale entr{plural} ({stale} finding"
            f"{'s' if stale != 1 else ''} no longer found; --write-baseline drops them)",
            file=sys.stderr,
        )
        for entry in outcome.stale[:STALE_SHOWN]:
            times = f" (x{entry.count})" if entry.count != 1 else ""
            # Maybe still reported: what did not load is never hidden, so the entry is dead.
            dead = ""
            if entry.anchor in DEAD_ANCHORS:
                dead = " (what does not load is never hidden by a baseline)"
            key = entry.anchor or entry.message
            print(f"  {entry.path}: {entry.code} {key}{times}{dead}", file=sys.stderr)
        if len(outcome.stale) > STALE_SHOWN:
            print(f"  ... and {len(outcome.stale) - STALE_SHOWN} more", file=sys.stderr)


class _ProgressBar:
    """``checking N files [####    ] 50%`` on a terminal; silent anywhere else."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = -1
        self.visible = False

    def __call__(self, done: int, total: int) -> None:
        if total < PROGRESS_MIN_FILES:
            return
        percent = done * 100 // total
        if percent == self.shown:
            return
        self.shown = percent
        filled = done * self.WIDTH // total
        bar = "#" * filled + " " * (self.WIDTH - filled)
        self.stream.write(f"\rtlslint: checking {total} files [{bar}] {percent:3d}%")
        self.stream.flush()
        self.visible = True

    def clear(self) -> None:
        if self.visible:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.visible = False
            self.shown = -1


def _progress_bar(stream: TextIO) -> _ProgressBar | None:
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return _ProgressBar(stream) if tty else None


def _clear_progress(progress: object) -> None:
    if isinstance(progress, _ProgressBar):
        progress.clear()
