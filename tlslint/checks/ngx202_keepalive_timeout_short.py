"""NGX202 keepalive-timeout-short: client keep-alive shorter than option ``min`` on a TLS server.

A server that sets no keepalive_timeout gets nginx's default, 75s: reported when ``min``
is raised above it. In a fragment (a conf.d/ file of server blocks, or a server snippet,
checked without its includer) the including http{} may set it: the message says that
this file sets none and that the includer decides, and the fix that adds the minimum to
each server is unsafe there: it would override, and may lower, the includer's value.

keepalive_timeout bounds idle HTTP/2 connections (from the server level) only since
nginx 1.19.7; before, http2_idle_timeout did (tlslint/checks/_keepalive.py). What a
finding says of HTTP/2 clients is true of each server named on every version the range
holds, and a short http2_idle_timeout is reported where it can still count (before
1.19.7; information while the version is open). Since 1.19.7 nginx ignores that line
(nginx -t warns: obsolete), and keepalive_timeout, judged here, governs instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tlslint.checks import RuleContext
from tlslint.checks._causes import Cause, Place, one_per_cause
from tlslint.checks._fragment import guarded, includer, is_fragment
from tlslint.checks._keepalive import SINCE, Reach, before, governed, http2_lines, reach
from tlslint.checks._protocols import (
    block_anchor,
    http1_only_choice,
    insertion_fix,
    keepalive_sites,
    scope_words,
    server_anchor_directive,
    server_map,
    unset_cause,
    unset_places,
)
from tlslint.findings import Finding, Fix, Severity
from tlslint.nginx_edits import replace_argument
from tlslint.nginx_values import seconds
from tlslint.nginx_versions import KEEPALIVE_TIMEOUT_DEFAULT
from tlslint.sources.nginx.model import Directive
from tlslint.units import parse_time
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server

CODE = "NGX202"

COME_BACK = "come back with a new TCP connection and TLS handshake"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    minimum_text = str(ctx.options["min"])
    minimum = parse_time(minimum_text)
    if not minimum:
        return
    default = parse_time(KEEPALIVE_TIMEOUT_DEFAULT) or 0.0
    below = f"nginx's default {KEEPALIVE_TIMEOUT_DEFAULT} is below the minimum {minimum_text}"
    for config in workspace.nginx:
        versions = workspace.nginx_versions(config)
        servers = server_map(config)
        unset: list[tuple[Finding, Server]] = []
        reached: dict[int, Reach] = {}  # by server: where nginx's default counts
        hedged = (
            f"unless {includer(config, http_setting=True)} sets it, nginx's default "
            f"{KEEPALIVE_TIMEOUT_DEFAULT} applies, "
            f"which is below the minimum {minimum_text}"
        )
        for site in keepalive_sites(config, "keepalive_timeout"):
            directive = site.directive
            if directive is None:
                if default >= minimum or config.incomplete:
                    continue
                # nginx's default (75s) is below a raised `min`: say so once per server.
                server = site.servers[0]
                found = reach(config, site.scopes, with_keepalive=False)
                effect = _effect(found, versions)
                if is_fragment(config):
                    said = f"nothing in this file sets keepalive_timeout for {scope_words(site)}: {hedged}"
                else:
                    said = f"keepalive_timeout is not set for {scope_words(site)}: {below}"
                fix = insertion_fix(
                    config, [server], f"keepalive_timeout {minimum_text};", group="keepalive_"
                )
                finding = ctx.finding(
                    server_anchor_directive(server),
                    f"{said}; {effect}",
                    anchor=block_anchor(server.block, servers, "keepalive_timeout"),
                    fix=guarded(config, fix),
                )
                unset.append((finding, server))
                reached[id(server)] = found
                continue
            if site.level is None or not directive.args or http1_only_choice(config, site):
                continue
            value = seconds(directive.args[0], in_seconds=False)
            if value is None or value == 0 or value >= minimum:
                continue  # 0 is NGX201; a value nginx cannot read is NGX012's
            found = reach(config, site.scopes, with_keepalive=False)
            yield ctx.finding(
                directive,
                f"keepalive_timeout {directive.args[0]} for {scope_words(site)} is below the minimum "
                f"{minimum_text}: {_effect(found, versions)}",
                anchor=block_anchor(site.level, servers, "keepalive_timeout"),
                fix=_raised(directive, minimum_text),
            )
        describe = _describe_unset(config, versions, hedged if is_fragment(config) else below, reached)
        yield from one_per_cause(unset_places(unset), describe, ctx.keep)
        yield from _http2_idle(ctx, config, versions, minimum, minimum_text, servers)


def _effect(found: Reach, versions: VersionRange) -> str:
    """What a short timeout does, true of each server named on every version the range holds."""
    on = governed(versions)
    if found.everyone(on):
        return f"idle clients are dropped sooner and {COME_BACK}"
    said = f"idle HTTP/1.x clients are dropped sooner and {COME_BACK}"
    if not found.http2:
        return said  # HTTP/2 connections take the server level's timeout, which the line is not
    if on is None:
        return (
            f"{said}; {SINCE} so are {found.whose('clients')} (before, http2_idle_timeout governs "
            f"HTTP/2 connections; {versions.unsettled()})"
        )
    if on is False:
        return (
            f"{said}; {found.whose('connections')} are not affected {before(versions)}: "
            "http2_idle_timeout governs them"
        )
    return f"{said}, and so are {found.whose('clients')}"


def _describe_unset(
    config: NginxConfig, versions: VersionRange, below: str, reached: dict[int, Reach]
) -> Callable[[list[Place]], Cause]:
    """How servers that set nothing, for one cause, are reported: what is said of HTTP/2
    is where nginx's default counts for them (``reached``, by server)."""

    def describe(members: list[Place]) -> Cause:
        found = Reach.joined([reached[id(place.detail)] for place in members])
        effect = f"{below}; {_effect(found, versions)}"
        return unset_cause("keepalive_timeout", effect, is_fragment(config))(members)

    return describe


