"""APG204: an environment-group or ingress-gateway name the chart refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, location
from tlslint.findings import Finding
from tlslint.sources.apigee.tree import Scalar
from tlslint.workspace import Workspace

CODE = "APG204"
ENV_GROUP = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")
ENV_GROUP_MAX = 253
INGRESS = re.compile(r"[a-z0-9.-]+")
INGRESS_MAX = 17


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    for host in ws.virtual_hosts:
        name = host.name
        problem = _problem(name, ENV_GROUP, ENV_GROUP_MAX)
        if name is not None and problem:
            yield ctx.finding(
                location(name),
                f"virtual host name '{name.raw}' {problem}: an environment-group name has at most "
                f"{ENV_GROUP_MAX} characters, lower-case letters, digits or '-', and a letter or "
                "digit at both ends",
                anchor=f"{host.anchor}.name",
            )
    for gateway in ws.ingress_gateways:
        name = gateway.name
        problem = _problem(name, INGRESS, INGRESS_MAX)
        if name is not None and problem:
            yield ctx.finding(
                location(name),
                f"ingress gateway name '{name.raw}' {problem}: it has at most {INGRESS_MAX} "
                "characters, lower-case letters, digits, '-' or '.'",
                anchor=f"ingressGateways[{name.raw}].name",
            )


def _problem(name: Scalar | None, pattern: re.Pattern[str], limit: int) -> str:
    if name is None or name.value is None or name.name_placeholder():
        return ""
    text = name.raw
    if len(text) > limit:
        return f"is {len(text)} characters long"
    if pattern.fullmatch(text) is None:
        return "has characters or ends that are not allowed"
    return ""
