"""NGX203 keepalive-requests-low: a TLS connection closes after too few requests.

In a fragment (a conf.d/ file of server blocks, or a server snippet, checked without its
includer) the including http{} may set keepalive_requests: a server that sets none here
is said to set none in this file, with the includer deciding, and the fix that adds the
configured minimum to it is unsafe (it would override, and may lower, the includer's
value). A line of this file that is too low is raised, never removed: what it would
inherit is the includer's, not nginx's default.

A line counts only where connections are kept alive: not for a location whose
keepalive_timeout is 0 (HTTP/1.x), nor for HTTP/2 connections, which take the server
level's settings, and only since nginx 1.19.7 (tlslint/checks/_keepalive.py). The
servers named and what is said of their HTTP/1.x and HTTP/2 clients are where it counts
on the versions the range holds; a line that counts nowhere is not reported (NGX201
reports the 0).

Where the version is not settled on either side of 1.19.10 and no ``min`` is
configured, a value from 100 to 999 is below nginx's default on some versions only
(1000 since 1.19.10, 100 before): it is reported at ``info`` (docs/version-inference.md).
A value below 100 is below the default of every release, at the rule's severity.

Before 1.19.7 http2_max_requests (1000 by default) limits HTTP/2 connections instead: a
line below 1000 (or the configured ``min``) is reported where it can still count (before
1.19.7; information while the version is open). Since 1.19.7 nginx ignores it (nginx -t
warns: obsolete) and keepalive_requests, judged here, limits them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from tlslint.checks import RuleContext
from tlslint.checks._causes import Cause, Place, one_per_cause
from tlslint.checks._effective import chain
from tlslint.checks._fragment import guarded, includer, is_fragment
from tlslint.checks._keepalive import SINCE, Reach, before, governed, http2_lines, reach
from tlslint.checks._protocols import (
    KeepaliveSite,
    block_anchor,
    http1_only_choice,
    insertion_fix,
    keepalive_sites,
    scope_words,
    server_anchor_directive,
    server_map,
    unset_cause,
    unset_places,
)
from tlslint.findings import Finding, Fix, Severity
from tlslint.nginx_edits import remove_directive, replace_argument
from tlslint.nginx_versions import KEEPALIVE_REQUESTS_1000, Version, default_keepalive_requests
from tlslint.units import whole_number
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, Server

CODE = "NGX203"

NEW_DEFAULT = 1000  # since 1.19.10
OLD_DEFAULT = 100
HTTP2_MAX_REQUESTS_DEFAULT = 1000  # on every release that reads it (before 1.19.7)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    configured = str(ctx.options["min"]).strip()
    required = 0
    if configured:
        try:
            required = int(configured)
        except ValueError:
            return
    for config in workspace.nginx:
        versions = workspace.nginx_versions(config)
        # A version standing for the range when the default is the same on all of it.
        version = versions.decides((KEEPALIVE_REQUESTS_1000,))
        if configured:
            minimum = required
            source = f"the configured minimum {minimum}"
        else:
            # Unknown version: nginx's default is 100 before 1.19.10 and 1000 since;
            # a value below 1000 is below the default of every current release.
            minimum = default_keepalive_requests(version) or NEW_DEFAULT
            source = _default_words(version)
        servers = server_map(config)
        unset: list[tuple[Finding, Server]] = []
        reached: dict[int, Reach] = {}  # by server: where nginx's default counts
        for site in keepalive_sites(config, "keepalive_requests"):
            if site.directive is None:
                if not configured:
                    continue  # nginx's own default is never below itself
                found = reach(config, site.scopes, with_keepalive=True)
                finding = _unset(ctx, site, found, minimum, versions, servers, config)
                if finding is not None:
                    unset.append((finding, site.servers[0]))
                    reached[id(site.servers[0])] = found
                continue
            directive = site.directive
            value = whole_number(directive.args[0]) if directive.args else None
            if site.level is None or value is None:
                continue
            if http1_only_choice(config, site):
                continue  # an endpoint's limit for HTTP/1.x clients, on servers that speak HTTP/2
            if value >= minimum:
                continue
            found = reach(config, site.scopes, with_keepalive=True)
            if not found.scopes:
                continue  # keepalive_timeout 0 wherever it applies: it limits nothing (NGX201)
            note = ""
            if version is None and not configured and value >= OLD_DEFAULT:
                # Below 1.19.10's default, not below the one before: the range leaves it open.
                note = f" ({versions.unsettled()}: before 1.19.10 the default was {OLD_DEFAULT})"
            where = scope_words(KeepaliveSite(directive, site.level, found.scopes))
            effect = _effect(found, versions, value, said_unsettled=bool(note))
            yield ctx.finding(
                directive,
                f"keepalive_requests {value} for {where} is below {source}: {effect}{note}",
                # An open question is information (docs/version-inference.md); a value below
                # both defaults, or a configured minimum, is not one.
                severity=Severity.INFO if note else None,
                anchor=block_anchor(site.level, servers, "keepalive_requests"),
                fix=_raise(site, minimum, _inherits(version, config), bool(configured)),
            )

        describe = _describe_unset(config, versions, minimum, reached)
        yield from one_per_cause(unset_places(unset), describe, ctx.keep)
        yield from _http2_requests(ctx, config, versions, required if configured else None, servers)


def _http2_requests(
    ctx: RuleContext,
    config: NginxConfig,
    versions: VersionRange,
    configured: int | None,
    servers: dict[int, Server],
) -> Iterator[Finding]:
    """A low http2_max_requests where it limits HTTP/2 connections: before 1.19.7. Since,
    nginx ignores it (obsolete), so nothing is said on a range all past it. The threshold
    is the configured ``min``, else the line's own default (1000 on every such release)."""
    on = governed(versions)
    if on is True:
        return
    minimum = HTTP2_MAX_REQUESTS_DEFAULT if configured is None else configured
    source = f"nginx's default of {minimum}" if configured is None else f"the configured minimum {minimum}"
    # Removed where its default (1000) is enough: right on every version, since 1.19.7
    # ignores the line; in a fragment what it inherits is the includer's (raised).
    default = None if is_fragment(config) else HTTP2_MAX_REQUESTS_DEFAULT
    for site in http2_lines(config, "http2_max_requests"):
        directive = site.directive
        assert directive is not None and site.level is not None
        value = whole_number(directive.args[0]) if directive.args else None
        if value is None or value >= minimum:
            continue  # a value nginx cannot read is NGX012's
        if value <= 1:
            said = "every HTTP/2 connection is closed after one request"
        else:
            said = f"HTTP/2 clients must reconnect, with a new TLS handshake, after every {value} requests"
        if on is None:
            effect = (
                f"before nginx 1.19.7 {said}; since 1.19.7 nginx ignores the line (obsolete: "
                f"keepalive_requests limits HTTP/2 connections; {versions.unsettled()})"
            )
        else:
            effect = f"{said}; {before(versions)} this line limits HTTP/2 connections, not keepalive_requests"
        yield ctx.finding(
            directive,
            f"http2_max_requests {value} for {scope_words(site)} is below {source}: {effect}",
            severity=Severity.INFO if on is None else None,  # it counts on some versions only
            anchor=block_anchor(site.level, servers, "http2_max_requests"),
            fix=_raise(site, minimum, default, configured is not None),
        )


