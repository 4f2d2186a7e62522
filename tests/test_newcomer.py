"""A newcomer's first steps, end to end, from a copy of this checkout.

One fresh virtual environment per session, made by the README's first command run
verbatim in a copy with nothing beside it (no ``../shared``; no editable install,
dependencies from the package index); the README's test command collects there too.
Then the README's path:
``tlslint init``, ``tlslint examples/``, ``tlslint --fix`` on a copy of the examples,
``tlslint explain NGX101``. The commands run outside the checkout, so only the
installed package can answer.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import IN_CI, ROOT

from tlslint.init import detect_nginx_version

# Never copied: caches and environments a working tree may hold.
SKIPPED = frozenset(
    {".git", ".venv", "venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache",
     ".hypothesis", ".tlslint_cache", "build", "dist", "site", "node_modules"}
)  # fmt: skip
INSTALL_TIMEOUT = 600


def copy_working_tree(dest: Path) -> Path:
    """The working tree as it stands, tracked and untracked files alike, without caches."""
    dest.mkdir(parents=True, exist_ok=True)
    names = _git_files() if (ROOT / ".git").exists() and shutil.which("git") else None
    if names is None:
        names = [p.relative_to(ROOT).as_posix() for p in _walk(ROOT)]
    for name in names:
        parts = Path(name).parts
        source = ROOT / name
        if SKIPPED.intersection(parts) or not source.is_file() or parts[-1].endswith((".pyc", ".whl")):
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return dest


def _git_files() -> list[str] | None:
    """Tracked and untracked, not ignored (read-only: ``git ls-files`` writes nothing)."""
    proc = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return [n for n in proc.stdout.split("\0") if n] if proc.returncode == 0 else None


def _walk(directory: Path) -> list[Path]:
    found = []
    for entry in sorted(directory.iterdir()):
        if entry.name in SKIPPED or entry.name.endswith(".egg-info"):
            continue
        found.extend(_walk(entry) if entry.is_dir() else [entry])
    return found


@dataclass(frozen=True)
class Installed:
    venv: Path
    checkout: Path
    home: Path  # a directory outside the checkout to work in

    @property
    def bin(self) -> Path:
        return self.venv / ("Scripts" if os.name == "nt" else "bin")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FORCE_COLOR", "TLSLINT_DEBUG")}
        env["PATH"] = os.pathsep.join([str(self.bin), env.get("PATH", "")])
        env["NO_COLOR"] = "1"
        env["VIRTUAL_ENV"] = str(self.venv)
        return env

    def tlslint(self, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin / "tlslint"), *args],
            cwd=cwd,
            env=self.env(),
            stdin=subprocess.DEVNULL,  # not a terminal: init asks nothing
            capture_output=True,
            text=True,
            timeout=120,
        )


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def readme_command(heading: str) -> str:
    """The one-line command in the ```sh block after the README line starting ``heading``
    (as `.ci/run` reads the test command)."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    fence = next(i for i in range(start, len(lines)) if lines[i].startswith("```sh"))
    return lines[fence + 1]


