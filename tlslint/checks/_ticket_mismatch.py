"""NGX101's TLS 1.3 part: a virtual server whose ssl_session_tickets differs from its
default server's never resumes a TLS 1.3 session before nginx 1.29.2.

Before 1.29.2 a virtual server's sessions resume in its default server's context (set
before the SNI callback picks the virtual server, facts/nginx.md §1). Measured on 1.22.1
(tests/test_live_session_default.py), with the default server's shared cache:

* default server tickets off, virtual server on: its TLS 1.3 ticket resumes 0 of 3;
* default server on, virtual server off: it issues no TLS 1.3 ticket, 0 of 3;
* both the same (each its own line, or one line in http{}), and both off with the cache
  in http{} (TLS 1.3 stateful tickets): 3 of 3.

TLS 1.2 still resumes by session ID, in the default server's cache (3 of 3), and not at
all where the default server has none (0 of 3, the virtual server's own cache unused:
NGX107). Without a cache NGX101 also says the server never resumes, a cause of its own:
its fix (a cache) leaves the TLS 1.3 part, so the two are reported apart. Whether TLS
1.3 is in force is read as NGX302 reads it before 1.29.2: the default server's
ssl_protocols, or nginx's default (TLSv1.3 from 1.23.4). Since 1.29.2 each server's own
setting counts, so a range reaching 1.29.2 makes it ``info``.

No fix: which value both should have is the operator's choice, and setting it once in
http{} removes or replaces lines the operator wrote.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from tlslint.checks import RuleContext, directive_location
from tlslint.checks._causes import Cause, Place
from tlslint.checks._fragment import is_fragment
from tlslint.checks._protocols import (
    ProtocolSite,
    edited_level,
    protocol_lines,
    protocols_of,
    servers_deciding,
)
from tlslint.checks._session import (
    anchor,
    effective_cache,
    rejects_handshakes,
    tickets_on,
    tickets_templated,
    tls_default_for,
)
from tlslint.findings import Finding, Location, Related, Severity
from tlslint.nginx_versions import (
    SNI_SESSION_DECISION,
    TLS13_IN_DEFAULT_PROTOCOLS,
    Version,
    default_ssl_protocols,
    format_version,
)
from tlslint.sources.nginx.model import Directive
from tlslint.version_range import VersionRange
from tlslint.workspace.nginx import NginxConfig, Server

NAME = "ssl_session_tickets"
BOUNDARIES = (TLS13_IN_DEFAULT_PROTOCOLS, SNI_SESSION_DECISION)
WHY = (
    "a virtual server's sessions resume in its default server's context, where with the two "
    "settings different no TLS 1.3 session does"
)
# What the virtual server's own clients see (measured on 1.22.1).
ISSUED = {True: "its TLS 1.3 tickets are refused", False: "it issues no TLS 1.3 ticket"}
ISSUED_MANY = {True: "their TLS 1.3 tickets are refused", False: "they issue no TLS 1.3 ticket"}
CACHED = "TLS 1.2 clients still resume by session ID, in the default server's cache"
UNCACHED = (
    "TLS 1.2 clients do not resume either: only the default server's session cache counts, and it has none"
)
UNUSED = " (this server's own is unused: NGX107)"
NOTE = (
    "no automatic fix: give the default server and its virtual servers the same "
    "ssl_session_tickets (once in http{}, with no server setting its own), or run nginx >= 1.29.2; "
    "with both off, TLS 1.3 resumes from the default server's session cache"
)


@dataclass(frozen=True)
class Decider:
    """What a default server decides for its virtual servers before 1.29.2."""

    hits: tuple[Version, ...]  # the representatives on which it lets TLS 1.3 in
    tls12: bool  # its ssl_protocols let TLS 1.2 in
    cached: bool  # it has a session cache


@dataclass(frozen=True)
class Detail:
    server: Server
    default: Server
    on: bool  # the virtual server's tickets (the default server's are the other value)
    line: Directive  # where the finding is: the virtual server's own line, else the default's
    sockets: tuple[str, ...]
    partly: bool  # on some of the server's TLS sockets only
    decider: Decider
    tls12: str  # what becomes of its TLS 1.2 clients ('' where none connects)
    versions: VersionRange
    reps: tuple[Version, ...]


def representatives(versions: VersionRange) -> tuple[Version, ...]:
    """One version per stretch that behaves differently here; () when none is before 1.29.2."""
    reps = versions.representatives(BOUNDARIES)
    return reps if any(rep < SNI_SESSION_DECISION for rep in reps) else ()


def places(
    ctx: RuleContext,
    config: NginxConfig,
    server: Server,
    versions: VersionRange,
    reps: tuple[Version, ...],
    deciders: dict[int, Decider | None],
) -> Iterator[Place]:
    """A place for each default server of ``server``'s TLS sockets whose tickets differ
    from its own, where TLS 1.3 is in force on some version of the range. ``deciders``
    holds what each default server decides, worked out once (10,000 servers, one default)."""
    if not reps or rejects_handshakes(server):
        return  # a catch-all that rejects handshakes resumes nothing of its own
    on = tickets_on(server)
    tls = config.tls_sockets
    mine: list[str] = []
    by_default: dict[int, tuple[Server, list[str]]] = {}
    for listen in server.listens:
        socket = listen.socket
        if socket not in tls or socket in mine:
            continue
        mine.append(socket)
        default = config.default_server(socket)
        if default is None or not differs(config, server, default):
            continue
        by_default.setdefault(id(default), (default, []))[1].append(socket)
    if not by_default:
        return  # the same setting as its default servers (most servers), or not known
    for default, sockets in by_default.values():
        if id(default) not in deciders:
            deciders[id(default)] = _decider(config, default, reps)
        decider = deciders[id(default)]
        if decider is None or not decider.hits:
            continue
        # The line that makes them differ: the virtual server's own, else the default
        # server's (``differs``: one of the two has one).
        line = server.block.last(NAME) or default.block.last(NAME)
        assert line is not None
        tls12 = _tls12(decider, effective_cache(server).present)
        detail = Detail(
            server,
            default,
            on,
            line,
            tuple(sockets),
            len(sockets) < len(mine),
            decider,
            tls12,
            versions,
            reps,
        )
        at = None if line is server.block.last(NAME) else _server_location(server)
        note = f"TLS {server.label}" + (f" on {', '.join(sockets)}" if detail.partly else "")
        yield Place(("tickets", id(line), id(default)), _alone(ctx, detail), note, detail, at)


def differs(config: NginxConfig, server: Server, default: Server) -> bool:
    """Whether ``server``, a virtual server on a TLS socket of ``default``, is known to
    have ssl_session_tickets unlike ``default``'s, by a line of one of them: then, before
    1.29.2, none of its TLS 1.3 sessions resumes wherever ``default`` lets TLS 1.3 in."""
    if server is default or rejects_handshakes(server) or tickets_on(server) == tickets_on(default):
        return False  # a catch-all that rejects handshakes resumes nothing of its own
    if tickets_templated(server) or tickets_templated(default):
        return False  # one of the two is the template's: whether they differ is not known
    if _unknown(config, server) or _unknown(config, default):
        return False
    if effective_cache(server).refused:
        return False  # nginx refuses the line (NGX012): nothing to judge
    # Both inheriting http{}'s line, they cannot differ.
    return (server.block.last(NAME) or default.block.last(NAME)) is not None


def _unknown(config: NginxConfig, server: Server) -> bool:
    """Whether ``server``'s ssl_session_tickets may be set where tlslint cannot see it
    (an include not followed, or the includer of a fragment)."""
    return server.effective(NAME) is None and (server.unresolved or is_fragment(config))


def _decider(config: NginxConfig, default: Server, reps: tuple[Version, ...]) -> Decider | None:
    """What ``default`` decides before 1.29.2; None where its ssl_protocols or cache may
    be set where tlslint cannot see (an include not followed, a fragment's includer)."""
    if _unknown(config, default):
        return None
    hidden = default.unresolved or is_fragment(config)
    level = default.block if default.block.all("ssl_protocols") else default.http
    lines = protocol_lines(level)
    cache = effective_cache(default)
    if cache.refused or (hidden and (not lines or cache.directive is None)):
        return None
    written = protocols_of(*lines) if lines else None
    hits = tuple(
        rep
        for rep in reps
        if rep < SNI_SESSION_DECISION and "TLSv1.3" in (written or default_ssl_protocols(rep) or ())
    )
    return Decider(hits, written is None or "TLSv1.2" in written, cache.present)


def _tls12(decider: Decider, own_cache: bool) -> str:
    if not decider.tls12:
        return ""
    if decider.cached:
        return CACHED
    return UNCACHED + (UNUSED if own_cache else "")


def _server_location(server: Server) -> Location:
    return directive_location(server.block.directive or server.block.children[0])


def _when(detail: Detail) -> tuple[str, Severity, str, str]:
    """(when it holds, severity, what holds from 1.29.2, the note on an open version). The
    versions it holds on run up to 1.29.2, from the range's first, or from 1.23.4 where
    nginx's default ssl_protocols lets TLS 1.3 in."""
    versions, reps, hits = detail.versions, detail.reps, detail.decider.hits
    if set(hits) == set(reps):
        return f" before nginx 1.29.2 ({versions.settled(SNI_SESSION_DECISION)})", Severity.ERROR, "", ""
    span = "before 1.29.2"
    if hits[0] != reps[0]:  # TLS 1.3 from nginx's default, since 1.23.4
        span = f"from {format_version(hits[0])} (where nginx's default ssl_protocols has TLSv1.3) to {span}"
    later = ""
    if reps[-1] >= SNI_SESSION_DECISION:
        later = f"; from 1.29.2 each server's own {NAME} counts"
    return (
        f" on nginx {span}",
        Severity.INFO,
        later,
        f" ({versions.unsettled()}: set nginx.version to decide)",
    )


def _setting(on: bool) -> str:
    return "on" if on else "off"


def _alone(ctx: RuleContext, detail: Detail) -> Finding:
    server, default = detail.server, detail.default
    when, severity, later, note = _when(detail)
    on = f" on {', '.join(detail.sockets)}" if detail.partly else ""
    tls12 = f" ({detail.tls12})" if detail.tls12 else ""
    message = (
        f"TLS {server.label} never resumes a TLS 1.3 session{on}{when}: it has session tickets "
        f"{_setting(detail.on)} and its default server {default.label} has them "
        f"{_setting(not detail.on)}; {WHY} ({ISSUED[detail.on]}), so every TLS 1.3 connection "
        f"to it is a full handshake{tls12}{later}{note}"
    )
    return ctx.finding(
        detail.line,
        message,
        severity=severity,
        related=_related(detail),
        anchor=anchor(server, NAME),
        fix_note=NOTE,
    )


def _related(detail: Detail) -> list[Related]:
    """The default server, and the other side's line (the finding is at one of them)."""
    sockets = ", ".join(detail.sockets)
    found = [
        Related(
            _server_location(detail.default),
            f"default server for {sockets} (session tickets {_setting(not detail.on)})",
        )
    ]
    for line, on in (
        (detail.server.effective(NAME), detail.on),
        (detail.default.effective(NAME), not detail.on),
    ):
        if line is not None and line is not detail.line:
            found.append(Related(directive_location(line), f"session tickets {_setting(on)} here"))
    return found


def describe(members: list[Place]) -> Cause:
    """One message for the servers whose tickets differ from one default server's by one line."""
    first: Detail = members[0].detail
    default, line = first.default, first.line
    written = f"`{NAME} {' '.join(line.args)}`"
    count = len(members)
    when, _, later, note = _when(first)
    if line is default.block.last(NAME):
        subject = (
            f"{written} of the default server {default.label} differs from the setting of "
            f"{count} virtual servers on its sockets"
        )
        where = anchor(default, NAME)
    else:
        subject = (
            f"{written} here, in {count} virtual servers, differs from their default server {default.label}'s"
        )
        where = anchor(first.server, NAME)
    # The TLS 1.2 part, where it is the same for every server (counted once: 10,000 servers).
    parts = {place.detail.tls12 for place in members}
    said = parts.pop() if len(parts) == 1 else ""
    tls12 = f" ({said})" if said else ""
    return Cause(
        directive_location(line),
        f"{subject}: they never resume a TLS 1.3 session{when}: {WHY} ({ISSUED_MANY[first.on]}), so "
        f"every TLS 1.3 connection to them is a full handshake{tls12}{later}{note}",
        where,
    )


# --------------------------------------------------------------------------- NGX302/303's fix


def tls13_losses(
    config: NginxConfig, site: ProtocolSite, protocols: Sequence[str], versions: VersionRange
) -> list[tuple[Server, Server]]:
    """What setting ``protocols`` on ``site`` (the fix of NGX302 and NGX303) would cost:
    each (virtual server, default server) whose ssl_session_tickets differ, where the
    default server's ssl_protocols is the one the fix sets and lacks TLSv1.3 now on some
    version before 1.29.2 that ``versions`` allows. There the fix lets TLS 1.3 in, and
    none of the virtual server's TLS 1.3 sessions resumes (this module's finding): its
    clients, which resumed in TLS 1.2, make a full handshake on every connection
    (measured on 1.22.1: TLS 1.2 resumed 5 of 5, TLS 1.3 after the fix 0 of 5)."""
    if "TLSv1.3" not in protocols:
        return []
    before = [rep for rep in representatives(versions) if rep < SNI_SESSION_DECISION]
    level = edited_level(config, site) if before else None
    if level is None:
        return []  # on 1.29.2 and later each server's own tickets count
    lines = protocol_lines(level)
    written = protocols_of(*lines) if lines else None
    if all("TLSv1.3" in (written or default_ssl_protocols(rep) or ()) for rep in before):
        return []  # TLS 1.3 is in already: the fix lets in nothing new
    # By identity, in order: one default server may have 10,000 virtual servers.
    found: dict[tuple[int, int], tuple[Server, Server]] = {}
    for default in servers_deciding(config, level, "ssl_protocols"):
        for socket in tls_default_for(config, default):
            for server in config.groups.get(socket, ()):
                key = (id(server), id(default))
                if key not in found and differs(config, server, default):
                    found[key] = (server, default)
    return list(found.values())


def losses_note(losses: Sequence[tuple[Server, Server]], *, legacy: bool = False) -> str:
    """Why NGX302's (``legacy``: NGX303's) fix is withheld where it would cost ``losses``."""
    (server, default), more = losses[0], len(losses) - 1
    others = f" and {more} more virtual server{'s' if more > 1 else ''}" if more else ""
    manual = (
        "; to drop the legacy protocols meanwhile, set `ssl_protocols TLSv1.2;` by hand "
        "(TLS 1.3 stays off, as it is now)"
        if legacy
        else ""
    )
    return (
        "no automatic fix: the fix's ssl_protocols lets TLS 1.3 in, and before nginx 1.29.2 "
        f"TLS {server.label}{others} would then never resume a TLS 1.3 session: its "
        f"ssl_session_tickets ({_setting(tickets_on(server))}) differs from its default server "
        f"{default.label}'s ({_setting(tickets_on(default))}), and a virtual server's sessions resume "
        "in its default server's context (NGX101), so every TLS 1.3 connection to it would be a full "
        "handshake. Give the default server and its virtual servers "
        "the same ssl_session_tickets first (once in http{}, with no server setting its own), or run "
        f"nginx >= 1.29.2; then this fix is offered{manual}"
    )
