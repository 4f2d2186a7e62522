"""NGX105 ssl-session-tickets-unrotated: ticket keys that die on reload and differ per node.

Only the default server of a listen socket decides the ticket keys (facts/nginx.md §1):
its ``ssl_session_ticket_key`` files, or nginx's random keys, which a shared session
cache keeps and rotates since 1.23.2. So the rule judges default servers, and speaks of
the sockets whose tickets they encrypt. A stream{} server that shares a TLS
address:port with another is judged only on nginx known to be >= 1.25.5
(``stream_default_unsettled``): before, nginx refuses the second server (NGX004), and no
default server's keys encrypt anything.

Before nginx 1.29.2 a default server's own ``ssl_session_tickets off`` also decides for
the virtual servers of its sockets: no ticket resumes there (measured on 1.22.1: in TLS
1.2 none is issued, and the TLS 1.3 one is never taken), so its keys encrypt nothing that
resumes and the rule says nothing on those versions. Since 1.29.2 a virtual server's own
setting counts; where the version is open, the finding speaks of 1.29.2 and later (where
a shared cache keeps the keys), at ``info``.

In a fragment (a conf.d/ file of server blocks, or a server snippet, checked without its
includer) the including http{} may set the ticket keys, or the shared cache, that this
file leaves out, and where no line of the file turns tickets on, it may turn them off:
the message says what this file does not set and that the includer decides, and the
fix (NGX101's: add a shared zone) is unsafe there, for NGX101's reason (the includer's
zone of the same name and another size makes nginx refuse to start).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from tlslint.checks import RuleContext, directive_location
from tlslint.checks._causes import Cause, Place, fix_key, one_per_cause
from tlslint.checks._fragment import includer, is_fragment
from tlslint.checks._session import (
    SessionCache,
    anchor,
    effective_cache,
    every_tls_server,
    rejects_handshakes,
    setting_anchor,
    stream_default_unsettled,
    stream_defaults_known,
    tickets_on,
    tickets_templated,
    tls_default_for,
)
from tlslint.checks.ngx101_session_cache_missing import add_shared_cache
from tlslint.findings import Finding, Fix, Severity
from tlslint.nginx_versions import SNI_SESSION_DECISION, TICKET_KEYS_IN_SHARED_CACHE
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server, is_default

CODE = "NGX105"
KEY_FILES_NOTE = (
    "no automatic fix: deploy ssl_session_ticket_key files rotated by your tooling "
    "(the first key encrypts, the rest only decrypt), or run nginx >= 1.23.2"
)
# Before 1.23.2 a shared cache keeps no ticket keys (facts §1, "Reloads"): only key files
# on the default server survive a reload, so adding the cache would leave the finding.
BEFORE_KEPT = (
    "before nginx 1.23.2 only ssl_session_ticket_key files on the default server survive "
    "reloads: deploy the same files on every node, rotated by your tooling (the first key "
    "encrypts, the rest only decrypt)"
)
RANDOM = "every reload invalidates all tickets, and each node has its own keys"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    fleet = bool(ctx.options["require-key-file"])
    for whole in workspace.nginx:
        versions = workspace.nginx_versions(whole)
        new_enough = versions.at_least(TICKET_KEYS_IN_SHARED_CACHE)
        per_server = versions.at_least(SNI_SESSION_DECISION)
        places: list[Place] = []
        stream_known = stream_defaults_known(whole.stream, versions)
        for config, server in every_tls_server(whole):
            # Only the default server's keys encrypt tickets (facts §1).
            if not is_default(server) or server.unresolved:
                continue
            if stream_default_unsettled(config, server, stream_known):
                continue
            if server.effective("ssl_session_ticket_key") is not None or not _issues_tickets(config, server):
                continue
            if tickets_templated(server):
                continue  # its tickets, on or off, are the template's (they decide for its sockets)
            # Before 1.29.2 its own `ssl_session_tickets off` keeps every server of its
            # sockets from resuming a ticket: then only 1.29.2 and later are in question.
            later = not tickets_on(server)
            if later and per_server is False:
                continue
            cache = effective_cache(server)
            if cache.refused:
                continue  # nginx cannot read its session cache line (NGX012)
            shared = cache.shared is not None
            kept = True if later else new_enough  # 1.29.2 and later keep keys in a shared cache
            if shared and kept and not fleet:
                continue
            severity = None
            # True on every version without a cache; only what a cache would change is open.
            open_cache = (
                "; a shared cache keeps and rotates them from nginx 1.23.2 only "
                f"({versions.unsettled()}: set nginx.version to decide)"
                if kept is None and not shared
                else ""
            )
            if kept is False:
                # With a cache or without: no version before 1.23.2 keeps the keys in one.
                what = (
                    f"{versions.settled(TICKET_KEYS_IN_SHARED_CACHE)} keeps no ticket keys in a shared "
                    f"session cache (that began in 1.23.2), so nginx's random keys are used: {RANDOM}"
                )
            elif not shared:
                what = f"no shared session cache keeps nginx's random keys, so {RANDOM}"
                what += open_cache
            elif fleet:
                when = "" if kept else " (from 1.23.2; before, they are random per start)"
                what = (
                    f"the shared cache keeps and rotates nginx's keys on this node only{when}: with "
                    "require-key-file (throughput profile) a fleet must share keys, or a client that "
                    "moves between nodes cannot resume"
                )
            else:
                what = (
                    "since nginx 1.23.2 the shared cache keeps and rotates nginx's keys; before, they are "
                    f"random per start: {RANDOM} ({versions.unsettled()}: set nginx.version to decide)"
                )
                severity = Severity.INFO  # an open question, not a verdict
            lacks = "has no ssl_session_ticket_key"
            if is_fragment(config):
                # The includer may set the keys (and the cache) for every server here.
                lacks = "sets no ssl_session_ticket_key in this file"
                if not shared and kept is not False:
                    lacks = "sets neither ssl_session_ticket_key nor a shared ssl_session_cache in this file"
                    what = f"nginx's random keys are kept by no shared session cache, so {RANDOM}{open_cache}"
                # Tickets on by nginx's default only: the includer may turn them off too.
                off = "" if _tickets_written(config, server) else " or turns ssl_session_tickets off"
                what = f"unless {includer(config)} does{off}, {what}"
            sockets = ", ".join(tls_default_for(config, server)) or "its sockets"
            if later and per_server is None:
                # True from 1.29.2 only, which the configuration may or may not run.
                what = (
                    f"from nginx 1.29.2, where a virtual server's own ssl_session_tickets counts, {what}; "
                    f"before, no session ticket resumes on {sockets}, since this default server turns "
                    f"ssl_session_tickets off and its setting decides there ({versions.unsettled()}: set "
                    "nginx.version to decide)"
                )
                severity = Severity.INFO  # holds on some of the versions only
            fix, note = _fix(config, server, cache, kept, shared)
            finding = ctx.finding(
                server.block.directive or server.block.children[0],
                f"session tickets on {sockets} are encrypted with the keys of the default server "
                f"{server.label}, which {lacks}: {what}",
                severity=severity,
                anchor=anchor(server, "ssl_session_tickets"),
                fix=fix,
                fix_note=note,
            )
            # One message speaks for a cause's servers: those true from 1.29.2 only stand apart.
            cause = (_cause(finding, cache.directive, server), later and per_server is None)
            places.append(Place(cause, finding, f"default server {server.label}", (config, what, server)))
        yield from one_per_cause(places, _describe, ctx.keep)


def _fix(
    config: NginxConfig, server: Server, cache: SessionCache, kept: bool | None, shared: bool
) -> tuple[Fix | None, str]:
    """NGX101's shared cache where it keeps the keys (1.23.2 and later). Before 1.23.2 it
    keeps none, so only key files help and there is no fix. Where the version is open, the
    cache is offered as what helps from 1.23.2, unsafe: whether it resolves the finding
    depends on a version tlslint cannot see (before 1.23.2 the finding stays), so plain
    --fix does not count on it; the note says what helps before."""
    if kept is False:
        return None, f"no automatic fix: {BEFORE_KEPT}"
    if shared:
        return None, KEY_FILES_NOTE
    fix = add_shared_cache(config, server, cache, "10m", safe=not is_fragment(config))
    if fix is None or kept:
        return fix, ""
    return Fix(f"{fix.description}, which keeps the keys from nginx 1.23.2", fix.edits, False), BEFORE_KEPT


def _served(config: NginxConfig, default: Server) -> Iterator[Server]:
    """The servers whose sessions this default server's keys encrypt, itself first."""
    yield default
    for socket in tls_default_for(config, default):
        for server in config.groups.get(socket, []):
            if server is not default:
                yield server


