"""Rendered builds: what the cluster receives, for any YAML tier to check.

A ``RenderedBuild`` is one deployment: the output of ``kubectl kustomize`` for one
root, of ``helm template`` for one release, or a stream read from standard input.
Its ``documents`` are the rendered resources as YAML trees with exact offsets in
``source`` (the rendered text), each with the file it came from (``origin``,
from the ``config.kubernetes.io/origin`` annotation or helm's ``# Source:``).

A tier checks a build as it checks files: it builds its own workspace from the
documents, runs its checks, and passes every finding through ``map_finding``,
which moves each location from the rendered text to the source file and line
that set the field (the patch's, for a field a patch set) and says which build
the finding belongs to. How a field is traced to its source is the renderer's
business: a build carries *locators*, tried in order, each mapping a document
and a field path to a location or None.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.findings import Finding, Location, Related
from tlslint.paths import resolved
from tlslint.sources.apigee.tree import Map, Node, Pair, Scalar, Seq, YamlError, parse, to_data
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError, read_source

if TYPE_CHECKING:
    from tlslint.filters import Filters

Key = str | int
FieldPath = tuple[Key, ...]
ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
_ORIGIN_PATH = re.compile(r"^path:[ \t]*(?P<path>.+?)[ \t]*$", re.M)
_ORIGIN_CONFIGURED_IN = re.compile(r"^configuredIn:[ \t]*(?P<path>.+?)[ \t]*$", re.M)
_ORIGIN_REPO = re.compile(r"^repo:[ \t]*(?P<repo>.+?)[ \t]*$", re.M)
_IDENTITY = {("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace")}


@dataclass(eq=False)
class RenderedDocument:
    """One rendered resource and the file it came from."""

    node: Map
    origin: Path | None  # absolute; None when the renderer does not say
    remote: str = ""  # the repository it came from, when fetched (origin annotation's repo)

    @property
    def kind(self) -> str | None:
        kind = self.node.scalar("kind")
        return kind.value if kind is not None and isinstance(kind.value, str) else None

    @property
    def name(self) -> str | None:
        return _metadata(self.node, "name")

    @property
    def namespace(self) -> str | None:
        return _metadata(self.node, "namespace")

    def labels(self) -> dict[str, str]:
        metadata = self.node.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, Map) else None
        if not isinstance(labels, Map):
            return {}
        return {k: str(p.value.value) for k, p in labels.effective().items() if isinstance(p.value, Scalar)}


def _metadata(node: Map, key: str) -> str | None:
    metadata = node.get("metadata")
    value = metadata.scalar(key) if isinstance(metadata, Map) else None
    return value.value if value is not None and isinstance(value.value, str) else None


# A locator maps a rendered document and a field in it (the path, and whether the
# finding points at the field's key) to where that field was written, or None.
Locator = Callable[[RenderedDocument, FieldPath, bool], Location | None]
# What a renderer makes of a build's findings once they are mapped to its sources (the
# run's filters given, and the run's findings in the files it checked on their own):
# Helm says those in a values file as that file's own reading does.
Restater = Callable[[list[Finding], "Filters", Sequence[Finding]], list[Finding]]


@dataclass(eq=False)
class RenderedBuild:
    """One deployment as the cluster receives it."""

    label: str  # e.g. "overlays/prod", "helm release prod", "stdin"
    source: SourceText  # the rendered text
    documents: list[RenderedDocument]
    where: Location  # what made the build (root kustomization, chart): findings about the build
    locators: list[Locator] = field(default_factory=list)
    files: set[Path] = field(default_factory=set)  # the source files the build read
    trees: list[Node] | None = None  # the parsed documents of ``source``, when kept
    # A field no locator finds stays where it is in the rendered text when that text
    # is one the user has (a stream on stdin); else it goes to ``where``.
    unmapped_in_place: bool = False
    restate: Restater | None = None
    # Checked with the run's plain manifests beside it: what the renderer leaves to
    # objects applied on their own (a Helm release; a kustomize build is the whole deployment).
    beside_plain: bool = False
    # A chart's own values.yaml files (its defaults, a subchart's too) and the release's
    # values files: a finding traced to a default is mended by overriding it there.
    chart_defaults: frozenset[Path] = frozenset()
    release_values: tuple[Path, ...] = ()

    def field_at(self, location: Location) -> tuple[RenderedDocument, FieldPath, bool] | None:
        """The rendered document and field at ``location`` (a place in ``source``)."""
        if location.line < 1:
            return None
        starts = self.source.line_starts()
        if location.line > len(starts):
            return None
        offset = starts[location.line - 1] + max(location.column - 1, 0)
        for document in self.documents:
            if document.node.start <= offset < max(document.node.end, document.node.start + 1):
                path, at_key = field_path(document.node, offset)
                return document, path, at_key
        return None

    def locate(self, location: Location) -> Location | None:
        """Where the field at ``location`` in the rendered text was written; None if unknown."""
        if location.path != self.source.path:
            return location
        found = self.field_at(location)
        if found is None:
            return None
        document, path, at_key = found
        for locator in self.locators:
            where = locator(document, path, at_key)
            if where is not None:
                return where
        return None

    def map_finding(self, finding: Finding) -> Finding:
        """``finding`` (located in the rendered text) located in the sources, its build named.

        A fix edits the rendered text, which is no file: it is dropped, with a note.
        """
        location = self.locate(finding.location) or self._unmapped(finding.location)
        related = tuple(
            Related(self.locate(r.location) or self._unmapped(r.location), r.message) for r in finding.related
        )
        note = finding.fix_note
        if finding.fix is not None:
            note = self._no_fix_note(location)
        return dataclasses.replace(
            finding,
            location=location,
            related=related,
            fix=None,
            fix_note=note,
            message=f"{finding.message} [build: {self.label}]" if self.label else finding.message,
        )

    def _no_fix_note(self, location: Location) -> str:
        if self.chart_defaults and resolved(location.path) in self.chart_defaults:
            from tlslint.report.text import display_path

            shown = ", ".join(display_path(p) for p in self.release_values) or "a values file of the release"
            return (
                f"no fix: {display_path(location.path)} is the chart's default (a fix there would change "
                f"every release of the chart); override the value in {shown}"
            )
        what = f"the rendered build {self.label}" if self.label else "text read from standard input"
        return f"no fix: found in {what}; edit the file it points to"

    def _unmapped(self, location: Location) -> Location:
        return location if self.unmapped_in_place else self.where


def field_path(node: Node, offset: int) -> tuple[FieldPath, bool]:
    """The path of the deepest field under ``node`` whose text holds ``offset``, and
    whether ``offset`` is on that field's key."""
    path: list[Key] = []
    current: Node = node
    while True:
        if isinstance(current, Map):
            pair = _pair_at(current, offset)
            if pair is None or pair.name is None:
                return tuple(path), False
            path.append(pair.name)
            if offset < pair.value.start or pair.value.start < pair.key.end:
                return tuple(path), True
            current = pair.value
        elif isinstance(current, Seq):
            index = next(
                (
                    i
                    for i, item in enumerate(current.items)
                    if item.start <= offset < max(item.end, item.start + 1)
                ),
                None,
            )
            if index is None:
                return tuple(path), False
            path.append(index)
            current = current.items[index]
        else:
            return tuple(path), False


