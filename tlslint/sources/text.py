"""Read a configuration file's text so that it can be written back byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

from tlslint.sources.nginx.model import SourceText

BOM = "\ufeff"
# Undecodable bytes survive a read-edit-write cycle unchanged.
ENCODING_ERRORS = "surrogateescape"


class SourceError(Exception):
    """A file that cannot be used, with the line where that shows (0 if none)."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


def read_source(path: Path, max_bytes: int) -> SourceText:
    try:
        if path.is_dir():
            raise SourceError(path, 0, "is a directory, not a file")
        size = os.stat(path).st_size
        if size > max_bytes:
            raise SourceError(
                path,
                0,
                f"file is {size / 2**20:.1f} MiB, above the {max_bytes / 2**20:.0f} MiB limit "
                "(max-file-size); not read",
            )
        data = path.read_bytes()
    except SourceError:
        raise
    except OSError as error:
        raise SourceError(path, 0, f"cannot read: {error.strerror or error}") from None
    return decode(path, data)


def decode(path: Path, data: bytes) -> SourceText:
    nul = data.find(b"\x00")
    if nul != -1:
        line = data.count(b"\n", 0, nul) + 1
        raise SourceError(path, line, "binary file (NUL byte); not a configuration file")
    text = data.decode("utf-8", ENCODING_ERRORS)
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    first_newline = text.find("\n")
    newline = "\r\n" if first_newline > 0 and text[first_newline - 1] == "\r" else "\n"
    return SourceText(path=path, text=text, bom=bom, newline=newline)


def encode(source: SourceText, text: str) -> bytes:
    """The bytes to write for ``text`` edited from ``source`` (BOM kept)."""
    return ((BOM if source.bom else "") + text).encode("utf-8", ENCODING_ERRORS)
