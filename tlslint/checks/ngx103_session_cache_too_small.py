"""NGX103 ssl-session-cache-too-small: a shared zone below ``min-size``."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from tlslint.checks import RuleContext
from tlslint.checks._placement import zone_declarations
from tlslint.checks._session import (
    SharedZone,
    effective_cache,
    of_stream_servers,
    shared_cache_declarations,
    tls_servers,
    zone_unused,
)
from tlslint.findings import Edit, Finding, Fix
from tlslint.nginx_edits import argument_tokens, replace_argument
from tlslint.sources.nginx.model import Directive
from tlslint.units import format_size, parse_size
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server

CODE = "NGX103"
SESSIONS_PER_MIB = 4000  # nginx docs: "one megabyte can store about 4000 sessions"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    minimum_text = str(ctx.options["min-size"])
    minimum = parse_size(minimum_text) or 0
    for config in workspace.nginx:
        unused = _unused_zones(config, workspace.nginx_versions(config))
        for block, zone in shared_cache_declarations(config):
            if zone.size is None or zone.size >= minimum or (block.in_stream(), zone.name) in unused:
                continue
            sessions = zone.size * SESSIONS_PER_MIB // 2**20
            users = of_stream_servers(config, block, partial(_uses, name=zone.name))
            yield ctx.finding(
                zone.directive,
                f'shared session cache "{zone.name}"{users} is {zone.size_text} (about {sessions} '
                f"sessions), below min-size {format_size(minimum)} (about "
                f"{minimum * SESSIONS_PER_MIB // 2**20} sessions): once full, sessions are "
                "evicted early and clients fall back to full handshakes",
                anchor=f"{block.context} > ssl_session_cache[{zone.name}]",
                fix=_raise_size(config, zone, minimum_text, block.in_stream()),
            )


def _uses(server: Server, *, name: str) -> bool:
    shared = effective_cache(server).shared
    return shared is not None and shared.name == name


def resize_edits(
    config: NginxConfig, name: str, size: str, stream: bool = False
) -> list[tuple[Directive, Edit]]:
    """An edit giving each ssl_session_cache declaration of zone ``name`` (of stream{}'s
    module when ``stream``) the ``size`` (NGX107's move uses them too)."""
    use = "stream ssl_session_cache" if stream else "ssl_session_cache"
    declarations = zone_declarations(config).get((name, use), [])
    edits = []
    for directive in dict.fromkeys(declarations):
        for index, (_, _, value, _) in enumerate(argument_tokens(directive)):
            if value.startswith("shared:") and value.rpartition(":")[0] == f"shared:{name}":
                edits.append((directive, replace_argument(directive, index, f"shared:{name}:{size}")))
    return edits


def _unused_zones(config: NginxConfig, versions: VersionRange) -> set[tuple[bool, str]]:
    """Zones no TLS default server of their module is known to use, where the whole
    configuration shows it, as (in stream{}, name): their size matters to nobody (NGX107
    and NGX108 say what is wrong), and raising it would only allocate more for nothing. A
    stream zone counts as used only by stream's default servers, an http one only by
    http's."""
    if config.incomplete or config.context == "server":
        return set()
    unused = set()
    judged = set()  # a zone declared by each of 10,000 servers is judged once
    for block, zone in shared_cache_declarations(config):
        stream = block.in_stream()
        if (stream, zone.name) in judged:
            continue
        judged.add((stream, zone.name))
        scope = config.stream if stream else config
        if scope is None or not any(tls_servers(scope)):
            continue
        # Not known to be used (stream servers sharing an address:port on nginx not
        # known to be >= 1.25.5) is left alone too: raising it may allocate for nothing.
        if zone_unused(config, block, zone.name, versions) is not False:
            unused.add((stream, zone.name))
    return unused


def _raise_size(config: NginxConfig, zone: SharedZone, size: str, stream: bool) -> Fix:
    """Resize every declaration of the zone together: nginx refuses two sizes."""
    edits = [edit for _, edit in resize_edits(config, zone.name, size, stream)]
    others = len(edits) - 1
    also = f" (and its {others} other declaration{'s' if others != 1 else ''})" if others else ""
    return Fix(f'raise zone "{zone.name}" to {size}{also}', tuple(edits), safe=False)
