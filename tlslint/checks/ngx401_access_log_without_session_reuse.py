"""NGX401 access-log-without-session-reuse: handshake storms cannot be measured.

The guide's detection step logs ``$ssl_protocol $ssl_cipher $ssl_session_reused``
and alerts on the rate of full handshakes. A TLS server whose access log has no
``$ssl_session_reused`` (or no ``$ssl_protocol``) cannot show it.

``access_log`` is inherited all or nothing (location → server → http): the
nearest level with its own lines decides, ``access_log off`` at that level
means nothing is logged (no finding). A format name resolves to its
``log_format`` (the strings concatenated); no name means ``combined``, which
has neither variable; a name no file here declares is not judged. A server
snippet checked on its own is judged only by its own lines: its includer
decides the rest; nor is a server with an include that was not followed (the line may
be in it). No fix: the rule page shows a format.

Servers that log by one http{} line (or all by nginx's default) are one cause: one
finding, at the line (or at ``http {``), naming every server. So are the servers (or
their locations) whose own line comes from a file each includes: one line decides for
them all.

The TLS servers of stream{} log by their own access_log lines, else stream{}'s (all or
nothing too), in stream's formats (ngx_stream_log_module: no ``combined``, and http's
names are not its); with no line, stream logs nothing (its default is ``access_log off``),
so there is nothing to judge. ``$ssl_protocol`` and ``$ssl_session_reused`` are
ngx_stream_ssl_module variables as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial

from tlslint.checks import RuleContext, directive_location, unique
from tlslint.checks._causes import Cause, Place, one_per_cause
from tlslint.checks._effective import effective_all
from tlslint.checks._placeholders import templated
from tlslint.checks._protocols import labels
from tlslint.checks._session import rejects_handshakes
from tlslint.checks._upstream import anchor, label
from tlslint.findings import Finding
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block, NginxConfig, Server, per_config

# By access_log lines (whether inherited, their ids): what they log with and lack, and the
# finding of the first level they log; None: the lines are not judged.
Shared = dict[tuple[bool, tuple[int, ...]], "tuple[str, Finding] | None"]

CODE = "NGX401"
COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
WANTED = ("ssl_session_reused", "ssl_protocol")
NOTE = (
    "no automatic fix: log with a format that has $ssl_protocol $ssl_cipher $ssl_session_reused "
    "(see `tlslint explain NGX401`)"
)
_LOG_LEVELS = frozenset({"server", "location", "if", "limit_except"})
# Causes: the servers of one http{} without access_log; the servers inheriting one level's lines.
UNLOGGED, SHARED = "unlogged", "shared"


def has_variable(text: str, name: str) -> bool:
    return re.search(rf"\$(?:{name}\b|\{{{name}\}})", text) is not None


def log_formats(config: NginxConfig, stream: bool = False) -> dict[str, str]:
    """The log formats of http{} (``combined`` predefined), or of stream{}: its log module
    is another, with no predefined format, and neither sees the other's names (measured
    on 1.22.1: `unknown log format "tls"` for an http{} format named in stream{})."""
    formats = {} if stream else {"combined": COMBINED}
    for block in _declaring(config):
        if block.in_stream() != stream:
            continue
        for directive in block.all("log_format"):
            if len(directive.args) >= 1 and directive.args[0] not in formats:
                strings = [a for a in directive.args[1:] if not a.startswith("escape=")]
                formats[directive.args[0]] = "".join(strings)
    return formats


@per_config  # http{}'s formats and stream{}'s: one walk of the blocks finds both
def _declaring(config: NginxConfig) -> list[Block]:
    """The blocks with a ``log_format``, in text order."""
    return [block for block in config.top.walk() if block.has("log_format")]


def format_name(directive: Directive) -> str:
    """``access_log path [format [buffer=] [gzip] [flush=] [if=]]``: the format, default combined."""
    args = directive.args
    if len(args) >= 2 and "=" not in args[1] and args[1] != "gzip":
        return args[1]
    return "combined"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        judged: set[object] = set()
        shared: Shared = {}  # by lines: what they lack, and their first place's finding
        places: list[Place] = []  # findings one cause may share (one line, one http{})
        formats = log_formats(config)
        for server in config.servers:
            if _logs_tls(server):
                _judge_server(ctx, config, server, formats, judged, places, shared)
        if config.stream is not None:
            formats = log_formats(config, stream=True)
            for server in config.stream.servers:
                if _logs_tls(server):
                    _judge_stream_server(ctx, server, formats, judged, places, shared)
        yield from one_per_cause(places, partial(_describe, config), ctx.keep)


def _logs_tls(server: Server) -> bool:
    """A TLS server with handshakes to log: a catch-all that rejects them has none."""
    return server.tls and not rejects_handshakes(server)


def _describe(config: NginxConfig, members: list[Place]) -> Cause:
    shared = isinstance(members[0].detail, tuple)  # (server, holder, what they log with)
    return _shared_line(members) if shared else _unlogged(config, members)


def _unlogged(config: NginxConfig, members: list[Place]) -> Cause:
    """Servers of one http{} that all log with nginx's default: one cause."""
    server: Server = members[0].detail
    http = server.http.directive if server.http is not None else None
    where = directive_location(http) if http is not None else members[0].finding.location
    return Cause(
        where,
        f"{len(members)} TLS servers ({labels([place.detail for place in members])}): {_nothing_set(config)}"
        f"in the combined format, which has neither $ssl_protocol nor $ssl_session_reused: full "
        "handshakes cannot be counted",
        "http > access_log" if http is not None else members[0].finding.anchor,
    )


