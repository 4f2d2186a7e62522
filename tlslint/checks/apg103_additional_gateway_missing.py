"""APG103: a host does not list the wildcard route in ``additionalGateways``."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import (
    Serving,
    append_item,
    credential_conflict,
    credential_name,
    host_location,
    installations,
    quoted,
    route_label,
    selector_problems,
    set_list,
)
from tlslint.findings import Edit, Finding, Fix
from tlslint.sources.apigee.documents import RouteObject
from tlslint.sources.apigee.tree import Scalar, Seq
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import ApigeeWorkspace, Host, plain_only, route_selector, selector_values

CODE = "APG103"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for ws in installations(workspace):
        yield from _check(ctx, ws)


def _check(ctx: RuleContext, ws: ApigeeWorkspace) -> Iterator[Finding]:
    want = ws.want()
    if want is None:
        return
    non_sni = {str(r.name.value) for r in ws.non_sni_routes() if r.name is not None and r.name.text}
    routes = [r for r in ws.wildcard_routes() if r.name is not None and r.name.text]
    serving = Serving(ws, routes)
    everyone = _listed(ws)
    credentials = {id(r): credential_name(r) for r in routes}  # read once, not per host
    chosen: dict[tuple[int, str | None], RouteObject | None] = {}  # per serving list and secret
    secrets: dict[int, Buckets] = {}
    for host in ws.hosts:
        listed = host.listed_names()
        if listed is None or listed & non_sni:
            continue  # templated, or already linked
        if listed and not ws.routes_scanned:
            continue  # the listed route may be the wildcard one: APG100 says so
        route, note = _route_to_add(
            ws, host, routes, serving.of(host), everyone, credentials, chosen, secrets
        )
        name = str(route.name.value) if route is not None and route.name is not None else None
        edit = _edit(host, name) if name and not note else None
        if name is not None and not note and edit is None:
            note = "no fix: additionalGateways is shared through an alias or oddly written"
        if name:
            what = f"the wildcard route '{name}'"
        else:
            what = (
                "a wildcard route that serves its ingress gateways"
                if routes
                else "a wildcard route that speaks TLS"
            )
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


def _listed(ws: ApigeeWorkspace) -> set[str]:
    listed: set[str] = set()
    for host in ws.hosts:
        listed |= host.listed_names() or set()
    return listed


def _route_to_add(
    ws: ApigeeWorkspace,
    host: Host,
    routes: list[RouteObject],
    serving: list[RouteObject],
    listed: set[str],
    credentials: dict[int, Scalar | None],
    chosen: dict[tuple[int, str | None], RouteObject | None],
    secrets: dict[int, Buckets],
) -> tuple[RouteObject | None, str]:
    """The wildcard route to list, and why it is not listed (a note) when that would not work.

    Only a route that serves the host's gateways (APG107) and sends the host's certificate
    (APG109) is linked: among those, the one other hosts already list, else the first
    (chosen once for each list of serving routes and secret: hosts share both)."""
    if not routes:
        return None, "no fix until a wildcard route exists (APG101 creates one with --unsafe-fixes)"
    if not serving:
        problems = selector_problems(ws, host, selector_values(route_selector(routes[0])))
        return None, (
            f"no fix: no wildcard route serves the gateways of {host.label} ({route_label(routes[0])}: "
            f"{problems[0]}), and listing one would not reach them (APG107); APG101 creates a route "
            "for them with --unsafe-fixes"
        )
    key = (id(serving), host.credential)
    if key not in chosen:
        chosen[key] = _choose(host, serving, listed, credentials, secrets)
    found = chosen[key]
    if found is None:
        route = serving[0]
        credential = credential_conflict(route, host, credentials.get(id(route)))
        assert credential is not None
        return route, (
            f"no fix: {route_label(route)} sends the certificate of secret '{credential.raw}' to clients "
            f"without SNI, and {host.label} uses '{host.credential}': one route has one certificate for "
            "every host that lists it (APG109), and a gateway takes one wildcard route (APG106): every "
            "host it serves must share that key/cert pair"
        )
    return found, ""


# For one list of serving routes: by the secret each sends (_UNKNOWN: not known, which no
# host's secret conflicts with; _ALL: every route), the first route and the first that
# other hosts list; and each route's place in the list.
_ALL, _UNKNOWN = object(), object()
Buckets = tuple[dict[object, tuple[RouteObject, RouteObject | None]], dict[int, int]]


def _choose(
    host: Host,
    serving: list[RouteObject],
    listed: set[str],
    credentials: dict[int, Scalar | None],
    secrets: dict[int, Buckets],
) -> RouteObject | None:
    """Of ``serving``, the route that sends ``host``'s certificate (APG109) that other hosts
    list, else the first that sends it; None when none does. Decided from buckets built
    once per list (hosts share their gateways' list, and each has its own secret)."""
    if id(serving) not in secrets:
        secrets[id(serving)] = _buckets(serving, listed, credentials)
    buckets, position = secrets[id(serving)]
    if not host.credential:
        first, first_listed = buckets[_ALL]
        return first_listed or first
    found = [bucket for bucket in (buckets.get(host.credential), buckets.get(_UNKNOWN)) if bucket is not None]
    if not found:
        return None
    listed_ones = [bucket[1] for bucket in found if bucket[1] is not None]
    if listed_ones:
        return min(listed_ones, key=lambda route: position[id(route)])
    return min((bucket[0] for bucket in found), key=lambda route: position[id(route)])


def _buckets(serving: list[RouteObject], listed: set[str], credentials: dict[int, Scalar | None]) -> Buckets:
    buckets: dict[object, tuple[RouteObject, RouteObject | None]] = {}
    for route in serving:
        credential = credentials.get(id(route))
        definite = credential is not None and not credential.placeholder and not credential.name_placeholder()
        is_listed = route.name is not None and route.name.value in listed
        # The value as credential_conflict compares it with the host's secret.
        for key in (_ALL, credential.value if definite and credential is not None else _UNKNOWN):
            first, first_listed = buckets.get(key, (route, None))
            buckets[key] = (first, first_listed or (route if is_listed else None))
    return buckets, {id(route): place for place, route in enumerate(serving)}


def _edit(host: Host, name: str) -> Edit | None:
    gateways = host.gateways
    if isinstance(gateways, Seq):
        like = [item for item in gateways.items if isinstance(item, Scalar)]
        return append_item(gateways, quoted(name, like))
    return set_list(host.node, "additionalGateways", [quoted(name)])
