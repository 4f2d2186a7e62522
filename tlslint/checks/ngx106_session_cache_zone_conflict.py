"""NGX106 ssl-session-cache-zone-conflict: one shared-memory zone name, two meanings."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks._placement import Zone, declared_zones
from tlslint.findings import Finding
from tlslint.workspace import Workspace

CODE = "NGX106"


# How a message names a use: http's and stream's modules each have their own (one zone
# name for both is nginx's "already declared for a different use", facts §4).
_USES = {
    "ssl_session_cache": "ssl_session_cache in http{}",
    "stream ssl_session_cache": "ssl_session_cache in stream{}",
    "limit_conn_zone": "limit_conn_zone in http{}",
    "stream limit_conn_zone": "limit_conn_zone in stream{}",
    "ssl_ocsp_cache": "ssl_ocsp_cache in http{}",
    "upstream zone": "the zone of an upstream{} in http{}",
    "stream upstream zone": "the zone of an upstream{} in stream{}",
}
# Zones whose conflicts are not measured: stream's ssl_ocsp_cache appeared in 1.27.2, and
# the installed nginx (1.22.1) cannot run it. Its name is still taken (a fix's new zone
# avoids it), but nothing is said of it.
_UNMEASURED = frozenset({"stream ssl_ocsp_cache"})


def _conflict(earlier: Zone, zone: Zone) -> str:
    """nginx's own objection to declaring ``zone`` after ``earlier``, or ''."""
    if earlier.use != zone.use:
        return (
            f'the shared memory zone "{zone.name}" is already declared for a '
            f"different use ({_USES.get(earlier.use, earlier.use)}); nginx refuses to start"
        )
    sized = zone.size is not None and earlier.size is not None
    if zone.use.endswith("ssl_session_cache") and sized and zone.size != earlier.size:
        return (
            f'the size {zone.size} of shared memory zone "{zone.name}" conflicts '
            f"with the size {earlier.size} declared earlier; nginx refuses to start"
        )
    return ""


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        first: dict[str, Zone] = {}
        for zone in declared_zones(config):
            if zone.use in _UNMEASURED:
                continue
            earlier = first.setdefault(zone.name, zone)
            if earlier is zone:
                continue
            problem = _conflict(earlier, zone)
            if problem:
                yield ctx.finding(
                    zone.directive,
                    problem,
                    related=[related(earlier.directive, f'zone "{zone.name}" first declared here')],
                    anchor=f"zone[{zone.name}]",
                )
