"""NGX101 ssl-session-cache-missing: a TLS server resumes no session by ID."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks._placement import free_zone_name, session_targets
from tlslint.checks._session import (
    SessionCache,
    anchor,
    default_servers_of,
    effective_cache,
    tickets_on,
    tls_servers,
)
from tlslint.findings import Finding, Fix, Severity
from tlslint.nginx_edits import replace_arguments
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server

CODE = "NGX101"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        for server in tls_servers(config):
            cache = effective_cache(server)
            if cache.present or (cache.directive is None and server.unresolved):
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
            state = "is not set (default none)" if cache.directive is None else cache.state
            yield ctx.finding(
                where if where is not None else server.block.children[0],
                f"TLS {server.label} has no session cache (ssl_session_cache {state}): {consequence}",
                severity=Severity.WARNING if tickets else Severity.ERROR,
                related=notes,
                anchor=anchor(server, "ssl_session_cache"),
                fix=add_shared_cache(config, server, cache, str(ctx.options["size"]), safe=True),
            )


def add_shared_cache(
    config: NginxConfig, server: Server, cache: SessionCache, size: str, *, safe: bool
) -> Fix | None:
    """Turn an explicit none/off, or a builtin-only cache, into a shared zone (unsafe: it
    replaces what the operator wrote); or add one where it is inherited (``safe``)."""
    value = f"shared:{free_zone_name(config)}:{size}"
    if cache.directive is not None and cache.disabled:
        edit = replace_arguments(cache.directive, [value])
        return Fix(f"set `ssl_session_cache {value};` instead of `{cache.state}`", (edit,), False)
    if cache.directive is not None and cache.builtin and cache.shared is None:
        # The same edit as NGX102's: adding a second line instead would leave two
        # ssl_session_cache lines when both fixes apply (the builtin one in an include).
        edit = replace_arguments(cache.directive, [value])
        return Fix(f"replace `{' '.join(cache.directive.args)}` with `{value}`", (edit,), False)
    targets = session_targets(config, server)
    if not targets:
        return None
    statement = f"ssl_session_cache {value};"
    where = ", ".join(target.label for target in targets)
    return Fix(f"add `{statement}` to {where}", tuple(t.insert(statement) for t in targets), safe)
