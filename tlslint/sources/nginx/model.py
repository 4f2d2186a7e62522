"""The nginx source model: one immutable tree per file, exact positions.

A file's tree knows nothing of who includes it, so one parsed file can serve
every context it is included from (and can be cached by content hash).
"""

from __future__ import annotations

import bisect
import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path

# Positions a file answers by counting newlines before its line table is built.
_COUNTED_LOOKUPS = 4
_LONE_CR = re.compile(r"\r(?!\n)")
_LINE_BREAK = re.compile(r"\r\n?|\n")


@dataclass(slots=True)
class SourceText:
    """A file's decoded text and what is needed to write it back unchanged."""

    path: Path
    text: str
    bom: bool = False
    newline: str = "\n"
    # An array, not a list: one machine word a line instead of an int object and a pointer.
    _line_starts: array[int] | None = field(default=None, repr=False)
    _lookups: int = field(default=0, repr=False, compare=False)  # positions found without the table
    # The offsets of the file's directives, six each (see ``Directive``): 32 bits each
    # (7 MB less at 10,000 hosts), 64 for a text past 2 GiB (a max-file-size raised so).
    offsets: array[int] = field(default_factory=lambda: array("i"), repr=False, compare=False)
    # A lone CR ends a line too (``break_lines_at_cr``): YAML's line breaks. nginx counts
    # LF only (a CR is a blank to it), so a file starts with LF lines.
    cr_breaks: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.text) >= 2**31 and self.offsets.typecode == "i":
            self.offsets = array("q", self.offsets)

    def break_lines_at_cr(self) -> None:
        """Count lines as YAML does (LF, CRLF and a lone CR each end one), when the text
        has a lone CR (a file saved with CR line endings); otherwise nothing changes."""
        if self.cr_breaks or "\r" not in self.text or _LONE_CR.search(self.text) is None:
            return
        self.cr_breaks = True
        self._line_starts = None

    def line_starts(self) -> array[int]:
        if self._line_starts is None:
            starts = array("q", [0])
            text = self.text
            if self.cr_breaks:
                starts.extend(match.end() for match in _LINE_BREAK.finditer(text))
                self._line_starts = starts
                return starts
            find = text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._line_starts = starts
        return self._line_starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of ``offset``; columns count characters."""
        starts = self._line_starts
        if starts is None:
            if self._lookups < _COUNTED_LOOKUPS and not self.cr_breaks:
                # Most files are asked once or twice (a server's line, near the top):
                # counting the newlines before it is cheaper than a table of every line.
                self._lookups += 1
                text = self.text
                return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
            starts = self.line_starts()
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index] + 1

    def region(self, start: int, end: int, *, first_line: bool = False) -> tuple[int, int, int, int]:
        """(line, column, end line, end column) of ``text[start:end]``; with
        ``first_line``, cut at the end of its first line (what an annotation underlines)."""
        line, column = self.position(start)
        # most regions: no second look-up
        text = self.text
        if text.find("\n", start, end) < 0 and not (self.cr_breaks and text.find("\r", start, end) >= 0):
            return line, column, line, column + end - start
        end_line, end_column = self.position(end)
        if first_line and end_line != line:
            end_line, end_column = line, len(self.line_text(line)) + 1
        return line, column, end_line, end_column

    def line_text(self, line: int) -> str:
        starts = self.line_starts()
        if line < 1 or line > len(starts):
            return ""
        begin = starts[line - 1]
        end = starts[line] - 1 if line < len(starts) else len(self.text)
        return self.text[begin:end].rstrip("\r")  # CRLF; a lone CR is left out as LF is


# One tuple for arguments written alike (`on`, `1.1`, `Host $host`): half the tuples of a
# tree of 10,000 servers are repeats. Bounded, since it outlives the run.
_SHARED_ARGS: dict[tuple[str, ...], tuple[str, ...]] = {}
_SHARED_ARGS_MAX = 1 << 16


def shared_args(args: tuple[str, ...]) -> tuple[str, ...]:
    if len(_SHARED_ARGS) < _SHARED_ARGS_MAX:
        return _SHARED_ARGS.setdefault(args, args)
    return _SHARED_ARGS.get(args, args)


class Directive:
    """One directive as written: ``name args... ;`` or ``name args... { ... }``.

    Its six offsets live in its file's ``SourceText.offsets`` (machine words): as
    attributes they were six int objects a directive, a quarter of the memory of a
    check of 10,000 servers.

    The parser and the cache's ``unflatten`` build directives without ``__init__`` (their
    hot loops; a call a directive cost a tenth of a cold parse): each sets every slot,
    and tests/test_flat.py holds their trees to this constructor's.
    """

    __slots__ = ("_at", "args", "block", "name", "parent", "source")

    def __init__(
        self,
        name: str,
        args: tuple[str, ...],
        source: SourceText,
        start: int,  # offset of the name
        end: int,  # offset just past the terminating ';' or the closing '}'
        args_start: int,  # offset of the first argument (== end of name when none)
        args_end: int,  # offset just past the last argument
        block: list[Directive] | None = None,
        block_open: int = -1,  # offset of '{'
        block_close: int = -1,  # offset of '}'
        parent: Directive | None = None,  # enclosing block in the same file
    ) -> None:
        self.name = name
        self.args = args
        self.source = source
        self.block = block
        self.parent = parent
        offsets = source.offsets
        self._at = len(offsets)
        offsets.extend((start, end, args_start, args_end, block_open, block_close))

    @property
    def start(self) -> int:
        return self.source.offsets[self._at]

    @property
    def end(self) -> int:
        return self.source.offsets[self._at + 1]

    @end.setter
    def end(self, value: int) -> None:
        self.source.offsets[self._at + 1] = value

    @property
    def args_start(self) -> int:
        return self.source.offsets[self._at + 2]

    @property
    def args_end(self) -> int:
        return self.source.offsets[self._at + 3]

    @property
    def block_open(self) -> int:
        return self.source.offsets[self._at + 4]

    @block_open.setter
    def block_open(self, value: int) -> None:
        self.source.offsets[self._at + 4] = value

    @property
    def block_close(self) -> int:
        return self.source.offsets[self._at + 5]

    @block_close.setter
    def block_close(self, value: int) -> None:
        self.source.offsets[self._at + 5] = value

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def line(self) -> int:
        return self.source.position(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.position(self.start)[1]

    @property
    def end_position(self) -> tuple[int, int]:
        return self.source.position(self.end)

    @property
    def close_line(self) -> int:
        """Line of the closing '}' of a block (or of ';')."""
        offset = self.block_close if self.block is not None else self.end - 1
        return self.source.position(offset)[0]

    def __repr__(self) -> str:
        return f"<{self.name} {' '.join(self.args)} @{self.path.name}:{self.line}>"


@dataclass(slots=True)
class Comment:
    """A comment as written; its line is ``source.position(start)``, asked for only
    by the rare comment that suppresses (most files need no line table)."""

    text: str  # including the leading '#'
    start: int


@dataclass(slots=True)
class ParsedFile:
    """One nginx file: its text, its directive tree and its comments."""

    source: SourceText
    directives: list[Directive]
    comments: list[Comment]
    # Noted while the tree is built, so that no one walks it again for them:
    includes: list[Directive] = field(default_factory=list)  # every `include`, in text order
    depth: int = 0  # how deep its own blocks nest (its includes not followed)

    @property
    def path(self) -> Path:
        return self.source.path


def walk(directives: list[Directive]):  # type: ignore[no-untyped-def]
    """Every directive of a file's tree, depth first, in text order."""
    stack = list(reversed(directives))
    while stack:
        directive = stack.pop()
        yield directive
        if directive.block:
            stack.extend(reversed(directive.block))
