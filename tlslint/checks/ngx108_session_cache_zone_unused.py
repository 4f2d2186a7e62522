"""NGX108 ssl-session-cache-zone-unused: a shared zone no TLS server uses."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._session import effective_cache, shared_cache_declarations, tls_servers
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import remove_directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import is_default

CODE = "NGX108"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        if config.incomplete or config.context == "server":
            continue  # servers may hide behind an include that was not followed
        # Sessions are looked up and stored in the default server's cache only
        # (facts §1), so a zone that only a virtual server names is never used.
        used = set()
        for server in tls_servers(config):
            shared = effective_cache(server).shared
            if shared is not None and is_default(server):
                used.add(shared.name)
        for block, zone in shared_cache_declarations(config):
            if zone.name in used or block.context == "stream":
                continue
            yield ctx.finding(
                zone.directive,
                f'shared session cache "{zone.name}" ({zone.size_text}) is used by no TLS '
                "default server, and only default servers' caches store and resume sessions: "
                "the memory is allocated for nothing",
                anchor=f"{block.context} > ssl_session_cache[{zone.name}]",
                fix=Fix(
                    f'remove the unused zone "{zone.name}"', (remove_directive(zone.directive),), safe=False
                ),
            )
