"""Render kustomize builds with the real engine.

Each root is built through a temporary *wrapper* kustomization, outside the
user's tree, that lists the root as its only resource and adds
``buildMetadata: [originAnnotations]``: every rendered resource then names the
file it came from (``config.kubernetes.io/origin``), and no file of the user's
is edited. ``kustomize build`` is used when that binary is on PATH, else
``kubectl kustomize`` (kustomize v5 is built into kubectl).

Remote bases are never fetched unless the caller allows it: besides roots with
a remote reference being left out before building, the engine runs with git
limited to local repositories and HTTP(S) sent to a closed local port, so that a
reference the graph did not recognise as remote fails instead of fetching.

Builds run in parallel (threads waiting on processes).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 120.0  # seconds for one build
WRAPPER = """\
# Written by tlslint to render {root} with origin annotations; deleted after the build.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- {resource}
buildMetadata: [originAnnotations]
"""
# Fetching refused: git may only read local repositories; HTTP(S) goes to a closed port.
_OFFLINE = {
    "GIT_ALLOW_PROTOCOL": "file",
    "GIT_TERMINAL_PROMPT": "0",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
}
# kubectl's klog line: E1205 21:24:33.419936 20977 run.go:72] "command failed" err="..."
_KLOG = re.compile(r'^[EWIF]\d{4} [\d:.]+\s+\d+ [\w.]+:\d+\] "command failed" err=(.*)$', re.S)


@dataclass(frozen=True)
class Engine:
    """The command that renders a directory: ``[*command, directory]``."""

    command: tuple[str, ...]

    @property
    def name(self) -> str:
        return " ".join(Path(self.command[0]).name if i == 0 else part for i, part in enumerate(self.command))


@dataclass(frozen=True)
class Rendered:
    """One build's output (``text``) or kustomize's own error (``error``)."""

    root: Path  # the root's directory
    wrapper: Path  # the wrapper's directory: origin paths are relative to it
    text: str = ""
    error: str = ""


def find_engine() -> Engine | None:
    kustomize = shutil.which("kustomize")
    if kustomize is not None:
        return Engine((kustomize, "build"))
    kubectl = shutil.which("kubectl")
    if kubectl is not None:
        return Engine((kubectl, "kustomize"))
    return None


def render_each(
    engine: Engine,
    roots: Sequence[Path],
    *,
    allow_remote: bool,
    workers: int = 0,
    options: Sequence[str] = (),
) -> Iterator[Rendered]:
    """Every root directory rendered, yielded in the order given as soon as it is done
    (the caller reads one build's output while the next ones render). ``options``: the
    settings' build flags (``--enable-helm``), validated by the settings schema."""
    if not roots:
        return
    # Twice the CPUs: a build spends part of its time starting up and reading files.
    workers = workers or min(len(roots), 2 * (os.cpu_count() or 1))
    base = Path(os.path.realpath(tempfile.mkdtemp(prefix="tlslint-kustomize-")))
    try:
        jobs = [
            (engine, root, base / str(index), allow_remote, tuple(options))
            for index, root in enumerate(roots)
        ]
        if workers == 1 or len(jobs) == 1:
            yield from (_render(*job) for job in jobs)
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            yield from pool.map(lambda job: _render(*job), jobs)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _render(
    engine: Engine, root: Path, wrapper: Path, allow_remote: bool, options: tuple[str, ...]
) -> Rendered:
    wrapper.mkdir()
    resource = json.dumps(os.path.relpath(root, wrapper))  # quoted: a '#' or ': ' in a name
    (wrapper / "kustomization.yaml").write_text(
        WRAPPER.format(root=root, resource=resource), encoding="utf-8"
    )
    environment = dict(os.environ)
    if not allow_remote:
        environment.update(_OFFLINE)
    try:
        return _run(engine, root, wrapper, environment, options)
    finally:
        shutil.rmtree(wrapper, ignore_errors=True)


def _run(
    engine: Engine, root: Path, wrapper: Path, environment: dict[str, str], options: tuple[str, ...]
) -> Rendered:
    try:
        done = subprocess.run(
            [*engine.command, *options, str(wrapper)],
            capture_output=True,
            env=environment,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Rendered(root, wrapper, error=f"{engine.name} did not finish within {TIMEOUT:.0f} s")
    except OSError as error:
        return Rendered(root, wrapper, error=f"{engine.name} could not be run: {error.strerror or error}")
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        return Rendered(
            root, wrapper, error=clean_error(stderr, root, wrapper) or f"exit status {done.returncode}"
        )
    return Rendered(root, wrapper, text=done.stdout.decode("utf-8", "surrogateescape"))


def clean_error(stderr: str, root: Path, wrapper: Path) -> str:
    """kustomize's message without kubectl's log prefix and the wrapper's own layer."""
    text = stderr.strip()
    match = _KLOG.match(text)
    if match is not None:
        text = match.group(1).strip()
        if text.startswith('"') and text.endswith('"'):
            text = text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        elif text.startswith("<") and text.endswith(">"):
            text = " ".join(line.strip() for line in text[1:-1].splitlines() if line.strip())
    text = text.removeprefix("Error: ").strip()
    # "accumulating resources: accumulation err='accumulating resources from '<wrapper's
    # entry>': '<root>' must resolve to a file': recursed accumulation of path '<root>': ..."
    for layer in (f"recursed accumulation of path '{root}': ", f"couldn't make target for path '{root}': "):
        if layer in text:
            text = text.split(layer, 1)[1]
            break
    return text.replace(str(wrapper), "<wrapper>")


def origin_path(wrapper: Path, origin: str) -> Path:
    """An origin annotation's path (relative to the wrapper) as an absolute path."""
    return Path(os.path.normpath(wrapper / origin))
