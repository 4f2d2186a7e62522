"""Sizes and times as settings, options and ConfigMap values write them (``10m``,
``1h30m``), read leniently (units in any order, ``g`` for any size). A directive's own
value is read as nginx reads it, by ``tlslint.nginx_values`` (``seconds``, the readers)."""

from __future__ import annotations

import re

_SIZE_RE = re.compile(r"^(\d+)([kKmMgG]?)$")
# Digits a number may have: past 18 it is beyond nginx's 64-bit values (refused or
# wrapped, by release), and past 4,300 Python's int() raises rather than read it.
MAX_DIGITS = 18
_SIZE_FACTOR = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}

_TIME_PART_RE = re.compile(r"(\d+)(ms|[smhdwMy]?)")
_TIME_FACTOR = {
    "ms": 0.001, "": 1, "s": 1, "m": 60, "h": 3600, "d": 86400,
    "w": 604800, "M": 2592000, "y": 31536000,
}  # fmt: skip


def whole_number(text: str) -> int | None:
    """A configuration's whole number (digits only, at most ``MAX_DIGITS``); else None."""
    if not text.isdigit() or not text.isascii() or len(text) > MAX_DIGITS:
        return None
    return int(text)


def parse_size(text: str) -> int | None:
    """Bytes in ``10m``/``10240k``/``1g``/``1048576``; ``None`` if not a size."""
    match = _SIZE_RE.match(text)
    if match is None:
        return None
    number, unit = match.groups()
    value = whole_number(number)
    return None if value is None else value * _SIZE_FACTOR[unit.lower()]


def parse_time(text: str) -> float | None:
    """Seconds in ``1d``/``24h``/``1h 30m``/``300``; ``None`` if invalid."""
    compact = text.replace(" ", "")
    if not compact:
        return None
    total = 0.0
    pos = 0
    while pos < len(compact):
        match = _TIME_PART_RE.match(compact, pos)
        if match is None:
            return None
        number, unit = match.groups()
        value = whole_number(number)
        if value is None:
            return None
        total += value * _TIME_FACTOR[unit]
        pos = match.end()
    return total


def format_size(size: int) -> str:
    for unit, factor in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
        if size % factor == 0 and size >= factor:
            return f"{size // factor}{unit}"
    return str(size)


def format_time(seconds: float) -> str:
    whole = int(seconds)
    for unit, factor in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole and whole % factor == 0:
            return f"{whole // factor}{unit}"
    return f"{whole}s"
