"""NGX101 ssl-session-cache-missing: a TLS server resumes no session by ID.

What a server without a cache can still resume depends on tickets (facts/nginx.md §1):
with ``ssl_session_tickets off`` nothing resumes (an error); with tickets on and nginx's
random keys, tickets die on every reload and differ between nodes (a warning); with
``ssl_session_ticket_key`` files on the default server, tickets survive reloads and are
shared between nodes, and only TLS 1.2 clients without ticket support cannot resume
(info). A missing http-level line is one cause, reported once where the fix goes.

Before nginx 1.29.2 the default server of a socket decides for its virtual servers
(its context is set before the SNI callback picks one): its ``ssl_session_tickets off``
keeps a virtual server with tickets on from resuming at all when neither has a cache
(measured on 1.22.1, tests/test_live_session_default.py), and its ssl_protocols decide
whether the virtual server speaks only TLS 1.3. Since 1.29.2 each server's own lines
count. The rule reads a server on each side of 1.29.2 that the configuration may run on;
where they differ (the version is open) the message says what holds on each side, at
``info`` where one side needs no cache, else at the lesser severity of the two.

Before 1.29.2, too, a virtual server whose ssl_session_tickets differs from its default
server's never resumes a TLS 1.3 session, with a cache or without (_ticket_mismatch: a
finding of its own, with no fix). A cache brings back its TLS 1.2 sessions only, so a
virtual server that speaks only TLS 1.3 is not reported for a missing cache there.

A stream{} server that shares a TLS address:port with another is judged only on nginx
known to be >= 1.25.5 (``stream_default_unsettled``): before, nginx refuses the second
server (NGX004), so no default server resumes anything; from 1.25.5 the socket's default
server does, as in http{}.

Under OpenResty's ``ssl_session_fetch_by_lua_*`` (http{} only) sessions resume from a
cache that Lua code keeps: what resumes is that code's, so such servers are not reported.

In a fragment (a conf.d/ file of server blocks, or a server snippet, checked without its
includer) the including http{} may set the cache this file leaves out: the message says
what this file does not set and that the includer decides, and the fix that adds a zone
is unsafe. The includer's zone is most likely named ``SSL`` too, and nginx refuses one
zone name with two sizes (`the size ... of shared memory zone "SSL" conflicts with
already declared size`); with another name, the server's own line would override the
includer's cache. In a complete configuration the fix is safe: it adds what is missing
where nothing is set, with a zone name nothing else declares.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterator
from dataclasses import dataclass, field

from tlslint.checks import RuleContext, directive_location, related
from tlslint.checks import _ticket_mismatch as tickets
from tlslint.checks._cache_move import first_cache_move, zone_minimum
from tlslint.checks._causes import Cause, Place, fix_key, one_per_cause
from tlslint.checks._fragment import includer, is_fragment
from tlslint.checks._placement import session_targets, zone_name_for
from tlslint.checks._session import (
    SessionCache,
    anchor,
    default_servers_of,
    effective_cache,
    every_tls_server,
    rejection_templated,
    rejects_handshakes,
    setting_anchor,
    sockets_that_resume,
    stream_default_unsettled,
    stream_defaults_known,
    ticket_blockers,
    ticket_keys,
    tickets_on,
    tickets_templated,
    tls13_only,
)
from tlslint.findings import Finding, Fix, Related, Severity
from tlslint.nginx_edits import replace_arguments
from tlslint.nginx_versions import SNI_SESSION_DECISION
from tlslint.sources.nginx.model import Directive
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server, is_default

CODE = "NGX101"
NONE_APPLIES = "no ssl_session_cache applies; nginx's default is none"
IN_NO_LINE = "nothing in this file sets ssl_session_cache; nginx's default is none"

# What a server without a cache still resumes, by how its tickets are set up. BLOCKED:
# tickets on, but before 1.29.2 its default server's `ssl_session_tickets off` decides.
# TEMPLATED: the ssl_session_tickets that decides is a template's placeholder (on or off
# when the template is rendered): no cache either way, and what is left is said as open.
OFF, BLOCKED, TEMPLATED, RANDOM, KEYED = "off", "blocked", "templated", "random", "keyed"
ORDER: tuple[str | None, ...] = (OFF, BLOCKED, TEMPLATED, RANDOM, KEYED)  # of one cause's message
SEVERITY = {
    OFF: Severity.ERROR,
    BLOCKED: Severity.ERROR,
    TEMPLATED: Severity.WARNING,
    RANDOM: Severity.WARNING,
    KEYED: Severity.INFO,
}
_OPEN = (
    "the ssl_session_tickets that decides is a template's placeholder (off: every connection is a "
    "full handshake)"
)
ALONE = {
    OFF: "with ssl_session_tickets off, every connection is a full handshake",
    TEMPLATED: f"it resumes only with session tickets, if at all: {_OPEN}",
    BLOCKED: (
        "{whose} {blockers} {turn} ssl_session_tickets off, which{when} decides ticket resumption "
        "for it too: it never resumes, and every connection is a full handshake"
    ),
    RANDOM: (
        "only session tickets can resume, and with nginx's random ticket keys they die on every "
        "reload and differ between nodes"
    ),
    KEYED: (
        "only session tickets resume; their keys come from ssl_session_ticket_key files on the "
        "default server, so tickets survive reloads and are shared between nodes, but TLS 1.2 "
        "clients without ticket support cannot resume"
    ),
}
MANY = {
    OFF: "{who} (ssl_session_tickets off) never resume: every connection is a full handshake",
    TEMPLATED: "{who} resume only with session tickets, if at all: " + _OPEN,
    BLOCKED: (
        "{who} never resume: their default server turns ssl_session_tickets off, which{when} decides "
        "ticket resumption for them too, so every connection is a full handshake"
    ),
    RANDOM: (
        "{who} resume only with session tickets, whose random keys die on every reload and differ "
        "between nodes"
    ),
    KEYED: (
        "{who} resume only with session tickets, whose keys come from ssl_session_ticket_key files on "
        "the default server (so tickets survive reloads and are shared between nodes); TLS 1.2 clients "
        "without ticket support cannot resume"
    ),
}
# One side of 1.29.2 where the server needs no cache: it speaks only TLS 1.3 (tickets on).
TLS13 = "it speaks only TLS 1.3 ({whose} ssl_protocols applies), whose clients resume with session tickets"
# A server whose reading differs across the versions an open nginx.version stands for,
# among others: "{who}, before nginx 1.29.2, {before}, and from 1.29.2 {since}".
PLURAL: dict[str | None, str] = {
    OFF: "never resume (ssl_session_tickets off)",
    TEMPLATED: "resume only with session tickets, if the template's ssl_session_tickets turns them on",
    BLOCKED: (
        "never resume (their default server's ssl_session_tickets off decides ticket resumption for them)"
    ),
    RANDOM: (
        "resume only with session tickets, whose random keys die on every reload and differ between nodes"
    ),
    KEYED: (
        "resume only with session tickets, whose keys come from ssl_session_ticket_key files on the "
        "default server"
    ),
    None: "speak only TLS 1.3, whose clients resume with session tickets",
}
# In a fragment the includer may set the ticket keys this file does not: said so.
FRAGMENT_KEYS = (
    "nginx's random ticket keys",
    "nginx's random ticket keys (unless the includer sets ssl_session_ticket_key)",
)
FRAGMENT_MANY_KEYS = (
    "whose random keys",
    "whose random keys (unless the includer sets ssl_session_ticket_key)",
)

SHORT: dict[str | None, str] = {
    OFF: "never resumes (tickets off)",
    TEMPLATED: "resumes only with tickets, if the template turns them on",
    BLOCKED: "never resumes (its default server turns tickets off)",
    RANDOM: "resumes only with tickets, whose keys die on reload",
    KEYED: "resumes only with tickets (keys from files)",
    None: "TLS 1.3 only, resumes with tickets",
}


@dataclass(frozen=True)
class _Reading:
    """What a server without a cache resumes on one side of 1.29.2 (``per_server``:
    since, when each virtual server decides its own tickets and protocols)."""

    kind: str | None  # OFF, BLOCKED, TEMPLATED, RANDOM, KEYED; None: TLS 1.3 only, no cache needed
    # Its sockets whose default server turns tickets off (before 1.29.2), and those servers.
    blocked: tuple[str, ...] = ()
    blockers: tuple[Server, ...] = field(default=(), compare=False)
    partly: bool = False  # blocked on some of the sockets it is judged on, not all
    per_server: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class _Where:
    """Where a cause with several places is reported, and how it is named."""

    directive: Directive
    anchor: str
    subject: str  # "http{} sets no ssl_session_cache (...)"
    unless: str = ""  # in a fragment: " unless the including http{} sets one"
    fragment: bool = False  # the includer may set the ticket keys too


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for whole in workspace.nginx:
        places: list[Place] = []
        versions = workspace.nginx_versions(whole)
        # One version on each side of 1.29.2 that the configuration may run on: before,
        # the default server decides tickets and protocols for its virtual servers.
        sides = [rep >= SNI_SESSION_DECISION for rep in versions.representatives((SNI_SESSION_DECISION,))]
        stream = whole.stream
        stream_known = stream is None or stream_defaults_known(stream, versions)
        # Before 1.29.2, a virtual server whose tickets differ from its default server's.
        differ: list[Place] = []
        reps = tickets.representatives(versions)
        deciders: dict[int, tickets.Decider | None] = {}
        for config, server in every_tls_server(whole):
            if stream_default_unsettled(config, server, stream_known):
                continue  # which server's cache resumes its sessions is open (see above)
            differ.extend(tickets.places(ctx, config, server, versions, reps, deciders))
            if rejects_handshakes(server) and not (
                is_default(server) and sockets_that_resume(config, server)
            ):
                # Completes no handshake, and decides for no socket where another one does.
                continue
            cache = effective_cache(server)
            if cache.present or cache.refused or (cache.directive is None and server.unresolved):
                continue
            if lua_session_fetch(server) is not None:
                continue  # its Lua code keeps a session cache of its own (see lua_session_fetch)
            # Resumption happens in the default server's context: a vhost
            # without a cache still resumes when its default server has one.
            defaults = default_servers_of(config, server)
            if defaults and all(effective_cache(d).present or effective_cache(d).refused for d in defaults):
                continue
            split = _split_sockets(config, server)
            bare = split[0] if split is not None else _tls_sockets(config, server)
            readings = list(dict.fromkeys(_read(config, server, bare, per_server) for per_server in sides))
            if all(reading.kind is None for reading in readings):
                continue  # TLS 1.3 resumes with tickets; their keys are NGX105's
            finding, outcome = _alone(ctx, config, server, cache, readings, versions, split)
            cause, where = _cause(config, server, cache, finding)
            if split is not None or any(reading.partly for reading in readings):
                cause = ("some sockets", id(server))  # its own message: true of some sockets only
            who = f"TLS {server.label}" + _rejecting(server)
            note = _short(readings)
            places.append(Place(cause, finding, f"{who}: {note}", (outcome, where, versions)))
        yield from one_per_cause(places, _describe, ctx.keep)
        yield from one_per_cause(differ, tickets.describe, ctx.keep)


# OpenResty's lua-nginx-module: nginx asks this hook for a session ID that no
# ssl_session_cache holds, and its Lua code answers from a cache of its own (shared dict,
# memcached, redis). Measured on 1.22.1 with Debian's module: with ssl_session_tickets off
# and no ssl_session_cache, 5 of 5 reconnections resumed. Its store hook only fills that
# cache; the fetch hook is what resumes. http{}-level only (nginx refuses it in a server).
LUA_SESSION_FETCH = ("ssl_session_fetch_by_lua_block", "ssl_session_fetch_by_lua_file")


def lua_session_fetch(server: Server) -> Directive | None:
    """The Lua hook that resumes ``server``'s sessions from its own cache, if any: what
    resumes then is the Lua code's, which tlslint does not read, so NGX101 says nothing."""
    for name in LUA_SESSION_FETCH:
        found = server.effective(name)
        if found is not None:
            return found
    return None


