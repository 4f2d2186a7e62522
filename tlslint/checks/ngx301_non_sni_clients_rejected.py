"""NGX301 non-sni-clients-rejected: the default server of a TLS socket serves no certificate.

A client that sends no SNI is handled by the default server of the listen
socket (``default_server``, else the first server on it). When that server
rejects the handshake or has no certificate it can load, such clients cannot
connect: the nginx twin of the Apigee hybrid non-SNI failure (seeds 000/001).
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks._placeholders import templated
from tlslint.checks._protocols import flag_on, labels, server_anchor_directive
from tlslint.checks._session import anchor
from tlslint.findings import Finding, Related, Severity
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server

CODE = "NGX301"

SNI_VARIABLE = "$ssl_server_name"
NO_FIX = (
    "no automatic fix: serving clients without SNI needs a certificate on the default server; "
    'if rejecting them is intended, set non-sni = "forbidden"'
)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    policy = ctx.settings.non_sni
    if policy == "forbidden":
        return
    severity = Severity.ERROR if policy == "required" else Severity.INFO
    for config in workspace.nginx:
        for default, sockets in _defaults(config):
            problem = _problem(config, default)
            if problem is None:
                continue
            where, reason, symptom = problem
            if reason == NO_CERTIFICATE and config.context == "main":
                continue  # a whole configuration nginx refuses: NGX006's, whatever the policy
            others = _sni_servers(config, default, sockets)
            served = f"; only clients that send SNI for {labels(others)} are served" if others else ""
            notes: list[Related] = []
            if where is not server_anchor_directive(default):
                notes.append(
                    related(server_anchor_directive(default), f"default server for {', '.join(sockets)}")
                )
            if reason == NO_CERTIFICATE:
                # A file of servers: nginx does not start unless the includer supplies it.
                message = (
                    f"the default server {default.label} of {', '.join(sockets)} has no ssl_certificate"
                    f"{UNLESS_INCLUDER} nginx -t refuses the configuration ({symptom}), and no "
                    f"client connects, with or without SNI; non-sni policy: {policy}"
                )
            else:
                message = (
                    f"clients that send no SNI cannot connect to {', '.join(sockets)}: its default server "
                    f"{default.label} {reason} ({symptom}){served}; non-sni policy: {policy}"
                )
            yield ctx.finding(
                where,
                message,
                severity=severity,
                related=notes,
                anchor=anchor(default, "ssl_reject_handshake" if "reject" in reason else "ssl_certificate"),
                fix_note=NO_FIX,
            )


def _defaults(config: NginxConfig) -> list[tuple[Server, list[str]]]:
    """Each TLS socket's default server, with the sockets it is the default for."""
    found: dict[int, tuple[Server, list[str]]] = {}
    for socket in config.groups:
        if socket not in config.tls_sockets:
            continue
        default = config.default_server(socket)
        if default is None:
            continue
        found.setdefault(id(default), (default, []))[1].append(socket)
    return list(found.values())


NO_CERTIFICATE = "has no ssl_certificate"


# A file of server blocks is included into an http{} that may set the certificate (a
# whole configuration without one is NGX006's).
UNLESS_INCLUDER = " in this file: unless the http{} that includes it sets one,"


def certificates(server: Server) -> list[Directive]:
    """The server's ssl_certificate lines, or the http-level ones it inherits (all or nothing)."""
    own = server.block.all("ssl_certificate")
    if own:
        return own
    return server.http.all("ssl_certificate") if server.http is not None else []


def _problem(config: NginxConfig, server: Server) -> tuple[Directive, str, str] | None:
    reject = server.effective("ssl_reject_handshake")
    if templated(reject):
        return None  # whether it rejects (and then needs no certificate) is the template's
    if flag_on(reject):
        assert reject is not None
        return (
            reject,
            "has `ssl_reject_handshake on`",
            "the handshake fails with an `unrecognized_name` alert: curl says `tlsv1 unrecognized "
            "name`, openssl s_client -noservername `no peer certificate available`",
        )
    certs = certificates(server)
    if not certs:
        if config.incomplete:
            return None  # the certificate may come from an include that was not followed
        return (
            server_anchor_directive(server),
            NO_CERTIFICATE,
            '`no "ssl_certificate" is defined for the "listen ... ssl" directive`',
        )
    if all(SNI_VARIABLE in " ".join(cert.args) for cert in certs):
        return (
            certs[0],
            f"loads its certificate by `{SNI_VARIABLE}`, which is empty without SNI",
            'nginx logs `cannot load certificate "….crt"` and the handshake fails with an '
            "`internal_error` alert",
        )
    return None


def _sni_servers(config: NginxConfig, default: Server, sockets: list[str]) -> list[Server]:
    found: dict[int, Server] = {}  # by identity, in order: a socket may hold 10,000 servers
    for socket in sockets:
        for server in config.groups.get(socket, []):
            if server is default or id(server) in found:
                continue
            reject = server.effective("ssl_reject_handshake")
            if certificates(server) and not flag_on(reject) and not templated(reject):
                found[id(server)] = server
    return list(found.values())
