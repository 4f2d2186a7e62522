"""Backends ↔ nginx upstreams, and the keep-alive timeouts on both sides (BKD101-BKD103).

Facts (../shared/facts/nginx.md §3):

* nginx closes an idle upstream connection after the upstream's
  ``keepalive_timeout`` (default 60s). That directive appeared in 1.15.3 (§1):
  before it an idle pooled connection had no timeout of nginx's own, and left the
  pool only when the backend closed it or the pool was full. nginx ignores the backend's
  ``Keep-Alive: timeout=`` header, so it cannot learn the backend's timeout.
* A backend that closes an idle connection first races nginx sending the next
  request on it: the request meets a closed connection. nginx retries an
  idempotent request on a new connection, but not a POST (not since 1.9.13,
  unless ``proxy_next_upstream ... non_idempotent``): 502 "upstream
  prematurely closed connection".
* Upstream keep-alive is on with an explicit ``keepalive N``, and by default
  (``32 local``) in every upstream{} since nginx 1.29.7.

Linking: a backend reaches an upstream{} when one of the upstream's ``server``
addresses is where the backend listens (host:port, with 0.0.0.0 / :: / localhost
/ 127.0.0.1 equivalences; unix socket paths), or when the settings map it
(``[[backends]] upstream = "app"; config = "..."``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tlslint import nginx_values
from tlslint.checks import RuleContext, directive_location
from tlslint.checks._upstream import (
    http_upstreams,
    keepalive_line,
    keepalive_on,
    never_reuses,
    unique_blocks,
    upgrade_maps,
    upstream_users,
    websocket_only,
)
from tlslint.findings import Edit, Finding, Location, Related
from tlslint.nginx_edits import insert_directive, replace_argument
from tlslint.nginx_versions import UPSTREAM_KEEPALIVE_DEFAULT, UPSTREAM_KEEPALIVE_TIMEOUT_DEFAULT
from tlslint.sources.nginx.model import Directive
from tlslint.sources.python.model import PYTHON, TOML, Backend, Value
from tlslint.sources.python.servers import (
    GUNICORN,
    KEEPALIVE,
    SERVER_FACTS,
    THREADS,
    UVICORN,
    WORKER_CLASS,
    becomes_gthread,
    is_known_keepalive_worker,
    is_sync,
    is_uvicorn_worker,
)
from tlslint.units import parse_time
from tlslint.workspace import Workspace
from tlslint.workspace.backends import (
    WILDCARDS,
    Address,
    BackendWorkspace,
    binding,
    parse_address,
    same_endpoint,
)
from tlslint.workspace.nginx import Block, NginxConfig

NGINX_SIDE, BACKEND_SIDE = "nginx", "backend"
BACKEND_MARGIN = 5  # seconds above nginx's timeout when the backend's is raised
NGINX_MARGIN_MS = 1000  # nginx's timeout goes one second below the backend's


# --------------------------------------------------------------------------- links


@dataclass(frozen=True)
class Link:
    config: NginxConfig
    upstream: Block
    server: Directive | None  # the upstream's `server` line that reaches the backend
    backend: Backend
    by_settings: bool  # linked by [[backends]] in the settings
    via: str = ""  # the compose service whose name the server line uses: "compose service api (...)"
    # Whether a location that uses the upstream may reuse a pooled connection: False when
    # each one defeats keep-alive (NGX211's reasons), so no request waits on an idle one.
    reused: bool = True

    @property
    def name(self) -> str:
        directive = self.upstream.directive
        assert directive is not None
        return directive.args[0]


def links(workspace: Workspace) -> list[Link]:
    """Every (upstream{}, backend) pair, once each.

    An upstream that only WebSocket locations use is left out: an upgraded
    connection never goes back to the pool, so no request waits on an idle one. One whose
    locations all defeat keep-alive is linked with ``reused`` False: BKD101-BKD103 skip it
    (every request opens a new connection: NGX211), NGX210's fix, which makes them reuse
    connections, still sets its timeout below the backend's.
    """
    backends = workspace.backends
    if backends is None or not workspace.nginx:
        return []
    if "links" not in backends.memo:  # BKD101-103 all ask
        backends.memo["links"] = _links(workspace, backends)
    return backends.memo["links"]  # type: ignore[no-any-return]


def upstream_links(workspace: Workspace, upstream: Block) -> list[Link]:
    """The links of one upstream{} (asked by NGX210's and NGX211's fixes, per finding)."""
    backends = workspace.backends
    if backends is None:
        return []
    if "by_upstream" not in backends.memo:
        index: dict[int, list[Link]] = {}
        for link in links(workspace):
            index.setdefault(id(link.upstream), []).append(link)
        backends.memo["by_upstream"] = index
    return backends.memo["by_upstream"].get(id(upstream), [])  # type: ignore[no-any-return]


def _links(workspace: Workspace, backends: BackendWorkspace) -> list[Link]:
    found: list[Link] = []
    seen: set[tuple[int, int]] = set()
    mapped = backends.mapped_by_backend()
    # What each backend answers to, asked once for every configuration.
    reaching = [
        (backend, mapped.get(id(backend), set()), reachable_at(backends, backend), backends.hosts(backend))
        for backend in backends.backends
    ]
    for config in workspace.nginx:
        upstreams = unique_blocks(http_upstreams(config).values())  # upstream_users' order
        # Indexed once per configuration: 10,000 backends each asking 10,000 upstreams
        # is 10^8 comparisons. Candidates come by name and by port (or socket path),
        # then are tried in text order, as a scan of every upstream would.
        by_name: dict[str, list[int]] = {}
        by_endpoint: dict[str, list[int]] = {}
        servers: list[list[tuple[Directive, Address]]] = []
        for position, upstream in enumerate(upstreams):
            directive = upstream.directive
            assert directive is not None
            by_name.setdefault(directive.args[0].lower(), []).append(position)
            parsed = []
            for line in upstream.all("server"):
                target = parse_address(line.args[0], default_port="80") if line.args else None
                if target is not None:
                    parsed.append((line, target))
                    by_endpoint.setdefault(_endpoint_key(target), []).append(position)
            servers.append(parsed)
        # Whether the locations that use an upstream may reuse its connections, asked of
        # the upstreams some backend may reach only (a few of thousands): a configuration
        # that none reaches is spared its *_pass targets and its versions.
        reuse: dict[int, bool | None] = {}
        for backend, names, addresses, hosts in reaching:
            candidates = {p for name in names for p in by_name.get(name.lower(), ())}
            candidates.update(p for a in addresses for p in by_endpoint.get(_endpoint_key(a), ()))
            for position in sorted(candidates):
                upstream = upstreams[position]
                if position not in reuse:
                    reuse[position] = _reused(workspace, config, upstream, position)
                reused = reuse[position]
                if reused is None:
                    continue  # only WebSocket locations use it
                directive = upstream.directive
                assert directive is not None
                key = (id(directive), id(backend))
                if key in seen:
                    continue
                if directive.args[0].lower() in names:
                    seen.add(key)
                    found.append(Link(config, upstream, None, backend, True, reused=reused))
                    continue
                reached = _reaching_server(servers[position], addresses)
                if reached is not None:
                    seen.add(key)
                    server, target = reached
                    found.append(
                        Link(config, upstream, server, backend, False, hosts.get(target.host, ""), reused)
                    )
    return found


def _reused(workspace: Workspace, config: NginxConfig, upstream: Block, position: int) -> bool | None:
    """Whether the connections of ``upstream`` (the ``position``-th of ``upstream_users``)
    may be reused: None when only WebSocket locations use it (an upgraded connection never
    goes back to the pool: no link), False when each of its locations defeats keep-alive
    (linked still: NGX210's fix makes them reuse it)."""
    used, users = upstream_users(config)[position]
    assert used is upstream
    if users and all(u.module == "proxy" and websocket_only(u.location) for u in users):
        return None
    versions = workspace.nginx_versions(config)
    maps = upgrade_maps(config)
    return not (
        users
        and all(
            u.module == "proxy" and (websocket_only(u.location) or never_reuses(u, versions, maps))
            for u in users
        )
    )


def reachable_at(backends: BackendWorkspace, backend: Backend) -> tuple[Address, ...]:
    """Where nginx can reach ``backend``: where it listens, and, where it listens on every
    address of its container, the names docker-compose gives it (``api:8000``)."""
    addresses = binding(backend).addresses
    hosts = backends.hosts(backend)
    if not hosts:
        return addresses
    named = [
        Address(host=host, port=address.port)
        for address in addresses
        if not address.unix and address.host in WILDCARDS
        for host in hosts
    ]
    return (*addresses, *named)


def racing(backends: Iterable[Backend], nginx_seconds: float) -> tuple[float, str] | None:
    """The lowest idle timeout among ``backends`` that closes idle connections no later than
    nginx would (``nginx_seconds``): BKD101's race once keep-alive is on; and whose it is."""
    lowest: tuple[float, str] | None = None
    for backend in backends:
        seconds = backend_timeout(backend).seconds
        if seconds is not None and seconds <= nginx_seconds and (lowest is None or seconds < lowest[0]):
            lowest = (seconds, f"{backend.server}'s idle timeout of {show_seconds(seconds)}")
    return lowest


def sync_worker(backend: Backend) -> str:
    """How ``backend`` comes to run gunicorn's sync worker, for a message ("worker_class
    sync", "the default worker class, sync"); '' when it runs another worker or server."""
    if backend.server != GUNICORN:
        return ""
    timeout = backend_timeout(backend)
    if not timeout.sync:
        return ""
    return (
        f"worker_class {timeout.worker.text}"
        if timeout.worker is not None
        else "the default worker class, sync"
    )


def sync_worker_note(backends: Iterable[Backend], what: str) -> str:
    """Why keep-alive is not added in front of ``backends`` when one is gunicorn's sync
    worker (BKD102's question: it closes every connection after its response, so a pool
    would hold nothing, and the fix would create BKD102's finding); '' when none is.
    ``what``: the fix withheld ("add keepalive to upstream app")."""
    for backend in backends:
        chosen = sync_worker(backend)
        if not chosen:
            continue
        return (
            f"no automatic fix: {backend.label} runs gunicorn's sync worker ({chosen}), which closes each "
            "connection after its response, so a pool would hold none (BKD102); keep-alive needs another "
            "worker class (gthread with threads > 1, gevent, eventlet, or uvicorn.workers.UvicornWorker): "
            f"change it, then {what}"
        )
    return ""


def backends_at(workspace: Workspace, address: str) -> list[Backend]:
    """The app servers that nginx connecting to ``address`` (an implicit upstream's
    ``host:port`` or ``unix:/path``) reaches, as ``links`` would reach them from an
    upstream{} with that ``server`` line."""
    backends = workspace.backends
    if backends is None:
        return []
    # Once per address: implicit upstreams repeat theirs across servers (322 of them
    # pass to 135 addresses at 1,000 hosts).
    answers: dict[str, list[Backend]] = backends.memo.setdefault("at_address", {})
    found = answers.get(address)
    if found is None:
        found = answers[address] = _backends_at(backends, address)
    return found


def _backends_at(backends: BackendWorkspace, address: str) -> list[Backend]:
    target = parse_address(address, default_port="80")
    if target is None:
        return []
    if "by_endpoint" not in backends.memo:  # asked for each implicit upstream
        index: dict[str, list[tuple[Backend, tuple[Address, ...]]]] = {}
        for backend in backends.backends:
            addresses = reachable_at(backends, backend)
            for key in {_endpoint_key(a) for a in addresses}:
                index.setdefault(key, []).append((backend, addresses))
        backends.memo["by_endpoint"] = index
    candidates = backends.memo["by_endpoint"].get(_endpoint_key(target), [])
    return [backend for backend, at in candidates if any(same_endpoint(a, target) for a in at)]


def _endpoint_key(address: Address) -> str:
    """What two endpoints that ``same_endpoint`` matches have in common: the socket
    path, or the TCP port."""
    return f"unix:{address.unix}" if address.unix else address.port


def _reaching_server(
    servers: list[tuple[Directive, Address]], addresses: tuple[Address, ...]
) -> tuple[Directive, Address] | None:
    """The first of an upstream's ``server`` lines (with their parsed addresses) that
    reaches one of ``addresses``."""
    for server, target in servers:
        if any(same_endpoint(address, target) for address in addresses):
            return server, target
    return None


def has_keepalive_upstreams(workspace: Workspace) -> bool:
    """Whether any http upstream{} may keep connections (a backend could race it)."""
    for config in workspace.nginx:
        versions = workspace.nginx_versions(config)
        for upstream in unique_blocks(http_upstreams(config).values()):
            if keepalive_on(upstream, versions) is not False:
                return True
    return False


# --------------------------------------------------------------------------- timeouts


@dataclass(frozen=True)
class BackendTimeout:
    """How long the backend keeps an idle connection."""

    seconds: float | None  # None: it keeps none (sync worker, 0), or unknown
    value: Value | None  # where it is set; None: the server's default
    setting: str  # as the backend spells it: keepalive, timeout_keep_alive, --keep-alive, ...
    how: str  # for messages: "keepalive = 2", "gunicorn's default keepalive of 2s"
    unknown: str = ""  # why it cannot be known
    unknown_value: Value | None = None
    sync: bool = False  # gunicorn's sync worker: closes every connection
    worker: Value | None = None  # the worker_class that decides
    custom: bool = False  # a worker class of the app's own decides (not a literal to write)


def _seconds(value: Value) -> float | None:
    number = value.value
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return None
    return float(number)


def _how_set(value: Value, *, command: bool) -> str:
    """How a setting is written, for messages: "keepalive = 5", "--keep-alive 5",
    "UVICORN_TIMEOUT_KEEP_ALIVE=10", "--keep-alive 5 in GUNICORN_CMD_ARGS"."""
    if value.env.startswith("UVICORN_"):
        return f"{value.env}={value.text}"
    # A command's setting read from its config file is written as the file writes it.
    command = command and value.style not in (PYTHON, TOML)
    written = f"{value.name} {value.text}" if command else f"{value.name} = {value.text}"
    return f"{written} in {value.env}" if value.env else written


def show_seconds(seconds: float) -> str:
    return f"{int(seconds)}s" if float(seconds).is_integer() else f"{seconds:g}s"


def backend_timeout(backend: Backend) -> BackendTimeout:
    facts = SERVER_FACTS[backend.server]
    name = facts.keepalive_flag if backend.command else facts.keepalive_name
    worker: Value | None = None
    under_uvicorn = ""
    if backend.server == GUNICORN:
        worker = backend.get(WORKER_CLASS)
        if worker is not None and not worker.static:
            return BackendTimeout(None, None, name, "", f"its worker class {worker.reason}", worker)
        if worker is None and WORKER_CLASS in backend.unknown:
            return BackendTimeout(None, None, name, "", f"its worker class {backend.unknown[WORKER_CLASS]}")
        worker_class = str(worker.value) if worker is not None else "sync"
        if becomes_gthread(worker_class):
            threads = backend.get(THREADS)
            if threads is not None and not threads.static:
                return BackendTimeout(None, None, name, "", f"its threads setting {threads.reason}", threads)
            if threads is None and THREADS in backend.unknown:
                return BackendTimeout(None, None, name, "", f"its threads setting {backend.unknown[THREADS]}")
            count = _seconds(threads) if threads is not None else 1.0
            if count is not None and count > 1:
                worker_class = "gthread"  # gunicorn runs gthread in its place
        if is_sync(worker_class):
            return BackendTimeout(None, None, name, "", sync=True, worker=worker)
        if not is_known_keepalive_worker(worker_class):
            # A class of the app's own (a subclass of SyncWorker keeps nothing, one of
            # UvicornWorker may set its own timeout): gunicorn's keepalive is not known to apply.
            assert worker is not None  # the default, sync, is known
            why = (
                f"its worker class {worker.text} is not one of gunicorn's or uvicorn's: that class "
                "decides whether idle connections are kept, and for how long"
            )
            return BackendTimeout(None, None, name, "", why, worker, worker=worker, custom=True)
        if is_uvicorn_worker(worker_class):
            under_uvicorn = ", which UvicornWorker passes to uvicorn as timeout_keep_alive"
    value = backend.get(KEEPALIVE)
    if value is not None and not value.static:
        return BackendTimeout(None, value, name, "", f"{value.name} is {value.reason}", value, worker=worker)
    if value is None and KEEPALIVE in backend.unknown:
        return BackendTimeout(None, None, name, "", f"{name} {backend.unknown[KEEPALIVE]}", worker=worker)
    if value is not None:
        seconds = _seconds(value)
        if seconds is None:
            return BackendTimeout(
                None, value, name, "", f"{value.name} is not a number ({value.text})", value
            )
        how = _how_set(value, command=bool(backend.command))
    else:
        seconds = facts.default_keepalive
        how = f"{backend.server}'s default {name} of {show_seconds(seconds)}"
        if backend.server == UVICORN and backend.command:
            how = f"uvicorn's default --timeout-keep-alive of {show_seconds(seconds)}"
    if seconds <= 0:
        return BackendTimeout(None, value, name, how + under_uvicorn, worker=worker)
    return BackendTimeout(seconds, value, name, how + under_uvicorn, worker=worker)


@dataclass(frozen=True)
class NginxTimeout:
    seconds: float
    directive: Directive | None  # keepalive_timeout in the upstream; None: the 60s default

    @property
    def shown(self) -> str:
        if self.directive is None:
            return f"{UPSTREAM_KEEPALIVE_TIMEOUT_DEFAULT}, the default"
        return " ".join(self.directive.args)


def upstream_timeout(upstream: Block) -> NginxTimeout | None:
    line = upstream.last("keepalive_timeout")
    if line is None:
        default = parse_time(UPSTREAM_KEEPALIVE_TIMEOUT_DEFAULT)
        assert default is not None
        return NginxTimeout(default, None)
    value = nginx_values.seconds(line.args[0], in_seconds=False) if line.args else None
    return NginxTimeout(value, line) if value is not None else None


def keepalive_wording(link: Link, workspace: Workspace) -> tuple[bool | None, str]:
    """Whether the link's upstream keeps connections, and how to say why."""
    upstream = link.upstream
    versions = workspace.nginx_versions(link.config)
    state = keepalive_on(upstream, versions)
    line = keepalive_line(upstream)
    if line is not None:
        return state, f"keepalive {' '.join(line.args)}"
    if state:
        why = "" if versions.set_by_setting else f"; {versions.settled(UPSTREAM_KEEPALIVE_DEFAULT)}"
        return state, f"keep-alive is on by default since nginx 1.29.7{why}"
    if state is None:
        return state, (
            "it has no keepalive line, so whether it keeps connections depends on the nginx version "
            f"(on by default since 1.29.7; {versions.unsettled()}; set nginx.version to decide)"
        )
    return state, "no keepalive"


# --------------------------------------------------------------------------- locations


def backend_anchor(backend: Backend, value: Value | None) -> Location:
    """A backend finding's place: the setting's line; for a default, where it listens or starts."""
    if value is not None:
        return value.location
    bound = binding(backend).value
    if bound is not None:
        return bound.location
    return backend.where


def upstream_anchor(upstream: Block, timeout: NginxTimeout | None) -> Location:
    """An nginx finding's place: keepalive_timeout, else keepalive, else the upstream line."""
    if timeout is not None and timeout.directive is not None:
        return directive_location(timeout.directive)
    line = keepalive_line(upstream)
    if line is not None:
        return directive_location(line)
    assert upstream.directive is not None
    return directive_location(upstream.directive)


def suppressed_at_backend(ctx: RuleContext, workspace: Workspace, location: Location) -> bool:
    """A ``# tlslint: disable=CODE`` on the backend's line silences a finding placed in nginx."""
    backends = workspace.backends
    if backends is None:
        return False
    probe = Finding(ctx.meta.code, ctx.meta.name, ctx.meta.severity, "", location)
    return backends.is_suppressed(probe)


def related_backend(backend: Backend, value: Value | None, message: str) -> Related:
    return Related(backend_anchor(backend, value), message)


def reach_note(link: Link) -> Related | None:
    """The upstream's ``server`` line that reaches the backend, and where the backend
    listens; an address that is the server's default says so (nothing in its files sets
    one: started elsewhere with another, the link does not hold)."""
    if link.server is None:
        return None
    backend = link.backend
    bound = binding(backend)
    shown = ", ".join(str(a) for a in bound.addresses) or "its address"
    via = f" as {link.via}" if link.via else ""
    inside = " inside its container" if link.via else ""
    default = f" ({backend.server}'s default: no address is set in its files)" if bound.value is None else ""
    return Related(
        directive_location(link.server),
        f"reaches {backend.server}{via}, which listens on {shown}{inside}{default}",
    )


# --------------------------------------------------------------------------- edits


def nginx_value(milliseconds: int) -> str:
    return f"{milliseconds // 1000}s" if milliseconds % 1000 == 0 else f"{milliseconds}ms"


def nginx_target(backend_seconds: float) -> int:
    """Milliseconds for the upstream keepalive_timeout: one second below the backend's
    idle timeout (half of it when that is a second or less)."""
    total = int(backend_seconds * 1000)
    if total > NGINX_MARGIN_MS:
        return total - NGINX_MARGIN_MS
    return max(total // 2, 1)


def backend_target(nginx_seconds: float) -> int:
    """Seconds for the backend's idle timeout: above nginx's, by BACKEND_MARGIN."""
    return math.ceil(nginx_seconds) + BACKEND_MARGIN


def nginx_edit(upstream: Block, value: str) -> Edit | None:
    """Set ``keepalive_timeout`` in the upstream's own block; None when the line is in an include."""
    directive = upstream.directive
    if directive is None or directive.block is None:
        return None
    line = upstream.last("keepalive_timeout")
    if line is not None:
        if line.parent is not directive or not line.args:
            return None
        return replace_argument(line, 0, value)
    own = directive.block
    keepalive = keepalive_line(upstream)
    after = (
        keepalive if keepalive is not None and keepalive.parent is directive else (own[-1] if own else None)
    )
    return insert_directive(directive.source, directive, own, f"keepalive_timeout {value};", after)


def backend_written(backend: Backend, timeout: BackendTimeout, seconds: int) -> tuple[str, Path] | None:
    """What ``backend_edits`` writes, as it reads, and the file it writes it in:
    (``keepalive = 65``, gunicorn.conf.py) for a gunicorn the Dockerfile's CMD starts and
    whose gunicorn.conf.py the new line goes in."""
    if timeout.value is not None:
        return (timeout.value.written(str(seconds)), timeout.value.path) if timeout.value.editable else None
    addition = backend.additions.get(KEEPALIVE)
    return (addition.written(str(seconds)), addition.path) if addition is not None else None


_VARIABLE_NAME = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


def not_edited(backend: Backend, timeout: BackendTimeout, above: str) -> tuple[Path, str]:
    """Why ``backend_edits`` has no edit (the file, and the reason), for a fix note:
    ``fix-side = "backend"`` then falls back to nginx's side. ``above`` is nginx's timeout."""
    value = timeout.value
    if backend.shared:
        return backend.path, backend.shared
    if value is None:
        return backend.path, (
            "its command line is written where tlslint adds no flag (an sh -c script, a quoted or "
            "block-list command:)"
        )
    if value.env:
        return value.path, f"it is set in {value.env}, which tlslint reads but does not edit"
    variables = list(dict.fromkeys(_VARIABLE_NAME.findall(value.text)))
    if variables:
        names = " and ".join(f"${name}" for name in variables)
        return value.path, (
            f"{value.name} {value.text} takes its value from {names} when it runs, and tlslint does "
            f"not edit a variable: give {' and '.join(variables)} a value above {above}"
        )
    return value.path, (
        f"{value.name} {value.text} is inside a quoted string (an sh -c script, a quoted command:), "
        "which tlslint reads but does not edit"
    )


def backend_edits(backend: Backend, timeout: BackendTimeout, seconds: int) -> tuple[Edit, ...] | None:
    """Write the backend's idle timeout: its value's token, or a new setting."""
    if timeout.value is not None:
        edit = timeout.value.replace(str(seconds))
        return (edit,) if edit is not None else None
    addition = backend.additions.get(KEEPALIVE)
    return addition.edits(str(seconds)) if addition is not None else None
