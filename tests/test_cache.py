"""The scan cache: hits read nothing, edits invalidate, a pack not signed by us is never loaded."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import settings_for

from tlslint import cache as caching
from tlslint.cache import DIRECTORY_NAME, PACK_PREFIX, PACK_SUFFIX, SHARDS, ModelCache, shard_name, stat_key
from tlslint.engine import RunOptions, run

CONFIG = "http {\n    ssl_session_timeout 1m;\n}\n"


@pytest.fixture(autouse=True)
def private_key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def checked(directory: Path, cache: ModelCache) -> list[tuple[str, int]]:
    result = run([directory], settings_for(directory), run_options=RunOptions(cache=cache))
    return [(f.code, f.location.line) for f in result.findings]


def test_second_run_hits_and_gives_the_same_findings(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text(CONFIG)
    first = ModelCache.open(tmp_path)
    before = checked(tmp_path, first)
    first.save()
    second = ModelCache.open(tmp_path)
    assert checked(tmp_path, second) == before == [("NGX104", 2)]
    assert second.hits == 1


def test_an_edited_file_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "nginx.conf"
    path.write_text(CONFIG)
    first = ModelCache.open(tmp_path)
    checked(tmp_path, first)
    first.save()
    path.write_text(CONFIG.replace("1m", "10m") + "\n")
    second = ModelCache.open(tmp_path)
    assert checked(tmp_path, second) == []
    assert second.hits == 0


def test_a_tampered_pack_is_never_loaded(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text(CONFIG)
    first = ModelCache.open(tmp_path)
    checked(tmp_path, first)
    first.save()
    (pack,) = (tmp_path / DIRECTORY_NAME).glob(f"*/{PACK_PREFIX}*{PACK_SUFFIX}")
    marker = tmp_path / "pwned"
    # A pickle that would create a file when loaded, as a pull request could commit.
    evil = pickle.dumps(_Evil(str(marker)))
    pack.write_bytes(b"\0" * 32 + evil)
    second = ModelCache.open(tmp_path)
    assert checked(tmp_path, second) == [("NGX104", 2)]
    assert not marker.exists()
    assert second.hits == 0


class _Evil:
    def __init__(self, target: str) -> None:
        self.target = target

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (self.target, "w"))


def shards(directory: Path) -> dict[str, tuple[int, int]]:
    """Each shard file of the cache, with what changes when it is written again."""
    found = {}
    for path in (directory / DIRECTORY_NAME).glob(f"*/{PACK_PREFIX}*{PACK_SUFFIX}"):
        info = path.stat()
        found[path.name] = (info.st_ino, info.st_mtime_ns)
    return found


def test_one_changed_file_rewrites_only_its_shard(tmp_path: Path) -> None:
    for index in range(400):
        (tmp_path / f"site{index}.conf").write_text(f"server {{\n    listen {1000 + index};\n}}\n")
    first = ModelCache.open(tmp_path)
    checked(tmp_path, first)
    first.save()
    before = shards(tmp_path)
    assert len(before) > SHARDS / 2  # 400 files spread over the shards
    unchanged = ModelCache.open(tmp_path)
    checked(tmp_path, unchanged)
    unchanged.save()
    assert shards(tmp_path) == before  # nothing changed: nothing written
    edited = tmp_path / "site7.conf"
    edited.write_text(edited.read_text() + "# touched\n")
    third = ModelCache.open(tmp_path)
    checked(tmp_path, third)
    assert third.hits == 399
    third.save()
    after = shards(tmp_path)
    assert after.keys() == before.keys()
    rewritten = [name for name in after if after[name] != before[name]]
    assert rewritten == [shard_name(next(iter(third.changed)))]
    fourth = ModelCache.open(tmp_path)
    checked(tmp_path, fourth)
    assert fourth.hits == 400


def test_a_run_of_fewer_files_keeps_only_their_shards(tmp_path: Path) -> None:
    for index in range(20):
        (tmp_path / f"site{index}.conf").write_text(f"server {{\n    listen {1000 + index};\n}}\n")
    first = ModelCache.open(tmp_path)
    checked(tmp_path, first)
    first.save()
    for index in range(1, 20):
        (tmp_path / f"site{index}.conf").unlink()
    second = ModelCache.open(tmp_path)
    checked(tmp_path, second)
    second.save()
    assert len(shards(tmp_path)) == 1
    assert len(ModelCache.open(tmp_path).entries) == 1


def test_the_namespace_changes_with_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nginx.conf").write_text(CONFIG)
    first = ModelCache.open(tmp_path)
    checked(tmp_path, first)
    first.save()
    caching.code_fingerprint.cache_clear()
    monkeypatch.setattr(caching, "__version__", "9.9.9")
    try:
        assert ModelCache.open(tmp_path).directory != first.directory
    finally:
        caching.code_fingerprint.cache_clear()


def test_stat_key_follows_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "a.conf"
    path.write_text("events {}\n")
    before = stat_key(path)
    os.utime(path, ns=(1, 1))
    assert stat_key(path) != before
    assert stat_key(tmp_path / "missing") is None


def test_cli_writes_a_cache_and_no_cache_writes_none(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text(CONFIG)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    subprocess.run(
        [sys.executable, "-m", "tlslint", "--no-cache", "."], cwd=tmp_path, env=env, capture_output=True
    )
    assert not (tmp_path / DIRECTORY_NAME).exists()
    subprocess.run([sys.executable, "-m", "tlslint", "."], cwd=tmp_path, env=env, capture_output=True)
    root = tmp_path / DIRECTORY_NAME
    assert (root / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (root / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert oct((tmp_path / "xdg" / "tlslint" / "key").stat().st_mode & 0o777) == "0o600"
    cache = ModelCache.open(tmp_path)
    ((key, (text, bom, newline, *_)),) = cache.entries.items()
    assert key[0] == str((tmp_path / "nginx.conf").resolve())
    assert (text, bom, newline) == (CONFIG, False, "\n")
    parsed = cache.get(Path(key[0]))
    assert parsed is not None and parsed.directives[0].name == "http"


def test_a_run_on_one_part_keeps_the_trees_of_another(tmp_path: Path) -> None:
    """`tlslint edge/` then `tlslint internal/` (CI steps, pre-commit parts) over one cache:
    the second kept nothing of the first's, which parsed everything again (T8). What a run
    did not look at is kept while its file is as it was; an edited file's old tree goes."""
    for part in ("edge", "internal"):
        (tmp_path / part).mkdir()
        (tmp_path / part / "nginx.conf").write_text(CONFIG)

    def run_on(part: str) -> ModelCache:
        cache = ModelCache.open(tmp_path)
        run([tmp_path / part], settings_for(tmp_path), run_options=RunOptions(cache=cache))
        cache.save()
        return cache

    run_on("edge")
    run_on("internal")
    assert run_on("edge").hits == 1
    assert run_on("internal").hits == 1
    (tmp_path / "internal" / "nginx.conf").write_text(CONFIG + "# edited\n")
    run_on("edge")
    kept = [key[0] for key in ModelCache.open(tmp_path).entries]
    assert sorted(Path(path).parent.name for path in kept) == ["edge"]  # internal's old tree: gone
