"""The Services in front of ingress-nginx's controller pods, and whether they keep each
client address on one pod (``sessionAffinity: ClientIP``).

kube-proxy implements ClientIP affinity with state kept on each node (iptables mode: the
``recent`` match, one list per endpoint in the node's kernel; kubernetes
``pkg/proxy/iptables/proxier.go`` ``writeServiceToEndpointRules``). A client that reaches
the Service through its own node (a ClusterIP Service) keeps its pod; one that comes
through a load balancer or a node port (type LoadBalancer or NodePort, externalIPs)
keeps it only while the load balancer sends it to the same node. With
``externalTrafficPolicy: Local`` each node sends only to its own pods, so that node
decides the pod outright. Whether a cloud load balancer is itself sticky depends on the
provider (GCE target pools and Azure take ``sessionAffinity: ClientIP`` over; AWS
ignores it: kubernetes#13892, #94416), which the files do not say.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tlslint.sources.apigee.tree import Map, Node, Scalar, Seq
from tlslint.sources.kubernetes.documents import KubeObject
from tlslint.sources.kubernetes.helm_values import truthy
from tlslint.workspace.kube_facts import pod_labels, service_selector

CLIENT_IP = "ClientIP"
_EXPOSED_TYPES = ("LoadBalancer", "NodePort")
_HTTPS_PORTS = ("https", "443")  # the controller's container port name and number
CHART_SERVICE_TYPE = "LoadBalancer"  # the chart's controller.service.type


@dataclass(frozen=True)
class Front:
    """A Service that sends clients to the controller's HTTPS port."""

    label: str  # "Service 'x'", "the values (controller.service)"
    sticky: Scalar | None  # its ``sessionAffinity: ClientIP``, if set
    exposure: str | None  # "type: LoadBalancer", "type: NodePort", "externalIPs"; None: in-cluster only
    local: bool  # externalTrafficPolicy: Local


def sticky_fronts(fronts: list[Front]) -> list[Front] | None:
    """The fronts, when every one keeps each client address on one pod; else None."""
    if not fronts or any(f.sticky is None for f in fronts):
        return None
    return fronts


class ControllerFronts:
    """The Services serving an HTTPS port, by one pair of their selectors, so that each
    controller ConfigMap's controllers look only at the Services that may select them
    (every Service for each ConfigMap grew as the square of the manifests)."""

    def __init__(self, services: Iterable[KubeObject]) -> None:
        # (namespace, label, value) -> the Services (with their order) whose selector has it
        self._by_pair: dict[tuple[str | None, str, str], list[tuple[int, KubeObject]]] = {}
        self._by_label: dict[tuple[str, str], list[tuple[int, KubeObject]]] = {}
        self._fronts: dict[int, Front] = {}
        for order, service in enumerate(services):
            if not _serves_https(service):
                continue
            selector = service_selector(service)
            if not selector or None in selector.values():
                continue  # selects no pod by what the files say (as ``_selects``)
            label, value = min((k, v) for k, v in selector.items() if v is not None)
            self._by_pair.setdefault((service.namespace, label, value), []).append((order, service))
            self._by_label.setdefault((label, value), []).append((order, service))

    def of(self, controllers: Iterable[KubeObject]) -> list[Front]:
        """The Services that select any of the controllers' pods and serve their HTTPS
        port, in the order the Services were given."""
        found: dict[int, KubeObject] = {}
        for controller in controllers:
            for label, value in pod_labels(controller).items():
                if value is None:
                    continue
                if controller.namespace is None:  # in any namespace
                    candidates = self._by_label.get((label, value), [])
                else:
                    candidates = [
                        *self._by_pair.get((controller.namespace, label, value), []),
                        *self._by_pair.get((None, label, value), []),
                    ]
                for order, service in candidates:
                    if order not in found and _selects(service, controller):
                        found[order] = service
        return [self._front(order, found[order]) for order in sorted(found)]

    def _front(self, order: int, service: KubeObject) -> Front:
        if order not in self._fronts:  # one Front per Service, whichever ConfigMap asks
            self._fronts[order] = _front(service.label, service.spec)
        return self._fronts[order]


def chart_fronts(origin: str, controller: Map) -> list[Front]:
    """The controller Services the chart renders: the external one (controller.service)
    and the internal one (controller.service.internal, with annotations), each with its
    own sessionAffinity and externalTrafficPolicy."""
    node = controller.get("service")
    service = node if isinstance(node, Map) else None
    if not _flag(service, "enabled", True) or not _flag(service, "enableHttps", True):
        return []
    kind = service.scalar("type") if service is not None else None
    default_type = kind.text if kind is not None and kind.text else CHART_SERVICE_TYPE
    fronts = []
    external = service.get("external") if service is not None else None
    if _flag(external, "enabled", True):
        fronts.append(_front(f"the {origin} (controller.service)", service, CHART_SERVICE_TYPE))
    internal = service.get("internal") if service is not None else None
    if (
        _flag(internal, "enabled", False)
        and isinstance(internal, Map)
        and _filled(internal.get("annotations"))
    ):
        fronts.append(_front(f"the {origin} (controller.service.internal)", internal, default_type))
    return fronts


def _front(label: str, spec: Map | None, default_type: str = "ClusterIP") -> Front:
    if spec is None:
        exposed = default_type in _EXPOSED_TYPES
        return Front(label, None, f"type: {default_type} (the default)" if exposed else None, False)
    affinity = spec.scalar("sessionAffinity")
    sticky = affinity if affinity is not None and affinity.text == CLIENT_IP else None  # text: no placeholder
    kind = spec.scalar("type")
    type_text = kind.text if kind is not None and kind.text else default_type
    exposure = None
    if kind is not None and kind.placeholder:
        exposure = "templated type"
    elif type_text in _EXPOSED_TYPES:
        exposure = f"type: {type_text}" + (" (the default)" if kind is None else "")
    elif _filled(spec.get("externalIPs")):
        exposure = "externalIPs"
    policy = spec.scalar("externalTrafficPolicy")
    return Front(label, sticky, exposure, policy is not None and policy.text == "Local")


def _serves_https(service: KubeObject) -> bool:
    spec = service.spec
    ports = spec.get("ports") if spec is not None else None
    for port in ports.items if isinstance(ports, Seq) else []:
        if not isinstance(port, Map):
            continue
        target = port.scalar("targetPort") or port.scalar("port")
        if target is not None and target.raw in _HTTPS_PORTS:
            return True
    return False


def _selects(service: KubeObject, controller: KubeObject) -> bool:
    """Whether the Service's selector picks the controller's pods (every pair carried)."""
    if None not in (service.namespace, controller.namespace) and service.namespace != controller.namespace:
        return False
    selector = service_selector(service)
    if not selector or None in selector.values():
        return False
    labels = pod_labels(controller)
    return all(labels.get(k) == v for k, v in selector.items())


def _flag(node: Node | None, key: str, default: bool) -> bool:
    """A chart flag as its ``{{ if }}`` reads it (Helm's values: ``no`` is false, "false" and
    any other non-empty string true, null false); the chart's default when absent or templated."""
    pair = node.pair(key) if isinstance(node, Map) else None
    if pair is None:
        return default
    value = pair.value
    if isinstance(value, Scalar):
        return default if value.placeholder else truthy(value)
    return _filled(value)


def _filled(node: Node | None) -> bool:
    if isinstance(node, Map):
        return bool(node.pairs)
    if isinstance(node, Seq):
        return bool(node.items)
    return False
