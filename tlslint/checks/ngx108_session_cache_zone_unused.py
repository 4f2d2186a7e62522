"""NGX108 ssl-session-cache-zone-unused: a shared zone no TLS server uses."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._session import (
    default_servers_of,
    effective_cache,
    shared_cache_declarations,
    tls_server_of_block,
    zones_of_default_servers,
)
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import remove_directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block, NginxConfig, is_default

CODE = "NGX108"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        if config.incomplete or config.context == "server":
            continue  # servers may hide behind an include that was not followed
        # A zone that only a virtual server names is never used.
        used = zones_of_default_servers(config)
        for block, zone in shared_cache_declarations(config):
            if zone.name in used or block.context == "stream":
                continue
            movable = _movable(config, block)
            yield ctx.finding(
                zone.directive,
                f'shared session cache "{zone.name}" ({zone.size_text}) is used by no TLS '
                "default server, and only default servers' caches store and resume sessions: "
                "the memory is allocated for nothing",
                anchor=f"{block.context} > ssl_session_cache[{zone.name}]",
                fix=None
                if movable
                else Fix(
                    f'remove the unused zone "{zone.name}"', (remove_directive(zone.directive),), safe=False
                ),
                fix_note=MOVABLE_NOTE if movable else "",
            )


MOVABLE_NOTE = (
    "no automatic fix: the default server has no cache, so NGX107 moves this one to http{} "
    "where it is used; remove it by hand if it is not wanted"
)


def _movable(config: NginxConfig, block: Block) -> bool:
    """A virtual server's own zone while its default server has no cache: NGX107's case,
    whose fix puts the zone to use (removing it would leave the server with none)."""
    server = tls_server_of_block(config).get(id(block))
    if server is None or is_default(server):
        return False
    return any(not effective_cache(default).present for default in default_servers_of(config, server))
