"""YAML as a tree of nodes with exact offsets, built from ruamel.yaml's composer.

ruamel.yaml is used to parse, never to write: every node keeps the offsets of
its text in the decoded file, so a fix is a text edit at those offsets and the
rest of the file stays byte for byte as it was.

The tree is built from composed nodes, not constructed Python objects, because
the composer keeps what construction loses: every pair of a mapping with a
duplicated key, the style of each scalar and collection, and aliases as
references to one node. An alias is never copied: a node reached through
several aliases is one object marked ``shared`` (a fix there would change
every place that refers to it), so a "billion laughs" document stays as small
as its text. Whoever walks the tree whole must keep a set of visited nodes.

It is read as go-yaml (helm, kubectl) reads it: tabs where it takes them
(``tabs.py``), and a document whose aliases it refuses to expand, or with a
recursive alias, is refused (``aliasing.py``).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

from tlslint.sources.goyaml import YAML11_BOOLEANS, resolve_plain
from tlslint.sources.nginx.model import SourceText

MAX_DEPTH = 200  # nesting deeper than this is refused (the composer recurses)

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
NULL = "tag:yaml.org,2002:null"
MERGE = "tag:yaml.org,2002:merge"
TEMPLATE = "!template"  # a Helm `{{ ... }}` read by YAML as a flow mapping
_RESOLVED = frozenset({STR, INT, FLOAT})  # plain scalars whose type go-yaml v2 may read otherwise

# ${VAR}, $VAR, {{ ... }}, <PLACEHOLDER>: values filled in before the file is used.
_PLACEHOLDER = re.compile(r"\$\{[^}\n]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\{\{.*?\}\}|<[A-Za-z][\w.-]*>", re.S)
# In a field that holds a Kubernetes name, an upper-case word is a placeholder
# (the docs write `credentialName: CREDENTIAL_NAME`): no such name is valid.
_UPPER_WORD = re.compile(r"[A-Z][A-Z0-9_]*")


def has_placeholder(text: str) -> bool:
    return _PLACEHOLDER.search(text) is not None


class YamlError(Exception):
    """Text that is not YAML, at a 1-based line and column (0 when unknown)."""

    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(f"{line}:{column}: {message}")
        self.line = line
        self.column = column
        self.message = message

    @property
    def summary(self) -> str:
        """The problem as a finding says it."""
        return f"invalid YAML: {self.message}"


class AliasingError(YamlError):
    """Valid YAML that go-yaml (helm, kubectl) refuses to read: its aliases expand too far,
    or one is recursive (``tlslint.sources.apigee.aliasing``). Not a Helm template either."""

    @property
    def summary(self) -> str:
        return self.message  # it is valid YAML: "invalid YAML" would not be true


class Node:
    __slots__ = ("end", "parent", "shared", "source", "start", "tag")

    def __init__(self, source: SourceText, start: int, end: int, tag: str) -> None:
        self.source = source
        # The mapping or list it was first written in (None for a document): an edit of
        # a value checks what holds it (a node shared through aliases is never edited).
        self.parent: Node | None = None
        self.start = start  # offset of the node's text (its anchor or tag, if any, included)
        self.end = end  # offset just past it
        self.tag = tag
        self.shared = False  # reached through an alias (or a merge key) as well

    @property
    def line(self) -> int:
        return self.source.position(self.start)[0]

    @property
    def column(self) -> int:
        return self.source.position(self.start)[1]

    def children(self) -> Iterator[Node]:
        return iter(())


class Scalar(Node):
    __slots__ = ("raw", "style", "value")

    def __init__(
        self, source: SourceText, start: int, end: int, tag: str, raw: str, style: str | None, value: Any
    ) -> None:
        super().__init__(source, start, end, tag)
        self.raw = raw  # the scalar's text after YAML unquoting and folding
        self.style = style  # None (plain), "'", '"', "|" or ">"
        self.value = value  # str, int, float, bool or None, from the resolved tag

    @property
    def placeholder(self) -> bool:
        """A template variable rather than a value (``${X}``, ``$X``, ``{{ }}``, ``<X>``)."""
        return self.tag == TEMPLATE or (isinstance(self.value, str) and has_placeholder(self.value))

    def name_placeholder(self) -> bool:
        """In a name field, also an upper-case word such as ``ENV_GROUP``."""
        return self.placeholder or (
            isinstance(self.value, str) and _UPPER_WORD.fullmatch(self.value) is not None
        )

    @property
    def text(self) -> str | None:
        """The value as a string when it is a string (and no placeholder), else None."""
        return self.value if isinstance(self.value, str) and not self.placeholder else None

    @property
    def written(self) -> str:
        """The scalar's text as written, quotes and tag included (not an anchor), up to the
        end of its line."""
        text = self.source.text
        start = self.start
        if text.startswith("&", start):  # an anchor: its name runs to the next blank
            while start < self.end and text[start] not in " \t\r\n":
                start += 1
            while start < self.end and text[start] in " \t":
                start += 1
        return text[start : self.end].split("\n", 1)[0].rstrip("\r")

    def tag_start(self) -> int | None:
        """Offset of an explicit tag (``!!float 1.2``, ``!!str yes``), before or after an anchor
        (ruamel starts a node at its anchor: ``!!float &a 1.2`` starts at ``&a``)."""
        text = self.source.text
        position = self.start
        while position < self.end:
            char = text[position]
            if char in " \t\r\n":
                position += 1
            elif char == "&":  # an anchor: its name runs to the next blank
                while position < self.end and text[position] not in " \t\r\n":
                    position += 1
            elif char == "!":
                return position
            else:
                break
        if not text.startswith("&", self.start):
            return None
        before = self.start  # the word before the anchor, on its line
        while before > 0 and text[before - 1] in " \t":
            before -= 1
        word = before
        while word > 0 and text[word - 1] not in " \t\r\n":
            word -= 1
        return word if word < before and text[word] == "!" else None

    def tagged(self) -> bool:
        return self.tag_start() is not None

    def kube_bool(self) -> bool | None:
        """The boolean kubectl reads here (YAML 1.1: ``yes``, ``on``...), None for a non-boolean."""
        if isinstance(self.value, bool):
            return self.value
        if self.style is None and self.tag == STR and self.raw in YAML11_BOOLEANS and not self.tagged():
            return YAML11_BOOLEANS[self.raw]
        return None

    def content_span(self) -> tuple[int, int] | None:
        """Offsets of the scalar itself, without anchor or tag: plain and one-line quoted only."""
        text = self.source.text
        if self.style is None:
            begin = self.end - len(self.raw)
            if begin >= self.start and text[begin : self.end] == self.raw:
                return begin, self.end
            return None
        if self.style in ("'", '"'):
            begin = text.find(self.style, self.start, self.end)
            if begin != -1 and "\n" not in text[begin : self.end]:
                return begin, self.end
        return None


class Seq(Node):
    __slots__ = ("flow", "items")

    def __init__(self, source: SourceText, start: int, end: int, tag: str, flow: bool) -> None:
        super().__init__(source, start, end, tag)
        self.items: list[Node] = []
        self.flow = flow

    def children(self) -> Iterator[Node]:
        return iter(self.items)


class Pair:
    __slots__ = ("key", "merged", "value")

    def __init__(self, key: Node, value: Node, merged: bool = False) -> None:
        self.key = key
        self.value = value
        self.merged = merged  # came in through a merge key (`<<: *anchor`)

    @property
    def name(self) -> str | None:
        """The key as text, when it is a scalar (a number as written)."""
        key = self.key
        if not isinstance(key, Scalar) or key.tag == TEMPLATE:
            return None
        return key.value if isinstance(key.value, str) else key.raw


class Map(Node):
    __slots__ = ("_effective", "flow", "pairs")

    def __init__(self, source: SourceText, start: int, end: int, tag: str, flow: bool) -> None:
        super().__init__(source, start, end, tag)
        self.pairs: list[Pair] = []  # as written: duplicated keys and merge keys kept
        self.flow = flow
        self._effective: dict[str, Pair] | None = None

    def children(self) -> Iterator[Node]:
        for pair in self.pairs:
            yield pair.key
            yield pair.value

    def effective(self) -> dict[str, Pair]:
        """Key -> the pair that counts: the last one written, then merged keys not overridden."""
        if self._effective is None:
            own: dict[str, Pair] = {}
            merges: list[Node] = []
            for pair in self.pairs:
                if pair.key.tag == MERGE:
                    merges.append(pair.value)
                    continue
                name = pair.name
                if name is not None:
                    own[name] = pair
            self._effective = {}  # set before merging: a merge cycle ends here
            merged: dict[str, Pair] = {}
            for source in merges:
                for target in source.items if isinstance(source, Seq) else [source]:
                    if isinstance(target, Map):
                        for name, pair in target.effective().items():
                            merged.setdefault(name, Pair(pair.key, pair.value, merged=True))
            self._effective = {**merged, **own}
        return self._effective

    def pair(self, key: str) -> Pair | None:
        return self.effective().get(key)

    def get(self, key: str) -> Node | None:
        found = self.effective().get(key)
        return found.value if found is not None else None

    def scalar(self, key: str) -> Scalar | None:
        node = self.get(key)
        return node if isinstance(node, Scalar) else None

    def duplicates(self) -> list[tuple[Pair, Pair]]:
        """(first, repeated) for each key written again in this mapping."""
        first: dict[str, Pair] = {}
        found = []
        for pair in self.pairs:
            name = pair.name
            if name is None or pair.key.tag == MERGE:
                continue
            if name in first:
                found.append((first[name], pair))
            else:
                first[name] = pair
        return found


def walk(roots: list[Node]) -> Iterator[Node]:
    """Every node once, aliases and cycles included."""
    seen: set[int] = set()
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(reversed(list(node.children())))


def expanded_size(node: Node, limit: int) -> int:
    """How many nodes ``node`` stands for with every alias expanded, up to ``limit``.

    Counted without expanding: each node's size is computed once from its
    children's. A cycle counts as over the limit.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        if done:
            on_path.discard(key)
            total = 1
            for child in current.children():
                total += sizes[id(child)]
                if total > limit:
                    total = limit + 1
                    break
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in on_path:
            return limit + 1  # a recursive anchor
        on_path.add(key)
        stack.append((current, True))
        for child in current.children():
            if id(child) in on_path:
                return limit + 1
            if id(child) not in sizes:
                stack.append((child, False))
    return min(sizes[id(node)], limit + 1)


