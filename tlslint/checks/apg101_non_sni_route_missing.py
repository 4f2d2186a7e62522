"""APG101: non-SNI clients are wanted, and no wildcard ApigeeRoute serves a host's gateways.

A wildcard route serves the ingress gateways its selector picks (``app``, and
``ingress_name`` where set), and a host can list only a route that serves its own
gateways (APG107). Hosts on different ingress gateways (``ingress_name: ing1`` and
``ing2``) therefore need one route each: every gateway is its own Envoy, which can
hold one match-all chain on port 443, so one wildcard route per gateway is no
duplicate (APG106 groups routes by selector). The fix writes one route per distinct
selector, each in its own file; a host without ``ingress_name`` is served by every
gateway of its ``app``, so one route without ``ingress_name`` covers that app.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from tlslint.checks import RuleContext
from tlslint.checks._apigee import (
    Serving,
    among_checked,
    host_location,
    installations,
    new_file_path,
    quoted,
    route_label,
    route_location,
    route_namespace,
    selectors_overlap,
)
from tlslint.findings import Edit, Finding, Fix, Related
from tlslint.sources.apigee.documents import RouteObject
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import DEFAULT_APP, ApigeeWorkspace, Host, route_selector, selector_values

CODE = "APG101"
ROUTE_NAME = "non-sni"
FILE_SUFFIX = "-route.yaml"  # non-sni-route.yaml, non-sni-ing2-route.yaml


@dataclass
class _Group:
    """Hosts that no non-SNI route serves, and the selector of the route that would."""

    selector: dict[str, str]  # app, and ingress_name where the hosts set one
    hosts: list[Host] = field(default_factory=list)

    def gateways(self) -> str:
        ingress = self.selector.get("ingress_name")
        if ingress is not None:
            return f"ingress gateway '{ingress}'"
        return f"the ingress gateways with app '{self.selector['app']}'"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for ws in installations(workspace):
        yield from _check(ctx, ws)


def _check(ctx: RuleContext, ws: ApigeeWorkspace) -> Iterator[Finding]:
    if not ws.hosts:
        return
    want = ws.want()
    if want is None:
        return
    if not ws.routes_scanned and any(h.gateway_entries() for h in ws.hosts):
        return  # the named route may exist elsewhere: APG100 says so
    existing = ws.non_sni_routes()
    groups = _uncovered(ws, existing)
    if not groups:
        return
    # A wildcard route on plain HTTP only (Apigee's http-client component) is there: say
    # what it lacks, never that no such route exists.
    plain = ws.plain_non_sni_routes()
    related = tuple(Related(route_location(r, "ports"), "serves plain HTTP only: no TLS port") for r in plain)
    # One missing route, as ever: the old wording and anchor. Several, or some other
    # gateway already served: each finding names the gateways it is about.
    alone = len(groups) == 1 and not existing
    taken = {str(r.name.value) for r in ws.routes if r.name is not None}
    bases: set[str] = set()
    for group in groups:
        base = ROUTE_NAME if alone else _base_name(group, bases)
        bases.add(base)
        name = base if base not in taken else f"{base}-wildcard"
        taken.add(name)
        fix, note = _fix(ws, group, name, base + FILE_SUFFIX)
        missing = _missing(group, existing, plain, alone, among_checked(ws))
        yield ctx.finding(
            host_location(group.hosts[0]),
            f"{want.reason}, but {missing}: a client that sends no SNI matches no filter chain on the "
            "ingress gateway and its connection is reset",
            severity=want.severity,
            fix=fix,
            fix_note=note,
            anchor="apigee > non-sni-route" if alone else f"apigee > non-sni-route[{_key(group.selector)}]",
            related=related,
        )


def _missing(
    group: _Group, existing: list[RouteObject], plain: list[RouteObject], alone: bool, among: str
) -> str:
    """What is missing: no route at all, or none for these hosts' gateways."""
    lacking = ""
    if plain:
        shown = ", ".join(route_label(r) for r in plain)
        lacking = f"{shown} {'serves' if len(plain) == 1 else 'serve'} plain HTTP only"
    if alone:
        if lacking:
            return f"no ApigeeRoute for clients without SNI serves TLS: {lacking}"
        return f'no ApigeeRoute with hostnames ["*"] and enableNonSniClient: true is {among}'
    first, more = group.hosts[0].label, len(group.hosts) - 1
    users = f"{first} uses" if not more else f"{first} and {more} more host{'s' if more > 1 else ''} use"
    others = ""
    if existing:
        served = ", ".join(route_label(r) for r in existing)
        others = f"; {served} {'does' if len(existing) == 1 else 'do'} not serve them"
    return (
        f'no ApigeeRoute with hostnames ["*"] and enableNonSniClient: true serves {group.gateways()}, '
        f"which {users}{others}{'; ' + lacking if lacking else ''}"
    )


