"""The Kubernetes objects and Helm values of one YAML text, with their positions.

``load_source`` reads a file; ``load_documents`` takes documents already
parsed (from a file, or from a rendered build: every node keeps the offsets
of its own source), so that any producer of YAML documents can feed the tier.

An object is kept when its kind is one tlslint reads (``KINDS``); Helm values
are kept when they are the ingress-nginx chart's: a top-level ``controller:``
with the chart's own keys, the same under an ``ingress-nginx:`` key (a chart
that depends on it), or a Flux ``HelmRelease`` / Argo CD ``Application`` of
the chart (``spec.values`` / ``spec.source.helm.valuesObject``, or its ``values: |``
string).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from tlslint.sources.apigee.tree import Map, Node, Pair, Scalar, Seq
from tlslint.sources.kubernetes.ingress_nginx import OWN_KEYS
from tlslint.sources.kubernetes.parent_chart import CHART, values_keys
from tlslint.sources.manifests import (
    LoadCodes,
    Problem,
    duplicate_problems,
    objects_of,
    read_documents,
)
from tlslint.sources.nginx.model import SourceText

TEMPLATE_SKIPPED = "GW001"
SCHEMA_VIOLATION = "GW002"
DUPLICATE_KEY = "GW003"
CODES = LoadCodes(TEMPLATE_SKIPPED, SCHEMA_VIOLATION, DUPLICATE_KEY)

ISTIO_API = "networking.istio.io/"
GATEWAY_API = "gateway.networking.k8s.io/"
ISTIO_GATEWAY, GATEWAY_API_GATEWAY = "istio Gateway", "Gateway API Gateway"
KINDS = frozenset(
    {
        "Gateway", "ConfigMap", "Ingress", "Service", "Deployment", "DaemonSet",
        "HorizontalPodAutoscaler", "VirtualService", "HTTPRoute", "HelmRelease", "Application",
        "EnvoyFilter",
    }
)  # fmt: skip
# Keys of the `controller:` of F5's NGINX Ingress Controller chart, which ingress-nginx's lacks.
_F5_CONTROLLER_KEYS = frozenset({"nginxplus", "appprotect", "appprotectdos", "nginxReloadTimeout"})
# Keys of the chart's `controller:` that no other chart's controller has together.
_CHART_CONTROLLER_KEYS = frozenset(
    {"ingressClassResource", "admissionWebhooks", "electionID", "allowSnippetAnnotations",
     "ingressClassByName", "watchIngressWithoutClass", "enableAnnotationValidations",
     "publishService", "addHeaders", "proxySetHeaders"}
)  # fmt: skip


@dataclass(eq=False)
class KubeObject:
    """One object of a manifest (or of a ``kind: List``)."""

    file: KubeFile
    node: Map

    @property
    def kind(self) -> str:
        kind = self.node.scalar("kind")
        return kind.text or "" if kind is not None else ""

    @property
    def api_version(self) -> str:
        api = self.node.scalar("apiVersion")
        return api.text or "" if api is not None else ""

    @property
    def metadata(self) -> Map | None:
        node = self.node.get("metadata")
        return node if isinstance(node, Map) else None

    def meta(self, key: str) -> Scalar | None:
        return self.metadata.scalar(key) if self.metadata is not None else None

    @property
    def name(self) -> str | None:
        name = self.meta("name")
        return name.text if name is not None and not name.name_placeholder() else None

    @property
    def namespace(self) -> str | None:
        """The namespace written in the object; None when absent or templated."""
        namespace = self.meta("namespace")
        return namespace.text if namespace is not None and not namespace.name_placeholder() else None

    def labels(self) -> dict[str, str | None]:
        return string_map(self.metadata.get("labels") if self.metadata is not None else None)

    def annotations(self) -> Map | None:
        node = self.metadata.get("annotations") if self.metadata is not None else None
        return node if isinstance(node, Map) else None

    @property
    def spec(self) -> Map | None:
        node = self.node.get("spec")
        return node if isinstance(node, Map) else None

    @property
    def label(self) -> str:
        name = self.meta("name")
        shown = name.raw if name is not None else "?"
        kind = self.kind
        if kind == "Gateway":
            kind = ISTIO_GATEWAY if self.is_istio_gateway else GATEWAY_API_GATEWAY
        return f"{kind} '{shown}'"

    @property
    def anchor(self) -> str:
        name = self.meta("name")
        namespace = self.meta("namespace")
        prefix = f"{namespace.raw}/" if namespace is not None else ""
        return f"{self.kind}[{prefix}{name.raw if name is not None else '?'}]"

    @property
    def is_istio_gateway(self) -> bool:
        return self.kind == "Gateway" and self.api_version.startswith(ISTIO_API)

    @property
    def is_gateway_api_gateway(self) -> bool:
        return self.kind == "Gateway" and self.api_version.startswith(GATEWAY_API)


@dataclass(eq=False)
class HelmValues:
    """The values of an ingress-nginx chart release: ``root`` holds ``controller:``."""

    file: KubeFile
    root: Map
    origin: str  # how they were found, for messages: "values", "HelmRelease 'x' values"...
    anchor: str
    applied: bool = False  # inline in a manifest (HelmRelease, Application) that is applied as one
    # controller.config keys an Argo CD Application's helm.parameters set (over the
    # values, as `helm --set`): key -> (the parameter's name, its value).
    config_overrides: dict[str, Pair] = field(default_factory=dict)

    @property
    def controller(self) -> Map | None:
        node = self.root.get("controller")
        return node if isinstance(node, Map) else None


@dataclass(eq=False)
class KubeFile:
    source: SourceText
    documents: list[Node] = field(default_factory=list)
    objects: list[KubeObject] = field(default_factory=list)
    values: list[HelmValues] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    template: bool = False  # a Helm template YAML cannot read: not checked

    @property
    def path(self) -> Path:
        return self.source.path


def load_source(source: SourceText, validate_schemas: bool = True) -> KubeFile:
    read = read_documents(source, CODES)
    loaded = load_documents(source, read.documents, validate_schemas)
    loaded.problems[:0] = read.problems
    loaded.template = read.template
    return loaded


def load_documents(source: SourceText, documents: list[Node], validate_schemas: bool = True) -> KubeFile:
    loaded = KubeFile(source, documents)
    for document in documents:
        if not isinstance(document, Map):
            continue
        values = _chart_values(loaded, document, source.path)
        if values is not None:
            loaded.values.append(values)
        for item in objects_of(document):
            obj = KubeObject(loaded, item)
            if obj.kind in KINDS:
                loaded.objects.append(obj)
                released = _released_values(loaded, obj)
                if released is not None:
                    loaded.values.append(released)
    roots: list[Node] = [*(o.node for o in loaded.objects), *(v.root for v in loaded.values)]
    loaded.problems.extend(duplicate_problems(roots, DUPLICATE_KEY))
    if validate_schemas:
        from tlslint.sources.kubernetes.schema import validate_file

        loaded.problems.extend(validate_file(loaded))
    return loaded


def string_map(node: Node | None) -> dict[str, str | None]:
    """A mapping of labels or selectors; a templated or non-string value is None (unknown)."""
    if not isinstance(node, Map):
        return {}
    values: dict[str, str | None] = {}
    for name, pair in node.effective().items():
        value = pair.value
        values[name] = value.text if isinstance(value, Scalar) else None
    return values


def _chart_values(file: KubeFile, document: Map, path: Path) -> HelmValues | None:
    """The chart's values: top-level, or under the ``ingress-nginx:`` key of a parent
    chart (or the alias its Chart.yaml gives the dependency)."""
    if document.get("kind") is not None and document.get("apiVersion") is not None:
        return None  # a manifest, not values
    for key in values_keys(path):
        nested = document.get(key)
        if isinstance(nested, Map) and isinstance(nested.get("controller"), Map):
            alias = f", under its alias `{key}`" if key != CHART else ""
            return HelmValues(file, nested, f"{CHART} values of a parent chart{alias}", f"values.{key}")
    controller = document.get("controller")
    if not isinstance(controller, Map):
        return None
    named = any(part in path.as_posix().lower() for part in (CHART, "nginx-ingress"))
    if _f5_chart(controller):
        return None
    if (
        named
        or _CHART_CONTROLLER_KEYS & controller.effective().keys()
        or _chart_image(controller)
        or _own_config(controller)
    ):
        return HelmValues(file, document, f"{CHART} chart values", "values")
    return None


def _own_config(controller: Map) -> bool:
    """A ``config:`` that sets a ConfigMap key only ingress-nginx has: the minimal values
    file (``controller: {config: {...}, service: {...}}``) names the chart nowhere else."""
    config = controller.get("config")
    return isinstance(config, Map) and not OWN_KEYS.isdisjoint(config.effective().keys())


def _f5_chart(controller: Map) -> bool:
    """F5's NGINX Ingress Controller chart (``nginx-ingress``, another project with other
    ConfigMap keys): its own keys, ``config.entries``, or its image."""
    if _F5_CONTROLLER_KEYS & controller.effective().keys():
        return True
    config = controller.get("config")
    if isinstance(config, Map) and config.get("entries") is not None:
        return True
    image = controller.get("image")
    repository = image.scalar("repository") if isinstance(image, Map) else None
    name = (repository.text or "") if repository is not None else ""
    return name.rpartition("/")[2] in ("nginx-ingress", "nginx-plus-ingress")


def _chart_image(controller: Map) -> bool:
    image = controller.get("image")
    name = image.scalar("image") if isinstance(image, Map) else None
    return name is not None and CHART in (name.text or "")


def _released_values(file: KubeFile, obj: KubeObject) -> HelmValues | None:
    """A Flux HelmRelease's or an Argo CD Application's inline values of the chart."""
    spec = obj.spec
    if spec is None:
        return None
    values: Node | None = None
    overrides: dict[str, Pair] = {}
    if obj.kind == "HelmRelease":
        chart = spec.get("chart")
        chart_spec = chart.get("spec") if isinstance(chart, Map) else None
        name = chart_spec.scalar("chart") if isinstance(chart_spec, Map) else None
        if name is not None and name.text == CHART:
            values = spec.get("values")
    elif obj.kind == "Application":
        for source in _sources(spec):
            chart = source.scalar("chart")
            helm = source.get("helm")
            if chart is not None and chart.text == CHART and isinstance(helm, Map):
                # Argo CD takes valuesObject, else the values string (never both merged).
                values = helm.get("valuesObject")
                if values is None:
                    values = values_string(file.source, helm.get("values"))
                overrides = _config_parameters(helm.get("parameters"))
                break
    if not isinstance(values, Map):
        return None
    return HelmValues(
        file, values, f"{obj.label} values", f"{obj.anchor}.values", applied=True, config_overrides=overrides
    )


_UNESCAPED_DOT = re.compile(r"(?<!\\)\.")


def _config_parameters(node: Node | None) -> dict[str, Pair]:
    """``parameters: [{name: controller.config.keep-alive, value: "75"}]``: Argo CD passes
    each as ``helm --set``, over valuesObject and values (its order of precedence), so
    the key is the parameter's value; ``\\.`` is a dot inside a key, as in --set."""
    found: dict[str, Pair] = {}
    if not isinstance(node, Seq):
        return found
    for item in node.items:
        if not isinstance(item, Map):
            continue
        name, value = item.scalar("name"), item.get("value")
        if name is None or name.text is None or value is None:
            continue
        parts = [part.replace("\\.", ".") for part in _UNESCAPED_DOT.split(name.text)]
        if len(parts) == 3 and parts[:2] == ["controller", "config"]:
            found[parts[2]] = Pair(name, value)
    return found


