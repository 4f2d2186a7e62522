"""Findings from probes and logs, reported like static checks.

The formatters (text, json, sarif, github) take a ``RunResult``; a probe or a log
analysis builds one with no nginx files in it. Locations: a probe finding is at
the pseudo-path ``host:port``, line 0; a log finding at the log file and the line
of the first relevant entry. Settings (select, ignore, per-file ignores, fail-on,
rule options) are read as for ``tlslint check``, starting at the working directory;
``--select``, ``--extend-select`` and ``--ignore`` layer over them as there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlslint import catalogue
from tlslint.findings import Finding, Location, Severity

if TYPE_CHECKING:
    from tlslint.engine import RunResult
    from tlslint.filters import Filters
    from tlslint.selection import Given
    from tlslint.settings import Settings


class UsageError(Exception):
    """A problem with what the user asked for: exit status 2, one line on stderr."""


@dataclass
class RuleSettings:
    settings: Settings
    filters: Filters
    fail_on: Severity

    def options(self, code: str) -> dict[str, Any]:
        meta = catalogue.index()[code]
        return {**meta.option_defaults(self.settings.profile), **self.settings.options_for(code)}

    def keep(self, finding: Finding) -> bool:
        return self.filters.keep(finding)

    def enabled(self, code: str) -> bool:
        return self.filters.enabled(code)


def load_rule_settings(
    config: Path | None,
    select: Given,
    ignore: Given,
    fail_on: str | None,
    overrides: dict[str, dict[str, Any]] | None = None,
    extend_select: Given = None,
) -> RuleSettings:
    """Settings as ``tlslint check`` reads them; raises UsageError for bad ones."""
    from tlslint import selection
    from tlslint.filters import Filters
    from tlslint.settings import SettingsError, load_settings
    from tlslint.sources.nginx.loader import NginxFiles

    try:
        settings = load_settings(Path.cwd(), config)
        given = selection.command_line(select, extend_select, ignore)
        if not given.empty:
            settings.overrides.append(given)
        selection.require_some(settings.selections())
    except (SettingsError, selection.SelectionError) as error:
        raise UsageError(str(error)) from None
    for code, values in (overrides or {}).items():
        settings.rule_options.setdefault(code, {}).update(values)
    threshold = settings.fail_on
    if fail_on is not None:
        threshold = Severity.ERROR + 1 if fail_on == "never" else Severity.parse(fail_on)  # type: ignore[assignment]
    return RuleSettings(settings, Filters(settings, NginxFiles(max_bytes=0)), threshold)


def make_finding(
    code: str,
    message: str,
    location: Location,
    *,
    anchor: str,
    fix_note: str = "",
    severity: Severity | None = None,
) -> Finding:
    meta = catalogue.index()[code]
    return Finding(
        code,
        meta.name,
        meta.severity if severity is None else severity,
        message,
        location,
        anchor=anchor,
        fix_note=fix_note,
    )


def make_result(
    findings: Iterable[Finding], files: Iterable[Path], missing: Iterable[Path] = ()
) -> RunResult:
    from tlslint.engine import RunResult
    from tlslint.sources.nginx.loader import NginxFiles
    from tlslint.workspace import Workspace

    read = list(files)
    return RunResult(
        sorted(findings, key=Finding.sort_key),
        read,
        Workspace(),
        NginxFiles(max_bytes=0),
        targets=list(read),
        missing_paths=list(missing),
    )


def findings_text(result: RunResult, *, quiet: bool) -> str:
    """The text formatter's findings (headers, hints), without its file-count summary."""
    if not result.findings:
        return ""
    from tlslint.report.text import render

    rendered = render(result, quiet=True) if quiet else render(result)
    if quiet:
        return rendered
    lines = rendered.rstrip("\n").split("\n")
    return "\n".join(lines[:-1]).rstrip("\n") + "\n"  # the last line is the summary


def summary_line(findings: list[Finding], where: str) -> str:
    if not findings:
        return f"No findings {where}."
    counts = {s: sum(1 for f in findings if f.severity == s) for s in Severity}
    parts = [
        f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}"
        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        if counts[s]
    ]
    plural = "s" if len(findings) != 1 else ""
    return f"Found {len(findings)} finding{plural} ({', '.join(parts)}) {where}."


def check_output(output: Path | None) -> None:
    """Raise UsageError for an --output that cannot be a file (before any work is done)."""
    if output is None:
        return
    if output.is_dir():
        raise UsageError(f"cannot write {output}: it is a directory")
    if not output.parent.is_dir():
        raise UsageError(f"cannot write {output}: no such directory {output.parent}")


def emit(text: str, output: Path | None) -> None:
    """Write the report to stdout or ``output``; UsageError when the file cannot be written."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot write {output}: {error.strerror or error}") from None
