"""Reliability under faults (docs/reliability.md): what could not be read or written is
said, in every output format; concurrent and killed --fix runs lose nothing.

Real files, real permissions (the CLI runs as an unprivileged user, see tests/sandbox.py),
real FIFOs, real concurrent processes and real signals.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from conftest import shared_path
from hypothesis import HealthCheck, given, settings
from reported import FORMATS, reported
from sandbox import cli_env, finish, popen, sandbox, tlslint
from test_flat import shape
from test_lexer import CORPUS_PARAMS, config_text

from tlslint import catalogue
from tlslint.fixing import TEMP_MARK, TEMP_SUFFIX
from tlslint.locking import lock_roots
from tlslint.sources.nginx import parser
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.nginx.parser import ParseError
from tlslint.sources.text import read_source

NGINX_MAIN = "events {}\nhttp {\n    include conf.d/*.conf;\n}\n"
SERVER = "server {\n    listen 80;\n}\n"


def assert_clean_exit(result: subprocess.CompletedProcess[str], code: int) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream and "internal error" not in stream, stream


# -- unreadable paths: SRC001 ---------------------------------------------------------------
@pytest.mark.parametrize("output_format", FORMATS)
def test_a_missing_path_is_an_error_in_every_format(tmp_path: Path, output_format: str) -> None:
    """It said "All checks passed (0 files read)", and junit tests="0" errors="0"."""
    (tmp_path / "app.conf").write_text(SERVER)
    result = tlslint(tmp_path, "--format", output_format, "--no-cache", "app.conf", "typo.conf")
    assert_clean_exit(result, 2)
    found = reported(output_format, result.stdout)
    assert [(code, path) for code, _, path in found if code == "SRC001"] == [("SRC001", "typo.conf")]
    severity = next(severity for code, severity, _ in found if code == "SRC001")
    assert severity in ("error", "load")
    if output_format == "text":
        assert "typo.conf: SRC001 [error] no such file or directory" in result.stdout
        assert "All checks passed" not in result.stdout


@pytest.mark.parametrize("output_format", FORMATS)
def test_an_unreadable_directory_named_is_an_error_in_every_format(output_format: str) -> None:
    with sandbox() as box:
        box.write({"locked/app.conf": SERVER})
        (box.root / "locked").chmod(0)
        result = box.tlslint("--format", output_format, "--no-cache", "locked")
        assert_clean_exit(result, 2)
        found = reported(output_format, result.stdout)
        assert [(code, path) for code, _, path in found] == [("SRC001", "locked")]
        if output_format == "text":
            assert result.stdout.startswith("locked: SRC001 [error] cannot be listed: Permission denied\n")


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads(shared_path("schemas", "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("output_format", FORMATS)
def test_a_symlink_loop_walked_or_named_is_src001_in_every_format(
    tmp_path: Path, output_format: str, sarif_validator: jsonschema.Draft4Validator
) -> None:
    """The machine formats died with "internal error: RuntimeError: Symlink loop": their
    relative paths called Path.resolve(), which raises on a loop where text's did not."""
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "nginx.conf").write_text("events {}\nhttp {}\n")
    (tmp_path / "d" / "a.conf").symlink_to("b.conf")
    (tmp_path / "d" / "b.conf").symlink_to("a.conf")
    cases = (
        (("d",), 1, [("SRC001", "warning", "d/a.conf"), ("SRC001", "warning", "d/b.conf")]),
        (("d/a.conf",), 2, [("SRC001", "error", "d/a.conf")]),
    )
    for targets, code, expected in cases:
        result = tlslint(tmp_path, "--format", output_format, "--no-cache", *targets)
        assert_clean_exit(result, code)
        # gitlab and junit say "does not load" for an error that makes the run incomplete
        found = [(c, "error" if s == "load" else s, p) for c, s, p in reported(output_format, result.stdout)]
        assert sorted(found) == expected, (targets, result.stdout)
        if output_format == "sarif":
            log = json.loads(result.stdout)
            problems = [e.message for e in sarif_validator.iter_errors(log)]
            assert problems == []
            assert log["runs"][0]["invocations"][0]["executionSuccessful"] is (code != 2)


