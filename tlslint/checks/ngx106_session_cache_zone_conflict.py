"""NGX106 ssl-session-cache-zone-conflict: one shared-memory zone name, two meanings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tlslint.checks import RuleContext, related, unique
from tlslint.checks._session import parse_cache
from tlslint.findings import Finding
from tlslint.sources.nginx.model import Directive
from tlslint.units import parse_size
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block

CODE = "NGX106"

# Directives that declare shared-memory zones with `zone=NAME:SIZE` or `keys_zone=`.
_ZONE_PARAMETERS = {
    "limit_req_zone": "zone=",
    "limit_conn_zone": "zone=",
    "proxy_cache_path": "keys_zone=",
    "fastcgi_cache_path": "keys_zone=",
    "uwsgi_cache_path": "keys_zone=",
    "scgi_cache_path": "keys_zone=",
}


@dataclass(frozen=True)
class Zone:
    name: str
    use: str
    size: int | None
    directive: Directive


def _in_stream(block: Block) -> bool:
    current: Block | None = block
    while current is not None:
        if current.context == "stream":
            return True
        current = current.parent
    return False


def _zones(block: Block) -> Iterator[Zone]:
    for directive in unique(block.children):
        if directive.name == "ssl_session_cache":
            _, _, shared = parse_cache(directive)
            if shared is not None:
                use = "stream ssl_session_cache" if _in_stream(block) else "ssl_session_cache"
                yield Zone(shared.name, use, shared.size, directive)
        elif directive.name in _ZONE_PARAMETERS:
            prefix = _ZONE_PARAMETERS[directive.name]
            for arg in directive.args:
                if arg.startswith(prefix):
                    name, _, size = arg[len(prefix) :].partition(":")
                    yield Zone(name, directive.name, parse_size(size), directive)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        first: dict[str, Zone] = {}
        for block in config.top.walk():
            for zone in _zones(block):
                earlier = first.setdefault(zone.name, zone)
                if earlier is zone or earlier.directive is zone.directive:
                    continue
                if earlier.use != zone.use:
                    problem = (
                        f'the shared memory zone "{zone.name}" is already declared for a '
                        f"different use ({earlier.use}); nginx refuses to start"
                    )
                elif (
                    zone.use.endswith("ssl_session_cache")
                    and zone.size is not None
                    and earlier.size is not None
                    and zone.size != earlier.size
                ):
                    problem = (
                        f'the size {zone.size} of shared memory zone "{zone.name}" conflicts '
                        f"with the size {earlier.size} declared earlier; nginx refuses to start"
                    )
                else:
                    continue
                yield ctx.finding(
                    zone.directive,
                    problem,
                    related=[related(earlier.directive, f'zone "{zone.name}" first declared here')],
                    anchor=f"zone[{zone.name}]",
                )
