"""YAML edits at ruamel's positions, and finding locations in YAML, for every YAML tier.

Every fix is a text edit computed from node offsets, never a re-emitted
document: comments, blank lines, key order, quoting and indentation outside
the edited lines stay byte for byte as they were. A node reached through an
alias or a merge key is never edited: the edit would change every place that
shares it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tlslint.findings import Edit, Location, Related
from tlslint.sources.apigee.tree import Map, Node, Pair, Scalar, Seq

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
        position = close
        while text[position - 1] in " \t\r\n":
            position -= 1
        separator = _flow_separator(text, position, bool(mapping.pairs))
        return Edit(path, position, position, f"{separator}{key}: {value}")
    own = [p for p in mapping.pairs if not p.merged]
    if not own:
        return None
    end = _last_content(mapping)
    if end is None:
        return None
    indent = source.position(own[0].key.start)[1] - 1
    at, before = _after_line(mapping, end)
    return Edit(path, at, at, f"{before}{' ' * indent}{key}: {value}" + ("" if before else source.newline))


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
        position = close
        while text[position - 1] in " \t\r\n":
            position -= 1
        separator = _flow_separator(text, position, bool(seq.items))
        return Edit(source.path, position, position, f"{separator}{value}")
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
    line = f"{' ' * (dash - line_start)}- {value}"
    return Edit(source.path, at, at, f"{before}{line}" + ("" if before else source.newline))


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
    if span is not None and value.start > pair.key.end:
        return Edit(mapping.source.path, span[0], span[1], flow)
    text = mapping.source.text
    colon = text.find(":", pair.key.end)
    if colon == -1 or "\n" in text[pair.key.end : colon]:
        return None
    return Edit(mapping.source.path, colon + 1, colon + 1, f" {flow}")


def replace_scalar(scalar: Scalar, replacement: str) -> Edit | None:
    """Replace the scalar's value, and its explicit tag with it: ``!!float "1.2"`` is still
    the number 1.2, so the tag goes with the text it typed (an anchor stays)."""
    if not _editable(scalar):
        return None
    span = scalar.content_span()
    if span is None:
        return None
    start = scalar.tag_start()
    if start is None:
        start = span[0]
    elif any(c in scalar.source.text[start : span[0]] for c in "\n&"):
        return None  # the tag on a line of its own, or before an anchor: rare, left to the author
    return Edit(scalar.source.path, start, span[1], replacement)


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
        return Edit(source.path, open_at, seq.end, "[" + ", ".join(values) + "]")
    if not seq.items or not all(isinstance(i, Scalar) and i.content_span() for i in seq.items):
        return None
    first, last = seq.items[0], seq.items[-1]
    line_start = source.line_starts()[source.position(first.start)[0] - 1]
    dash = text.rfind("-", line_start, first.start)
    if dash == -1 or text[line_start:dash].strip():
        return None
    indent = " " * (dash - line_start)
    shown = [*_comments_between(seq), *(f"- {v}" for v in values)]
    lines = source.newline.join(f"{indent}{line}" if i else line for i, line in enumerate(shown))
    return Edit(source.path, dash, last.end, lines)


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
    return Edit(source.path, at, at, f"{before}{body}" + ("" if before else source.newline))


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
