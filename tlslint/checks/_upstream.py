"""Upstream keep-alive facts shared by NGX210-NGX214 (facts/nginx.md §1, §5).

* ``keepalive`` lives only in ``upstream{}``. Before 1.29.7 an upstream without
  it opens a connection per request; since 1.29.7 the default is ``32 local``.
* Before 1.29.7 the proxy speaks HTTP/1.0 and sends ``Connection: close``
  unless told otherwise, so reuse needs ``proxy_http_version 1.1`` and
  ``proxy_set_header Connection ""`` (measured on 1.22.1: 5 requests, 5
  connections without them, 1 with them).
* An implicit upstream (``proxy_pass`` to a literal address with no
  ``upstream{}``) is never pooled, on any version. Which passes an upstream{} takes is
  nginx's reading order (tlslint.nginx_upstream_names): never one with a port.
* Before 1.29.7 a balancing method set below ``keepalive`` replaces it (measured).
* ``proxy_set_header`` is inherited all or nothing: a location with one line
  of its own drops every inherited line, so a fix that adds one copies the
  inherited ones into the location.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

from tlslint.checks import related, unique
from tlslint.checks._effective import effective, effective_all, proxy_headers, server_of
from tlslint.findings import Edit, Related
from tlslint.nginx_edits import (
    Statement,
    built_lines,
    child_indentation,
    indent_unit,
    indentation,
    insert_directive,
    insert_directives,
    insert_lines_before,
    replace_argument,
    replace_argument_text,
)
from tlslint.nginx_upstream_names import HTTP_PASSES, Outcome, config_outcomes, context_blocks, pass_lines
from tlslint.nginx_values import templated
from tlslint.nginx_versions import (
    UPSTREAM_KEEPALIVE_DEFAULT,
    UPSTREAM_KEEPALIVE_TIMEOUT,
    UPSTREAM_KEEPALIVE_TIMEOUT_DEFAULT,
)
from tlslint.sources.nginx.model import Directive
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import MAIN, Block, NginxConfig, per_config

PASS_MODULES = {
    "proxy_pass": "proxy",
    "fastcgi_pass": "fastcgi",
    "uwsgi_pass": "uwsgi",
    "scgi_pass": "scgi",
    "grpc_pass": "grpc",
    "memcached_pass": "memcached",
}
assert PASS_MODULES.keys() == HTTP_PASSES  # pass_lines finds them by these names
TLS_SCHEMES = frozenset({"https", "grpcs", "suwsgi"})
DEFAULT_PORTS = {"http": "80", "https": "443"}
# Path words of locations that carry WebSocket (upgraded) connections only.
WEBSOCKET_WORDS = frozenset(
    {"ws", "wss", "websocket", "websockets", "socket", "sockets", "socketio", "cable", "streaming"}
)
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_VARIABLE = re.compile(r"^\$(?:\{(\w+)\}|(\w+))$")
SINCE_DEFAULT = "1.29.7"


# --------------------------------------------------------------------------- structure


@per_config
def http_upstreams(config: NginxConfig) -> dict[str, Block]:
    """http ``upstream NAME {}`` blocks by lower-cased name (nginx compares names
    without case; the first one wins). Stream upstreams have no keep-alive."""
    found: dict[str, Block] = {}
    for block in context_blocks(config)["upstream"]:
        directive = block.directive
        if directive is not None and directive.args and not block.in_stream():
            found.setdefault(directive.args[0].lower(), block)
    return found


def nearest(block: Block, context: str) -> Block | None:
    current: Block | None = block
    while current is not None:
        if current.context == context:
            return current
        current = current.parent
    return None


def websocket_only(location: Block | None) -> bool:
    """A location that only carries upgraded (WebSocket) connections: its path
    says so (``/ws``, ``/socket.io``, ``/cable``, ``/api/v1/streaming``,
    ``@api_websocket``), or it refuses requests that do not ask to upgrade."""
    if location is None or location.directive is None:
        return False
    if not WEBSOCKET_WORDS.isdisjoint(_WORD_SPLIT.split(" ".join(location.directive.args).lower())):
        return True
    for sub in location.sub("if"):
        condition = " ".join(sub.directive.args) if sub.directive is not None else ""
        if "$http_upgrade" in condition and sub.all("return"):
            return True
    return False


def label(block: Block) -> str:
    """``location[/api]``, ``upstream[app]``, ``server[example.com]``, ``http``."""
    directive = block.directive
    if block.context == "server" and directive is not None:
        names = [a for d in block.all("server_name") for a in d.args if a not in ("_", "")]
        shown = names[0] if names else ",".join(d.args[0] for d in block.all("listen") if d.args)
        return f"server[{shown}]" if shown else "server"
    if directive is not None and directive.args:
        return f"{block.context}[{' '.join(directive.args)}]"
    return block.context


def anchor(block: Block, name: str) -> str:
    above = _labels(block.parent) if block.parent is not None else ()
    own = (label(block),) if block.context != "main" else ()
    return " > ".join((*above, *own, name))


@lru_cache(maxsize=256)  # the locations of a server share it: each finding built it again
def _labels(block: Block) -> tuple[str, ...]:
    """The labels of the blocks from the top down to ``block``, main's left out."""
    parent = _labels(block.parent) if block.parent is not None else ()
    return (*parent, label(block)) if block.context != "main" else parent


