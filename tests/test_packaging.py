"""The wheel ships the catalogue: `rules` and `explain` work outside the repo."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("tlslint-*.whl")
    return found


def test_wheel_holds_the_catalogue_and_schemas(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "tlslint/rules/index.json" in names
    assert "tlslint/rules/NGX101.yaml" in names
    assert "tlslint/schemas/settings.schema.json" in names
    assert "tlslint/schemas/rule.schema.json" in names


def test_explain_and_rules_from_an_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "NO_COLOR": "1"}
    explain = subprocess.run(
        [sys.executable, "-m", "tlslint", "explain", "NGX101"],
        cwd=elsewhere, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert explain.returncode == 0, explain.stderr
    assert "# NGX101 ssl-session-cache-missing" in explain.stdout
    assert "## Why is this bad" in explain.stdout
    listing = subprocess.run(
        [sys.executable, "-c", "import tlslint, sys; print(tlslint.__file__)"],
        cwd=elsewhere, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert listing.stdout.strip().startswith(str(target))
    rules = subprocess.run(
        [sys.executable, "-m", "tlslint", "rules"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert rules.returncode == 0 and "NGX108" in rules.stdout
