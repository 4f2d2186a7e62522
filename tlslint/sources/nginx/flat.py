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
    source = SourceText(path, text, bom, newline)
    root: list[Directive] = []
    includes: list[Directive] = []
    depth = 0
    # Open blocks: their children so far, how many are still to come, their directive.
    frames: list[tuple[list[Directive], int, Directive | None]] = [(root, top_count, None)]
    word = 0
    try:
        for offset in range(0, directive_numbers, _FIELDS):
            while frames[-1][1] == 0:
                frames.pop()
            children, remaining, parent = frames[-1]
            frames[-1] = (children, remaining - 1, parent)
            count, start, end, args_start, args_end, block_open, block_close, size = numbers[
                offset : offset + _FIELDS
            ]
            name = strings[word]
            args = shared_args(tuple(strings[word + 1 : word + 1 + count]))
            word += 1 + count
            directive = Directive(
                name, args, source, start, end, args_start, args_end, None, block_open, block_close, parent
            )
            children.append(directive)
            if size >= 0:
                directive.block = []
                frames.append((directive.block, size, directive))
                depth = max(depth, len(frames) - 1)
            elif name == "include":
                includes.append(directive)
    except IndexError:
        raise ValueError("not a flattened file: fewer directives than counted") from None
    if word != len(strings) or any(remaining for _, remaining, _ in frames):
        raise ValueError("not a flattened file: the counts do not add up")
    starts = numbers[directive_numbers:]
    comments = [Comment(comment, start) for comment, start in zip(comment_texts, starts, strict=True)]
    return ParsedFile(source, root, comments, includes, depth)
