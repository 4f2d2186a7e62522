"""APG104: ``additionalGateways`` names a route that no checked manifest defines."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, location
from tlslint.findings import Finding
from tlslint.workspace import Workspace

CODE = "APG104"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None or not ws.routes_scanned:
        return  # nothing to resolve against: APG100
    known = ws.route_names()
    for host in ws.hosts:
        for entry in host.gateway_entries() or []:
            if entry.placeholder or entry.name_placeholder():
                continue
            name = str(entry.value)
            if ws.routes_named(name):
                continue
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = (
                f"; did you mean '{close[0]}'?"
                if close
                else (f" (routes found: {', '.join(known)})" if known else "")
            )
            yield ctx.finding(
                location(entry),
                f"{host.label} lists '{name}' in additionalGateways, but no checked ApigeeRoute is "
                f"named so{hint}; the host is added to no route, and clients without SNI are reset",
                anchor=f"{host.anchor}.additionalGateways[{name}]",
            )
