"""YAML edits at ruamel's positions, and finding locations in YAML, for every YAML tier.

Every fix is a text edit computed from node offsets, never a re-emitted
document: comments, blank lines, key order, quoting and indentation outside
the edited lines stay byte for byte as they were. A node reached through an
alias or a merge key is never edited: the edit would change every place that
shares it.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence

from tlslint.findings import Edit, Location, Related, YamlExpect
from tlslint.sources.apigee.tree import MERGE, Map, Node, Pair, Scalar, Seq
from tlslint.sources.nginx.model import SourceText

PLAIN_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


# -- locations ------------------------------------------------------------------
def location(node: Node) -> Location:
    """The node's region, cut at the end of its first line."""
    source = node.source
    return Location(source.path, *source.region(node.start, node.end, first_line=True))


def pair_location(pair: Pair) -> Location:
    """From the key to the end of its line (the value when it is on that line)."""
    source = pair.key.source
    line, column = source.position(pair.key.start)
    end = _pair_end(pair)
    end_line, end_column = source.position(end) if end is not None else (line, 0)
    if end_line != line or end is None:
        end_line, end_column = line, len(source.line_text(line)) + 1
    return Location(source.path, line, column, end_line, end_column)


def key_location(mapping: Map, key: str) -> Location:
    pair = mapping.pair(key)
    return pair_location(pair) if pair is not None and not pair.merged else location(mapping)


def related(node: Node, message: str) -> Related:
    return Related(location(node), message)


def quoted(value: str, like: Iterable[Scalar] = (), default: str | None = '"') -> str:
    """``value`` as a YAML scalar, quoted the way the neighbouring ``like`` values are."""
    styles = [s.style for s in like if s.style in (None, "'", '"')]
    style = styles[-1] if styles else default
    if style is None:
        return value if PLAIN_SAFE.fullmatch(value) else f'"{value}"'
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- edits ----------------------------------------------------------------------
def _pair_end(pair: Pair) -> int | None:
    """Offset just past the last character of a pair's text, None if unknown."""
    value = pair.value
    if value.start < pair.key.end or (isinstance(value, Scalar) and value.raw == "" and value.style is None):
        return pair.key.end  # an alias (its node sits at the anchor) or an empty value
    return _last_content(value)


def _last_content(node: Node) -> int | None:
    if isinstance(node, Scalar):
        return None if node.style in ("|", ">") else node.end
    if isinstance(node, (Seq, Map)) and node.flow:
        return node.end
    if isinstance(node, Seq):
        return _last_content(node.items[-1]) if node.items else None
    if isinstance(node, Map):
        pairs = [p for p in node.pairs if not p.merged]
        return _pair_end(pairs[-1]) if pairs else None
    return None


def _after_line(node: Node, offset: int) -> tuple[int, str]:
    """Where a new line goes after the line holding ``offset``, and the text to put before it."""
    text = node.source.text
    newline = text.find("\n", offset)
    if newline == -1:
        return len(text), node.source.newline  # the last line has no line break yet
    return newline + 1, ""


def _flow_separator(text: str, position: int, has_items: bool) -> str:
    """What goes before a new flow item: nothing in `[]`, a blank after a trailing comma."""
    if not has_items:
        return ""
    return " " if text[position - 1] == "," else ", "


def _editable(*nodes: Node) -> bool:
    return not any(node.shared for node in nodes)


def insert_key(mapping: Map, key: str, value: str) -> Edit | None:
    """Add ``key: value`` as the last key of ``mapping``, in its style and indentation."""
    if not _editable(mapping):
        return None
    source = mapping.source
    text = source.text
    path = source.path
    if mapping.flow:
        close = mapping.end - 1
        if close < 0 or text[close] != "}":
            return None
        position = _before_flow_close(text, mapping.start, close)
        separator = _flow_separator(text, position, bool(mapping.pairs))
        lead = f"{separator}{key}: "
        return Edit(path, position, position, lead + value, _in_mapping(mapping, key, len(lead), value, True))
    own = [p for p in mapping.pairs if not p.merged]
    if not own:
        return None
    end = _last_content(mapping)
    if end is None:
        return None
    indent = source.position(own[0].key.start)[1] - 1
    at, before = _after_line(mapping, end)
    lead = f"{before}{' ' * indent}{key}: "
    expect = _in_mapping(mapping, key, len(lead), value, True)
    return Edit(path, at, at, lead + value + ("" if before else source.newline), expect)


