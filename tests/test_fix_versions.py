"""The fixer's re-checks judge the fixed text by the nginx versions inferred before fixing.

A fix changes the file, not the nginx that runs it: a line a fix removes (``ssl on;``,
which proved nginx < 1.25.1) still proves what it proved, and a line a fix writes
(``http2 on;``) proves nothing. Where a removed line was the only bound, the fixer then
reads its result as the next run will, and makes those fixes too: a second --fix
changes nothing. Shapes after the corpus's (misskey's example: `listen 443 http2` with
`ssl on;`), written here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nginx_harness
from helpers import cli, settings_for

from tlslint.engine import RunResult, run
from tlslint.findings import Edit, Finding, Fix, Location, Severity
from tlslint.fixing import FixOutcome, apply_fixes
from tlslint.version_range import VersionRange

CERTS = """\
    ssl_certificate /etc/ssl/site.pem;
    ssl_certificate_key /etc/ssl/site.key;
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1h;
"""
# `ssl on;` proves a release before 1.25.1; NGX304's fix removes it.
SSL_ON = f"""\
# a TLS site from before nginx 1.25.1
server {{
    listen 443 http2;
    server_name a.example;
    ssl on;
{CERTS}}}
"""
# `keepalive_time` proves 1.19.10 or later; NGX212's fix declares an upstream above it.
PROXIED = f"""\
server {{
    listen 443 http2;
    server_name b.example;
    ssl on;
{CERTS}    keepalive_time 1h;

    location / {{
        proxy_pass http://127.0.0.1:3000;
    }}
}}
"""
# Nothing bounds the version: `listen ... http2` proves only 1.9.5.
UNBOUNDED = f"""\
server {{
    listen 443 ssl http2;
    server_name c.example;
{CERTS}}}
"""


def versions(result: RunResult) -> VersionRange:
    [config] = result.workspace.nginx
    return result.workspace.nginx_versions(config)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def fixed_site(tmp_path: Path, text: str, *, unsafe: bool) -> tuple[FixOutcome, str]:
    """``text`` as tmp_path/site.conf, fixed and written: the outcome and the file after."""
    conf = tmp_path / "site.conf"
    conf.write_text(text, encoding="utf-8")
    settings = settings_for(tmp_path)
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=unsafe, write=True)
    return outcome, conf.read_text(encoding="utf-8")


def test_a_removed_line_still_bounds_the_version(tmp_path: Path) -> None:
    outcome, fixed = fixed_site(tmp_path, SSL_ON, unsafe=False)
    settings = settings_for(tmp_path)
    assert "ssl on;" not in fixed
    assert "    listen 443 ssl http2;\n" in fixed  # NGX305 did not move `http2`: not 1.25.1 yet
    assert outcome.messages == []  # no "appeared after a fix"
    after = versions(outcome.result)
    assert (after.low, after.high) == (None, (1, 25, 1))
    assert after.high_by is not None and after.high_by.before_fix
    assert after.high_by.phrase() == "inferred: `ssl on` at site.conf:5, before a fix changed it"
    assert {f.code for f in outcome.result.findings} & {"NGX304", "NGX305"} == set()
    [tickets] = [f for f in outcome.result.findings if f.code == "NGX105"]
    assert "nginx is known only to be < 1.25.1, inferred: `ssl on` at site.conf:5, before a fix" in (
        tickets.message
    )
    # The next run reads the fixed file alone: nothing in it bounds the version any more.
    assert not versions(run([tmp_path], settings)).known


def test_a_line_that_moved_is_cited_where_it_is_now(tmp_path: Path) -> None:
    conf = tmp_path / "site.conf"
    conf.write_text(PROXIED, encoding="utf-8")
    settings = settings_for(tmp_path, {"select": ["NGX212", "NGX304"]})
    before = versions(run([tmp_path], settings))
    assert (before.low, before.high) == ((1, 19, 10), (1, 25, 1))
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=False)
    assert "upstream backend_127_0_0_1_3000" in outcome.diff and "-    ssl on;" in outcome.diff
    fixed = outcome.result.source(conf)
    assert fixed is not None
    after = versions(outcome.result)
    assert (after.low, after.high) == (before.low, before.high)
    assert after.low_by is not None and not after.low_by.before_fix
    moved = line_of(fixed.text, "keepalive_time")
    assert moved > line_of(PROXIED, "keepalive_time")
    assert after.low_by.phrase() == f"inferred: `keepalive_time 1h` at site.conf:{moved}"
    assert after.high_by is not None
    assert after.high_by.phrase() == "inferred: `ssl on` at site.conf:4, before a fix changed it"
    assert conf.read_text(encoding="utf-8") == PROXIED  # write=False


def writing_http2_on(result: RunResult, conf: Path) -> RunResult:
    """``result`` with one more finding, whose fix writes `http2 on;` above `server_name`."""
    text = conf.read_text(encoding="utf-8")
    at = text.index("    server_name")
    writes = Fix("add `http2 on;`", (Edit(conf.resolve(), at, at, "    http2 on;\n"),))
    message = "a fix that writes `http2 on;`"
    result.findings.append(
        Finding("NGX999", "test", Severity.WARNING, message, Location(conf, 3), fix=writes)
    )
    return result


def test_a_line_a_fix_writes_does_not_narrow_the_version(tmp_path: Path) -> None:
    """Were `http2 on;` written by a fix read as proof of 1.25.1, NGX305 would then
    take `http2` off the listen line: a chain of fixes resting on no fact."""
    conf = tmp_path / "site.conf"
    conf.write_text(UNBOUNDED, encoding="utf-8")
    settings = settings_for(tmp_path)
    result = run([tmp_path], settings)
    assert not versions(result).known
    outcome = apply_fixes(writing_http2_on(result, conf), settings, unsafe=False, write=False)
    fixed = outcome.result.source(conf)
    assert fixed is not None and "    http2 on;\n" in fixed.text
    assert "    listen 443 ssl http2;\n" in fixed.text
    assert not versions(outcome.result).known
    ngx305 = [f for f in outcome.result.findings if f.code == "NGX305"]
    assert ngx305 and all(f.severity == Severity.INFO and f.fix is None for f in ngx305)
    # The `http2 on;` the fix wrote is reported as depending on the version: the tripwire says so.
    assert any("NGX305 appeared after a fix" in message for message in outcome.messages)


def test_a_line_a_fix_writes_against_the_operators_lines_is_reported_and_taken_out(tmp_path: Path) -> None:
    """`ssl on;` proves nginx < 1.25.1, where `http2 on;` stops nginx from starting: the
    re-check reports the written line (NGX004, NGX305) and NGX305's fix removes it again."""
    conf = tmp_path / "site.conf"
    conf.write_text(SSL_ON, encoding="utf-8")
    settings = settings_for(tmp_path, {"ignore": ["NGX304"]})  # `ssl on;` stays
    outcome = apply_fixes(
        writing_http2_on(run([tmp_path], settings), conf), settings, unsafe=False, write=False
    )
    fixed = outcome.result.source(conf)
    assert fixed is not None and "http2 on;" not in fixed.text and "    ssl on;\n" in fixed.text
    assert "http2 on" not in outcome.diff
    appeared = {message.split(": ")[1].split()[0] for message in outcome.messages}
    assert appeared == {"NGX004", "NGX305"}
    assert (versions(outcome.result).low, versions(outcome.result).high) == (None, (1, 25, 1))


