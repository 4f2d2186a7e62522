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

from tlslint import catalogue
from tlslint.checks import RuleContext, related
from tlslint.checks._fragment import includer, is_fragment
from tlslint.checks._placement import Target, http_target
from tlslint.checks._session import (
    anchor,
    effective_cache,
    every_tls_server,
    parse_cache,
    stream_default_unsettled,
    stream_defaults_known,
    tickets_on,
    tls_default_for,
)
from tlslint.checks.ngx103_session_cache_too_small import resize_edits
from tlslint.findings import Edit, Finding, Fix, Severity
from tlslint.nginx_edits import remove_directive
from tlslint.sources.nginx.model import Directive
from tlslint.units import parse_size
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server

CODE = "NGX107"
TOO_SMALL = "NGX103"  # its min-size: the size a moved zone needs
KEY = "ssl_session_ticket_key"


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
                fix=_move_to_http(ctx, config, server, default, directive),
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
    if _builtin_only(directive):
        return BUILTIN_NOTE.format(module=_module(server))
    own = default.block.last(directive.name)
    if own is not None:
        return (
            f"no automatic fix: the default server sets `{' '.join(own.args)}` itself, so it "
            f"would not inherit the setting from {_module(server)}{{}}; change it there"
        )
    return "" if server.http and server.http.directive else NO_HTTP_NOTE


def _builtin_only(directive: Directive) -> bool:
    if directive.name != "ssl_session_cache":
        return False
    _, builtin, shared = parse_cache(directive)
    return builtin and shared is None


def _move_to_http(
    ctx: RuleContext, config: NginxConfig, server: Server, default: Server, directive: Directive
) -> Fix | None:
    """Safe as a move: nginx ignores the lines where they are (only the default server's
    cache and keys count, facts §1), and http{} (stream{} for a stream server) lacks the
    setting. Of several cache lines
    the last wins; every ticket key line counts (the first encrypts, the others only
    decrypt), so all of them move, in order. Unsafe when the zone must also grow to
    NGX103's min-size: that replaces the size the operator wrote."""
    target = http_target(server)
    if target is None or target.has(directive.name) or _builtin_only(directive):
        return None
    if default.block.last(directive.name) is not None:
        return None  # its own `none`/`off` would still win over http{}
    every = server.block.all(directive.name)
    moved = [d for d in every if d.source is directive.source]
    statement = directive.source.text[directive.start : directive.end]
    if directive.name == KEY:
        if len(moved) != len(every):
            return None  # keys split across files: moving some would change which key encrypts
        return _move_keys(moved, target)
    # Earlier cache lines in the server are dead (the last one wins): they go too.
    description = f"move `{statement}` to {target.label} so that the default server inherits it"
    edits = [remove_directive(d) for d in moved]
    resized = _resized(ctx, config, directive, server.stream)
    if resized is not None:
        # In http{} it stores every TLS server's sessions: raised to NGX103's min-size,
        # with every other declaration of the zone (nginx refuses two sizes).
        size, changes = resized
        for changed, edit in changes:
            if changed is directive:
                start, end = edit.start - directive.start, edit.end - directive.start
                statement = statement[:start] + edit.replacement + statement[end:]
            elif all(changed is not d for d in moved):
                edits.append(edit)
        description += f" at {size} (NGX103's min-size: every TLS server now stores sessions in it)"
    if len(moved) > 1:
        description += f", and drop the {len(moved) - 1} earlier line(s) it overrides"
    edits.append(target.insert(statement))
    return Fix(description, tuple(edits), safe=resized is None)


def _move_keys(keys: list[Directive], target: Target) -> Fix:
    statements = [key.source.text[key.start : key.end] for key in keys]
    if len(keys) == 1:
        what = f"`{statements[0]}`"
    else:
        what = f"the {len(keys)} `{KEY}` lines, in order (the first encrypts),"
    edits = [remove_directive(key) for key in keys]
    edits.append(target.insert_all(statements))
    return Fix(f"move {what} to {target.label} so that the default server inherits them", tuple(edits))


def _resized(
    ctx: RuleContext, config: NginxConfig, directive: Directive, stream: bool
) -> tuple[str, list[tuple[Directive, Edit]]] | None:
    """NGX103's min-size and the edits resizing the zone, if the moved zone is below it."""
    if directive.name != "ssl_session_cache":
        return None
    _, _, zone = parse_cache(directive)
    if zone is None or zone.size is None:
        return None
    meta = catalogue.index()[TOO_SMALL]
    options = {**meta.option_defaults(ctx.settings.profile), **ctx.settings.options_for(TOO_SMALL)}
    minimum = str(options["min-size"])
    if zone.size >= (parse_size(minimum) or 0):
        return None
    return minimum, resize_edits(config, zone.name, minimum, stream)
