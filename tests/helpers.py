"""Run tlslint on text written to a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
