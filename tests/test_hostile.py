"""Hostile input: a clear message, never a hang, a traceback or an unbounded read.

Every case builds its input in a temporary directory. Each gives a finding with a
location (NGX001/NGX002/NGX003, APG201) or an exit-2 message naming the path, and
``--fix`` writes nothing it should not (bytes and mtimes compared).
tests/test_parser_errors.py covers the ordinary malformed files (unclosed blocks and
quotes, a loop of one or two files, a binary file, a 50 MiB file, 101 nested
blocks); this module covers what an attacker or a broken checkout can put in a
tree. Time limits are generous bounds on what took seconds to minutes (or forever)
before the fix that each names.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from helpers import settings_for

from tlslint.discovery import discover, missing_reason
from tlslint.engine import RunResult, run
from tlslint.findings import Severity
from tlslint.fixing import apply_fixes
from tlslint.settings import load_settings
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.nginx.parser import MAX_DEPTH, parse_text

GIB = 2**30


# -- helpers ------------------------------------------------------------------------
def write(directory: Path, files: Mapping[str, str | bytes]) -> None:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def check(base: Path, *targets: Path, mapping: dict[str, Any] | None = None) -> RunResult:
    return run(list(targets) or [base], settings_for(base, mapping))


def located(result: RunResult, base: Path) -> list[tuple[str, str, int, str]]:
    """(path relative to ``base``, code, line, message) of every finding."""
    return [
        (os.path.relpath(f.location.path, base), f.code, f.location.line, f.message) for f in result.findings
    ]


@contextmanager
def within(seconds: float) -> Iterator[None]:
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.1f} s (bound {seconds} s)"


def snapshot(directory: Path) -> dict[str, tuple[int, int, int, str]]:
    """Every entry under ``directory`` (symlinks not followed, nothing but small regular
    files opened): mode, size, mtime and a hash of the content."""
    state = {}
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != ".tlslint_cache"]
        for name in [*dirs, *files]:
            path = Path(root, name)
            info = os.lstat(path)
            digest = ""
            if stat.S_ISREG(info.st_mode) and info.st_size <= 2**20 and os.access(path, os.R_OK):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            key = path.relative_to(directory).as_posix()
            state[key] = (info.st_mode, info.st_size, info.st_mtime_ns, digest)
    return state


def cli(cwd: Path, *args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TLSLINT_DEBUG")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [*prefix, sys.executable, "-m", "tlslint", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # a hang fails the test instead of the run
    )


def assert_no_crash(result: subprocess.CompletedProcess[str]) -> None:
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream, stream
        assert "internal error" not in stream, stream


def fifo(path: Path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)  # sparse where the filesystem allows: instant, no disk used
    return path


SESSION = "http {\n    ssl_session_cache builtin:1000;\n    server {\n        listen 443 ssl;\n    }\n}\n"


# -- size, depth, loops ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "named", "code"),
    [("big.conf", True, "NGX001"), ("big.conf", False, "NGX001"), ("big.yaml", True, "APG201")],
    ids=["nginx-named", "nginx-walked", "yaml-named"],
)
def test_gigabyte_sparse_file_is_refused_by_size_unread(
    tmp_path: Path, name: str, named: bool, code: str
) -> None:
    big = sparse(tmp_path / name, GIB)
    try:
        with within(2):
            result = check(tmp_path, big if named else tmp_path)
        ((path, found, line, message),) = located(result, tmp_path)
        assert (path, found, line) == (name, code, 0)
        assert message == "file is 1024.0 MiB, above the 16 MiB limit (max-file-size); not read"
        assert result.exit_code(Severity.INFO) == 2
    finally:
        big.unlink()


def test_ten_thousand_nested_blocks(tmp_path: Path) -> None:
    text = "http {\n" + "location / {\n" * 10_000 + "}\n" * 10_001
    write(tmp_path, {"deep.conf": text})
    with within(3):
        result = check(tmp_path)
    assert located(result, tmp_path) == [
        ("deep.conf", "NGX001", MAX_DEPTH + 1, f"blocks nested deeper than {MAX_DEPTH} levels")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "virtualhosts:\n" + "".join("  " * level + "- \n" for level in range(1, 3000)),
        "virtualhosts:\n  " + "- " * 10_000 + "x\n",
        "virtualhosts: " + "[" * 10_000 + "]" * 10_000 + "\n",
    ],
    ids=["block", "compact", "flow"],
)
def test_deeply_nested_yaml_is_a_finding_with_a_line(tmp_path: Path, text: str) -> None:
    write(tmp_path, {"o.yaml": text})
    with within(5):
        result = check(tmp_path)
    (finding,) = result.findings
    assert (finding.code, finding.anchor) == ("APG201", "unparsed")
    assert finding.location.line >= 1 and "nest" in finding.message


def test_blocks_nested_through_includes_are_bounded(tmp_path: Path) -> None:
    """Each file nests 90 blocks, then includes the next: a RecursionError before."""
    files = {"nginx.conf": "events {}\nhttp {\n    server {\n        include f0.conf;\n    }\n}\n"}
    for index in range(8):
        include = f"include f{index + 1}.conf;\n" if index < 7 else "return 204;\n"
        files[f"f{index}.conf"] = "location / {\n" * 90 + include + "}\n" * 90
    write(tmp_path, files)
    result = check(tmp_path, tmp_path / "nginx.conf")
    assert located(result, tmp_path) == [
        ("f0.conf", "NGX003", 91, "include refused: blocks nest more than 100 levels deep with f1.conf")
    ]
    assert result.exit_code(Severity.INFO) == 2


def test_long_include_chain_is_bounded(tmp_path: Path) -> None:
    files = {f"f{i}.conf": f"include f{i + 1}.conf;\n" for i in range(200)}
    files["nginx.conf"] = "events {}\nhttp {\n    include f0.conf;\n}\n"
    write(tmp_path, files)
    result = check(tmp_path, tmp_path / "nginx.conf")
    ((path, code, line, message),) = located(result, tmp_path)
    assert (code, line) == ("NGX003", 1) and path == "f48.conf"
    assert message == "include refused: files included more than 50 levels deep (a loop?)"


def test_every_file_including_all_of_them_is_not_factorial(tmp_path: Path) -> None:
    """conf.d/*.conf from each conf.d file: 8 files took 40 s, 9 took minutes."""
    files = {"nginx.conf": "events {}\nhttp {\n    include conf.d/*.conf;\n}\n"}
    for index in range(60):
        files[f"conf.d/s{index:02}.conf"] = f"include conf.d/*.conf;\nserver {{ listen {8000 + index}; }}\n"
    write(tmp_path, files)
    with within(5):
        result = check(tmp_path, tmp_path / "nginx.conf")
    found = located(result, tmp_path)
    assert {code for _, code, _, _ in found} == {"NGX003"}
    assert len(found) <= 60  # one per include directive at most
    assert found[0] == ("conf.d/s00.conf", "NGX003", 1, "include loop refused: s00.conf -> s00.conf")


def test_include_repeated_exponentially_is_bounded(tmp_path: Path) -> None:
    """Each file includes the next twice: 2**30 splices."""
    files = {"nginx.conf": "events {}\nhttp {\n    server {\n        include f0.conf;\n    }\n}\n"}
    for index in range(30):
        files[f"f{index}.conf"] = f"include f{index + 1}.conf;\n" * 2 + "add_header X-A b;\n"
    files["f30.conf"] = "add_header X-B c;\n"
    write(tmp_path, files)
    with within(15):
        result = check(tmp_path, tmp_path / "nginx.conf")
    refused = [f for f in result.findings if f.code == "NGX003"]
    assert refused and "expands to more than 100,000 included files" in refused[0].message


def test_glob_include_of_thousands_of_files(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"nginx.conf": "events {}\nhttp {\n    include sites/*.conf;\n}\n"}
    for index in range(2000):
        files[f"sites/s{index:04}.conf"] = f"server {{\n    listen {10000 + index};\n}}\n"
    write(tmp_path, files)
    with within(8):
        result = check(tmp_path, tmp_path / "nginx.conf")
    assert not [f for f in result.findings if f.code.startswith("NGX00")]
    assert len(result.files) == 2001
    assert len(result.workspace.nginx[0].servers) == 2000


def test_include_glob_matching_a_directory_named_like_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """nginx 1.22.1: `pread() ".../conf.d/x.conf" failed (21: Is a directory)`, test failed."""
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        {
            "nginx.conf": "events {}\nhttp {\n    include conf.d/*.conf;\n}\n",
            "conf.d/a.conf": "server { listen 80; }\n",
            "conf.d/x.conf/nginx.conf": "server { listen 81; }\n",
        },
    )
    result = check(tmp_path, tmp_path / "nginx.conf")
    assert located(result, tmp_path) == [
        ("nginx.conf", "NGX002", 3,
         'include "conf.d/*.conf" matches conf.d/x.conf, a directory: nginx cannot read it (Is a directory)'),
    ]  # fmt: skip
    assert result.exit_code(Severity.INFO) == 2
    assert sorted(p.name for p in result.files) == ["a.conf", "nginx.conf"]


# -- links, pipes, permissions --------------------------------------------------------
def test_symlink_loop_named_walked_and_included(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # paths in messages are shown relative to it
    (tmp_path / "a.conf").symlink_to("b.conf")
    (tmp_path / "b.conf").symlink_to("a.conf")
    write(
        tmp_path,
        {"main/nginx.conf": "events {}\nhttp {\n    include ../a.conf;\n    include loop.conf;\n}\n"},
    )
    (tmp_path / "main" / "loop.conf").symlink_to("loop.conf")
    named = check(tmp_path, tmp_path / "a.conf", tmp_path / "main" / "nginx.conf")
    assert named.missing_paths == [tmp_path / "a.conf"]
    assert missing_reason(tmp_path / "a.conf") == (
        "is a symlink loop (too many levels of symbolic links); not read"
    )
    assert located(named, tmp_path) == [
        ("a.conf", "SRC001", 0, "is a symlink loop (too many levels of symbolic links); not read"),
        ("main/nginx.conf", "NGX002", 3, 'include "../a.conf" is outside the configuration root (main); '
         "not read: map it with nginx.roots to allow it"),
        ("main/nginx.conf", "NGX002", 4,
         'include "loop.conf" is a symlink loop (too many levels of symbolic links); not read'),
    ]  # fmt: skip
    assert named.exit_code(Severity.INFO) == 2
    walked = check(tmp_path, tmp_path)
    assert walked.missing_paths == [] and [p.name for p in walked.files] == ["nginx.conf"]


def test_directory_symlink_loop_while_walking(tmp_path: Path) -> None:
    write(tmp_path, {"site/nginx.conf": SESSION})
    (tmp_path / "site" / "up").symlink_to("..", target_is_directory=True)
    (tmp_path / "site" / "self").symlink_to(".", target_is_directory=True)
    (tmp_path / "site" / "a").symlink_to("b", target_is_directory=True)
    (tmp_path / "site" / "b").symlink_to("a", target_is_directory=True)
    for target in (tmp_path, tmp_path / "site" / "up", tmp_path / "site" / "self"):
        found = discover([target], base=tmp_path)
        assert [p.name for p in found.nginx] == ["nginx.conf"], target
        assert found.missing == []


def test_dangling_symlink_named_walked_and_included(tmp_path: Path) -> None:
    (tmp_path / "gone.conf").symlink_to("nowhere.conf")
    write(tmp_path, {"nginx.conf": "events {}\nhttp {\n    include gone.conf;\n}\n"})
    result = check(tmp_path, tmp_path / "gone.conf", tmp_path / "nginx.conf")
    assert result.missing_paths == [tmp_path / "gone.conf"]
    assert missing_reason(tmp_path / "gone.conf") == (
        "is a dangling symlink (to nowhere.conf, which does not exist); not read"
    )
    assert located(result, tmp_path) == [
        ("gone.conf", "SRC001", 0, "is a dangling symlink (to nowhere.conf, which does not exist); not read"),
        ("nginx.conf", "NGX002", 3,
         'include "gone.conf" is a dangling symlink (to nowhere.conf, which does not exist); not read'),
    ]  # fmt: skip
    walked = check(tmp_path, tmp_path)
    assert [p.name for p in walked.files] == ["nginx.conf"]
    assert [(f.code, f.severity) for f in walked.findings if f.location.path.name == "gone.conf"] == [
        ("SRC001", Severity.WARNING)  # found by the walk: a warning
    ]


def test_fifo_named_walked_and_included_is_never_opened(tmp_path: Path) -> None:
    """Opening a FIFO blocks until a writer comes: the real CLI, under a timeout."""
    fifo(tmp_path / "x.conf")
    fifo(tmp_path / "walked" / "y.conf")
    fifo(tmp_path / "walked" / "o.yaml")
    write(
        tmp_path,
        {
            "walked/nginx.conf": "events {}\nhttp {\n    include y.conf;\n}\n",
            "walked/sites-enabled/.keep": "",
        },
    )
    fifo(tmp_path / "walked" / "sites-enabled" / "default")
    fifo(tmp_path / "z.yaml")
    result = cli(tmp_path, "check", "x.conf", "z.yaml", "walked")
    assert_no_crash(result)
    assert result.returncode == 2
    assert "tlslint: x.conf: is a FIFO (named pipe), not a regular file; not read" in result.stderr
    assert "tlslint: z.yaml: is a FIFO (named pipe), not a regular file; not read" in result.stderr
    assert (
        'walked/nginx.conf:3:5: NGX002 [error] include "y.conf" is a FIFO (named pipe), '
        "not a regular file; not read" in result.stdout
    )


def test_a_fifo_named_and_walked_is_one_error(tmp_path: Path) -> None:
    """Named, it is an SRC001 error; the walk of its directory meets it again and does not
    add the warning beside it."""
    fifo(tmp_path / "d" / "a.conf")
    write(tmp_path, {"d/nginx.conf": "events {}\nhttp {}\n"})
    result = cli(tmp_path, "check", "d/a.conf", "d")
    assert_no_crash(result)
    assert result.returncode == 2
    assert result.stdout.count("d/a.conf: SRC001") == 1 and "SRC001 [error]" in result.stdout
    walked = cli(tmp_path, "check", "d")  # walked only: the warning
    assert walked.stdout.count("d/a.conf: SRC001 [warning]") == 1


def _without_privileges() -> tuple[str, ...] | None:
    """A command prefix under which file permissions hold, or None.

    As root they do not: when ``setpriv`` can drop the capabilities that bypass
    them, the CLI runs under it; otherwise the tests that need them skip.
    """
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = (setpriv, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--")
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
    return prefix if probe.returncode == 0 else None


def test_unreadable_files_and_directories(tmp_path: Path) -> None:
    prefix = _without_privileges()
    if prefix is None:
        pytest.skip("running as root without setpriv: permissions are not enforced")
    write(
        tmp_path,
        {
            "locked/x.conf": SESSION,
            "closed/y.conf": SESSION,
            "secret.conf": SESSION,
            "inc.conf": "http {\n    include locked/x.conf;\n    include secret.conf;\n}\n",
        },
    )
    (tmp_path / "secret.conf").chmod(0)
    (tmp_path / "locked").chmod(0o600)  # listed, not searchable
    (tmp_path / "closed").chmod(0)
    try:
        before = snapshot(tmp_path)
        named = cli(tmp_path, "check", "--fix", "--no-cache", "locked/x.conf", "inc.conf", prefix=prefix)
        walked = cli(tmp_path, "check", "--fix", "--no-cache", ".", prefix=prefix)
        after = snapshot(tmp_path)
    finally:
        for name, mode in (("secret.conf", 0o644), ("locked", 0o755), ("closed", 0o755)):
            (tmp_path / name).chmod(mode)
    for result in (named, walked):
        assert_no_crash(result)
        assert result.returncode == 2
        assert "secret.conf: NGX001 [error] cannot read: Permission denied" in result.stdout
    assert "tlslint: locked/x.conf: cannot be read: Permission denied" in named.stderr
    assert 'inc.conf:2:5: NGX002 [error] include "locked/x.conf" cannot be read: Permission denied' in (
        named.stdout
    )
    assert "locked/x.conf: NGX001 [error] cannot be read: Permission denied" in walked.stdout
    assert after == before


# -- outside the configuration root ------------------------------------------------------
OUTSIDE = (
    'include "{pattern}" is outside the configuration root ({root}); not read: '
    "map it with nginx.roots to allow it"
)


@pytest.mark.parametrize(
    "pattern",
    [
        "../shared/tls.conf",
        "../shared/*.conf",
        "conf.d/../../shared/tls.conf",
        "/etc/nginx/../shared/tls.conf",
    ],
)
def test_include_climbing_out_of_the_root_is_refused_unread(
    tmp_path: Path, pattern: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path,
        {
            "conf/nginx.conf": f"events {{}}\nhttp {{\n    include {pattern};\n}}\n",
            "conf/conf.d/.keep": "",
            "shared/tls.conf": SESSION.replace("http {", "server {").replace("    server {\n", ""),
        },
    )
    result = check(tmp_path / "conf", tmp_path / "conf" / "nginx.conf")
    assert located(result, tmp_path) == [
        ("conf/nginx.conf", "NGX002", 3, OUTSIDE.format(pattern=pattern, root="conf"))
    ]
    assert [p.name for p in result.files] == ["nginx.conf"]  # the file outside was not read
    assert result.exit_code(Severity.INFO) == 2


def test_include_climbing_into_a_mapped_root_is_followed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".tlslint.toml": '[nginx]\nroots = { "/etc/shared" = "shared" }\n',
            "conf/nginx.conf": (
                "events {}\nhttp {\n    include ../shared/tls.conf;\n    include ../other/x.conf;\n}\n"
            ),
            "shared/tls.conf": "ssl_session_cache shared:SSL:10m;\n",
            "other/x.conf": "ssl_session_timeout 1h;\n",
        },
    )
    result = run([tmp_path / "conf" / "nginx.conf"], load_settings(tmp_path))
    assert [(path, code, line) for path, code, line, _ in located(result, tmp_path)] == [
        ("conf/nginx.conf", "NGX002", 4)
    ]
    assert sorted(p.name for p in result.files) == ["nginx.conf", "tls.conf"]


def test_climbing_within_the_root_and_symlinks_out_of_it_are_followed(tmp_path: Path) -> None:
    """Only a ".." that leaves the root is refused; a symlink is the repository's own choice."""
    write(
        tmp_path,
        {
            "conf/nginx.conf": (
                "events {}\nhttp {\n    include conf.d/../tls.conf;\n    include linked/x.conf;\n}\n"
            ),
            "conf/tls.conf": "ssl_session_cache shared:SSL:10m;\n",
            "elsewhere/x.conf": "ssl_session_timeout 1h;\n",
        },
    )
    (tmp_path / "conf" / "conf.d").mkdir()
    (tmp_path / "conf" / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    result = check(tmp_path, tmp_path / "conf" / "nginx.conf")
    assert not [f for f in result.findings if f.code.startswith("NGX00")]
    assert sorted(p.name for p in result.files) == ["nginx.conf", "tls.conf", "x.conf"]


def test_fix_never_writes_outside_the_root(tmp_path: Path) -> None:
    """The file outside has a fixable finding: unread, it is never fixed."""
    write(
        tmp_path,
        {
            "conf/nginx.conf": "events {}\nhttp {\n    include ../outside.conf;\n"
            "    ssl_session_timeout 1m;\n    server {\n        listen 443 ssl;\n    }\n}\n",
            "outside.conf": "ssl_session_cache builtin:1000;\n",
        },
    )
    before = snapshot(tmp_path)
    configured = settings_for(tmp_path / "conf", {"select": ["NGX1"]})
    outcome = apply_fixes(run([tmp_path / "conf"], configured), configured, unsafe=True, write=True)
    after = snapshot(tmp_path)
    assert after["outside.conf"] == before["outside.conf"]
    assert outcome.written == [(tmp_path / "conf" / "nginx.conf").resolve()]  # the includer itself


# -- bytes kept -------------------------------------------------------------------------
def test_latin1_crlf_and_bom_survive_a_fix_byte_for_byte(tmp_path: Path) -> None:
    """Undecodable bytes in comments and values, CRLF, in an includer and an included
    file that both get a fix: every other byte stays as it was. (A byte-order mark is no
    longer kept: nginx does not load such a file, and --fix never writes it, NGX010.)"""
    main = (
        "# r\xe9sum\xe9 of the TLS settings\n"
        "http {\n"
        "    include tls.conf;  # caf\xe9\n"
        "    ssl_session_timeout 1m; # \xe9t\xe9\n"
        "    server {\n"
        "        listen 443 ssl;\n"
        '        server_name "na\xefve.example";\n'
        "    }\n"
        "}\n"
    )
    snippet = "# \xbfqu\xe9?\nssl_session_cache shared:SSL:1m; # \xe0 voir\n"

    def encoded(text: str, bom: bool) -> bytes:
        return (b"\xef\xbb\xbf" if bom else b"") + text.replace("\n", "\r\n").encode("latin-1")

    write(tmp_path, {"nginx.conf": encoded(main, False), "tls.conf": encoded(snippet, False)})
    configured = settings_for(tmp_path, {"select": ["NGX1"]})
    outcome = apply_fixes(run([tmp_path], configured), configured, unsafe=True, write=True)
    assert len(outcome.written) == 2, outcome.messages
    assert (tmp_path / "nginx.conf").read_bytes() == encoded(main.replace("timeout 1m", "timeout 5m"), False)
    assert (tmp_path / "tls.conf").read_bytes() == encoded(snippet.replace("SSL:1m", "SSL:10m"), False)
    again = apply_fixes(run([tmp_path], configured), configured, unsafe=True, write=True)
    assert again.written == [] and again.diff == ""


def test_nul_bytes_in_an_included_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "nginx.conf": "events {}\nhttp {\n    include bin.conf;\n    ssl_session_cache builtin;\n}\n",
            "bin.conf": b"# ok\nssl_session_timeout 1m;\n\x00\x01\x02\n",
            "nul-only.conf": b"\x00" * 4096,
            "wide.conf": "ssl_session_timeout 1m;\n".encode("utf-16"),  # with its byte-order mark
        },
    )
    before = snapshot(tmp_path)
    configured = settings_for(tmp_path)
    outcome = apply_fixes(run([tmp_path], configured), configured, unsafe=True, write=True)
    assert [row for row in located(outcome.result, tmp_path) if row[1] == "NGX001"] == [
        ("bin.conf", "NGX001", 3, "binary file (NUL byte); not a configuration file"),
        ("nul-only.conf", "NGX001", 1, "binary file (NUL byte); not a configuration file"),
        (
            "wide.conf", "NGX001", 1,
            "UTF-16 text (a byte-order mark); tlslint reads UTF-8 only: convert it "
            "(iconv -f UTF-16 -t UTF-8) to have it checked",
        ),
    ]  # fmt: skip
    after = snapshot(tmp_path)
    assert {name for name in before if before[name] != after.get(name)} <= {"nginx.conf"}
    parse_text(SourceText(tmp_path / "nginx.conf", (tmp_path / "nginx.conf").read_text()))


# -- inputs that were quadratic ----------------------------------------------------------
QUADRATIC: list[tuple[str, str, bytes, bool, Callable[[RunResult], bool]]] = [
    # the lexer retried its whitespace prefix at every offset of trailing blanks
    ("trailing-blanks", "a.conf", b"events {}\n" + b" \n\t" * 300_000, True, lambda r: r.findings == []),
    # discovery's sniff ran \s* over every following blank line from each line start (the
    # statement lies beyond the 64 KiB it reads: skipped as not nginx)
    (
        "blank-lines",
        "conf.d/b.conf",
        b"\n" * 70_000 + b"server { listen 80; }\n",
        False,
        lambda r: r.files == [],
    ),
    # each "${" that does not close searched to the end of its word for "}" (in a block
    # never closed: nginx keeps every "{" after a "$" in the word)
    (
        "unclosed-expansions",
        "c.conf",
        b"server {\n    set $a " + b"${" * 200_000 + b";\n",
        True,
        lambda r: r.findings != [],
    ),
    # YAML: each escaped quote of an unterminated string rescanned the rest of the line
    (
        "escaped-quotes",
        "o.yaml",
        b'virtualhosts: "' + b'\\"' * 100_000 + b"\n",
        False,
        lambda r: r.findings != [],
    ),
    # YAML that does not parse: a line of blanks after a key-like word, searched for ":"
    (
        "key-and-blanks",
        "p.yaml",
        b"virtualhosts: [\na" + b" " * 200_000 + b"\n",
        False,
        lambda r: r.findings != [],
    ),
]


@pytest.mark.parametrize(
    ("name", "file", "data", "named", "expect"), QUADRATIC, ids=[q[0] for q in QUADRATIC]
)
def test_input_that_was_quadratic_is_fast(
    tmp_path: Path, name: str, file: str, data: bytes, named: bool, expect: Callable[[RunResult], bool]
) -> None:
    write(tmp_path, {file: data})
    with within(3):
        result = check(tmp_path, tmp_path / file if named else tmp_path)
    assert expect(result), located(result, tmp_path)
    assert all(f.location.line >= 1 for f in result.findings if f.code in ("NGX001", "APG201"))


def test_directory_tree_thousands_of_levels_deep(tmp_path: Path) -> None:
    """The walk recursed once per level: RecursionError at about 1,000."""
    levels = [tmp_path / "d"]
    for _ in range(1499):
        levels.append(levels[-1] / "d")
    try:
        for level in levels:
            level.mkdir()  # one at a time: mkdir(parents=True) recurses too
        (levels[-1] / "nginx.conf").write_text(SESSION)
        found = discover([tmp_path], base=tmp_path)
        assert found.nginx == [levels[-1] / "nginx.conf"]
    finally:  # bottom up: pytest's own clean-up (shutil.rmtree) recurses per level
        (levels[-1] / "nginx.conf").unlink(missing_ok=True)
        for level in reversed(levels):
            if level.is_dir():
                level.rmdir()


# -- everything at once, through the command line -----------------------------------------
def hostile_corpus(root: Path) -> None:
    write(
        root,
        {
            "deep.conf": "http {\n" + "location / {\n" * 10_000 + "}\n" * 10_001,
            "self.conf": "http {\n    include self.conf;\n}\n",
            "mutual/nginx.conf": "events {}\nhttp {\n    include a.conf;\n}\n",
            "mutual/a.conf": "include b.conf;\n",
            "mutual/b.conf": "include a.conf;\n",
            "billion.yaml": "".join(
                [
                    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
                    *(
                        f"{x}: &{x} [" + ",".join([f"*{p}"] * 9) + "]\n"
                        for p, x in zip("abcdefgh", "bcdefghi", strict=True)
                    ),
                    "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n    cipherSuites: *i\n",
                ]
            ),
            "latin1.conf": "# caf\xe9\nhttp {\n    ssl_session_cache builtin\n}\n".encode("latin-1"),
            "nul.conf": b"http {\n\x00\n}\n",
            "crlf-bom.conf": b"\xef\xbb\xbfhttp {\r\n    server {\r\n}\r\n",
            "x.conf/nginx.conf": "http {\n    include ../../outside.conf;\n}\n",
            "unclosed.yaml": "virtualhosts: [\n  - name: prod\n",
            "fixable/nginx.conf": SESSION,
        },
    )
    sparse(root / "big.conf", GIB)
    (root / "loop-a.conf").symlink_to("loop-b.conf")
    (root / "loop-b.conf").symlink_to("loop-a.conf")
    (root / "dangling.conf").symlink_to("nowhere.conf")
    (root / "mutual" / "up").symlink_to("..", target_is_directory=True)
    fifo(root / "pipe.conf")


EXPECTED = [
    "big.conf: NGX001 [error] file is 1024.0 MiB, above the 16 MiB limit (max-file-size); not read",
    f"deep.conf:{MAX_DEPTH + 1}:1: NGX001 [error] blocks nested deeper than {MAX_DEPTH} levels",
    "self.conf:2:5: NGX003 [error] include loop refused: self.conf -> self.conf",
    "mutual/b.conf:1:1: NGX003 [error] include loop refused: a.conf -> b.conf -> a.conf",
    "billion.yaml:4:17: APG201 [error] document contains excessive aliasing: with *c here expanded",
    'latin1.conf:3:1: NGX001 [error] "ssl_session_cache" directive is not terminated by ";"',
    "nul.conf:2:1: NGX001 [error] binary file (NUL byte)",
    'crlf-bom.conf:1:1: NGX001 [error] "http" block opened here is never closed',
    'x.conf/nginx.conf:2:5: NGX002 [error] include "../../outside.conf" is outside the configuration root',
    "unclosed.yaml:2:3: APG201 [error] invalid YAML",
]


def test_hostile_corpus_through_the_cli_with_fix(tmp_path: Path) -> None:
    """Walked as one directory with --fix: every problem located, only the fixable file
    written, the file outside the tree untouched; then each unusable path named."""
    corpus = tmp_path / "corpus"
    hostile_corpus(corpus)
    (tmp_path / "outside.conf").write_text("ssl_session_cache builtin:1000;\n")
    before = snapshot(tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        # --unsafe-fixes: the fixable file's builtin cache is replaced (NGX102, unsafe).
        walked = pool.submit(cli, tmp_path, "check", "--fix", "--unsafe-fixes", "corpus")
        named = pool.submit(
            cli, corpus, "check", "pipe.conf", "loop-a.conf", "dangling.conf", "big.conf", "deep.conf"
        )
        walked_result, named_result = walked.result(), named.result()
    after = snapshot(tmp_path)
    try:
        assert_no_crash(walked_result)
        assert walked_result.returncode == 2
        lines = walked_result.stdout.splitlines()
        for expected in EXPECTED:
            assert any(line.startswith(f"corpus/{expected}") for line in lines), expected
        changed = {name for name in before if before[name] != after.get(name)}
        assert changed == {"corpus/fixable", "corpus/fixable/nginx.conf"}, changed  # and its directory
        fixed = (corpus / "fixable" / "nginx.conf").read_text()
        parse_text(SourceText(corpus / "fixable" / "nginx.conf", fixed))
        assert "builtin" not in fixed

        assert_no_crash(named_result)
        assert named_result.returncode == 2
        assert named_result.stderr.splitlines() == [
            "tlslint: pipe.conf: is a FIFO (named pipe), not a regular file; not read",
            "tlslint: loop-a.conf: is a symlink loop (too many levels of symbolic links); not read",
            "tlslint: dangling.conf: is a dangling symlink (to nowhere.conf, which does not exist); not read",
        ]
        assert "big.conf: NGX001 [error] file is 1024.0 MiB" in named_result.stdout
        assert f"deep.conf:{MAX_DEPTH + 1}:1: NGX001" in named_result.stdout
    finally:
        (corpus / "big.conf").unlink()
