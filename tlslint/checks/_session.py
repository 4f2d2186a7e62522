"""Session-resumption facts shared by the NGX1xx checks (facts/nginx.md §1)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from tlslint.nginx_values import seconds, templated
from tlslint.nginx_versions import STREAM_VIRTUAL_SERVERS
from tlslint.sources.nginx.model import Directive
from tlslint.units import parse_size
from tlslint.version_range import VersionRange
from tlslint.workspace.nginx import Block, NginxConfig, Server, is_default, per_config, scopes


@dataclass(frozen=True, slots=True)
class SharedZone:
    """A ``shared:NAME:SIZE`` session cache zone as declared."""

    name: str
    size: int | None  # bytes; None when the size does not parse
    size_text: str
    directive: Directive


@dataclass(frozen=True, slots=True)
class SessionCache:
    """The effective session cache of one server."""

    directive: Directive | None  # the ssl_session_cache that decides it
    disabled: bool  # none / off (or unset)
    builtin: bool
    shared: SharedZone | None
    lines: tuple[Directive, ...] = ()  # the lines that decide it

    @property
    def refused(self) -> bool:
        """A deciding line nginx cannot read (NGX012's): nginx loads nothing, so what the
        cache would do is not judged, nor a line added beside it. Asked only where a
        rule would speak (rarely), so not worked out for every server."""
        from tlslint.nginx_values import SESSION_CACHE

        return not all(SESSION_CACHE.accepts(arg) for line in self.lines for arg in line.args)

    @property
    def present(self) -> bool:
        return not self.disabled and (self.builtin or self.shared is not None)

    @property
    def state(self) -> str:
        if self.directive is None:
            return "unset (default none)"
        return " ".join(self.directive.args)


# The last lines read, held (a Directive is equal only to itself, so never another's by
# its id): http{}'s line, asked for each of its 10,000 servers in turn, stays held
# between servers' own lines.
@lru_cache(maxsize=2)
def parse_cache(directive: Directive) -> tuple[bool, bool, SharedZone | None]:
    """(disabled, builtin, shared zone) as written in one ssl_session_cache."""
    disabled = False
    builtin = False
    shared = None
    for arg in directive.args:
        if arg in ("off", "none"):
            disabled = True
        elif arg == "builtin" or arg.startswith("builtin:"):
            builtin = True
        elif arg.startswith("shared:"):
            _, _, rest = arg.partition(":")
            name, _, size = rest.rpartition(":")
            if name:
                shared = SharedZone(name, parse_size(size), size, directive)
    return disabled, builtin, shared


def effective_cache(server: Server) -> SessionCache:
    """ngx_http_ssl_merge_srv_conf: a server without a shared zone of its own
    inherits http's; ``none``/``off`` in the server disables it (measured 0/30)."""
    if server.session_cache is None:
        server.session_cache = _effective_cache(server)
    cache: SessionCache = server.session_cache
    return cache


def _effective_cache(server: Server) -> SessionCache:
    own = server.block.last("ssl_session_cache")
    inherited = server.http.last("ssl_session_cache") if server.http is not None else None
    if own is None:
        if inherited is None:
            return SessionCache(None, True, False, None)
        disabled, builtin, shared = parse_cache(inherited)
        return SessionCache(inherited, disabled, builtin, shared, (inherited,))
    disabled, builtin, shared = parse_cache(own)
    if disabled:
        return SessionCache(own, True, False, None, (own,))
    if shared is None and inherited is not None:
        _, _, shared = parse_cache(inherited)
        return SessionCache(own, False, builtin, shared, (own, inherited))
    return SessionCache(own, False, builtin, shared, (own,))


def tickets_on(server: Server) -> bool:
    if server.tickets is None:
        directive = server.effective("ssl_session_tickets")
        server.tickets = directive is None or directive.args[:1] != ("off",)
    return server.tickets


def tickets_templated(server: Server) -> bool:
    """Whether ``server``'s ssl_session_tickets is a template's placeholder: on or off is
    decided when the template is rendered (``tickets_on`` reads it as on)."""
    return templated(server.effective("ssl_session_tickets"))


def tls_servers(config: NginxConfig) -> Iterator[Server]:
    return (server for server in config.servers if server.tls)


def every_tls_server(config: NginxConfig) -> Iterator[tuple[NginxConfig, Server]]:
    """Each TLS server of http{} and then of stream{}, with the configuration whose
    sockets and default servers are its own (``NginxConfig.stream`` for stream's)."""
    return ((scope, server) for scope in scopes(config) for server in tls_servers(scope))


def of_stream_servers(config: NginxConfig, block: Block, decides: Callable[[Server], bool]) -> str:
    """How a message names the stream servers a setting in ``block`` decides for (those
    ``decides`` holds for): " of the stream server[*:8883]", " of stream{}" when none
    does; "" for a setting outside stream{}."""
    if not block.in_stream():
        return ""
    stream = config.stream
    labels = [s.label for s in tls_servers(stream) if decides(s)] if stream is not None else []
    if not labels:
        return " of stream{}"
    return " of the " + ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")


@per_config
def tls_server_of_block(config: NginxConfig) -> dict[int, Server]:
    """The first TLS server of each server{} block, by the block's id."""
    found: dict[int, Server] = {}
    for server in tls_servers(config):
        found.setdefault(id(server.block), server)
    return found


def rejects_handshakes(server: Server) -> bool:
    """``ssl_reject_handshake on``: the server completes no handshake of its own (it may
    still be the default server whose session settings others resume in)."""
    if server.rejects is None:
        directive = server.effective("ssl_reject_handshake")
        # A templated value may be `on`: its own handshakes are not judged either way.
        server.rejects = directive is not None and (directive.args[:1] == ("on",) or templated(directive))
    return server.rejects


def rejection_templated(server: Server) -> bool:
    """Whether a template decides the server's ``ssl_reject_handshake``."""
    return templated(server.effective("ssl_reject_handshake"))


def tls13_only(config: NginxConfig, server: Server, per_server: bool) -> bool:
    """Whether the server speaks nothing but TLS 1.3, by the ssl_protocols lines that
    decide for it: since 1.29.2 (``per_server``) its own; before, those of the default
    server of each of its TLS sockets (itself where it is one), as NGX302 reads them
    (facts §1). TLS 1.3 clients resume with tickets, and a session cache is for TLS 1.2
    clients (Mozilla's modern profile leaves it out for that reason). nginx's default
    always has TLS 1.2, and a template's placeholder is not known to leave it out."""
    deciders = [server]
    if not per_server:
        defaults = default_servers_of(config, server)
        deciders = [*defaults, server] if tls_default_for(config, server) or not defaults else defaults
    for decider in deciders:
        line = decider.effective("ssl_protocols")
        if line is None or {arg.lower() for arg in line.args} != {"tlsv1.3"}:
            return False
    return True


def ticket_blockers(config: NginxConfig, server: Server, sockets: list[str]) -> list[tuple[str, Server]]:
    """Of ``sockets`` (TLS sockets of ``server``), those whose default server is another
    one with ``ssl_session_tickets off``, with that server. Before nginx 1.29.2 the
    default server's context decides ticket resumption (it is set before the SNI
    callback picks the virtual server), so there ``server`` resumes no ticket even with
    tickets on. Measured on 1.22.1: with no cache, 0/3 resumed in TLS 1.2 and 1.3, with
    the virtual server's own ssl_session_ticket_key too. Since 1.29.2 the virtual
    server's own setting counts (facts §1)."""
    found = []
    for socket in sockets:
        default = config.default_server(socket)
        if default is not None and default is not server and not tickets_on(default):
            found.append((socket, default))
    return found


def ticket_keys(config: NginxConfig, server: Server) -> list[Directive]:
    """The ssl_session_ticket_key lines that encrypt ``server``'s tickets, or [] when
    nginx's random keys do: only the default servers' keys count (facts §1), so every
    default server of its TLS sockets must have them."""
    deciding = default_servers_of(config, server)
    if is_default(server) or not deciding:
        deciding.insert(0, server)
    found: list[Directive] = []
    for decider in deciding:
        level = decider.block if decider.block.all("ssl_session_ticket_key") else decider.http
        lines = level.all("ssl_session_ticket_key") if level is not None else []
        if not lines:
            return []
        found.extend(line for line in lines if line not in found)
    return found


def setting_anchor(config: NginxConfig, holder: Directive | None, name: str) -> str:
    """The anchor of setting ``name`` in the block ``holder`` (None: a file's top level):
    ``http > ssl_session_cache``, or a server's own ``... > server[a@*:443] > name``."""
    server = _servers_by_directive(config).get(id(holder)) if holder is not None else None
    if server is not None:
        return anchor(server, name)
    if holder is None:
        if config.context != "http":
            return name
        return f"stream > {name}" if config.module == "stream" else f"http > {name}"
    return f"{holder.name} > {name}"


@per_config
def _servers_by_directive(config: NginxConfig) -> dict[int, Server]:
    """The first server of each ``server`` directive, by its id (asked for each finding)."""
    found: dict[int, Server] = {}
    for server in config.servers:
        if server.block.directive is not None:
            found.setdefault(id(server.block.directive), server)
    return found


TIMEOUT = "ssl_session_timeout"
DEFAULT_TIMEOUT = "5m"  # nginx's, where no line decides


@dataclass(frozen=True, slots=True)
class SessionTimeout:
    """The ssl_session_timeout in force for one server."""

    directive: Directive | None  # the line that decides it; None: nginx's default
    seconds: float | None  # None: a value nginx refuses (NGX012's) or a placeholder

    @property
    def text(self) -> str:
        return (
            self.directive.args[0] if self.directive is not None and self.directive.args else DEFAULT_TIMEOUT
        )


def session_timeout(server: Server) -> SessionTimeout:
    """Its own line, else http{}'s (stream{}'s), else nginx's 5m."""
    directive = server.effective(TIMEOUT)
    return SessionTimeout(directive, timeout_seconds(directive))


def timeout_seconds(directive: Directive | None) -> float | None:
    if directive is None:
        return seconds(DEFAULT_TIMEOUT, in_seconds=True)
    return seconds(directive.args[0], in_seconds=True) if len(directive.args) == 1 else None


def stores_sessions(config: NginxConfig, server: Server, stream_known: bool) -> bool:
    """Whether new sessions get ``server``'s session settings (its timeout): it is the
    default server of one of its TLS sockets. nginx stores a session with the timeout of
    the SSL context that accepted it, the default server's, before SNI picks a virtual
    server (``SSL_CTX_get_timeout(c->ssl->session_ctx)``; measured on 1.22.1, TLS 1.2
    and 1.3). A server snippet checked alone, and a stream server whose socket's default
    cannot be told (``stream_default_unsettled``), may be one: they count."""
    return (
        bool(tls_default_for(config, server))
        or (server.synthetic and not server.listens)
        or stream_default_unsettled(config, server, stream_known)
    )


def tls_default_for(config: NginxConfig, server: Server) -> list[str]:
    """The TLS sockets ``server`` is the default server of (`listen 80; listen 443 ssl;`
    makes it the default of *:80 too, which carries neither sessions nor tickets)."""
    return [socket for socket in server.default_for if socket in config.tls_sockets]


def sockets_that_resume(config: NginxConfig, server: Server) -> list[str]:
    """Of the TLS sockets ``server`` is the default server of, those where some server may
    complete a handshake (its ssl_reject_handshake is not on, or is a template's): there a
    default server that rejects handshakes still holds the others' sessions (facts §1). On
    a socket whose every server rejects, no handshake completes and nothing resumes."""
    return [
        socket
        for socket in tls_default_for(config, server)
        if any(not rejects_handshakes(s) or rejection_templated(s) for s in config.groups.get(socket, ()))
    ]


def default_servers_of(config: NginxConfig, server: Server) -> list[Server]:
    """The default servers of the TLS sockets ``server`` listens on (not itself)."""
    found = []
    for listen in server.listens:
        if listen.socket not in config.tls_sockets:
            continue
        default = config.default_server(listen.socket)
        if default is not None and default is not server and default not in found:
            found.append(default)
    return found


def shares_tls_socket(config: NginxConfig) -> bool:
    """Whether two servers of ``config`` listen on one TLS socket (one of them is then a
    virtual server, whose sessions the other, the default server, resumes)."""
    return any(len(config.groups.get(socket, ())) > 1 for socket in config.tls_sockets)


def on_shared_socket(config: NginxConfig, server: Server) -> bool:
    """Whether another server of ``config`` listens on one of ``server``'s TLS sockets."""
    return any(
        len(config.groups.get(listen.socket, ())) > 1
        for listen in server.listens
        if listen.socket in config.tls_sockets
    )


def stream_default_unsettled(config: NginxConfig, server: Server, stream_known: bool) -> bool:
    """Whether ``server`` is a stream server whose socket's default server tlslint cannot
    name: it shares a TLS socket with another stream server, and the stream defaults are
    not known (``stream_known``, ``stream_defaults_known`` of the configuration's
    versions). Before 1.25.5 nginx refuses the second server (NGX004 says so where the
    version is known); from 1.25.5 the socket has a default server and virtual servers.
    The rules that speak of default servers (NGX101, NGX105, NGX107) say nothing of it."""
    return server.stream and not stream_known and on_shared_socket(config, server)


def stream_defaults_known(stream: NginxConfig | None, versions: VersionRange) -> bool:
    """Whether the default servers of stream{}'s sockets are known to be the ones tlslint
    finds. Before 1.25.5 a stream address:port has one server, its default (nginx refuses a
    second: `duplicate "0.0.0.0:5432" address and port pair`); from 1.25.5 (virtual servers,
    server_name by SNI) it is the `listen ... default_server` one, else the first, as in
    http{}. So: known when no TLS socket is shared, or on nginx known to be >= 1.25.5."""
    if stream is None or not shares_tls_socket(stream):
        return True
    return versions.at_least(STREAM_VIRTUAL_SERVERS) is True


@per_config
def default_zones(config: NginxConfig) -> frozenset[str]:
    """The shared zones that store and resume sessions for ``config``'s servers: those of
    its TLS default servers (sessions are looked up in the default server's cache only,
    facts §1). http{}'s and stream{}'s (``config.stream``) are apart: nginx keeps one
    zone name to one module ("already declared for a different use")."""
    found = set()
    for server in tls_servers(config):
        shared = effective_cache(server).shared
        if shared is not None and is_default(server):
            found.add(shared.name)
    return frozenset(found)


def zone_unused(config: NginxConfig, block: Block, name: str, versions: VersionRange) -> bool | None:
    """Whether no TLS default server of the module that declares zone ``name`` in ``block``
    (http's, or stream's) uses it; None when that cannot be told (stream{} servers sharing
    an address:port on nginx not known to be >= 1.25.5: ``stream_defaults_known``)."""
    if not block.in_stream():
        return name not in default_zones(config)
    stream = config.stream
    if stream is None:
        return True  # a stream{} without servers
    if not stream_defaults_known(stream, versions):
        return None
    return name not in default_zones(stream)


@per_config
def shared_cache_declarations(config: NginxConfig) -> tuple[tuple[Block, SharedZone], ...]:
    return tuple(_shared_cache_declarations(config))


def _shared_cache_declarations(config: NginxConfig) -> Iterator[tuple[Block, SharedZone]]:
    """Every ``shared:`` zone declared by ssl_session_cache, with its block; not mail{}'s,
    whose servers are not read (its zones are its module's own: NGX106 alone judges them,
    by name)."""
    seen: set[int] = set()
    for block in config.top.walk():
        if not block.has("ssl_session_cache") or block.module() == "mail":  # most blocks have none
            continue
        lines = block.all("ssl_session_cache")
        for directive in lines:
            if id(directive) in seen:
                continue
            seen.add(id(directive))
            _, _, shared = parse_cache(directive)
            if shared is not None:
                yield block, shared


def anchor(server: Server, name: str) -> str:
    parts = []
    block: Block | None = server.block.parent
    while block is not None:
        if block.context != "main":
            parts.append(block.context)
        block = block.parent
    parts.reverse()
    parts.append(server.anchor_label)
    parts.append(name)
    return " > ".join(parts)