FIRST_COMMAND = "Install and run it on the bundled example"
TEST_COMMAND = "Install with the test extras"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The README's first command, verbatim, in a copy with nothing beside it (no ../shared)."""
    base = tmp_path_factory.mktemp("newcomer")
    checkout = copy_working_tree(base / "alone" / "tlslint")
    assert sorted(p.name for p in checkout.parent.iterdir()) == ["tlslint"]
    command = readme_command(FIRST_COMMAND)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "TLSLINT_DEBUG")}
    env["NO_COLOR"] = "1"
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    proc = subprocess.run(
        ["bash", "-c", command],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    venv = checkout / ".venv"
    if not (venv / "bin" / "python").exists():
        _unavailable(f"`{command}` made no virtual environment: {proc.stderr.strip()[-2000:]}")
    # The bundled example has findings: exit 1 and a report, not a traceback.
    assert proc.returncode == 1, f"`{command}` exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    assert re.search(r"^Found \d+ findings? \(", proc.stdout, re.M), proc.stdout
    assert "Traceback" not in proc.stderr
    home = base / "home"
    home.mkdir()
    return Installed(venv, checkout, home)


def test_the_test_command_collects_in_a_lone_copy(installed: Installed) -> None:
    """The README's test command, as far as pytest's collection, in a copy with nothing
    beside it: the tests that read ../shared are collected and skip with a reason."""
    command = readme_command(TEST_COMMAND)
    pytest_args = command.split("-m pytest", 1)[1].split()
    assert "pytest" in command and pytest_args == ["-q"], command
    env = {k: v for k, v in os.environ.items() if k not in ("TLSLINT_REQUIRE_SHARED", "CI")}
    # This interpreter has the test extras; the copy's own package comes first on the path.
    env["PYTHONPATH"] = str(installed.checkout)
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", *pytest_args, "--co", "-p", "no:cacheprovider"],
        cwd=installed.checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    assert "error" not in collected.stdout.splitlines()[-1], collected.stdout[-3000:]
    assert "shared-absent" in collected.stdout  # the corpus tests are collected, to be skipped
    shared_test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", "tests/test_lexer.py",
         "-k", "shared-absent"],
        cwd=installed.checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert shared_test.returncode == 0, shared_test.stdout
    assert "../shared (the corpus and schemas) is not beside this checkout" in shared_test.stdout
    required = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_lexer.py",
         "-k", "shared-absent"],
        cwd=installed.checkout,
        env={**env, "TLSLINT_REQUIRE_SHARED": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert required.returncode == 1 and "TLSLINT_REQUIRE_SHARED=1 forbids skipping" in required.stdout


def test_the_installed_package_answers(installed: Installed) -> None:
    proc = subprocess.run(
        [str(installed.bin / "python"), "-c", "import tlslint; print(tlslint.__file__)"],
        cwd=installed.home,
        env=installed.env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert Path(proc.stdout.strip()).is_relative_to(installed.venv)
    version = installed.tlslint(installed.home, "--version")
    assert version.returncode == 0 and version.stdout.startswith("tlslint ")


def test_init_writes_a_starter_config(installed: Installed, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    result = installed.tlslint(project, "init")
    assert result.returncode == 0, result.stderr
    written = (project / ".tlslint.toml").read_text(encoding="utf-8")
    assert written.startswith("# tlslint settings, written by `tlslint init`.")
    detected = detect_nginx_version()  # the same search, from this checkout's code
    if detected is not None:
        assert f'version = "{detected.version}"  # `nginx -v` of {detected.binary}' in written
    else:
        assert '# version = "1.22"' in written
    again = installed.tlslint(project, "init")
    assert again.returncode == 2 and "already exist" in again.stderr
    shown = installed.tlslint(project, "--show-settings")
    assert shown.returncode == 0
    assert f"# settings file: {project / '.tlslint.toml'}" in shown.stdout


def test_examples_have_real_findings(installed: Installed) -> None:
    examples = installed.home / "examples-check"
    shutil.copytree(installed.checkout / "examples", examples)
    result = installed.tlslint(installed.home, "examples-check/")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "examples-check/edge/sites-enabled/api.conf:7:5: NGX107 [error]" in result.stdout
    assert re.search(r"^Found \d+ findings? \(", result.stdout, re.M)
    assert "fixable with `tlslint --fix`" in result.stdout


def test_fix_on_a_copy_of_the_examples(installed: Installed) -> None:
    examples = installed.home / "examples-fix"
    shutil.copytree(installed.checkout / "examples", examples)
    before = installed.tlslint(examples, "--quiet")
    fixed = installed.tlslint(examples, "--fix", "--quiet")
    assert re.search(r"^tlslint: fixed \d+ files?$", fixed.stderr, re.M), fixed.stderr
    conf = (examples / "edge" / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"ssl_session_cache +shared:", conf)  # moved to http{} by NGX107's fix
    assert "ssl_session_timeout 2m;" in conf  # the operator's value: NGX104's fix is unsafe
    after = installed.tlslint(examples, "--quiet")
    assert ": NGX107 " in before.stdout and ": NGX107 " not in after.stdout
    assert len(after.stdout.splitlines()) < len(before.stdout.splitlines())
    pristine = (installed.checkout / "examples" / "edge" / "nginx.conf").read_text(encoding="utf-8")
    assert pristine != conf  # the copy changed, never the checkout


def test_explain(installed: Installed) -> None:
    result = installed.tlslint(installed.home, "explain", "NGX101")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# NGX101 ssl-session-cache-missing")
    assert "## Why is this bad" in result.stdout


def _run_action_step(
    installed: Installed, workspace: Path, inputs: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """action.yml's run step as the runner runs it (`shell: bash`: bash -e -o pipefail),
    given tlslint as its install step would, in ``workspace``; and its GITHUB_OUTPUT file."""
    from ruamel.yaml import YAML

    action = YAML(typ="safe", pure=True).load((installed.checkout / "action.yml").read_text(encoding="utf-8"))
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    shutil.copytree(installed.checkout / "examples", workspace / "examples")
    output = workspace.parent / "github_output"
    output.touch()
    env = {
        **installed.env(),
        "TLSLINT": str(installed.bin / "tlslint"),
        "GITHUB_OUTPUT": str(output),
        **inputs,
    }
    proc = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc, output


def test_the_github_action_run_step(installed: Installed, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    inputs = {"INPUT_PATHS": "examples", "INPUT_ARGS": "--fail-on error", "INPUT_FORMAT": "sarif"}
    proc, output = _run_action_step(installed, workspace, {**inputs, "INPUT_OUTPUT": "tlslint.sarif"})
    assert proc.returncode == 1, proc.stdout + proc.stderr  # NGX101 and NGX107 are errors
    import json

    log = json.loads((workspace / "tlslint.sarif").read_text(encoding="utf-8"))
    assert log["runs"][0]["results"]
    assert "exit-code=1" in output.read_text(encoding="utf-8").splitlines()


def test_the_github_action_splits_multi_line_inputs(installed: Installed, tmp_path: Path) -> None:
    """`paths: |` and `args: |` blocks arrive with newlines: every line is used (a `read -a`
    took the first line only, and the step passed on a tree it never checked)."""
    workspace = tmp_path / "workspace"
    (workspace / "empty").mkdir(parents=True)
    inputs = {"INPUT_PATHS": "empty\nexamples\n", "INPUT_ARGS": "--quiet\n--fail-on error\n"}
    proc, output = _run_action_step(
        installed, workspace, {**inputs, "INPUT_FORMAT": "text", "INPUT_OUTPUT": ""}
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # examples/ was checked: errors
    assert "examples/edge/sites-enabled/api.conf:7:5: NGX107 [error]" in proc.stdout
    assert "Found " not in proc.stdout  # --quiet, the first line of args, still applies
    assert "exit-code=1" in output.read_text(encoding="utf-8").splitlines()
