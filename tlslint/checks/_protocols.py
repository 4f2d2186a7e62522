"""Facts shared by the client keep-alive (NGX201-203) and protocol/SNI (NGX301-305) rules.

Everything here follows ../shared/facts/nginx.md: §1 for the directives, their
defaults by version and the default-server effect, §4 for what ``nginx -t``
says. When the version is not settled (``nginx.version`` not configured, and
what the configuration proves leaves it open: docs/version-inference.md), a
rule evaluates every range of versions whose behaviour differs and that the
configuration may run on (``representatives``), and words its finding for the
ranges where the problem holds (``version_span``), at ``info``: the reading
that is wrong on no supported version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tlslint.checks import directive_location
from tlslint.checks._causes import Cause, Place, fix_key
from tlslint.checks._effective import LEVELS, chain, locations
from tlslint.checks._fragment import includer, is_fragment
from tlslint.checks._placeholders import placeholder_note, templated, templated_line
from tlslint.checks._placement import Target, http_target, server_target
from tlslint.checks._session import rejects_handshakes
from tlslint.findings import Edit, Finding, Fix, Related
from tlslint.nginx_edits import remove_directive, replace_arguments
from tlslint.nginx_history import argument_form
from tlslint.nginx_values import literal_args
from tlslint.nginx_versions import (
    LEGACY_TLS_OUT_OF_DEFAULTS,
    OLDEST_SUPPORTED,
    SNI_SESSION_DECISION,
    SSLV3_OUT_OF_DEFAULTS,
    TLS13_IN_DEFAULT_PROTOCOLS,
    Version,
    default_ssl_protocols,
    format_version,
)
from tlslint.sources.nginx.model import Directive
from tlslint.version_range import UNKNOWN_VERSION, VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block, NginxConfig, Server, per_config, scopes

__all__ = ["UNKNOWN_VERSION"]

# --------------------------------------------------------------------------- versions

# Where the behaviour of ssl_protocols changes (facts §1): TLSv1.3 joins the
# default, TLSv1/TLSv1.1 leave it, and the value starts to work per virtual server.
_PROTOCOL_BOUNDARIES: tuple[Version, ...] = (
    SSLV3_OUT_OF_DEFAULTS,  # counts only for a range that reaches below the oldest supported
    TLS13_IN_DEFAULT_PROTOCOLS,
    LEGACY_TLS_OUT_OF_DEFAULTS,
    SNI_SESSION_DECISION,
)
_DEFAULT_BOUNDARIES = (SSLV3_OUT_OF_DEFAULTS, TLS13_IN_DEFAULT_PROTOCOLS, LEGACY_TLS_OUT_OF_DEFAULTS)
UNKNOWN_REPRESENTATIVES: tuple[Version, ...] = (
    OLDEST_SUPPORTED,
    *(boundary for boundary in _PROTOCOL_BOUNDARIES if boundary > OLDEST_SUPPORTED),
)


def representatives(versions: VersionRange) -> tuple[Version, ...]:
    """One version from each range of versions that behaves differently, among those
    the configuration may run on (the configured one alone, when it is set)."""
    return versions.representatives(_PROTOCOL_BOUNDARIES)


def version_span(hits: Iterable[Version], reps: Sequence[Version] = UNKNOWN_REPRESENTATIVES) -> str:
    """Where a problem holds among ``reps`` (each standing for the versions up to the
    next boundary): ``"before 1.23.4"``, ``"1.29.2 and later"``...; ``""`` when it
    holds on all of them."""
    found = sorted({reps.index(v) for v in hits if v in reps})
    if len(found) == len(reps) or not found:
        return ""
    runs: list[tuple[int, int]] = []
    for index in found:
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    parts = []
    for first, last in runs:
        lower = format_version(reps[first])  # past the first, each stands at its boundary
        upper = format_version(reps[last + 1]) if last + 1 < len(reps) else ""
        if first == 0:
            parts.append(f"before {upper}")
        elif not upper:
            parts.append(f"{lower} and later")
        else:
            parts.append(f"from {lower} to before {upper}")
    return " and ".join(parts)


def holds_everywhere(hits: Sequence[Version], versions: VersionRange) -> bool:
    """Whether a problem found on ``hits`` holds on every version ``versions`` allows."""
    return set(representatives(versions)) <= set(hits)


def unknown_note(hits: Iterable[Version], versions: VersionRange) -> str:
    """`` (nginx.version is not configured: this holds on nginx before 1.23.4; ...)``:
    where the problem depends on a version the range leaves open."""
    reps = representatives(versions)
    if len(reps) == 1:
        return ""
    span = version_span(hits, reps)
    if not span:
        return ""
    return f" ({versions.unsettled()}: this holds on nginx {span}; set nginx.version to decide)"


# --------------------------------------------------------------------------- labels


def labels(
    servers: Sequence[Server], limit: int = 3, only_on: Mapping[int, Sequence[str]] | None = None
) -> str:
    """Up to ``limit`` servers' labels; ``only_on``: by server, the sockets a statement
    holds on, where it holds on some of the server's sockets only."""
    shown = [server.label + on_sockets(server, only_on) for server in servers[:limit]]
    more = len(servers) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def on_sockets(server: Server, only_on: Mapping[int, Sequence[str]] | None) -> str:
    sockets = only_on.get(id(server)) if only_on else None
    return f" on {', '.join(sockets)}" if sockets else ""


@per_config  # asked for each finding of NGX010-012
def server_map(config: NginxConfig) -> dict[int, Server]:
    """The servers by the id of their block."""
    return {id(server.block): server for server in config.servers}


def block_anchor(block: Block, servers: dict[int, Server], name: str) -> str:
    """``http > server[example.com@*:443] > location[/api] > keepalive_timeout``."""
    parts = []
    current: Block | None = block
    while current is not None:
        if current.context == "server":
            server = servers.get(id(current))
            parts.append(server.anchor_label if server is not None else "server")
        elif current.context == "location":
            args = " ".join(current.directive.args) if current.directive is not None else ""
            parts.append(f"location[{args}]")
        elif current.context != "main":
            parts.append(current.context)
        current = current.parent
    parts.reverse()
    parts.append(name)
    return " > ".join(parts)


def server_anchor_directive(server: Server) -> Directive:
    """Where a finding about a whole server points: its ``server {`` line."""
    if server.block.directive is not None:
        return server.block.directive
    return server.block.children[0]


# --------------------------------------------------------------------------- keep-alive


def effective_at(block: Block, name: str) -> tuple[Block | None, Directive | None]:
    """The level that decides ``name`` at ``block`` (location → server → http), and its directive."""
    for level in chain(block):
        found = level.last(name)
        if found is not None:
            return level, found
    return None, None


def _below(
    block: Block, server: Block, name: str, at_server: tuple[Block | None, Directive | None]
) -> tuple[Block | None, Directive | None]:
    """``effective_at`` for a block inside ``server``, given the server's answer."""
    level: Block | None = block
    while level is not None and level is not server and level.context in LEVELS:
        found = level.last(name)
        if found is not None:
            return level, found
        level = level.parent
    return at_server if level is server else (None, None)


def hidden_by_include(block: Block, level: Block | None) -> bool:
    """An include that was not followed in ``block`` or a block between it and ``level``
    (the block whose line decides; None: nothing is set, up to http{})."""
    current: Block | None = block
    while current is not None and current is not level:
        if current.unresolved:
            return True
        if current.context == "http":
            break
        current = current.parent
    return False


@dataclass(slots=True)
class KeepaliveSite:
    """One directive (or nginx's default, ``directive`` None) and the TLS scopes it decides."""

    directive: Directive | None
    level: Block | None  # the block holding the directive
    scopes: list[tuple[Server, Block]] = field(default_factory=list)

    @property
    def servers(self) -> list[Server]:
        # By identity, in order: an http-level directive may decide for 10,000 servers.
        return list({id(server): server for server, _ in self.scopes}.values())


@per_config  # NGX201 and NGX202 both ask about keepalive_timeout
def keepalive_sites(config: NginxConfig, name: str) -> list[KeepaliveSite]:
    """Who decides ``name`` for each TLS server and each of its locations.

    A directive inherited by several servers or locations is one site; a
    server (with its locations) that inherits nothing is a site of its own.
    """
    sites: dict[tuple[str, int], KeepaliveSite] = {}
    # What decides above each server (its http{}), asked once: 10,000 servers share one.
    above: dict[int, tuple[Block | None, Directive | None]] = {}
    for server in config.servers:
        if not server.tls or rejects_handshakes(server):
            continue  # a catch-all that rejects handshakes keeps no connection to keep alive
        # Its locations inherit what decides at the server: asked once, not per location.
        own = server.block.last(name)
        if own is not None:
            at_server: tuple[Block | None, Directive | None] = (server.block, own)
        else:
            parent = server.block.parent
            if id(parent) not in above:
                above[id(parent)] = effective_at(parent, name) if parent is not None else (None, None)
            at_server = above[id(parent)]
        inner = locations(server.block) if server.block.blocks else ()  # most have no location
        for block in (server.block, *inner):
            level, directive = (
                at_server if block is server.block else _below(block, server.block, name, at_server)
            )
            if hidden_by_include(block, level):
                continue  # an include not followed between here and the line may set its own
            key = ("directive", id(directive)) if directive is not None else ("server", id(server))
            site = sites.get(key)
            if site is None:
                site = sites[key] = KeepaliveSite(directive, level)
            site.scopes.append((server, block))
    return list(sites.values())


def http1_only_choice(config: NginxConfig, site: KeepaliveSite) -> bool:
    """A keep-alive line below the server level (a location) on servers that speak HTTP/2:
    nginx applies it to HTTP/1.x requests of that location only, since an HTTP/2
    connection takes its keep-alive settings from the server level (the connection's
    configuration, not a request's). A per-endpoint choice for old clients, not a
    setting that makes the server's connections short."""
    level = site.level
    if level is None or level.context in ("http", "server"):
        return False
    return all(speaks_http2(config, server) for server in site.servers)


def speaks_http2(config: NginxConfig, server: Server) -> bool:
    """`http2 on` in force, or a `listen ... http2` on one of its sockets (the listen
    parameter applies to every server on the socket)."""
    if flag_on(server.effective("http2")):
        return True
    sockets = http2_sockets(config)
    return any(listen.socket in sockets for listen in server.listens)


@per_config
def http2_sockets(config: NginxConfig) -> frozenset[str]:
    """The sockets some server's `listen ... http2` names (each server on them shares it):
    indexed once, not the servers sharing a socket scanned for each of 10,000."""
    return frozenset(listen.socket for server in config.servers for listen in server.listens if listen.http2)


def scope_words(site: KeepaliveSite) -> str:
    """``TLS server[a@*:443]`` or ``TLS server[a@*:443] (location /api)``."""
    parts = []
    by_server: dict[int, list[Block]] = {}  # grouped in one pass: a site may decide for 10,000
    for scoped, block in site.scopes:
        by_server.setdefault(id(scoped), []).append(block)
    for server in site.servers:
        blocks = by_server[id(server)]
        if server.block in blocks:
            parts.append(server.label)
        else:
            where = ", ".join(
                " ".join(block.directive.args) if block.directive is not None else "?" for block in blocks
            )
            parts.append(f"{server.label} (location {where})")
    if len(parts) > 3:
        parts = [*parts[:3], f"{len(parts) - 3} more"]
    return "TLS " + ", ".join(parts)


def unset_places(findings: Sequence[tuple[Finding, Server]]) -> list[Place]:
    """Servers that inherit nothing and get the same line added by one fix share a cause."""
    return [Place(fix_key(finding), finding, f"TLS {server.label}", server) for finding, server in findings]


def unset_cause(name: str, effect: str, fragment: bool = False) -> Callable[[list[Place]], Cause]:
    """How servers that all lack ``name`` for one cause are reported: at the http{} the
    fix adds the line to, else at the first of them. In a fragment (``fragment``) the
    includer may set it: said as what this file does not set (``effect`` hedges)."""
    unset = f"nothing in this file sets {name} for" if fragment else f"{name} is not set for"

    def describe(members: list[Place]) -> Cause:
        server: Server = members[0].detail
        http = server.http.directive if server.http is not None else None
        where = directive_location(http) if http is not None else members[0].finding.location
        shown = labels([place.detail for place in members])
        return Cause(
            where,
            f"{unset} {len(members)} TLS servers ({shown}): {effect}",
            f"http > {name}" if http is not None else members[0].finding.anchor,
        )

    return describe


def insertion_fix(config: NginxConfig, servers: Sequence[Server], statement: str, group: str) -> Fix | None:
    """Add ``statement`` to http{} when the file has one, else into each server
    (after the last directive whose name starts with ``group``)."""
    if not servers:
        return None
    http = http_target(servers[0])
    if http is not None and all(s.http is servers[0].http for s in servers):
        return Fix(f"add `{statement}` to http{{}}", (http.insert(statement, group=group),))
    targets = [server_target(config, server) for server in servers]
    found = [target for target in targets if target is not None]
    if len(found) != len(targets):
        return None
    where = ", ".join(target.label for target in found)
    return Fix(f"add `{statement}` to {where}", tuple(t.insert(statement, group=group) for t in found))


# --------------------------------------------------------------------------- ssl_protocols

_PROTOCOL_NAMES = {
    name.lower(): name for name in ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
}
LEGACY = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")
OBSOLETE_SSL = ("SSLv2", "SSLv3")
NO_LINE = "no ssl_protocols line applies"
IN_NO_LINE = "nothing in this file sets ssl_protocols"
DEFAULT_HISTORY = (
    "TLSv1 TLSv1.1 TLSv1.2 before 1.23.4, TLSv1.3 added then, TLSv1 and TLSv1.1 dropped in 1.27.3"
)


def protocols_of(*lines: Directive) -> tuple[str, ...]:
    """The protocols ssl_protocols lines enable. nginx compares the names
    case-insensitively, and several lines in one block add up (a bitmask:
    measured on 1.22.1, `ssl_protocols TLSv1.2; ssl_protocols TLSv1.3;` offers both)."""
    return _names(arg for line in lines for arg in line.args)


def _names(args: Iterable[str]) -> tuple[str, ...]:
    found: list[str] = []
    for arg in args:
        name = _PROTOCOL_NAMES.get(arg.lower(), arg)
        if name not in found:
            found.append(name)
    return tuple(found)


def verdict(problem: Callable[[tuple[str, ...]], bool], lines: Sequence[Directive]) -> bool | None:
    """``problem`` of the protocols ``lines`` enable; None where a template's placeholder
    among them leaves it open. Lines add up, so a placeholder adds anything from none to
    every protocol: the answer is known where the fewest and the most agree (the rules ask
    whether one is lacking or one is enabled, which changes once along that way)."""
    if not any(templated(line) for line in lines):
        return problem(protocols_of(*lines))
    known = _names(arg for line in lines for arg in literal_args(line))
    fewest = problem(known)
    most = problem(_names((*known, *_PROTOCOL_NAMES.values())))
    return fewest if fewest == most else None


def protocol_lines(block: Block | None) -> tuple[Directive, ...]:
    if block is None:
        return ()
    unique: list[Directive] = []
    for line in block.all("ssl_protocols"):
        if all(line is not seen for seen in unique):
            unique.append(line)
    return tuple(unique)


# Who decides ssl_protocols for one TLS server, the same on every version of one side of
# 1.29.2: the server (None: no TLS server is visible, an http{} whose servers are
# elsewhere), the server whose value counts, the ssl_protocols lines of the deciding
# level (() for nginx's default), whether the socket's default server decides for
# another server, the block holding the lines, and the server's sockets the decider decides
# on when it decides on only some of them (() when on all).
_Row = tuple["Server | None", "Server | None", tuple[Directive, ...], bool, "Block | None", tuple[str, ...]]


@per_config  # NGX302 and NGX303 ask, for each version an unknown nginx.version stands for
def _deciders(config: NginxConfig, per_server: bool) -> list[_Row]:
    return list(_decide(config, per_server))


def _decide(config: NginxConfig, per_server: bool) -> Iterator[_Row]:
    """Before 1.29.2 the default server of each TLS socket decides ssl_protocols for
    every server on it; since 1.29.2 each virtual server decides its own (facts §1)."""
    lines_at: dict[int, tuple[Directive, ...]] = {}  # by level: 10,000 servers, one http{}
    tls = [server for server in config.servers if server.tls]
    if not tls:
        if any(server.stream for server in config.servers):
            return  # stream{} servers, all plain: http{}'s lines are the http scope's to judge
        # No TLS server is visible (they come from includes that are not here):
        # an explicit http-level value is what they inherit.
        seen: set[int] = set()
        for http in config.http_blocks():
            lines = protocol_lines(http)
            if lines and id(lines[0]) not in seen:
                seen.add(id(lines[0]))
                yield (None, None, lines, False, http, ())
        return
    for server in tls:
        if rejects_handshakes(server):
            continue  # negotiates nothing itself (it may still decide for the socket)
        if server.synthetic and not protocol_lines(server.block):
            continue  # a server snippet checked alone: its includer decides what applies
        governing: dict[int, tuple[Server, list[str]]] = {id(server): (server, [])}
        if not per_server:
            # Each TLS socket's default server decides there: an IPv4 and an IPv6 socket
            # (ipv6only) may have different ones, each deciding on its own socket only.
            defaults: dict[int, tuple[Server, list[str]]] = {}
            for listen in server.listens:
                if listen.socket not in config.tls_sockets:
                    continue
                default = config.default_server(listen.socket)
                if default is not None:
                    defaults.setdefault(id(default), (default, []))[1].append(listen.socket)
            governing = defaults or governing
        for decider, sockets in governing.values():
            own = decider.block.has("ssl_protocols")
            if decider.block.unresolved and not own:
                continue  # an include in the server was not followed: it may set its own
            level = decider.block if own else decider.http
            if id(level) not in lines_at:
                lines_at[id(level)] = protocol_lines(level)
            some = tuple(sockets) if len(governing) > 1 else ()
            yield (server, decider, lines_at[id(level)], decider is not server, level, some)


@dataclass(slots=True)
class ProtocolSite:
    """One ssl_protocols line (or a server using nginx's default) with a problem."""

    lines: tuple[Directive, ...]  # () when nginx's default applies
    governing: Server | None
    level: Block | None  # the block holding ``lines``
    versions: list[Version] = field(default_factory=list)
    servers: list[Server] = field(default_factory=list)
    # With nginx's default: every server that decides, when one http{} sets the line for
    # all of them (one cause, one fix there), and that http{}.
    governors: list[Server] = field(default_factory=list)
    http: Block | None = None
    # A virtual server's own ssl_protocols that the default server's value overrides.
    ignored: list[tuple[Server, tuple[Directive, ...]]] = field(default_factory=list)
    # By server: the sockets on which this site decides for it, where it decides on some
    # of the server's sockets only (its other sockets have other default servers).
    only_on: dict[int, list[str]] = field(default_factory=dict)
    # By server: the representative versions on which this site decides for it (a
    # default server's line decides for its vhosts before 1.29.2 only).
    server_versions: dict[int, list[Version]] = field(default_factory=dict)

    @property
    def directive(self) -> Directive | None:
        return self.lines[0] if self.lines else None

    def protocols(self, version: Version) -> tuple[str, ...]:
        if self.lines:
            return protocols_of(*self.lines)
        return default_ssl_protocols(version) or ()


@dataclass(frozen=True)
class Judged:
    """A site of NGX302/NGX303 with what its finding needs of its configuration."""

    config: NginxConfig  # http{}'s servers, or stream{}'s
    versions: VersionRange
    servers: dict[int, Server]
    site: ProtocolSite


def judged_sites(workspace: Workspace, problem: Callable[[tuple[str, ...]], bool]) -> Iterator[Judged]:
    """The sites with ``problem`` in every configuration's http{} and stream{} servers,
    leaving out nginx's default where a line may be in an include not followed."""
    for whole in workspace.nginx:
        versions = workspace.nginx_versions(whole)
        for config in scopes(whole):
            servers = server_map(config)
            for site in protocol_sites(config, versions, problem):
                if site.directive is None and config.incomplete:
                    continue  # the line may be in an include that was not followed
                yield Judged(config, versions, servers, site)


def protocol_sites(
    config: NginxConfig, versions: VersionRange, problem: Callable[[tuple[str, ...]], bool]
) -> list[ProtocolSite]:
    """Every place whose effective ssl_protocols has ``problem``, on the configured
    version or (unknown) on some supported version."""
    sites: dict[tuple[str, int], ProtocolSite] = {}
    # What each site already lists, by identity: a default server may govern 10,000 servers.
    listed: set[tuple[int, int]] = set()
    governed: set[tuple[int, int]] = set()  # (site, governor): one http{} may decide for 10,000
    judged: dict[int, bool] = {}  # by the lines' identity: most servers share their http{}'s
    for rep in representatives(versions):
        default = problem(default_ssl_protocols(rep) or ())
        # (site, server) -> the sockets the site decides on, where a row names some only;
        # and the pairs a row decides for on every socket.
        some: dict[tuple[int, int], tuple[ProtocolSite, Server, set[str]]] = {}
        every: set[tuple[int, int]] = set()
        for server, governing, lines, by_default_server, level, sockets in _deciders(
            config, rep >= SNI_SESSION_DECISION
        ):
            directive = lines[0] if lines else None
            if not lines:
                bad = default
            elif id(lines) in judged:
                bad = judged[id(lines)]
            else:
                bad = judged[id(lines)] = verdict(problem, lines) is True
            if not bad:
                continue
            http = governing.http if governing is not None else None
            if directive is not None:
                key = ("directive", id(directive))
            elif http is not None and http.directive is not None:
                key = ("http", id(http))  # one line in http{} would decide for all of them
            else:
                key = ("server", id(governing))
            site = sites.get(key)
            if site is None:
                site = sites[key] = ProtocolSite(lines, governing, level)
                site.http = http if key[0] == "http" else None
            if governing is not None and (id(site), id(governing)) not in governed:
                governed.add((id(site), id(governing)))
                site.governors.append(governing)
            if rep not in site.versions:
                site.versions.append(rep)
            if server is not None and (id(site), id(server)) not in listed:
                listed.add((id(site), id(server)))
                site.servers.append(server)
            if server is not None:
                hits = site.server_versions.setdefault(id(server), [])
                if rep not in hits:
                    hits.append(rep)
            if server is not None and sockets:
                some.setdefault((id(site), id(server)), (site, server, set()))[2].update(sockets)
            elif server is not None:
                every.add((id(site), id(server)))
            if by_default_server and server is not None:
                own = protocol_lines(server.block)
                new = bool(own) and own[0] is not directive
                if new and (id(site), id(own[0])) not in listed:
                    listed.add((id(site), id(own[0])))
                    site.ignored.append((server, own))
        _note_sockets(config, some, every)
    return list(sites.values())


def _note_sockets(
    config: NginxConfig,
    some: dict[tuple[int, int], tuple[ProtocolSite, Server, set[str]]],
    every: set[tuple[int, int]],
) -> None:
    """Keep, for one representative version, the sockets on which each site decides for a
    server on some of its sockets only. A site that decides on all of them there, by one
    default server or by several that share its lines, keeps none; what another version
    kept stays (on those sockets the statement holds on every version)."""
    for key, (site, server, sockets) in some.items():
        mine = {listen.socket for listen in server.listens if listen.socket in config.tls_sockets}
        if key in every or mine <= sockets:
            continue
        kept = site.only_on.setdefault(id(server), [])
        kept.extend(socket for socket in sorted(sockets) if socket not in kept)


def protocols_subject(site: ProtocolSite, versions: VersionRange, config: NginxConfig | None = None) -> str:
    """``ssl_protocols TLSv1 TLSv1.2`` or ``nginx 1.22.0's default ssl_protocols (...)``.
    In a fragment (``config`` checked without its includer) the includer may set the line
    this file leaves out: ``unless the including http{} sets ssl_protocols, nginx's ...``."""
    if site.lines:
        written = " + ".join(f"`ssl_protocols {' '.join(line.args)}`" for line in site.lines)
        if len(site.lines) > 1:
            written += " (lines in one block add up)"
        return written
    if config is not None and is_fragment(config):
        default = _default_subject(versions).replace(NO_LINE, IN_NO_LINE)
        return f"unless {includer(config)} sets ssl_protocols, {default}"
    return _default_subject(versions)


def _default_subject(versions: VersionRange) -> str:
    version = versions.decides(_DEFAULT_BOUNDARIES)
    if version is not None and versions.set_by_setting:
        default = " ".join(default_ssl_protocols(version) or ())
        return f"nginx {format_version(version)}'s default ssl_protocols ({default}; {NO_LINE})"
    if versions.known:
        reps = versions.representatives(_DEFAULT_BOUNDARIES)
        parts = []
        for index, rep in enumerate(reps):
            default = " ".join(default_ssl_protocols(rep) or ())
            if len(reps) == 1:
                parts.append(default)
            elif index == 0:
                parts.append(f"{default} before {format_version(reps[1])}")
            else:
                parts.append(f"{default} from {format_version(rep)}")
        # Decided: say why; open: the finding's note says what is known.
        named = versions.name() if len(reps) == 1 else f"nginx {versions.label()}"
        return f"the default ssl_protocols of {named} ({'; '.join(parts)}; {NO_LINE})"
    return f"nginx's default ssl_protocols ({DEFAULT_HISTORY}; {NO_LINE})"


def site_location(site: ProtocolSite, servers: dict[int, Server]) -> tuple[Directive, str]:
    """Where a finding about ``site`` points, and its anchor."""
    if site.directive is not None:
        level = site.level
        anchor = block_anchor(level, servers, "ssl_protocols") if level is not None else "ssl_protocols"
        return site.directive, anchor
    assert site.governing is not None
    if len(site.governors) > 1 and site.http is not None and site.http.directive is not None:
        return site.http.directive, block_anchor(site.http, servers, "ssl_protocols")
    governing = site.governing
    return server_anchor_directive(governing), block_anchor(governing.block, servers, "ssl_protocols")


def site_related(site: ProtocolSite) -> list[Related]:
    """The servers a site decides for, when there are several: where each of them is."""
    if len(site.servers) < 2:
        return []
    return [Related(directive_location(server_anchor_directive(s)), f"TLS {s.label}") for s in site.servers]


def site_covers(site: ProtocolSite, servers: dict[int, Server]) -> tuple[tuple[Path, str], ...]:
    """The places a site of several deciding servers stands for (one finding each, once)."""
    if site.directive is not None or len(site.governors) < 2:
        return ()
    return tuple(
        (server_anchor_directive(g).path, block_anchor(g.block, servers, "ssl_protocols"))
        for g in site.governors
    )


def server_spans(site: ProtocolSite, versions: VersionRange) -> dict[int, str]:
    """By server, the versions (``before 1.29.2``) on which ``site`` decides for it, where
    the range is open and the servers differ: then the finding names each server's span,
    not one for the site. Empty where they all share one (the site's note says it)."""
    reps = representatives(versions)
    if len(reps) == 1 or len(site.servers) < 2:
        return {}
    spans = {
        id(server): version_span(site.server_versions.get(id(server), ()), reps) for server in site.servers
    }
    if len(set(spans.values())) == 1:
        return {}
    return {key: span for key, span in spans.items() if span}


def site_holds_everywhere(site: ProtocolSite, versions: VersionRange) -> bool:
    """Whether some server the site decides for has the problem on every version the
    range allows (a warning); not where each has it on some versions only (info)."""
    if not site.servers:
        return holds_everywhere(site.versions, versions)
    return any(holds_everywhere(site.server_versions.get(id(s), []), versions) for s in site.servers)


def versions_note(site: ProtocolSite, versions: VersionRange, spans: Mapping[int, str]) -> str:
    """The open-range note: the site's span, or, where each server carries its own, why."""
    if spans:
        return f" ({versions.unsettled()}; set nginx.version to decide)"
    return unknown_note(site.versions, versions)


def whom(site: ProtocolSite, spans: Mapping[int, str] | None = None) -> str:
    if site.servers:
        shown = labels(site.servers, only_on=site.only_on)
        if spans:  # `labels` again, with each server's versions: rare, so kept out of it
            shown = ", ".join(
                server.label
                + on_sockets(server, site.only_on)
                + (f" (on nginx {spans[id(server)]})" if id(server) in spans else "")
                for server in site.servers[:3]
            ) + (f" and {len(site.servers) - 3} more" if len(site.servers) > 3 else "")
        return "TLS " + shown
    return "every TLS server that does not set its own (the servers are in files included from elsewhere)"


def ignored_note(site: ProtocolSite, problem: Callable[[tuple[str, ...]], bool]) -> str:
    """Name the virtual servers whose own, better ssl_protocols nginx ignores before 1.29.2."""
    better = [(server, lines) for server, lines in site.ignored if verdict(problem, lines) is False]
    if not better:
        return ""
    names = "; ".join(
        f"{server.label} sets `ssl_protocols {' '.join(protocols_of(*lines))}`"
        + (f", ignored{on_sockets(server, site.only_on)}" if id(server) in site.only_on else "")
        for server, lines in better
    )
    return (
        f"; before nginx 1.29.2 only the default server's ssl_protocols takes effect on a "
        f"listen socket, so the virtual servers' own values are ignored ({names})"
    )


def writable(protocols: Sequence[str], versions: VersionRange) -> tuple[str, ...]:
    """``protocols`` without those an ``ssl_protocols`` line cannot name on some release
    ``versions`` holds (TLSv1.3 before 1.13.0: `invalid value "TLSv1.3"`): a fix writes
    only what the nginx that reads it loads."""
    low = versions.low
    return tuple(
        protocol
        for protocol in protocols
        if low is None
        or all(span.accepts(low) for _, span in argument_form("ssl_protocols", (protocol,), "http"))
    )


def refused_note(
    protocols: Sequence[str],
    versions: VersionRange,
    site: ProtocolSite,
    *,
    fixed: bool,
    replaces: bool = True,
) -> str:
    """Why a fix leaves out what ``writable`` dropped, true of the whole range:
    ``nginx 1.10.3 refuses ...`` where every release of it does, else that its releases
    disagree. ``fixed``: the finding writes the rest (``may_write`` allowed it);
    ``replaces``: a line without them is what the rule would write (NGX303's)."""
    dropped = [protocol for protocol in protocols if protocol not in writable(protocols, versions)]
    if not dropped:
        return ""
    since = _accepted_from(dropped)
    needs = f" (it needs nginx {format_version(since)} or later)" if since is not None else ""
    written = f"`ssl_protocols {' '.join(dropped)}`"
    if since is None or versions.at_least(since) is False:
        return f"{versions.name()} refuses {written}{needs}: upgrade nginx to have it"
    # A range across the release that accepts it (nginx:1.12.2 beside nginx:1.27.3).
    older = f"{versions.name()} holds releases before {format_version(since)}, which refuse {written}"
    if fixed:
        return (
            f"{older}: the fix leaves it out "
            "(where none of those runs the file, set nginx.version to have it)"
        )
    off = turned_off(site, dropped, versions) if replaces else None
    later = (
        f", and from {format_version(off)} releases whose ssl_protocols has it, "
        "which a line without it would turn off"
        if off is not None
        else ""
    )
    return f"no automatic fix: {older}{later}: set nginx.version to decide"


def may_write(protocols: Sequence[str], versions: VersionRange, site: ProtocolSite) -> bool:
    """Whether a fix may write ``writable``'s protocols: not where a release of the
    range already has one it dropped (nginx 1.23.4's default has TLSv1.3, which 1.12.2
    refuses): the line would turn it off there."""
    dropped = [protocol for protocol in protocols if protocol not in writable(protocols, versions)]
    return not dropped or turned_off(site, dropped, versions) is None


def turned_off(site: ProtocolSite, dropped: Sequence[str], versions: VersionRange) -> Version | None:
    """The first release of ``versions`` whose protocols for ``site`` have one of ``dropped``."""
    return next((rep for rep in representatives(versions) if set(dropped) & set(site.protocols(rep))), None)


def _accepted_from(protocols: Sequence[str]) -> Version | None:
    """The first release whose ssl_protocols accepts every one of ``protocols``."""
    spans = [span for p in protocols for _, span in argument_form("ssl_protocols", (p,), "http")]
    return max((span.since for span in spans if span.since is not None), default=None)


def protocols_fix(config: NginxConfig, site: ProtocolSite, protocols: Sequence[str]) -> Fix | None:
    """Set ``protocols`` on the line that decides, or add ssl_protocols where it is inherited.

    Always unsafe: it changes who can connect (docs/fix-safety.md). None where a line
    holds a template's placeholder: the value is the template's (``protocols_note``)."""
    if not protocols or templated_line(site.lines) is not None:
        return None
    value = " ".join(protocols)
    if site.lines:
        first, *others = site.lines
        if not others and protocols_of(first) == tuple(protocols):
            return None
        edits = (replace_arguments(first, list(protocols)), *(remove_directive(line) for line in others))
        more = f" and remove the other {len(others)} line(s) of that block" if others else ""
        return Fix(f"set `ssl_protocols {value};`{more}", edits, safe=False)
    added = _added_at(config, site)
    if added is None:
        return None
    target = added[0]
    statement = f"ssl_protocols {value};"
    return Fix(f"add `{statement}` to {target.label}", (target.insert(statement),), safe=False)


def _added_at(config: NginxConfig, site: ProtocolSite) -> tuple[Target, Block] | None:
    """Where ``protocols_fix`` adds ssl_protocols to a site that inherits it: the target,
    and its block. The default server decides for its socket before 1.29.2, so the line
    goes where it inherits from: http{}, else the (default) server itself."""
    governing = site.governing
    if governing is None:
        return None
    target = http_target(governing)
    if target is not None:
        assert governing.http is not None  # http_target found its directive
        return target, governing.http
    target = server_target(config, governing)
    return (target, governing.block) if target is not None else None


def edited_level(config: NginxConfig, site: ProtocolSite) -> Block | None:
    """The block whose ssl_protocols ``protocols_fix`` sets: the one holding the site's
    lines, else the one it adds the line to."""
    if site.lines:
        return site.level
    added = _added_at(config, site)
    return added[1] if added is not None else None


def protocols_note(site: ProtocolSite) -> str:
    """Why ``site`` has no fix when one of its lines holds a template's placeholder."""
    line = templated_line(site.lines)
    return placeholder_note(line) if line is not None else ""


# --------------------------------------------------------------------------- sockets


def flag_on(directive: Directive | None) -> bool:
    return directive is not None and directive.args[:1] == ("on",)


def socket_was_tls(config: NginxConfig, socket: str) -> bool:
    """nginx speaks TLS on a socket when a listen of it has ``ssl``, or when its
    default server has ``ssl on`` (the default server's value decides; measured:
    a virtual server's ``ssl on`` on a plain socket serves plain HTTP)."""
    if socket in _ssl_listen_sockets(config):
        return True
    default = config.default_server(socket)
    return default is not None and flag_on(default.effective("ssl"))


@per_config
def _ssl_listen_sockets(config: NginxConfig) -> frozenset[str]:
    """The sockets a listen with ``ssl`` names (asked for each listen line)."""
    return frozenset(listen.socket for server in config.servers for listen in server.listens if listen.ssl)


def inside(block: Block, context: str) -> bool:
    current: Block | None = block
    while current is not None:
        if current.context == context:
            return True
        current = current.parent
    return False


def flag_sites(config: NginxConfig, name: str) -> list[tuple[Directive, list[Block]]]:
    """Each ``name`` line (``ssl``, ``http2``) of the http side, with every http{} or
    server{} block it is in: a file included by several servers puts one line in each."""
    order: list[Directive] = []
    blocks: dict[int, list[Block]] = {}
    pairs: set[tuple[int, int]] = set()  # a snippet's line may be in 10,000 servers
    for block in config.top.walk():
        if block.context not in ("http", "server"):
            continue
        # Which module reads the block is asked of the few blocks with the line only
        # (`has`: presence, without building a list for each of 10,000 servers).
        if not block.has(name) or inside(block, "mail") or inside(block, "stream"):
            continue
        for directive in block.all(name):
            if id(directive) not in blocks:
                order.append(directive)
                blocks[id(directive)] = []
            if (id(directive), id(block)) not in pairs:
                pairs.add((id(directive), id(block)))
                blocks[id(directive)].append(block)
    return [(directive, blocks[id(directive)]) for directive in order]


def inherited_flag(block: Block, name: str) -> Directive | None:
    """The ``name`` line a server{} block would inherit from its http{} without its own."""
    if block.context != "server" or block.parent is None:
        return None
    return block.parent.last(name)


def combine(parts: Sequence[tuple[Fix | None, str]]) -> tuple[Fix | None, str]:
    """One fix from the fixes of each block a line is in; none if a block has none."""
    edits: dict[Edit, None] = {}  # in order, each once: one line in 10,000 servers has 10,000 parts
    descriptions: dict[str, None] = {}
    safe = True
    for fix, note in parts:
        if fix is None:
            return None, note
        safe = safe and fix.safe
        edits.update(dict.fromkeys(fix.edits))
        descriptions[fix.description] = None
    return Fix("; ".join(descriptions), tuple(edits), safe), ""


def servers_deciding(config: NginxConfig, block: Block, name: str) -> list[Server]:
    """The servers whose effective ``name`` comes from ``block``."""
    if block.context == "server":
        return list(_servers_by_block(config).get(id(block), ()))
    return [server for server in _servers_by_http(config).get(id(block), ()) if not server.block.all(name)]


@per_config
def _servers_by_block(config: NginxConfig) -> dict[int, list[Server]]:
    """Servers by the id of their block (asked for each server, of 10,000)."""
    found: dict[int, list[Server]] = {}
    for server in config.servers:
        found.setdefault(id(server.block), []).append(server)
    return found


@per_config
def _servers_by_http(config: NginxConfig) -> dict[int, list[Server]]:
    found: dict[int, list[Server]] = {}
    for server in config.servers:
        if server.http is not None:
            found.setdefault(id(server.http), []).append(server)
    return found


@per_config
def listen_owners(config: NginxConfig) -> dict[int, Server]:
    """The first server each ``listen`` line belongs to, by the directive's id (a file
    included in two servers gives both the line; the first in text order owns it)."""
    found: dict[int, Server] = {}
    for server in config.servers:
        for listen in server.listens:
            if listen.directive is not None:
                found.setdefault(id(listen.directive), server)
    return found


def argument_index(listen: Directive, after: Sequence[str]) -> int:
    """Where a new listen parameter goes, in the docs' order
    (``address [default_server] [ssl] [http2]``): after the last of ``after`` present."""
    index = 0
    for position, arg in enumerate(listen.args):
        if position and arg in after:
            index = position
    return index
