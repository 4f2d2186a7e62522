"""Which upstream nginx gives each ``*_pass`` at start (ngx_http_upstream_add; stream's is alike).

nginx keeps one list of upstreams per module (http, stream), filled in the order it reads
the configuration (includes spliced in): each ``upstream NAME {}`` and each ``*_pass`` with
a literal address finds the first entry of its host (names compared without case), or
adds one.

* A pass that finds an upstream{} uses it when it writes no port; with a port nginx
  refuses to start: ``upstream "NAME" may not have port 8080``.
* A pass that finds an earlier pass's entry (an implicit upstream) shares it, unless both
  have ports and they differ: it then looks further, or adds its own. ``proxy_pass`` has
  a port when none is written (80 for http://, 443 for https://); the other modules and
  stream's proxy_pass have none, which goes with any port.
* ``upstream NAME {}`` takes over the first entry of NAME that earlier passes made:
  refused when that pass wrote a port (``upstream "NAME" may not have port 8080 in
  FILE:LINE``, the pass's line). Other entries of NAME stay implicit: their passes reach
  NAME by DNS, not the upstream{} (``proxy_pass http://backend;`` then ``proxy_pass
  https://backend;`` above ``upstream backend {}``: "host not found in upstream").
* A pass with variables is matched per request (ngx_http_upstream_init_request): to an
  upstream{} only when it writes no port, else the name is resolved ("no resolver
  defined to resolve").

Measured with nginx 1.22.1 in both orders and every module (tests/test_upstream_names.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tlslint.nginx_values import backend_address_problem, proxy_url_problem
from tlslint.sources.nginx.model import Directive
from tlslint.workspace.nginx import Block, NginxConfig, per_config

HTTP_PASSES = frozenset(
    {"proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass"}
)
# The schemes a module strips, with the port each stands for when none is written.
_SCHEMES: dict[str, dict[str, int]] = {
    "proxy_pass": {"http://": 80, "https://": 443},
    "grpc_pass": {"grpc://": 0, "grpcs://": 0},
    "uwsgi_pass": {"uwsgi://": 0, "suwsgi://": 0},
}
_PASS_BLOCKS = frozenset({"location", "if", "limit_except"})


@dataclass(frozen=True, slots=True)
class Address:
    """The address a literal ``*_pass`` gives nginx's upstream list."""

    host: str  # as written ([::1] keeps its brackets)
    port: int  # the written port, else the module's default (0: none)
    written: str  # the port as written ("" when none)
    default: int = 0  # the module's port where none is written

    def portless(self) -> Address:
        return Address(self.host, self.default, "", self.default)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What nginx makes of a literal pass whose host is the name of an upstream{}."""

    upstream: str | None  # the upstream{}'s lower-cased name; None: an implicit upstream
    address: Address
    declared: Directive  # the (first) ``upstream`` directive of that name
    refusal: str = ""  # nginx's refusal to start ("" when it starts)


def declared_at(declared: Directive, beside: Directive) -> str:
    """Where an upstream{} is declared, as seen from a pass: ``line 9``, or ``upstreams.conf:3``."""
    if declared.path == beside.path:
        return f"line {declared.line}"
    return f"{declared.path.name}:{declared.line}"


def pass_address(name: str, value: str, *, stream: bool = False) -> Address | None:
    """The address of ``name VALUE`` as nginx reads it at start; None for variables (read
    per request), unix sockets and addresses nginx refuses for other reasons."""
    if "$" in value:
        return None
    schemes = {} if stream else _SCHEMES.get(name, {})
    lowered = value.lower()
    scheme = next((prefix for prefix in schemes if lowered.startswith(prefix)), "")
    if name == "proxy_pass" and not stream:
        if not scheme or proxy_url_problem(value):
            return None
    elif backend_address_problem(value, tuple(schemes)):
        return None
    rest = value[len(scheme) :]
    if rest[:5].lower() == "unix:":
        return None
    authority = rest
    for stop in "/?":
        authority = authority.partition(stop)[0]
    if authority.startswith("["):
        end = authority.find("]") + 1
        host, written = authority[:end], authority[end + 1 :]
    else:
        host, _, written = authority.partition(":")
    default = schemes.get(scheme, 0)
    return Address(host, int(written) if written else default, written, default)


@dataclass(slots=True)
class _Entry:
    """One entry of nginx's upstream list."""

    port: int
    no_port: bool
    maker: Directive  # the pass (or upstream) that added it
    members: list[tuple[Directive, Address]] = field(default_factory=list)
    declared: Directive | None = None  # the upstream{} that made it explicit


