"""NGX212 implicit-upstream-no-keepalive: proxy_pass to an address with no upstream{}.

nginx turns ``proxy_pass http://127.0.0.1:3000`` into an implicit upstream,
which never keeps connections, on any version ("skip implicit upstreams" in
the keepalive module; measured on 1.22.1 and 1.31.4).

The unsafe fix declares ``upstream NAME { server HOST:PORT; keepalive N; }`` in
http context (above the first server of the file) and points proxy_pass at it,
scheme and URI kept: one per address in a configuration, in the file of the first pass
nginx reads (``_Plan``), none in a file read twice into http{}. What the backend sees
is kept too: a host name without a port becomes the upstream's own name, so
``$proxy_host`` (the default Host header and TLS name) does not change; otherwise the
location gets
``proxy_set_header Host <old $proxy_host>`` when it sets no Host, and for a
verified or SNI https backend ``proxy_ssl_name <host>``. Before 1.29.7 (or
when the version is unknown) the location also gets ``proxy_http_version 1.1``
and ``proxy_set_header Connection ""`` unless the Connection header it sets keeps
the connection; one that a ``map $http_upgrade`` turns into ``close`` for plain
requests gets the map's empty value instead, as NGX211's fix does. Targets with
variables and WebSocket-only locations are left out.

In front of an app server that closes idle connections before the new upstream's 60s
(BKD101's race), the upstream also gets ``keepalive_timeout`` one second below the app
server's; before nginx 1.15.3 (or where the range holds both sides of it) upstream{} has
no keepalive_timeout, and no fix is offered. With no app server of the run at the
address its idle timeout is unknown: the fix note says that nginx's 60s must stay below it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tlslint.checks import RuleContext, related
from tlslint.checks._effective import effective, proxy_headers
from tlslint.checks._upstream import (
    LocationChange,
    PassTarget,
    anchor,
    complete,
    connection_issue,
    every_pass,
    free_name,
    has_idle_timeout,
    http_context_anchor,
    http_upstreams,
    http_version_issue,
    is_ip_address,
    label,
    new_block,
    pass_targets,
    plain_request_empty,
    split_address,
    timeout_below,
    unknown_backend_note,
    untimed_note,
    upgrade_maps,
    websocket_only,
)
from tlslint.findings import Edit, Finding, Fix, Severity
from tlslint.nginx_edits import Statement, replace_argument, statement
from tlslint.nginx_upstream_names import config_outcomes, context_blocks, declared_at
from tlslint.nginx_values import templated
from tlslint.nginx_versions import UPSTREAM_KEEPALIVE_TIMEOUT_DEFAULT
from tlslint.sources.nginx.model import Directive
from tlslint.units import parse_time
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block, NginxConfig, per_config

if TYPE_CHECKING:
    from tlslint.sources.python.model import Backend

CODE = "NGX212"
_NOT_A_NAME = re.compile(r"[^A-Za-z0-9]+")
# The keepalive_timeout of the upstream{} a fix declares.
_NEW_TIMEOUT = parse_time(UPSTREAM_KEEPALIVE_TIMEOUT_DEFAULT)
NO_HTTP_NOTE = (
    "an upstream{} belongs in http{}, which this file does not show (a server snippet): "
    "declare one where the server is included and point proxy_pass at it"
)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    size = int(ctx.options["connections"])
    reach = _reach(workspace)
    for config in workspace.nginx:
        versions = workspace.nginx_versions(config)
        outcomes = config_outcomes(config)  # a literal pass that names an upstream{}
        plan = _Plan(config)
        timed = has_idle_timeout(versions)
        # The findings in order, those with a fix once the plan has every upstream{}.
        pending: list[Finding | tuple[PassTarget, str, _Partial | None, str]] = []
        for target in pass_targets(config):
            if target.module != "proxy" or not target.literal or target.upstream is not None:
                continue
            if target.location is None or websocket_only(target.location):
                continue
            if not _names_an_address(target, config):
                continue
            cost = "a new connection and a TLS handshake" if target.tls else "a new connection"
            passed = outcomes.get(id(target.directive))
            if passed is not None:
                pending.append(_bypassed(ctx, target, passed.declared, cost))
                continue
            # The app servers at the address, asked once for the three questions below.
            reached = reach(target.address)
            race = _backend_race(reached, timed)
            sync = _sync_worker(reached, target, size)
            if sync:
                partial, note = None, sync  # a pool it closes: the fix would create BKD102's finding
            elif race is not None and timed is not True:
                # The new upstream's keep-alive would race the app server, and the
                # keepalive_timeout that ends the race is refused before 1.15.3.
                partial = None
                note = untimed_note(
                    versions,
                    timed,
                    race,
                    "keep-alive here",
                    f"declare an upstream{{}} for {target.address} with keepalive {size} and "
                    f"keepalive_timeout {timeout_below(race)}, and proxy_pass to it",
                )
            else:
                partial, note = _fix(config, target, versions, size, race, plan)
                if partial is not None and race is None and not reached:
                    # nginx's 60s may outlast the backend's idle timeout (gunicorn's 2s).
                    note = unknown_backend_note(workspace, versions, timed, "the new upstream{}", None)
            pending.append((target, cost, partial, note))
        creations = plan.edits()
        for item in pending:
            if isinstance(item, Finding):
                yield item
                continue
            target, cost, partial, note = item
            assert target.location is not None
            fix = None
            if partial is not None:
                fix, refusal = partial.fix(creations)
                note = refusal or note
            yield ctx.finding(
                target.directive,
                f"proxy_pass {target.directive.args[0]} names no upstream{{}}: nginx makes an implicit "
                f"upstream for {target.address}, which never keeps connections on any version, so every "
                f"request opens {cost}",
                severity=Severity.ERROR if target.tls else Severity.WARNING,
                fix=fix,
                fix_note=note,
                anchor=anchor(target.location, "proxy_pass"),
            )


class _Plan:
    """The upstream{} blocks NGX212's fixes of one configuration declare: one per address
    (nginx refuses a second ``upstream`` of a name: "duplicate upstream"), anchored where
    the first pass to it in reading order needs it, and those above one anchor in a single
    edit. Every fix that needs one carries that same edit: applied together the copies
    are one edit (fixing.choose_fixes), and a file's fixes settle in one pass instead of
    one pass per insertion at the shared anchor."""

    def __init__(self, config: NginxConfig) -> None:
        self.known = http_upstreams(config)
        self.taken = set(self.known)
        self.names: dict[tuple[str, bool], tuple[str, Directive | None]] = {}
        self.blocks: dict[int, tuple[Directive, list[Statement]]] = {}
        self.twice = _read_twice(config)

    def name(
        self, target: PassTarget, keep_name: bool, where: Directive, body: list[Statement]
    ) -> tuple[str, Directive | None]:
        """The upstream's name, and the anchor above which it is created (None: it exists)."""
        key = (target.address.lower(), keep_name)
        found = self.names.get(key)
        if found is not None:
            return found
        if keep_name:
            name: str = target.host
            create = True
        else:
            preferred = _derived_name(target)
            existing = self.known.get(preferred.lower())
            if existing is not None and [d.args[:1] for d in existing.all("server")] == [(target.address,)]:
                name, create = preferred, False  # declared by an earlier pass of this fix
            else:
                name, create = free_name(self.taken, preferred), True
        self.taken.add(name.lower())
        at = where if create else None
        if at is not None and id(at) not in self.twice:
            self.blocks.setdefault(id(at), (at, []))[1].append(statement("upstream", name, block=body))
        self.names[key] = (name, at)
        return name, at

    def edits(self) -> dict[int, Edit]:
        return {key: new_block(at, payloads) for key, (at, payloads) in self.blocks.items()}


