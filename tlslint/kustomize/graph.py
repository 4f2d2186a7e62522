"""Kustomization files as a graph: what each one includes, and which are buildable roots.

A *root* is what ``kubectl kustomize DIR`` is run on: a kustomization that is not a
``kind: Component`` and that either no other known kustomization includes (as a
resource, a base or a component) or is an *overlay* a sibling builds on: one that builds
on a kustomization outside its own directory (``overlays/prod`` on ``../../base``), so
that ``overlays/prod-eu`` on ``../prod`` leaves ``overlays/prod`` a deployment of its
own. A *base* (included from another branch of the tree, whatever it builds on: its own
files, kustomizations below it, ``../common``) is checked through the roots that use
it, as a component is. A component that no root reaches is *unused*.

The kustomization files are read, never written, with the same YAML reader as the
Apigee files (exact offsets, so that a patch's lines can be reported).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tlslint.kustomize import KUSTOMIZATION_NAMES, kustomization_in
from tlslint.kustomize.generated import Chart, Generator, chart_files, charts, generators
from tlslint.paths import resolved
from tlslint.sources.apigee.tree import Map, Node, Scalar, Seq, YamlError, parse
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError, read_source

COMPONENT = "Component"
JSON6902 = "json6902"
STRATEGIC = "strategic-merge"
# A resource that kustomize would fetch: a URL, an scp-like git address, or a
# path on a git host ("github.com/org/repo//dir?ref=v1").
_REMOTE = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|git@|[\w.-]+@[\w.-]+:|(?:github\.com|gitlab\.com|bitbucket\.org)/)"
)
_QUERY_REF = re.compile(r"[?&](?:ref|version|submodules|timeout)=")
# Fields of a kustomization that name files or directories to read.
_FILE_LISTS = ("crds", "configurations", "transformers", "generators", "validators")
_GENERATORS = ("configMapGenerator", "secretGenerator")


@dataclass(frozen=True)
class Ref:
    """One entry of ``resources``, ``bases`` or ``components``."""

    entry: str  # as written
    node: Node  # where it is written
    path: Path | None  # the local file or directory (None: remote)
    remote: bool = False

    @property
    def is_dir(self) -> bool:
        return self.path is not None and os.path.isdir(self.path)


@dataclass(eq=False)
class Patch:
    """A patch a kustomization applies: JSON 6902 operations or a strategic-merge document."""

    kind: str  # JSON6902 or STRATEGIC
    source: SourceText  # the patch file, or the inline text
    documents: list[Node]
    target: dict[str, str]  # kustomize's selector: group, version, kind, name, namespace, ...
    owner: Kustomization
    # An inline patch is parsed on its own; its lines and columns are shifted by
    # these to land in the kustomization file.
    line_shift: int = 0
    column_shift: int = 0
    # The kustomization's field that lists it: ``patchesJson6902`` runs after that
    # kustomization's namespace and name prefix, the others before.
    field: str = "patches"

    @property
    def file(self) -> Path:
        return self.source.path


@dataclass(eq=False)
class Kustomization:
    path: Path  # the kustomization file, resolved
    source: SourceText | None = None
    document: Map | None = None
    error: str = ""  # why it could not be read (kustomize will say it again when building)
    component: bool = False
    resources: list[Ref] = field(default_factory=list)  # resources and bases, in order
    components: list[Ref] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)  # in the order kustomize applies them
    files: set[Path] = field(default_factory=set)  # local files it reads (resources, patches, ...)
    generators: list[Generator] = field(default_factory=list)  # configMapGenerator, secretGenerator
    charts: list[Chart] = field(default_factory=list)  # helmCharts
    # Every patch file entry (a patches item with ``path:``, a patchesStrategicMerge file),
    # read or not, with its file name as written: where a build that cannot read one fails.
    patch_entries: list[tuple[Path, str, Node]] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        return self.path.parent

    def setting(self, key: str) -> Scalar | None:
        return self.document.scalar(key) if self.document is not None else None


@dataclass
class Graph:
    """Every kustomization read, by resolved file, and who includes whom."""

    nodes: dict[Path, Kustomization] = field(default_factory=dict)
    _closures: dict[Path, list[Kustomization]] = field(default_factory=dict, repr=False)

    def children(self, node: Kustomization) -> list[Kustomization]:
        """The kustomizations ``node`` includes (resources and bases, then components)."""
        found = []
        for ref in [*node.resources, *node.components]:
            if ref.path is None or not ref.is_dir:
                continue
            file = kustomization_in(ref.path)
            child = self.nodes.get(resolved(file)) if file is not None else None
            if child is not None:
                found.append(child)
        return found

    def included(self) -> set[Path]:
        return {child.path for node in self.nodes.values() for child in self.children(node)}

    def overlay(self, node: Kustomization) -> bool:
        """Whether ``node`` builds on a kustomization outside its own directory (a
        resource or base, not a component): an overlay, deployed even when another
        overlay builds on it in turn. A base that gathers the kustomizations below it
        (``base/`` listing ``ingress/``) is not one."""
        return any(
            ref.path is not None
            and ref.is_dir
            and kustomization_in(ref.path) is not None
            and not resolved(ref.path).is_relative_to(node.directory)
            for ref in node.resources
        )

    def deployed_overlay(self, node: Kustomization, includers: dict[Path, list[Kustomization]]) -> bool:
        """Whether ``node``, which others include, is still a deployment of its own: an
        overlay (``overlay``) that a sibling builds on (``overlays/prod-eu`` on ``../prod``).
        A base included from another branch of the tree (``overlays/dev`` on
        ``../../base``) is not one, even when it builds on ``../common`` in turn: its
        overlays are what the cluster receives."""
        parent = node.directory.parent
        return self.overlay(node) and any(other.directory.parent == parent for other in includers[node.path])

    def roots(self) -> list[Kustomization]:
        """Buildable roots: not a component, and included by no other kustomization or a
        deployed overlay (``deployed_overlay``). In a cycle of inclusions every member is
        one, so that kustomize says what is wrong."""
        includers: dict[Path, list[Kustomization]] = {}
        for node in self.nodes.values():
            for child in self.children(node):
                includers.setdefault(child.path, []).append(node)
        roots = [
            n
            for p, n in sorted(self.nodes.items())
            if not n.component and (p not in includers or self.deployed_overlay(n, includers))
        ]
        reached = {node.path for root in roots for node in self.closure(root)}
        cycles = [n for p, n in sorted(self.nodes.items()) if not n.component and p not in reached]
        return sorted([*roots, *cycles], key=lambda node: node.path)

    def closure(self, root: Kustomization) -> list[Kustomization]:
        """``root`` and every kustomization it reaches, in the order kustomize applies
        their patches: a kustomization's resources first, then its components, then itself."""
        known = self._closures.get(root.path)
        if known is not None:
            return known
        order: list[Kustomization] = []
        seen: set[Path] = set()
        stack: list[tuple[Kustomization, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
                continue
            if node.path in seen:
                continue
            seen.add(node.path)
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(self.children(node)))
        self._closures[root.path] = order
        return order

    def files(self, root: Kustomization) -> set[Path]:
        """Every local file a build of ``root`` reads, kustomization files included."""
        return {path for node in self.closure(root) for path in (node.path, *node.files)}

    def patches(self, root: Kustomization) -> list[Patch]:
        return [patch for node in self.closure(root) for patch in node.patches]

    def remote(self, root: Kustomization) -> list[tuple[Kustomization, Ref]]:
        return [
            (node, ref)
            for node in self.closure(root)
            for ref in [*node.resources, *node.components]
            if ref.remote
        ]

    def remote_charts(self, root: Kustomization) -> list[tuple[Kustomization, Chart]]:
        """The charts of the build that kustomize would pull (not in the tree)."""
        return [(node, chart) for node in self.closure(root) for chart in node.charts if chart.remote]

    def unused_components(self, roots: Iterable[Kustomization]) -> list[Kustomization]:
        reached = {node.path for root in roots for node in self.closure(root)}
        return [node for path, node in sorted(self.nodes.items()) if node.component and path not in reached]


def load(files: Iterable[Path], max_bytes: int) -> Graph:
    """The kustomizations ``files`` name, and every local one they include."""
    graph = Graph()
    pending = [resolved(path) for path in files]
    while pending:
        path = pending.pop()
        if path in graph.nodes:
            continue
        node = _read(path, max_bytes)
        graph.nodes[path] = node
        for ref in [*node.resources, *node.components]:
            if ref.path is not None and ref.is_dir:
                child = kustomization_in(ref.path)
                if child is not None:
                    pending.append(resolved(child))
    return graph


def _read(path: Path, max_bytes: int) -> Kustomization:
    node = Kustomization(path)
    try:
        node.source = read_source(path, max_bytes)
        documents = parse(node.source)
    except SourceError as error:
        node.error = error.message
        return node
    except YamlError as error:
        node.error = f"line {error.line}: {error.summary}"
        return node
    document = documents[0] if documents else None
    if not isinstance(document, Map):
        node.error = "not a mapping"
        return node
    node.document = document
    kind = document.scalar("kind")
    node.component = kind is not None and kind.value == COMPONENT
    directory = path.parent
    for key in ("resources", "bases"):
        node.resources.extend(_refs(document.get(key), directory))
    node.components = _refs(document.get("components"), directory)
    node.files = {ref.path for ref in node.resources if ref.path is not None and not ref.is_dir}
    node.files.update(_other_files(document, directory))
    node.patches = _patches(node, document, directory, max_bytes)
    node.files.update(p.file for p in node.patches if p.file != path)
    node.generators = generators(document, directory, max_bytes)
    node.charts = charts(document, directory)
    for chart in node.charts:
        # A local chart and its values files are read by the build: checked through it.
        node.files.update(f for f in chart.values_files if os.path.isfile(f))
        node.files.update(chart_files(chart))
    return node


def _strings(node: Node | None) -> Iterator[Scalar]:
    if isinstance(node, Seq):
        for item in node.items:
            if isinstance(item, Scalar) and isinstance(item.value, str) and item.value:
                yield item


def _refs(node: Node | None, directory: Path) -> list[Ref]:
    refs = []
    for item in _strings(node):
        entry = str(item.value)
        if is_remote(entry, directory):
            refs.append(Ref(entry, item, None, remote=True))
        else:
            refs.append(Ref(entry, item, Path(os.path.normpath(directory / entry))))
    return refs


def is_remote(entry: str, directory: Path) -> bool:
    """Whether kustomize would fetch ``entry`` rather than read it from ``directory``."""
    if _REMOTE.match(entry):
        return True
    if os.path.exists(directory / entry):
        return False
    first = entry.split("/", 1)[0]
    return bool(_QUERY_REF.search(entry)) or ("." in first and "/" in entry and first not in (".", ".."))


def _other_files(document: Map, directory: Path) -> set[Path]:
    found: set[Path] = set()
    for key in _FILE_LISTS:
        found.update(_local(item, directory) for item in _strings(document.get(key)))
    for key in _GENERATORS:
        generators = document.get(key)
        for generator in generators.items if isinstance(generators, Seq) else []:
            if not isinstance(generator, Map):
                continue
            for field_name in ("files", "envs", "env"):  # env: the older singular form
                for item in _strings(generator.get(field_name)):
                    # `files` entries may be `key=path`
                    found.add(_local(item, directory, str(item.value).rpartition("=")[2]))
    return {path for path in found if os.path.isfile(path)}


def _local(item: Scalar, directory: Path, entry: str | None = None) -> Path:
    return Path(os.path.normpath(directory / (entry if entry is not None else str(item.value))))


def _patches(owner: Kustomization, document: Map, directory: Path, max_bytes: int) -> list[Patch]:
    """patchesStrategicMerge, patches, then patchesJson6902: kustomize's order (measured with
    kubectl 1.32: a JSON 6902 patch wins over a `patches` entry on the same field)."""
    found: list[Patch | None] = []
    for item in _items(document.get("patchesStrategicMerge")):
        if isinstance(item, Scalar) and isinstance(item.value, str):
            if "\n" in item.value or ":" in item.value:
                found.append(_inline(owner, item, {}, "patchesStrategicMerge"))
            else:
                found.append(_from_file(owner, directory, item, item, {}, max_bytes, "patchesStrategicMerge"))
    for key in ("patches", "patchesJson6902"):
        for item in _items(document.get(key)):
            if not isinstance(item, Map):
                continue
            target = _target(item.get("target"))
            path, inline = item.scalar("path"), item.scalar("patch")
            if path is not None and isinstance(path.value, str):
                found.append(_from_file(owner, directory, item, path, target, max_bytes, key))
            elif inline is not None and isinstance(inline.value, str):
                found.append(_inline(owner, inline, target, key))
    return [patch for patch in found if patch is not None]


def _items(node: Node | None) -> list[Node]:
    return node.items if isinstance(node, Seq) else []


def _target(node: Node | None) -> dict[str, str]:
    if not isinstance(node, Map):
        return {}
    return {
        name: str(pair.value.value)
        for name, pair in node.effective().items()
        if isinstance(pair.value, Scalar) and pair.value.value is not None
    }


def _from_file(
    owner: Kustomization,
    directory: Path,
    item: Node,
    entry: Scalar,
    target: dict[str, str],
    max_bytes: int,
    key: str,
) -> Patch | None:
    path = Path(os.path.normpath(directory / str(entry.value)))
    owner.patch_entries.append((path, str(entry.value), item))
    try:
        source = read_source(path, max_bytes)
        documents = parse(source)
    except (SourceError, YamlError):
        owner.files.add(path)  # kustomize reports it when building
        return None
    return _patch(owner, source, documents, target, key)


def _inline(owner: Kustomization, node: Scalar, target: dict[str, str], key: str) -> Patch | None:
    assert owner.source is not None
    text = str(node.value)
    source = SourceText(owner.path, text)
    try:
        documents = parse(source)
    except YamlError:
        return None
    patch = _patch(owner, source, documents, target, key)
    if patch is None:
        return None
    line, column = node.line, node.column
    if node.style in ("|", ">"):
        # The text starts on the line after the indicator, at the block's indentation:
        # that of its first line that is not blank (blank lines may be indented less).
        patch.line_shift, patch.column_shift = line, _block_indentation(owner.source, line, node)
    else:
        patch.line_shift, patch.column_shift = line - 1, column - 1 + (1 if node.style else 0)
    return patch


def _block_indentation(source: SourceText, line: int, node: Scalar) -> int:
    last = source.position(max(node.end - 1, node.start))[0]
    for number in range(line + 1, last + 1):
        text = source.line_text(number)
        if text.strip():
            return len(text) - len(text.lstrip(" "))
    return 0


def _patch(
    owner: Kustomization, source: SourceText, documents: list[Node], target: dict[str, str], key: str
) -> Patch | None:
    if not documents:
        return None
    kind = JSON6902 if isinstance(documents[0], Seq) else STRATEGIC
    return Patch(kind, source, documents, target, owner, field=key)


def find(paths: Iterable[Path]) -> list[Path]:
    """The kustomization files among ``paths`` (by name)."""
    return [path for path in paths if path.name in KUSTOMIZATION_NAMES]


def project_root(path: Path, stops: Iterable[Path]) -> Path:
    """Where to look for the kustomizations that may include ``path``: the settings
    file's directory or the repository root above it; outside both, the directory
    above the highest kustomization over ``path``."""
    boundaries = {resolved(stop) for stop in stops}
    start = resolved(path)
    highest = start.parent
    for directory in (start.parent, *start.parent.parents):
        if directory in boundaries or (directory / ".git").exists():
            return directory
        if kustomization_in(directory) is not None:
            highest = directory
    return highest.parent
