"""The caches under faults and in hostile hands: a key that is not whole is never trusted,
an in-place edit that keeps size and mtime is seen, special files in ``.tlslint_cache``
are misses (never waited on, never read without end), and a failed write leaves no
temporary (docs/reliability.md, "The cache")."""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import pickle
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import settings_for

from tlslint import cache as caching
from tlslint.cache import (
    DIRECTORY_NAME,
    KEY_SIZE,
    PACK_PREFIX,
    PACK_SUFFIX,
    ModelCache,
    read_signed,
    write_signed,
)
from tlslint.engine import RunOptions, run
from tlslint.results import SUFFIX, ResultStore
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


class _Evil:
    """A pickle that would create a file when loaded, as a forged entry could hold."""

    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.target, "w"))


# The key: never trusted unless whole


@pytest.mark.parametrize("kept", [0, KEY_SIZE // 2, KEY_SIZE - 1])
def test_a_key_not_whole_is_replaced_and_what_it_signed_is_never_loaded(
    tmp_path: Path, private_key_home: Path, kept: int
) -> None:
    """A first run killed (or out of space) between creating the key and writing it left
    it empty, and every later run signed and verified with ``b""``: an entry forged with
    that key was unpickled."""
    (tmp_path / "nginx.conf").write_text(SITE)
    expected, _, _ = cached_run(tmp_path)
    (entry,) = (tmp_path / DIRECTORY_NAME).glob(f"*/results/*{SUFFIX}")
    short = private_key_home.read_bytes()[:kept]
    private_key_home.write_bytes(short)
    marker = tmp_path / "pwned"
    evil = pickle.dumps(_Evil(str(marker)))
    entry.write_bytes(hmac.new(short, evil, hashlib.sha256).digest() + evil)
    assert caching.read_signed(entry, short) is not None  # the forgery verifies with that key

    results = ResultStore.open(tmp_path)
    assert findings(tmp_path, ModelCache.open(tmp_path), results) == expected
    assert not marker.exists()
    assert results.hits == 0
    assert len(private_key_home.read_bytes()) == KEY_SIZE  # replaced by a whole one
    assert findings(tmp_path) == expected


@pytest.mark.parametrize("kind", ["fifo", "directory"])
def test_a_key_that_is_not_a_regular_file_means_no_cache(
    tmp_path: Path, private_key_home: Path, kind: str
) -> None:
    """A FIFO key hung every run on its open()."""
    private_key_home.parent.mkdir(parents=True)
    if kind == "fifo":
        os.mkfifo(private_key_home)
    else:
        private_key_home.mkdir()
    (tmp_path / "nginx.conf").write_text(SITE)
    cached = cli(tmp_path)
    assert cached.stdout == cli(tmp_path, "--no-cache").stdout
    assert "NGX201" not in cached.stdout and "NGX105" in cached.stdout
    assert not (tmp_path / DIRECTORY_NAME).exists()
    assert caching.signing_key() is None
    assert private_key_home.is_fifo() if kind == "fifo" else private_key_home.is_dir()


def test_first_runs_that_race_share_one_whole_key(tmp_path: Path, private_key_home: Path) -> None:
    """Each run writes its key to a temporary and links it into place: the runs that lose
    take the winner's key, and none reads one half-written."""
    start = time.time() + 2.0  # after every interpreter has started
    program = (
        "import sys, time; from tlslint.cache import signing_key\n"
        f"time.sleep(max(0.0, {start} - time.time()))\n"
        "key = signing_key(); print(key.hex() if key is not None else 'none')\n"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, text=True) for _ in range(6)
    ]
    keys = {run.communicate(timeout=60)[0].strip() for run in runs}
    assert keys == {private_key_home.read_bytes().hex()}
    assert len(private_key_home.read_bytes()) == KEY_SIZE
    assert sorted(p.name for p in private_key_home.parent.iterdir()) == ["key"]  # no temporary left


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


# Special files in .tlslint_cache: misses, never waited on, never read without end


def replace_with(path: Path, kind: str) -> None:
    path.unlink()
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")


@pytest.mark.parametrize(("what", "kind"), [("shard", "fifo"), ("shard", "symlink"), ("results", "fifo")])
def test_a_special_file_in_the_cache_is_a_miss(tmp_path: Path, what: str, kind: str) -> None:
    """A FIFO hung the run on its open(); a symlink to /dev/zero grew it until the kernel
    killed it. A pull request's working tree can hold either."""
    (tmp_path / "nginx.conf").write_text(SITE)
    expected = cli(tmp_path, "--no-cache")
    assert cli(tmp_path).stdout == expected.stdout
    pattern = f"*/{PACK_PREFIX}*{PACK_SUFFIX}" if what == "shard" else f"*/results/*{SUFFIX}"
    (planted,) = (tmp_path / DIRECTORY_NAME).glob(pattern)
    replace_with(planted, kind)
    cached = cli(tmp_path, timeout=30)
    assert (cached.returncode, cached.stdout) == (expected.returncode, expected.stdout)
    assert cached.stderr == expected.stderr
    assert planted.is_file() and not planted.is_symlink()  # rewritten as a regular shard


def test_a_file_above_the_bound_is_a_miss_and_is_not_written(tmp_path: Path) -> None:
    secret = os.urandom(KEY_SIZE)
    path = tmp_path / "entry"
    write_signed(path, b"x" * 1000, secret)
    assert read_signed(path, secret) == b"x" * 1000
    assert read_signed(path, secret, limit=1000) is None  # the MAC's 32 bytes are counted
    write_signed(path, b"y" * 1000, secret, limit=1000)
    assert not path.exists()


def test_a_planted_dangling_symlink_is_not_written_through(tmp_path: Path) -> None:
    """The cache's .gitignore and CACHEDIR.TAG are created only where nothing is."""
    root = tmp_path / DIRECTORY_NAME
    root.mkdir()
    outside = tmp_path / "elsewhere"
    (root / ".gitignore").symlink_to(outside)
    (tmp_path / "nginx.conf").write_text(SITE)
    cached_run(tmp_path)
    assert not outside.exists()
    assert (root / "CACHEDIR.TAG").read_text().startswith("Signature: ")


# Writes that fail


def test_a_failed_cache_write_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk left a `.tlslint-*.tmp` per shard and entry, more on every run."""
    (tmp_path / "nginx.conf").write_text(SITE)
    assert caching.signing_key() is not None  # made before the disk "fills"

    def full(source: object, target: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(caching.os, "replace", full)
    expected, cache, results = cached_run(tmp_path)
    assert expected == findings(tmp_path)
    assert cache.used and results.new  # there was something to write
    assert list((tmp_path / DIRECTORY_NAME).rglob("*.tmp")) == []
    assert list((tmp_path / DIRECTORY_NAME).rglob(f"*{PACK_SUFFIX}")) == []


def test_a_run_that_writes_removes_the_temporaries_a_killed_run_left(tmp_path: Path) -> None:
    """SIGKILL (or SIGTERM's default) runs no cleanup: a `.tlslint-*.tmp` was left in the
    cache for good (T8). A later run that writes removes those no writer holds, as the
    fixer's sweep does, and leaves one younger than STALE_AFTER alone: another run may be
    between creating it and locking it."""
    (tmp_path / "nginx.conf").write_text(SITE)
    _, cache, results = cached_run(tmp_path)
    planted = []
    for directory in (cache.directory, results.directory):
        for age, name in ((3600, ".tlslint-killed.tmp"), (5, ".tlslint-writing.tmp")):
            path = directory / name
            path.write_bytes(b"half an entry")
            os.utime(path, (time.time() - age,) * 2)
            planted.append(path)
    (tmp_path / "nginx.conf").write_text(SITE + "# edited\n")  # so that both caches write
    cached_run(tmp_path)
    assert [path.exists() for path in planted] == [False, True, False, True]
