"""JUnit XML, for CI systems that show test reports (GitLab, Jenkins, Azure DevOps).

One ``testsuite`` per file read. A finding is a ``testcase`` with a ``failure``; a file
that could not be loaded (a parse error, a missing include, an include loop) gives an
``error`` instead. A file without findings is one passing ``testcase``, so a clean run
is a passing suite that still shows what was checked.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.findings import Finding
from tlslint.report.json_format import relative_path, shown_note

if TYPE_CHECKING:
    from tlslint.engine import RunResult

SUITES_NAME = "tlslint"
# Characters XML 1.0 cannot hold, and lone surrogates (undecodable bytes in a file).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render(result: RunResult, *, quiet: bool = False) -> str:
    """The report; ``quiet`` changes nothing (there is no human summary)."""
    root = document(result)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def document(result: RunResult) -> ET.Element:
    from tlslint.findings import is_load_error

    # Every file checked is a suite: one without findings is a passing case. A partial run
    # (named files, --changed-since) read more files than it reports on: those are left out.
    checked = [p for p in result.files if result.reported is None or p in result.reported]
    by_file: dict[str, list[Finding]] = {relative_path(path): [] for path in checked}
    for finding in result.findings:
        by_file.setdefault(relative_path(finding.location.path), []).append(finding)
    suites = ET.Element("testsuites", name=SUITES_NAME)
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for path in sorted(by_file):
        findings = by_file[path]
        suite = ET.SubElement(suites, "testsuite", name=clean(path))
        counts = {"tests": max(len(findings), 1), "failures": 0, "errors": 0}
        if not findings:
            ET.SubElement(suite, "testcase", name="no findings", classname=_classname(path), file=clean(path))
        for finding in findings:
            kind = "error" if is_load_error(finding) else "failure"
            counts["errors" if kind == "error" else "failures"] += 1
            _case(suite, path, finding, kind)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        suites.set(key, str(value))
    return suites


def _case(suite: ET.Element, path: str, finding: Finding, kind: str) -> None:
    loc = finding.location
    where = f"{path}:{loc.line}:{loc.column}" if loc.line else path
    case = ET.SubElement(
        suite,
        "testcase",
        name=clean(f"{finding.code} {finding.name} at {where}"),
        classname=_classname(path),
        file=clean(path),
    )
    if loc.line:
        case.set("line", str(loc.line))
    outcome = ET.SubElement(
        case, kind, message=clean(finding.message), type=f"{finding.code} {finding.severity}"
    )
    details = [f"{where}: {finding.code} [{finding.severity}] {finding.message}"]
    details += [
        f"  --> {relative_path(r.location.path)}:{r.location.line}: {r.message}" for r in finding.related
    ]
    if finding.fix is not None:
        details.append(f"  fix{'' if finding.fix.safe else ' (unsafe)'}: {finding.fix.description}")
    if finding.fix_note:
        details.append(f"  {shown_note(finding)}")
    outcome.text = clean("\n".join(details))


def _classname(path: str) -> str:
    """``tlslint.sites-enabled/api.conf``: suites group by file in most viewers."""
    return clean(f"{SUITES_NAME}.{Path(path).as_posix()}")