def test_unreadable_paths_in_a_walked_tree_are_warnings() -> None:
    """A directory that cannot be listed, a FIFO and an unreadable candidate file, found by
    the walk: each a warning with its reason (exit 1 at the default fail-on), never silence.
    An unreadable *.conf is a configuration that does not load: NGX001, exit 2."""
    with sandbox() as box:
        box.write(
            {
                "nginx.conf": NGINX_MAIN,
                "conf.d/app.conf": SERVER,
                "private/secret.conf": SERVER,
                "sites-enabled/site": SERVER,
                "overrides.yaml": "virtualhosts: []\n",
                "README.md": "not a candidate\n",
            }
        )
        os.mkfifo(box.root / "sites-enabled" / "pipe")
        box.own()
        for name in ("private", "sites-enabled/site", "overrides.yaml", "README.md"):
            (box.root / name).chmod(0)
        result = box.tlslint("--no-cache", ".")
        assert_clean_exit(result, 1)
        found = sorted(reported("text", result.stdout))
        assert found == [
            ("SRC001", "warning", "overrides.yaml"),
            ("SRC001", "warning", "private"),
            ("SRC001", "warning", "sites-enabled/pipe"),
            ("SRC001", "warning", "sites-enabled/site"),
        ], result.stdout
        assert "private: SRC001 [warning] cannot be listed: Permission denied" in result.stdout
        assert "sites-enabled/site: SRC001 [warning] cannot read: Permission denied" in result.stdout
        assert (
            "sites-enabled/pipe: SRC001 [warning] is a FIFO (named pipe), not a regular file" in result.stdout
        )
        assert box.tlslint("--no-cache", "--fail-on", "error", ".").returncode == 0  # reported all the same
        (box.root / "conf.d" / "app.conf").chmod(0)
        result = box.tlslint("--no-cache", ".")
        assert_clean_exit(result, 2)
        assert "conf.d/app.conf: NGX001 [error] cannot read: Permission denied" in result.stdout


def test_a_fifo_matched_by_an_include_glob_is_a_warning_at_the_include(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "nginx.conf").write_text(NGINX_MAIN)
    (tmp_path / "conf.d" / "app.conf").write_text(SERVER)
    os.mkfifo(tmp_path / "conf.d" / "pipe.conf")
    for target in ("nginx.conf", "."):  # named, and walked (reported once, at the include)
        result = tlslint(tmp_path, "--no-cache", target)  # a FIFO opened would hang: the timeout fails it
        assert_clean_exit(result, 1)
        assert result.stdout.startswith(
            'nginx.conf:3:5: SRC001 [warning] include "conf.d/*.conf" matches conf.d/pipe.conf, which is '
            "a FIFO (named pipe), not a regular file; not read\n"
        ), result.stdout
        assert [code for code, _, _ in reported("text", result.stdout)] == ["SRC001"]


def test_an_include_glob_over_a_directory_that_cannot_be_listed() -> None:
    """Python's glob says nothing and matches nothing; nginx fails: a warning, at the include."""
    with sandbox() as box:
        box.write({"nginx.conf": NGINX_MAIN, "conf.d/app.conf": SERVER})
        (box.root / "conf.d").chmod(0o311)  # searchable, not listable
        result = box.tlslint("--no-cache", "nginx.conf")
        assert_clean_exit(result, 1)
        expected = 'include "conf.d/*.conf": conf.d cannot be listed: Permission denied'
        assert f"nginx.conf:3:5: SRC001 [warning] {expected}" in result.stdout


# -- the catalogue's examples of `target: paths` rules are shell sessions -----------------------
PATH_EXAMPLES = [
    pytest.param(code, example, id=f"{code}-{index}-{'bad' if 'bad' in example else 'good'}")
    for code, entry in catalogue.load_entries().items()
    if entry["target"] == "paths"
    for index, example in enumerate(entry["examples"])
]


@pytest.mark.parametrize(("code", "example"), PATH_EXAMPLES)
def test_path_rule_example(code: str, example: dict[str, str]) -> None:
    """The lines before the last build the tree; the last is the tlslint command line."""
    script = example.get("bad", example.get("good", ""))
    *setup, command = script.strip().splitlines()
    words = shlex.split(command)
    assert words[0] == "tlslint"
    with sandbox() as box:
        if setup:
            box.sh("\n".join(setup))
        result = box.tlslint("--format", "json", "--no-cache", *words[1:])
        codes = [found for found, _, _ in reported("json", result.stdout)]
        assert (code in codes) == ("bad" in example), result.stdout + result.stderr


