"""NGX006 tls-listen-without-certificate: a TLS address:port whose server has no certificate.

nginx refuses to start with ``no "ssl_certificate" is defined for the "listen ... ssl"
directive in FILE:LINE`` (measured on 1.22.1), whatever the non-SNI policy (NGX301 says
what clients without SNI get from a configuration that loads):

* http{}: the default server of a TLS address:port has no ``ssl_certificate`` (its own,
  else http{}'s) and no ``ssl_reject_handshake on``; nginx names the ``server {`` line.
  When the default server rejects the handshake, every server of that address:port needs
  a certificate or ``ssl_reject_handshake on`` of its own, and nginx names the first that
  has neither. A virtual server without a certificate behind a default server that has
  one loads (its SNI clients get the default server's certificate).
* stream{}: a server with a ``listen ... ssl`` and no certificate (its own, else
  stream{}'s); nginx names the listen line. Only the default server of each address:port
  is judged: on nginx before 1.25.5 each stream address:port has one server, and what
  later releases say of a virtual server without one is not measured.
* the legacy ``ssl on;`` (its own or http{}'s) without a certificate: nginx names the
  ``ssl`` line, ``no "ssl_certificate" is defined for the "ssl" directive``, before 1.25.1
  (which removed ``ssl``: NGX304).

Only a whole configuration (nginx.conf's context, every include followed) is judged: a
file of server blocks may be included where http{} sets the certificate.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks._placeholders import templated
from tlslint.checks._protocols import flag_on, server_anchor_directive
from tlslint.checks._session import anchor
from tlslint.findings import Finding
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import MAIN, NginxConfig, Server

CODE = "NGX006"
NGINX_SAYS = '`no "ssl_certificate" is defined for the "listen ... ssl" directive`'
NOTE = (
    "no automatic fix: give the server its certificate and key (ssl_certificate, "
    "ssl_certificate_key), or, for a catch-all that should turn clients without a known name "
    "away, `ssl_reject_handshake on` (nginx >= 1.19.4)"
)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        if config.context != MAIN or config.incomplete:
            continue
        yield from _http(ctx, config)
        if config.stream is not None:
            yield from _stream(ctx, config.stream)


def certificates(server: Server) -> list[Directive]:
    """The server's ssl_certificate lines, or those of the block it inherits from (all or
    nothing: a server's own lines replace the inherited ones)."""
    own = server.block.all("ssl_certificate")
    if own:
        return own
    return server.http.all("ssl_certificate") if server.http is not None else []


def _undecided(server: Server) -> bool:
    """Whether a template or an include not followed may give the server what it lacks."""
    return server.unresolved or templated(server.effective("ssl_reject_handshake"))


def _http(ctx: RuleContext, config: NginxConfig) -> Iterator[Finding]:
    reported: set[int] = set()
    yield from _ssl_on(ctx, config, reported)
    for socket in config.groups:
        if socket not in config.tls_sockets:
            continue
        default = config.default_server(socket)
        if default is None or _undecided(default) or certificates(default):
            continue
        if not flag_on(default.effective("ssl_reject_handshake")):
            if id(default) not in reported:
                reported.add(id(default))
                sockets = ", ".join(s for s in default.default_for if s in config.tls_sockets)
                yield ctx.finding(
                    server_anchor_directive(default),
                    f"{default.label}, the default server of {sockets}, has no ssl_certificate and "
                    f"no `ssl_reject_handshake on`: nginx refuses to start ({NGINX_SAYS})",
                    anchor=anchor(default, "ssl_certificate"),
                    fix_note=NOTE,
                )
            continue
        # A rejecting default server: nginx asks every server of the socket for either.
        for server in config.groups[socket]:
            if server is default or id(server) in reported or _undecided(server):
                continue
            if certificates(server) or flag_on(server.effective("ssl_reject_handshake")):
                continue
            reported.add(id(server))
            yield ctx.finding(
                server_anchor_directive(server),
                f"{server.label} has no ssl_certificate and no `ssl_reject_handshake on`, and the "
                f"default server of {socket}, {default.label}, rejects the handshake: then every "
                f"server of {socket} needs one or the other, and nginx refuses to start ({NGINX_SAYS})",
                related=[related(server_anchor_directive(default), f"the default server of {socket}")],
                anchor=anchor(server, "ssl_certificate"),
                fix_note=NOTE,
            )


def _ssl_on(ctx: RuleContext, config: NginxConfig, reported: set[int]) -> Iterator[Finding]:
    """A server with the legacy ``ssl on;`` (its own or http{}'s) and neither a certificate
    nor ``ssl_reject_handshake on``: nginx refuses it while it reads the server, before any
    address:port is judged, naming the ``ssl`` line (measured on 1.22.1); since 1.25.1 it
    refuses ``ssl`` itself (NGX304)."""
    lines: set[int] = set()
    for server in config.servers:
        ssl = server.ssl_on
        if ssl is None or _undecided(server) or certificates(server):
            continue
        if flag_on(server.effective("ssl_reject_handshake")):
            continue
        reported.add(id(server))
        if id(ssl) in lines:
            continue  # an http-level `ssl on;`: one finding, at its line
        lines.add(id(ssl))
        yield ctx.finding(
            ssl,
            f"{server.label} has `ssl on;` and no ssl_certificate nor `ssl_reject_handshake on`: nginx "
            f'refuses to start (`no "ssl_certificate" is defined for the "ssl" directive`; since '
            "1.25.1 nginx has no `ssl` directive at all, NGX304)",
            anchor=anchor(server, "ssl_certificate"),
            fix_note=NOTE,
        )


def _stream(ctx: RuleContext, config: NginxConfig) -> Iterator[Finding]:
    for server in config.servers:
        listen = next((lst for lst in server.listens if lst.ssl and lst.directive is not None), None)
        if listen is None or listen.directive is None or config.default_server(listen.socket) is not server:
            continue
        if _undecided(server) or certificates(server) or flag_on(server.effective("ssl_reject_handshake")):
            continue
        yield ctx.finding(
            listen.directive,
            f"{server.label} listens with ssl on {listen.socket} and has no ssl_certificate, "
            f"neither its own nor stream{{}}'s: nginx refuses to start ({NGINX_SAYS})",
            anchor=anchor(server, "ssl_certificate"),
            fix_note=NOTE,
        )
