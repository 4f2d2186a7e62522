"""The machine formats (json, sarif, github) over real runs of the engine."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import ROOT, shared_path
from helpers import check_files, settings_for
from test_keepalive_unknown_backend import GUNICORN_EXAMPLE

from tlslint import __version__, catalogue
from tlslint.engine import RunResult, run
from tlslint.findings import Edit, Finding, Fix, Severity
from tlslint.report import github, gitlab, json_format, junit, render, sarif
from tlslint.report.rule_page import rule_page

# NGX101 as an error at line 2 (`server {`), with a related location at line 7.
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
    "ssl_session_tickets", "ssl_session_cache shared:SSL:10m;\n        ssl_session_tickets"
)
TICKETS_LINE = 7
FINDING_KEYS = {
    "code", "name", "severity", "message", "path", "line", "column", "end_line", "end_column",
    "anchor", "related", "fix", "note",
}  # fmt: skip
EDIT_KEYS = {"path", "start_line", "start_column", "end_line", "end_column", "replacement"}
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
NOT_NGINX = {"MANIFEST.tsv", "SOURCES.txt"}


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from tmp_path, as a CI job runs from the checkout."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(shared_path("schemas", "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def assert_valid_sarif(validator: jsonschema.Draft4Validator, text: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(text)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]
    assert problems == []
    return log


def with_fix(
    result: RunResult, path: Path, start: int, end: int, replacement: str, *, safe: bool = True
) -> RunResult:
    """The run with its first finding given a hand-made fix whose positions are known."""
    fix = Fix("insert a session cache", (Edit(path, start, end, replacement),), safe=safe)
    first = dataclasses.replace(result.findings[0], fix=fix)
    return dataclasses.replace(result, findings=[first, *result.findings[1:]])


def tickets_span(tmp_path: Path) -> tuple[int, int]:
    return tickets_span_of(tmp_path / "a.conf")


def tickets_span_of(path: Path) -> tuple[int, int]:
    text = path.read_text(encoding="utf-8")
    start = text.index("ssl_session_tickets off;")
    return start, start + len("ssl_session_tickets off;")


def ngx101(result: RunResult) -> Finding:
    return next(f for f in result.findings if f.code == "NGX101")


# --- json ---------------------------------------------------------------------------------------


def test_json_round_trips_with_documented_keys(in_tmp: Path) -> None:
    result = check_files(in_tmp, {"a.conf": NO_CACHE})
    text = json_format.render(result)
    data = json.loads(text)
    assert data == json_format.document(result)
    assert json.loads(json.dumps(data)) == data
    assert set(data) == {"schema_version", "tool", "summary", "findings"}
    assert data["schema_version"] == 1
    assert data["tool"] == {"name": "tlslint", "version": __version__}
    assert data["summary"] == {
        "files": 1,
        "findings": len(result.findings),
        "by_severity": {
            s: sum(1 for f in result.findings if str(f.severity) == s) for s in ("error", "warning", "info")
        },
        "fixable": sum(1 for f in result.findings if f.fix is not None),
    }
    assert len(data["findings"]) == len(result.findings)
    for item, finding in zip(data["findings"], result.findings, strict=True):
        assert set(item) == FINDING_KEYS
        loc = finding.location
        assert item["path"] == "a.conf"
        assert (item["line"], item["column"], item["end_line"], item["end_column"]) == (
            loc.line, loc.column, loc.end_line, loc.end_column,
        )  # fmt: skip
        if finding.fix is None:
            assert item["fix"] is None
        else:
            assert set(item["fix"]) == {"description", "safety", "edits"}
            for edit in item["fix"]["edits"]:
                assert set(edit) == EDIT_KEYS
                assert all(isinstance(edit[k], int) for k in EDIT_KEYS - {"path", "replacement"})
        for related in item["related"]:
            assert set(related) == {"path", "line", "column", "message"}
    item = next(i for i in data["findings"] if i["code"] == "NGX101")
    assert item["severity"] == "error"
    assert item["name"] == "ssl-session-cache-missing"
    assert item["anchor"] == ngx101(result).anchor
    assert item["line"] == 2
    assert item["related"] == [
        {
            "path": "a.conf",
            "line": TICKETS_LINE,
            "column": 9,
            "message": "session tickets are turned off here",
        }
    ]


def test_json_clean_run(in_tmp: Path) -> None:
    data = json.loads(json_format.render(check_files(in_tmp, {"a.conf": CLEAN}, {"select": ["NGX1"]})))
    assert data["findings"] == []
    assert data["summary"] == {
        "files": 1,
        "findings": 0,
        "by_severity": {"error": 0, "warning": 0, "info": 0},
        "fixable": 0,
    }


def test_json_fix_edits_carry_exact_positions(in_tmp: Path) -> None:
    result = check_files(in_tmp, {"a.conf": NO_CACHE})
    start, end = tickets_span(in_tmp)
    fixed = with_fix(result, in_tmp / "a.conf", start, end, "ssl_session_cache shared:SSL:10m;")
    data = json.loads(json_format.render(fixed))
    assert data["summary"]["fixable"] >= 1
    assert data["findings"][0]["fix"] == {
        "description": "insert a session cache",
        "safety": "safe",
        "edits": [
            {
                "path": "a.conf",
                "start_line": TICKETS_LINE,
                "start_column": 9,
                "end_line": TICKETS_LINE,
                "end_column": 9 + len("ssl_session_tickets off;"),
                "replacement": "ssl_session_cache shared:SSL:10m;",
            }
        ],
    }


def test_json_real_fixes_point_at_their_offsets(in_tmp: Path) -> None:
    """Whatever fixes the checks attach, their positions convert back to the edit offsets."""
    result = check_files(in_tmp, {"a.conf": NO_CACHE, "b.conf": NO_CACHE.replace("\n", "\r\n")})
    data = json_format.document(result)
    for item, finding in zip(data["findings"], result.findings, strict=True):
        if finding.fix is None:
            continue
        for rendered, edit in zip(item["fix"]["edits"], finding.fix.edits, strict=True):
            starts = result.nginx_files.parsed[edit.path.resolve()].source.line_starts()
            assert starts[rendered["start_line"] - 1] + rendered["start_column"] - 1 == edit.start
            assert starts[rendered["end_line"] - 1] + rendered["end_column"] - 1 == edit.end
            assert rendered["replacement"] == edit.replacement


def test_json_edit_in_an_unparsed_file_has_no_positions(in_tmp: Path) -> None:
    result = check_files(in_tmp, {"a.conf": NO_CACHE})
    data = json_format.document(with_fix(result, in_tmp / "other.conf", 0, 0, "# new\n", safe=False))
    fix = data["findings"][0]["fix"]
    assert fix["safety"] == "unsafe"
    assert fix["edits"] == [
        {"path": "other.conf", "start_line": None, "start_column": None, "end_line": None,
         "end_column": None, "replacement": "# new\n"}
    ]  # fmt: skip


def test_json_path_outside_the_cwd_is_absolute_posix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = check_files(tmp_path / "conf", {"a.conf": NO_CACHE})
    data = json_format.document(result)
    assert data["findings"][0]["path"] == (tmp_path / "conf" / "a.conf").resolve().as_posix()


def test_relative_path_of_a_symlink_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Path.resolve() raises on a loop (RuntimeError, OSError on newer Pythons): every
    machine format died on an SRC001 finding about one."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "a.conf").symlink_to("b.conf")
    (tmp_path / "b.conf").symlink_to("a.conf")
    monkeypatch.chdir(tmp_path)
    assert json_format.relative_path(tmp_path / "a.conf") == "a.conf"
    assert json_format.relative_path(Path("b.conf")) == "b.conf"
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert json_format.relative_path(tmp_path / "a.conf") == (tmp_path / "a.conf").as_posix()
    assert json_format.relative_path(Path("../a.conf")) == (tmp_path / "a.conf").as_posix()


def test_json_format_is_documented() -> None:
    doc = (ROOT / "docs" / "json-format.md").read_text(encoding="utf-8")
    keys = FINDING_KEYS | {"schema_version", "tool", "summary", "by_severity", "fixable", "description"}
    keys |= {"safety", "edits", "start_line", "start_column", "replacement", "version", "files"}
    assert sorted(k for k in keys if f"`{k}`" not in doc) == []


# --- sarif --------------------------------------------------------------------------------------


def test_sarif_with_findings_validates(in_tmp: Path, sarif_validator: jsonschema.Draft4Validator) -> None:
    result = check_files(in_tmp, {"a.conf": NO_CACHE})
    log = assert_valid_sarif(sarif_validator, sarif.render(result))
    assert log["version"] == "2.1.0"
    (sarif_run,) = log["runs"]
    driver = sarif_run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("tlslint", __version__)
    assert driver["informationUri"] == "https://github.com/tlslint/tlslint"
    assert sarif_run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": in_tmp.resolve().as_uri() + "/"}}
    assert len(sarif_run["results"]) == len(result.findings)
    for item, finding in zip(sarif_run["results"], result.findings, strict=True):
        assert item["ruleId"] == finding.code
        assert driver["rules"][item["ruleIndex"]]["id"] == finding.code
        # The note (NGX401's: how to fix it by hand) follows the message on a line of its own.
        assert item["message"] == {"text": "\n".join(filter(None, (finding.message, finding.fix_note)))}
        assert item.get("properties", {}).get("note", "") == finding.fix_note
        assert (
            item["level"] == {"error": "error", "warning": "warning", "info": "note"}[str(finding.severity)]
        )
        (location,) = item["locations"]
        assert location["physicalLocation"]["artifactLocation"] == {"uri": "a.conf", "uriBaseId": "%SRCROOT%"}


def test_sarif_one_result_per_cause_with_its_places(
    in_tmp: Path, sarif_validator: jsonschema.Draft4Validator
) -> None:
    """A cause that affects three servers is one result, at http{}, with a related
    location for each server."""
    server = "    server {{\n        listen 443 ssl;\n        server_name {}.example.com;\n    }}\n"
    servers = "".join(server.format(name) for name in "abc")
    result = check_files(in_tmp, {"a.conf": f"http {{\n{servers}}}\n"}, {"select": ["NGX101"]})
    log = assert_valid_sarif(sarif_validator, sarif.render(result))
    (item,) = log["runs"][0]["results"]
    assert item["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    places = [r["physicalLocation"]["region"]["startLine"] for r in item["relatedLocations"]]
    assert places == [2, 6, 10]
    assert "3 TLS servers have no session cache" in item["message"]["text"]


def test_sarif_rules_are_the_whole_catalogue(in_tmp: Path) -> None:
    log = json.loads(sarif.render(check_files(in_tmp, {"a.conf": CLEAN}, {"select": ["NGX1"]})))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    entries = catalogue.load_entries()
    assert [r["id"] for r in rules] == list(entries)
    for rule in rules:
        entry = entries[rule["id"]]
        assert rule["name"] == entry["name"]
        assert rule["shortDescription"]["text"] == entry["summary"].strip()
        assert rule["fullDescription"]["text"] == entry["why"].strip()
        assert rule["help"]["markdown"] == rule_page(entry)
        assert rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] == LEVELS[entry["severity"]]
        assert entry["target"] in rule["properties"]["tags"]


def test_sarif_clean_run_has_empty_results(in_tmp: Path, sarif_validator: jsonschema.Draft4Validator) -> None:
    result = check_files(in_tmp, {"a.conf": CLEAN}, {"select": ["NGX1"]})
    assert result.findings == []
    log = assert_valid_sarif(sarif_validator, sarif.render(result))
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True}]


def test_sarif_says_an_unloaded_file_made_the_run_incomplete(
    in_tmp: Path, sarif_validator: jsonschema.Draft4Validator
) -> None:
    """The run exits 2 for it, so SARIF must not call the execution successful."""
    result = check_files(in_tmp, {"a.conf": CLEAN, "b.conf": "server {\n    listen 443 ssl\n"}, {})
    assert result.exit_code(Severity.WARNING) == 2
    log = assert_valid_sarif(sarif_validator, sarif.render(result))
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and note["message"]["text"].startswith("b.conf:"), note
    assert " NGX001 " in note["message"]["text"]


def test_sarif_notes_a_missing_path_once(in_tmp: Path, sarif_validator: jsonschema.Draft4Validator) -> None:
    result = run([in_tmp / "nosuch.conf"], settings_for(in_tmp))
    log = assert_valid_sarif(sarif_validator, sarif.render(result))
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert [n["message"]["text"] for n in invocation["toolExecutionNotifications"]] == [
        "nosuch.conf: SRC001 no such file or directory"
    ]


def test_sarif_over_the_corpus_validates(sarif_validator: jsonschema.Draft4Validator) -> None:
    corpus = shared_path("corpus", "nginx")
    files = sorted(p for p in corpus.iterdir() if p.is_file() and p.name not in NOT_NGINX)
    assert files
    result = run(files, settings_for(corpus))
    assert result.findings
    log = assert_valid_sarif(sarif_validator, sarif.render(result))
    results = log["runs"][0]["results"]
    assert len(results) == len(result.findings)
    prints = [r["partialFingerprints"]["tlslint/v1"] for r in results]
    assert len(set(prints)) == len(prints)


def test_sarif_regions_are_exact(in_tmp: Path) -> None:
    result = check_files(in_tmp, {"a.conf": NO_CACHE})
    log = json.loads(sarif.render(result))
    index = result.findings.index(ngx101(result))
    item = log["runs"][0]["results"][index]
    loc = ngx101(result).location
    region = item["locations"][0]["physicalLocation"]["region"]
    assert region == {
        "startLine": 2, "startColumn": 5, "endLine": loc.end_line, "endColumn": loc.end_column,
    }  # fmt: skip
    lines = NO_CACHE.splitlines()
    assert lines[region["startLine"] - 1][region["startColumn"] - 1 :].startswith("server")
    (related,) = item["relatedLocations"]
    assert related["id"] == 0
    assert related["message"] == {"text": "session tickets are turned off here"}
    related_region = related["physicalLocation"]["region"]
    assert (related_region["startLine"], related_region["startColumn"]) == (TICKETS_LINE, 9)
    text = lines[TICKETS_LINE - 1][related_region["startColumn"] - 1 : related_region["endColumn"] - 1]
    assert text == "ssl_session_tickets off;"


def test_sarif_whole_file_finding_has_no_region(
    in_tmp: Path, sarif_validator: jsonschema.Draft4Validator
) -> None:
    result = check_files(in_tmp, {"a.conf": NO_CACHE}, {"max-file-size": 10})
    (finding,) = result.findings
    assert (finding.code, finding.location.line) == ("NGX001", 0)
    log = assert_valid_sarif(sarif_validator, sarif.render(result))
    (item,) = log["runs"][0]["results"]
    assert "region" not in item["locations"][0]["physicalLocation"]
    assert github.annotation(finding) == f"::error file=a.conf,title=NGX001 {finding.name}::{finding.message}"


def test_sarif_fingerprints_survive_line_shifts(in_tmp: Path) -> None:
    def fingerprints_and_lines(text: str) -> list[tuple[str, int]]:
        log = json.loads(sarif.render(check_files(in_tmp, {"a.conf": text})))
        return [
            (
                r["partialFingerprints"]["tlslint/v1"],
                r["locations"][0]["physicalLocation"]["region"]["startLine"],
            )
            for r in log["runs"][0]["results"]
        ]

    before = fingerprints_and_lines(NO_CACHE)
    after = fingerprints_and_lines("\n\n\n# moved down\n" + NO_CACHE)
    assert before
    assert [p for p, _ in after] == [p for p, _ in before]
    assert [line for _, line in after] == [line + 4 for _, line in before]
    for fingerprint, _ in before:
        assert len(fingerprint) == 64
        int(fingerprint, 16)


def test_sarif_fingerprint_is_sha256_of_code_path_anchor(in_tmp: Path) -> None:
    import hashlib

    result = check_files(in_tmp, {"a.conf": NO_CACHE})
    finding = ngx101(result)
    expected = hashlib.sha256(f"NGX101\0a.conf\0{finding.anchor}".encode()).hexdigest()
    assert sarif.fingerprints([finding]) == [expected]


def test_sarif_repeated_findings_get_distinct_fingerprints(in_tmp: Path) -> None:
    text = "http {\n    include missing.conf;\n    server {\n        include missing.conf;\n    }\n}\n"
    result = check_files(in_tmp, {"a.conf": text})
    missing = [f for f in result.findings if f.code == "NGX002"]
    assert len(missing) == 2
    assert missing[0].message == missing[1].message
    prints = sarif.fingerprints(missing)
    assert prints[0] != prints[1]
    shifted = check_files(in_tmp, {"a.conf": "\n" + text})
    assert sarif.fingerprints([f for f in shifted.findings if f.code == "NGX002"]) == prints


def test_sarif_fixes(in_tmp: Path, sarif_validator: jsonschema.Draft4Validator) -> None:
    result = check_files(in_tmp, {"a.conf": NO_CACHE})
    start, end = tickets_span(in_tmp)
    fixed = with_fix(result, in_tmp / "a.conf", start, end, "ssl_session_cache shared:SSL:10m;")
    log = assert_valid_sarif(sarif_validator, sarif.render(fixed))
    first, *rest = log["runs"][0]["results"]
    assert [("fixes" in r) for r in rest] == [f.fix is not None for f in fixed.findings[1:]]
    assert first["fixes"] == [
        {
            "description": {"text": "insert a session cache"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "a.conf", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {
                                "startLine": TICKETS_LINE,
                                "startColumn": 9,
                                "endLine": TICKETS_LINE,
                                "endColumn": 9 + len("ssl_session_tickets off;"),
                            },
                            "insertedContent": {"text": "ssl_session_cache shared:SSL:10m;"},
                        }
                    ],
                }
            ],
            "properties": {"safety": "safe"},
        }
    ]
    # An insertion at the start of a line is an empty region.
    inserted = with_fix(result, in_tmp / "a.conf", start - 8, start - 8, "    # note\n")
    log = assert_valid_sarif(sarif_validator, sarif.render(inserted))
    (replacement,) = log["runs"][0]["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacement["deletedRegion"] == {
        "startLine": TICKETS_LINE, "startColumn": 1, "endLine": TICKETS_LINE, "endColumn": 1,
    }  # fmt: skip


def test_sarif_uri_is_percent_encoded(in_tmp: Path, sarif_validator: jsonschema.Draft4Validator) -> None:
    result = check_files(in_tmp, {"sites-enabled/my site%1.conf": NO_CACHE})
    log = assert_valid_sarif(sarif_validator, sarif.render(result))
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "sites-enabled/my%20site%251.conf", "uriBaseId": "%SRCROOT%"}


def test_sarif_uri_of_a_name_that_is_not_utf8_is_its_bytes_percent_encoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sarif_validator: jsonschema.Draft4Validator
) -> None:
    """A latin-1 name (b"caf\\xe9.conf") is decoded with surrogateescape: SARIF died with
    "internal error: UnicodeEncodeError" quoting it as UTF-8. The URI carries the name's
    own bytes (RFC 3986, as SARIF requires); json keeps the documented lone surrogate."""
    name = os.fsdecode(b"caf\xe9.conf")
    for cwd, expected in (
        (tmp_path, {"uri": "conf/caf%E9.conf", "uriBaseId": "%SRCROOT%"}),
        (tmp_path / "elsewhere", {"uri": (tmp_path / "conf").resolve().as_uri() + "/caf%E9.conf"}),
    ):
        cwd.mkdir(exist_ok=True)
        monkeypatch.chdir(cwd)
        result = check_files(tmp_path / "conf", {name: NO_CACHE})
        fixed = with_fix(result, tmp_path / "conf" / name, *tickets_span_of(tmp_path / "conf" / name), "# x")
        log = assert_valid_sarif(sarif_validator, sarif.render(fixed))
        (first, *_) = log["runs"][0]["results"]
        assert first["locations"][0]["physicalLocation"]["artifactLocation"] == expected
        assert first["fixes"][0]["artifactChanges"][0]["artifactLocation"] == expected
        if cwd == tmp_path:
            finding = json.loads(json_format.render(fixed))["findings"][0]
            assert finding["path"] == finding["fix"]["edits"][0]["path"] == "conf/caf\udce9.conf"


def test_sarif_path_outside_the_cwd_is_a_file_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sarif_validator: jsonschema.Draft4Validator
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = check_files(tmp_path / "conf", {"a.conf": NO_CACHE})
    log = assert_valid_sarif(sarif_validator, sarif.render(result))
    artifact = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": (tmp_path / "conf" / "a.conf").resolve().as_uri()}


# --- github -------------------------------------------------------------------------------------


def test_github_one_command_per_finding(in_tmp: Path) -> None:
    result = check_files(in_tmp, {"a.conf": NO_CACHE})
    lines = github.render(result).splitlines()
    assert len(lines) == len(result.findings)
    finding = ngx101(result)
    loc = finding.location
    expected = (
        f"::error file=a.conf,line=2,col=5,endLine={loc.end_line},endColumn={loc.end_column},"
        f"title=NGX101 ssl-session-cache-missing::{finding.message}"
    )
    assert expected in lines
    assert github.render(check_files(in_tmp, {"a.conf": CLEAN}, {"select": ["NGX1"]})) == ""


def test_github_levels(in_tmp: Path) -> None:
    result = check_files(in_tmp, {"a.conf": NO_CACHE})
    finding = ngx101(result)
    for severity, command in (("error", "::error "), ("warning", "::warning "), ("info", "::notice ")):
        changed = dataclasses.replace(finding, severity=type(finding.severity).parse(severity))
        assert github.annotation(changed).startswith(command)


def test_github_escaping_of_real_paths_and_messages(in_tmp: Path) -> None:
    name = "odd,dir:1/we%ird\nname.conf"
    text = NO_CACHE.replace("example.com;", "50%off.example;")
    result = check_files(in_tmp, {name: text}, target=name)
    finding = ngx101(result)
    assert "50%off" in finding.message
    line = github.annotation(finding)
    assert "\n" not in line
    assert line.startswith("::error file=odd%2Cdir%3A1/we%25ird%0Aname.conf,line=2,col=5,")
    assert line.endswith("::" + finding.message.replace("%", "%25"))
    assert "title=NGX101 ssl-session-cache-missing::" in line


def test_github_escape_functions() -> None:
    assert github.escape_data("100% a\r\nb: c, d") == "100%25 a%0D%0Ab: c, d"
    assert github.escape_property("100% a\r\nb: c, d") == "100%25 a%0D%0Ab%3A c%2C d"


# --- fix notes ------------------------------------------------------------------------------------

# NGX210 with a safe fix whose note is its caveat: no app server's config is in the run,
# so the backend's idle keep-alive timeout is unknown (the shape of Django's gunicorn docs).
UNKNOWN_BACKEND = GUNICORN_EXAMPLE
CAVEAT = "the backend's idle keep-alive timeout is unknown"


def test_every_ci_format_carries_the_fix_note(
    in_tmp: Path, sarif_validator: jsonschema.Draft4Validator
) -> None:
    """A safe fix's caveat reaches the PR annotation, the SARIF result, GitLab's issue and
    JUnit's failure, as it reaches the text and JSON reports; fingerprints do not move."""
    result = check_files(
        in_tmp, {"nginx.conf": UNKNOWN_BACKEND}, {"nginx": {"version": "1.22.1"}, "select": ["NGX210"]}
    )
    (finding,) = result.findings
    assert finding.fix is not None and finding.fix.safe and CAVEAT in finding.fix_note
    note = f"note: {finding.fix_note}"

    (line,) = github.render(result).splitlines()
    assert line.endswith("::" + github.escape_data(f"{finding.message}\n{note}"))

    log = assert_valid_sarif(sarif_validator, sarif.render(result))
    (item,) = log["runs"][0]["results"]
    assert item["message"]["text"] == f"{finding.message}\n{note}"
    assert item["properties"] == {"note": finding.fix_note}
    assert item["fixes"][0]["description"] == {"text": finding.fix.description}
    assert item["partialFingerprints"] == {"tlslint/v1": sarif.fingerprints([finding])[0]}

    (issue,) = gitlab.report(result)
    assert issue["description"] == f"NGX210: {finding.message}\n{note}"
    assert issue["fingerprint"] == sarif.fingerprints([finding])[0]

    failure = junit.document(result).find("testsuite/testcase/failure")
    assert failure is not None and failure.text is not None
    assert failure.text.splitlines()[-2:] == [f"  fix: {finding.fix.description}", f"  {note}"]


