"""Helm releases rendered with ``helm template``, each checked as its own deployment.

A release is named in the settings (``[tool.tlslint.helm] releases = [{ chart = "...",
values = [...] }]``) and rendered when ``helm`` is on PATH and the chart is in scope
(its directory, or a file in it or one of its values files, among the paths
checked). The chart's files and the release's values files are then checked through
the release, not on their own: what they say alone is a part of what the cluster
receives (a values file without the chart's defaults, a template that is not YAML).
Apigee hybrid's ``overrides.yaml`` is the exception: the Apigee tier reads it as the
installation's configuration, every chart's and every environment group's, of which a
release renders one part, so it is still checked directly as well; a finding that
reading has on the same line as the release is said once, as the file's
(``ValuesReading``). The virtual-host chart renders no ApigeeRoute (the non-SNI route
is applied with kubectl), so a release is checked with the run's plain route manifests
(``RenderedBuild.beside_plain``), and its ApigeeRouteConfig is placed at the
``virtualhosts[]`` entry it is rendered from (``helm_virtualhost``).

helm names each rendered document's template (``# Source: CHART/templates/x.yaml``);
templates are not YAML, so a field is located by what its template says: the values
line that set it when the template prints it from ``.Values`` (``ValuesLocator``),
else the one line of the template that writes its key, else the template's first
line. A finding so traced to a values file is said as the gateway tier says it when it
reads that file alone, fix included (``ValuesReading``): that reading knows how Helm
typed the value.

In the fixer's re-checks a fix has edited a values file in memory only: helm is given
the edited text (``_edited_inputs``), so that what is reported after fixing is what
the next run will report.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlslint.findings import UNPARSED, Finding, Location
from tlslint.paths import resolved
from tlslint.rendered import (
    FieldPath,
    Locator,
    RenderedBuild,
    RenderedDocument,
    SourceFiles,
    documents_of,
    node_location,
    walk,
)
from tlslint.sources.apigee.tree import Map, Node, Seq, YamlError
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import encode

if TYPE_CHECKING:
    from tlslint.discovery import Discovered
    from tlslint.filters import Filters
    from tlslint.settings import Settings
    from tlslint.workspace.rendered import RenderedLoad

TIMEOUT = 120.0
_SOURCE = re.compile(r"^# Source: (?P<path>\S.*?)\s*$", re.M)
# `.Values.a.b` and `$.Values.a.b` in a template: the dotted path after `.Values`.
_VALUES = re.compile(r"(?<![\w.])\$?\.Values((?:\.[A-Za-z_]\w*)+)")
# `range $key, $value := .Values.a.b`: the map whose keys the loop writes.
_RANGE = re.compile(r"\brange\s+(?:\$\w+\s*(?:,\s*\$\w+\s*)?:=\s*)?\$?\.Values((?:\.[A-Za-z_]\w*)+)")
ValuesPath = tuple[str, ...]
Layer = tuple[Path, ValuesPath]  # a values file, and the keys a chart's values sit under in it


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
    overlay: Mapping[Path, SourceText] | None = None,
) -> None:
    """Render each release in scope (from the texts a fix edited: ``overlay``) and add its
    build, or a finding that says why it was not rendered."""
    from tlslint.workspace.rendered import RENDERER_NOT_FOUND, finding_at

    helm = shutil.which("helm")
    for release in settings.helm_releases:
        if not in_scope(release, settings.base, discovered, targets):
            continue
        chart = resolved(settings.base / release["chart"])
        label = f"helm release {release.get('name') or chart.name}"
        if helm is None:
            message = f"{label} was not rendered: helm is not on PATH; the files of its chart are not checked"
            load.findings.append(finding_at(_where(chart), RENDERER_NOT_FOUND, message, f"release[{label}]"))
            continue
        build = _build(helm, release, label, settings, files, overlay or {}, load)
        if build is not None:
            values = [resolved(settings.base / v) for v in release.get("values", [])]
            own = _covered_values(values, discovered)
            load.covered |= _chart_files(chart, discovered) | own
            build.restate = ValuesReading(files, own, settings)
            load.builds.append(build)


def _where(chart: Path) -> Location:
    """Where findings about a release as a whole go: its Chart.yaml."""
    chart_file = chart / "Chart.yaml"
    return Location(chart_file, 1, 1) if chart_file.is_file() else Location(chart, 0, 0)


def _missing_values_entry(release: dict[str, Any], settings: Settings, error: str) -> Location | None:
    """Where the settings name a values file of ``release`` that does not exist and helm's
    ``error`` names: the failure is that entry's (as kustomize's is a missing resource's)."""
    if settings.source is None:
        return None
    missing = [
        v
        for v in release.get("values", [])
        if not (settings.base / v).is_file() and str(settings.base / v) in error
    ]
    if not missing:
        return None
    try:
        lines = settings.source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for entry in missing:
        for quoted in (f'"{entry}"', f"'{entry}'"):
            for number, text in enumerate(lines, 1):
                column = text.find(quoted)
                if column >= 0:
                    return Location(settings.source, number, column + 1, number, column + 1 + len(quoted))
    return None


