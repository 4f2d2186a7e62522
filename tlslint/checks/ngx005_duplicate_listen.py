"""NGX005 duplicate-listen: two default servers of one address:port, or one server
listening on an address:port twice. nginx refuses to start on either, on every release
(measured on 1.22.1); the finding is at the later line, where nginx reports it.

Sockets are compared as ``parse_listen`` normalises them (``443``, ``*:443`` and
``0.0.0.0:443`` are one); host names, variables and QUIC or UDP sockets are not
compared (nginx resolves a name; a variable is a template's).
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks.ngx004_nginx_version_evidence_conflict import nginx_address
from tlslint.findings import Finding
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Listen, NginxConfig, Server, scopes

CODE = "NGX005"
NOTE = (
    "no automatic fix: keep default_server on the one server that should answer clients "
    "whose name matches no server, and remove it from the others"
)
REPEATED_NOTE = "no automatic fix: remove one of the two listen lines"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        for scope in scopes(config):
            yield from _repeated(ctx, scope)
            if scope is config:  # stream's shared ports are NGX004's (virtual servers from 1.25.5)
                yield from _defaults(ctx, scope)


def _compared(listen: Listen) -> str | None:
    """How nginx writes the listen's address:port, or None where it is not compared."""
    if listen.directive is None or listen.socket.endswith(("/quic", "/udp")):
        return None  # no listen line (the implicit *:80), or a QUIC or UDP socket
    return nginx_address(listen.socket)


def _repeated(ctx: RuleContext, config: NginxConfig) -> Iterator[Finding]:
    for server in config.servers:
        seen: dict[str, Listen] = {}
        for listen in server.listens:
            address = _compared(listen)
            if address is None:
                continue
            earlier = seen.setdefault(listen.socket, listen)
            if earlier is listen:
                continue
            assert listen.directive is not None and earlier.directive is not None
            words = (
                f'`duplicate "{address}" address and port pair` on 1.22.1'
                if server.stream
                else f"`a duplicate listen {address}`"
            )
            yield ctx.finding(
                listen.directive,
                f"{server.label} listens on {listen.socket} twice: nginx refuses to start ({words})",
                related=[related(earlier.directive, f"the first listen on {listen.socket}")],
                anchor=f"{_where(server)} > listen[{listen.socket}]",
                fix_note=REPEATED_NOTE,
            )


def _defaults(ctx: RuleContext, config: NginxConfig) -> Iterator[Finding]:
    for socket, servers in config.groups.items():
        first: tuple[Server, Listen] | None = None
        for server in servers:
            listen = next((lst for lst in server.listens if lst.socket == socket and lst.default), None)
            if listen is None:
                continue
            address = _compared(listen)
            if address is None:
                break  # the socket is not compared: nor is any of its listens
            if first is None:
                first = (server, listen)
                continue
            assert listen.directive is not None and first[1].directive is not None
            yield ctx.finding(
                listen.directive,
                f"{server.label} is a second default_server of {socket} (the first is {first[0].label}): "
                f"nginx refuses to start (`a duplicate default server for {address}`)",
                related=[related(first[1].directive, f"the first default_server of {socket}")],
                anchor=f"{_where(server)} > listen[{socket}]",
                fix_note=NOTE,
            )


def _where(server: Server) -> str:
    return f"{'stream' if server.stream else 'http'} > {server.label}"