# An event in reading order: a pass with its address, or an upstream{} (address None).
Event = tuple[Directive, Address | None]


def resolve(events: Iterable[Event]) -> dict[int, Outcome]:
    """The outcome of each pass (by id) whose host is the name of an upstream{}, for
    ``events`` of one module in the order nginx reads them.

    nginx stops at its first refusal. To name every refused pass, and what the others get
    once those lose their ports, the reading is done again with the ports an upstream{}
    refused taken away, until it refuses none more (each round takes one away at least).
    """
    timeline = list(events)
    written = {id(directive): address for directive, address in timeline if address is not None}
    refusals: dict[int, str] = {}
    while True:
        found, at_pass, at_upstream = _read(timeline)
        refusals.update(at_pass)
        if not at_upstream.keys() - refusals.keys():
            break
        refusals.update(at_upstream)
        timeline = [
            (
                directive,
                address.portless() if address is not None and id(directive) in at_upstream else address,
            )
            for directive, address in timeline
        ]
    return {
        key: Outcome(outcome.upstream, written[key], outcome.declared, refusals.get(key, ""))
        for key, outcome in found.items()
    }


def _read(events: Sequence[Event]) -> tuple[dict[int, Outcome], dict[int, str], dict[int, str]]:
    """One reading: the outcomes, the passes refused where they stand, and those an
    upstream{} below them refuses."""
    entries: dict[str, list[_Entry]] = {}
    refusals: dict[int, str] = {}
    declared_refusals: dict[int, str] = {}
    for directive, address in events:
        if address is None:
            _declare(entries, directive, declared_refusals)
            continue
        same = entries.setdefault(address.host.lower(), [])
        for entry in same:
            if entry.declared is not None and address.written:
                refusals[id(directive)] = f'upstream "{address.host}" may not have port {address.port}'
                entry.members.append((directive, address))
                break
            if entry.port and address.port and entry.port != address.port:
                continue
            entry.members.append((directive, address))
            break
        else:
            same.append(_Entry(address.port, not address.written, directive, [(directive, address)]))
    found: dict[int, Outcome] = {}
    for key, same in entries.items():
        declared = next((entry.declared for entry in same if entry.declared is not None), None)
        if declared is None:
            continue  # no upstream{} of that name: every pass has its implicit upstream
        for entry in same:
            upstream = key if entry.declared is not None else None
            for member, address in entry.members:
                found[id(member)] = Outcome(upstream, address, declared)
    return found, refusals, declared_refusals


def _declare(entries: dict[str, list[_Entry]], directive: Directive, refusals: dict[int, str]) -> None:
    """``upstream NAME {}``: it takes over the first entry of NAME (a second upstream{} of
    the name is nginx's "duplicate upstream", not judged here)."""
    name = directive.args[0]
    same = entries.setdefault(name.lower(), [])
    if not same:
        same.append(_Entry(0, True, directive, declared=directive))
        return
    first = same[0]
    if first.declared is not None:
        return
    if not first.no_port:
        refusals[id(first.maker)] = f'upstream "{name}" may not have port {first.port}'
    first.declared, first.port = directive, 0


def _needs_order(addresses: Sequence[Address]) -> bool:
    """Whether the order of the passes and the upstream{} of one name can change the
    outcome: only a written port, or passes whose ports differ (http:// and https://)."""
    port = 0
    for address in addresses:  # a loop, not two passes: asked for every upstream{} used
        if address.written:
            return True
        if address.port and port and address.port != port:
            return True
        port = port or address.port
    return False


# The contexts whose blocks the upstream indexes read (upstream{}, map{}, server{}).
_SOUGHT = ("upstream", "map", "server")