def append_item(seq: Seq, value: str) -> Edit | None:
    """Add an item at the end of ``seq``, keeping its flow or block style."""
    if not _editable(seq):
        return None
    source = seq.source
    text = source.text
    if seq.flow:
        close = seq.end - 1
        if close < 0 or text[close] != "]":
            return None
        position = _before_flow_close(text, seq.start, close)
        separator = _flow_separator(text, position, bool(seq.items))
        expect = _in_list(seq, len(seq.items), len(separator), value, 1)
        return Edit(source.path, position, position, f"{separator}{value}", expect)
    if not seq.items:
        return None
    last = seq.items[-1]
    end = _last_content(last)
    if end is None:
        return None
    line_start = source.line_starts()[source.position(last.start)[0] - 1]
    dash = text.rfind("-", line_start, last.start)
    if dash == -1 or text[line_start:dash].strip():
        return None
    at, before = _after_line(seq, end)
    lead = f"{before}{' ' * (dash - line_start)}- "
    expect = _in_list(seq, len(seq.items), len(lead), value, 1)
    return Edit(source.path, at, at, lead + value + ("" if before else source.newline), expect)


def set_list(mapping: Map, key: str, values: list[str]) -> Edit | None:
    """Give ``key`` (absent, empty or null) a flow list value."""
    flow = "[" + ", ".join(values) + "]"
    pair = mapping.pair(key)
    if pair is None:
        return insert_key(mapping, key, flow)
    if pair.merged or not _editable(mapping):
        return None
    value = pair.value
    if isinstance(value, Seq):
        return None
    if not isinstance(value, Scalar) or value.value is not None:
        return None
    span = value.content_span() if value.raw else None
    expect = _in_mapping(mapping, key, 0, flow)
    if span is not None and value.start > pair.key.end:
        return Edit(mapping.source.path, span[0], span[1], flow, expect)
    return _fill_empty(mapping, pair, flow)


def _fill_empty(mapping: Map, pair: Pair, value: str) -> Edit | None:
    """Write ``value`` after the colon of ``key:`` whose value is empty (nothing, or a
    comment, follows it on its line). An empty value's node sits where the next token
    starts, on a later line: replacing it there would paste the value in front of the
    next key."""
    text = mapping.source.text
    colon = text.find(":", pair.key.end)
    if colon == -1 or text[pair.key.end : colon].strip(" \t"):
        return None  # `? key` on a line of its own, or anything else between key and colon
    line_end = _line_end(text, colon)
    rest = text[colon + 1 : line_end]
    ends = re.match(r"[ \t]*[,}]", rest) if mapping.flow else None  # `{a: , b: 1}`
    if rest.strip(" \t") and not re.match(r"[ \t]+#", rest) and ends is None:
        return None  # a tag or an anchor with no value after it: left to the author
    name = pair.name
    if name is None:
        return None
    expect = _in_mapping(mapping, name, 1, value)
    end = colon + ends.end() if ends is not None else colon + 1  # `a: 75, b`, not `a: 75 , b`
    return Edit(mapping.source.path, colon + 1, end, f" {value}", expect)


def _line_end(text: str, offset: int) -> int:
    ends = [at for at in (text.find("\n", offset), text.find("\r", offset)) if at != -1]
    return min(ends) if ends else len(text)


def _before_flow_close(text: str, start: int, close: int) -> int:
    """Where an item goes in a flow collection closing at ``close``: after its last item,
    before the blanks, line breaks and comments that follow it. A comment runs to the end
    of its line: an item written after it would be part of the comment."""
    position = close
    while True:
        while position > start and text[position - 1] in " \t\r\n":
            position -= 1
        line_start = max(text.rfind("\n", start, position), text.rfind("\r", start, position)) + 1
        hash_at = _comment_start(text, max(line_start, start), position)
        if hash_at is None:
            return position
        position = hash_at