def _rejecting(server: Server) -> str:
    if not rejects_handshakes(server):
        return ""
    if rejection_templated(server):
        return " (a default server whose ssl_reject_handshake a template decides)"
    return " (a default server that rejects handshakes)"


def _tls_sockets(config: NginxConfig, server: Server) -> list[str]:
    tls = config.tls_sockets
    return list(dict.fromkeys(listen.socket for listen in server.listens if listen.socket in tls))


def _read(config: NginxConfig, server: Server, bare: list[str], per_server: bool) -> _Reading:
    """What ``server`` resumes on ``bare`` (its sockets whose default server has no cache
    either) on one side of 1.29.2."""
    if not tickets_on(server):
        return _Reading(OFF)
    blocking = [] if per_server else ticket_blockers(config, server, bare)
    blocked = tuple(socket for socket, _ in blocking)
    blockers = tuple(dict.fromkeys(default for _, default in blocking))
    partly = bool(blocked) and len(blocked) < len(bare)
    if tls13_only(config, server, per_server):
        # TLS 1.3 resumes with tickets, and needs no cache. Where its default server turns
        # them off, none resumes, cache or not: _ticket_mismatch's finding, not a cache's.
        return _Reading(None, per_server=per_server)
    if blocked and not partly:
        return _Reading(BLOCKED, blocked, blockers)
    if _tickets_templated(config, server, bare, per_server):
        return _Reading(TEMPLATED, blocked, blockers, partly)
    kind = KEYED if ticket_keys(config, server) else RANDOM
    return _Reading(kind, blocked, blockers, partly)


