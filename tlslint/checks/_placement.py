"""Where session settings belong when a fix adds them (facts/nginx.md §1).

Resumption happens in the default server's context, so settings go to
``http{}`` when the file has one (every server, each default server
included, inherits them); in a file of server blocks only, into the default
servers; never into ``location``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import attrgetter

from tlslint.checks._session import parse_cache
from tlslint.findings import Edit
from tlslint.nginx_edits import insert_directive, insert_directives
from tlslint.sources.nginx.model import Directive, SourceText
from tlslint.units import parse_size
from tlslint.workspace.nginx import Block, NginxConfig, Server, is_default, per_config

# Directives that declare shared-memory zones with `zone=NAME:SIZE` or `keys_zone=`.
ZONE_PARAMETERS = {
    "limit_req_zone": "zone=",
    "limit_conn_zone": "zone=",
    "proxy_cache_path": "keys_zone=",
    "fastcgi_cache_path": "keys_zone=",
    "uwsgi_cache_path": "keys_zone=",
    "scgi_cache_path": "keys_zone=",
    "dav_ext_lock_zone": "zone=",  # dav-ext's lock zone (third-party, see NAMED_ZONES)
}


@dataclass(frozen=True)
class Zone:
    """A session cache zone: its name, how it is used, its size and directive."""

    name: str
    use: str
    size: int | None
    directive: Directive


@dataclass(frozen=True)
class Target:
    """A block of one file that a new directive can be written into."""

    source: SourceText
    block: Directive | None  # None: the file's top level
    children: Sequence[Directive]  # the block's directives in that file
    label: str
    server: Server | None = field(default=None, compare=False)  # the server whose block it is

    def insert(self, statement: str, group: str = "ssl_") -> Edit:
        return insert_directive(self.source, self.block, self.children, statement, self._after(group))

    def insert_all(self, statements: Sequence[str], group: str = "ssl_") -> Edit:
        """Several statements, in order, as one insertion."""
        return insert_directives(self.source, self.block, self.children, statements, self._after(group))

    def has(self, name: str) -> bool:
        if self.block is not None and self.children is self.block.block:
            return name in _names(self.block)
        return any(child.name == name for child in self.children)

    def _after(self, group: str) -> Directive | None:
        if self.block is not None and self.children is self.block.block:
            return _insertion_point(self.block, group)
        return _after(self.children, group)


@lru_cache(maxsize=64)
def _names(block: Directive) -> frozenset[str]:
    """The names of a block's own children, collected once (see ``_insertion_point``)."""
    assert block.block is not None
    return frozenset(child.name for child in block.block)


@lru_cache(maxsize=64)
def _insertion_point(block: Directive, group: str) -> Directive | None:
    """``_after`` for a block's own children, found once: every finding whose fix
    adds a line to an http{} of 10,000 servers asks (a block's children never change)."""
    assert block.block is not None
    return _after(block.block, group)


def _after(children: Sequence[Directive], group: str) -> Directive | None:
    """The directive a new one of ``group`` goes after: the group's last, else the
    last simple directive before the first block."""
    simple = [c for c in children if c.block is None and c.name != "include"]
    in_group = [c for c in simple if c.name.startswith(group)]
    if in_group:
        return in_group[-1]
    first_block = next((i for i, c in enumerate(children) if c.block is not None), None)
    before_blocks = [c for c in children[:first_block] if c.block is None]
    return before_blocks[-1] if before_blocks else None


@per_config
def declared_zones(config: NginxConfig) -> tuple[Zone, ...]:
    return tuple(_declared_zones(config))


@per_config
def zone_declarations(config: NginxConfig) -> dict[tuple[str, str], list[Directive]]:
    """The directives declaring each zone, by (name, use), in text order (asked for each
    zone to resize, of thousands)."""
    found: dict[tuple[str, str], list[Directive]] = {}
    for zone in declared_zones(config):
        found.setdefault((zone.name, zone.use), []).append(zone.directive)
    return found


# Directives that declare a shared zone as ``shared:NAME:SIZE``: ssl_session_cache, and
# ssl_ocsp_cache (another use: measured on 1.22.1, one name for both is "already
# declared for a different use").
SHARED_ARGUMENT = frozenset({"ssl_session_cache", "ssl_ocsp_cache"})

# Third-party modules' zones share nginx's one namespace of zone names (measured on
# 1.22.1 with Debian's modules loaded: each beside `ssl_session_cache shared:NAME:...`
# is "already declared for a different use"): ``NAME SIZE`` as the first two arguments.
NAMED_ZONES = frozenset({"lua_shared_dict", "upload_progress"})
# upstream-fair's `fair` declares one zone of a fixed name (its own source's).
FIXED_ZONES = {"fair": "upstream_fair"}
# Every directive that declares a zone: one look-up a directive of the configuration.
_ZONE_DIRECTIVES = SHARED_ARGUMENT | ZONE_PARAMETERS.keys() | NAMED_ZONES | FIXED_ZONES.keys() | {"zone"}


