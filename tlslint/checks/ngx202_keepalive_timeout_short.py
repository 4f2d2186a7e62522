"""NGX202 keepalive-timeout-short: client keep-alive shorter than option ``min`` on a TLS server.

A server that sets no keepalive_timeout gets nginx's default, 75s: reported when ``min``
is raised above it. In a fragment (a conf.d/ file of server blocks, or a server snippet,
checked without its includer) the including http{} may set it: the message says that
this file sets none and that the includer decides, and the fix that adds the minimum to
each server is unsafe there: it would override, and may lower, the includer's value.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._causes import one_per_cause
from tlslint.checks._fragment import guarded, includer, is_fragment
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
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import replace_argument
from tlslint.nginx_values import seconds
from tlslint.nginx_versions import KEEPALIVE_TIMEOUT_DEFAULT
from tlslint.units import parse_time
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Server

CODE = "NGX202"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    minimum_text = str(ctx.options["min"])
    minimum = parse_time(minimum_text)
    if not minimum:
        return
    default = parse_time(KEEPALIVE_TIMEOUT_DEFAULT) or 0.0
    consequence = "idle clients are dropped sooner and come back with a new TCP connection and TLS handshake"
    effect = f"nginx's default {KEEPALIVE_TIMEOUT_DEFAULT} is below the minimum {minimum_text}; {consequence}"
    for config in workspace.nginx:
        servers = server_map(config)
        unset: list[tuple[Finding, Server]] = []
        hedged = (
            f"unless {includer(config)} sets it, nginx's default {KEEPALIVE_TIMEOUT_DEFAULT} applies, "
            f"which is below the minimum {minimum_text}; {consequence}"
        )
        for site in keepalive_sites(config, "keepalive_timeout"):
            directive = site.directive
            if directive is None:
                if default >= minimum or config.incomplete:
                    continue
                # nginx's default (75s) is below a raised `min`: say so once per server.
                server = site.servers[0]
                if is_fragment(config):
                    said = f"nothing in this file sets keepalive_timeout for {scope_words(site)}: {hedged}"
                else:
                    said = f"keepalive_timeout is not set for {scope_words(site)}: {effect}"
                fix = insertion_fix(
                    config, [server], f"keepalive_timeout {minimum_text};", group="keepalive_"
                )
                finding = ctx.finding(
                    server_anchor_directive(server),
                    said,
                    anchor=block_anchor(server.block, servers, "keepalive_timeout"),
                    fix=guarded(config, fix),
                )
                unset.append((finding, server))
                continue
            if site.level is None or not directive.args or http1_only_choice(config, site):
                continue
            value = seconds(directive.args[0], in_seconds=False)
            if value is None or value == 0 or value >= minimum:
                continue  # 0 is NGX201; a value nginx cannot read is NGX012's
            yield ctx.finding(
                directive,
                f"keepalive_timeout {directive.args[0]} for {scope_words(site)} is below the minimum "
                f"{minimum_text}: {consequence}",
                anchor=block_anchor(site.level, servers, "keepalive_timeout"),
                fix=Fix(
                    f"raise keepalive_timeout to {minimum_text}",
                    (replace_argument(directive, 0, minimum_text),),
                    safe=False,  # the operator's value
                ),
            )
        describe = unset_cause(
            "keepalive_timeout", hedged if is_fragment(config) else effect, is_fragment(config)
        )
        yield from one_per_cause(unset_places(unset), describe, ctx.keep)
