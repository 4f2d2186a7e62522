"""GW103: a route sends a host through a gateway whose TLS port only has ``*.host``.

Facts §2.2 (Envoy ``FilterChainMatch.server_names``): ``*.example.com`` matches
names below example.com, never example.com itself, and never a ClientHello
without SNI; the Gateway API's hostname matching is the same (a wildcard
matches one or more labels in front of the suffix). So the clients of the
apex host get no filter chain (Istio) or no listener (Gateway API).
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import kubernetes
from tlslint.checks._yaml_edits import location, related
from tlslint.findings import Finding
from tlslint.workspace import Workspace
from tlslint.workspace.kubernetes import GATEWAY_API, Coverage, TlsServer

CODE = "GW103"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for group in ws.port_groups:
        servers = group.terminating
        if not servers or not group.decidable or group.catch_alls():
            continue
        covered = Coverage(n for s in group.servers for n in s.sni_names())
        holders: dict[str, TlsServer] = {}  # the first server listing each name
        for server in group.servers:
            for n in server.sni_names():
                holders.setdefault(n, server)
        reported: set[str] = set()
        for host, route in ws.routed_hosts(group):
            name = str(host.text)
            if name.startswith("*") or name.lower() in reported or covered(name):
                continue
            wildcard = f"*.{name}"
            holder = holders.get(wildcard)
            if holder is None:
                continue
            reported.add(name.lower())
            node = next(h for h in holder.hosts if str(h.text).rpartition("/")[2] == wildcard)
            kind = "listener" if group.workload.api == GATEWAY_API else "server"
            if group.workload.api == GATEWAY_API:
                outcome = (
                    f"the route's hostname does not match the listener, so the route is not attached to "
                    f"it, and a TLS client asking for {name} matches no listener"
                )
            else:
                outcome = (
                    f"a client asking for {name} (SNI {name}) matches no filter chain and Envoy closes "
                    "the connection during the handshake, as it does for a client that sends no SNI"
                )
            yield ctx.finding(
                location(node),
                f"{route.label} routes {name} through {holder.gateway.label}, but no TLS {kind} on port "
                f"{group.port} lists {name}: the nearest, {wildcard}, matches names below {name}, not "
                f"{name} itself: {outcome}",
                related=[related(host, f"routes {name} here")],
                anchor=f"{holder.anchor} > {name}",
            )
