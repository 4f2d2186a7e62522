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
* **ingress-nginx.** The controller's configuration: a ConfigMap (named by a
  controller's ``--configmap`` flag, else by the chart's names and labels) or
  the chart's ``controller.config`` values, and the Ingresses that carry
  ``nginx.ingress.kubernetes.io/`` annotations.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.findings import UNPARSED, Finding, Severity
from tlslint.paths import resolved as resolve_path
from tlslint.settings import Settings
from tlslint.sources.apigee import YAML
from tlslint.sources.apigee.tree import Map, Node, Pair, Scalar, Seq
from tlslint.sources.formats import LoadedText
from tlslint.sources.kubernetes.documents import (
    CHART,
    SCHEMA_VIOLATION,
    HelmValues,
    KubeFile,
    KubeObject,
    load_source,
    string_map,
)
from tlslint.sources.kubernetes.ingress_nginx import (
    ANNOTATION_PREFIX,
    BOOL_KEYS,
    INT_KEYS,
    KNOWN_KEYS,
    decode_bool,
    decode_int,
    known_key,
)
from tlslint.sources.manifests import Problem, did_you_mean, problem_at, problem_finding, unreadable
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError, read_source
from tlslint.workspace.policy import FORBIDDEN, REQUIRED, Want, non_sni_policy

if TYPE_CHECKING:
    from tlslint.filters import Filters
    from tlslint.scope import Scope
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
CHART_REPLICAS, CHART_AUTOSCALING_MAX = 1, 11  # the ingress-nginx chart's defaults


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
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.selector.items())) or "every gateway"
        return f"the gateway pods selected by {shown}"


# -- replicas ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Replicas:
    """How many pods a workload may run, and where that is written."""

    count: int | None  # the most pods; None for a DaemonSet (one a node)
    where: Node
    how: str  # "Deployment 'x' has replicas: 3"
    scaled: bool = False  # an autoscaler's maximum, not a fixed count

    @property
    def several(self) -> bool:
        return self.count is None or self.count > 1

    @property
    def shown(self) -> str:
        if self.count is None:
            return "one pod a node"
        return f"up to {self.count} replicas" if self.scaled else f"{self.count} replicas"


# -- ingress-nginx ----------------------------------------------------------------------
@dataclass(eq=False)
class ControllerConfig:
    """ingress-nginx's controller configuration: a ConfigMap's data, or chart values' controller.config."""

    file: KubeFile
    holder: Map  # the ConfigMap object, or the values' controller mapping
    key: str  # "data" or "config"
    label: str
    anchor: str
    chart: bool  # Helm values: the chart quotes every value
    replicas: list[Replicas] = field(default_factory=list)

    @property
    def data(self) -> Map | None:
        node = self.holder.get(self.key)
        return node if isinstance(node, Map) else None

    def pair(self, key: str) -> Pair | None:
        """The pair for ``key``: exact, else case aside (mapstructure folds case)."""
        data = self.data
        if data is None:
            return None
        found = data.pair(key)
        if found is not None:
            return found
        lowered = key.lower()
        return next((p for n, p in data.effective().items() if n.lower() == lowered), None)

    def scalar(self, key: str) -> Scalar | None:
        pair = self.pair(key)
        return pair.value if pair is not None and isinstance(pair.value, Scalar) else None

    def text(self, key: str) -> str | None:
        """The string the controller receives for ``key``; None when absent or templated."""
        scalar = self.scalar(key)
        if scalar is None or scalar.placeholder:
            return None
        value = scalar.value
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if value is None:
            return ""
        return scalar.raw

    def int_value(self, key: str) -> int | None:
        """The integer the controller uses: the decoded value, or the default when absent
        or undecodable; None when templated."""
        scalar = self.scalar(key)
        if scalar is not None and scalar.placeholder:
            return None
        text = self.text(key)
        decoded = decode_int(text) if text is not None else None
        return decoded if decoded is not None else INT_KEYS[key]

    def bool_value(self, key: str) -> bool | None:
        scalar = self.scalar(key)
        if scalar is not None and scalar.placeholder:
            return None
        text = self.text(key)
        decoded = decode_bool(text) if text is not None else None
        return decoded if decoded is not None else BOOL_KEYS[key]


