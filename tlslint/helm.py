"""Helm releases rendered with ``helm template``, each checked as its own deployment.

A release is named in the settings (``[tool.tlslint.helm] releases = [{ chart = "...",
values = [...] }]``) and rendered when ``helm`` is on PATH and the chart is in scope
(its directory, or a file in it or one of its values files, among the paths
checked). Apigee hybrid's charts take ``overrides.yaml`` as values: that file is
still checked directly, and rendering adds the resources the charts generate.

helm names each rendered document's template (``# Source: CHART/templates/x.yaml``);
templates are not YAML, so a field is located in its template by its key: the one
line of the template that writes that key, else the template's first line.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlslint.findings import UNPARSED, Location
from tlslint.paths import resolved
from tlslint.rendered import FieldPath, RenderedBuild, RenderedDocument, SourceFiles, documents_of
from tlslint.sources.apigee.tree import Node, YamlError
from tlslint.sources.nginx.model import SourceText

if TYPE_CHECKING:
    from tlslint.discovery import Discovered
    from tlslint.settings import Settings
    from tlslint.workspace.rendered import RenderedLoad

TIMEOUT = 120.0
_SOURCE = re.compile(r"^# Source: (?P<path>\S.*?)\s*$", re.M)


def command(helm: str, release: dict[str, Any], base: Path) -> list[str]:
    """``helm template NAME CHART -f VALUES... [--namespace NS] [--set K=V...]``, as documented."""
    chart = base / release["chart"]
    name = release.get("name") or chart.name
    arguments = [helm, "template", name, str(chart)]
    for values in release.get("values", []):
        arguments += ["-f", str(base / values)]
    if release.get("namespace"):
        arguments += ["--namespace", release["namespace"]]
    for key, value in (release.get("set") or {}).items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        arguments += ["--set", f"{key}={text}"]
    return arguments


def in_scope(release: dict[str, Any], base: Path, discovered: Discovered, targets: Sequence[Path]) -> bool:
    chart = resolved(base / release["chart"])
    values = {resolved(base / v) for v in release.get("values", [])}
    for target in targets:
        path = resolved(target)
        if os.path.isdir(path) and (chart.is_relative_to(path) or path.is_relative_to(chart)):
            return True
        if path in values or path.is_relative_to(chart):
            return True
    return False


def add_releases(
    load: RenderedLoad,
    discovered: Discovered,
    targets: Sequence[Path],
    settings: Settings,
    files: SourceFiles,
) -> None:
    from tlslint.workspace.rendered import BUILD_FAILED, RENDERER_NOT_FOUND, finding_at

    helm = shutil.which("helm")
    base = settings.base
    for release in settings.helm_releases:
        if not in_scope(release, base, discovered, targets):
            continue
        chart = resolved(base / release["chart"])
        label = f"helm release {release.get('name') or chart.name}"
        chart_file = chart / "Chart.yaml"
        where = Location(chart_file, 1, 1) if chart_file.is_file() else Location(chart, 0, 0)
        values = [resolved(base / v) for v in release.get("values", [])]
        if helm is None:
            load.findings.append(
                finding_at(
                    where,
                    RENDERER_NOT_FOUND,
                    f"{label} was not rendered: helm is not on PATH; the files of its chart are not checked",
                    f"release[{label}]",
                )
            )
            continue
        arguments = command(helm, release, base)
        try:
            done = subprocess.run(
                arguments, capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, check=False
            )
            # helm's message, without its advice to re-run with --debug
            error = done.stderr.decode("utf-8", "replace").strip().removeprefix("Error: ").split("\n\n")[0]
            failed = done.returncode != 0
        except (OSError, subprocess.TimeoutExpired) as problem:
            error, failed = f"helm could not be run: {problem}", True
        shown = " ".join(_relative(a) for a in arguments[1:])
        if failed:
            load.findings.append(finding_at(where, BUILD_FAILED, f"`helm {shown}` failed: {error}", UNPARSED))
            continue
        source = SourceText(chart / "<rendered>", done.stdout.decode("utf-8", "surrogateescape"))
        trees: list[Node] = []
        try:
            documents = _documents(source, chart, trees)
        except YamlError as problem:
            load.findings.append(
                finding_at(where, BUILD_FAILED, f"`helm {shown}` gave no YAML: {problem.message}", UNPARSED)
            )
            continue
        # The chart's templates are checked through the release, not as files.
        load.covered |= {resolved(p) for p in discovered.yaml if resolved(p).is_relative_to(chart)}
        templates = TemplateLocator(files)
        load.builds.append(
            RenderedBuild(label, source, documents, where, [templates], {chart_file, *values}, trees=trees)
        )


def _documents(source: SourceText, chart: Path, trees: list[Node]) -> list[RenderedDocument]:
    """The rendered documents, each with the template that ``# Source:`` names."""
    documents = documents_of(source, None, trees)
    sources = [(m.start(), m.group("path")) for m in _SOURCE.finditer(source.text)]
    for document in documents:
        before = [path for start, path in sources if start < document.node.start]
        if before:
            # "CHART/templates/x.yaml", or "CHART/charts/SUB/templates/x.yaml": CHART is the chart's name.
            relative = before[-1].split("/", 1)[1] if "/" in before[-1] else before[-1]
            document.origin = chart / relative
    return documents


class TemplateLocator:
    """A field of a rendered document, found in its template by its key."""

    def __init__(self, files: SourceFiles) -> None:
        self.files = files

    def __call__(self, document: RenderedDocument, path: FieldPath, at_key: bool) -> Location | None:
        if document.origin is None:
            return None
        source = self.files.text(document.origin)
        if source is None:
            return None
        for key in reversed([k for k in path if isinstance(k, str)]):
            pattern = re.compile(rf"^[ \t]*(?:- )?{re.escape(key)}[ \t]*:", re.M)
            matches = list(pattern.finditer(source.text))
            if len(matches) == 1:
                line = source.position(matches[0].start())[0]
                text = source.line_text(line)
                indent = len(text) - len(text.lstrip(" \t-"))
                return Location(source.path, line, indent + 1, line, len(text) + 1)
        return Location(source.path, 1, 1)


def _relative(argument: str) -> str:
    try:
        return os.path.relpath(argument) if os.path.isabs(argument) else argument
    except ValueError:
        return argument