# --------------------------------------------------------------------------- targets


# Not frozen: a frozen class's __init__ sets each field through object.__setattr__, five
# times the cost, and pass_targets makes one for each *_pass of 10,000 hosts. Read only.
@dataclass(slots=True)
class PassTarget:
    """What one ``*_pass`` directive points at."""

    directive: Directive
    block: Block  # the block holding the directive (location, if, limit_except)
    location: Block | None
    module: str  # proxy, fastcgi, uwsgi, scgi, grpc, memcached
    scheme: str  # http, https, grpc, ... or "" (fastcgi_pass host:port)
    host: str  # as written; "unix:/path" for a unix socket
    port: str  # "" when not written
    rest: str  # the URI part after the address ("" when none)
    literal: bool  # no variables in the argument
    upstream: Block | None  # the upstream{} it names
    via: Directive | None = None  # the `set` that gave a variable its value

    @property
    def tls(self) -> bool:
        return self.scheme in TLS_SCHEMES

    @property
    def address(self) -> str:
        """The address as an upstream ``server`` line writes it."""
        if self.host.startswith("unix:"):
            return self.host
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = self.port or DEFAULT_PORTS.get(self.scheme, "80")
        return f"{host}:{port}"

    @property
    def proxy_host(self) -> str:
        """``$proxy_host``: the host, and the port when it is not the scheme's default."""
        if self.host.startswith("unix:"):
            return "localhost"
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port and self.port != DEFAULT_PORTS.get(self.scheme):
            return f"{host}:{self.port}"
        return host


