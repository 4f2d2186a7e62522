"""EnvoyFilters that give a gateway's pods one session-ticket key: GW104's way out.

Istio's Gateway and the Gateway API have no ticket-key field, so a team that wants
resumption across gateway pods patches the DownstreamTlsContext of the gateway's filter
chains with an EnvoyFilter (``session_ticket_keys``, or
``session_ticket_keys_sds_secret_config``). An EnvoyFilter applies to the pods whose
labels carry its ``workloadSelector`` labels, or to the Gateway API Gateways its
``targetRefs`` name; with neither, to every workload of its namespace (of the whole mesh
in the root namespace, istio-system by default). A patch for the sidecars only
(``context: SIDECAR_INBOUND`` / ``SIDECAR_OUTBOUND``) does not reach a gateway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlslint.sources.apigee.tree import Map, Node, Seq, walk
from tlslint.sources.kubernetes.documents import ISTIO_API, KubeObject, string_map

if TYPE_CHECKING:
    from tlslint.workspace.kubernetes import Workload

ROOT_NAMESPACE = "istio-system"
GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name"
_TICKET_KEYS = frozenset(
    {"session_ticket_keys", "sessionTicketKeys", "session_ticket_keys_sds_secret_config",
     "sessionTicketKeysSdsSecretConfig"}
)  # fmt: skip
_SIDECAR_CONTEXTS = frozenset({"SIDECAR_INBOUND", "SIDECAR_OUTBOUND"})


def shared_ticket_keys(filters: list[KubeObject], workload: Workload) -> KubeObject | None:
    """The first EnvoyFilter that sets session-ticket keys on the workload's gateway pods."""
    for envoy_filter in filters:
        spec = envoy_filter.spec
        if spec is None or not envoy_filter.api_version.startswith(ISTIO_API):
            continue
        if _applies(envoy_filter, spec, workload) and _sets_ticket_keys(spec):
            return envoy_filter
    return None


def _applies(envoy_filter: KubeObject, spec: Map, workload: Workload) -> bool:
    selector = spec.get("workloadSelector")
    labels = string_map(selector.get("labels") if isinstance(selector, Map) else None)
    single = spec.get("targetRef")
    refs = [*_maps(spec.get("targetRefs")), *([single] if isinstance(single, Map) else [])]
    if workload.gateway is not None:  # a Gateway API Gateway: the pods Istio deploys for it
        name = workload.gateway.name
        if any(_text(r, "kind") == "Gateway" and _text(r, "name") == name for r in refs):
            return True
        pod_labels = {GATEWAY_NAME_LABEL: name}
    else:
        pod_labels = dict(workload.selector)
    if labels:
        return all(pod_labels.get(key) == value for key, value in labels.items())
    if refs:
        return False
    namespaces = {g.namespace for g in workload.gateways}
    return envoy_filter.namespace in {ROOT_NAMESPACE, *namespaces}


def _sets_ticket_keys(spec: Map) -> bool:
    for patch in _maps(spec.get("configPatches")):
        match = patch.get("match")
        context = _text(match, "context") if isinstance(match, Map) else None
        if context in _SIDECAR_CONTEXTS:
            continue
        body = patch.get("patch")
        value = body.get("value") if isinstance(body, Map) else None
        if value is None:
            continue
        for node in walk([value]):
            if isinstance(node, Map) and any(name in _TICKET_KEYS for name in node.effective()):
                return True
    return False


def _maps(node: Node | None) -> list[Map]:
    return [item for item in node.items if isinstance(item, Map)] if isinstance(node, Seq) else []


def _text(node: Map, key: str) -> str | None:
    scalar = node.scalar(key)
    return scalar.text if scalar is not None else None
