"""docker-compose services that run gunicorn, uvicorn or hypercorn, and the names other
containers reach them by.

A service's app server is started by its own ``command:`` / ``entrypoint:`` (string or
list form; an ``entrypoint:`` list takes ``command:``'s words after it), else by the
final stage of the Dockerfile its ``build:`` names (``build: ./api``, or ``context`` +
``dockerfile``). An ``image:`` alone names no Dockerfile in scope: nothing runs there
as far as tlslint can tell.

Other containers on the service's network reach it by its service name, its
``container_name:``, its ``hostname:`` and its network ``aliases:`` (Docker's embedded
DNS), on the port the server binds inside the container: ``ports:`` publishes a port on
the host, for clients outside Docker, and changes nothing for another container
("service-to-service communication uses the CONTAINER_PORT", Docker's "Networking in
Compose"). Nothing links where that cannot be known: a service whose
``network_mode:`` is set, a ``build:`` with a ``target:`` stage or a remote context,
templated names (``container_name: ${NAME}``).

A service's ``env_file:`` files (``tlslint.sources.python.dotenv``) and its
``environment:`` are its container's environment, applied to the servers it starts by
``tlslint.workspace.compose``; its build, ``working_dir:`` and ``volumes:`` (a
``Container``) tell where a command's config file is (``tlslint.workspace.container``).

Only the positions of YAML nodes are used (``tlslint.sources.apigee.tree``): a fix on the
backend side replaces a flag's value in ``command:`` (plain scalars, and the items of a
flow list), never the file's layout. A ``command:`` / ``entrypoint:`` reached through a
YAML alias or merge key (``<<: *common``) is read, never edited: the edit would change
every service that shares it (as in the Apigee and Kubernetes tiers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from tlslint.findings import Location
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python.commands import (
    Word,
    command_backend,
    find_programs,
    find_python_runs,
    lex_shell,
    words_at,
)
from tlslint.sources.python.environment import EnvVar
from tlslint.sources.python.model import JSON, SHELL, Backend, Container, Mount, Problem, PythonRun
from tlslint.sources.python.servers import KEEPALIVE

ReadText = Callable[[Path], "str | None"]  # a file's text, None when it cannot be read

COMPOSE_KIND = "yaml"  # re-validated as YAML after a fix (tlslint.sources.apigee)


@dataclass
class Service:
    """One service of one compose file."""

    path: Path  # the compose file
    name: str
    hosts: list[str] = field(default_factory=list)  # lower-cased: name, container_name, hostname, aliases
    backends: list[Backend] = field(default_factory=list)  # started by its command: / entrypoint:
    dockerfile: Path | None = None  # built from, when its own command does not override it
    unlinked: str = ""  # why no name reaches it (network_mode, a target stage, ...)
    # Its environment (env_file:, then environment:), over the image's ENV; what it cannot tell.
    env: dict[str, EnvVar] = field(default_factory=dict)
    env_unknown: str = ""
    env_label: str = ""  # "env_file .env", "environment", for labels: set where it matters
    env_files: list[str] = field(default_factory=list)  # "env_file .env", "environment": what sets it
    container: Container | None = None  # where its command runs (build, working_dir, volumes)
    started: list[tuple[int, list[Word]]] = field(default_factory=list)  # each backend's program, words
    runs: list[PythonRun] = field(default_factory=list)  # `python run.py` in its command:
    source: SourceText | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"compose service {self.name} ({self.path.name})"


@dataclass
class ComposeFile:
    services: list[Service] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def load(source: SourceText, read_text: ReadText | None = None) -> ComposeFile:
    """``read_text`` reads the env files services name (``env_file:``); without it, what
    they set is unknown."""
    from tlslint.sources.apigee.tree import Map, Node, YamlError, parse

    loaded = ComposeFile()
    try:
        documents = parse(source)
    except YamlError as error:
        loaded.problems.append(Problem(source.path, error.line, error.summary))
        return loaded
    for document in documents:
        services = document.get("services") if isinstance(document, Map) else None
        if not isinstance(services, Map):
            continue
        nodes: dict[int, list[str]] = {}  # a shared command: / entrypoint: -> the services using it
        found: list[tuple[Service, list[Node]]] = []
        for name, pair in services.effective().items():
            if isinstance(pair.value, Map) and not name.startswith("x-"):
                service = _service(source, name, pair.value, read_text)
                loaded.services.append(service)
                shared = [
                    n for n in (pair.value.get("command"), pair.value.get("entrypoint")) if n and n.shared
                ]
                for node in shared:
                    nodes.setdefault(id(node), []).append(name)
                found.append((service, shared))
        # The services sharing each set of nodes, in order, worked out once per set: when
        # every service merges one anchor, a list per service was quadratic.
        sharers: dict[tuple[int, ...], list[str]] = {}
        for service, shared in found:
            if shared:
                key = tuple(sorted({id(n) for n in shared}))
                if key not in sharers:
                    sharers[key] = sorted({o for n in shared for o in nodes[id(n)]})
                everyone = sharers[key]  # the service itself is one of them
                others = [o for o in everyone[:4] if o != service.name][:3]
                count = len(everyone) - 1
                with_whom = f", shared with {_names(others, count)}" if count else ""
                reason = (
                    f"its command line comes through a YAML alias or merge key{with_whom}: an edit there "
                    "would change every service that shares it"
                )
                for backend in service.backends:
                    backend.shared = reason
    return loaded


def _names(shown_names: list[str], count: int) -> str:
    shown = [f"service {n}" for n in shown_names]
    more = f" and {count - len(shown_names)} more" if count > len(shown_names) else ""
    return ", ".join(shown) + more


def _service(source: SourceText, name: str, node: object, read_text: ReadText | None) -> Service:
    from tlslint.sources.apigee.tree import Map, Scalar, Seq

    assert isinstance(node, Map)
    service = Service(source.path, name, source=source)
    _environment(source, service, node, read_text)
    service.hosts.append(name.lower())
    for key in ("container_name", "hostname"):
        value = node.scalar(key)
        if value is not None and value.text:
            service.hosts.append(value.text.lower())
    networks = node.get("networks")
    if isinstance(networks, Map):
        for pair in networks.effective().values():
            aliases = pair.value.get("aliases") if isinstance(pair.value, Map) else None
            if isinstance(aliases, Seq):
                service.hosts.extend(
                    i.text.lower() for i in aliases.items if isinstance(i, Scalar) and i.text
                )
    if node.get("network_mode") is not None:
        service.unlinked = "its network_mode is set"
    service.container = _container(source, name, node)
    entrypoint = _words(source, node.get("entrypoint"))
    command = _words(source, node.get("command"))
    if entrypoint is not None or command is not None:
        words = [*(entrypoint or []), *(command or [])]
        process = f"compose {name} {'entrypoint' if entrypoint is not None else 'command'}"
        listed = isinstance(node.get("command"), Seq) or isinstance(node.get("entrypoint"), Seq)
        for server, index, segment in find_programs(words):
            backend = command_backend(source, server, index, segment, process)
            if listed and segment[index].style != JSON:
                backend.additions.pop(KEEPALIVE, None)  # `--flag value` after a list item breaks the list
            service.backends.append(backend)  # its environment: tlslint.workspace.compose
            service.started.append((index, segment))
        for index, segment in find_python_runs(words):  # `python run.py`: found in its container
            word = segment[index]
            where = Location(source.path, *source.region(word.start, word.end))
            service.runs.append(PythonRun(word.text, where, process, source.path))
        return service
    build = node.get("build")
    context: Scalar | None = build if isinstance(build, Scalar) else None
    dockerfile: Scalar | None = None
    if isinstance(build, Map):
        context, dockerfile = build.scalar("context"), build.scalar("dockerfile")
        if build.get("target") is not None:
            service.unlinked = "it builds a target stage, which may not be the Dockerfile's last"
    if context is None and isinstance(build, Map) and build.get("context") is None:
        directory: str | None = "."
    else:
        directory = context.text if context is not None else None
    if directory is None or "://" in directory or directory.startswith("git@"):
        return service
    named = dockerfile.text if dockerfile is not None else "Dockerfile"
    if named is None:
        return service
    service.dockerfile = source.path.parent / directory / named
    return service


def _build(source: SourceText, node: object) -> tuple[Path | None, Path | None, str]:
    """(the build context, the Dockerfile, why neither can be read) of a service's ``build:``."""
    from tlslint.sources.apigee.tree import Map, Scalar

    build = node.get("build") if isinstance(node, Map) else None
    if build is None:
        return None, None, ""
    context: Scalar | None = build if isinstance(build, Scalar) else None
    dockerfile: Scalar | None = None
    if isinstance(build, Map):
        context, dockerfile = build.scalar("context"), build.scalar("dockerfile")
        if build.get("target") is not None:
            return None, None, "it builds a target stage, which may not be the Dockerfile's last"
        if build.get("dockerfile_inline") is not None:
            return None, None, "its Dockerfile is written inline (dockerfile_inline:)"
    if context is None and isinstance(build, Map) and build.get("context") is None:
        directory: str | None = "."
    else:
        directory = context.text if context is not None else None
    if directory is None or "://" in directory or directory.startswith("git@"):
        return None, None, "its build context is not a directory of the checkout"
    named = dockerfile.text if dockerfile is not None else "Dockerfile"
    if named is None:
        return None, None, "its dockerfile: is templated"
    root = source.path.parent / directory
    return root, root / named, ""


