"""Read a configuration file's text so that it can be written back byte for byte."""

from __future__ import annotations

import errno
import os
import stat
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


def brief(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters for a message: a hostile file's name or
    argument may be megabytes long."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_source(path: Path, max_bytes: int) -> SourceText:
    """A file's text; ``SourceError`` for anything that is not a readable regular file.

    Opened without blocking and checked before reading: a FIFO is refused, not
    read (reading one waits for a writer), and so are sockets and devices; a file
    above ``max_bytes`` is refused by its size, unread, and no more than
    ``max_bytes`` are ever read (a file may grow between the check and the read).
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC)
    except OSError as error:
        raise SourceError(path, 0, _cannot_read(path, error)) from None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise SourceError(path, 0, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(path, 0, f"is {_file_kind(info.st_mode)}, not a regular file; not read")
        if info.st_size > max_bytes:
            raise SourceError(path, 0, _too_large(info.st_size, max_bytes))
        data = _read_at_most(descriptor, info.st_size, max_bytes + 1)
        if len(data) > max_bytes:
            raise SourceError(path, 0, _too_large(len(data), max_bytes))
    except OSError as error:
        raise SourceError(path, 0, _cannot_read(path, error)) from None
    finally:
        os.close(descriptor)
    return decode(path, data)


def _read_at_most(descriptor: int, size: int, limit: int) -> bytes:
    """Up to ``limit`` bytes, asking first for the file's size and one byte more (a
    buffered ``read(limit)`` allocated ``limit`` bytes per file: 10 MiB for a 2 KB file)."""
    chunks: list[bytes] = []
    total = 0
    request = min(size + 1, limit)
    while total < limit:
        chunk = os.read(descriptor, request)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        request = min(max(request, 1 << 16), limit - total)  # the file grew: go on, within limit
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


SNIFF_BYTES = 64 * 1024  # how much of a file its format is told from


def sniff_head(path: Path, size: int = SNIFF_BYTES) -> bytes | None:
    """Up to ``size`` first bytes, to tell a file's format from; None when the file
    cannot be read or holds a NUL byte (no configuration does).

    One ``os.read``: a buffered file object costs more than the read itself
    when every file of a large tree is sniffed.
    """
    head = read_head(path, size)
    return None if head is None or b"\x00" in head else head


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes | None:
    """Up to ``size`` first bytes, NUL bytes and all; None when the file cannot be read."""
    try:
        descriptor = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC)
        try:
            return os.read(descriptor, size)
        finally:
            os.close(descriptor)
    except OSError:
        return None


def readable_head(head: bytes) -> bytes:
    """What a head holding a NUL byte says as text before it: the bytes before the first
    NUL, or, for UTF-16 or UTF-32 text (a byte-order mark: NULs throughout), the head
    as UTF-8. The file still does not load (``decode``); this tells whose it is."""
    wide = next((name for mark, name in _WIDE_MARKS if head.startswith(mark)), "")
    if wide:
        return head.decode(wide, "ignore").encode("utf-8", "surrogateescape")
    return head[: head.find(b"\x00")]


def yaml_lines(head: bytes) -> bytes:
    """``head`` with YAML's other line breaks (CRLF, a lone CR) as LF, for patterns
    anchored at lines (``^``, ``$``): a file saved with CR line endings is still YAML,
    and helm and kubectl read it."""
    return head.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in head else head


def listing_problem(directory: Path) -> str:
    """Why a directory cannot be listed, or '' (also for a path that is no directory
    or does not exist)."""
    try:
        with os.scandir(directory):
            return ""
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.ENOTDIR):
            return ""
        return f"cannot be listed: {error.strerror or error}"


def read_problem(path: Path) -> str:
    """Why ``path`` cannot be opened for reading, or '' (a FIFO is never waited for)."""
    try:
        os.close(os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_CLOEXEC))
    except OSError as error:
        return _cannot_read(path, error)
    return ""


# O_NONBLOCK makes opening a FIFO return at once (POSIX; absent on Windows).
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _too_large(size: int, max_bytes: int) -> str:
    limit = human_size(max_bytes, exact=True)
    return f"file is {human_size(size)}, above the {limit} limit (max-file-size); not read"


def human_size(count: int, *, exact: bool = False) -> str:
    """Bytes in MiB or KiB, one decimal (none for a whole number, with ``exact``)."""
    for unit, scale in (("MiB", 2**20), ("KiB", 2**10)):
        if count >= scale:
            value = count / scale
            return f"{value:.0f} {unit}" if exact and value.is_integer() else f"{value:.1f} {unit}"
    return f"{count} bytes"


def _cannot_read(path: Path, error: OSError) -> str:
    problem = not_a_file(path)
    return problem if problem else f"cannot read: {error.strerror or error}"


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def not_a_file(path: Path) -> str:
    """Why ``path`` is no file to read (a FIFO, a broken symlink, a directory that
    cannot be searched...), or '': for a regular file, a directory, or a path that
    does not exist. Never opens the file.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if not os.path.islink(path):
            return "" if error.errno == errno.ENOENT else f"cannot be read: {error.strerror or error}"
        if error.errno == errno.ELOOP:
            return "is a symlink loop (too many levels of symbolic links); not read"
        if error.errno == errno.ENOENT:
            try:
                target = os.readlink(path)
            except OSError:
                target = "a missing file"
            return f"is a dangling symlink (to {target}, which does not exist); not read"
        return f"cannot be read: {error.strerror or error}"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return ""
    return f"is {_file_kind(mode)}, not a regular file; not read"


# UTF-32's marks begin with UTF-16's: the longer ones first.
_WIDE_MARKS = (
    (b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
)  # fmt: skip


def decode(path: Path, data: bytes) -> SourceText:
    nul = data.find(b"\x00")
    if nul != -1:
        wide = next((name for mark, name in _WIDE_MARKS if data.startswith(mark)), "")
        if wide:  # text, not binary: YAML tools may read it, nginx does not
            raise SourceError(
                path,
                1,
                f"{wide} text (a byte-order mark); tlslint reads UTF-8 only: convert it "
                f"(iconv -f {wide} -t UTF-8) to have it checked",
            )
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