@dataclass(eq=False)
class NginxIngress:
    """An Ingress with ``nginx.ingress.kubernetes.io/`` annotations."""

    obj: KubeObject

    def annotations(self) -> list[Pair]:
        node = self.obj.annotations()
        if node is None:
            return []
        return [p for p in node.pairs if (p.name or "").startswith(ANNOTATION_PREFIX)]

    def annotation(self, name: str) -> Pair | None:
        node = self.obj.annotations()
        return node.pair(ANNOTATION_PREFIX + name) if node is not None else None

    def services(self) -> list[str]:
        return ingress_services(self.obj)


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
        return _unique(found)

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
        deployments = _unique(deployments)
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
        """Every ingress-nginx controller configuration in scope, with the controller's size."""
        configs = []
        controllers = [c for c in self.objects("Deployment", "DaemonSet") if is_nginx_controller(c)]
        sizes = _ControllerSizes(controllers, self._controller_replicas)
        for config_map in self.objects("ConfigMap"):
            if not is_controller_configmap(config_map, sizes.named):
                continue
            config = ControllerConfig(
                config_map.file, config_map.node, "data", config_map.label, f"{config_map.anchor}.data",
                chart=False,
            )  # fmt: skip
            size = sizes.running(config_map)
            config.replicas = [size] if size is not None else []
            configs.append(config)
        for values in self.values:
            controller = values.controller
            if controller is None:
                continue
            config = ControllerConfig(
                values.file, controller, "config", f"the {values.origin} (controller.config)",
                f"{values.anchor}.controller.config", chart=True,
            )  # fmt: skip
            config.replicas = [chart_replicas(values, controller)]
            configs.append(config)
        return configs

    def _controller_replicas(self, controller: KubeObject) -> Replicas:
        if controller.kind == "DaemonSet":
            return Replicas(None, controller.node, f"{controller.label} runs one controller pod a node")
        found = [
            deployment_replicas(controller),
            *self._autoscalers.get(("Deployment", controller.name or ""), []),
        ]
        return _largest(found)

    @cached_property
    def nginx_ingresses(self) -> list[NginxIngress]:
        return [NginxIngress(o) for o in self.objects("Ingress") if _has_nginx_annotation(o)]

    def ingress_nginx_roots(self) -> list[Node]:
        """Every ingress-nginx artefact in scope, for the retirement notice."""
        roots: list[Node] = [c.holder for c in self.controller_configs]
        roots += [i.obj.node for i in self.nginx_ingresses]
        roots += [c.node for c in self.objects("Deployment", "DaemonSet") if is_nginx_controller(c)]
        return roots

    def config_problems(self) -> list[tuple[KubeFile, Problem]]:
        """Keys no ingress-nginx release reads, in the controller configurations."""
        found = []
        for config in self.controller_configs:
            data = config.data
            if data is None:
                continue
            for pair in data.pairs:
                name = pair.name
                if name is None or pair.merged or known_key(name):
                    continue
                message = (
                    f"unknown key '{name}' in {config.label}: no ingress-nginx release reads it, so the "
                    f"controller ignores it{did_you_mean(name, KNOWN_KEYS)}"
                )
                anchor = f"{config.anchor}.{name}"
                found.append((config.file, problem_at(pair.key, message, anchor, SCHEMA_VIOLATION)))
        return found


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


def service_selector(service: KubeObject) -> dict[str, str | None]:
    spec = service.spec
    return string_map(spec.get("selector") if spec is not None else None)