@per_config
def _read_twice(config: NginxConfig) -> frozenset[int]:
    """The ``server`` directives of files nginx reads more than once into http{} (a glob
    meeting a symlink to another match): a block written above one is declared twice."""
    seen: set[int] = set()
    twice: set[int] = set()
    for block in context_blocks(config)["server"]:
        directive = block.directive
        if directive is not None:
            (twice if id(directive) in seen else seen).add(id(directive))
    return frozenset(twice)


@dataclass(frozen=True)
class _Partial:
    """A fix waiting for its configuration's upstream{} blocks (``_Plan.edits``)."""

    description: str
    edits: tuple[Edit, ...]
    anchor: Directive | None  # where its upstream{} is created (None: it exists)

    def fix(self, creations: dict[int, Edit]) -> tuple[Fix | None, str]:
        if self.anchor is None:
            return Fix(self.description, self.edits, False), ""
        creation = creations.get(id(self.anchor))
        if creation is None:
            return None, (
                f"{self.anchor.source.path.name} is read more than once into http{{}} (an include "
                "meets it twice), so an upstream{} written there would be declared twice, which nginx "
                "refuses (duplicate upstream): declare it where the file is included, and point "
                "proxy_pass at it"
            )
        return Fix(self.description, (creation, *self.edits), False), ""


