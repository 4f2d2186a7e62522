"""Which step of a build set a field of a rendered resource, and where.

kustomize's origin annotation names the file a resource came from, not what the
build did to it after. A field is traced here through the build's *writers*, in the
order kustomize applies them (a kustomization's resources and components first, then
its generators, its patches and its common labels and annotations):

* a patch that targets the resource (by its ``target`` selector, or a strategic-merge
  patch's own kind and name, matched whole against the names kustomize matches: the
  one written and the one the resource has when the patch runs) and writes the field
  (a JSON 6902 ``add``/``replace``/``copy``/``move`` at the field or above it, an
  append ``/-`` only at an item the resource's own file does not hold; a
  strategic-merge document that holds it);
* a ``configMapGenerator`` or ``secretGenerator`` of the resource's name that sets the
  key (a ``literals`` item, a line of an ``envs`` file, a ``files`` item): with
  ``behavior: merge`` an overlay's generator overrides the base's keys;
* a ``commonAnnotations``, ``commonLabels`` or ``labels`` entry of a kustomization whose
  build holds the resource;
* a ``helmCharts`` item's values (``valuesInline``, its values files, the chart's own
  ``values.yaml``) for a ConfigMap key or an annotation of a resource the chart made;
* a ``replicas:`` entry's ``count``, an ``images:`` entry's ``newTag`` (``digest``,
  ``newName``), a ``replacements:`` target's ``fieldPaths`` entry.

Among those, the latest whose value is the rendered value wins, else the latest that
wrote a whole mapping or list there; one that wrote another scalar is passed over (a
later step changed it). A resource that a generator or a chart made is placed at that
item when no writer sets the field; else the field is found in the resource's own
file, under the name it was written with, unless that file holds another value there
(then no place is claimed: the build's root is shown rather than a line that says
otherwise). A namespace set by a kustomization's ``namespace:`` is traced to that line.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
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
    scalar_text,
    walk,
)
from tlslint.sources.apigee.tree import Map, Node, Pair, Scalar, Seq

_SETTING_OPS = ("add", "replace", "copy", "move")
_CONFIGURED_BY = re.compile(r"^configuredBy:\s*\n(?:[ \t]+.*\n?)*?[ \t]+kind:[ \t]*(?P<kind>\w+)", re.M)
GENERATED_BY = ("ConfigMapGenerator", "SecretGenerator", "HelmChartInflationGenerator")
# The content hash kustomize appends to a generated ConfigMap's or Secret's name: ten
# characters of hex with 0, 1, 3, a and e spelt g, h, k, m and t (not "-controller").
_HASH = re.compile(r"-[2456789bcdfghkmt]{10}$")
# What kustomize's replicas: transformer scales (its field specs: spec/replicas).
_SCALED = ("Deployment", "ReplicaSet", "ReplicationController", "StatefulSet")
_CHAINS = 16  # ways through the build tried for one resource (a diamond of bases)
# A writer: where one step of a build writes a field of a resource, each with whether
# what it writes there is the rendered value; latest first.
Writer = Callable[[RenderedDocument, FieldPath, bool], Iterator[tuple[Location, bool]]]
Id = tuple[str, str]  # a resource's name and namespace ("" for none) at one step of a build


@dataclass
class History:
    """The names and namespaces a rendered resource had in a build, as kustomize keeps
    them (its original id and the ids it had since): as written, and before and after the
    namespace and name transformers of each kustomization on its way to the root. A
    selector matches the original id or the current one (kustomize's ``Select``); a
    strategic-merge patch's own id any of them so far (``GetMatchingResourcesByAnyId``)."""

    original: Id
    chain: list[Path] = field(default_factory=list)  # kustomizations from the one that read it up
    before: dict[Path, Id] = field(default_factory=dict)
    after: dict[Path, Id] = field(default_factory=dict)

    def ids(self, owner: Path, late: bool) -> list[Id]:
        """Every id the resource had up to a transformer of ``owner`` (``late``: one that runs
        after its namespace and name transformers), the current one last. Of a kustomization
        not on its way (a component), every id it had."""
        if owner not in self.before:
            return [self.original, *self.before.values(), *self.after.values()]
        found = [self.original]
        for path in self.chain:
            found.append(self.before[path])
            if path == owner:
                if late:
                    found.append(self.after[path])
                return found
            found.append(self.after[path])
        return found

    def at(self, owner: Path, late: bool) -> list[Id]:
        """The original id and the current one at a transformer of ``owner``."""
        ids = self.ids(owner, late)
        return ids if owner not in self.before else [ids[0], ids[-1]]


class BuildLocator:
    """A kustomize build's locator for fields set by its patches, generators, charts and
    kustomizations."""

    def __init__(self, graph: Graph, root: Kustomization, files: SourceFiles) -> None:
        self.closure = list(graph.closure(root))  # application order: the root last
        self.root = root
        self.files = files
        self.parents: dict[Path, list[Kustomization]] = {}
        for node in self.closure:
            for child in graph.children(node):
                self.parents.setdefault(child.path, []).append(node)
        self._histories: dict[int, History] = {}
        self.writers: list[Writer] = []
        for node in self.closure:
            self.writers += [_generator_writer(node, g, self) for g in node.generators]
            self.writers += [_chart_writer(node, c, files) for c in node.charts]
            self.writers += [_patch_writer(p, self) for p in node.patches]
            self.writers.append(_metadata_writer(node, graph.files(node)))
            self.writers.append(_replicas_writer(node, self))
            self.writers.append(_images_writer(node))
            self.writers.append(_replacements_writer(node, files, self))

    def __call__(self, document: RenderedDocument, path: FieldPath, at_key: bool) -> Location | None:
        if path[:2] == ("metadata", "namespace"):
            return self._namespace(document, at_key)
        if not is_identity(path):
            found = self._written(document, path, at_key)
            if found is not None:
                return found
        created = self._creator(document)
        if created is not None:
            return created
        # Written under its original name: ``gw`` is not ``gw-internal``.
        return self.files.own_file(document, path, at_key, self.history(document).original[0])

    def history(self, document: RenderedDocument) -> History:
        known = self._histories.get(id(document))
        if known is None:
            known = self._histories[id(document)] = self._history(document)
        return known

    def _history(self, document: RenderedDocument) -> History:
        rendered, namespace = document.name or "", document.namespace or ""
        if generated_by(document) in GENERATED_BY[:2]:
            rendered = _HASH.sub("", rendered)
        # Of the ways up to the root (a base two overlays include), the one whose name
        # prefixes and suffixes the rendered name bears.
        chain: list[Kustomization] = []
        names: dict[Path, tuple[str, str]] = {}
        name = rendered
        for candidate in self._chains(document):
            name, names, consistent = rendered, {}, True
            for node in reversed(candidate):  # from the root down: take each one's affixes off
                before, fits = _unaffixed(name, node)
                consistent = consistent and fits
                names[node.path] = (before, name)
                name = before
            chain = candidate
            if consistent:
                break
        history = History((name, namespace), [node.path for node in chain])
        written = self.files.written(document, name) if document.origin is not None else None
        sets = [node.setting("namespace") for node in chain]
        if written is not None:
            namespace = _name_of(written, "namespace")
        elif any(value is not None for value in sets):
            namespace = ""  # unknown: the name decides
        history.original = (name, namespace)
        for node, value in zip(chain, sets, strict=True):
            before_name, after_name = names[node.path]
            history.before[node.path] = (before_name, namespace)
            if value is not None and isinstance(value.value, str):
                namespace = value.value
            history.after[node.path] = (after_name, namespace)
        return history

    def generates(self, node: Kustomization, generator: Generator, document: RenderedDocument) -> bool:
        """Whether ``generator`` of ``node`` made or merges into ``document``: its name is
        the resource's there (not merely inside it: ``tls`` is not ``tls-internal``)."""
        history = self.history(document)
        if not history.chain:
            return generator.makes(document.kind, document.name)
        names = {name for name, _ in history.ids(node.path, False)}
        return document.kind == generator.kind and generator.name in names

    def _chains(self, document: RenderedDocument) -> Iterator[list[Kustomization]]:
        """The ways the resource may have gone through the build: the kustomization that
        read its file (or generated it), then each that includes the last, up to the root.
        Nothing when it is not known to be reached: then nothing is assumed of its names."""
        origin = document.origin
        owners = [
            node
            for node in self.closure
            if node.path == origin or any(ref.path == origin for ref in node.resources)
        ]
        stack = [[owner] for owner in owners]
        found = 0
        while stack and found < _CHAINS:
            chain = stack.pop()
            last = chain[-1]
            if last.path == self.root.path:
                found += 1
                yield chain
                continue
            for parent in reversed(self.parents.get(last.path, [])):
                if all(parent.path != node.path for node in chain):
                    stack.append([*chain, parent])

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
            made = [g for g in node.generators if self.generates(node, g, document)]
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
def _patch_writer(patch: Patch, locator: BuildLocator) -> Writer:
    def write(document: RenderedDocument, path: FieldPath, at_key: bool) -> Iterator[tuple[Location, bool]]:
        history = locator.history(document)
        if not targets(patch, document, history):
            return
        for node, pair, declared_at in _declared(patch, document, path, history, locator):
            rendered, _, steps = walk(document.node, path[:declared_at])
            same = steps == declared_at and same_value(node, rendered)
            if (
                steps == declared_at
                and not same
                and isinstance(node, Scalar)
                and isinstance(rendered, Scalar)
            ):
                continue  # a later step the build does not say wrote another value
            location = node_location(node, pair, at_key and declared_at == len(path), _shift(patch))
            yield location, same

    return write


def _generator_writer(node: Kustomization, generator: Generator, locator: BuildLocator) -> Writer:
    """A generator's entry for a key of the ConfigMap (or Secret) it makes or merges into;
    the last entry of a key wins within one generator, as in kustomize."""

    def write(document: RenderedDocument, path: FieldPath, at_key: bool) -> Iterator[tuple[Location, bool]]:
        if len(path) != 2 or path[0] not in ("data", "binaryData"):
            return
        if not locator.generates(node, generator, document):
            return
        rendered = _scalar_text(document, path)
        for entry in reversed(generator.entries):
            if entry.key == path[1]:
                if entry.value is None or _encoded(generator, entry.value) == rendered:
                    yield entry.at(at_key), True
                return  # else a later step the build does not say wrote another value

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
                if same or not isinstance(rendered, Scalar):
                    yield node_location(pair.value, pair, at_key), same
                return

    return write


def _replicas_writer(node: Kustomization, locator: BuildLocator) -> Writer:
    """A ``replicas:`` entry's ``count`` for the workload of its name (any name the
    workload had so far, as kustomize matches it)."""
    entries = [item for item in _items(node, "replicas") if isinstance(item, Map)]

    def write(document: RenderedDocument, path: FieldPath, at_key: bool) -> Iterator[tuple[Location, bool]]:
        if not entries or path != ("spec", "replicas") or document.kind not in _SCALED:
            return
        names = {name for name, _ in locator.history(document).ids(node.path, True)}
        rendered, _, steps = walk(document.node, path)
        for item in reversed(entries):
            name, count = item.scalar("name"), item.pair("count")
            if name is not None and name.value in names and count is not None:
                yield (
                    node_location(count.value, count, at_key),
                    steps == 2 and same_value(count.value, rendered),
                )
                return

    return write


def _images_writer(node: Kustomization) -> Writer:
    """An ``images:`` entry for a container image it rewrote: its ``newTag`` (or
    ``digest``, ``newName``), the part that names what the cluster runs."""
    entries = [item for item in _items(node, "images") if isinstance(item, Map)]

    def write(document: RenderedDocument, path: FieldPath, at_key: bool) -> Iterator[tuple[Location, bool]]:
        if not entries or len(path) < 3 or path[-1] != "image" or not isinstance(path[-2], int):
            return
        image = _scalar_text(document, path) or ""
        repository = re.sub(r"(@.*|:[^:/]*)$", "", image)
        for item in reversed(entries):
            name, new_name = item.scalar("name"), item.scalar("newName")
            wanted = new_name if new_name is not None else name
            if wanted is None or scalar_text(wanted) != repository:
                continue
            for key in ("digest", "newTag", "newName"):
                pair = item.pair(key)
                if pair is not None:
                    yield node_location(pair.value, pair, at_key), True
                    return

    return write


def _replacements_writer(node: Kustomization, files: SourceFiles, locator: BuildLocator) -> Writer:
    """A ``replacements:`` target whose selector picks the resource and one of whose
    ``fieldPaths`` is the field: that entry (the value is the source's, copied)."""
    replacements: list[Map] = []
    for item in _items(node, "replacements"):
        entry = item.scalar("path") if isinstance(item, Map) else None
        if entry is None or not isinstance(entry.value, str):
            replacements += [item] if isinstance(item, Map) else []
            continue
        for document in files.documents(node.directory / entry.value) or []:
            items = document.items if isinstance(document, Seq) else [document]
            replacements += [r for r in items if isinstance(r, Map)]

    def write(document: RenderedDocument, path: FieldPath, at_key: bool) -> Iterator[tuple[Location, bool]]:
        if not replacements:
            return
        ids = locator.history(document).at(node.path, True)
        for replacement in reversed(replacements):
            chosen = replacement.get("targets")
            for target in reversed(chosen.items if isinstance(chosen, Seq) else []):
                if not isinstance(target, Map) or not _selected(target.get("select"), document, ids):
                    continue
                rejects = target.get("reject")
                if any(
                    _selected(r, document, ids) for r in (rejects.items if isinstance(rejects, Seq) else [])
                ):
                    continue
                paths = target.get("fieldPaths")
                for entry in reversed(paths.items if isinstance(paths, Seq) else []):
                    if isinstance(entry, Scalar) and _field_path_is(str(entry.value), document, path):
                        yield node_location(entry, None, False), True
                        return

    return write


def _selected(select: Node | None, document: RenderedDocument, ids: list[Id]) -> bool:
    if not isinstance(select, Map):
        return False
    selector = {
        name: str(pair.value.value)
        for name, pair in select.effective().items()
        if isinstance(pair.value, Scalar) and pair.value.value is not None
    }
    return bool(selector) and _selector_matches(selector, document, ids)


def _field_path_is(text: str, document: RenderedDocument, path: FieldPath) -> bool:
    """Whether a kustomize field path (``data.keep-alive``, ``spec.containers.[name=app].args``,
    ``metadata.annotations.[a.b/c]``, ``*`` for any key) names the field at ``path``."""
    steps: list[str] = re.findall(r"\[[^\]]*\]|[^.\[]+", text)
    if len(steps) != len(path):
        return False
    for index, (step, key) in enumerate(zip(steps, path, strict=True)):
        if step == "*":
            continue
        if step.startswith("["):
            inner = step[1:-1]
            if "=" not in inner:
                if inner != key:
                    return False
                continue
            if not isinstance(key, int):
                return False
            item, _, taken = walk(document.node, path[: index + 1])
            field_name, _, wanted = inner.partition("=")
            value = item.scalar(field_name) if isinstance(item, Map) and taken == index + 1 else None
            if value is None or scalar_text(value) != wanted:
                return False
        elif step != str(key):
            return False
    return True


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


def targets(patch: Patch, document: RenderedDocument, history: History | None = None) -> bool:
    """Whether ``patch`` applies to ``document`` as far as can be told from the rendered
    resource and the names it had (``history``): kustomize matches a selector against the
    resource's original name and namespace and against those it has when the patch runs,
    before its own kustomization's namePrefix and namespace (after, for patchesJson6902)."""
    if history is None:
        history = History((document.name or "", document.namespace or ""))
    late = patch.field == "patchesJson6902"
    selector = patch.target
    if not selector:
        if patch.kind == JSON6902:
            return False  # kustomize requires a target for these
        ids = history.ids(patch.owner.path, late)
        return any(_same_resource(d, document, ids) for d in patch.documents if isinstance(d, Map))
    return _selector_matches(selector, document, history.at(patch.owner.path, late))


def _selector_matches(selector: dict[str, str], document: RenderedDocument, ids: list[Id]) -> bool:
    api = document.node.scalar("apiVersion")
    group, _, version = str(api.value if api is not None else "").rpartition("/")
    values = {"kind": [document.kind or ""], "group": [group], "version": [version]}
    values["name"] = [name for name, _ in ids]
    values["namespace"] = [namespace or "default" for _, namespace in ids]  # kustomize's effective namespace
    for key, wanted in selector.items():
        if key in values:
            if not any(_matches(wanted, value) for value in values[key]):
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


def _same_resource(patch: Map, document: RenderedDocument, ids: list[Id]) -> bool:
    """Whether a strategic-merge patch's own kind, name and namespace are the resource's at
    some step so far: names compared whole (a patch of ``gw`` is not one of ``gw-internal``)."""
    kind = patch.scalar("kind")
    if kind is None or kind.value != document.kind:
        return False
    name, namespace = _name_of(patch, "name"), _name_of(patch, "namespace")
    if name and name not in {n for n, _ in ids}:
        return False
    return not namespace or namespace in {ns or "default" for _, ns in ids}


def _name_of(resource: Map, key: str) -> str:
    metadata = resource.get("metadata")
    value = metadata.scalar(key) if isinstance(metadata, Map) else None
    return value.value if value is not None and isinstance(value.value, str) else ""


def _unaffixed(name: str, node: Kustomization) -> tuple[str, bool]:
    """``name`` before ``node``'s namePrefix and nameSuffix were put on, and whether it
    bore them (a Namespace or a CRD does not; neither does a name come another way)."""
    before, fits = name, True
    prefix, suffix = node.setting("namePrefix"), node.setting("nameSuffix")
    if prefix is not None and isinstance(prefix.value, str) and prefix.value:
        fits = before.startswith(prefix.value)
        before = before.removeprefix(prefix.value)
    if suffix is not None and isinstance(suffix.value, str) and suffix.value:
        fits = fits and before.endswith(suffix.value)
        before = before.removesuffix(suffix.value)
    return (before, fits) if before else (name, False)


def _declared(
    patch: Patch, document: RenderedDocument, path: FieldPath, history: History, locator: BuildLocator
) -> list[tuple[Node, Pair | None, int]]:
    """Where ``patch`` writes the field at ``path`` (or the nearest enclosing value it writes
    whole): node, pair, and how many steps of ``path`` that covers. Latest first."""
    if patch.kind == JSON6902:
        operations = patch.documents[0]
        found = []
        for operation in reversed(operations.items if isinstance(operations, Seq) else []):
            if isinstance(operation, Map):
                hit = _operation(
                    operation, document, path, lambda keys: _written_length(locator, document, keys)
                )
                if hit is not None:
                    found.append(hit)
        return found
    found = []
    ids = history.ids(patch.owner.path, patch.field == "patchesJson6902")
    for item in reversed(patch.documents):
        if isinstance(item, Map) and (patch.target or _same_resource(item, document, ids)):
            hit = _strategic(item, path)
            if hit is not None:
                found.append(hit)
    return found


def _written_length(locator: BuildLocator, document: RenderedDocument, keys: FieldPath) -> int:
    """How many items the list at ``keys`` has in the resource's own file (0: none there)."""
    written = locator.files.written(document, locator.history(document).original[0])
    if written is None:
        return 0
    node, _, steps = walk(written, keys)
    return len(node.items) if steps == len(keys) and isinstance(node, Seq) else 0


def _operation(
    operation: Map, document: RenderedDocument, path: FieldPath, written_length: Callable[[FieldPath], int]
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
            # An append wrote one item after those of the list then; never one the
            # resource's own file holds at that index.
            if not isinstance(step, int) or step < written_length(path[:index]):
                return None
            continue  # among the appended items, the value check decides
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
