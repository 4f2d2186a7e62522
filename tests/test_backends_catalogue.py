"""The nginx side of every BKD example is valid nginx (the real ``nginx -t``).

tests/test_catalogue_nginx.py checks the examples of ``target: nginx`` rules;
the BKD examples are multi-file (an nginx file beside an app-server file), so
their nginx files (``*.conf``: the example itself, its fixed text, or one of
its ``files``) are checked here. The 1.29.7+ syntax is avoided in them, so all
must pass on the installed nginx (1.22.1 on Debian 12).
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import nginx_binary
from nginx_harness import nginx_t

from tlslint import catalogue

pytestmark = pytest.mark.nginx

ENTRIES = catalogue.load_entries()


def _nginx_texts(example: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    path = example.get("path", "example.conf")
    if path.endswith(".conf"):
        found += [(key, example[key]) for key in ("bad", "good", "fixed") if key in example]
    found += [
        (f"files[{name}]", text) for name, text in example.get("files", {}).items() if name.endswith(".conf")
    ]
    return found


CASES = [
    pytest.param(text, id=f"{code}-{index}-{key}")
    for code, entry in ENTRIES.items()
    if code.startswith("BKD")
    for index, example in enumerate(entry["examples"])
    for key, text in _nginx_texts(example)
]


def test_every_bkd_example_has_an_nginx_file() -> None:
    for code, entry in ENTRIES.items():
        if code.startswith("BKD"):
            for index, example in enumerate(entry["examples"]):
                assert _nginx_texts(example), f"{code} examples[{index}] has no nginx file"


@pytest.mark.parametrize("text", CASES)
def test_nginx_accepts_the_example(text: str) -> None:
    nginx_binary()
    result = nginx_t(text)
    assert result.ok and not result.errors, result.describe()
