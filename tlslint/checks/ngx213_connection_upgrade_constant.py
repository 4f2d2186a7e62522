"""NGX213 connection-upgrade-constant: ``Connection "upgrade"`` on every request.

``proxy_set_header Connection "upgrade"`` is meant for WebSocket handshakes;
written as a constant where plain requests pass too, every plain request
carries a hop-by-hop token asking for a protocol switch that is not
requested. The documented pattern is ``map $http_upgrade $connection_upgrade``
with an empty value for plain requests (no Connection header: the connection
can be kept).

Measured on 1.22.1 (keepalive + HTTP/1.1): Python http.server and Node 20
still kept the connection with the constant, so this is reported as info;
the map form is what lets the same location also state ``Connection ""``
for plain requests. WebSocket-only locations are not reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related, unique
from tlslint.checks._effective import proxy_headers
from tlslint.checks._upstream import (
    UpgradeMap,
    anchor,
    free_name,
    http_context_anchor,
    label,
    new_block,
    plain_request_empty,
    upgrade_maps,
    websocket_only,
)
from tlslint.findings import Edit, Finding, Fix
from tlslint.nginx_edits import replace_argument, statement
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block, NginxConfig, per_config

CODE = "NGX213"
_LEVELS = frozenset({"http", "server", "location"})


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        seen: set[int] = set()
        for block in config.top.walk():
            # `last` tests presence without building a list: most of 40,000 blocks have none.
            if block.context not in _LEVELS or block.last("proxy_set_header") is None:
                continue
            for directive in unique(block.all("proxy_set_header")):
                # Which module reads the block is asked of the few blocks with the constant only.
                if id(directive) in seen or not _constant_upgrade(directive) or block.in_stream():
                    continue
                seen.add(id(directive))
                users = [loc for loc in _proxying_locations(block) if proxy_headers(loc)[0] is block]
                plain = [loc for loc in users if not websocket_only(loc)]
                if not plain:
                    continue
                where = ", ".join(label(loc) for loc in plain[:3]) + (" ..." if len(plain) > 3 else "")
                fix, note = _fix(config, block, directive)
                yield ctx.finding(
                    directive,
                    f'proxy_set_header Connection "{directive.args[1]}" is a constant: every request '
                    f"that {where} proxies, not only WebSocket upgrades, carries `Connection: "
                    f"{directive.args[1]}` to the backend (plain requests without an Upgrade header); "
                    "map $http_upgrade to a value that is empty for plain requests",
                    fix=fix,
                    fix_note=note,
                    related=[
                        related(loc.directive, "plain requests pass here")
                        for loc in plain[:3]
                        if loc.directive
                    ],
                    anchor=anchor(block, "proxy_set_header[Connection]"),
                )


def _constant_upgrade(directive: Directive) -> bool:
    args = directive.args
    return len(args) >= 2 and args[0].lower() == "connection" and args[1].strip().lower() == "upgrade"


def _proxying_locations(level: Block) -> Iterator[Block]:
    for block in level.walk():
        if block.context != "location":
            continue
        inner = [block, *block.sub("if"), *block.sub("limit_except")]
        if any(b.all("proxy_pass") for b in inner):
            yield block


def _fix(config: NginxConfig, level: Block, directive: Directive) -> tuple[Fix | None, str]:
    edits: list[Edit] = []
    chosen = _chosen_map(config)
    if chosen is not None:
        variable = chosen.variable
        if chosen.plain != "":
            emptied = plain_request_empty(chosen)
            if emptied is None:
                return None, f"map ${variable} takes its value for plain requests from an include"
            edits.append(emptied)
        description = f"use the existing map ${variable}"
    else:
        where = _http_anchor(level)
        if where is None:
            return None, (
                "a map belongs in http{}, which this file does not show: add "
                "`map $http_upgrade $connection_upgrade { default upgrade; '' ''; }` there"
            )
        variable = free_name(_variables(config), "connection_upgrade")
        body = [statement("default", "upgrade"), statement("", "")]  # `'' '';`: plain requests
        edits.append(new_block(where, statement("map", "$http_upgrade", f"${variable}", block=body)))
        description = f"add map $http_upgrade ${variable} (empty for plain requests)"
    edits.append(replace_argument(directive, 1, f"${variable}"))
    return Fix(f"{description} and send Connection ${variable}", tuple(edits), False), ""


@per_config  # the same for every finding: maps may be many
def _chosen_map(config: NginxConfig) -> UpgradeMap | None:
    """The map a fix uses: the first that is empty for plain requests, else the first decidable."""
    usable = [m for m in upgrade_maps(config).values() if m.plain is not None]
    return next((m for m in usable if m.plain == ""), usable[0] if usable else None)


def _http_anchor(level: Block) -> Directive | None:
    if level.context != "http":
        return http_context_anchor(level)
    return next((d for d in level.children if d.name == "server" and d.block is not None), None)


@per_config  # each finding's fix asks
def _variables(config: NginxConfig) -> set[str]:
    """Variable names (lower-cased) that maps, geo and set already define."""
    names: set[str] = set()
    for block in config.top.walk():
        directive = block.directive
        if block.context in ("map", "geo", "split_clients") and directive is not None and directive.args:
            names.add(directive.args[-1].lstrip("$").strip("{}").lower())
        for setter in block.all("set"):
            if setter.args:
                names.add(setter.args[0].lstrip("$").strip("{}").lower())
    return names
