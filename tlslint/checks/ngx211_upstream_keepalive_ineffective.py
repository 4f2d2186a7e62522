"""NGX211 upstream-keepalive-ineffective: keepalive that a location defeats.

The upstream keeps connections (``keepalive N``, or nginx >= 1.29.7 where
``32 local`` is the default), but a location that proxies to it speaks
HTTP/1.0 or sends a Connection header that closes the connection. Before
1.29.7 that is the default: proxy_http_version 1.0 and ``Connection: close``
(measured on 1.22.1: 5 requests, 5 backend connections).

The fix sets ``proxy_http_version 1.1`` and ``proxy_set_header Connection ""``
in the location. Because ``proxy_set_header`` is inherited all or nothing, a
location that inherited its headers gets copies of them, so that it still
sends what it sent before (Host, X-Real-IP, ...). A Connection value that a
``map $http_upgrade`` turns into ``close`` for plain requests is fixed in the
map (unsafe: the map may serve other locations).

Before 1.29.7 a balancing method set below ``keepalive`` (``least_conn``, ``hash``, ...)
replaces it, with only a warning from nginx -t: reported on that line, whose safe fix
moves it above ``keepalive`` (the method stays the one nginx uses).
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.checks._effective import proxy_headers
from tlslint.checks._upstream import (
    ConnectionIssue,
    LocationChange,
    PassTarget,
    anchor,
    backend_race,
    balancers_after_keepalive,
    connection_issue,
    has_idle_timeout,
    http_version_issue,
    keepalive_line,
    keepalive_on,
    label,
    plain_request_empty,
    timeout_below,
    untimed_note,
    upgrade_maps,
    upstream_users,
    websocket_only,
)
from tlslint.findings import Edit, Finding, Fix, Severity
from tlslint.nginx_edits import move_above
from tlslint.nginx_versions import UPSTREAM_KEEPALIVE_DEFAULT
from tlslint.sources.nginx.model import Directive
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block

CODE = "NGX211"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        versions = workspace.nginx_versions(config)
        maps = upgrade_maps(config)
        reported: set[tuple[int, int]] = set()
        for upstream, users in upstream_users(config):
            directive = upstream.directive
            assert directive is not None
            order = _balancer_order(ctx, upstream, users, versions)
            if order is not None:
                yield order
            if keepalive_on(upstream, versions) is not True:
                continue  # no keepalive (NGX210), or it depends on the version (NGX210 says so)
            for target in users:
                location = target.location
                if target.module != "proxy" or location is None or websocket_only(location):
                    continue
                key = (id(location.directive), id(upstream.directive))
                if key in reported:
                    continue
                protocol = http_version_issue(target.block, versions)
                connection = connection_issue(target.block, versions, maps)
                if protocol is None and connection is None:
                    continue
                reported.add(key)
                yield _finding(ctx, workspace, target, upstream, protocol, connection, versions)


def _balancer_order(
    ctx: RuleContext, upstream: Block, users: list[PassTarget], versions: VersionRange
) -> Finding | None:
    """A balancing method below ``keepalive``: before 1.29.7 it replaces keep-alive."""
    moved = balancers_after_keepalive(upstream)
    settled = versions.at_least(UPSTREAM_KEEPALIVE_DEFAULT)
    if not moved or settled:
        return None
    keepalive = upstream.all("keepalive")[0]
    if keepalive.args[:1] == ("0",):
        return None  # nginx refuses `keepalive 0` before 1.29.7 (NGX012)
    assert upstream.directive is not None
    name = upstream.directive.args[0]
    first = moved[0]
    shown = " ".join((first.name, *first.args))
    kept = " ".join(("keepalive", *keepalive.args))
    cost = "a new connection and a TLS handshake" if any(t.tls for t in users) else "a new connection"
    why = (
        f"`{shown}` comes after `{kept}` in upstream {name}: before nginx 1.29.7 a balancing method "
        f'set below keepalive replaces it (nginx -t warns "load balancing method redefined")'
    )
    if settled is None:
        message = (
            f"{why}, and no connection is kept; since 1.29.7 the order does not matter "
            f"({versions.unsettled()}: set nginx.version to decide)"
        )
        severity = Severity.INFO
    else:
        message = f"{why}, so upstream {name} keeps no connection and every request opens {cost}"
        if not versions.set_by_setting:
            message += f" ({versions.settled(UPSTREAM_KEEPALIVE_DEFAULT)})"
        severity = Severity.ERROR if any(t.tls for t in users) else Severity.WARNING
    edits = move_above(moved, keepalive)
    lines = ", ".join(f"`{' '.join((d.name, *d.args))}`" for d in moved)
    note = f"move {lines} above `{kept}` by hand (a line from an include, or over several)"
    return ctx.finding(
        first,
        message,
        severity=severity,
        fix=Fix(f"move {lines} above `{kept}` in upstream {name}", tuple(edits), True) if edits else None,
        fix_note="" if edits else note,
        related=[related(keepalive, "keepalive is set here")],
        anchor=anchor(upstream, first.name),
    )


def _finding(
    ctx: RuleContext,
    workspace: Workspace,
    target: PassTarget,
    upstream: Block,
    protocol: tuple[str, Directive | None] | None,
    connection: ConnectionIssue | None,
    versions: VersionRange,
) -> Finding:
    location = target.location
    assert location is not None and upstream.directive is not None
    name = upstream.directive.args[0]
    reasons = [
        reason
        for reason in (protocol[0] if protocol else None, connection.reason if connection else None)
        if reason
    ]
    keepalive = keepalive_line(upstream)
    kept = " ".join(keepalive.args) if keepalive is not None else "32 local, the default since 1.29.7"
    cost = "a new connection and a TLS handshake" if target.tls else "a new connection"
    # Without a line of its own the location relies on nginx's defaults, which
    # changed in 1.29.7: the version decides, or leaves the finding open (info).
    by_default = (protocol is None or protocol[1] is None) and (
        connection is None or (connection.header is None and connection.upgrade_map is None)
    )
    settled = versions.at_least(UPSTREAM_KEEPALIVE_DEFAULT)
    message = (
        f"upstream {name} has keepalive ({kept}), but this location never reuses a connection: "
        f"{'; '.join(reasons)}; every request opens {cost}"
    )
    severity = Severity.ERROR if target.tls else Severity.WARNING
    if by_default and settled is None:
        message = (
            f"upstream {name} has keepalive ({kept}); before nginx 1.29.7 this location would not reuse "
            f"a connection: {'; '.join(reasons)} ({versions.unsettled()}: set nginx.version to decide)"
        )
        severity = Severity.INFO
    elif by_default and not versions.set_by_setting:
        message += f" ({versions.settled(UPSTREAM_KEEPALIVE_DEFAULT)})"
    notes = []
    if keepalive is not None:
        notes.append(related(keepalive, "keepalive is set here"))
    if protocol is not None and protocol[1] is not None:
        notes.append(related(protocol[1], "the HTTP version is decided here"))
    if connection is not None and connection.header is not None:
        notes.append(related(connection.header, "the Connection header is decided here"))
    if (
        connection is not None
        and connection.upgrade_map is not None
        and connection.upgrade_map.entry is not None
    ):
        notes.append(related(connection.upgrade_map.entry, "the map's value for plain requests"))
    fix, note = location_fix(location, protocol is not None, connection)
    if fix is not None:
        fix, note = _out_of_race(workspace, upstream, versions, fix)
    return ctx.finding(
        target.directive,
        message,
        severity=severity,
        fix=fix,
        related=notes,
        anchor=anchor(location, "proxy_http_version"),
        fix_note=note,
    )


def _out_of_race(
    workspace: Workspace, upstream: Block, versions: VersionRange, fix: Fix
) -> tuple[Fix | None, str]:
    """``fix`` with the upstream keepalive_timeout that keeps the reuse it starts out of
    BKD101's race; or no fix, and why.

    Where every location of the upstream defeats keep-alive, no idle connection waits in
    its pool, and BKD101 is silent. Once this location reuses them, an app server that
    closes idle connections before nginx's keepalive_timeout (60s) races nginx: the fix
    adds the timeout one second below the app server's, as NGX210's does with keepalive.
    Where another location reuses them already, the race is BKD101's finding, with its fix.
    """
    if workspace.backends is None:
        return fix, ""  # no app server in the run: its modules stay unimported
    from tlslint.checks._backends import nginx_edit, upstream_links

    linked = upstream_links(workspace, upstream)
    if not linked or any(link.reused for link in linked):
        return fix, ""
    timed = has_idle_timeout(versions)
    race = backend_race(workspace, upstream, timed)
    if race is None:
        return fix, ""
    assert upstream.directive is not None
    name = upstream.directive.args[0]
    value = timeout_below(race)
    line = upstream.last("keepalive_timeout")
    # Before 1.15.3 the pool has no idle timeout at all (a line written there is refused):
    # every idle timeout of the app server races it.
    if timed is False or (timed is None and line is None):
        return None, untimed_note(
            versions,
            timed,
            race,
            "reusing connections here",
            f"{fix.description}, with keepalive_timeout {value} in upstream {name}",
        )
    edit = nginx_edit(upstream, value)
    if edit is None:
        return None, (
            f"no automatic fix: reusing connections here would race {race[1]} (BKD101), and upstream "
            f"{name}'s keepalive_timeout comes from an include: set it to {value} there, and "
            f"{fix.description}"
        )
    # No connection of the upstream was reused: a timeout added changes nothing that
    # happened before (safe); a value the block states is replaced (unsafe).
    timeout = (
        f"add keepalive_timeout {value} to upstream {name}"
        if line is None
        else f"set keepalive_timeout {value} instead of {' '.join(line.args)} in upstream {name}"
    )
    return Fix(
        f"{fix.description}; {timeout} (below {race[1]})",
        (*fix.edits, edit),
        fix.safe and line is None,
    ), ""


def location_fix(location: Block, http11: bool, connection: ConnectionIssue | None) -> tuple[Fix | None, str]:
    """Make ``location`` reuse upstream connections (NGX210's fix uses it too)."""
    change = LocationChange(location, http11=http11)
    edits: list[Edit] = []
    safe = True
    parts = ["proxy_http_version 1.1"] if http11 else []
    if connection is not None and connection.upgrade_map is not None:
        map_edit = plain_request_empty(connection.upgrade_map)
        if map_edit is None:
            return None, "the map's value for plain requests is not the map's own line"
        edits.append(map_edit)
        safe = False
        parts.append(f"the empty value for plain requests in map ${connection.upgrade_map.variable}")
    elif connection is not None:
        change.headers.append(("Connection", '""'))
        parts.append('proxy_set_header Connection ""')
    located = change.edits()
    if located is None:
        return None, "the lines to change come from an include shared with other blocks: change them there"
    edits.extend(located)
    # Adding the missing lines (and copies of the inherited headers, which nginx would
    # send anyway) is safe; changing a value the location states is not.
    safe = safe and not change.replaces
    level, _ = proxy_headers(location)
    copied = (
        connection is not None
        and connection.upgrade_map is None
        and level is not None
        and level is not location
    )
    description = f"set {' and '.join(parts)} in {label(location)}"
    if copied:
        description += (
            " (the inherited proxy_set_header lines are copied in: one line of its own drops them all)"
        )
    return Fix(description, tuple(edits), safe), ""
