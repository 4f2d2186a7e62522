"""NGX103 ssl-session-cache-too-small: a shared zone below ``min-size``."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._session import shared_cache_declarations
from tlslint.findings import Finding
from tlslint.units import format_size, parse_size
from tlslint.workspace import Workspace

CODE = "NGX103"
SESSIONS_PER_MIB = 4000  # nginx docs: "one megabyte can store about 4000 sessions"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    minimum = parse_size(str(ctx.options["min-size"])) or 0
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
            )
