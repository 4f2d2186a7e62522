"""App servers behind nginx (gunicorn, uvicorn, hypercorn), loaded and merged.

Each backend file gives one or more ``Backend``s (``tlslint.sources.python``).
Then:

* a command line that names a config file (``gunicorn -c gunicorn.conf.py``,
  ``hypercorn -c hypercorn.toml``) is merged with it: the command line's flags
  win, the file gives the rest. The file is read even when it was not among
  the paths checked. A gunicorn command without ``-c`` takes the
  ``gunicorn.conf.py`` beside the command file, which gunicorn reads from its
  working directory by default.
* ``[[tool.tlslint.backends]]`` entries (``upstream = "app"``,
  ``config = "deploy/gunicorn.conf.py"``) are kept for linking; the files they
  name are read too.
* a Dockerfile whose ENTRYPOINT/CMD runs a shell script (``["/docker-entrypoint.sh"]``)
  gives the script its ENV and its arguments (CMD's words); the script's backends are
  then the image's (a ``[[backends]]`` entry naming the Dockerfile maps them). The
  script is read even when it was not among the paths checked.
* a command that runs a Python file (``CMD ["python", "main.py"]``, ``command: python
  run.py``) starts the servers that file starts as ``__main__`` (its ``uvicorn.run()``
  calls): found in the command's container, they are that command's, and the compose
  names of its service reach them.

Linking backends to nginx ``upstream{}`` blocks is ``tlslint.checks._backends``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlslint.findings import UNPARSED, Finding
from tlslint.settings import Settings
from tlslint.sources.formats import LoadedText
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python import load as load_source
from tlslint.sources.python.model import Backend, Container, LoadedFile, Problem, PythonRun, Value
from tlslint.sources.python.servers import (
    BIND,
    DEFAULT_BIND,
    DEFAULT_HOST,
    DEFAULT_PORT,
    FD,
    GUNICORN,
    HOST,
    INSECURE_BIND,
    KEEPALIVE,
    PORT,
    UDS,
    UVICORN,
)
from tlslint.sources.python.sniff import (
    DOCKERFILE,
    PYTHON_CONFIG,
    SHELL_SCRIPT,
    TOML_CONFIG,
    file_format,
    script_format,
)
from tlslint.sources.text import SourceError, read_source
from tlslint.units import whole_number
from tlslint.workspace.tier_load import TierLoad

if TYPE_CHECKING:
    from tlslint.filters import Filters
    from tlslint.sources.python.compose import ComposeFile, Service
    from tlslint.sources.python.environment import EnvVar
    from tlslint.sources.python.prefetch import Loaded
    from tlslint.workspace import Workspace
    from tlslint.workspace.compose import ComposeHosts, ComposeLoad

GUNICORN_DEFAULT_CONFIG = "gunicorn.conf.py"
UNLOADED = "BKD001"  # a backend file that did not load


# --------------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class Address:
    """A listening address: TCP host and port, or a unix socket path."""

    host: str = ""  # lower-cased, no brackets
    port: str = ""
    unix: str = ""  # the socket path

    def __str__(self) -> str:
        if self.unix:
            return f"unix:{self.unix}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


WILDCARDS = frozenset({"0.0.0.0", "", "*", "::"})
LOOPBACK_V4 = frozenset({"127.0.0.1", "localhost"})
LOOPBACK_V6 = frozenset({"::1", "localhost"})


def parse_address(text: str, default_port: str = DEFAULT_PORT) -> Address | None:
    """``host:port``, ``[v6]:port``, ``host`` (default port), ``unix:/path``; None for ``fd://``."""
    text = text.strip()
    if text.startswith("unix:"):
        path = text[5:]
        path = path[2:] if path.startswith("//") else path
        return Address(unix=path) if path else None
    if text.startswith("fd://") or not text:
        return None
    text = text.removeprefix("tcp://").removeprefix("http://")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.removeprefix(":") or default_port
    elif text.count(":") > 1:  # a bare IPv6 address
        host, port = text, default_port
    else:
        host, _, port = text.partition(":")
        port = port or default_port
    number = whole_number(port)
    if number is None:
        return None
    return Address(host=host.lower(), port=str(number))


