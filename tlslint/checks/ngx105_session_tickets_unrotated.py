"""NGX105 ssl-session-tickets-unrotated: ticket keys that die on reload and differ per node."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._session import anchor, effective_cache, tickets_on, tls_servers
from tlslint.checks.ngx101_session_cache_missing import add_shared_cache
from tlslint.findings import Finding
from tlslint.nginx_versions import TICKET_KEYS_IN_SHARED_CACHE, at_least
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import is_default

CODE = "NGX105"
KEY_FILES_NOTE = (
    "no automatic fix: deploy ssl_session_ticket_key files rotated by your tooling "
    "(the first key encrypts, the rest only decrypt), or run nginx >= 1.23.2"
)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    new_enough = at_least(workspace.nginx_version, TICKET_KEYS_IN_SHARED_CACHE)
    for config in workspace.nginx:
        for server in tls_servers(config):
            # Only the default server's keys encrypt tickets (facts §1).
            if not is_default(server) or not tickets_on(server):
                continue
            if server.effective("ssl_session_ticket_key") is not None or server.unresolved:
                continue
            cache = effective_cache(server)
            shared = cache.shared is not None
            fleet = bool(ctx.options["require-key-file"])
            if shared and new_enough and not fleet:
                continue
            if shared and new_enough:
                reason = (
                    "require-key-file is set (throughput profile): keys rotated in one node's "
                    "shared memory are not shared with the other nodes of a fleet"
                )
            elif not shared:
                reason = "no shared session cache holds the ticket keys"
            elif new_enough is False:
                reason = "nginx before 1.23.2 does not keep ticket keys in the shared cache"
            else:
                reason = (
                    "this depends on the nginx version, which is not configured: before 1.23.2 "
                    "the shared cache does not keep ticket keys; set nginx.version to decide"
                )
            yield ctx.finding(
                server.block.directive or server.block.children[0],
                f"TLS {server.label} issues session tickets with random keys: every reload "
                f"invalidates all tickets, and each node has its own keys ({reason})",
                anchor=anchor(server, "ssl_session_tickets"),
                fix=None if shared else add_shared_cache(config, server, cache, "10m", safe=True),
                fix_note=KEY_FILES_NOTE if shared else "",
            )
