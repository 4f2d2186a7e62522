"""ING107: ``ssl-reject-handshake: "true"`` rejects every client that sends no SNI.

Facts §1.3: the key puts ``ssl_reject_handshake on`` in the catch-all
``server_name _`` block, the default server on 443, so a handshake with no SNI
(or an unknown one) is aborted (alert 112, unrecognized_name; verified with
nginx 1.22.1). Without it such clients get the default certificate and are
routed by their Host header.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import config_location, kubernetes, set_config
from tlslint.findings import Finding, Fix, Severity
from tlslint.workspace import Workspace
from tlslint.workspace.ingress_nginx import ControllerConfig
from tlslint.workspace.policy import FORBIDDEN, REQUIRED

CODE = "ING107"
KEY = "ssl-reject-handshake"


def applies(config: ControllerConfig) -> bool:
    """Whether ssl-reject-handshake is written and true (the rule is off under a forbidden policy)."""
    return config.pair(KEY) is not None and config.bool_value(KEY) is True


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None or ws.policy == FORBIDDEN:
        return
    for config in ws.controller_configs:
        if not applies(config):
            continue
        required = ws.policy == REQUIRED
        why = f'{ws.policy_origin} = "required", but ' if required else ""
        edit = set_config(config, KEY, "false") if required else None
        fix = Fix(f'set {KEY}: "false"', (edit,), safe=False) if edit is not None else None
        yield ctx.finding(
            config_location(config, KEY),
            f"{why}{KEY} is true in {config.label}: the controller's default server aborts every handshake "
            "without SNI (and with an unknown name) with TLS alert 112 unrecognized_name, so clients that "
            "send no SNI (a load balancer's HTTPS health check, a script connecting by IP address) cannot "
            "connect",
            severity=Severity.ERROR if required else Severity.INFO,
            fix=fix,
            anchor=f"{config.anchor}.{KEY}",
        )
