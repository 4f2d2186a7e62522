"""GW104: a gateway that terminates TLS runs several replicas, each with its own
session-ticket key, so a client resumes only when it comes back to the same pod.

Facts §2.5: Istio's Gateway has no session-ticket field and pilot sets none, so
Envoy's default applies: tickets encrypted with "an internally-generated and
managed key, with the implication that sessions cannot be resumed across hot
restarts or on different hosts" (DownstreamTlsContext). Behind a load balancer
that spreads connections over N pods, about (N-1)/N of the reconnects land on a
pod that cannot decrypt the ticket and pay a full handshake.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import kubernetes, tls_location
from tlslint.checks._yaml_edits import related
from tlslint.findings import Finding
from tlslint.sources.kubernetes.documents import KubeObject
from tlslint.workspace import Workspace

CODE = "GW104"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    seen: set[int] = set()
    for group in ws.port_groups:
        terminating = group.terminating
        workload = group.workload
        if not terminating or id(workload) in seen:
            continue
        seen.add(id(workload))
        if workload.gateway is not None and "istio" not in _class_name(workload.gateway):
            continue  # other implementations keep tickets their own way
        sizes = [r for r in ws.replicas(workload) if r.several]
        if not sizes:
            continue
        size = max(sizes, key=lambda r: r.count or 1_000_000)
        first = terminating[0]
        no_field = "neither Istio's Gateway nor the Gateway API has a ticket-key field"
        spread = (
            "with connections spread evenly, most reconnects land on another pod"
            if size.count is None
            else f"with connections spread evenly, about {size.count - 1} in {size.count} reconnects land on "
            "another pod"
        )
        yield ctx.finding(
            tls_location(first),
            f"TLS is terminated on {size.shown} of {workload.label} ({size.how}), and each pod's Envoy "
            f"encrypts session tickets with a key it generated itself ({no_field}): a client resumes its "
            f"session only on the pod that issued the ticket; {spread} and pay "
            "a full handshake. Make the load balancer in front sticky by client address, or give every "
            "pod one ticket key (an EnvoyFilter setting session_ticket_keys on the DownstreamTlsContext, "
            "from a Secret you rotate)",
            related=[related(size.where, size.how)],
            anchor=f"{first.anchor}.tls > session-tickets",
        )


def _class_name(gateway: KubeObject) -> str:
    spec = gateway.spec
    name = spec.scalar("gatewayClassName") if spec is not None else None
    return name.text or "" if name is not None else ""
