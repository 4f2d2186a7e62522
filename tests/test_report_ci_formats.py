"""The CI formats: GitLab Code Quality JSON and JUnit XML, over real runs of the engine."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers import check_files, settings_for

from tlslint.engine import RunResult, run
from tlslint.findings import Severity
from tlslint.report import FORMATS, gitlab, junit, render, sarif

NO_CACHE = """\
http {
    server {
        listen 443 ssl;
        server_name example.com;
        ssl_certificate     /etc/ssl/example.com.pem;
        ssl_certificate_key /etc/ssl/example.com.key;
        ssl_session_tickets off;
    }
}
"""
CLEAN = NO_CACHE.replace(
    "ssl_session_tickets off;", "ssl_session_cache shared:SSL:10m;\n        ssl_session_tickets off;"
)
BROKEN = "http {\n    server {\n        listen 443 ssl;\n"  # unterminated block: NGX001
# The loaders and the session rules: enough findings for the formats, and a CLEAN that
# stays clean whatever rules other families add.
SESSION_RULES = {"select": ["NGX0", "NGX1"]}

# GitLab's documented Code Quality report shape (docs: ci/testing/code_quality,
# "Code Quality report format"): the required fields, and the severity values it accepts.
GITLAB_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1, "not": {"pattern": "^/"}},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {
                            "begin": {"type": "integer", "minimum": 1},
                            "end": {"type": "integer", "minimum": 1},
                        },
                    },
                },
            },
            # Code Climate's fields, which GitLab ignores.
            "type": {"const": "issue"},
            "categories": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        },
    },
}


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(directory: Path, files: dict[str, str]) -> RunResult:
    return check_files(directory, files, SESSION_RULES)


def mixed_run(directory: Path) -> RunResult:
    return check(
        directory, {"sites/a.conf": NO_CACHE, "sites/clean.conf": CLEAN, "sites/broken.conf": BROKEN}
    )


# --- registration ----------------------------------------------------------------------


def test_formats_are_registered_in_the_cli_and_the_report_package() -> None:
    from tlslint.cli import OutputFormat

    assert {"gitlab", "junit"} <= set(FORMATS)
    assert {f.value for f in OutputFormat} == set(FORMATS)


# --- gitlab ----------------------------------------------------------------------------


def test_gitlab_report_has_the_documented_shape(in_tmp: Path) -> None:
    result = mixed_run(in_tmp)
    assert result.findings
    data = json.loads(gitlab.render(result))
    jsonschema.validate(data, GITLAB_SCHEMA)
    assert len(data) == len(result.findings)
    assert len({issue["fingerprint"] for issue in data}) == len(data)
    for issue, finding in zip(data, result.findings, strict=True):
        assert issue["check_name"] == f"{finding.code} {finding.name}"
        assert finding.message in issue["description"]
        assert issue["location"]["path"] == finding.location.path.relative_to(in_tmp).as_posix()
        assert issue["location"]["lines"]["begin"] == max(finding.location.line, 1)


def test_gitlab_severities(in_tmp: Path) -> None:
    result = mixed_run(in_tmp)
    by_code = {issue["check_name"].split()[0]: issue["severity"] for issue in gitlab.report(result)}
    assert by_code["NGX001"] == "blocker"  # the file does not load
    finding = next(f for f in result.findings if f.code == "NGX101")
    prints = sarif.fingerprints([finding])
    for severity, expected in (
        (Severity.ERROR, "critical"),
        (Severity.WARNING, "major"),
        (Severity.INFO, "info"),
    ):
        changed = dataclasses.replace(finding, severity=severity)
        assert gitlab.issue(changed, prints[0])["severity"] == expected


def test_gitlab_fingerprints_are_sarifs_and_survive_line_shifts(in_tmp: Path) -> None:
    before = gitlab.report(check(in_tmp, {"a.conf": NO_CACHE}))
    after = gitlab.report(check(in_tmp, {"a.conf": "# moved\n\n" + NO_CACHE}))
    assert [i["fingerprint"] for i in before] == [i["fingerprint"] for i in after]
    assert [i["location"]["lines"]["begin"] + 2 for i in before] == [
        i["location"]["lines"]["begin"] for i in after
    ]
    result = check(in_tmp, {"a.conf": NO_CACHE})
    assert [i["fingerprint"] for i in gitlab.report(result)] == sarif.fingerprints(result.findings)


def test_gitlab_clean_run_is_an_empty_array(in_tmp: Path) -> None:
    assert json.loads(gitlab.render(check(in_tmp, {"a.conf": CLEAN}))) == []


# --- junit -----------------------------------------------------------------------------


def parse_junit(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_counts(in_tmp: Path) -> None:
    result = mixed_run(in_tmp)
    root = parse_junit(junit.render(result))
    assert root.tag == "testsuites"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert set(suites) == {"sites/a.conf", "sites/clean.conf", "sites/broken.conf"}
    failures = [f for f in result.findings if f.code != "NGX001"]
    assert int(root.get("failures", "")) == len(failures)
    assert int(root.get("errors", "")) == 1
    assert int(root.get("tests", "")) == len(result.findings) + 1  # + the clean file's passing case
    for name, suite in suites.items():
        cases = suite.findall("testcase")
        assert int(suite.get("tests", "")) == len(cases)
        assert int(suite.get("failures", "")) == sum(len(c.findall("failure")) for c in cases)
        assert int(suite.get("errors", "")) == sum(len(c.findall("error")) for c in cases)
        for case in cases:
            assert case.get("file") == name
    (clean_case,) = suites["sites/clean.conf"].findall("testcase")
    assert list(clean_case) == []  # passing
    (broken_case,) = suites["sites/broken.conf"].findall("testcase")
    (error,) = broken_case.findall("error")
    assert error.get("type", "").startswith("NGX001")
    a_cases = suites["sites/a.conf"].findall("testcase")
    ngx101 = next(c for c in a_cases if c.get("name", "").startswith("NGX101"))
    (failure,) = ngx101.findall("failure")
    finding = next(f for f in result.findings if f.code == "NGX101")
    assert failure.get("message") == finding.message
    assert failure.get("type") == f"NGX101 {finding.severity}"
    assert ngx101.get("line") == str(finding.location.line)
    assert "session tickets are turned off here" in (failure.text or "")


def test_junit_clean_run_is_a_passing_suite(in_tmp: Path) -> None:
    root = parse_junit(junit.render(check(in_tmp, {"a.conf": CLEAN})))
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("1", "0", "0")
    (suite,) = root.findall("testsuite")
    (case,) = suite.findall("testcase")
    assert list(case) == []


def test_junit_of_a_partial_run_lists_only_the_files_it_reports_on(in_tmp: Path) -> None:
    check(in_tmp, {"nginx.conf": "http {\n    include sites/*.conf;\n}\n", "sites/a.conf": NO_CACHE})
    result = run([in_tmp / "sites" / "a.conf"], settings_for(in_tmp, SESSION_RULES))
    assert (in_tmp / "nginx.conf").resolve() in result.files  # read, as the includer
    root = parse_junit(junit.render(result))
    assert [suite.get("name") for suite in root.findall("testsuite")] == ["sites/a.conf"]


def test_junit_text_that_xml_cannot_hold_is_replaced(in_tmp: Path) -> None:
    result = check(in_tmp, {"a.conf": NO_CACHE})
    odd = dataclasses.replace(result.findings[0], message="bell \x07, nul \x00, byte \udcff: kept")
    root = parse_junit(junit.render(dataclasses.replace(result, findings=[odd])))
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == "bell \ufffd, nul \ufffd, byte \ufffd: kept"


# --- all of them, through the CLI --------------------------------------------------------


@pytest.mark.parametrize("name", ["gitlab", "junit"])
def test_quiet_changes_nothing(in_tmp: Path, name: str) -> None:
    result = check(in_tmp, {"a.conf": NO_CACHE})
    assert render(name, result, quiet=True) == render(name, result)


@pytest.mark.parametrize("name", ["gitlab", "junit"])
def test_cli_stdout_is_only_the_report(tmp_path: Path, name: str) -> None:
    (tmp_path / "a.conf").write_text(NO_CACHE, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "tlslint", "--format", name, "--select", "NGX0,NGX1", "a.conf"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    if name == "gitlab":
        jsonschema.validate(json.loads(proc.stdout), GITLAB_SCHEMA)
    else:
        assert int(parse_junit(proc.stdout).get("failures", "0")) >= 1
