"""NGX106 ssl-session-cache-zone-conflict: one shared-memory zone name, two meanings."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks._placement import Zone, declared_zones
from tlslint.findings import Finding
from tlslint.workspace import Workspace

CODE = "NGX106"


# How a message names a use: http's, stream's and mail's modules each have their own (one
# zone name for two is nginx's "already declared for a different use", facts §4; mail's
# from nginx's source, ngx_mail_ssl_module's tag: the installed nginx has no mail module).
_USES = {
    "ssl_session_cache": "ssl_session_cache in http{}",
    "stream ssl_session_cache": "ssl_session_cache in stream{}",
    "mail ssl_session_cache": "ssl_session_cache in mail{}",
    "limit_conn_zone": "limit_conn_zone in http{}",
    "stream limit_conn_zone": "limit_conn_zone in stream{}",
    "ssl_ocsp_cache": "ssl_ocsp_cache in http{}",
    "upstream zone": "the zone of an upstream{} in http{}",
    "stream upstream zone": "the zone of an upstream{} in stream{}",
    # Third-party modules' zones (measured with Debian's modules loaded).
    "lua_shared_dict": "lua_shared_dict in http{}",
    "upload_progress": "upload_progress in http{}",
    "dav_ext_lock_zone": "dav_ext_lock_zone in http{}",
}
# Zones whose conflicts are not measured: stream's ssl_ocsp_cache appeared in 1.27.2, and
# the installed nginx (1.22.1) cannot run it. Its name is still taken (a fix's new zone
# avoids it), but nothing is said of it.
# upstream-fair's zone is declared when http{} closes (nginx reports the clash at its
# `}`, not at a line of the zone): taken, not judged either.
_UNMEASURED = frozenset({"stream ssl_ocsp_cache", "fair"})


def _conflict(earlier: Zone, zone: Zone) -> str:
    """nginx's own objection to declaring ``zone`` after ``earlier``, or ''."""
    if earlier.use != zone.use:
        # One line of a file included in two modules' blocks declares the zone for each.
        again = (
            f": this line, included in {_module_block(earlier.use)} and again in "
            f"{_module_block(zone.use)}, declares it for each"
            if earlier.directive is zone.directive
            else ""
        )
        return (
            f'the shared memory zone "{zone.name}" is already declared for a '
            f"different use ({_USES.get(earlier.use, earlier.use)}{again}); nginx refuses to start"
        )
    sized = zone.size is not None and earlier.size is not None
    if zone.use.endswith("ssl_session_cache") and sized and zone.size != earlier.size:
        return (
            f'the size {zone.size} of shared memory zone "{zone.name}" conflicts '
            f"with the size {earlier.size} declared earlier; nginx refuses to start"
        )
    return ""


def _module_block(use: str) -> str:
    module = use.partition(" ")[0]
    return f"{module}{{}}" if module in ("stream", "mail") else "http{}"


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
                first_here = related(earlier.directive, f'zone "{zone.name}" first declared here')
                yield ctx.finding(
                    zone.directive,
                    problem,
                    related=[first_here] if earlier.directive is not zone.directive else [],
                    anchor=f"zone[{zone.name}]",
                )
