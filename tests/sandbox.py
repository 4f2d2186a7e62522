"""Run the real CLI where file permissions hold, on a tree of real files.

CI runs as root, and root reads a chmod 000 file and writes a read-only one
(CAP_DAC_OVERRIDE). The tests of unreadable paths and unwritable files therefore run
the CLI as ``nobody`` (uid 65534, no groups, no capabilities) through ``setpriv``; as
any other user the permissions hold already and the CLI runs as that user. The tree
lives in a directory of its own under the system's temporary directory (pytest's
``tmp_path`` is root's, mode 0700, out of nobody's reach), owned by the user the CLI
runs as, so that ``--fix`` may write where the test means it to.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

NOBODY = 65534
SETPRIV = "/usr/bin/setpriv"


@dataclass
class Sandbox:
    """A tree (``root``) and a way to run commands on it as the unprivileged user."""

    root: Path
    prefix: tuple[str, ...]  # the command prefix that drops privileges ('' when not root)
    env: dict[str, str] = field(default_factory=dict)

    def write(self, files: Mapping[str, str | bytes]) -> None:
        for name, content in files.items():
            path = self.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        self.own()

    def own(self) -> None:
        """Give everything in the tree (and the cache) to the user commands run as."""
        if os.geteuid() != 0:
            return  # they run as this user
        user = NOBODY if self.prefix == AS_NOBODY else 0
        os.chown(self.root, user, user)
        os.chown(self.env["XDG_CACHE_HOME"], user, user)
        for directory, dirs, files in os.walk(self.root):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(directory, name), user, user)

    def popen(self, *args: str, cwd: Path | None = None) -> subprocess.Popen[str]:
        """``tlslint ARGS`` started as the unprivileged user (output captured)."""
        return popen(cwd or self.root, *args, prefix=self.prefix, env=self.env)

    def tlslint(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return finish(self.popen(*args, cwd=cwd))

    def sh(self, script: str) -> subprocess.CompletedProcess[str]:
        """A shell script run in the tree as the unprivileged user; it must succeed."""
        result = subprocess.run(
            [*self.prefix, "/bin/sh", "-ec", script],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TLSLINT_DEBUG")}
    env["NO_COLOR"] = "1"
    return env


def popen(
    cwd: Path, *args: str, prefix: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*prefix, sys.executable, "-m", "tlslint", *args],
        cwd=cwd,
        env=env or cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Its output and status; a hang fails the test instead of the run."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def tlslint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tlslint ARGS`` in ``cwd``, as the user running the tests."""
    return finish(popen(cwd, *args))


# As root, two ways to lose CAP_DAC_OVERRIDE, tried in turn: become nobody (the tree is
# then given to nobody), or stay uid 0 without the capabilities that bypass permissions
# (where nobody cannot reach this interpreter, say a checkout under /root).
AS_NOBODY = (SETPRIV, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all", "--")
WITHOUT_CAPABILITIES = (SETPRIV, "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search", "--")


@contextlib.contextmanager
def sandbox() -> Iterator[Sandbox]:
    """A fresh tree; skips (with the reason) where privileges cannot be dropped so that
    this interpreter still runs tlslint."""
    if os.geteuid() == 0 and not os.access(SETPRIV, os.X_OK):
        pytest.skip(f"running as root without {SETPRIV}: file permissions cannot be enforced")
    top = Path(tempfile.mkdtemp(prefix="tlslint-sandbox-"))
    try:
        os.chmod(top, 0o755)
        root, cache = top / "tree", top / "cache"
        root.mkdir()
        cache.mkdir()
        env = cli_env()
        env.update(HOME=str(cache), XDG_CACHE_HOME=str(cache))
        problems = []
        for prefix in (AS_NOBODY, WITHOUT_CAPABILITIES) if os.geteuid() == 0 else ((),):
            box = Sandbox(root, prefix, env)
            box.own()
            probe = subprocess.run(
                [*prefix, sys.executable, "-c", "import tlslint"],
                cwd=root,
                env=env,
                capture_output=True,
                check=False,
            )
            if probe.returncode == 0:
                yield box
                return
            problems.append(f"{' '.join(prefix[:3])}: {probe.stderr[-200:]!r}")
        pytest.skip(f"no unprivileged way to run {sys.executable} with tlslint: {'; '.join(problems)}")
    finally:
        _remove(top)


def _remove(top: Path) -> None:
    """Remove the tree whatever modes the test left (a directory of mode 000 included)."""

    def retry(function: object, path: str, _info: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), stat.S_IRWXU)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, stat.S_IRWXU)
                shutil.rmtree(path, onerror=retry)
            else:
                os.unlink(path)

    for directory, dirs, _files in os.walk(top):
        for name in dirs:  # before os.walk descends into it
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                with contextlib.suppress(OSError):
                    os.chmod(path, stat.S_IRWXU)
    shutil.rmtree(top, onerror=retry)
