"""NGX108 ssl-session-cache-zone-unused: a shared zone no TLS server uses."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._session import effective_cache, shared_cache_declarations, tls_servers
from tlslint.findings import Finding
from tlslint.workspace import Workspace

CODE = "NGX108"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        if config.incomplete or config.context == "server":
            continue  # servers may hide behind an include that was not followed
        used = set()
        for server in tls_servers(config):
            shared = effective_cache(server).shared
            if shared is not None:
                used.add(shared.name)
        for block, zone in shared_cache_declarations(config):
            if zone.name in used or block.context == "stream":
                continue
            yield ctx.finding(
                zone.directive,
                f'shared session cache "{zone.name}" ({zone.size_text}) is used by no TLS '
                "server: every server that could inherit it has its own cache or is not TLS, "
                "so the memory is allocated for nothing",
                anchor=f"{block.context} > ssl_session_cache[{zone.name}]",
            )
