"""NGX201 keepalive-disabled: ``keepalive_timeout 0`` decides for a TLS server or location."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._protocols import block_anchor, keepalive_sites, scope_words, server_map
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import replace_argument
from tlslint.nginx_versions import KEEPALIVE_TIMEOUT_DEFAULT
from tlslint.units import parse_time
from tlslint.workspace import Workspace

CODE = "NGX201"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        servers = server_map(config)
        for site in keepalive_sites(config, "keepalive_timeout"):
            directive = site.directive
            if directive is None or site.level is None or not directive.args:
                continue
            if parse_time(directive.args[0]) != 0:
                continue
            yield ctx.finding(
                directive,
                f"`{' '.join(('keepalive_timeout', *directive.args))}` disables client keep-alive for "
                f"{scope_words(site)}: every request opens a new TCP connection and pays a new TLS "
                "handshake (a full one unless the session resumes)",
                anchor=block_anchor(site.level, servers, "keepalive_timeout"),
                fix=Fix(
                    f"set keepalive_timeout to {KEEPALIVE_TIMEOUT_DEFAULT} (nginx's default)",
                    (replace_argument(directive, 0, KEEPALIVE_TIMEOUT_DEFAULT),),
                    safe=False,  # `0` may be deliberate
                ),
            )
