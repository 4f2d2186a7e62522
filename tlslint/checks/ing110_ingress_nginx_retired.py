"""ING110: ingress-nginx is retired; said once a run, at its first file.

Facts §1.4 (kubernetes.io blog, 2025-11-11; the project README): maintenance
ended in March 2026, with no further releases, bug fixes or security fixes;
existing deployments keep working; SIG Network and the Security Response
Committee recommend migrating to Gateway API or another Ingress controller.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import kubernetes
from tlslint.checks._yaml_edits import location
from tlslint.findings import Finding
from tlslint.paths import resolved
from tlslint.workspace import Workspace

CODE = "ING110"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    roots = ws.ingress_nginx_roots()
    if not roots:
        return
    # By resolved path: the fixer's re-checks read an edited file under its resolved path,
    # the first run under the path given, and the notice must stay where it was.
    first = min(roots, key=lambda node: (str(resolved(node.source.path)), node.start))
    yield ctx.finding(
        location(first),
        "ingress-nginx was retired in March 2026: no further releases, bug fixes or security fixes "
        "(kubernetes.io, 2025-11-11), though existing installations keep working. Kubernetes SIG Network "
        "recommends migrating to Gateway API (Istio, Envoy Gateway, NGINX Gateway Fabric...) or another "
        "Ingress controller; tlslint's GW rules check Istio and Gateway API gateways",
        anchor="ingress-nginx > retired",
    )