_NOT_A_LINE_BREAK = re.compile(r"[^\r\n]+")


def values_string(source: SourceText, node: Node | None) -> Node | None:
    """An Application's ``values: |`` block, read as the YAML it holds, each node at its
    own place in the file: the rest of the file is blanked out, not cut away, so that
    offsets, lines and columns (and a fix's edits) are the file's. Other styles (folded,
    quoted, plain) move text around when YAML unfolds them, and are not read."""
    if not isinstance(node, Scalar) or node.style != "|":
        return None
    text = source.text
    first = text.find("\n", node.start, node.end) + 1
    if first <= 0:
        return None
    blank = _NOT_A_LINE_BREAK.sub
    blanked = blank(lambda m: " " * len(m.group()), text[:first]) + text[first : node.end]
    blanked += blank(lambda m: " " * len(m.group()), text[node.end :])
    from tlslint.sources.apigee.tree import YamlError, parse

    try:
        documents = parse(SourceText(source.path, blanked, source.bom, source.newline))
    except YamlError:
        return None  # Argo CD refuses it when it renders: nothing of it is applied
    return documents[0] if len(documents) == 1 else None


def _sources(spec: Map) -> list[Map]:
    single = spec.get("source")
    several = spec.get("sources")
    found = [single] if isinstance(single, Map) else []
    if isinstance(several, Seq):
        found += [item for item in several.items if isinstance(item, Map)]
    return found
