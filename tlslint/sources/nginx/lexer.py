"""Tokenise nginx configuration text with exact byte offsets.

crossplane's lexer gives line numbers only and reads one character at a time
(~8 µs a token); fixes need columns, block ends and the raw text of every
argument, and the hot path needs speed. This lexer is one compiled regex that
yields the same tokens as ``crossplane.lex`` (the tests hold it to that on the
corpus and on generated input) plus their offsets and quote characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Token kinds.
WORD = 0
QUOTED = 1
OPEN = 2  # {
CLOSE = 3  # }
SEMI = 4  # ;
COMMENT = 5

_ESC = r"\\[\s\S]"
# A variable expansion "${...}" keeps braces and semicolons inside the word.
_EXPANSION = r"\$\{(?:\\[\s\S]|[^\s}\\])*\}"
_WORD_HEAD = rf"(?:{_ESC}|{_EXPANSION}|[^\s{{}};\"'#\\])"
_WORD_TAIL = rf"(?:{_ESC}|{_EXPANSION}|[^\s{{}};\\])"

_PUNCT_KIND = {"{": OPEN, "}": CLOSE, ";": SEMI}

# Whitespace is folded into each match: one match object per token, and groups
# numbered so that ``lastindex`` is the kind. A comment runs to the end of the
# line; the CR of a CRLF ending is not part of it (crossplane reads in text mode
# and never sees that CR; nginx ends a comment at LF and treats CR as whitespace).
_SCAN_RE = re.compile(
    rf"""\s*(?:
    (\#(?:[^\r\n]|\r(?!\n))*)
  | ([{{}};])
  | ("(?:\\[\s\S]|[^"\\])*")
  | ('(?:\\[\s\S]|[^'\\])*')
  | ({_WORD_HEAD}{_WORD_TAIL}*)
  | (["'\\])
    )""",
    re.VERBOSE,
)
_S_COMMENT, _S_PUNCT, _S_DQ, _S_SQ, _S_WORD, _S_BAD = range(1, 7)

# (kind, value, start, end): a token without the object, for the parser's hot loop.
RawToken = tuple[int, str, int, int]


def scan(text: str) -> list[RawToken]:
    """Tokens as tuples; raise ``LexError`` on an unterminated quote."""
    tokens: list[RawToken] = []
    append = tokens.append
    punct = _PUNCT_KIND
    for m in _SCAN_RE.finditer(text):
        index = m.lastindex
        value = m.group(index)  # type: ignore[arg-type]
        start = m.start(index)  # type: ignore[arg-type]
        end = m.end()
        if index == _S_WORD:
            append((WORD, value, start, end))
        elif index == _S_PUNCT:
            append((punct[value], value, start, end))
        elif index == _S_COMMENT:
            append((COMMENT, value, start, end))
        elif index == _S_DQ:
            append((QUOTED, value[1:-1].replace('\\"', '"'), start, end))
        elif index == _S_SQ:
            append((QUOTED, value[1:-1].replace("\\'", "'"), start, end))
        else:
            if value == "\\":
                raise LexError("backslash at the end of the file", start)
            raise LexError(f"unterminated quoted string (opening {value} here)", start)
    return tokens


class LexError(Exception):
    """Text that nginx would refuse to tokenise; ``offset`` locates it."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Token:
    kind: int
    value: str  # the value nginx sees (quotes removed, \" unescaped)
    start: int  # offset of the first character as written (the quote, if any)
    end: int  # offset just past the last character as written
    quote: str  # '"', "'" or ""


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raise ``LexError`` on an unterminated quote."""
    return [
        Token(kind, value, start, end, text[start] if kind == QUOTED else "")
        for kind, value, start, end in scan(text)
    ]
