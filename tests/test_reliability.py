"""Reliability under faults (docs/reliability.md): what could not be read is said.

Real files, real permissions (the CLI runs as an unprivileged user, see tests/sandbox.py),
real FIFOs, in every output format.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
from reported import FORMATS, reported
from sandbox import sandbox, tlslint

from tlslint import catalogue

NGINX_MAIN = "events {}\nhttp {\n    include conf.d/*.conf;\n}\n"
SERVER = "server {\n    listen 80;\n}\n"


def assert_clean_exit(result: subprocess.CompletedProcess[str], code: int) -> None:
    assert result.returncode == code, result.stdout + result.stderr
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream and "internal error" not in stream, stream


# -- unreadable paths: SRC001 ---------------------------------------------------------------
@pytest.mark.parametrize("output_format", FORMATS)
def test_a_missing_path_is_an_error_in_every_format(tmp_path: Path, output_format: str) -> None:
    """It said "All checks passed (0 files read)", and junit tests="0" errors="0"."""
    (tmp_path / "app.conf").write_text(SERVER)
    result = tlslint(tmp_path, "--format", output_format, "--no-cache", "app.conf", "typo.conf")
    assert_clean_exit(result, 2)
    found = reported(output_format, result.stdout)
    assert [(code, path) for code, _, path in found if code == "SRC001"] == [("SRC001", "typo.conf")]
    severity = next(severity for code, severity, _ in found if code == "SRC001")
    assert severity in ("error", "load")
    if output_format == "text":
        assert "typo.conf: SRC001 [error] no such file or directory" in result.stdout
        assert "All checks passed" not in result.stdout


@pytest.mark.parametrize("output_format", FORMATS)
def test_an_unreadable_directory_named_is_an_error_in_every_format(output_format: str) -> None:
    with sandbox() as box:
        box.write({"locked/app.conf": SERVER})
        (box.root / "locked").chmod(0)
        result = box.tlslint("--format", output_format, "--no-cache", "locked")
        assert_clean_exit(result, 2)
        found = reported(output_format, result.stdout)
        assert [(code, path) for code, _, path in found] == [("SRC001", "locked")]
        if output_format == "text":
            assert result.stdout.startswith("locked: SRC001 [error] cannot be listed: Permission denied\n")


def test_unreadable_paths_in_a_walked_tree_are_warnings() -> None:
    """A directory that cannot be listed, a FIFO and an unreadable candidate file, found by
    the walk: each a warning with its reason (exit 1 at the default fail-on), never silence.
    An unreadable *.conf is a configuration that does not load: NGX001, exit 2."""
    with sandbox() as box:
        box.write(
            {
                "nginx.conf": NGINX_MAIN,
                "conf.d/app.conf": SERVER,
                "private/secret.conf": SERVER,
                "sites-enabled/site": SERVER,
                "overrides.yaml": "virtualhosts: []\n",
                "README.md": "not a candidate\n",
            }
        )
        os.mkfifo(box.root / "sites-enabled" / "pipe")
        box.own()
        for name in ("private", "sites-enabled/site", "overrides.yaml", "README.md"):
            (box.root / name).chmod(0)
        result = box.tlslint("--no-cache", ".")
        assert_clean_exit(result, 1)
        found = sorted(reported("text", result.stdout))
        assert found == [
            ("SRC001", "warning", "overrides.yaml"),
            ("SRC001", "warning", "private"),
            ("SRC001", "warning", "sites-enabled/pipe"),
            ("SRC001", "warning", "sites-enabled/site"),
        ], result.stdout
        assert "private: SRC001 [warning] cannot be listed: Permission denied" in result.stdout
        assert "sites-enabled/site: SRC001 [warning] cannot read: Permission denied" in result.stdout
        assert (
            "sites-enabled/pipe: SRC001 [warning] is a FIFO (named pipe), not a regular file" in result.stdout
        )
        assert box.tlslint("--no-cache", "--fail-on", "error", ".").returncode == 0  # reported all the same
        (box.root / "conf.d" / "app.conf").chmod(0)
        result = box.tlslint("--no-cache", ".")
        assert_clean_exit(result, 2)
        assert "conf.d/app.conf: NGX001 [error] cannot read: Permission denied" in result.stdout


def test_a_fifo_matched_by_an_include_glob_is_a_warning_at_the_include(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "nginx.conf").write_text(NGINX_MAIN)
    (tmp_path / "conf.d" / "app.conf").write_text(SERVER)
    os.mkfifo(tmp_path / "conf.d" / "pipe.conf")
    for target in ("nginx.conf", "."):  # named, and walked (reported once, at the include)
        result = tlslint(tmp_path, "--no-cache", target)  # a FIFO opened would hang: the timeout fails it
        assert_clean_exit(result, 1)
        assert result.stdout.startswith(
            'nginx.conf:3:5: SRC001 [warning] include "conf.d/*.conf" matches conf.d/pipe.conf, which is '
            "a FIFO (named pipe), not a regular file; not read\n"
        ), result.stdout
        assert [code for code, _, _ in reported("text", result.stdout)] == ["SRC001"]


def test_an_include_glob_over_a_directory_that_cannot_be_listed() -> None:
    """Python's glob says nothing and matches nothing; nginx fails: a warning, at the include."""
    with sandbox() as box:
        box.write({"nginx.conf": NGINX_MAIN, "conf.d/app.conf": SERVER})
        (box.root / "conf.d").chmod(0o311)  # searchable, not listable
        result = box.tlslint("--no-cache", "nginx.conf")
        assert_clean_exit(result, 1)
        expected = 'include "conf.d/*.conf": conf.d cannot be listed: Permission denied'
        assert f"nginx.conf:3:5: SRC001 [warning] {expected}" in result.stdout


# -- the catalogue's examples of `target: paths` rules are shell sessions -----------------------
PATH_EXAMPLES = [
    pytest.param(code, example, id=f"{code}-{index}-{'bad' if 'bad' in example else 'good'}")
    for code, entry in catalogue.load_entries().items()
    if entry["target"] == "paths"
    for index, example in enumerate(entry["examples"])
]


@pytest.mark.parametrize(("code", "example"), PATH_EXAMPLES)
def test_path_rule_example(code: str, example: dict[str, str]) -> None:
    """The lines before the last build the tree; the last is the tlslint command line."""
    script = example.get("bad", example.get("good", ""))
    *setup, command = script.strip().splitlines()
    words = shlex.split(command)
    assert words[0] == "tlslint"
    with sandbox() as box:
        if setup:
            box.sh("\n".join(setup))
        result = box.tlslint("--format", "json", "--no-cache", *words[1:])
        codes = [found for found, _, _ in reported("json", result.stdout)]
        assert (code in codes) == ("bad" in example), result.stdout + result.stderr
