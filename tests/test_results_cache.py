"""Incremental checking (tlslint.results): a warm run reports what a cold run reports,
byte for byte, and takes the findings of every configuration it did not change from
the cache. Trees: the catalogue's nginx examples (a configuration each), the corpus,
and generated trees, each checked, then one file changed, then checked again."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import shared_path
from helpers import settings_for

from tlslint import catalogue, run_checks
from tlslint.checks import load_checks
from tlslint.engine import RunOptions, RunResult, run
from tlslint.filters import Filters
from tlslint.report import render
from tlslint.results import ResultStore
from tlslint.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parent / "bench"))
from generate import nginx_tree  # type: ignore[import-not-found]

NGINX_RULES = sorted(code for code, meta in catalogue.index().items() if meta.target == "nginx")


def catalogue_tree(root: Path) -> None:
    """Every nginx example of the catalogue, bad and good, a directory each."""
    for code, entry in sorted(catalogue.load_entries().items()):
        if entry["target"] != "nginx":
            continue
        for index, example in enumerate(entry["examples"]):
            for key in ("bad", "good"):
                if key not in example:
                    continue
                files = {example.get("path", "example.conf"): example[key], **example.get("files", {})}
                for name, text in files.items():
                    path = root / f"{code}-{index}-{key}" / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text, encoding="utf-8")


def corpus_tree(root: Path) -> None:
    """The corpus's nginx files, copied into the test's own directory to be edited there."""
    for path in sorted(shared_path("corpus", "nginx").iterdir()):
        if path.suffix == ".conf":
            root.mkdir(parents=True, exist_ok=True)
            (root / path.name).write_bytes(path.read_bytes())


def generated_tree(root: Path) -> None:
    """generate.py's tree: one configuration of 40 virtual hosts."""
    nginx_tree(root, 40, seed=7)


def generated_sites(root: Path) -> None:
    """generate.py's virtual hosts without their nginx.conf: a configuration each."""
    nginx_tree(root / "full", 40, seed=7)
    shutil.move(root / "full" / "sites-enabled", root / "sites")
    shutil.rmtree(root / "full")


TREES: dict[str, Callable[[Path], None]] = {
    "catalogue": catalogue_tree,
    "corpus": corpus_tree,
    "generated": generated_tree,
    "generated-sites": generated_sites,
}
# One file changed, three ways: a comment, a line that changes findings, a new file.
EDITS = ("comment", "directive", "new-file")


def checked(root: Path, settings: Settings, store: ResultStore | None) -> RunResult:
    return run([root], settings, run_options=RunOptions(results=store))


def reports(result: RunResult) -> tuple[str, str]:
    return render("text", result), render("json", result)


def edit(result: RunResult, how: str) -> Path:
    """Change one file of the tree: the first file of a configuration that holds a server{}."""
    target = next(
        path
        for config in result.workspace.nginx
        for path in config.files
        if "server {" in path.read_text(encoding="utf-8")
    )
    text = target.read_text(encoding="utf-8")
    if how == "comment":
        target.write_text(text + "\n# edited\n", encoding="utf-8")
    elif how == "directive":
        # Inside the first server{}: findings about keep-alive and HTTP/2 change.
        at = text.index("server") + text[text.index("server") :].index("{") + 1
        target.write_text(text[:at] + "\n    keepalive_timeout 0;\n" + text[at:], encoding="utf-8")
    else:
        added = target.parent / "zz-added.conf"
        added.write_text(
            "server {\n    listen 443 ssl;\n    server_name added.example;\n}\n", encoding="utf-8"
        )
        return added
    return target


@pytest.mark.parametrize("how", EDITS)
@pytest.mark.parametrize("tree", sorted(TREES))
def test_a_warm_run_reports_what_a_cold_run_reports(tmp_path: Path, tree: str, how: str) -> None:
    root = tmp_path / "tree"
    TREES[tree](root)
    settings = settings_for(tmp_path)
    first = ResultStore.open(tmp_path)
    assert reports(checked(root, settings, first)) == reports(checked(root, settings, None))
    first.save()
    cold = checked(root, settings, None)
    configurations = len(cold.workspace.nginx)

    unchanged = ResultStore.open(tmp_path)
    assert reports(checked(root, settings, unchanged)) == reports(checked(root, settings, None))
    assert unchanged.hits == configurations  # nothing changed: nothing checked again

    edit(cold, how)
    warm = ResultStore.open(tmp_path)
    assert reports(checked(root, settings, warm)) == reports(checked(root, settings, None))
    if configurations > 1:
        assert warm.hits >= configurations - 2  # the one changed (and a new one) checked again
    assert warm.new  # what was checked again is kept for the next run


@pytest.mark.parametrize("tree", sorted(TREES))
def test_each_configuration_checked_alone_finds_what_the_run_finds(tmp_path: Path, tree: str) -> None:
    """The premise of the cache: a rule whose target is nginx finds in one configuration
    what it finds there in a run over all of them (run_checks.run_checks checks the whole
    workspace at once; the engine, each configuration alone)."""
    root = tmp_path / "tree"
    TREES[tree](root)
    settings = settings_for(tmp_path)
    result = checked(root, settings, None)
    assert len(result.workspace.nginx) >= 1
    filters = Filters(settings, result.nginx_files)
    checks = load_checks(lambda code: code in NGINX_RULES)
    whole = run_checks.run_checks(checks, settings, result.workspace, filters, files=0)
    alone = run_checks.checked(checks, settings, result.workspace, filters, files=0, per_config=NGINX_RULES)
    one_by_one = [
        finding
        for check in checks
        for position in range(len(result.workspace.nginx))
        for finding in alone[(position, check.code)]
    ]
    assert one_by_one == whole


def primed(tmp_path: Path) -> tuple[Path, Settings, ResultStore]:
    """generate.py's tree, checked once with a store that kept its findings."""
    root = tmp_path / "tree"
    generated_tree(root)
    settings = settings_for(tmp_path)
    store = ResultStore.open(tmp_path)
    checked(root, settings, store)
    store.save()
    return root, settings, store


def test_a_changed_setting_or_version_checks_again(tmp_path: Path) -> None:
    root, _, _ = primed(tmp_path)
    for other in (
        settings_for(tmp_path, {"nginx": {"version": "1.26.0"}}),
        settings_for(tmp_path, {"profile": "modern"}),
    ):
        again = ResultStore.open(tmp_path)
        assert reports(checked(root, other, again)) == reports(checked(root, other, None))
        assert again.hits == 0
        again.save()
        third = ResultStore.open(tmp_path)
        checked(root, other, third)
        assert third.hits == 1  # and those settings' findings are kept in turn


def test_an_entry_that_is_not_ours_is_not_loaded(tmp_path: Path) -> None:
    root, settings, store = primed(tmp_path)
    for entry in store.directory.iterdir():
        entry.write_bytes(b"\0" * 32 + entry.read_bytes()[32:])  # a forged signature
    forged = ResultStore.open(tmp_path)
    assert reports(checked(root, settings, forged)) == reports(checked(root, settings, None))
    assert forged.hits == 0
