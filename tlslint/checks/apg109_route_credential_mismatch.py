"""APG109: the non-SNI route's credentialName is not the secret its hosts use (inferred)."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import credential_conflict, installations, location, related, route_label
from tlslint.findings import Finding
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import ApigeeWorkspace

CODE = "APG109"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for ws in installations(workspace):
        yield from _check(ctx, ws)


def _check(ctx: RuleContext, ws: ApigeeWorkspace) -> Iterator[Finding]:
    non_sni = {id(route) for route in ws.non_sni_routes()}
    for host in ws.hosts:
        if not host.credential:
            continue
        for name in sorted(host.listed_names() or ()):
            for route in ws.routes_named(name):
                if id(route) not in non_sni:
                    continue
                credential = credential_conflict(route, host)
                if credential is None:
                    continue
                yield ctx.finding(
                    location(credential),
                    f"{route_label(route)} sends the certificate of secret '{credential.raw}' to clients "
                    f"without SNI, but {host.label} uses '{host.credential}' ({host.credential_origin}); "
                    "one route has one certificate for every host behind it, so these clients get a "
                    "certificate that may not name this host (a rule inferred from the public install "
                    "scripts, not stated in Google's docs)",
                    related=[related(host.where, f"{host.label} lists '{name}'")],
                    anchor=f"{route.anchor}.credentialName[{host.anchor}]",
                )
