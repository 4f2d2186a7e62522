"""Effective values below the server level: location → server → http.

nginx merges most directives from the enclosing level when a level does not
set them. Array directives such as ``proxy_set_header`` and ``add_header``
inherit *all or nothing*: a level with one ``proxy_set_header`` of its own
drops every inherited one (ngx_http_proxy_merge_loc_conf).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from tlslint.sources.nginx.model import Directive
from tlslint.workspace.nginx import Block, NginxConfig

LEVELS = frozenset({"http", "server", "location", "if", "limit_except"})


def chain(block: Block) -> list[Block]:
    """``block`` and its enclosing http-side blocks, innermost first."""
    found = []
    current: Block | None = block
    while current is not None and current.context in LEVELS:
        found.append(current)
        current = current.parent
    return found


def effective(block: Block, name: str) -> Directive | None:
    """The directive that decides ``name`` at ``block``, inherited if need be."""
    for level in chain(block):
        found = level.last(name)
        if found is not None:
            return found
    return None


def effective_all(block: Block, name: str) -> tuple[Block | None, list[Directive]]:
    """All-or-nothing inheritance: the nearest level that sets ``name`` at all."""
    for level in chain(block):
        found = level.all(name)
        if found:
            return level, found
    return None, []


@dataclass(frozen=True)
class Header:
    """One ``proxy_set_header`` in force: header name, value and directive."""

    name: str  # lower-cased
    value: str
    directive: Directive


@lru_cache(maxsize=64)  # a fix of a location asks for its headers three or four times
def proxy_headers(block: Block) -> tuple[Block | None, tuple[Header, ...]]:
    level, directives = effective_all(block, "proxy_set_header")
    headers = tuple(
        Header(d.args[0].lower(), d.args[1] if len(d.args) > 1 else "", d) for d in directives if d.args
    )
    return level, headers


def server_of(block: Block) -> Block | None:
    current: Block | None = block
    while current is not None:
        if current.context == "server":
            return current
        current = current.parent
    return None


def locations(block: Block) -> Iterator[Block]:
    """Every location (nested ones too) under ``block``."""
    for sub in block.walk():
        if sub.context == "location":
            yield sub


def upstreams(config: NginxConfig) -> dict[str, Block]:
    """``upstream NAME {}`` blocks by name (the first one wins, as in nginx)."""
    found: dict[str, Block] = {}
    for block in config.top.walk():
        if block.context == "upstream" and block.directive is not None and block.directive.args:
            found.setdefault(block.directive.args[0], block)
    return found


@dataclass(frozen=True)
class ProxyTarget:
    """Where a ``proxy_pass`` sends requests: scheme, host, port and upstream."""

    directive: Directive  # the proxy_pass
    scheme: str  # "http" | "https" | ""
    host: str  # upstream name or literal host (may hold variables)
    port: str
    upstream: Block | None  # the upstream{} it names, if any


def proxy_target(directive: Directive, known: dict[str, Block]) -> ProxyTarget | None:
    """What a ``proxy_pass`` points at; None for variables-only targets."""
    if not directive.args:
        return None
    url = directive.args[0]
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    authority = rest.split("/", 1)[0]
    if authority.startswith("unix:"):
        return ProxyTarget(directive, scheme, authority, "", None)
    if authority.startswith("["):
        host, _, port = authority[1:].partition("]")
        port = port.lstrip(":")
    else:
        host, _, port = authority.partition(":")
    return ProxyTarget(directive, scheme.lower(), host, port, known.get(host))
