"""Run tlslint on text written to a temporary directory."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tlslint import forks
from tlslint.engine import RunResult, run
from tlslint.fixing import apply_fixes
from tlslint.settings import Settings, from_mapping

if TYPE_CHECKING:  # the backend tier stays unimported in nginx-only runs (test_check_tiers)
    from tlslint.sources.python.model import Backend


def settings_for(base: Path, mapping: dict[str, Any] | None = None) -> Settings:
    settings = from_mapping(mapping or {}, None)
    settings.base = base
    return settings


def write_files(root: Path, files: dict[str, str]) -> None:
    """Each file of ``files`` (relative name -> UTF-8 text) under ``root``, directories made."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def check_files(
    tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None, target: str = "."
) -> RunResult:
    write_files(tmp_path, files)
    return run([tmp_path / target], settings_for(tmp_path, mapping))


def codes(result: RunResult) -> list[str]:
    return [finding.code for finding in result.findings]


def helpers_started(monkeypatch: pytest.MonkeyPatch) -> list[forks.Helper]:
    """Every forked helper started from now on (tlslint.forks), as it starts."""
    started: list[forks.Helper] = []
    real_start = forks.Helper.start

    def start(produce: Callable[[], Iterator[bytes]]) -> forks.Helper | None:
        helper = real_start(produce)
        if helper is not None:
            started.append(helper)
        return helper

    monkeypatch.setattr(forks.Helper, "start", staticmethod(start))
    return started


# -- fixes that must leave every other byte alone ----------------------------------
def fix(tmp_path: Path, files: dict[str, bytes | str], mapping: dict[str, object] | None = None,
        unsafe: bool = False) -> dict[str, bytes]:  # fmt: skip
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
    settings = settings_for(tmp_path, mapping)
    apply_fixes(run([tmp_path], settings), settings, unsafe=unsafe, write=True)
    return {p.relative_to(tmp_path).as_posix(): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}


def only_added(before: bytes, after: bytes) -> list[bytes]:
    """The lines ``after`` adds; fails if any line of ``before`` changed or went."""
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    added = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        # A last line without a line break may gain one: that is the only change allowed.
        assert tag == "insert" or (tag == "replace" and old[i1:i2] == [new[j1].rstrip(b"\r\n")]), (
            tag,
            old[i1:i2],
        )
        added += new[j1:j2] if tag == "insert" else new[j1 + 1 : j2]
    return added


def replaced(before: bytes, after: bytes) -> list[tuple[bytes, bytes]]:
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new, strict=True) if a != b]


def static_value(backend: Backend, name: str) -> Any:
    """A backend setting that must be known: its value."""
    setting = backend.get(name)
    assert setting is not None, (name, backend.settings)
    assert setting.static, setting.reason
    return setting.value


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``tlslint --no-cache ARGS`` in ``cwd``, as a user runs it (no colour, no debug)."""
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TLSLINT_DEBUG")}
    return subprocess.run(
        [sys.executable, "-m", "tlslint", "--no-cache", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def helm_render(chart: Path, template: str, values: str) -> dict[str, Any]:
    """The first document the real helm renders from a one-template chart in ``chart``."""
    from conftest import helm_binary
    from ruamel.yaml import YAML

    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: t\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "templates" / "cm.yaml").write_text(template, encoding="utf-8")
    (chart / "values.yaml").write_text(values, encoding="utf-8")
    done = subprocess.run(
        [helm_binary(), "template", str(chart)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    rendered: dict[str, Any] = next(d for d in YAML(typ="safe", pure=True).load_all(done.stdout) if d)
    return rendered


# The ingress-nginx chart's ConfigMap template, in the real chart's form: each
# controller.config value quoted by a `range` loop.
INGRESS_NGINX_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  labels:
    app.kubernetes.io/name: ingress-nginx
    app.kubernetes.io/component: controller
  name: {{ .Release.Name }}-ingress-nginx-controller
  namespace: {{ .Release.Namespace }}
data:
  allow-snippet-annotations: "false"
{{- range $key, $value := .Values.controller.config }}
  {{- $key | nindent 2 }}: {{ $value | quote }}
{{- end }}
"""


def cli_in_process(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in this process: (exit status, stdout, stderr)."""
    from tlslint.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