def to_data(
    node: Node,
    keep_placeholders: bool = True,
    yaml11: list[tuple[Scalar, tuple[Any, ...]]] | None = None,
    unset_nulls: bool = False,
) -> Any:
    """Plain Python data for a JSON Schema (call ``expanded_size`` first: aliases are expanded).

    Placeholders become ``Placeholder`` strings, so that a schema error about
    one can be recognised and dropped; merge keys are applied. With ``yaml11``
    (a manifest kubectl reads), plain ``yes``/``on``/``no``/``off``... are the
    booleans kubectl sees, each appended there with its path. With ``unset_nulls``, a key
    whose value is empty (``key:``, ``key: ~``) is left out, as Helm's values and the
    Kubernetes API read it: unset.
    """
    return _data(node, keep_placeholders, yaml11, (), unset_nulls)


def _data(
    node: Node,
    keep: bool,
    yaml11: list[tuple[Scalar, tuple[Any, ...]]] | None,
    path: tuple[Any, ...],
    unset_nulls: bool = False,
) -> Any:
    # Paths are only built when YAML 1.1 booleans are collected (schemas run on every object).
    if isinstance(node, Scalar):
        if node.placeholder and keep:
            return Placeholder(node.raw)
        if yaml11 is not None and node.style is None and node.tag in _RESOLVED:
            value = resolve_plain(node.raw)  # as kubectl's go-yaml v2 reads it (YAML 1.1)
            if (value != node.value or type(value) is not type(node.value)) and not node.tagged():
                if isinstance(value, bool):
                    yaml11.append((node, path))
                return value
        return node.value
    if isinstance(node, Seq):
        if yaml11 is None:
            return [_data(item, keep, None, path, unset_nulls) for item in node.items]
        return [
            _data(item, keep, yaml11, (*path, index), unset_nulls) for index, item in enumerate(node.items)
        ]
    if isinstance(node, Map):
        result: dict[str, Any] = {}
        for name, pair in node.effective().items():
            if (
                unset_nulls
                and isinstance(pair.value, Scalar)
                and pair.value.value is None
                and not pair.value.style
            ):
                continue
            key = Placeholder(name) if has_placeholder(name) else name
            result[key] = _data(
                pair.value, keep, yaml11, path if yaml11 is None else (*path, name), unset_nulls
            )
        for pair in node.pairs:
            if pair.name is None and pair.key.tag != MERGE:
                text = _text(pair.key)
                result[Placeholder(text)] = _data(pair.value, keep, yaml11, (*path, text), unset_nulls)
        return result
    return None


