"""YAML files of Kubernetes objects and Helm values, as the Apigee and Kubernetes tiers read them.

What both tiers do alike, each with its own rule codes (``LoadCodes``):

* ``read_documents``: a text's documents (``tlslint.sources.apigee.tree``), or
  the problem that stops it being read — a Helm template that is YAML only once
  rendered, or invalid YAML (with the duplicated top-level keys still found);
* ``objects_of``: a document's objects, the items of a ``kind: List`` included;
* ``duplicate_problems``: keys written twice in one mapping;
* ``validate_node``: a JSON Schema's errors, each at the node it concerns, an
  unknown key with the known key it most resembles (``did_you_mean``). A
  placeholder (``${VAR}``, ``{{ }}``...) is never a wrong value.

A tier's input is a list of documents with their source positions, so that
documents from elsewhere (a rendered build) load the same way.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlslint.findings import UNPARSED, Finding, Location, Related, Severity
from tlslint.sources.apigee.tree import (
    AliasingError,
    Map,
    Node,
    Pair,
    Placeholder,
    Scalar,
    Seq,
    YamlError,
    expanded_size,
    parse,
    to_data,
    walk,
)
from tlslint.sources.goyaml import YAML11_BOOLEANS, YAML11_ONLY
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
# Aliases may expand a small text into a huge tree, even one go-yaml reads (up to 99%
# of its nodes may come through aliases); past this many nodes an object is not
# validated (its text is still checked where rules look).
MAX_EXPANDED_NODES = 20_000

# Template syntax: Go's {{ }} (Helm) and Jinja's {{ }} and {% %} (Ansible, Salt).
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
_JINJA_STATEMENT = re.compile(r"\{%.*?%\}", re.S)
# What only Go templates write: a trim marker, or an action that starts with a field or variable.
_GO_ACTION = re.compile(r"\{\{-|\{\{\s*(?:[.$]|(?:if|range|with|include|toYaml|end)\b)")
# A plain key ends on a non-blank character: with a lazy "[^:\n#]*?" before "\s*:",
# a line of blanks would be rescanned from each of its characters (quadratic).
_TOP_LEVEL_KEY = re.compile(
    r"^(?:\"([^\"\n]*)\"|'([^'\n]*)'|([^\s#'\"\-?:,\[\]{}&*!|>%@`](?:[^:\n#]*[^\s:#])?))\s*:(?:\s|$)",
    re.M,
)
_DOCUMENT_MARK = re.compile(r"^(?:---|\.\.\.)(?:\s|$)", re.M)
_YAML_TYPES = {str: "a string", int: "a number", float: "a number", bool: "a boolean", list: "a list",
               dict: "a mapping", type(None): "empty (null)"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LoadCodes:
    """A tier's codes for what stops or spoils loading."""

    template: str  # a Helm template that is not YAML before rendering (info, not checked)
    schema: str  # invalid YAML, or a field that breaks the schema
    duplicate: str  # a key written twice in one mapping


@dataclass(frozen=True, slots=True)
class Problem:
    """A loading finding: code, 1-based line and column (0 for the file), message."""

    code: str
    line: int
    column: int
    message: str
    anchor: str = "file"
    related: tuple[tuple[int, int, str], ...] = ()
    end_line: int = 0
    end_column: int = 0
    severity: Severity | None = None  # None: the rule's own


@dataclass
class Documents:
    """What ``read_documents`` gives: the documents, or why there are none."""

    documents: list[Node]
    problems: list[Problem]
    template: bool = False  # a Helm template YAML cannot read: not checked


def read_documents(source: SourceText, codes: LoadCodes) -> Documents:
    try:
        return Documents(parse(source), [])
    except YamlError as error:
        # A file that is YAML but refused for its aliases is no template either.
        match = _TEMPLATE.search(source.text) if not isinstance(error, AliasingError) else None
        if match is not None:
            # At the line where reading stopped: the first placeholder may be a valid value.
            kind, how = _template_kind(source.text)
            message = f"{kind} that is not YAML until rendered ({error.message}); not checked: {how}"
            problem = Problem(codes.template, error.line, error.column, message)
            return Documents([], [problem], template=True)
        invalid = Problem(codes.schema, error.line, error.column, error.summary, anchor=UNPARSED)
        return Documents([], [invalid, *_top_level_duplicates(source, codes.duplicate)])


