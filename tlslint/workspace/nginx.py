"""nginx configurations as nginx sees them: includes spliced in, servers
grouped by listen socket, effective values through http → server inheritance
(and, for the servers of stream{}, stream → server: ``NginxConfig.stream``).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, fields, replace
from operator import attrgetter
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from tlslint.nginx_values import templated
from tlslint.nginx_versions import Version
from tlslint.paths import resolved as resolve_path
from tlslint.sources.nginx.loader import NginxFiles
from tlslint.sources.nginx.model import Directive, ParsedFile

# Context of a file checked on its own.
MAIN, HTTP, SERVER = "main", "http", "server"

_MAIN_ONLY = frozenset(
    {"http", "events", "stream", "mail", "worker_processes", "user", "pid",
     "load_module", "worker_rlimit_nofile", "error_log_main"}
)  # fmt: skip
_HTTP_ONLY = frozenset(
    {"server", "upstream", "map", "geo", "log_format", "split_clients",
     "limit_req_zone", "limit_conn_zone", "proxy_cache_path", "fastcgi_cache_path",
     "types", "server_names_hash_bucket_size", "variables_hash_max_size"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """An include that could not be followed, at the include directive."""

    kind: str  # "missing" | "loop" | "unreadable"
    directive: Directive | None
    path: Path
    line: int
    message: str
    # "unreadable", "missing": what an include glob matched and could not read
    unread: Path | None = None


_SCAN_LIMIT = 8
_NAME = attrgetter("name")


@dataclass(eq=False, slots=True)
class Block:
    """A block with its effective children: includes replaced by their content."""

    context: str  # main, http, server, location, upstream, stream, ...
    directive: Directive | None  # None for a file's top level
    children: list[Directive]
    parent: Block | None
    blocks: list[Block] = field(default_factory=list)
    # An include in this block could not be followed (missing, templated,
    # looping, unparseable): a setting that seems absent may be in it.
    unresolved: bool = False
    # A name's directive, or its list when there are several (a list per name
    # was 12 MB at 10,000 servers).
    _index: dict[str, Directive | list[Directive]] | None = field(default=None, repr=False)
    _walked: list[Block] | None = field(default=None, repr=False)

    def all(self, name: str) -> list[Directive]:
        index = self._index
        if index is None:
            children = self.children
            if len(children) <= _SCAN_LIMIT:
                # Most blocks hold a handful of directives: a scan is as fast as an
                # index and keeps no dict of lists per block (a quarter of the
                # workspace's memory at 10,000 servers).
                return [child for child in children if child.name == name]
            index = self._indexed()
        found = index.get(name)
        if found is None:
            return []
        return found if isinstance(found, list) else [found]

    def last(self, name: str) -> Directive | None:
        # The index first, without a call: checks ask 40,000 times at 1,000 servers.
        index = self._index
        if index is None:
            children = self.children
            if len(children) <= _SCAN_LIMIT:
                for child in reversed(children):
                    if child.name == name:
                        return child
                return None
            index = self._indexed()
        found = index.get(name)
        return found[-1] if isinstance(found, list) else found

    def has(self, name: str) -> bool:
        """Whether one of the block's own directives is ``name``: ``last`` without a
        loop in Python (checks ask it of every block of 10,000 servers)."""
        index = self._index
        if index is not None:
            return name in index
        return name in map(_NAME, self.children)

    def _indexed(self) -> dict[str, Directive | list[Directive]]:
        if self._index is None:
            index: dict[str, Directive | list[Directive]] = {}
            for child in self.children:
                seen = index.get(child.name)
                if seen is None:
                    index[child.name] = child
                elif isinstance(seen, list):
                    seen.append(child)
                else:
                    index[child.name] = [seen, child]
            self._index = index
        return self._index

    def sub(self, context: str) -> list[Block]:
        return [block for block in self.blocks if block.context == context]

    def in_stream(self) -> bool:
        """Whether the block is stream{} or inside it (stream's own module reads it)."""
        return self.module() == "stream"

    def module(self) -> str:
        """The top-level block whose modules read this one: "stream", "mail", else ""
        (http's, or a file checked on its own, which is read as http's)."""
        current: Block | None = self
        while current is not None:
            if current.context in ("stream", "mail"):
                return current.context
            current = current.parent
        return ""

    def walk(self) -> list[Block]:
        """This block and every block below it, depth first in text order.

        Blocks do not change once built, so the list is made once: checks walk
        the same tree many times.
        """
        if self._walked is None:
            walked = []
            stack = [self]
            while stack:
                block = stack.pop()
                walked.append(block)
                stack.extend(reversed(block.blocks))
            self._walked = walked
        return self._walked


@dataclass(frozen=True, slots=True)
class Listen:
    """One ``listen`` of a server: its socket and the parameters rules read."""

    socket: str  # normalised "addr:port", e.g. "*:443", "[::]:443", "unix:/run/x"
    ssl: bool
    default: bool
    http2: bool
    directive: Directive | None
    # A port range (``127.0.0.1:18450-18452``) is read as the ports in it that matter:
    # this is the range as written, ``socket`` one port of it (see ``_expand_ranges``).
    range_of: str = ""


@dataclass(eq=False, slots=True)
class Server:
    """A ``server`` block with what rules ask of it: its listens, names and TLS."""

    block: Block
    http: Block | None  # the block it inherits from: http{}, or stream{} for a stream server
    listens: list[Listen]
    names: tuple[str, ...]
    ssl_on: Directive | None  # legacy `ssl on;`
    synthetic: bool = False  # a server-level snippet checked on its own
    fragment: str = ""  # a synthetic server's file name: the servers that include it are its servers
    tls: bool = False
    # Its TLS is the template's: a placeholder in a `listen` or in `ssl` may turn it on.
    tls_templated: bool = False
    default_for: list[str] = field(default_factory=list)
    stream: bool = False  # a server of stream{} (TLS over TCP: MQTT, Postgres, ...)
    # ``ssl_reject_handshake on``, once read (the session and keep-alive checks ask it of
    # every server, several times: 9,000 reads at 1,000 servers).
    rejects: bool | None = field(default=None, repr=False)
    # Its effective ssl_session_cache (``_session.effective_cache``), once read: the
    # session rules ask it of every server, 33,000 times at 16,000 servers.
    session_cache: Any = field(default=None, repr=False)
    # Its ssl_session_tickets in force is not ``off`` (``_session.tickets_on``), once read:
    # the session rules ask it 6,000 times at 1,000 servers.
    tickets: bool | None = field(default=None, repr=False)

    @property
    def unresolved(self) -> bool:
        """An include in the server or its http{} was not followed: an absent
        setting may be in it, so rules that report absence stay silent."""
        return self.block.unresolved or (self.http is not None and self.http.unresolved)

    def effective(self, name: str) -> Directive | None:
        """The directive that decides ``name`` for this server, or None."""
        found = self.block.last(name)
        if found is None and self.http is not None:
            found = self.http.last(name)
        return found

    @property
    def anchor_directive(self) -> Directive | None:
        return self.block.directive

    @property
    def label(self) -> str:
        """How messages name the server: ``server[example.com@*:443]``. A server-level
        snippet checked alone with no listen of its own is the server{} that includes it:
        ``server[including ssl.conf]``: its sockets are the includer's (``server[no listen]``
        read as a server of its own, which would be plain *:80)."""
        if self.synthetic and not self.listens and self.fragment:
            name = self._name()
            kind = "stream server" if self.stream else "server"
            return (
                f"{kind}[{name}, including {self.fragment}]" if name else f"{kind}[including {self.fragment}]"
            )
        return self.anchor_label

    @property
    def anchor_label(self) -> str:
        """The server in a finding's anchor (baselines key on it): ``server[a@*:443]``,
        ``server[no listen]`` for a snippet checked alone, as it has always been."""
        name = self._name()
        shown = dict.fromkeys(listen.range_of or listen.socket for listen in self.listens)
        sockets = ",".join(shown) or "no listen"
        kind = "stream server" if self.stream else "server"
        return f"{kind}[{name}@{sockets}]" if name else f"{kind}[{sockets}]"

    def _name(self) -> str:
        return next((n for n in self.names if n not in ("_", '""', "")), "")

    def location(self) -> tuple[Path, int]:
        directive = self.block.directive
        if directive is not None:
            return directive.path, directive.line
        first = self.block.children[0] if self.block.children else None
        return (first.path, first.line) if first else (Path(""), 0)


@dataclass(eq=False)
class NginxConfig:
    """One configuration tree, as one nginx instance would load it."""

    root: ParsedFile
    context: str
    prefix: Path
    top: Block
    files: list[Path]
    problems: list[LoadProblem]
    incomplete: bool  # something was not followed (templated or missing include)
    servers: list[Server] = field(default_factory=list)
    groups: dict[str, list[Server]] = field(default_factory=dict)
    tls_sockets: set[str] = field(default_factory=set)
    # A server whose TLS a template decides (``Server.tls_templated``) and that is plain
    # as written: the sockets' TLS servers are not all known.
    tls_unknown: bool = False
    # Derived indexes that several checks share (see ``per_config``).
    memo: dict[str, Any] = field(default_factory=dict, repr=False)
    # The default server of each socket, found once: checks ask for every server.
    defaults: dict[str, Server] = field(default_factory=dict, repr=False)
    # The servers of stream{}, as a configuration of their own over the same tree:
    # their sockets, groups and default servers are stream's (nginx keeps stream and
    # http listens apart; they cannot share a port), so http-only rules never see
    # them, and the session and protocol rules ask for them (see ``scopes``).
    stream: NginxConfig | None = field(default=None, repr=False)
    # The module that reads a fragment (a file checked without its includer), by its
    # lines (``fragment_module``): "http", "stream", or "" when nothing decides. A main
    # file is "http".
    module: str = "http"

    def http_blocks(self) -> list[Block]:
        return [b for b in self.top.walk() if b.context == HTTP]

    def default_server(self, socket: str) -> Server | None:
        found = self.defaults.get(socket)
        if found is None:
            found = _find_default(self.groups.get(socket), socket)
            if found is not None:
                self.defaults[socket] = found
        return found


def scopes(config: NginxConfig) -> tuple[NginxConfig, ...]:
    """``config``, and its stream{} servers' configuration when it has stream servers."""
    return (config,) if config.stream is None else (config, config.stream)


def _find_default(servers: list[Server] | None, socket: str) -> Server | None:
    """The server marked ``default_server`` on ``socket``, else the socket's first."""
    if not servers:
        return None
    for server in servers:
        for listen in server.listens:
            if listen.socket == socket and listen.default:
                return server
    return servers[0]


_T = TypeVar("_T")
_P = ParamSpec("_P")


def per_config(
    function: Callable[Concatenate[NginxConfig, _P], _T],
) -> Callable[Concatenate[NginxConfig, _P], _T]:
    """Compute a derived index of a configuration once, however many checks ask:
    once per configuration and further arguments (a directive name, a version).

    Checks stay pure: the index depends on the configuration (and the arguments)
    alone, which do not change after it is built. Callers must not mutate what
    they get.
    """
    name = f"{function.__module__}.{function.__qualname__}"

    def cached(config: NginxConfig, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        key = f"{name}{args!r}{kwargs!r}" if args or kwargs else name
        if key not in config.memo:
            config.memo[key] = function(config, *args, **kwargs)
        return config.memo[key]  # type: ignore[no-any-return]

    cached.__doc__ = function.__doc__
    cached.__name__ = function.__name__
    return cached


def fragment_module(parsed: ParsedFile, context: str) -> str:
    """The module whose block includes a file checked on its own, by what its servers
    (or, for a snippet, its lines) say: "stream" when only stream{} has some of them
    (``ssl_preread``, ``proxy_timeout``, ``proxy_pass`` to a bare address...), "http"
    when http{} alone has some (``location``, ``root``...; beside stream's too, which
    nginx refuses in either block: read as http's, as before), "" when nothing decides
    (a server of `listen` and certificates is both modules' alike). ``context``: the
    file's, as ``detect_context`` gives it."""
    stream = http = False
    snippet = context == SERVER
    for directive in parsed.directives:
        if directive.name == "server" and directive.block is not None:
            for child in directive.block:
                kind = _server_line_module(child)
                stream, http = stream or kind == "stream", http or kind == "http"
        elif snippet:
            kind = _server_line_module(directive)
            stream, http = stream or kind == "stream", http or kind == "http"
        else:
            stream_only, http_only = _level_only()
            stream = stream or directive.name in stream_only
            http = http or directive.name in http_only
    if stream and not http:
        return "stream"
    return "http" if http else ""


def _server_line_module(directive: Directive) -> str:
    """Which module alone takes this line in a server ("stream", "http": its server or
    its locations), or "" when both, or neither, do."""
    stream_only, http_only = _server_only()
    name = directive.name
    if name == "proxy_pass":  # stream's server takes an address; http's takes it in a location, with a scheme
        return "http" if any("://" in arg for arg in directive.args[:1]) else "stream"
    if name in stream_only:
        return "stream"
    return "http" if name in http_only else ""


@functools.cache
def _server_only() -> tuple[frozenset[str], frozenset[str]]:
    """Directives only stream's server takes, and those only http's server takes (crossplane's
    table with tlslint's supplement, any version). Mail's are neither: a mail server is not
    told from the others here."""
    from tlslint import nginx_directives as nd

    table = nd.table_for(None)
    http = nd.HTTP_SRV | nd.HTTP_SIF | nd.HTTP_LOC
    stream, http_only = set(), set()
    for name in table.known_names():
        allowed = table.allowed_contexts(name)
        if allowed & nd.STREAM_SRV and not allowed & (nd.HTTP_SRV | nd.MAIL_SRV):
            stream.add(name)
        elif allowed & http and not allowed & (nd.STREAM_SRV | nd.MAIL_SRV):
            http_only.add(name)
    return frozenset(stream), frozenset(http_only)


@functools.cache
def _level_only() -> tuple[frozenset[str], frozenset[str]]:
    """The same for the level of stream{} and http{} (a file of servers and their settings)."""
    from tlslint import nginx_directives as nd

    table = nd.table_for(None)
    stream, http_only = set(), set()
    for name in table.known_names():
        allowed = table.allowed_contexts(name)
        if allowed & nd.STREAM_MAIN and not allowed & (nd.HTTP_MAIN | nd.MAIL_MAIN):
            stream.add(name)
        elif allowed & nd.HTTP_MAIN and not allowed & (nd.STREAM_MAIN | nd.MAIL_MAIN):
            http_only.add(name)
    return frozenset(stream), frozenset(http_only)


def detect_context(parsed: ParsedFile) -> str:
    names = {directive.name for directive in parsed.directives}
    if names & _MAIN_ONLY:
        return MAIN
    if names & _HTTP_ONLY:
        return HTTP
    if names - {"include"}:
        return SERVER
    return HTTP


@dataclass
class _Expander:
    """Splices included files into their includers' blocks, within bounds."""

    files: NginxFiles
    prefix: Path
    problems: list[LoadProblem] = field(default_factory=list)
    seen: list[Path] = field(default_factory=list)
    seen_set: set[Path] = field(default_factory=set)  # the same, for O(1) membership
    incomplete: bool = False
    # After an include is refused as a loop (or too deep), nginx would never load
    # this configuration: a file already spliced in, or refused, is not tried
    # again. Otherwise every path through a loop is followed, and a directory
    # whose files each include `*.conf` expands in factorial time.
    looped: bool = False
    refused: set[Path] = field(default_factory=set)
    reported: set[int] = field(default_factory=set)  # include directives refused as loops, by id
    splices: int = 0  # files spliced in so far
    spliced: int = 0  # directives spliced in so far

    def block(
        self,
        context: str,
        directive: Directive | None,
        children: list[Directive],
        parent: Block | None,
        chain: tuple[Path, ...],
        holders: Collection[Directive | None],
    ) -> Block:
        """The block of ``directive`` (None: a file's top level), includes spliced in;
        ``holders``: the blocks of its file that hold an include (``_holders``)."""
        block = Block(context, directive, [], parent)
        self._fill(block, children, chain, holders, directive in holders)
        return block

    def _fill(
        self,
        block: Block,
        children: list[Directive],
        chain: tuple[Path, ...],
        holders: Collection[Directive | None],
        includes: bool,
    ) -> None:
        self.spliced += len(children)
        if not includes:  # most blocks: no line but its blocks to look at
            block.children += children
            for child in children:
                if child.block is not None:
                    context = child.name if child.name in _BLOCK_CONTEXTS else "block"
                    block.blocks.append(self.block(context, child, child.block, block, chain, holders))
            return
        for child in children:
            if child.name == "include" and len(child.args) == 1:
                self._include(block, child, chain)
                continue  # another count: nginx refuses the line (NGX012), which stays to be checked
            block.children.append(child)
            if child.block is not None:
                context = child.name if child.name in _BLOCK_CONTEXTS else "block"
                block.blocks.append(self.block(context, child, child.block, block, chain, holders))

    def _include(self, block: Block, directive: Directive, chain: tuple[Path, ...]) -> None:
        result = self.files.resolve_include(directive, self.prefix)
        if result.templated:
            self.incomplete = block.unresolved = True
            return
        if result.problem:
            self.incomplete = block.unresolved = True
            self.problems.append(
                LoadProblem("missing", directive, directive.path, directive.line, result.problem)
            )  # the files a glob matched beside what nginx fails on are still read
        for path, message in result.refused:
            self.incomplete = block.unresolved = True
            self.problems.append(
                LoadProblem("missing", directive, directive.path, directive.line, message, path)
            )
        for path, message in result.unreadable:
            self.incomplete = block.unresolved = True
            problem = LoadProblem("unreadable", directive, directive.path, directive.line, message, path)
            self.problems.append(problem)
        for path in result.paths:
            resolved = resolve_path(path)
            if resolved in chain:
                cycle = " -> ".join(p.name for p in (*chain[chain.index(resolved) :], resolved))
                self._refuse(block, directive, f"include loop refused: {cycle}")
                continue
            if self.looped and (resolved in self.seen_set or resolved in self.refused):
                self.incomplete = block.unresolved = True
                continue
            parsed = self.files.get(resolved)
            if parsed is None:
                self.incomplete = block.unresolved = True
                continue  # the file's own error is reported once, by path
            refusal = self._too_deep(block, chain, resolved, parsed)
            if refusal:
                self.refused.add(resolved)
                self._refuse(block, directive, refusal)
                continue
            if resolved not in self.seen_set:
                self.seen_set.add(resolved)
                self.seen.append(resolved)
            self.splices += 1
            holders = _holders(parsed)
            self._fill(block, parsed.directives, (*chain, resolved), holders, None in holders)

    def _refuse(self, block: Block, directive: Directive, message: str) -> None:
        """An include not followed because nginx would recurse until it fails (NGX003):
        reported once per include directive."""
        self.looped = self.incomplete = block.unresolved = True
        if id(directive) not in self.reported:
            self.reported.add(id(directive))
            self.problems.append(LoadProblem("loop", directive, directive.path, directive.line, message))

    def _too_deep(self, block: Block, chain: tuple[Path, ...], path: Path, parsed: ParsedFile) -> str:
        """Why splicing ``parsed`` here is refused, or ''; the expansion recurses, and
        these bounds keep it well inside Python's stack and time."""
        if len(chain) >= MAX_INCLUDE_DEPTH:
            return f"include refused: files included more than {MAX_INCLUDE_DEPTH} levels deep (a loop?)"
        depth = parsed.depth
        parent: Block | None = block
        while parent is not None and parent.directive is not None:
            depth += 1
            parent = parent.parent
        if depth > MAX_BLOCK_DEPTH:
            return f"include refused: blocks nest more than {MAX_BLOCK_DEPTH} levels deep with {path.name}"
        if self.splices >= MAX_SPLICES or self.spliced > MAX_SPLICED:
            return (
                f"include refused: the configuration expands to more than {MAX_SPLICES:,} included "
                f"files or {MAX_SPLICED:,} directives (files included again and again)"
            )
        return ""


def _holders(parsed: ParsedFile) -> Collection[Directive | None]:
    """The blocks of ``parsed`` that hold an include line (None: its top level): the
    others are spliced as they are, without a look at each line."""
    return {include.parent for include in parsed.includes} if parsed.includes else ()


# Bounds on what an expansion follows (real configurations stay far below them).
MAX_INCLUDE_DEPTH = 50  # files within files
MAX_BLOCK_DEPTH = 100  # nested blocks, those of included files counted (the parser's per-file bound)
MAX_SPLICES = 100_000  # files spliced into one configuration (a file included twice counts twice)
MAX_SPLICED = 1_000_000  # directives in one configuration, includes spliced in


_BLOCK_CONTEXTS = frozenset(
    {"http", "server", "location", "upstream", "stream", "mail", "events", "map",
     "geo", "types", "if", "limit_except", "split_clients", "match"}
)  # fmt: skip


def build_config(files: NginxFiles, root: ParsedFile, prefix: Path) -> NginxConfig:
    context = detect_context(root)
    root_path = resolve_path(root.path)
    expander = _Expander(files, prefix, seen=[root_path], seen_set={root_path})
    chain = (root_path,)
    holders = _holders(root)
    module = "http" if context == MAIN else fragment_module(root, context)
    if context == MAIN:
        top = expander.block(MAIN, None, root.directives, None, chain, holders)
    elif context == HTTP:
        # A file of stream{}'s servers is read as stream{}'s level, so that its servers
        # are stream servers, as with its includer in the tree.
        top = expander.block(
            "stream" if module == "stream" else HTTP, None, root.directives, None, chain, holders
        )
    else:
        # A stream server's snippet: its server sits in a stream{} not in front of us.
        outer = Block("stream", None, [], None) if module == "stream" else None
        top = expander.block(SERVER, None, root.directives, outer, chain, holders)
    config = NginxConfig(
        root=root,
        context=context,
        prefix=prefix,
        top=top,
        files=expander.seen,
        problems=expander.problems,
        incomplete=expander.incomplete,
        module=module,
    )
    _collect_servers(config)
    return config


def parse_listen(directive: Directive) -> Listen:
    return _new_listen(_parts(directive.args), directive)


# A listen's socket and flags by its arguments, and whether they may hold a template's
# placeholder (a "$" or "{{", which ``templated`` looks for first): 10,000 servers write
# a handful of forms. Bounded, since it outlives the run.
_LISTEN_PARTS: dict[tuple[str, ...], tuple[str, bool, bool, bool, bool]] = {}
_LISTEN_PARTS_MAX = 1 << 12


def _parts(args: tuple[str, ...]) -> tuple[str, bool, bool, bool, bool]:
    parts = _LISTEN_PARTS.get(args)
    if parts is None:
        parts = (*_listen_parts(args), any("$" in arg or "{{" in arg for arg in args))
        if len(_LISTEN_PARTS) < _LISTEN_PARTS_MAX:
            _LISTEN_PARTS[args] = parts
    return parts


# Listen is frozen: its generated __init__ sets each field through object.__setattr__,
# 1 µs a listen (35,000 at 10,000 hosts); its slots' descriptors set them in a third of that.
_SET_SOCKET, _SET_SSL, _SET_DEFAULT, _SET_HTTP2, _SET_DIRECTIVE, _SET_RANGE_OF = (
    vars(Listen)[slot.name].__set__ for slot in fields(Listen)
)


def _new_listen(parts: tuple[str, bool, bool, bool, bool], directive: Directive) -> Listen:
    """``Listen(*parts[:4], directive)``."""
    listen = object.__new__(Listen)
    _SET_SOCKET(listen, parts[0])
    _SET_SSL(listen, parts[1])
    _SET_DEFAULT(listen, parts[2])
    _SET_HTTP2(listen, parts[3])
    _SET_DIRECTIVE(listen, directive)
    _SET_RANGE_OF(listen, "")
    return listen


def _listen_parts(args: tuple[str, ...]) -> tuple[str, bool, bool, bool]:
    address = args[0] if args else "80"
    flags = set(args[1:])
    # `quic` (http) and `udp` (stream) are UDP sockets of their own, with their own
    # default server (nginx keys its ports by address and socket type): never the
    # TLS-over-TCP socket's default.
    udp = "/quic" if "quic" in flags else "/udp" if "udp" in flags else ""
    return (
        normalise_socket(address) + udp,
        "ssl" in flags,
        "default_server" in flags or "default" in flags,
        "http2" in flags,
    )


def normalise_socket(address: str) -> str:
    if address.startswith("unix:"):
        return address
    if address.isdigit() or _PORT_RANGE.fullmatch(address):
        return f"*:{address}"  # a port, or a range of them, on every address
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else "80"
        return f"[{_ipv6(host)}]:{port}"
    host, sep, port = address.rpartition(":")
    if not sep:
        if "$" in address:
            return address  # `listen ${PORT}` in a template: no port 80 to assume
        host, port = address, "80"  # `listen 0.0.0.0;` is *:80 like `listen *:80;`
    if host in ("*", "0.0.0.0"):
        host = "*"
    elif "$" not in host:
        host = host.lower()  # names and IPv6 digits are case-insensitive; a variable is not
    return f"{host}:{port}"


def message_address(socket: str) -> str | None:
    """``nginx_address``, or for a host name ``ADDRESS:port`` (nginx writes what the name
    resolves to, which ``resolution_note`` says); None for a template's variable. One
    name is compared with itself only: nginx resolves it alike for each listen."""
    if "$" in socket:
        return None
    address = nginx_address(socket)
    if address is None:
        host, _, port = socket.removesuffix("/udp").rpartition(":")
        return f"ADDRESS:{port}" if host and port.isdigit() else None
    return address


def resolution_note(socket: str, address: str) -> str:
    """What follows nginx's words when ``message_address`` left the address to resolution."""
    if not address.startswith("ADDRESS:"):
        return ""
    return f", ADDRESS being what {socket.removesuffix('/udp').rpartition(':')[0]} resolves to"


def _ipv6(host: str) -> str:
    """One spelling for each IPv6 address, as nginx compares them (``[::0]`` and
    ``[0:0:0:0:0:0:0:0]`` are ``[::]``: measured on 1.22.1)."""
    host = host.lower()
    if host in ("::", "::1") or "$" in host:
        return host
    import ipaddress  # only for a spelling other than the usual two

    try:
        return ipaddress.IPv6Address(host).compressed
    except ValueError:
        return host  # nginx refuses it (NGX012's concern), or a template's


def nginx_address(socket: str) -> str | None:
    """How nginx writes a socket in its messages, stream's and http's alike (NGX004, NGX005):
    ``*:5432`` and ``5432`` as ``0.0.0.0:5432``, an IPv6 address compressed (measured on
    1.22.1); None for a host name, which nginx writes as the address it resolves to."""
    socket = socket.removesuffix("/udp")  # nginx writes no socket type
    if socket.startswith("unix:"):
        return socket
    host, _, port = socket.rpartition(":")
    if not port.isdigit():
        return None
    if host == "*":
        return f"0.0.0.0:{port}"
    import ipaddress  # only for a message about a socket

    try:
        if host.startswith("["):
            ip6 = ipaddress.IPv6Address(host[1:-1])
            return None if ip6.ipv4_mapped else f"[{ip6.compressed}]:{port}"
        return f"{ipaddress.IPv4Address(host)}:{port}"
    except ValueError:
        return None


def _collect_servers(config: NginxConfig) -> None:
    servers: list[Server] = []
    top = config.top
    streams: list[Server] = []
    if config.context == SERVER and top.parent is not None:  # a stream server's snippet
        streams.append(_server(top, top.parent, synthetic=True, stream=True))
    elif config.context == SERVER:
        servers.append(_server(top, None, synthetic=True))
    else:
        http_blocks = [top] if top.context == HTTP else top.sub(HTTP)
        for http in http_blocks:
            for block in http.sub("server"):
                servers.append(_server(block, http))
    for synthetic in (*servers, *streams):
        if synthetic.synthetic:  # named after the file that stands for its includers
            synthetic.fragment = config.root.path.name
    _group(config, servers)
    stream_blocks = [top] if top.context == "stream" else top.sub("stream")
    streams += [
        _server(block, stream, stream=True) for stream in stream_blocks for block in stream.sub("server")
    ]
    if streams:
        config.stream = NginxConfig(
            config.root,
            config.context,
            config.prefix,
            config.top,
            config.files,
            config.problems,
            config.incomplete,
            module=config.module,
        )
        _group(config.stream, streams)


def _group(config: NginxConfig, servers: list[Server]) -> None:
    """Servers grouped by socket, their TLS sockets and each socket's default server."""
    config.servers = servers
    _expand_ranges(servers)
    for server in servers:
        for listen in server.listens:
            group = config.groups.setdefault(listen.socket, [])
            # Servers come in order, so a server already in the group is its last
            # member (two listens on one socket); no scan of 10,000 servers.
            if not group or group[-1] is not server:
                group.append(server)
            if listen.ssl:
                config.tls_sockets.add(listen.socket)
    # `ssl on;` makes a socket TLS only in the socket's default server: nginx reads it
    # from the default server's configuration when a connection arrives (measured on
    # 1.22.1: a virtual server's `ssl on` leaves the socket plain, that server included).
    for server in servers:
        if server.ssl_on is not None:
            for listen in server.listens:
                if config.default_server(listen.socket) is server:
                    config.tls_sockets.add(listen.socket)
    for server in servers:
        server.tls = (
            (server.ssl_on is not None and not server.listens)
            or any(listen.socket in config.tls_sockets for listen in server.listens)
            or (server.synthetic and _looks_tls(server.block))
        )
        if server.tls_templated and not server.tls:
            config.tls_unknown = True
    for socket in config.groups:
        default = config.default_server(socket)
        if default is not None:
            default.default_for.append(socket)


_PORT_RANGE = re.compile(r"(\d{1,5})-(\d{1,5})")


def _split_range(socket: str) -> tuple[str, int, int, str] | None:
    """``host``, first and last port, socket type of a port-range socket; else None."""
    if socket.startswith("unix:"):
        return None
    suffix = next((end for end in ("/udp", "/quic") if socket.endswith(end)), "")
    host, _, port = socket.removesuffix(suffix).rpartition(":")
    found = _PORT_RANGE.fullmatch(port)
    if found is None:
        return None
    low, high = int(found[1]), int(found[2])
    return (host, low, high, suffix) if 0 < low <= high <= 65535 else None


def _expand_ranges(servers: list[Server]) -> None:
    """A listen on a port range (``listen 127.0.0.1:18450-18452``; nginx binds each port,
    1.22.1 measured, http and stream) stands for its first port and for each port of it
    that another listen of the same host names, or another range starts at: the ports
    where it can meet another server (a duplicate, the default server; two ranges that
    overlap share the larger first port). Not one socket per port: 65535 of them would be
    65535 groups to judge, and the ports no one else names are the range's alone."""
    ranges = [
        (server, index, parts)
        for server in servers
        for index, listen in enumerate(server.listens)
        if "-" in listen.socket and (parts := _split_range(listen.socket)) is not None
    ]
    if not ranges:
        return
    named: dict[tuple[str, str], set[int]] = {}
    for _, _, (host, low, _, suffix) in ranges:
        named.setdefault((host, suffix), set()).add(low)
    for server in servers:
        for listen in server.listens:
            suffix = next((end for end in ("/udp", "/quic") if listen.socket.endswith(end)), "")
            host, _, port = listen.socket.removesuffix(suffix).rpartition(":")
            if port.isdigit() and (host, suffix) in named:
                named[(host, suffix)].add(int(port))
    ordered = {key: sorted(ports) for key, ports in named.items()}  # bisected: 10,000 ranges stay linear
    for server, index, (host, low, high, suffix) in reversed(ranges):  # indexes stay valid
        listen = server.listens[index]
        known = ordered[(host, suffix)]
        ports = known[bisect.bisect_left(known, low) : bisect.bisect_right(known, high)]
        expanded = [
            replace(listen, socket=f"{host}:{port}{suffix}", range_of=listen.socket) for port in ports
        ]
        server.listens[index : index + 1] = expanded


def _server(block: Block, http: Block | None, synthetic: bool = False, stream: bool = False) -> Server:
    listens = []
    # `listen ${LISTEN};`, `ssl ${SSL};`: envsubst fills the text in before nginx reads
    # it, so a placeholder may hold `443 ssl` or `on`.
    tls_templated = False
    for directive in block.all("listen"):
        parts = _parts(directive.args)
        listens.append(_new_listen(parts, directive))
        if parts[4] and not tls_templated:  # only a "$" or "{{" may be a placeholder
            tls_templated = templated(directive)
    if not listens and not synthetic and not stream:  # a stream server must name its listen
        listens = [Listen("*:80", False, False, False, None)]
    name_lines = block.all("server_name")
    # One line, as most servers write: its arguments are the names (no generator made).
    names = name_lines[0].args if len(name_lines) == 1 else tuple(a for d in name_lines for a in d.args)
    ssl = block.last("ssl")
    if ssl is None and http is not None and not stream:
        ssl = http.last("ssl")  # `ssl on;` in http{} is inherited: a server's own line overrides it
    ssl_on = ssl if ssl is not None and ssl.args[:1] == ("on",) else None
    tls_templated = tls_templated or templated(ssl)
    return Server(
        block, http, listens, names, ssl_on, synthetic=synthetic, stream=stream, tls_templated=tls_templated
    )


def _looks_tls(block: Block) -> bool:
    return any(child.name.startswith("ssl_") for child in block.children)


def is_default(server: Server) -> bool:
    """A server that decides session handling for at least one of its sockets.

    A server-level snippet checked alone has no sockets; it is treated as a
    default server because its includer is unknown.
    """
    return bool(server.default_for) or (server.synthetic and not server.listens)


def version_label(version: Version | None) -> str:
    from tlslint.nginx_versions import format_version

    return format_version(version) if version else "unknown"