def _bypassed(ctx: RuleContext, target: PassTarget, declared: Directive, cost: str) -> Finding:
    """A pass that names an upstream{} declared below it, with another port than the first
    pass to that name: nginx gives the upstream{} that first pass only (the order decides;
    tlslint.nginx_upstream_names)."""
    assert target.location is not None
    name = declared.args[0]
    if target.port:
        note = (
            f"an upstream{{}} never takes a pass with a port: rename upstream {name}, or pass to "
            f"{target.scheme}://{name} without the port"
        )
    else:
        note = f"declare upstream {name} above the first server that passes to {target.host}"
    return ctx.finding(
        target.directive,
        f"proxy_pass {target.directive.args[0]} does not use upstream {name} "
        f"({declared_at(declared, target.directive)}): nginx reads it "
        f"before that upstream{{}}, with another port ({target.address.rsplit(':', 1)[-1]}) than the first "
        f"pass to {target.host}, and makes it an implicit upstream for {target.address} (resolved by DNS at "
        f"start), which never keeps connections, so every request opens {cost}",
        severity=Severity.ERROR if target.tls else Severity.WARNING,
        fix_note=note,
        related=[related(declared, f"upstream {name} is declared here")],
        anchor=anchor(target.location, "proxy_pass"),
    )


def _names_an_address(target: PassTarget, config: NginxConfig) -> bool:
    """A literal address. A bare name without a port may be an upstream{} that
    another file declares, unless the whole configuration is here."""
    host = target.host
    if host.startswith("unix:") or target.port or "." in host or ":" in host:
        return True
    return host.lower() == "localhost" or complete(config)


def _derived_name(target: PassTarget) -> str:
    if target.host.startswith("unix:"):
        stem = "unix_" + target.host[5:].rsplit("/", 1)[-1]
    else:
        stem = f"{target.host}_{target.port or ('443' if target.tls else '80')}"
    name = _NOT_A_NAME.sub("_", stem).strip("_")
    return f"backend_{name}" if name[:1].isdigit() else name


def _may_keep_name(target: PassTarget, config: NginxConfig) -> bool:
    """Whether an upstream named exactly like the host leaves every *_pass valid:
    nginx matches upstream{} names before resolving, and refuses a port on one."""
    host = target.host
    if target.port or host.startswith("unix:") or is_ip_address(host) or ":" in host:
        return False
    ported, schemes = _pass_hosts(config).get(host.lower(), (False, frozenset()))
    return not ported and not (schemes - {target.scheme})


@per_config
def _pass_hosts(config: NginxConfig) -> dict[str, tuple[bool, frozenset[str]]]:
    """For each host a *_pass names (lower-cased): whether a literal one gives a port,
    and the schemes they use (asked for each implicit upstream, of thousands).

    A pass with variables finds an upstream{} of its host per request when it writes no
    port (one with a port is resolved): its scheme counts, taken from the address written
    before its first variable, which may be only the start of the host (a name kept
    needlessly is not one that breaks)."""
    ported: dict[str, bool] = {}
    schemes: dict[str, set[str]] = {}
    for directive in every_pass(config):
        value = directive.args[0] if directive.args else ""
        variable = value.find("$")
        parts = split_address(value if variable < 0 else value[:variable]) if value else None
        if parts is None:
            continue
        scheme, other, port, _ = parts
        key = other.lower()
        if variable < 0:
            ported[key] = ported.get(key, False) or bool(port)
        elif port or other.startswith("unix:"):
            continue
        schemes.setdefault(key, set()).add(scheme)
    return {key: (ported.get(key, False), frozenset(found)) for key, found in schemes.items()}


def _reach(workspace: Workspace) -> Callable[[str], list[Backend]]:
    """The app servers of the run at an implicit upstream's address (none without app
    servers in the run, whose modules then stay unimported): imported once, not once per
    implicit upstream."""
    if workspace.backends is None:
        return lambda _address: []
    from tlslint.checks._backends import backends_at

    return lambda address: backends_at(workspace, address)


