"""ingress-nginx, linked across files: the controller's configuration (a ConfigMap named
by a controller's ``--configmap`` flag or by the chart's names and labels, or the chart
values' ``controller.config``), the size of the controller that runs with it, and the
Ingresses that carry ``nginx.ingress.kubernetes.io/`` annotations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tlslint.findings import Severity
from tlslint.sources.apigee.tree import Map, Node, Pair, Scalar, Seq
from tlslint.sources.goyaml import YAML11_ONLY
from tlslint.sources.kubernetes.documents import SCHEMA_VIOLATION, HelmValues, KubeFile, KubeObject
from tlslint.sources.kubernetes.helm_values import helm_value, quoted_text, truthy, whole_number
from tlslint.sources.kubernetes.ingress_nginx import (
    ANNOTATION_PREFIX,
    BOOL_KEYS,
    DIRECTIVE_KEYS,
    INT_KEYS,
    KNOWN_KEYS,
    UNRENDERED_DIRECTIVES,
    decode_bool,
    decode_int,
    known_key,
)
from tlslint.sources.kubernetes.parent_chart import CHART
from tlslint.sources.manifests import Problem, closest, problem_at
from tlslint.workspace.kube_facts import Replicas, containers, deployment_replicas, ingress_services, largest
from tlslint.workspace.session_affinity import ControllerFronts, Front, chart_fronts

CHART_REPLICAS, CHART_AUTOSCALING_MAX = 1, 11  # the ingress-nginx chart's defaults


def _folded(pairs: dict[str, Pair], key: str) -> Pair | None:
    """``key``'s pair: exact, else case aside (mapstructure folds case)."""
    found = pairs.get(key)
    if found is not None:
        return found
    lowered = key.lower()
    return next((pair for name, pair in pairs.items() if name.lower() == lowered), None)


@dataclass(eq=False)
class ControllerConfig:
    """ingress-nginx's controller configuration: a ConfigMap's data, or chart values' controller.config."""

    file: KubeFile
    holder: Map  # the ConfigMap object, or the values' controller mapping
    key: str  # "data" or "config"
    label: str
    anchor: str
    chart: bool  # Helm values: the chart quotes every value
    applied: bool = False  # inline values of a HelmRelease or Application
    replicas: list[Replicas] = field(default_factory=list)
    fronts: list[Front] = field(default_factory=list)  # the Services in front of its pods
    overrides: dict[str, Pair] = field(default_factory=dict)  # keys Argo CD parameters set

    @property
    def data(self) -> Map | None:
        node = self.holder.get(self.key)
        return node if isinstance(node, Map) else None

    def pair(self, key: str) -> Pair | None:
        """The pair for ``key``: exact, else case aside (mapstructure folds case); a
        parameter that sets it wins over the values."""
        override = _folded(self.overrides, key) if self.overrides else None
        if override is not None:
            return override
        data = self.data
        return _folded(data.effective(), key) if data is not None else None

    def scalar(self, key: str) -> Scalar | None:
        pair = self.pair(key)
        return pair.value if pair is not None and isinstance(pair.value, Scalar) else None

    def text(self, key: str) -> str | None:
        """The string the controller receives for ``key``; None when absent or templated.

        Chart values as Helm reads them and the chart quotes them (``off`` is "false",
        ``1000000`` is "1e+06"); a ConfigMap's plain ``off`` is the boolean false kubectl
        sends (YAML 1.1): the API server refuses it there (GW002), and the rules read it so."""
        scalar = self.scalar(key)
        if scalar is None or scalar.placeholder:
            return None
        if self.chart:
            return quoted_text(scalar)
        value = scalar.value
        if isinstance(value, str):
            boolean = scalar.kube_bool()
            return value if boolean is None else str(boolean).lower()
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
            f"{release.anchor}.controller.config", chart=True, applied=release.applied,
            overrides=release.config_overrides,
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
    """Keys no ingress-nginx release reads, in the controller configurations; YAML 1.1
    words in a HelmRelease's or Application's values."""
    found = []
    for config in configs:
        if config.applied:
            found += [(config.file, problem) for problem in _yaml11_values(config)]
        data = config.data
        if data is None:
            continue
        # By lower case: mapstructure folds case, so `Keep-Alive` sets keep-alive.
        taken = {pair.name.lower(): pair.name for pair in data.pairs if pair.name is not None}
        for pair in data.pairs:
            name = pair.name
            if name is None or pair.merged or known_key(name):
                continue
            message = (
                f"unknown key '{name}' in {config.label}: no ingress-nginx release reads it, so the "
                f"controller ignores it{_key_hint(name, taken)}"
            )
            anchor = f"{config.anchor}.{name}"
            found.append((config.file, problem_at(pair.key, message, anchor, SCHEMA_VIOLATION)))
    return found


