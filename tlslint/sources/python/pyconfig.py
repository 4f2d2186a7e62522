"""Python app-server configuration, read with libcst: parsed, never imported or run.

A pull-request check must not execute code from the pull request, so a
``gunicorn.conf.py`` is read as a syntax tree:

* gunicorn and hypercorn Python configs: module-level assignments
  (``bind = "0.0.0.0:8000"``, ``keepalive = 5``, ``keep_alive_timeout = 10``).
  A value is *static* when it is a literal (numbers, strings, lists of them,
  arithmetic on numbers) assigned unconditionally; anything else (an
  environment variable, a function call, an assignment under ``if``/``try``,
  an import, a ``from settings import *`` after which the name is not set
  again) is kept as computed, and reported as not verifiable. So is every name
  that a write to the module's namespace may bind (``globals().update(d)``,
  ``locals()[key] = v``, ``setattr(sys.modules[__name__], k, v)``, ``exec(...)``,
  the namespace handed to a function): gunicorn reads the namespace the module
  leaves. What ``if __name__ == "__main__":`` runs binds nothing there: gunicorn
  runs its config as module ``__config__``.
* hypercorn serve scripts: ``config.bind = [...]`` / ``config.keep_alive_timeout = 5``
  on a ``hypercorn.config.Config`` object.
* ``uvicorn.run(...)`` and ``uvicorn.Config(...)`` calls: their keyword
  arguments (``host``, ``port``, ``uds``, ``timeout_keep_alive``); ``**kwargs``
  may set any of them, so those not written are then unknown.

libcst costs about 0.4 s to import, so it is imported here, when a Python
config is in scope, and never by ``tlslint.sources.python`` itself.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from tlslint.findings import Edit, Location
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python.model import PYTHON, Addition, Backend, LoadedFile, Problem, Value
from tlslint.sources.python.servers import (
    GUNICORN,
    GUNICORN_WHOLE_NUMBERS,
    HYPERCORN,
    KEEPALIVE,
    SERVER_FACTS,
    UVICORN,
    gunicorn_pos_int,
)
from tlslint.sources.text import brief, human_size

if TYPE_CHECKING:
    from collections.abc import Mapping

PYTHON_KIND = "python"
_PYTHON_NEWLINE = re.compile(r"\r\n?|\n")
# Positional parameters of uvicorn.Config(app, host, port, uds, fd, ...); uvicorn.run's are keyword-only.
_CONFIG_POSITIONAL = ("app", "host", "port", "uds", "fd")


class PythonSyntaxError(Exception):
    def __init__(self, line: int, message: str, python_reads: bool = False) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.python_reads = python_reads  # the text is Python: tlslint cannot read it

    def problem(self, not_python: str) -> str:
        return f"not read: {self.message}" if self.python_reads else f"{not_python}: {self.message}"


# libcst reads about 30 KiB of Python a second and holds 1.6 GB for a MiB: an app-server
# file (a gunicorn config, a module that calls uvicorn.run) longer than this is refused
# unread. Real ones are a few KiB.
MAX_PYTHON_CHARS = 128 * 1024
# How deep a config's syntax tree may nest. libcst's native parser overflows the C
# stack (the process dies on SIGSEGV) a few thousand levels down, and its visitors,
# and ours, recurse in Python a few frames a level; real configs nest a dozen levels.
MAX_NESTING = 100
# How deep it may go counting each link of a chain (`a + b + c`, `elif`, `'a' 'b'`) as a
# level, as libcst's tree does. Python compiles such chains a few thousand links long;
# libcst refuses an implicit concatenation of some 3,400 literals, its position metadata
# recurses about 4 frames a level (Python's default limit is 1,000 frames), and it reads
# 128 KiB of 1,000-link chains in 50 s, of 500-link ones in 26 s, as long as 128 KiB of
# 90-link ones (which a nesting of 100 let through) or of plain `x = a[0]` lines.
MAX_DEPTH = 500
# The recursion limit while libcst's tree of a config is read: room for MAX_DEPTH levels
# at up to 10 frames each, on far less C stack than a thread has (3.11 recurses in C for
# a generator's next(), which libcst's position metadata calls a level).
_RECURSION_LIMIT = 10 * MAX_DEPTH + 2000


def parse(text: str, bom: bool = False) -> cst.Module:
    """``text`` (``bom``: the file starts with a UTF-8 byte-order mark) read by libcst."""
    return _parse(text, bom)[0]


def _parse(text: str, bom: bool) -> tuple[cst.Module, int]:
    """libcst's tree of ``text``, and how deep it goes (see ``_Depths``)."""
    text = _readable(text, bom)
    refused, depth = _refuse_deep_nesting(text)
    try:
        with _recursion_room(depth):
            return cst.parse_module(text), depth
    except cst.ParserSyntaxError as error:
        if refused is not None:  # CPython's words and line: libcst's point past the error
            raise PythonSyntaxError(refused.lineno or 0, refused.msg) from None
        message = str(error.message).strip().splitlines()[0] if error.message else "invalid syntax"
        at = _LIBCST_AT.search(message)
        line = int(at.group(1)) if at else error.raw_line
        if depth >= 0:  # CPython read it: it is Python, which libcst does not read
            message = f"valid Python that libcst, tlslint's Python parser, does not read: {message}"
            raise PythonSyntaxError(line, message, python_reads=True) from None
        raise PythonSyntaxError(line, message) from None
    except (ValueError, UnicodeError) as error:
        raise PythonSyntaxError(0, str(error)) from None


@contextmanager
def _recursion_room(depth: int) -> Iterator[None]:
    """Room for libcst and the visitors here to recurse through a tree ``depth`` levels
    deep: the interpreter's recursion limit, raised while they do and put back after."""
    before = sys.getrecursionlimit()
    wanted = min(10 * depth + 2000, _RECURSION_LIMIT)
    if wanted > before:
        sys.setrecursionlimit(wanted)
    try:
        yield
    finally:
        if wanted > before:
            sys.setrecursionlimit(before)


