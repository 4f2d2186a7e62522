"""NGX107 ssl-session-cache-not-on-default-server: vhost settings the default server overrides.

In http{}, and in stream{} from nginx 1.25.5, when stream gained virtual servers (several
servers on one address:port, chosen by SNI): before, a stream address:port has one server,
its own default, so a stream server is judged only on nginx known to be >= 1.25.5.

In a fragment (a conf.d/ file of server blocks checked without its includer) the
including http{} may give the default server what this file does not: the message says
the default server sets none in this file, and that the includer may (the line here is
unused either way). A fragment has no http{} block to move the line to: no fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks._cache_move import builtin_only, move_to_http, zone_minimum
from tlslint.checks._fragment import includer, is_fragment
from tlslint.checks._session import (
    anchor,
    effective_cache,
    every_tls_server,
    stream_default_unsettled,
    stream_defaults_known,
    tickets_on,
    tls_default_for,
)
from tlslint.findings import Finding, Severity
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server

CODE = "NGX107"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for whole in workspace.nginx:
        # A stream server that is not its socket's default shares it with another: a
        # virtual server, which only nginx >= 1.25.5 has (before, nginx refuses it).
        stream_known = stream_defaults_known(whole.stream, workspace.nginx_versions(whole))
        for config, server in every_tls_server(whole):
            if stream_default_unsettled(config, server, stream_known):
                continue
            # A server is judged on each socket whose default is another server: the
            # default of an IPv4 socket may be a virtual server on the IPv6 one.
            yield from _judge(ctx, config, server)


def _judge(ctx: RuleContext, config: NginxConfig, server: Server) -> Iterator[Finding]:
    own_cache = server.block.last("ssl_session_cache")
    own_key = server.block.last("ssl_session_ticket_key")
    module = _module(server)
    # In a fragment the includer may give the default server what this file does not.
    hedge = f" in this file ({includer(config)} may give it one)" if is_fragment(config) else ""
    own_sockets = tls_default_for(config, server)
    elsewhere = (
        f" (it is used on {', '.join(own_sockets)}, whose default server this is)" if own_sockets else ""
    )
    for listen in server.listens:
        if listen.socket not in config.tls_sockets:
            continue
        default = config.default_server(listen.socket)
        if default is None or default is server:
            continue
        lacking: list[tuple[Directive, str]] = []
        cache_is_own = own_cache is not None and effective_cache(server).present
        if own_cache is not None and cache_is_own and not effective_cache(default).present:
            lacking.append((own_cache, "session cache"))
        if own_key is not None and default.effective("ssl_session_ticket_key") is None:
            lacking.append((own_key, "ticket key"))
        for directive, what in lacking:
            yield ctx.finding(
                directive,
                f"{directive.name} here is not used{f' on {listen.socket}' if elsewhere else ''}: "
                f"sessions {'there' if elsewhere else f'on {listen.socket}'} are resumed in the context of "
                f"its default server {default.label}, which {'sets' if hedge else 'has'} no {what}{hedge}"
                f"{elsewhere}; move the setting to {module}{{}} or onto the default server",
                severity=Severity.ERROR if not tickets_on(server) else None,
                related=[
                    related(
                        default.block.directive or default.block.children[0],
                        f"default server for {listen.socket}",
                    )
                ],
                anchor=anchor(server, directive.name),
                fix=move_to_http(zone_minimum(ctx.settings), config, server, default, directive),
                fix_note=_note(server, default, directive),
            )


def _module(server: Server) -> str:
    """The block a server inherits from, as messages name it: http, or stream."""
    return "stream" if server.stream else "http"


NO_HTTP_NOTE = "no automatic fix: this file has no http{} block; add the setting to the default server"
BUILTIN_NOTE = (
    "no automatic fix: moved to {module}{{}}, a per-worker builtin cache would become every "
    "server's (NGX102); give the default server a shared zone instead (NGX101's fix)"
)


def _note(server: Server, default: Server, directive: Directive) -> str:
    if builtin_only(directive):
        return BUILTIN_NOTE.format(module=_module(server))
    own = default.block.last(directive.name)
    if own is not None:
        return (
            f"no automatic fix: the default server sets `{' '.join(own.args)}` itself, so it "
            f"would not inherit the setting from {_module(server)}{{}}; change it there"
        )
    return "" if server.http and server.http.directive else NO_HTTP_NOTE