class Placeholder(str):
    """A templated value: never reported as a wrong value."""

    __slots__ = ()


def _text(node: Node) -> str:
    return node.source.text[node.start : node.end]


def parse(source: SourceText) -> list[Node]:
    """The documents of ``source``; ``YamlError`` when it is not YAML, ``AliasingError``
    when go-yaml would refuse its aliases."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError, YAMLFutureWarning, YAMLWarning
    from ruamel.yaml.reader import ReaderError

    from tlslint.sources.apigee.aliasing import AliasMarkingComposer, check_document
    from tlslint.sources.apigee.tabs import GoYamlTabsScanner

    source.break_lines_at_cr()  # positions as ruamel (and go-yaml) count lines
    _check_flow_depth(source)
    # Only nodes and their marks are used (fixes are text edits; suppression comments
    # are found in the text): the safe composer skips the round-trip scanner's comment
    # bookkeeping, a fifth of the time at 1,000 virtual hosts.
    yaml = YAML(typ="safe", pure=True)
    yaml.Scanner = GoYamlTabsScanner  # tabs where helm and kubectl take them
    yaml.Composer = AliasMarkingComposer  # aliases kept apart, to be counted
    try:
        with warnings.catch_warnings():
            # e.g. an anchor defined twice (valid YAML: the later one counts): ruamel
            # would print a Python warning with its own source line to stderr.
            warnings.simplefilter("ignore", YAMLWarning)
            warnings.simplefilter("ignore", YAMLFutureWarning)
            composed = list(yaml.compose_all(source.text))
        if yaml.composer.aliases:
            # The whole of each document, as go-yaml reads it: what it refuses is not read.
            for document in composed:
                check_document(document, source)
        return _Builder(source).documents(composed)
    except MarkedYAMLError as error:
        raise _marked(error, source.text) from None
    except ReaderError as error:
        line, column = source.position(min(int(error.position), len(source.text)))
        raise YamlError(line, column, _reader_problem(error.character)) from None
    except YAMLError as error:
        raise YamlError(0, 0, str(error).splitlines()[0] if str(error) else type(error).__name__) from None
    except RecursionError:
        line, column = _deepest_line(source)
        raise YamlError(line, column, "nested too deeply to read") from None


def _reader_problem(character: Any) -> str:
    """ruamel gives the offending character as its code point."""
    code = character if isinstance(character, int) else ord(str(character)[:1] or "\0")
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by surrogateescape
        return f"byte 0x{code - 0xDC00:02x} is not UTF-8 (YAML files are UTF-8)"
    return f"character U+{code:04X} is not allowed in YAML"


# Brackets, and the quoted strings and comments in which they do not count; group 1
# is a double quote that does not close on its line.
_FLOW_TOKEN = re.compile(
    r"""[\[\]{}]|"(?:[^"\\\n]|\\.)*"|(")|'(?:[^'\n]|'')*'|(?:^|(?<=[ \t]))#[^\n]*""", re.M
)
# The same, where no double quote can close: after one that did not, on its line.
_FLOW_TOKEN_NO_DOUBLE = re.compile(r"""[\[\]{}]|'(?:[^'\n]|'')*'|(?:^|(?<=[ \t]))#[^\n]*""", re.M)
# A line's indentation with its compact sequence entries ("- - - x").
_BLOCK_INDENT = re.compile(r"^(?:[ \t]*-(?=[ \t]))*[ \t]*(?=[^\s#])", re.M)


