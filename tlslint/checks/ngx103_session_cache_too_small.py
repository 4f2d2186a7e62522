"""NGX103 ssl-session-cache-too-small: a shared zone below ``min-size``."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._placement import declared_zones
from tlslint.checks._session import (
    SharedZone,
    shared_cache_declarations,
    tls_servers,
    zones_of_default_servers,
)
from tlslint.findings import Edit, Finding, Fix
from tlslint.nginx_edits import argument_tokens, replace_argument
from tlslint.sources.nginx.model import Directive
from tlslint.units import format_size, parse_size
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig

CODE = "NGX103"
SESSIONS_PER_MIB = 4000  # nginx docs: "one megabyte can store about 4000 sessions"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    minimum_text = str(ctx.options["min-size"])
    minimum = parse_size(minimum_text) or 0
    for config in workspace.nginx:
        unused = _unused_zones(config)
        for block, zone in shared_cache_declarations(config):
            if zone.size is None or zone.size >= minimum or zone.name in unused:
                continue
            sessions = zone.size * SESSIONS_PER_MIB // 2**20
            yield ctx.finding(
                zone.directive,
                f'shared session cache "{zone.name}" is {zone.size_text} (about {sessions} '
                f"sessions), below min-size {format_size(minimum)} (about "
                f"{minimum * SESSIONS_PER_MIB // 2**20} sessions): once full, sessions are "
                "evicted early and clients fall back to full handshakes",
                anchor=f"{block.context} > ssl_session_cache[{zone.name}]",
                fix=_raise_size(config, zone, minimum_text),
            )


def resize_edits(config: NginxConfig, name: str, size: str) -> list[tuple[Directive, Edit]]:
    """An edit giving each ssl_session_cache declaration of zone ``name`` the ``size``
    (NGX107's move uses them too)."""
    declarations = [
        z.directive for z in declared_zones(config) if z.name == name and z.use == "ssl_session_cache"
    ]
    edits = []
    for directive in dict.fromkeys(declarations):
        for index, (_, _, value, _) in enumerate(argument_tokens(directive)):
            if value.startswith("shared:") and value.rpartition(":")[0] == f"shared:{name}":
                edits.append((directive, replace_argument(directive, index, f"shared:{name}:{size}")))
    return edits


def _unused_zones(config: NginxConfig) -> set[str]:
    """Zones no TLS default server uses, where the whole configuration shows it: their
    size matters to nobody (NGX107 and NGX108 say what is wrong), and raising it would
    only allocate more for nothing."""
    if config.incomplete or config.context == "server" or not any(tls_servers(config)):
        return set()
    used = zones_of_default_servers(config)
    return {
        zone.name for block, zone in shared_cache_declarations(config) if block.context != "stream"
    } - used


def _raise_size(config: NginxConfig, zone: SharedZone, size: str) -> Fix:
    """Resize every declaration of the zone together: nginx refuses two sizes."""
    edits = [edit for _, edit in resize_edits(config, zone.name, size)]
    others = len(edits) - 1
    also = f" (and its {others} other declaration{'s' if others != 1 else ''})" if others else ""
    return Fix(f'raise zone "{zone.name}" to {size}{also}', tuple(edits), safe=False)