def tlslint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlslint", "check", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_diff_and_fix_from_the_command_line(tmp_path: Path) -> None:
    conf = tmp_path / "site.conf"
    conf.write_text(SSL_ON, encoding="utf-8")
    diff = tlslint(tmp_path, "--diff", "site.conf")
    assert diff.returncode == 1, diff.stderr
    assert "-    ssl on;\n" in diff.stdout and "+    listen 443 ssl http2;\n" in diff.stdout
    assert "appeared after a fix" not in diff.stderr
    fixed = tlslint(tmp_path, "--fix", "site.conf")
    assert "appeared after a fix" not in fixed.stderr
    assert "NGX305" not in fixed.stdout
    assert "inferred: `ssl on` at site.conf:5, before a fix changed it" in fixed.stdout


def test_a_bound_both_sides_share_stays_one_evidence(tmp_path: Path) -> None:
    """One line can set both bounds (a release series); carried, it is still one
    evidence, said once."""
    from tlslint.nginx_history import VersionSpan
    from tlslint.nginx_inference import carried, evidence_of
    from tlslint.sources.nginx.model import SourceText
    from tlslint.sources.nginx.parser import parse_text

    [directive] = parse_text(SourceText(tmp_path / "a.conf", "ssl on;\n")).directives
    line = (directive, VersionSpan((1, 20, 0), (1, 21, 0)), "")
    evidence = evidence_of(line)
    pinned = VersionRange((1, 20, 0), (1, 21, 0), evidence, evidence)
    gone = carried(pinned, ())
    assert gone.low_by is gone.high_by and gone.low_by is not None and gone.low_by.before_fix
    assert gone.name() == "nginx 1.20.x (inferred: `ssl on` at a.conf:1, before a fix changed it)"
    kept = carried(pinned, (line,))
    assert kept.low_by is kept.high_by and kept.low_by is not None and not kept.low_by.before_fix
    assert carried(gone, ()).low_by is gone.low_by  # carried again: as it was


