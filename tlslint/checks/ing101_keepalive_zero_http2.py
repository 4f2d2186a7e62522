"""ING101: ``keep-alive: "0"`` while HTTP/2 is on.

Facts §1.2: ``keep-alive`` renders ``keepalive_timeout <n>s``; 0 turns client
keep-alive off and, since nginx 1.19.7 (which ties HTTP/2 connections to
keepalive_timeout), breaks concurrent HTTP/2 (ingress-nginx #7396,
ERR_HTTP2_SERVER_REFUSED_STREAM; the ConfigMap docs warn since PR #7503).
``use-http2`` is on by default. An empty value decodes as 0 too.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import config_location, kubernetes, set_config
from tlslint.findings import Finding, Fix
from tlslint.sources.kubernetes.ingress_nginx import INT_KEYS, decode_int
from tlslint.workspace import Workspace
from tlslint.workspace.ingress_nginx import ControllerConfig

CODE = "ING101"
KEY = "keep-alive"


def applies(config: ControllerConfig) -> bool:
    """Whether the controller's keep-alive decodes as 0 while HTTP/2 is on."""
    text = config.text(KEY)
    return text is not None and decode_int(text) == 0 and config.bool_value("use-http2") is True


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for config in ws.controller_configs:
        text = config.text(KEY)
        if text is None or not applies(config):
            continue
        http2 = "use-http2 is on by default" if config.scalar("use-http2") is None else "use-http2 is on"
        empty = " (an empty value reads as 0)" if text == "" else ""
        default = str(INT_KEYS[KEY])
        edit = set_config(config, KEY, default)
        fix = Fix(f'set keep-alive: "{default}" (the default)', (edit,), safe=False) if edit else None
        yield ctx.finding(
            config_location(config, KEY),
            f"keep-alive is 0 in {config.label}{empty}, while {http2}: keepalive_timeout 0 turns client "
            "keep-alive off, so every request pays a new TLS handshake, and since nginx 1.19.7 it also "
            "breaks concurrent HTTP/2 requests (ingress-nginx #7396, ERR_HTTP2_SERVER_REFUSED_STREAM)",
            fix=fix,
            anchor=f"{config.anchor}.{KEY}",
        )
