"""Malformed input: a located message and exit 2, never a traceback, nothing written.

Each case runs the real command line (``python -m tlslint check PATH``) in a
temporary directory; the text format prints ``path:line:col: CODE [error] ...``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from sandbox import sandbox

from tlslint.sources.nginx.parser import MAX_DEPTH, ParseError, parse_file
from tlslint.sources.text import SourceError, read_source

DEEP = MAX_DEPTH + 1


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TLSLINT_DEBUG")}
    env["NO_COLOR"] = "1"
    return env


def tlslint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlslint", *args],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )


def snapshot(directory: Path) -> dict[str, tuple[int, int, str]]:
    """Every file under ``directory``: size, mtime and content hash.

    tlslint's own cache (.tlslint_cache/, like ruff's) is not a user file.
    """
    state = {}
    for path in sorted(directory.rglob("*")):
        if ".tlslint_cache" in path.relative_to(directory).parts:
            continue
        if path.is_file() and os.access(path, os.R_OK):
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            stat = path.stat()
            state[path.relative_to(directory).as_posix()] = (stat.st_size, stat.st_mtime_ns, digest)
        else:
            state[path.relative_to(directory).as_posix()] = (-1, -1, "dir or unreadable")
    return state


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes]
    target: str
    location: str  # "path:line:col: CODE" as printed
    message: str  # a fragment of the message


CASES = [
    Case(
        "unclosed-block",
        {"open.conf": "http {\n}\nserver {\n    listen 443 ssl;\n"},
        "open.conf",
        "open.conf:3:1: NGX001",
        '"server" block opened here is never closed',
    ),
    Case(
        "unclosed-outer-block",
        {"outer.conf": "http {\n    server {\n        listen 443 ssl;\n    }\n"},
        "outer.conf",
        "outer.conf:1:1: NGX001",
        '"http" block opened here is never closed',
    ),
    Case(
        "extra-closing-brace",
        {"close.conf": "http {\n    ssl_session_timeout 1d;\n}\n}\n"},
        "close.conf",
        "close.conf:4:1: NGX001",
        'unexpected "}"',
    ),
    Case(
        "unterminated-quote",
        {"quote.conf": 'server {\n    listen 443 ssl;\n    server_name "example.com;\n}\n'},
        "quote.conf",
        "quote.conf:3:1: NGX001",
        "unterminated quoted string",
    ),
    Case(
        "missing-semicolon-before-server",
        {
            "semi.conf": "http {\n    ssl_session_timeout 1d\n    server {\n"
            "        listen 443 ssl;\n    }\n}\n"
        },
        "semi.conf",
        "semi.conf:2:1: NGX001",
        '"ssl_session_timeout" directive is not terminated by ";"',
    ),
    Case(
        # http2 is missing from crossplane's directive table: caught by the block name
        "missing-semicolon-unknown-directive",
        {"semi2.conf": "http {\n    http2 on\n    server {\n        listen 443 ssl;\n    }\n}\n"},
        "semi2.conf",
        "semi2.conf:2:1: NGX001",
        '"http2" directive is not terminated by ";" before "server" on line 3',
    ),
    Case(
        "missing-semicolon-before-location",
        {"semi3.conf": "server {\n    ssl_session_tickets off\n    location / {\n    }\n}\n"},
        "semi3.conf",
        "semi3.conf:2:1: NGX001",
        '"ssl_session_tickets" directive is not terminated by ";"',
    ),
    Case(
        "stray-semicolon",
        {"stray.conf": "http {\n    ;\n}\n"},
        "stray.conf",
        "stray.conf:2:1: NGX001",
        'unexpected ";"',
    ),
    Case(
        "include-self",
        {"self.conf": "http {\n    include self.conf;\n}\n"},
        "self.conf",
        "self.conf:2:5: NGX003",
        "include loop refused: self.conf -> self.conf",
    ),
    Case(
        "include-mutual",
        {
            "nginx.conf": "events {}\nhttp {\n    include site.conf;\n}\n",
            "site.conf": "server {\n    include nginx.conf;\n}\n",
        },
        "nginx.conf",
        "site.conf:2:5: NGX003",
        "include loop refused: nginx.conf -> site.conf -> nginx.conf",
    ),
    Case(
        "include-missing",
        {"miss.conf": "http {\n    ssl_session_cache shared:SSL:10m;\n    include tls/params.conf;\n}\n"},
        "miss.conf",
        "miss.conf:3:5: NGX002",
        'include file "tls/params.conf" not found',
    ),
    Case(
        "include-directory",
        {"incdir.conf": "http {\n  include x.conf;\n}\n", "x.conf/keep.txt": "not nginx\n"},
        "incdir.conf",
        "incdir.conf:2:3: NGX002",
        'include "x.conf" names a directory',
    ),
    Case(
        "binary",
        {"bin.conf": b"http {\n    \x00\x01\x02\n}\n"},
        "bin.conf",
        "bin.conf:2:1: NGX001",
        "binary file (NUL byte)",
    ),
    Case(
        "nested-too-deep",
        {"deep.conf": "http {\n" + "location / {\n" * DEEP + "}\n" * (DEEP + 1)},
        "deep.conf",
        f"deep.conf:{MAX_DEPTH + 1}:1: NGX001",
        f"blocks nested deeper than {MAX_DEPTH} levels",
    ),
]


def write(directory: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else content.encode("utf-8")
        path.write_bytes(data)


def assert_clean_failure(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream
        assert "internal error" not in stream


@dataclass
class Outcome:
    result: subprocess.CompletedProcess[str]
    before: dict[str, tuple[int, int, str]]
    after: dict[str, tuple[int, int, str]]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Every case run once, in parallel: each process is ~0.3 s of start-up."""
    directories = {}
    for case in CASES:
        directory = tmp_path_factory.mktemp(case.id)
        write(directory, case.files)
        directories[case.id] = (directory, snapshot(directory))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {
            case.id: pool.submit(tlslint, directories[case.id][0], "check", case.target) for case in CASES
        }
        results = {name: future.result() for name, future in futures.items()}
    return {
        name: Outcome(results[name], before, snapshot(directory))
        for name, (directory, before) in directories.items()
    }


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_cli_reports_location_and_exits_2(outcomes: dict[str, Outcome], case: Case) -> None:
    outcome = outcomes[case.id]
    assert_clean_failure(outcome.result)
    lines = outcome.result.stdout.splitlines()
    header = next((line for line in lines if line.startswith(case.location)), None)
    assert header is not None, outcome.result.stdout
    assert "[error]" in header
    assert case.message in header
    assert outcome.after == outcome.before


