"""A chart value as Helm gives it to a template, and what the template prints.

Helm reads values with sigs.k8s.io/yaml: go-yaml v2 (YAML 1.1) resolves each
plain scalar, and the result goes through JSON, so every number reaches the
template as a float64. Measured with helm 3.17.2 (tests/test_kubernetes_yaml_typing.py):

* a plain ``yes``/``on``/``y`` is true and ``no``/``off``/``n`` false (ruamel,
  YAML 1.2, reads the strings);
* ``010`` is 8 (YAML 1.1 octal; YAML 1.2 reads 10), ``09`` and ``+.5e2`` are
  numbers (YAML 1.2 reads ``09`` as 9 too, ``+.5e2`` as a string);
* a number prints as Go's ``%v`` of a float64: ``75.0`` as ``75``, ``1.0`` as
  ``1`` and from a million on in exponent form (``1000000`` as ``1e+06``);
* ``key:`` and ``key: ~`` are null, which ``quote`` prints as nothing and
  ``if`` reads as false; so is the empty string; any other string is true.

ingress-nginx's chart writes ``controller.config`` into the ConfigMap as
``{{ $key }}: {{ $value | quote }}`` and tests its flags with ``{{ if }}``.
A timestamp (``2024-01-02``) stays as written here (Helm prints it in RFC
3339); no key tlslint reads takes one.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from tlslint.sources.apigee.tree import Scalar
from tlslint.sources.goyaml import resolve_plain


def helm_value(scalar: Scalar) -> Any:
    """What a template receives for ``scalar`` in a values file: bool, None, float or str."""
    # Plain: as go-yaml v2 resolves it, not ruamel (YAML 1.2); quoted or tagged: as written.
    value = resolve_plain(scalar.raw) if scalar.style is None and not scalar.tagged() else scalar.value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # through JSON: a float64
    return value


def quoted_text(scalar: Scalar) -> str:
    """What ``{{ $value | quote }}`` prints, without the quotes (nothing for null)."""
    value = helm_value(scalar)
    return "" if value is None else go_string(value)


def truthy(scalar: Scalar | None) -> bool:
    """What ``{{ if }}`` makes of the value (absent or null: false)."""
    value = helm_value(scalar) if scalar is not None else None
    if isinstance(value, float):
        return value != 0
    return bool(value)  # bool, None, or a string: true unless empty


def whole_number(scalar: Scalar) -> int | None:
    """The count a template that prints the value unquoted (``replicas: {{ .Values.x }}``)
    writes into a manifest: ``3``, ``3.0`` and ``"3"`` alike; None for anything else."""
    printed = quoted_text(scalar)
    value = resolve_plain(printed) if printed else None
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) else None


def plain_reads_as(text: str) -> str:
    """What the chart prints for ``text`` written plain in a values file."""
    value = resolve_plain(text) if text else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    return "" if value is None else go_string(value)


def go_string(value: Any) -> str:
    """Go's ``%v`` of a bool, float64 or string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def go_float(value: float) -> str:
    """Go's ``%v`` of a float64: the shortest digits, in exponent form when the exponent is
    below -4 or from 6 on (strconv's 'g' with the shortest precision)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digit_tuple, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digit_tuple))
    point = len(digits) + exponent  # digits before the decimal point
    shown = "-" if sign else ""
    power = point - 1
    if power < -4 or power >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{shown}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    if point <= 0:
        return f"{shown}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{shown}{digits}{'0' * (point - len(digits))}"
    return f"{shown}{digits[:point]}.{digits[point:]}"
