"""NGX201 keepalive-disabled: ``keepalive_timeout 0`` decides for a TLS server or location.

With 0, nginx closes an HTTP/1.x connection after each request; an HTTP/2 connection
(whose keep-alive settings come from the server level) closes as soon as it is idle.
Each new connection pays a TLS handshake. Some servers do it on purpose, so the fix
(nginx's default, 75s) is unsafe. A location's ``0`` on servers that speak HTTP/2
governs only the HTTP/1.x clients of that endpoint, a per-endpoint choice: not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._protocols import (
    block_anchor,
    http1_only_choice,
    keepalive_sites,
    scope_words,
    server_map,
    speaks_http2,
)
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import replace_argument
from tlslint.nginx_values import seconds
from tlslint.nginx_versions import KEEPALIVE_TIMEOUT_DEFAULT
from tlslint.workspace import Workspace

CODE = "NGX201"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        servers = server_map(config)
        for site in keepalive_sites(config, "keepalive_timeout"):
            directive = site.directive
            if directive is None or site.level is None or not directive.args:
                continue
            if seconds(directive.args[0], in_seconds=False) != 0 or http1_only_choice(config, site):
                continue
            if any(speaks_http2(config, server) for server in site.servers):
                effect = (
                    "HTTP/1.x clients open a new TCP connection for every request, and HTTP/2 "
                    "connections close as soon as they are idle; each new connection pays a TLS handshake"
                )
            else:
                effect = "every request opens a new TCP connection and pays a new TLS handshake"
            yield ctx.finding(
                directive,
                f"`{' '.join(('keepalive_timeout', *directive.args))}` disables client keep-alive for "
                f"{scope_words(site)}: {effect} (a full one unless the session resumes)",
                anchor=block_anchor(site.level, servers, "keepalive_timeout"),
                fix=Fix(
                    f"set keepalive_timeout to {KEEPALIVE_TIMEOUT_DEFAULT} (nginx's default)",
                    (replace_argument(directive, 0, KEEPALIVE_TIMEOUT_DEFAULT),),
                    safe=False,  # `0` may be deliberate
                ),
            )
