"""Which step of a build set a field of a rendered resource, and where.

kustomize's origin annotation names the file a resource came from, not what the
build did to it after. A field is traced here through the build's *writers*, in the
order kustomize applies them (a kustomization's resources and components first, then
its generators, its patches and its common labels and annotations):

* a patch that targets the resource (by its ``target`` selector, or a strategic-merge
  patch's own kind and name) and writes the field (a JSON 6902
  ``add``/``replace``/``copy``/``move`` at the field or above it; a strategic-merge
  document that holds it);
* a ``configMapGenerator`` or ``secretGenerator`` of the resource's name that sets the
  key (a ``literals`` item, a line of an ``envs`` file, a ``files`` item): with
  ``behavior: merge`` an overlay's generator overrides the base's keys;
* a ``commonAnnotations``, ``commonLabels`` or ``labels`` entry of a kustomization whose
  build holds the resource;
* a ``helmCharts`` item's values (``valuesInline``, its values files, the chart's own
  ``values.yaml``) for a ConfigMap key or an annotation of a resource the chart made.

Among those, the latest whose value is the rendered value wins, else the latest. A
resource that a generator or a chart made is placed at that item when no writer sets
the field. A namespace set by a kustomization's ``namespace:`` is traced to that line.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tlslint.findings import Location
from tlslint.kustomize.generated import Chart, Generator, values_entry
from tlslint.kustomize.graph import JSON6902, Graph, Kustomization, Patch
from tlslint.rendered import (
    ORIGIN_ANNOTATION,
    FieldPath,
    RenderedDocument,
    SourceFiles,
    is_identity,
    node_location,
    same_value,
    walk,
)
from tlslint.sources.apigee.tree import Map, Node, Pair, Scalar, Seq

_SETTING_OPS = ("add", "replace", "copy", "move")
_CONFIGURED_BY = re.compile(r"^configuredBy:\s*\n(?:[ \t]+.*\n?)*?[ \t]+kind:[ \t]*(?P<kind>\w+)", re.M)
GENERATED_BY = ("ConfigMapGenerator", "SecretGenerator", "HelmChartInflationGenerator")
# A writer: where one step of a build writes a field of a resource, each with whether
# what it writes there is the rendered value; latest first.
Writer = Callable[[RenderedDocument, FieldPath, bool], Iterator[tuple[Location, bool]]]


class BuildLocator:
    """A kustomize build's locator for fields set by its patches, generators, charts and
    kustomizations."""

    def __init__(self, graph: Graph, root: Kustomization, files: SourceFiles) -> None:
        self.closure = list(graph.closure(root))  # application order: the root last
        self.writers: list[Writer] = []
        for node in self.closure:
            self.writers += [_generator_writer(g) for g in node.generators]
            self.writers += [_chart_writer(node, c, files) for c in node.charts]
            self.writers += [_patch_writer(p) for p in node.patches]
            self.writers.append(_metadata_writer(node, graph.files(node)))

    def __call__(self, document: RenderedDocument, path: FieldPath, at_key: bool) -> Location | None:
        if path[:2] == ("metadata", "namespace"):
            return self._namespace(document, at_key)
        if not is_identity(path):
            found = self._written(document, path, at_key)
            if found is not None:
                return found
        return self._creator(document)

    def _written(self, document: RenderedDocument, path: FieldPath, at_key: bool) -> Location | None:
        fallback: Location | None = None
        for writer in reversed(self.writers):
            for location, same in writer(document, path, at_key):
                if same:
                    return location
                fallback = fallback or location
        return fallback

    def _creator(self, document: RenderedDocument) -> Location | None:
        """The generator or chart item that made ``document``: it is written in no file."""
        kind = generated_by(document)
        if kind is None:
            return None
        for node in self.closure:
            if node.path != document.origin:
                continue
            if kind == "HelmChartInflationGenerator":
                chart = _chart_of(node.charts, document)
                return chart.where() if chart is not None else None
            made = [g for g in node.generators if g.makes(document.kind, document.name)]
            if made:
                return made[0].where()
        return None

    def _namespace(self, document: RenderedDocument, at_key: bool) -> Location | None:
        """The ``namespace:`` of the kustomization nearest the root that sets the rendered one."""
        for node in reversed(self.closure):
            value = node.setting("namespace")
            if value is not None and value.value == document.namespace and node.document is not None:
                pair = node.document.pair("namespace")
                return node_location(value, pair, True) if pair is not None else None
        return None


def generated_by(document: RenderedDocument) -> str | None:
    """The generator kustomize's origin annotation names (``configuredBy``), if it is one."""
    metadata = document.node.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Map) else None
    value = annotations.scalar(ORIGIN_ANNOTATION) if isinstance(annotations, Map) else None
    if value is None or not isinstance(value.value, str):
        return None
    match = _CONFIGURED_BY.search(value.value)
    kind = match.group("kind") if match is not None else None
    return kind if kind in GENERATED_BY else None


