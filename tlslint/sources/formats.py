"""The formats tlslint reads, and how to tell that an edited text still parses.

The fixer re-validates every edited text with its own format's parser before
anything is written, whatever the format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from tlslint.sources.nginx.model import SourceText

NGINX = "nginx"

# Format name -> "module:function" that raises SourceError when a text does not parse.
_VALIDATORS: dict[str, str] = {
    NGINX: "tlslint.sources.nginx.parser:parse_text",
}


@dataclass(frozen=True, slots=True)
class LoadedText:
    """A text read by a run, with the format that re-validates it after a fix."""

    source: SourceText
    kind: str  # a key of _VALIDATORS
    # Why no fix may edit the text, or '' (a YAML mapping with a key twice, which kubectl
    # and helm refuse: a fix written there would be written to a file nothing loads).
    no_fix: str = ""


# Suffix -> format of a file that a fix creates.
_NEW_FILE_KINDS: dict[str, str] = {".conf": NGINX}


def kind_for_new_file(path: Path) -> str | None:
    return _NEW_FILE_KINDS.get(path.suffix)


def register(kind: str, target: str, suffixes: tuple[str, ...] = ()) -> None:
    """Add a format: its validator and the suffixes of files a fix may create."""
    for suffix in suffixes:
        _NEW_FILE_KINDS[suffix] = kind
    _VALIDATORS[kind] = target


def validate(kind: str, source: SourceText) -> None:
    """Raise ``SourceError`` when ``source`` does not parse as ``kind``."""
    module, _, name = _VALIDATORS[kind].partition(":")
    function: Callable[[SourceText], object] = getattr(import_module(module), name)
    function(source)
