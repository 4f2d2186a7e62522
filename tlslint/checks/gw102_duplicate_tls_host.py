"""GW102: two TLS servers on one gateway port list the same host (two catch-alls, say).

Facts §2.2 (istio ``pilot/pkg/model/gateway.go``): the TLS servers merged on one
port (and bind) are checked with ``CheckDuplicates`` on their hosts, written as
``namespace/host`` (``*/`` added when none is given); a server that repeats a
host is skipped whole (``skipping server on gateway ..., duplicate host names``),
because Envoy rejects two filter chains with the same match. Gateway API:
two HTTPS/TLS listeners of one Gateway on the same port with the same hostname
(or both without one) are Conflicted (HostnameConflict) and not programmed.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import kubernetes, server_location
from tlslint.checks._yaml_edits import related
from tlslint.findings import Finding
from tlslint.workspace import Workspace
from tlslint.workspace.kubernetes import GATEWAY_API, PortGroup, TlsServer

CODE = "GW102"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for group in ws.port_groups:
        if group.workload.api == GATEWAY_API:
            yield from _conflicted_listeners(ctx, group)
        else:
            yield from _duplicate_hosts(ctx, group)


def _duplicate_hosts(ctx: RuleContext, group: PortGroup) -> Iterator[Finding]:
    known: dict[str, TlsServer] = {}
    for server in sorted(group.servers, key=lambda s: (str(s.gateway.file.path), s.node.start)):
        keys = [k for k in server.host_keys() if "{" not in k and "$" not in k]
        repeated = [k for k in keys if k in known and not _same_object(known[k], server)]
        if not repeated:
            for key in keys:
                known.setdefault(key, server)
            continue
        first = known[repeated[0]]
        hosts = ", ".join(k.removeprefix("*/") for k in repeated)
        catch_all = all(k.rpartition("/")[2] == "*" for k in repeated)
        what = "a second catch-all server" if catch_all else f"a second server for {hosts}"
        which = (
            "the later server of the Gateway, this one"
            if first.gateway is server.gateway
            else "which of the two depends on the order istiod reads the Gateways in"
        )
        yield ctx.finding(
            server_location(server),
            f"{server.label} is {what} on port {group.port} of {group.workload.label}, beside "
            f"{first.label}: Istio keeps one and skips the other whole ({which}; istiod logs 'skipping "
            f"server on gateway ..., duplicate host names: [{hosts}]' and counts it in "
            "pilot_total_rejected_configs), so every host of the skipped server loses its filter chain",
            related=[related(first.hosts_node, f"lists {hosts} first")],
            anchor=f"{server.anchor}.hosts",
        )


def _conflicted_listeners(ctx: RuleContext, group: PortGroup) -> Iterator[Finding]:
    seen: dict[str, TlsServer] = {}
    for listener in group.servers:
        names = listener.sni_names()
        key = names[0].lower() if names else ""
        if key in seen:
            first = seen[key]
            shown = f"the hostname {names[0]}" if names else "no hostname"
            yield ctx.finding(
                server_location(listener),
                f"listeners '{listener.name}' and '{first.name}' of {listener.gateway.label} both take port "
                f"{group.port} with {shown}: the Gateway API calls them Conflicted (HostnameConflict), and a "
                "conflicted listener is not programmed, so its clients get no certificate",
                related=[related(first.node, "the other listener")],
                anchor=f"{listener.anchor}.hostname",
            )
        else:
            seen[key] = listener


def _same_object(a: TlsServer, b: TlsServer) -> bool:
    """One Gateway written twice (an overlay per cluster), not two Gateways."""
    ga, gb = a.gateway, b.gateway
    if ga is gb:
        return False
    return ga.name is not None and ga.name == gb.name and ga.namespace == gb.namespace and a.index == b.index