# -- writers -------------------------------------------------------------------------------
def _patch_writer(patch: Patch) -> Writer:
    def write(document: RenderedDocument, path: FieldPath, at_key: bool) -> Iterator[tuple[Location, bool]]:
        if not targets(patch, document):
            return
        for node, pair, declared_at in _declared(patch, document, path):
            rendered, _, steps = walk(document.node, path[:declared_at])
            location = node_location(node, pair, at_key and declared_at == len(path), _shift(patch))
            yield location, steps == declared_at and same_value(node, rendered)

    return write


def _generator_writer(generator: Generator) -> Writer:
    """A generator's entry for a key of the ConfigMap (or Secret) it makes or merges into;
    the last entry of a key wins within one generator, as in kustomize."""

    def write(document: RenderedDocument, path: FieldPath, at_key: bool) -> Iterator[tuple[Location, bool]]:
        if len(path) != 2 or path[0] not in ("data", "binaryData"):
            return
        if not generator.makes(document.kind, document.name):
            return
        rendered = _scalar_text(document, path)
        for entry in reversed(generator.entries):
            if entry.key == path[1]:
                yield entry.at(at_key), entry.value is None or _encoded(generator, entry.value) == rendered
                return

    return write


def _encoded(generator: Generator, value: str) -> str:
    """A value as the rendered resource holds it: a Secret's data is base64."""
    if generator.kind == "Secret":
        return base64.b64encode(value.encode("utf-8", "surrogateescape")).decode("ascii")
    return value


def _metadata_writer(node: Kustomization, files: set[Path]) -> Writer:
    """A kustomization's commonAnnotations, commonLabels and labels, for the resources of
    its own build (a sibling base's resources are not its)."""
    annotations: list[tuple[Pair, frozenset[FieldPath] | None]] = [
        (pair, _EVERYWHERE) for pair in _pairs(node, "commonAnnotations")
    ]
    labels = [(pair, _EVERYWHERE) for pair in _pairs(node, "commonLabels")] + _labels(node)

    def write(document: RenderedDocument, path: FieldPath, at_key: bool) -> Iterator[tuple[Location, bool]]:
        if len(path) < 2 or document.origin not in files:
            return
        key, parent = path[-1], path[-2]
        if parent == "annotations":
            candidates = annotations
        elif parent in ("labels", "matchLabels") or path[:2] == ("spec", "selector"):
            candidates = labels
        else:
            return
        rendered, _, steps = walk(document.node, path)
        for pair, where in reversed(candidates):
            if pair.name == key and (where is _EVERYWHERE or path[:-1] in where):
                same = steps == len(path) and same_value(pair.value, rendered)
                yield node_location(pair.value, pair, at_key), same
                return

    return write


# Where a label or annotation entry writes: _EVERYWHERE (commonLabels: selectors and
# templates too), or the parents of the key a ``labels:`` entry reaches.
_EVERYWHERE = None
_OWN_LABELS = ("metadata", "labels")
_TEMPLATE_LABELS = ("spec", "template", "metadata", "labels")


