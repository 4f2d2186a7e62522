"""SARIF 2.1.0 for code-scanning services (GitHub, GitLab, Azure DevOps)."""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from tlslint import __version__, catalogue
from tlslint.findings import Edit, Finding, Fix, Location, Severity
from tlslint.paths import resolved
from tlslint.report.json_format import edit_region, relative_path, shown_note
from tlslint.report.rule_page import rule_page

if TYPE_CHECKING:
    from tlslint.engine import RunResult

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/tlslint/tlslint"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "tlslint/v1"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def render(result: RunResult, *, quiet: bool = False) -> str:
    """The run as one SARIF log; ``quiet`` changes nothing."""
    return json.dumps(sarif_log(result), indent=2) + "\n"


def sarif_log(result: RunResult) -> dict[str, Any]:
    entries = catalogue.load_entries()
    rule_index = {code: i for i, code in enumerate(entries)}
    prints = fingerprints(result.findings)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "tlslint",
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule(entry) for entry in entries.values()],
            }
        },
        "invocations": [_invocation(result)],
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(Path.cwd())}},
        "columnKind": "unicodeCodePoints",  # columns count characters, as in the text output
        "results": [_result(result, f, rule_index, p) for f, p in zip(result.findings, prints, strict=True)],
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def fingerprints(findings: list[Finding]) -> list[str]:
    """One per finding, stable across runs and line shifts.

    The sha256 of code, relative path and structural anchor (the message when there is
    none), NUL-separated. The n-th repeat of the same triple (n >= 1, in file order) adds
    n as a fourth part, so that no two results share a fingerprint.
    """
    seen: Counter[tuple[str, str, str]] = Counter()
    out = []
    for finding in findings:
        key = (finding.code, relative_path(finding.location.path), finding.anchor or finding.message)
        parts = [*key, str(seen[key])] if seen[key] else list(key)
        seen[key] += 1
        out.append(hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest())
    return out


def _rule(entry: dict[str, Any]) -> dict[str, Any]:
    summary, why, fix = (entry[key].strip() for key in ("summary", "why", "fix"))
    return {
        "id": entry["code"],
        "name": entry["name"],
        "shortDescription": {"text": summary},
        "fullDescription": {"text": why},
        "help": {"text": f"{summary}\n\n{why}\n\nFix: {fix}", "markdown": rule_page(entry)},
        "defaultConfiguration": {"level": _LEVELS[Severity.parse(entry["severity"])]},
        "properties": {"tags": ["tls", entry["target"]], "fix-safety": entry.get("fix-safety", "none")},
    }


def _invocation(result: RunResult) -> dict[str, Any]:
    from tlslint.findings import is_load_error

    # One note a problem: a path named and missing is one of the findings too (SRC001).
    notes = [f"{_place(f.location)}: {f.code} {f.message}" for f in result.findings if is_load_error(f)]
    # False exactly when the run exits 2 (docs/exit-codes.md): the verdict is incomplete.
    invocation: dict[str, Any] = {"executionSuccessful": not notes and not result.missing_paths}
    if notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": text}} for text in notes
        ]
    return invocation


def _place(loc: Location) -> str:
    path = relative_path(loc.path)
    return f"{path}:{loc.line}" if loc.line else path


def _result(
    result: RunResult, finding: Finding, rule_index: dict[str, int], fingerprint: str
) -> dict[str, Any]:
    out: dict[str, Any] = {"ruleId": finding.code}
    if finding.code in rule_index:
        out["ruleIndex"] = rule_index[finding.code]
    out["level"] = _LEVELS[finding.severity]
    # The note in the message, which code scanning shows (it shows no ``fixes``), and as
    # a property for scripts, as JSON's ``note``.
    out["message"] = {"text": "\n".join(filter(None, (finding.message, shown_note(finding))))}
    out["locations"] = [{"physicalLocation": _physical(finding.location)}]
    if finding.related:
        out["relatedLocations"] = [
            {"id": i, "physicalLocation": _physical(r.location), "message": {"text": r.message}}
            for i, r in enumerate(finding.related)
        ]
    out["partialFingerprints"] = {FINGERPRINT: fingerprint}
    fix = _fix(result, finding.fix) if finding.fix is not None else None
    if fix is not None:
        out["fixes"] = [fix]
    if finding.fix_note:
        out["properties"] = {"note": finding.fix_note}
    return out


def _physical(loc: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(loc.path)}
    if loc.line > 0:
        region = {"startLine": loc.line}
        if loc.column > 0:
            region["startColumn"] = loc.column
        if loc.end_line > 0 and (loc.end_line, loc.end_column) >= (loc.line, loc.column):
            region["endLine"] = loc.end_line
            if loc.end_column > 0:
                region["endColumn"] = loc.end_column
        physical["region"] = region
    return physical


def _artifact(path: Path) -> dict[str, Any]:
    relative = Path(relative_path(path))
    if relative.is_absolute():  # outside the working directory
        return {"uri": relative.as_uri()}  # percent-encodes the name's bytes, as below
    return {"uri": _uri_path(relative.as_posix()), "uriBaseId": SRCROOT}


def _uri_path(name: str) -> str:
    """A relative URI reference for a file name: its bytes (os.fsencode: a name that is
    not UTF-8 keeps its own bytes, not the surrogates it was decoded to) percent-encoded
    as RFC 3986 asks, as SARIF does of artifactLocation.uri."""
    return quote(os.fsencode(name), safe="/")


def _directory_uri(path: Path) -> str:
    uri = resolved(path).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _fix(result: RunResult, fix: Fix) -> dict[str, Any] | None:
    """A SARIF fix, or None when an edit's file was not parsed (no region to point at)."""
    changes: dict[Path, list[dict[str, Any]]] = {}
    for edit in fix.edits:
        replacement = _replacement(result, edit)
        if replacement is None:
            return None  # half a fix is worse than none
        changes.setdefault(edit.path, []).append(replacement)
    if not changes:
        return None
    return {
        "description": {"text": fix.description},
        "artifactChanges": [
            {"artifactLocation": _artifact(path), "replacements": replacements}
            for path, replacements in changes.items()
        ],
        "properties": {"safety": "safe" if fix.safe else "unsafe"},
    }


def _replacement(result: RunResult, edit: Edit) -> dict[str, Any] | None:
    region = edit_region(result, edit)
    if region is None:
        return None
    keys = ("startLine", "startColumn", "endLine", "endColumn")
    deleted = dict(zip(keys, region, strict=True))
    return {"deletedRegion": deleted, "insertedContent": {"text": edit.replacement}}
