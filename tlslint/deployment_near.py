"""The deployment files near a named nginx file: those a run from the project root reads.

``tlslint proxy/nginx.conf`` (a pre-commit hook passes the files a commit changed) walks
no directory, so discovery finds no ``proxy/Dockerfile`` beside the configuration, and
its version questions would be infos where ``tlslint .`` from the root, reading that
Dockerfile, warns. So a run on named files also reads, for each configuration, the
deployment files of the nearest directory at or above it that has an nginx image (what
``tlslint.deployment.nearest_versions`` gives it in the root run), classified as the
walk does (``.gitignore``, ``exclude``, a YAML file that is a gateway manifest is none).

The search ends at the project root, never above it: the first directory that holds the
settings file (its ``exclude`` patterns and a root run's scope start there) or ``.git``
(the work tree a CI run checks; a Dockerfile above it is in no checkout of the
repository), as the search for an includer above a named file ends
(``tlslint.scope.find_includers``). Outside both, the current directory (what
``tlslint .`` walks), and a file outside that has only its own directory.

Cheap: per directory level one stat (``.git``) and one listing, until a directory with
an image; files are opened only when named like a deployment file.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.deployment import Image, is_deployment_file, nginx_images
from tlslint.paths import resolved

if TYPE_CHECKING:
    from tlslint.settings import Settings


def images_near(
    roots: Iterable[Path], read: Collection[Path], known: Mapping[Path, list[Image]], settings: Settings
) -> dict[Path, list[Image]]:
    """The nginx images, by file, of the deployment files in the nearest directory at or
    above each of ``roots`` (configuration files) that has any, beyond ``read`` (the files
    discovery already read, whose images are ``known``)."""
    done = {resolved(path) for path in read}
    with_images = {resolved(path).parent for path in known}
    stops = {settings.base} if settings.source is not None else set()
    listed: set[Path] = set()  # each directory once, for every root below it
    found: dict[Path, list[Image]] = {}
    for root in roots:
        for directory in project_directories(resolved(root).parent, stops):
            if directory not in with_images and directory not in listed:
                listed.add(directory)
                images = _directory_images(directory, done, settings)
                if images:
                    found.update(images)
                    with_images.add(directory)
            if directory in with_images:
                break
    return found


def project_directories(start: Path, stops: Collection[Path]) -> Iterator[Path]:
    """``start`` and its parents up to the project root (see the module's docstring),
    nearest first; each checked for ``.git`` only as the search reaches it."""
    cwd = Path.cwd().resolve()
    inside = start.is_relative_to(cwd)
    above: list[Path] = []  # beyond the current directory: only if a project root is found
    for directory in (start, *start.parents):
        if inside:
            yield directory
            inside = directory != cwd
        else:
            above.append(directory)
        if directory in stops or (directory / ".git").exists():
            yield from above
            return
    if not start.is_relative_to(cwd):
        yield start  # outside the current directory, and of any project


def _directory_images(directory: Path, done: set[Path], settings: Settings) -> dict[Path, list[Image]]:
    """The images of the deployment files in ``directory`` that a walk would keep
    (``done``: the files read already)."""
    try:
        with os.scandir(directory) as entries:
            files = sorted((e.name, e.is_symlink()) for e in entries if _is_file(e))  # a walk's order
    except OSError:
        return {}
    candidates = {}
    for name, link in files:
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


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False
