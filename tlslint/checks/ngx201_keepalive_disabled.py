"""NGX201 keepalive-disabled: ``keepalive_timeout 0`` decides for a TLS server or location.

With 0, nginx closes an HTTP/1.x connection after each request. An HTTP/2 connection
(whose keep-alive settings come from the server level) serves one request too since
nginx 1.19.7; before, http2_idle_timeout governs it and the 0 does not
(tlslint/checks/_keepalive.py). Each new connection pays a TLS handshake. Some servers do
it on purpose, so the fix (nginx's default, 75s) is unsafe. A location's ``0`` on servers
that speak HTTP/2 governs only the HTTP/1.x clients of that endpoint, a per-endpoint
choice: not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._keepalive import SINCE, Reach, before, governed, reach
from tlslint.checks._protocols import (
    KeepaliveSite,
    block_anchor,
    http1_only_choice,
    keepalive_sites,
    scope_words,
    server_map,
)
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import replace_argument
from tlslint.nginx_values import seconds
from tlslint.nginx_versions import KEEPALIVE_TIMEOUT_DEFAULT
from tlslint.sources.nginx.model import Directive
from tlslint.version_range import UNKNOWN, VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig

CODE = "NGX201"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        servers = server_map(config)
        limits: dict[tuple[int, int], Directive] | None = None  # made at the first finding
        for site in keepalive_sites(config, "keepalive_timeout"):
            directive = site.directive
            if directive is None or site.level is None or not directive.args:
                continue
            if seconds(directive.args[0], in_seconds=False) != 0 or http1_only_choice(config, site):
                continue
            found = reach(config, site.scopes, with_keepalive=False)
            # The version matters only for HTTP/2 connections: asked only then.
            versions = workspace.nginx_versions(config) if found.http2 else UNKNOWN
            line = " ".join(("keepalive_timeout", *directive.args))
            if limits is None:
                limits = _request_limits(config)
            yield ctx.finding(
                directive,
                f"`{line}` {_effect(found, site, versions)}",
                anchor=block_anchor(site.level, servers, "keepalive_timeout"),
                fix=Fix(
                    f"set keepalive_timeout to {KEEPALIVE_TIMEOUT_DEFAULT} (nginx's default)"
                    + _knock_on(limits, site),
                    (replace_argument(directive, 0, KEEPALIVE_TIMEOUT_DEFAULT),),
                    safe=False,  # `0` may be deliberate
                    # Connections kept alive: keepalive_requests counts again, and a low
                    # one is NGX203's (which reports none while the 0 closes them).
                    brings=("NGX203",),
                ),
            )


def _request_limits(config: NginxConfig) -> dict[tuple[int, int], Directive]:
    """The keepalive_requests line that decides for each (server, block) of a TLS server,
    by identity: where one is written."""
    return {
        (id(server), id(block)): site.directive
        for site in keepalive_sites(config, "keepalive_requests")
        if site.directive is not None
        for server, block in site.scopes
    }


def _knock_on(limits: dict[tuple[int, int], Directive], site: KeepaliveSite) -> str:
    """What turning keep-alive on brings into play: the keepalive_requests lines that
    limit nothing while the 0 closes every connection, and will count after the fix."""
    lines: dict[int, Directive] = {}
    for server, block in site.scopes:
        line = limits.get((id(server), id(block)))
        if line is not None:
            lines.setdefault(id(line), line)
    if not lines:
        return ""
    shown = ", ".join(f"`{' '.join(('keepalive_requests', *line.args))};`" for line in lines.values())
    counts = "counts" if len(lines) == 1 else "count"
    closing = "closing each kept-alive connection after that many requests (NGX203)"
    return f"; {shown} then {counts} again, {closing}"


HANDSHAKE = "a new TLS handshake (a full one unless the session resumes)"


def _effect(found: Reach, site: KeepaliveSite, versions: VersionRange) -> str:
    """What the 0 does, true of each server named on every version the range holds."""
    where = scope_words(site)
    on = governed(versions)
    if found.everyone(on):
        if not found.http2:
            return (
                f"disables client keep-alive for {where}: every request opens a new TCP connection "
                f"and pays {HANDSHAKE}"
            )
        return (
            f"disables client keep-alive for {where}: HTTP/1.x clients open a new TCP connection for every "
            f"request, and so do {found.whose('clients')}; each new connection pays {HANDSHAKE}"
        )
    said = (
        f"disables keep-alive for the HTTP/1.x clients of {where}: each of their requests opens a new "
        f"TCP connection and pays {HANDSHAKE}"
    )
    if not found.http2:
        return said  # HTTP/2 connections take the server level's settings, which the line is not
    every = f"{found.whose('clients')} open a new TCP connection for every request too"
    if on is None:
        return (
            f"{said}; {SINCE} {every} (before, http2_idle_timeout governs HTTP/2 connections; "
            f"{versions.unsettled()})"
        )
    if on is False:
        return (
            f"{said}; {found.whose('connections')} are not affected {before(versions)}: "
            "http2_idle_timeout governs them"
        )
    return f"{said}; {every}"
