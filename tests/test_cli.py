"""The command line, run as users run it: a subprocess in a working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tlslint import __version__, catalogue

CLEAN = """\
http {
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;
    server {
        listen 443 ssl;
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
    }
}
"""
WARNING_ONLY = CLEAN.replace("shared:SSL:10m", "shared:SSL:1m")  # NGX103, a warning
INFO_ONLY = "http {\n    ssl_session_cache shared:UNUSED:10m;\n}\n"  # NGX108, info


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR", "TLSLINT_DEBUG")}
    base.update(extra)
    return base


def tlslint(cwd: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlslint", *args],
        cwd=cwd,
        env=env(**extra_env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def assert_no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


# --- informational commands --------------------------------------------------------


def test_version(tmp_path: Path) -> None:
    result = tlslint(tmp_path, "--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"tlslint {__version__}\n", "")


def test_version_through_the_cli_framework(tmp_path: Path) -> None:
    # `--version` among other arguments skips the fast path in __main__.
    result = tlslint(tmp_path, "--version", "--help")
    assert result.returncode == 0
    assert result.stdout == f"tlslint {__version__}\n"


def test_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "tlslint"
    if not script.exists():
        pytest.skip("the tlslint console script is not installed beside this interpreter")
    result = subprocess.run(
        [str(script), "--version"], cwd=tmp_path, env=env(), capture_output=True, text=True
    )
    assert result.stdout == f"tlslint {__version__}\n"


def test_rules_lists_every_code(tmp_path: Path) -> None:
    result = tlslint(tmp_path, "rules")
    assert result.returncode == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    index = catalogue.index()
    assert listed == list(index)
    for line, meta in zip(result.stdout.splitlines(), index.values(), strict=True):
        assert meta.name in line and str(meta.severity) in line


def test_rules_as_json(tmp_path: Path) -> None:
    result = tlslint(tmp_path, "rules", "--format", "json")
    payload = json.loads(result.stdout)
    assert [entry["code"] for entry in payload] == list(catalogue.index())
    assert {entry["severity"] for entry in payload} <= {"error", "warning", "info"}


@pytest.mark.parametrize("name", ["NGX101", "ngx101", "ssl-session-cache-missing"])
def test_explain(tmp_path: Path, name: str) -> None:
    result = tlslint(tmp_path, "explain", name)
    assert result.returncode == 0
    page = result.stdout
    assert page.startswith("# NGX101 ssl-session-cache-missing\n")
    sections = [line for line in page.splitlines() if line.startswith("## ")]
    assert sections[:5] == ["## What it does", "## Why is this bad", "## Example", "## Use instead", "## Fix"]
    assert "ssl_session_cache shared:SSL:10m;" in page
    assert "https://nginx.org/en/docs/http/ngx_http_ssl_module.html#ssl_session_cache" in page


def test_explain_unknown_rule(tmp_path: Path) -> None:
    result = tlslint(tmp_path, "explain", "nope")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "unknown rule 'nope'" in result.stderr
    assert_no_traceback(result)
    near = tlslint(tmp_path, "explain", "NGX-101")
    assert near.returncode == 2
    assert "unknown rule 'NGX-101'; did you mean NGX101?" in near.stderr


def test_select_typo_on_the_command_line_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "tls.conf", WARNING_ONLY)
    result = tlslint(tmp_path, "check", "--select", "NGX9", "tls.conf")
    assert result.returncode == 2
    assert "--select: 'NGX9' is no rule code" in result.stderr
    assert_no_traceback(result)


def test_explain_suggests_a_rule_name(tmp_path: Path) -> None:
    result = tlslint(tmp_path, "explain", "ssl-session-cache-mising")
    assert result.returncode == 2
    assert "did you mean ssl-session-cache-missing?" in result.stderr


# --- check: targets and exit codes ---------------------------------------------------


def test_directory_named_rules_is_checked_with_the_explicit_command(tmp_path: Path) -> None:
    write(tmp_path / "rules" / "tls.conf", WARNING_ONLY)
    listed = tlslint(tmp_path, "rules")  # the subcommand, not the directory
    assert "NGX101  ssl-session-cache-missing" in listed.stdout
    assert "rules/tls.conf" not in listed.stdout
    checked = tlslint(tmp_path, "check", "rules")
    assert checked.returncode == 1
    assert "rules/tls.conf:2:5: NGX103 [warning]" in checked.stdout
    implicit = tlslint(tmp_path, "./rules")  # a path is the default command
    assert "rules/tls.conf:2:5: NGX103 [warning]" in implicit.stdout


def test_default_command_checks_the_current_directory(tmp_path: Path) -> None:
    write(tmp_path / "conf.d" / "tls.conf", WARNING_ONLY)
    result = tlslint(tmp_path)
    assert result.returncode == 1
    assert "conf.d/tls.conf:2:5: NGX103" in result.stdout


EXIT_CASES = {
    "clean": (CLEAN, (), 0),
    "warning": (WARNING_ONLY, (), 1),
    "fail-on-error": (WARNING_ONLY, ("--fail-on", "error"), 0),
    "fail-on-warning": (WARNING_ONLY, ("--fail-on", "warning"), 1),
    "fail-on-never": (WARNING_ONLY, ("--fail-on", "never"), 0),
    "info": (INFO_ONLY, (), 0),
    "fail-on-info": (INFO_ONLY, ("--fail-on", "info"), 1),
    "parse-error": (CLEAN + "}\n", ("--fail-on", "never"), 2),
    # usage errors
    "bad-format": (CLEAN, ("--format", "xml"), 2),
    "bad-fail-on": (CLEAN, ("--fail-on", "sometimes"), 2),
    "unknown-option": (CLEAN, ("--no-such-option",), 2),
    "missing-path": (CLEAN, ("gone.conf",), 2),
}


@pytest.fixture(scope="module")
def exit_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each case in its own directory, run in parallel (start-up is ~0.3 s a process)."""
    jobs = {}
    for name, (text, args, _code) in EXIT_CASES.items():
        directory = tmp_path_factory.mktemp(name)
        write(directory / "site.conf", text)
        # NGX1 only: the cases are built for the session rules; other families may
        # have a say on these texts (unknown-option and missing-path fail before).
        jobs[name] = (directory, ("check", "--select", "NGX0,NGX1", *args, "site.conf"))
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {name: pool.submit(tlslint, directory, *args) for name, (directory, args) in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("name", list(EXIT_CASES))
def test_exit_codes(exit_results: dict[str, subprocess.CompletedProcess[str]], name: str) -> None:
    result = exit_results[name]
    assert result.returncode == EXIT_CASES[name][2], result.stdout + result.stderr
    assert_no_traceback(result)
    if result.returncode == 2 and name != "parse-error":
        assert result.stderr  # usage errors say what is wrong


def test_usage_error_messages(exit_results: dict[str, subprocess.CompletedProcess[str]]) -> None:
    assert "'xml' is not one of 'text', 'json', 'sarif', 'github'" in exit_results["bad-format"].stderr
    assert "'sometimes' is not one of" in exit_results["bad-fail-on"].stderr
    assert "No such option: --no-such-option" in exit_results["unknown-option"].stderr
    assert "tlslint: gone.conf: no such file or directory" in exit_results["missing-path"].stderr
    assert exit_results["clean"].stdout == "All checks passed (1 file read).\n"


def test_fail_on_from_the_command_line_beats_settings(tmp_path: Path) -> None:
    write(tmp_path / ".tlslint.toml", 'select = ["NGX1"]\nfail-on = "error"\n')
    write(tmp_path / "site.conf", WARNING_ONLY)
    assert tlslint(tmp_path, "check", "site.conf").returncode == 0
    assert tlslint(tmp_path, "check", "--fail-on", "warning", "site.conf").returncode == 1


def test_select_and_ignore_options(tmp_path: Path) -> None:
    write(tmp_path / "site.conf", WARNING_ONLY.replace("ssl_session_timeout 1d", "ssl_session_timeout 1m"))
    selected = tlslint(tmp_path, "check", "-q", "--select", "NGX104", "site.conf")
    assert "NGX104" in selected.stdout and "NGX103" not in selected.stdout
    ignored = tlslint(tmp_path, "check", "-q", "--ignore", "ssl-session-timeout-out-of-range", "site.conf")
    assert "NGX103" in ignored.stdout and "NGX104" not in ignored.stdout


# --- colour ----------------------------------------------------------------------------


def test_no_color_is_respected(tmp_path: Path) -> None:
    write(tmp_path / "site.conf", WARNING_ONLY)
    plain = tlslint(tmp_path, "check", "site.conf", NO_COLOR="1")
    assert plain.returncode == 1
    assert "\x1b" not in plain.stdout + plain.stderr
    forced = tlslint(tmp_path, "check", "site.conf", FORCE_COLOR="1")
    assert "\x1b[" in forced.stdout  # the same run in colour, so the check above can fail


# --- python -m tlslint -------------------------------------------------------------------


def test_python_dash_m(tmp_path: Path) -> None:
    # Every test here runs `python -m tlslint`; this one checks the top-level help.
    helped = tlslint(tmp_path, "--help")
    assert helped.returncode == 0
    assert "Usage: tlslint" in helped.stdout
    for command in ("check", "rules", "explain"):
        assert command in helped.stdout


HELP_ASKED = [["-h"], ["check", "-h"], ["rules", "-h"], ["nginx.conf", "-h"]]


@pytest.mark.parametrize("args", HELP_ASKED, ids=" ".join)
def test_dash_h_is_help(tmp_path: Path, args: list[str]) -> None:
    helped = tlslint(tmp_path, *args)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: tlslint")
    assert "-h, --help" in helped.stdout


SHELL_MARKS = {"bash": "COMP_WORDS", "zsh": "#compdef tlslint", "fish": "complete --command tlslint"}


@pytest.mark.parametrize("shell", sorted(SHELL_MARKS))
@pytest.mark.parametrize("form", ["separate", "equals"])
def test_show_completion_prints_the_named_shells_script(tmp_path: Path, shell: str, form: str) -> None:
    args = ["--show-completion", shell] if form == "separate" else [f"--show-completion={shell}"]
    shown = tlslint(tmp_path, *args, SHELL="/bin/bash")  # run from bash, asked for another
    assert shown.returncode == 0, shown.stderr
    for other, mark in SHELL_MARKS.items():
        assert (mark in shown.stdout) == (other == shell), other
    assert "_TLSLINT_COMPLETE=complete_" in shown.stdout


def test_show_completion_refuses_an_unknown_shell(tmp_path: Path) -> None:
    refused = tlslint(tmp_path, "--show-completion", "ksh")
    assert refused.returncode == 2
    assert refused.stdout == ""
    shells = "bash, zsh, fish, powershell, pwsh"
    assert f"--show-completion: unknown shell 'ksh' (one of: {shells})" in refused.stderr


def test_install_completion_for_the_named_shell(tmp_path: Path) -> None:
    installed = tlslint(tmp_path, "--install-completion", "zsh", HOME=str(tmp_path), SHELL="/bin/bash")
    assert installed.returncode == 0, installed.stderr
    assert "zsh completion installed in" in installed.stdout
    assert "#compdef tlslint" in (tmp_path / ".zfunc" / "_tlslint").read_text(encoding="utf-8")
    assert not (tmp_path / ".bashrc").exists()
