"""What each rule option takes, as its rule declares it in ``rules/CODE.yaml``.

An option declares its ``type`` (or several), and may narrow it with a ``format``
(below), an ``enum`` or a ``minimum``/``maximum``. Settings are checked against the
declaration when they load: a value a rule cannot read would otherwise turn the rule
off without a word (``min-size = "banana"``), or make its fix write a line nginx
refuses. The formats read values as nginx reads the directive the option's value
goes into (``tlslint.nginx_values``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tlslint import nginx_values
from tlslint.units import parse_size, parse_time, whole_number


@dataclass(frozen=True, slots=True)
class Format:
    accepts: Callable[[str], bool]
    noun: str  # what it is ("a size as nginx reads it")
    detail: str  # how it is written, with examples
    short: str  # the docs' tables: "nginx size (k, m)"
    magnitude: Callable[[str], float | None]  # to compare with a minimum written alike


def _protocols(text: str) -> bool:
    # As written: the checks compare the canonical spelling (TLSv1.3), not nginx's any case.
    words = text.split()
    return bool(words) and all(word in nginx_values.PROTOCOLS.words for word in words)


def _none(_: str) -> float | None:
    return None


_VERSIONS = ", ".join(nginx_values.PROTOCOLS.words)
FORMATS: dict[str, Format] = {
    # ssl_session_cache's shared:NAME:SIZE (ngx_parse_size).
    "nginx-size": Format(
        nginx_values.SIZE.accepts,
        "a size as nginx reads it",
        'bytes, or a number with k or m ("512k", "10m")',
        "nginx size (k, m)",
        parse_size,
    ),
    # ssl_session_timeout: ngx_parse_time in seconds.
    "nginx-time": Format(
        nginx_values.SEC.accepts,
        "a time as nginx reads ssl_session_timeout",
        'numbers with units s, m, h, d, w, M, y, largest first ("5m", "1h30m", "1d"); '
        "a bare number is seconds",
        "nginx time (s, m, h, d, w, M, y)",
        parse_time,
    ),
    # keepalive_timeout: ngx_parse_time in milliseconds.
    "nginx-time-ms": Format(
        nginx_values.MSEC.accepts,
        "a time as nginx reads keepalive_timeout",
        'numbers with units ms, s, m, h, d, w, largest first ("75s", "1m30s", "500ms"); '
        "a bare number is seconds",
        "nginx time (ms, s, m, h, d, w)",
        parse_time,
    ),
    # keepalive_requests: ngx_atoi.
    "nginx-number": Format(
        nginx_values.NUMBER.accepts, "a whole number", 'digits only ("1000")', "whole number", whole_number
    ),
    "ssl-protocols": Format(
        _protocols,
        "TLS versions as ssl_protocols takes them",
        f'versions separated by spaces, each one of {_VERSIONS} ("TLSv1.2 TLSv1.3")',
        "ssl_protocols versions",
        _none,
    ),
}

_TYPES: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "string": ("a string", lambda value: isinstance(value, str)),
    # bool is an int to Python, never to TOML or YAML.
    "integer": ("an integer", lambda value: isinstance(value, int) and not isinstance(value, bool)),
    "number": ("a number", lambda value: isinstance(value, (int, float)) and not isinstance(value, bool)),
    "boolean": ("true or false", lambda value: isinstance(value, bool)),
}


def types(spec: dict[str, Any]) -> list[str]:
    declared = spec["type"]
    return list(declared) if isinstance(declared, list) else [declared]


def problem(value: Any, spec: dict[str, Any]) -> str | None:
    """Why ``value`` is not what the option declared by ``spec`` takes; None when it is.

    The option's default, written out, is always taken (NGX203's ``min = ""``)."""
    if value == spec["default"] and type(value) is type(spec["default"]):
        return None
    if not any(_TYPES[kind][1](value) for kind in types(spec)):
        return f"{_shown(value)} is {_kind_of(value)}: it takes {takes(spec)}"
    if "enum" in spec and value not in spec["enum"]:
        return f"{_shown(value)} is not one of them: it takes {takes(spec)}"
    wanted = FORMATS.get(spec.get("format", ""))
    if isinstance(value, str) and wanted is not None:
        if not wanted.accepts(value):
            return f"{_shown(value)} is not {wanted.noun}: it takes {takes(spec, named=False)}"
        amount, least = wanted.magnitude(value), _string_minimum(spec)
        if amount is not None and least is not None and amount < (wanted.magnitude(least) or 0):
            return f"{_shown(value)} is below {least}: it takes {takes(spec)}"
    elif not isinstance(value, (str, bool)):
        if not math.isfinite(value):
            return f"{_shown(value)} is no finite number: it takes {takes(spec)}"
        low, high = spec.get("minimum", -math.inf), spec.get("maximum", math.inf)
        if not low <= value <= high:
            return f"{_shown(value)} is out of range: it takes {takes(spec)}"
    return None


def order_problem(options: dict[str, Any], specs: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """(option, why) for each option set above the one its spec names ``at-most`` (each
    read as set, else as its default): NGX104 with min = "2d" and max = "1d" would call
    every timeout out of range."""
    found = []
    for name, spec in specs.items():
        other = spec.get("at-most")
        if other is None or (name not in options and other not in options):
            continue
        low, high = options.get(name, spec["default"]), options.get(other, specs[other]["default"])
        wanted = FORMATS.get(spec.get("format", ""))
        if wanted is None or not isinstance(low, str) or not isinstance(high, str):
            continue
        low_amount, high_amount = wanted.magnitude(low), wanted.magnitude(high)
        if low_amount is not None and high_amount is not None and low_amount > high_amount:
            found.append((name, f"{_shown(low)} is above {other} ({_shown(high)}): it may not exceed it"))
    return found


def takes(spec: dict[str, Any], *, named: bool = True) -> str:
    """What the option takes, in words: its type, narrowed by its format, enum or bounds
    (a format ``named`` or, where the message has just named it, its spelling alone)."""
    if "enum" in spec:
        return "one of " + ", ".join(_shown(choice) for choice in spec["enum"])
    wanted = FORMATS.get(spec.get("format", ""))
    parts = []
    for kind in types(spec):
        if kind == "string" and wanted is not None:
            least = _string_minimum(spec)
            written = f"{wanted.noun}: {wanted.detail}" if named else wanted.detail
            parts.append(written + (f", at least {least}" if least is not None else ""))
        else:
            parts.append(_TYPES[kind][0] + _bounds(spec, kind))
    if spec["default"] == "" and wanted is not None:
        parts.append('"" (the default)')
    return "; or ".join(parts)


def short(spec: dict[str, Any]) -> str:
    """The same for the docs' option tables: ``string: nginx size (k, m), at least 32k``."""
    if "enum" in spec:
        return "one of " + ", ".join(f"`{choice}`" for choice in spec["enum"])
    wanted = FORMATS.get(spec.get("format", ""))
    parts = []
    for kind in types(spec):
        if kind == "string" and wanted is not None:
            least = _string_minimum(spec)
            written = f"string: {wanted.short}" + (f", at least `{least}`" if least is not None else "")
            parts.append(written + (f", at most `{spec['at-most']}`" if "at-most" in spec else ""))
        else:
            parts.append(kind + _bounds(spec, kind))
    return " or ".join(parts)


def _string_minimum(spec: dict[str, Any]) -> str | None:
    """A minimum written in the option's format ("32k") bounds its strings; a number
    bounds its numbers only."""
    least = spec.get("minimum")
    return least if isinstance(least, str) else None


def _bounds(spec: dict[str, Any], kind: str) -> str:
    if kind not in ("integer", "number"):
        return ""
    low, high = spec.get("minimum"), spec.get("maximum")
    if low is not None and high is not None:
        return f" from {low} to {high}"
    if low is not None:
        return f", at least {low}"
    return f", at most {high}" if high is not None else ""


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a table" if isinstance(value, dict) else "a list" if isinstance(value, list) else "a value"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)