def _pair_at(mapping: Map, offset: int) -> Pair | None:
    for pair in mapping.pairs:
        if pair.merged:
            continue
        end = max(pair.key.end, pair.value.end)
        if pair.key.start <= offset < max(end, pair.key.start + 1):
            return pair
    return None


def walk(node: Node, path: FieldPath) -> tuple[Node, Pair | None, int]:
    """The deepest node along ``path``, the pair that led to it (None for a list item
    or the start) and how many steps of ``path`` were taken."""
    pair: Pair | None = None
    for steps, key in enumerate(path):
        if isinstance(node, Map) and isinstance(key, str):
            found = node.pair(key)
            if found is None:
                return node, pair, steps
            pair, node = found, found.value
        elif isinstance(node, Seq) and isinstance(key, int) and 0 <= key < len(node.items):
            pair, node = None, node.items[key]
        else:
            return node, pair, steps
    return node, pair, len(path)


def node_location(node: Node, pair: Pair | None, at_key: bool, shift: tuple[int, int] = (0, 0)) -> Location:
    """A pair from its key to the end of its line; a node cut at its first line."""
    source = node.source
    if pair is not None and at_key:
        line, column = source.position(pair.key.start)
        end_line, end_column = line, len(source.line_text(line)) + 1
    else:
        line, column, end_line, end_column = source.region(node.start, node.end, first_line=True)
    lines, columns = shift
    return Location(source.path, line + lines, column + columns, end_line + lines, end_column + columns)