def _issues_tickets(config: NginxConfig, default: Server) -> bool:
    """Some server whose sessions this default server's keys encrypt has tickets on (not
    by a template's placeholder, which may turn them off)."""
    return any(
        tickets_on(server) and not tickets_templated(server) and not rejects_handshakes(server)
        for server in _served(config, default)
    )


def _tickets_written(config: NginxConfig, default: Server) -> bool:
    """Whether tickets are on by a line of this file (not nginx's default) for a server
    whose sessions this default server's keys encrypt."""
    return any(server.effective("ssl_session_tickets") is not None for server in _served(config, default))


def _cause(finding: Finding, cache: Directive | None, server: Server) -> Hashable:
    """Default servers that one fix (a cache added to http{}) or one cache line without key
    files leaves with random keys share a cause."""
    if finding.fix is not None:
        return fix_key(finding)
    if cache is not None:
        return ("cache", id(cache))
    # No cache line and no fix (before 1.23.2): what a key file in http{} would cover.
    return ("unset", id(server.http)) if server.http is not None else ("server", id(server))


def _describe(members: list[Place]) -> Cause:
    config, what, server = members[0].detail
    first = members[0].finding
    where = server.http.directive if server.http is not None else None
    lacks = (
        "sets an ssl_session_ticket_key in this file"
        if is_fragment(config)
        else "has an ssl_session_ticket_key"
    )
    names = ", ".join(place.note.removeprefix("default server ") for place in members)
    return Cause(
        directive_location(where) if where is not None else first.location,
        f"session tickets are encrypted with the keys of {len(members)} default servers ({names}), "
        f"and none {lacks}: {what}",
        setting_anchor(config, where, "ssl_session_ticket_key") if where is not None else first.anchor,
    )
