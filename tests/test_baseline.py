"""--baseline / --write-baseline: keyed on rule, file and structure, never on lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import settings_for

from tlslint import baseline
from tlslint.engine import RunOptions, run
from tlslint.findings import Finding, Location, Severity

# NGX104 (timeout, safe fix) at http level and NGX103 (cache too small, safe fix) in a server.
NGINX_CONF = """\
http {
    ssl_session_timeout 2m;
    include sites-enabled/*.conf;
}
"""
SITE = """\
server {
    listen 443 ssl default_server;
    ssl_certificate     /etc/ssl/a.pem;
    ssl_certificate_key /etc/ssl/a.key;
    ssl_session_cache shared:SSL:1m;
}
"""
TWICE = "http {\n    include missing.conf;\n    server {\n        include missing.conf;\n    }\n}\n"
# Session rules only, on an nginx that keeps ticket keys in the shared cache (no NGX105).
SESSION_RULES = ["--select", "NGX0,NGX1", "--nginx-version", "1.24"]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def project(root: Path) -> Path:
    write(root / "nginx.conf", NGINX_CONF)
    write(root / "sites-enabled" / "a.conf", SITE)
    return root


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def run_cli(cwd: Path, *args: str) -> Ran:
    """``tlslint check ARGS`` in ``cwd``, in this process (a subprocess costs ~0.5 s)."""
    from typer.testing import CliRunner

    from tlslint.cli import app

    _forget_resolved_paths()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, ["check", *args], env={"NO_COLOR": "1", "FORCE_COLOR": None})
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def _forget_resolved_paths() -> None:
    """tlslint.paths caches resolved path strings for the whole process, and "." resolves
    against the working directory: a run in another directory must not reuse them."""
    try:
        from tlslint.paths import forget
    except ImportError:  # no such cache
        return
    forget()


def tlslint(cwd: Path, *args: str) -> Ran:
    # The session rules, unless the test selects its own: repeated --select options add up.
    prefix = SESSION_RULES if "--select" not in args else SESSION_RULES[2:]
    return run_cli(cwd, *prefix, *args)


def codes(stdout: str) -> list[str]:
    return [line.split(": ")[1].split()[0] for line in stdout.splitlines() if ": NGX" in line]


# --- the file ------------------------------------------------------------------------------


def test_write_records_rule_file_anchor_and_count(tmp_path: Path) -> None:
    project(tmp_path)
    written = tlslint(tmp_path, "--write-baseline", "baseline.json")
    assert written.returncode == 0, written.stderr
    assert "recorded 2 findings (2 entries)" in written.stderr
    # Reported as the new baseline sees the run, saying what it recorded: never "All checks passed".
    assert "All checks passed" not in written.stdout
    assert written.stdout.endswith(
        "Recorded 2 findings in baseline.json; no other findings (2 files read).\n"
    )
    data = json.loads((tmp_path / "baseline.json").read_text(encoding="utf-8"))
    assert data["version"] == baseline.VERSION
    assert data["tool"]["name"] == "tlslint"
    entries = data["findings"]
    assert [(e["code"], e["path"]) for e in entries] == [
        ("NGX104", "nginx.conf"),
        ("NGX103", "sites-enabled/a.conf"),
    ]
    for entry in entries:
        assert set(entry) == {"code", "path", "anchor", "message", "count"}
        assert entry["anchor"] and entry["count"] == 1
        assert "line" not in json.dumps(entry).replace("deadline", "")


def test_baseline_ignores_recorded_findings_and_reports_new_ones(tmp_path: Path) -> None:
    project(tmp_path)
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    again = tlslint(tmp_path, "--baseline", "b.json")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "ignored 2 recorded findings" in again.stderr
    write(tmp_path / "sites-enabled" / "b.conf", SITE.replace("default_server", "").replace("1m", "2m"))
    new = tlslint(tmp_path, "--baseline", "b.json")
    assert new.returncode == 1
    assert all(
        line.startswith("sites-enabled/b.conf:") for line in new.stdout.splitlines() if ": NGX" in line
    )
    assert codes(new.stdout)


def test_writing_again_records_everything_and_drops_stale_entries(tmp_path: Path) -> None:
    project(tmp_path)
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    write(tmp_path / "nginx.conf", NGINX_CONF.replace("2m", "10m"))  # NGX104 fixed: stale
    write(tmp_path / "sites-enabled" / "b.conf", SITE.replace("default_server", "").replace("SSL:1m", "B:1m"))
    again = tlslint(tmp_path, "--baseline", "b.json", "--write-baseline", "b.json")
    assert again.returncode == 0, again.stdout
    entries = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["findings"]
    recorded = {(e["path"], e["code"]) for e in entries}
    # b.conf's zone: too small, but no default server uses it (NGX108, not NGX103)
    assert {("sites-enabled/a.conf", "NGX103"), ("sites-enabled/b.conf", "NGX108")} <= recorded
    assert all(path != "nginx.conf" for path, _ in recorded)  # the stale entry is gone


def recorded(file: Path) -> list[tuple[str, str]]:
    return [(e["path"], e["code"]) for e in json.loads(file.read_text(encoding="utf-8"))["findings"]]


# A server of its own, with no session cache (NGX101).
VENDOR = """\
http {
    server {
        listen 8443 ssl;
        ssl_certificate     /etc/ssl/v.pem;
        ssl_certificate_key /etc/ssl/v.key;
        ssl_session_tickets off;
    }
}
"""
# Two findings of the project, one per file and rule.
BOTH = [("nginx.conf", "NGX104"), ("sites-enabled/a.conf", "NGX103")]


def test_refreshing_for_one_rule_keeps_the_entries_of_the_others(tmp_path: Path) -> None:
    """It kept only NGX104's entry: "Recorded 1 finding ...; no other findings", and the
    next run reported every other finding again."""
    project(tmp_path)
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    assert recorded(tmp_path / "b.json") == BOTH
    refreshed = tlslint(tmp_path, "--baseline", "b.json", "--write-baseline", "b.json", "--select", "NGX104")
    assert refreshed.returncode == 0, refreshed.stdout
    assert refreshed.stdout.endswith(
        "Recorded 1 finding in b.json; kept 1 entry untouched (rules that did not run, files not checked); "
        "no other findings (2 files read).\n"
    )
    assert "recorded 1 finding (1 entry); kept 1 entry this run did not judge" in refreshed.stderr
    assert recorded(tmp_path / "b.json") == BOTH
    again = tlslint(tmp_path, "--baseline", "b.json")
    assert again.returncode == 0 and codes(again.stdout) == [], again.stdout
    assert "ignored 2 recorded findings" in again.stderr and "stale" not in again.stderr
    # The rule that ran is refreshed: its fixed finding's entry goes, the other rule's stays.
    write(tmp_path / "nginx.conf", NGINX_CONF.replace("2m", "10m"))
    dropped = tlslint(tmp_path, "--write-baseline", "b.json", "--select", "NGX104")
    assert recorded(tmp_path / "b.json") == [("sites-enabled/a.conf", "NGX103")]
    document = json.loads(tlslint(tmp_path, "--write-baseline", "b.json", "--format", "json").stdout)
    assert document["baseline"] == {"file": "b.json", "ignored": 0, "recorded": 1, "kept": 0, "stale": []}
    assert dropped.returncode == 0


def test_refreshing_for_some_files_keeps_the_entries_of_the_others(tmp_path: Path) -> None:
    """``--write-baseline b.json vendor/v.conf`` kept only that file's entries."""
    project(tmp_path)
    site = tmp_path / "sites-enabled" / "a.conf"
    vendor = write(tmp_path / "vendor" / "v.conf", VENDOR)  # no includer: a configuration of its own
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    everything = [*BOTH, ("vendor/v.conf", "NGX101")]
    assert recorded(tmp_path / "b.json") == everything
    # A file named, or a directory: with the baseline read too, or alone (an existing
    # baseline is written over alike). Looking for the includer of vendor/ reads
    # nginx.conf and a.conf, and checks neither: their entries are not judged.
    for read in (["--baseline", "b.json"], []):
        for given in (site, vendor.parent, vendor):
            refreshed = tlslint(tmp_path, *read, "--write-baseline", "b.json", str(given))
            assert refreshed.returncode == 0, refreshed.stdout
            assert "Recorded 1 finding in b.json; kept 2 entries untouched" in refreshed.stdout
            assert recorded(tmp_path / "b.json") == everything
    checked = tlslint(tmp_path, "--baseline", "b.json", str(vendor.parent))
    assert checked.returncode == 0 and "stale" not in checked.stderr, checked.stderr
    # The file checked is refreshed: its fixed finding's entry goes, the other files' stay.
    write(site, SITE.replace("SSL:1m", "SSL:10m"))
    assert tlslint(tmp_path, "--write-baseline", "b.json", str(site)).returncode == 0
    assert recorded(tmp_path / "b.json") == [("nginx.conf", "NGX104"), ("vendor/v.conf", "NGX101")]
    assert tlslint(tmp_path, "--baseline", "b.json").returncode == 0


def test_a_full_refresh_still_drops_fixed_entries(tmp_path: Path) -> None:
    project(tmp_path)
    write(tmp_path / "gone.conf", NGINX_CONF.replace("sites-enabled/*.conf", "none/*.conf"))
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    assert recorded(tmp_path / "b.json") == [("gone.conf", "NGX104"), *BOTH]
    (tmp_path / "gone.conf").unlink()  # its entry: judged (gone), dropped
    write(tmp_path / "nginx.conf", NGINX_CONF.replace("2m", "10m"))  # NGX104 fixed
    refreshed = tlslint(tmp_path, "--write-baseline", "b.json")
    assert refreshed.stdout.endswith("Recorded 1 finding in b.json; no other findings (2 files read).\n")
    assert "kept" not in refreshed.stderr
    assert recorded(tmp_path / "b.json") == [("sites-enabled/a.conf", "NGX103")]


def test_entries_of_a_file_that_no_longer_parses_are_kept(tmp_path: Path) -> None:
    """Its findings are not known until it parses again: they are neither stale nor dropped."""
    project(tmp_path)
    site = tmp_path / "sites-enabled" / "a.conf"
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    write(site, SITE.replace("1m;", "1m"))  # a missing `;`: NGX001
    checked = tlslint(tmp_path, "--baseline", "b.json")
    assert codes(checked.stdout) == ["NGX001"] and "stale" not in checked.stderr
    tlslint(tmp_path, "--write-baseline", "b.json")
    assert recorded(tmp_path / "b.json") == BOTH
    write(site, SITE)
    assert tlslint(tmp_path, "--baseline", "b.json").returncode == 0


def test_an_unreadable_baseline_is_written_anew_with_a_warning(tmp_path: Path) -> None:
    project(tmp_path)
    write(tmp_path / "b.json", '{"version": 2, "findings": []}')
    written = tlslint(tmp_path, "--write-baseline", "b.json")
    assert written.returncode == 0
    assert "warning: b.json: baseline version 2 is not supported" in written.stderr
    assert "writing it anew, keeping none of its entries" in written.stderr
    assert recorded(tmp_path / "b.json") == BOTH


def test_lines_added_above_do_not_invalidate_entries(tmp_path: Path) -> None:
    project(tmp_path)
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    for path in (tmp_path / "nginx.conf", tmp_path / "sites-enabled" / "a.conf"):
        path.write_text("# a header\n# added later\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    result = tlslint(tmp_path, "--baseline", "b.json")
    assert result.returncode == 0, result.stdout
    assert "stale" not in result.stderr


def test_two_identical_findings_need_two_entries(tmp_path: Path) -> None:
    write(tmp_path / "a.conf", TWICE)
    # NGX002 can be recorded (an include provided at deploy time); the run then passes.
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    data = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    (entry,) = data["findings"]
    assert (entry["code"], entry["anchor"], entry["count"]) == ("NGX002", "include[missing.conf]", 2)
    assert tlslint(tmp_path, "--baseline", "b.json").returncode == 0
    entry["count"] = 1
    (tmp_path / "b.json").write_text(json.dumps(data), encoding="utf-8")
    once = tlslint(tmp_path, "--baseline", "b.json")
    assert once.returncode == 2
    assert codes(once.stdout) == ["NGX002"]
    assert "ignored 1 recorded finding" in once.stderr


def test_a_parse_error_is_never_recorded(tmp_path: Path) -> None:
    write(tmp_path / "a.conf", "http {\n")
    result = tlslint(tmp_path, "--write-baseline", "b.json")
    assert result.returncode == 2
    assert codes(result.stdout) == ["NGX001"]
    assert json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["findings"] == []


# --- stale entries -------------------------------------------------------------------------


def test_stale_entries_are_reported(tmp_path: Path) -> None:
    project(tmp_path)
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.replace("2m", "10m"), encoding="utf-8")
    result = tlslint(tmp_path, "--baseline", "b.json")
    assert result.returncode == 0
    assert "b.json: 1 stale entry (1 finding no longer found; --write-baseline drops them)" in result.stderr
    assert "  nginx.conf: NGX104 http > ssl_session_timeout" in result.stderr
    rewritten = tlslint(tmp_path, "--write-baseline", "b.json")
    assert "recorded 1 finding (1 entry)" in rewritten.stderr


def test_json_output_carries_what_the_baseline_did(tmp_path: Path) -> None:
    project(tmp_path)
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    (tmp_path / "nginx.conf").write_text(NGINX_CONF.replace("2m", "10m"), encoding="utf-8")
    document = json.loads(tlslint(tmp_path, "--baseline", "b.json", "--format", "json").stdout)
    assert document["baseline"] == {
        "file": "b.json",
        "ignored": 1,
        "stale": [
            {
                "code": "NGX104",
                "path": "nginx.conf",
                "anchor": "http > ssl_session_timeout",
                "message": document["baseline"]["stale"][0]["message"],
                "count": 1,
            }
        ],
    }
    assert "baseline" not in json.loads(tlslint(tmp_path, "--format", "json").stdout)


def test_only_entries_this_run_could_find_can_be_stale(tmp_path: Path) -> None:
    project(tmp_path)
    write(tmp_path / "gone.conf", NGINX_CONF.replace("sites-enabled/*.conf", "none/*.conf"))
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    (tmp_path / "gone.conf").unlink()
    base = baseline.load(tmp_path / "b.json", tmp_path)
    settings = settings_for(tmp_path, {"select": ["NGX0", "NGX1"], "nginx": {"version": "1.24"}})

    def stale(paths: list[Path], select: list[str] | None = None) -> list[str]:
        if select is not None:
            settings.select = select
        result = run(paths, settings, run_options=RunOptions(baseline=base))
        assert result.baseline is not None
        return sorted(f"{e.path}:{e.code}" for e in result.baseline.stale)

    # A deleted file's entries are stale in any run.
    assert stale([tmp_path]) == ["gone.conf:NGX104"]
    # Files the run did not check: nothing to say about them.
    assert stale([tmp_path / "sites-enabled" / "a.conf"]) == ["gone.conf:NGX104"]
    # Rules the run did not run: likewise.
    assert stale([tmp_path], select=["NGX103"]) == []


def test_an_entry_of_an_unknown_rule_code_is_a_warning_not_stale(tmp_path: Path) -> None:
    """It was "1 stale entry (1 finding no longer found ...)", though no rule NGX999 ran."""
    project(tmp_path)
    assert tlslint(tmp_path, "--write-baseline", "b.json").returncode == 0
    document = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    typo = {"code": "NGX999", "path": "nginx.conf", "anchor": "http", "message": "", "count": 1}
    document["findings"].append(typo)
    (tmp_path / "b.json").write_text(json.dumps(document), encoding="utf-8")
    for select in (SESSION_RULES, ["--select", "ALL"]):
        checked = run_cli(tmp_path, *select, "--baseline", "b.json")
        assert "stale entr" not in checked.stderr, checked.stderr
        assert (
            "tlslint: warning: b.json: 1 entry for unknown rule code 'NGX999' (nginx.conf): no rule has "
            "that code, so nothing matches; never stale, kept by --write-baseline"
        ) in checked.stderr
    reported = json.loads(tlslint(tmp_path, "--baseline", "b.json", "--format", "json").stdout)
    assert reported["baseline"]["stale"] == []
    # No run judges it: writing over the baseline keeps it, and says so again.
    written = tlslint(tmp_path, "--write-baseline", "b.json")
    assert "kept 1 entry this run did not judge" in written.stderr
    assert "unknown rule code 'NGX999'" in written.stderr
    assert ("nginx.conf", "NGX999") in recorded(tmp_path / "b.json")


# --- keys ----------------------------------------------------------------------------------


def test_key_falls_back_to_the_message_without_an_anchor(tmp_path: Path) -> None:
    where = Location(tmp_path / "x" / "a.conf", 3, 1)
    plain = Finding("NGX101", "n", Severity.ERROR, "the message", where)
    anchored = Finding("NGX101", "n", Severity.ERROR, "another message", where, anchor="http > server")
    assert baseline.key_for(plain, tmp_path) == ("NGX101", "x/a.conf", "the message")
    assert baseline.key_for(anchored, tmp_path) == ("NGX101", "x/a.conf", "http > server")
    moved = Finding("NGX101", "n", Severity.ERROR, "the message", Location(where.path, 30, 9))
    assert baseline.key_for(moved, tmp_path) == baseline.key_for(plain, tmp_path)
    entries = baseline.entries_for([plain, moved, anchored], tmp_path)
    assert sorted((e.anchor, e.message, e.count) for e in entries.values()) == [
        ("", "the message", 2),
        ("http > server", "another message", 1),
    ]


def test_paths_are_relative_to_the_settings_file(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo" / "deploy")
    write(tmp_path / "repo" / ".tlslint.toml", 'select = ["NGX0", "NGX1"]\n')
    elsewhere = tmp_path / "repo" / "deploy" / "sites-enabled"
    result = tlslint(elsewhere, "--write-baseline", str(tmp_path / "b.json"), str(repo))
    assert result.returncode == 0, result.stderr
    paths = [e["path"] for e in json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["findings"]]
    assert paths == ["deploy/nginx.conf", "deploy/sites-enabled/a.conf"]
    from_root = tlslint(tmp_path / "repo", "--baseline", str(tmp_path / "b.json"), "deploy")
    assert from_root.returncode == 0, from_root.stdout


# --- with --fix ------------------------------------------------------------------------------


def test_fix_leaves_recorded_findings_alone(tmp_path: Path) -> None:
    project(tmp_path)
    site = tmp_path / "sites-enabled" / "a.conf"
    assert tlslint(tmp_path, "--write-baseline", "b.json", str(site)).returncode == 0  # NGX103 only
    fixed = tlslint(tmp_path, "--baseline", "b.json", "--fix", "--unsafe-fixes")  # NGX104 is unsafe
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert site.read_text(encoding="utf-8") == SITE  # recorded: not fixed
    assert "ssl_session_timeout 5m;" in (tmp_path / "nginx.conf").read_text(encoding="utf-8")


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "b.json: baseline file not found (create it with --write-baseline)"),
        ("{not json", "b.json:1:2: not JSON"),
        ('{"version": 2, "findings": []}', "baseline version 2 is not supported"),
        ('{"findings": []}', "not a tlslint baseline"),
        (
            '{"version": 1, "findings": [{"code": "NGX101"}]}',
            "findings[0]: 'path' must be a non-empty string",
        ),
        (
            '{"version": 1, "findings": [{"code": "NGX101", "path": "a", "anchor": "x", "count": 0}]}',
            "'count' must be a positive integer",
        ),
    ],
)
def test_unusable_baseline_is_a_usage_error(tmp_path: Path, content: str | None, message: str) -> None:
    project(tmp_path)
    if content is not None:
        write(tmp_path / "b.json", content)
    result = subprocess.run(  # as users run it: one line on stderr, exit 2, no traceback
        [sys.executable, "-m", "tlslint", *SESSION_RULES, "--baseline", "b.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_write_baseline_refuses_a_partial_report(tmp_path: Path) -> None:
    project(tmp_path)
    for other in (["--changed-since", "HEAD"], ["--diff"]):
        result = tlslint(tmp_path, "--write-baseline", "b.json", *other)
        assert result.returncode == 2
        assert f"cannot be combined with {other[0]}" in result.stderr
    assert not (tmp_path / "b.json").exists()


def test_write_baseline_says_what_it_could_not_record(tmp_path: Path) -> None:
    project(tmp_path)
    write(tmp_path / "broken.conf", "server {\n    listen 443 ssl\n")
    written = tlslint(tmp_path, "--write-baseline", "b.json")
    assert written.returncode == 2
    assert codes(written.stdout) == ["NGX001"]
    assert written.stdout.endswith(
        "Found 1 finding (1 error) in 3 files read.\n"
        "Recorded 2 findings in b.json (what does not load is never recorded).\n"
    )
    reported = json.loads(tlslint(tmp_path, "--write-baseline", "b.json", "--format", "json").stdout)
    assert reported["baseline"] == {"file": "b.json", "ignored": 0, "recorded": 2, "kept": 0, "stale": []}


# --- one finding per cause ---------------------------------------------------------------------

THREE_SERVERS = (
    "http {\n"
    + "".join(
        f"    server {{\n        listen 443 ssl;\n        server_name {name}.example.com;\n    }}\n"
        for name in "abc"
    )
    + "}\n"
)


def test_a_baseline_of_one_finding_per_server_still_matches_their_cause(tmp_path: Path) -> None:
    """Before findings were one per cause, a missing http-level cache gave one finding per
    server: a baseline that recorded those keeps matching the one finding for their cause,
    and none of its entries is stale."""
    write(tmp_path / "nginx.conf", THREE_SERVERS)
    old = [
        {"code": "NGX101", "path": "nginx.conf", "count": 1, "message": "old wording",
         "anchor": f"http > server[{name}.example.com@*:443] > ssl_session_cache"}
        for name in "abc"
    ]  # fmt: skip
    document = {"version": baseline.VERSION, "tool": {"name": "tlslint"}, "findings": old}
    (tmp_path / "old.json").write_text(json.dumps(document), encoding="utf-8")
    checked = tlslint(tmp_path, "--select", "NGX101", "--baseline", "old.json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "ignored 1 recorded finding" in checked.stderr and "stale" not in checked.stderr
    # Rewritten, the baseline holds the cause: one entry.
    assert tlslint(tmp_path, "--select", "NGX101", "--write-baseline", "new.json").returncode == 0
    entries = json.loads((tmp_path / "new.json").read_text(encoding="utf-8"))["findings"]
    assert [(e["code"], e["anchor"]) for e in entries] == [("NGX101", "http > ssl_session_cache")]
    assert tlslint(tmp_path, "--select", "NGX101", "--baseline", "new.json").returncode == 0


def test_a_baseline_of_ngx401s_first_server_matches_the_shared_lines_cause(tmp_path: Path) -> None:
    """NGX401 named only the first server logging by an http-level access_log; it now names
    every one, in one finding for the line, which still matches that recorded finding."""
    logged = THREE_SERVERS.replace("http {\n", "http {\n    access_log /var/log/a.log;\n")
    write(tmp_path / "nginx.conf", logged)
    old = [{"code": "NGX401", "path": "nginx.conf", "count": 1, "message": "old wording",
            "anchor": "http > server[a.example.com] > access_log"}]  # fmt: skip
    document = {"version": baseline.VERSION, "tool": {"name": "tlslint"}, "findings": old}
    (tmp_path / "old.json").write_text(json.dumps(document), encoding="utf-8")
    checked = tlslint(tmp_path, "--select", "NGX401", "--baseline", "old.json")
    assert "ignored 1 recorded finding" in checked.stderr and "stale" not in checked.stderr
    assert "NGX401" not in checked.stdout, checked.stdout
    fresh = tlslint(tmp_path, "--select", "NGX401")
    assert fresh.stdout.count(": NGX401 [") == 1 and "3 TLS servers" in fresh.stdout, fresh.stdout
