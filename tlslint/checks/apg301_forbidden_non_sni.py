"""APG301: policy ``forbidden``, and a wildcard route or ``enableNonSniClient: true`` exists."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, route_label, route_location
from tlslint.findings import Finding
from tlslint.sources.apigee.documents import ROUTE
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import FORBIDDEN, enables_non_sni, is_wildcard, plain_only

CODE = "APG301"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None or ws.policy != FORBIDDEN:
        return
    for obj in [*ws.routes, *ws.route_configs]:
        wildcard = obj.kind == ROUTE and is_wildcard(obj) and not plain_only(obj)
        enabled = enables_non_sni(obj) is True
        if not (wildcard or enabled):
            continue
        label = (
            route_label(obj)
            if obj.kind == ROUTE
            else f"ApigeeRouteConfig '{obj.name.raw if obj.name else '?'}'"
        )
        what = "has the wildcard hostname" if wildcard else "sets enableNonSniClient: true"
        yield ctx.finding(
            route_location(obj, "hostnames" if wildcard else "enableNonSniClient"),
            f'{label} {what}, but {ws.policy_origin} = "forbidden": clients without SNI would be '
            "served a certificate; remove the route (and its name from additionalGateways) or "
            "change the policy",
            anchor=f"{obj.anchor}.spec",
        )
