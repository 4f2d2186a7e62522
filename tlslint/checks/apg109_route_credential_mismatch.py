"""APG109: the non-SNI route's credentialName is not the secret its hosts use (inferred)."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, location, related, route_label
from tlslint.findings import Finding
from tlslint.sources.apigee.documents import RouteObject
from tlslint.sources.apigee.tree import Map, Scalar, Seq
from tlslint.workspace import Workspace

CODE = "APG109"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    non_sni = {id(route) for route in ws.non_sni_routes()}
    for host in ws.hosts:
        if not host.credential:
            continue
        for name in sorted(host.listed_names() or ()):
            for route in ws.routes_named(name):
                if id(route) not in non_sni:
                    continue
                credential = credential_name(route)
                if credential is None or credential.placeholder or credential.name_placeholder():
                    continue
                if credential.value == host.credential:
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


def credential_name(route: RouteObject) -> Scalar | None:
    """tls.credentialName of the route's first port 443."""
    spec = route.spec
    ports = spec.get("ports") if spec is not None else None
    if not isinstance(ports, Seq):
        return None
    for port in ports.items:
        if not isinstance(port, Map):
            continue
        number = port.scalar("number")
        if number is None or (number.value != 443 and not number.placeholder):
            continue
        tls = port.get("tls")
        if isinstance(tls, Map):
            return tls.scalar("credentialName")
    return None
