"""The nginx version that the deployment files in scope run: the image tags.

* Dockerfile / Containerfile: ``FROM nginx:1.27.3-alpine``,
  ``FROM nginxinc/nginx-unprivileged:1.27-alpine AS web``; ``FROM name`` naming an
  earlier stage (``FROM nginx:1.19-alpine AS nginx``, then ``FROM nginx AS dev``) is
  that stage, as Docker resolves it;
* compose files and Kubernetes manifests: ``image: nginx:1.25``; a compose service
  with ``build:`` runs what its Dockerfile (context + ``dockerfile``) is built
  ``FROM``: its ``image:`` names the image the build produces (the Compose
  specification), so that tag is the project's own;
* Helm values: ``image: {repository: nginx, tag: "1.25.3"}`` (``repository`` and
  ``tag`` side by side in one mapping); an empty or missing ``tag`` runs the chart's
  ``appVersion`` (``Chart.yaml`` beside the values), as helm create's template has it.

An image is nginx when its repository's last part is ``nginx`` or
``nginx-unprivileged``; ``nginx-ingress`` or ``ingress-nginx/controller`` are other
products. Its tag is nginx's release only in nginx's own repositories: Docker Hub's
official image (``nginx``, ``library/nginx``, under any registry: a mirror's copy) and
the publishers in ``_PUBLISHERS`` (nginxinc/nginx-unprivileged, bitnami/nginx, ...).
Another's build (``ghcr.io/nginx/nginx-gateway-fabric/nginx:2.2.0``,
``someone/nginx:0.1``) runs an nginx whose version its tag does not tell: unknown.
So does an image of nginx's forks (OpenResty, Angie, Tengine, NGINX Plus: ``_FORKS``),
except OpenResty's own, whose ``1.21.4.3`` runs nginx 1.21.4.
A tag ``1.27.3`` is that release; ``1.25`` the 1.25.x series (not 1.25.0); a digest
after a tag keeps the tag's meaning. No version, a moving tag (``stable``,
``mainline``, ``latest``, ``alpine``), a bare digest or a templated tag
(``${NGINX_VERSION}``, ``{{ .Values.tag }}``) is unknown: the images then declare
nothing, since the configuration may run on that one.

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
from dataclasses import dataclass, field
from pathlib import Path

from tlslint.nginx_versions import Version
from tlslint.sources.python.sniff import DOCKERFILE, file_format  # not in is_deployment_file: asked per file
from tlslint.version_range import DEPLOYMENT, UNKNOWN, Evidence, VersionRange, next_release

MAX_BYTES = 1 << 20  # a deployment file larger than this is not read
_YAML_SUFFIXES = (".yaml", ".yml")
_NGINX_REPOSITORIES = frozenset({"nginx", "nginx-unprivileged"})
# Publishers whose nginx images are tagged with nginx's release (docs/version-inference.md):
# Docker Hub's official image, NGINX's unprivileged builds (Docker Hub, and on
# ghcr.io/quay.io/public.ecr.aws under nginx/, where also the official one is
# mirrored), Bitnami's, Ubuntu's and Chainguard's.
_PUBLISHERS = frozenset(
    {
        "library/nginx",
        "nginx/nginx",
        "nginxinc/nginx-unprivileged",
        "nginx/nginx-unprivileged",
        "bitnami/nginx",
        "bitnamilegacy/nginx",
        "ubuntu/nginx",
        "chainguard/nginx",
    }
)
_FROM = re.compile(r"^[ \t]*FROM[ \t]+(?:--\S+[ \t]+)*(\S+)(?:[ \t]+AS[ \t]+(\S+))?", re.I | re.M)
_KEY = re.compile(r"^([ \t]*)(-[ \t]+)?([A-Za-z_][\w-]*)[ \t]*:[ \t]*([^#\n]*?)[ \t]*(?:#.*)?$")
_FLOW = re.compile(r"^\{([^{}\[\]]*)\}$")
_APP_VERSION = re.compile(r"^appVersion[ \t]*:[ \t]*([^#\n]*?)[ \t]*(?:#.*)?$", re.M)
# Release numbers of up to 9 digits: int() reads them (past 4,300 digits it raises).
_TAG = re.compile(r"^v?(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?(?:[-_][\w.-]*)?$")
# nginx's forks and builds of another's (docs/version-inference.md): each runs an nginx
# core whose release its tag does not name (Angie, Tengine and NGINX Plus number their
# own releases), so that nginx is of an unknown version, and the search stops there.
_FORKS = frozenset({"openresty", "angie", "tengine", "freenginx", "nginx-plus", "nginx-http3"})
# OpenResty's own image: "the first part of the OpenResty release version numbers is the
# version of the bundled NGINX core" (openresty.org FAQ): 1.21.4.3 runs nginx 1.21.4.
_OPENRESTY = "openresty/openresty"
_OPENRESTY_TAG = re.compile(r"^(\d{1,9})\.(\d{1,9})\.(\d{1,9})\.\d{1,9}(?:[-_][\w.-]*)?$")
_MENTION = re.compile(rb"nginx|openresty|angie|tengine")


def is_deployment_file(path: Path) -> bool:
    """By name only (discovery asks for every file): a Dockerfile or a YAML file."""
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
    text = _read(path)
    if text is None:
        return []
    if path.suffix.lower() in _YAML_SUFFIXES:
        return _yaml_images(path, text)
    return list(_dockerfile_images(path, text))


def _read(path: Path) -> str | None:
    """``path``'s text where it mentions nginx; None when it does not, or cannot be
    read, is binary or too large."""
    try:
        with open(path, "rb") as file:
            # read(MAX_BYTES + 1) would allocate a megabyte for every small file
            data = file.read(min(os.fstat(file.fileno()).st_size, MAX_BYTES) + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES or b"\0" in data or not _MENTION.search(data):
        return None  # most files stop here, not decoded
    return data.decode("utf-8", errors="replace")


def _dockerfile_images(path: Path, text: str) -> Iterator[Image]:
    # Docker resolves ``FROM name`` to an earlier stage called ``name`` (any case)
    # before any image: ``FROM nginx:1.19-alpine AS nginx`` then ``FROM nginx AS dev``
    # builds on 1.19, not on Docker Hub's moving ``nginx``. That stage's own line counted.
    stages: set[str] = set()
    for match in _FROM.finditer(text):
        reference, alias = match.group(1), match.group(2)
        if reference.lower() not in stages:
            image = _image(reference, path, text.count("\n", 0, match.start()) + 1, "FROM")
            if image is not None:
                yield image
        if alias:
            stages.add(alias.lower())


@dataclass
class _Mapping:
    """One YAML block mapping as ``_mappings`` reads it: each key's scalar (unquoted,
    "" for none) and line, and the mapping nested under a key that has no scalar."""

    keys: dict[str, tuple[str, int]] = field(default_factory=dict)
    children: dict[str, _Mapping] = field(default_factory=dict)
    last: str = ""  # the key read last: a deeper mapping that follows is its value


def _mappings(text: str) -> list[_Mapping]:
    """The block mappings of ``text`` (and one-line flow mappings ``{a: b, c: d}``), in
    one pass over its lines: a mapping's keys share a column; a line less indented ends
    it, a new list item (``- key:`` at its column) starts the next one."""
    open_maps: list[tuple[int, _Mapping]] = []
    found: list[_Mapping] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("---"):  # a new document: no mapping of the last one goes on
            open_maps.clear()
            continue
        key = _KEY.match(line.expandtabs() if "\t" in line else line)
        if key is None:
            continue
        column = key.start(3)
        item = key.group(2) is not None
        while open_maps and open_maps[-1][0] > column:
            open_maps.pop()
        if item and open_maps and open_maps[-1][0] == column:
            open_maps.pop()
        if not open_maps or open_maps[-1][0] < column:
            mapping = _Mapping()
            if open_maps:
                parent = open_maps[-1][1]
                if parent.last and not parent.keys[parent.last][0]:
                    parent.children[parent.last] = mapping
            open_maps.append((column, mapping))
            found.append(mapping)
        mapping = open_maps[-1][1]
        name, value = key.group(3), _unquote(key.group(4))
        flow = _FLOW.match(value)
        if flow is not None:  # ``image: {repository: nginx, tag: 1.25}``
            child = _Mapping()
            for pair in flow.group(1).split(","):
                inner, colon, scalar = pair.partition(":")
                if colon and inner.strip():
                    child.keys[inner.strip()] = (_unquote(scalar), number)
            mapping.children[name] = child
            found.append(child)
            value = ""
        mapping.keys[name] = (value, number)
        mapping.last = name
    return found


def _yaml_images(path: Path, text: str) -> list[Image]:
    """``image: REF`` scalars (compose files, Kubernetes manifests), a compose service's
    ``build:`` Dockerfile, and ``repository``/``tag`` pairs of one mapping (Helm values)."""
    found: list[tuple[int, Image]] = []
    app_version: list[tuple[str, int] | None] = []  # the chart's, read once when needed
    for mapping in _mappings(text):
        keys = mapping.keys
        build = _build_dockerfile(path, mapping)
        if build is not None:
            found.extend((keys["build"][1], image) for image in _built_images(path, mapping, build))
        elif "image" in keys and keys["image"][0]:
            image = _image(keys["image"][0], path, keys["image"][1], "image:")
            if image is not None:
                found.append((keys["image"][1], image))
        repository, line = keys.get("repository", ("", 0))
        if not repository or "://" in repository:  # a chart repository's address
            continue
        tag = keys.get("tag", ("", 0))[0]
        image = _image(f"{repository}:{tag}" if tag else repository, path, line, "repository/tag")
        # No tag here or in the repository, no digest (Bitnami's charts pull one over the tag).
        pinned = tag or keys.get("digest", ("", 0))[0] or "@" in repository
        if image is not None and not pinned and image.low is None and _owned(split_reference(repository)[0]):
            # Helm's scaffold: ``{{ .Values.image.tag | default .Chart.AppVersion }}``.
            if not app_version:
                app_version.append(_app_version(path.parent / "Chart.yaml"))
            if app_version[0] is not None:
                version, at = app_version[0]
                low, high = tag_versions(version)
                what = f"image {repository} (tag: the chart's appVersion {version})"
                chart = Evidence(DEPLOYMENT, what, path.parent / "Chart.yaml", at)
                image = Image(repository, low, high, chart)
        if image is not None:
            found.append((line, image))
    return [image for _, image in sorted(found, key=lambda pair: pair[0])]


def _build_dockerfile(path: Path, mapping: _Mapping) -> Path | str | None:
    """A compose service's ``build:``: its Dockerfile, why it cannot be read (a remote
    context, templated, written inline), or None for a mapping with no ``build:``
    (``build: ./nginx``, or ``context`` and ``dockerfile``; see
    ``tlslint.sources.python.compose``). A ``build:`` that holds neither (a CI job
    called build) is none."""
    if "build" not in mapping.keys:
        return None
    context = mapping.keys["build"][0]
    dockerfile = "Dockerfile"
    if not context:
        options = mapping.children.get("build")
        if options is None or not {"context", "dockerfile", "dockerfile_inline"} & options.keys.keys():
            return None
        if "dockerfile_inline" in options.keys:
            return "its Dockerfile is written inline"
        context = options.keys.get("context", (".", 0))[0] or "."
        dockerfile = options.keys.get("dockerfile", (dockerfile, 0))[0] or dockerfile
    if "://" in context or context.startswith("git@") or "$" in context + dockerfile:
        return "its build context or Dockerfile is not a file of the checkout"
    return path.parent / context / dockerfile


def _built_images(path: Path, mapping: _Mapping, build: Path | str) -> list[Image]:
    """What a service that builds its image runs: its Dockerfile's nginx images. Its
    ``image:`` names the image the build produces (the Compose specification), so its
    tag is the project's own; an nginx-named one tells only that nginx runs there, of a
    version unknown when the Dockerfile names no nginx image or cannot be read."""
    text = _read(build) if isinstance(build, Path) else None
    if text is not None and isinstance(build, Path):
        images = list(_dockerfile_images(build, text))
        if images:
            return images
    reference, line = mapping.keys.get("image", ("", 0))
    image = _image(reference, path, line, "image:") if reference else None
    if image is None:
        return []
    return [Image(reference, None, None, image.evidence)]


def _app_version(chart: Path) -> tuple[str, int] | None:
    """A Helm chart's ``appVersion`` and its line; None when there is none."""
    try:
        with open(chart, "rb") as file:
            text = file.read(MAX_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return None
    match = _APP_VERSION.search(text)
    if match is None:
        return None
    return _unquote(match.group(1)), text.count("\n", 0, match.start()) + 1


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].strip()
    return value