# The default server's `ssl on;` proves nginx < 1.25.1, where it alone decides the
# protocols of the socket; NGX304's fix removes that line, and with it the only bound.
BOUND_BY_A_REMOVED_LINE = f"""\
server {{
    listen 443 ssl;
    server_name a.example;
    ssl on;
    ssl_protocols TLSv1.2 TLSv1.3;
{CERTS}}}
server {{
    listen 443 ssl;
    server_name b.example;
    ssl_protocols TLSv1 TLSv1.2;
{CERTS}}}
"""


def test_a_second_fix_changes_nothing_when_a_fix_removed_the_versions_only_bound(tmp_path: Path) -> None:
    """The re-checks judge the fixed text by the version the removed `ssl on;` proved:
    b.example's own ssl_protocols is ignored there (the default server decides before
    1.29.2). The next run reads the fixed text alone, judges every version, and since
    1.29.2 b.example's line counts: a second --fix rewrote it. The fixer now reads the
    fixed text afresh, as the next run will, and makes those fixes too."""
    first, fixed = fixed_site(tmp_path, BOUND_BY_A_REMOVED_LINE, unsafe=True)
    assert "ssl on;" not in fixed
    assert "server_name b.example;\n    ssl_protocols TLSv1.2 TLSv1.3;" in fixed
    assert not any("appeared after a fix" in message for message in first.messages)
    settings = settings_for(tmp_path)
    second = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert second.diff == "" and (tmp_path / "site.conf").read_text(encoding="utf-8") == fixed


# --- A declared release older than the rules describe (Debian 9's 1.10.3; a fork's own
# number such as Angie's 1.7.0 taken for nginx's): its documented defaults, and no fix
# that release refuses. ---

OLD_SITE = """\
events {}
http {
    server {
        listen 443 ssl;
        server_name a.example.com;
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
        ssl_session_cache shared:SSL:10m;
    }
}
"""


def test_no_fix_writes_what_an_older_declared_release_refuses(tmp_path: Path) -> None:
    """1.10.3 refuses `ssl_protocols TLSv1.3` (it needs 1.13.0): NGX303's fix writes
    TLSv1.2 alone, NGX302 (nothing to enable there) says nothing, and the run does not
    end in "tlslint bug"."""
    conf = tmp_path / "nginx.conf"
    conf.write_text(OLD_SITE, encoding="utf-8")
    shown = cli(tmp_path, "--nginx-version", "1.10.3", "--select", "NGX302,NGX303", "nginx.conf")
    assert "NGX302" not in shown.stdout
    assert "add `ssl_protocols TLSv1.2;` to http{}" in shown.stdout
    assert "older than 1.18.0, the oldest release" in shown.stderr
    done = cli(tmp_path, "--nginx-version", "1.10.3", "--fix", "--unsafe-fixes", "nginx.conf")
    assert done.returncode != 2 and "tlslint bug" not in done.stderr, done.stderr
    assert "ssl_protocols TLSv1.2;" in conf.read_text(encoding="utf-8")
    assert "TLSv1.3" not in conf.read_text(encoding="utf-8")
    assert "appeared after a fix" not in done.stderr


def test_an_older_declared_release_states_its_own_default(tmp_path: Path) -> None:
    """Before 1.9.1 the default ssl_protocols had SSLv3 (nginx.org's "Compatibility")."""
    (tmp_path / "nginx.conf").write_text(OLD_SITE, encoding="utf-8")
    shown = cli(tmp_path, "--nginx-version", "1.7.0", "--select", "NGX303", "nginx.conf")
    assert "nginx 1.7.0's default ssl_protocols (SSLv3 TLSv1 TLSv1.1 TLSv1.2;" in shown.stdout
    assert "NGX303 [error]" in shown.stdout  # SSLv3: broken
    shown = cli(tmp_path, "--nginx-version", "1.10.3", "--select", "NGX303", "nginx.conf")
    assert "nginx 1.10.3's default ssl_protocols (TLSv1 TLSv1.1 TLSv1.2;" in shown.stdout
    settings = cli(tmp_path, "--nginx-version", "1.10.3", "--show-settings", "nginx.conf")
    assert "# nginx.version 1.10.3 is older than 1.18.0" in settings.stdout