def _inherits(version: Version | None, config: NginxConfig) -> int | None:
    """What a keepalive_requests line with nothing above it in the file would inherit:
    nginx's default for the version (unknown: 100 on old releases, so only the explicit
    value is right everywhere); in a fragment the includer's (unknown)."""
    return None if is_fragment(config) else default_keepalive_requests(version)


def _effect(found: Reach, versions: VersionRange, value: int, said_unsettled: bool) -> str:
    """What the limit does, true of each server named on every version the range holds."""
    everyone = found.everyone(governed(versions))
    if value <= 1:
        closed = "every connection is" if everyone else "HTTP/1.x connections are"
        said = f"{closed} closed after one request, as with keepalive_timeout 0"
        return said + _http2(found, versions, "are", "connections", said_unsettled)
    who = "clients" if everyone else "HTTP/1.x clients"
    said = f"{who} must reconnect, with a new TLS handshake, after every {value} requests"
    return said + _http2(found, versions, "must", "clients", said_unsettled)


def _describe_unset(
    config: NginxConfig, versions: VersionRange, minimum: int, reached: dict[int, Reach]
) -> Callable[[list[Place]], Cause]:
    """How servers that set nothing, for one cause, are reported: what is said is where
    nginx's default counts for them (``reached``, by server)."""

    def describe(members: list[Place]) -> Cause:
        found = Reach.joined([reached[id(place.detail)] for place in members])
        effect = _unset_effect(found, versions, minimum)
        if is_fragment(config):
            effect = f"unless {includer(config, http_setting=True)} sets it, {effect}"
        return unset_cause("keepalive_requests", effect, is_fragment(config))(members)

    return describe


