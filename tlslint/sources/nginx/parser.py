"""Read an nginx file and build its directive tree, or say exactly what is wrong."""

from __future__ import annotations

import re
from pathlib import Path
from struct import pack
from typing import Final

from tlslint.sources.nginx.lexer import (
    CLOSE,
    COMMENT,
    QUOTED,
    SEMI,
    LexError,
    RawToken,
    scan,
    scan_in_chunks,
)
from tlslint.sources.nginx.model import _SHARED_ARGS, Comment, Directive, ParsedFile, SourceText, shared_args
from tlslint.sources.text import SourceError, brief, read_source

# Block directives of the stock modules; anything else that opens a block is
# looked up in crossplane's directive table before it is trusted.
BLOCK_DIRECTIVES = frozenset(
    {
        "charset_map", "events", "geo", "http", "if", "limit_except", "location",
        "mail", "map", "match", "server", "split_clients", "stream", "types",
        "upstream",
    }
)  # fmt: skip

__all__ = ["ParseError", "Scanned", "SourceError", "from_scanned", "parse_file", "parse_text", "scan_file"]

# Real configurations nest a handful of blocks (http > server > location > if);
# the workspace and the checks walk blocks recursively, so a file nested
# deeper than this is refused with a location instead of exhausting the stack.
MAX_DEPTH = 100
# Memory on hostile input (docs/reliability.md). A token costs about 130 bytes held
# (a tuple and two integers) for as little as one byte of text: a text longer than
# this is built while it is scanned, its tokens a chunk at a time, so memory stays a
# small multiple of the file's size and the first error ends the scan.
CHUNKED_ABOVE = 256 * 1024  # characters
_CHUNK = 4096  # tokens
# A statement that goes on past this many words is refused (while scanning, in a text
# built in chunks): its tokens are held until it ends. nginx sets no such limit; real
# directives have a few words, a long server_name list some hundreds.
MAX_ARGS = 100_000


class ParseError(SourceError):
    """A syntax error at a known line."""


# A file read and tokenised, as plain data (text, BOM, newline, tokens): what worker
# processes send back, through ``marshal``, which loads it several times faster than
# ``pickle`` loads the tree built from it.
Scanned = tuple[str, bool, str, list[RawToken]]


def parse_file(path: Path, max_bytes: int) -> ParsedFile:
    """Parse one file; raise ``SourceError`` with a line for anything unusable."""
    return parse_text(read_source(path, max_bytes))


def parse_text(source: SourceText) -> ParsedFile:
    if len(source.text) > CHUNKED_ABOVE:
        return _build_in_chunks(source)
    return _build(source, _tokens(source))


def scan_file(path: Path, max_bytes: int) -> Scanned | None:
    """Read and tokenise one file; raise ``SourceError`` as ``parse_file`` does. None
    for a file above ``CHUNKED_ABOVE``: its tokens are not to be held, nor sent."""
    source = read_source(path, max_bytes)
    if len(source.text) > CHUNKED_ABOVE:
        return None
    return (source.text, source.bom, source.newline, _tokens(source))


def from_scanned(path: Path, scanned: Scanned) -> ParsedFile:
    """The tree of a scanned file; raise ``ParseError`` for a structural error."""
    text, bom, newline, tokens = scanned
    return _build(SourceText(path, text, bom, newline), tokens)


def _tokens(source: SourceText) -> list[RawToken]:
    try:
        return scan(source.text)
    except LexError as error:
        raise _error(source, error.offset, error.message) from None


def _error(source: SourceText, offset: int, message: str) -> ParseError:
    # Lines counted up to the error only: a table of every line of a large file of
    # garbage cost seconds (``SourceText.position`` builds one).
    return ParseError(
        source.path, source.text.count("\n", 0, offset) + 1, message + _template_hint(source, offset)
    )


# Template syntax nginx cannot read: Go/Jinja/mustache `{{`, Jinja `{%`, a str.format
# `{name}` (not `{#`: `location / {# comment` is nginx), a line that is one string.Template
# `$name` (no directive's name starts with `$`).
_TEMPLATE = re.compile(r"\{\{|\{%|\{\s*[A-Za-z_][\w.]*\s*\}|(?m:^[ \t]*\$[A-Za-z_]\w*[ \t]*$)")


