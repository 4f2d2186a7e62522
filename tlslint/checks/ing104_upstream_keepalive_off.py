"""ING104: ``upstream-keepalive-connections: "0"`` closes every connection to the pods.

Facts §1.2 (``nginx.tmpl`` L379-388, L534-535): 0 omits the ``keepalive`` block
of the shared ``upstream_balancer`` and maps an empty ``Upgrade`` to
``Connection: close``, so every request opens a new connection (and, with
``backend-protocol: HTTPS``, a new TLS handshake) to the backend pod.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import config_location, kubernetes, set_config
from tlslint.findings import Finding, Fix
from tlslint.sources.kubernetes.ingress_nginx import INT_KEYS, decode_int
from tlslint.workspace import Workspace
from tlslint.workspace.ingress_nginx import ControllerConfig

CODE = "ING104"
KEY = "upstream-keepalive-connections"


def applies(config: ControllerConfig) -> bool:
    """Whether upstream-keepalive-connections decodes as 0."""
    text = config.text(KEY)
    return text is not None and decode_int(text) == 0


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for config in ws.controller_configs:
        if not applies(config):
            continue
        default = str(INT_KEYS[KEY])
        edit = set_config(config, KEY, default)
        fix = Fix(f'set {KEY}: "{default}" (the default)', (edit,), safe=False) if edit else None
        yield ctx.finding(
            config_location(config, KEY),
            f"{KEY} is 0 in {config.label}: the controller drops the keepalive of its one upstream "
            "(upstream_balancer) and sends 'Connection: close' to the backends, so every request opens a new "
            "connection to a pod (and a new TLS handshake with backend-protocol HTTPS)",
            fix=fix,
            anchor=f"{config.anchor}.{KEY}",
        )
