"""The console script's typer-free reading of everyday command lines, held to typer's."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tlslint import check_command, cli
from tlslint.quick_args import FAIL_ON, OUTPUT_FORMATS, SUBCOMMANDS, check_arguments

RUN_CHECK_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(check_command.run_check).parameters.items()
}


def typer_reading(args: list[str], monkeypatch: pytest.MonkeyPatch) -> dict[str, object] | None:
    """The arguments typer's `check` hands to run_check, or None when it runs no check."""
    seen: list[dict[str, object]] = []

    def record(paths: object = None, **options: object) -> int:
        seen.append({"paths": paths, **options})
        return 0

    with monkeypatch.context() as patch:
        patch.setattr(check_command, "run_check", record)
        with pytest.raises(SystemExit):
            cli.main(args)
    return seen[0] if seen else None


def as_typer_gives(quick: dict[str, object]) -> dict[str, object]:
    full = {**RUN_CHECK_DEFAULTS, **quick}
    full["paths"] = full["paths"] or None  # typer gives None or [] for "no paths": both mean "."
    return full


def normalised(reading: dict[str, object]) -> dict[str, object]:
    return {**reading, "paths": reading["paths"] or None}


READ_QUICKLY = [
    [],
    ["check"],
    ["nginx.conf"],
    ["check", "a.conf", "sites/b.conf"],
    ["--fix", "."],
    ["check", "--force-exclude", "--fix", "a.conf"],
    ["-q", "--no-cache", "--format", "json", "conf"],
    ["conf", "--format=sarif", "--fail-on", "never"],
    ["--fail-on=info", "--unsafe-fixes", "--diff", "--statistics", "--quiet", "x"],
    ["check", "check"],  # a path named check
    ["check", "rules"],  # a path named like a command, after check
    ["--select", "NGX1,session-cache-missing", "--ignore=NGX401", "a.conf"],
    ["--nginx-version", "1.25", "--config", "ci/tlslint.toml", "."],
    ["--config=x.toml", "--select", "-q", "a.conf"],  # "-q" is --select's value, as in click
    ["--select", "", "--ignore="],
    ["--extend-select", "TLS001", "--select=NGX1", "a.conf"],
    # Repeated selectors add up (pre-commit `args: [--ignore, A, --ignore, B]`).
    ["--ignore", "NGX104", "--ignore=NGX101", "--select", "NGX1", "--select", "NGX2", "a.conf"],
    ["--extend-select", "TLS001", "--extend-select=NGX1"],
]
LEFT_TO_TYPER = [
    ["--help"],
    ["-h"],
    ["a.conf", "-h"],
    ["check", "--help"],
    ["rules"],
    ["explain", "NGX101"],
    ["--format", "xml", "."],
    ["--format"],
    ["--format="],
    ["--", "-odd.conf"],
    ["-"],
    [""],
    ["-qq"],
    ["--fix=1"],
    ["--Format", "json"],
    ["--version", "."],
]


@pytest.mark.parametrize("args", READ_QUICKLY, ids=" ".join)
def test_everyday_command_lines_are_read_as_typer_reads_them(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    quick = check_arguments(args, {})
    assert quick is not None
    reading = typer_reading(args, monkeypatch)
    assert reading is not None
    assert as_typer_gives(quick) == normalised(reading)


@pytest.mark.parametrize("args", LEFT_TO_TYPER, ids=" ".join)
def test_anything_else_is_left_to_typer(args: list[str]) -> None:
    assert check_arguments(args, {}) is None


def test_a_shell_completing_a_word_is_left_to_typer() -> None:
    assert check_arguments(["nginx.conf"], {"_TLSLINT_COMPLETE": "bash_complete"}) is None


def test_the_choices_are_the_cli_enums() -> None:
    assert tuple(member.value for member in cli.OutputFormat) == OUTPUT_FORMATS
    assert tuple(member.value for member in cli.FailOn) == FAIL_ON
    commands = {command.name or command.callback.__name__ for command in cli.app.registered_commands}  # type: ignore[union-attr]
    assert commands == set(SUBCOMMANDS)


WORDS = st.sampled_from(
    [
        "check", "rules", "a.conf", "dir/b.conf", "--fix", "--unsafe-fixes", "--diff", "--statistics",
        "-q", "--quiet", "--force-exclude", "--no-cache", "--format", "json", "text", "xml",
        "--fail-on", "never", "info", "--format=github", "--fail-on=error", "--", "-", "--help",
        "--select", "NGX101", "--ignore=NGX4", "--config", "c.toml", "--nginx-version", "", "--config=", "-h",
        "--extend-select", "--extend-select=NGX1",
    ]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, max_size=6))
def test_whenever_read_quickly_typer_reads_the_same(args: list[str]) -> None:
    quick = check_arguments(args, {})
    if quick is None:
        return
    with pytest.MonkeyPatch.context() as monkeypatch:
        reading = typer_reading(args, monkeypatch)
    assert reading is not None, f"typer runs no check for {args}"
    assert as_typer_gives(quick) == normalised(reading)


def test_a_check_from_the_console_script_does_not_import_typer(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("http {\n    server {\n        listen 80;\n    }\n}\n")
    env = {k: v for k, v in os.environ.items() if k != "_TLSLINT_COMPLETE"}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "tlslint", "check", "--no-cache", "-q", "nginx.conf"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "tlslint.check_command" in imported  # the report is complete, so is the log
    assert not {name for name in imported if name.split(".")[0] in ("typer", "click")}


def test_a_usage_problem_on_the_quick_path_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / ".tlslint.toml").write_text("bogus = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "tlslint", "check", "-q", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"tlslint: {tmp_path.resolve() / '.tlslint.toml'}: unknown setting 'bogus'"
    )
    assert len(result.stderr.splitlines()) == 1