def _tickets_templated(config: NginxConfig, server: Server, bare: list[str], per_server: bool) -> bool:
    """Whether a template's placeholder decides ``server``'s tickets on ``bare``: its own
    ssl_session_tickets, or before 1.29.2 (not ``per_server``) a default server's there."""
    if tickets_templated(server):
        return True
    if per_server:
        return False
    defaults = (config.default_server(socket) for socket in bare)
    return any(default is not None and tickets_templated(default) for default in defaults)


def _short(readings: list[_Reading]) -> str:
    """The related location's note on one server."""
    if len(readings) == 1:
        return SHORT[readings[0].kind]
    before, since = readings
    return f"before 1.29.2 {SHORT[before.kind]}; from 1.29.2 {SHORT[since.kind]}"


def _when(versions: VersionRange, single: bool) -> str:
    """Why the default server's tickets decide: the version named, where one reading holds
    on every version the configuration may run on ('' when the message splits by version)."""
    if not single:
        return ""
    settled = versions.settled(SNI_SESSION_DECISION)
    return f" before nginx 1.29.2 ({settled})" if settled else " before nginx 1.29.2"


def _describe(members: list[Place]) -> Cause:
    """One message for every server that lacks a cache for the same cause."""
    where: _Where = members[0].detail[1]
    versions: VersionRange = members[0].detail[2]
    # By what each server resumes on each side of 1.29.2 (not by its sockets: a place whose
    # message names sockets is a cause of its own), counted once: a cause may have 10,000.
    counts = Counter(tuple(reading.kind for reading in place.detail[0]) for place in members)
    parts = []
    open_question = False
    for kinds in sorted(
        counts, key=lambda kinds: (len(kinds), ORDER.index(kinds[0]) if len(kinds) == 1 else 0)
    ):
        count = counts[kinds]
        who = "they" if count == len(members) else f"{count} of them"
        if len(kinds) == 1:
            kind = kinds[0]
            assert kind is not None  # a server that needs no cache on every side is not reported
            part = MANY[kind].format(who=who, when=_when(versions, single=True))
        else:
            open_question = True
            before, since = kinds
            part = f"{who}, before nginx 1.29.2, {PLURAL[before]}, and from 1.29.2 {PLURAL[since]}"
        parts.append(part.replace(*FRAGMENT_MANY_KEYS) if where.fragment else part)
    note = f" ({versions.unsettled()}: set nginx.version to decide)" if open_question else ""
    return Cause(
        directive_location(where.directive),
        f"{where.subject}, so {len(members)} TLS servers have no session cache{where.unless}: "
        f"{'; '.join(parts)}{note}",
        where.anchor,
    )


