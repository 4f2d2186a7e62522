"""Checks run half in a forked helper on large trees: the same report, whatever happens to it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import helpers_started, settings_for

from tlslint import run_checks
from tlslint.engine import RunResult, run

BENCH = Path(__file__).resolve().parent / "bench"
sys.path.insert(0, str(BENCH))
from generate import nginx_tree  # type: ignore[import-not-found]  # noqa: E402


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    nginx_tree(root, 40, seed=3)  # findings of both families: session cache, upstream keep-alive
    return root


def checked(root: Path, min_files: int, monkeypatch: pytest.MonkeyPatch) -> RunResult:
    monkeypatch.setattr(run_checks, "MIN_FILES", min_files)
    return run([root], settings_for(root, {"nginx": {"version": "1.22.1"}}))


def report(result: RunResult) -> list[tuple[str, str, int, int, str, object]]:
    return [
        (f.code, f.location.path.name, f.location.line, f.location.column, f.message, f.fix)
        for f in result.findings
    ]


def test_a_helper_gives_the_report_one_process_gives(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one_process = report(checked(tree, 10**9, monkeypatch))
    started = helpers_started(monkeypatch)
    with_helper = report(checked(tree, 0, monkeypatch))
    assert len(started) == 1
    assert with_helper == one_process
    codes = {code for code, *_ in with_helper}
    assert any(c.startswith("NGX21") for c in codes)
    assert any(not c.startswith("NGX21") for c in codes)


def test_what_a_failed_helper_left_is_run_here(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one_process = report(checked(tree, 10**9, monkeypatch))

    def fail(*args: object) -> Iterator[bytes]:
        raise RuntimeError("the helper fails")
        yield b""

    monkeypatch.setattr(run_checks, "_pickled", fail)
    started = helpers_started(monkeypatch)
    assert report(checked(tree, 0, monkeypatch)) == one_process
    assert len(started) == 1


def test_a_check_that_fails_fails_the_run_as_in_one_process(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tlslint.checks import ngx210_upstream_keepalive_missing as ngx210

    def broken(*args: object) -> Iterator[object]:
        raise ZeroDivisionError("a bug in a check")
        yield None

    monkeypatch.setattr(ngx210, "check", broken)
    with pytest.raises(ZeroDivisionError):
        checked(tree, 0, monkeypatch)
