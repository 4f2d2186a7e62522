"""Apigee hybrid files: overrides (``virtualhosts``, ``ingressGateways``) and
Kubernetes manifests holding ``ApigeeRoute`` / ``ApigeeRouteConfig`` objects.

``load_source`` reads one file's text into its Apigee parts, with every
problem found while loading (invalid YAML, duplicate keys, schema violations,
a Helm template that YAML cannot read) as a ``Problem`` at a line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tlslint.findings import UNPARSED as UNPARSED
from tlslint.findings import Severity
from tlslint.sources.apigee.tree import Map, Node, Scalar, Seq
from tlslint.sources.manifests import Documents, LoadCodes, duplicate_problems, objects_of, read_documents
from tlslint.sources.manifests import Problem as Problem
from tlslint.sources.nginx.model import SourceText

TEMPLATE_SKIPPED = "APG001"
SCHEMA_VIOLATION = "APG201"
DUPLICATE_KEY = "APG205"
CODES = LoadCodes(TEMPLATE_SKIPPED, SCHEMA_VIOLATION, DUPLICATE_KEY)

API_GROUP = "apigee.cloud.google.com/"
ROUTE = "ApigeeRoute"
ROUTE_CONFIG = "ApigeeRouteConfig"
OVERRIDES_KEYS = ("virtualhosts", "ingressGateways")


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
    read = Documents(documents, []) if documents is not None else read_documents(source, CODES)
    loaded.documents, loaded.template = read.documents, read.template
    loaded.problems.extend(read.problems)
    if read.problems:
        return loaded
    for number, document in enumerate(loaded.documents, 1):
        if not isinstance(document, Map):
            continue
        if any(document.pair(key) is not None for key in OVERRIDES_KEYS):
            if number == 1:
                loaded.overrides.append(_overrides(loaded, document))
            else:
                loaded.problems.append(_unread_overrides(document, number))
        for item in objects_of(document):
            kind = _kind(item)
            if kind is not None:
                loaded.objects.append(RouteObject(loaded, item, kind))
    loaded.problems.extend(duplicate_problems(apigee_roots(loaded), DUPLICATE_KEY))
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


def _unread_overrides(document: Map, number: int) -> Problem:
    """Overrides in a later document of a file: `helm -f` reads a values file's first
    document only (helm 3.17: `foo: 1` / `---` / `bar: 2` gives foo, and no bar), so
    they never reach the chart, and are not checked as Apigee configuration."""
    pair = next(p for p in document.pairs if p.name in OVERRIDES_KEYS)
    line, column = pair.key.source.position(pair.key.start)
    return Problem(
        SCHEMA_VIOLATION,
        line,
        column,
        f"`{pair.name}` is in document {number} of this file, and `helm -f` reads only the first "
        "document of a values file: these overrides never reach the chart (not checked); move "
        "them to the first document, or to a file of their own",
        anchor=f"document[{number}].{pair.name}",
        end_line=line,
        end_column=column + len(str(pair.name)),
        severity=Severity.WARNING,
    )


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