def _flow_tokens(text: str) -> Iterator[re.Match[str]]:
    """``_FLOW_TOKEN`` matches, in linear time.

    Once a double quote fails to close on its line, every later one on that line
    fails too (each unescaped quote would have closed the first); trying each
    again would scan to the end of the line every time, quadratic in
    ``"\"\"\"...``. The rest of that line is scanned without them.
    """
    position = 0
    while True:
        for match in _FLOW_TOKEN.finditer(text, position):
            if match.lastindex != 1:
                yield match
                continue
            line_end = text.find("\n", match.end())
            position = len(text) if line_end == -1 else line_end
            yield from _FLOW_TOKEN_NO_DOUBLE.finditer(text, match.end(), position)
            break
        else:
            return


def _deepest_line(source: SourceText) -> tuple[int, int]:
    """Where block nesting is deepest, roughly (the line whose content starts furthest
    right): the place to report when the parser ran out of stack."""
    deepest = max(_BLOCK_INDENT.finditer(_lf_text(source)), key=lambda m: m.end() - m.start(), default=None)
    return source.position(deepest.end()) if deepest is not None else (0, 0)


def _lf_text(source: SourceText) -> str:
    """The text with each CR as an LF, for patterns that find lines by LF (a comment runs
    to the end of its line): the same offsets, a line break where YAML sees one."""
    return source.text.replace("\r", "\n") if source.cr_breaks else source.text


def _check_flow_depth(source: SourceText) -> None:
    """Refuse deep flow nesting before the parser sees it: ruamel's scanner slows
    down with the square of the flow depth, and its composer recurses."""
    depth = 0
    for match in _flow_tokens(_lf_text(source)):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                line, column = source.position(match.start())
                raise YamlError(line, column, f"nested more than {MAX_DEPTH} levels deep")
        elif token in "]}":
            depth = max(depth - 1, 0)