def _unset_effect(found: Reach, versions: VersionRange, minimum: int) -> str:
    who = "clients" if found.everyone(governed(versions)) else "HTTP/1.x clients"
    said = (
        f"{_unset_default(versions)} is below the configured minimum {minimum}, so {who} reconnect, "
        "with a new TLS handshake, that often"
    )
    # The default's words already say what is known of the version when it is open.
    open_default = versions.decides((KEEPALIVE_REQUESTS_1000,)) is None
    return said + _http2(found, versions, "do", "clients", open_default)


def _http2(found: Reach, versions: VersionRange, verb: str, noun: str, said_unsettled: bool) -> str:
    """What the limit does to HTTP/2 connections, after what it does to HTTP/1.x clients
    ('' where that said it all): since 1.19.7 it is theirs too, before it is
    http2_max_requests."""
    on = governed(versions)
    if not found.http2 or found.everyone(on):
        return ""
    if on is None:
        why = "" if said_unsettled else f"; {versions.unsettled()}"
        return (
            f", and {SINCE} so {verb} {found.whose(noun)} (before, http2_max_requests limits "
            f"HTTP/2 connections{why})"
        )
    if on is False:
        return (
            f"; {found.whose('connections')} are not limited by keepalive_requests {before(versions)}: "
            "http2_max_requests limits them"
        )
    return f", and so {verb} {found.whose(noun)}"


def _unset_default(versions: VersionRange) -> str:
    """nginx's default that a server setting nothing gets, as far as the range tells."""
    default = default_keepalive_requests(versions.decides((KEEPALIVE_REQUESTS_1000,)))
    if default is None:
        return f"nginx's default ({OLD_DEFAULT} before 1.19.10, {NEW_DEFAULT} since; {versions.unsettled()})"
    return f"nginx's default {default}"


def _default_words(version: Version | None) -> str:
    if version is None:
        return f"nginx's default of {NEW_DEFAULT} (since 1.19.10)"
    if version >= KEEPALIVE_REQUESTS_1000:
        return f"nginx's default of {NEW_DEFAULT} (since 1.19.10)"
    return f"nginx's default of {OLD_DEFAULT} (before 1.19.10)"


def _raise(site: KeepaliveSite, minimum: int, default: int | None, configured: bool) -> Fix | None:
    """Remove the line when what it would inherit (an enclosing level's line, else
    ``default``: None where unknown) is enough, else raise it to ``minimum`` (always
    with a ``configured`` minimum)."""
    directive = site.directive
    level = site.level
    if directive is None or level is None:
        return None
    name = directive.name
    inherited: int | None = None
    source = ""
    for outer in chain(level)[1:]:
        found = outer.last(name)
        if found is not None:
            inherited = whole_number(found.args[0]) if found.args else None
            source = f"the {outer.context}-level {inherited}"
            break
    else:
        inherited = default
        source = f"nginx's default {inherited}"
    if not configured and inherited is not None and inherited >= minimum:
        return Fix(
            f"remove `{name} {directive.args[0]};` (then {source} applies)",
            (remove_directive(directive),),
            safe=False,  # the line has effect: it lowers the limit
        )
    return Fix(f"raise {name} to {minimum}", (replace_argument(directive, 0, str(minimum)),), safe=False)


def _unset(
    ctx: RuleContext,
    site: KeepaliveSite,
    found: Reach,
    minimum: int,
    versions: VersionRange,
    servers: dict[int, Server],
    config: NginxConfig,
) -> Finding | None:
    """No keepalive_requests anywhere: only a configured ``min`` above nginx's default matters."""
    default = default_keepalive_requests(versions.decides((KEEPALIVE_REQUESTS_1000,)))
    effective = default if default is not None else OLD_DEFAULT
    if effective >= minimum or config.incomplete or not found.scopes:
        return None  # no scopes: keepalive_timeout 0 wherever it applies, so no limit counts
    server = site.servers[0]
    where = scope_words(KeepaliveSite(None, site.level, found.scopes))
    said = f"keepalive_requests is not set for {where}: {_unset_effect(found, versions, minimum)}"
    if is_fragment(config):
        said = (
            f"nothing in this file sets keepalive_requests for {where}: unless "
            f"{includer(config, http_setting=True)} sets it, "
            f"{_unset_effect(found, versions, minimum)}"
        )
    fix = insertion_fix(config, [server], f"keepalive_requests {minimum};", group="keepalive_")
    return ctx.finding(
        server_anchor_directive(server),
        said,
        # Unknown version and a minimum that 1.19.10's default meets: it depends on the version.
        severity=Severity.INFO if default is None and minimum <= NEW_DEFAULT else None,
        anchor=block_anchor(server.block, servers, "keepalive_requests"),
        fix=guarded(config, fix),
    )
