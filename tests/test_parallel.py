"""Parallel parsing: worker processes give exactly what one process gives."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from helpers import helpers_started, settings_for

from tlslint import forks
from tlslint.cache import ModelCache
from tlslint.engine import RunOptions, RunResult, run
from tlslint.sources.nginx import parallel
from tlslint.sources.nginx.loader import NginxFiles
from tlslint.sources.nginx.model import ParsedFile, walk
from tlslint.sources.nginx.parser import CHUNKED_ABOVE

BENCH = Path(__file__).resolve().parent / "bench"
sys.path.insert(0, str(BENCH))
from generate import nginx_tree  # type: ignore[import-not-found]  # noqa: E402

BROKEN = {
    "sites-enabled/zz-binary.conf": b"server {\x00}\n",
    "sites-enabled/zz-quote.conf": b'server {\n    server_name "open;\n}\n',
    "sites-enabled/zz-semicolon.conf": b"server {\n    ssl_session_timeout 1d\n    location / {\n    }\n}\n",
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    nginx_tree(root, 40, seed=7)
    for name, data in BROKEN.items():
        (root / name).write_bytes(data)
    return root


@pytest.fixture(autouse=True)
def private_key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def shape(parsed: ParsedFile) -> list[tuple[object, ...]]:
    return [
        (d.name, d.args, d.start, d.end, d.args_start, d.args_end, d.block_open, d.block_close, d.line)
        for d in walk(parsed.directives)
    ] + [(c.text, c.start) for c in parsed.comments]


def checked(
    root: Path, min_files: int, monkeypatch: pytest.MonkeyPatch, cache: ModelCache | None = None
) -> RunResult:
    monkeypatch.setattr(parallel, "MIN_FILES", min_files)
    return run([root], settings_for(root), run_options=RunOptions(cache=cache))


def report(result: RunResult) -> list[tuple[str, str, int, int, str]]:
    return [
        (f.code, f.location.path.name, f.location.line, f.location.column, f.message) for f in result.findings
    ]


def test_workers_build_the_same_trees_and_errors(tree: Path) -> None:
    paths = sorted(tree.rglob("*.conf"))
    serial = NginxFiles(max_bytes=2**20)
    for path in paths:
        serial.get(path)
    forked = NginxFiles(max_bytes=2**20)
    assert parallel.scan_in_parallel(paths, 2**20, forked._take, jobs=2, min_files=2)
    assert set(forked.parsed) == set(serial.parsed) and len(serial.parsed) == len(paths) - len(BROKEN)
    for path, parsed in serial.parsed.items():
        assert shape(forked.parsed[path]) == shape(parsed)
        assert forked.parsed[path].source.text == parsed.source.text
    assert {p: (e.line, e.message) for p, e in forked.errors.items()} == {
        p: (e.line, e.message) for p, e in serial.errors.items()
    }
    assert {p.name for p in serial.errors} == {Path(name).name for name in BROKEN}


def test_a_run_reports_the_same_findings_in_the_same_order(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_process = checked(tree, 10**9, monkeypatch)
    workers = checked(tree, 2, monkeypatch)
    assert report(workers) == report(one_process)
    # The generated 1m timeouts are virtual servers' (NGX107: not used), not in force (NGX104).
    assert {"NGX001", "NGX107"} <= {code for code, *_ in report(workers)}


def test_parallel_scans_fill_the_cache(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ModelCache.open(tree)
    before = report(checked(tree, 2, monkeypatch, first))
    first.save()
    second = ModelCache.open(tree)
    # Files that parse are cached; the broken ones are read again, and fail again.
    broken = {Path(name).name for name in BROKEN}
    parsed = [p for p in tree.rglob("*.conf") if p.name not in broken]
    assert all(second.contains(p.resolve()) for p in parsed)
    assert not any(second.contains(p.resolve()) for p in tree.rglob("zz-*.conf"))
    assert report(checked(tree, 2, monkeypatch, second)) == before
    assert second.hits == len(parsed)


def test_below_the_threshold_no_pool_is_made(tree: Path) -> None:
    taken: list[Path] = []
    paths = sorted(tree.rglob("*.conf"))
    assert not parallel.scan_in_parallel(paths, 2**20, lambda p, s: taken.append(p), min_files=len(paths) + 1)
    assert not parallel.scan_in_parallel(paths, 2**20, lambda p, s: taken.append(p), jobs=1, min_files=2)
    assert taken == []


def test_a_run_through_the_engine_uses_the_workers(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    delivered: list[int] = []
    real_take_chunk = parallel._take_chunk

    def take_chunk(chunk: list[parallel.Result], take: parallel.Take) -> None:
        delivered.append(len(chunk))
        real_take_chunk(chunk, take)

    monkeypatch.setattr(parallel, "_take_chunk", take_chunk)
    checked(tree, 2, monkeypatch)
    assert 0 < sum(delivered) < len(list(tree.rglob("*.conf")))  # this process scans a share too


def test_a_worker_dying_midway_costs_only_time(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one_process = checked(tree, 10**9, monkeypatch)
    real_write = forks._write_all

    def write_one_and_a_half(pipe: int, data: bytes) -> None:
        real_write(pipe, data)  # the first message whole, then half of the second
        real_write(pipe, data[: len(data) // 2])
        os._exit(1)

    monkeypatch.setattr(parallel, "_CHUNK", 2)
    monkeypatch.setattr(forks, "_write_all", write_one_and_a_half)
    assert report(checked(tree, 2, monkeypatch)) == report(one_process)


def test_a_worker_is_reaped_when_the_parent_is_interrupted(tree: Path) -> None:
    paths = sorted(tree.rglob("*.conf"))

    def interrupt(path: Path, scanned: object) -> None:
        raise KeyboardInterrupt

    with pytest.MonkeyPatch.context() as patch:
        helpers = helpers_started(patch)
        with pytest.raises(KeyboardInterrupt):
            parallel.scan_in_parallel(paths, 2**20, interrupt, jobs=2, min_files=2)
    assert helpers
    for helper in helpers:
        with pytest.raises(ChildProcessError):
            os.waitpid(helper.pid, os.WNOHANG)  # already reaped: no zombie left


def test_a_large_file_is_left_to_this_process(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above CHUNKED_ABOVE a file's tokens are neither held nor sent: a worker passes it
    over, and this process builds it while it scans it; the run reports as one process does."""
    entries = "".join(f"    10.{i // 65536}.{i // 256 % 256}.{i % 256} {i % 7};\n" for i in range(16_000))
    large = {
        "sites-enabled/large-map.conf": "map $remote_addr $tier {\n" + entries + "}\n",
        "sites-enabled/large-garbage.conf": "server {\n" + ";" * (CHUNKED_ABOVE + 1),
    }
    for name, text in large.items():
        assert len(text) > CHUNKED_ABOVE
        (tree / name).write_text(text)
    paths = sorted(tree.rglob("*.conf"))
    taken: list[Path] = []
    forked = NginxFiles(max_bytes=2**20)
    assert parallel.scan_in_parallel(
        paths, 2**20, lambda p, s: (taken.append(p), forked._take(p, s)), jobs=2, min_files=2
    )
    assert {p.name for p in paths} - {p.name for p in taken} == {"large-map.conf", "large-garbage.conf"}
    assert report(checked(tree, 2, monkeypatch)) == report(checked(tree, 10**6, monkeypatch))
    errors = [
        f for f in checked(tree, 2, monkeypatch).findings if f.location.path.name == "large-garbage.conf"
    ]
    assert [(f.code, f.location.line, f.message) for f in errors] == [("NGX001", 2, 'unexpected ";"')]