def _carries(labels: Mapping[str, str | None], selector: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def _unique(objects: Iterable[KubeObject]) -> list[KubeObject]:
    return list({id(o): o for o in objects}.values())


def _largest(sizes: Iterable[Replicas]) -> Replicas:
    """The size with the most pods (a DaemonSet's one a node counts as the most)."""
    return max(sizes, key=lambda r: 1 << 62 if r.count is None else r.count)


class _ControllerSizes:
    """Which ingress-nginx controllers run with a ConfigMap, and the largest of them:
    those whose ``--configmap`` names it; without such flags, those of its namespace."""

    def __init__(self, controllers: list[KubeObject], size: Callable[[KubeObject], Replicas]) -> None:
        self.named: set[str] = set()
        self.by_flag: dict[str, list[Replicas]] = {}
        self.by_namespace: dict[str | None, list[Replicas]] = {}
        self.every: list[Replicas] = []
        for controller in controllers:
            replicas = size(controller)
            flags = configmap_flags(controller)
            self.named.update(flags)
            for name in flags:
                self.by_flag.setdefault(name, []).append(replicas)
            if not flags:
                self.by_namespace.setdefault(controller.namespace, []).append(replicas)
            self.every.append(replicas)

    def running(self, config_map: KubeObject) -> Replicas | None:
        if self.named:
            found = self.by_flag.get(config_map.name or "", [])
        elif config_map.namespace is None:
            found = self.every
        else:
            found = [*self.by_namespace.get(config_map.namespace, []), *self.by_namespace.get(None, [])]
        return _largest(found) if found else None


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


def ingress_services(ingress: KubeObject) -> list[str]:
    """The Services an Ingress routes to (networking.k8s.io/v1 and the older serviceName)."""
    spec = ingress.spec
    if spec is None:
        return []
    backends: list[Map] = []
    default = spec.get("defaultBackend") or spec.get("backend")
    if isinstance(default, Map):
        backends.append(default)
    rules = spec.get("rules")
    for rule in rules.items if isinstance(rules, Seq) else []:
        http = rule.get("http") if isinstance(rule, Map) else None
        paths = http.get("paths") if isinstance(http, Map) else None
        for path in paths.items if isinstance(paths, Seq) else []:
            backend = path.get("backend") if isinstance(path, Map) else None
            if isinstance(backend, Map):
                backends.append(backend)
    names = []
    for backend in backends:
        service = backend.get("service")
        name = service.scalar("name") if isinstance(service, Map) else backend.scalar("serviceName")
        if name is not None and name.text:
            names.append(name.text)
    return names


def pod_labels(workload: KubeObject) -> dict[str, str | None]:
    spec = workload.spec
    template = spec.get("template") if spec is not None else None
    metadata = template.get("metadata") if isinstance(template, Map) else None
    return string_map(metadata.get("labels") if isinstance(metadata, Map) else None)


def deployment_replicas(deployment: KubeObject) -> Replicas:
    spec = deployment.spec
    replicas = spec.scalar("replicas") if spec is not None else None
    if replicas is not None and isinstance(replicas.value, int) and not isinstance(replicas.value, bool):
        return Replicas(replicas.value, replicas, f"{deployment.label} has replicas: {replicas.value}")
    return Replicas(1, deployment.node, f"{deployment.label} sets no replicas (1)")


def containers(workload: KubeObject) -> list[Map]:
    spec = workload.spec
    template = spec.get("template") if spec is not None else None
    pod = template.get("spec") if isinstance(template, Map) else None
    items = pod.get("containers") if isinstance(pod, Map) else None
    return [c for c in items.items if isinstance(c, Map)] if isinstance(items, Seq) else []


def is_nginx_controller(workload: KubeObject) -> bool:
    for container in containers(workload):
        image = container.scalar("image")
        if image is not None and "ingress-nginx/controller" in (image.text or ""):
            return True
    return _chart_controller_labels(workload)


def configmap_flags(controller: KubeObject) -> list[str]:
    """The ConfigMap names a controller's ``--configmap=NAMESPACE/NAME`` flags give."""
    names = []
    for container in containers(controller):
        args = container.get("args")
        for arg in args.items if isinstance(args, Seq) else []:
            text = arg.text if isinstance(arg, Scalar) else None
            if text and text.startswith("--configmap="):
                names.append(text.partition("=")[2].rpartition("/")[2])
    return names


def is_controller_configmap(config_map: KubeObject, named: set[str]) -> bool:
    """Named by a controller's --configmap flag; without such a flag in scope, the
    chart's names and labels (not its tcp/udp services ConfigMaps)."""
    name = config_map.name or ""
    if named:
        return name in named
    if "tcp" in name or "udp" in name:
        return False
    if name in ("ingress-nginx-controller", "nginx-configuration", "nginx-ingress-controller"):
        return True
    if name.endswith("-ingress-nginx-controller"):
        return True
    return _chart_controller_labels(config_map)


def _chart_controller_labels(obj: KubeObject) -> bool:
    labels = obj.labels()
    return (
        labels.get("app.kubernetes.io/name") == CHART
        and labels.get("app.kubernetes.io/component") == "controller"
    )


def chart_replicas(values: HelmValues, controller: Map) -> Replicas:
    """The chart's controller size: DaemonSet, autoscaling, or replicaCount (default 1)."""
    kind = controller.scalar("kind")
    if kind is not None and kind.text in ("DaemonSet", "Both"):
        return Replicas(None, kind, f"the {values.origin} set controller.kind: {kind.text}")
    autoscaling = controller.get("autoscaling")
    if isinstance(autoscaling, Map):
        enabled = autoscaling.scalar("enabled")
        if enabled is not None and enabled.value is True:
            most = autoscaling.scalar("maxReplicas")
            if most is not None and isinstance(most.value, int) and not isinstance(most.value, bool):
                how = f"the {values.origin} autoscale up to maxReplicas: {most.value}"
                return Replicas(most.value, most, how, True)
            return Replicas(
                CHART_AUTOSCALING_MAX, enabled,
                f"the {values.origin} enable autoscaling (maxReplicas defaults to {CHART_AUTOSCALING_MAX})",
                True,
            )  # fmt: skip
    count = controller.scalar("replicaCount")
    if count is not None and isinstance(count.value, int) and not isinstance(count.value, bool):
        return Replicas(count.value, count, f"the {values.origin} set controller.replicaCount: {count.value}")
    return Replicas(CHART_REPLICAS, controller, f"the {values.origin} keep the chart's replicaCount of 1")


def _has_nginx_annotation(ingress: KubeObject) -> bool:
    annotations = ingress.annotations()
    if annotations is None:
        return False
    return any((p.name or "").startswith(ANNOTATION_PREFIX) for p in annotations.pairs)


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


# -- loading ----------------------------------------------------------------------------
@dataclass
class KubernetesLoad:
    workspace: KubernetesWorkspace
    findings: list[Finding]
    texts: dict[Path, LoadedText]
    read: list[Path]  # resolved paths read (or refused)

    def reported(self, scope: Scope | None) -> set[Path]:
        return set(self.read) if scope is None else set(self.read) & scope.files


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
    mode, origin = non_sni_policy(settings, "kubernetes")
    workspace = KubernetesWorkspace(
        policy=mode,
        policy_origin=origin,
        catch_all_credential=settings.kubernetes.get("catch-all-credential") or None,
        targets=[resolve_path(t) for t in targets],
    )
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
        texts[resolved] = LoadedText(source, YAML)
        unread = loaded.template or any(p.anchor == UNPARSED for p in loaded.problems)
        if unread and str(resolved) in shared:
            loaded.problems = []  # the Apigee tier says why the file was not read
        findings.extend(problem_finding(path, problem) for problem in loaded.problems)
    findings.extend(problem_finding(file.path, problem) for file, problem in workspace.config_problems())
    return KubernetesLoad(workspace, findings, texts, sorted(seen))


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