# --- all formats --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["json", "sarif", "github"])
def test_quiet_changes_nothing(in_tmp: Path, name: str) -> None:
    result = check_files(in_tmp, {"a.conf": NO_CACHE})
    assert render(name, result, quiet=True) == render(name, result)


def test_cli_sarif_stdout_is_only_json(tmp_path: Path, sarif_validator: jsonschema.Draft4Validator) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "a.conf").write_text(NO_CACHE, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "tlslint", "check", "--format", "sarif", "conf", "missing-dir"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr  # a missing path
    assert "missing-dir" in proc.stderr
    log = assert_valid_sarif(sarif_validator, proc.stdout)  # json.loads rejects anything else
    assert proc.stdout.lstrip().startswith("{")
    (sarif_run,) = log["runs"]
    assert sarif_run["invocations"][0]["executionSuccessful"] is False
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif_run["results"]}
    assert uris == {"conf/a.conf", "missing-dir"}  # the missing path is a result too (SRC001)
    (missing,) = [r for r in sarif_run["results"] if r["ruleId"] == "SRC001"]
    assert (missing["level"], missing["message"]["text"]) == ("error", "no such file or directory")


@pytest.mark.parametrize("name", ["text", "json", "sarif", "github", "gitlab", "junit"])
def test_cli_every_format_reports_a_file_whose_name_is_not_utf8(
    tmp_path: Path, name: str, sarif_validator: jsonschema.Draft4Validator
) -> None:
    (tmp_path / os.fsdecode(b"caf\xe9.conf")).write_text(NO_CACHE, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "tlslint", "check", "--no-cache", "--format", name, "."],
        cwd=tmp_path,
        capture_output=True,
        check=False,
    )
    assert (proc.returncode, proc.stderr) == (1, b"")
    assert b"NGX101" in proc.stdout
    if name == "sarif":
        assert b"caf%E9.conf" in proc.stdout
        assert_valid_sarif(sarif_validator, proc.stdout.decode("utf-8"))


