"""NGX107 ssl-session-cache-not-on-default-server: vhost settings the default server overrides."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks._session import anchor, effective_cache, tickets_on, tls_servers
from tlslint.findings import Finding, Severity
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import is_default

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
                cache_used = own_cache is not None and effective_cache(server).present
                if own_cache is not None and cache_used and not effective_cache(default).present:
                    lacking.append((own_cache, "a session cache"))
                if own_key is not None and default.effective("ssl_session_ticket_key") is None:
                    lacking.append((own_key, "a ticket key"))
                for directive, what in lacking:
                    severity = Severity.ERROR if not tickets_on(server) else None
                    yield ctx.finding(
                        directive,
                        f"{directive.name} here is not used: sessions on {listen.socket} are "
                        f"resumed in the context of its default server {default.label}, which "
                        f"has no {what.split(' ', 1)[1]}; move the setting to http{{}} or onto "
                        "the default server",
                        severity=severity,
                        related=[
                            related(
                                default.block.directive or default.block.children[0],
                                f"default server for {listen.socket}",
                            )
                        ],
                        anchor=anchor(server, directive.name),
                    )