def _marked(error: Any, text: str) -> YamlError:
    mark = error.problem_mark or error.context_mark
    tab = mark is not None and text.startswith("\t", mark.index)
    if tab and "cannot start any token" in str(error.problem):
        return YamlError(mark.line + 1, mark.column + 1, _tab_problem(text, mark.index))
    problem = (error.problem or error.context or "not valid YAML").strip()
    message = problem
    if error.context and error.problem:
        context = error.context.strip()
        where = error.context_mark
        if where is not None and (mark is None or where.line != mark.line):
            context += f" started at line {where.line + 1}"
        message = f"{problem} ({context})"
    if mark is None:
        return YamlError(0, 0, message)
    return YamlError(mark.line + 1, mark.column + 1, message)


def _tab_problem(text: str, offset: int) -> str:
    """A tab where go-yaml refuses one too (the others are read: ``tabs.py``)."""
    before = text[max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1 : offset].rstrip(" \t")
    if not before:
        return "a tab in the indentation: YAML indents with spaces (helm and kubectl refuse it too)"
    return f"a tab after `{before[-1]}`, where YAML needs a space (helm and kubectl refuse it too)"


class _Builder:
    def __init__(self, source: SourceText) -> None:
        self.source = source
        self.memo: dict[int, Node] = {}

    def documents(self, composed: list[Any]) -> list[Node]:
        return [self.node(document, 0) for document in composed if document is not None]

    def node(self, composed: Any, depth: int) -> Node:
        from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

        from tlslint.sources.apigee.aliasing import AliasRef

        if isinstance(composed, AliasRef):
            composed = composed.target  # built once, where its anchor is
        known = self.memo.get(id(composed))
        if known is not None:
            _mark_shared(known)
            return known
        start, end = composed.start_mark.index, composed.end_mark.index
        if depth > MAX_DEPTH:
            line, column = self.source.position(start)
            raise YamlError(line, column, f"nested more than {MAX_DEPTH} levels deep")
        tag = str(composed.tag)
        text = self.source.text
        if isinstance(composed, ScalarNode):
            raw = str(composed.value)
            node: Node = Scalar(self.source, start, end, tag, raw, composed.style, _value(tag, raw))
        elif isinstance(composed, (MappingNode, SequenceNode)) and text.startswith("{{", start):
            # Helm's `{{ .Values.x }}` reads as a flow mapping holding a flow mapping.
            node = Scalar(self.source, start, end, TEMPLATE, text[start:end], None, text[start:end])
        elif isinstance(composed, SequenceNode):
            seq = Seq(self.source, start, end, tag, bool(composed.flow_style))
            self.memo[id(composed)] = seq
            seq.items = [self.node(item, depth + 1) for item in composed.value]
            for item in seq.items:
                if item.parent is None and item is not seq:
                    item.parent = seq
            node = seq
        elif isinstance(composed, MappingNode):
            mapping = Map(self.source, start, end, tag, bool(composed.flow_style))
            self.memo[id(composed)] = mapping
            for key, value in composed.value:
                pair = Pair(self.node(key, depth + 1), self.node(value, depth + 1))
                for part in (pair.key, pair.value):
                    if part.parent is None and part is not mapping:
                        part.parent = mapping
                if pair.key.tag == MERGE:
                    _mark_shared(pair.value)
                mapping.pairs.append(pair)
            node = mapping
        else:  # pragma: no cover - the composer makes only these three
            raise YamlError(0, 0, f"unexpected YAML node {type(composed).__name__}")
        self.memo[id(composed)] = node
        return node


def _mark_shared(node: Node) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if current.shared:
            continue
        current.shared = True
        stack.extend(current.children())


_INT_BASES = (("0o", 8), ("0x", 16), ("0b", 2))


def _value(tag: str, raw: str) -> Any:
    """The Python value of a resolved scalar (YAML 1.2 core schema, as ruamel resolves it)."""
    try:
        if tag == INT:
            text = raw.replace("_", "")
            sign = -1 if text.startswith("-") else 1
            digits = text.lstrip("+-")
            for prefix, base in _INT_BASES:
                if digits.lower().startswith(prefix):
                    return sign * int(digits[2:], base)
            return sign * int(digits, 10)
        if tag == FLOAT:
            lowered = raw.lower().replace("_", "")
            if lowered.lstrip("+-") in (".inf",):
                return float("-inf") if lowered.startswith("-") else float("inf")
            if lowered == ".nan":
                return float("nan")
            return float(lowered)
        if tag == BOOL:
            return raw.lower() in ("true", "yes", "on", "y")
        if tag == NULL:
            return None
    except ValueError:
        return raw
    return raw