def _comment_start(text: str, line_start: int, end: int) -> int | None:
    """Where a comment begins on text[line_start:end] (a ``#`` at the line start or after a
    blank, outside quotes), else None."""
    quote = ""
    at = line_start
    while at < end:
        char = text[at]
        if quote:
            if char == "\\" and quote == '"':
                at += 2
                continue
            if char == quote:
                if quote == "'" and text.startswith("''", at):
                    at += 2
                    continue
                quote = ""
        elif char in "\"'" and (at == line_start or text[at - 1] in " \t[{,:"):
            quote = char
        elif char == "#" and (at == line_start or text[at - 1] in " \t"):
            return at
        at += 1
    return None


def _names(mapping: Map) -> tuple[str | None, ...]:
    return tuple(p.name for p in mapping.pairs if p.key.tag != MERGE)


def _in_mapping(mapping: Map, key: str, value_at: int, value: str, added: bool = False) -> YamlExpect:
    """The expectation of an edit writing ``value`` as ``key``'s (a key ``added`` last)."""
    keys = _names(mapping) + ((key,) if added else ())
    return YamlExpect(value_at, value, key, keys)


def _in_list(seq: Seq, index: int, value_at: int, value: str, added: int = 0) -> YamlExpect:
    return YamlExpect(value_at, value, None, items=len(seq.items) + added, index=index)


def _in_parent(node: Node, value_at: int, value: str) -> YamlExpect | None:
    """The expectation of an edit replacing ``node`` with ``value``, in what holds it."""
    parent = node.parent
    if isinstance(parent, Map):
        pair = next((p for p in parent.pairs if p.value is node), None)
        if pair is None or pair.name is None:
            return None
        return _in_mapping(parent, pair.name, value_at, value)
    if isinstance(parent, Seq):
        index = next((i for i, item in enumerate(parent.items) if item is node), None)
        return None if index is None else _in_list(parent, index, value_at, value)
    return None


def replace_scalar(scalar: Scalar, replacement: str) -> Edit | None:
    """Replace the scalar's value, and its explicit tag with it: ``!!float "1.2"`` is still
    the number 1.2, so the tag goes with the text it typed (an anchor stays)."""
    if not _editable(scalar):
        return None
    parent = scalar.parent
    if scalar.style is None and scalar.raw == "" and not scalar.tagged():
        if not isinstance(parent, Map):
            return None
        pair = next((p for p in parent.pairs if p.value is scalar), None)
        return _fill_empty(parent, pair, replacement) if pair is not None else None
    span = scalar.content_span()
    if span is None:
        return None
    start = scalar.tag_start()
    if start is None:
        start = span[0]
    elif any(c in scalar.source.text[start : span[0]] for c in "\n&"):
        return None  # the tag on a line of its own, or before an anchor: rare, left to the author
    return Edit(scalar.source.path, start, span[1], replacement, _in_parent(scalar, 0, replacement))


def replace_list(seq: Seq, values: list[str]) -> Edit | None:
    """Replace every item of ``seq`` with ``values``, in its flow or block style."""
    if not _editable(seq):
        return None
    source = seq.source
    text = source.text
    if seq.flow:
        open_at = text.find("[", seq.start, seq.end)
        if open_at == -1 or text[seq.end - 1] != "]":
            return None
        flow = "[" + ", ".join(values) + "]"
        new = _flow_keeping_comments(text, open_at, seq.end - 1, ", ".join(values)) or flow
        return Edit(source.path, open_at, seq.end, new, _in_parent(seq, 0, flow))
    if not seq.items or not all(isinstance(i, Scalar) and i.content_span() for i in seq.items):
        return None
    first, last = seq.items[0], seq.items[-1]
    line_start = source.line_starts()[source.position(first.start)[0] - 1]
    dash = text.rfind("-", line_start, first.start)
    if dash == -1 or text[line_start:dash].strip():
        return None
    indent = " " * (dash - line_start)
    comments = _comments_between(seq)
    # The last item's own comment goes above with the others: beside the new item, it
    # would label a value it was not written for.
    end = last.end
    line_end = _line_end(text, end)
    trailing = text[end:line_end]
    if re.match(r"[ \t]+#", trailing):
        comments.append(trailing.strip(" \t\r"))
        end = line_end
    shown = [*comments, *(f"- {v}" for v in values)]
    lines = [f"{indent}{line}" if i else line for i, line in enumerate(shown)]
    # The new list starts at its first dash, after the comments kept above it.
    value_at = len(source.newline.join(lines[: len(comments)])) + len(source.newline) if comments else 0
    expect = _in_parent(seq, value_at + (len(indent) if comments else 0), "[" + ", ".join(values) + "]")
    return Edit(source.path, dash, end, source.newline.join(lines), expect)


