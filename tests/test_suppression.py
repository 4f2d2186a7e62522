"""Inline suppressions: ``# tlslint: disable=CODE`` (line) and ``disable-file=`` (file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, codes, helpers_started

from tlslint import forks, run_checks
from tlslint.suppressions import read_codes

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


def test_include_loops_cannot_be_suppressed(tmp_path: Path) -> None:
    """nginx refuses a loop (or crashes: 1.22.1 segfaults on a cycle of two files); no
    deploy step provides its way out, unlike a missing include's file."""
    files = {
        "nginx.conf": "events {}\nhttp {\n    include a.conf;\n}\n",
        "a.conf": "include b.conf;  # tlslint: disable=NGX003\n",
        "b.conf": "# tlslint: disable-file=include-loop\ninclude a.conf;  # tlslint: disable=NGX003\n",
    }
    looped = found(tmp_path, files)
    assert looped and {code for _, code, _ in looped} == {"NGX003"}
    for mapping in ({"ignore": ["NGX003"]}, {"per-file-ignores": {"*.conf": ["NGX003"]}}):
        assert found(tmp_path, files, mapping) == looped, mapping


def test_include_problems_can_be_suppressed(tmp_path: Path) -> None:
    # NGX002 may be suppressed (an include provided at deploy time), unlike NGX001.
    text = "http {\n    include deploy/tls.conf;  # tlslint: disable=include-not-found\n}\n"
    assert found(tmp_path, {"a.conf": text}, {"select": ["NGX0"]}) == set()
    plain = text.replace("  # tlslint: disable=include-not-found", "")
    assert found(tmp_path, {"a.conf": plain}, {"select": ["NGX0"]}) == {("a.conf", "NGX002", 2)}


# --- the grammar: a reason after the codes, codes separated by spaces ------------------


@pytest.mark.parametrize(
    "comment",
    [
        "# tlslint: disable=NGX103 because this box has 64 MB of RAM",
        "# tlslint: disable=NGX103 -- sized for the old cluster",
        "# tlslint: disable=NGX103: legacy",
        "# tlslint: disable=NGX103 NGX104 legacy clients",
        "# tlslint: disable=ngx104 ssl-session-cache-too-small -- both reviewed",
        "# tlslint: disable=NGX104,NGX103, ",
    ],
)
def test_a_reason_may_follow_the_codes(tmp_path: Path, comment: str) -> None:
    text = f"http {{\n    ssl_session_cache shared:SSL:1m;  {comment}\n}}\n"
    result = check_files(tmp_path, {"a.conf": text}, {"select": ["NGX103"]})
    assert codes(result) == []
    assert result.warnings == []


def test_space_separated_codes_each_suppress(tmp_path: Path) -> None:
    text = (
        "http {\n"
        "    # tlslint: disable=NGX104 NGX103\n"
        "    ssl_session_cache shared:SSL:1m;  ssl_session_timeout 1m;\n"
        "}\n"
    )
    assert found(tmp_path, {"a.conf": text}, {"select": ["NGX103", "NGX104"]}) == set()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NGX104 because legacy", (["NGX104"], [], "because legacy")),
        ("NGX104 NGX101", (["NGX104", "NGX101"], [], "")),
        ("NGX104 -- reason, with commas", (["NGX104"], [], "reason, with commas")),
        ("NGX104, NGX1O1 legacy", (["NGX104"], ["NGX1O1"], "legacy")),  # after a comma: a code
        ("ngx104 all servers", (["NGX104"], [], "all servers")),  # `all` after a space: prose
        ("all", (["ALL"], [], "")),
        ("NGX999 NGX104", (["NGX104"], ["NGX999"], "")),  # shaped like a code: a code
        ("typo-name", ([], ["typo-name"], "")),  # the first word is always a code
        ("", ([], [], "")),
    ],
)
def test_read_codes(text: str, expected: tuple[list[str], list[str], str]) -> None:
    assert read_codes(text) == expected


# --- unknown codes: said on stderr, every run ---------------------------------------------


def test_unknown_codes_are_warned_about_and_known_ones_still_work(tmp_path: Path) -> None:
    text = "http {\n    ssl_session_cache shared:SSL:1m;  # tlslint: disable=NGX1O3, NGX103\n}\n"
    result = check_files(tmp_path, {"a.conf": text}, {"select": ["NGX103"]})
    assert codes(result) == []
    [(location, message)] = result.warnings
    assert (location.path.name, location.line, location.column) == ("a.conf", 2, 39)
    assert message == "unknown rule code 'NGX1O3' in `# tlslint: disable=NGX1O3, NGX103`: it silences nothing"


def test_unknown_codes_in_a_file_without_findings_and_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "a.conf").write_text("events {}  # tlslint: disable-file=NGX9O1 -- typo\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "tlslint", "--no-cache", "a.conf"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "tlslint: warning: a.conf:1:12: unknown rule code 'NGX9O1' in "
        "`# tlslint: disable-file=NGX9O1 -- typo`: it silences nothing\n"
    )