def test_fix_writes_nothing_when_files_do_not_load(tmp_path: Path) -> None:
    """All cases at once, walked as a directory, with --fix: every error reported, no byte written."""
    for case in CASES:
        write(tmp_path / case.id, case.files)
    before = snapshot(tmp_path)
    result = tlslint(tmp_path, "check", "--fix", ".")
    assert_clean_failure(result)
    for case in CASES:
        assert f"{case.id}/{case.location}" in result.stdout, case.id
    assert snapshot(tmp_path) == before


def test_fix_leaves_an_unparseable_file_alone(tmp_path: Path) -> None:
    # Parsed, this would be NGX102/NGX103 material with safe fixes.
    write(tmp_path, {"broken.conf": "http {\n    ssl_session_cache builtin:1000\n    server {\n    }\n}\n"})
    before = snapshot(tmp_path)
    result = tlslint(tmp_path, "check", "--fix", "broken.conf")
    assert_clean_failure(result)
    assert "broken.conf:2:1: NGX001" in result.stdout
    assert snapshot(tmp_path) == before


def test_file_above_size_limit_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "big.conf"
    with open(big, "wb") as handle:
        handle.truncate(50 * 2**20)  # sparse where the filesystem allows: instant to create
    before = snapshot(tmp_path)
    started = time.monotonic()
    result = tlslint(tmp_path, "check", "big.conf")
    elapsed = time.monotonic() - started
    assert_clean_failure(result)
    # No line: the file as a whole. Read, it would be reported as binary (all NUL).
    header = result.stdout.splitlines()[0]
    assert header.startswith("big.conf: NGX001 [error] file is 50.0 MiB, above the 16 MiB limit")
    assert "not read" in header
    assert "binary" not in result.stdout
    assert elapsed < 10
    assert snapshot(tmp_path) == before


def test_size_limit_comes_from_settings(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".tlslint.toml": "max-file-size = 1024\n",
            "a.conf": "http {\n" + "    # padding\n" * 200 + "}\n",
        },
    )
    result = tlslint(tmp_path, "check", "a.conf")
    assert_clean_failure(result)
    assert "a.conf: NGX001 [error] file is 2.7 KiB, above the 1 KiB limit (max-file-size)" in result.stdout


def test_unreadable_file() -> None:
    with sandbox() as box:  # as a user without CAP_DAC_OVERRIDE: root reads a chmod 000 file
        box.write({"secret.conf": "http {\n}\n"})
        (box.root / "secret.conf").chmod(0)
        result = box.tlslint("check", "secret.conf")
        assert_clean_failure(result)
        assert "secret.conf: NGX001 [error] cannot read: Permission denied" in result.stdout


def test_directory_named_like_a_config_is_walked_not_read(tmp_path: Path) -> None:
    write(tmp_path, {"x.conf/nginx.conf": "http {\n    ssl_session_cache shared:SSL:1m;\n}\n"})
    result = tlslint(tmp_path, "check", "x.conf")
    assert "Traceback" not in result.stdout + result.stderr
    assert "is a directory" not in result.stdout
    assert "x.conf/nginx.conf:2:5: NGX103" in result.stdout
    assert result.returncode == 1


