"""Facts of Kubernetes objects that both gateway tiers read: pod labels, containers,
replica counts, the Services an Ingress routes to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tlslint.sources.apigee.tree import Map, Node, Seq
from tlslint.sources.kubernetes.documents import KubeObject, string_map


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


def largest(sizes: Iterable[Replicas]) -> Replicas:
    """The size with the most pods (a DaemonSet's one a node counts as the most)."""
    return max(sizes, key=lambda r: 1 << 62 if r.count is None else r.count)


def unique(objects: Iterable[KubeObject]) -> list[KubeObject]:
    return list({id(o): o for o in objects}.values())


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


def service_selector(service: KubeObject) -> dict[str, str | None]:
    """A Service's ``spec.selector`` (None for a value that is not a plain string)."""
    spec = service.spec
    return string_map(spec.get("selector") if spec is not None else None)
