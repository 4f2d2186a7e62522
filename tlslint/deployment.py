"""The nginx version that the deployment files in scope run: the image tags.

* Dockerfile / Containerfile: ``FROM nginx:1.27.3-alpine``,
  ``FROM nginxinc/nginx-unprivileged:1.27-alpine AS web``;
* compose files and Kubernetes manifests: ``image: nginx:1.25``;
* Helm values: ``image: {repository: nginx, tag: "1.25.3"}`` (``repository`` and
  ``tag`` side by side in one mapping).

An image counts when its repository's last part is ``nginx`` or
``nginx-unprivileged`` (docker.io/library/nginx, nginxinc/nginx-unprivileged,
bitnami/nginx, a mirror's copy); ``nginx-ingress`` or ``ingress-nginx/controller``
are other products with their own version numbers. A tag ``1.27.3`` is that
release; ``1.25`` the 1.25.x series (not 1.25.0); a digest after a tag keeps the
tag's meaning. No version, a moving tag (``stable``, ``mainline``, ``latest``,
``alpine``), a bare digest or a templated tag (``${NGINX_VERSION}``,
``{{ .Values.tag }}``) is unknown: the images then declare nothing, since the
configuration may run on that one.

Several images in one directory declare their union: the configuration may run on any
of them. A configuration takes the images of the deployment files in the nearest
directory at or above its own that has any (a ``proxy/Dockerfile`` beside
``proxy/nginx.conf``, not ``frontend/Dockerfile``; ``tlslint.deployment_near``), and
none where no such directory exists.
These files are never "configuration files" of a run: read only on a configuration's
way up to the project root, never reported on, and a file that cannot be read declares
nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tlslint.nginx_versions import Version
from tlslint.version_range import DEPLOYMENT, UNKNOWN, Evidence, VersionRange, next_release

MAX_BYTES = 1 << 20  # a deployment file larger than this is not read
_YAML_SUFFIXES = (".yaml", ".yml")
_NGINX_REPOSITORIES = frozenset({"nginx", "nginx-unprivileged"})
_FROM = re.compile(r"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(\S+)", re.I | re.M)
_IMAGE = re.compile(r"^[ \t]*(?:-[ \t]+)?image[ \t]*:[ \t]*(\S[^#\n]*?)[ \t]*(?:#.*)?$", re.M)
_KEY = re.compile(r"^([ \t]*)(?:-[ \t]+)?([A-Za-z_][\w-]*)[ \t]*:[ \t]*([^#\n]*?)[ \t]*(?:#.*)?$")
# Release numbers of up to 9 digits: int() reads them (past 4,300 digits it raises).
_TAG = re.compile(r"^v?(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?(?:[-_][\w.-]*)?$")
_MENTION = re.compile(rb"nginx")


def is_deployment_file(path: Path) -> bool:
    """By name only (discovery asks for every file): a Dockerfile or a YAML file."""
    from tlslint.sources.python.sniff import DOCKERFILE, file_format

    return path.suffix.lower() in _YAML_SUFFIXES or file_format(path) == DOCKERFILE


@dataclass(frozen=True)
class Image:
    """One nginx image reference and the versions its tag names (None: unknown)."""

    reference: str
    low: Version | None
    high: Version | None
    evidence: Evidence


def deployment_versions(paths: Iterable[Path]) -> VersionRange:
    """The union of the versions the nginx images in ``paths`` run; UNKNOWN when
    there is none, or when one of them names no version."""
    return union(deployment_images(paths))


def deployment_images(paths: Iterable[Path]) -> dict[Path, list[Image]]:
    """The nginx images of each file in ``paths`` that names any (each read once)."""
    found = {path: nginx_images(path) for path in paths}
    return {path: images for path, images in found.items() if images}


def union(by_file: Mapping[Path, list[Image]]) -> VersionRange:
    """The versions any of the images run (see ``deployment_versions``)."""
    return _union([image for images in by_file.values() for image in images])


def _union(images: list[Image]) -> VersionRange:
    if not images or any(image.low is None for image in images):
        return UNKNOWN
    lowest = min(images, key=lambda image: image.low or (0, 0, 0))
    highest = max(images, key=lambda image: image.high or (0, 0, 0))
    return VersionRange(lowest.low, highest.high, lowest.evidence, highest.evidence)


def nginx_images(path: Path) -> list[Image]:
    """The nginx images ``path`` names, in order; [] when it cannot be read."""
    try:
        with open(path, "rb") as file:
            # read(MAX_BYTES + 1) would allocate a megabyte for every small file
            data = file.read(min(os.fstat(file.fileno()).st_size, MAX_BYTES) + 1)
    except OSError:
        return []
    if len(data) > MAX_BYTES or b"\0" in data or not _MENTION.search(data):
        return []
    text = data.decode("utf-8", errors="replace")
    if path.suffix.lower() in _YAML_SUFFIXES:
        found = list(_yaml_images(path, text))
    else:
        found = list(_dockerfile_images(path, text))
    return found


def _dockerfile_images(path: Path, text: str) -> Iterator[Image]:
    for match in _FROM.finditer(text):
        image = _image(match.group(1), path, text.count("\n", 0, match.start()) + 1, "FROM")
        if image is not None:
            yield image


def _yaml_images(path: Path, text: str) -> Iterator[Image]:
    """``image: REF`` scalars, and ``repository``/``tag`` pairs of one mapping."""
    lines = text.splitlines()
    for match in _IMAGE.finditer(text):
        reference = _unquote(match.group(1))
        if reference:
            image = _image(reference, path, text.count("\n", 0, match.start()) + 1, "image:")
            if image is not None:
                yield image
    # A mapping's keys share an indentation; a line less indented ends it.
    open_maps: list[tuple[int, dict[str, tuple[str, int]]]] = []
    finished: list[dict[str, tuple[str, int]]] = []
    for number, line in enumerate(lines, 1):
        key = _KEY.match(line)
        if key is None:
            continue
        indent = len(key.group(1).expandtabs()) + (2 if line.lstrip().startswith("-") else 0)
        while open_maps and open_maps[-1][0] > indent:
            finished.append(open_maps.pop()[1])
        if line.lstrip().startswith("-") and open_maps and open_maps[-1][0] == indent:
            finished.append(open_maps.pop()[1])  # a new list item starts a new mapping
        if not open_maps or open_maps[-1][0] < indent:
            open_maps.append((indent, {}))
        open_maps[-1][1][key.group(2)] = (_unquote(key.group(3)), number)
    finished.extend(keys for _, keys in open_maps)
    for keys in finished:
        repository, tag = keys.get("repository"), keys.get("tag")
        if repository is None or tag is None or not repository[0] or not tag[0]:
            continue
        reference = f"{repository[0]}:{tag[0]}"
        image = _image(reference, path, repository[1], "repository/tag")
        if image is not None:
            yield image


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].strip()
    return value


def _image(reference: str, path: Path, line: int, how: str) -> Image | None:
    """An nginx image with the versions its tag names; None for other images."""
    name, tag = split_reference(reference)
    if name.rsplit("/", 1)[-1].lower() not in _NGINX_REPOSITORIES:
        return None
    what = f"FROM {reference}" if how == "FROM" else f"image {reference}"
    evidence = Evidence(DEPLOYMENT, what, path=path, line=line)
    low, high = tag_versions(tag)
    return Image(reference, low, high, evidence)


def split_reference(reference: str) -> tuple[str, str]:
    """``registry:5000/library/nginx:1.25@sha256:...`` -> (``.../library/nginx``, ``1.25``)."""
    reference = reference.split("@", 1)[0]
    slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > slash:
        return reference[:colon], reference[colon + 1 :]
    return reference, ""


def tag_versions(tag: str) -> tuple[Version | None, Version | None]:
    """``1.27.3-alpine`` -> [1.27.3, 1.27.4); ``1.25`` -> [1.25.0, 1.26.0); else unknown."""
    match = _TAG.match(tag)
    if match is None:
        return None, None
    major, minor, patch = match.groups()
    if patch is not None:
        version = (int(major), int(minor), int(patch))
        return version, next_release(version)
    return (int(major), int(minor), 0), (int(major), int(minor) + 1, 0)
