"""Which patch set a field of a rendered resource, and where.

kustomize's origin annotation names the file a resource came from, not the
patches applied to it. A field a patch set is traced here: the patches of the
build, latest applied first, that target the resource (by their ``target``
selector, or a strategic-merge patch's own kind and name) and write the field
(a JSON 6902 ``add``/``replace``/``copy``/``move`` at the field or above it; a
strategic-merge document that holds it). Among those, the latest whose value is
the rendered value wins, else the latest. A namespace set by a kustomization's
``namespace:`` is traced to that line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tlslint.findings import Location
from tlslint.kustomize.graph import JSON6902, Kustomization, Patch
from tlslint.rendered import FieldPath, RenderedDocument, is_identity, node_location, same_value, walk
from tlslint.sources.apigee.tree import Map, Node, Pair, Scalar, Seq

_SETTING_OPS = ("add", "replace", "copy", "move")


class PatchLocator:
    """A build's locator for fields set by its patches and its kustomizations."""

    def __init__(self, patches: Sequence[Patch], closure: Sequence[Kustomization]) -> None:
        self.patches = list(patches)
        self.closure = list(closure)  # application order: the root last

    def __call__(self, document: RenderedDocument, path: FieldPath, at_key: bool) -> Location | None:
        if path[:2] == ("metadata", "namespace"):
            return self._namespace(document, at_key)
        if is_identity(path):
            return None
        fallback: Location | None = None
        for patch in reversed(self.patches):
            if not targets(patch, document):
                continue
            for node, pair, declared_at in _declared(patch, document, path):
                rendered, _, steps = walk(document.node, path[:declared_at])
                location = node_location(node, pair, at_key and declared_at == len(path), _shift(patch))
                if steps == declared_at and same_value(node, rendered):
                    return location
                fallback = fallback or location
        return fallback

    def _namespace(self, document: RenderedDocument, at_key: bool) -> Location | None:
        """The ``namespace:`` of the kustomization nearest the root that sets the rendered one."""
        for node in reversed(self.closure):
            value = node.setting("namespace")
            if value is not None and value.value == document.namespace and node.document is not None:
                pair = node.document.pair("namespace")
                return node_location(value, pair, True) if pair is not None else None
        return None


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
