"""Apigee hybrid files: overrides (``virtualhosts``, ``ingressGateways``) and
Kubernetes manifests holding ``ApigeeRoute`` / ``ApigeeRouteConfig`` objects.

``load_source`` reads one file's text into its Apigee parts, with every
problem found while loading (invalid YAML, duplicate keys, schema violations,
a Helm template that YAML cannot read) as a ``Problem`` at a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tlslint.findings import UNPARSED
from tlslint.sources.apigee.tree import (
    Map,
    Node,
    Pair,
    Scalar,
    Seq,
    YamlError,
    expanded_size,
    parse,
    walk,
)
from tlslint.sources.nginx.model import SourceText

TEMPLATE_SKIPPED = "APG001"
SCHEMA_VIOLATION = "APG201"
DUPLICATE_KEY = "APG205"

API_GROUP = "apigee.cloud.google.com/"
ROUTE = "ApigeeRoute"
ROUTE_CONFIG = "ApigeeRouteConfig"
OVERRIDES_KEYS = ("virtualhosts", "ingressGateways")
# Aliases may expand a small text into a huge tree; past this many nodes an
# object is not validated (its text is still checked where rules look).
MAX_EXPANDED_NODES = 20_000

_HELM = re.compile(r"\{\{.*?\}\}", re.S)
# A plain key ends on a non-blank character: with a lazy "[^:\n#]*?" before "\s*:",
# a line of blanks would be rescanned from each of its characters (quadratic).
_TOP_LEVEL_KEY = re.compile(
    r"^(?:\"([^\"\n]*)\"|'([^'\n]*)'|([^\s#'\"\-?:,\[\]{}&*!|>%@`](?:[^:\n#]*[^\s:#])?))\s*:(?:\s|$)",
    re.M,
)
_DOCUMENT_MARK = re.compile(r"^(?:---|\.\.\.)(?:\s|$)", re.M)


@dataclass(frozen=True, slots=True)
class Problem:
    """A loading finding: code, 1-based line and column (0 for the file), message."""

    code: str
    line: int
    column: int
    message: str
    anchor: str = "file"
    related: tuple[tuple[int, int, str], ...] = ()
    end_line: int = 0
    end_column: int = 0


@dataclass(eq=False)
class VirtualHost:
    overrides: Overrides
    node: Map  # the virtualhosts[] item
    index: int

    @property
    def name(self) -> Scalar | None:
        return self.node.scalar("name")

    @property
    def anchor(self) -> str:
        name = self.name
        label = name.raw if name is not None else str(self.index)
        return f"virtualhosts[{label}]"


@dataclass(eq=False)
class IngressGateway:
    overrides: Overrides
    node: Map  # the ingressGateways[] item
    index: int

    @property
    def name(self) -> Scalar | None:
        return self.node.scalar("name")


@dataclass(eq=False)
class Overrides:
    """One overrides document (Helm values or apigeectl overrides)."""

    file: ApigeeFile
    root: Map
    virtual_hosts: list[VirtualHost] = field(default_factory=list)
    ingress_gateways: list[IngressGateway] = field(default_factory=list)

    @property
    def org(self) -> Scalar | None:
        return self.root.scalar("org")


@dataclass(eq=False)
class RouteObject:
    """An ``ApigeeRoute`` or ``ApigeeRouteConfig`` object of a manifest."""

    file: ApigeeFile
    node: Map  # the whole object
    kind: str  # ROUTE or ROUTE_CONFIG

    @property
    def metadata(self) -> Map | None:
        node = self.node.get("metadata")
        return node if isinstance(node, Map) else None

    @property
    def name(self) -> Scalar | None:
        return self.metadata.scalar("name") if self.metadata is not None else None

    @property
    def namespace(self) -> Scalar | None:
        return self.metadata.scalar("namespace") if self.metadata is not None else None

    @property
    def spec(self) -> Map | None:
        node = self.node.get("spec")
        return node if isinstance(node, Map) else None

    @property
    def anchor(self) -> str:
        name = self.name
        return f"{self.kind}[{name.raw if name is not None else '?'}]"


@dataclass(eq=False)
class ApigeeFile:
    source: SourceText
    documents: list[Node] = field(default_factory=list)
    overrides: list[Overrides] = field(default_factory=list)
    objects: list[RouteObject] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    template: bool = False  # a Helm template YAML cannot read: not checked

    @property
    def path(self) -> Path:
        return self.source.path


def load_source(
    source: SourceText, validate_schemas: bool = True, documents: list[Node] | None = None
) -> ApigeeFile:
    """``documents``: the text already parsed (a rendered build), not parsed again."""
    loaded = ApigeeFile(source)
    try:
        loaded.documents = documents if documents is not None else parse(source)
    except YamlError as error:
        match = _HELM.search(source.text)
        if match is not None:
            line, column = source.position(match.start())
            loaded.template = True
            loaded.problems.append(
                Problem(
                    TEMPLATE_SKIPPED,
                    line,
                    column,
                    "a Helm template that is not YAML until rendered "
                    f"({error.message} at line {error.line}); not checked: "
                    "check the output of `helm template` instead",
                )
            )
            return loaded
        loaded.problems.append(
            Problem(
                SCHEMA_VIOLATION, error.line, error.column, f"invalid YAML: {error.message}", anchor=UNPARSED
            )
        )
        loaded.problems.extend(_top_level_duplicates(source))
        return loaded
    for document in loaded.documents:
        if not isinstance(document, Map):
            continue
        if any(document.pair(key) is not None for key in OVERRIDES_KEYS):
            loaded.overrides.append(_overrides(loaded, document))
        for item in _objects(document):
            kind = _kind(item)
            if kind is not None:
                loaded.objects.append(RouteObject(loaded, item, kind))
    loaded.problems.extend(_duplicates(loaded))
    if validate_schemas:
        from tlslint.sources.apigee.schema import validate_file

        loaded.problems.extend(validate_file(loaded))
    return loaded


def _overrides(file: ApigeeFile, root: Map) -> Overrides:
    overrides = Overrides(file, root)
    hosts = root.get("virtualhosts")
    if isinstance(hosts, Seq):
        overrides.virtual_hosts = [
            VirtualHost(overrides, item, index)
            for index, item in enumerate(hosts.items)
            if isinstance(item, Map)
        ]
    gateways = root.get("ingressGateways")
    if isinstance(gateways, Seq):
        overrides.ingress_gateways = [
            IngressGateway(overrides, item, index)
            for index, item in enumerate(gateways.items)
            if isinstance(item, Map)
        ]
    return overrides


def _objects(document: Map) -> list[Map]:
    """The document, or the items of a ``kind: List``."""
    kind = document.scalar("kind")
    if kind is not None and kind.value == "List":
        items = document.get("items")
        return [item for item in items.items if isinstance(item, Map)] if isinstance(items, Seq) else []
    return [document]


def _kind(node: Map) -> str | None:
    kind = node.scalar("kind")
    api = node.scalar("apiVersion")
    if kind is None or kind.value not in (ROUTE, ROUTE_CONFIG) or api is None:
        return None
    if api.placeholder or (isinstance(api.value, str) and api.value.startswith(API_GROUP)):
        return str(kind.value)
    return None


def apigee_roots(file: ApigeeFile) -> list[Node]:
    return [*(o.root for o in file.overrides), *(o.node for o in file.objects)]


def _duplicates(file: ApigeeFile) -> list[Problem]:
    problems = []
    for node in walk(apigee_roots(file)):
        if not isinstance(node, Map):
            continue
        for first, again in node.duplicates():
            problems.append(duplicate_problem(first, again))
    return problems


def duplicate_problem(first: Pair, again: Pair) -> Problem:
    name = again.name
    line, column = again.key.source.position(again.key.start)
    first_line, first_column = first.key.source.position(first.key.start)
    return Problem(
        DUPLICATE_KEY,
        line,
        column,
        f"key '{name}' appears twice in one mapping (first at line {first_line}); "
        "only one of the two values is used, the other is silently lost",
        anchor=f"duplicate[{name}]",
        related=((first_line, first_column, f"'{name}' first set here"),),
        end_line=line,
        end_column=column + len(again.key.source.text[again.key.start : again.key.end]),
    )


def _top_level_duplicates(source: SourceText) -> list[Problem]:
    """Duplicate top-level keys of a file YAML cannot read (line by line, per document)."""
    problems = []
    seen: dict[str, tuple[int, int]] = {}
    text = source.text
    marks = {m.start() for m in _DOCUMENT_MARK.finditer(text)}
    for offset in sorted({*marks, *(m.start() for m in _TOP_LEVEL_KEY.finditer(text))}):
        if offset in marks:
            seen = {}
            continue
        match = _TOP_LEVEL_KEY.match(text, offset)
        assert match is not None
        name = next(group for group in match.groups() if group is not None).strip()
        line, column = source.position(offset)
        if name in seen:
            first_line, first_column = seen[name]
            problems.append(
                Problem(
                    DUPLICATE_KEY,
                    line,
                    column,
                    f"top-level key '{name}' appears twice (first at line {first_line}); "
                    "only one of the two values is used, the other is silently lost",
                    anchor=f"duplicate[{name}]",
                    related=((first_line, first_column, f"'{name}' first set here"),),
                    end_line=line,
                    end_column=column + len(name),
                )
            )
        else:
            seen[name] = (line, column)
    return problems


def too_large(node: Node) -> bool:
    return expanded_size(node, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES
