"""Which client connections a keep-alive line governs, by protocol and nginx version
(NGX201-203).

Facts §1 (keepalive_timeout, keepalive_requests), nginx's CHANGES for 1.19.7 and
1.19.8, and measurements on 1.22.1 (tests/test_live_keepalive.py):

- HTTP/1.x: the request's location decides (location, else server, else http). Where
  keepalive_timeout is 0 the connection closes after every request, so
  keepalive_requests has no effect there.
- HTTP/2 since 1.19.7: the server level decides for the whole connection; location
  lines do not apply. With keepalive_timeout 0 a connection serves one request (nginx
  sends GOAWAY with it; 1.19.7 closed it at once, a bug fixed in 1.19.8), so
  keepalive_requests has no effect there either.
- HTTP/2 before 1.19.7: neither line applies; http2_idle_timeout (3m by default) and
  http2_max_requests (1000) do, from the server level too (http and server contexts
  only; nginx's source reads them from the virtual server's configuration). Since 1.19.7
  nginx ignores those two lines (1.22.1 warns: obsolete, use keepalive_timeout /
  keepalive_requests), so they never change what the keep-alive lines do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tlslint.checks._protocols import (
    KeepaliveSite,
    effective_at,
    hidden_by_include,
    keepalive_sites,
    labels,
    speaks_http2,
)
from tlslint.checks._session import rejects_handshakes
from tlslint.nginx_values import seconds, templated
from tlslint.nginx_versions import HTTP2_KEEPALIVE
from tlslint.version_range import VersionRange
from tlslint.workspace.nginx import Block, NginxConfig, Server, per_config

SINCE = "since nginx 1.19.7"


@dataclass(slots=True)
class Reach:
    """Where a keep-alive line takes effect."""

    scopes: list[tuple[Server, Block]]  # the server blocks and locations it governs
    servers: list[Server]  # theirs, each once, in order
    http2: list[Server]  # whose HTTP/2 connections it governs (since 1.19.7)
    http1_only: list[Server]  # that speak HTTP/2 but whose HTTP/2 connections it never governs

    def everyone(self, governed: bool | None) -> bool:
        """Whether it governs every client of every server named: none speaks HTTP/2,
        or it governs the HTTP/2 connections of each one that does (``governed``: the
        version range is 1.19.7 or later)."""
        return not self.http1_only and (not self.http2 or governed is True)

    @classmethod
    def joined(cls, parts: list[Reach]) -> Reach:
        """The reach of several servers' own sites (nginx's default for each), as one."""
        return cls(
            [scope for part in parts for scope in part.scopes],
            [server for part in parts for server in part.servers],
            [server for part in parts for server in part.http2],
            [server for part in parts for server in part.http1_only],
        )

    def whose(self, noun: str) -> str:
        """``HTTP/2 clients``, or ``the HTTP/2 clients of server[a]`` when others are named."""
        if len(self.http2) == len(self.servers):
            return f"HTTP/2 {noun}"
        return f"the HTTP/2 {noun} of {labels(self.http2)}"


def reach(config: NginxConfig, scopes: Iterable[tuple[Server, Block]], *, with_keepalive: bool) -> Reach:
    """The part of ``scopes`` a line governs. ``with_keepalive``: a limit that counts
    only on connections kept alive (keepalive_requests), so not where the effective
    keepalive_timeout is 0."""
    zero = _zero_timeout(config) if with_keepalive else frozenset()
    kept = [(server, block) for server, block in scopes if id(block) not in zero] if zero else list(scopes)
    servers: dict[int, Server] = {}
    speaking: dict[int, bool] = {}  # asked once a server: a site may hold its 30 locations
    http2: dict[int, Server] = {}
    for server, block in kept:
        key = id(server)
        if key not in servers:
            servers[key] = server
            speaking[key] = speaks_http2(config, server)
        if block is server.block and speaking[key]:
            http2[key] = server
    http1_only = [s for key, s in servers.items() if speaking[key] and key not in http2]
    return Reach(kept, list(servers.values()), list(http2.values()), http1_only)


def governed(versions: VersionRange) -> bool | None:
    """Whether the keep-alive lines govern HTTP/2 connections on every version of the
    range (True), on none (False), or on some (None)."""
    return versions.at_least(HTTP2_KEEPALIVE)


def before(versions: VersionRange) -> str:
    """``before nginx 1.19.7 (nginx.version 1.18.0)``: where the range is all older."""
    return f"before nginx 1.19.7 ({versions.settled(HTTP2_KEEPALIVE)})"


def http2_lines(config: NginxConfig, name: str) -> list[KeepaliveSite]:
    """Each ``name`` line (http2_idle_timeout, http2_max_requests: http or server level)
    with the server blocks of the TLS servers that speak HTTP/2 and take it: the
    connections it governs before 1.19.7. A line no such server takes is left out."""
    # At the server level only (nginx takes the lines in http{} and server{}): walking
    # every location, as keepalive_sites does, cost 2 % of a cold check of 1,000 hosts.
    sites: dict[int, KeepaliveSite] = {}
    for server in config.servers:
        if not server.tls or server.effective(name) is None:
            continue  # most trees have no such line: two look-ups, not the chain's walk
        level, directive = effective_at(server.block, name)
        if directive is None or level is None or hidden_by_include(server.block, level):
            continue
        if rejects_handshakes(server) or not speaks_http2(config, server):
            continue
        site = sites.get(id(directive))
        if site is None:
            site = sites[id(directive)] = KeepaliveSite(directive, level)
        site.scopes.append((server, server.block))
    return list(sites.values())


@per_config  # one index for all the keepalive_requests sites of a configuration
def _zero_timeout(config: NginxConfig) -> frozenset[int]:
    """The ids of the TLS server blocks and locations whose effective keepalive_timeout
    is 0, or a template's placeholder that may be 0 (one left out because an include not
    followed may set it is not known to be)."""
    found: set[int] = set()
    for site in keepalive_sites(config, "keepalive_timeout"):
        line = site.directive
        if (
            line is not None
            and line.args
            and (seconds(line.args[0], in_seconds=False) == 0 or templated(line))
        ):
            found.update(id(block) for _, block in site.scopes)
    return frozenset(found)