_LIBCST_AT = re.compile(r"error at (\d+):\d+")
# PEP 263: a comment on the first line, or on the second under a first that holds only a
# comment or blanks, names the file's encoding; CPython's tokenizer reads it so (ASCII names).
_CODING = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.ASCII)
_BLANK_OR_COMMENT = re.compile(r"[ \t\f]*(?:#|$)")
_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes the UTF-8 reading could not decode
_NOT_ASCII = re.compile(r"[^\x00-\x7f]+")


def _readable(text: str, bom: bool = False) -> str:
    """``text`` as libcst can read it, one character for one, or ``PythonSyntaxError``
    where Python refuses the file's encoding (PEP 263) as CPython's tokenizer does: a
    declared encoding it does not know, a byte-order mark with a declaration other than
    UTF-8, bytes the declared encoding (else UTF-8) cannot decode. A byte that is not
    UTF-8 was kept as a lone surrogate (so that a fix writes it back), which libcst
    refuses: Python reads such a file only under a declaration of an encoding it fits."""
    declared = _declared_encoding(text)
    if declared is not None:
        name, line = declared
        normal = _normal_encoding(name)
        if bom and normal != "utf-8":
            message = f"a UTF-8 byte-order mark and a {name} encoding declared (PEP 263): Python refuses it"
            raise PythonSyntaxError(line, f"{message} (encoding problem: {normal} with BOM)")
        if normal != "utf-8":
            return _declared_reading(text, name, normal, line)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError as error:
        first = error.start
    line = len(_PYTHON_NEWLINE.findall(text, 0, first)) + 1
    byte = ord(text[first]) - 0xDC00
    if declared is not None:
        raise PythonSyntaxError(line, f"byte 0x{byte:02x} is not {declared[0]}, the encoding it declares")
    message = f"byte 0x{byte:02x} is not UTF-8 and the file declares no encoding (PEP 263)"
    raise PythonSyntaxError(line, f"{message}: Python refuses it")


def _declared_reading(text: str, name: str, normal: str, line: int) -> str:
    """``text`` for libcst when the file declares an encoding other than UTF-8: Python
    decodes the whole file with it, and refuses the file if that fails."""
    data = text.encode("utf-8", "surrogateescape")
    try:
        decoded = data.decode(normal)
    except UnicodeDecodeError as error:
        where = len(_PYTHON_NEWLINE.findall(data[: error.start].decode("latin-1"))) + 1
        bad = data[error.start]
        raise PythonSyntaxError(where, f"byte 0x{bad:02x} is not {name}, the encoding it declares") from None
    except LookupError:  # no such codec, or not a text encoding ("hex")
        raise PythonSyntaxError(line, f"unknown encoding {name!r}") from None
    except (UnicodeError, ValueError) as error:  # a codec's own failure ("undefined", "punycode")
        message = f"the {name} encoding it declares does not decode it: {error}"
        raise PythonSyntaxError(line, message) from None
    if _NOT_ASCII.sub("", decoded) != _NOT_ASCII.sub("", text):
        # utf-16, EBCDIC, a multibyte encoding whose bytes may be ASCII ones: the code is
        # not what UTF-8 reads, and tlslint reads UTF-8.
        message = f"declares {name} (PEP 263), in which its code reads other than in UTF-8"
        raise PythonSyntaxError(line, f"{message}; tlslint reads encodings that keep ASCII as it is")
    return _UNDECODED.sub("\ufffd", text)  # in comments and strings tlslint does not read


def _declared_encoding(text: str) -> tuple[str, int] | None:
    """The encoding a PEP 263 comment declares, as written, and its line."""
    for number, line in enumerate(_PYTHON_NEWLINE.split(text, 2)[:2], 1):
        match = _CODING.match(line)
        if match:
            return match.group(1), number
        if not _BLANK_OR_COMMENT.match(line):
            return None  # code on the first line: the second declares nothing
    return None


def _normal_encoding(name: str) -> str:
    """The name CPython's tokenizer gives a declared encoding (``get_normal_name``)."""
    key = name[:12].lower().replace("_", "-")
    if key == "utf-8" or key.startswith("utf-8-"):
        return "utf-8"
    latin = ("latin-1", "iso-8859-1", "iso-latin-1")
    if key in latin or key.startswith(tuple(f"{each}-" for each in latin)):
        return "iso-8859-1"
    return name


def _refuse_deep_nesting(text: str) -> tuple[SyntaxError | None, int]:
    """``PythonSyntaxError`` for text nested deeper than ``MAX_NESTING``, or deeper than
    ``MAX_DEPTH`` counting each link of a chain, told first by CPython's parser (which
    bounds nesting itself, with an error and no crash), then by an iterative walk of its
    tree. Else the syntax error libcst is left to tell (it reads newer grammar than this
    interpreter may), and how deep libcst's tree of the text goes: -1 when CPython did
    not read it."""
    try:
        tree = ast.parse(text)
    except (RecursionError, MemoryError) as error:
        # CPython's own parser gives up (on `1 + 1 + ...` 5,000 terms long, in 3.11 and
        # 3.12; 3.10 and 3.13 read it): this Python refuses the file.
        words = str(error) or "out of memory"
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        raise PythonSyntaxError(_first_line_refused(text), f"Python {version} refuses it: {words}") from None
    except SyntaxError as error:
        if "too many" in str(error.msg):  # nested parentheses, levels of indentation
            raise PythonSyntaxError(error.lineno or 0, str(error.msg)) from None
        return error, -1
    except ValueError:  # a NUL byte: libcst says it too
        return None, -1
    depth = _Depths(text).walk(tree)
    _refuse_uncompilable(tree)
    return None, depth


def _refuse_uncompilable(tree: ast.Module) -> None:
    """``PythonSyntaxError`` for a tree CPython parses but refuses to compile (``break``
    outside a loop, a keyword argument given twice, ``return`` at module level): the app
    server cannot import the file. Compiled, never run; only the tree of an app-server
    file is, bounded in depth by ``_Depths``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning ("\\d" in a string) is not ours to print
            compile(tree, "<config>", "exec", dont_inherit=True)
    except SyntaxError as error:
        raise PythonSyntaxError(
            error.lineno or 0, f"{error.msg} (a SyntaxError when Python compiles it)"
        ) from None
    except (RecursionError, MemoryError, ValueError):  # not a verdict on the file
        return


def _first_line_refused(text: str) -> int:
    """The first line through which CPython's parser gives up on the text, or 0."""
    ends = [match.end() for match in _PYTHON_NEWLINE.finditer(text)] + [len(text)]
    low, high = 0, len(ends) - 1
    if not _parser_gives_up(text[: ends[high]]):
        return 0
    while low < high:  # the shortest run of first lines on which it gives up
        middle = (low + high) // 2
        if _parser_gives_up(text[: ends[middle]]):
            high = middle
        else:
            low = middle + 1
    return low + 1


