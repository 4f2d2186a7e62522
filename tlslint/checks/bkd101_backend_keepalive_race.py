"""BKD101 backend-keepalive-race: nginx keeps an idle upstream connection longer than the backend.

When the upstream's ``keepalive_timeout`` (default 60s) is at or above the
backend's idle timeout (gunicorn ``keepalive`` 2s, uvicorn
``timeout_keep_alive`` 5s, hypercorn ``keep_alive_timeout`` 5s), the backend
closes idle connections that nginx still holds in its pool, and a request sent
at that moment meets a closed connection: a POST gets a 502 "upstream
prematurely closed connection" (nginx retries only idempotent requests).

The fix (unsafe, one per finding): by default the nginx side, one second below
the backend's timeout; with the option ``fix-side = "backend"`` the backend's
timeout goes above nginx's instead (a libcst-located edit of the value's token
in a Python config, or a new setting; the TOML value; the command-line flag).
When the preferred side cannot be edited (the keepalive_timeout line comes
from an include; the backend's value is inside an ``sh -c`` string) the other
side is the fix. The side not chosen is described in the fix note.

Before nginx 1.15.3 upstream{} has no ``keepalive_timeout`` (facts §1): an idle
pooled connection has no timeout of nginx's own, so every backend idle timeout
races it, and no fix is offered (nginx refuses the line; raising the backend's
timeout only makes the race rarer). Where the version range holds both sides of
1.15.3, no keepalive_timeout line is added (one written in the block is edited:
the nginx that refuses it refuses the file already).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tlslint.checks import RuleContext, directive_location
from tlslint.checks._backends import (
    BACKEND_SIDE,
    NGINX_SIDE,
    BackendTimeout,
    Link,
    NginxTimeout,
    backend_anchor,
    backend_edits,
    backend_target,
    backend_timeout,
    backend_written,
    keepalive_wording,
    links,
    nginx_edit,
    nginx_target,
    nginx_value,
    not_edited,
    reach_note,
    show_seconds,
    suppressed_at_backend,
    upstream_anchor,
    upstream_timeout,
)
from tlslint.checks._upstream import anchor, has_idle_timeout, no_idle_timeout
from tlslint.findings import Finding, Fix, Related, Severity
from tlslint.sources.python.model import Backend
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace

CODE = "BKD101"


@dataclass(frozen=True)
class _Race:
    link: Link
    on: bool | None  # upstream keep-alive: True, or None when it depends on the version
    wording: str
    backend: BackendTimeout
    nginx: NginxTimeout | None  # None: before 1.15.3, no timeout of nginx's own
    versions: VersionRange
    timed: bool | None  # has_idle_timeout: upstream{} has keepalive_timeout (1.15.3)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    races: list[_Race] = []
    for link in links(workspace):
        on, wording = keepalive_wording(link, workspace)
        if on is False or not link.reused:
            continue  # no pooled connection: nothing to race (NGX211 says why, where none is reused)
        timeout = backend_timeout(link.backend)
        if timeout.seconds is None:
            continue  # keeps no idle connection (BKD102), or not verifiable (BKD103)
        versions = workspace.nginx_versions(link.config)
        timed = has_idle_timeout(versions)
        nginx = upstream_timeout(link.upstream) if timed is not False else None
        if timed is not False and (nginx is None or nginx.seconds < timeout.seconds):
            continue
        races.append(_Race(link, on, wording, timeout, nginx, versions, timed))
    # One value per upstream (below every backend it reaches) and per backend (above
    # every upstream that reaches it), so that findings that share a line share its edit.
    lowest: dict[int, float] = {}
    highest: dict[int, float] = {}
    for race in races:
        key = id(race.link.upstream.directive)
        assert race.backend.seconds is not None
        lowest[key] = min(lowest.get(key, race.backend.seconds), race.backend.seconds)
        if race.nginx is not None:
            held = race.nginx.seconds
            backend_key = id(race.link.backend)
            highest[backend_key] = max(highest.get(backend_key, held), held)
    preferred = str(ctx.options.get("fix-side", NGINX_SIDE))
    for race in races:
        lowest_here = lowest[id(race.link.upstream.directive)]
        if race.nginx is None:
            finding = _untimed_finding(ctx, race, lowest_here)
        else:
            finding = _finding(ctx, race, lowest_here, highest[id(race.link.backend)], preferred)
        if finding is not None and not suppressed_at_backend(
            ctx, workspace, backend_anchor(race.link.backend, race.backend.value)
        ):
            yield finding


def _setting_example(backend: Backend, timeout: BackendTimeout, seconds: int) -> str:
    if backend.command:
        return f"{timeout.setting} {seconds}"
    return f"{timeout.setting} = {seconds}"


def _finding(ctx: RuleContext, race: _Race, lowest: float, highest: float, preferred: str) -> Finding | None:
    link, timeout, nginx = race.link, race.backend, race.nginx
    backend = link.backend
    upstream = link.upstream
    assert timeout.seconds is not None and upstream.directive is not None and nginx is not None
    name = link.name
    new_nginx = nginx_value(nginx_target(lowest))
    new_backend = backend_target(highest)
    # A range that holds releases before 1.15.3 gets no new keepalive_timeout line: they
    # refuse it. One the block has is edited (the nginx that refuses it refuses the file).
    unwritable = race.timed is None and nginx.directive is None
    nginx_fix = None if unwritable else nginx_edit(upstream, new_nginx)
    backend_fix = backend_edits(backend, timeout, new_backend)
    side = preferred
    if side == BACKEND_SIDE and backend_fix is None and nginx_fix is not None:
        side = NGINX_SIDE
    elif side != BACKEND_SIDE and nginx_fix is None and backend_fix is not None:
        side = BACKEND_SIDE
    backend_label = backend.label
    backend_seconds = show_seconds(timeout.seconds)
    held = show_seconds(nginx.seconds)
    how_long = (
        f"keepalive_timeout {' '.join(nginx.directive.args)}"
        if nginx.directive is not None
        else "keepalive_timeout 60s, the default"
    )
    # Before 1.15.3 there is no keepalive_timeout to add: said where the range holds both.
    open_range = race.versions.unsettled() if unwritable else ""
    if unwritable:
        how_long = "keepalive_timeout 60s, the default since nginx 1.15.3"
    consequence = (
        "nginx may send a request on a connection the backend is closing, and a POST then fails with "
        '502 "upstream prematurely closed connection" (nginx retries only idempotent requests)'
    )
    linked = " (linked by [[backends]] in the settings)" if link.by_settings else ""
    if race.on is None:
        message = (
            f"upstream {name}{linked}: {race.wording}. Where it does, it keeps idle connections for "
            f"{held} ({how_long}), but {backend_label} closes them after {backend_seconds} "
            f"({timeout.how}): {consequence}"
        )
    else:
        message = (
            f"upstream {name}{linked} keeps idle connections for {held} ({how_long}; {race.wording}), "
            f"but {backend_label} closes them after {backend_seconds} ({timeout.how}): {consequence}"
        )
    if open_range:
        message += (
            "; before 1.15.3 upstream{} has no keepalive_timeout, and an idle connection stays until "
            f"the backend closes it: a race on every version ({open_range})"
        )
    nginx_where = upstream_anchor(upstream, nginx)
    backend_where = backend_anchor(backend, timeout.value)
    notes: list[Related] = []
    example = _setting_example(backend, timeout, new_backend)
    written = backend_written(backend, timeout, new_backend)
    # Where the fix writes, as it writes it: a gunicorn that a Dockerfile starts gets
    # `keepalive = 65` in the gunicorn.conf.py it reads, not a flag in the Dockerfile.
    edited = f"{written[0]} in {written[1].name}" if written is not None else example
    fix: Fix | None = None
    if side == BACKEND_SIDE:
        where = backend_where
        notes.append(Related(nginx_where, f"upstream {name} keeps idle connections for {held}"))
        if backend_fix is not None:
            fix = Fix(
                f"set {edited}: above upstream {name}'s keepalive_timeout of {held}",
                backend_fix,
                False,
            )
        note = (
            f"or lower upstream {name}'s keepalive_timeout below {backend_seconds} "
            f"(keepalive_timeout {new_nginx})"
        )
        if open_range:
            note = (
                f"or, on nginx 1.15.3 or later, lower upstream {name}'s keepalive_timeout below "
                f"{backend_seconds} (keepalive_timeout {new_nginx}): nginx refuses the line before 1.15.3 "
                f"({open_range}), where only upgrading nginx ends the race"
            )
        elif nginx_fix is None:
            note += ", in the include that sets it"
        if backend_fix is None:
            path, why = not_edited(backend, timeout, held)
            note = f"no fix in {path.name}: {why}; {note}"
    else:
        where = nginx_where
        said = (
            f"{backend.server} closes idle connections after {backend_seconds}"
            if timeout.value is not None
            else f"{backend.server} listens here, with the default {timeout.setting} ({backend_seconds})"
        )
        notes.append(Related(backend_where, said))
        if nginx_fix is not None:
            fix = Fix(
                f"set keepalive_timeout {new_nginx} in upstream {name}: below "
                f"{backend.server}'s idle timeout of {show_seconds(lowest)}",
                (nginx_fix,),
                False,
            )
        note = (
            f"or raise {backend.server}'s idle timeout above {held} instead ({edited}); "
            'with [rules.BKD101] fix-side = "backend", --fix --unsafe-fixes does that'
        )
        if backend_fix is None:
            note = f"or raise {backend.server}'s idle timeout above {held} instead ({example})"
            if backend.shared or preferred == BACKEND_SIDE:  # why --fix does not, with fix-side = "backend"
                path, why = not_edited(backend, timeout, held)
                note += f"; not edited in {path.name}: {why}"
        if open_range:
            note = (
                f"no keepalive_timeout is added to upstream {name}: nginx refuses it before 1.15.3 "
                f"({open_range}); {note}"
            )
    reach = reach_note(link)
    if reach is not None:
        notes.append(reach)
    elif side == BACKEND_SIDE:
        notes.append(Related(directive_location(upstream.directive), f"upstream {name}"))
    fingerprint = f"{anchor(upstream, 'keepalive_timeout')} > {backend.server}[{backend.path.name}]"
    return ctx.finding(
        where,
        message,
        severity=Severity.ERROR if race.on else Severity.INFO,  # None: the version decides
        fix=fix,
        related=notes,
        anchor=fingerprint,
        fix_note=note,
    )


def _untimed_finding(ctx: RuleContext, race: _Race, lowest: float) -> Finding | None:
    """Before nginx 1.15.3: upstream{} has no keepalive_timeout, so an idle pooled
    connection stays until the backend closes it (or a newer one evicts it from a full
    pool). Every backend idle timeout races it; nginx refuses the line that would end
    it, and raising the backend's timeout only makes the race rarer: no fix."""
    link, timeout = race.link, race.backend
    backend, upstream = link.backend, link.upstream
    assert timeout.seconds is not None and upstream.directive is not None
    name = link.name
    backend_seconds = show_seconds(timeout.seconds)
    before = no_idle_timeout(race.versions)
    linked = " (linked by [[backends]] in the settings)" if link.by_settings else ""
    line = upstream.last("keepalive_timeout")
    written = "; its keepalive_timeout line is refused there (NGX004)" if line is not None else ""
    held = (
        f"keeps idle connections with no timeout of nginx's own: upstream{{}} has no keepalive_timeout "
        f"{before}{written}, so an idle connection stays in the pool until the backend closes it "
        "(or a newer one takes its place in a full pool)"
    )
    consequence = (
        "whenever it does, nginx may send a request on that connection as it closes, and a POST then "
        'fails with 502 "upstream prematurely closed connection" (nginx retries only idempotent requests)'
    )
    if race.on is None:
        message = (
            f"upstream {name}{linked}: {race.wording}. Where it does, it {held}, and "
            f"{backend.label} closes them after {backend_seconds} ({timeout.how}): {consequence}"
        )
    else:
        message = (
            f"upstream {name}{linked} ({race.wording}) {held}, and {backend.label} closes them after "
            f"{backend_seconds} ({timeout.how}): {consequence}"
        )
    said = (
        f"{backend.server} closes idle connections after {backend_seconds}"
        if timeout.value is not None
        else f"{backend.server} listens here, with the default {timeout.setting} ({backend_seconds})"
    )
    notes = [Related(backend_anchor(backend, timeout.value), said)]
    reach = reach_note(link)
    if reach is not None:
        notes.append(reach)
    note = (
        f"no fix: {before} nginx refuses keepalive_timeout in upstream{{}}; upgrade nginx to 1.15.3 or "
        f"later and set keepalive_timeout {nginx_value(nginx_target(lowest))} in upstream {name} "
        f"(below {backend.server}'s idle timeout of {backend_seconds}). Raising {backend.server}'s idle "
        "timeout only makes the race rarer"
    )
    fingerprint = f"{anchor(upstream, 'keepalive_timeout')} > {backend.server}[{backend.path.name}]"
    return ctx.finding(
        upstream_anchor(upstream, None),
        message,
        severity=Severity.ERROR if race.on else Severity.INFO,  # None: the version decides
        related=notes,
        anchor=fingerprint,
        fix_note=note,
    )