def same_endpoint(backend: Address, nginx: Address) -> bool:
    """Whether nginx connecting to ``nginx`` reaches a server bound to ``backend``.

    Unix sockets match by path. TCP ports must be equal; hosts match when equal,
    when the backend listens on every address (0.0.0.0, ::) and nginx connects
    to a loopback name, or across localhost / 127.0.0.1 / ::1.
    """
    if backend.unix or nginx.unix:
        return bool(backend.unix) and backend.unix == nginx.unix
    if backend.port != nginx.port:
        return False
    if backend.host == nginx.host:
        return True
    if backend.host in ("0.0.0.0", "", "*"):
        return nginx.host in LOOPBACK_V4 or nginx.host in ("0.0.0.0", "")
    if backend.host == "::":
        return nginx.host in LOOPBACK_V4 | LOOPBACK_V6 or nginx.host in ("::", "0.0.0.0")
    if backend.host in LOOPBACK_V4 and nginx.host in LOOPBACK_V4:
        return True
    return backend.host in LOOPBACK_V6 and nginx.host in LOOPBACK_V6


@dataclass(frozen=True)
class Binding:
    """Where a backend listens, as far as the files say."""

    addresses: tuple[Address, ...]
    value: Value | None  # the setting that says so (None: the server's default)
    unknown: str = ""  # why the address cannot be known (computed, set elsewhere)
    unknown_value: Value | None = None  # the computed value, when it is in a file


def binding(backend: Backend) -> Binding:
    if backend.server == UVICORN:
        return _uvicorn_binding(backend)
    values = [v for v in (backend.get(BIND), backend.get(INSECURE_BIND)) if v is not None]
    for value in values:
        if not value.static:
            return Binding((), value, value.reason, value)
    for name in (BIND, INSECURE_BIND):
        if name in backend.unknown and backend.get(name) is None:
            return Binding((), None, backend.unknown[name])
    if not values and backend.port_env is not None:
        port = backend.port_env
        if not port.static:
            return Binding((), port, port.reason, port)
        address = parse_address(f"0.0.0.0:{port.value}")
        return Binding((address,) if address is not None else (), port)
    if not values:
        address = parse_address(DEFAULT_BIND)
        assert address is not None
        return Binding((address,), None)
    found: list[Address] = []
    for value in values:
        items = value.value if isinstance(value.value, list) else [value.value]
        for item in items:
            address = parse_address(str(item)) if item is not None else None
            if address is not None:
                found.append(address)
    return Binding(tuple(found), values[0])


def _uvicorn_binding(backend: Backend) -> Binding:
    uds = backend.get(UDS)
    if uds is not None:
        if not uds.static:
            return Binding((), uds, uds.reason, uds)
        if uds.value:
            return Binding((Address(unix=str(uds.value)),), uds)
    fd = backend.get(FD)
    if fd is not None and fd.value is not None:
        return Binding((), fd, "it listens on an inherited file descriptor (fd)")
    host, port = backend.get(HOST), backend.get(PORT)
    for value in (host, port):
        if value is not None and not value.static:
            return Binding((), value, value.reason, value)
    for name in (HOST, PORT, UDS):
        if name in backend.unknown and backend.get(name) is None:
            return Binding((), None, backend.unknown[name])
    host_text = str(host.value) if host is not None and host.value is not None else DEFAULT_HOST
    port_text = str(port.value) if port is not None and port.value is not None else DEFAULT_PORT
    address = parse_address(f"[{host_text}]:{port_text}" if ":" in host_text else f"{host_text}:{port_text}")
    return Binding((address,) if address is not None else (), port or host)


# --------------------------------------------------------------------------- workspace


@dataclass(frozen=True)
class BackendMapping:
    """``[[backends]] upstream = "app"; config = "deploy/gunicorn.conf.py"``."""

    upstream: str
    config: Path  # resolved