def test_unknown_codes_in_yaml_and_python_files(tmp_path: Path) -> None:
    files = {
        "overrides.yaml": "virtualhosts:  # tlslint: disable=APG1O3\n  - name: prod\n    sslSecret: tls\n",
        "gunicorn.conf.py": (
            'bind = "127.0.0.1:8000"  # tlslint: disable=BKD1O1 NGX101\nx = "# tlslint: disable=X"\n'
        ),
        "app.conf": "server {\n    listen 80;\n    location / { proxy_pass http://127.0.0.1:8000; }\n}\n",
    }
    backend = {"upstream": "127.0.0.1:8000", "config": "gunicorn.conf.py"}
    result = check_files(tmp_path, files, {"backends": [backend]})
    warned = sorted((loc.path.name, loc.line, message.split("'")[1]) for loc, message in result.warnings)
    assert warned == [("gunicorn.conf.py", 1, "BKD1O1"), ("overrides.yaml", 1, "APG1O3")]


# --- TLS001 unused-suppression, opt-in ------------------------------------------------------

STALE = (
    "http {\n"
    "    ssl_session_cache shared:SSL:10m;  # tlslint: disable=NGX103 -- sized down once\n"
    "    ssl_session_timeout 1m;  # tlslint: disable=NGX104 NGX101\n"
    "    # tlslint: disable=NGX1O4\n"
    "    ssl_session_tickets off;\n"
    "}\n"
)


@pytest.mark.parametrize("select", [None, ["ALL"], ["TLS"], ["TLS0"], ["NGX"]])
def test_unused_suppressions_are_opt_in(tmp_path: Path, select: list[str] | None) -> None:
    mapping = {} if select is None else {"select": select}
    assert "TLS001" not in codes(check_files(tmp_path, {"a.conf": STALE}, mapping))


@pytest.mark.parametrize("named", ["TLS001", "tls001", "unused-suppression"])
def test_unused_suppressions_are_reported_when_named(tmp_path: Path, named: str) -> None:
    result = check_files(tmp_path, {"a.conf": STALE}, {"select": ["ALL", named]})
    reported = [
        (f.location.line, f.location.column, f.message) for f in result.findings if f.code == "TLS001"
    ]
    unused = "unused suppression `# tlslint: disable="
    assert reported == [
        (2, 40, f"{unused}NGX103 -- sized down once`: `NGX103` silenced nothing on its line"),
        (3, 30, f"{unused}NGX104 NGX101`: `NGX101` silenced nothing on its line"),
        (4, 5, f"{unused}NGX1O4`: `NGX1O4` names no rule"),
    ]


def test_only_codes_whose_rule_ran_are_judged(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"a.conf": STALE}, {"select": ["NGX104", "TLS001"]})
    assert [(f.code, f.location.line) for f in result.findings] == [("TLS001", 4)]  # only the unknown code
    everything = "events {\n    worker_connections 512;  # tlslint: disable=ALL\n}\n"
    assert codes(check_files(tmp_path, {"a.conf": everything}, {"select": ["NGX1", "TLS001"]})) == []
    assert codes(check_files(tmp_path, {"a.conf": everything}, {"select": ["ALL", "TLS001"]})) == ["TLS001"]


def test_a_used_file_level_suppression_is_not_reported(tmp_path: Path) -> None:
    text = (
        "# tlslint: disable-file=ssl-session-cache-too-small\nhttp {\n    ssl_session_cache shared:S:1m;\n}\n"
    )
    result = check_files(tmp_path, {"a.conf": text}, {"select": ["NGX103", "TLS001"]})
    assert codes(result) == []


def test_suppressions_in_gateway_yaml_are_judged_once(tmp_path: Path) -> None:
    """The gateway tier's YAML (an ingress-nginx ConfigMap, a file the Apigee tier reads too)
    is judged like every other file: used, unused and unknown codes, each comment once."""
    config_map = (
        "apiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}\ndata:\n"
        "  # tlslint: disable=reject-handshake-non-sni -- scanners get no certificate\n"
        '  ssl-reject-handshake: "true"\n'
        '  keep-alive: "75"  # tlslint: disable=ING107\n'
        '  use-http2: "true"  # tlslint: disable=ING1O1\n'
    )
    both = (
        "apiVersion: apigee.cloud.google.com/v1alpha1\nkind: ApigeeRoute\n"
        "metadata: {name: r, namespace: apigee}\n"
        'spec: {hostnames: ["*"], selector: {app: apigee-ingressgateway}}\n---\n'
        "apiVersion: networking.istio.io/v1\nkind: Gateway  # tlslint: disable=GW101\nmetadata: {name: g}\n"
        "spec:\n  selector: {istio: ingressgateway}\n"
        '  servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ["*"], '
        "tls: {mode: SIMPLE, credentialName: c}}]\n"
    )
    files = {"cm.yaml": config_map, "both.yaml": both}
    result = check_files(tmp_path, files, {"select": ["ING107", "GW101", "TLS001"]})
    found = [(f.location.path.name, f.location.line, f.message.rpartition(": ")[2]) for f in result.findings]
    assert found == [
        ("both.yaml", 7, "`GW101` silenced nothing on its line"),
        ("cm.yaml", 7, "`ING107` silenced nothing on its line"),
        ("cm.yaml", 8, "`ING1O1` names no rule"),
    ]
    assert [(loc.path.name, loc.line) for loc, _ in result.warnings] == [("cm.yaml", 8)]


