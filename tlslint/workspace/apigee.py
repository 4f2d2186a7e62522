"""Apigee hybrid, linked across files: virtual hosts ↔ the routes named in their
``additionalGateways`` ↔ the wildcard route(s), under the user's non-SNI policy.

Overrides (``virtualhosts[]``) and ``ApigeeRouteConfig`` objects are both
*hosts*: each becomes (or is) a route config that may list additional
gateways. ``ApigeeRoute`` objects are *routes*. The policy comes from
``apigee.non-sni``, falling back to the top-level ``non-sni`` when that is
``auto`` or unset.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.findings import Finding, Severity
from tlslint.paths import resolved as resolve_path
from tlslint.settings import Settings
from tlslint.sources.apigee import YAML
from tlslint.sources.apigee.documents import (
    DUPLICATE_KEY,
    ROUTE,
    ROUTE_CONFIG,
    SCHEMA_VIOLATION,
    ApigeeFile,
    IngressGateway,
    Overrides,
    RouteObject,
    VirtualHost,
    load_source,
)
from tlslint.sources.apigee.tree import Map, Node, Scalar, Seq
from tlslint.sources.formats import LoadedText
from tlslint.sources.manifests import duplicates_note, problem_finding, unreadable
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError, read_source
from tlslint.workspace.installations import org_of, partition
from tlslint.workspace.policy import AUTO as AUTO
from tlslint.workspace.policy import FORBIDDEN as FORBIDDEN
from tlslint.workspace.policy import REQUIRED as REQUIRED
from tlslint.workspace.policy import Want as Want
from tlslint.workspace.policy import non_sni_policy
from tlslint.workspace.tier_load import TierLoad

if TYPE_CHECKING:
    from tlslint.filters import Filters
    from tlslint.workspace import Workspace

DEFAULT_NAMESPACE = "apigee"
DEFAULT_APP = "apigee-ingressgateway"
WILDCARD = "*"
LOAD_CODES = frozenset({"APG001", SCHEMA_VIOLATION, "APG205"})


@dataclass(eq=False)
class Host:
    """What lists ``additionalGateways``: a virtual host, or an ``ApigeeRouteConfig``."""

    file: ApigeeFile
    node: Map  # the mapping that holds additionalGateways (virtualhosts[] item, or spec)
    where: Node  # where findings about the host go
    kind: str  # "virtual host" or "ApigeeRouteConfig"
    name: Scalar | None
    anchor: str
    selector: Map | None
    credential: str | None = None  # the credentialName its route should use
    credential_origin: str = ""

    @property
    def label(self) -> str:
        name = self.name.raw if self.name is not None else "?"
        return f"{self.kind} '{name}'"

    @property
    def gateways(self) -> Node | None:
        return self.node.get("additionalGateways")

    def gateway_entries(self) -> list[Scalar] | None:
        """The listed route names; None when templated or not a list (undecidable)."""
        node = self.gateways
        if node is None or (isinstance(node, Scalar) and node.value is None):
            return []
        if not isinstance(node, Seq):
            return None
        entries = [item for item in node.items if isinstance(item, Scalar)]
        return entries if len(entries) == len(node.items) else None

    def listed_names(self) -> set[str] | None:
        entries = self.gateway_entries()
        if entries is None or any(entry.name_placeholder() for entry in entries):
            return None
        return {str(entry.value) for entry in entries}


@dataclass
class ApigeeWorkspace:
    files: list[ApigeeFile] = field(default_factory=list)
    policy: str = AUTO
    policy_origin: str = "default"  # "apigee.non-sni", "non-sni" or "default"
    namespace: str = DEFAULT_NAMESPACE
    org: str | None = None  # the apigee.org setting
    targets: list[Path] = field(default_factory=list)  # resolved paths the run was given
    pending: set[Path] = field(default_factory=set)  # files a fix created, not yet written
    # Which installation this part of the run's files is, when the run holds several
    # ("org 'new-org'"); empty when the files are one installation.
    installation: str = ""
    _hosts: list[Host] | None = field(default=None, repr=False)
    _routes: _RouteIndex | None = field(default=None, repr=False)
    _installations: tuple[int, list[ApigeeWorkspace]] | None = field(default=None, repr=False)

    # -- parts -------------------------------------------------------------
    @property
    def overrides(self) -> list[Overrides]:
        return [o for f in self.files for o in f.overrides]

    @property
    def virtual_hosts(self) -> list[VirtualHost]:
        return [v for o in self.overrides for v in o.virtual_hosts]

    @property
    def ingress_gateways(self) -> list[IngressGateway]:
        return [g for o in self.overrides for g in o.ingress_gateways]

    @property
    def routes(self) -> list[RouteObject]:
        return self._index().routes

    @property
    def route_configs(self) -> list[RouteObject]:
        return self._index().configs

    def _index(self) -> _RouteIndex:
        """The routes, sorted out once the files are loaded: checks ask for each host, and
        an overrides file may list 10,000 (rebuilt if a file was added since)."""
        if self._routes is None or self._routes.files != len(self.files):
            self._routes = _RouteIndex(self.files)
        return self._routes

    @property
    def routes_scanned(self) -> bool:
        """Whether any ApigeeRoute manifest was read: without one, route checks cannot decide."""
        return bool(self.routes)

    @property
    def hosts(self) -> list[Host]:
        if self._hosts is None:
            configs = (self._route_config(r) for r in self.route_configs)
            self._hosts = [*(self._virtual_host(v) for v in self.virtual_hosts), *(h for h in configs if h)]
        return self._hosts

    def wildcard_routes(self) -> list[RouteObject]:
        """Routes with the '*' hostname that speak TLS: an HTTP-only wildcard route serves
        clients that send no TLS at all, for whom SNI plays no part."""
        return self._index().wildcard

    def non_sni_routes(self) -> list[RouteObject]:
        """Routes meant for TLS clients without SNI: a '*' hostname or enableNonSniClient:
        true, on a route that serves TLS (not only plain HTTP)."""
        return self._index().non_sni

    def plain_non_sni_routes(self) -> list[RouteObject]:
        """Routes that look meant for clients without SNI but serve plain HTTP only."""
        return self._index().plain_non_sni

    def routes_named(self, name: str) -> list[RouteObject]:
        return self._index().named.get(name, [])

    def route_names(self) -> list[str]:
        return sorted({str(r.name.value) for r in self.routes if r.name is not None and r.name.text})

    # -- installations -----------------------------------------------------
    def installations(self) -> list[ApigeeWorkspace]:
        """The workspace of each installation the files hold (``installations.partition``):
        the cross-file rules link hosts and routes within one, never across two clusters."""
        if self._installations is None or self._installations[0] != len(self.files):  # a file was added
            groups = partition(self.files)
            parts = [self] if len(groups) == 1 else [self._part(group) for group in groups]
            self._installations = (len(self.files), parts)
        return self._installations[1]

    def _part(self, files: list[ApigeeFile]) -> ApigeeWorkspace:
        org = next((org_of(f) for f in files if f.overrides), None)
        label = f"org '{org}'" if org is not None else "the overrides files that name no org"
        return replace(self, files=files, installation=label, _hosts=None, _routes=None, _installations=None)

    def routes_beside(self, values: Iterable[Path]) -> list[ApigeeFile]:
        """The ApigeeRoute objects applied beside a Helm release whose values files are
        ``values``: those of the installation of the overrides files among them (all
        installations' when none is one), each file reduced to its routes (its hosts and
        problems are the file's own, checked with it)."""
        wanted = {resolve_path(p) for p in values}
        every = self.installations()
        chosen = [i for i in every if any(resolve_path(f.path) in wanted for f in i.files if f.overrides)]
        files = {id(f): f for i in chosen or every for f in i.files}
        return [
            ApigeeFile(f.source, f.documents, objects=[o for o in f.objects if o.kind == ROUTE])
            for f in files.values()
            if any(o.kind == ROUTE for o in f.objects)
        ]

    # -- policy ------------------------------------------------------------
    def want(self) -> Want | None:
        """Whether non-SNI support is wanted: by policy, or in ``auto`` by signals in the files."""
        if self.policy == REQUIRED:
            return Want(Severity.ERROR, f'{self.policy_origin} = "required"')
        if self.policy == FORBIDDEN:
            return None
        for gateway in self.ingress_gateways:
            svc_type = gateway.node.scalar("svcType")
            name = gateway.name.raw if gateway.name is not None else "?"
            if svc_type is not None and svc_type.value == "ClusterIP":
                return Want(
                    Severity.WARNING,
                    f"ingress gateway '{name}' has svcType: ClusterIP, so another load balancer "
                    "fronts it and may connect without SNI",
                )
            annotations = gateway.node.get("svcAnnotations")
            if isinstance(annotations, Map) and any(
                "load-balancer" in (p.name or "").lower() for p in annotations.pairs
            ):
                return Want(
                    Severity.WARNING,
                    f"ingress gateway '{name}' has load-balancer annotations, so a load balancer "
                    "fronts it that may connect without SNI",
                )
        if self.wildcard_routes():
            return Want(
                Severity.WARNING, "a wildcard ApigeeRoute exists, so non-SNI clients are meant to work"
            )
        return None

    # -- hosts -------------------------------------------------------------
    def _virtual_host(self, host: VirtualHost) -> Host:
        node = host.node
        selector = node.get("selector")
        result = Host(
            host.overrides.file, node, node, "virtual host", host.name, host.anchor,
            selector if isinstance(selector, Map) else None,
        )  # fmt: skip
        secret = node.scalar("sslSecret")
        if secret is not None:
            result.credential, result.credential_origin = secret.text, "its sslSecret"
        elif node.get("sslCertPath") is not None:
            org = self.org or (host.overrides.org.text if host.overrides.org is not None else None)
            name = host.name.text if host.name is not None and not host.name.name_placeholder() else None
            if org and name:
                result.credential = f"{org}-{name}"
                result.credential_origin = (
                    "the secret generated from sslCertPath/sslKeyPath (<org>-<envgroup>)"
                )
        return result

    def _route_config(self, config: RouteObject) -> Host | None:
        spec = config.spec
        if spec is None:
            return None
        selector = spec.get("selector")
        result = Host(
            config.file, spec, config.node, ROUTE_CONFIG, config.name, config.anchor,
            selector if isinstance(selector, Map) else None,
        )  # fmt: skip
        tls = spec.get("tls")
        if isinstance(tls, Map):
            secret = tls.scalar("secretNameRef")
            if secret is not None:
                result.credential, result.credential_origin = secret.text, "its tls.secretNameRef"
        return result


class _RouteIndex:
    """The ApigeeRoute objects of the files, by kind and name (lists not to be mutated)."""

    def __init__(self, files: list[ApigeeFile]) -> None:
        self.files = len(files)
        objects = [o for f in files for o in f.objects]
        self.routes = [o for o in objects if o.kind == ROUTE]
        self.configs = [o for o in objects if o.kind == ROUTE_CONFIG]
        plain = {id(route) for route in self.routes if plain_only(route)}
        self.wildcard = [route for route in self.routes if is_wildcard(route) and id(route) not in plain]
        # A route with no TLS port serves plain-HTTP clients, whatever its enableNonSniClient
        # says (Apigee's own http-client example sets it on a port-80-only route).
        meant = [r for r in self.routes if is_wildcard(r) or enables_non_sni(r) is True]
        self.non_sni = [r for r in meant if id(r) not in plain]
        self.plain_non_sni = [r for r in meant if id(r) in plain]
        self.named: dict[object, list[RouteObject]] = {}
        for route in self.routes:
            if route.name is not None:
                self.named.setdefault(route.name.value, []).append(route)


# -- route facts ----------------------------------------------------------------
def hostnames(route: RouteObject) -> list[Scalar] | None:
    """The route's hostnames; None when absent, templated or not a list of values."""
    spec = route.spec
    node = spec.get("hostnames") if spec is not None else None
    if not isinstance(node, Seq):
        return None
    items = [item for item in node.items if isinstance(item, Scalar)]
    if len(items) != len(node.items) or any(item.placeholder for item in items):
        return None
    return items


def is_wildcard(route: RouteObject) -> bool:
    names = hostnames(route)
    return names is not None and any(item.value == WILDCARD for item in names)


PLAIN_PROTOCOLS = frozenset({"HTTP", "HTTP2", "GRPC", "TCP", "MONGO"})  # the CRD's protocols without TLS


def plain_only(route: RouteObject) -> bool:
    """Every port of the route serves without TLS (a plain protocol, no ``tls``): an
    http-client route, on port 80 say. Unknown (templated, absent) ports are not plain."""
    spec = route.spec
    ports = spec.get("ports") if spec is not None else None
    if not isinstance(ports, Seq) or not ports.items:
        return False
    for port in ports.items:
        if not isinstance(port, Map) or port.get("tls") is not None:
            return False
        protocol = port.scalar("protocol")
        if protocol is None or protocol.placeholder or str(protocol.value).upper() not in PLAIN_PROTOCOLS:
            return False
    return True


def enables_non_sni(obj: RouteObject) -> bool | None:
    """enableNonSniClient as kubectl reads it (``yes`` and ``on`` are true: YAML 1.1);
    None when absent or templated."""
    spec = obj.spec
    node = spec.scalar("enableNonSniClient") if spec is not None else None
    if node is None or node.placeholder:
        return None
    return node.kube_bool() is True


def route_selector(route: RouteObject) -> Map | None:
    node = route.spec.get("selector") if route.spec is not None else None
    return node if isinstance(node, Map) else None


def selector_values(selector: Map | None) -> dict[str, str | None]:
    """Selector labels; a templated value is None (unknown)."""
    if selector is None:
        return {}
    values: dict[str, str | None] = {}
    for name, pair in selector.effective().items():
        value = pair.value
        values[name] = value.text if isinstance(value, Scalar) else None
    return values


# -- loading ------------------------------------------------------------------------
ApigeeLoad = TierLoad[ApigeeWorkspace]


def policy(settings: Settings) -> tuple[str, str]:
    return non_sni_policy(settings, "apigee")


def load_apigee(
    paths: Iterable[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None = None,
    targets: Iterable[Path] = (),
) -> ApigeeLoad:
    """Read the discovered Apigee YAML (and files a fix created within the targets)."""
    overlay = overlay or {}
    chosen, seen = [], set()
    for path in paths:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            chosen.append(path)
    resolved_targets = [resolve_path(t) for t in targets]  # a named symlink loop does not raise
    pending = {p for p in overlay if not p.exists()}
    for path in sorted(pending - seen):
        if (
            path.suffix in (".yaml", ".yml")
            and _in_scope(path, resolved_targets)
            and is_apigee_text(overlay[path].text)
        ):
            seen.add(path)
            chosen.append(path)
    mode, origin = policy(settings)
    workspace = ApigeeWorkspace(
        policy=mode,
        policy_origin=origin,
        namespace=settings.apigee.get("namespace") or DEFAULT_NAMESPACE,
        org=settings.apigee.get("org") or None,
        targets=resolved_targets,
        pending=pending,
    )
    findings: list[Finding] = []
    texts: dict[Path, LoadedText] = {}
    for path in chosen:
        resolved = path.resolve()
        try:
            source = overlay.get(resolved) or read_source(path, settings.max_file_size)
        except SourceError as error:
            findings.append(unreadable(path, error, SCHEMA_VIOLATION))
            continue
        loaded = load_source(source)
        workspace.files.append(loaded)
        texts[resolved] = LoadedText(source, YAML, duplicates_note(loaded.problems, DUPLICATE_KEY))
        findings.extend(problem_finding(path, problem) for problem in loaded.problems)
    return ApigeeLoad(workspace, texts, sorted(seen), findings)


def _in_scope(path: Path, targets: list[Path]) -> bool:
    """A new file inside a target directory, or beside a target file."""
    for target in targets:
        is_dir = os.path.isdir(target)  # False, not an error, for a path that cannot be read
        directory = target if is_dir else target.parent
        if path.parent == directory or (is_dir and path.is_relative_to(directory)):
            return True
    return False


def is_apigee_text(text: str) -> bool:
    from tlslint.discovery import sniff_apigee

    return sniff_apigee(text.encode("utf-8", "surrogateescape")[: 64 * 1024])


def add_apigee(
    workspace: Workspace,
    filters: Filters,
    paths: list[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None,
    targets: Iterable[Path],
) -> ApigeeLoad:
    """The engine's one call: load Apigee YAML into ``workspace``; YAML comments suppress."""
    loaded = load_apigee(paths, settings, overlay, targets)
    if loaded.workspace.files or loaded.findings:
        workspace.apigee = loaded.workspace
    filters.yaml_sources.update({path: text.source for path, text in loaded.texts.items()})
    return loaded