def _build(
    helm: str,
    release: dict[str, Any],
    label: str,
    settings: Settings,
    files: SourceFiles,
    overlay: Mapping[Path, SourceText],
    load: RenderedLoad,
) -> RenderedBuild | None:
    """The release rendered, or None with an RND001 finding in ``load``."""
    from tlslint.workspace.rendered import BUILD_FAILED, finding_at

    chart = resolved(settings.base / release["chart"])
    arguments = command(helm, release, settings.base)
    shown = " ".join(_relative(a) for a in arguments[1:])
    text, error = _render(arguments, overlay)
    if text is None:
        message = f"`helm {shown}` failed: {error}"
        where = _missing_values_entry(release, settings, error) or _where(chart)
        load.findings.append(finding_at(where, BUILD_FAILED, message, UNPARSED))
        return None
    source = SourceText(chart / "<rendered>", text)
    trees: list[Node] = []
    subcharts: dict[int, ValuesPath] = {}
    try:
        documents = _documents(source, chart, trees, files, subcharts)
    except YamlError as problem:
        message = f"`helm {shown}` gave no YAML: {problem.message}"
        load.findings.append(finding_at(_where(chart), BUILD_FAILED, message, UNPARSED))
        return None
    values = [resolved(settings.base / v) for v in release.get("values", [])]
    from tlslint.helm_virtualhost import VirtualHostLocator, envgroup

    given = release.get("set") or {}
    by_values = ValuesLocator(files, chart, values, given, subcharts)
    by_host = VirtualHostLocator(files, chart, values, envgroup(given, files, values))
    locators: list[Locator] = [by_host, by_values, TemplateLocator(files)]
    read = {chart / "Chart.yaml", *values}
    # The objects a chart leaves to manifests applied beside it (Apigee's non-SNI route,
    # applied with kubectl) are the run's plain manifests: the release is checked with them.
    # The chart's defaults: its values.yaml and its subcharts' (charts/*/values.yaml, deeper).
    defaults = frozenset(resolved(p) for p in chart.rglob("values.yaml")) - set(values)
    return RenderedBuild(
        label, source, documents, _where(chart), locators, read, trees=trees, beside_plain=True,
        chart_defaults=defaults, release_values=tuple(values),
    )  # fmt: skip


