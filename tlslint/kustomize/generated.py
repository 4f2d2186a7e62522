"""What a kustomization makes itself: ConfigMaps and Secrets (``configMapGenerator``,
``secretGenerator``) and the Helm charts it inflates (``helmCharts``).

Such a resource is written in no resource file, so two things need it spelt out:

* *relevance*: whether a build holds anything a tier checks is decided by sniffing
  its files' first bytes. A generator's ConfigMap is sniffed as the manifest it
  becomes, and a chart as the Flux ``HelmRelease`` it amounts to (chart name, release
  name, values), so that every tier's own sniffer decides, and a build whose
  ingress-nginx ConfigMap exists only as a generator is rendered.
* *locating*: which entry set a rendered key: a ``literals`` item, a line of an
  ``envs`` file, a ``files`` item, or a key of a chart's ``valuesInline``.

Everything here reads the kustomization's own tree (exact offsets) and small env
files; nothing is rendered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tlslint.findings import Location
from tlslint.sources.apigee.tree import Map, Node, Scalar, Seq, to_data
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError, read_source

GENERATOR_KINDS = {"configMapGenerator": "ConfigMap", "secretGenerator": "Secret"}
# kustomize's default chartHome, relative to the kustomization.
CHART_HOME = "charts"


@dataclass(frozen=True)
class Entry:
    """One key a generator sets, and where."""

    key: str
    value: str | None  # None: a file's whole content (not read)
    location: Location  # from the key to the end of its line
    value_column: int  # where the value starts on that line

    def at(self, at_key: bool) -> Location:
        """The key's place, or the value's."""
        if at_key or self.value is None:
            return self.location
        return Location(
            self.location.path,
            self.location.line,
            self.value_column,
            self.location.end_line,
            self.location.end_column,
        )


@dataclass(eq=False)
class Generator:
    """A ``configMapGenerator`` or ``secretGenerator`` item."""

    kind: str  # ConfigMap or Secret
    name: str
    namespace: str
    behavior: str  # create (the default), merge or replace
    node: Map  # the item in the kustomization
    entries: list[Entry] = field(default_factory=list)
    sources: list[SourceText] = field(default_factory=list)  # its env files, as read

    def makes(self, kind: str | None, name: str | None) -> bool:
        """Whether a rendered resource of ``kind`` and ``name`` is this generator's (kustomize
        may have added a prefix, a suffix and a content hash to the name)."""
        return kind == self.kind and bool(name) and self.name in str(name)

    def where(self) -> Location:
        """The item's ``name:`` line: what created the resource."""
        return _key_line(self.node, "name")

    def manifest(self) -> bytes:
        """The resource as a manifest, for the tiers' sniffers (keys and values quoted as JSON)."""
        lines = [
            "apiVersion: v1",
            f"kind: {self.kind}",
            "metadata:",
            f"  name: {json.dumps(self.name)}",
        ]
        if self.namespace:
            lines.append(f"  namespace: {json.dumps(self.namespace)}")
        lines.append("data:")
        lines += [f"  {json.dumps(e.key)}: {json.dumps(e.value or '')}" for e in self.entries]
        return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


@dataclass(eq=False)
class Chart:
    """A ``helmCharts`` item: a chart kustomize inflates with ``helm template``."""

    name: str
    release: str
    repo: str
    version: str
    node: Map  # the item in the kustomization
    values_inline: Node | None
    values_files: list[Path]  # valuesFile, then additionalValuesFiles: lowest precedence first
    local: Path | None  # the chart's directory, when it is in the tree

    @property
    def remote(self) -> bool:
        """A chart kustomize would pull from its repository (``helm pull``)."""
        return self.local is None and bool(self.repo)

    def where(self) -> Location:
        return _key_line(self.node, "name")

    def release_text(self) -> bytes:
        """The chart as the Flux HelmRelease it amounts to, with its values top-level after
        it: the tiers' sniffers know both shapes."""
        values = to_data(self.values_inline, keep_placeholders=False) if self.values_inline else None
        lines = [
            "apiVersion: helm.toolkit.fluxcd.io/v2",
            "kind: HelmRelease",
            "metadata:",
            f"  name: {json.dumps(self.release or self.name)}",
            "spec:",
            "  chart:",
            "    spec:",
            f"      chart: {json.dumps(self.name)}",
        ]
        text = "\n".join(lines) + "\n"
        if isinstance(values, dict) and values:
            text += "---\n" + "\n".join(block_yaml(values, 0)) + "\n"
        return text.encode("utf-8", "surrogateescape")


def block_yaml(data: Any, indent: int) -> list[str]:
    """``data`` (from a YAML tree: dicts, lists, scalars) as block YAML, scalars as JSON,
    so that patterns anchored at a line's start (``^controller:``) see its keys."""
    pad = " " * indent
    if isinstance(data, dict):
        lines = []
        for key, value in data.items():
            if isinstance(value, (dict, list)) and value:
                lines.append(f"{pad}{key}:")
                lines += block_yaml(value, indent + 2)
            else:
                lines.append(f"{pad}{key}: {json.dumps(value)}")
        return lines
    if isinstance(data, list):
        lines = []
        for item in data:
            inner = block_yaml(item, indent + 2)
            lines.append(f"{pad}- {inner[0].lstrip()}" if inner else f"{pad}- null")
            lines += inner[1:]
        return lines
    return [f"{pad}{json.dumps(data)}"]