def same_value(a: Node, b: Node) -> bool:
    try:
        return bool(to_data(a, keep_placeholders=False) == to_data(b, keep_placeholders=False))
    except RecursionError:
        return False


# -- reading a rendered stream ------------------------------------------------------
def documents_of(
    source: SourceText, base: Path | None, trees: list[Node] | None = None
) -> list[RenderedDocument]:
    """The resources of a rendered stream (``kind: List`` items too), each with its
    origin resolved against ``base`` (None: origins are ignored). ``YamlError`` when
    the stream is not YAML; ``trees``, when given, receives the parsed documents."""
    found = []
    parsed = parse(source)
    if trees is not None:
        trees.extend(parsed)
    for document in parsed:
        for item in _objects(document):
            origin, remote = _origin(item, base)
            found.append(RenderedDocument(item, origin, remote))
    return found


def _objects(document: Node) -> list[Map]:
    if not isinstance(document, Map):
        return []
    kind = document.scalar("kind")
    items = document.get("items")
    if kind is not None and kind.value == "List" and isinstance(items, Seq):
        return [item for item in items.items if isinstance(item, Map)]
    return [document]


def _origin(node: Map, base: Path | None) -> tuple[Path | None, str]:
    metadata = node.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Map) else None
    value = annotations.scalar(ORIGIN_ANNOTATION) if isinstance(annotations, Map) else None
    if base is None or value is None or not isinstance(value.value, str):
        return None, ""
    text = value.value
    repo = _ORIGIN_REPO.search(text)
    if repo is not None:
        return None, repo.group("repo").strip("'\"")
    match = _ORIGIN_PATH.search(text) or _ORIGIN_CONFIGURED_IN.search(text)
    if match is None:
        return None, ""
    return Path(os.path.normpath(base / match.group("path").strip("'\""))), ""


