"""APG107: a listed route selects other ingress gateways than its host."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import installations, related, route_label, route_location, selector_problems
from tlslint.findings import Finding
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import ApigeeWorkspace, route_selector, selector_values

CODE = "APG107"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for ws in installations(workspace):
        yield from _check(ctx, ws)


def _check(ctx: RuleContext, ws: ApigeeWorkspace) -> Iterator[Finding]:
    for host in ws.hosts:
        for name in sorted(host.listed_names() or ()):
            for route in ws.routes_named(name):
                problems = selector_problems(ws, host, selector_values(route_selector(route)))
                if not problems:
                    continue
                yield ctx.finding(
                    route_location(route, "selector"),
                    f"{route_label(route)} does not serve the gateways of {host.label}, which lists it: "
                    + "; ".join(problems),
                    related=[related(host.where, f"{host.label} lists '{name}'")],
                    anchor=f"{route.anchor}.spec.selector[{host.anchor}]",
                )
