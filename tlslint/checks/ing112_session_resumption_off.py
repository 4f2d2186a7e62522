"""ING112: ``ssl-session-cache: "false"`` with ``ssl-session-tickets`` off: no session resumes.

Facts §1.2: with ``ssl-session-cache`` false the template writes neither
``ssl_session_cache`` nor ``ssl_session_timeout``, so nginx runs with its default
``ssl_session_cache none`` (no session is stored); ``ssl-session-tickets`` is off by
default since controller v0.40.0, and a ticket key is then unused. No pod resumes any
session, on any replica count: sticky balancing cannot help (ING111 says nothing then).
It is NGX101's error case (no cache, no tickets: 0/5 resumed on TLS 1.2 and 1.3), as the
controller writes it.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import config_location, kubernetes, tickets_off_why
from tlslint.findings import Finding, Related
from tlslint.workspace import Workspace
from tlslint.workspace.ingress_nginx import ControllerConfig

CODE = "ING112"


def no_resumption(config: ControllerConfig) -> bool:
    """Whether the controller's nginx resumes no TLS session: no cache, no tickets."""
    return (
        config.bool_value("ssl-session-cache") is False and config.bool_value("ssl-session-tickets") is False
    )


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for config in ws.controller_configs:
        if not no_resumption(config):
            continue
        tickets = _tickets_off(config)
        key = config.scalar("ssl-session-ticket-key")
        unused = ", so its ssl-session-ticket-key is unused" if key is not None and key.raw else ""
        yield ctx.finding(
            config_location(config, "ssl-session-cache"),
            f"ssl-session-cache is false in {config.label} and {tickets}{unused}: the controller writes no "
            "ssl_session_cache, so nginx keeps its default (none) and stores no session, and it issues no "
            "tickets: no TLS session is ever resumed, on any pod, and every connection pays a full "
            "handshake, however soon its client returns",
            related=[Related(config_location(config, "ssl-session-tickets"), _tickets_note(config))],
            anchor=f"{config.anchor}.ssl-session-cache",
        )


def _tickets_off(config: ControllerConfig) -> str:
    return f"ssl-session-tickets is off{tickets_off_why(config)}"


def _tickets_note(config: ControllerConfig) -> str:
    if config.pair("ssl-session-tickets") is not None:
        return "ssl-session-tickets: no tickets either"
    return f"the TLS settings of {config.label}: no ssl-session-tickets, so no tickets"