@dataclass
class BackendWorkspace:
    backends: list[Backend] = field(default_factory=list)
    mappings: list[BackendMapping] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sources: dict[Path, SourceText] = field(default_factory=dict)  # by resolved path
    # Whether a finding placed at a backend file is silenced there (inline comment,
    # per-file-ignores); set by the engine. BKD101 is placed in the nginx file by
    # default, and a `# tlslint: disable=BKD101` on the backend's line silences it too.
    suppressed: Callable[[Finding], bool] | None = None
    # What the BKD checks derive alike (their links to upstreams), computed once.
    memo: dict[str, Any] = field(default_factory=dict, repr=False)
    compose: ComposeHosts | None = None  # the names docker-compose gives backends (service, aliases)

    def hosts(self, backend: Backend) -> dict[str, str]:
        """The compose names that reach ``backend`` (name -> the service, for messages)."""
        return self.compose.hosts(backend) if self.compose is not None else {}

    def mapped_by_backend(self) -> dict[int, set[str]]:
        """The upstream names the settings map to each backend (lower-cased), by the
        backend's id; the mappings indexed once, not scanned for each backend."""
        if "mapped_by_backend" in self.memo:  # BKD101-103 all ask
            return self.memo["mapped_by_backend"]  # type: ignore[no-any-return]
        by_config: dict[Path, list[str]] = {}
        for mapping in self.mappings:
            by_config.setdefault(mapping.config, []).append(mapping.upstream.lower())
        found: dict[int, set[str]] = {id(backend): set() for backend in self.backends}
        if by_config:  # no [[backends]]: no file of theirs to resolve
            for backend in self.backends:
                found[id(backend)] = {
                    name for path in backend.files for name in by_config.get(path.resolve(), ())
                }
        self.memo["mapped_by_backend"] = found
        return found

    def mapped_upstreams(self, backend: Backend) -> list[str]:
        """The upstream names the settings map to ``backend``, as written, in the settings'
        order; the mappings indexed once (asked for each backend)."""
        if "mapped" not in self.memo:
            by_config: dict[Path, list[tuple[int, str]]] = {}
            for position, mapping in enumerate(self.mappings):
                by_config.setdefault(mapping.config, []).append((position, mapping.upstream))
            self.memo["mapped"] = by_config
        index: dict[Path, list[tuple[int, str]]] = self.memo["mapped"]
        found = {row for path in {path.resolve() for path in backend.files} for row in index.get(path, ())}
        return [upstream for _, upstream in sorted(found)]

    def is_suppressed(self, finding: Finding) -> bool:
        return self.suppressed is not None and self.suppressed(finding)


BackendLoad = TierLoad[BackendWorkspace]


