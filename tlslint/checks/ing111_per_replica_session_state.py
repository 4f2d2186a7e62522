"""ING111: ingress-nginx runs several controller pods, each with its own TLS session state.

Facts §1.2, §1.5 (#8563), §2.5: without ``ssl-session-ticket-key`` each pod
encrypts tickets with its own keys (rotated per pod since nginx 1.23.2), and
session IDs live in each pod's ``shared:SSL`` cache; with ``ssl-session-tickets``
off (the default since v0.40.0) only the per-pod cache is left, and with
``ssl-session-cache: "false"`` as well nothing is (ING112, not this rule). A client
resumes only on the pod it came from; behind a load balancer that spreads
connections, most reconnects pay a full handshake.

A Service in front of the pods with ``sessionAffinity: ClientIP`` is that sticky
balancing (``tlslint.workspace.session_affinity``): nothing is said when every one
keeps clients inside the cluster, where kube-proxy on the client's own node picks
the pod; one a load balancer reaches (LoadBalancer, NodePort, externalIPs) keeps a
client on its pod only while the balancer picks the same node, which the files do
not tell, so that is said at info.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import config_location, kubernetes, tickets_off_why
from tlslint.checks._yaml_edits import location
from tlslint.findings import Finding, Related, Severity
from tlslint.workspace import Workspace
from tlslint.workspace.ingress_nginx import ControllerConfig
from tlslint.workspace.session_affinity import Front, sticky_fronts

CODE = "ING111"


def applies(config: ControllerConfig) -> bool:
    """Whether several pods each keep TLS session state of their own (what the Services in
    front of them make of it aside)."""
    if not any(r.several for r in config.replicas):
        return False
    tickets = config.bool_value("ssl-session-tickets")
    written = config.scalar("ssl-session-ticket-key")
    key = written is not None and (written.placeholder or bool(config.text("ssl-session-ticket-key")))
    if tickets is None or (tickets and key):
        return False  # templated, or one ticket key shared by every pod
    # No cache and no tickets: no pod resumes anything, so there is no per-pod state for
    # sticky balancing to reach (ING112 says so), or the cache is templated.
    return bool(tickets or config.bool_value("ssl-session-cache"))


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for config in ws.controller_configs:
        if not applies(config):
            continue
        sizes = [r for r in config.replicas if r.several]
        tickets = config.bool_value("ssl-session-tickets")
        written = config.scalar("ssl-session-ticket-key")
        key = written is not None and (written.placeholder or bool(config.text("ssl-session-ticket-key")))
        size = max(sizes, key=lambda r: r.count or 1_000_000)
        if tickets:
            state = (
                "ssl-session-tickets is on without ssl-session-ticket-key, so each pod encrypts tickets with "
                "its own keys"
            )
        elif key:
            state = (
                "ssl-session-ticket-key is set but ssl-session-tickets is off, so the key is unused and "
                "sessions live in each pod's own session cache"
            )
        else:
            off = tickets_off_why(config)
            state = f"ssl-session-tickets is off{off}, so sessions live in each pod's own session cache"
        related = [Related(config_location(config, "ssl-session-tickets"), _settings_note(config))]
        sticky = sticky_fronts(config.fronts)
        if sticky is None:
            advice = (
                "behind a load balancer that spreads connections most reconnects pay a full handshake. Make "
                "the load balancer sticky by client address, or"
            )
            severity = None
        else:
            exposed = [f for f in sticky if f.exposure is not None]
            if not exposed:
                continue  # kube-proxy on each client's node keeps it on one pod
            front = exposed[0]
            assert front.sticky is not None
            related.append(Related(location(front.sticky), f"{front.label}: sessionAffinity: ClientIP"))
            advice = _affinity_advice(front)
            severity = Severity.INFO
        yield ctx.finding(
            location(size.where),
            f"the ingress-nginx controller runs {size.shown} ({size.how}), and {state}: a client resumes its "
            f"TLS session only on the pod it came from, and {advice} turn ssl-session-tickets on with one "
            "ssl-session-ticket-key (48 or 80 random bytes, base64) for every pod, and rotate it yourself "
            "(the controller never does, and the key sits in the ConfigMap)",
            severity=severity,
            related=related,
            anchor=f"{config.anchor} > session-state",
        )


def _affinity_advice(front: Front) -> str:
    """What the sticky Service does and what still moves a client to another pod."""
    if front.local:
        node = "with externalTrafficPolicy: Local each node sends only to its own controller pods"
    else:
        node = "kube-proxy keeps that affinity on each node apart"
    return (
        f"sessionAffinity: ClientIP is already set by {front.label}, but with {front.exposure} a load "
        f"balancer or node ports pick the node, and {node}: a client sent to another node reaches another "
        "pod and pays a full handshake. Make the load balancer itself keep each client address on one "
        "node (some cloud providers carry sessionAffinity over to the load balancer they create, others "
        "ignore it), or"
    )


def _settings_note(config: ControllerConfig) -> str:
    """What the related location shows: the configuration, or (none written) where it would be."""
    if config.data is not None:
        return f"the TLS settings of {config.label}"
    return f"{config.label}: no {config.key}, so every key keeps its default"
