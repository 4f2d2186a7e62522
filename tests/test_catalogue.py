"""Every catalogue example is a test: bad raises the code, good does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, codes

from tlslint import catalogue
from tlslint.checks import CHECK_MODULES

ENTRIES = catalogue.load_entries()
EXAMPLES = [
    pytest.param(code, index, example, id=f"{code}-{index}-{'bad' if 'bad' in example else 'good'}")
    for code, entry in ENTRIES.items()
    for index, example in enumerate(entry["examples"])
]


def run_example(tmp_path: Path, code: str, example: dict[str, Any], text: str) -> list[str]:
    settings = {**example.get("settings", {}), "select": [code]}
    files = {example.get("path", "example.conf"): text, **example.get("files", {})}
    return codes(check_files(tmp_path, files, settings))


@pytest.mark.parametrize(("code", "index", "example"), EXAMPLES)
def test_example(tmp_path: Path, code: str, index: int, example: dict[str, Any]) -> None:
    if "bad" in example:
        assert code in run_example(tmp_path, code, example, example["bad"])
    else:
        assert code not in run_example(tmp_path, code, example, example["good"])


def test_index_is_fresh() -> None:
    """rules/index.json is compiled from the YAML (python -m tlslint.catalogue)."""
    compiled = catalogue.compile_index(ENTRIES)
    assert (catalogue.rules_dir() / catalogue.INDEX_NAME).read_text() == compiled


def test_every_check_has_an_entry_and_every_entry_a_check_or_loader() -> None:
    checked = {name[:6].upper() for name in CHECK_MODULES}
    loaders = {"NGX001", "NGX002", "NGX003"}
    assert checked | loaders == {c for c in ENTRIES if c.startswith("NGX")}


def test_every_rule_has_bad_and_good_examples() -> None:
    for code, entry in ENTRIES.items():
        kinds = {"bad" if "bad" in e else "good" for e in entry["examples"]}
        assert kinds == {"bad", "good"}, code
