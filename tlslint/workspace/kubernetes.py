"""Kubernetes gateways, linked across files (facts: ../shared/facts/kubernetes-gateways.md).

* **TLS ports.** Istio merges the servers of every ``Gateway`` whose selector
  picks the same gateway pods, port by port (and ``bind``); a Gateway API
  ``Gateway`` is its own deployment, so its listeners are grouped per Gateway
  and port. Each group is one Envoy listener whose filter chains match the
  hosts (SNI) of its TLS servers.
* **What is in front.** Services that select the gateway pods (a selector
  that shares a label with the Gateway's and contradicts none), their type and
  annotations, the Ingresses that route to them, and a Gateway API Gateway's
  ``spec.infrastructure.annotations``: the signals that a load balancer fronts
  the gateway, for the ``auto`` non-SNI policy.
* **Replicas.** Deployments whose pod labels carry the selector, the
  HorizontalPodAutoscalers that scale them, and ingress-nginx's controller
  (Deployment, DaemonSet, chart values): how many pods hold their own TLS
  session state.
* **ingress-nginx** (``tlslint.workspace.ingress_nginx``): the controller's
  configuration and size, and the Ingresses that carry its annotations.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.findings import UNPARSED, Finding, Severity
from tlslint.paths import resolved as resolve_path
from tlslint.settings import Settings
from tlslint.sources.apigee import YAML
from tlslint.sources.apigee.tree import Map, Node, Scalar, Seq
from tlslint.sources.formats import LoadedText
from tlslint.sources.kubernetes.documents import (
    DUPLICATE_KEY,
    SCHEMA_VIOLATION,
    HelmValues,
    KubeFile,
    KubeObject,
    load_documents,
    load_source,
    string_map,
)
from tlslint.sources.manifests import duplicates_note, problem_finding, unreadable
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError, read_source
from tlslint.workspace.ingress_nginx import (
    ControllerConfig,
    NginxIngress,
    config_problems,
    controller_configs,
    has_nginx_annotation,
    is_nginx_controller,
)
from tlslint.workspace.kube_facts import (
    Replicas,
    deployment_replicas,
    ingress_services,
    pod_labels,
    service_selector,
    unique,
)
from tlslint.workspace.policy import FORBIDDEN, REQUIRED, Want, non_sni_policy
from tlslint.workspace.tier_load import TierLoad

if TYPE_CHECKING:
    from tlslint.filters import Filters
    from tlslint.workspace import Workspace

ISTIO, GATEWAY_API = "istio", "gateway-api"
WILDCARD = "*"
# Istio TLS modes that terminate TLS for clients outside the mesh (ISTIO_MUTUAL serves
# sidecars, which always send SNI; PASSTHROUGH routes by SNI and cannot serve none).
TERMINATING_MODES = frozenset({"SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"})
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
RoutedHost = tuple[Scalar, KubeObject]  # a host name, and the route that sends it to a gateway
# Annotations that configure a cloud load balancer in front of a Service or Gateway.
_GKE_LOAD_BALANCER = (
    "cloud.google.com/neg", "cloud.google.com/app-protocols", "cloud.google.com/backend-config"
)  # fmt: skip


# -- TLS servers ------------------------------------------------------------------------
@dataclass(eq=False)
class TlsServer:
    """An Istio Gateway server or a Gateway API listener that speaks TLS."""

    gateway: KubeObject
    node: Map  # the servers[] / listeners[] item
    index: int
    api: str  # ISTIO or GATEWAY_API
    port: int
    bind: str
    hosts: list[Scalar]  # Istio: hosts as written; Gateway API: the hostname, if any
    mode: str  # Istio tls.mode (upper case), Gateway API tls.mode ("Terminate" by default)
    templated: bool  # a host or the port is a placeholder: what it matches is unknown

    @property
    def terminates(self) -> bool:
        if self.api == GATEWAY_API:
            return self.mode == "Terminate"
        return self.mode in TERMINATING_MODES

    def sni_names(self) -> list[str]:
        """The names its filter chain matches: hosts without their ``namespace/`` prefix."""
        return [str(h.text).rpartition("/")[2] for h in self.hosts if h.text is not None]

    @property
    def catch_all(self) -> bool:
        """Matches every ClientHello, one without SNI included (``*``, ``ns/*``, no hostname)."""
        if self.api == GATEWAY_API:
            return not self.hosts
        return WILDCARD in self.sni_names()

    def host_keys(self) -> list[str]:
        """Hosts as Istio compares them for duplicates (``sanitizeServerHostNamespace``)."""
        keys = []
        for host in self.hosts:
            text = host.text
            if text is None:
                continue
            namespace, slash, name = text.rpartition("/")
            if not slash:
                keys.append(f"*/{text}")
            elif namespace == ".":
                keys.append(f"{self.gateway.namespace or '.'}/{name}")
            else:
                keys.append(text)
        return keys

    @property
    def name(self) -> str:
        if self.api == GATEWAY_API:
            name = self.node.scalar("name")
            return name.raw if name is not None else str(self.index)
        port = self.node.get("port")
        port_name = port.scalar("name") if isinstance(port, Map) else None
        return port_name.raw if port_name is not None else str(self.index)

    @property
    def label(self) -> str:
        kind = "listener" if self.api == GATEWAY_API else "server"
        return f"{kind} '{self.name}' of {self.gateway.label}"

    @property
    def anchor(self) -> str:
        part = "listeners" if self.api == GATEWAY_API else "servers"
        return f"{self.gateway.anchor}.spec.{part}[{self.name}]"

    @property
    def hosts_node(self) -> Node:
        """Where the hosts are written (the server itself for a listener without a hostname)."""
        key = "hostname" if self.api == GATEWAY_API else "hosts"
        pair = self.node.pair(key)
        return pair.key if pair is not None and not pair.merged else self.node


@dataclass(eq=False)
class PortGroup:
    """The TLS servers that become one Envoy listener: one workload, one port (and bind)."""

    workload: Workload
    port: int
    bind: str
    servers: list[TlsServer] = field(default_factory=list)

    @property
    def decidable(self) -> bool:
        return not any(s.templated for s in self.servers)

    @property
    def terminating(self) -> list[TlsServer]:
        return [s for s in self.servers if s.terminates]

    def catch_alls(self) -> list[TlsServer]:
        return [s for s in self.servers if s.catch_all]


@dataclass(eq=False)
class Workload:
    """The pods a gateway runs in: an Istio selector, or a Gateway API Gateway."""

    api: str
    selector: dict[str, str]  # Istio: the Gateway's selector; Gateway API: {}
    gateway: KubeObject | None = None  # Gateway API: the Gateway
    gateways: list[KubeObject] = field(default_factory=list)  # Istio: every Gateway with this selector

    @property
    def label(self) -> str:
        if self.gateway is not None:
            return self.gateway.label
        if not self.selector:
            return "every gateway's pods (a Gateway without a selector)"
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.selector.items()))
        return f"the gateway pods selected by {shown}"


