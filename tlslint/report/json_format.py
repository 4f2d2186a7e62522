"""Machine-readable output: one stable JSON document per run (docs/json-format.md)."""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlslint import __version__
from tlslint.findings import Edit, Finding, Fix, Location, Severity, rule_counts
from tlslint.paths import resolved

if TYPE_CHECKING:
    from tlslint.engine import RunResult

SCHEMA_VERSION = 1
Region = tuple[int, int, int, int]  # start line, start column, end line, end column (exclusive)


def relative_path(path: Path, base: Path | None = None) -> str:
    """``path`` relative to ``base`` (default: the cwd) in posix form; absolute when outside it.

    A path that cannot be resolved (a symlink loop, named or walked: an SRC001 finding)
    is shown as it is: realpath stops at the loop where ``Path.resolve()`` raises."""
    base = base or Path.cwd()
    absolute = Path(os.path.abspath(path))
    for candidate, root in ((absolute, base), (resolved(absolute), resolved(base))):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return absolute.as_posix()


def edit_region(result: RunResult, edit: Edit) -> Region | None:
    """The 1-based region an edit replaces, or None when its file was not parsed."""
    source = result.source(edit.path)
    if source is None:
        return None
    start = source.position(edit.start)
    end = source.position(edit.end)
    return (*start, *end)


def render(result: RunResult, *, quiet: bool = False) -> str:
    """The whole run as JSON; ``quiet`` changes nothing (there is no human summary)."""
    return json.dumps(document(result), indent=2) + "\n"


def render_statistics(result: RunResult) -> str:
    """``--statistics --format json``: counts per rule, most frequent first."""
    rows = [
        {"code": row.code, "name": row.name, "count": row.count, "fixable": row.fixable, "places": row.places}
        for row in rule_counts(result.findings)
    ]
    return json.dumps(rows, indent=2) + "\n"


def document(result: RunResult) -> dict[str, Any]:
    counts = Counter(f.severity for f in result.findings)
    extra: dict[str, Any] = {}
    if result.baseline is not None:
        outcome = result.baseline
        extra["baseline"] = {
            "file": relative_path(outcome.file),
            "ignored": outcome.matched,
            **(
                {"recorded": outcome.recorded, "kept": outcome.kept or 0}
                if outcome.recorded is not None
                else {}
            ),
            "stale": [
                {"code": e.code, "path": e.path, "anchor": e.anchor, "message": e.message, "count": e.count}
                for e in outcome.stale
            ],
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "tlslint", "version": __version__},
        "summary": {
            "files": len(result.files),
            "findings": len(result.findings),
            "by_severity": {str(s): counts[s] for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)},
            "fixable": sum(1 for f in result.findings if f.fix is not None),
        },
        "findings": [_finding(result, f) for f in result.findings],
        **extra,
    }


def shown_note(finding: Finding) -> str:
    """The fix note as the reports show it: ``note: ...`` beside a fix (its caveat, or
    the alternative), bare where there is no fix (how to fix it by hand); '' for none."""
    if not finding.fix_note:
        return ""
    return finding.fix_note if finding.fix is None else f"note: {finding.fix_note}"


def _finding(result: RunResult, finding: Finding) -> dict[str, Any]:
    loc = finding.location
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": str(finding.severity),
        "message": finding.message,
        **_location(loc),
        "end_line": loc.end_line,
        "end_column": loc.end_column,
        "anchor": finding.anchor,
        "related": [{**_location(r.location), "message": r.message} for r in finding.related],
        "fix": None if finding.fix is None else _fix(result, finding.fix),
        "note": finding.fix_note,
    }


def _location(loc: Location) -> dict[str, Any]:
    return {"path": relative_path(loc.path), "line": loc.line, "column": loc.column}


def _fix(result: RunResult, fix: Fix) -> dict[str, Any]:
    return {
        "description": fix.description,
        "safety": "safe" if fix.safe else "unsafe",
        "edits": [_edit(result, edit) for edit in fix.edits],
    }


def _edit(result: RunResult, edit: Edit) -> dict[str, Any]:
    region = edit_region(result, edit)
    keys = ("start_line", "start_column", "end_line", "end_column")
    return {
        "path": relative_path(edit.path),
        **dict(zip(keys, region or (None, None, None, None), strict=True)),
        "replacement": edit.replacement,
    }
