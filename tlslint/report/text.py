"""Human output, ruff-like: ``path:line:col: CODE message``, a code frame, a summary."""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.findings import Finding, Severity, rule_counts
from tlslint.report.json_format import shown_note

if TYPE_CHECKING:
    from tlslint.baseline import BaselineOutcome
    from tlslint.engine import RunResult

_COLOURS = {"error": "31", "warning": "33", "info": "36", "code": "1;31", "path": "1", "dim": "2"}


def use_colour() -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


class _Painter:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, role: str, text: str) -> str:
        return f"\x1b[{_COLOURS[role]}m{text}\x1b[0m" if self.enabled else text


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


class _Shown(dict[Path, str]):
    """``display_path`` of each path, worked out once a report: 10,000 findings name a
    few files each, and ``relpath`` of every one was half of writing the report."""

    def __missing__(self, path: Path) -> str:
        shown = self[path] = display_path(path)
        return shown


SHOWN_RELATED = 10  # related locations printed under a finding


def render(result: RunResult, *, quiet: bool = False, colour: bool | None = None) -> str:
    return "".join(render_lines(result, quiet=quiet, colour=colour))


def render_lines(result: RunResult, *, quiet: bool = False, colour: bool | None = None) -> Iterator[str]:
    """The report a line at a time, each with its newline: a run of 10,000 findings
    writes them as they are made, never holding the whole report (its peak of memory)."""
    paint = _Painter(use_colour() if colour is None else colour)
    shown = _Shown()
    for finding in result.findings:
        yield _header(finding, paint, shown) + "\n"
        if not quiet:
            out = list(_frame(finding, result, paint))
            for related in finding.related[:SHOWN_RELATED]:
                loc = related.location
                where = f"{shown[loc.path]}:{loc.line}:{loc.column}"
                out.append(f"  {paint('dim', '-->')} {where}: {related.message}")
            hidden = len(finding.related) - SHOWN_RELATED
            if hidden > 0:  # one cause for thousands of servers: every place is in json and sarif
                out.append(
                    f"  {paint('dim', '-->')} ... and {hidden} more (--format json or sarif lists all)"
                )
            for hint in _hints(finding):
                out.append(f"  {paint('dim', '=')} {hint}")
            out.append("")
            yield "".join(line + "\n" for line in out)
    if not quiet:
        yield summary(result.findings, len(result.files), result.baseline) + "\n"


def _header(finding: Finding, paint: _Painter, shown: _Shown) -> str:
    loc = finding.location
    where = shown[loc.path]
    if loc.line:
        where += f":{loc.line}:{loc.column}"
    severity = str(finding.severity)
    code = paint("code", finding.code)
    return f"{paint('path', where)}: {code} [{paint(severity, severity)}] {finding.message}"


def _frame(finding: Finding, result: RunResult, paint: _Painter) -> list[str]:
    loc = finding.location
    if not loc.line:
        return []
    source = result.source(loc.path)
    if source is None:
        return []
    text = source.line_text(loc.line).expandtabs(4)
    raw = source.line_text(loc.line)
    width = len(str(loc.line))
    start = len(raw[: loc.column - 1].expandtabs(4))
    end_column = loc.end_column if loc.end_line == loc.line and loc.end_column > loc.column else len(raw) + 1
    length = max(1, len(raw[loc.column - 1 : end_column - 1].expandtabs(4)))
    gutter = " " * width
    return [
        f"{gutter} {paint('dim', '|')}",
        f"{paint('dim', str(loc.line))} {paint('dim', '|')} {text}",
        f"{gutter} {paint('dim', '|')} {' ' * start}{paint(str(finding.severity), '^' * length)}",
    ]


def _hints(finding: Finding) -> list[str]:
    """The fix, and the note: how to fix it by hand, or the fix's alternative."""
    hints = []
    if finding.fix is not None:
        kind = "fix" if finding.fix.safe else "unsafe fix (--unsafe-fixes)"
        hints.append(f"{kind}: {finding.fix.description}")
    if finding.fix_note:
        hints.append(shown_note(finding))
    return hints


def summary(findings: list[Finding], files: int, baseline: BaselineOutcome | None = None) -> str:
    read = f"{files} file{'s' if files != 1 else ''} read"
    if baseline is not None and (baseline.recorded or baseline.kept):
        # --write-baseline: what is left is what the new baseline does not record
        count = baseline.recorded or 0
        recorded = f"Recorded {count} finding{'s' if count != 1 else ''} in {baseline.file}"
        kept = ""
        if baseline.kept:
            entries = f"{baseline.kept} entr{'ies' if baseline.kept != 1 else 'y'}"
            kept = f"; kept {entries} untouched (rules that did not run, files not checked)"
        if not findings:
            return f"{recorded}{kept}; no other findings ({read})."
        return f"{summary(findings, files)}\n{recorded} (what does not load is never recorded){kept}."
    if not findings and not files:
        return f"Nothing checked: no configuration found ({read})."  # never "passed"
    if not findings:
        return f"All checks passed ({read})."
    counts = Counter(f.severity for f in findings)
    parts = [
        f"{counts[s]} {s}{'s' if counts[s] != 1 else ''}"
        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        if counts[s]
    ]
    safe = sum(1 for f in findings if f.fix is not None and f.fix.safe)
    unsafe = sum(1 for f in findings if f.fix is not None and not f.fix.safe)
    plural = "s" if len(findings) != 1 else ""
    files_plural = "s" if files != 1 else ""
    line = f"Found {len(findings)} finding{plural} ({', '.join(parts)}) in {files} file{files_plural} read."
    if safe:
        line += f"\n{safe} fixable with `tlslint --fix`."
    if unsafe:
        line += f"\n{unsafe} more fixable with `tlslint --fix --unsafe-fixes`."
    return line


def render_statistics(result: RunResult) -> str:
    lines = [
        f"{row.count:>5}  {row.code}  {'[*]' if row.fixable else '   '} {row.name}"
        + (f" ({row.places} places)" if row.places != row.count else "")
        for row in rule_counts(result.findings)
    ]
    return "\n".join(lines) + ("\n" if lines else "")