@per_config
def context_blocks(config: NginxConfig) -> dict[str, list[Block]]:
    """The ``upstream``, ``map`` and ``server`` blocks, each in walk order: found in one walk
    of the 70,000 blocks of 10,000 servers, not in one walk for each index that wants them."""
    found: dict[str, list[Block]] = {context: [] for context in _SOUGHT}
    for block in config.top.walk():
        same = found.get(block.context)
        if same is not None:
            same.append(block)
    return found


@per_config
def pass_lines(config: NginxConfig) -> list[tuple[Block, Directive]]:
    """Each ``*_pass`` line (by name: stream's ``proxy_pass`` too) with the block that holds
    it, in reading order: found once among the directives of every block (70,000 blocks
    at 10,000 servers) for the rules and indexes that read them."""
    return [
        (block, child) for block in config.top.walk() for child in block.children if child.name in HTTP_PASSES
    ]


@per_config
def config_outcomes(config: NginxConfig) -> dict[int, Outcome]:
    """:func:`resolve` over a whole configuration, both modules: the outcome of each
    literal pass (by the id of its directive) whose host is an upstream{}'s name."""
    upstreams: dict[tuple[bool, str], list[Block]] = {}
    for block in context_blocks(config)["upstream"]:
        directive = block.directive
        if directive is not None and directive.args:
            upstreams.setdefault((block.in_stream(), directive.args[0].lower()), []).append(block)
    if not upstreams:
        return {}
    passes: dict[tuple[bool, str], list[tuple[Directive, Block, Address]]] = {}
    read: dict[tuple[str, str, bool], Address | None] = {}  # the same lines repeat across servers
    for block, child in pass_lines(config):
        context = block.context
        if block.directive is None:
            continue
        stream = context == "server" and block.in_stream()
        if context not in _PASS_BLOCKS and not stream:
            continue
        if (child.name == "proxy_pass" or not stream) and child.args:
            line = (child.name, child.args[0], stream)
            if line in read:
                address = read[line]
            else:
                address = read[line] = pass_address(child.name, child.args[0], stream=stream)
            if address is not None:
                passes.setdefault((stream, address.host.lower()), []).append((child, block, address))
    found: dict[int, Outcome] = {}
    position = _Positions()
    for key, named in upstreams.items():
        using = passes.get(key)
        if not using:
            continue
        declared = named[0].directive
        assert declared is not None
        if not _needs_order([address for _, _, address in using]):
            # One outcome for each address (``read`` gives a line's passes one): the same
            # pass is written in thousands of servers.
            made: dict[int, Outcome] = {}
            for directive, _, address in using:
                outcome = made.get(id(address))
                if outcome is None:
                    outcome = made[id(address)] = Outcome(key[1], address, declared)
                found[id(directive)] = outcome
            continue
        timeline: list[tuple[tuple[int, ...], Event]] = [
            (position.of(directive, block), (directive, address)) for directive, block, address in using
        ]
        for upstream in named:
            assert upstream.directive is not None and upstream.parent is not None
            timeline.append((position.of(upstream.directive, upstream.parent), (upstream.directive, None)))
        timeline.sort(key=lambda item: item[0])
        found.update(resolve(event for _, event in timeline))
    return found


_SCAN = 16  # children of a block found by a scan; an index above that


class _Positions:
    """Where a directive stands in reading order: the indexes of it and of its blocks
    among their siblings (each block's siblings indexed once)."""

    def __init__(self) -> None:
        self._indexes: dict[int, dict[int, int]] = {}
        self._blocks: dict[int, tuple[int, ...]] = {}

    def of(self, directive: Directive, block: Block) -> tuple[int, ...]:
        return (*self._of_block(block), self._index(block, directive))

    def _of_block(self, block: Block) -> tuple[int, ...]:
        found = self._blocks.get(id(block))
        if found is None:
            parent = block.parent
            found = () if parent is None or block.directive is None else self.of(block.directive, parent)
            self._blocks[id(block)] = found
        return found

    def _index(self, block: Block, directive: Directive) -> int:
        children = block.children
        if len(children) <= _SCAN:
            return next(i for i, child in enumerate(children) if child is directive)
        index = self._indexes.get(id(block))
        if index is None:
            index = self._indexes[id(block)] = {id(child): i for i, child in enumerate(block.children)}
        return index[id(directive)]