def _uncovered(ws: ApigeeWorkspace, existing: list[RouteObject]) -> list[_Group]:
    """The hosts no non-SNI route serves, by the selector of the route that would serve them.

    A host that lists a non-SNI route is left to the rules about that route (APG107 when
    it serves other gateways). A host without ``ingress_name`` is served by every gateway
    of its app, so its route takes no ``ingress_name`` and serves the app's other hosts too
    (a second route on those gateways would be APG106's duplicate)."""
    serving = Serving(ws, existing)
    names = {str(r.name.value) for r in existing if r.name is not None}
    hosts = [h for h in ws.hosts if not (h.listed_names() or set()) & names and not serving.of(h)]
    keyed = [(_selector(h), h) for h in hosts]
    every = {s["app"] for s, _ in keyed if "ingress_name" not in s}
    groups: dict[tuple[tuple[str, str], ...], _Group] = {}
    for selector, host in keyed:
        if selector["app"] in every:
            selector = {"app": selector["app"]}
        groups.setdefault(_key(selector), _Group(selector)).hosts.append(host)
    return list(groups.values())


def _selector(host: Host) -> dict[str, str]:
    """The selector of the route that serves ``host``: its app and ingress_name (a templated
    label is left out; no app is the default one)."""
    values = selector_values(host.selector)
    selector = {k: v for k, v in values.items() if v is not None and k in ("app", "ingress_name")}
    selector.setdefault("app", DEFAULT_APP)
    return dict(sorted(selector.items()))


def _key(selector: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(selector.items()))


def _base_name(group: _Group, used: set[str]) -> str:
    """non-sni-<ingress_name> (or -<app>), a Kubernetes name, distinct from ``used``."""
    label = group.selector.get("ingress_name") or group.selector["app"]
    suffix = re.sub(r"[^a-z0-9.-]+", "-", label.lower()).strip("-.") or "gateway"
    base = f"{ROUTE_NAME}-{suffix}"[:240].rstrip("-.")
    name, count = base, 2
    while name in used:
        name, count = f"{base}-{count}", count + 1
    return name


def _fix(ws: ApigeeWorkspace, group: _Group, name: str, file_name: str) -> tuple[Fix | None, str]:
    host = group.hosts[0]
    if not host.credential:
        return None, (
            f"no fix: the credential name is unknown ({host.label} has no sslSecret; with "
            "sslCertPath set apigee.org so that '<org>-<envgroup>' can be used)"
        )
    claimed = _claimed(ws, group.selector)
    if claimed is not None:
        return None, (
            f"no fix: {route_label(claimed)} has the wildcard hostname and a selector that may pick these "
            "gateways, so a second route would be a duplicate (APG106); correct that route so that it "
            f"serves {group.gateways()}"
        )
    path = new_file_path(ws, host.file.path, file_name)
    if path.exists() or path in ws.pending:
        # Never a second copy: the file is there, but this run did not read it.
        return None, f"no fix: {path} exists but is not among the checked files; check it too"
    text = manifest(name, ws.namespace, host.credential, group.selector)
    return Fix(f"create {path.name}: the ApigeeRoute '{name}' for clients without SNI",
               (Edit(path, 0, 0, text),), safe=False), ""  # fmt: skip


def _claimed(ws: ApigeeWorkspace, selector: dict[str, str]) -> RouteObject | None:
    """A wildcard route in the namespace that may pick the same gateways (APG106's test)."""
    wanted: dict[str, str | None] = dict(selector)
    for route in ws.wildcard_routes():
        namespace = route_namespace(route, ws.namespace)
        if namespace is not None and namespace != ws.namespace:
            continue
        if selectors_overlap(wanted, selector_values(route_selector(route))):
            return route
    return None


def manifest(name: str, namespace: str, credential: str, selector: dict[str, str]) -> str:
    def value(text: str) -> str:
        return quoted(text, default=None)

    lines = [
        "# The wildcard route that serves TLS clients sending no SNI (tlslint APG101).",
        "# kubectl apply -f this file, then apply the virtual hosts again.",
        "apiVersion: apigee.cloud.google.com/v1alpha1",
        "kind: ApigeeRoute",
        "metadata:",
        f"  name: {value(name)}",
        f"  namespace: {value(namespace)}",
        "spec:",
        "  hostnames:",
        '  - "*"',
        "  ports:",
        "  - number: 443",
        "    protocol: HTTPS",
        "    tls:",
        f"      credentialName: {value(credential)}",
        "      mode: SIMPLE",
        "  selector:",
        *(f"    {key}: {value(v)}" for key, v in selector.items()),
        "  enableNonSniClient: true",
    ]
    return "\n".join(lines) + "\n"
