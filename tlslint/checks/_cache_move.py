"""Moving a virtual server's session cache (or ticket keys, or timeout) to http{}, where
its default server inherits it: NGX107's fix, and NGX101's where a virtual server of the
default's socket already declares the zone (adding a second zone there left the first
unused). A moved cache takes the server's own ssl_session_timeout along when none is in
force for the default server: left behind it does nothing (sessions get the default
server's timeout, nginx's 5m), and the operator's value would be lost."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlslint import catalogue
from tlslint.checks._placement import Target, http_target
from tlslint.checks._session import effective_cache, parse_cache
from tlslint.checks.ngx103_session_cache_too_small import resize_edits
from tlslint.findings import Edit, Fix
from tlslint.nginx_edits import remove_directive
from tlslint.sources.nginx.model import Directive
from tlslint.units import parse_size
from tlslint.workspace.nginx import NginxConfig, Server, per_config

if TYPE_CHECKING:
    from tlslint.settings import Settings

TOO_SMALL = "NGX103"  # its min-size: the size a moved zone needs
KEY = "ssl_session_ticket_key"
TIMEOUT = "ssl_session_timeout"


def builtin_only(directive: Directive) -> bool:
    if directive.name != "ssl_session_cache":
        return False
    _, builtin, shared = parse_cache(directive)
    return builtin and shared is None


def zone_minimum(settings: Settings) -> str:
    """NGX103's min-size: a zone moved to http{} stores every TLS server's sessions."""
    meta = catalogue.index()[TOO_SMALL]
    return str({**meta.option_defaults(settings.profile), **settings.options_for(TOO_SMALL)}["min-size"])


def move_to_http(
    minimum: str, config: NginxConfig, server: Server, default: Server, directive: Directive
) -> Fix | None:
    """Safe as a move: nginx ignores the lines where they are (only the default server's
    cache, keys and timeout count, facts §1), and http{} (stream{} for a stream server)
    lacks the setting. Of several cache (or timeout) lines the last wins; every ticket key
    line counts (the first encrypts, the others only decrypt), so all of them move, in
    order. A cache takes the server's own timeout along (``carried_timeout``); a timeout
    moves only where the default server has none in force. Unsafe when the zone must
    also grow to NGX103's min-size: that replaces the size the operator wrote."""
    target = http_target(server)
    if target is None or target.has(directive.name) or builtin_only(directive):
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
    if directive.name == TIMEOUT:
        timeouts = carried_timeout(server, default, target)
        if not timeouts:
            return None  # a timeout in force there is an operator's value: not replaced
        return _move_lines(timeouts, [], target, f"`{statement}`")
    # Earlier cache lines in the server are dead (the last one wins): they go too.
    edits = [remove_directive(d, moved=d is directive) for d in moved]  # the dead ones are not moved
    timeouts = carried_timeout(server, default, target)
    resized = _resized(minimum, config, directive, server.stream)
    what = f"`{statement}`"  # as written: the size it moves at is said after it
    if resized is not None:
        # In http{} it stores every TLS server's sessions: raised to NGX103's min-size,
        # with every other declaration of the zone (nginx refuses two sizes).
        _, changes = resized
        for changed, edit in changes:
            if changed is directive:
                start, end = edit.start - directive.start, edit.end - directive.start
                statement = statement[:start] + edit.replacement + statement[end:]
            elif all(changed is not d for d in moved):
                edits.append(edit)
    if resized is not None:
        what += f" at {resized[0]} (NGX103's min-size: every TLS server now stores sessions in it)"
    if len(moved) > 1:
        what += f", and drop the {len(moved) - 1} earlier line(s) it overrides"
    fix = _move_lines(timeouts, [(directive, statement)], target, what, edits)
    return Fix(fix.description, fix.edits, safe=resized is None)


def carried_timeout(server: Server, default: Server, target: Target) -> list[Directive]:
    """The server's own ssl_session_timeout lines that move to ``target`` (http{}) with
    it: all of them (the earlier ones are dead: the last wins), when the default server
    has none in force (its own or http{}'s: that operator's value is not replaced; NGX107
    reports the server's line as unused) and they are in one file. Else none."""
    lines = server.block.all(TIMEOUT)
    if not lines or default.effective(TIMEOUT) is not None or target.has(TIMEOUT):
        return []
    if server.http is not None and server.http.last(TIMEOUT) is not None:
        return []
    if any(line.source is not lines[-1].source for line in lines):
        return []
    return lines


def _move_lines(
    timeouts: list[Directive],
    lines: list[tuple[Directive, str]],
    target: Target,
    what: str,
    edits: list[Edit] | None = None,
) -> Fix:
    """Remove ``timeouts`` (the last one is moved) and insert it with ``lines`` (each with
    the statement written) into ``target``, in the server's order; ``edits``: removals
    already made. Safe: what is removed is unused where it is, and http{} lacks it."""
    edits = list(edits or [])
    moving = list(lines)
    if timeouts:
        last = timeouts[-1]
        edits += [remove_directive(d, moved=d is last) for d in timeouts]
        moving.append((last, last.source.text[last.start : last.end]))
        what = f"`{moving[-1][1]}` and {what}" if lines else what
        if len(timeouts) > 1:
            what += f" (dropping the {len(timeouts) - 1} earlier ssl_session_timeout line(s))"
    # In the server's order (a line in another file, an include's, after them).
    first = moving[0][0].source
    moving.sort(key=lambda pair: (pair[0].source is not first, pair[0].start))
    edits.append(target.insert_all([statement for _, statement in moving]))
    pronoun = "them" if len(moving) > 1 else "it"
    return Fix(f"move {what} to {target.label} so that the default server inherits {pronoun}", tuple(edits))


def _move_keys(keys: list[Directive], target: Target) -> Fix:
    statements = [key.source.text[key.start : key.end] for key in keys]
    if len(keys) == 1:
        what = f"`{statements[0]}`"
    else:
        what = f"the {len(keys)} `{KEY}` lines, in order (the first encrypts),"
    edits = [remove_directive(key, moved=True) for key in keys]
    edits.append(target.insert_all(statements))
    return Fix(f"move {what} to {target.label} so that the default server inherits them", tuple(edits))


def _resized(
    minimum: str, config: NginxConfig, directive: Directive, stream: bool
) -> tuple[str, list[tuple[Directive, Edit]]] | None:
    """``minimum`` and the edits resizing the zone, if the moved zone is below it."""
    if directive.name != "ssl_session_cache":
        return None
    _, _, zone = parse_cache(directive)
    if zone is None or zone.size is None:
        return None
    if zone.size >= (parse_size(minimum) or 0):
        return None
    return minimum, resize_edits(config, zone.name, minimum, stream)


@per_config
def first_cache_move(config: NginxConfig, minimum: str) -> Fix | None:
    """NGX107's move of the first virtual server's own shared cache whose default server
    has none: the fix NGX101 offers too where it would add a zone to http{}, so that
    both rules' fixes are one edit and the operator's zone is the one kept (adding a
    second zone left the first unused, NGX108). Worked out once per configuration."""
    for server in config.servers:
        if not server.tls:
            continue
        own = server.block.last("ssl_session_cache")
        if own is None or builtin_only(own) or parse_cache(own)[2] is None:
            continue
        for listen in server.listens:
            default = config.default_server(listen.socket)
            if default is None or default is server or effective_cache(default).present:
                continue
            fix = move_to_http(minimum, config, server, default, own)
            if fix is not None:
                return fix
    return None