def _key_hint(name: str, taken: dict[str, str]) -> str:
    """The key an unknown ``name`` may have meant: the one that renders the nginx directive
    it is written as, else the closest spelling; never one set beside it already (``taken``,
    by lower case), which following the hint would duplicate: that one is named as set."""
    directive = name.lower().replace("-", "_")
    if directive in UNRENDERED_DIRECTIVES:
        return f"; no ingress-nginx key renders nginx's {directive} for clients"
    meant = DIRECTIVE_KEYS.get(directive)
    what = f" (nginx's {directive})" if meant is not None else ""
    if meant is None:
        meant = closest(name, sorted(KNOWN_KEYS))
        if meant is None:
            return ""
    if meant in taken:
        return f"; the key it resembles, '{taken[meant]}'{what}, is set here already"
    return f"; did you mean '{meant}'{what}?"


# The chart's flags tlslint reads (``{{ if }}``), below ``controller:``.
_FLAGS = (("autoscaling", "enabled"), ("service", "enabled"), ("service", "enableHttps"),
          ("service", "external", "enabled"), ("service", "internal", "enabled"))  # fmt: skip


def _yaml11_values(config: ControllerConfig) -> list[Problem]:
    """A warning at each plain ``yes``/``off``... that tlslint reads in inline chart values:
    kubectl (YAML 1.1) sends the boolean, but a YAML 1.2 tool such as kustomize keeps the
    string, and Flux applies every manifest through kustomize (its kustomize-controller)."""
    places: list[tuple[str, Scalar]] = []
    data = config.data
    for name, pair in data.effective().items() if data is not None else ():
        if isinstance(pair.value, Scalar):
            places.append((f"config.{name}", pair.value))
    for path in _FLAGS:
        node: Node | None = config.holder
        for part in path:
            node = node.get(part) if isinstance(node, Map) else None
        if isinstance(node, Scalar):
            places.append((".".join(path), node))
    problems = []
    for where, scalar in places:
        boolean = scalar.kube_bool()
        if boolean is None or scalar.raw not in YAML11_ONLY:
            continue
        value = str(boolean).lower()
        message = (
            f"controller.{where} is {scalar.raw} in {config.label.removesuffix(' (controller.config)')}: "
            f'the boolean {value} to kubectl and Helm (YAML 1.1), but the string "{scalar.raw}" once '
            "kustomize (YAML 1.2) has written the manifest, as Flux's kustomize-controller and Argo CD's "
            f"kustomize sources do; write {value}"
        )
        anchor = config.anchor.removesuffix(".config") + f".{where}"
        problem = problem_at(scalar, message, anchor, SCHEMA_VIOLATION)
        problems.append(dataclasses.replace(problem, severity=Severity.WARNING))
    return problems


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
        # As the chart's `{{ if }}` reads Helm's values: `enabled: yes` is true, "false" too.
        enabled = autoscaling.scalar("enabled")
        if enabled is not None and not enabled.placeholder and truthy(enabled):
            most = autoscaling.scalar("maxReplicas")
            most_count = whole_number(most) if most is not None and not most.placeholder else None
            if most is not None and most_count is not None:
                how = f"the {values.origin} autoscale up to maxReplicas: {most.raw}{_as_true(enabled)}"
                return Replicas(most_count, most, how, True)
            return Replicas(
                CHART_AUTOSCALING_MAX, enabled,
                f"the {values.origin} enable autoscaling{_as_true(enabled)} (maxReplicas defaults to "
                f"{CHART_AUTOSCALING_MAX})",
                True,
            )  # fmt: skip
    count = controller.scalar("replicaCount")
    replicas = whole_number(count) if count is not None and not count.placeholder else None
    if count is not None and replicas is not None:
        return Replicas(replicas, count, f"the {values.origin} set controller.replicaCount: {count.raw}")
    return Replicas(CHART_REPLICAS, controller, f"the {values.origin} keep the chart's replicaCount of 1")


def _as_true(enabled: Scalar) -> str:
    """Why a flag that does not read as true is on: the chart's ``{{ if }}`` reads Helm's value."""
    if isinstance(helm_value(enabled), str):
        return (
            f" with enabled: {enabled.written}, a string that is not empty, "
            "which the chart's if takes as true"
        )
    if enabled.kube_bool() is True and enabled.value is not True:
        return f" with enabled: {enabled.raw}, true to Helm, which reads YAML 1.1"
    return ""


def has_nginx_annotation(ingress: KubeObject) -> bool:
    annotations = ingress.annotations()
    if annotations is None:
        return False
    return any((p.name or "").startswith(ANNOTATION_PREFIX) for p in annotations.pairs)
