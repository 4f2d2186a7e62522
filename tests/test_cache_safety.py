"""The caches under faults and in hostile hands: an in-place edit that keeps size and
mtime is seen (docs/reliability.md, "The cache")."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import settings_for

from tlslint.cache import (
    ModelCache,
)
from tlslint.engine import RunOptions, run
from tlslint.results import ResultStore
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.nginx.parser import parse_text

SITE = """events {}
http {
    server {
        listen 443 ssl;
        server_name a.example;
        ssl_certificate /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
        keepalive_timeout 65s;
    }
}
"""
# The same size: an edit that keeps size, mtime and inode (cp -p, touch -d) is this one.
EDITED = SITE.replace("keepalive_timeout 65s;", "keepalive_timeout 0;  ")
assert len(EDITED) == len(SITE)


@pytest.fixture(autouse=True)
def private_key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "tlslint" / "key"


def findings(
    directory: Path, cache: ModelCache | None = None, results: ResultStore | None = None
) -> list[str]:
    result = run([directory], settings_for(directory), run_options=RunOptions(cache=cache, results=results))
    return [f"{f.code}:{f.location.line}" for f in result.findings]


def cached_run(directory: Path) -> tuple[list[str], ModelCache, ResultStore]:
    """A run as the CLI makes it, both caches read and saved."""
    cache, results = ModelCache.open(directory), ResultStore.open(directory)
    found = findings(directory, cache, results)
    cache.save()
    results.save()
    return found, cache, results


def cli(directory: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TLSLINT_DEBUG")}

    def bounded() -> None:  # were a special file read without end, it would stop here
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))

    return subprocess.run(
        [sys.executable, "-m", "tlslint", "check", *args, "."],
        cwd=directory,
        env={**env, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=bounded,
    )


# The tree cache: an in-place edit that keeps size, mtime and inode


def edit_in_place(path: Path, text: str) -> None:
    """Rewrite ``path`` without changing its size, inode or mtime (what ``cp -p`` does)."""
    before = path.stat()
    with path.open("r+") as stream:
        stream.write(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_ino, after.st_mtime_ns) == (
        before.st_size,
        before.st_ino,
        before.st_mtime_ns,
    )


def test_an_edit_that_keeps_size_mtime_and_inode_is_read_again(tmp_path: Path) -> None:
    """It was a hit: the old text's findings, and NGX201 missing."""
    path = tmp_path / "nginx.conf"
    path.write_text(SITE)
    os.utime(path, ns=(1767225600 * 10**9,) * 2)  # a shared, fixed mtime (a package, a tarball)
    before, _, _ = cached_run(tmp_path)
    assert not any(code.startswith("NGX201") for code in before)
    edit_in_place(path, EDITED)
    after, cache, _ = cached_run(tmp_path)
    assert after == findings(tmp_path)
    assert "NGX201:8" in after
    assert cache.hits == 0


def test_fix_after_an_edit_that_keeps_size_mtime_and_inode_writes(tmp_path: Path) -> None:
    """`--fix` made its edits from the cached (old) text, the write-time check refused
    them, and every later run said "the file changed since tlslint read it; run again"."""
    path = tmp_path / "nginx.conf"
    path.write_text(SITE)
    assert cli(tmp_path).returncode == 1
    edit_in_place(path, EDITED)
    fixed = cli(tmp_path, "--fix")
    assert "SRC002" not in fixed.stdout + fixed.stderr
    assert "fixed 1 file" in fixed.stderr
    assert "keepalive_timeout 0;" in path.read_text() and "ssl_session_cache" in path.read_text()
    assert "NGX201" in fixed.stdout


def test_a_stale_tree_found_by_the_fix_is_dropped_so_run_again_works(tmp_path: Path) -> None:
    """An edit within one tick of the clock keeps even the ctime: the cached tree of the old
    text then stands under the file's current stat. The write-time check sees other bytes
    on disk: it refuses, as it must, and drops the tree, so that the next run reads the
    file (it was refused on every run)."""
    path = tmp_path / "nginx.conf"
    path.write_text(EDITED)
    resolved = path.resolve()
    stale = ModelCache.open(tmp_path)
    stale.put(resolved, parse_text(SourceText(resolved, SITE)))  # the text read before the edit
    stale.save()
    planted = ModelCache.open(tmp_path).get(resolved)
    assert planted is not None and planted.source.text == SITE

    first = cli(tmp_path, "--fix")
    assert "SRC002" in first.stdout and "the file changed since tlslint read it" in first.stdout
    assert first.returncode == 2
    assert path.read_text() == EDITED  # the newer text stays
    assert "NGX201" in first.stdout  # the findings shown are the file's, read again
    second = cli(tmp_path, "--fix")
    assert "SRC002" not in second.stdout, second.stdout
    assert "fixed 1 file" in second.stderr
    assert "ssl_session_cache" in path.read_text()
