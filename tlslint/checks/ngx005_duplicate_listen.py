"""NGX005 duplicate-listen: two default servers of one address:port, socket options
(``reuseport``, ``backlog=``...) given by two servers' listens of one address:port, or one
server listening on an address:port twice. nginx refuses to start on each, on every
release (measured on 1.22.1); the finding is at the later line, where nginx reports it.

Sockets are compared as ``parse_listen`` normalises them (``443``, ``*:443`` and
``0.0.0.0:443`` are one; so are ``[::0]:443`` and ``[::]:443``). A host name is compared
with the same name only: nginx resolves it once per listen, so one name gives one address
each time (``localhost:8443`` twice is a duplicate; measured), while a name and an
address are not compared (what it resolves to is the host's). Variables and QUIC or UDP
sockets are not compared (a variable is a template's).
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.findings import Finding
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Listen, NginxConfig, Server, message_address, resolution_note, scopes

CODE = "NGX005"
# The listen parameters that set the socket itself (nginx's "set" options): one listen of
# an address:port may give them, and any of them in two servers is "duplicate listen
# options" (measured on 1.22.1 for each pair tried, including two different options).
SOCKET_OPTIONS = frozenset(
    {
        "backlog", "rcvbuf", "sndbuf", "accept_filter", "deferred", "bind", "ipv6only",
        "reuseport", "so_keepalive", "fastopen", "setfib",
    }
)  # fmt: skip
NOTE = (
    "no automatic fix: keep default_server on the one server that should answer clients "
    "whose name matches no server, and remove it from the others"
)
REPEATED_NOTE = "no automatic fix: remove one of the two listen lines"
OPTIONS_NOTE = (
    "no automatic fix: keep the socket options on one listen of the address:port (the "
    "default server's is usual) and remove them from the others: they apply to every server there"
)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        for scope in scopes(config):
            yield from _repeated(ctx, scope)
            if scope is config:  # stream's shared ports are NGX004's (virtual servers from 1.25.5)
                yield from _shared_sockets(ctx, scope)


def _compared(socket: str) -> str | None:
    """How nginx writes an address:port (``message_address``), or None where it is not
    compared."""
    if socket.endswith(("/quic", "/udp")):
        return None  # a QUIC or UDP socket
    return message_address(socket)


def _repeated(ctx: RuleContext, config: NginxConfig) -> Iterator[Finding]:
    for server in config.servers:
        if len(server.listens) < 2:
            continue  # one listen cannot repeat (most servers)
        seen: dict[str, Listen] = {}
        for listen in server.listens:
            if listen.directive is None:
                continue  # the implicit *:80
            earlier = seen.setdefault(listen.socket, listen)
            address = None if earlier is listen else _compared(listen.socket)
            if address is None:
                continue  # the first listen on its socket, or a socket not compared
            words = (
                f'`duplicate "{address}" address and port pair` on 1.22.1'
                if server.stream
                else f"`a duplicate listen {address}`"
            )
            yield _second(
                ctx,
                (server, listen),
                earlier,
                f"{server.label} listens on {listen.socket} twice: nginx refuses to start "
                f"({words}{resolution_note(listen.socket, address)})",
                f"the first listen on {listen.socket}",
                "",
                REPEATED_NOTE,
            )


def _shared_sockets(ctx: RuleContext, config: NginxConfig) -> Iterator[Finding]:
    """Per address:port: a second server's socket options, and a second default server."""
    # A listen's socket options by its arguments: 10,000 servers write a handful of forms.
    options_of: dict[tuple[str, ...], str] = {}
    for socket, servers in config.groups.items():
        address = _compared(socket)
        if address is None:
            continue
        first: tuple[Server, Listen] | None = None
        optioned: tuple[Server, Listen, str] | None = None
        for server in servers:
            # The server's listens on this socket (not the implicit *:80 of a server without
            # a listen line): the first that sets socket options, the first default_server.
            # One loop, not a list and two scans: it runs for every server of the socket.
            options: tuple[Listen, str] | None = None
            listen: Listen | None = None
            for lst in server.listens:
                if lst.socket != socket or lst.directive is None:
                    continue
                if options is None:
                    args = lst.directive.args
                    found = options_of.get(args)
                    if found is None:
                        found = options_of[args] = _socket_options(lst)
                    if found:
                        options = (lst, found)
                if listen is None and lst.default:
                    listen = lst
            if options is not None and optioned is None:
                optioned = (server, *options)
            elif options is not None and optioned is not None:
                yield _second(
                    ctx,
                    (server, options[0]),
                    optioned[1],
                    f"{server.label} sets socket options ({options[1]}) on {socket}, and so does "
                    f"{optioned[0].label} ({optioned[2]}): only one listen of an address:port may set "
                    "them (they belong to the one socket its servers share); nginx refuses to start "
                    f"(`duplicate listen options for {address}`{resolution_note(socket, address)})",
                    f"the first socket options on {socket}",
                    " options",
                    OPTIONS_NOTE,
                )
            if listen is None:
                continue
            if first is None:
                first = (server, listen)
                continue
            yield _second(
                ctx,
                (server, listen),
                first[1],
                f"{server.label} is a second default_server of {socket} (the first is {first[0].label}): "
                "nginx refuses to start "
                f"(`a duplicate default server for {address}`{resolution_note(socket, address)})",
                f"the first default_server of {socket}",
                "",
                NOTE,
            )


def _socket_options(listen: Listen) -> str:
    """The socket options a listen line gives, as written (`reuseport backlog=4096`)."""
    assert listen.directive is not None
    return " ".join(arg for arg in listen.directive.args[1:] if arg.split("=", 1)[0] in SOCKET_OPTIONS)


def _second(
    ctx: RuleContext,
    later: tuple[Server, Listen],
    earlier: Listen,
    message: str,
    earlier_note: str,
    anchor_suffix: str,
    fix_note: str,
) -> Finding:
    """The finding at the later listen line, where nginx reports it, the earlier related."""
    server, listen = later
    assert listen.directive is not None and earlier.directive is not None
    kind = "stream" if server.stream else "http"
    return ctx.finding(
        listen.directive,
        message,
        related=[related(earlier.directive, earlier_note)],
        anchor=f"{kind} > {server.anchor_label} > listen[{listen.socket}]{anchor_suffix}",
        fix_note=fix_note,
    )