def _flow_keeping_comments(text: str, open_at: int, close: int, items: str) -> str | None:
    """A multi-line flow list ``[...]`` (from ``open_at`` to the ``]`` at ``close``) holding
    ``items`` instead, its comments kept on lines of their own above them: a comment that
    labelled an item removed does not label the new one. None when it holds no comment."""
    comments: list[str] = []
    position = open_at + 1
    while position < close:
        end = min(_line_end(text, position), close)
        at = _comment_start(text, position if position > open_at + 1 else open_at, end)
        if at is not None and at > open_at:
            comments.append(text[at:end].rstrip(" \t\r"))
        position = end + 1
    if not comments:
        return None
    newline = "\r\n" if "\r\n" in text[open_at:close] else "\n"
    line_start = max(text.rfind("\n", 0, close), text.rfind("\r", 0, close)) + 1
    close_indent = text[line_start:close]
    if close_indent.strip(" "):  # `]` after the last item: indent as the item lines are
        close_indent = re.match(r" *", text[line_start:close]).group()  # type: ignore[union-attr]
        inner = close_indent
        return "[" + newline + "".join(f"{inner}{c}{newline}" for c in comments) + f"{inner}{items}]"
    inner = close_indent + "  "
    body = "".join(f"{inner}{c}{newline}" for c in comments) + f"{inner}{items}{newline}"
    return "[" + newline + body + close_indent + "]"


def _comments_between(seq: Seq) -> list[str]:
    """The comments among a block list's scalar items (on an item's line or a line of
    their own), as written: what the replaced span holds beside the items, kept on lines
    of their own before the new items. Between two items there is only the dash, blanks
    and comments, so the first ``#`` of a line there starts one."""
    text = seq.source.text
    comments: list[str] = []
    for before, after in zip(seq.items, seq.items[1:], strict=False):
        for line in text[before.end : after.start].splitlines():
            at = line.find("#")
            if at != -1:
                comments.append(line[at:].rstrip())
    return comments


def append_block_item(seq: Seq, lines: list[str]) -> Edit | None:
    """Add a mapping item, written as ``lines`` (two spaces a level, lists not indented
    under their key), at the end of a block ``seq``: at its items' indentation, with
    the nesting step and list indentation of its last item."""
    if seq.flow or not seq.items or not _editable(seq):
        return None
    source = seq.source
    text = source.text
    last = seq.items[-1]
    end = _last_content(last)
    if end is None or not isinstance(last, Map) or last.flow or not last.pairs:
        return None
    line_start = source.line_starts()[source.position(last.start)[0] - 1]
    dash = text.rfind("-", line_start, last.start)
    if dash == -1 or text[line_start:dash].strip():
        return None
    content = source.position(last.pairs[0].key.start)[1] - 1  # the items' keys' column
    step, list_indent = _nesting(last)
    shown = []
    for index, line in enumerate(lines):
        stripped = line.lstrip(" ")
        depth = (len(line) - len(stripped)) // 2
        extra = list_indent if stripped.startswith("- ") else 0
        indent = " " * (content + depth * step + extra)
        if index == 0:
            indent = " " * (dash - line_start) + "-" + " " * (content - (dash - line_start) - 1)
        shown.append(indent + stripped)
    at, before = _after_line(seq, end)
    body = source.newline.join(shown)
    # The new item (a mapping) starts at its first key, after the dash.
    first_key = len(before) + len(shown[0]) - len(shown[0].lstrip(" -"))
    expect = _in_list(seq, len(seq.items), first_key, "\n".join(lines), 1)
    return Edit(source.path, at, at, f"{before}{body}" + ("" if before else source.newline), expect)