def _shared_line(members: list[Place]) -> Cause:
    """Servers that log by the same access_log lines: inherited from one level (http{}'s,
    stream{}'s), or their own, from a file each includes. One cause, at the lines."""
    holder, said = members[0].detail[1:3]
    servers = [place.detail[0] for place in members]
    if all(place.detail[3] is place.detail[0].block for place in members):
        who = f"{len(servers)} TLS servers ({labels(servers)}) log"
    else:
        # Some log by the lines in a location only: say which blocks.
        shown = [place.note for place in members[:3]]
        more = len(members) - len(shown)
        if more > 0:
            shown.append(f"{more} more")
        who = f"{', '.join(shown[:-1])} and {shown[-1]} log"
    return Cause(members[0].finding.location, f"{who} with {said}", anchor(holder, "access_log"))


def _nothing_set(config: NginxConfig) -> str:
    if config.context != "main" and not config.module:
        # Nothing in the file says http{}: a stream{} that includes it logs nothing by default.
        return "nothing in this file sets access_log, so if an http{} that sets none includes it, nginx logs "
    if config.context != "main":
        return "nothing in this file sets access_log, so unless the including http{} does, nginx logs "
    return "no access_log is set, so nginx logs "


def _judge_server(
    ctx: RuleContext,
    config: NginxConfig,
    server: Server,
    formats: dict[str, str],
    judged: set[object],
    places: list[Place],
    shared: Shared,
) -> None:
    levels = [server.block]
    if server.block.blocks:  # most servers have no location: no walk kept for each
        levels += [b for b in server.block.walk()[1:] if b.context in _LOG_LEVELS]
    for level in levels:
        if level is server.block:
            holder, lines = effective_all(level, "access_log")
        else:
            # A level below the server is judged only by lines of its own.
            holder, lines = level, level.all("access_log")
            if not lines:
                continue  # inherits what the server level was judged by
        if holder is not level and level.unresolved:
            continue  # an include in the server was not followed: it may set its own
        if not lines:
            if server.synthetic or server.unresolved:
                continue  # a server snippet (its includer decides), or an include not followed
            key = id(server.block.directive) if server.block.directive is not None else id(server.block)
            if key in judged:
                continue
            judged.add(key)
            where = server.block.directive or server.block.children[0]
            finding = ctx.finding(
                where,
                f"TLS {server.label}: {_nothing_set(config)}in the combined format, which has neither "
                "$ssl_protocol nor $ssl_session_reused: full handshakes cannot be counted",
                anchor=anchor(server.block, "access_log"),
                fix_note=NOTE,
            )
            cause = (UNLOGGED, id(server.http)) if server.http is not None else (UNLOGGED, id(config))
            places.append(Place(cause, finding, f"TLS {server.label}", server))
            continue
        _judge_lines(ctx, server, level, holder, lines, formats, judged, places, shared)