# -- fixes that could not be written: SRC002, the findings stand, exit 2 -------------------------
NO_SESSION_CACHE = "http {\n    server {\n        listen 443 ssl;\n    }\n}\n"


@pytest.mark.parametrize("output_format", FORMATS)
def test_an_unwritten_fix_keeps_its_finding_in_every_format(output_format: str) -> None:
    """It said "read-only; not fixed" on stderr, listed only an info finding and exited 0."""
    with sandbox() as box:
        box.write({"ro/nginx.conf": NO_SESSION_CACHE, "locked/nginx.conf": NO_SESSION_CACHE})
        (box.root / "ro" / "nginx.conf").chmod(0o444)  # a read-only file
        (box.root / "locked").chmod(0o555)  # a writable file in a directory that is not
        (box.root / "locked" / "nginx.conf").chmod(0o644)
        before = {name: (box.root / name / "nginx.conf").read_bytes() for name in ("ro", "locked")}
        result = box.tlslint(
            "--fix", "--no-cache", "--select", "NGX101", "--format", output_format, "ro", "locked"
        )
        assert_clean_exit(result, 2)
        found = sorted((code, path) for code, _, path in reported(output_format, result.stdout))
        assert found == [
            ("NGX101", "locked/nginx.conf"),
            ("NGX101", "ro/nginx.conf"),
            ("SRC002", "locked/nginx.conf"),
            ("SRC002", "ro/nginx.conf"),
        ]
        assert {name: (box.root / name / "nginx.conf").read_bytes() for name in before} == before
        assert sorted(os.listdir(box.root / "locked")) == ["nginx.conf"]  # no temporary left
        if output_format == "sarif":  # the run did not do what it was asked: not a success
            (invocation,) = json.loads(result.stdout)["runs"][0]["invocations"]
            assert invocation["executionSuccessful"] is False
            notes = sorted(n["message"]["text"] for n in invocation["toolExecutionNotifications"])
            assert notes == [
                "locked/nginx.conf: SRC002 not fixed: cannot write: Permission denied (its findings stand)",
                "ro/nginx.conf: SRC002 not fixed: the file is read-only (its findings stand)",
            ]
        if output_format == "text":
            assert "ro/nginx.conf: SRC002 [error] not fixed: the file is read-only" in result.stdout
            assert (
                "locked/nginx.conf: SRC002 [error] not fixed: cannot write: Permission denied"
                in result.stdout
            )


def test_fix_never_writes_through_a_symlink_out_of_the_roots(tmp_path: Path) -> None:
    """conf.d/ext.conf -> a file outside the repository: it was "fixed" in place."""
    outside = tmp_path / "outside.conf"
    outside.write_text("ssl_session_timeout 1m;\n")
    repo = tmp_path / "repo"
    (repo / "conf.d").mkdir(parents=True)
    (repo / "nginx.conf").write_text(NGINX_MAIN.replace("events {}\n", ""))
    (repo / "conf.d" / "ext.conf").symlink_to(outside)
    (repo / "conf.d" / "own.conf").write_text("ssl_session_timeout 2m;\n")
    result = tlslint(repo, "--fix", "--no-cache", "--unsafe-fixes", "--select", "NGX104", ".")
    assert_clean_exit(result, 2)
    assert outside.read_text() == "ssl_session_timeout 1m;\n"  # untouched
    assert (repo / "conf.d" / "own.conf").read_text() == "ssl_session_timeout 5m;\n"  # inside: fixed
    assert "conf.d/ext.conf: SRC002 [error] not fixed: a symlink leads to ../outside.conf" in result.stdout
    assert "../outside.conf:1:1: NGX104" in result.stdout  # the finding stands
    again = tlslint(
        repo, "--fix", "--fix-symlink-targets", "--no-cache", "--unsafe-fixes", "--select", "NGX104", "."
    )
    assert_clean_exit(again, 0)
    assert outside.read_text() == "ssl_session_timeout 5m;\n"


