"""--fix: only the lines it must, byte for byte; atomic writes; a fixpoint."""

from __future__ import annotations

import difflib
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import settings_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlslint import catalogue
from tlslint.engine import run
from tlslint.findings import Edit, Fix, Severity
from tlslint.fixing import apply_edits, apply_fixes, choose_fixes
from tlslint.nginx_edits import remove_directive, replace_arguments
from tlslint.sources.nginx.model import Directive, SourceText, walk
from tlslint.sources.nginx.parser import parse_text

NO_CACHE = """http {
    # keep this comment
    ssl_session_tickets off;
    ssl_session_timeout 1m;    # trailing comment

    server {
        listen 443 ssl;
        server_name "example.com";
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
    }
}
"""
# Plain --fix adds the missing cache and leaves the operator's 1m timeout (NGX104's fix
# replaces a value, so it is unsafe: docs/fix-safety.md).
NO_CACHE_FIXED = """http {
    # keep this comment
    ssl_session_tickets off;
    ssl_session_timeout 1m;    # trailing comment
    ssl_session_cache shared:SSL:10m;

    server {
        listen 443 ssl;
        server_name "example.com";
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
    }
}
"""


# These tests pin the session rules' fixes; other rules have their own tests.
SESSION_RULES = {"select": ["NGX1"]}


def fix_dir(directory: Path, *, unsafe: bool = False, mapping: dict[str, object] | None = None) -> list[str]:
    configured = settings_for(directory, mapping or SESSION_RULES)
    outcome = apply_fixes(run([directory], configured), configured, unsafe=unsafe, write=True)
    return outcome.messages


def touched_lines(text: str, edits: list[Edit]) -> set[int]:
    """0-based lines of ``text`` that an edit replaces or inserts next to."""
    lines = set()
    for edit in edits:
        first = text.count("\n", 0, edit.start)
        last = text.count("\n", 0, max(edit.start, edit.end - 1))
        lines.update(range(first, last + 1))
    return lines


def assert_only_edited_lines_changed(before: str, after: str, edits: list[Edit]) -> None:
    allowed = touched_lines(before, edits)
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            assert set(range(i1, i2)) <= allowed, (tag, old[i1:i2])


def test_fix_keeps_comments_and_changes_only_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_text(NO_CACHE)
    fix_dir(tmp_path)
    assert path.read_text() == NO_CACHE_FIXED


@pytest.mark.parametrize(
    ("name", "transform"),
    [
        ("crlf", lambda t: t.replace("\n", "\r\n")),
        ("tabs", lambda t: t.replace("        ", "\t\t").replace("    ", "\t")),
        ("no-final-newline", lambda t: t.rstrip("\n")),
        ("single-quotes", lambda t: t.replace('"example.com"', "'example.com'")),
    ],
)
def test_fix_respects_the_file_style(tmp_path: Path, name: str, transform) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "nginx.conf"
    path.write_bytes(transform(NO_CACHE).encode())
    fix_dir(tmp_path)
    assert path.read_bytes() == transform(NO_CACHE_FIXED).encode()


def test_fix_never_writes_a_file_with_a_bom(tmp_path: Path) -> None:
    """nginx reads a byte-order mark as part of the first word (1.22.1: unknown directive
    "\ufeffevents"): the file does not load, so, like one that does not parse, it is
    reported (NGX010, a load error: exit 2) and never written (tester: --fix wrote it and
    exited 1)."""
    from tlslint.findings import is_load_error

    path = tmp_path / "nginx.conf"
    original = b"\xef\xbb\xbf" + NO_CACHE.encode()
    path.write_bytes(original)
    configured = settings_for(tmp_path, SESSION_RULES)
    result = run([tmp_path], configured)
    (bom,) = [f for f in result.findings if f.code == "NGX010"]
    assert is_load_error(bom) and result.has_load_errors
    # No finding offers a fix in it, so no report counts one as fixable; each says why.
    unfixable = [f for f in result.findings if f.code != "NGX010"]
    assert unfixable and all(f.fix is None for f in unfixable)
    assert all("byte-order mark (NGX010)" in f.fix_note for f in unfixable)
    outcome = apply_fixes(result, configured, unsafe=True, write=True)
    assert outcome.written == [] and outcome.diff == ""
    assert path.read_bytes() == original