def _container(source: SourceText, name: str, node: object) -> Container:
    from tlslint.sources.apigee.tree import Map, Scalar, Seq

    assert isinstance(node, Map)
    context, dockerfile, unknown = _build(source, node)
    image = node.scalar("image")
    working = node.scalar("working_dir")
    mounts: list[Mount] = []
    volumes = node.get("volumes")
    for item in volumes.items if isinstance(volumes, Seq) else ():
        if isinstance(item, Scalar) and isinstance(item.value, str):
            parts = item.value.split(":")
            if len(parts) >= 2:
                mounts.append(Mount(parts[0], parts[1], parts[0].startswith((".", "/", "~", "$"))))
            elif parts[0]:
                mounts.append(Mount("", parts[0], False))  # an anonymous volume
        elif isinstance(item, Map):
            kind, src, target = (item.scalar(k) for k in ("type", "source", "target"))
            if target is not None and isinstance(target.value, str):
                written = str(src.value) if src is not None and src.value is not None else ""
                mounts.append(Mount(written, target.value, kind is not None and kind.value == "bind"))
    return Container(
        source.path,
        name,
        dockerfile,
        context,
        str(image.value) if image is not None and image.value is not None else "",
        str(working.value) if working is not None and working.value is not None else None,
        tuple(mounts),
        unknown,
    )


