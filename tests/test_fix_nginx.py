"""Fixed output is valid nginx: every corpus file that passes `nginx -t` before
--fix passes it after (nginx.version = 1.22, Debian's 1.22.1 in CI)."""

from __future__ import annotations

from pathlib import Path

import nginx_harness
import pytest
from conftest import shared_path
from helpers import settings_for
from test_fixing import split_statement_cases
from test_nginx_harness import H5BP_TREE, MANIFEST_KINDS, MANIFEST_ROWS

from tlslint.engine import run
from tlslint.fixing import apply_fixes

PASSING = [row for row in MANIFEST_ROWS if row[2] == "pass"]


@pytest.fixture
def nginx() -> str:
    from conftest import nginx_binary

    return nginx_binary()


@pytest.mark.nginx
@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
@pytest.mark.parametrize("row", PASSING or [None], ids=[r[0] for r in PASSING] or ["corpus-absent"])
def test_fixed_corpus_file_passes_nginx_t(
    nginx: str, tmp_path: Path, row: list[str] | None, unsafe: bool
) -> None:
    corpus = shared_path("corpus", "nginx")
    assert row is not None
    name, manifest_kind = row[0], row[1]
    original = (corpus / name).read_text(encoding="utf-8")
    path = tmp_path / name
    path.write_text(original, encoding="utf-8")
    configured = settings_for(tmp_path, {"nginx": {"version": "1.22"}})
    outcome = apply_fixes(run([path], configured), configured, unsafe=unsafe, write=True)
    fixed = path.read_text(encoding="utf-8")
    second = apply_fixes(run([path], configured), configured, unsafe=unsafe, write=False)
    assert second.diff == "", "a second --fix changes nothing"
    kind = MANIFEST_KINDS[manifest_kind]
    result = nginx_harness.nginx_t(fixed, kind=kind, stub_missing_includes=name in H5BP_TREE)
    assert result.ok, f"{outcome.diff}\n{result.describe()}"


@pytest.mark.nginx
@pytest.mark.parametrize(("rules", "unsafe", "before", "after"), split_statement_cases())
def test_a_statement_fixed_around_its_comments_passes_nginx_t(
    nginx: str, tmp_path: Path, rules: list[str], unsafe: bool, before: str, after: str
) -> None:
    """A fix that keeps the comments of a statement spread over lines (test_fixing holds
    its bytes, ``after``) leaves text that nginx accepts, as it accepted the text before."""
    assert nginx_harness.nginx_t(before).ok
    path = tmp_path / "nginx.conf"
    path.write_bytes(before.encode())
    configured = settings_for(tmp_path, {"select": rules, "nginx": {"version": "1.22.1"}})
    apply_fixes(run([path], configured), configured, unsafe=unsafe, write=True)
    fixed = path.read_bytes().decode()
    assert fixed == after
    result = nginx_harness.nginx_t(fixed)
    assert result.ok, result.describe()
