"""GitLab Code Quality: a JSON array of issues (``artifacts:reports:codequality``).

Each issue has the fields GitLab requires (``description``, ``check_name``,
``fingerprint``, ``severity``, ``location.path``, ``location.lines.begin``), plus
``type`` and ``categories`` so that the report is also a valid Code Climate one.

Severity: a file that does not load (a parse error, a missing include, an include loop)
is ``blocker`` (nginx would refuse it), an error ``critical``, a warning ``major``, an
info ``info``. Fingerprints are SARIF's (line numbers play no part), so an issue keeps
its identity in merge-request widgets when lines move.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tlslint.findings import Finding, Severity
from tlslint.report.json_format import relative_path, shown_note
from tlslint.report.sarif import fingerprints

if TYPE_CHECKING:
    from tlslint.engine import RunResult

SEVERITIES = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}
LOAD_SEVERITY = "blocker"


def render(result: RunResult, *, quiet: bool = False) -> str:
    """The report; ``quiet`` changes nothing (there is no human summary)."""
    return json.dumps(report(result), indent=2) + "\n"


def report(result: RunResult) -> list[dict[str, Any]]:
    from tlslint.findings import is_load_error

    prints = fingerprints(result.findings)
    return [
        issue(finding, fingerprint, load=is_load_error(finding))
        for finding, fingerprint in zip(result.findings, prints, strict=True)
    ]


def issue(finding: Finding, fingerprint: str, *, load: bool = False) -> dict[str, Any]:
    loc = finding.location
    lines = {"begin": max(loc.line, 1)}  # a whole-file finding points at the first line
    if loc.end_line > loc.line:
        lines["end"] = loc.end_line
    return {
        "type": "issue",
        "check_name": f"{finding.code} {finding.name}",
        "description": "\n".join(filter(None, (f"{finding.code}: {finding.message}", shown_note(finding)))),
        "categories": ["Bug Risk"],
        "severity": LOAD_SEVERITY if load else SEVERITIES[finding.severity],
        "fingerprint": fingerprint,
        "location": {"path": relative_path(loc.path), "lines": lines},
    }
