"""APG108: a non-SNI route has no port 443 with HTTPS, mode SIMPLE/MUTUAL and a credential."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import installations, route_label, route_location
from tlslint.findings import Finding
from tlslint.sources.apigee.documents import RouteObject
from tlslint.sources.apigee.tree import Map, Node, Scalar, Seq
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import ApigeeWorkspace, plain_only

CODE = "APG108"
MODES = ("SIMPLE", "MUTUAL")


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for ws in installations(workspace):
        yield from _check(ctx, ws)


def _check(ctx: RuleContext, ws: ApigeeWorkspace) -> Iterator[Finding]:
    routes = list(ws.non_sni_routes())
    seen = {id(route) for route in routes}  # by identity: 10,000 hosts may list routes
    for host in ws.hosts:
        for name in sorted(host.listed_names() or ()):
            # A listed HTTP-only route serves the host to plain-HTTP clients: no TLS to check.
            for route in ws.routes_named(name):
                if id(route) not in seen and not plain_only(route):
                    seen.add(id(route))
                    routes.append(route)
    for route in routes:
        problem = port_problem(route)
        if problem is None:
            continue
        yield ctx.finding(
            route_location(route, "ports"),
            f"{route_label(route)} {problem}: the gateway has no certificate to send on 443 for "
            "this route (needed: a port 443, protocol HTTPS, tls.mode SIMPLE or MUTUAL, tls.credentialName)",
            anchor=f"{route.anchor}.spec.ports",
        )


def _is(node: Node | None, *wanted: object) -> bool | None:
    """True/False for a value; None for a placeholder (counts as fine)."""
    if not isinstance(node, Scalar):
        return False
    if node.placeholder:
        return None
    return node.value in wanted


def port_problem(route: RouteObject) -> str | None:
    spec = route.spec
    ports = spec.get("ports") if spec is not None else None
    if isinstance(ports, Scalar) and ports.placeholder:
        return None
    if not isinstance(ports, Seq) or not ports.items:
        return "has no ports"
    candidates = [p for p in ports.items if isinstance(p, Map) and _is(p.get("number"), 443) is not False]
    if not candidates:
        # number: "443" is a string, which the API server refuses for the integer (APG201 too).
        if any(isinstance(p, Map) and _is(p.get("number"), "443") for p in ports.items):
            return 'has its port 443 written as the string "443", where the number is needed'
        return "has no port 443"
    first = ""
    for port in candidates:
        missing = []
        if _is(port.get("protocol"), "HTTPS") is False:
            missing.append("protocol is not HTTPS")
        tls = port.get("tls")
        if isinstance(tls, Scalar) and tls.placeholder:
            tls_ok = True
        elif not isinstance(tls, Map):
            missing.append("it has no tls")
            tls_ok = False
        else:
            tls_ok = True
            if _is(tls.get("mode"), *MODES) is False:
                missing.append("tls.mode is not SIMPLE or MUTUAL")
            credential = tls.get("credentialName")
            if not isinstance(credential, Scalar) or credential.value in (None, ""):
                missing.append("tls.credentialName is missing")
        if not missing and tls_ok:
            return None
        first = first or "; ".join(missing)
    return f"has port 443, but {first}"
