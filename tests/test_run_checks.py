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


def test_indexes_go_before_the_helpers_findings_are_read(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process forgets the checks' shared indexes once it has no group left, before
    it reads what the helper found (both at once were the run's peak of memory); the
    inferred versions stay, which fixes and reports ask again."""
    from tlslint.nginx_inference import INFERENCE_MEMO

    seen: list[list[str]] = []
    real = run_checks.drop_indexes

    def dropping(workspace: object) -> None:
        real(workspace)  # type: ignore[arg-type]
        seen.append([key for config in workspace.nginx for key in config.memo])  # type: ignore[attr-defined]

    monkeypatch.setattr(run_checks, "drop_indexes", dropping)
    helpers_started(monkeypatch)
    result = checked(tree, 0, monkeypatch)
    assert seen, "the indexes were not dropped before the helper's findings"
    assert seen[0] and all(key.startswith(INFERENCE_MEMO) for key in seen[0])
    assert result.findings
