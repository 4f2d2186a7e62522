"""GW101: every TLS server on a gateway port lists concrete hosts, so a ClientHello
without SNI matches no filter chain and Envoy closes the connection.

Facts §2.1-2.2: Istio turns each TLS server's hosts into the ``server_names`` of
a filter chain; ``*`` (or ``ns/*``) gives a chain without them, which matches a
ClientHello without SNI. Gateways get no ``default_filter_chain``, so without
such a chain the connection is closed (``NR``, ``filter_chain_not_found``).
A Gateway API listener without ``hostname`` becomes such a server.

The fix (unsafe: it changes which certificate clients without SNI get) adds a
catch-all server, or listener, with the credential named in
``kubernetes.catch-all-credential``.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import kubernetes, names_shown, server_location
from tlslint.checks._yaml_edits import append_block_item, append_item, related
from tlslint.findings import Finding, Fix
from tlslint.sources.apigee.tree import Map, Scalar, Seq
from tlslint.workspace import Workspace
from tlslint.workspace.kubernetes import GATEWAY_API, KubernetesWorkspace, PortGroup, TlsServer

CODE = "GW101"
NAME = "https-catch-all"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for group in ws.port_groups:
        terminating = group.terminating
        if not terminating or not group.decidable or group.catch_alls():
            continue
        want = ws.want(group.workload)
        if want is None:
            continue
        first = terminating[0]
        names = sorted({n for s in group.servers for n in s.sni_names()})
        if first.api == GATEWAY_API:
            what = (
                f"every TLS listener on port {group.port} of {first.gateway.label} has a hostname "
                f"({names_shown(names)}), and a listener's hostname is matched against the SNI"
            )
            outcome = "matches no listener; with Istio, Envoy closes the connection during the handshake"
        else:
            what = (
                f"every TLS server on port {group.port} of {group.workload.label} lists concrete hosts "
                f"({names_shown(names)})"
            )
            outcome = "matches no filter chain, and Envoy closes the connection during the handshake"
        fix, note = _fix(ws, group, first)
        yield ctx.finding(
            server_location(first),
            f"{want.reason}, but {what}: a client that sends no SNI (a load balancer's health check or "
            f"backend connection, an old client, a script connecting by IP address) {outcome} "
            "(access log flag NR, filter_chain_not_found)",
            severity=want.severity,
            fix=fix,
            fix_note=note,
            related=[related(s.hosts_node, "also lists concrete hosts") for s in group.servers[1:4]],
            anchor=f"{first.gateway.anchor}.port[{group.port}] > catch-all",
        )


def _fix(ws: KubernetesWorkspace, group: PortGroup, first: TlsServer) -> tuple[Fix | None, str]:
    credential = ws.catch_all_credential
    if not credential:
        return None, (
            "no fix: name the TLS Secret for clients without SNI in kubernetes.catch-all-credential "
            "(its certificate is what they get)"
        )
    spec = first.gateway.spec
    key = "listeners" if first.api == GATEWAY_API else "servers"
    items = spec.get(key) if spec is not None else None
    if not isinstance(items, Seq):
        return None, ""
    name = _free_name(first, items)
    if first.api == GATEWAY_API:
        protocol_node = first.node.scalar("protocol")
        protocol = protocol_node.text if protocol_node is not None and protocol_node.text else "HTTPS"
        lines = [f"name: {name}", f"port: {group.port}", f"protocol: {protocol}", *_allowed_routes(first)]
        lines += ["tls:", "  mode: Terminate", "  certificateRefs:", f"  - name: {credential}"]
        flow = (
            f"{{name: {name}, port: {group.port}, protocol: {protocol}, "
            f"tls: {{mode: Terminate, certificateRefs: [{{name: {credential}}}]}}}}"
        )
        what = f"add the listener '{name}' without a hostname on port {group.port}"
    else:
        bind = [f"bind: {first.bind}"] if first.bind else []
        lines = ["port:", f"  number: {group.port}", f"  name: {name}", "  protocol: HTTPS", *bind]
        lines += ["hosts:", '- "*"', "tls:", "  mode: SIMPLE", f"  credentialName: {credential}"]
        bind_flow = f", bind: {first.bind}" if first.bind else ""
        flow = (
            f'{{port: {{number: {group.port}, name: {name}, protocol: HTTPS}}{bind_flow}, hosts: ["*"], '
            f"tls: {{mode: SIMPLE, credentialName: {credential}}}}}"
        )
        what = f'add a server with hosts ["*"] on port {group.port}'
    edit = append_item(items, flow) if items.flow else append_block_item(items, lines)
    if edit is None:
        return None, f"no fix: {first.gateway.label}'s {key} cannot be extended in place; {what} by hand"
    return Fix(f"{what} (credential {credential}) to {first.gateway.label}", (edit,), safe=False), ""


def _free_name(first: TlsServer, items: Seq) -> str:
    taken = set()
    for item in items.items:
        if not isinstance(item, Map):
            continue
        port = item.get("port")
        for node in (item.scalar("name"), port.scalar("name") if isinstance(port, Map) else None):
            if isinstance(node, Scalar) and node.text:
                taken.add(node.text)
    name, number = NAME, 2
    while name in taken:
        name, number = f"{NAME}-{number}", number + 1
    return name


def _allowed_routes(listener: TlsServer) -> list[str]:
    """The listener's ``allowedRoutes.namespaces.from``, when that is all it says."""
    allowed = listener.node.get("allowedRoutes")
    namespaces = allowed.get("namespaces") if isinstance(allowed, Map) else None
    origin = namespaces.scalar("from") if isinstance(namespaces, Map) else None
    if not isinstance(allowed, Map) or len(allowed.pairs) != 1 or not isinstance(namespaces, Map):
        return []
    if len(namespaces.pairs) != 1 or origin is None or origin.text not in ("All", "Same"):
        return []
    return ["allowedRoutes:", "  namespaces:", f"    from: {origin.text}"]