def test_unused_suppressions_can_themselves_be_suppressed(tmp_path: Path) -> None:
    text = "http {\n    ssl_session_timeout 1h;  # tlslint: disable=NGX104 TLS001 -- kept on purpose\n}\n"
    assert codes(check_files(tmp_path, {"a.conf": text}, {"select": ["NGX104", "TLS001"]})) == []


def test_usage_is_seen_when_checks_run_in_a_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above MIN_FILES the upstream checks run in a fork; a comment they use must count as used."""
    if forks.available_cpus() < 2 or not forks.can_fork():
        pytest.skip("the checks run in a helper only with two CPUs and fork()")
    site = (
        "upstream app{n} {{ server 10.0.0.{n}:8080; }}  # tlslint: disable=NGX210\n"
        "server {{ listen 80; server_name a{n}; location / {{ proxy_pass http://app{n}; }} }}\n"
    )
    files = {f"s{n}.conf": site.format(n=n) for n in range(run_checks.MIN_FILES)}
    mapping = {"select": ["NGX1", "NGX210", "TLS001"], "nginx": {"version": "1.22"}}
    started = helpers_started(monkeypatch)
    assert codes(check_files(tmp_path, files, mapping)) == []
    with_usage = len(started)
    check_files(tmp_path, files, {**mapping, "select": ["NGX1", "NGX210"]})
    assert len(started) - with_usage == with_usage + 1  # without TLS001 the checks' helper starts too


def test_a_run_without_suppression_comments_does_not_import_their_reader(tmp_path: Path) -> None:
    (tmp_path / "a.conf").write_text("http {\n    # a comment\n    ssl_session_cache shared:S:1m;\n}\n")
    code = (
        "import sys; from pathlib import Path; from tlslint.engine import run; "
        "from tlslint.settings import Settings; "
        "print([f.code for f in run([Path('a.conf')], Settings()).findings], "
        "'tlslint.suppressions' in sys.modules)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert shown.stdout.strip().endswith("False"), shown.stdout + shown.stderr


# --- comments to tlslint that are no suppression: said on stderr, as ruff says an invalid noqa


def test_a_suppression_comment_in_capitals_works_as_ruff_takes_noqa(tmp_path: Path) -> None:
    text = "http {\n    ssl_session_cache shared:SSL:1m;  # TLSLINT: DISABLE=NGX103\n}\n"
    result = check_files(tmp_path, {"a.conf": text}, {"select": ["NGX103"]})
    assert codes(result) == [] and result.warnings == []
    assert codes(
        check_files(tmp_path, {"a.conf": text.replace("TLSLINT", "tlsl1nt")}, {"select": ["NGX103"]})
    )


def test_a_comment_to_tlslint_that_suppresses_nothing_is_said(tmp_path: Path) -> None:
    files = {
        "a.conf": "http {\n    ssl_session_cache shared:SSL:1m;  # tlslint: disable NGX103\n}\n",
        "overrides.yaml": "virtualhosts:  # tlslint: disabled=APG103\n  - name: prod\n    sslSecret: tls\n",
        "gunicorn.conf.py": 'bind = "127.0.0.1:8000"  # tlslint:ignore[BKD101]\nx = "# tlslint: nothing"\n',
        "app.conf": "server {\n    listen 80;\n    location / { proxy_pass http://127.0.0.1:8000; }\n}\n",
    }
    backend = {"upstream": "127.0.0.1:8000", "config": "gunicorn.conf.py"}
    result = check_files(tmp_path, files, {"backends": [backend]})
    assert "NGX103" in codes(result)  # silenced by nothing
    warned = sorted((loc.path.name, loc.line, loc.column, message) for loc, message in result.warnings)
    advice = "it silences nothing (write `# tlslint: disable=CODES` or `# tlslint: disable-file=CODES`)"
    assert warned == [
        ("a.conf", 2, 39, f"`# tlslint: disable NGX103` is not a suppression comment: {advice}"),
        ("gunicorn.conf.py", 1, 26, f"`# tlslint:ignore[BKD101]` is not a suppression comment: {advice}"),
        ("overrides.yaml", 1, 16, f"`# tlslint: disabled=APG103` is not a suppression comment: {advice}"),
    ]