# --- the parser's own messages: "path:line: message" -------------------------


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("http {\n}\n}\n", 3, 'unexpected "}"'),
        ("a {\n  b {\n}\n", 1, '"a" block opened here is never closed (unexpected end of file)'),
        ("a b;\nc 'd;\n", 2, "unterminated quoted string (opening ' here)"),
        ("a b\n", 1, '"a" directive is not terminated by ";"'),
        ("a {\n  b c\n}\n", 2, '"b" directive is not terminated by ";"'),
        ("{\n}\n", 1, 'unexpected "{"'),
        ("a\\", 1, "backslash at the end of the file"),
    ],
)
def test_parse_error_is_path_line_message(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "f.conf"
    path.write_text(text)
    with pytest.raises(ParseError) as raised:
        parse_file(path, 2**20)
    error = raised.value
    assert (error.path, error.line, error.message) == (path, line, message)
    assert str(error) == f"{path}:{line}: {message}"


def test_source_errors_without_a_line_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "big.conf"
    path.write_bytes(b"#" * 2048)
    with pytest.raises(SourceError) as raised:
        read_source(path, 1024)
    assert str(raised.value).startswith(f"{path}: file is ")
    assert raised.value.line == 0


# --- a file whose includer does not parse ----------------------------------------

BROKEN_INCLUDER = {
    "nginx.conf": (
        "events {}\nhttp {\n    ssl_session_cache shared:SSL:50m;\n    ssl_session_tickets off;\n"
        "    include sites/*.conf;\n    server_tokens off\n}\n"
    ),
    "sites/a.conf": (
        "server {\n    listen 443 ssl default_server;\n    ssl_certificate /etc/ssl/a.pem;\n"
        "    ssl_certificate_key /etc/ssl/a.key;\n}\n"
    ),
}


@pytest.mark.parametrize("target", [".", "sites/a.conf", "sites"])
def test_no_fix_below_an_includer_that_does_not_parse(tmp_path: Path, target: str) -> None:
    """The site is checked as if nothing included it: its fixes (a session cache added as
    shared:SSL:10m) are withheld, and say why. Written, that cache made nginx refuse the
    tree once the includer's ";" was mended (the includer declares SSL at 50m)."""
    write(tmp_path, BROKEN_INCLUDER)
    before = snapshot(tmp_path)
    result = tlslint(tmp_path, "check", "--fix", "--unsafe-fixes", target)
    assert "Traceback" not in result.stderr, result.stderr
    assert snapshot(tmp_path) == before, result.stdout
    assert "sites/a.conf:1:1: NGX101" in result.stdout
    assert "no automatic fix: nginx.conf, which includes this file, does not parse (NGX001)" in result.stdout
    if target == ".":
        assert_clean_failure(result)
        assert "nginx.conf:6:1: NGX001" in result.stdout


def test_why_the_fix_is_withheld_with_the_real_nginx() -> None:
    from nginx_harness import MAIN, nginx_t

    mended = BROKEN_INCLUDER["nginx.conf"].replace("server_tokens off\n", "server_tokens off;\n")
    site = BROKEN_INCLUDER["sites/a.conf"]
    assert not nginx_t(BROKEN_INCLUDER["nginx.conf"], kind=MAIN, files={"sites/a.conf": site}).ok
    assert nginx_t(mended, kind=MAIN, files={"sites/a.conf": site}).ok
    fixed = site.replace("}\n", "    ssl_session_cache shared:SSL:10m;\n}\n")
    refused = nginx_t(mended, kind=MAIN, files={"sites/a.conf": fixed})
    assert not refused.ok
    conflict = "conflicts with already declared size"
    assert any(conflict in error for error in refused.errors), refused.describe()


SNIPPET_BELOW_BROKEN = {
    **BROKEN_INCLUDER,
    "sites/a.conf": BROKEN_INCLUDER["sites/a.conf"].replace("}\n", "    include snippets/tls.conf;\n}\n"),
    "snippets/tls.conf": "ssl_protocols TLSv1.2 TLSv1.3;\n",
}


def test_includes_below_an_includer_that_does_not_parse_resolve_against_its_prefix(tmp_path: Path) -> None:
    """nginx resolves the site's ``include snippets/tls.conf`` against the prefix, the
    directory of nginx.conf (which does not parse), where the snippet is: it is read as
    part of the site, not reported missing (looked for in sites/), nor checked alone
    (NGX101 on a file of one ssl_protocols line). Its fixes are withheld with the site's."""
    write(tmp_path, SNIPPET_BELOW_BROKEN)
    before = snapshot(tmp_path)
    result = tlslint(tmp_path, "check", "--fix", "--unsafe-fixes", "--select", "NGX0,NGX1", ".")
    assert_clean_failure(result)
    assert snapshot(tmp_path) == before, result.stdout
    assert "nginx.conf:6:1: NGX001" in result.stdout
    assert "NGX002" not in result.stdout
    assert "snippets/tls.conf:" not in result.stdout
    assert "sites/a.conf:1:1: NGX101" in result.stdout  # checked as if nothing included it


def test_the_snippet_below_a_broken_includer_is_found_by_the_real_nginx() -> None:
    from nginx_harness import MAIN, nginx_t

    files = {k: v for k, v in SNIPPET_BELOW_BROKEN.items() if k != "nginx.conf"}
    mended = BROKEN_INCLUDER["nginx.conf"].replace("server_tokens off\n", "server_tokens off;\n")
    assert nginx_t(mended, kind=MAIN, files=files).ok  # snippets/tls.conf, from the prefix
