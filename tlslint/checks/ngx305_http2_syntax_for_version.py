"""NGX305 http2-syntax-for-version: HTTP/2 switched on with the syntax the version lacks.

``http2 on;`` appeared in nginx 1.25.1 (before it: ``unknown directive "http2"``);
from 1.25.1 ``listen ... http2`` is deprecated (facts §1, §4).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from tlslint.checks import RuleContext
from tlslint.checks._placeholders import placeholder_note, templated, templated_line
from tlslint.checks._placement import http_target, server_target
from tlslint.checks._protocols import (
    argument_index,
    block_anchor,
    combine,
    flag_on,
    flag_sites,
    http2_sockets,
    inherited_flag,
    listen_owners,
    server_map,
    servers_deciding,
)
from tlslint.checks._session import rejects_handshakes
from tlslint.findings import Edit, Finding, Fix, Severity
from tlslint.nginx_edits import insert_argument, remove_argument, remove_directive
from tlslint.nginx_versions import HTTP2_DIRECTIVE, written_series
from tlslint.sources.nginx.model import Directive
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block, NginxConfig, Server, per_config

CODE = "NGX305"

LISTEN_WARNING = 'the "listen ... http2" directive is deprecated, use the "http2" directive instead'


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        # `http2 on;` itself proves 1.25.1 or later (nginx would not start otherwise),
        # unless something else contradicts it (NGX004) or a declared version refuses it.
        versions = workspace.nginx_versions(config)
        new_syntax = versions.at_least(HTTP2_DIRECTIVE)
        servers = server_map(config)
        if new_syntax is not True:
            yield from _directives(ctx, config, versions, servers)
        if new_syntax is not False:
            yield from _listens(ctx, config, versions, servers)


# --------------------------------------------------------------------------- `http2 on;` before 1.25.1


def _directives(
    ctx: RuleContext, config: NginxConfig, versions: VersionRange, servers: dict[int, Server]
) -> Iterator[Finding]:
    for directive, blocks in flag_sites(config, "http2"):
        written = f"`http2 {' '.join(directive.args)};`"
        if versions.at_least(HTTP2_DIRECTIVE) is False:
            fix, note = combine([_directive_fix(config, block, block.all("http2")) for block in blocks])
            series = written_series(ctx.settings.nginx_version_text) if versions.set_by_setting else None
            if series is not None and series[0] < HTTP2_DIRECTIVE < series[1]:
                # "1.25" is read as 1.25.0, but 1.25.1 and later in that series read the
                # line and deprecate `listen ... http2`: no fix without the exact release.
                fix, note = (
                    None,
                    (
                        f"no automatic fix: nginx.version {ctx.settings.nginx_version_text.strip()} names a "
                        "series in which `http2 on;` appeared (1.25.1): give the exact release (`nginx -v`)"
                    ),
                )
            message = (
                f"{written} needs nginx 1.25.1: {versions.name()} refuses to start "
                '(`unknown directive "http2"`); use the `http2` parameter of `listen`'
            )
            severity = Severity.ERROR
        else:
            message = (
                f"{written} appeared in nginx 1.25.1: older versions refuse to start "
                f'(`unknown directive "http2"`) ({versions.unsettled()}: set nginx.version to decide, '
                "and to get a fix)"
            )
            severity = Severity.INFO
            fix, note = None, "no automatic fix: the right syntax depends on the nginx version"
        yield ctx.finding(
            directive,
            message,
            severity=severity,
            anchor=block_anchor(blocks[0], servers, "http2"),
            fix=fix,
            fix_note=note,
        )


def _directive_fix(config: NginxConfig, block: Block, directives: list[Directive]) -> tuple[Fix | None, str]:
    """Before 1.25.1 HTTP/2 is a listen parameter: put ``http2`` on the TLS listen
    lines of the servers that inherit ``http2 on`` from here, and remove the lines."""
    removals = tuple(remove_directive(directive) for directive in directives)
    own = templated_line(directives)
    if own is not None:
        return None, placeholder_note(own)  # on or off is the template's: so is the listen parameter
    if not flag_on(directives[-1]):
        inherited = inherited_flag(block, "http2")
        if flag_on(inherited):
            return None, "fix the http-level `http2 on;` first: without this line the server would inherit it"
        if inherited is not None and templated(inherited):
            return None, placeholder_note(inherited)  # what the server would inherit is the template's
        return Fix("remove the `http2 off;` line (off is the default)", removals), ""
    edits: list[Edit] = []
    sockets: list[str] = []
    deciding = servers_deciding(config, block, "http2")
    for server in deciding:
        for listen in server.listens:
            if (
                listen.directive is None
                or not listen.directive.args
                or listen.socket not in config.tls_sockets
            ):
                continue
            if listen.socket not in sockets:
                sockets.append(listen.socket)
            if listen.http2:
                continue
            index = argument_index(listen.directive, ("default_server", "default", "ssl"))
            edits.append(insert_argument(listen.directive, index, "http2"))
    if not sockets:
        return None, (
            "no automatic fix: no TLS listen to put `http2` on (before 1.25.1 `listen ... http2` "
            "on a plain port makes it HTTP/2-only)"
        )
    # Before 1.25.1 the parameter gives HTTP/2 to every server on the socket: the default
    # server and servers in other files too, not only those this line was written for.
    # The servers that hold `http2 on;` keep it (their own lines move the same way).
    others = _without_http2_by_socket(config)
    shown: list[Server] = []  # the first few, for the message
    count = 0
    seen: set[int] = set()
    for socket in sockets:
        group = others.get(socket, [])
        if len(sockets) == 1:  # the common case: no union over a group of 10,000
            shown, count = group[:3], len(group)
            break
        for server in group:
            if id(server) not in seen:
                seen.add(id(server))
                count += 1
                if len(shown) < 3:
                    shown.append(server)
    description = f"add `http2` to the TLS listen lines ({', '.join(sockets)}) and remove `http2 on;`"
    if count:
        names = ", ".join(
            server.label + (" despite its `http2 off`" if _explicit_off(server) else "") for server in shown
        )
        more = f" and {count - len(shown)} more" if count > len(shown) else ""
        return Fix(
            f"{description} (unsafe: a listen parameter applies to every server on the socket, "
            f"so {names}{more} would get HTTP/2 too)",
            (*edits, *removals),
            safe=False,
        ), ""
    return Fix(
        f"{description}; a listen parameter applies to every server on the socket", (*edits, *removals)
    ), ""


def _explicit_off(server: Server) -> bool:
    directive = server.effective("http2")
    return directive is not None and not flag_on(directive) and not templated(directive)


@per_config
def _without_http2_by_socket(config: NginxConfig) -> dict[str, list[Server]]:
    """The servers on each TLS socket that a `listen ... http2` there would give HTTP/2
    before 1.25.1 and that do not have it: no `http2 on` in force, no such listen on the
    socket already, and a handshake of their own. Indexed once, in group order: asked
    for each ``http2 on;`` line, and a socket may hold 10,000 servers."""
    flagged = http2_sockets(config)
    return {
        socket: [
            server
            for server in group
            if not flag_on(server.effective("http2")) and not rejects_handshakes(server)
        ]
        for socket, group in config.groups.items()
        if socket in config.tls_sockets and socket not in flagged
    }


# --------------------------------------------------------------------------- `listen ... http2` since 1.25.1


@dataclass
class _Component:
    """Sockets that share servers, and what moving their http2 flag needs."""

    sockets: list[str] = field(default_factory=list)
    listens: list[Directive] = field(default_factory=list)
    add_to: list[Server] = field(default_factory=list)
    refusing: list[Server] = field(default_factory=list)  # `http2 off` (or a template's) the flag overrides
    widened: list[str] = field(default_factory=list)  # server@socket that would newly get HTTP/2


def _listens(
    ctx: RuleContext, config: NginxConfig, versions: VersionRange, servers: dict[int, Server]
) -> Iterator[Finding]:
    components = _components(config)
    settled = versions.at_least(HTTP2_DIRECTIVE) is True
    fixes = _listen_fixes(config, components) if settled else {}
    owners = listen_owners(config)
    for index, component in enumerate(components):
        fix, note = fixes.get(index, (None, ""))
        if not settled:
            note = "no automatic fix: `listen ... http2` is the only syntax before nginx 1.25.1"
        for listen in component.listens:
            server = owners.get(id(listen))
            if settled:
                message = (
                    f"`listen {' '.join(listen.args)}` uses the http2 parameter, deprecated since nginx "
                    f"1.25.1: {versions.name()} warns `{LISTEN_WARNING}`; use `http2 on;`"
                )
                severity = Severity.WARNING
            else:
                message = (
                    f"`listen {' '.join(listen.args)}` uses the http2 parameter: nginx 1.25.1 and later "
                    f"deprecate it (`{LISTEN_WARNING}`), older versions have nothing else "
                    f"({versions.unsettled()})"
                )
                severity = Severity.INFO
            yield ctx.finding(
                listen,
                message,
                severity=severity,
                anchor=block_anchor(server.block, servers, "listen[http2]") if server else "listen[http2]",
                fix=fix,
                fix_note=note,
            )


def _components(config: NginxConfig) -> list[_Component]:
    """Group the sockets with a ``listen ... http2`` by the servers they share."""
    flagged = [
        socket
        for socket, group in config.groups.items()
        if any(lst.socket == socket and lst.http2 for server in group for lst in server.listens)
    ]
    parent = {socket: socket for socket in flagged}

    def root(socket: str) -> str:
        while parent[socket] != socket:
            socket = parent[socket]
        return socket

    for server in config.servers:
        mine = [lst.socket for lst in server.listens if lst.socket in parent]
        for other in mine[1:]:
            parent[root(other)] = root(mine[0])
    grouped: dict[str, _Component] = {}
    for socket in flagged:
        grouped.setdefault(root(socket), _Component()).sockets.append(socket)
    for component in grouped.values():
        _plan(config, component)
    return list(grouped.values())


def _plan(config: NginxConfig, component: _Component) -> None:
    """A listen parameter gives HTTP/2 to the whole socket: on a TLS socket every
    server on it negotiates h2 by ALPN; on a plain one the default server decides."""
    needing: list[Server] = []
    needing_ids: set[int] = set()  # a socket may hold 10,000 servers
    listen_ids = {id(d) for d in component.listens}
    for socket in component.sockets:
        group = config.groups.get(socket, [])
        for server in group:
            for listen in server.listens:
                directive = listen.directive
                if listen.socket != socket or not listen.http2 or directive is None:
                    continue
                if id(directive) not in listen_ids:
                    listen_ids.add(id(directive))
                    component.listens.append(directive)
        if socket in config.tls_sockets:
            candidates = group
        else:
            default = config.default_server(socket)
            candidates = [default] if default is not None else []
        for server in candidates:
            if id(server) not in needing_ids:
                needing_ids.add(id(server))
                needing.append(server)
    component.listens.sort(key=lambda d: (str(d.path), d.start))
    for server in needing:
        directive = server.effective("http2")
        if flag_on(directive):
            continue
        if directive is not None:
            component.refusing.append(server)
            continue
        component.add_to.append(server)
        for listen in server.listens:
            if listen.socket in config.tls_sockets and listen.socket not in component.sockets:
                component.widened.append(f"{server.label} on {listen.socket}")


def _refusing_note(refusing: list[Server]) -> str:
    """Why a component whose servers set ``http2`` themselves gets no fix."""
    line = templated_line(server.effective("http2") for server in refusing)
    if line is not None:
        return placeholder_note(line)  # on or off is the template's, not `off`
    names = ", ".join(server.label for server in refusing)
    return (
        f"no automatic fix: {names} sets `http2 off`, which the listen parameter overrides "
        "today; decide whether it should have HTTP/2, then use `http2 on;`/`off;`"
    )


def _listen_fixes(config: NginxConfig, components: list[_Component]) -> dict[int, tuple[Fix | None, str]]:
    """Per component: drop the http2 parameter, add `http2 on;` where it is needed
    (once in http{} when every server there, and more than one, needs it: the same thing)."""
    adding = [server for component in components for server in component.add_to]
    http_edit: Edit | None = None
    blocked = any(component.refusing for component in components)
    if len(adding) > 1 and not blocked:  # one server: the line reads better in it
        http = adding[0].http
        target = http_target(adding[0])
        in_http = [server for server in config.servers if server.http is http]
        if target is not None and not target.has("http2") and set(map(id, in_http)) == set(map(id, adding)):
            http_edit = target.insert("http2 on;", group="listen")
    result: dict[int, tuple[Fix | None, str]] = {}
    for index, component in enumerate(components):
        if component.refusing:
            result[index] = (None, _refusing_note(component.refusing))
            continue
        edits: list[Edit] = []
        for listen in component.listens:
            position = next(i for i, arg in enumerate(listen.args) if i and arg == "http2")
            edits.append(remove_argument(listen, position))
        where = "http{}"
        if http_edit is not None and component.add_to:
            edits.append(http_edit)
        elif component.add_to:
            targets = [server_target(config, server) for server in component.add_to]
            if any(target is None for target in targets):
                result[index] = (
                    None,
                    "no automatic fix: a server to add `http2 on;` to is not in a file here",
                )
                continue
            edits.extend(
                target.insert("http2 on;", group="listen") for target in targets if target is not None
            )
            where = ", ".join(target.label for target in targets if target is not None)
        description = "remove the http2 parameter from the listen lines"
        if component.add_to:
            description += f" and add `http2 on;` to {where}"
        else:
            description += " (every server on the socket already has `http2 on;`)"
        if component.widened:
            result[index] = (
                Fix(
                    f"{description} (unsafe: `http2 on;` also enables HTTP/2 for "
                    f"{', '.join(component.widened)}, where the socket had none)",
                    tuple(edits),
                    safe=False,
                ),
                "",
            )
        else:
            result[index] = (Fix(description, tuple(edits)), "")
    return result