# A server's TLS sockets whose default server has no cache, and those whose default has one.
_Split = tuple[list[str], list[str], list[Server]]


def _split_sockets(config: NginxConfig, server: Server) -> _Split | None:
    """Where ``server``'s sessions resume in another default server's cache on some of its
    sockets but nowhere on the others (an IPv6 socket with a default of its own, say):
    (sockets without, sockets with, the default servers with a cache); None otherwise."""
    bare: list[str] = []
    cached: list[str] = []
    owners: list[Server] = []
    for listen in server.listens:
        socket = listen.socket
        if socket not in config.tls_sockets or socket in bare or socket in cached:
            continue
        default = config.default_server(socket)
        owner = default if default is not None else server
        found = effective_cache(owner)
        if owner is not server and (found.present or found.refused):
            cached.append(socket)
            if owner not in owners:
                owners.append(owner)
        else:
            bare.append(socket)
    return (bare, cached, owners) if bare and cached else None


def _alone(
    ctx: RuleContext,
    config: NginxConfig,
    server: Server,
    cache: SessionCache,
    readings: list[_Reading],
    versions: VersionRange,
    split: _Split | None = None,
) -> tuple[Finding, tuple[_Reading, ...]]:
    """The finding for one server, and what it can still resume (one reading, or one on
    each side of 1.29.2 where they differ and the version is open)."""
    notes: list[Related] = []
    tickets_line = server.effective("ssl_session_tickets")
    if not tickets_on(server):
        if tickets_line is not None:
            notes.append(related(tickets_line, "session tickets are turned off here"))
    else:
        for blocker in dict.fromkeys(b for reading in readings for b in reading.blockers):
            line = blocker.effective("ssl_session_tickets")
            if line is not None:  # the note its own finding gives it: one related location
                notes.append(related(line, "session tickets are turned off here"))
        if any(reading.kind == KEYED for reading in readings):
            notes.append(related(ticket_keys(config, server)[0], "ticket keys of the default server"))
        if tickets_line is not None and tickets_templated(server):
            notes.append(related(tickets_line, "the template decides session tickets here"))
    state = NONE_APPLIES if cache.directive is None else f"`ssl_session_cache {cache.state}`"
    unless = ""
    if cache.directive is None and is_fragment(config):
        state, unless = IN_NO_LINE, f" unless {includer(config)} sets one"
    where = cache.directive or server.block.directive or server.block.children[0]
    subject = f"TLS {server.label}"
    if rejects_handshakes(server):
        # A catch-all: it resumes nothing itself, but the servers of its sockets resume in its context.
        sockets = ", ".join(sockets_that_resume(config, server))
        rejects = (
            "may reject handshakes itself (a template decides)"
            if rejection_templated(server)
            else ("rejects handshakes itself")
        )
        subject += (
            f" {rejects}, but as the default server of {sockets} it "
            "is where the sessions of those sockets resume, and it"
        )
    when = _when(versions, single=len(readings) == 1)
    if len(readings) == 1:
        effect = _effect(readings[0], when)
        severity = SEVERITY[_kind(readings[0])]
    else:
        before, since = readings
        effect = (
            f"before nginx 1.29.2, {_effect(before, when)}; from 1.29.2, {_effect(since, when)} "
            f"({versions.unsettled()}: set nginx.version to decide)"
        )
        # Where one side needs no cache, whether there is a problem is the open question.
        needed = all(reading.kind is not None for reading in readings)
        severity = min(SEVERITY[_kind(reading)] for reading in readings) if needed else Severity.INFO
    if is_fragment(config):
        effect = effect.replace(*FRAGMENT_KEYS)
    if split is not None:
        bare, cached, owners = split
        # Before 1.29.2 no TLS 1.3 session resumes there where their tickets differ (the
        # finding of _ticket_mismatch): only the TLS 1.2 ones are sure to.
        differ = versions.at_least(SNI_SESSION_DECISION) is not True and any(
            tickets_on(owner) != tickets_on(server) for owner in owners
        )
        effect = (
            f"on {', '.join(bare)}, whose default server has none either, {effect}; on "
            f"{', '.join(cached)} its {'TLS 1.2 ' if differ else ''}sessions resume in the cache of "
            "the default server " + ", ".join(owner.label for owner in owners)
        )
    finding = ctx.finding(
        where,
        f"{subject} has no session cache{unless} ({state}): {effect}",
        severity=severity,
        related=notes,
        anchor=anchor(server, "ssl_session_cache"),
        fix=add_shared_cache(
            config,
            server,
            cache,
            str(ctx.options["size"]),
            safe=not is_fragment(config),
            move=first_cache_move(config, zone_minimum(ctx.settings)),
        ),
    )
    return finding, tuple(readings)


