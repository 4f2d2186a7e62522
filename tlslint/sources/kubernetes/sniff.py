"""Whether the first bytes of a YAML file are for the Kubernetes gateway tier.

Read by discovery before anything is parsed, so only compiled patterns: no
YAML parser is imported to classify a file. A file is in scope when it holds
an Istio or Gateway API ``Gateway``, ingress-nginx's annotations, controller
ConfigMap or chart values, or another object (Service, Deployment, HPA,
VirtualService, HTTPRoute...) that names Istio, ingress-nginx or the Gateway
API: the objects the tier links gateways with.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePath

from tlslint.sources.kubernetes.ingress_nginx import OWN_KEYS
from tlslint.sources.text import yaml_lines

_GATEWAY_API = re.compile(
    rb"apiVersion[ \t]*:[ \t]*[\"']?(?:networking\.istio\.io|gateway\.networking\.k8s\.io)/"
)
_NGINX_ANNOTATION = re.compile(rb"nginx\.ingress\.kubernetes\.io/")
_CONFIG_MAP = re.compile(rb"kind[ \t]*:[ \t]*[\"']?ConfigMap\b")
_INGRESS_NGINX = re.compile(rb"ingress-nginx|nginx-configuration|nginx-ingress-controller")
_CONTROLLER_KEY = re.compile(rb"^controller[ \t]*:", re.M)
_CHART_TOP = re.compile(rb"^ingress-nginx[ \t]*:", re.M)  # a parent chart's values for it
_NESTED_CONTROLLER = re.compile(rb"^[ \t]+controller[ \t]*:", re.M)
_CHART_KEY = re.compile(rb"^[ \t]+(?:ingressClassResource|admissionWebhooks|electionID)[ \t]*:", re.M)
# A ConfigMap key only ingress-nginx has, in block or flow style (documents._own_config).
_OWN_KEY = re.compile(
    rb"(?:^|[\s{,])[\"']?(?:"
    + b"|".join(re.escape(key.encode()) for key in sorted(OWN_KEYS))
    + rb")[\"']?[ \t]*:",
    re.M,
)
_RELEASE = re.compile(rb"kind[ \t]*:[ \t]*[\"']?(?:HelmRelease|Application)\b")
_CHART_NAME = re.compile(rb"chart[ \t]*:[ \t]*[\"']?ingress-nginx\b")
_CONTEXT_KIND = re.compile(
    rb"kind[ \t]*:[ \t]*[\"']?(?:Service|Deployment|DaemonSet|HorizontalPodAutoscaler|Ingress)[\"']?"
    rb"[ \t]*(?:#[^\n]*)?\r?$",
    re.M,
)
_CONTEXT_NAME = re.compile(rb"istio|ingress-nginx|gateway\.networking\.k8s\.io")


def sniff_kubernetes(head: bytes, path: PurePath | None = None) -> bool:
    head = yaml_lines(head.removeprefix(b"\xef\xbb\xbf"))  # a UTF-8 BOM; CR line endings
    if _GATEWAY_API.search(head):
        return True  # a Gateway, or a VirtualService / HTTPRoute beside one
    if _NGINX_ANNOTATION.search(head):
        return True
    if _CONFIG_MAP.search(head) and _INGRESS_NGINX.search(head):
        return True
    if _CHART_TOP.search(head):
        return True
    if _CONTROLLER_KEY.search(head) and (
        _CHART_KEY.search(head) or _OWN_KEY.search(head) or _named_for_chart(head, path)
    ):
        return True
    if _RELEASE.search(head) and _CHART_NAME.search(head):
        return True
    if path is not None and _NESTED_CONTROLLER.search(head) and _under_alias(head, path):
        return True
    return _CONTEXT_KIND.search(head) is not None and _CONTEXT_NAME.search(head) is not None


def _under_alias(head: bytes, path: PurePath) -> bool:
    """A parent chart's values under the alias its Chart.yaml gives ingress-nginx."""
    from tlslint.sources.kubernetes.parent_chart import aliases

    return any(
        re.search(rb"^" + re.escape(alias.encode()) + rb"[ \t]*:", head, re.M) is not None
        for alias in aliases(Path(path.parent))
    )


def _named_for_chart(head: bytes, path: PurePath | None) -> bool:
    named = path is not None and any(p in path.as_posix().lower() for p in ("ingress-nginx", "nginx-ingress"))
    return named or _INGRESS_NGINX.search(head) is not None
