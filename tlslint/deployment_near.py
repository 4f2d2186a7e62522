"""The nginx images a configuration runs on: those of the deployment files nearest above it.

A configuration (an ``nginx.conf`` and what it includes, or a file checked on its own)
takes the nginx images of the deployment files (``tlslint.deployment``) in the nearest
directory at or above its own file that has any: a ``proxy/Dockerfile`` for
``proxy/nginx.conf``, a ``docker-compose.yml`` at the top for ``nginx/nginx.conf``.
A deployment file in a directory beside the configuration's (``frontend/Dockerfile``
for ``proxy/nginx.conf``, ``k8s/deployment.yaml`` for ``nginx/nginx.conf``) declares
nothing for it: which configuration a build context or a manifest carries is not in the
file, and the answer must be the same however the configuration is reached.

Every run answers alike, whatever it was given: ``tlslint .`` from the top, a directory
(``tlslint proxy/``), or files by name (a pre-commit hook passes the changed files). A
directory the run walked is known from the walk; one above what it was given is listed
here, its deployment files classified as the walk would (``.gitignore``, ``exclude``, a
YAML file that is a gateway manifest is none).

The search ends at the project root (``tlslint.project``: the settings file's directory
or ``.git``), never above it. Outside both, it stays in the current directory or a
directory the run was given, and a file outside those has only its own directory.

Cheap: each directory once per run (memoised for every configuration below it); a
directory beyond the walk costs one listing, a walked one none; files are opened only
in directories on a configuration's way up, and only when named like a deployment file.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.deployment import Image, is_deployment_file, nginx_images, union
from tlslint.paths import resolved
from tlslint.project import project_directories, stops

if TYPE_CHECKING:
    from tlslint.settings import Settings
    from tlslint.version_range import VersionRange


def versions_near(
    roots: Iterable[Path], read: Collection[Path], walked: Collection[Path], settings: Settings
) -> dict[Path, VersionRange]:
    """By configuration root (as given): the versions of the nginx images nearest above
    it (see the module's docstring); a root with none is left out. ``read``: the
    deployment files discovery found; ``walked``: the directories the run walked."""
    search = _Search(read, walked, settings)
    found: dict[Path, VersionRange] = {}
    for root in roots:
        versions = search.versions(resolved(root).parent)
        if versions is not None:
            found[root] = versions
    return found


class _Search:
    """The nearest images of each directory, each directory looked at once."""

    def __init__(self, read: Collection[Path], walked: Collection[Path], settings: Settings) -> None:
        self.settings = settings
        self.stops = {resolved(stop) for stop in stops(settings)}
        self.walked = [resolved(directory) for directory in walked]
        self.bounds = [Path.cwd().resolve(), *self.walked]
        self.done = {resolved(path) for path in read}
        self.found: dict[Path, list[Path]] = {}  # what discovery found, by resolved directory
        for path in read:
            self.found.setdefault(resolved(path).parent, []).append(path)
        self.nearest: dict[Path, VersionRange | None] = {}  # by directory: its answer

    def versions(self, start: Path) -> VersionRange | None:
        if start in self.nearest:
            return self.nearest[start]
        passed: list[Path] = []
        answer: VersionRange | None = None
        for directory in project_directories(start, self.stops, self.bounds):
            if directory in self.nearest:
                answer = self.nearest[directory]
                break
            passed.append(directory)
            images = self._images(directory)
            if images:
                answer = union({directory: images})
                break
        for directory in passed:  # the rest of a search from any of them is this one's
            self.nearest[directory] = answer
        return answer

    def _images(self, directory: Path) -> list[Image]:
        """The nginx images of ``directory``'s deployment files, in a walk's order."""
        named = {path.name: nginx_images(path) for path in self.found.get(directory, ())}
        if not any(directory.is_relative_to(top) for top in self.walked):
            for path, images in _unread_images(directory, self.done, self.settings).items():
                named.setdefault(path.name, images)
        return [image for name in sorted(named) for image in named[name]]


def _unread_images(directory: Path, done: set[Path], settings: Settings) -> dict[Path, list[Image]]:
    """The images of the deployment files in ``directory`` that a walk would keep
    (``done``: the files read already)."""
    candidates = {}
    for name, link in _listed_files(directory):
        path = directory / name  # ``directory`` is resolved: so is a file in it that is no link
        if not is_deployment_file(path) or (resolved(path) if link else path) in done:
            continue
        images = nginx_images(path)  # most files stop here: no "nginx" in them
        if images:
            candidates[path] = images
    if not candidates:
        return {}
    from tlslint.discovery import discover

    # As the walk would see each one: ignored, excluded, or a manifest tlslint checks.
    kept = discover(list(candidates), settings.exclude, settings.base, force_exclude=True).deployment
    return {path: candidates[path] for path in kept}


def _listed_files(directory: Path) -> list[tuple[str, bool]]:
    """The files of ``directory``, by name, each with whether it is a symlink."""
    try:
        with os.scandir(directory) as entries:
            return [(e.name, e.is_symlink()) for e in entries if _is_file(e)]
    except OSError:
        return []


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def compose_near(roots: Iterable[Path], read: Collection[Path], settings: Settings) -> list[Path]:
    """The docker-compose files that may start an app server in the nearest directory at
    or above each configuration root that has any, as a walk would keep them, and not among
    ``read``: in a run given files by name (a pre-commit hook passes the changed ones), the
    stack whose service names an upstream reaches (BKD101-103 read it as ``tlslint .`` does).
    """
    from tlslint.sources.python.compose_sniff import compose_backend_files, is_compose_file

    done = {resolved(path) for path in read}
    stop_at = {resolved(stop) for stop in stops(settings)}
    looked: dict[Path, list[Path]] = {}  # by directory: its compose files
    found: dict[Path, None] = {}
    # Configurations side by side (conf.d/*.conf, each its own root) share the search.
    for start in dict.fromkeys(resolved(root).parent for root in roots):
        for directory in project_directories(start, stop_at):
            if directory not in looked:
                names = sorted(name for name, _ in _listed_files(directory))
                looked[directory] = [directory / n for n in names if is_compose_file(directory / n)]
            if looked[directory]:
                found.update(dict.fromkeys(p for p in looked[directory] if resolved(p) not in done))
                break
    if not found:
        return []
    from tlslint.discovery import discover

    kept = compose_backend_files(list(found))
    # As the walk would see each one: ignored (.gitignore) or excluded files are not read.
    return discover(kept, settings.exclude, settings.base, force_exclude=True).deployment if kept else []