def _judge_stream_server(
    ctx: RuleContext,
    server: Server,
    formats: dict[str, str],
    judged: set[object],
    places: list[Place],
    shared: Shared,
) -> None:
    """A stream server logs with its own access_log lines, else stream{}'s (all or
    nothing, as in http{}); with neither, nothing: stream's default is `access_log off`,
    so there is no log that lacks the variables. A stream log has no default format."""
    stream = server.http
    holder = server.block if server.block.all("access_log") else stream
    if holder is not server.block and server.block.unresolved:
        return  # an include in the server was not followed: it may set its own
    lines = holder.all("access_log") if holder is not None else []
    if lines:
        _judge_lines(ctx, server, server.block, holder, lines, formats, judged, places, shared)


def _judge_lines(
    ctx: RuleContext,
    server: Server,
    level: Block,
    holder: Block | None,
    lines: list[Directive],
    formats: dict[str, str],
    judged: set[object],
    places: list[Place],
    shared: Shared,
) -> None:
    """The place of ``server`` in the cause of ``lines`` (``holder``'s), which log
    ``level`` of it. Every level that logs by the same lines is one cause (one finding
    names them all): the servers inheriting them from http{} or stream{}, and the
    levels whose own lines they are, from a file each includes."""
    if len(lines) > 1:
        lines = list(unique(lines))
    if any(line.args[:1] == ("off",) for line in lines):
        return  # nothing is logged at this level
    first = lines[0]
    inherited = holder is not level
    # Judged once per level (a server{} spliced in twice is one).
    key = (id(first), id(level.directive) if level.directive is not None else id(level))
    if key in judged:
        return
    judged.add(key)
    where = "TLS " + server.label if level is server.block else label(level) + " of TLS " + server.label
    # All the lines: a level may add its own to those of an included file.
    lines_key = (inherited, tuple(id(line) for line in lines))
    if lines_key in shared:
        # The lines' verdict, and the finding of the first level they log, are made once:
        # each further level's place shares them (its own anchor only). Its message is
        # never shown: a cause of several places has the cause's message.
        earlier = shared[lines_key]
        if earlier is None:
            return
        said, representative = earlier
        finding = representative.anchored(anchor(level, "access_log"))
    else:
        said = _said(lines, formats, holder, level)
        shared[lines_key] = None
        if not said:
            return
        finding = ctx.finding(
            first, f"{where} logs with {said}", anchor=anchor(level, "access_log"), fix_note=NOTE
        )
        shared[lines_key] = (said, finding)
    at = directive_location(level.directive) if level.directive is not None else None
    places.append(Place((SHARED, lines_key), finding, where, (server, holder, said, level), at))


def _templated_log(line: Directive) -> bool:
    """A line whose format a template's placeholder may decide: the placeholder may be the
    format, `off`, or the whole line. One inside a path (`/var/log/${HOST}.log`) is a path."""
    if templated(line, at=0) and "/" not in line.args[0]:
        return True
    return any(templated(line, at=index) for index in range(1, len(line.args)))


def _said(lines: list[Directive], formats: dict[str, str], holder: Block | None, level: Block) -> str:
    """What ``lines`` log with and lack, for a message; '' when they are not judged (a
    format this configuration does not show, or a template's) or lack nothing."""
    if any(_templated_log(line) for line in lines):
        return ""
    texts = []
    for line in lines:
        name = format_name(line)
        if name not in formats:
            return ""  # declared where this configuration does not show: not judged
        texts.append((name, formats[name]))
    if any(all(has_variable(text, variable) for variable in WANTED) for _, text in texts):
        return ""
    missing = [f"${v}" for v in WANTED if not any(has_variable(text, v) for _, text in texts)]
    shown = ", ".join(sorted({name for name, _ in texts}))
    set_in = "" if holder is level else f" (set in {label(holder)})" if holder is not None else ""
    lacks = " and no ".join(missing)
    return f"format {shown}{set_in}, which has no {lacks}: full handshakes cannot be counted"
