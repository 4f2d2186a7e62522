"""NGX101 ssl-session-cache-missing: a TLS server resumes no session by ID.

What a server without a cache can still resume depends on tickets (facts/nginx.md §1):
with ``ssl_session_tickets off`` nothing resumes (an error); with tickets on and nginx's
random keys, tickets die on every reload and differ between nodes (a warning); with
``ssl_session_ticket_key`` files on the default server, tickets survive reloads and are
shared between nodes, and only TLS 1.2 clients without ticket support cannot resume
(info). A missing http-level line is one cause, reported once where the fix goes.

A stream{} server that shares a TLS address:port with another is judged only on nginx
known to be >= 1.25.5 (``stream_default_unsettled``): before, nginx refuses the second
server (NGX004), so no default server resumes anything; from 1.25.5 the socket's default
server does, as in http{}.

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

from collections.abc import Hashable, Iterator
from dataclasses import dataclass

from tlslint.checks import RuleContext, directive_location, related
from tlslint.checks._causes import Cause, Place, fix_key, one_per_cause
from tlslint.checks._fragment import includer, is_fragment
from tlslint.checks._placement import session_targets, zone_name_for
from tlslint.checks._session import (
    SessionCache,
    anchor,
    default_servers_of,
    effective_cache,
    every_tls_server,
    rejects_handshakes,
    setting_anchor,
    stream_default_unsettled,
    stream_defaults_known,
    ticket_keys,
    tickets_on,
    tls13_only,
    tls_default_for,
)
from tlslint.findings import Finding, Fix, Related, Severity
from tlslint.nginx_edits import replace_arguments
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server, is_default

CODE = "NGX101"
NONE_APPLIES = "no ssl_session_cache applies; nginx's default is none"
IN_NO_LINE = "nothing in this file sets ssl_session_cache; nginx's default is none"

# What a server without a cache still resumes, by how its tickets are set up.
OFF, RANDOM, KEYED = "off", "random", "keyed"
SEVERITY = {OFF: Severity.ERROR, RANDOM: Severity.WARNING, KEYED: Severity.INFO}
ALONE = {
    OFF: "with ssl_session_tickets off, every connection is a full handshake",
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
# In a fragment the includer may set the ticket keys this file does not: said so.
FRAGMENT_KEYS = (
    "nginx's random ticket keys",
    "nginx's random ticket keys (unless the includer sets ssl_session_ticket_key)",
)
FRAGMENT_MANY_KEYS = (
    "whose random keys",
    "whose random keys (unless the includer sets ssl_session_ticket_key)",
)

SHORT = {
    OFF: "never resumes (tickets off)",
    RANDOM: "resumes only with tickets, whose keys die on reload",
    KEYED: "resumes only with tickets (keys from files)",
}


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
        stream = whole.stream
        stream_known = stream is None or stream_defaults_known(stream, workspace.nginx_versions(whole))
        for config, server in every_tls_server(whole):
            if stream_default_unsettled(config, server, stream_known):
                continue  # which server's cache resumes its sessions is open (see above)
            if rejects_handshakes(server) and not is_default(server):
                continue  # completes no handshake and decides for no socket
            cache = effective_cache(server)
            if cache.present or cache.refused or (cache.directive is None and server.unresolved):
                continue
            # Resumption happens in the default server's context: a vhost
            # without a cache still resumes when its default server has one.
            defaults = default_servers_of(config, server)
            if defaults and all(effective_cache(d).present or effective_cache(d).refused for d in defaults):
                continue
            if tickets_on(server) and tls13_only(server, defaults):
                continue  # TLS 1.3 resumes with tickets; their keys are NGX105's
            split = _split_sockets(config, server)
            finding, kind = _alone(ctx, config, server, cache, split)
            cause, where = _cause(config, server, cache, finding)
            if split is not None:
                cause = ("some sockets", id(server))  # its own message: true of some sockets only
            who = f"TLS {server.label}" + (
                " (a default server that rejects handshakes)" if rejects_handshakes(server) else ""
            )
            places.append(Place(cause, finding, f"{who}: {SHORT[kind]}", (kind, where)))
        yield from one_per_cause(places, _describe, ctx.keep)


def _describe(members: list[Place]) -> Cause:
    """One message for every server that lacks a cache for the same cause."""
    where: _Where = members[0].detail[1]
    kinds = [place.detail[0] for place in members]
    parts = []
    for kind in (OFF, RANDOM, KEYED):
        count = kinds.count(kind)
        if count:
            who = "they" if count == len(members) else f"{count} of them"
            part = MANY[kind].format(who=who)
            parts.append(part.replace(*FRAGMENT_MANY_KEYS) if where.fragment else part)
    return Cause(
        directive_location(where.directive),
        f"{where.subject}, so {len(members)} TLS servers have no session cache{where.unless}: "
        f"{'; '.join(parts)}",
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
    ctx: RuleContext, config: NginxConfig, server: Server, cache: SessionCache, split: _Split | None = None
) -> tuple[Finding, str]:
    """The finding for one server, and what it can still resume."""
    notes: list[Related] = []
    tickets_line = server.effective("ssl_session_tickets")
    if not tickets_on(server):
        kind = OFF
        if tickets_line is not None:
            notes.append(related(tickets_line, "session tickets are turned off here"))
    else:
        keys = ticket_keys(config, server)
        kind = KEYED if keys else RANDOM
        if keys:
            notes.append(related(keys[0], "ticket keys of the default server"))
    state = NONE_APPLIES if cache.directive is None else f"`ssl_session_cache {cache.state}`"
    unless = ""
    if cache.directive is None and is_fragment(config):
        state, unless = IN_NO_LINE, f" unless {includer(config)} sets one"
    where = cache.directive or server.block.directive or server.block.children[0]
    subject = f"TLS {server.label}"
    if rejects_handshakes(server):
        # A catch-all: it resumes nothing itself, but the servers of its sockets resume in its context.
        sockets = ", ".join(tls_default_for(config, server))
        subject += (
            f" rejects handshakes itself, but as the default server of {sockets} it "
            "is where the sessions of those sockets resume, and it"
        )
    effect = ALONE[kind]
    if is_fragment(config):
        effect = effect.replace(*FRAGMENT_KEYS)
    if split is not None:
        bare, cached, owners = split
        effect = (
            f"on {', '.join(bare)}, whose default server has none either, {effect}; on "
            f"{', '.join(cached)} its sessions resume in the cache of the default server "
            + ", ".join(owner.label for owner in owners)
        )
    finding = ctx.finding(
        where,
        f"{subject} has no session cache{unless} ({state}): {effect}",
        severity=SEVERITY[kind],
        related=notes,
        anchor=anchor(server, "ssl_session_cache"),
        fix=add_shared_cache(config, server, cache, str(ctx.options["size"]), safe=not is_fragment(config)),
    )
    return finding, kind


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
    config: NginxConfig, server: Server, cache: SessionCache, size: str, *, safe: bool
) -> Fix | None:
    """Turn an explicit none/off, or a builtin-only cache, into a shared zone (unsafe: it
    replaces what the operator wrote); or add one where it is inherited (``safe``)."""
    value = f"shared:{zone_name_for(config, server)}:{size}"
    if cache.directive is not None and cache.disabled:
        edit = replace_arguments(cache.directive, [value])
        return Fix(f"set `ssl_session_cache {value};` instead of `{cache.state}`", (edit,), False)
    if cache.directive is not None and cache.builtin and cache.shared is None:
        # The same edit as NGX102's: adding a second line instead would leave two
        # ssl_session_cache lines when both fixes apply (the builtin one in an include).
        edit = replace_arguments(cache.directive, [value])
        return Fix(f"replace `{' '.join(cache.directive.args)}` with `{value}`", (edit,), False)
    targets = session_targets(config, server)
    if not targets:
        return None
    statement = f"ssl_session_cache {value};"
    where = ", ".join(target.label for target in targets)
    return Fix(f"add `{statement}` to {where}", tuple(t.insert(statement) for t in targets), safe)
