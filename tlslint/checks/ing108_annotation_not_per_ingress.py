"""ING108: an ``nginx.ingress.kubernetes.io/`` annotation that ingress-nginx does not have.

Facts §1.2 and §1.5: client keep-alive, upstream keep-alive, session and
protocol settings are global ConfigMap keys with no annotation (#2441, #838,
#11472 asked for them); ``proxy-connection-header`` is a misspelling of
``connection-proxy-header`` (#12286). The controller ignores such annotations
without a word.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import kubernetes
from tlslint.checks._yaml_edits import pair_location
from tlslint.findings import Finding
from tlslint.sources.kubernetes.ingress_nginx import (
    ANNOTATION_PREFIX,
    ANNOTATIONS,
    CONFIGMAP_ONLY,
    READ_ANNOTATIONS,
)
from tlslint.sources.manifests import did_you_mean
from tlslint.workspace import Workspace

CODE = "ING108"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for ingress in ws.nginx_ingresses:
        for pair in ingress.annotations():
            name = str(pair.name).removeprefix(ANNOTATION_PREFIX)
            if name in ANNOTATIONS:
                continue
            if name in CONFIGMAP_ONLY:
                message = (
                    f"{ANNOTATION_PREFIX}{name} on {ingress.obj.label} is not an ingress-nginx annotation: "
                    f"{name} is a ConfigMap key only, global to the controller, so this annotation is "
                    "ignored; set it in the controller's ConfigMap (controller.config in the chart values)"
                )
            else:
                hint = did_you_mean(name, READ_ANNOTATIONS)
                if not hint:
                    continue
                message = (
                    f"{ANNOTATION_PREFIX}{name} on {ingress.obj.label} is not an ingress-nginx annotation, "
                    f"so it is ignored{hint}"
                )
            yield ctx.finding(pair_location(pair), message, anchor=f"{ingress.obj.anchor}.annotations.{name}")