def _compose(tmp_path: Path, *images: str) -> None:
    services = "".join(f"  s{n}:\n    image: {image}\n" for n, image in enumerate(images))
    (tmp_path / "docker-compose.yml").write_text(f"services:\n{services}", encoding="utf-8")


def test_no_protocols_fix_where_a_range_across_1_13_0_has_tls13_later(tmp_path: Path) -> None:
    """nginx:1.12.2 beside nginx:1.27.3: 1.12.2 refuses `ssl_protocols TLSv1.3`, and
    1.23.4's default has it. `ssl_protocols TLSv1.2;` would turn TLS 1.3 off there (and
    fail the next run), so no fix; the note says the releases disagree, not that the range
    refuses TLSv1.3."""
    conf = tmp_path / "nginx.conf"
    conf.write_text(OLD_SITE, encoding="utf-8")
    _compose(tmp_path, "nginx:1.12.2", "nginx:1.27.3-alpine")
    shown = cli(tmp_path, "--select", "NGX302,NGX303", "--format", "json", "nginx.conf")
    found = {f["code"]: f for f in json.loads(shown.stdout)["findings"]}
    assert found["NGX303"]["fix"] is None
    for code in ("NGX302", "NGX303"):
        note = found[code]["note"]
        assert "holds releases before 1.13.0, which refuse `ssl_protocols TLSv1.3`" in note, note
        assert "set nginx.version to decide" in note and "upgrade nginx" not in note, note
    assert "from 1.23.4 releases whose ssl_protocols has it" in found["NGX303"]["note"]
    done = cli(tmp_path, "--fix", "--unsafe-fixes", "nginx.conf")
    assert done.returncode == 0, done.stdout + done.stderr
    assert conf.read_text(encoding="utf-8") == OLD_SITE


def test_a_range_across_1_13_0_without_tls13_anywhere_gets_the_fix_without_it(tmp_path: Path) -> None:
    """nginx:1.12.2 beside nginx:1.19.0: no release has TLSv1.3 on (the default gains it in
    1.23.4), so `ssl_protocols TLSv1.2;` takes nothing away and every release loads it."""
    conf = tmp_path / "nginx.conf"
    conf.write_text(OLD_SITE, encoding="utf-8")
    _compose(tmp_path, "nginx:1.12.2", "nginx:1.19.0")
    shown = cli(tmp_path, "--select", "NGX303", "nginx.conf")
    assert "add `ssl_protocols TLSv1.2;` to http{}" in shown.stdout
    assert "which refuse `ssl_protocols TLSv1.3`: the fix leaves it out" in shown.stdout
    cli(tmp_path, "--fix", "--unsafe-fixes", "nginx.conf")
    fixed = conf.read_text(encoding="utf-8")
    assert "ssl_protocols TLSv1.2;" in fixed and "TLSv1.3" not in fixed
    assert nginx_harness.nginx_t(fixed).ok


def test_an_image_older_than_the_rules_describe_gets_the_settings_warning(tmp_path: Path) -> None:
    """FROM nginx:1.10.3 declares what `--nginx-version 1.10.3` does: the same warning, on
    stderr (at the image's line) and in --show-settings, where the image is reported."""
    (tmp_path / "nginx.conf").write_text(OLD_SITE, encoding="utf-8")
    (tmp_path / "Dockerfile").write_text("FROM nginx:1.10.3-alpine\n", encoding="utf-8")
    older = "runs nginx 1.10.3, older than 1.18.0, the oldest release tlslint's rules describe"
    shown = cli(tmp_path, "--select", "NGX303", "nginx.conf")
    assert f"tlslint: warning: Dockerfile:1:1: FROM nginx:1.10.3-alpine {older}" in shown.stderr
    settings = cli(tmp_path, "--show-settings", "nginx.conf")
    assert f"# FROM nginx:1.10.3-alpine {older}" in settings.stdout
    # A supported image, or a setting that overrules the image, is not warned of as one.
    (tmp_path / "Dockerfile").write_text("FROM nginx:1.22.1\n", encoding="utf-8")
    assert "older than" not in cli(tmp_path, "nginx.conf").stderr
    (tmp_path / "Dockerfile").write_text("FROM nginx:1.10.3-alpine\n", encoding="utf-8")
    assert "older than" not in cli(tmp_path, "--nginx-version", "1.22.1", "nginx.conf").stderr
