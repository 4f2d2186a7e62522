"""A parsed nginx file as plain data, and back: what the cache keeps.

The cache goes through ``marshal``, which handles strings, bytes and lists
quickly but no objects. The flat form holds the text, every directive's name
and arguments (one list of strings, interned as the lexer interned them, which
``marshal`` keeps) and its offsets and block sizes (packed integers). Loading
it makes the tree the parser made, three times as fast as tokenising and
building it again (a warm check was no faster than a cold one on two CPUs).
"""

from __future__ import annotations

from array import array
from pathlib import Path

from tlslint.sources.nginx.model import Comment, Directive, ParsedFile, SourceText, shared_args

# (text, BOM, newline, names and arguments, packed integers, comment texts)
Flat = tuple[str, bool, str, list[str], bytes, list[str]]

# Per directive, in text order (depth first): argument count, start, end,
# args_start, args_end, block_open, block_close, and its number of children (-1:
# no block). Then each comment's start, then the number of top-level directives.
_FIELDS = 8
_TYPECODE = "i"  # 32 bits: files are refused long before 2 GiB (max-file-size)


def _offsets(numbers: array[int], directive_numbers: int, typecode: str) -> array[int]:
    """Every directive's six offsets, in Directive's layout (see ``SourceText.offsets``),
    moved out of the flat integers by six strided slices (C loops, not one a directive)."""
    offsets = array(typecode, bytes(array(typecode).itemsize * 6 * (directive_numbers // _FIELDS)))
    for field in range(6):  # start, end, args_start, args_end, block_open, block_close
        column = numbers[1 + field : directive_numbers : _FIELDS]
        offsets[field::6] = column if column.typecode == typecode else array(typecode, column)
    return offsets


def flatten(parsed: ParsedFile) -> Flat:
    """Raises ``OverflowError`` for an offset past 2 GiB."""
    strings: list[str] = []
    numbers = array(_TYPECODE)
    stack = list(reversed(parsed.directives))
    while stack:
        directive = stack.pop()
        strings.append(directive.name)
        strings.extend(directive.args)
        block = directive.block
        numbers.extend(
            (
                len(directive.args),
                directive.start,
                directive.end,
                directive.args_start,
                directive.args_end,
                directive.block_open,
                directive.block_close,
                -1 if block is None else len(block),
            )
        )
        if block:
            stack.extend(reversed(block))
    numbers.extend(comment.start for comment in parsed.comments)
    numbers.append(len(parsed.directives))
    source = parsed.source
    texts = [comment.text for comment in parsed.comments]
    return (source.text, source.bom, source.newline, strings, numbers.tobytes(), texts)


def unflatten(path: Path, flat: Flat) -> ParsedFile:
    """The tree ``flatten`` was given; ``ValueError`` for data it did not write."""
    try:
        text, bom, newline, strings, packed, comment_texts = flat
        numbers = array(_TYPECODE)
        numbers.frombytes(packed)
        top_count = numbers.pop()
    except (TypeError, ValueError, IndexError) as error:
        raise ValueError(f"not a flattened file: {error}") from None
    directive_numbers = len(numbers) - len(comment_texts)
    if directive_numbers < 0 or directive_numbers % _FIELDS:
        raise ValueError("not a flattened file: the counts do not add up")
    total = directive_numbers // _FIELDS
    source = SourceText(path, text, bom, newline)
    source.offsets = _offsets(numbers, directive_numbers, source.offsets.typecode)
    counts = numbers[0:directive_numbers:_FIELDS].tolist()
    sizes = numbers[_FIELDS - 1 : directive_numbers : _FIELDS].tolist()
    root: list[Directive] = []
    includes: list[Directive] = []
    depth = 0
    # The open blocks above the current one: their children, how many are still to
    # come, their directive; the current one's are locals (the hot loop's).
    frames: list[tuple[list[Directive], int, Directive | None]] = []
    children: list[Directive] = root
    remaining = top_count
    parent: Directive | None = None
    word = 0
    new = Directive.__new__  # every slot set below: see Directive
    try:
        for index in range(total):
            while remaining == 0:
                children, remaining, parent = frames.pop()
            remaining -= 1
            count = counts[index]
            name = strings[word]
            args = shared_args(tuple(strings[word + 1 : word + 1 + count]))
            word += 1 + count
            directive = new(Directive)
            directive.name = name
            directive.args = args
            directive.source = source
            directive.parent = parent
            directive._at = index * 6  # its offsets, laid out above
            children.append(directive)
            size = sizes[index]
            if size >= 0:
                block: list[Directive] = []
                directive.block = block
                frames.append((children, remaining, parent))
                children, remaining, parent = block, size, directive
                depth = max(depth, len(frames))
            else:
                directive.block = None
                if name == "include":
                    includes.append(directive)
    except IndexError:
        raise ValueError("not a flattened file: fewer directives than counted") from None
    if word != len(strings) or remaining or any(left for _, left, _ in frames):
        raise ValueError("not a flattened file: the counts do not add up")
    starts = numbers[directive_numbers:]
    comments = [Comment(comment, start) for comment, start in zip(comment_texts, starts, strict=True)]
    return ParsedFile(source, root, comments, includes, depth)
