"""What a Dockerfile puts where in its image: the final stage's ``WORKDIR`` and ``COPY``/``ADD``.

gunicorn reads ``./gunicorn.conf.py`` from its working directory when no ``-c`` is given,
and a relative ``-c`` from there too. For a command a docker-compose service gives, that
directory is the image's ``WORKDIR`` (or the service's ``working_dir:``), and what is in it
is what the Dockerfile copied from the build context. This module reads those
instructions, never builds anything:

* the final stage, after the stages it is built ``FROM`` (``FROM base AS final``);
* ``ENV`` (``image_env``), which a compose ``command:`` replacing the CMD still runs with;
* ``WORKDIR`` (a relative one continues the one before it; one with a ``$`` is unknown);
* ``COPY`` / ``ADD``, shell and JSON forms, with their destination made absolute against
  the ``WORKDIR`` in force. A copy whose content is not the build context's
  (``--from=``, a here-document, a URL, an archive that ``ADD`` unpacks, a path with a
  variable) is kept with why: what it puts in the image is not known here.

``RUN`` may create or move files too; it is not read.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, replace

from tlslint.findings import Location
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python.commands import dockerfile_words, escape_token, lex_json, logical_lines
from tlslint.sources.python.environment import EnvVar, dockerfile_env

_ARCHIVE = re.compile(r"\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz|tar\.zst)$", re.I)
_URL = re.compile(r"^(?:https?://|git@|git://)")


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]  # relative to the build context, as written
    dest: str  # absolute, normalised
    directory: bool  # dest is a directory: ends with "/", several sources, "." ...
    line: int
    origin: str = ""  # why its content is not the build context's ("--from=build", ...)


@dataclass(frozen=True)
class Layout:
    workdir: str | None  # the final stage's working directory; None: not set in the Dockerfile
    copies: tuple[Copy, ...] = ()
    workdirs: frozenset[str] = frozenset()  # directories WORKDIR made (a COPY there copies into them)
    unknown: str = ""  # why the working directory cannot be known


def _stages(source: SourceText) -> list[tuple[str, str, list[tuple[str, int, int]]]]:
    """(name, base image, instructions) for each stage, in order."""
    stages: list[tuple[str, str, list[tuple[str, int, int]]]] = []
    for keyword, start, end in logical_lines(source.text):
        if keyword == "FROM":
            words = [w.text for w in dockerfile_words(source.text, start, end) if not w.text.startswith("--")]
            base = words[0] if words else ""
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else ""
            stages.append((name.lower(), base.lower(), []))
        elif stages:
            stages[-1][2].append((keyword, start, end))
    return stages


def final_chain(source: SourceText) -> list[tuple[str, str, list[tuple[str, int, int]]]]:
    """The final stage after the stages it is built ``FROM``, first to last."""
    stages = _stages(source)
    if not stages:
        return []
    chain = [stages[-1]]
    names = {name: index for index, (name, _, _) in enumerate(stages) if name}
    seen = {len(stages) - 1}
    while (index := names.get(chain[0][1])) is not None and index not in seen:
        seen.add(index)
        chain.insert(0, stages[index])
    return chain


def final_env(source: SourceText) -> dict[str, EnvVar]:
    """The image's ``ENV``: the final stage's, after the stages it is built from."""
    env: dict[str, EnvVar] = {}
    for _, _, instructions in final_chain(source):
        for keyword, start, end in instructions:
            if keyword == "ENV":
                dockerfile_env(source.text, start, end, env)
    return env


def image_env(source: SourceText) -> dict[str, EnvVar]:
    """``final_env``, each value placed in the Dockerfile (``EnvVar.where``): what a compose
    ``command:`` that replaces the image's CMD still runs with, read in the compose file."""
    env = final_env(source)
    return {
        name: replace(v, start=-1, end=-1, where=Location(source.path, *source.region(v.start, v.end)))
        if v.start >= 0
        else v
        for name, v in env.items()
    }


def layout(source: SourceText) -> Layout:
    chain = final_chain(source)
    if not chain:
        return Layout(None)
    workdir: str | None = None
    unknown = ""
    workdirs: set[str] = set()
    copies: list[Copy] = []
    text = source.text
    for _, _, instructions in chain:
        for keyword, start, end in instructions:
            if keyword == "WORKDIR":
                path = text[start:end].strip().strip("\"'")
                if "$" in path:
                    unknown = f"WORKDIR {path} holds a variable"
                    continue
                workdir = posixpath.normpath(posixpath.join(workdir or "/", path))
                workdirs.add(workdir)
            elif keyword in ("COPY", "ADD"):
                found = _copy(source, keyword, start, end, workdir or "/", unknown)
                if found is not None:
                    copies.append(found)
    return Layout(workdir, tuple(copies), frozenset(workdirs), unknown)


def _copy(source: SourceText, keyword: str, start: int, end: int, workdir: str, unknown: str) -> Copy | None:
    text = source.text
    line = source.position(start)[0]
    body = text[start:end].strip()
    flags: list[str] = []
    words: list[str] = []
    if "<<" in body:
        dest = body.split()[-1]
        return Copy((), _absolute(dest, workdir), dest.endswith("/"), line, "a here-document")
    lexed = dockerfile_words(text, start, end)
    while lexed and lexed[0].text.startswith("--"):
        flags.append(lexed.pop(0).text)
    rest_start = lexed[0].start if lexed else end
    if text[rest_start:end].lstrip().startswith("["):
        offset = text.index("[", rest_start)
        json_words = lex_json(text, offset, len(text[:end].rstrip(" \t\r")), escape_token(text))
        words = [w.text for w in json_words] if json_words else []
    else:
        words = [w.text for w in lexed]
    if len(words) < 2:
        return None
    *sources, dest = words
    directory = dest.endswith("/") or dest in (".", "./") or len(sources) > 1
    target = _absolute(dest, workdir)
    origin = ""
    source_from = next((f for f in flags if f.startswith("--from=")), None)
    if source_from is not None:
        origin = source_from
    elif any(f.startswith("--parents") for f in flags):
        origin = "--parents"
    elif "$" in dest or any("$" in s for s in sources):
        origin = "a path with a variable"
    elif keyword == "ADD" and any(_URL.match(s) for s in sources):
        origin = "a URL"
    elif keyword == "ADD" and any(_ARCHIVE.search(s) for s in sources):
        origin = "an archive ADD unpacks"
    elif unknown and not dest.startswith("/"):
        origin = f"a destination under a WORKDIR that is not known ({unknown})"
    return Copy(tuple(sources), target, directory, line, origin)


def _absolute(dest: str, workdir: str) -> str:
    return posixpath.normpath(posixpath.join(workdir, dest))