def _template_hint(source: SourceText, offset: int) -> str:
    """Names the template syntax on the error's line: the file is a template to render
    (shipped as nginx.conf.tpl, a Helm or Docker entrypoint template), not nginx."""
    text = source.text
    start = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    found = _TEMPLATE.search(text, start, end if end != -1 else len(text))
    if found is None:
        return ""
    syntax = found.group(0).strip()
    syntax = syntax[:2] if syntax[:2] in ("{{", "{%") else syntax
    return (
        f" (the line holds template syntax `{_brief(syntax)}`: tlslint reads nginx configuration, "
        "not templates; check the rendered file)"
    )


# Fields of a RawToken (kind, value, start, end), by index for the hot loop.
_KIND: Final = 0
_VALUE: Final = 1
_START: Final = 2
_END: Final = 3


def _build(source: SourceText, tokens: list[RawToken]) -> ParsedFile:
    root: list[Directive] = []
    comments: list[Comment] = []
    includes: list[Directive] = []
    # Each frame: (block directive or None for the file, its children).
    stack: list[tuple[Directive | None, list[Directive]]] = [(None, root)]
    try:
        words, depth = _feed(source, tokens, comments, includes, stack, [], 0)
        _at_end(source, stack, words)
    except ParseError as error:
        raise _first_error(source, root, error) from None
    return ParsedFile(source, root, comments, includes, depth)


def _build_in_chunks(source: SourceText) -> ParsedFile:
    """A large file's tree, built as its tokens are scanned: its tokens are never held
    all at once (about 130 bytes each, against a byte or two of text), the first
    error ends the scan, and a directive that goes on past ``MAX_ARGS`` words (text
    that never ends a statement) is refused while scanning."""
    root: list[Directive] = []
    comments: list[Comment] = []
    includes: list[Directive] = []
    stack: list[tuple[Directive | None, list[Directive]]] = [(None, root)]
    words: list[RawToken] = []
    depth = 0

    def take(chunk: list[RawToken]) -> None:
        nonlocal words, depth
        words, depth = _feed(source, chunk, comments, includes, stack, words, depth)
        if len(words) > MAX_ARGS:
            name = _brief(words[0][_VALUE])
            raise _error(source, words[0][_START], f'"{name}" directive has more than {MAX_ARGS:,} arguments')

    try:
        scan_in_chunks(source.text, take, _CHUNK)
        _at_end(source, stack, words)
    except LexError as error:
        raise _error(source, error.offset, error.message) from None
    except ParseError as error:
        raise _first_error(source, root, error) from None
    return ParsedFile(source, root, comments, includes, depth)


# Directives that always take a block ("server" is also upstream's server address).
_BLOCK_ONLY = BLOCK_DIRECTIVES - {"server"}


def _first_error(source: SourceText, root: list[Directive], error: ParseError) -> ParseError:
    """The error nginx stops at first: ``error``, unless a directive before it that
    takes a block was ended by ";" (`has no opening "{"`, where nginx stops). That is
    how a "{" that opens no block shows (``location ~ \\.php${``: nginx keeps a "{"
    right after "$" in the word), and the braces then fail to match further on."""
    first: Directive | None = None
    pending = list(root)
    while pending:
        directive = pending.pop()
        if directive.block is not None:
            pending.extend(directive.block)
        elif (
            directive.name in _BLOCK_ONLY
            and directive.block_open < 0  # ended by ";" (not the block being opened)
            and (first is None or directive.start < first.start)
        ):
            first = directive
    if first is None or first.line > error.line:
        return error
    return ParseError(
        source.path, first.line, f'directive "{first.name}" has no opening "{{" (it takes a block)'
    )