def _parser_gives_up(text: str) -> bool:
    try:
        ast.parse(text)
    except (RecursionError, MemoryError):
        return True
    except (SyntaxError, ValueError):
        return False
    return False


class _Depths:
    """How deep a module's syntax tree goes, in two measures: its nesting (brackets,
    blocks, operands in other expressions) and its depth as libcst builds it, where each
    link of a chain is a level too: `a + b + c` is an addition inside an addition, as
    are `a and b and c`, `x.y.z`, `f()()`, `- - 1`, each `elif`, and each literal of an
    implicit concatenation `'a' 'b' 'c'`. A chain is flat in the text, and flat to
    CPython's parser, but libcst and the visitors over its tree recurse a few frames a level."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._lines: list[bytes] | None = None

    def walk(self, tree: ast.AST) -> int:
        deepest = 0
        pieces: set[int] = set()
        stack: list[tuple[ast.AST, int, int, int]] = [(tree, 0, 0, 0)]  # node, nesting, depth, line
        while stack:
            node, nesting, depth, line = stack.pop()
            line = getattr(node, "lineno", line)
            if id(node) in pieces:
                pieces.discard(id(node))  # a piece of an f-string, counted with it
            elif isinstance(node, ast.JoinedStr) or (
                isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))
            ):
                depth += self._concatenated(node, depth) - 1
            if isinstance(node, ast.JoinedStr):
                pieces.update(id(value) for value in node.values if isinstance(value, ast.Constant))
            if nesting > MAX_NESTING:
                message = f"nested more than {MAX_NESTING} levels deep: tlslint reads no deeper"
                raise PythonSyntaxError(line, message, python_reads=True)
            if depth > MAX_DEPTH:
                message = (
                    f"more than {MAX_DEPTH:,} levels deep, counting each link of a chain"
                    " (`a + b + ...`, `elif`, `x.y.z`, `'a' 'b'`) as a level: tlslint reads no deeper"
                )
                raise PythonSyntaxError(line, message, python_reads=True)
            deepest = max(deepest, depth)
            chained = _chain_links(node)
            extra = len(node.values) - 1 if isinstance(node, ast.BoolOp) else 0
            for child in ast.iter_child_nodes(node):
                if id(child) in chained:
                    stack.append((child, nesting, depth + 1, line))
                else:
                    stack.append((child, nesting + 1, depth + 1 + extra, line))
        return deepest

    def _concatenated(self, node: ast.expr, depth: int) -> int:
        """How many literals the string ``node`` concatenates (at most, for a long one)."""
        start, end = node.lineno, node.end_lineno or node.lineno
        if start == end and (node.end_col_offset or 0) - node.col_offset < 2 * (MAX_DEPTH - depth):
            return 1  # too short to hold that many literals ('a' is 3 characters)
        if self._lines is None:
            self._lines = self.text.encode("utf-8", "surrogateescape").splitlines(keepends=True)
        lines = self._lines[start - 1 : end]
        if not lines:
            return 1
        lines[-1] = lines[-1][: node.end_col_offset]
        lines[0] = lines[0][node.col_offset :]
        segment = b"".join(lines)
        if len(segment) < 2 * (MAX_DEPTH - depth):
            return 1
        return _string_tokens(b"(" + segment + b")")


def _chain_links(node: ast.AST) -> set[int]:
    """The children of ``node`` that continue a chain it is a link of (by id)."""
    if isinstance(node, ast.BinOp):
        return {id(side) for side in (node.left, node.right) if isinstance(side, ast.BinOp)}
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.UnaryOp):
        return {id(node.operand)}
    if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(
        node.value, (ast.Attribute, ast.Subscript, ast.Call)
    ):
        return {id(node.value)}
    if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Subscript, ast.Call)):
        return {id(node.func)}
    if isinstance(node, ast.IfExp) and isinstance(node.orelse, ast.IfExp):
        return {id(node.orelse)}  # a if x else b if y else c
    if isinstance(node, ast.If) and len(node.orelse) == 1:
        elif_ = node.orelse[0]
        if isinstance(elif_, ast.If) and elif_.col_offset == node.col_offset:  # elif, not else: if
            return {id(elif_)}
    return set()


def _string_tokens(code: bytes) -> int:
    """The string literals (f-strings among them) in ``code``."""
    kinds = {tokenize.STRING, getattr(tokenize, "FSTRING_START", tokenize.STRING)}
    try:
        return sum(token.type in kinds for token in tokenize.tokenize(io.BytesIO(code).readline))
    except (tokenize.TokenError, SyntaxError, ValueError, UnicodeError):
        return len(code) // 2  # the most a text that long holds


# --------------------------------------------------------------------------- positions


@dataclass
class _Positions:
    source: SourceText
    ranges: Mapping[cst.CSTNode, CodeRange]

    def offset(self, line: int, column: int) -> int:
        return self._line_starts[line - 1] + column

    @cached_property
    def _line_starts(self) -> list[int]:
        """Where libcst's lines start: like Python, it ends a line at CR as well as LF
        (a CR-only file is one line to ``SourceText``)."""
        return [0, *(match.end() for match in _PYTHON_NEWLINE.finditer(self.source.text))]

    def span(self, node: cst.CSTNode) -> tuple[int, int]:
        rng = self.ranges[node]
        return self.offset(rng.start.line, rng.start.column), self.offset(rng.end.line, rng.end.column)

    def location(self, node: cst.CSTNode) -> Location:
        rng = self.ranges[node]
        return Location(
            self.source.path, rng.start.line, rng.start.column + 1, rng.end.line, rng.end.column + 1
        )

    def line(self, node: cst.CSTNode) -> int:
        return self.ranges[node].start.line

    def value(self, name: str, node: cst.BaseExpression, statement: cst.CSTNode, reason: str = "") -> Value:
        start, end = self.span(node)
        code = self.source.text[start:end]
        ok, evaluated = literal(node)
        static = ok and not reason
        if not ok and not reason and isinstance(node, (cst.Integer, cst.Float)):
            reason = f"a number too long to read ({len(node.value):,} characters)"
        if not static and not reason:
            reason = f"computed at run time: {_short(code)}"
        return Value(
            name=name,
            value=evaluated if static else None,
            static=static,
            text=code,
            location=self.location(node),
            start=start if static else -1,
            end=end if static else -1,
            style=PYTHON,
            statement_line=self.line(statement),
            reason=reason,
        )

    def opaque(self, name: str, node: cst.CSTNode, reason: str) -> Value:
        start, end = self.span(node)
        return Value(
            name, None, False, self.source.text[start:end], self.location(node),
            statement_line=self.line(node), reason=reason,
        )  # fmt: skip


def _short(code: str) -> str:
    return brief(" ".join(code.split()), 60)


# --------------------------------------------------------------------------- literals


def literal(node: cst.BaseExpression) -> tuple[bool, Any]:
    """(True, value) for a literal this module can evaluate without running code."""
    if isinstance(node, (cst.Integer, cst.Float)):
        try:
            return True, ast.literal_eval(node.value)
        except (ValueError, SyntaxError):  # past the 4,300 digits Python converts
            return False, None
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = node.evaluated_value
        return (True, value) if isinstance(value, str) else (False, None)
    if isinstance(node, cst.Name) and node.value in ("True", "False", "None"):
        return True, {"True": True, "False": False, "None": None}[node.value]
    if isinstance(node, (cst.List, cst.Tuple)):
        items = []
        for element in node.elements:
            if not isinstance(element, cst.Element):
                return False, None
            ok, value = literal(element.value)
            if not ok:
                return False, None
            items.append(value)
        return True, items
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, (cst.Minus, cst.Plus)):
        ok, value = literal(node.expression)
        if ok and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, -value if isinstance(node.operator, cst.Minus) else value
        return False, None
    if isinstance(node, cst.BinaryOperation):
        left_ok, left = literal(node.left)
        right_ok, right = literal(node.right)
        if not (left_ok and right_ok):
            return False, None
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
        operator = node.operator
        try:
            if isinstance(operator, cst.Add) and (
                numbers or (isinstance(left, str) and isinstance(right, str))
            ):
                return True, left + right
            if numbers and isinstance(operator, cst.Subtract):
                return True, left - right
            if numbers and isinstance(operator, cst.Multiply):
                return True, left * right
            if numbers and isinstance(operator, cst.Divide):
                return True, left / right
            if numbers and isinstance(operator, cst.FloorDivide):
                return True, left // right
        except ZeroDivisionError:
            return False, None
    return False, None


# --------------------------------------------------------------------------- module assignments


@dataclass
class _Assignment:
    name: str
    value: cst.BaseExpression | None  # None: bound by an import, a def, an unpacking...
    conditional: bool
    statement: cst.CSTNode  # the SimpleStatementLine (or compound statement)
    order: int
    top_level: bool  # a statement of the module body itself (an addition may follow it)
    reason: str = ""


@dataclass
class _AttributeAssignment:
    base: str  # `config` in config.bind = ...
    attribute: str
    value: cst.BaseExpression
    conditional: bool
    statement: cst.SimpleStatementLine
    order: int


@dataclass(frozen=True)
class _Writer:
    """A statement that writes the module's namespace without naming what it binds:
    ``globals().update(d)``, ``locals()[key] = v``, ``setattr(sys.modules[__name__], k, v)``,
    ``exec(code)``. gunicorn and hypercorn read the module's namespace after running it,
    so what it writes is their setting, and what it writes is not known without running it."""

    order: int
    names: frozenset[str] | None  # the names it may bind; None: any
    statement: cst.CSTNode  # the small statement that writes
    called: cst.CSTNode | None = None  # a call of the function whose body writes


@dataclass
class _Scan:
    names: dict[str, _Assignment] = field(default_factory=dict)  # the last binding of each name
    stars: list[tuple[int, str, cst.CSTNode]] = field(default_factory=list)  # (order, module, statement)
    writers: list[_Writer] = field(default_factory=list)
    attributes: list[_AttributeAssignment] = field(default_factory=list)
    top_statements: list[cst.SimpleStatementLine] = field(default_factory=list)
    order: int = 0


def _is_main_guard(test: cst.BaseExpression) -> bool:
    """``if __name__ == "__main__":``: runs when the file is run as a script, never when a
    server reads it as its config or imports it as the app."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    sides = [test.left, target.comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    return isinstance(target.operator, cst.Equal) and len(names) == 1 and len(strings) == 1