def test_a_mapped_root_is_written(tmp_path: Path) -> None:
    """nginx.roots maps an absolute include into the repository: a fix writes there."""
    (tmp_path / "shared").mkdir()
    (tmp_path / "conf").mkdir()
    (tmp_path / ".tlslint.toml").write_text('[nginx]\nroots = { "/etc/shared" = "shared" }\n')
    (tmp_path / "shared" / "tls.conf").write_text("ssl_session_timeout 1m;\n")
    (tmp_path / "conf" / "nginx.conf").write_text("http {\n    include /etc/shared/tls.conf;\n}\n")
    result = tlslint(tmp_path, "--fix", "--no-cache", "--unsafe-fixes", "--select", "NGX104", "conf")
    assert_clean_exit(result, 0)
    assert (tmp_path / "shared" / "tls.conf").read_text() == "ssl_session_timeout 5m;\n"


# -- concurrent --fix runs, and the temporaries of runs that died --------------------------------
def fixable_tree(root: Path, servers: int) -> dict[Path, str]:
    """nginx.conf including ``servers`` files, each with a one-line fix (NGX104 under
    --unsafe-fixes: 1m -> 5m);
    returns each file's fixed text."""
    (root / "conf.d").mkdir(parents=True, exist_ok=True)
    (root / "nginx.conf").write_text(NGINX_MAIN)
    fixed = {}
    for index in range(servers):
        path = root / "conf.d" / f"s{index:04}.conf"
        text = f"server {{\n    listen {10000 + index};\n    ssl_session_timeout 1m;\n}}\n"
        path.write_text(text)
        fixed[path] = text.replace("1m", "5m")
    return fixed