# -- reading a kustomization's generators -----------------------------------------------
def generators(document: Map, directory: Path, max_bytes: int) -> list[Generator]:
    found = []
    for field_name, kind in GENERATOR_KINDS.items():
        for item in _items(document.get(field_name)):
            if not isinstance(item, Map):
                continue
            name = _text(item, "name")
            if not name:
                continue
            generator = Generator(
                kind, name, _text(item, "namespace"), _text(item, "behavior") or "create", item
            )
            generator.entries = [
                *_literals(item.get("literals")),
                *_env_files(item, directory, max_bytes, generator.sources),
                *_file_entries(item.get("files")),
            ]
            found.append(generator)
    return found


def _literals(node: Node | None) -> Iterator[Entry]:
    """``key=value`` items; kustomize strips one pair of quotes around the value."""
    for item in _strings(node):
        key, sign, value = str(item.value).partition("=")
        if not sign or not key:
            continue
        line, column = item.source.position(item.start)
        column += 1 if item.style in ("'", '"') else 0
        end = len(item.source.line_text(line)) + 1
        yield Entry(
            key, _unquoted(value), Location(item.source.path, line, column, line, end), column + len(key) + 1
        )


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _env_files(item: Map, directory: Path, max_bytes: int, sources: list[SourceText]) -> Iterator[Entry]:
    """Each ``KEY=value`` line of the ``envs`` files (``env``, the older singular, too), as
    kustomize reads them: leading blanks dropped, ``#`` comments and blank lines skipped."""
    entries = [*_strings(item.get("envs")), *_strings(item.get("env"))]
    for entry in entries:
        path = Path(os.path.normpath(directory / str(entry.value)))
        try:
            source = read_source(path, max_bytes)
        except SourceError:
            continue  # kustomize says so when building
        sources.append(source)  # a finding there shows its line, and its suppression comments count
        for number, text in enumerate(source.text.splitlines(), start=1):
            stripped = text.lstrip()
            key, sign, value = stripped.partition("=")
            if not sign or not key or stripped.startswith("#"):
                continue  # a key alone takes its value from the environment: unknown
            column = len(text) - len(stripped) + 1
            where = Location(path, number, column, number, len(text.rstrip("\r")) + 1)
            yield Entry(key, value.rstrip("\r"), where, column + len(key) + 1)


def _file_entries(node: Node | None) -> Iterator[Entry]:
    """``[key=]path`` items: the key is the file's name unless given; the value is the
    file's content, which the entry stands for."""
    for item in _strings(node):
        text = str(item.value)
        key, sign, _ = text.partition("=")
        if not sign:
            key = os.path.basename(text)
        line, column = item.source.position(item.start)
        column += 1 if item.style in ("'", '"') else 0
        end = len(item.source.line_text(line)) + 1
        yield Entry(key, None, Location(item.source.path, line, column, line, end), column)


def charts(document: Map, directory: Path) -> list[Chart]:
    home = (
        _text(document.get("helmGlobals"), "chartHome")
        if isinstance(document.get("helmGlobals"), Map)
        else ""
    )
    chart_home = Path(os.path.normpath(directory / (home or CHART_HOME)))
    found = []
    for item in _items(document.get("helmCharts")):
        if not isinstance(item, Map):
            continue
        name = _text(item, "name")
        if not name:
            continue
        files = [
            _text(item, "valuesFile"),
            *(str(s.value) for s in _strings(item.get("additionalValuesFiles"))),
        ]
        found.append(
            Chart(
                name,
                _text(item, "releaseName"),
                _text(item, "repo"),
                _text(item, "version"),
                item,
                item.get("valuesInline"),
                [Path(os.path.normpath(directory / f)) for f in files if f and "://" not in f],
                _local_chart(chart_home, name, _text(item, "version")),
            )
        )
    return found


def _local_chart(home: Path, name: str, version: str) -> Path | None:
    """Where kustomize finds the chart without pulling it: ``chartHome/name``, or where an
    earlier pull left it (``chartHome/name-version/name``)."""
    candidates = [home / f"{name}-{version}" / name] if version else []
    candidates.append(home / name)
    return next((c for c in candidates if os.path.isfile(c / "Chart.yaml")), None)


def chart_files(chart: Chart, limit: int = 2000) -> set[Path]:
    """The local chart's files (templates, values, subcharts): what a build reads from it."""
    found: set[Path] = set()
    if chart.local is None:
        return found
    for directory, _, names in os.walk(chart.local):
        for name in names:
            found.add(Path(directory) / name)
            if len(found) >= limit:
                return found
    return found


def values_entry(node: Node, key: str, rendered: str) -> tuple[Scalar, Any] | None:
    """The deepest-first scalar under ``node`` at a key named ``key`` whose value renders as
    ``rendered`` (the chart writes it with ``quote``: true as "true"), with its pair."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, Map):
            for pair in current.pairs:
                value = pair.value
                if pair.name == key and isinstance(value, Scalar) and _renders(value) == rendered:
                    return value, pair
                stack.append(value)
        elif isinstance(current, Seq):
            stack.extend(current.items)
    return None


def _renders(value: Scalar) -> str:
    if isinstance(value.value, bool):
        return "true" if value.value else "false"
    return str(value.value) if value.value is not None else ""


# -- small readers ------------------------------------------------------------------------
def _items(node: Node | None) -> list[Node]:
    return node.items if isinstance(node, Seq) else []


def _strings(node: Node | None) -> Iterator[Scalar]:
    for item in _items(node):
        if isinstance(item, Scalar) and isinstance(item.value, str) and item.value:
            yield item


def _text(node: Node | None, key: str) -> str:
    value = node.scalar(key) if isinstance(node, Map) else None
    return str(value.value) if value is not None and value.value is not None else ""


def _key_line(item: Map, key: str) -> Location:
    pair = item.pair(key)
    start = pair.key.start if pair is not None else item.start
    line, column = item.source.position(start)
    return Location(item.source.path, line, column, line, len(item.source.line_text(line)) + 1)