@pytest.mark.parametrize("name", ["json", "sarif"])
def test_cli_machine_formats_parse(tmp_path: Path, name: str) -> None:
    (tmp_path / "a.conf").write_text(NO_CACHE, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "tlslint", "check", "--format", name, "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)


# --- text, written in pieces ----------------------------------------------------------------------


@pytest.mark.parametrize("quiet", [False, True])
def test_text_report_in_pieces_is_the_whole_report(in_tmp: Path, quiet: bool) -> None:
    """The CLI writes the text report a finding at a time (a report of 10,000 findings
    was held whole, twice, at the run's peak of memory): the same text, piece by piece."""
    from tlslint.report import render_pieces

    files = {f"v{n}.conf": NO_CACHE.replace("example.com", f"v{n}.example.com") for n in range(3)}
    result = check_files(in_tmp, files)
    assert len(result.findings) >= 3
    pieces = list(render_pieces("text", result, quiet=quiet))
    assert len(pieces) > 1  # written as made, not at once
    assert "".join(pieces) == render("text", result, quiet=quiet)
    assert all(piece.endswith("\n") for piece in pieces)
    assert list(render_pieces("json", result)) == [render("json", result)]


def test_cli_text_report_is_the_rendered_report(in_tmp: Path) -> None:
    (in_tmp / "a.conf").write_text(NO_CACHE, encoding="utf-8")
    result = run([in_tmp / "a.conf"], settings_for(in_tmp))
    done = subprocess.run(
        [sys.executable, "-m", "tlslint", "check", "--no-cache", "a.conf"],
        capture_output=True, text=True, check=False, cwd=in_tmp,
    )  # fmt: skip
    assert done.stdout == render("text", result).replace(str(in_tmp / "a.conf"), "a.conf")