def _nesting(item: Map) -> tuple[int, int]:
    """(the nesting step of a block mapping's children, how far a block list is indented
    under its key), from the first of each found in ``item``: (2, 0) by default."""
    step: int | None = None
    list_indent: int | None = None
    source = item.source
    stack = [item]
    while stack and (step is None or list_indent is None):
        mapping = stack.pop(0)
        for pair in mapping.pairs:
            key_column = source.position(pair.key.start)[1]
            value = pair.value
            if isinstance(value, Map) and not value.flow and value.pairs:
                if step is None:
                    step = source.position(value.pairs[0].key.start)[1] - key_column
                stack.append(value)
            elif isinstance(value, Seq) and not value.flow and value.items and list_indent is None:
                first = value.items[0]
                line_start = source.line_starts()[source.position(first.start)[0] - 1]
                dash = source.text.rfind("-", line_start, first.start)
                if dash != -1 and not source.text[line_start:dash].strip():
                    list_indent = max(dash - line_start - (key_column - 1), 0)
    return max(step or 2, 1), list_indent or 0


# -- the fixer's check of what an edit wrote ----------------------------------------
def unmet(after: SourceText, edits: Sequence[Edit]) -> str:
    """Why the text ``edits`` made (``after``, already known to parse) does not hold what
    they meant to write, or '': each value must read as its value, where it was meant to go,
    and the mapping (or list) holding it must have the keys (or items) meant, no more."""
    from tlslint.sources.apigee.tree import YamlError, parse, walk

    ordered = sorted(enumerate(edits), key=lambda t: (t[1].start, t[1].end, -t[0]))
    if not any(edit.expect for edit in edits):
        return ""
    if any(a[1].end > b[1].start for a, b in itertools.pairwise(ordered)):
        return ""  # overlapping edits are applied one by one: offsets not followed here
    try:
        documents = parse(SourceText(after.path, after.text, after.bom, after.newline))
    except YamlError:
        return ""  # the fixer's own validation reports it
    nodes = list(walk(documents))
    starts = _by_start(nodes)
    shift = 0
    for _, edit in ordered:
        expect = edit.expect
        if expect is not None:
            at = edit.start + shift + expect.value_at
            found = starts.get(at) or _in_literal_block(after, nodes, at)
            if not any(_holds(node, expect) for node in found):
                line = after.position(min(at, len(after.text)))[0]
                where = f"as {expect.key}'s value" if expect.key is not None else "as a list item"
                return f"line {line}: {expect.value} would not be read {where} there"
        shift += len(edit.replacement) - (edit.end - edit.start)
    return ""


def _by_start(nodes: Iterable[Node]) -> dict[int, list[Node]]:
    starts: dict[int, list[Node]] = {}
    for node in nodes:
        # A scalar's anchor is kept when its value is replaced: found by its text's start too.
        offsets = {node.start}
        if isinstance(node, Scalar):
            span = node.content_span()
            offsets.update(x for x in (node.tag_start(), span[0] if span else None) if x is not None)
        for offset in offsets:
            starts.setdefault(offset, []).append(node)
    return starts


def _in_literal_block(after: SourceText, nodes: list[Node], at: int) -> list[Node]:
    """The nodes at ``at`` of the YAML held in a literal block (``values: |`` of an Argo CD
    Application), read in place as its loader reads it."""
    from tlslint.sources.apigee.tree import walk
    from tlslint.sources.kubernetes.documents import values_string

    for node in nodes:
        if isinstance(node, Scalar) and node.style == "|" and node.start < at < node.end:
            held = values_string(after, node)
            return _by_start(walk([held])).get(at, []) if held is not None else []
    return []


def _holds(node: Node, expect: YamlExpect) -> bool:
    from tlslint.sources.apigee.tree import parse, to_data

    parent = node.parent
    if expect.key is not None:
        if not isinstance(parent, Map) or _names(parent) != expect.keys:
            return False
        pair = next((p for p in parent.pairs if p.value is node), None)
        if pair is None or pair.name != expect.key:
            return False
    elif (
        not isinstance(parent, Seq)
        or len(parent.items) != expect.items
        or not 0 <= expect.index < len(parent.items)
        or parent.items[expect.index] is not node
    ):
        return False
    written = parse(SourceText(node.source.path, expect.value))
    wanted = to_data(written[0], keep_placeholders=False) if written else None
    return bool(to_data(node, keep_placeholders=False) == wanted)