def _template_kind(text: str) -> tuple[str, str]:
    """The template engine the text's syntax names, and what to check instead: ``{% %}``
    is Jinja's (Ansible's template module, Salt), an action on ``.Values`` or with a trim
    marker Go's (Helm); a plain ``{{ NAME }}`` may be either."""
    if _JINJA_STATEMENT.search(text):
        return "a Jinja template (`{% %}`, as Ansible and Salt write)", "check the file it renders instead"
    if _GO_ACTION.search(text):
        return "a Helm template", "check the output of `helm template` instead"
    return "a template (`{{ }}`)", "check the rendered output instead"


def objects_of(document: Node) -> list[Map]:
    """The document's object, or the items of a ``kind: List``."""
    if not isinstance(document, Map):
        return []
    kind = document.scalar("kind")
    if kind is not None and kind.value == "List":
        items = document.get("items")
        return [item for item in items.items if isinstance(item, Map)] if isinstance(items, Seq) else []
    return [document]


def duplicates_note(problems: Iterable[Problem], code: str) -> str:
    """The note of a finding whose fix would edit a file with a key twice in one mapping
    (``code``, APG205 or GW003), or ''. kubectl refuses such a manifest (``mapping key
    "spec" already defined``) and helm 3.17 keeps the last value of a values file: which
    one the author meant is not known, and --fix does not write the file."""
    first = next((p for p in problems if p.code == code), None)
    if first is None:
        return ""
    return (
        f"no automatic fix: the file has a key twice in one mapping ({code}, line {first.line}): "
        "kubectl refuses such a manifest and helm keeps only the last value; remove the duplicate first"
    )


def duplicate_problems(roots: Iterable[Node], code: str) -> list[Problem]:
    problems = []
    for node in walk(list(roots)):
        if not isinstance(node, Map):
            continue
        for first, again in node.duplicates():
            problems.append(duplicate_problem(first, again, code))
    return problems


def duplicate_problem(first: Pair, again: Pair, code: str) -> Problem:
    name = again.name
    line, column = again.key.source.position(again.key.start)
    first_line, first_column = first.key.source.position(first.key.start)
    return Problem(
        code,
        line,
        column,
        f"key '{name}' appears twice in one mapping (first at line {first_line}); "
        "only one of the two values is used, the other is silently lost",
        anchor=f"duplicate[{name}]",
        related=((first_line, first_column, f"'{name}' first set here"),),
        end_line=line,
        end_column=column + len(again.key.source.text[again.key.start : again.key.end]),
    )


def _top_level_duplicates(source: SourceText, code: str) -> list[Problem]:
    """Duplicate top-level keys of a file YAML cannot read (line by line, per document)."""
    problems = []
    seen: dict[str, tuple[int, int]] = {}
    text = source.text
    marks = {m.start() for m in _DOCUMENT_MARK.finditer(text)}
    for offset in sorted({*marks, *(m.start() for m in _TOP_LEVEL_KEY.finditer(text))}):
        if offset in marks:
            seen = {}
            continue
        match = _TOP_LEVEL_KEY.match(text, offset)
        assert match is not None
        name = next(group for group in match.groups() if group is not None).strip()
        line, column = source.position(offset)
        if name in seen:
            first_line, first_column = seen[name]
            problems.append(
                Problem(
                    code,
                    line,
                    column,
                    f"top-level key '{name}' appears twice (first at line {first_line}); "
                    "only one of the two values is used, the other is silently lost",
                    anchor=f"duplicate[{name}]",
                    related=((first_line, first_column, f"'{name}' first set here"),),
                    end_line=line,
                    end_column=column + len(name),
                )
            )
        else:
            seen[name] = (line, column)
    return problems


def problem_finding(path: Path, problem: Problem) -> Finding:
    """A loading problem as a finding of its rule."""
    from tlslint import catalogue

    meta = catalogue.index()[problem.code]
    location = Location(path, problem.line, problem.column, problem.end_line, problem.end_column)
    related = tuple(Related(Location(path, line, column), text) for line, column, text in problem.related)
    severity = problem.severity or meta.severity
    return Finding(meta.code, meta.name, severity, problem.message, location, related, anchor=problem.anchor)


def unreadable(path: Path, error: SourceError, code: str) -> Finding:
    """A file that could not be read at all (too large, binary, undecodable...)."""
    from tlslint import catalogue

    meta = catalogue.index()[code]
    location = Location(path, error.line, 1 if error.line else 0)
    return Finding(meta.code, meta.name, meta.severity, error.message, location, anchor=UNPARSED)