def test_non_utf8_bytes_survive_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    original = NO_CACHE.encode().replace(b"# keep this comment", b"# caf\xe9 latin-1")
    path.write_bytes(original)
    fix_dir(tmp_path)
    assert path.read_bytes() == NO_CACHE_FIXED.encode().replace(b"# keep this comment", b"# caf\xe9 latin-1")


def test_second_fix_is_a_no_op(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text(NO_CACHE)
    fix_dir(tmp_path, unsafe=True)
    configured = settings_for(tmp_path, SESSION_RULES)
    again = apply_fixes(run([tmp_path], configured), configured, unsafe=True, write=True)
    assert again.written == [] and again.diff == ""


# A statement spread over lines with a comment inside, which a fix rewrites or removes:
# the comment stays (docs/fix-safety.md). (name, selected rules, unsafe, before, after)
_SERVER = """http {{
{http}    server {{
        listen 443{listen};
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
{lines}    }}
}}
"""


def _server(lines: str = "", listen: str = " ssl", http: str = "") -> str:
    return _SERVER.format(http=http, listen=listen, lines=lines)


_REJECTING = "    server {\n        listen 443 ssl default_server;\n        ssl_reject_handshake on;\n    }\n"
SPLIT_STATEMENTS = [
    (  # the argument after the comment stays where it is: the comment keeps its line
        "protocols-comment-after-the-first",
        ["NGX302", "NGX303"],
        True,
        _server("        ssl_protocols TLSv1   # old\n                TLSv1.2;  # trailing\n"),
        _server("        ssl_protocols # old\n                TLSv1.2 TLSv1.3;  # trailing\n"),
    ),
    (
        "protocols-comment-then-legacy",
        ["NGX302", "NGX303"],
        True,
        _server("        ssl_protocols TLSv1.2 # keep\n                TLSv1.3 TLSv1;\n"),
        _server("        ssl_protocols TLSv1.2 # keep\n                TLSv1.3;\n"),
    ),
    (  # a removed statement's comment stays on a line of its own, where it stood
        "ssl-on-removed",
        ["NGX304"],
        False,
        _server("        ssl # legacy\n          on;\n", listen=""),
        _server("        # legacy\n"),
    ),
    (
        "ssl-on-removed-trailing-comment",
        ["NGX304"],
        False,
        _server("        ssl # legacy\n          on;  # trailing\n", listen=""),
        _server("        # legacy\n        # trailing\n"),
    ),
    (
        "ssl-on-removed-statement-after",
        ["NGX304"],
        False,
        _server("        ssl # legacy\n          # more\n          on; server_name a;\n", listen=""),
        _server("        # legacy\n        # more\n        server_name a;\n"),
    ),
    (  # an argument added to a listen line that spans lines
        "listen-comment",
        ["NGX304"],
        False,
        _server("        ssl on;\n", listen=" # main port\n                default_server"),
        _server(listen=" # main port\n                default_server ssl"),
    ),
    (  # a moved statement takes its comment along: it stays once
        "zone-moved",
        ["NGX107"],
        False,
        _server("        ssl_session_cache # the api's zone\n            shared:SSL:10m;\n", http=_REJECTING),
        _server(http="    ssl_session_cache # the api's zone\n            shared:SSL:10m;\n" + _REJECTING),
    ),
    (  # a '#' in quotes is an argument, not a comment: only the real one stays
        "zone-removed-quoted-hash",
        ["NGX108"],
        True,
        _server(
            "        ssl_session_cache shared:MozSSL:10m;\n",
            http='    ssl_session_cache builtin:1000 # per worker\n        "shared:old#zone:10m";\n',
        ),
        _server("        ssl_session_cache shared:MozSSL:10m;\n", http="    # per worker\n"),
    ),
]
FILE_STYLES = {
    "lf": lambda text: text,
    "crlf": lambda text: text.replace("\n", "\r\n"),
    "tabs": lambda text: text.replace("        ", "\t\t").replace("    ", "\t"),
}


def split_statement_cases() -> list[object]:
    return [
        pytest.param(rules, unsafe, style(before), style(after), id=f"{name}-{style_name}")
        for name, rules, unsafe, before, after in SPLIT_STATEMENTS
        for style_name, style in FILE_STYLES.items()
    ]


@pytest.mark.parametrize(("rules", "unsafe", "before", "after"), split_statement_cases())
def test_a_comment_inside_a_rewritten_or_removed_statement_stays(
    tmp_path: Path, rules: list[str], unsafe: bool, before: str, after: str
) -> None:
    path = tmp_path / "nginx.conf"
    path.write_bytes(before.encode())
    mapping = {"select": rules, "nginx": {"version": "1.22.1"}}
    fix_dir(tmp_path, unsafe=unsafe, mapping=mapping)
    assert path.read_bytes() == after.encode()
    configured = settings_for(tmp_path, mapping)
    assert apply_fixes(run([tmp_path], configured), configured, unsafe=unsafe, write=False).diff == ""


def _only_directive(text: str, name: str) -> Directive:
    parsed = parse_text(SourceText(Path("nginx.conf"), text))
    return next(d for d in walk(parsed.directives) if d.name == name)


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("a 1;\nb # c\n  2;", "a 1;\n# c"),  # the last line, without a final newline
        ("a 1; b # c\n  2;\n", "a 1; # c\n"),  # something before it on its line
        ("a 1;\nb '#x' # c\n  2;\n", "a 1;\n# c\n"),
    ],
    ids=["no-final-newline", "after-a-statement", "quoted-hash"],
)
def test_remove_directive_keeps_its_comments(text: str, after: str) -> None:
    edit = remove_directive(_only_directive(text, "b"))
    assert apply_edits(text, [edit]) == after


