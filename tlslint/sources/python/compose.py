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
an ``environment:`` that sets what the server reads (``PORT``, ``GUNICORN_CMD_ARGS``,
``UVICORN_*``), templated names (``container_name: ${NAME}``).

Only the positions of YAML nodes are used (``tlslint.sources.apigee.tree``): a fix on the
backend side replaces a flag's value in ``command:`` (plain scalars, and the items of a
flow list), never the file's layout. A ``command:`` / ``entrypoint:`` reached through a
YAML alias or merge key (``<<: *common``) is read, never edited: the edit would change
every service that shares it (as in the Apigee and Kubernetes tiers).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python.commands import Word, command_backend, find_programs, lex_shell
from tlslint.sources.python.environment import SERVER_ENV
from tlslint.sources.python.model import JSON, SHELL, Backend, Problem
from tlslint.sources.python.servers import KEEPALIVE

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

    @property
    def label(self) -> str:
        return f"compose service {self.name} ({self.path.name})"


@dataclass
class ComposeFile:
    services: list[Service] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def load(source: SourceText) -> ComposeFile:
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
                service = _service(source, name, pair.value)
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


def _service(source: SourceText, name: str, node: object) -> Service:
    from tlslint.sources.apigee.tree import Map, Scalar, Seq

    assert isinstance(node, Map)
    service = Service(source.path, name)
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
    elif _sets_server_env(node.get("environment")):
        service.unlinked = "its environment sets what the server reads"
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
            service.backends.append(backend)
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


def _sets_server_env(node: object) -> bool:
    from tlslint.sources.apigee.tree import Map, Scalar, Seq

    if isinstance(node, Map):
        return any(SERVER_ENV.match(name) for name in node.effective())
    if isinstance(node, Seq):
        return any(
            isinstance(i, Scalar) and SERVER_ENV.match(str(i.raw).split("=", 1)[0]) for i in node.items
        )
    return False


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
        return [
            Word(w.text, start, end, w.static, w.operator, editable=False)
            for w in lex_shell(node.value, 0, len(node.value))
        ]
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
