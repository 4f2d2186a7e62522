"""Inline suppressions: ``# tlslint: disable=CODE`` (line) and ``disable-file=`` (file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import check_files

SERVER = "    server {{{comment}\n        listen {port} ssl;\n    }}\n"


def found(
    tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None
) -> set[tuple[str, str, int]]:
    result = check_files(tmp_path, files, mapping)
    return {(f.location.path.name, f.code, f.location.line) for f in result.findings}


def ngx101_lines(tmp_path: Path, text: str) -> list[int]:
    result = check_files(tmp_path, {"a.conf": text}, {"select": ["NGX101"]})
    return [f.location.line for f in result.findings]


def test_unsuppressed_baseline(tmp_path: Path) -> None:
    text = "http {\n" + SERVER.format(comment="", port=443) + "}\n"
    assert ngx101_lines(tmp_path, text) == [2]


def test_disable_on_the_findings_line(tmp_path: Path) -> None:
    text = "http {\n" + SERVER.format(comment="  # tlslint: disable=NGX101", port=443) + "}\n"
    assert ngx101_lines(tmp_path, text) == []


def test_disable_on_the_line_above(tmp_path: Path) -> None:
    text = "http {\n    # tlslint: disable=NGX101\n" + SERVER.format(comment="", port=443) + "}\n"
    assert ngx101_lines(tmp_path, text) == []


def test_disable_by_rule_name(tmp_path: Path) -> None:
    text = (
        "http {\n"
        "    # tlslint: disable=ssl-session-cache-missing\n"
        + SERVER.format(comment="", port=443)
        + SERVER.format(comment="  # tlslint: disable=ssl-session-cache-missing", port=8443)
        + SERVER.format(comment="", port=9443)
        + "}\n"
    )
    assert ngx101_lines(tmp_path, text) == [9]


def test_other_codes_and_comments_do_not_suppress(tmp_path: Path) -> None:
    text = (
        "http {\n"
        + SERVER.format(comment="  # tlslint: disable=NGX103", port=443)
        + SERVER.format(comment="  # disable=NGX101", port=8443)
        + SERVER.format(comment="  # tlslint: disable-file=NGX102", port=9443)
        + "}\n"
    )
    # Nothing suppressed: the three servers share one cause (no cache at http level),
    # reported once at http{} with each server as a related place.
    (finding,) = check_files(tmp_path, {"a.conf": text}, {"select": ["NGX101"]}).findings
    assert finding.location.line == 1
    assert [r.location.line for r in finding.related] == [2, 5, 8]


def test_a_suppressed_place_leaves_its_cause(tmp_path: Path) -> None:
    """A comment on one server takes it out of the cause its siblings share; a comment on
    the cause's own line suppresses the cause."""
    one = "http {\n" + SERVER.format(comment="  # tlslint: disable=NGX101", port=443)
    two = SERVER.format(comment="", port=8443) + SERVER.format(comment="", port=9443) + "}\n"
    (finding,) = check_files(tmp_path, {"a.conf": one + two}, {"select": ["NGX101"]}).findings
    assert finding.location.line == 1 and [r.location.line for r in finding.related] == [5, 8]
    at_cause = "http {  # tlslint: disable=NGX101\n" + (one + two).split("\n", 1)[1]
    assert ngx101_lines(tmp_path, at_cause) == []


def test_a_line_comment_above_covers_only_the_next_line(tmp_path: Path) -> None:
    text = "http {\n    # tlslint: disable=NGX101\n\n" + SERVER.format(comment="", port=443) + "}\n"
    assert ngx101_lines(tmp_path, text) == [4]


def test_trailing_comment_of_the_previous_directive_does_not_suppress_the_next_line(tmp_path: Path) -> None:
    text = (
        "http {\n"
        "    ssl_session_timeout 1d;  # tlslint: disable=NGX103\n"
        "    ssl_session_cache shared:SSL:1m;\n"
        "}\n"
    )
    assert found(tmp_path, {"a.conf": text}, {"select": ["NGX103"]}) == {("a.conf", "NGX103", 3)}


def test_several_codes_any_case_and_spacing(tmp_path: Path) -> None:
    text = (
        "http {\n"
        "    ssl_session_cache shared:SSL:1m;  #tlslint:disable = ngx104, NGX103\n"
        "    ssl_session_timeout 1m;  # tlslint: disable=NGX104,ssl-session-cache-too-small\n"
        "}\n"
    )
    assert found(tmp_path, {"a.conf": text}, {"select": ["NGX103", "NGX104"]}) == set()