@pytest.mark.parametrize(
    ("text", "values", "after"),
    [
        ("a '#x' # c\n  y;", ["#x", "z"], "a '#x' # c\n  'z';"),  # the first one's quotes
        ("a x # c\n  y\n  z;", ["x"], "a x # c\n  ;"),  # valid, if bare
        ("a x # c\n  y\n  # d\n  z;", ["x", "z"], "a x # c\n  # d\n  z;"),  # y's line goes
        ("a x y # c\n  z;", ["x", "y", "z", "w"], "a x y # c\n  z w;"),
        ("a x # c\n  y;", ["w", "x", "y"], "a w x # c\n  y;"),
    ],
    ids=["quoted-hash", "last-line-emptied", "line-removed", "appended", "prepended"],
)
def test_replace_arguments_keeps_comments_between_them(text: str, values: list[str], after: str) -> None:
    edit = replace_arguments(_only_directive(text, "a"), values)
    assert apply_edits(text, [edit]) == after


def test_mode_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_text(NO_CACHE)
    path.chmod(0o640)
    fix_dir(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_text() == NO_CACHE_FIXED


def test_read_only_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    """Its findings stand (the files on disk are checked again), with SRC002 saying why."""
    path = tmp_path / "nginx.conf"
    path.write_text(NO_CACHE)
    path.chmod(0o444)
    configured = settings_for(tmp_path, SESSION_RULES)
    before = run([tmp_path], configured)
    outcome = apply_fixes(before, configured, unsafe=False, write=True)
    assert path.read_text() == NO_CACHE and outcome.written == []
    assert outcome.unwritten == [(path, "the file is read-only")]
    unwritten = [f for f in outcome.result.findings if f.code == "SRC002"]
    assert [(f.location.path, f.message) for f in unwritten] == [
        (path, "not fixed: the file is read-only (its findings stand)")
    ]
    assert [f for f in outcome.result.findings if f.code != "SRC002"] == before.findings
    assert outcome.result.exit_code(Severity.ERROR) == 2


def test_a_hard_linked_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    """A rename would give one name the fix and leave the other names the old text
    (found by a tester: nothing said so). Its findings stand, SRC002 says why."""
    path, other = tmp_path / "nginx.conf", tmp_path / "other-name"
    path.write_text(NO_CACHE)
    os.link(path, other)
    configured = settings_for(tmp_path, SESSION_RULES)
    before = run([path], configured)
    outcome = apply_fixes(before, configured, unsafe=False, write=True)
    assert path.read_text() == other.read_text() == NO_CACHE and outcome.written == []
    reason = "the file has 2 hard links, which a rename would leave with the old text"
    assert outcome.unwritten == [(path, reason)]
    assert os.stat(path).st_ino == os.stat(other).st_ino
    assert outcome.result.exit_code(Severity.ERROR) == 2


def test_a_file_changed_after_it_was_read_is_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An editor saving a file during a run: --fix wrote its fix of the older text over
    the newer one. The file keeps the newer text, SRC002 says why, the run exits 2, and
    the other files of the run are still fixed."""
    from tlslint import fixing

    edited, other = tmp_path / "a" / "nginx.conf", tmp_path / "b" / "nginx.conf"
    for path in (edited, other):
        path.parent.mkdir()
        path.write_text(NO_CACHE)
    newer = NO_CACHE.replace("timeout 1m", "timeout 2m")  # as long as the text read: bytes decide
    assert len(newer) == len(NO_CACHE)
    cleanup = fixing.remove_stale_temporaries

    def save_meanwhile(directory: Path) -> None:
        # Called by write_atomically between the run's read and its rename.
        if directory == edited.parent:
            edited.write_text(newer)
        cleanup(directory)

    monkeypatch.setattr(fixing, "remove_stale_temporaries", save_meanwhile)
    configured = settings_for(tmp_path, SESSION_RULES)
    outcome = apply_fixes(run([tmp_path], configured), configured, unsafe=False, write=True)
    assert edited.read_text() == newer
    assert other.read_text() == NO_CACHE_FIXED and outcome.written == [other]
    assert outcome.unwritten == [(edited, "the file changed since tlslint read it; run again")]
    unwritten = [(f.location.path, f.message) for f in outcome.result.findings if f.code == "SRC002"]
    assert unwritten == [
        (edited, "not fixed: the file changed since tlslint read it; run again (its findings stand)")
    ]
    assert outcome.result.exit_code(Severity.ERROR) == 2
    assert sorted(p.name for p in edited.parent.iterdir()) == ["nginx.conf"]  # no temporary left
    monkeypatch.undo()
    fix_dir(tmp_path)  # run again: the newer text is fixed
    assert edited.read_text() == NO_CACHE_FIXED.replace("timeout 1m", "timeout 2m")


def test_a_file_deleted_after_it_was_read_is_not_created_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tlslint import fixing

    path = tmp_path / "nginx.conf"
    path.write_text(NO_CACHE)
    configured = settings_for(tmp_path, SESSION_RULES)
    checked = run([tmp_path], configured)
    real_write = fixing.write_atomically

    def deleted_meanwhile(target: Path, data: bytes, expected: bytes | None = None) -> str:
        path.unlink()
        return real_write(target, data, expected)

    monkeypatch.setattr(fixing, "write_atomically", deleted_meanwhile)
    outcome = apply_fixes(checked, configured, unsafe=False, write=True)
    assert not path.exists() and outcome.written == []
    assert outcome.unwritten == [(path, "the file was deleted since tlslint read it; not created again")]


def test_symlink_inside_the_tree_is_written_through_and_reported(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "nginx.conf").write_text(NO_CACHE)
    (tmp_path / "nginx.conf").symlink_to(real / "nginx.conf")
    configured = settings_for(tmp_path, SESSION_RULES)
    outcome = apply_fixes(run([tmp_path / "nginx.conf"], configured), configured, unsafe=False, write=True)
    assert (tmp_path / "nginx.conf").is_symlink()
    assert (real / "nginx.conf").read_text() == NO_CACHE_FIXED
    assert any("symlink" in m for m in outcome.messages)


def test_symlink_out_of_the_tree_is_written_only_on_request(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "nginx.conf").write_text(NO_CACHE)
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "nginx.conf").symlink_to(real / "nginx.conf")
    configured = settings_for(linked, SESSION_RULES)
    refused = apply_fixes(run([linked / "nginx.conf"], configured), configured, unsafe=False, write=True)
    assert (real / "nginx.conf").read_text() == NO_CACHE and refused.written == []
    ((path, reason),) = refused.unwritten
    assert path == linked / "nginx.conf" and "--fix-symlink-targets" in reason
    assert refused.result.exit_code(Severity.ERROR) == 2
    written = apply_fixes(
        run([linked / "nginx.conf"], configured), configured, unsafe=False, write=True, symlink_targets=True
    )
    assert (linked / "nginx.conf").is_symlink()
    assert (real / "nginx.conf").read_text() == NO_CACHE_FIXED and written.unwritten == []


def test_file_that_does_not_parse_is_never_written(tmp_path: Path) -> None:
    broken = tmp_path / "broken.conf"
    broken_text = "http {\n    ssl_session_timeout 1m;\n"  # unclosed block
    broken.write_text(broken_text)
    good = tmp_path / "nginx.conf"
    good.write_text(NO_CACHE)
    fix_dir(tmp_path)
    assert broken.read_text() == broken_text
    assert good.read_text() == NO_CACHE_FIXED


def test_included_file_is_edited_once(tmp_path: Path) -> None:
    (tmp_path / "tls.conf").write_text("ssl_session_timeout 1m;\n")
    (tmp_path / "nginx.conf").write_text(
        "events {}\nhttp {\n    ssl_session_cache shared:SSL:10m;\n"
        "    server {\n        listen 443 ssl;\n        include tls.conf;\n    }\n"
        "    server {\n        listen 8443 ssl;\n        include tls.conf;\n    }\n}\n"
    )
    fix_dir(tmp_path, unsafe=True)  # NGX104 replaces the operator's value: unsafe
    assert (tmp_path / "tls.conf").read_text() == "ssl_session_timeout 5m;\n"


def test_a_builtin_cache_in_an_include_is_replaced_once(tmp_path: Path) -> None:
    """NGX102 (builtin cache) and NGX105 (no shared cache for ticket keys) both fix the
    same line, with the same edit: one ssl_session_cache, not a second one in http{}."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "ssl.conf").write_text("ssl_session_cache builtin:1000;\n")
    main = (
        "events {}\nhttp {\n    include conf/ssl.conf;\n    server {\n"
        "        listen 443 ssl default_server;\n    }\n}\n"
    )
    (tmp_path / "nginx.conf").write_text(main)
    fix_dir(tmp_path, unsafe=True, mapping={**SESSION_RULES, "nginx": {"version": "1.22"}})
    assert (tmp_path / "conf" / "ssl.conf").read_text() == "ssl_session_cache shared:SSL:10m;\n"
    assert (tmp_path / "nginx.conf").read_text() == main


def test_overlapping_fixes_are_not_applied_together(tmp_path: Path) -> None:
    first = Fix("a", (Edit(tmp_path, 5, 10, "x"),))
    second = Fix("b", (Edit(tmp_path, 8, 12, "y"),))
    same_point = Fix("c", (Edit(tmp_path, 20, 20, "p"),))
    other_point = Fix("d", (Edit(tmp_path, 20, 20, "q"),))
    identical = Fix("e", (Edit(tmp_path, 5, 10, "x"),))
    from tlslint.findings import Finding, Location, Severity

    findings = [
        Finding("NGX104", "n", Severity.WARNING, "m", Location(tmp_path, 1), fix=fix)
        for fix in (first, second, same_point, other_point, identical)
    ]
    chosen = choose_fixes(findings, unsafe=False)
    assert [fix.description for fix in chosen] == ["a", "c", "e"]
    assert chosen[2].edits == ()  # the identical edit merged into the first one


def test_every_fix_touches_only_its_lines_across_the_corpus(tmp_path: Path) -> None:
    """Each single fix on every catalogue example and corpus file changes only
    the lines its edits cover, and its result still parses."""
    from conftest import REQUIRE_SHARED, SHARED, shared_path

    sources: list[Path] = []
    if (SHARED / "corpus" / "nginx").is_dir() or REQUIRE_SHARED:
        corpus = shared_path("corpus", "nginx")
        sources += [p for p in sorted(corpus.iterdir()) if p.suffix not in (".tsv", ".txt")]
    for index, entry in enumerate(catalogue.load_entries().values()):
        for number, example in enumerate(entry["examples"]):
            if "bad" in example:
                path = tmp_path / f"example-{index}-{number}.conf"
                path.write_text(example["bad"])
                sources.append(path)
    checked = 0
    for source in sources:
        configured = settings_for(source.parent)
        result = run([source], configured)
        for finding in result.findings:
            if finding.fix is None:
                continue
            for path in {edit.path for edit in finding.fix.edits}:
                edits = [e for e in finding.fix.edits if e.path == path]
                before = result.nginx_files.parsed[path.resolve()].source
                after = apply_edits(before.text, edits)
                assert_only_edited_lines_changed(before.text, after, edits)
                parse_text(SourceText(path, after, before.bom, before.newline))
                checked += 1
    assert checked >= 10


@pytest.mark.parametrize(
    ("site", "bom"),
    [("sites-enabled/a.conf", b""), ("sïtes enabled/ü ber.conf", b"")],
    ids=["plain", "blanks"],
)
def test_diff_applies_with_patch_and_equals_fix(tmp_path: Path, site: str, bom: bytes) -> None:
    tree = tmp_path / "tree"
    (tree / site).parent.mkdir(parents=True)
    (tree / "nginx.conf").write_text(
        f'events {{}}\nhttp {{\n    ssl_session_timeout 1m;\n    include "{site.split("/")[0]}/*.conf";\n}}\n'
    )
    (tree / site).write_bytes(bom + b"server {\n    listen 443 ssl;\n    ssl_session_cache shared:A:1m;\n}\n")
    env = {**os.environ, "NO_COLOR": "1"}
    tlslint = [sys.executable, "-m", "tlslint"]
    diff = subprocess.run(
        [*tlslint, "--diff", "--unsafe-fixes", "."], cwd=tree, capture_output=True, text=True, env=env
    )
    assert diff.returncode == 1, diff.stderr
    assert diff.stdout.startswith("--- ")
    copies = {"patch": ["patch", "-p0", "--quiet"], "git": ["git", "apply", "-p0"]}
    for tool, command in copies.items():
        if shutil.which(command[0]) is None:
            continue
        shutil.copytree(tree, tmp_path / tool)
        subprocess.run(command, input=diff.stdout, cwd=tmp_path / tool, check=True, text=True)
    fixed = subprocess.run(
        [*tlslint, "--fix", "--unsafe-fixes", "."], cwd=tree, capture_output=True, text=True, env=env
    )
    assert "Traceback" not in fixed.stderr
    assert (tree / site).read_bytes().startswith(bom + b"server {")
    for tool in copies:
        for name in ("nginx.conf", site):
            if (tmp_path / tool).exists():
                assert (tmp_path / tool / name).read_bytes() == (tree / name).read_bytes(), (tool, name)
    assert (tmp_path / "patch").exists()  # Debian's patch is a test dependency, like nginx
    again = subprocess.run(
        [*tlslint, "--diff", "--unsafe-fixes", "."], cwd=tree, capture_output=True, text=True, env=env
    )
    assert again.stdout == ""


KILLER = """
import os, sys
def die(*args, **kwargs):
    os.kill(os.getpid(), 9)
os.replace = die
from tlslint.cli import main
main(["--fix", "--select", "NGX1", sys.argv[1]])
"""


def test_killed_before_rename_leaves_the_original_intact(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_text(NO_CACHE)
    killed = subprocess.run([sys.executable, "-c", KILLER, str(tmp_path)], capture_output=True)
    assert killed.returncode == -9
    assert path.read_text() == NO_CACHE
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "nginx.conf"]
    assert leftovers and all(".tlslint-" in name for name in leftovers)
    for name in leftovers:  # older than STALE_AFTER (a younger one may be a writer's between create and lock)
        os.utime(tmp_path / name, (time.time() - 3600,) * 2)
    subprocess.run(
        [sys.executable, "-m", "tlslint", "--fix", "--select", "NGX1", str(tmp_path)],
        capture_output=True,
        check=False,
    )
    assert [p.name for p in tmp_path.iterdir()] == ["nginx.conf"]
    assert path.read_text() == NO_CACHE_FIXED


# Generated configs: comments, tabs, CRLF, odd quoting, session settings.
_INDENT = st.sampled_from(["    ", "\t", "  "])
_NEWLINE = st.sampled_from(["\n", "\r\n"])
_COMMENT = st.sampled_from(["", "  # note", "\t# tlslint demo ;{}", " #"])
_SESSION = st.sampled_from(
    [
        "ssl_session_cache none;",
        "ssl_session_cache builtin:1000;",
        "ssl_session_cache shared:SSL:1m;",
        "ssl_session_cache shared:SSL:10m;",
        "ssl_session_cache 'shared:Q:2m';",
        'ssl_session_timeout "1m";',
        "ssl_session_timeout 30d;",
        "ssl_session_tickets off;",
        "ssl_session_tickets on;",
        "keepalive_timeout 65;",
        "server_name 'a b' \"c;d\";",
    ]
)


@st.composite
def configs(draw: st.DrawFn) -> str:
    indent = draw(_INDENT)
    newline = draw(_NEWLINE)
    lines = ["# generated", "http {"]
    for directive in draw(st.lists(_SESSION, max_size=4)):
        lines.append(f"{indent}{directive}{draw(_COMMENT)}")
    for number in range(draw(st.integers(min_value=1, max_value=3))):
        default = " default_server" if number == 0 and draw(st.booleans()) else ""
        lines.append(f"{indent}server {{{draw(_COMMENT)}")
        lines.append(f"{indent * 2}listen 443 ssl{default};")
        for directive in draw(st.lists(_SESSION, max_size=3)):
            lines.append(f"{indent * 2}{directive}{draw(_COMMENT)}")
        lines.append(f"{indent}}}")
    lines.append("}")
    text = newline.join(lines)
    return text + (newline if draw(st.booleans()) else "")


@settings(
    max_examples=int(os.environ.get("TLSLINT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=configs())
def test_fix_property(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    directory = tmp_path_factory.mktemp("prop")
    path = directory / "nginx.conf"
    path.write_bytes(text.encode())
    configured = settings_for(directory, SESSION_RULES)
    result = run([directory], configured)
    outcome = apply_fixes(result, configured, unsafe=True, write=True)
    after = path.read_bytes().decode()
    parse_text(SourceText(path, after))  # the output parses
    if "\r\n" in text:  # no bare LF sneaks into a CRLF file
        assert after.count("\n") == after.count("\r\n")

    # Lines that no edit touched are unchanged, in order. (A removed
    # directive leaves its trailing comment behind on a line of its own.)
    def structure(lines: list[str]) -> list[str]:
        return [
            line
            for line in lines
            if "ssl_session" not in line and "server_name" not in line and not line.lstrip().startswith("#")
        ]

    assert structure(text.splitlines()) == structure(after.splitlines())
    comments = [c for line in text.splitlines() if "#" in line for c in [line[line.index("#") :]]]
    assert all(comment.strip() in after for comment in comments)
    again = apply_fixes(run([directory], configured), configured, unsafe=True, write=True)
    assert again.diff == "", outcome.diff


@settings(
    max_examples=int(os.environ.get("TLSLINT_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=configs())
def test_fix_property_all_rules(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """Every rule's fixes together: the output parses, keeps every comment, and settles."""
    directory = tmp_path_factory.mktemp("prop-all")
    path = directory / "nginx.conf"
    path.write_bytes(text.encode())
    configured = settings_for(directory)
    outcome = apply_fixes(run([directory], configured), configured, unsafe=True, write=True)
    assert not [m for m in outcome.messages if "did not settle" in m or "would break" in m], outcome.messages
    after = path.read_bytes().decode()
    parse_text(SourceText(path, after))
    comments = [line[line.index("#") :].strip() for line in text.splitlines() if "#" in line]
    assert all(comment in after for comment in comments)
    again = apply_fixes(run([directory], configured), configured, unsafe=True, write=True)
    assert again.diff == "", outcome.diff


@pytest.mark.parametrize(
    ("site", "include"),
    [("sites-enabled/a", "sites-enabled/*"), ("sites/a.conf", "sites/*.conf")],
    ids=["sites-enabled-no-suffix", "sites-conf"],
)
def test_fix_on_a_named_site_never_writes_its_includer(tmp_path: Path, site: str, include: str) -> None:
    """Tester: `tlslint check sites-enabled/a --fix` wrote nginx.conf, which was not named
    (the missing session cache, added to its http{}); the `sites/a.conf` shape was refused
    as "a symlink leads to nginx.conf" with no symlink. Both: SRC002 with the same true
    reason, exit 2, nothing written; naming the includer too writes it."""
    main = f"events {{}}\nhttp {{\n    include {include};\n}}\n"
    server = "server {\n    listen 443 ssl;\n}\n"
    (tmp_path / site).parent.mkdir(parents=True)
    (tmp_path / "nginx.conf").write_text(main)
    (tmp_path / site).write_text(server)
    env = {**os.environ, "NO_COLOR": "1"}
    tlslint = [sys.executable, "-m", "tlslint", "check", "--no-cache", "--select", "NGX101", "--fix"]
    done = subprocess.run([*tlslint, site], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert (tmp_path / "nginx.conf").read_text() == main and (tmp_path / site).read_text() == server
    assert (
        f"nginx.conf: SRC002 [error] not fixed: the fix edits nginx.conf, which includes the paths "
        f"given ({site}) and is not one of them; name it too, or run on the whole tree"
    ) in done.stdout
    assert "symlink" not in done.stdout
    both = subprocess.run(
        [*tlslint, "nginx.conf", site], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert both.returncode == 0, both.stdout + both.stderr
    assert "ssl_session_cache" in (tmp_path / "nginx.conf").read_text()