def _labels(node: Kustomization) -> list[tuple[Pair, frozenset[FieldPath] | None]]:
    """``labels:`` entries: the resource's own labels, its pod template's with
    ``includeTemplates``, everywhere (selectors too) with ``includeSelectors``."""
    found: list[tuple[Pair, frozenset[FieldPath] | None]] = []
    for item in _items(node, "labels"):
        if not isinstance(item, Map):
            continue
        where: frozenset[FieldPath] | None
        if _flag(item, "includeSelectors"):
            where = _EVERYWHERE
        elif _flag(item, "includeTemplates"):
            where = frozenset({_OWN_LABELS, _TEMPLATE_LABELS})
        else:
            where = frozenset({_OWN_LABELS})
        found += [(pair, where) for pair in _pairs_of(item.get("pairs"))]
    return found


def _flag(item: Map, key: str) -> bool:
    value = item.scalar(key)
    return value is not None and value.value is True


def _chart_writer(node: Kustomization, chart: Chart, files: SourceFiles) -> Writer:
    """The values that set a key of a ConfigMap (or an annotation) a chart rendered: the
    chart copies such keys from its values (ingress-nginx's ``controller.config``), so the
    key of that name with the rendered value is the one; the item's own values first."""

    def write(document: RenderedDocument, path: FieldPath, at_key: bool) -> Iterator[tuple[Location, bool]]:
        if document.origin != node.path or generated_by(document) != "HelmChartInflationGenerator":
            return
        if len(path) < 2 or not ((path[0] == "data" and len(path) == 2) or path[-2] == "annotations"):
            return
        if _chart_of(node.charts, document) is not chart:
            return
        rendered = _scalar_text(document, path)
        if rendered is None:
            return
        for values in _chart_values(chart, files):
            found = values_entry(values, str(path[-1]), rendered)
            if found is not None:
                value, pair = found
                yield node_location(value, pair, at_key), True
                return

    return write


def _chart_values(chart: Chart, files: SourceFiles) -> Iterator[Node]:
    """Where a chart's values come from, highest precedence first."""
    if chart.values_inline is not None:
        yield chart.values_inline
    own = [chart.local / "values.yaml"] if chart.local is not None else []
    for path in [*reversed(chart.values_files), *own]:
        yield from files.documents(path) or []


def _chart_of(charts: Sequence[Chart], document: RenderedDocument) -> Chart | None:
    """The chart that rendered ``document``: the one whose release name its name holds."""
    if len(charts) == 1:
        return charts[0]
    name = document.name or ""
    named = [c for c in charts if (c.release or c.name) in name]
    return named[0] if named else (charts[0] if charts else None)


def _scalar_text(document: RenderedDocument, path: FieldPath) -> str | None:
    node, _, steps = walk(document.node, path)
    if steps != len(path) or not isinstance(node, Scalar) or node.value is None:
        return None
    return str(node.value).lower() if isinstance(node.value, bool) else str(node.value)


def _items(node: Kustomization, key: str) -> list[Node]:
    value = node.document.get(key) if node.document is not None else None
    return value.items if isinstance(value, Seq) else []


def _pairs(node: Kustomization, key: str) -> list[Pair]:
    return _pairs_of(node.document.get(key) if node.document is not None else None)


def _pairs_of(value: Node | None) -> list[Pair]:
    return [p for p in value.pairs if p.name is not None and not p.merged] if isinstance(value, Map) else []


def _shift(patch: Patch) -> tuple[int, int]:
    return patch.line_shift, patch.column_shift


def targets(patch: Patch, document: RenderedDocument) -> bool:
    """Whether ``patch`` applies to ``document`` as far as can be told from the rendered resource."""
    selector = patch.target
    if not selector:
        if patch.kind == JSON6902:
            return False  # kustomize requires a target for these
        return any(_same_resource(d, document) for d in patch.documents if isinstance(d, Map))
    api = document.node.scalar("apiVersion")
    group, _, version = str(api.value if api is not None else "").rpartition("/")
    values = {
        "kind": document.kind or "",
        "name": document.name or "",
        "namespace": document.namespace or "",
        "group": group,
        "version": version,
    }
    for key, wanted in selector.items():
        if key in values:
            if not _matches(wanted, values[key]):
                return False
        elif key == "labelSelector" and not _labels_match(wanted, document.labels()):
            return False
    return True


