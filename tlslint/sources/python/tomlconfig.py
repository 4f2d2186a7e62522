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
_KEY_LINE = re.compile(r"^[ \t]*([A-Za-z0-9_-]+)[ \t]*=[ \t]*", re.M)
_TABLE = re.compile(r"^[ \t]*\[", re.M)


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


def _value_end(text: str, start: int) -> int:
    """The end of the TOML value that starts at ``start`` (arrays may span lines)."""
    depth = 0
    quote = ""
    position = start
    while position < len(text):
        char = text[position]
        if quote:
            if char == "\\" and quote == '"':
                position += 2
                continue
            if char == quote:
                quote = ""
            position += 1
            continue
        if char in "\"'":
            quote = char
        elif char in "[{":
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


def _positions(source: SourceText) -> dict[str, tuple[int, int, int]]:
    """Top-level key -> (line start offset, value start, value end)."""
    text = source.text
    table = _TABLE.search(text)
    limit = table.start() if table else len(text)
    found: dict[str, tuple[int, int, int]] = {}
    for match in _KEY_LINE.finditer(text, 0, limit):
        value_start = match.end()
        found[match.group(1)] = (match.start(), value_start, _value_end(text, value_start))
    return found


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
    positions = _positions(source)
    last_line_end = -1
    for name, canonical in facts.python_names.items():
        if name not in data:
            continue
        value = data[name]
        span = positions.get(name)
        if span is None:
            continue
        line_start, start, end = span
        backend.settings[canonical] = Value(
            name, value, True, source.text[start:end],
            Location(source.path, *source.region(start, end)),
            start, end, TOML, statement_line=source.position(line_start)[0],
        )  # fmt: skip
        last_line_end = max(last_line_end, end)
    if KEEPALIVE not in backend.settings:
        backend.additions[KEEPALIVE] = _addition(source, positions, last_line_end)
    loaded.backends.append(backend)
    return loaded


def _addition(source: SourceText, positions: dict[str, tuple[int, int, int]], after: int) -> Addition:
    """``keep_alive_timeout = {value}`` after the bind line, else before the first table."""
    text = source.text
    newline = source.newline
    name = SERVER_FACTS[HYPERCORN].keepalive_name
    anchor = positions["bind"][2] if "bind" in positions else after
    if anchor >= 0:
        end = text.find("\n", anchor)
        if end == -1:
            return Addition(source.path, len(text), f"{newline}{name} = {{value}}")
        return Addition(source.path, end + 1, f"{name} = {{value}}{newline}")
    table = _TABLE.search(text)
    if table is not None:
        return Addition(source.path, table.start(), f"{name} = {{value}}{newline}{newline}")
    prefix = newline if text and not text.endswith("\n") else ""
    return Addition(source.path, len(text), f"{prefix}{name} = {{value}}{newline}")