# -- finding a field in the file a resource came from --------------------------------
class SourceFiles:
    """Source files read once for all builds of a run: text and YAML documents."""

    def __init__(self, max_bytes: int, overlay: Mapping[Path, SourceText] | None = None) -> None:
        self.max_bytes = max_bytes
        self.texts: dict[Path, SourceText] = {}
        self._documents: dict[Path, list[Node] | None] = {}
        # The texts a fix edited in memory (the fixer's re-checks), by resolved path:
        # findings are mapped into the text the build was rendered from.
        self.overlay = overlay or {}

    def text(self, path: Path) -> SourceText | None:
        if path not in self.texts:
            edited = self.overlay.get(path)
            if edited is not None:
                self.texts[path] = edited
                return edited
            try:
                self.texts[path] = read_source(path, self.max_bytes)
            except SourceError:
                return None
        return self.texts[path]

    def documents(self, path: Path) -> list[Node] | None:
        if path not in self._documents:
            source = self.text(path)
            try:
                self._documents[path] = parse(source) if source is not None else None
            except YamlError:
                self._documents[path] = None
        return self._documents[path]

    def own_file(
        self, document: RenderedDocument, path: FieldPath, at_key: bool, name: str | None = None
    ) -> Location | None:
        """The field in the resource's own file, or its nearest ancestor written there;
        None when the file holds another value there (something the build did not say
        changed it: the rendered text is the only true place). ``name``: the resource's
        name as written, when the renderer knows it."""
        if document.origin is None:
            return None
        written = self.written(document, name)
        if written is None:
            source = self.text(document.origin)
            return Location(document.origin, 0, 0) if source is not None else None
        node, pair, steps = walk(written, path)
        if steps == len(path) and not _may_render_as(node, walk(document.node, path)[0]):
            return None
        return node_location(node, pair, at_key and steps == len(path))

    def written(self, document: RenderedDocument, name: str | None = None) -> Map | None:
        """The resource as written in its own file: same kind, and the name it was
        written under (``name``, else the rendered name; failing that, the longest name
        written that the rendered one holds between a prefix and a suffix: ``gw-internal``,
        not ``gw``, for ``prod-gw-internal``), or the only one of its kind there."""
        if document.origin is None:
            return None
        candidates = [
            item
            for item in (obj for d in self.documents(document.origin) or [] for obj in _objects(d))
            if _kind(item) == document.kind
        ]
        rendered = document.name or ""
        wanted = rendered if name is None else name
        exact = [item for item in candidates if (_metadata(item, "name") or "") == wanted]
        if exact:
            return exact[0]
        if name is None:
            held = [
                (len(written), index)
                for index, item in enumerate(candidates)
                if (written := _metadata(item, "name")) and renamed(written, rendered)
            ]
            if held:
                return candidates[max(held)[1]]
        return candidates[0] if len(candidates) == 1 else None


def renamed(written: str, rendered: str) -> bool:
    """Whether ``rendered`` is ``written`` with a name prefix, suffix or content hash
    around it, as kustomize's name transformers and name references leave it (``tls`` in
    ``prod-tls-5g2h4``); a number never is (``1`` is not in ``10``)."""
    if not re.search(r"[A-Za-z]", written):
        return False
    return re.fullmatch(rf"(?:.*[-.])?{re.escape(written)}(?:[-.].*)?", rendered, re.S) is not None


def _may_render_as(written: Node, rendered: Node) -> bool:
    """Whether the value written may be the one rendered: a scalar must be the same, or
    the same name with a prefix or suffix around it; other values are not compared."""
    if not isinstance(written, Scalar) or not isinstance(rendered, Scalar):
        return True
    if same_value(written, rendered) or scalar_text(written) == scalar_text(rendered):
        return True
    return (
        isinstance(written.value, str)
        and isinstance(rendered.value, str)
        and renamed(written.value, rendered.value)
    )


def scalar_text(node: Scalar) -> str:
    """A scalar as text, booleans as YAML writes them (``true``)."""
    value = node.value
    return str(value).lower() if isinstance(value, bool) else ("" if value is None else str(value))


def _kind(node: Map) -> str | None:
    kind = node.scalar("kind")
    return kind.value if kind is not None and isinstance(kind.value, str) else None


def is_identity(path: FieldPath) -> bool:
    return path[:1] in _IDENTITY or path[:2] in _IDENTITY


def merge_across_builds(findings: Sequence[Finding]) -> Iterator[Finding]:
    """One finding for the same rule, place and message found in several builds,
    naming them all."""
    groups: dict[tuple[str, Location, str, str], list[Finding]] = {}
    order: list[tuple[str, Location, str, str]] = []
    for finding in findings:
        message = finding.message.rpartition(" [build: ")[0]
        key = (finding.code, finding.location, finding.anchor, message or finding.message)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(finding)
    for key in order:
        group = groups[key]
        if len(group) == 1:
            yield group[0]
            continue
        labels = []
        for finding in group:
            label = finding.message.rpartition(" [build: ")[2].removesuffix("]")
            if label not in labels:
                labels.append(label)
        severity = max(finding.severity for finding in group)
        message = f"{key[3]} [builds: {', '.join(labels)}]"
        yield dataclasses.replace(group[0], message=message, severity=severity)