def _http2_idle(
    ctx: RuleContext,
    config: NginxConfig,
    versions: VersionRange,
    minimum: float,
    minimum_text: str,
    servers: dict[int, Server],
) -> Iterator[Finding]:
    """A short http2_idle_timeout where it governs idle HTTP/2 connections: before 1.19.7.
    Since, nginx ignores it (obsolete), so nothing is said on a range all past it."""
    on = governed(versions)
    if on is True:
        return
    for site in http2_lines(config, "http2_idle_timeout"):
        directive = site.directive
        assert directive is not None and site.level is not None
        value = seconds(directive.args[0], in_seconds=False) if directive.args else None
        if value is None or value >= minimum:
            continue  # a value nginx cannot read is NGX012's
        said = f"idle HTTP/2 clients are dropped sooner and {COME_BACK}"
        if on is None:
            effect = (
                f"before nginx 1.19.7 {said}; since 1.19.7 nginx ignores the line (obsolete: "
                f"keepalive_timeout governs HTTP/2 connections; {versions.unsettled()})"
            )
        else:
            effect = (
                f"{said}; {before(versions)} this line governs idle HTTP/2 connections, not keepalive_timeout"
            )
        yield ctx.finding(
            directive,
            f"http2_idle_timeout {directive.args[0]} for {scope_words(site)} is below the minimum "
            f"{minimum_text}: {effect}",
            severity=Severity.INFO if on is None else None,  # it counts on some versions only
            anchor=block_anchor(site.level, servers, "http2_idle_timeout"),
            fix=_raised(directive, minimum_text),
        )


def _raised(directive: Directive, minimum_text: str) -> Fix:
    return Fix(
        f"raise {directive.name} to {minimum_text}",
        (replace_argument(directive, 0, minimum_text),),
        safe=False,  # the operator's value
    )