class _Loader:
    def __init__(
        self, settings: Settings, overlay: Mapping[Path, SourceText], prefetched: Loaded | None = None
    ) -> None:
        self.settings = settings
        self.overlay = overlay
        self.prefetched = prefetched or {}  # Python configs a forked helper loaded
        self.files: dict[Path, LoadedFile] = {}
        self.texts: dict[Path, LoadedText] = {}
        self.sources: dict[Path, SourceText] = {}
        self.problems: list[Problem] = []
        self.read: set[Path] = set()
        self.peeked: dict[Path, SourceText | None] = {}  # read for what they say, not checked

    def peek(self, path: Path) -> SourceText | None:
        """A file read for what it tells of a backend (a compose service's env file, the
        Dockerfile of a service whose command: overrides its CMD, a .dockerignore); None
        when it cannot be read. Its own backends are not loaded."""
        resolved = path.resolve()
        if resolved in self.sources:
            return self.sources[resolved]
        if resolved not in self.peeked:
            try:
                self.peeked[resolved] = self.overlay.get(resolved) or read_source(
                    path, self.settings.max_file_size
                )
            except SourceError:
                self.peeked[resolved] = None
        return self.peeked[resolved]

    def peek_text(self, path: Path) -> str | None:
        found = self.peek(path) if path.is_file() or path.resolve() in self.overlay else None
        return found.text if found is not None else None

    def load(
        self, path: Path, fmt: str, *, mapped: bool = False, server: str | None = None
    ) -> LoadedFile | None:
        resolved = path.resolve()
        if resolved in self.files:
            return self.files[resolved]
        if resolved in self.read:
            return None
        self.read.add(resolved)
        done = self.prefetched.get(resolved) if not mapped and server is None else None
        if done is not None and resolved not in self.overlay:
            source, loaded = done
        else:
            try:
                source = self.overlay.get(resolved) or read_source(path, self.settings.max_file_size)
            except SourceError as error:
                self.problems.append(Problem(path, error.line, error.message))
                return None
            loaded = load_source(source, fmt, mapped=mapped, server=server)
        self.files[resolved] = loaded
        self.texts[resolved] = LoadedText(source, loaded.kind)
        self.sources[resolved] = source
        self.problems.extend(loaded.problems)
        return loaded

    def load_compose(self, path: Path) -> ComposeFile | None:
        """A docker-compose file's services (``tlslint.sources.python.compose``)."""
        from tlslint.sources.python import compose

        resolved = path.resolve()
        if resolved in self.read:
            return None
        self.read.add(resolved)
        try:
            source = self.overlay.get(resolved) or read_source(path, self.settings.max_file_size)
        except SourceError:
            return None  # a deployment file: never reported on (tlslint.deployment)
        loaded = compose.load(source, self.peek_text)
        if loaded.problems:
            return None
        self.texts[resolved] = LoadedText(source, compose.COMPOSE_KIND)
        self.sources[resolved] = source
        return loaded


def _python_source(loader: _Loader, path: Path) -> bool:
    """Whether ``path``, a file whose name says no format (``gunicorn.conf``), parses as
    Python: gunicorn runs its ``-c`` file as Python whatever its name, so a mapped file or
    one a gunicorn command names is read as a Python config when it is one."""
    import ast

    if not (path.is_file() or path.resolve() in loader.overlay):
        return False
    source = loader.peek(path)
    if source is None:
        return False
    try:
        ast.parse(source.text)
    except (SyntaxError, ValueError):
        return False
    return True


def _config_format(loader: _Loader, backend: Backend, path: Path) -> str | None:
    """The format of the config file a command reads (``-c``, or by default)."""
    fmt = file_format(path)
    if fmt is None and backend.server == GUNICORN and _python_source(loader, path):
        return PYTHON_CONFIG
    return fmt


def _config_path(backend: Backend, reference: str) -> Path | None:
    """The file a ``-c`` value names (hypercorn's ``file:`` prefix too); None for ``python:module``."""
    if reference.startswith("python:"):
        return None
    return _beside(backend.path, reference.removeprefix("file:"))


def _beside(command_file: Path, reference: str) -> Path | None:
    """The file ``reference`` names, relative to ``command_file``'s directory."""
    candidate = Path(reference)
    if candidate.is_absolute():
        # A path inside the image or host: try it relative to the command file's directory.
        parts = candidate.parts[1:]
        for index in range(len(parts)):
            tail = command_file.parent.joinpath(*parts[index:])
            if tail.exists():
                return tail
        return None
    return command_file.parent / candidate


def _merge(command: Backend, config: LoadedFile, name: str, implicit: bool) -> Backend | None:
    """The command line's settings over the config file's (same server)."""
    matching = [b for b in config.backends if b.server == command.server and not b.command]
    if not matching:
        return None
    base = matching[0]
    # What the command side may set and does not say (an environment that may hold
    # anything, "$@") is unknown over the file's value: it would win over it.
    settings = {k: v for k, v in {**base.settings, **command.settings}.items() if k not in command.unknown}
    unknown = {**{k: v for k, v in base.unknown.items() if k not in command.settings}, **command.unknown}
    additions = dict(command.additions)
    if KEEPALIVE in base.additions:
        additions[KEEPALIVE] = base.additions[KEEPALIVE]  # add it to the file, not the command
    how = f"reads {name} by default" if implicit else f"-c {name}"
    return replace(
        command,
        label=f"{command.server} ({command.process}, {how})",
        settings=settings,
        unknown=unknown,
        additions=additions,
        files=[*command.files, *base.files],
    )


