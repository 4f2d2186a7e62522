"""How go-yaml v2 reads a plain scalar: the YAML 1.1 reader of kubectl and Helm.

kubectl (sigs.k8s.io/yaml) and Helm read manifests and values with go-yaml v2,
which resolves plain scalars as YAML 1.1 does where ruamel (YAML 1.2) does not:
``yes``/``on``/``y`` are true and ``no``/``off``/``n`` false, ``010`` is 8,
``+.5e2`` is a number, and ``1e400`` (out of a float64's range) a string. Held
against the real kubectl and helm in tests/test_kubernetes_yaml_typing.py.
"""

from __future__ import annotations

import math
import re
from typing import Any

# The plain scalars go-yaml v2 reads as booleans, as YAML 1.1 does (YAML 1.2, and ruamel,
# read all but the true/false family as strings). kubectl reads manifests with it
# (sigs.k8s.io/yaml), so `enableNonSniClient: yes` reaches the API server as true.
YAML11_BOOLEANS = {
    **dict.fromkeys(("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
}
# Those that YAML 1.2 tools (kustomize's kyaml, yq) read as strings, and write back quoted.
YAML11_ONLY = frozenset(word for word in YAML11_BOOLEANS if word.lower() not in ("true", "false"))

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_SPECIAL = {
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
}
# go-yaml v2's yamlStyleFloat, tried on a digit or sign once ParseInt and ParseUint failed.
_YAML_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?")  # what Go's ParseFloat takes after a dot
_GO_INT = re.compile(
    r"[+-]?(?:0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0(?:_?[0-7])*|[1-9](?:_?[0-9])*)"
)
_GO_UINT = re.compile(r"0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*")  # no "_" left


def resolve_plain(text: str) -> Any:
    """The value go-yaml v2 gives an untagged plain scalar: bool, None, int, float or str."""
    if text in YAML11_BOOLEANS:
        return YAML11_BOOLEANS[text]
    if text in _NULLS:
        return None
    if text in _SPECIAL:
        return _SPECIAL[text]
    first = text[0]
    if first == ".":
        return float(text) if _DOT_FLOAT.fullmatch(text) else text
    if first not in "+-0123456789":
        return text
    plain = text.replace("_", "")
    if plain:
        number = parse_int(plain)
        if number is None and _GO_UINT.fullmatch(plain):
            number = _parse_uint(plain)
        if number is not None:
            return number
    if _YAML_FLOAT.fullmatch(plain):
        value = float(plain)
        return text if math.isinf(value) else value  # ParseFloat's range error: a string
    return text


def parse_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)``, or None."""
    if _GO_INT.fullmatch(text) is None:
        return None
    digits = text.replace("_", "")
    sign = -1 if digits.startswith("-") else 1
    digits = digits.lstrip("+-")
    if len(digits) > 66:  # past 64 binary digits and a prefix: out of range (and of int()'s reach)
        return None
    lowered = digits.lower()
    base = 10
    for prefix, prefixed in (("0x", 16), ("0b", 2), ("0o", 8)):
        if lowered.startswith(prefix):
            digits, base = digits[2:], prefixed
            break
    else:
        if len(digits) > 1 and digits.startswith("0"):
            digits, base = digits[1:], 8
    value = sign * int(digits, base)
    return value if -(2**63) <= value < 2**63 else None  # ParseInt's range error


def _parse_uint(text: str) -> int | None:
    """Go's ParseUint(s, 0, 64) for what ParseInt refused as out of range."""
    if len(text) > 66:  # past 64 binary digits and a prefix: out of range (and of int()'s reach)
        return None
    lowered = text.lower()
    for prefix, base in (("0x", 16), ("0b", 2), ("0o", 8)):
        if lowered.startswith(prefix):
            value = int(text[2:], base)
            break
    else:
        value = int(text, 8) if len(text) > 1 and text.startswith("0") else int(text)
    return value if value < 2**64 else None