@lru_cache(maxsize=4096)  # a server's locations pass to the same address
def split_address(value: str) -> tuple[str, str, str, str] | None:
    """(scheme, host, port, rest) of ``[scheme://]host[:port][/uri]``; None when unparsable."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "", value
    if rest.startswith("unix:"):
        path, _, uri = rest[5:].partition(":")
        return scheme.lower(), f"unix:{path}", "", uri
    authority, slash, uri = rest.partition("/")
    rest_part = slash + uri
    if authority.startswith("["):
        host, _, tail = authority[1:].partition("]")
        port = tail.removeprefix(":")
    else:
        host, _, port = authority.partition(":")
    if not host or (port and not port.isdigit()):
        return None
    return scheme.lower(), host, port, rest_part


def is_ip_address(host: str) -> bool:
    """An IPv4 or IPv6 address (as ``split_address`` gives hosts: no brackets)."""
    import ipaddress  # only for the hosts of proxy targets that a rule asks about

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _set_values(target_block: Block, location: Block | None, name: str) -> Iterator[Directive]:
    """``set $name VALUE`` directives that can reach a proxy_pass in ``location``."""
    scopes: list[Block] = []
    if location is not None:
        scopes.extend(location.walk())
    server = server_of(target_block)
    if server is not None:
        scopes.append(server)
    for scope in scopes:
        for directive in scope.all("set"):
            if len(directive.args) >= 2 and _VARIABLE.match(directive.args[0]):
                match = _VARIABLE.match(directive.args[0])
                assert match is not None
                if (match.group(1) or match.group(2)) == name:
                    yield directive


@per_config
def pass_targets(config: NginxConfig) -> list[PassTarget]:
    """Every ``*_pass`` on the http side, once each, with what it points at.

    ``proxy_pass $var`` is followed through ``set $var "http://..."`` in its
    location (and ifs) and server. A URL with variables after a host written out
    (``http://docservice$1``) points at that host when they start its URI; other
    variable targets are left out.
    """
    known = http_upstreams(config)
    outcomes = config_outcomes(config)
    found: list[PassTarget] = []
    seen: set[int] = set()
    for block, directive in pass_lines(config):
        if not directive.args or id(directive) in seen:
            continue
        if block.context in ("upstream", "map", "stream") or block.in_stream():
            continue
        seen.add(id(directive))
        module = PASS_MODULES[directive.name]
        location = nearest(block, "location")
        value = directive.args[0]
        match = _VARIABLE.match(value)
        if match is not None:
            for setter in _set_values(block, location, match.group(1) or match.group(2)):
                target = _target(directive, block, location, module, setter.args[1], known, setter)
                if target is not None:
                    found.append(target)
            continue
        outcome = outcomes.get(id(directive))
        if outcome is not None and outcome.refusal:
            continue  # nginx refuses to start (NGX012): no upstream rule speaks of it
        target = _target(directive, block, location, module, value, known, None, outcome)
        if target is not None:
            found.append(target)
    return found


def _target(
    directive: Directive,
    block: Block,
    location: Block | None,
    module: str,
    value: str,
    known: dict[str, Block],
    via: Directive | None,
    outcome: Outcome | None = None,
) -> PassTarget | None:
    """``outcome``: what nginx made of a literal pass whose host names an upstream{}
    (tlslint.nginx_upstream_names: the order of the passes and the upstream{} decides)."""
    parts = split_address(value)
    if parts is not None and ("$" in parts[1] or "$" in parts[2]):
        parts = _host_before_variables(value, location if via is None else None)
    if parts is None:
        return None
    scheme, host, port, rest = parts
    if module == "proxy" and scheme not in ("http", "https"):
        return None
    literal = "$" not in value and via is None
    if literal:
        upstream = known.get(outcome.upstream) if outcome is not None and outcome.upstream else None
    else:
        # Matched per request: an upstream{} takes only an address without a port (else DNS).
        upstream = None if host.startswith("unix:") or port else known.get(host.lower())
    return PassTarget(directive, block, location, module, scheme, host, port, rest, literal, upstream, via)


# Variables whose value starts the URI ("/..."): written right after a host, they leave
# the host as written. $is_args is "?" or empty.
_URI_VARIABLES = frozenset({"request_uri", "uri", "document_uri"})
_EMPTY_OR_ARGS = frozenset({"is_args"})
_REFERENCE = re.compile(r"\$(?:([1-9])|\{(\w+)\}|(\w+))")


def _host_before_variables(value: str, location: Block | None) -> tuple[str, str, str, str] | None:
    """(scheme, host, port, rest) of a URL whose variables follow the host with no ``/``
    between (``http://docservice$1``), when they are sure to start the URI or be empty:
    nginx evaluates the URL per request and takes the host from the result
    (ngx_http_proxy_eval), so the host is the one written. None when a variable may
    continue the host or port (``http://app$suffix``), or the host is a variable.
    ``location``: the location whose regex captures ``$1``..``$9`` hold (None: not known)."""
    start = value.find("$")
    head, tail = value[:start], value[start:]
    if head.endswith((":", "[")) or "unix:" in head.lower():
        # A variable port, half an IPv6 address, or a socket path the variables continue
        # (its URI starts after a second colon).
        return None
    starts: frozenset[int] | None = None
    position = 0
    while position < len(tail):
        if tail[position] != "$":
            if tail[position] not in "/?":
                return None
            break
        match = _REFERENCE.match(tail, position)
        if match is None:
            return None
        capture, name = match.group(1), match.group(2) or match.group(3)
        if name in _URI_VARIABLES:
            break
        if capture is not None and starts is None:
            starts = _capture_starts(location)
        # A capture may be empty (an optional group, another branch): what follows decides.
        if not (name in _EMPTY_OR_ARGS or (starts is not None and int(capture or 0) in starts)):
            return None
        position = match.end()
    parts = split_address(head)
    if parts is None:
        return None
    scheme, host, port, _ = parts
    return scheme, host, port, tail


def _capture_starts(location: Block | None) -> frozenset[int]:
    """The groups of ``location``'s regex whose every non-empty match starts with ``/``,
    when its captures are the ones a ``*_pass`` sees: no ``rewrite``, nor an ``if`` with a
    regex, sets them again in the location (a server-level rewrite runs before the
    location is chosen, whose match sets them)."""
    directive = location.directive if location is not None else None
    if directive is None or len(directive.args) != 2 or directive.args[0] not in ("~", "~*"):
        return frozenset()
    assert location is not None
    pending = [location]
    while pending:
        block = pending.pop()
        if block.all("rewrite"):
            return frozenset()
        for sub in block.blocks:
            if sub.context == "if":
                condition = sub.directive.args if sub.directive is not None else ()
                if any(arg in ("~", "~*", "!~", "!~*") for arg in condition):
                    return frozenset()
                pending.append(sub)
            elif sub.context == "limit_except":
                pending.append(sub)
    if "(?|" in directive.args[1]:
        return frozenset()  # a branch reset numbers its groups per branch: not read here
    return frozenset(_slash_groups(directive.args[1]))


def _slash_groups(pattern: str) -> Iterator[int]:
    """The numbers of the capturing groups of ``pattern`` each of whose alternatives starts
    with a literal ``/`` (``(/fonts/.*)``, ``(\\/doc\\/.*)``, ``(/a|/b)``), not one that may be left
    out (``(/?x)``). A PCRE reading of what the groups start with, nothing more."""
    number = 0
    opened: list[tuple[int, int]] = []  # (group number or 0, where its content starts)
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            position += 2
            continue
        if char == "[":
            position = _class_end(pattern, position)
            continue
        if char == "(":
            if pattern.startswith("(?", position):
                named = re.match(r"\(\?(?:P?<(?![=!])\w+>|'\w+')", pattern[position:])
                if named is None:
                    opened.append((0, position))
                    position += 1
                    continue
                number += 1
                opened.append((number, position + named.end()))
                position += named.end()
                continue
            number += 1
            opened.append((number, position + 1))
        elif char == ")" and opened:
            group, begin = opened.pop()
            if group and all(_starts_with_slash(branch) for branch in _branches(pattern[begin:position])):
                yield group
        position += 1


def _class_end(pattern: str, start: int) -> int:
    """The position after the character class that starts at ``start``."""
    position = start + 1
    if pattern.startswith("^", position):
        position += 1
    if pattern.startswith("]", position):
        position += 1
    while position < len(pattern) and pattern[position] != "]":
        position += 2 if pattern[position] == "\\" else 1
    return position + 1


def _branches(content: str) -> list[str]:
    """The top-level alternatives of a group's content."""
    branches, depth, begin, position = [], 0, 0, 0
    while position < len(content):
        char = content[position]
        if char == "\\":
            position += 2
            continue
        if char == "[":
            position = _class_end(content, position)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(content[begin:position])
            begin = position + 1
        position += 1
    branches.append(content[begin:])
    return branches


def _starts_with_slash(branch: str) -> bool:
    slash = 2 if branch.startswith("\\/") else 1 if branch.startswith("/") else 0
    return bool(slash) and branch[slash : slash + 1] not in ("?", "*", "{")


@per_config
def upstream_users(config: NginxConfig) -> list[tuple[Block, list[PassTarget]]]:
    """Each http upstream{} (in text order) with the *_pass targets that name it."""
    by_upstream: dict[int, list[PassTarget]] = {}
    for target in pass_targets(config):
        if target.upstream is not None:
            by_upstream.setdefault(id(target.upstream), []).append(target)
    return [
        (block, by_upstream.get(id(block), [])) for block in unique_blocks(http_upstreams(config).values())
    ]


def pass_notes(
    targets: Iterable[PassTarget], message: Callable[[PassTarget], str], limit: int = 3
) -> list[Related]:
    """Related places for the ``*_pass`` lines of ``targets``: each line once (a
    ``proxy_pass $var`` has a target per ``set`` that can reach it) and, after a line
    reached through a variable, the ``set`` lines that give it this target; up to
    ``limit`` pass lines."""
    setters: dict[int, list[Directive]] = {}
    shown: list[PassTarget] = []
    for target in targets:
        key = id(target.directive)
        if key not in setters:
            if len(shown) == limit:
                continue
            setters[key] = []
            shown.append(target)
        if target.via is not None and all(via is not target.via for via in setters[key]):
            setters[key].append(target.via)
    notes: list[Related] = []
    for target in shown:
        vias = setters[id(target.directive)]
        if not vias:
            notes.append(related(target.directive, message(target)))
            continue
        variable = target.directive.args[0]
        notes.append(related(target.directive, f"{message(target)} through {variable}"))
        notes.extend(related(via, f"sets {variable} to {via.args[1]}") for via in vias)
    return notes


def unique_blocks(blocks: Iterable[Block]) -> list[Block]:
    """Each block once, though a file included twice shows it twice."""
    ordered: list[Block] = []
    seen: set[int] = set()
    for block in blocks:
        key = id(block.directive) if block.directive is not None else id(block)
        if key not in seen:
            seen.add(key)
            ordered.append(block)
    return ordered


# --------------------------------------------------------------------------- keep-alive state


def keepalive_line(upstream: Block) -> Directive | None:
    return upstream.last("keepalive")


# Balancing methods. Before 1.29.7 ``keepalive`` wraps the method set above it, and one set
# below it replaces the wrapper ("load balancing method redefined"): no connection is kept
# (measured on 1.22.1: 8 requests, 8 connections, with each of these). Since 1.29.7 keep-alive
# is the upstream module's own and the order does not matter. least_time: NGINX Plus.
BALANCERS = frozenset({"hash", "ip_hash", "least_conn", "random", "least_time"})


def balancers_after_keepalive(upstream: Block) -> list[Directive]:
    """The balancing lines below the upstream's first ``keepalive`` line."""
    found: list[Directive] = []
    keepalive = False
    for child in upstream.children:
        if child.name == "keepalive":
            keepalive = True
        elif keepalive and child.name in BALANCERS:
            found.append(child)
    return found


def keepalive_on(upstream: Block, versions: VersionRange) -> bool | None:
    """Whether the upstream keeps connections: an explicit ``keepalive N`` (N > 0),
    or no line at all on nginx >= 1.29.7 (``32 local``); None when that depends on
    the (unknown) version."""
    line = keepalive_line(upstream)
    if line is not None:
        return line.args[:1] != ("0",)
    return versions.at_least(UPSTREAM_KEEPALIVE_DEFAULT)


def has_idle_timeout(versions: VersionRange) -> bool | None:
    """Whether upstream{} has ``keepalive_timeout`` (1.15.3) on every version of the
    range (True), on none (False: an idle pooled connection has no timeout of nginx's
    own), or on some (None). A range with no lower bound (nothing configured, or only an
    upper bound) is of the releases the rules describe, 1.18.0 and later, as bounds at or
    below that decide nothing (docs/version-inference.md): True."""
    answer = versions.at_least(UPSTREAM_KEEPALIVE_TIMEOUT)
    if answer is None and versions.low is None:
        return True
    return answer


def no_idle_timeout(versions: VersionRange) -> str:
    """``before nginx 1.15.3 (nginx.version 1.14.2)``, for the messages of a range
    that ``has_idle_timeout`` answers False for."""
    return f"before nginx 1.15.3 ({versions.settled(UPSTREAM_KEEPALIVE_TIMEOUT)})"


def backend_race(workspace: Workspace, upstream: Block, timed: bool | None) -> tuple[float, str] | None:
    """The lowest idle timeout of the app servers behind ``upstream`` that close idle
    connections before nginx would (BKD101's race once its connections are reused), and
    whose it is: what a fix that starts the reuse (NGX210's keepalive, NGX211's location
    lines) must set keepalive_timeout below. Where the range holds releases before 1.15.3
    (``timed`` not True), nginx may keep an idle connection with no timeout: every app
    server that keeps one races it."""
    if workspace.backends is None:
        return None  # no app server in the run: its modules stay unimported
    from tlslint.checks._backends import racing, upstream_links, upstream_timeout

    linked = upstream_links(workspace, upstream)
    if not linked:
        return None  # most upstreams: their keepalive_timeout is not read
    nginx = upstream_timeout(upstream)
    if nginx is None:
        return None
    held = nginx.seconds if timed else math.inf
    return racing((link.backend for link in linked), held)


def timeout_below(race: tuple[float, str]) -> str:
    """The upstream keepalive_timeout for ``race`` (``backend_race``): one second below the
    app server's idle timeout, as nginx writes it."""
    from tlslint.checks._backends import nginx_target, nginx_value

    return nginx_value(nginx_target(race[0]))


def untimed_note(
    versions: VersionRange, timed: bool | None, race: tuple[float, str], starts: str, then: str
) -> str:
    """Why a fix that would start upstream keep-alive reuse (``starts``: "keep-alive here")
    is withheld where upstream{} may lack keepalive_timeout (before 1.15.3): the reuse would
    start BKD101's race, and the line that ends it is refused. ``then``: what to do on
    1.15.3 or later."""
    when = no_idle_timeout(versions) if timed is False else f"before nginx 1.15.3 ({versions.unsettled()})"
    return (
        f"no automatic fix: {starts} would race {race[1]} (BKD101), and {when} upstream{{}} has no "
        "keepalive_timeout to close idle connections first (nginx refuses the line). On nginx 1.15.3 "
        f"or later, {then}"
    )


def links_a_backend(workspace: Workspace, upstream: Block) -> bool:
    """Whether the run links an app server to ``upstream`` (docs/backends.md)."""
    if workspace.backends is None:
        return False  # no app server in the run: its modules stay unimported
    from tlslint.checks._backends import upstream_links

    return bool(upstream_links(workspace, upstream))


def unknown_backend_note(
    workspace: Workspace, versions: VersionRange, timed: bool | None, where: str, written: Directive | None
) -> str:
    """The note of a fix that starts upstream keep-alive in front of a backend the run links
    no app server to: its idle keep-alive timeout is unknown, and nginx must close an idle
    connection before the backend does (facts/nginx.md §3: gunicorn's default is 2s, far
    below nginx's 60s), or BKD101's race starts. Adding keep-alive stays safe (it adds what
    is missing); the note names the line that ends the race. ``where``: "upstream app" or
    "the new upstream{}"; ``written``: the keepalive_timeout the block has."""
    servers = workspace.backends.backends if workspace.backends is not None else []
    why = "no app server in the run is linked to it" if servers else "no app server's config is in the run"
    head = f"the backend's idle keep-alive timeout is unknown ({why})"
    race = "a request sent on an idle connection as the backend closes it meets a 502 (a POST is not retried)"
    if timed is False:
        return (
            f"{head}: {no_idle_timeout(versions)} upstream{{}} has no keepalive_timeout (nginx refuses the "
            f"line), so an idle pooled connection has no timeout of nginx's own, and with any backend that "
            f"closes idle connections (gunicorn after 2s by default) {race}; nginx 1.15.3 or later can set "
            f"one below the backend's"
        )
    since = "on nginx 1.15.3 or later, " if timed is None else ""
    if written is None:
        text = (
            f"{head}: {since}nginx's upstream keepalive_timeout ({UPSTREAM_KEEPALIVE_TIMEOUT_DEFAULT} by "
            f"default) must stay below it (gunicorn's default is 2s, uvicorn's 5s), or {race}: add "
            f"`keepalive_timeout` below the backend's to {where}"
        )
    else:
        text = (
            f"{head}: {since}the keepalive_timeout of {where} ({' '.join(written.args)}) must stay below "
            f"it (gunicorn's default is 2s, uvicorn's 5s), or {race}"
        )
    if timed is None:
        text += (
            f"; before nginx 1.15.3 ({versions.unsettled()}) upstream{{}} has no keepalive_timeout (nginx "
            "refuses the line), and an idle pooled connection has no timeout of nginx's own"
        )
    return text


@dataclass(frozen=True)
class UpgradeMap:
    """``map $http_upgrade $NAME {...}``: the Connection value for a plain request."""

    variable: str
    directive: Directive
    block: Block
    plain: str | None  # the value when $http_upgrade is empty; None: not decidable
    entry: Directive | None  # the entry that gives it (None: the implicit empty default)


@per_config  # NGX211, NGX213 and NGX214 ask
def upgrade_maps(config: NginxConfig) -> dict[str, UpgradeMap]:
    found: dict[str, UpgradeMap] = {}
    for block in context_blocks(config)["map"]:
        directive = block.directive
        if directive is None or len(directive.args) != 2 or block.in_stream():
            continue
        source, target = directive.args
        match = _VARIABLE.match(target)
        if source != "$http_upgrade" or match is None:
            continue
        name = match.group(1) or match.group(2)
        if name not in found:
            plain, entry = _value_for_empty(block)
            found[name] = UpgradeMap(name, directive, block, plain, entry)
    return found


def _value_for_empty(block: Block) -> tuple[str | None, Directive | None]:
    """What the map yields for an empty source: exact '' first, then regexes in order, then default."""
    entries = [d for d in block.children if d.name not in ("hostnames", "volatile", "include")]
    for entry in entries:
        if entry.name == "":
            return _constant(entry), entry
    for entry in entries:
        if entry.name.startswith("~"):
            pattern = entry.name[2:] if entry.name.startswith("~*") else entry.name[1:]
            try:
                matched = re.search(pattern, "") is not None
            except re.error:
                return None, entry
            if matched:
                return _constant(entry), entry
    for entry in entries:
        if entry.name == "default":
            return _constant(entry), entry
    return "", None


def _constant(entry: Directive) -> str | None:
    value = entry.args[0] if entry.args else ""
    return None if "$" in value else value


def plain_connection_ok(value: str) -> bool:
    """A Connection value that lets the connection be kept: empty (no header),
    keep-alive, or upgrade (no Upgrade header is sent with it for a plain request;
    measured on 1.22.1 with Python and Node 20 backends: the connection is kept)."""
    return value.strip().lower() in ("", "keep-alive", "upgrade")


@dataclass(frozen=True)
class ConnectionIssue:
    """Why a location's Connection header defeats upstream keep-alive."""

    reason: str
    header: Directive | None = None  # the proxy_set_header Connection that decides
    level: Block | None = None  # the block that holds it
    upgrade_map: UpgradeMap | None = None  # when a map gives the value


# The issue of most locations, made once (immutable): a frozen dataclass's __init__ for
# each location that proxies was a tenth of connection_issue at 10,000 hosts.
_NO_HEADER_UNTIL_DEFAULT = ConnectionIssue(
    'no proxy_set_header Connection: nginx sends "Connection: close" before 1.29.7 (none since)'
)
_NO_HEADER = ConnectionIssue('no proxy_set_header Connection, so nginx sends "Connection: close"')


def http_version_issue(block: Block, versions: VersionRange) -> tuple[str, Directive | None] | None:
    """Why ``block`` does not speak HTTP/1.1 upstream (and the line that decides), or None."""
    line = effective(block, "proxy_http_version")
    if line is None:
        new = versions.at_least(UPSTREAM_KEEPALIVE_DEFAULT)
        if new:
            return None
        if new is None:
            return "proxy_http_version is not set (HTTP/1.0 before nginx 1.29.7, 1.1 since)", None
        return "proxy_http_version is not set, so nginx speaks HTTP/1.0 to the backend", None
    if line.args[:1] in (("1.1",), ("2",)) or templated(line):
        return None  # reused; or a template's value, which no rule judges
    shown = " ".join(line.args)
    return f"proxy_http_version {shown} cannot keep a connection", line


def connection_issue(
    block: Block, versions: VersionRange, maps: dict[str, UpgradeMap]
) -> ConnectionIssue | None:
    """Why the Connection header ``block`` sends upstream stops reuse, or None."""
    # The directives, not proxy_headers' Header objects: asked for every location that
    # proxies, by several rules, and most of them need no header but Connection's.
    level, directives = effective_all(block, "proxy_set_header")
    lines = [d for d in directives if d.args and d.args[0].lower() == "connection"]
    # A header's name is looked at only where it may hold a placeholder: the inherited
    # lines of each location were asked again, a call each.
    if any(templated(d) for d in lines) or (
        not lines
        and any(templated(d, at=0) for d in directives if d.args and ("$" in d.args[0] or "{{" in d.args[0]))
    ):
        return None  # the value (or, with none named Connection, a header's name) is a template's
    if not lines:
        new = versions.at_least(UPSTREAM_KEEPALIVE_DEFAULT)
        if new:
            return None
        return _NO_HEADER_UNTIL_DEFAULT if new is None else _NO_HEADER
    for line in lines:
        value = line.args[1] if len(line.args) > 1 else ""
        match = _VARIABLE.match(value.strip())
        if "$" not in value:
            if not plain_connection_ok(value):
                return ConnectionIssue(f'proxy_set_header Connection "{value}"', line, level)
            continue
        if match is None:
            continue  # a value built from variables: not decidable
        upgrade = maps.get(match.group(1) or match.group(2))
        if upgrade is None or upgrade.plain is None or plain_connection_ok(upgrade.plain):
            continue
        return ConnectionIssue(
            f'proxy_set_header Connection {value} is "{upgrade.plain}" for every request that does '
            f"not upgrade (map $http_upgrade ${upgrade.variable})",
            line,
            level,
            upgrade,
        )
    return None


def never_reuses(target: PassTarget, versions: VersionRange, maps: dict[str, UpgradeMap]) -> bool:
    """Whether the location of ``target`` never reuses an upstream connection, for every
    version ``versions`` allows: NGX211's reasons (HTTP/1.0, a closing Connection header)
    written in the configuration, or nginx's defaults before 1.29.7 once the version
    settles that side. A default that 1.29.7 changed, with the version unknown, may reuse."""
    if target.module != "proxy" or target.location is None:
        return False
    settled = versions.at_least(UPSTREAM_KEEPALIVE_DEFAULT) is not None
    protocol = http_version_issue(target.block, versions)
    if protocol is not None and (protocol[1] is not None or settled):
        return True
    connection = connection_issue(target.block, versions, maps)
    return connection is not None and (
        connection.header is not None or connection.upgrade_map is not None or settled
    )


# --------------------------------------------------------------------------- edits


@lru_cache(maxsize=64)  # asked for each location that proxies with the map's value
def plain_request_empty(upgrade: UpgradeMap) -> Edit | None:
    """Make the map yield an empty Connection value (so no header) for plain requests."""
    entry = upgrade.entry
    block = upgrade.directive
    if entry is not None and entry.name == "":
        if entry.parent is not block or not entry.args:
            return None  # the entry comes from an include
        return replace_argument_text(entry, 0, "''")
    # From `default` or a regex: an exact '' entry takes precedence over both.
    if not block.block:
        return None
    return insert_directive(block.source, block, block.block, "'' '';", block.block[-1])


@dataclass
class LocationChange:
    """Directives a fix sets in one location, keeping every header it sent before."""

    location: Block
    http11: bool = False
    headers: list[tuple[str, str]] = field(default_factory=list)  # (Name, value as written)
    statements: list[str] = field(default_factory=list)  # further new lines
    # Set by edits(): a line the operator wrote gets another value (an unsafe fix).
    replaces: bool = False

    def edits(self) -> list[Edit] | None:
        """The edits, or None where a line that must change is not the location's own."""
        directive = self.location.directive
        if directive is None or directive.block is None:
            return None
        own = directive.block
        edits: list[Edit] = []
        lines: list[str] = []
        if self.http11:
            mine = self.location.last("proxy_http_version")
            if mine is None:
                lines.append("proxy_http_version 1.1;")
            elif mine.args != ("1.1",):
                if mine.parent is not directive or templated(mine):
                    return None  # set by an include (a second line would be a duplicate), or a template's
                edits.append(replace_argument(mine, 0, "1.1"))
                self.replaces = True
        if self.headers:
            level, current = proxy_headers(self.location)
            wanted = {name.lower() for name, _ in self.headers}
            if level is self.location:
                for name, value in self.headers:
                    existing = [h for h in current if h.name == name.lower()]
                    if not existing:
                        lines.append(f"proxy_set_header {name} {value};")
                    for header in existing:
                        if (
                            header.directive.parent is not directive
                            or len(header.directive.args) < 2
                            or templated(header.directive)
                        ):
                            return None
                        edits.append(replace_argument_text(header.directive, 1, value))
                        self.replaces = True
            else:
                for header in current:
                    if header.name not in wanted:
                        text = header.directive.source.text
                        lines.append(text[header.directive.start : header.directive.end])
                lines.extend(f"proxy_set_header {name} {value};" for name, value in self.headers)
        lines.extend(self.statements)
        if lines:
            after = _insertion_point(own)
            edits.append(insert_directives(directive.source, directive, own, lines, after))
        return edits


def _insertion_point(own: Sequence[Directive]) -> Directive | None:
    """After the location's last header line, else its last proxy_* (or grpc_*) line, else first."""
    simple = [d for d in own if d.block is None]
    headers = [d for d in simple if d.name in ("proxy_set_header", "proxy_http_version")]
    if headers:
        return headers[-1]
    proxy = [d for d in simple if d.name.startswith(("proxy_", "grpc_"))]
    return proxy[-1] if proxy else None


def http_context_anchor(block: Block) -> Directive | None:
    """The first ``server`` directive of the file level that holds ``block``'s
    server, when that level is http context: new ``upstream``/``map`` blocks go
    just above it. None when the file has no http context (a server snippet)."""
    server = server_of(block)
    if server is None or server.directive is None:
        return None
    parent = server.parent
    if parent is None or parent.context != "http":
        return None
    directive = server.directive
    return _first_servers(parent).get((id(directive.source), id(directive.parent)), directive)


@lru_cache(maxsize=64)
def _first_servers(http: Block) -> dict[tuple[int, int], Directive]:
    """The first ``server`` of each file level of an http{} (by the ids of its source and
    enclosing directive): asked by each finding of a configuration of 10,000 servers."""
    found: dict[tuple[int, int], Directive] = {}
    for sibling in http.children:
        if sibling.name == "server":
            found.setdefault((id(sibling.source), id(sibling.parent)), sibling)
    return found


def new_block(anchor_directive: Directive, payload: Statement | Sequence[Statement]) -> Edit:
    """The block ``payload`` (a crossplane statement), or several a blank line apart,
    built by crossplane, as new lines above ``anchor_directive``, indented as that part
    of the file is."""
    payloads = [payload] if isinstance(payload, dict) else list(payload)
    source = anchor_directive.source
    children = anchor_directive.block or []
    unit = ""
    if children:
        # The step the anchor's own block uses (files mixing tabs and spaces); the file's,
        # which reads the whole file, only where that block shows none (asked first, it was
        # three quarters of NGX212's upstream{} blocks at 10,000 hosts: a site file each).
        outer = indentation(source, anchor_directive.start)
        inner = child_indentation(source, anchor_directive, children)
        if inner.startswith(outer) and len(inner) > len(outer):
            unit = inner[len(outer) :]
    unit = unit or indent_unit(source)
    lines: list[str] = []
    for each in payloads:
        lines += [""] if lines else []
        lines += built_lines(each, unit)
    return insert_lines_before(anchor_directive, lines)


def free_name(taken: AbstractSet[str], preferred: str) -> str:
    if preferred.lower() not in taken:
        return preferred
    number = 2
    while f"{preferred}_{number}".lower() in taken:
        number += 1
    return f"{preferred}_{number}"


def complete(config: NginxConfig) -> bool:
    """A whole nginx.conf with every include followed: a name no upstream{} declares
    is then certainly a host name."""
    return config.context == MAIN and not config.incomplete


def every_pass(config: NginxConfig) -> Iterator[Directive]:
    """Every ``*_pass`` directive of the configuration, once each."""
    return unique(directive for _, directive in pass_lines(config))