def _render(arguments: list[str], overlay: Mapping[Path, SourceText]) -> tuple[str | None, str]:
    """helm's output, or None and why it failed (helm's message, without its advice to
    re-run with --debug)."""
    with tempfile.TemporaryDirectory(prefix="tlslint-helm-") as scratch:
        edited = _edited_inputs(arguments, overlay, Path(scratch))
        try:
            done = subprocess.run(
                edited, capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as problem:
            return None, f"helm could not be run: {problem}"
        if done.returncode == 0:
            return done.stdout.decode("utf-8", "surrogateescape"), ""
        error = done.stderr.decode("utf-8", "replace").strip().removeprefix("Error: ").split("\n\n")[0]
        # helm names the files it read: the user's, not the copies of their edited text.
        for real, copy in zip(arguments, edited, strict=True):
            error = error.replace(copy, real) if copy != real else error
        return None, error


def _edited_inputs(arguments: list[str], overlay: Mapping[Path, SourceText], scratch: Path) -> list[str]:
    """The command with each values file a fix edited (in memory: the fixer's re-checks)
    replaced by a copy of the edited text. No fix edits a chart's own files: they are
    checked through the release alone, whose findings take their fixes from the values
    files (``ValuesReading``)."""
    edited = list(arguments)
    for index in range(1, len(edited)):
        if edited[index - 1] != "-f":
            continue
        text = overlay.get(resolved(Path(edited[index])))
        if text is None:
            continue
        copy = scratch / f"{index}-{Path(edited[index]).name}"
        copy.write_bytes(encode(text, text.text))
        edited[index] = str(copy)
    return edited


def _chart_files(chart: Path, discovered: Discovered) -> set[Path]:
    """The chart's YAML files (templates, values.yaml, subcharts): checked through the
    release (a template is not YAML until rendered: GW001 and APG001 would say so)."""
    found = {resolved(p) for p in (*discovered.yaml, *discovered.kubernetes, *discovered.other_yaml)}
    return {p for p in found if p.is_relative_to(chart)}


def _covered_values(values: Iterable[Path], discovered: Discovered) -> set[Path]:
    """The release's values files checked through it: all but those the Apigee tier reads
    (overrides.yaml holds every chart's and every environment group's settings, of which
    one release renders a part)."""
    apigee = {resolved(p) for p in discovered.yaml}
    return {p for p in values if p not in apigee}


def _documents(
    source: SourceText, chart: Path, trees: list[Node], files: SourceFiles, subcharts: dict[int, ValuesPath]
) -> list[RenderedDocument]:
    """The rendered documents, each with the template that ``# Source:`` names; a
    subchart's, with the keys its values sit under (by ``id`` of the document, in
    ``subcharts``)."""
    documents = documents_of(source, None, trees)
    sources = [(m.start(), m.group("path")) for m in _SOURCE.finditer(source.text)]
    for document in documents:
        before = [path for start, path in sources if start < document.node.start]
        if before:
            # "CHART/templates/x.yaml", or "CHART/charts/SUB/templates/x.yaml": CHART is the chart's name.
            parts = before[-1].split("/")[1:] if "/" in before[-1] else [before[-1]]
            document.origin, keys = _template_file(chart, parts, files)
            if keys:
                subcharts[id(document)] = keys
    return documents


def _template_file(chart: Path, parts: Sequence[str], files: SourceFiles) -> tuple[Path, ValuesPath]:
    """The file a ``# Source:`` path names below the chart, and the keys under which the
    release's values reach it. Helm names a subchart by the key its values sit under:
    its name, or the ``alias`` the parent's Chart.yaml gives the dependency, while its
    files stay in the directory of its name."""
    directory = chart
    keys: ValuesPath = ()
    while len(parts) > 2 and parts[0] == "charts":
        keys = (*keys, parts[1])
        directory = directory / "charts" / _dependency_directory(directory, parts[1], files)
        parts = parts[2:]
    return directory.joinpath(*parts), keys


def _dependency_directory(parent: Path, key: str, files: SourceFiles) -> str:
    """The directory under ``parent/charts`` of the dependency Helm renders as ``key``."""
    if (parent / "charts" / key).is_dir():
        return key
    documents = files.documents(parent / "Chart.yaml")
    metadata = documents[0] if documents else None
    dependencies = metadata.get("dependencies") if isinstance(metadata, Map) else None
    for dependency in dependencies.items if isinstance(dependencies, Seq) else []:
        alias = dependency.scalar("alias") if isinstance(dependency, Map) else None
        name = dependency.scalar("name") if isinstance(dependency, Map) else None
        if alias is not None and alias.text == key and name is not None and name.text:
            return name.text
    return key


def _key_line(source: SourceText, key: str) -> int | None:
    """The one line of a template that writes ``key:``, or None (absent, or several)."""
    pattern = re.compile(rf"^[ \t]*(?:- )?{re.escape(key)}[ \t]*:", re.M)
    matches = list(pattern.finditer(source.text))
    return source.position(matches[0].start())[0] if len(matches) == 1 else None


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
            line = _key_line(source, key)
            if line is not None:
                text = source.line_text(line)
                indent = len(text) - len(text.lstrip(" \t-"))
                return Location(source.path, line, indent + 1, line, len(text) + 1)
        return Location(source.path, 1, 1)


class ValuesLocator:
    """A field that a template prints from the release's values, found at the values line
    that set it: the last of the release's ``-f`` files that sets the value, else the
    chart's ``values.yaml`` (Helm's order). A template says where a field comes from in
    two ways tlslint reads: the field's own line prints one value
    (``replicas: {{ .Values.controller.replicaCount }}``), or a ``range`` over a map of
    values writes the field's key (ingress-nginx's ``controller.config``). A value given
    by ``set`` in the settings, or anything else, is left to the next locator."""

    def __init__(
        self,
        files: SourceFiles,
        chart: Path,
        values: list[Path],
        given: Mapping[str, Any],
        subcharts: Mapping[int, ValuesPath],
    ) -> None:
        self.files = files
        self.chart = chart
        self.values = values
        self.given = [tuple(key.split(".")) for key in given]
        self.subcharts = subcharts  # by id of a subchart's document: where its values sit

    def __call__(self, document: RenderedDocument, path: FieldPath, at_key: bool) -> Location | None:
        if document.origin is None or not document.origin.is_relative_to(self.chart):
            return None
        template = self.files.text(document.origin)
        if template is None:
            return None
        subchart = self.subcharts.get(id(document), ())
        layers = self._layers(document.origin, subchart)
        found = {}
        for candidate in _printed_from(template, path):
            if any(_overlaps((*subchart, *candidate), given) for given in self.given):
                continue  # --set wins over every file
            where = self._set_at(layers, candidate, at_key)
            if where is not None:
                found[candidate] = where
        return next(iter(found.values())) if len(found) == 1 else None

    def _layers(self, origin: Path, subchart: ValuesPath) -> list[Layer]:
        """The values files a template reads, lowest precedence first, each with the keys
        its values sit under there: a subchart's own values.yaml comes first, and the
        parent's files give its values under its key."""
        layers: list[Layer] = [(self.chart / "values.yaml", ())]
        layers += [(values, ()) for values in self.values]
        directory, parts = self.chart, origin.relative_to(self.chart).parts
        for key in subchart:
            directory, parts = directory / parts[0] / parts[1], parts[2:]
            layers = [(directory / "values.yaml", ()), *((f, (key, *keys)) for f, keys in layers)]
        return layers

    def _set_at(self, layers: list[Layer], path: ValuesPath, at_key: bool) -> Location | None:
        for file, key in reversed(layers):
            where = self._in_file(file, (*key, *path), at_key)
            if where is not None:
                return where
        return None

    def _in_file(self, file: Path, path: ValuesPath, at_key: bool) -> Location | None:
        documents = self.files.documents(file)
        if not documents or not isinstance(documents[0], Map):
            return None
        node, pair, steps = walk(documents[0], path)
        if steps != len(path) or pair is None:
            return None
        return node_location(node, pair, at_key)


def _printed_from(template: SourceText, path: FieldPath) -> list[ValuesPath]:
    """The values the template may print the field from: the one its key's line names,
    else, for a key no line writes, that key in each map a ``range`` walks."""
    if not path or not isinstance(path[-1], str):
        return []
    key = path[-1]
    line = _key_line(template, key)
    if line is not None:
        named = {m.group(1) for m in _VALUES.finditer(template.line_text(line))}
        return [tuple(named.pop().split(".")[1:])] if len(named) == 1 else []
    walked = dict.fromkeys(m.group(1) for m in _RANGE.finditer(template.text))
    return [(*tuple(r.split(".")[1:]), key) for r in walked]


def _overlaps(path: ValuesPath, given: ValuesPath) -> bool:
    """Whether a ``--set`` key sets ``path`` or a map around it, or a value inside it."""
    shorter = min(len(path), len(given))
    return path[:shorter] == given[:shorter]


class ValuesReading:
    """A release's findings in its own values files, said as the gateway tier says them
    when it reads those files alone: the words say how Helm typed the value
    (``1000000`` reaches the ConfigMap as ``1e+06``) and the fix edits the file. Only
    where that reading finds the same rule on the same line: the release decides what
    is found (a values file alone lacks the chart's defaults and the other files).

    A file the run also checks on its own (Apigee's ``overrides.yaml``, every env group's
    values of which a release renders one, and the route manifests applied beside the
    release) has that reading in the run already (``alone``): where it finds the same
    rule on the same line, that finding (with its fix) says the release's, which is dropped."""

    def __init__(self, files: SourceFiles, values: Iterable[Path], settings: Settings) -> None:
        self.files = files
        self.values = sorted(values)  # resolved; read in this order
        self.settings = settings

    def __call__(
        self, findings: list[Finding], filters: Filters, alone: Sequence[Finding] = ()
    ) -> list[Finding]:
        checked = {_place(f) for f in alone}
        findings = [f for f in findings if _place(f) not in checked]  # the run's own says it
        own = set(self.values)
        wanted = {f.code for f in findings if resolved(f.location.path) in own}
        if not wanted:
            return findings
        said = {_place(f): f for f in reversed(self._alone(wanted, filters))}
        return [_restated(f, said.get(_place(f))) for f in findings]

    def _alone(self, codes: set[str], filters: Filters) -> list[Finding]:
        from tlslint.checks import load_checks
        from tlslint.run_checks import run_checks
        from tlslint.workspace import Workspace
        from tlslint.workspace.kubernetes import load_kubernetes

        texts = {path: text for path in self.values if (text := self.files.text(path)) is not None}
        loaded = load_kubernetes(list(texts), self.settings, texts)
        workspace = Workspace()
        workspace.kubernetes = loaded.workspace
        checks = load_checks(lambda code: code in codes)
        return run_checks(checks, self.settings, workspace, filters, files=0)


# Rules said once a deployment, at its first host: their cause is the file's, not a line's.
ONCE_A_DEPLOYMENT = frozenset({"APG100"})


def _place(finding: Finding) -> tuple[str, Path, int]:
    line = 0 if finding.code in ONCE_A_DEPLOYMENT else finding.location.line
    return finding.code, resolved(finding.location.path), line


def _restated(finding: Finding, alone: Finding | None) -> Finding:
    if alone is None:
        return finding
    label = finding.message.rpartition(" [build: ")[2]
    return dataclasses.replace(alone, message=f"{alone.message} [build: {label}")


def _relative(argument: str) -> str:
    try:
        return os.path.relpath(argument) if os.path.isabs(argument) else argument
    except ValueError:
        return argument
