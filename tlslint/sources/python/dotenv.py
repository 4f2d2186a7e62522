"""The env files a docker-compose service names (``env_file:``), read as compose reads them.

compose-go's ``dotenv`` parser (the one ``docker compose`` uses):

* one ``NAME=value`` a statement; ``NAME: value`` too; an ``export`` in front is dropped;
  blank lines and lines starting with ``#`` are skipped;
* a value in single quotes is taken as written; in double quotes ``\\n`` is a newline and
  ``$NAME`` / ``${NAME}`` are expanded; unquoted, it ends at the line's end or at a ``#``,
  trailing blanks dropped, and is expanded too. Quoted values may span lines;
* a ``NAME`` alone takes the value of ``NAME`` in the shell that runs compose.

A value that compose expands (``$``), or takes from the shell, is not known here: it is
kept with ``static=False``, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_KEY_CHAR = re.compile(r"[\w.]", re.UNICODE)
_BLANK = " \t\v\f\r\x85\xa0"  # compose's isSpace: not the newline


class EnvFileError(ValueError):
    """Text compose refuses as an env file (it does not start the service)."""


@dataclass(frozen=True)
class Assignment:
    name: str
    value: str  # as compose reads it, when static
    static: bool
    line: int
    reason: str = ""  # why it is not static


def parse(text: str) -> list[Assignment]:
    """Every ``NAME=value`` of ``text``, in order (a name set twice: the last one counts)."""
    found: list[Assignment] = []
    position = 0
    length = len(text)
    line, counted = 1, 0  # lines counted up to `counted`: linear, not once per statement
    while True:
        while position < length and text[position].isspace():
            position += 1
        if position >= length:
            return found
        if text[position] == "#":
            newline = text.find("\n", position)
            if newline == -1:
                return found
            position = newline
            continue
        line += text.count("\n", counted, position)
        counted = position
        if text.startswith("export", position) and text[position + 6 : position + 7] in (" ", "\t"):
            position += 6
            while position < length and text[position] in _BLANK:
                position += 1
        start = position
        separator = ""
        while position < length:
            char = text[position]
            if char in "=:\n":
                separator = char
                break
            if char not in _BLANK and not _KEY_CHAR.match(char):
                raise EnvFileError(f"line {line}: unexpected character {char!r} in variable name")
            position += 1
        name = text[start:position].rstrip()
        if not name:
            raise EnvFileError(f"line {line}: a value without a name")
        if " " in name or "\t" in name:
            raise EnvFileError(f"line {line}: a name cannot contain a space ({name!r})")
        if separator in ("\n", ""):  # NAME alone: the shell's
            found.append(
                Assignment(name, "", False, line, f"{name} is taken from the shell that runs compose")
            )
            continue
        position += 1
        while position < length and text[position] in _BLANK:
            position += 1
        value, position, static = _value(text, position, line)
        reason = "" if static else f"expanded by compose: {value}"
        found.append(Assignment(name, value, static, line, reason))


def _value(text: str, position: int, line: int) -> tuple[str, int, bool]:
    """(the value, where the statement ends, whether nothing in it is expanded)."""
    quote = text[position] if position < len(text) and text[position] in "'\"" else ""
    if not quote:
        newline = text.find("\n", position)
        end = len(text) if newline == -1 else newline
        value = text[position:end].split("#", 1)[0].rstrip()
        return value, end, "$" not in value
    close = position + 1
    while True:
        close = text.find(quote, close)
        if close == -1:
            raise EnvFileError(f"line {line}: a quoted value is not closed")
        if text[close - 1] != "\\":
            break
        close += 1
    value = text[position:close].strip(quote)
    if quote == "'":
        return value, close + 1, True
    value = re.sub(r"\\([nr])", lambda m: "\n" if m.group(1) == "n" else "\r", value)
    value = re.sub(r"\\([^$])", r"\1", value)
    return value, close + 1, "$" not in value
