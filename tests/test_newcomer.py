"""A newcomer's first steps, end to end, from a copy of this checkout.

One fresh virtual environment per session (``python -m venv`` + ``pip install <copy>``,
no editable install, dependencies from the package index), then the README's path:
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


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("newcomer")
    checkout = copy_working_tree(base / "tlslint")
    venv = base / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True)
    if made.returncode != 0:
        _unavailable(f"python -m venv failed: {made.stderr.strip()}")
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    pip = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(checkout)],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
    )
    assert pip.returncode == 0, f"pip install of the checkout failed:\n{pip.stdout}\n{pip.stderr}"
    home = base / "home"
    home.mkdir()
    return Installed(venv, checkout, home)


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
    assert "examples-check/edge/sites-enabled/00-catch-all.conf:2:1: NGX101 [error]" in result.stdout
    assert re.search(r"^Found \d+ findings? \(", result.stdout, re.M)
    assert "fixable with `tlslint --fix`" in result.stdout


def test_fix_on_a_copy_of_the_examples(installed: Installed) -> None:
    examples = installed.home / "examples-fix"
    shutil.copytree(installed.checkout / "examples", examples)
    before = installed.tlslint(examples, "--quiet")
    fixed = installed.tlslint(examples, "--fix", "--quiet")
    assert re.search(r"^tlslint: fixed \d+ files?$", fixed.stderr, re.M), fixed.stderr
    conf = (examples / "edge" / "nginx.conf").read_text(encoding="utf-8")
    assert "ssl_session_cache shared:" in conf
    assert "ssl_session_timeout 5m;" in conf
    after = installed.tlslint(examples, "--quiet")
    assert ": NGX101 " in before.stdout and ": NGX101 " not in after.stdout
    assert len(after.stdout.splitlines()) < len(before.stdout.splitlines())
    pristine = (installed.checkout / "examples" / "edge" / "nginx.conf").read_text(encoding="utf-8")
    assert pristine != conf  # the copy changed, never the checkout


def test_explain(installed: Installed) -> None:
    result = installed.tlslint(installed.home, "explain", "NGX101")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# NGX101 ssl-session-cache-missing")
    assert "## Why is this bad" in result.stdout


def test_the_github_action_run_step(installed: Installed, tmp_path: Path) -> None:
    """action.yml's run step as the runner runs it, given tlslint as its install step would."""
    from ruamel.yaml import YAML

    action = YAML(typ="safe", pure=True).load((installed.checkout / "action.yml").read_text(encoding="utf-8"))
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "run")
    workspace = tmp_path / "workspace"
    shutil.copytree(installed.checkout / "examples", workspace / "examples")
    output = tmp_path / "github_output"
    output.touch()
    env = {
        **installed.env(),
        "TLSLINT": str(installed.bin / "tlslint"),
        "INPUT_PATHS": "examples",
        "INPUT_ARGS": "--fail-on error",
        "INPUT_FORMAT": "sarif",
        "INPUT_OUTPUT": "tlslint.sarif",
        "GITHUB_OUTPUT": str(output),
    }
    proc = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        cwd=workspace,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # NGX101 and NGX107 are errors
    import json

    log = json.loads((workspace / "tlslint.sarif").read_text(encoding="utf-8"))
    assert log["runs"][0]["results"]
    assert "exit-code=1" in output.read_text(encoding="utf-8").splitlines()
