"""The names docker-compose gives the app servers in scope (``tlslint.sources.python.compose``).

Each compose file is read on its own. A service defined in several compose files of one
directory (``docker-compose.yml`` and ``docker-compose.prod.yml``) is one service, and
each file's app server for it answers to its names. A name that two different services
answer to (two projects, or an alias shared by two services) names neither: it links
nothing.

A backend is reachable by a name only where it listens on every address of its
container (0.0.0.0, ::): one bound to 127.0.0.1 (uvicorn's and gunicorn's default)
answers no other container.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.findings import Location
from tlslint.sources.python.environment import SERVER_ENV, EnvVar, apply_environment, unknown_environment
from tlslint.sources.python.model import Backend, Container, PythonRun

if TYPE_CHECKING:
    from tlslint.sources.python.compose import ComposeFile, Service


@dataclass
class ComposeHosts:
    """For each backend a compose service runs, its names and the service's label."""

    # A command: backend's program word, and its process ("compose api command"): services
    # that share one command through a YAML merge key share its word, not their names.
    by_where: dict[tuple[Location, str], dict[str, str]] = field(default_factory=dict)
    by_dockerfile: dict[Path, dict[str, str]] = field(default_factory=dict)  # resolved Dockerfile

    def hosts(self, backend: Backend) -> dict[str, str]:
        """Name -> "compose service api (docker-compose.yml)", for the names that reach ``backend``."""
        found = self.by_where.get((backend.where, backend.process))
        if found is not None:
            return found
        if not backend.command:
            return {}
        return self.by_dockerfile.get(backend.path.resolve(), {})

    def __bool__(self) -> bool:
        return bool(self.by_where or self.by_dockerfile)


ImageEnv = Callable[[Path], "dict[str, EnvVar]"]  # a Dockerfile's final ENV, placed in it


def _one_service(group: list[Service], image_env: ImageEnv | None) -> None:
    """A service defined in several compose files of one directory is one container: its
    build, working_dir:, volumes: and environment come from whichever file sets them
    (compose merges them). The environment then applies to the servers its command starts:
    its env files' and environment:'s values over the ENV of the image it builds (a
    command: replaces the image's CMD, not its ENV)."""
    env: dict[str, tuple[EnvVar, Path]] = {}
    unknown = ""
    labels: list[str] = []
    for service in group:
        unknown = unknown or service.env_unknown
        labels.extend(label for label in service.env_files if label not in labels)
        for name, variable in service.env.items():
            before = env.get(name)
            if (
                before is not None
                and before[1] != service.path
                and (before[0].value, before[0].static)
                != (
                    variable.value,
                    variable.static,
                )
            ):
                where = f"{before[1].name} and {service.path.name}"
                variable = EnvVar(name, "", False, origin=f"{name} is set differently in {where}")
            env[name] = (variable, service.path)
    matters = any(SERVER_ENV.match(name) for name in env) or bool(unknown)
    for service in group:
        service.env = {
            name: variable if path == service.path else replace(variable, start=-1, end=-1)
            for name, (variable, path) in env.items()
        }
        service.env_unknown = unknown
        service.env_label = ", ".join(labels) if matters else ""
        container = _container(service, group)
        run_env = service.env
        if service.backends and image_env is not None and container is not None and container.dockerfile:
            run_env = {**image_env(container.dockerfile), **run_env}
        for position, backend in enumerate(service.backends):
            assert service.source is not None
            index, words = service.started[position]
            backend = apply_environment(service.source, backend, index, words, run_env)
            if unknown:
                backend = unknown_environment(backend, unknown)
            backend.container = container
            service.backends[position] = backend