def temporaries(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(f"*{TEMP_MARK}*{TEMP_SUFFIX}"))


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """This process and the CLIs it starts share one user cache (where the locks are)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return {**cli_env(), "XDG_CACHE_HOME": str(tmp_path / "cache")}


def test_two_concurrent_fixes_lose_nothing(tmp_path: Path, own_cache: dict[str, str]) -> None:
    """Each run's cleanup deleted the other's temporaries mid-write: "cannot write" 25-34
    times, a file left unfixed in 3 tries of 10, both exiting 0."""
    tree = tmp_path / "tree"
    for attempt in range(3):
        fixed = fixable_tree(tree, 150)
        runs = [
            popen(tree, "--fix", "--no-cache", "--unsafe-fixes", "--select", "NGX104", ".", env=own_cache)
            for _ in range(2)
        ]
        results = [finish(run) for run in runs]
        for result in results:
            assert_clean_exit(result, 0)
            assert "cannot" not in result.stderr, result.stderr
        assert {path: path.read_text() for path in fixed} == fixed, f"attempt {attempt}"
        assert temporaries(tree) == []
        written = [r.stderr for r in results if "fixed 150 files" in r.stderr]
        assert len(written) == 1, [r.stderr for r in results]  # the other found nothing left to fix


def test_a_second_fix_waits_for_the_first_and_says_so(tmp_path: Path, own_cache: dict[str, str]) -> None:
    """The lock held here, as a run in progress would hold it: the CLI waits, reads nothing
    and writes nothing until it is released, then fixes."""
    tree = tmp_path / "tree"
    fixed = fixable_tree(tree, 3)
    before = {path: path.read_text() for path in fixed}
    held = lock_roots([tree.resolve()], pytest.fail)
    run = popen(
        tree / "conf.d", "--fix", "--no-cache", "--unsafe-fixes", "--select", "NGX104", ".", env=own_cache
    )  # a root below
    try:
        assert run.stderr is not None
        line = run.stderr.readline()  # blocks until the CLI says it waits (or ends)
        assert (
            line
            == f"tlslint: another tlslint --fix is writing in {tree.resolve()}; waiting for it to finish\n"
        )
        assert run.poll() is None and {path: path.read_text() for path in fixed} == before
    finally:
        held.release()
    result = finish(run)
    assert_clean_exit(result, 0)
    assert {path: path.read_text() for path in fixed} == fixed


def test_runs_on_disjoint_trees_do_not_wait(tmp_path: Path, own_cache: dict[str, str]) -> None:
    fixable_tree(tmp_path / "a", 1)
    fixed = fixable_tree(tmp_path / "b", 1)
    held = lock_roots([(tmp_path / "a").resolve()], pytest.fail)
    try:
        result = finish(
            popen(
                tmp_path / "b",
                "--fix",
                "--no-cache",
                "--unsafe-fixes",
                "--select",
                "NGX104",
                ".",
                env=own_cache,
            )
        )
    finally:
        held.release()
    assert_clean_exit(result, 0)
    assert "waiting" not in result.stderr
    assert {path: path.read_text() for path in fixed} == fixed


HOLD_TEMPORARY = """
import fcntl, os, sys, time
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(descriptor, fcntl.LOCK_EX)
os.utime(sys.argv[1], (time.time() - 3600,) * 2)  # old: only its lock may keep it
print("holding", flush=True)
time.sleep(120)
"""


def test_cleanup_removes_only_temporaries_whose_writer_is_gone(tmp_path: Path) -> None:
    """A writer alive (holding its temporary's lock) keeps it; one SIGKILLed loses it."""
    fixed = fixable_tree(tmp_path, 1)
    (target,) = fixed
    alive_temporary = target.parent / f".{target.name}{TEMP_MARK}alive{TEMP_SUFFIX}"
    dead_temporary = target.parent / f".{target.name}{TEMP_MARK}dead{TEMP_SUFFIX}"
    writers = [
        subprocess.Popen([sys.executable, "-c", HOLD_TEMPORARY, str(path)], stdout=subprocess.PIPE, text=True)
        for path in (alive_temporary, dead_temporary)
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None and writer.stdout.readline() == "holding\n"
        writers[1].send_signal(signal.SIGKILL)
        writers[1].wait()
        result = tlslint(tmp_path, "--fix", "--no-cache", "--unsafe-fixes", "--select", "NGX104", ".")
        assert_clean_exit(result, 0)
        assert target.read_text() == fixed[target]
        assert temporaries(tmp_path) == [f"conf.d/{alive_temporary.name}"]
    finally:
        for writer in writers:
            writer.kill()
            writer.wait()


def test_a_fix_killed_midway_leaves_every_file_whole(tmp_path: Path) -> None:
    """SIGKILL while writing: each file is its old text or its fixed text, never a mix or
    a truncation; the next run finishes the job and removes what the killed one left."""
    fixed = fixable_tree(tmp_path, 400)
    original = {path: path.read_text() for path in fixed}
    run = popen(tmp_path, "--fix", "--no-cache", "--unsafe-fixes", "--select", "NGX104", ".")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and run.poll() is None:
        if any(path.read_text() != original[path] for path in list(fixed)[:: len(fixed) // 8]):
            break  # writing has begun
        time.sleep(0.005)
    run.send_signal(signal.SIGKILL)
    finish(run)
    for path, text in fixed.items():
        assert path.read_text() in (original[path], text), path
    for left in temporaries(tmp_path):  # old enough to be stale, their writer gone
        os.utime(tmp_path / left, (time.time() - 3600,) * 2)
    result = tlslint(tmp_path, "--fix", "--no-cache", "--unsafe-fixes", "--select", "NGX104", ".")
    assert_clean_exit(result, 0)
    assert {path: path.read_text() for path in fixed} == fixed
    assert temporaries(tmp_path) == []


# -- memory on hostile input ----------------------------------------------------------------------
MIB = 2**20
PEAK = """
import resource, sys
from pathlib import Path
from tlslint.check_command import run_check
status = run_check([Path(sys.argv[1])], quiet=True, no_cache=True)
print(status, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, file=sys.stderr)
"""


def peak(path: Path) -> tuple[int, int, float]:
    """(exit status, peak RSS in bytes, seconds) of a check of ``path`` in a fresh process."""
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", PEAK, str(path)], capture_output=True, text=True, timeout=300, check=False
    )
    elapsed = time.monotonic() - started
    status, rss = result.stderr.split()[-2:]
    return int(status), int(rss), elapsed


def garbage(kind: str, size: int) -> str:
    if kind == "mixed":  # punctuation, words, quotes and comments, never a valid statement for long
        import random

        pieces = ["a", "b c", ";", "{", "}", '"x"', "# c\n", "\n", " "]
        generator = random.Random(20)
        block = "".join(generator.choice(pieces) for _ in range(1 << 15))  # repeated: cheap to make
        return (block * (size // len(block) + 1))[:size]
    unit = {
        "semicolons": ";",
        "opens": "{",
        "closes": "}",
        "words": "a ",
        "quotes": '"" ',
        "comments": ";#\n",
    }[kind]
    return (unit * (size // len(unit) + 1))[:size]


@pytest.mark.parametrize("kind", ["semicolons", "opens", "closes", "words", "quotes", "comments", "mixed"])
def test_fifteen_mib_of_garbage_stays_a_small_multiple_of_its_size(tmp_path: Path, kind: str) -> None:
    """A 15 MiB file of ";" (under the 16 MiB limit) took 9 s and 2.4 GB before "unexpected ;":
    every token was built first. Now the tree is built as the text is scanned, and the first
    error ends it: peak memory above a tiny check's stays under 4 x the file's size."""
    (tmp_path / "tiny.conf").write_text(SERVER)
    _, base, _ = peak(tmp_path / "tiny.conf")
    size = 15 * MIB
    (tmp_path / "garbage.conf").write_text(garbage(kind, size))
    status, rss, seconds = peak(tmp_path / "garbage.conf")
    assert status == 2
    assert rss - base < 4 * size, f"{(rss - base) / MIB:.0f} MiB above a tiny check's"
    assert seconds < 8, f"took {seconds:.1f} s"


def test_garbage_after_an_include_is_not_scanned_for_includes(tmp_path: Path) -> None:
    """A file that does not parse is scanned for the files it includes (they take its
    prefix, engine.load_nginx), in a run with other nginx files: only up to its last
    include, not through 15 MiB of ";" (6 s of words, 2 GB as a list of tokens)."""
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "tiny.conf").write_text(SERVER)
    _, base, _ = peak(tmp_path / "tiny")
    size = 15 * MIB
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "site.conf").write_text(SERVER)
    (tmp_path / "run" / "garbage.conf").write_text("include site.conf;\n" + garbage("semicolons", size))
    status, rss, seconds = peak(tmp_path / "run")
    assert status == 2
    assert rss - base < 4 * size, f"{(rss - base) / MIB:.0f} MiB above a tiny check's"
    assert seconds < 8, f"took {seconds:.1f} s"


def test_a_statement_that_never_ends_is_refused_while_scanning(tmp_path: Path) -> None:
    (tmp_path / "words.conf").write_text("server_name" + " a" * 300_000 + "\n")
    result = tlslint(tmp_path, "--no-cache", "words.conf")
    assert_clean_exit(result, 2)
    assert 'words.conf:1:1: NGX001 [error] "server_name" directive has more than 100,000 arguments' in (
        result.stdout
    )


def test_the_file_size_limit_is_a_setting(tmp_path: Path) -> None:
    """max-file-size refuses a file by its size, unread (and says which setting)."""
    (tmp_path / ".tlslint.toml").write_text(f"max-file-size = {MIB}\n")
    (tmp_path / "big.conf").write_text(garbage("semicolons", 2 * MIB))
    result = tlslint(tmp_path, "--no-cache", "big.conf")
    assert_clean_exit(result, 2)
    assert "big.conf: NGX001 [error] file is 2.0 MiB, above the 1 MiB limit (max-file-size); not read" in (
        result.stdout
    )


def built_both_ways(source: SourceText, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """(tree built from the whole token list, tree built in chunks of 3 tokens), each a
    shape, or the ParseError's (line, message)."""
    monkeypatch.setattr(parser, "_CHUNK", 3)  # a chunk boundary in every statement
    shapes = []
    for build in (
        lambda: parser._build(source, parser._tokens(source)),
        lambda: parser._build_in_chunks(source),
    ):
        try:
            shapes.append(shape(build()))
        except ParseError as error:
            shapes.append((error.line, error.message))
    return shapes[0], shapes[1]


@pytest.mark.parametrize("path", CORPUS_PARAMS)
def test_a_corpus_file_builds_alike_in_chunks(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole, chunked = built_both_ways(read_source(path, 2**24), monkeypatch)
    assert chunked == whole


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(text=config_text())
def test_a_generated_file_builds_alike_in_chunks(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Valid text builds the same tree; text with an error fails both ways (where the lexer
    and the parser find different errors, the chunked build reports the first in the text,
    as nginx does, so only the failure is compared)."""
    whole, chunked = built_both_ways(
        SourceText(Path("nginx.conf"), text, bom=False, newline="\n"), monkeypatch
    )
    assert isinstance(chunked, tuple) == isinstance(whole, tuple)
    if isinstance(whole, list):
        assert chunked == whole


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # libcst's native parser overflowed the C stack: SIGSEGV after 30 s and 5 GB
        ("(" * (15 * MIB), "file is 15.0 MiB, above the 128 KiB read of a Python app-server file; not read"),
        ("keepalive = " + "(" * 5000 + "1" + ")" * 5000 + "\n", "too many nested parentheses"),
        # accepted by CPython, then an internal error (RecursionError) in the tree's visitors
        ("keepalive = " + "-" * 2500 + "1\n", "not read: more than 500 levels deep, counting each link"),
        ("keepalive = a" + "[0]" * 2500 + "\n", "not read: more than 500 levels deep, counting each link"),
        ("keepalive = (\n" + "    'a'\n" * 2000 + ")\n", "not read: more than 500 levels deep, counting"),
        ("keepalive = " + "[" * 150 + "]" * 150 + "\n", "not read: nested more than 100 levels deep"),
        # valid, and 74 s and 1.6 GB for a MiB
        ("keepalive = 5\n" + "x = 1\n" * (MIB // 6), "file is 1.0 MiB, above the 128 KiB read"),
    ],
    ids=[
        "15-mib-of-parens",
        "nested-parens",
        "unary-chain",
        "subscript-chain",
        "concatenation",
        "nested-lists",
        "one-mib",
    ],
)
def test_hostile_python_app_server_config_is_refused_quickly(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "gunicorn.conf.py").write_text(text)
    started = time.monotonic()
    result = tlslint(tmp_path, "--no-cache", "gunicorn.conf.py")
    assert time.monotonic() - started < 20
    assert_clean_exit(result, 2)
    assert "BKD001 [error] does not parse as Python: " + message in result.stdout or (
        "BKD001 [error] " + message in result.stdout
    ), result.stdout
    assert re.search(r"gunicorn\.conf\.py:[1-9]\d*:", result.stdout) or "128 KiB read" in result.stdout


@pytest.mark.parametrize(
    "text",
    [
        # an internal error (RecursionError in libcst's position metadata), exit 2
        "bind = '127.0.0.1:8000'\naccess_log_format = (\n" + "    '%%(h)s '\n" * 400 + ")\nkeepalive = 75\n",
        # "does not parse as Python: nested more than 100 levels deep", exit 2
        "bind = '127.0.0.1:8000'\nworkers = " + " + ".join(["1"] * 151) + "\nkeepalive = 75\n",
        "import os\nbind = '127.0.0.1:8000'\nenv = os.environ.get('E')\nif env == '0':\n    workers = 1\n"
        + "".join(f"elif env == '{n}':\n    workers = {n}\n" for n in range(1, 300))
        + "keepalive = 75\n",
    ],
    ids=["400-literals", "151-term-sum", "300-branch-elif"],
)
def test_long_flat_python_is_read(tmp_path: Path, text: str) -> None:
    compile(text, "gunicorn.conf.py", "exec")  # python3 compiles it, and gunicorn reads it
    (tmp_path / "gunicorn.conf.py").write_text(text)
    result = tlslint(tmp_path, "--no-cache", "gunicorn.conf.py")
    assert_clean_exit(result, 0)
    assert "All checks passed" in result.stdout, result.stdout


# -- forked helpers die with their parent ---------------------------------------------------------
HELPER_PARENT = """
import sys, time
from tlslint import forks

def produce():
    time.sleep(600)  # a helper at work, with nothing written yet (the checks' helper writes once)
    yield b"late"

helper = forks.Helper.start(produce)
print(helper.pid if helper else 0, flush=True)
time.sleep(600)
"""


def gone(pid: int) -> bool:
    """Ended: no process, or a zombie its new parent has not reaped yet."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="helpers are forked on Linux only")
def test_a_helper_dies_when_its_parent_is_killed() -> None:
    """4 of 20 SIGKILLs of a run left a helper alive for up to 3 s; this one would work 600 s."""
    parent = subprocess.Popen([sys.executable, "-c", HELPER_PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    helper = int(parent.stdout.readline())
    assert helper > 0 and not gone(helper)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 30
    while not gone(helper) and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        assert gone(helper), "the helper outlived its parent"
    finally:
        if not gone(helper):
            os.kill(helper, signal.SIGKILL)


def test_every_test_docs_reliability_names_exists() -> None:
    """docs/reliability.md lists each guarantee next to its tests: they must exist."""
    root = Path(__file__).resolve().parent.parent
    named = re.findall(r"`(tests/\w+\.py)::(\w+)`", (root / "docs" / "reliability.md").read_text())
    assert len(named) > 30
    for module, test in named:
        assert re.search(rf"^def {test}\(", (root / module).read_text(), re.M), f"{module}::{test}"
