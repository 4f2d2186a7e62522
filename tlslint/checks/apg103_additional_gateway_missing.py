"""APG103: a host does not list the wildcard route in ``additionalGateways``."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, append_item, host_location, quoted, set_list
from tlslint.findings import Edit, Finding, Fix
from tlslint.sources.apigee.documents import RouteObject
from tlslint.sources.apigee.tree import Scalar, Seq
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import ApigeeWorkspace, Host, plain_only

CODE = "APG103"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    want = ws.want()
    if want is None:
        return
    non_sni = {str(r.name.value) for r in ws.non_sni_routes() if r.name is not None and r.name.text}
    route = _route_to_add(ws)
    for host in ws.hosts:
        listed = host.listed_names()
        if listed is None or listed & non_sni:
            continue  # templated, or already linked
        if listed and not ws.routes_scanned:
            continue  # the listed route may be the wildcard one: APG100 says so
        name = str(route.name.value) if route is not None and route.name is not None else None
        edit = _edit(host, name) if name else None
        if name is None:
            note = "no fix until a wildcard route exists (APG101 creates one with --unsafe-fixes)"
        else:
            note = "" if edit else "no fix: additionalGateways is shared through an alias or oddly written"
        what = f"the wildcard route '{name}'" if name else "a wildcard route that speaks TLS"
        plain = sorted(n for n in listed if any(plain_only(r) for r in ws.routes_named(n)))
        # A listed HTTP-only route is no non-SNI route: say so, not that nothing is listed.
        serve = "serves" if len(plain) == 1 else "serve"
        lists = (
            f" (it lists {', '.join(repr(n) for n in plain)}, which {serve} plain HTTP only)" if plain else ""
        )
        yield ctx.finding(
            host_location(host),
            f"{host.label} does not list {what} in additionalGateways{lists} ({want.reason}): the "
            "route gives the gateway a certificate to send when a ClientHello has no SNI, but only for "
            "the hosts that list it",
            severity=want.severity,
            # Unsafe: clients without SNI can then connect to this host (docs/fix-safety.md).
            fix=Fix(f"add '{name}' to additionalGateways", (edit,), safe=False) if edit is not None else None,
            fix_note=note,
            anchor=f"{host.anchor}.additionalGateways",
        )


def _route_to_add(ws: ApigeeWorkspace) -> RouteObject | None:
    """The wildcard route other hosts already list, else the first one."""
    routes = [r for r in ws.wildcard_routes() if r.name is not None and r.name.text]
    listed = set()
    for host in ws.hosts:
        listed |= host.listed_names() or set()
    for route in routes:
        if route.name is not None and route.name.value in listed:
            return route
    return routes[0] if routes else None


def _edit(host: Host, name: str) -> Edit | None:
    gateways = host.gateways
    if isinstance(gateways, Seq):
        like = [item for item in gateways.items if isinstance(item, Scalar)]
        return append_item(gateways, quoted(name, like))
    return set_list(host.node, "additionalGateways", [quoted(name)])
