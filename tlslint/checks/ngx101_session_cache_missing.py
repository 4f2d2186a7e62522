"""NGX101 ssl-session-cache-missing: a TLS server resumes no session by ID."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks._session import (
    anchor,
    default_servers_of,
    effective_cache,
    tickets_on,
    tls_servers,
)
from tlslint.findings import Finding, Severity
from tlslint.workspace import Workspace

CODE = "NGX101"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        for server in tls_servers(config):
            cache = effective_cache(server)
            if cache.present:
                continue
            # Resumption happens in the default server's context: a vhost
            # without a cache still resumes when its default server has one.
            defaults = default_servers_of(config, server)
            if defaults and all(effective_cache(d).present for d in defaults):
                continue
            tickets = tickets_on(server)
            if tickets:
                consequence = "only session tickets can resume, and they die on every reload"
            else:
                consequence = "with ssl_session_tickets off, every connection is a full handshake"
            where = cache.directive or server.block.directive
            notes = []
            tickets_line = server.effective("ssl_session_tickets")
            if tickets_line is not None and not tickets:
                notes.append(related(tickets_line, "session tickets are turned off here"))
            yield ctx.finding(
                where if where is not None else server.block.children[0],
                f"TLS {server.label} has no session cache (ssl_session_cache {cache.state}): {consequence}",
                severity=Severity.WARNING if tickets else Severity.ERROR,
                related=notes,
                anchor=anchor(server, "ssl_session_cache"),
            )