def _kind(reading: _Reading) -> str:
    assert reading.kind is not None  # one reading that needs no cache is not reported
    return reading.kind


def _effect(reading: _Reading, when: str) -> str:
    """What a server without a cache resumes, by one reading, for its finding alone."""
    if reading.kind is None:
        return TLS13.format(whose="its own" if reading.per_server else "its default server's")
    blockers = " and ".join(blocker.label for blocker in reading.blockers)
    several = len(reading.blockers) > 1
    turn = "turn" if several else "turns"
    if reading.kind == BLOCKED:  # on every socket it is judged on (see _read)
        whose = "its default servers" if several else "its default server"
        return ALONE[BLOCKED].format(whose=whose, blockers=blockers, turn=turn, when=when)
    effect = ALONE[reading.kind]
    if reading.partly:
        on = ", ".join(reading.blocked)
        effect += (
            f"; on {on} not even tickets resume: the default {'servers' if several else 'server'} there, "
            f"{blockers}, {turn} ssl_session_tickets off, which{when} decides ticket resumption for it too"
        )
    return effect


def _cause(
    config: NginxConfig, server: Server, cache: SessionCache, finding: Finding
) -> tuple[Hashable, _Where]:
    """An explicit line is its own cause (each such line needs its own edit); servers
    that inherit nothing share the cause their one fix resolves: the place it goes to."""
    name = "ssl_session_cache"
    if cache.directive is not None:
        line = cache.directive
        where = _Where(
            line,
            setting_anchor(config, line.parent, name),
            f"`{name} {cache.state}` turns the session cache off",
            fragment=is_fragment(config),
        )
        return ("line", id(line)), where
    targets = session_targets(config, server)
    target = targets[0].block if targets else None
    owner = (targets[0].server if targets else None) or server  # the default server whose block it is
    if is_fragment(config):
        # The includer's http{} may set it for every server here: the fix's place is a
        # server of this file (a fragment has no http{} block of its own).
        unless = f" unless {includer(config)} sets one"
        if target is None or target is server.block.directive:
            where = _Where(
                server.block.directive or server.block.children[0],
                anchor(server, name),
                f"nothing in this file sets {name} (nginx's default is none)",
                unless,
                fragment=True,
            )
        else:
            where = _Where(
                target,
                anchor(owner, name),
                f"the default server {owner.label} sets no {name} in this file (nginx's default is none)",
                unless,
                fragment=True,
            )
    elif target is None:
        where = _Where(
            server.block.directive or server.block.children[0],
            anchor(server, name),
            "no ssl_session_cache applies (nginx's default is none)",
        )
    elif target.name in ("http", "stream"):
        where = _Where(
            target,
            setting_anchor(config, target, name),
            f"{target.name}{{}} sets no {name} (nginx's default is none)",
        )
    else:
        where = _Where(
            target,
            anchor(owner, name),
            f"the default server {owner.label} sets no {name} (nginx's default is none)",
        )
    return fix_key(finding), where


