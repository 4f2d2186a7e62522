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
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial

from tlslint.checks import RuleContext, directive_location, unique
from tlslint.checks._causes import Cause, Place, one_per_cause
from tlslint.checks._effective import effective_all
from tlslint.checks._protocols import labels
from tlslint.checks._session import rejects_handshakes
from tlslint.checks._upstream import anchor, label
from tlslint.findings import Finding
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block, NginxConfig, Server

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


def has_variable(text: str, name: str) -> bool:
    return re.search(rf"\$(?:{name}\b|\{{{name}\}})", text) is not None


def log_formats(config: NginxConfig) -> dict[str, str]:
    formats = {"combined": COMBINED}
    for block in config.top.walk():
        for directive in block.all("log_format"):
            if len(directive.args) >= 1 and directive.args[0] not in formats:
                strings = [a for a in directive.args[1:] if not a.startswith("escape=")]
                formats[directive.args[0]] = "".join(strings)
    return formats


def format_name(directive: Directive) -> str:
    """``access_log path [format [buffer=] [gzip] [flush=] [if=]]``: the format, default combined."""
    args = directive.args
    if len(args) >= 2 and "=" not in args[1] and args[1] != "gzip":
        return args[1]
    return "combined"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        formats = log_formats(config)
        judged: set[int] = set()
        unlogged: list[Place] = []  # servers with no access_log at any level
        for server in config.servers:
            if not server.tls or rejects_handshakes(server):
                continue  # a catch-all that rejects handshakes has no TLS requests to log
            yield from _judge_server(ctx, config, server, formats, judged, unlogged)
        yield from one_per_cause(unlogged, partial(_unlogged, config), ctx.keep)


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


def _nothing_set(config: NginxConfig) -> str:
    if config.context != "main":
        return "nothing in this file sets access_log, so unless the including http{} does, nginx logs "
    return "no access_log is set, so nginx logs "


def _judge_server(
    ctx: RuleContext,
    config: NginxConfig,
    server: Server,
    formats: dict[str, str],
    judged: set[int],
    unlogged: list[Place],
) -> Iterator[Finding]:
    levels = [server.block] + [
        b for b in server.block.walk() if b is not server.block and b.context in _LOG_LEVELS
    ]
    for level in levels:
        holder, lines = effective_all(level, "access_log")
        if level is not server.block and holder is not level:
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
            cause = ("http", id(server.http)) if server.http is not None else ("file", id(config))
            unlogged.append(Place(cause, finding, f"TLS {server.label}", server))
            continue
        yield from _judge_lines(ctx, server, level, holder, lines, formats, judged)


def _judge_lines(
    ctx: RuleContext,
    server: Server,
    level: Block,
    holder: Block | None,
    lines: list[Directive],
    formats: dict[str, str],
    judged: set[int],
) -> Iterator[Finding]:
    lines = list(unique(lines))
    if any(line.args[:1] == ("off",) for line in lines):
        return  # nothing is logged at this level
    first = lines[0]
    if id(first) in judged:
        return
    judged.add(id(first))
    texts = []
    for line in lines:
        name = format_name(line)
        if name not in formats:
            return  # declared where this configuration does not show: not judged
        texts.append((name, formats[name]))
    if any(all(has_variable(text, variable) for variable in WANTED) for _, text in texts):
        return
    missing = [f"${v}" for v in WANTED if not any(has_variable(text, v) for _, text in texts)]
    shown = ", ".join(sorted({name for name, _ in texts}))
    inherited = "" if holder is level else f" (set in {label(holder)})" if holder is not None else ""
    where = "TLS " + server.label if level is server.block else label(level) + " of TLS " + server.label
    yield ctx.finding(
        first,
        f"{where} logs with format {shown}{inherited}, which has no {' and no '.join(missing)}: "
        "full handshakes cannot be counted",
        anchor=anchor(level, "access_log"),
        fix_note=NOTE,
    )
