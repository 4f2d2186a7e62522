"""NGX210 upstream-keepalive-missing: an upstream{} that keeps no connections.

Before nginx 1.29.7 an upstream without ``keepalive`` opens a new connection
(and, for https, a TLS handshake) for every request; since 1.29.7 every
upstream{} has ``keepalive 32 local`` by default (facts/nginx.md §1, §5).

Scope: upstreams that ``proxy_pass`` uses. An upstream used only by
fastcgi_pass / uwsgi_pass / scgi_pass / grpc_pass / memcached_pass is left out
(FastCGI also needs ``fastcgi_keep_conn on``), as is one used only by
WebSocket locations (an upgraded connection never returns to the pool) or by
nothing this configuration shows.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._upstream import (
    PassTarget,
    UpgradeMap,
    anchor,
    backend_race,
    connection_issue,
    has_idle_timeout,
    http_version_issue,
    keepalive_line,
    label,
    links_a_backend,
    pass_notes,
    timeout_below,
    unknown_backend_note,
    untimed_note,
    upgrade_maps,
    upstream_users,
    websocket_only,
)
from tlslint.checks.ngx211_upstream_keepalive_ineffective import location_fix
from tlslint.findings import Finding, Fix, Severity
from tlslint.nginx_edits import insert_directive, insert_directives, replace_argument
from tlslint.nginx_versions import UPSTREAM_KEEPALIVE_DEFAULT
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block

CODE = "NGX210"
BEFORE_DEFAULT = VersionRange(high=UPSTREAM_KEEPALIVE_DEFAULT)  # no upstream keep-alive by default

UNREACHABLE_NOTE = (
    "no automatic fix: a location that proxies to it takes its proxy settings from an include "
    "shared with other blocks; set keepalive, proxy_http_version 1.1 and proxy_set_header "
    'Connection "" by hand (NGX211)'
)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    size = int(ctx.options["connections"])
    for config in workspace.nginx:
        maps = upgrade_maps(config)
        versions = workspace.nginx_versions(config)
        new = versions.at_least(UPSTREAM_KEEPALIVE_DEFAULT)
        timed = has_idle_timeout(versions)
        for upstream, users in upstream_users(config):
            directive = upstream.directive
            assert directive is not None and directive.block is not None
            proxied = [t for t in users if t.module == "proxy" and not websocket_only(t.location)]
            if not proxied:
                continue
            line = keepalive_line(upstream)
            disabled = line is not None and line.args[:1] == ("0",)
            if line is not None and not disabled:
                continue
            if line is None and new:
                continue  # since 1.29.7: keepalive 32 local by default
            name = directive.args[0]
            tls = [t for t in proxied if t.tls]
            cost = "a new connection and a TLS handshake" if tls else "a new connection"
            if disabled:
                assert line is not None
                what = f"upstream {name} has `keepalive 0`: it opens {cost} for every request"
            elif new is None:
                what = (
                    f"upstream {name} has no keepalive: before nginx 1.29.7 it opens {cost} for every "
                    "request; since 1.29.7 the default is `keepalive 32 local` (this depends on the "
                    f"version: {versions.unsettled()}; set nginx.version to decide)"
                )
            else:
                what = (
                    f"upstream {name} has no keepalive: before nginx 1.29.7 "
                    f"({versions.settled(UPSTREAM_KEEPALIVE_DEFAULT)}) it opens {cost} for every request"
                )
            if tls:
                what += " (its servers are reached over https)"
            if not new:
                what += _locations_note(proxied, maps)
            notes = pass_notes(proxied, lambda t: f"proxies to it over {t.scheme}")
            fix: Fix | None
            note = ""
            race = None if disabled else backend_race(workspace, upstream, timed)
            sync = _sync_worker(workspace, upstream, name)
            if sync:
                fix, note = None, sync  # a pool it closes: the fix would create BKD102's finding
            elif disabled:
                assert line is not None
                fix = Fix(
                    f"set `keepalive {size};` instead of `keepalive 0`",
                    (replace_argument(line, 0, str(size)),),
                    False,
                )
            else:
                # After the last directive: before 1.29.7 a balancing method
                # (least_conn, hash, ...) after keepalive gives "load balancing
                # method redefined".
                own = directive.block
                after = own[-1] if own else None
                if race is None:
                    edit = insert_directive(directive.source, directive, own, f"keepalive {size};", after)
                    fix = Fix(f"add `keepalive {size};` to upstream {name}", (edit,), True)
                elif timed is False or (timed is None and upstream.last("keepalive_timeout") is None):
                    # Keep-alive alone would race the app server, and the timeout is refused:
                    # before 1.15.3 a line the block has is refused too, and changes nothing.
                    fix = None
                    note = untimed_note(
                        versions,
                        timed,
                        race,
                        "keep-alive here",
                        f"add keepalive with keepalive_timeout {timeout_below(race)} to upstream {name}",
                    )
                else:
                    fix = _with_timeout(upstream, size, race)
            unknown = ""
            if fix is not None and race is None and not links_a_backend(workspace, upstream):
                # Adding keep-alive stays safe (it adds what is missing), but nginx's 60s may
                # outlast the backend's idle timeout (gunicorn's 2s): say which line ends it.
                written = upstream.last("keepalive_timeout")
                unknown = unknown_backend_note(workspace, versions, timed, f"upstream {name}", written)
            complete = _with_locations(fix, proxied, versions, maps) if fix is not None else None
            if complete is not None:
                note = unknown
            elif fix is not None or not note:
                note = f"{UNREACHABLE_NOTE}; {unknown}" if unknown else UNREACHABLE_NOTE
            yield ctx.finding(
                line if disabled and line is not None else directive,
                what,
                severity=Severity.INFO
                if new is None and not disabled
                else (Severity.ERROR if tls else Severity.WARNING),
                fix=complete,
                related=notes,
                anchor=anchor(upstream, "keepalive"),
                fix_note=note,
            )


def _sync_worker(workspace: Workspace, upstream: Block, name: str) -> str:
    """The note withholding keep-alive from upstream ``name`` where it is linked to
    gunicorn's sync worker."""
    if workspace.backends is None:
        return ""  # no app server in the run: its modules stay unimported
    from tlslint.checks._backends import sync_worker_note, upstream_links

    linked = upstream_links(workspace, upstream)
    if not linked:
        return ""  # most upstreams: no note to word
    return sync_worker_note((link.backend for link in linked), f"add keepalive to upstream {name}")


