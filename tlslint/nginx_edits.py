"""Text edits on nginx files that touch only the lines they must.

Every edit is computed on the original text: a new directive becomes a new
line indented like its siblings (tabs or spaces), in the file's own line
ending; an argument is replaced in place with its quote style kept. A comment
inside a statement that spans lines survives its rewrite or removal. Nothing
else is reformatted.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from difflib import SequenceMatcher
from functools import lru_cache

from tlslint.findings import Edit
from tlslint.sources.nginx.lexer import COMMENT, QUOTED, WORD, scan, tokenize
from tlslint.sources.nginx.model import Directive, SourceText

_INDENT_RE = re.compile(r"[ \t]*")


def line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def line_end(text: str, offset: int) -> int:
    """Offset of the newline ending the line that holds ``offset`` (or len)."""
    end = text.find("\n", offset)
    return len(text) if end == -1 else end


def indentation(source: SourceText, offset: int) -> str:
    text = source.text
    start = line_start(text, offset)
    match = _INDENT_RE.match(text, start)
    return match.group() if match else ""


def indent_unit(source: SourceText) -> str:
    """The file's indentation step: a tab, or the smallest run of spaces."""
    return _indent_unit(source.text)


# The leading blanks of each line that holds a directive (not blank, not a comment).
_LEADS_RE = re.compile(r"^[ \t]+(?=[^ \t#\r\n])", re.MULTILINE)
# Line breaks ``str.splitlines`` knows and a multi-line ``^`` does not.
_OTHER_BREAKS_RE = re.compile("\r(?!\n)|[\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


@lru_cache(maxsize=32)
def _indent_unit(text: str) -> str:
    """``indent_unit`` of a text, read once: each new line a fix writes asks."""
    if _OTHER_BREAKS_RE.search(text) is None:  # lines end in \n or \r\n: found in C
        leads = _LEADS_RE.findall(text)
        if any(lead[0] == "\t" for lead in leads):
            return "\t"
        return " " * (min(map(len, leads)) if leads else 4)
    return _indent_unit_by_line(text)


def _indent_unit_by_line(text: str) -> str:
    smallest = 0
    for line in text.splitlines():
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        lead = line[: len(line) - len(stripped)]
        if lead.startswith("\t"):
            return "\t"
        if lead and (smallest == 0 or len(lead) < smallest):
            smallest = len(lead)
    return " " * (smallest or 4)


def child_indentation(source: SourceText, block: Directive | None, siblings: Sequence[Directive]) -> str:
    """Indentation for a new child of ``block`` (None: the file's top level)."""
    # The first one will do: an http{} may hold 10,000 servers, and each fix asks.
    own = next((d for d in siblings if d.source is source and _starts_line(source, d.start)), None)
    if own is not None:
        return indentation(source, own.start)
    if block is None:
        return ""
    return indentation(source, block.start) + indent_unit(source)


def _starts_line(source: SourceText, offset: int) -> bool:
    text = source.text
    return not text[line_start(text, offset) : offset].strip()


def insert_directive(
    source: SourceText,
    block: Directive | None,
    siblings: Sequence[Directive],
    statement: str,
    after: Directive | None = None,
) -> Edit:
    """A new line holding ``statement`` in ``block`` (None: top of the file).

    It goes after ``after`` (on the line after it and any trailing comment),
    else at the start of the block.
    """
    return _inserted(source, block, statement, after, child_indentation(source, block, siblings))


def _inserted(
    source: SourceText, block: Directive | None, statement: str, after: Directive | None, indent: str
) -> Edit:
    """``insert_directive`` with the indentation of the block's children given."""
    text = source.text
    newline = source.newline
    if after is not None:
        anchor = _end_of_statement_line(source, after)
    elif block is not None:
        anchor = _end_of_statement_line_offset(source, block.block_open + 1)
    else:
        anchor = _after_leading_comments(source)
    if anchor >= len(text) and not text.endswith("\n") and text:
        # A missing final newline stays missing: the new line goes before it.
        return Edit(source.path, len(text), len(text), newline + indent + statement)
    if anchor < len(text) and text[anchor - 1 : anchor] != "\n":
        # The block continues on the same line (`http { server ...`).
        return Edit(source.path, anchor, anchor, " " + statement)
    return Edit(source.path, anchor, anchor, indent + statement + newline)


def _end_of_statement_line(source: SourceText, directive: Directive) -> int:
    return _end_of_statement_line_offset(source, directive.end)


def _end_of_statement_line_offset(source: SourceText, offset: int) -> int:
    """Just past the newline that ends the line at ``offset``, if only blanks or
    a comment follow on that line; else ``offset`` itself."""
    text = source.text
    end = line_end(text, offset)
    rest = text[offset:end].strip()
    if rest and not rest.startswith("#"):
        return offset
    return min(end + 1, len(text))


def _after_leading_comments(source: SourceText) -> int:
    text = source.text
    pos = 0
    while pos < len(text):
        end = line_end(text, pos)
        stripped = text[pos:end].strip()
        if stripped and not stripped.startswith("#"):
            break
        pos = end + 1
    return min(pos, len(text))


def argument_tokens(directive: Directive) -> list[tuple[int, int, str, str]]:
    """(start, end, value, quote) of each argument as written."""
    args = directive.args
    if len(args) == 1:
        # One argument written as it reads is the one word the lexer would find there:
        # not scanned again (NGX212's fix of each implicit upstream's proxy_pass asks).
        first, last = directive.args_start, directive.args_end
        if directive.source.text[first:last] == args[0]:
            return [(first, last, args[0], "")]
    start = directive.start
    text = directive.source.text[start : directive.args_end]
    # The lexer's tuples, not ``tokenize``'s Token objects: each fix of an argument asks.
    return [
        (start + begin, start + end, value, text[begin] if kind == QUOTED else "")
        for kind, value, begin, end in scan(text)[1:]
        if kind in (WORD, QUOTED)
    ]


def replace_argument(directive: Directive, index: int, value: str) -> Edit:
    """Replace one argument, keeping its quotes."""
    start, end, _, quote = argument_tokens(directive)[index]
    return Edit(directive.path, start, end, f"{quote}{value}{quote}")


def replace_arguments(directive: Directive, values: Sequence[str]) -> Edit:
    """Replace all arguments; the first one's quote style is kept for the new ones.

    Where comments stand between the arguments they stay where they are, and so
    does every argument kept (see ``_respliced``).
    """
    tokens = argument_tokens(directive)
    quote = tokens[0][3] if tokens else ""
    rendered = [f"{quote}{value}{quote}" if quote else value for value in values]
    if not tokens:
        return Edit(directive.path, directive.args_end, directive.args_end, " " + " ".join(rendered))
    text = directive.source.text
    start, end = tokens[0][0], tokens[-1][1]
    if not comments_in(text, start, end):
        return Edit(directive.path, start, end, " ".join(rendered))
    return Edit(directive.path, start, end, _respliced(text, tokens, values, rendered))


def comments_in(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each comment in ``text[start:end]``, which starts at a token;
    a ``#`` in quotes or inside a word is none. The end is before the line ending."""
    if text.find("#", start, end) < 0:  # most statements: their tokens are not read again
        return []
    return [(start + t.start, start + t.end) for t in tokenize(text[start:end]) if t.kind == COMMENT]


def _respliced(
    text: str, tokens: Sequence[tuple[int, int, str, str]], values: Sequence[str], rendered: Sequence[str]
) -> str:
    """The text from the first argument to the last, its arguments rewritten to ``values``.

    A comment runs to the end of its line, so the arguments cannot be joined onto
    one line around it: each argument kept keeps its bytes and place, a new one
    takes the place of one that goes, and what lies between (comments, line
    breaks) stays but for the blanks of an argument that goes.
    """
    written = [text[start:end] for start, end, _, _ in tokens]
    slots = _slots([token[2] for token in tokens], values, written, rendered)
    parts: list[str] = []
    trim = False  # the argument before went, and a comment stood before it: its blanks after go
    for index, (token, slot) in enumerate(zip(tokens, slots, strict=True)):
        gap = text[tokens[index - 1][1] : token[0]] if index else ""
        blank = not gap.strip()
        if trim:
            gap = "" if blank else _trimmed(gap, parts[-1] if parts else "")
        if not slot:
            if index and blank:
                continue  # it goes with the blanks before it
            parts.append(gap)
            trim = True
            continue
        trim = False
        parts += (gap, " ".join(slot))
    return "".join(parts)


def _trimmed(gap: str, before: str) -> str:
    """``gap`` without the blanks of the argument before it, which went; and without its
    line, where the argument stood alone on it (``before`` ends with its indentation)."""
    gap = gap.lstrip(" \t")
    ending = _line_ending(gap, 0) if gap.startswith(("\n", "\r\n")) else ""
    if ending and before.rstrip(" \t").endswith("\n"):
        return gap[len(ending) :].lstrip(" \t")
    return gap


def _slots(
    old: Sequence[str], new: Sequence[str], written: Sequence[str], rendered: Sequence[str]
) -> list[list[str]]:
    """What is written in the place of each old argument (nothing: it goes).

    An argument that stays keeps its text. Where more arguments are replaced by
    fewer, the last ones take the new values: the line that ends the statement
    keeps an argument before its ``;``.
    """
    slots: list[list[str]] = [[] for _ in old]
    leading: list[str] = []  # new values before the first old one
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                slots[i1 + k].append(written[i1 + k])
        elif tag == "replace":
            kept = min(i2 - i1, j2 - j1)
            for k in range(kept):
                slots[i2 - kept + k].append(rendered[j1 + k])
            slots[i2 - 1].extend(rendered[j1 + kept : j2])
        elif tag == "insert":
            (slots[i1 - 1] if i1 else leading).extend(rendered[j1:j2])
    slots[0][:0] = leading
    return slots


def remove_directive(directive: Directive, *, moved: bool = False) -> Edit:
    """Delete a directive; its whole line when nothing else is on it.

    A trailing comment is kept (on its own line, where the directive was), and so
    is each comment inside a statement that spans lines: on a line of its own,
    indented like the directive. Unless the statement is ``moved``: its text, the
    comments in it too, is written elsewhere.
    """
    source = directive.source
    text = source.text
    start, end = directive.start, directive.end
    begin = line_start(text, start)
    finish = line_end(text, end)
    before = text[begin:start]
    after = text[end:finish]
    inside = [] if moved else comments_in(text, start, end)
    if not before.strip() and not after.strip():
        stop = finish + 1 if finish < len(text) else finish
        if inside:
            lines = _comment_lines(text, inside, before, ended=finish < len(text))
            return Edit(source.path, begin, stop, lines)
        if stop == len(text) and finish == len(text) and begin > 0:
            begin -= 1  # last line without newline: take the preceding newline
            if text[begin - 1 : begin] == "\r":
                begin -= 1
        return Edit(source.path, begin, stop, "")
    # Something else shares the line (a trailing comment is kept): remove the
    # statement and the blanks after it.
    while end < finish and text[end] in " \t":
        end += 1
    if not inside:
        return Edit(source.path, start, end, "")
    # Its comments start where it started; what followed it starts a line of its own.
    indent = indentation(source, start)
    rest = bool(text[end:finish].strip())
    lines = _comment_lines(text, inside, indent, ended=rest) + (indent if rest else "")
    return Edit(source.path, start, end, lines[len(indent) :])


def _comment_lines(text: str, comments: Sequence[tuple[int, int]], indent: str, *, ended: bool) -> str:
    """Each comment on a line of its own at ``indent``, with the line ending it had
    (CRLF where the file has it); ``ended``: the last line's ending too."""
    lines = "".join(indent + text[start:end] + _line_ending(text, end) for start, end in comments)
    return lines if ended else lines[: -len(_line_ending(text, comments[-1][1]))]


def _line_ending(text: str, offset: int) -> str:
    return "\r\n" if text.startswith("\r\n", offset) else "\n"


def insert_argument(directive: Directive, after: int, value: str) -> Edit:
    """A new argument right after argument ``after`` (-1: before the first one)."""
    tokens = argument_tokens(directive)
    offset = tokens[after][1] if after >= 0 and tokens else directive.start + len(directive.name)
    return Edit(directive.path, offset, offset, " " + value)


def remove_argument(directive: Directive, index: int) -> Edit:
    """Delete one argument and the blanks before it; nothing else on the line moves.

    When something other than blanks (a comment on a continued line) stands
    before the argument, only the argument itself goes.
    """
    tokens = argument_tokens(directive)
    start, end, _, _ = tokens[index]
    text = directive.source.text
    before = tokens[index - 1][1] if index > 0 else directive.start + len(directive.name)
    if not text[before:start].strip(" \t"):
        start = before
    return Edit(directive.path, start, end, "")


def insert_directives(
    source: SourceText,
    block: Directive | None,
    siblings: Sequence[Directive],
    statements: Sequence[str],
    after: Directive | None = None,
) -> Edit:
    """Several new directives as one insertion (one line each), like ``insert_directive``.

    One edit, because two insertions at one point are never combined by the
    fixer. Where the block continues on the same line, they stay on that line.
    """
    indent = child_indentation(source, block, siblings)
    probe = _inserted(source, block, statements[0], after, indent)
    if probe.replacement == " " + statements[0]:
        joined = " " + " ".join(statements)
    else:
        joined = probe.replacement.replace(statements[0], (source.newline + indent).join(statements), 1)
    return Edit(probe.path, probe.start, probe.end, joined)


def insert_lines_before(directive: Directive, lines: Sequence[str], *, blank_line: bool = True) -> Edit:
    """New lines (a block, say) just above ``directive``, at its indentation.

    Comment lines directly above the directive stay with it: the new lines go
    above them. ``blank_line`` separates the new lines from what follows.
    """
    source = directive.source
    text = source.text
    newline = source.newline
    start = line_start(text, directive.start)
    if text[start : directive.start].strip():
        # Something precedes it on its line: keep to that line.
        inline = " ".join(line.strip() for line in lines)
        return Edit(source.path, directive.start, directive.start, inline + " ")
    indent = indentation(source, directive.start)
    while start > 0:
        previous = line_start(text, start - 1)
        if not text[previous : start - 1].strip().startswith("#"):
            break
        start = previous
    body = "".join((indent + line if line else "") + newline for line in lines)  # blank: no indent
    if blank_line and start > 0 and text[line_start(text, start - 1) : start].strip().endswith("}"):
        body = newline + body  # a block ends just above: keep blocks apart
    return Edit(source.path, start, start, body + (newline if blank_line else ""))


def move_above(moved: Sequence[Directive], anchor: Directive) -> list[Edit] | None:
    """Statements moved, in their order, to just above ``anchor`` (in the same file): one
    alone on its line takes its trailing comment along, one that shares its line leaves
    the rest of the line be. None where a statement spans lines or stands in another file."""
    source = anchor.source
    text = source.text
    inline = bool(text[line_start(text, anchor.start) : anchor.start].strip())
    lines: list[str] = []
    edits: list[Edit] = []
    for directive in moved:
        if directive.source is not source:
            return None
        statement = text[directive.start : directive.end]
        if "\n" in statement:
            return None
        begin, finish = line_start(text, directive.start), line_end(text, directive.end)
        rest = text[directive.end : finish].strip()
        alone = not text[begin : directive.start].strip() and (not rest or rest.startswith("#"))
        if alone and not (inline and rest):  # a comment cannot go inside the anchor's line
            lines.append(text[directive.start : finish].rstrip())
            edits.append(Edit(source.path, begin, min(finish + 1, len(text)), ""))
            continue
        lines.append(statement)
        start = directive.start
        if not rest:  # the line ends with it: the blanks before it go too
            while start > begin and text[start - 1] in " \t":
                start -= 1
            edits.append(Edit(source.path, start, directive.end, ""))
        else:
            edits.append(remove_directive(directive))
    return [insert_lines_before(anchor, lines, blank_line=False), *edits]


# A crossplane payload statement: {"directive": name, "args": [...], "block": [...] (optional)}.
Statement = dict[str, object]


def statement(name: str, *args: str, block: Sequence[Statement] | None = None) -> Statement:
    built: Statement = {"directive": name, "args": list(args)}
    if block is not None:
        built["block"] = list(block)
    return built


def built_lines(payload: Statement, unit: str) -> list[str]:
    """A new block as lines, rendered by ``crossplane.build`` from its payload and
    indented by ``unit`` (a tab or spaces); a map's values aligned as nginx's docs align them.

    The lines carry no outer indentation and no line ending: ``insert_lines_before``
    gives them the surrounding file's.
    """
    args: list[str] = []
    shape = _shape(payload, args)
    if shape is None:
        text = _build(payload, unit)
    else:
        template = _BUILT.get((shape, unit))
        if template is None:
            built = _build(_with_placeholders(payload, iter(_PLACEHOLDERS)), unit)
            # A format string: its braces doubled, each placeholder the number of its argument.
            numbered = {ord(placeholder): f"{{{number}}}" for number, placeholder in enumerate(_PLACEHOLDERS)}
            template = built.replace("{", "{{").replace("}", "}}").translate(numbered)
            if len(_BUILT) < 4096:
                _BUILT[shape, unit] = template
        text = template.format(*args)
    lines = text.split("\n")
    if payload["directive"] == "map" and len(lines) > 2:
        lines = [lines[0], *_aligned(lines[1:-1], unit), lines[-1]]
    return lines


def _build(payload: Statement, unit: str) -> str:
    from crossplane import build  # crossplane's builder: quoting as nginx reads it back

    text: str = build([payload], indent=len(unit), tabs=unit == "\t")
    return text


# Blocks built, by their shape (names and the number of arguments of each statement) and
# unit, with a placeholder for each argument: a fix repeated for 3,000 implicit upstreams
# builds the same few shapes with other addresses and names (crossplane's builder took a
# quarter of NGX212's check, the look-up by the payload's repr a tenth of the rest).
_BUILT: dict[tuple[object, str], str] = {}
# An argument crossplane writes as it is, without quotes (its ``_needs_quotes`` is false):
# printable ASCII but for blanks, quotes, braces, ";", "\" and "$". Any other (rare: a
# map's variables) is built by crossplane each time.
_PLAIN_ARGUMENT = re.compile(r"[\x21\x23\x25\x26\x28-\x3a\x3c-\x5b\x5d-\x7a\x7c\x7e]+")
# One private-use character per argument of a template: written without quotes too, and
# in no plain argument or statement name (``_shape``).
_PLACEHOLDERS = "".join(map(chr, range(0xE000, 0xE100)))
_PRIVATE = re.compile("[\ue000-\uf8ff]")


def _shape(payload: Statement, args: list[str]) -> object | None:
    """The payload's statement names and numbers of arguments, its arguments added to
    ``args`` in the order crossplane writes them; None when an argument is not plain (or
    the payload is not made by ``statement``)."""
    name, written, block = payload["directive"], payload["args"], payload.get("block")
    if len(payload) != (2 if block is None else 3) or not isinstance(name, str) or _PRIVATE.search(name):
        return None
    assert isinstance(written, list)
    for arg in written:
        if _PLAIN_ARGUMENT.fullmatch(arg) is None or len(args) == len(_PLACEHOLDERS):
            return None
        args.append(arg)
    if block is None:
        return (name, len(written))
    assert isinstance(block, list)
    inner = []
    for child in block:
        shape = _shape(child, args)
        if shape is None:
            return None
        inner.append(shape)
    return (name, len(written), tuple(inner))


def _with_placeholders(payload: Statement, placeholders: Iterator[str]) -> Statement:
    """The payload with each argument replaced by the next placeholder (``_shape``'s order)."""
    written, block = payload["args"], payload.get("block")
    assert isinstance(written, list)
    args = [next(placeholders) for _ in written]
    if block is None:
        return statement(str(payload["directive"]), *args)
    assert isinstance(block, list)
    children = [_with_placeholders(child, placeholders) for child in block]
    return statement(str(payload["directive"]), *args, block=children)


def _aligned(lines: Sequence[str], unit: str) -> list[str]:
    """``default upgrade;`` / ``''      '';``: each value in one column after the longest key."""
    pairs = [line[len(unit) :].split(" ", 1) for line in lines]
    if any(len(pair) != 2 for pair in pairs):
        return list(lines)
    width = max(len(key) for key, _ in pairs)
    return [f"{unit}{key.ljust(width)} {value}" for key, value in pairs]


def replace_argument_text(directive: Directive, index: int, written: str) -> Edit:
    """Replace one argument, quotes included, by ``written`` exactly as given (e.g. ``""``)."""
    start, end, _, _ = argument_tokens(directive)[index]
    return Edit(directive.path, start, end, written)
