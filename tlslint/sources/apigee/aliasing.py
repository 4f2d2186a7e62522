"""Aliases counted as go-yaml counts them, without expanding them: the alias-bomb rule.

The tools that apply the YAML files tlslint reads read them with go-yaml (helm and
kubectl through sigs.k8s.io/yaml's copy of v2, docker compose with v3), which refuses a
document whose aliases expand too far: "document contains excessive aliasing". Its rule
(decode.go of go-yaml v2 and v3, ``decoder.unmarshal`` and ``allowedAliasRatio``, the fix
of CVE-2019-11253 and CVE-2019-11254) counts every node it decodes and every node decoded
inside an alias, and stops as soon as more than 100 came through aliases, more than 1,000
were decoded in all, and the share that came through aliases is above 99% (up to 400,000
decoded), falling linearly to 10% (from 4,000,000). A recursive alias stops it too
("anchor 'a' value contains itself").

Here the composer keeps each alias as an ``AliasRef`` (where it is written, and the node
it names), each node's expanded size is computed once from its children's, and the
document is walked in go-yaml's decoding order, adding an alias's size in one step: a
billion nodes cost as little as their text. Within one alias's expansion the share that
came through aliases only grows and the share allowed only shrinks, so checking after
each alias finds every document go-yaml stops in, at the alias it stops in. The sizes
stay small: an alias's target was decoded before it (YAML defines an anchor before its
aliases), so its size is at most what was read so far, and the walk stops as soon as
aliases bring more than 99% of it.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.composer import Composer
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from tlslint.sources.apigee.tree import MERGE, AliasingError
from tlslint.sources.nginx.model import SourceText

# go-yaml's constants (decode.go): the limits are only tested past these counts.
MIN_ALIASED = 100
MIN_DECODED = 1000
RATIO_RANGE_LOW = 400_000
RATIO_RANGE_HIGH = 4_000_000


class AliasRef:
    """An alias in the composed tree: the node its anchor names, and where it is written."""

    __slots__ = ("index", "name", "target")

    def __init__(self, target: Any, name: str, index: int) -> None:
        self.target = target
        self.name = name
        self.index = index  # offset of the `*name` in the text


class AliasMarkingComposer(Composer):
    """ruamel's composer, keeping each alias as an ``AliasRef`` where it returns the
    anchored node itself (whose position is the anchor's, not the alias's)."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if not isinstance(event, AliasEvent):
            return super().compose_node(parent, index)
        self.aliases += 1
        return AliasRef(super().compose_node(parent, index), str(event.anchor), event.start_mark.index)


def check_document(document: Any, source: SourceText) -> None:
    """Raise ``AliasingError`` where go-yaml stops decoding ``document``."""
    sizes = _Sizes(source)
    decoded, aliased = 1, 0  # the document node itself is decoded first
    stack = [document] if document is not None else []
    while stack:
        node = stack.pop()
        decoded += 1
        if isinstance(node, AliasRef):
            size = sizes.of(node.target)  # every node below is decoded at alias depth > 0
            decoded, aliased = decoded + size, aliased + size
        else:
            stack.extend(reversed(_decoded(node)))
        # After a written node too: the share allowed shrinks as a document grows.
        if excessive(decoded, aliased):
            raise _excessive(source, node, decoded, aliased)


def excessive(decoded: int, aliased: int) -> bool:
    """go-yaml's test, in ``decoder.unmarshal``, after each node it decodes."""
    return aliased > MIN_ALIASED and decoded > MIN_DECODED and aliased / decoded > allowed_ratio(decoded)


def allowed_ratio(decoded: int) -> float:
    """go-yaml's ``allowedAliasRatio``: the share of decoded nodes aliases may bring."""
    if decoded <= RATIO_RANGE_LOW:
        return 0.99
    if decoded >= RATIO_RANGE_HIGH:
        return 0.10
    return 0.99 - 0.89 * ((decoded - RATIO_RANGE_LOW) / float(RATIO_RANGE_HIGH - RATIO_RANGE_LOW))


class _Sizes:
    """How many nodes go-yaml decodes for a node, its aliases expanded: each computed
    once, from its children's (an alias's size is its target's, plus one)."""

    def __init__(self, source: SourceText) -> None:
        self.source = source
        self.known: dict[int, int] = {}

    def of(self, root: Any) -> int:
        known = self.known
        open_nodes: set[int] = set()  # on the current path: reaching one again is a cycle
        stack = [root]
        while stack:
            node = stack[-1]
            key = id(node)
            if key in known:
                stack.pop()
            elif key in open_nodes:
                stack.pop()
                open_nodes.discard(key)
                known[key] = 1 + sum(known[id(child)] for child in _decoded(node))
            else:
                open_nodes.add(key)
                for child in _decoded(node):
                    if id(child) in open_nodes:
                        raise self._recursive(node)
                    if id(child) not in known:
                        stack.append(child)
        return known[id(root)]

    def _recursive(self, alias: AliasRef) -> AliasingError:
        # Only an alias leads back to a node being expanded: written nodes form a tree.
        name = alias.name
        line, column = self.source.position(alias.index)
        return AliasingError(
            line,
            column,
            f"recursive alias: *{name} is part of the value of its own anchor &{name}, so it "
            f"never ends expanding (go-yaml, the YAML reader of helm and kubectl, refuses it: "
            f"\"anchor '{name}' value contains itself\")",
        )


def _decoded(node: Any) -> list[Any]:
    """What go-yaml decodes below ``node``, in its order (decode.go: ``d.mapping``,
    ``d.merge``): a merge key is not decoded, nor the list of a ``<<: [*a, *b]``, whose
    mappings are decoded last to first."""
    if isinstance(node, AliasRef):
        return [node.target]
    if isinstance(node, SequenceNode):
        return list(node.value)
    if not isinstance(node, MappingNode):
        return []
    children: list[Any] = []
    for key, value in node.value:
        if isinstance(key, ScalarNode) and str(key.tag) == MERGE:
            children.extend(reversed(value.value) if isinstance(value, SequenceNode) else [value])
        else:
            children += (key, value)
    return children


def _excessive(source: SourceText, node: Any, decoded: int, aliased: int) -> AliasingError:
    if isinstance(node, AliasRef):
        where, offset = f"with *{node.name} here expanded, ", node.index
    else:
        where, offset = "by here, ", node.start_mark.index
    limit = f"{allowed_ratio(decoded) * 100:.4g}%"
    message = (
        f"document contains excessive aliasing: {where}{aliased:,} of the {decoded:,} nodes read "
        f"come through aliases, more than the {limit} that go-yaml (the YAML reader of helm and "
        "kubectl) allows; they refuse this file"
    )
    return AliasingError(*source.position(offset), message)