def _environment(source: SourceText, service: Service, node: object, read_text: ReadText | None) -> None:
    """``env_file:`` (in order, each over the one before), then ``environment:`` over them,
    as compose builds a container's environment. Values from the compose file keep their
    place; an env file's values are placed at the command."""
    from tlslint.sources.apigee.tree import Map, Scalar, Seq

    assert isinstance(node, Map)
    env: dict[str, EnvVar] = {}
    labels: list[str] = []
    files = node.get("env_file")
    entries = files.items if isinstance(files, Seq) else [files] if files is not None else []
    for entry in entries:
        path_node = entry.get("path") if isinstance(entry, Map) else entry
        written = path_node.value if isinstance(path_node, Scalar) else None
        required = True
        if isinstance(entry, Map):
            flag = entry.scalar("required")
            required = not (flag is not None and flag.value is False)
        if not isinstance(written, str) or "$" in written:
            service.env_unknown = "its env_file is templated: what it sets is not known"
            continue
        labels.append(f"env_file {written}")
        text = read_text(source.path.parent / written) if read_text is not None else None
        if text is None:
            if required:
                service.env_unknown = (
                    f"its env_file {written} is not in the checkout: what it sets is not known"
                )
            continue
        _read_env_file(text, written, env, service)
    environment = node.get("environment")
    if environment is not None:
        labels.append("environment")
    if isinstance(environment, Map):
        for key, pair in environment.effective().items():
            value = pair.value
            env[key] = _env_value(key, value if isinstance(value, Scalar) else None, None)
    elif isinstance(environment, Seq):
        for item in environment.items:
            if isinstance(item, Scalar) and isinstance(item.value, str):
                key, sep, rest = item.value.partition("=")
                env[key] = _env_value(key, item, rest if sep else None)
    service.env = env
    service.env_files = labels


def _env_value(name: str, scalar: object, listed: str | None) -> EnvVar:
    """``NAME: value`` / ``- NAME=value``, placed at the value; ``NAME`` alone is the shell's."""
    from tlslint.sources.apigee.tree import Scalar

    if not isinstance(scalar, Scalar) or (listed is None and scalar.value is None):
        return EnvVar(name, "", False, origin=f"{name} is taken from the shell that runs compose")
    if listed is None:
        value = scalar.raw if not isinstance(scalar.value, bool) else str(scalar.value).lower()
    else:
        value = listed
    span = scalar.content_span()
    start, end = span if span is not None and listed is None else (-1, -1)
    static = "$" not in value
    origin = "" if static else f"interpolated by compose: {value}"
    return EnvVar(name, value, static, start, end, origin)


def _read_env_file(text: str, written: str, env: dict[str, EnvVar], service: Service) -> None:
    from tlslint.sources.python.dotenv import EnvFileError, parse

    try:
        assignments = parse(text)
    except EnvFileError as error:
        service.env_unknown = f"compose refuses its env_file {written} ({error})"
        return
    for item in assignments:
        origin = f"set in {written}" if item.static else f"{item.reason} in {written}"
        env[item.name] = EnvVar(item.name, item.value, item.static, origin=origin)


def _words(source: SourceText, node: object) -> list[Word] | None:
    """The words of ``command:`` / ``entrypoint:`` with their offsets; None when unset."""
    from tlslint.sources.apigee.tree import Scalar, Seq

    if isinstance(node, Scalar):
        if not isinstance(node.value, str):
            return None
        span = node.content_span()
        if node.style is None and span is not None:
            words = lex_shell(source.text, *span)  # compose splits a string as a shell would
            # Through an alias or merge key: read where it is written, not edited there.
            return [replace(w, editable=False) for w in words] if node.shared else words
        start, end = span or (node.start, node.end)  # quoted or folded: read, not edited
        return words_at(node.value, start, end)
    if isinstance(node, Seq):
        words = []
        for item in node.items:
            if not isinstance(item, Scalar):
                return []
            text = item.value if isinstance(item.value, str) else item.raw
            span = item.content_span()
            start, end = span or (item.start, item.end)
            # A flow list's double-quoted items are JSON strings (a new flag can follow
            # the program); plain items are replaced as they are; other forms are read only.
            editable = span is not None and (item.style is None or (item.style == '"' and node.flow))
            editable = editable and not item.shared  # an alias or merge key: shared with others
            if editable and item.style == '"' and "\\" in source.text[start:end]:
                editable = False
            style = JSON if item.style == '"' else SHELL
            words.append(Word(text, start, end, "$" not in text, style=style, editable=editable))
        return words
    return None