def add_shared_cache(
    config: NginxConfig,
    server: Server,
    cache: SessionCache,
    size: str,
    *,
    safe: bool,
    move: Fix | None = None,
) -> Fix | None:
    """Turn an explicit none/off, or a builtin-only cache, into a shared zone (unsafe: it
    replaces what the operator wrote); or add one where it is inherited (``safe``), unless
    a virtual server's own zone moves to http{} (``move``: NGX107's fix, the same edits)."""
    value = f"shared:{zone_name_for(config, server)}:{size}"
    if cache.directive is not None and cache.disabled:
        edit = replace_arguments(cache.directive, [value])
        return Fix(f"set `ssl_session_cache {value};` instead of `{cache.state}`", (edit,), False)
    if cache.directive is not None and cache.builtin and cache.shared is None:
        # The same edit as NGX102's: adding a second line instead would leave two
        # ssl_session_cache lines when both fixes apply (the builtin one in an include).
        edit = replace_arguments(cache.directive, [value])
        return Fix(f"replace `{' '.join(cache.directive.args)}` with `{value}`", (edit,), False)
    if move is not None and move.safe:
        # Unsafe where the zone must also grow to NGX103's min-size: the safe addition
        # stays the fix then, so that plain --fix still gives the default server a cache.
        return move
    targets = session_targets(config, server)
    if not targets:
        return None
    statement = f"ssl_session_cache {value};"
    where = ", ".join(target.label for target in targets)
    return Fix(f"add `{statement}` to {where}", tuple(t.insert(statement) for t in targets), safe)
