"""NGX103 ssl-session-cache-too-small: a shared zone below ``min-size``."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._placement import declared_zones
from tlslint.checks._session import SharedZone, shared_cache_declarations
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import argument_tokens, replace_argument
from tlslint.units import format_size, parse_size
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig

CODE = "NGX103"
SESSIONS_PER_MIB = 4000  # nginx docs: "one megabyte can store about 4000 sessions"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    minimum_text = str(ctx.options["min-size"])
    minimum = parse_size(minimum_text) or 0
    for config in workspace.nginx:
        for block, zone in shared_cache_declarations(config):
            if zone.size is None or zone.size >= minimum:
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


def _raise_size(config: NginxConfig, zone: SharedZone, size: str) -> Fix:
    """Resize every declaration of the zone together: nginx refuses two sizes."""
    declarations = [
        z.directive for z in declared_zones(config) if z.name == zone.name and z.use == "ssl_session_cache"
    ]
    edits = []
    for directive in dict.fromkeys(declarations):
        for index, (_, _, value, _) in enumerate(argument_tokens(directive)):
            if value.startswith("shared:") and value.rpartition(":")[0] == f"shared:{zone.name}":
                edits.append(replace_argument(directive, index, f"shared:{zone.name}:{size}"))
    others = len(edits) - 1
    also = f" (and its {others} other declaration{'s' if others != 1 else ''})" if others else ""
    return Fix(f'raise zone "{zone.name}" to {size}{also}', tuple(edits), safe=False)