def _backend_race(reached: list[Backend], timed: bool | None) -> tuple[float, str] | None:
    """The lowest idle timeout of the app servers at the address (``reached``) that close
    idle connections before the new upstream's default keepalive_timeout would (BKD101's
    race), and whose it is. Where the range holds releases before 1.15.3 (``timed`` not
    True), nginx may keep an idle connection with no timeout: every app server that keeps
    one races it."""
    if not reached:
        return None
    from tlslint.checks._backends import racing

    assert _NEW_TIMEOUT is not None
    return racing(reached, _NEW_TIMEOUT if timed else math.inf)


def _sync_worker(reached: list[Backend], target: PassTarget, size: int) -> str:
    """The note withholding the new upstream{} in front of gunicorn's sync worker."""
    if not reached:
        return ""
    from tlslint.checks._backends import sync_worker_note

    what = f"declare an upstream{{}} for {target.address} with keepalive {size}, and proxy_pass to it"
    return sync_worker_note(reached, what)


def _fix(
    config: NginxConfig,
    target: PassTarget,
    versions: VersionRange,
    size: int,
    race: tuple[float, str] | None,
    plan: _Plan,
) -> tuple[_Partial | None, str]:
    location = target.location
    assert location is not None
    where = http_context_anchor(target.block)
    if where is None:
        return None, NO_HTTP_NOTE
    edits: list[Edit] = []
    keep_name = _may_keep_name(target, config)
    body = [statement("server", target.address), statement("keepalive", str(size))]
    if race is not None:
        body.append(statement("keepalive_timeout", timeout_below(race)))
    name, created_at = plan.name(target, keep_name, where, body)
    create = created_at is not None
    if not keep_name:
        edits.append(replace_argument(target.directive, 0, f"{target.scheme}://{name}{target.rest}"))
    connection = connection_issue(target.block, versions, upgrade_maps(config))
    upgrade = connection.upgrade_map if connection is not None else None
    if upgrade is not None:
        # Its keep-alive would be defeated by the map's "close" for plain requests (NGX211).
        map_edit = plain_request_empty(upgrade)
        if map_edit is None:
            return None, "the Connection map's value for plain requests is not the map's own line"
        edits.append(map_edit)
    change = _location_change(
        location, target, versions, keep_name, connection is not None and upgrade is None
    )
    located = change.edits()
    if located is None:
        return (
            None,
            "the location's proxy_http_version comes from an include: a second line would be a duplicate",
        )
    edits.extend(located)
    added = ["proxy_http_version 1.1"] if change.http11 else []
    added += [f"proxy_set_header {name_}" for name_, _ in change.headers]
    added += [s.rstrip(";") for s in change.statements]
    if upgrade is not None:
        added.append(f"the empty value for plain requests in map ${upgrade.variable}")
    description = f"declare upstream {name} ({target.address}, keepalive {size}"
    if create and race is not None:
        description += f", keepalive_timeout {timeout_below(race)} below {race[1]}"
    description += ")"
    if not keep_name:
        description += f" and proxy_pass to it from {label(location)}"
    if added:
        description += "; set " + ", ".join(added)
    return _Partial(description, tuple(edits), created_at), ""


def _location_change(
    location: Block, target: PassTarget, versions: VersionRange, keep_name: bool, connection: bool
) -> LocationChange:
    """``connection``: the location's Connection header (none before 1.29.7, or a value
    such as "close") would defeat the new keep-alive, as NGX211 would report."""
    change = LocationChange(location)
    change.http11 = http_version_issue(target.block, versions) is not None
    _, headers = proxy_headers(target.block)
    names = {header.name for header in headers}
    if connection:
        change.headers.append(("Connection", '""'))
    if not keep_name:
        # $proxy_host becomes the upstream's name: keep what the backend saw.
        if "host" not in names:
            change.headers.append(("Host", target.proxy_host))
        if target.tls and not target.host.startswith("unix:"):
            verify = effective(target.block, "proxy_ssl_verify")
            sni = effective(target.block, "proxy_ssl_server_name")
            named = effective(target.block, "proxy_ssl_name")
            # A template's value may turn them on: the name costs nothing where they are off.
            uses_name = any(d is not None and (d.args[:1] == ("on",) or templated(d)) for d in (verify, sni))
            if named is None and uses_name:
                change.statements.append(f"proxy_ssl_name {target.host};")
    return change