def _image(reference: str, path: Path, line: int, how: str) -> Image | None:
    """An nginx image with the versions its tag names; None for other images."""
    name, tag = split_reference(reference)
    owned = _owned(name)
    what = f"FROM {reference}" if how == "FROM" else f"image {reference}"
    if owned is None:
        core = _fork_core(name, tag)
        if core is None:
            return None
        low = high = None
        if core:  # OpenResty's tag names its nginx core
            low, high = tag_versions(core)
            what += f" (OpenResty: nginx {core})"
        return Image(reference, low, high, Evidence(DEPLOYMENT, what, path=path, line=line))
    evidence = Evidence(DEPLOYMENT, what, path=path, line=line)
    low, high = tag_versions(tag) if owned else (None, None)
    return Image(reference, low, high, evidence)


def _fork_core(name: str, tag: str) -> str | None:
    """For an image of nginx's forks (``openresty/openresty``, ``bitnami/openresty``,
    Angie's, Tengine's, NGINX Plus's ``.../nginx-plus/base``): the nginx core release its
    tag names with certainty (OpenResty's own ``1.21.4.3``: "1.21.4"), else "" (unknown);
    None for an image that is no fork of nginx."""
    parts = name.lower().split("/")
    if not _FORKS.intersection(parts) and not parts[-1].startswith(("openresty", "angie", "tengine")):
        return None
    first = parts[0]
    if len(parts) > 1 and (any(c in first for c in ".:${") or first == "localhost"):
        parts = parts[1:]
    match = _OPENRESTY_TAG.match(tag)
    if "/".join(parts[-2:]) == _OPENRESTY and match is not None:
        return ".".join(match.groups())
    return ""


def _owned(name: str) -> bool | None:
    """Whether an image's tag is nginx's release: True for nginx's own repositories,
    False for another's build of nginx (``<org>/<product>/nginx``, a user's
    ``someone/nginx``: its tag numbers that build's releases), None for no nginx.

    The registry (a first part with ``.`` or ``:``, ``localhost``, or templated) is a
    mirror's and does not matter; what follows it must be Docker Hub's official image
    (``nginx``, ``library/nginx``, at the end of a mirror's path too) or a publisher
    listed in ``_PUBLISHERS``."""
    parts = name.lower().split("/")
    if parts[-1] not in _NGINX_REPOSITORIES:
        return None
    first = parts[0]
    if len(parts) > 1 and (any(c in first for c in ".:${") or first == "localhost"):
        parts = parts[1:]
    return len(parts) == 1 or "/".join(parts[-2:]) in _PUBLISHERS


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
