"""What each output format reported: (code, severity, path) read back from its text.

The reliability tests hold every format to the same verdict, so each format is read
back into one shape; severities are the formats' own words mapped to tlslint's.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

FORMATS = ("text", "json", "sarif", "github", "gitlab", "junit")
Reported = tuple[str, str, str]  # code, severity (error | warning | info | load), path

_TEXT = re.compile(r"^(?P<path>.+?)(?::\d+:\d+)?: (?P<code>[A-Z]{3}\d{3}) \[(?P<severity>\w+)\]", re.M)
_GITHUB = re.compile(
    r"^::(?P<level>error|warning|notice) file=(?P<path>[^,:]+)[^:]*?,title=(?P<code>[A-Z]{3}\d{3}) ", re.M
)
_SARIF_LEVELS = {"error": "error", "warning": "warning", "note": "info"}
_GITHUB_LEVELS = {"error": "error", "warning": "warning", "notice": "info"}
# gitlab and junit say "does not load" (blocker, <error>) instead of the severity.
_GITLAB = {"blocker": "load", "critical": "error", "major": "warning", "info": "info"}


def reported(output_format: str, stdout: str) -> list[Reported]:
    if output_format == "text":
        return [(m["code"], m["severity"], m["path"]) for m in _TEXT.finditer(stdout)]
    if output_format == "json":
        return [(f["code"], f["severity"], f["path"]) for f in json.loads(stdout)["findings"]]
    if output_format == "sarif":
        (run,) = json.loads(stdout)["runs"]
        return [
            (
                r["ruleId"],
                _SARIF_LEVELS[r["level"]],
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            )
            for r in run["results"]
        ]
    if output_format == "github":
        return [(m["code"], _GITHUB_LEVELS[m["level"]], m["path"]) for m in _GITHUB.finditer(stdout)]
    if output_format == "gitlab":
        return [
            (i["check_name"].split()[0], _GITLAB[i["severity"]], i["location"]["path"])
            for i in json.loads(stdout)
        ]
    if output_format == "junit":
        found = []
        for case in ET.fromstring(stdout).iter("testcase"):
            for outcome in case:
                severity = "load" if outcome.tag == "error" else outcome.get("type", "").split()[-1]
                found.append((case.get("name", "").split()[0], severity, case.get("file", "")))
        return found
    raise ValueError(output_format)