def _declared_zones(config: NginxConfig) -> Iterator[Zone]:
    """Every shared-memory zone the configuration declares, in the order nginx reads them
    (which decides the line nginx reports a conflict at: the later one). Each module's
    zones are a use of their own: stream's and mail's apart from http's (nginx tags a zone
    with the module that declares it, ngx_mail_ssl_module for mail{}'s session cache, and
    checks the tag before the size). A line of a file included twice is one directive:
    read once per module, since its lines included in http{} and in stream{} are two
    declarations, one for each module's use."""
    seen: set[tuple[int, str]] = set()
    for block, directive in _in_text_order(config.top, _ZONE_DIRECTIVES):
        name = directive.name
        module = block.module()
        if (id(directive), module) in seen:
            continue
        seen.add((id(directive), module))
        stream = f"{module} " if module else ""
        if name in SHARED_ARGUMENT:
            _, _, shared = parse_cache(directive)
            if shared is not None:
                yield Zone(shared.name, stream + name, shared.size, directive)
        elif name == "zone":
            # `zone NAME [SIZE]` of an upstream{} (http's or stream's): without a size it
            # shares the zone another upstream{} sizes.
            if block.context == "upstream" and directive.args:
                size = parse_size(directive.args[1]) if len(directive.args) > 1 else None
                yield Zone(directive.args[0], f"{stream}upstream zone", size, directive)
        elif name in NAMED_ZONES:
            if len(directive.args) >= 2:
                yield Zone(directive.args[0], stream + name, parse_size(directive.args[1]), directive)
        elif name in FIXED_ZONES:
            if block.context == "upstream":
                yield Zone(FIXED_ZONES[name], stream + name, None, directive)
        else:
            prefix = ZONE_PARAMETERS[name]
            # stream's limit_conn_zone is another module's than http's (measured on
            # 1.22.1: one name in both is "already declared for a different use").
            for arg in directive.args:
                if arg.startswith(prefix):
                    zone, _, size_text = arg[len(prefix) :].partition(":")
                    yield Zone(zone, stream + name, parse_size(size_text), directive)


def _in_text_order(top: Block, names: frozenset[str]) -> list[tuple[Block, Directive]]:
    """Each directive named in ``names`` below ``top`` with its block, in the order of the
    text (includes spliced in): a block's lines after a nested block come after that
    block's lines. A nested block with none of them below it is not read: most are not
    (3,500 zone lines among 280,000 at 10,000 servers)."""
    holding = _holding(top, names)
    found: list[tuple[Block, Directive]] = []
    if id(top) in holding:
        _read_in_order(top, names, holding, found)
    return found


def _read_in_order(
    block: Block, names: frozenset[str], holding: set[int], found: list[tuple[Block, Directive]]
) -> None:
    """``_in_text_order`` below ``block`` (one of ``holding``), appended to ``found``."""
    # A block's directive spliced in twice is two blocks: the last one stands for both.
    by_directive = {id(inner.directive): inner for inner in block.blocks if inner.directive is not None}
    inner_blocks = {key: inner for key, inner in by_directive.items() if id(inner) in holding}
    if not inner_blocks:
        # Its own lines only (a server whose locations hold none): one filtered pass.
        found.extend([(block, directive) for directive in block.children if directive.name in names])
        return
    for directive in block.children:
        if directive.name in names:
            found.append((block, directive))
        if directive.block is not None:
            inner = inner_blocks.get(id(directive))
            if inner is not None:  # blocks nest at most MAX_BLOCK_DEPTH deep: recursion is bounded
                _read_in_order(inner, names, holding, found)


def _holding(top: Block, names: frozenset[str]) -> set[int]:
    """The ids of the blocks below ``top`` (itself included) with a directive named in
    ``names`` in them or in a block below them."""
    holding: set[int] = set()
    for block in top.walk():
        if not names.isdisjoint(map(_NAME, block.children)):
            # It and the blocks around it, up to one already marked (or ``top``).
            current: Block | None = block
            while current is not None and id(current) not in holding:
                holding.add(id(current))
                current = current.parent if current is not top else None
    return holding


_NAME = attrgetter("name")


@per_config  # asked by every finding whose fix adds a zone
def free_zone_name(config: NginxConfig, preferred: str = "SSL") -> str:
    """A zone name nothing in the configuration declares yet."""
    taken = {zone.name for zone in declared_zones(config)}
    if preferred not in taken:
        return preferred
    number = 2
    while f"{preferred}{number}" in taken:
        number += 1
    return f"{preferred}{number}"


def zone_name_for(config: NginxConfig, server: Server) -> str:
    """A zone name nothing declares for a fix to ``server`` to add; a stream server's
    is never the one an http server's fix takes in the same run (one name in http{}
    and stream{} is `[emerg] ... already declared for a different use`)."""
    return free_zone_name(config, "STREAM_SSL" if server.stream else "SSL")


def http_target(server: Server) -> Target | None:
    """The block a server inherits from (http{}, or stream{} for a stream server)."""
    http = server.http
    if http is None or http.directive is None or http.directive.block is None:
        return None
    return Target(http.directive.source, http.directive, http.directive.block, f"{http.context}{{}}")


def server_target(config: NginxConfig, server: Server) -> Target | None:
    directive = server.block.directive
    if directive is not None and directive.block is not None:
        return Target(directive.source, directive, directive.block, server.label, server)
    if server.synthetic:
        root = config.root
        return Target(root.source, None, root.directives, f"{root.path.name} (server snippet)", server)
    return None


def session_targets(config: NginxConfig, server: Server) -> list[Target]:
    """Where session settings for ``server`` go: http{}, else its default servers."""
    http = http_target(server)
    if http is not None:
        return [http]
    defaults = [server] if is_default(server) else []
    for listen in server.listens:
        if listen.socket in config.tls_sockets:
            default = config.default_server(listen.socket)
            if default is not None and default not in defaults:
                defaults.append(default)
    targets = [server_target(config, d) for d in defaults]
    return [t for t in targets if t is not None]
