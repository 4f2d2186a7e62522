"""hypercorn's TOML configuration (``hypercorn -c hypercorn.toml``).

The values come from the TOML parser; their positions from a scan of the
top-level ``key = value`` lines (hypercorn reads top-level keys only), so a fix
can replace just a value's text. TOML computes nothing: every value is static.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from tlslint.findings import Location
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python.model import TOML, Addition, Backend, LoadedFile, Problem, Value
from tlslint.sources.python.servers import HYPERCORN, KEEPALIVE, SERVER_FACTS
from tlslint.sources.text import SourceError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found]

TOML_KIND = "toml"
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def parse(source: SourceText) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(source.text)
        return data
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = re.search(r"line (\d+)", message)
        raise SourceError(
            source.path, int(match.group(1)) if match else 0, f"invalid TOML: {message}"
        ) from None


def validate(source: SourceText) -> None:
    parse(source)


def _string_end(text: str, start: int) -> int:
    """The end of the TOML string that starts at ``start`` (basic or literal, one line or several)."""
    quote = text[start]
    triple = text.startswith(quote * 3, start)
    position = start + (3 if triple else 1)
    while position < len(text):
        char = text[position]
        if char == "\\" and quote == '"':
            position += 2
            continue
        if triple and text.startswith(quote * 3, position):
            end = position + 3
            while end < len(text) and text[end] == quote and end - position < 5:
                end += 1  # up to two quotes before the closing three belong to the string
            return end
        if not triple and char == quote:
            return position + 1
        position += 1
    return len(text)


def _value_end(text: str, start: int) -> int:
    """The end of the TOML value that starts at ``start`` (arrays may span lines)."""
    depth = 0
    position = start
    while position < len(text):
        char = text[position]
        if char in "\"'":
            position = _string_end(text, position)
            if depth == 0:
                return position
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
            if depth == 0:
                return position + 1
        elif char == "#":
            if depth == 0:
                break
            newline = text.find("\n", position)
            position = len(text) if newline == -1 else newline
            continue
        elif char in "\r\n" and depth == 0:
            break
        position += 1
    return start + len(text[start:position].rstrip(" \t\r"))


def _key(written: str) -> str | None:
    """The top-level key ``written`` names as TOML reads it (``"keep_alive_timeout"`` is
    ``keep_alive_timeout``); None for a dotted key, which sets a table's key."""
    if _BARE.fullmatch(written):
        return written
    try:
        parsed = tomllib.loads(f"{written} = 0")
    except tomllib.TOMLDecodeError:
        return None
    [(name, value)] = parsed.items()
    return name if value == 0 and not isinstance(value, dict) else None


def _positions(source: SourceText) -> tuple[dict[str, tuple[str, int, int, int]], int]:
    """Top-level key -> (key as written, line start offset, value start, value end), and
    where the first table starts (-1: none).

    A walk over the statements of a text tomllib has read: a key may be quoted, and
    a line in a multi-line string is no statement."""
    text = source.text
    found: dict[str, tuple[str, int, int, int]] = {}
    position = 0
    while position < len(text):
        line_start = position
        while position < len(text) and text[position] in " \t":
            position += 1
        char = text[position : position + 1]
        if char == "[":
            return found, line_start
        if char and char not in "#\r\n":
            key_end = position
            while key_end < len(text) and text[key_end] != "=":
                key_end = _string_end(text, key_end) if text[key_end] in "\"'" else key_end + 1
            if key_end >= len(text):
                break  # not TOML: tomllib would have said so
            written = text[position:key_end].rstrip(" \t")
            value_start = key_end + 1
            while value_start < len(text) and text[value_start] in " \t":
                value_start += 1
            value_end = _value_end(text, value_start)
            name = _key(written)
            if name is not None:
                found[name] = (written, line_start, value_start, value_end)
            position = value_end
        newline = text.find("\n", position)
        position = len(text) if newline == -1 else newline + 1
    return found, -1


def load(source: SourceText) -> LoadedFile:
    loaded = LoadedFile(source.path, TOML_KIND)
    try:
        data = parse(source)
    except SourceError as error:
        loaded.problems.append(Problem(source.path, error.line, error.message))
        return loaded
    facts = SERVER_FACTS[HYPERCORN]
    where = Location(source.path, 0, 0)
    backend = Backend(HYPERCORN, source.path, f"hypercorn ({source.path.name})", where, files=[source.path])
    positions, table = _positions(source)
    last_line_end = -1
    for name, canonical in facts.python_names.items():
        if name not in data:
            continue
        value = data[name]
        span = positions.get(name)
        if span is None:
            continue
        written, line_start, start, end = span
        backend.settings[canonical] = Value(
            written, value, True, source.text[start:end],
            Location(source.path, *source.region(start, end)),
            start, end, TOML, statement_line=source.position(line_start)[0],
        )  # fmt: skip
        last_line_end = max(last_line_end, end)
    if KEEPALIVE not in backend.settings:
        backend.additions[KEEPALIVE] = _addition(source, positions, table, last_line_end)
    loaded.backends.append(backend)
    return loaded


def _addition(
    source: SourceText, positions: dict[str, tuple[str, int, int, int]], table: int, after: int
) -> Addition:
    """``keep_alive_timeout = {value}`` after the bind line, else before the first table."""
    text = source.text
    newline = source.newline
    name = SERVER_FACTS[HYPERCORN].keepalive_name
    anchor = positions["bind"][3] if "bind" in positions else after
    if anchor >= 0:
        end = text.find("\n", anchor)
        if end == -1:
            return Addition(source.path, len(text), f"{newline}{name} = {{value}}")
        return Addition(source.path, end + 1, f"{name} = {{value}}{newline}")
    if table >= 0:
        return Addition(source.path, table, f"{name} = {{value}}{newline}{newline}")
    prefix = newline if text and not text.endswith("\n") else ""
    return Addition(source.path, len(text), f"{prefix}{name} = {{value}}{newline}")
