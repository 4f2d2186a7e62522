"""Run tlslint on text written to a temporary directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tlslint import forks
from tlslint.engine import RunResult, run
from tlslint.settings import Settings, from_mapping


def settings_for(base: Path, mapping: dict[str, Any] | None = None) -> Settings:
    settings = from_mapping(mapping or {}, None)
    settings.base = base
    return settings


def check_files(
    tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None, target: str = "."
) -> RunResult:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return run([tmp_path / target], settings_for(tmp_path, mapping))


def codes(result: RunResult) -> list[str]:
    return [finding.code for finding in result.findings]


def helpers_started(monkeypatch: pytest.MonkeyPatch) -> list[forks.Helper]:
    """Every forked helper started from now on (tlslint.forks), as it starts."""
    started: list[forks.Helper] = []
    real_start = forks.Helper.start

    def start(produce: Callable[[], Iterator[bytes]]) -> forks.Helper | None:
        helper = real_start(produce)
        if helper is not None:
            started.append(helper)
        return helper

    monkeypatch.setattr(forks.Helper, "start", staticmethod(start))
    return started