def load_backends(
    paths: Iterable[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None = None,
    prefetched: Loaded | None = None,
) -> BackendLoad:
    overlay = overlay or {}
    loader = _Loader(settings, overlay, prefetched)
    composed: list[Path] = []
    for path in paths:
        fmt = script_format(path)
        if fmt is not None:
            loader.load(path, fmt)
        elif path.suffix.lower() in (".yml", ".yaml"):
            composed.append(path)  # docker-compose (engine: tlslint.sources.python.compose)
    workspace = BackendWorkspace()
    for entry in settings.backends:
        config = (settings.base / str(entry.get("config", ""))).resolve()
        upstream = str(entry.get("upstream", ""))
        workspace.mappings.append(BackendMapping(upstream, config))
        fmt = script_format(config)
        if fmt is None and _python_source(loader, config):
            fmt = PYTHON_CONFIG  # NetBox's contrib/gunicorn.conf: gunicorn runs any -c file as Python
        if not config.is_file() and config not in overlay:
            origin = settings.source or config
            message = f'[[backends]] config "{entry.get("config")}" (upstream {upstream}) does not exist'
            workspace.problems.append(Problem(origin, 0, message))
        elif fmt is None:
            origin = settings.source or config
            message = (
                f'[[backends]] config "{entry.get("config")}": not a gunicorn, uvicorn or hypercorn '
                "config, Procfile, Dockerfile, systemd unit or shell script"
            )
            workspace.problems.append(Problem(origin, 0, message))
        else:
            loader.load(config, fmt, mapped=True)
    backends: list[Backend] = []
    consumed: set[Path] = set()
    compose: ComposeLoad | None = None
    if composed:
        from tlslint.sources.python.sniff import DOCKERFILE
        from tlslint.workspace.compose import load_compose

        compose = load_compose(
            composed,
            loader.load_compose,
            lambda path: loader.load(path, DOCKERFILE),
            lambda service: _image_backends(loader, service),
            lambda dockerfile: _image_env(loader, dockerfile),
        )
        workspace.compose = compose.hosts
        backends.extend(_resolve_config(loader, b, consumed) for b in compose.backends)
    images: dict[Path, list[Path]] = {}
    run_by_images = _scripts_run_by_dockerfiles(loader, images)
    if workspace.compose:
        # A compose service whose image runs an entrypoint script: its names reach the
        # script's server as they reach a server the Dockerfile's CMD starts.
        by_dockerfile = workspace.compose.by_dockerfile
        for script, dockerfiles in images.items():
            names = {k: v for d in dockerfiles for k, v in by_dockerfile.get(d, {}).items()}
            if names and script not in by_dockerfile:
                by_dockerfile[script] = names
    for resolved, loaded in list(loader.files.items()):  # a -c config read now is not a command file
        if resolved not in run_by_images:
            backends.extend(_resolve_config(loader, b, consumed) for b in loaded.backends if b.command)
    for linked in run_by_images.values():
        backends.extend(_resolve_config(loader, b, consumed) for b in linked)
    backends.extend(_python_runs(loader, compose, consumed))
    for resolved, loaded in loader.files.items():
        if resolved in consumed:
            continue
        backends.extend(b for b in loaded.backends if not b.command)
    workspace.backends = _not_run_where_imported(backends)
    workspace.problems[:0] = loader.problems
    workspace.sources = loader.sources
    peeked = {path for path, text in loader.peeked.items() if text is not None}
    return BackendLoad(workspace, loader.texts, sorted(loader.read | peeked))


def _python_runs(loader: _Loader, compose: ComposeLoad | None, consumed: set[Path]) -> list[Backend]:
    """The servers that the Python files run as scripts start (``CMD ["python", "main.py"]``,
    ``command: python run.py``, ``web: python main.py``): each file's ``uvicorn.run()`` calls
    (guarded or not: it runs as ``__main__``) and hypercorn serve code, as that command's,
    reached by the compose names of the service that runs it. The file is found where the
    command runs: in a container, its working directory filled by the Dockerfile's COPY
    lines or a bind mount (``tlslint.workspace.container``); else beside the command's file.
    A file found this way is read as run, not again on its own."""
    found: list[Backend] = []
    images = compose.images if compose is not None else []
    hosts = compose.hosts if compose is not None else None
    # The services that build each Dockerfile (resolved), indexed at the first run in an
    # image: not every service's Dockerfile resolved again for each run.
    built: dict[Path, list[tuple[Container, dict[str, str]]]] | None = None
    for loaded in list(loader.files.values()):
        for run in loaded.runs:
            if run.image is None:
                found.extend(_run_backends(loader, run, _beside(run.path, run.script), consumed))
                continue
            if built is None:
                built = {}
                for container, names in images:
                    if container.dockerfile is not None:
                        built.setdefault(container.dockerfile.resolve(), []).append((container, names))
            services = list(built.get(run.image.resolve(), ()))
            if not services:  # no compose service builds it: its context is taken to be its directory
                services = [(Container(run.image, "", run.image, run.image.parent), {})]
            for container, names in services:
                path = _in_container(loader, container, run.script)
                found.extend(_named(hosts, _run_backends(loader, run, path, consumed), names))
    for item in compose.runs if compose is not None else ():
        path = _in_container(loader, item.container, item.run.script) if item.container else None
        found.extend(_named(hosts, _run_backends(loader, item.run, path, consumed), item.names))
    return found


def _named(hosts: ComposeHosts | None, backends: list[Backend], names: dict[str, str]) -> list[Backend]:
    """``backends``, which the compose service that ``names`` reach runs: they answer to them."""
    if hosts is not None and names:
        for backend in backends:
            hosts.by_where.setdefault((backend.where, backend.process), {}).update(names)
    return backends


def _in_container(loader: _Loader, container: Container, script: str) -> Path | None:
    """The file of the checkout that ``script`` (relative to the working directory, or
    absolute) is in ``container``; None where nothing puts it there or it cannot be told."""
    import posixpath

    from tlslint.workspace.container import host_file, working_directory

    if posixpath.isabs(script):
        inside = posixpath.normpath(script)
    else:
        cwd, _ = working_directory(container, loader.peek)
        if cwd is None:
            return None
        inside = posixpath.normpath(posixpath.join(cwd, script))
    path, _ = host_file(container, inside, loader.peek)
    return path


def _run_backends(loader: _Loader, run: PythonRun, path: Path | None, consumed: set[Path]) -> list[Backend]:
    if path is None or not (path.is_file() or path.resolve() in loader.overlay):
        return []
    loaded = loader.load(path, PYTHON_CONFIG)
    if loaded is None:
        return []
    # What runs: its calls and serve code, not a config module's settings (line 0), which
    # gunicorn or hypercorn read; nothing runs those as a script.
    started = [b for b in loaded.backends if not b.command and b.where.line > 0]
    if not started:
        return []
    consumed.add(path.resolve())
    return [
        replace(
            backend,
            label=f"{backend.label[:-1]}, run by {run.process})",
            process=run.process,
            main_only=False,  # it is __main__ here
            files=[*backend.files, run.path],
        )
        for backend in started
    ]


def _image_backends(loader: _Loader, service: Service) -> list[Backend]:
    """The servers a service's image starts, in that service's environment: its env_file:
    and environment: over the image's ENV, for the Dockerfile's command and for a script
    that command runs."""
    from tlslint.sources.python import commands, scripts
    from tlslint.sources.python.environment import unknown_environment

    assert service.dockerfile is not None
    source = loader.sources.get(service.dockerfile.resolve())
    if source is None:
        return []
    how = f"with compose {service.name}'s {service.env_label}"
    env = {name: replace(v, start=-1, end=-1) for name, v in service.env.items()}  # spans: the compose file's
    found = commands.started(source, DOCKERFILE, env, how)
    for run in scripts.dockerfile_runs(source, source.path):
        path = _beside(source.path, run.script)
        if path is None or not path.is_file() or script_format(path) != SHELL_SCRIPT:
            continue
        script = loader.sources.get(path.resolve()) or loader.peek(path)
        if script is None:
            continue
        runner = replace(run.runner, env={**run.runner.env, **env}, how=how)
        found.extend(scripts.load(script, runner).backends)
    if service.env_unknown:
        found = [unknown_environment(backend, service.env_unknown) for backend in found]
    return found


def _image_env(loader: _Loader, dockerfile: Path) -> dict[str, EnvVar]:
    from tlslint.sources.python.image import image_env

    source = loader.peek(dockerfile) if dockerfile.is_file() else None
    return image_env(source) if source is not None else {}


def _not_run_where_imported(backends: list[Backend]) -> list[Backend]:
    """Without the ``uvicorn.run()`` calls under ``if __name__ == "__main__":`` of a module
    that a command line in scope imports as its app (``uvicorn main:app`` beside main.py):
    imported, the module is not ``__main__``, so the call never runs where that command
    starts the server (it is how the file is run by hand, ``python main.py``)."""
    modules = [module for b in backends if b.command and (module := b.app_module()) is not None]
    if not modules:
        return backends
    # Each path resolved once, not once for every command line that might import it
    # (1,800 pairs at 10,000 hosts: 2 % of a run).
    resolved = {b.path: b.path.resolve() for b in backends if b.main_only}
    return [b for b in backends if not (b.main_only and any(m.is_file(resolved[b.path]) for m in modules))]


def _scripts_run_by_dockerfiles(
    loader: _Loader, images: dict[Path, list[Path]] | None = None
) -> dict[Path, list[Backend]]:
    """The backends of each shell script a loaded Dockerfile runs, read with the image's
    ENV and CMD (by the script's resolved path); a script two images run has both's.
    ``images`` gets the Dockerfiles that run each script (compose names reach them)."""
    from tlslint.sources.python import scripts

    found: dict[Path, list[Backend]] = {}
    for source in list(loader.sources.values()):
        if file_format(source.path) != DOCKERFILE:
            continue
        for run in scripts.dockerfile_runs(source, source.path):
            path = _beside(source.path, run.script)
            if path is None or not path.is_file() or script_format(path) != SHELL_SCRIPT:
                continue
            if loader.load(path, SHELL_SCRIPT) is None:
                continue
            script = loader.sources[path.resolve()]
            found.setdefault(path.resolve(), []).extend(scripts.load(script, run.runner).backends)
            if images is not None:
                images.setdefault(path.resolve(), []).append(source.path.resolve())
    return found


def _resolve_config(loader: _Loader, backend: Backend, consumed: set[Path]) -> Backend:
    reference = backend.config_ref
    container = backend.container
    # A compose command's config file: where its container has it (python:module aside).
    in_container = reference is None or (
        reference.static and isinstance(reference.value, str) and not reference.value.startswith("python:")
    )
    if container is not None and (backend.server == GUNICORN or reference is not None) and in_container:
        return _resolve_in_container(loader, backend, container, consumed)
    if reference is None:
        if backend.server != GUNICORN:
            return backend
        beside = backend.path.parent / GUNICORN_DEFAULT_CONFIG
        if not beside.is_file() and beside.resolve() not in loader.files:
            return backend
        loaded = loader.load(beside, PYTHON_CONFIG, server=GUNICORN)
        merged = _merge(backend, loaded, GUNICORN_DEFAULT_CONFIG, True) if loaded else None
        if merged is None:
            return backend
        consumed.add(beside.resolve())
        return merged
    if not reference.static or not isinstance(reference.value, str):
        return _unknown_rest(backend, f"may be set in the config file {reference.text}, computed at run time")
    path = _config_path(backend, reference.value)
    if path is None or not (path.is_file() or path.resolve() in loader.files):
        return _unknown_rest(backend, f"may be set in {reference.value} (-c), which was not found")
    fmt = _config_format(loader, backend, path)
    if fmt not in (PYTHON_CONFIG, TOML_CONFIG):
        return _unknown_rest(backend, f"may be set in {reference.value} (-c), which tlslint does not read")
    loaded = loader.load(path, fmt, server=backend.server)
    merged = _merge(backend, loaded, reference.value, False) if loaded else None
    if merged is None:
        return _unknown_rest(backend, f"may be set in {reference.value} (-c), which could not be read")
    consumed.add(path.resolve())
    return merged


def _resolve_in_container(
    loader: _Loader, backend: Backend, container: Container, consumed: set[Path]
) -> Backend:
    """The config file a compose service's command reads, found where it is inside the
    container: its working directory (working_dir:, else the image's WORKDIR), filled by the
    Dockerfile's COPY lines or a bind mount (``tlslint.workspace.container``)."""
    import posixpath

    from tlslint.workspace.container import host_file, working_directory

    reference = backend.config_ref
    written = str(reference.value).removeprefix("file:") if reference is not None else GUNICORN_DEFAULT_CONFIG
    how = f"{written} (-c)" if reference is not None else f"./{written}, which gunicorn reads by default"
    cwd, why = working_directory(container, loader.peek)
    if posixpath.isabs(written):
        inside = posixpath.normpath(written)
    elif cwd is None:
        return _unknown_rest(backend, f"may be set in {how} from its working directory: {why}")
    else:
        inside = posixpath.normpath(posixpath.join(cwd, written))
    path, why = host_file(container, inside, loader.peek)
    if why:
        return _unknown_rest(backend, f"may be set in {how} ({inside} in the container): {why}")
    if path is None:
        if reference is None:
            return backend  # no gunicorn.conf.py where it runs: gunicorn's defaults
        return _unknown_rest(backend, f"may be set in {how}, which is not at {inside} in the container")
    fmt = _config_format(loader, backend, path)
    if fmt not in (PYTHON_CONFIG, TOML_CONFIG):
        return _unknown_rest(backend, f"may be set in {how}, which tlslint does not read")
    loaded = loader.load(path, fmt, server=backend.server)
    shown = os.path.relpath(path, container.compose.parent).replace(os.sep, "/")
    name = shown if reference is None else str(reference.value)
    merged = _merge(backend, loaded, name, reference is None) if loaded is not None else None
    if merged is None:
        return _unknown_rest(backend, f"may be set in {how}, which could not be read")
    consumed.add(path.resolve())
    return merged


def _unknown_rest(backend: Backend, reason: str) -> Backend:
    from tlslint.sources.python.servers import SERVER_FACTS

    names = set(SERVER_FACTS[backend.server].python_names.values())
    unknown = {name: reason for name in names if name not in backend.settings}
    return replace(backend, unknown={**backend.unknown, **unknown}, additions={})


def add_backends(
    workspace: Workspace,
    filters: Filters,
    paths: list[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None,
    prefetched: Loaded | None = None,
) -> BackendLoad:
    """The engine's one call: load the app servers into ``workspace``; their comments suppress."""
    loaded = load_backends(paths, settings, overlay, prefetched)
    backends = loaded.workspace
    loaded.findings = unloaded_findings(backends.problems)
    if backends.backends or backends.problems:
        workspace.backends = backends
    for path, text in loaded.texts.items():
        if text.kind == "python":
            filters.python_sources[path] = text.source
        else:  # TOML, Procfile, Dockerfile and systemd comments are `#` lines too
            filters.yaml_sources[path] = text.source
    backends.suppressed = lambda finding: not filters.keep(finding)
    return loaded


def unloaded_findings(problems: list[Problem]) -> list[Finding]:
    """A backend file that did not load (unreadable, not Python or TOML, a mapped file
    missing): a BKD001 error, and the run exits 2, as for every format."""
    from tlslint.checks import file_location
    from tlslint.engine import load_finding

    # The same problem twice: the engine keeps one.
    return [
        load_finding(UNLOADED, file_location(problem.path, problem.line), problem.message, UNPARSED)
        for problem in problems
    ]
