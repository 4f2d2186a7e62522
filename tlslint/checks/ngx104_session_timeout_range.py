"""NGX104 ssl-session-timeout-out-of-range: explicit timeout below ``min`` or above ``max``.

Only a timeout in force where sessions are stored is judged: the default server's of a
TLS socket (its own line, or http{}'s it inherits). nginx ignores a virtual server's own
line (sessions get the default server's timeout, measured on 1.22.1): NGX107 reports it
when it differs, and clamping it would change nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from tlslint.checks import RuleContext, unique
from tlslint.checks._session import (
    of_stream_servers,
    stores_sessions,
    stream_defaults_known,
    tls_server_of_block,
    tls_servers,
)
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import replace_argument
from tlslint.nginx_values import seconds
from tlslint.sources.nginx.model import Directive
from tlslint.units import format_time, parse_time
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block, NginxConfig, Server

CODE = "NGX104"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    low = parse_time(str(ctx.options["min"])) or 0.0
    high = parse_time(str(ctx.options["max"])) or float("inf")
    for config in workspace.nginx:
        stream_known = stream_defaults_known(config.stream, workspace.nginx_versions(config))
        for block in config.top.walk():
            if not block.has("ssl_session_timeout"):
                continue  # most blocks: no list made, nor a generator
            for directive in unique(block.all("ssl_session_timeout")):
                if not _in_force_where_stored(config, block, directive, stream_known):
                    continue
                value = seconds(directive.args[0], in_seconds=True) if directive.args else None
                if value is None:
                    continue  # a value nginx cannot read is NGX012's
                if value < low:
                    bound = str(ctx.options["min"])
                    problem = (
                        f"below the minimum {format_time(low)}: sessions expire before most "
                        "clients come back, so they pay a full handshake again"
                    )
                elif value > high:
                    bound = str(ctx.options["max"])
                    problem = (
                        f"above the maximum {format_time(high)}: resumed sessions (and ticket "
                        "keys) live longer than forward secrecy guidance allows"
                    )
                else:
                    continue
                servers = of_stream_servers(config, block, partial(_decides, directive=directive))
                yield ctx.finding(
                    directive,
                    f"ssl_session_timeout {directive.args[0]}{servers} is {problem}",
                    anchor=f"{block.context} > ssl_session_timeout",
                    fix=Fix(
                        f"set ssl_session_timeout to {bound}",
                        (replace_argument(directive, 0, bound),),
                        safe=False,  # the operator's value
                    ),
                )


def _decides(server: Server, *, directive: Directive) -> bool:
    return server.effective("ssl_session_timeout") is directive


def _in_force_where_stored(
    config: NginxConfig, block: Block, directive: Directive, stream_known: bool
) -> bool:
    """False when the TLS servers ``directive`` decides for are all virtual servers (none
    stores sessions); True when one is a default server, or when it decides for no TLS
    server (an http{} line in a file of its own: its includer's servers may take it)."""
    scope = config.stream if block.in_stream() else config
    if scope is None:
        return True
    own = tls_server_of_block(scope).get(id(block))
    if own is None and block.context == "server":
        return True  # a plain server's line: not a virtual server's, judged as before
    deciders = (
        [own] if own is not None else [s for s in tls_servers(scope) if _decides(s, directive=directive)]
    )
    return not deciders or any(stores_sessions(scope, server, stream_known) for server in deciders)
