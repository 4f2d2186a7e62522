"""APG100: hosts name routes, but no ApigeeRoute manifest was checked (once per run)."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import among_checked, installations, location
from tlslint.findings import Finding
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import ApigeeWorkspace

CODE = "APG100"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for ws in installations(workspace):
        yield from _check(ctx, ws)


def _check(ctx: RuleContext, ws: ApigeeWorkspace) -> Iterator[Finding]:
    if ws.routes_scanned:
        return
    for host in ws.hosts:
        named = [entry for entry in host.gateway_entries() or [] if not entry.placeholder]
        if not named:
            continue
        names = ", ".join(f"'{entry.raw}'" for entry in named)
        yield ctx.finding(
            location(named[0]),
            f"{host.label} lists {names} in additionalGateways, but no ApigeeRoute manifest is "
            f"{among_checked(ws)}, so the route checks were not run (does the route exist, is it a "
            "wildcard with enableNonSniClient: true, does it match this host); add the directory "
            "that holds the route manifests to the paths checked",
            anchor=f"{host.anchor}.additionalGateways",
        )
        return  # once: the same holds for every host
