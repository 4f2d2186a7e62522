"""ingress-nginx, linked across files: the controller's configuration (a ConfigMap named
by a controller's ``--configmap`` flag or by the chart's names and labels, or the chart
values' ``controller.config``), the size of the controller that runs with it, and the
Ingresses that carry ``nginx.ingress.kubernetes.io/`` annotations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tlslint.sources.apigee.tree import Map, Pair, Scalar, Seq
from tlslint.sources.kubernetes.documents import SCHEMA_VIOLATION, HelmValues, KubeFile, KubeObject
from tlslint.sources.kubernetes.ingress_nginx import (
    ANNOTATION_PREFIX,
    BOOL_KEYS,
    INT_KEYS,
    KNOWN_KEYS,
    decode_bool,
    decode_int,
    known_key,
)
from tlslint.sources.kubernetes.parent_chart import CHART
from tlslint.sources.manifests import Problem, did_you_mean, problem_at
from tlslint.workspace.kube_facts import Replicas, containers, deployment_replicas, ingress_services, largest
from tlslint.workspace.session_affinity import ControllerFronts, Front, chart_fronts

CHART_REPLICAS, CHART_AUTOSCALING_MAX = 1, 11  # the ingress-nginx chart's defaults


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
    fronts: list[Front] = field(default_factory=list)  # the Services in front of its pods

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


def controller_configs(
    objects: Callable[..., list[KubeObject]],
    values: Iterable[HelmValues],
    autoscalers: dict[tuple[str, str], list[Replicas]],
) -> list[ControllerConfig]:
    """Every ingress-nginx controller configuration in scope, with the controller's size."""
    configs = []
    controllers = [c for c in objects("Deployment", "DaemonSet") if is_nginx_controller(c)]
    sizes = _ControllerSizes(controllers, lambda c: controller_replicas(c, autoscalers))
    fronts: ControllerFronts | None = None  # indexed when a controller ConfigMap asks
    for config_map in objects("ConfigMap"):
        if not is_controller_configmap(config_map, sizes.named):
            continue
        config = ControllerConfig(
            config_map.file, config_map.node, "data", config_map.label, f"{config_map.anchor}.data",
            chart=False,
        )  # fmt: skip
        size = sizes.running(config_map)
        config.replicas = [size] if size is not None else []
        fronts = fronts or ControllerFronts(objects("Service"))
        config.fronts = fronts.of(sizes.controllers(config_map))
        configs.append(config)
    for release in values:
        controller = release.controller
        if controller is None:
            continue
        config = ControllerConfig(
            release.file, controller, "config", f"the {release.origin} (controller.config)",
            f"{release.anchor}.controller.config", chart=True,
        )  # fmt: skip
        config.replicas = [chart_replicas(release, controller)]
        config.fronts = chart_fronts(release.origin, controller)
        configs.append(config)
    return configs


def controller_replicas(
    controller: KubeObject, autoscalers: dict[tuple[str, str], list[Replicas]]
) -> Replicas:
    if controller.kind == "DaemonSet":
        return Replicas(None, controller.node, f"{controller.label} runs one controller pod a node")
    found = [deployment_replicas(controller), *autoscalers.get(("Deployment", controller.name or ""), [])]
    return largest(found)


def config_problems(configs: Iterable[ControllerConfig]) -> list[tuple[KubeFile, Problem]]:
    """Keys no ingress-nginx release reads, in the controller configurations."""
    found = []
    for config in configs:
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


class _ControllerSizes:
    """Which ingress-nginx controllers run with a ConfigMap, and the largest of them:
    those whose ``--configmap`` names it; without such flags, those of its namespace."""

    def __init__(self, controllers: list[KubeObject], size: Callable[[KubeObject], Replicas]) -> None:
        self.named: set[str] = set()
        self.by_flag: dict[str, list[KubeObject]] = {}
        self.by_namespace: dict[str | None, list[KubeObject]] = {}
        self.every: list[KubeObject] = []
        self._size: dict[int, Replicas] = {}
        self._largest: dict[tuple[str, str | None], Replicas | None] = {}
        for controller in controllers:
            self._size[id(controller)] = size(controller)
            flags = configmap_flags(controller)
            self.named.update(flags)
            for name in flags:
                self.by_flag.setdefault(name, []).append(controller)
            if not flags:
                self.by_namespace.setdefault(controller.namespace, []).append(controller)
            self.every.append(controller)

    def controllers(self, config_map: KubeObject) -> list[KubeObject]:
        """The controllers that run with the ConfigMap."""
        if self.named:
            return self.by_flag.get(config_map.name or "", [])
        if config_map.namespace is None:
            return self.every
        return [*self.by_namespace.get(config_map.namespace, []), *self.by_namespace.get(None, [])]

    def running(self, config_map: KubeObject) -> Replicas | None:
        if self.named:
            key: tuple[str, str | None] = ("flag", config_map.name or "")
        else:
            key = ("namespace", config_map.namespace)
        if key not in self._largest:  # once a name or namespace: many ConfigMaps may share it
            found = [self._size[id(c)] for c in self.controllers(config_map)]
            self._largest[key] = largest(found) if found else None
        return self._largest[key]


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


def has_nginx_annotation(ingress: KubeObject) -> bool:
    annotations = ingress.annotations()
    if annotations is None:
        return False
    return any((p.name or "").startswith(ANNOTATION_PREFIX) for p in annotations.pairs)
