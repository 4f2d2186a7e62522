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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.findings import Location
from tlslint.sources.python.model import Backend

if TYPE_CHECKING:
    from tlslint.sources.python.compose import ComposeFile


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


@dataclass
class ComposeLoad:
    hosts: ComposeHosts
    backends: list[Backend]  # started by the services' own command: / entrypoint:


def load_compose(
    paths: Iterable[Path],
    read: Callable[[Path], ComposeFile | None],
    load_dockerfile: Callable[[Path], object],
) -> ComposeLoad:
    """``read(path)`` gives the compose file's services, or None when it could not be
    read; ``load_dockerfile`` reads a Dockerfile a service builds."""
    from tlslint.sources.python.compose import Service

    services: list[Service] = []
    for path in paths:
        loaded = read(path)
        if loaded is None:
            continue
        services.extend(loaded.services)
    owners: dict[str, set[tuple[Path, str]]] = {}
    for service in services:
        for host in service.hosts:
            if "$" not in host and "{" not in host:
                owners.setdefault(host, set()).add((service.path.resolve().parent, service.name))
    hosts = ComposeHosts()
    backends: list[Backend] = []
    for service in services:
        backends.extend(service.backends)
        if service.unlinked:
            continue
        names = {host: service.label for host in service.hosts if len(owners.get(host, ())) == 1}
        if not names:
            continue
        for backend in service.backends:
            hosts.by_where.setdefault((backend.where, backend.process), {}).update(names)
        if service.dockerfile is not None and not service.backends and service.dockerfile.is_file():
            load_dockerfile(service.dockerfile)
            hosts.by_dockerfile.setdefault(service.dockerfile.resolve(), {}).update(names)
    return ComposeLoad(hosts, backends)