# -- the workspace ----------------------------------------------------------------------
@dataclass
class KubernetesWorkspace:
    files: list[KubeFile] = field(default_factory=list)
    policy: str = "auto"
    policy_origin: str = "default"  # "kubernetes.non-sni", "non-sni" or "default"
    catch_all_credential: str | None = None
    targets: list[Path] = field(default_factory=list)
    _bound: dict[tuple[str | None, str | None], dict[str, RoutedHost]] = field(
        default_factory=dict, repr=False
    )
    _attached: dict[tuple[str | None, str | None], dict[str | None, dict[str, RoutedHost]]] = field(
        default_factory=dict, repr=False
    )

    # -- objects ---------------------------------------------------------------------
    def objects(self, *kinds: str) -> list[KubeObject]:
        return [o for kind in kinds for o in self._by_kind.get(kind, [])]

    @cached_property
    def _by_kind(self) -> dict[str, list[KubeObject]]:
        index: dict[str, list[KubeObject]] = {}
        for file in self.files:
            for obj in file.objects:
                index.setdefault(obj.kind, []).append(obj)
        return index

    def named(self, kind: str, name: str | None) -> list[KubeObject]:
        return self._by_name.get((kind, name), []) if name else []

    @cached_property
    def _by_name(self) -> dict[tuple[str, str], list[KubeObject]]:
        index: dict[tuple[str, str], list[KubeObject]] = {}
        for kind, objects in self._by_kind.items():
            for obj in objects:
                if obj.name:
                    index.setdefault((kind, obj.name), []).append(obj)
        return index

    @cached_property
    def istio_gateways(self) -> list[KubeObject]:
        return [o for o in self.objects("Gateway") if o.is_istio_gateway]

    @cached_property
    def gateway_api_gateways(self) -> list[KubeObject]:
        return [o for o in self.objects("Gateway") if o.is_gateway_api_gateway]

    @cached_property
    def values(self) -> list[HelmValues]:
        return [v for f in self.files for v in f.values]

    # -- TLS ports ------------------------------------------------------------------
    @cached_property
    def port_groups(self) -> list[PortGroup]:
        groups: dict[tuple[object, ...], PortGroup] = {}
        group_key: tuple[object, ...]
        workloads: dict[tuple[tuple[str, str], ...], Workload] = {}
        for gateway in self.istio_gateways:
            selector = _selector(gateway)
            if selector is None:
                continue  # templated: which pods it selects is unknown
            key = tuple(sorted(selector.items()))
            workload = workloads.setdefault(key, Workload(ISTIO, selector))
            workload.gateways.append(gateway)
            for server in istio_servers(gateway):
                group_key = (ISTIO, key, server.port, server.bind)
                if group_key not in groups:
                    groups[group_key] = PortGroup(workload, server.port, server.bind)
                groups[group_key].servers.append(server)
        for gateway in self.gateway_api_gateways:
            workload = Workload(GATEWAY_API, {}, gateway, [gateway])
            for server in gateway_api_listeners(gateway):
                group_key = (GATEWAY_API, id(gateway), server.port, "")
                if group_key not in groups:
                    groups[group_key] = PortGroup(workload, server.port, "")
                groups[group_key].servers.append(server)
        return list(groups.values())

    # -- what is in front -----------------------------------------------------------
    def want(self, workload: Workload) -> Want | None:
        """Whether clients without SNI must be served: by policy, or in ``auto`` by what
        the files declare in front of the gateway."""
        if self.policy == REQUIRED:
            return Want(Severity.ERROR, f'{self.policy_origin} = "required"')
        if self.policy == FORBIDDEN:
            return None
        reason = self.front(workload)
        return Want(Severity.WARNING, reason) if reason else None

    def front(self, workload: Workload) -> str | None:
        """Why a load balancer (which may connect without SNI) is in front, or None."""
        if workload.gateway is not None:
            infrastructure = workload.gateway.spec.get("infrastructure") if workload.gateway.spec else None
            annotations = infrastructure.get("annotations") if isinstance(infrastructure, Map) else None
            name = load_balancer_annotation(annotations)
            if name is not None:
                return f"{workload.gateway.label} sets the load-balancer annotation {name} on its Service"
        services = self.services_of(workload)
        for service in services:
            reason = service_front(service)
            if reason is not None:
                return reason
        for service in services:
            for ingress in self._ingresses_by_service.get(service.name or "", []):
                return (
                    f"{ingress.label} routes to the gateway's Service '{service.name}', so the load balancer "
                    "it creates connects to the gateway"
                )
        return None

    def services_of(self, workload: Workload) -> list[KubeObject]:
        """The Services that send traffic to the workload's pods."""
        if workload.gateway is not None:
            gateway = workload.gateway
            found = self.named("Service", _generated_name(gateway))
            found += self._labelled.get(("Service", GATEWAY_NAME_LABEL, gateway.name or ""), [])
        else:
            found = [s for pair in workload.selector.items() for s in self._service_selectors.get(pair, [])]
            found = [s for s in found if selects(service_selector(s), workload.selector)]
        return unique(found)

    @cached_property
    def _service_selectors(self) -> dict[tuple[str, str], list[KubeObject]]:
        index: dict[tuple[str, str], list[KubeObject]] = {}
        for service in self.objects("Service"):
            for key, value in service_selector(service).items():
                if value is not None:
                    index.setdefault((key, value), []).append(service)
        return index

    @cached_property
    def _labelled(self) -> dict[tuple[str, str, str], list[KubeObject]]:
        """Services by their own labels, Deployments by their pods' labels."""
        index: dict[tuple[str, str, str], list[KubeObject]] = {}
        for obj in self.objects("Service", "Deployment"):
            labels = obj.labels() if obj.kind == "Service" else pod_labels(obj)
            for key, value in labels.items():
                if value is not None:
                    index.setdefault((obj.kind, key, value), []).append(obj)
        return index

    @cached_property
    def _ingresses_by_service(self) -> dict[str, list[KubeObject]]:
        index: dict[str, list[KubeObject]] = {}
        for ingress in self.objects("Ingress"):
            for name in dict.fromkeys(ingress_services(ingress)):
                index.setdefault(name, []).append(ingress)
        return index

    # -- replicas --------------------------------------------------------------------
    def replicas(self, workload: Workload) -> list[Replicas]:
        """How many gateway pods there may be, from the Deployments and autoscalers in scope."""
        if workload.gateway is not None:
            gateway = workload.gateway
            generated = _generated_name(gateway)
            deployments = self.named("Deployment", generated)
            deployments += self._labelled.get(("Deployment", GATEWAY_NAME_LABEL, gateway.name or ""), [])
            names = {generated} if generated else set()
        else:
            if not workload.selector:
                return []
            key, value = next(iter(workload.selector.items()))
            candidates = self._labelled.get(("Deployment", key, value), [])
            deployments = [d for d in candidates if _carries(pod_labels(d), workload.selector)]
            names = set()
        deployments = unique(deployments)
        found = [deployment_replicas(d) for d in deployments]
        names |= {d.name for d in deployments if d.name}
        found.extend(r for name in sorted(names) for r in self._autoscalers.get(("Deployment", name), []))
        return found

    @cached_property
    def _autoscalers(self) -> dict[tuple[str, str], list[Replicas]]:
        """The maximum of each HorizontalPodAutoscaler, by the kind and name it scales."""
        index: dict[tuple[str, str], list[Replicas]] = {}
        for hpa in self.objects("HorizontalPodAutoscaler"):
            spec = hpa.spec
            target = spec.get("scaleTargetRef") if spec is not None else None
            if not isinstance(target, Map) or spec is None:
                continue
            kind, name = target.scalar("kind"), target.scalar("name")
            most = spec.scalar("maxReplicas")
            if kind is None or name is None or not kind.text or not name.text or most is None:
                continue
            if isinstance(most.value, int) and not isinstance(most.value, bool):
                scaled = Replicas(most.value, most, f"{hpa.label} has maxReplicas: {most.value}", True)
                index.setdefault((kind.text, name.text), []).append(scaled)
        return index

    # -- routes ---------------------------------------------------------------------
    def routed_hosts(self, group: PortGroup) -> list[RoutedHost]:
        """The host names routed through the group's Gateway(s), each once: the hosts of
        VirtualServices bound to one of them, the hostnames of HTTPRoutes attached to the
        group's listeners."""
        found: dict[str, RoutedHost] = {}
        if group.workload.api == GATEWAY_API:
            gateway = group.workload.gateway
            assert gateway is not None
            names = {s.name for s in group.servers}
            for section, hosts in self._route_hosts(gateway.name, gateway.namespace).items():
                if section is None or section in names:
                    for host, entry in hosts.items():
                        found.setdefault(host, entry)
            return list(found.values())
        for gateway_name, namespace in {(g.name, g.namespace) for g in group.workload.gateways}:
            for host, entry in self._bound_hosts(gateway_name, namespace).items():
                found.setdefault(host, entry)
        return list(found.values())

    def _bound_hosts(self, name: str | None, namespace: str | None) -> dict[str, RoutedHost]:
        """The hosts of the VirtualServices bound to the Istio Gateway ``namespace/name``."""
        known = self._bound.get((name, namespace))
        if known is not None:
            return known
        hosts: dict[str, RoutedHost] = {}
        self._bound[(name, namespace)] = hosts
        for service, reference in self._virtual_services_by_gateway.get(name or "", []):
            if _names_gateway(reference, service, name, namespace):
                spec = service.spec
                for host in _strings(spec.get("hosts") if spec is not None else None):
                    hosts.setdefault(str(host.text).lower(), (host, service))
        return hosts

    def _route_hosts(
        self, name: str | None, namespace: str | None
    ) -> dict[str | None, dict[str, RoutedHost]]:
        """The hostnames of the HTTPRoutes attached to the Gateway API Gateway
        ``namespace/name``, by the listener they name (None: every listener)."""
        known = self._attached.get((name, namespace))
        if known is not None:
            return known
        found: dict[str | None, dict[str, RoutedHost]] = {}
        self._attached[(name, namespace)] = found
        for route in self._routes_by_parent.get(name or "", []):
            spec = route.spec
            hostnames = _strings(spec.get("hostnames") if spec is not None else None)
            for section in _attachments(route, name, namespace):
                for host in hostnames:
                    found.setdefault(section, {}).setdefault(str(host.text).lower(), (host, route))
        return found

    @cached_property
    def _virtual_services_by_gateway(self) -> dict[str, list[tuple[KubeObject, str]]]:
        index: dict[str, list[tuple[KubeObject, str]]] = {}
        for service in self.objects("VirtualService"):
            spec = service.spec
            for reference in _strings(spec.get("gateways") if spec is not None else None):
                text = reference.text or ""
                index.setdefault(text.rpartition("/")[2], []).append((service, text))
        return index

    @cached_property
    def _routes_by_parent(self) -> dict[str, list[KubeObject]]:
        index: dict[str, list[KubeObject]] = {}
        for route in self.objects("HTTPRoute"):
            refs = route.spec.get("parentRefs") if route.spec is not None else None
            names = (
                [r.scalar("name") for r in refs.items if isinstance(r, Map)] if isinstance(refs, Seq) else []
            )
            for name in dict.fromkeys(n.text for n in names if n is not None and n.text):
                index.setdefault(str(name), []).append(route)
        return index

    # -- ingress-nginx ---------------------------------------------------------------
    @cached_property
    def controller_configs(self) -> list[ControllerConfig]:
        return controller_configs(self.objects, self.values, self._autoscalers)

    @cached_property
    def nginx_ingresses(self) -> list[NginxIngress]:
        return [NginxIngress(o) for o in self.objects("Ingress") if has_nginx_annotation(o)]

    def ingress_nginx_roots(self) -> list[Node]:
        """Every ingress-nginx artefact in scope, for the retirement notice."""
        roots: list[Node] = [c.holder for c in self.controller_configs]
        roots += [i.obj.node for i in self.nginx_ingresses]
        roots += [c.node for c in self.objects("Deployment", "DaemonSet") if is_nginx_controller(c)]
        return roots