def _with_timeout(upstream: Block, size: int, race: tuple[float, str]) -> Fix | None:
    """``keepalive`` with a ``keepalive_timeout`` below the backend's: keep-alive alone
    would start BKD101's race (a POST meeting a connection the backend is closing).
    Adding both is safe; replacing a keepalive_timeout written in the block is not."""
    from tlslint.checks._backends import nginx_edit, nginx_target, nginx_value

    directive = upstream.directive
    assert directive is not None and directive.block is not None
    own = directive.block
    value = nginx_value(nginx_target(race[0]))
    name = directive.args[0]
    what = f"add `keepalive {size};` to upstream {name} with keepalive_timeout {value} (below {race[1]})"
    if upstream.last("keepalive_timeout") is None:
        statements = [f"keepalive {size};", f"keepalive_timeout {value};"]
        edit = insert_directives(directive.source, directive, own, statements, own[-1] if own else None)
        return Fix(what, (edit,), True)
    timeout = nginx_edit(upstream, value)
    if timeout is None:
        return None  # the timeout comes from an include shared with other blocks
    keepalive = insert_directive(directive.source, directive, own, f"keepalive {size};", own[-1])
    return Fix(what, (keepalive, timeout), False)


def _with_locations(
    fix: Fix, proxied: list[PassTarget], versions: VersionRange, maps: dict[str, UpgradeMap]
) -> Fix | None:
    """``fix`` and what makes its locations reuse the connections it keeps.

    Before 1.29.7 a location speaks HTTP/1.0 and sends "Connection: close" unless told
    otherwise: keep-alive alone would leave each of them an NGX211 finding. The fix is
    safe when every part is (a WebSocket map's value for plain requests is not).
    """
    edits = list(fix.edits)
    parts = [fix.description]
    safe = fix.safe
    done: set[int] = set()
    for target in proxied:
        location = target.location
        if location is None or id(location) in done:
            continue
        done.add(id(location))
        protocol = http_version_issue(target.block, versions)
        connection = connection_issue(target.block, versions, maps)
        if protocol is None and connection is None:
            continue
        change, _ = location_fix(location, protocol is not None, connection)
        if change is None:
            return None  # a location this fix cannot reach: keep-alive alone would be defeated
        edits.extend(e for e in change.edits if e not in edits)
        parts.append(change.description)
        safe = safe and change.safe
    return Fix("; ".join(parts), tuple(edits), safe)


def _locations_note(proxied: list[PassTarget], maps: dict[str, UpgradeMap]) -> str:
    """What the locations that proxy to the upstream still lack for reuse before 1.29.7
    (NGX211's question), as they are written, by location; nothing when they lack nothing."""
    wants: dict[tuple[str, ...], list[str]] = {}  # what is lacking -> the locations lacking it
    seen: set[int] = set()
    for target in proxied:
        where = target.location or target.block
        if id(where) in seen:
            continue
        seen.add(id(where))
        parts = []
        if http_version_issue(target.block, BEFORE_DEFAULT) is not None:
            parts.append("proxy_http_version 1.1")
        issue = connection_issue(target.block, BEFORE_DEFAULT, maps)
        if issue is not None and issue.upgrade_map is not None:
            variable = issue.upgrade_map.variable
            parts.append(
                f"a Connection value that is empty for plain requests (map ${variable} gives `close`)"
            )
        elif issue is not None:
            parts.append('proxy_set_header Connection ""')
        if parts:
            wants.setdefault(tuple(parts), []).append(label(where))
    if not wants:
        return ""
    clauses = []
    for lacking, names in wants.items():
        shown = ", ".join(names[:2]) + (f" and {len(names) - 2} more" if len(names) > 2 else "")
        clauses.append(f"{shown} {'needs' if len(names) == 1 else 'need'} {' and '.join(lacking)}")
    return f"; to reuse connections before 1.29.7, {'; '.join(clauses)} (NGX211)"
