"""ING103: ``ssl-session-cache: "false"`` drops ``ssl-session-timeout`` too.

Facts §1.2 (``nginx.tmpl`` L461-464): both ``ssl_session_cache`` and
``ssl_session_timeout`` are rendered only when ``ssl-session-cache`` is true;
with it false nginx's own defaults apply (no cache, a 5-minute timeout for
tickets), and the configured timeout is silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import config_location, kubernetes
from tlslint.checks._yaml_edits import pair_location
from tlslint.findings import Finding, Related
from tlslint.workspace import Workspace
from tlslint.workspace.ingress_nginx import ControllerConfig

CODE = "ING103"


def applies(config: ControllerConfig) -> bool:
    """Whether ssl-session-timeout is written while ssl-session-cache, written, is false."""
    return (
        config.pair("ssl-session-cache") is not None
        and config.text("ssl-session-timeout") is not None
        and config.bool_value("ssl-session-cache") is False
    )


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for config in ws.controller_configs:
        cache = config.pair("ssl-session-cache")
        timeout = config.text("ssl-session-timeout")
        if cache is None or timeout is None or not applies(config):
            continue
        yield ctx.finding(
            config_location(config, "ssl-session-timeout"),
            f"ssl-session-timeout: {timeout!r} in {config.label} has no effect: ssl-session-cache is false, "
            "and the controller's template writes ssl_session_timeout only together with the session "
            "cache, so nginx keeps its own defaults: no session cache (no resumption by session ID) and a "
            "5-minute session lifetime",
            related=[Related(pair_location(cache), "turns the session cache and its timeout off")],
            anchor=f"{config.anchor}.ssl-session-timeout",
        )
