"""JSON Schemas (Draft 2020-12, shipped in ``tlslint/schemas``) for the Apigee
parts of a file: each ``virtualhosts[]`` and ``ingressGateways[]`` entry and
each ``ApigeeRoute`` / ``ApigeeRouteConfig``.

Errors are reported at the node they concern, an unknown key with the known
key it most resembles. A placeholder (``${VAR}``, ``{{ }}``...) is never a
wrong value.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlslint.findings import UNPARSED
from tlslint.sources.apigee.documents import (
    MAX_EXPANDED_NODES,
    SCHEMA_VIOLATION,
    ApigeeFile,
    Problem,
    too_large,
)
from tlslint.sources.apigee.tree import Map, Node, Placeholder, Scalar, Seq, to_data

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMAS = Path(__file__).resolve().parent.parent.parent / "schemas"
VIRTUAL_HOST = "apigee-virtualhost.schema.json"
INGRESS_GATEWAY = "apigee-ingressgateway.schema.json"
ROUTE = "apigee-route.schema.json"

_YAML_TYPES = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list",
               dict: "a mapping", type(None): "empty (null)"}  # fmt: skip


@cache
def validator(name: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def validate_file(file: ApigeeFile) -> list[Problem]:
    problems: list[Problem] = []
    for overrides in file.overrides:
        for key, name in (("virtualhosts", VIRTUAL_HOST), ("ingressGateways", INGRESS_GATEWAY)):
            pair = overrides.root.pair(key)
            if pair is None:
                continue
            node = pair.value
            if isinstance(node, Scalar) and (node.placeholder or node.value is None):
                continue
            if not isinstance(node, Seq):
                problems.append(_at(node, f"'{key}' must be a list of entries, not {_kind(node)}", key))
                continue
            for index, item in enumerate(node.items):
                problems.extend(validate_node(item, name, f"{key}[{index}]"))
    for obj in file.objects:
        object_name = obj.name
        label = f"{obj.kind} '{object_name.raw}'" if object_name is not None else obj.kind
        problems.extend(validate_node(obj.node, ROUTE, label, anchor=obj.anchor))
    return problems


def validate_node(node: Node, schema: str, where: str, anchor: str | None = None) -> list[Problem]:
    anchor = anchor or where
    if isinstance(node, Scalar) and node.placeholder:
        return []
    if too_large(node):
        # An alias bomb does not load, as a YAML syntax error does not: exit 2.
        return [
            _at(
                node,
                f"{where}: aliases expand to more than {MAX_EXPANDED_NODES} nodes (or refer to "
                "themselves); not validated",
                UNPARSED,
            )
        ]
    data = to_data(node)
    problems = []
    for error in sorted(validator(schema).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.extend(_describe(error, node, where, anchor))
    return problems


def _describe(error: ValidationError, root: Node, where: str, anchor: str) -> list[Problem]:
    instance: Any = error.instance
    expected: Any = error.validator_value
    schema: Any = error.schema
    if isinstance(instance, Placeholder):
        return []
    path = list(error.absolute_path)
    node = _find(root, path)
    label = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    anchor = anchor + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
    if error.validator == "additionalProperties" and isinstance(node, Map):
        known = list(schema.get("properties", {}))
        lowered = {k.lower(): k for k in known}
        problems = []
        reported = set()
        for pair in node.pairs:
            name = pair.name
            if name is None or name in known or name in reported or name not in instance:
                continue
            reported.add(name)
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6) or [
                lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
            ]
            hint = f"; did you mean '{close[0]}'?" if close else f" (known keys: {', '.join(known)})"
            problems.append(_at(pair.key, f"unknown key '{name}' in {label}{hint}", f"{anchor}.{name}"))
        return problems
    if error.validator == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        message = f"{label} must be {_article(wanted)}, not {_YAML_TYPES.get(type(instance), 'that')}"
        if isinstance(node, Scalar) and node.value is not None and node.style is None:
            message += f" ({node.raw!r})"
    elif error.validator == "enum":
        allowed = ", ".join(str(v) for v in expected)
        message = f"{label} is {instance!r}; expected one of: {allowed}"
    elif error.validator == "const":
        message = f"{label} is {instance!r}; expected {expected!r}"
    else:
        message = f"{label}: {error.message}"
    target = node if node is not None else root
    return [_at(target, message, anchor)]


def _article(kind: str) -> str:
    words = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
             "array": "a list", "object": "a mapping", "null": "empty"}  # fmt: skip
    return " or ".join(words.get(part, part) for part in kind.split(" or "))


def _find(node: Node, path: list[Any]) -> Node | None:
    current: Node | None = node
    for part in path:
        if isinstance(current, Map) and isinstance(part, str):
            current = current.get(part)
        elif isinstance(current, Seq) and isinstance(part, int) and part < len(current.items):
            current = current.items[part]
        else:
            return None
    return current


def _kind(node: Node) -> str:
    if isinstance(node, Map):
        return "a mapping"
    if isinstance(node, Seq):
        return "a list"
    return "a single value"


def _at(node: Node, message: str, anchor: str) -> Problem:
    line, column, end_line, end_column = node.source.region(node.start, node.end, first_line=True)
    return Problem(SCHEMA_VIOLATION, line, column, message, anchor, (), end_line, end_column)
