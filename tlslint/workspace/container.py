"""Which file of the checkout is at a path inside a docker-compose service's container.

gunicorn started by a service's ``command:`` without ``-c`` reads ``gunicorn.conf.py``
from its working directory, and a relative ``-c`` is read from there too. That
directory is the service's ``working_dir:``, else the image's ``WORKDIR``; what is in it
is, in order of precedence:

1. a ``volumes:`` entry mounted over it: a bind mount's host directory (relative to the
   compose file), or a named volume, whose files cannot be known;
2. else what the Dockerfile's ``COPY``/``ADD`` lines put there from the build context
   (``tlslint.sources.python.image``), the last one that does, less what the context's
   ``.dockerignore`` leaves out;
3. else nothing: no such file in the image.

Where that cannot be told — an ``image:`` with no Dockerfile to read, no ``WORKDIR``
nor ``working_dir:``, a copy from another stage, a path with a variable, a named volume —
it is said why, and the settings the file may hold are unknown rather than gunicorn's
defaults.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python.model import Container

if TYPE_CHECKING:
    from tlslint.sources.python.image import Layout

Peek = Callable[[Path], "SourceText | None"]


def working_directory(container: Container, peek: Peek) -> tuple[str | None, str]:
    """(the command's working directory inside the container, why it is not known)."""
    if container.working_dir is not None:
        if "$" in container.working_dir:
            return None, f"its working_dir: {container.working_dir} is interpolated by compose"
        return posixpath.normpath(posixpath.join("/", container.working_dir)), ""
    if container.unknown:
        return None, container.unknown
    if container.dockerfile is None:
        image = f"the image {container.image}" if container.image else "its image"
        return None, f"its working directory is {image}'s, which tlslint cannot read"
    found, why = _layout(container.dockerfile, peek)
    if found is None:
        return None, why
    if found.unknown:
        return None, found.unknown
    if found.workdir is None:
        return None, f"{container.dockerfile.name} sets no WORKDIR: its working directory is its base image's"
    return found.workdir, ""


def _layout(dockerfile: Path, peek: Peek) -> tuple[Layout | None, str]:
    source = peek(dockerfile)
    if source is None:
        return None, f"its Dockerfile {dockerfile.name} cannot be read"
    from tlslint.sources.python.image import layout

    return layout(source), ""


def host_file(container: Container, inside: str, peek: Peek) -> tuple[Path | None, str]:
    """The file of the checkout at ``inside`` (absolute) in the container: (path, ""); (None,
    "") where nothing puts a file there; (None, why) where that cannot be told."""
    mount = _mount(container, inside)
    if mount is not None:
        target, source, bind = mount
        if not bind:
            if not source:
                return None, f"{target} is an anonymous volume: its files are not known"
            return None, f"{target} is the volume {source}, whose files tlslint cannot see"
        if "$" in source or source.startswith("~"):
            return None, f"{target} is mounted from {source}, which compose expands"
        host = container.compose.parent / source
        relative = posixpath.relpath(inside, target)
        path = host if relative == "." else host / relative
        if path.is_file():
            return path, ""
        if host.is_dir():
            return None, ""
        return None, f"{target} is mounted from {source}, which is not in the checkout"
    if container.dockerfile is None or container.context is None:
        image = f"the image {container.image}" if container.image else "its image"
        return None, f"{inside} would come from {image}, whose files tlslint cannot read"
    found, why = _layout(container.dockerfile, peek)
    if found is None:
        return None, why
    ignored = _dockerignore(container, peek)
    context = container.context
    for copy in reversed(found.copies):
        if not _under(inside, copy.dest):
            continue
        where = f"{container.dockerfile.name} line {copy.line}"
        if copy.origin:
            return None, f"{inside} may be copied by {where} from {copy.origin}"
        for written in reversed(copy.sources):
            relative = posixpath.normpath(written.lstrip("/")) if written not in (".", "./") else "."
            if relative.startswith(".."):
                return None, f"{where} copies from outside its build context ({written})"
            origin = context / relative if relative != "." else context
            if any(char in relative for char in "*?["):
                name = posixpath.basename(inside)
                if posixpath.dirname(inside) == copy.dest and fnmatch.fnmatchcase(
                    name, posixpath.basename(relative)
                ):
                    candidate = origin.parent / name
                    if candidate.is_file() and not ignored(candidate.relative_to(context).as_posix()):
                        return candidate, ""
                continue
            if origin.is_dir():
                rest = posixpath.relpath(inside, copy.dest)
                candidate = origin / rest
                if candidate.is_file() and not ignored(candidate.relative_to(context).as_posix()):
                    return candidate, ""
            elif origin.is_file():
                into = copy.directory or copy.dest in found.workdirs
                lands = posixpath.join(copy.dest, origin.name) if into else copy.dest
                if lands == inside and not ignored(relative):
                    return origin, ""
            elif posixpath.basename(relative) == posixpath.basename(inside):
                return None, f"{where} copies {written}, which is not in the build context as checked out"
    return None, ""


def _mount(container: Container, inside: str) -> tuple[str, str, bool] | None:
    """The mount whose target holds ``inside`` (the deepest): (target, source, bind)."""
    best: tuple[str, str, bool] | None = None
    for mount in container.mounts:
        target = posixpath.normpath(mount.target)
        if _under(inside, target) and (best is None or len(target) > len(best[0])):
            best = (target, mount.source, mount.bind)
    return best


def _under(inside: str, directory: str) -> bool:
    return inside == directory or inside.startswith(directory.rstrip("/") + "/")


def _dockerignore(container: Container, peek: Peek) -> Callable[[str], bool]:
    """Whether the context's .dockerignore (or ``<Dockerfile>.dockerignore``) leaves a
    path out: its patterns in order, the last that matches deciding (``!`` keeps)."""
    assert container.context is not None and container.dockerfile is not None
    beside = container.dockerfile.with_name(container.dockerfile.name + ".dockerignore")
    found = peek(beside) if beside.is_file() else None
    if found is None:
        default = container.context / ".dockerignore"
        found = peek(default) if default.is_file() else None
    patterns: list[tuple[bool, str]] = []
    for line in found.text.splitlines() if found is not None else ():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keep = line.startswith("!")
        pattern = posixpath.normpath(line.lstrip("!").strip().lstrip("/"))
        patterns.append((keep, pattern))

    def ignored(relative: str) -> bool:
        parts = relative.split("/")
        prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
        result = False
        for keep, pattern in patterns:
            plain = pattern.replace("**/", "*").replace("/**", "*")
            if any(fnmatch.fnmatchcase(prefix, plain) for prefix in prefixes):
                result = not keep
        return result

    return ignored