def _body(node: cst.BaseSuite) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    if isinstance(node, cst.IndentedBlock):
        return node.body
    if isinstance(node, cst.SimpleStatementSuite):
        return node.body
    return ()


def _module_name(node: cst.ImportFrom) -> str:
    dots = "." * len(node.relative)
    if node.module is None:
        return dots
    return dots + cst.Module([]).code_for_node(node.module)


# Methods of a namespace (a dict, or a module) that only read it.
_READS = frozenset(
    {
        "get",
        "items",
        "keys",
        "values",
        "copy",
        "__getitem__",
        "__contains__",
        "__len__",
        "__iter__",
        "__dict__",
    }
)
# Builtins that read an object passed to them (``dict(globals())``), never write it.
_READERS = frozenset(
    {"dict", "list", "tuple", "set", "sorted", "len", "print", "repr", "str", "id", "iter", "type"}
)


def _key(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


class _NamespaceWrites(cst.CSTVisitor):
    """The namespace writes of one statement: each the names it may bind (None: any), and
    the names bound to the namespace itself (``g = globals()``)."""

    def __init__(self, in_function: bool, aliases: set[str]) -> None:
        self.in_function = in_function
        self.aliases = aliases
        self.writes: list[frozenset[str] | None] = []
        self.calls: list[tuple[str, cst.Call]] = []  # functions called by name

    def namespace(self, node: cst.BaseExpression) -> bool:
        """``globals()``, ``locals()`` / ``vars()`` outside a function, ``sys.modules[__name__]``
        (and its ``__dict__``, ``vars()`` of it), or a name bound to one of them."""
        if isinstance(node, cst.Name):
            return node.value in self.aliases
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name):
            name = node.func.value
            if not node.args:
                return name == "globals" or (name in ("locals", "vars") and not self.in_function)
            return name == "vars" and len(node.args) == 1 and self.namespace(node.args[0].value)
        if isinstance(node, cst.Attribute) and node.attr.value == "__dict__":
            return self.namespace(node.value)
        if isinstance(node, cst.Subscript) and len(node.slice) == 1:
            modules = node.value
            index = node.slice[0].slice
            return (
                isinstance(modules, cst.Attribute)
                and modules.attr.value == "modules"
                and isinstance(modules.value, cst.Name)
                and modules.value.value == "sys"
                and isinstance(index, cst.Index)
                and (
                    (isinstance(index.value, cst.Name) and index.value.value == "__name__")
                    or _key(index.value) is not None
                )
            )
        return False

    def target(self, node: cst.BaseExpression) -> None:
        if isinstance(node, cst.Subscript) and self.namespace(node.value):
            index = node.slice[0].slice if len(node.slice) == 1 else None
            key = _key(index.value) if isinstance(index, cst.Index) else None
            self.writes.append(frozenset({key}) if key is not None else None)
        elif isinstance(node, cst.Attribute) and self.namespace(node.value):
            self.writes.append(frozenset({node.attr.value}))
        elif isinstance(node, (cst.Tuple, cst.List)):
            for element in node.elements:
                self.target(element.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for each in node.targets:
            self.target(each.target)
        first = node.targets[0].target
        if len(node.targets) == 1 and isinstance(first, cst.Name) and self.namespace(node.value):
            self.aliases.add(first.value)  # g = globals()

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self.target(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self.target(node.target)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        args = [a for a in node.args if not a.star and a.keyword is None]
        if isinstance(func, cst.Attribute) and self.namespace(func.value):
            method = func.attr.value
            if method in _READS:
                return
            names: frozenset[str] | None = None
            if method == "update":
                names = _update_names(node)
            elif method in ("__setitem__", "setdefault", "pop", "__delitem__") and args:
                key = _key(args[0].value)
                names = frozenset({key}) if key is not None else None
            self.writes.append(names)
            return
        if isinstance(func, cst.Name):
            name = func.value
            if name in ("setattr", "delattr") and args and self.namespace(args[0].value):
                key = _key(args[1].value) if len(args) > 1 else None
                self.writes.append(frozenset({key}) if key is not None else None)
                return
            if name == "exec":
                scope = node.args[1].value if len(node.args) > 1 else None
                if (scope is None and not self.in_function) or (scope is not None and self.namespace(scope)):
                    self.writes.append(None)
                return
            self.calls.append((name, node))
            if name in _READERS:
                return
        # The namespace handed to a function, which may write it: load_settings(globals()).
        if any(self.namespace(arg.value) for arg in node.args):
            self.writes.append(None)


def _update_names(call: cst.Call) -> frozenset[str] | None:
    """The keys ``ns.update({...})`` / ``ns.update(key=...)`` binds, when they are all written."""
    names: set[str] = set()
    for arg in call.args:
        if arg.keyword is not None:
            names.add(arg.keyword.value)
        elif not arg.star and isinstance(arg.value, cst.Dict):
            for element in arg.value.elements:
                key = _key(element.key) if isinstance(element, cst.DictElement) else None
                if key is None:
                    return None
                names.add(key)
        else:
            return None
    return frozenset(names)


def _scan(module: cst.Module) -> _Scan:
    scan = _Scan()
    aliases: set[str] = set()
    function_writes: dict[str, list[tuple[frozenset[str] | None, cst.CSTNode]]] = {}
    current: list[str] = []  # the module-level function being read
    main: list[bool] = []  # inside `if __name__ == "__main__":`

    def writes(stmt: cst.BaseSmallStatement, order: int, in_def: bool) -> None:
        found = _NamespaceWrites(in_def, aliases)
        stmt.visit(found)
        if main:
            return
        if in_def:
            if current and found.writes:
                function_writes.setdefault(current[0], []).extend((w, stmt) for w in found.writes)
            return
        scan.writers.extend(_Writer(order, names, stmt) for names in found.writes)
        for name, call in found.calls:  # a function whose body writes, called here
            for names, inner in function_writes.get(name, ()):
                scan.writers.append(_Writer(order, names, inner, call))

    def record(assignment: _Assignment) -> None:
        if not main:
            scan.names[assignment.name] = assignment

    def small(
        stmt: cst.BaseSmallStatement, line: cst.CSTNode, conditional: bool, top: bool, in_def: bool
    ) -> None:
        scan.order += 1
        order = scan.order
        writes(stmt, order, in_def)
        if isinstance(stmt, (cst.Assign, cst.AnnAssign)):
            targets = [t.target for t in stmt.targets] if isinstance(stmt, cst.Assign) else [stmt.target]
            value = stmt.value
            if value is None:
                return
            for target in targets:
                if isinstance(target, cst.Name) and not in_def:
                    record(_Assignment(target.value, value, conditional, line, order, top))
                elif isinstance(target, (cst.Tuple, cst.List)) and not in_def:
                    for element in target.elements:
                        if isinstance(element.value, cst.Name):
                            name = element.value.value
                            record(_Assignment(name, None, conditional, line, order, top, "unpacked"))
                elif (
                    isinstance(target, cst.Attribute)
                    and isinstance(target.value, cst.Name)
                    and isinstance(line, cst.SimpleStatementLine)
                ):
                    scan.attributes.append(
                        _AttributeAssignment(
                            target.value.value, target.attr.value, value, conditional, line, order
                        )
                    )
        elif isinstance(stmt, cst.AugAssign) and isinstance(stmt.target, cst.Name) and not in_def:
            record(_Assignment(stmt.target.value, None, conditional, line, order, top, "changed in place"))
        elif isinstance(stmt, cst.ImportFrom) and not in_def:
            source = _module_name(stmt)
            if isinstance(stmt.names, cst.ImportStar):
                scan.stars.append((order, source, line))
                return
            for alias in stmt.names:
                bound = alias.evaluated_alias or alias.evaluated_name
                reason = f"imported from {source}"
                record(_Assignment(bound, None, conditional, line, order, top, reason))

    def body(
        stmts: Sequence[cst.BaseStatement | cst.BaseSmallStatement],
        conditional: bool,
        top: bool,
        in_def: bool,
    ) -> None:
        for stmt in stmts:
            if isinstance(stmt, cst.SimpleStatementLine):
                if top:
                    scan.top_statements.append(stmt)
                for part in stmt.body:
                    small(part, stmt, conditional, top, in_def)
            elif isinstance(stmt, cst.BaseSmallStatement):
                small(stmt, stmt, conditional, False, in_def)
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                if not in_def:
                    scan.order += 1
                    reason = "defined by a def" if isinstance(stmt, cst.FunctionDef) else "a class"
                    record(_Assignment(stmt.name.value, None, conditional, stmt, scan.order, top, reason))
                if isinstance(stmt, cst.FunctionDef):
                    if not in_def:
                        current.append(stmt.name.value)
                    body(_body(stmt.body), False, False, True)
                    if not in_def:
                        current.pop()
            elif isinstance(stmt, cst.If):
                guard = _is_main_guard(stmt.test)
                if guard and not in_def:
                    # gunicorn runs its config as module __config__, hypercorn as module.name:
                    # what the guard runs never binds one of their settings (a serve script's
                    # `config.bind = ...` under it is read: the script runs as __main__).
                    main.append(True)
                    body(_body(stmt.body), conditional, False, in_def)
                    main.pop()
                else:
                    body(_body(stmt.body), True, False, in_def)
                orelse = stmt.orelse
                while orelse is not None:
                    body(_body(orelse.body), True, False, in_def)
                    orelse = orelse.orelse if isinstance(orelse, cst.If) else None
            elif isinstance(stmt, cst.With):
                body(_body(stmt.body), conditional, False, in_def)
            elif isinstance(stmt, (cst.For, cst.While)):
                body(_body(stmt.body), True, False, in_def)
                if stmt.orelse is not None:
                    body(_body(stmt.orelse.body), True, False, in_def)
            elif isinstance(stmt, cst.Try):
                body(_body(stmt.body), True, False, in_def)
                for handler in stmt.handlers:
                    body(_body(handler.body), True, False, in_def)
                for extra in (stmt.orelse, stmt.finalbody):
                    if extra is not None:
                        body(_body(extra.body), True, False, in_def)

    body(module.body, False, True, False)
    return scan


def _module_value(scan: _Scan, positions: _Positions, name: str) -> Value | str | None:
    """The value of a module-level name: a Value, None (never set), or why it is unknown."""
    assignment = scan.names.get(name)
    star = scan.stars[-1] if scan.stars else None
    after = max(assignment.order if assignment is not None else 0, star[0] if star is not None else 0)
    writer = next(
        (w for w in reversed(scan.writers) if w.order > after and (w.names is None or name in w.names)), None
    )
    if writer is not None:
        return _written(positions, name, writer)
    if assignment is None or (star is not None and star[0] > assignment.order):
        if star is not None:
            return f"`from {star[1]} import *` may set it"
        return None
    if assignment.value is None:
        return positions.opaque(name, assignment.statement, assignment.reason)
    reason = "assigned under a condition (if, try, for)" if assignment.conditional else ""
    return positions.value(name, assignment.value, assignment.statement, reason)


def _written(positions: _Positions, name: str, writer: _Writer) -> Value:
    """``name`` as a namespace write leaves it: unknown, placed at the write."""
    start, end = positions.span(writer.statement)
    code = _short(positions.source.text[start:end])
    where = f"line {positions.line(writer.statement)}"
    if writer.called is not None:
        where += f", run by the call on line {positions.line(writer.called)}"
    reason = f"possibly set by `{code}` ({where}), which tlslint does not run"
    return positions.opaque(name, writer.statement, reason)


# --------------------------------------------------------------------------- additions


def _after_line(source: SourceText, offset: int) -> tuple[int, str]:
    """Where a new line goes after the line holding ``offset``; the prefix it needs."""
    text = source.text
    end = text.find("\n", offset)
    if end == -1:
        return len(text), source.newline
    return end + 1, ""


def _indentation(source: SourceText, offset: int) -> str:
    text = source.text
    start = text.rfind("\n", 0, offset) + 1
    stop = start
    while stop < len(text) and text[stop] in " \t":
        stop += 1
    return text[start:stop]


def _module_addition(scan: _Scan, positions: _Positions, name: str, prefer: Sequence[str]) -> Addition:
    """A new ``name = {value}`` line: after the line of the first preferred setting
    that the module sets at its top level, else at the end of the file."""
    source = positions.source
    anchor: cst.SimpleStatementLine | None = None
    top_names = {
        a.name: a
        for a in scan.names.values()
        if a.top_level and isinstance(a.statement, cst.SimpleStatementLine) and a.value is not None
    }
    for wanted in prefer:
        found = top_names.get(wanted)
        if found is not None and isinstance(found.statement, cst.SimpleStatementLine):
            anchor = found.statement
            break
    if anchor is not None:
        offset, prefix = _after_line(source, positions.span(anchor)[1])
    else:
        text = source.text
        offset = len(text)
        prefix = source.newline if text and not text.endswith("\n") else ""
    newline = source.newline
    if prefix:
        return Addition(source.path, offset, f"{prefix}{name} = {{value}}")
    return Addition(source.path, offset, f"{name} = {{value}}{newline}")


def _keyword_addition(positions: _Positions, call: cst.Call, keyword: str) -> Addition | None:
    """``keyword={value}`` added as the call's last argument, in the call's own layout."""
    source = positions.source
    text = source.text
    args = list(call.args)
    if not args:
        return None
    last = args[-1]
    _, value_end = positions.span(last.value)
    _, call_end = positions.span(call)
    close = text.rfind(")", value_end, call_end)
    if close == -1:
        return None
    between = text[value_end:close]
    if "\n" not in between:
        # One line: `run(app, port=8000)` -> `run(app, port=8000, timeout_keep_alive=65)`.
        return Addition(source.path, value_end, f", {keyword}={{value}}")
    # One argument a line: a new line like the last argument's, with a trailing comma.
    last_start, _ = positions.span(last)
    line_start = text.rfind("\n", 0, last_start) + 1
    if text[line_start:last_start].strip():
        # Something precedes the last argument on its line (the parenthesis, other
        # arguments): the new one joins that line.
        return Addition(source.path, value_end, f", {keyword}={{value}}")
    indent = _indentation(source, last_start)
    extra: tuple[Edit, ...] = ()
    comma = last.comma
    if not isinstance(comma, cst.Comma):
        extra = (Edit(source.path, value_end, value_end, ","),)
    offset, prefix = _after_line(source, value_end)
    return Addition(source.path, offset, f"{prefix}{indent}{keyword}={{value}},{source.newline}", extra)


def _attribute_addition(
    positions: _Positions, statement: cst.SimpleStatementLine, base: str, attribute: str
) -> Addition:
    source = positions.source
    start, end = positions.span(statement)
    indent = _indentation(source, start)
    offset, prefix = _after_line(source, end)
    if prefix:
        return Addition(source.path, offset, f"{prefix}{indent}{base}.{attribute} = {{value}}")
    return Addition(source.path, offset, f"{indent}{base}.{attribute} = {{value}}{source.newline}")


# --------------------------------------------------------------------------- uvicorn calls


class _UvicornWalk(cst.CSTVisitor):
    """Names bound to the uvicorn module, and names bound to uvicorn.run / uvicorn.Config;
    and, in the same walk, every call that may be one of them (``X.run()``, ``X.Config()``,
    ``f()``), told apart once the whole module's imports are known, and the
    ``if __name__ == "__main__":`` blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.modules: set[str] = set()
        self.functions: dict[str, str] = {}
        self.calls: list[cst.Call] = []
        self.guards: list[cst.If] = []

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            if alias.evaluated_name == "uvicorn":
                self.modules.add(alias.evaluated_alias or "uvicorn")

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if _module_name(node) != "uvicorn" or isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if alias.evaluated_name in ("run", "Config"):
                self.functions[alias.evaluated_alias or alias.evaluated_name] = alias.evaluated_name

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) or (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.attr.value in ("run", "Config")
        ):
            self.calls.append(node)

    def visit_If(self, node: cst.If) -> None:
        if _is_main_guard(node.test):
            self.guards.append(node)


def _main_only_calls(module: cst.Module, guards: list[cst.If]) -> set[int]:
    """The calls (by id) that run only when the file is run as a script: in the body of
    ``if __name__ == "__main__":`` (not its else), or in a module-level function that only
    such a body calls (``def main(): uvicorn.run(...)`` ... ``if __name__ == "__main__": main()``).
    ``guards``: the module's ``if __name__ == "__main__":`` blocks."""
    guarded: set[int] = set()
    in_guard: set[int] = set()  # the Name nodes inside guard bodies

    class Inside(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            guarded.add(id(node))

        def visit_Name(self, node: cst.Name) -> None:
            in_guard.add(id(node))

    for guard in guards:
        guard.body.visit(Inside())
    functions = {stmt.name.value: stmt for stmt in module.body if isinstance(stmt, cst.FunctionDef)}
    uses: dict[str, list[bool]] = {name: [] for name in functions}  # each use: inside a guard?

    class Uses(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            for decorator in node.decorators:
                decorator.visit(self)
            node.params.visit(self)
            node.body.visit(self)
            return False  # its own name is no use

        def visit_Name(self, node: cst.Name) -> None:
            if node.value in uses:
                uses[node.value].append(id(node) in in_guard)

    if not functions:  # no use to look for
        return guarded
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            Uses().visit_FunctionDef(stmt)
        else:
            stmt.visit(Uses())
    for name, seen in uses.items():
        if seen and all(seen):
            functions[name].body.visit(Inside())
    return guarded


def _uvicorn_calls(module: cst.Module) -> Iterator[tuple[cst.Call, str, bool]]:
    """Each ``uvicorn.run()`` / ``uvicorn.Config()`` call, and whether it is under
    ``if __name__ == "__main__":`` (it runs only when the file is run as a script)."""
    # One walk for the imports, the calls and the guards: each walk of libcst's tree
    # costs about a fifth of reading a file.
    imports = _UvicornWalk()
    module.visit(imports)
    found: list[tuple[cst.Call, str]] = []
    for node in imports.calls:
        func = node.func
        if isinstance(func, cst.Attribute):
            assert isinstance(func.value, cst.Name)
            if func.value.value in imports.modules:
                found.append((node, func.attr.value))
        elif isinstance(func, cst.Name) and func.value in imports.functions:
            found.append((node, imports.functions[func.value]))
    guarded = _main_only_calls(module, imports.guards) if found else set()
    return iter([(node, function, id(node) in guarded) for node, function in found])


def _uvicorn_backend(positions: _Positions, call: cst.Call, function: str) -> Backend:
    facts = SERVER_FACTS[UVICORN]
    source = positions.source
    where = positions.location(call.func)
    label = f"uvicorn.{function}() ({source.path.name}:{where.line})"
    backend = Backend(UVICORN, source.path, label, where, files=[source.path])
    spread = False
    for index, arg in enumerate(call.args):
        if arg.star == "**":
            spread = True
            continue
        if arg.star == "*":
            spread = True
            continue
        if arg.keyword is not None:
            name = arg.keyword.value
        elif function == "Config" and index < len(_CONFIG_POSITIONAL):
            name = _CONFIG_POSITIONAL[index]
        else:
            continue
        canonical = facts.python_names.get(name)
        if canonical is not None:
            value = positions.value(name, arg.value, arg)
            if arg.keyword is not None:
                value = replace(value, form="{name}={value}")
            backend.settings[canonical] = value
    if spread:
        for name, canonical in facts.python_names.items():
            if canonical not in backend.settings:
                backend.unknown[canonical] = f"the call's *args / **kwargs may set {name}"
    addition = _keyword_addition(positions, call, facts.keepalive_name)
    if addition is not None and not spread:
        backend.additions[KEEPALIVE] = addition
    return backend


# --------------------------------------------------------------------------- loading


def _config_backend(server: str, positions: _Positions, scan: _Scan) -> Backend:
    facts = SERVER_FACTS[server]
    source = positions.source
    where = Location(source.path, 0, 0)
    backend = Backend(server, source.path, f"{server} ({source.path.name})", where, files=[source.path])
    for name, canonical in facts.python_names.items():
        found = _module_value(scan, positions, name)
        if isinstance(found, Value):
            if server == GUNICORN and canonical in GUNICORN_WHOLE_NUMBERS and found.static:
                found = _gunicorn_number(found)
            backend.settings[canonical] = found
        elif isinstance(found, str):
            backend.unknown[canonical] = found
    if KEEPALIVE not in backend.settings and KEEPALIVE not in backend.unknown:
        prefer = ("bind", "worker_class", "workers") if server == GUNICORN else ("bind", "workers")
        backend.additions[KEEPALIVE] = _module_addition(scan, positions, facts.keepalive_name, prefer)
    return backend


def _gunicorn_number(value: Value) -> Value:
    """``value`` as gunicorn reads it: ``threads = "4"`` is 4, ``keepalive = True`` is 1; a
    value gunicorn refuses (``keepalive = 2.5``, ``-1``, ``"05"``) is no number of seconds."""
    number = gunicorn_pos_int(value.value)
    if number is None:
        reason = f"not a number gunicorn accepts ({value.text}): it refuses to start"
        return replace(value, value=None, static=False, start=-1, end=-1, reason=reason)
    return replace(value, value=number)


def _hypercorn_objects(positions: _Positions, scan: _Scan) -> list[Backend]:
    """``config.bind = ...`` / ``config.keep_alive_timeout = ...`` in a serve script."""
    facts = SERVER_FACTS[HYPERCORN]
    by_base: dict[str, list[_AttributeAssignment]] = {}
    for item in scan.attributes:
        if item.attribute in facts.python_names:
            by_base.setdefault(item.base, []).append(item)
    backends = []
    source = positions.source
    for base, items in by_base.items():
        first = items[0]
        where = positions.location(first.statement)
        label = f"hypercorn ({source.path.name}: {base})"
        backend = Backend(HYPERCORN, source.path, label, where, files=[source.path])
        for item in items:  # the last assignment wins
            canonical = facts.python_names[item.attribute]
            reason = "assigned under a condition (if, try, for)" if item.conditional else ""
            backend.settings[canonical] = positions.value(
                f"{base}.{item.attribute}", item.value, item.statement, reason
            )
        if KEEPALIVE not in backend.settings:
            anchor = next((i for i in items if i.attribute == "bind"), items[-1])
            backend.additions[KEEPALIVE] = _attribute_addition(
                positions, anchor.statement, base, facts.keepalive_name
            )
        backends.append(backend)
    return backends


def module_server(source: SourceText, scan_names: set[str], mapped: bool, server: str | None) -> str | None:
    """Whether the module itself is a gunicorn or hypercorn config: by the command
    that names it (``server``), by its name, or by what it sets."""
    if server in (GUNICORN, HYPERCORN):
        return server
    lowered = source.path.name.lower()
    if "gunicorn" in lowered:
        return GUNICORN
    if "hypercorn" in lowered:
        return HYPERCORN
    if "keep_alive_timeout" in scan_names:
        return HYPERCORN
    if mapped and scan_names & set(SERVER_FACTS[GUNICORN].python_names):
        return GUNICORN
    return None


def load(source: SourceText, *, mapped: bool = False, server: str | None = None) -> LoadedFile:
    """Every app server that ``source`` configures or starts.

    ``mapped``: the settings name it as a backend config; ``server``: a command
    line names it with ``-c`` (so it is that server's config, whatever its name).
    """
    loaded = LoadedFile(source.path, PYTHON_KIND)
    if len(source.text) > MAX_PYTHON_CHARS:
        size, limit = human_size(len(source.text)), human_size(MAX_PYTHON_CHARS, exact=True)
        message = f"file is {size}, above the {limit} read of a Python app-server file; not read"
        loaded.problems.append(Problem(source.path, 0, message))
        return loaded
    try:
        module, depth = _parse(source.text, source.bom)
    except PythonSyntaxError as error:
        loaded.problems.append(Problem(source.path, error.line, error.problem("does not parse as Python")))
        return loaded
    try:
        with _recursion_room(depth):
            _read(loaded, source, module, mapped, server)
    except RecursionError:  # past what _Depths measures: never seen
        loaded.backends.clear()
        loaded.problems.append(Problem(source.path, 0, "not read: nested too deep for tlslint to read"))
    return loaded


def _read(
    loaded: LoadedFile, source: SourceText, module: cst.Module, mapped: bool, server: str | None
) -> None:
    """``loaded.backends``: what the module configures or starts."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = _Positions(source, wrapper.resolve(PositionProvider))
    scan = _scan(module)
    names = {n for n, a in scan.names.items() if a.top_level}
    server = module_server(source, names, mapped, server)
    if server is not None:
        loaded.backends.append(_config_backend(server, positions, scan))
    for call, function, guarded in _uvicorn_calls(module):
        backend = _uvicorn_backend(positions, call, function)
        backend.main_only = guarded
        loaded.backends.append(backend)
    if server is None and "hypercorn" in source.text:
        loaded.backends.extend(_hypercorn_objects(positions, scan))


def validate(source: SourceText) -> None:
    """Raise ``SourceError`` when ``source`` is not Python (libcst's grammar)."""
    from tlslint.sources.text import SourceError

    try:
        parse(source.text, source.bom)
    except PythonSyntaxError as error:
        raise SourceError(source.path, error.line, error.problem("invalid Python")) from None