def _matches(pattern: str, value: str) -> bool:
    """kustomize reads a selector's name and namespace as anchored regular expressions."""
    if pattern == value:
        return True
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return False


def _labels_match(selector: str, labels: dict[str, str]) -> bool:
    """Equality selectors (``a=b,c==d``) are checked; anything else is taken as matching."""
    for term in selector.split(","):
        key, sign, value = term.partition("=")
        if not sign or "!" in key or " in " in term:
            continue
        if labels.get(key.strip()) != value.lstrip("=").strip():
            return False
    return True


def _same_resource(patch: Map, document: RenderedDocument) -> bool:
    kind = patch.scalar("kind")
    metadata = patch.get("metadata")
    name = metadata.scalar("name") if isinstance(metadata, Map) else None
    if kind is None or kind.value != document.kind:
        return False
    if name is None or not isinstance(name.value, str):
        return True
    rendered = document.name or ""
    return name.value == rendered or (bool(name.value) and name.value in rendered)


def _declared(
    patch: Patch, document: RenderedDocument, path: FieldPath
) -> list[tuple[Node, Pair | None, int]]:
    """Where ``patch`` writes the field at ``path`` (or the nearest enclosing value it writes
    whole): node, pair, and how many steps of ``path`` that covers. Latest first."""
    if patch.kind == JSON6902:
        operations = patch.documents[0]
        found = []
        for operation in reversed(operations.items if isinstance(operations, Seq) else []):
            if isinstance(operation, Map):
                hit = _operation(operation, document, path)
                if hit is not None:
                    found.append(hit)
        return found
    found = []
    for item in reversed(patch.documents):
        if isinstance(item, Map) and (patch.target or _same_resource(item, document)):
            hit = _strategic(item, path)
            if hit is not None:
                found.append(hit)
    return found


def _operation(
    operation: Map, document: RenderedDocument, path: FieldPath
) -> tuple[Node, Pair | None, int] | None:
    op = operation.scalar("op")
    pointer = operation.scalar("path")
    if op is None or op.value not in _SETTING_OPS or pointer is None or not isinstance(pointer.value, str):
        return None
    keys = _pointer(pointer.value)
    if keys is None or len(keys) > len(path):
        return None
    for index, key in enumerate(keys):
        step = path[index]
        if key == "-":
            if not isinstance(step, int):
                return None
            continue  # appended: the value check decides
        if str(step) != key:
            return None
    value_pair = operation.pair("value")
    if op.value in ("add", "replace") and value_pair is not None:
        rest = path[len(keys) :]  # into the value: an item, or a key of a mapping it adds whole
        node, pair, steps = walk(value_pair.value, rest)
        if steps < len(rest) and isinstance(node, Map):
            return None  # the rendered field is below a mapping the operation did not write whole
        return node, (pair if steps else value_pair), len(keys) + steps
    return operation, operation.pair("path"), len(keys)


def _pointer(text: str) -> tuple[str, ...] | None:
    """A JSON pointer's reference tokens (RFC 6901)."""
    if not text.startswith("/"):
        return None
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in text[1:].split("/"))


def _strategic(patch: Map, path: FieldPath) -> tuple[Node, Pair | None, int] | None:
    node, pair, steps = walk(patch, path)
    if steps == 0:
        return None
    if steps < len(path):
        # The patch stops above the field: it wrote it only if what it holds there is
        # a whole value (a scalar, or a list, which a patch of a custom resource replaces).
        return (node, pair, steps) if isinstance(node, (Scalar, Seq)) else None
    if isinstance(node, Map):
        return None  # merged into the resource's own mapping: the resource declares it
    return node, pair, steps


def path_text(path: FieldPath) -> str:
    return "".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in path).lstrip(".")
