"""Log files as streams of lines: plain, gzip, bzip2 or xz (told apart by their first bytes).

Nothing is read whole: a file is iterated line by line through a 1 MiB buffer, so
a file larger than memory costs no more than a small one. Undecodable bytes
become U+FFFD. A compressed file cut short (a rotation in progress) ends where
its data ends, with a note.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

BUFFER = 1 << 20
_MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}


def compression(path: Path) -> str | None:
    with path.open("rb") as stream:
        head = stream.read(6)
    return next((name for magic, name in _MAGIC.items() if head.startswith(magic)), None)


def _open_binary(path: Path, kind: str | None) -> BinaryIO:
    if kind == "gzip":
        return cast(BinaryIO, gzip.open(path, "rb"))
    if kind == "bzip2":
        return cast(BinaryIO, bz2.open(path, "rb"))
    if kind == "xz":
        return cast(BinaryIO, lzma.open(path, "rb"))
    return path.open("rb", buffering=BUFFER)


@dataclass
class LogFile:
    path: Path
    compression: str | None = None
    notes: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, path: Path) -> LogFile:
        return cls(path, compression(path))

    def lines(self) -> Iterator[str]:
        """Every line, with its newline; stops cleanly at a truncated compressed stream."""
        raw = _open_binary(self.path, self.compression)
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        try:
            yield from text
        except (EOFError, OSError, lzma.LZMAError) as error:
            self.notes.append(f"{self.path}: read stopped early: {error}")
        finally:
            text.close()

    def head(self, count: int = 50) -> list[str]:
        """The first ``count`` non-blank lines."""
        found: list[str] = []
        lines = self.lines()
        try:
            for line in lines:
                if line.strip():
                    found.append(line)
                    if len(found) >= count:
                        break
        finally:
            lines.close()  # type: ignore[attr-defined]
        return found