def _container(service: Service, group: list[Service]) -> Container | None:
    """The service's container, what its own file does not say taken from the other files."""
    own = service.container
    if own is None or len(group) == 1:
        return own
    others = [s.container for s in group if s is not service and s.container is not None]
    if own.dockerfile is None and not own.image and not own.unknown:
        builds = {
            (c.dockerfile, c.context, c.image, c.unknown)
            for c in others
            if c.dockerfile or c.image or c.unknown
        }
        if len(builds) == 1:
            dockerfile, context, image, why = builds.pop()
            own = replace(own, dockerfile=dockerfile, context=context, image=image, unknown=why)
        elif builds:
            own = replace(own, unknown="its compose files build it in different ways")
    if own.working_dir is None:
        dirs = {c.working_dir for c in others if c.working_dir is not None}
        if len(dirs) == 1:
            own = replace(own, working_dir=dirs.pop())
    mounts = tuple(dict.fromkeys([*own.mounts, *(m for c in others for m in c.mounts)]))
    return replace(own, mounts=mounts)


@dataclass
class ComposeRun:
    """A Python file a service runs as a script (``python run.py``): in its own command:, or
    in the command of the image it builds (``run`` is then the Dockerfile's)."""

    run: PythonRun
    container: Container | None
    names: dict[str, str]  # the names that reach the service: name -> its label


@dataclass
class ComposeLoad:
    hosts: ComposeHosts
    backends: list[Backend]  # started by the services' own command: / entrypoint:
    runs: list[ComposeRun] = field(default_factory=list)  # in their own command:
    # The services that run their image's command: the container, and the names that reach it.
    images: list[tuple[Container, dict[str, str]]] = field(default_factory=list)


def load_compose(
    paths: Iterable[Path],
    read: Callable[[Path], ComposeFile | None],
    load_dockerfile: Callable[[Path], object],
    image_backends: Callable[[Service], list[Backend]] | None = None,
    image_env: ImageEnv | None = None,
) -> ComposeLoad:
    """``read(path)`` gives the compose file's services, or None when it could not be
    read; ``load_dockerfile`` reads a Dockerfile a service builds; ``image_backends``, the
    servers that Dockerfile starts in a service whose environment (env_file:,
    environment:) sets what they read: that service's own, under its names;
    ``image_env``, the ENV of the image a service with its own command: builds."""
    services: list[Service] = []
    for path in paths:
        loaded = read(path)
        if loaded is None:
            continue
        services.extend(loaded.services)
    projects: dict[tuple[Path, str], list[Service]] = {}
    for service in services:
        projects.setdefault((service.path.resolve().parent, service.name), []).append(service)
    for group in projects.values():
        _one_service(group, image_env)
    owners: dict[str, set[tuple[Path, str]]] = {}
    for service in services:
        for host in service.hosts:
            if "$" not in host and "{" not in host:
                owners.setdefault(host, set()).add((service.path.resolve().parent, service.name))
    hosts = ComposeHosts()
    backends: list[Backend] = []
    runs: list[ComposeRun] = []
    images: list[tuple[Container, dict[str, str]]] = []
    for service in services:
        backends.extend(service.backends)
        if service.unlinked:
            continue
        names = {host: service.label for host in service.hosts if len(owners.get(host, ())) == 1}
        if not names:
            continue
        runs.extend(ComposeRun(run, service.container, names) for run in service.runs)
        if (
            service.dockerfile is not None
            and not service.backends
            and service.container is not None
            and service.container.dockerfile is not None
        ):
            images.append((service.container, names))
        for backend in service.backends:
            hosts.by_where.setdefault((backend.where, backend.process), {}).update(names)
        if service.dockerfile is not None and not service.backends and service.dockerfile.is_file():
            load_dockerfile(service.dockerfile)
            if service.env_label and image_backends is not None:
                for backend in image_backends(service):
                    backends.append(backend)
                    hosts.by_where.setdefault((backend.where, backend.process), {}).update(names)
                continue
            hosts.by_dockerfile.setdefault(service.dockerfile.resolve(), {}).update(names)
    return ComposeLoad(hosts, backends, runs, images)