def _feed(
    source: SourceText,
    tokens: list[RawToken],
    comments: list[Comment],
    includes: list[Directive],
    stack: list[tuple[Directive | None, list[Directive]]],
    words: list[RawToken],
    depth: int,
) -> tuple[list[RawToken], int]:
    """Build on with ``tokens`` from where the parser stands (``stack``, the ``words`` of
    the statement not yet ended, the ``depth`` reached); return the two that change.
    Raise ``ParseError`` at the first error."""
    offsets = source.offsets
    # The new directives' offsets go to a list, packed into ``offsets`` once at the end:
    # the array converts each int it is given through PyArg_Parse (400 instructions, a
    # sixth of building a tree), struct.pack through PyLong_AsLong.
    flat: list[int] = []
    base = len(offsets)
    new = Directive.__new__  # every slot set below: see Directive
    shared = _SHARED_ARGS
    parent, children = stack[-1]
    try:
        for token in tokens:
            kind = token[_KIND]
            if kind <= QUOTED:
                words.append(token)
                continue
            if kind == COMMENT:
                comments.append(Comment(token[_VALUE], token[_START]))
                continue
            if kind == CLOSE:
                if words:
                    raise _error(source, words[0][_START], _not_terminated(words[0][_VALUE]))
                if parent is None:
                    raise _error(source, token[_START], 'unexpected "}"')
                at = parent._at - base
                if at >= 0:
                    flat[at + 5] = token[_START]  # block_close
                    flat[at + 1] = token[_END]  # end
                else:  # opened in an earlier chunk (_build_in_chunks), already packed
                    parent.block_close = token[_START]
                    parent.end = token[_END]
                stack.pop()
                parent, children = stack[-1]
                continue
            if not words:
                raise _error(source, token[_START], 'unexpected ";"' if kind == SEMI else 'unexpected "{"')
            # The directive, built inline (the hot loop of a cold check: a call or two
            # per directive cost 8 to 12 % of building a tree); one or two arguments,
            # most directives' count, without a comprehension (a call in Python 3.11).
            name = words[0]
            count = len(words)
            if count == 1:
                args: tuple[str, ...] = ()
                args_start = args_end = name[_END]
            else:
                if count == 2:
                    args = (words[1][_VALUE],)
                elif count == 3:
                    args = (words[1][_VALUE], words[2][_VALUE])
                else:
                    args = tuple([word[_VALUE] for word in words[1:]])
                args = shared.get(args) or shared_args(args)  # shared_args inline where known
                args_start, args_end = words[1][_START], words[-1][_END]
            directive = new(Directive)
            directive.name = name[_VALUE]
            directive.args = args
            directive.source = source
            directive.block = None
            directive.parent = parent
            directive._at = base + len(flat)
            if kind == SEMI:
                flat += (name[_START], token[_END], args_start, args_end, -1, -1)
                children.append(directive)
                if directive.name == "include":
                    includes.append(directive)
            else:
                flat += (name[_START], token[_END], args_start, args_end, token[_START], -1)
                children.append(directive)
                if directive.name not in BLOCK_DIRECTIVES:
                    _check_block_opener(source, directive, words)
                if len(stack) > MAX_DEPTH:
                    raise _error(source, words[0][_START], f"blocks nested deeper than {MAX_DEPTH} levels")
                directive.block = children = []
                parent = directive
                stack.append((directive, children))
                if len(stack) > depth + 1:
                    depth = len(stack) - 1
            words = []
    finally:  # an error's message reads the offsets of the directives built so far
        if flat:
            offsets.frombytes(pack(f"{len(flat)}{offsets.typecode}", *flat))
    return words, depth


def _at_end(
    source: SourceText, stack: list[tuple[Directive | None, list[Directive]]], words: list[RawToken]
) -> None:
    """``ParseError`` for what the end of the text leaves open."""
    if words:
        raise _error(source, words[0][_START], _not_terminated(words[0][_VALUE]))
    if len(stack) > 1:
        unclosed = stack[-1][0]
        assert unclosed is not None
        raise _error(
            source,
            unclosed.start,
            f'"{_brief(unclosed.name)}" block opened here is never closed (unexpected end of file)',
        )


def _not_terminated(name: str) -> str:
    return f'"{_brief(name)}" directive is not terminated by ";"'


def _brief(name: str) -> str:
    return brief(name, 60)


def _check_block_opener(source: SourceText, block: Directive, words: list[RawToken]) -> None:
    """Catch a missing ';' that made the next block part of a directive.

    ``ssl_session_timeout 1d`` followed by ``server {`` lexes as one directive
    with a block; nginx refuses it, crossplane accepts it silently.
    """
    name = block.name
    if name in BLOCK_DIRECTIVES or name.endswith("_by_lua_block"):  # the first also tested before the call
        return
    # The line of the name: the block's offsets are not in ``source.offsets`` yet (``_feed``).
    name_line = source.position(words[0][_START])[0]
    from crossplane.analyzer import DIRECTIVES, NGX_CONF_BLOCK  # rare path

    masks = DIRECTIVES.get(name)
    if masks is not None and not any(mask & NGX_CONF_BLOCK for mask in masks):
        raise ParseError(
            source.path,
            name_line,
            f'"{name}" directive is not terminated by ";" '
            f"(the block on line {source.position(words[-1][_START])[0]} became part of it)"
            + _template_hint(source, words[0][_START]),
        )
    for token in words[1:]:
        if token[_KIND] == QUOTED:
            continue
        line = source.position(token[_START])[0]
        if token[_VALUE] in BLOCK_DIRECTIVES and line > name_line:
            raise ParseError(
                source.path,
                name_line,
                f'{_not_terminated(name)} before "{token[_VALUE]}" on line {line}'
                + _template_hint(source, words[0][_START]),
            )
