"""NGX107 ssl-session-cache-not-on-default-server: vhost settings the default server overrides.

The session cache and ticket key of a virtual server, when its default server has none;
its own ssl_session_timeout, when it differs from the one in force for the default server
(nginx stores sessions with the default server's timeout: measured on 1.22.1, TLS 1.2 and
1.3: a default server's 8s expired a virtual server's 1h sessions, and its 1h kept a
virtual server's 8s ones).

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
from tlslint.checks._cache_move import KEY, TIMEOUT, builtin_only, carried_timeout, move_to_http, zone_minimum
from tlslint.checks._fragment import includer, is_fragment
from tlslint.checks._placement import http_target
from tlslint.checks._session import (
    DEFAULT_TIMEOUT,
    SessionTimeout,
    anchor,
    effective_cache,
    every_tls_server,
    session_timeout,
    stream_default_unsettled,
    stream_defaults_known,
    tickets_on,
    timeout_seconds,
    tls_default_for,
)
from tlslint.findings import Finding, Fix, Related, Severity
from tlslint.nginx_edits import remove_directive
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server

CODE = "NGX107"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    minimum = zone_minimum(ctx.settings)  # NGX103's min-size, for the fixes' moves
    # Each default server's timeout, read once: one may have 10,000 virtual servers.
    timeouts: dict[int, SessionTimeout] = {}
    for whole in workspace.nginx:
        # A stream server that is not its socket's default shares it with another: a
        # virtual server, which only nginx >= 1.25.5 has (before, nginx refuses it).
        stream_known = stream_defaults_known(whole.stream, workspace.nginx_versions(whole))
        for config, server in every_tls_server(whole):
            if stream_default_unsettled(config, server, stream_known):
                continue
            # A server is judged on each socket whose default is another server: the
            # default of an IPv4 socket may be a virtual server on the IPv6 one.
            yield from _judge(ctx, config, server, minimum, timeouts)


def _judge(
    ctx: RuleContext, config: NginxConfig, server: Server, minimum: str, timeouts: dict[int, SessionTimeout]
) -> Iterator[Finding]:
    own_cache = server.block.last("ssl_session_cache")
    own_key = server.block.last("ssl_session_ticket_key")
    own_timeout = server.block.last(TIMEOUT)
    mine = timeout_seconds(own_timeout) if own_timeout is not None else None
    module = _module(server)
    # In a fragment the includer may give the default server what this file does not.
    hedge = f" in this file ({includer(config)} may give it one)" if is_fragment(config) else ""
    own_sockets = tls_default_for(config, server)
    elsewhere = (
        f" (it is used on {', '.join(own_sockets)}, whose default server this is)" if own_sockets else ""
    )
    yield from _repeated(ctx, config, server, module)
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
        fixes = {
            directive.name: move_to_http(minimum, config, server, default, directive)
            for directive, _ in lacking
        }
        for directive, what in lacking:
            yield ctx.finding(
                directive,
                f"{directive.name} here is not used{f' on {listen.socket}' if elsewhere else ''}: "
                f"sessions {'there' if elsewhere else f'on {listen.socket}'} are resumed in the context of "
                f"its default server {default.label}, which {'sets' if hedge else 'has'} no {what}{hedge}"
                f"{elsewhere}; move the setting to {module}{{}} or onto the default server",
                severity=Severity.ERROR if not tickets_on(server) else None,
                related=[_default_here(default, listen.socket)],
                anchor=anchor(server, directive.name),
                fix=fixes[directive.name],
                fix_note=_note(server, default, directive),
            )
        if own_timeout is None:
            continue
        theirs = timeouts.get(id(default))
        if theirs is None:
            theirs = timeouts[id(default)] = session_timeout(default)
        if mine is None or theirs.seconds is None or mine == theirs.seconds:
            continue  # the same time (or one nginx refuses: NGX012's, or a template's)
        target = http_target(server)
        cache_fix = fixes.get("ssl_session_cache")
        timeout_fix: Fix | None
        if cache_fix is not None and cache_fix.safe and target and carried_timeout(server, default, target):
            timeout_fix = cache_fix  # the cache's move takes it along: one fix for both findings
        else:  # alone (a cache resized as it moves is unsafe: the timeout need not wait for it)
            timeout_fix = move_to_http(minimum, config, server, default, own_timeout)
        yield ctx.finding(
            own_timeout,
            f"{TIMEOUT} here is not used{f' on {listen.socket}' if elsewhere else ''}: "
            f"sessions {'there' if elsewhere else f'on {listen.socket}'} are resumed in the context of "
            f"its default server {default.label}, {_in_force(theirs, default, hedge)}, "
            f"not this {own_timeout.args[0]}{elsewhere}: nginx stores sessions with the default "
            f"server's timeout; {_timeout_advice(theirs, module)}",
            related=[_default_here(default, listen.socket)],
            anchor=anchor(server, TIMEOUT),
            fix=timeout_fix,
            fix_note=_timeout_note(server, theirs, module) if timeout_fix is None else "",
        )


def _repeated(ctx: RuleContext, config: NginxConfig, server: Server, module: str) -> Iterator[Finding]:
    """A virtual server's own ticket keys that are {module}{}'s, the same files in the same
    order, where a default server of its inherits them from there: nginx merges the
    server's list as it would inherit {module}{}'s, so they change nothing, and are
    removed. A run killed between writing the move's two files leaves just this (the
    addition is written first), and the next run finishes the move.

    Only the keys: a server repeating http{}'s cache or timeout is a common copy of one
    snippet, and reporting each would be noise; a half-done move of those leaves the same
    zone or time twice, which nginx reads as once."""
    http = server.http
    if http is None or http.directive is None:
        return
    own = server.block.all(KEY)
    inherited = http.all(KEY)
    if not own or [line.args for line in own] != [line.args for line in inherited]:
        return
    defaults = [
        default
        for listen in server.listens
        if listen.socket in config.tls_sockets
        and (default := config.default_server(listen.socket)) is not None
        and default is not server
    ]
    if not any(default.block.last(KEY) is None for default in defaults):
        return
    text = {line.source.text[line.start : line.end] for line in inherited}
    # As the move removes them (their comments went to http{}), when written alike.
    edits = tuple(
        remove_directive(line, moved=line.source.text[line.start : line.end] in text) for line in own
    )
    lines = (
        f"the {len(own)} {KEY} lines"
        if len(own) > 1
        else f"`{own[0].source.text[own[0].start : own[0].end]}`"
    )
    yield ctx.finding(
        own[-1],
        f"{KEY} here repeats the keys this server inherits from {module}{{}} (the same files, in "
        f"the same order): the server's own line{'s change' if len(own) > 1 else ' changes'} nothing",
        severity=Severity.INFO,
        anchor=f"{anchor(server, KEY)} (repeated)",
        fix=Fix(f"remove {lines}, which {module}{{}} sets the same", edits),
    )


def _default_here(default: Server, socket: str) -> Related:
    return related(default.block.directive or default.block.children[0], f"default server for {socket}")


def _in_force(timeout: SessionTimeout, default: Server, hedge: str) -> str:
    """The default server's timeout as a message says it: its own line, http{}'s, or none."""
    if timeout.directive is None:
        if hedge:  # " in this file (X may give it one)"
            return f"which sets none{hedge.removesuffix(')')}; else nginx's default {DEFAULT_TIMEOUT} holds)"
        return f"which has none (nginx's default {DEFAULT_TIMEOUT})"
    where = "its own line" if timeout.directive in default.block.children else "from http{}"
    if default.stream and where != "its own line":
        where = "from stream{}"
    return f"whose {TIMEOUT} is {timeout.text} ({where})"


def _timeout_advice(timeout: SessionTimeout, module: str) -> str:
    if timeout.directive is None:
        return f"move the setting to {module}{{}} or onto the default server"
    return "set the timeout sessions should have there, and remove this line"


def _timeout_note(server: Server, timeout: SessionTimeout, module: str) -> str:
    if timeout.directive is None:
        return "" if server.http and server.http.directive else NO_HTTP_NOTE
    return (
        f"no automatic fix: `{TIMEOUT} {timeout.text}` is in force for the default server; replacing "
        f"it would change a value you set ({module}{{}} or the default server is where to change it)"
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
