"""NGX107 ssl-session-cache-not-on-default-server: vhost settings the default server overrides."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks._placement import http_target
from tlslint.checks._session import anchor, effective_cache, tickets_on, tls_servers
from tlslint.findings import Finding, Fix, Severity
from tlslint.nginx_edits import remove_directive
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Server, is_default

CODE = "NGX107"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        for server in tls_servers(config):
            if is_default(server):
                continue
            own_cache = server.block.last("ssl_session_cache")
            own_key = server.block.last("ssl_session_ticket_key")
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
                    fix = _move_to_http(server, default, directive)
                    yield ctx.finding(
                        directive,
                        f"{directive.name} here is not used: sessions on {listen.socket} are "
                        f"resumed in the context of its default server {default.label}, which "
                        f"has no {what}; move the setting to http{{}} or onto the default server",
                        severity=Severity.ERROR if not tickets_on(server) else None,
                        related=[
                            related(
                                default.block.directive or default.block.children[0],
                                f"default server for {listen.socket}",
                            )
                        ],
                        anchor=anchor(server, directive.name),
                        fix=fix,
                        fix_note="" if fix is not None else _no_fix(server, default),
                    )


NO_HTTP_NOTE = "no automatic fix: this file has no http{} block; add the setting to the default server"


def _no_fix(server: Server, default: Server) -> str:
    if server.http is None or server.http.directive is None:
        return NO_HTTP_NOTE
    return (
        f"no automatic fix: put the setting on the default server {default.label} "
        "(http{} has one already, or the default server's own line would win over it)"
    )


def _move_to_http(server: Server, default: Server, directive: Directive) -> Fix | None:
    """Safe: nginx ignores the line where it is (only the default server's cache and
    keys count, facts §1), and http{} lacks it; None when the default server's own
    line would still win over http{}."""
    target = http_target(server)
    if target is None or target.has(directive.name) or default.block.last(directive.name) is not None:
        return None
    statement = directive.source.text[directive.start : directive.end]
    return Fix(
        f"move `{statement}` to http{{}} so that the default server inherits it",
        (remove_directive(directive), target.insert(statement)),
    )