# -- object facts -----------------------------------------------------------------------
def _selector(gateway: KubeObject) -> dict[str, str] | None:
    spec = gateway.spec
    selector = string_map(spec.get("selector") if spec is not None else None)
    if any(value is None for value in selector.values()):
        return None
    return {k: str(v) for k, v in selector.items()}


def _generated_name(gateway: KubeObject) -> str | None:
    """The Deployment and Service Istio generates for a Gateway API Gateway: <name>-<class>."""
    spec = gateway.spec
    class_name = spec.scalar("gatewayClassName") if spec is not None else None
    if gateway.name is None or class_name is None or not class_name.text:
        return None
    return f"{gateway.name}-{class_name.text}"


def _carries(labels: Mapping[str, str | None], selector: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def selects(service_selector: Mapping[str, str | None], gateway_selector: Mapping[str, str]) -> bool:
    """Whether a Service and a Gateway select the same pods, as far as two selectors tell:
    they share a label and contradict none."""
    shared = service_selector.keys() & gateway_selector.keys()
    if not shared:
        return False
    return all(service_selector[k] is None or service_selector[k] == gateway_selector[k] for k in shared)


def load_balancer_annotation(annotations: Node | None) -> str | None:
    """The first annotation that configures a cloud load balancer, if any."""
    if not isinstance(annotations, Map):
        return None
    for pair in annotations.pairs:
        name = (pair.name or "").lower()
        if "load-balancer" in name or name.startswith(_GKE_LOAD_BALANCER):
            return pair.name
    return None


def service_front(service: KubeObject) -> str | None:
    spec = service.spec
    kind = spec.scalar("type") if spec is not None else None
    if kind is not None and kind.text == "LoadBalancer":
        return f"{service.label} has type: LoadBalancer, so a load balancer fronts the gateway"
    name = load_balancer_annotation(service.annotations())
    if name is not None:
        return f"{service.label} has the load-balancer annotation {name}"
    return None


def _strings(node: Node | None) -> list[Scalar]:
    """The plain values of a list (placeholders left out)."""
    if not isinstance(node, Seq):
        return []
    return [item for item in node.items if isinstance(item, Scalar) and item.text and not item.placeholder]


def _names_gateway(reference: str, route: KubeObject, name: str | None, namespace: str | None) -> bool:
    """Whether a VirtualService's ``gateways`` entry (``name`` or ``namespace/name``) is the
    Gateway ``namespace/name``."""
    ref_namespace, slash, ref_name = reference.rpartition("/")
    if ref_name != name:
        return False
    expected = ref_namespace if slash else route.namespace
    return expected is None or namespace is None or expected == namespace


def _attachments(route: KubeObject, name: str | None, namespace: str | None) -> list[str | None]:
    """The listeners of the Gateway ``namespace/name`` an HTTPRoute's parentRefs attach it
    to: their sectionName, None for every listener."""
    refs = route.spec.get("parentRefs") if route.spec is not None else None
    found: list[str | None] = []
    for ref in refs.items if isinstance(refs, Seq) else []:
        if not isinstance(ref, Map):
            continue
        ref_name, ref_namespace, section = (
            ref.scalar("name"),
            ref.scalar("namespace"),
            ref.scalar("sectionName"),
        )
        if ref_name is None or ref_name.text != name:
            continue
        expected = ref_namespace.text if ref_namespace is not None else route.namespace
        if expected is not None and namespace is not None and expected != namespace:
            continue
        found.append(section.text if section is not None else None)
    return found


# -- servers --------------------------------------------------------------------------
def istio_servers(gateway: KubeObject) -> Iterator[TlsServer]:
    spec = gateway.spec
    servers = spec.get("servers") if spec is not None else None
    for index, node in enumerate(servers.items if isinstance(servers, Seq) else []):
        if not isinstance(node, Map):
            continue
        port = node.get("port")
        if not isinstance(port, Map):
            continue
        number, protocol = port.scalar("number"), port.scalar("protocol")
        tls = node.get("tls")
        if protocol is None or (protocol.text or "").upper() not in ("HTTPS", "TLS"):
            continue
        if not isinstance(tls, Map):
            continue
        mode = tls.scalar("mode")
        hosts = node.get("hosts")
        items = hosts.items if isinstance(hosts, Seq) else []
        scalars = [h for h in items if isinstance(h, Scalar)]
        templated = (
            number is None
            or not isinstance(number.value, int)
            or not isinstance(hosts, Seq)
            or len(scalars) != len(items)
            or any(h.placeholder for h in scalars)
        )
        bind = node.scalar("bind")
        yield TlsServer(
            gateway, node, index, ISTIO,
            number.value if number is not None and isinstance(number.value, int) else 0,
            bind.text or "" if bind is not None else "",
            scalars, (mode.text or "").upper() if mode is not None else "PASSTHROUGH", templated,
        )  # fmt: skip


def gateway_api_listeners(gateway: KubeObject) -> Iterator[TlsServer]:
    spec = gateway.spec
    listeners = spec.get("listeners") if spec is not None else None
    for index, node in enumerate(listeners.items if isinstance(listeners, Seq) else []):
        if not isinstance(node, Map):
            continue
        protocol, port = node.scalar("protocol"), node.scalar("port")
        if protocol is None or protocol.text not in ("HTTPS", "TLS"):
            continue
        tls = node.get("tls")
        mode = tls.scalar("mode") if isinstance(tls, Map) else None
        hostname = node.get("hostname")
        hosts = [hostname] if isinstance(hostname, Scalar) and hostname.value is not None else []
        templated = (
            port is None
            or not isinstance(port.value, int)
            or (hostname is not None and not isinstance(hostname, Scalar))
            or any(h.placeholder for h in hosts)
        )
        yield TlsServer(
            gateway, node, index, GATEWAY_API,
            port.value if port is not None and isinstance(port.value, int) else 0,
            "", hosts, (mode.text or "") if mode is not None else "Terminate", templated,
        )  # fmt: skip


def covers(pattern: str, name: str) -> bool:
    """Whether an SNI pattern (Envoy server_names, Istio hosts) matches ``name``: exactly,
    or ``*.suffix`` for names below the suffix (never the suffix itself)."""
    if pattern == WILDCARD:
        return True
    if pattern.startswith("*."):
        return name.endswith(pattern[1:]) and len(name) > len(pattern) - 1
    return pattern.lower() == name.lower()


class Coverage:
    """``covers`` over many patterns at once, by index rather than by scanning them: a
    gateway's servers may list 10,000 hosts, each routed host asked."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.everything = False
        self.exact: set[str] = set()
        self.suffixes: set[str] = set()  # ``.example.com`` for ``*.example.com``
        for pattern in patterns:
            if pattern == WILDCARD:
                self.everything = True
            elif pattern.startswith("*."):
                self.suffixes.add(pattern[1:])
            else:
                self.exact.add(pattern.lower())

    def __call__(self, name: str) -> bool:
        """Whether any pattern covers ``name``."""
        if self.everything or name.lower() in self.exact:
            return True
        # Every suffix of the name from a dot past its first character.
        dot = name.find(".", 1)
        while dot != -1:
            if name[dot:] in self.suffixes:
                return True
            dot = name.find(".", dot + 1)
        return False


# -- loading ----------------------------------------------------------------------------
KubernetesLoad = TierLoad[KubernetesWorkspace]


def new_workspace(settings: Settings, targets: Iterable[Path] = ()) -> KubernetesWorkspace:
    mode, origin = non_sni_policy(settings, "kubernetes")
    return KubernetesWorkspace(
        policy=mode,
        policy_origin=origin,
        catch_all_credential=settings.kubernetes.get("catch-all-credential") or None,
        targets=[resolve_path(t) for t in targets],
    )


def load_build(source: SourceText, documents: list[Node] | None, settings: Settings) -> KubernetesLoad | None:
    """A rendered build's gateway objects as one deployment (``tlslint.workspace.rendered``),
    from its parsed ``documents`` when it kept them; None when it holds none."""
    loaded = load_documents(source, documents) if documents is not None else load_source(source)
    if not loaded.objects and not loaded.values:
        return None
    workspace = new_workspace(settings)
    workspace.files.append(loaded)
    found = [problem_finding(source.path, p) for p in loaded.problems]
    found += [problem_finding(f.path, p) for f, p in config_problems(workspace.controller_configs)]
    return KubernetesLoad(workspace, {}, [], found)


def load_kubernetes(
    paths: Iterable[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None = None,
    targets: Iterable[Path] = (),
    quiet: Iterable[Path] = (),
) -> KubernetesLoad:
    """Read the discovered files. ``quiet``: files the Apigee tier reads too, whose
    loading problems (invalid YAML, templates, duplicate keys) it reports already."""
    overlay = overlay or {}
    workspace = new_workspace(settings, targets)
    shared = {os.path.realpath(p) for p in quiet}
    findings: list[Finding] = []
    texts: dict[Path, LoadedText] = {}
    seen: set[Path] = set()
    for path in paths:
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        try:
            source = overlay.get(resolved) or read_source(path, settings.max_file_size)
        except SourceError as error:
            if str(resolved) not in shared:
                findings.append(unreadable(path, error, SCHEMA_VIOLATION))
            continue
        loaded = load_source(source)
        workspace.files.append(loaded)
        texts[resolved] = LoadedText(source, YAML, duplicates_note(loaded.problems, DUPLICATE_KEY))
        unread = loaded.template or any(p.anchor == UNPARSED for p in loaded.problems)
        if unread and str(resolved) in shared:
            loaded.problems = []  # the Apigee tier says why the file was not read
        findings.extend(problem_finding(path, problem) for problem in loaded.problems)
    findings.extend(
        problem_finding(file.path, problem) for file, problem in config_problems(workspace.controller_configs)
    )
    return KubernetesLoad(workspace, texts, sorted(seen), findings)


def add_kubernetes(
    workspace: Workspace,
    filters: Filters,
    paths: list[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None,
    targets: Iterable[Path],
    quiet: Iterable[Path] = (),
) -> KubernetesLoad:
    """The engine's one call: load the gateway YAML into ``workspace``; YAML comments suppress."""
    loaded = load_kubernetes(paths, settings, overlay, targets, quiet)
    if loaded.workspace.files or loaded.findings:
        workspace.kubernetes = loaded.workspace
    filters.yaml_sources.update({path: text.source for path, text in loaded.texts.items()})
    return loaded