def test_disable_all(tmp_path: Path) -> None:
    text = (
        "http {\n"
        "    ssl_session_cache shared:SSL:1m;  # tlslint: disable=ALL\n"
        "    ssl_session_timeout 1m;\n"
        "}\n"
    )
    assert found(tmp_path, {"a.conf": text}, {"select": ["NGX103", "NGX104"]}) == {("a.conf", "NGX104", 3)}


def test_quoted_text_is_not_a_comment(tmp_path: Path) -> None:
    text = "http {\n    ssl_session_cache shared:SSL:1m; add_header X '# tlslint: disable=NGX103';\n}\n"
    assert found(tmp_path, {"a.conf": text}, {"select": ["NGX103"]}) == {("a.conf", "NGX103", 2)}


def test_comment_on_a_last_line_without_newline(tmp_path: Path) -> None:
    # crossplane would drop this comment; our lexer keeps it.
    text = "ssl_session_timeout 1d;\nssl_session_cache shared:SSL:1m;  # tlslint: disable=NGX103"
    assert found(tmp_path, {"snippet.conf": text}, {"select": ["NGX103"]}) == set()


def test_disable_file(tmp_path: Path) -> None:
    text = (
        "# tlslint: disable-file=NGX103, ssl-session-timeout-out-of-range\n"
        "http {\n"
        "    ssl_session_cache shared:SSL:1m;\n"
        "    ssl_session_timeout 1m;\n" + SERVER.format(comment="", port=443) + "}\n"
    )
    assert found(tmp_path, {"a.conf": text}, {"select": ["NGX101", "NGX103", "NGX104"]}) == set()
    assert found(
        tmp_path, {"a.conf": text}, {"select": ["NGX102", "NGX105"], "nginx": {"version": "1.22"}}
    ) == {("a.conf", "NGX105", 5)}


def test_disable_file_applies_to_its_own_file_only(tmp_path: Path) -> None:
    files = {
        "nginx.conf": (
            "events {}\nhttp {\n    ssl_session_cache shared:MAIN:1m;\n    include conf.d/*.conf;\n}\n"
        ),
        "conf.d/legacy.conf": "# tlslint: disable-file=NGX103\nssl_session_cache shared:LEGACY:2m;\n",
    }
    assert found(tmp_path, files, {"select": ["NGX103"]}) == {("nginx.conf", "NGX103", 3)}


def test_suppression_in_an_included_file_at_the_finding(tmp_path: Path) -> None:
    files = {
        "nginx.conf": "events {}\nhttp {\n    include conf.d/*.conf;\n}\n",
        "conf.d/a.conf": "ssl_session_cache shared:A:1m;  # tlslint: disable=NGX103\n"
        "ssl_session_timeout 1m;\n",
    }
    assert found(tmp_path, files, {"select": ["NGX103", "NGX104"]}) == {("a.conf", "NGX104", 2)}


def test_parse_errors_cannot_be_suppressed(tmp_path: Path) -> None:
    broken = (
        "# tlslint: disable-file=NGX001,unparseable-file,ALL\n"
        "http {  # tlslint: disable=NGX001\n"
        "    ssl_session_timeout 1d\n"
        "    server {\n"
        "    }\n"
        "}\n"
    )
    expected = {("broken.conf", "NGX001", 3)}
    assert found(tmp_path, {"broken.conf": broken}) == expected
    for mapping in (
        {"ignore": ["NGX001"]},
        {"ignore": ["NGX"]},
        {"select": ["NGX103"]},
        {"per-file-ignores": {"*.conf": ["NGX001"]}},
    ):
        assert found(tmp_path, {"broken.conf": broken}, mapping) == expected, mapping


def test_include_problems_can_be_suppressed(tmp_path: Path) -> None:
    # NGX002 may be suppressed (an include provided at deploy time), unlike NGX001.
    text = "http {\n    include deploy/tls.conf;  # tlslint: disable=include-not-found\n}\n"
    assert found(tmp_path, {"a.conf": text}, {"select": ["NGX0"]}) == set()
    plain = text.replace("  # tlslint: disable=include-not-found", "")
    assert found(tmp_path, {"a.conf": plain}, {"select": ["NGX0"]}) == {("a.conf", "NGX002", 2)}