def too_large(node: Node) -> bool:
    return expanded_size(node, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES


# -- schemas ------------------------------------------------------------------------
@cache
def validator(name: str) -> Draft202012Validator:
    """The validator of a schema shipped in ``tlslint/schemas``."""
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the known name closest to ``name`` (case aside), else ''."""
    close = closest(name, known)
    return f"; did you mean '{close}'?" if close is not None else ""


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name closest to ``name`` (case aside), or None when none is close."""
    return _closest(name, tuple(known))


@lru_cache(maxsize=1024)
def _closest(name: str, choices: tuple[str, ...]) -> str | None:
    import difflib  # only to word a finding

    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {k.lower(): k for k in choices}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)]
    return close[0] if close else None


def validate_node(
    node: Node, schema: str, where: str, code: str, anchor: str | None = None, yaml11: bool = False
) -> list[Problem]:
    """``schema``'s errors in ``node``, each at the node it concerns (``where`` names ``node``).

    ``yaml11``: the object is read by kubectl, whose YAML reader (go-yaml v2) takes plain
    ``yes``/``on``/``no``/``off`` for booleans: they are validated as those booleans, and
    where the schema wants a boolean such a value is a warning (kustomize and other YAML
    1.2 tools read, and write back, the string "yes").
    """
    anchor = anchor or where
    if isinstance(node, Scalar) and node.placeholder:
        return []
    if too_large(node):
        # go-yaml reads it (a document it refuses is not loaded: ``aliasing.py``), but its
        # verdict here would be incomplete: exit 2.
        message = f"{where}: aliases expand to more than {MAX_EXPANDED_NODES} nodes; not validated"
        return [problem_at(node, message, UNPARSED, code)]
    booleans: list[tuple[Scalar, tuple[Any, ...]]] | None = [] if yaml11 else None
    data = to_data(node, yaml11=booleans, unset_nulls=True)
    problems = []
    wrong: set[int] = set()
    for error in sorted(validator(schema).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        wrong.add(id(find(node, list(error.absolute_path))))
        problems.extend(_describe(error, node, where, anchor, code))
    if booleans:
        problems.extend(_yaml11_problems(node, schema, where, anchor, code, booleans, wrong))
    return problems


def _yaml11_problems(
    node: Node,
    schema: str,
    where: str,
    anchor: str,
    code: str,
    booleans: list[tuple[Scalar, tuple[Any, ...]]],
    wrong: set[int],
) -> list[Problem]:
    """A warning at each YAML 1.1 boolean (``yes``) where the schema wants a boolean: the
    object read as YAML 1.2 (strings there) is refused at those places and not otherwise."""
    data = to_data(node, unset_nulls=True)
    as_strings = {id(find(node, list(e.absolute_path))) for e in validator(schema).iter_errors(data)}
    problems = []
    seen: set[int] = set()
    for scalar, path in booleans:
        if id(scalar) in wrong or id(scalar) in seen or id(scalar) not in as_strings:
            continue
        seen.add(id(scalar))
        value = "true" if scalar.kube_bool() else "false"
        label = where + _path_label(list(path))
        message = (
            f"{label} is {scalar.raw}: the boolean {value} to kubectl, which reads YAML 1.1, but the "
            f'string "{scalar.raw}" to YAML 1.2 tools (kustomize writes it back quoted, and the API '
            f"server then refuses it); write {value}"
        )
        problem = problem_at(scalar, message, anchor + _path_label(list(path)), code)
        problems.append(dataclasses.replace(problem, severity=Severity.WARNING))
    return problems


def _path_label(path: list[Any]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _describe(error: ValidationError, root: Node, where: str, anchor: str, code: str) -> list[Problem]:
    instance: Any = error.instance
    expected: Any = error.validator_value
    schema: Any = error.schema
    if isinstance(instance, Placeholder):
        return []
    path = list(error.absolute_path)
    node = find(root, path)
    label = where + _path_label(path)
    anchor = anchor + _path_label(path)
    if error.validator == "additionalProperties" and isinstance(node, Map):
        known = list(schema.get("properties", {}))
        problems = []
        reported = set()
        for pair in node.pairs:
            name = pair.name
            if name is None or name in known or name in reported or name not in instance:
                continue
            reported.add(name)
            hint = did_you_mean(name, known) or f" (known keys: {', '.join(known)})"
            message = f"unknown key '{name}' in {label}{hint}"
            problems.append(problem_at(pair.key, message, f"{anchor}.{name}", code))
        return problems
    if error.validator == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        message = f"{label} must be {_article(wanted)}, not {_YAML_TYPES.get(type(instance), 'that')}"
        if isinstance(node, Scalar) and node.value is not None and node.style is None:
            message += f" ({node.raw!r})"
        elif isinstance(node, Scalar) and node.style in ("'", '"'):
            message += f" ({node.written})"  # "true" in quotes: the quotes make it a string
        if isinstance(instance, bool) and isinstance(node, Scalar) and node.raw in YAML11_ONLY:
            # Validated as kubectl reads it: say why a word is a boolean, and what keeps it a string.
            value = "true" if instance else "false"
            message += f"; kubectl reads YAML 1.1, where a plain {node.raw} is the boolean {value}: quote it"
        if expected == "boolean" and isinstance(instance, str) and instance in YAML11_ONLY:
            # In a rendered build, a plain `yes` the author wrote comes back quoted.
            value = "true" if YAML11_BOOLEANS[instance] else "false"
            message += f"; kustomize and other YAML 1.2 tools write a plain {instance} so: write {value}"
    elif error.validator == "required" and isinstance(node, Map) and _empty_key(node, error.message):
        name = _empty_key(node, error.message)
        empty = node.pair(name)
        assert empty is not None
        message = f"{label}.{name} is empty, which Helm and kubectl read as unset; it is required"
        return [_problem_at_key(empty.key, message, f"{anchor}.{name}", code)]
    elif error.validator == "enum":
        allowed = ", ".join(str(v) for v in expected)
        message = f"{label} is {instance!r}; expected one of: {allowed}"
    elif error.validator == "const":
        message = f"{label} is {instance!r}; expected {expected!r}"
    else:
        message = f"{label}: {error.message}"
    if isinstance(node, Scalar) and node.value is None and node.raw == "" and node.style is None:
        key = _key_of(root, path)  # an empty value: ruamel places it at the next token
        if key is not None:
            return [_problem_at_key(key, message, anchor, code)]
    target = node if node is not None else root
    return [problem_at(target, message, anchor, code)]


def _empty_key(node: Map, message: str) -> str:
    """The required key a "required" error names, when ``node`` has it with an empty value
    (left out of the data validated: Helm and kubectl read it as unset); else ''."""
    match = re.match(r"'([^']*)' is a required property", message)
    if match is None:
        return ""
    pair = node.pair(match.group(1))
    value = pair.value if pair is not None else None
    return match.group(1) if isinstance(value, Scalar) and value.value is None and not value.style else ""


def _key_of(root: Node, path: list[Any]) -> Node | None:
    """The key whose value is at ``path``, when that value is a mapping's."""
    if not path or not isinstance(path[-1], str):
        return None
    parent = find(root, path[:-1])
    pair = parent.pair(path[-1]) if isinstance(parent, Map) else None
    return pair.key if pair is not None else None


def _problem_at_key(key: Node, message: str, anchor: str, code: str) -> Problem:
    """At ``key:`` (through its colon, when on the line)."""
    source = key.source
    line, column = source.position(key.start)
    colon = source.text.find(":", key.end)
    end = colon + 1 if colon != -1 and "\n" not in source.text[key.end : colon] else key.end
    end_line, end_column = source.position(end)
    return Problem(code, line, column, message, anchor, (), end_line, end_column)


def _article(kind: str) -> str:
    words = {"string": "a string", "integer": "an integer", "number": "a number", "boolean": "a boolean",
             "array": "a list", "object": "a mapping", "null": "empty"}  # fmt: skip
    return " or ".join(words.get(part, part) for part in kind.split(" or "))


def find(node: Node, path: list[Any]) -> Node | None:
    """The node at a JSON path (keys and indexes) below ``node``."""
    current: Node | None = node
    for part in path:
        if isinstance(current, Map) and isinstance(part, str):
            current = current.get(part)
        elif isinstance(current, Seq) and isinstance(part, int) and part < len(current.items):
            current = current.items[part]
        else:
            return None
    return current


def node_kind(node: Node) -> str:
    if isinstance(node, Map):
        return "a mapping"
    if isinstance(node, Seq):
        return "a list"
    return "a single value"


def problem_at(node: Node, message: str, anchor: str, code: str) -> Problem:
    line, column, end_line, end_column = node.source.region(node.start, node.end, first_line=True)
    return Problem(code, line, column, message, anchor, (), end_line, end_column)
