"""GitHub Actions workflow commands: one annotation per finding."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlslint.findings import Finding, Severity
from tlslint.report.json_format import relative_path, shown_note

if TYPE_CHECKING:
    from tlslint.engine import RunResult

_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """The message part, after ``::`` (as in @actions/core's escapeData)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A ``key=value`` property (as in @actions/core's escapeProperty)."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(result: RunResult, *, quiet: bool = False) -> str:
    """One line per finding; ``quiet`` changes nothing (there is no summary)."""
    return "".join(annotation(finding) + "\n" for finding in result.findings)


def annotation(finding: Finding) -> str:
    loc = finding.location
    properties = [("file", relative_path(loc.path))]
    if loc.line > 0:
        properties.append(("line", str(loc.line)))
        if loc.column > 0:
            properties.append(("col", str(loc.column)))
        if loc.end_line > 0:
            properties.append(("endLine", str(loc.end_line)))
            if loc.end_column > 0:
                properties.append(("endColumn", str(loc.end_column)))
    properties.append(("title", f"{finding.code} {finding.name}"))
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    # The note on a line of its own (a fix's caveat, or how to fix it by hand): GitHub
    # shows an annotation's message whole, LF (escaped) and all.
    message = "\n".join(filter(None, (finding.message, shown_note(finding))))
    return f"::{_COMMANDS[finding.severity]} {joined}::{escape_data(message)}"
