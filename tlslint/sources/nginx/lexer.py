"""Tokenise nginx configuration text with exact byte offsets.

crossplane's lexer gives line numbers only and reads one character at a time
(~8 µs a token); fixes need columns, block ends and the raw text of every
argument, and the hot path needs speed. This lexer is one compiled regex that
yields the same tokens as ``crossplane.lex`` (the tests hold it to that on the
corpus and on generated input) plus their offsets and quote characters.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass

# Token kinds.
WORD = 0
QUOTED = 1
OPEN = 2  # {
CLOSE = 3  # }
SEMI = 4  # ;
COMMENT = 5

_ESC = r"\\[\s\S]"
# ``\s`` of a str pattern (str.isspace; tests/test_lexer.py holds them equal) as the
# characters themselves: sre tests a class of characters with one lookup in a bitmap,
# but a category (``\s``) by a call per character, a tenth of the scan.
_SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
# "$" followed by "{" is nginx's variable-in-braces: the "{" does not open a block but
# stays in the word, with any "{" right after it (ngx_conf_read_token's ``variable``
# flag: ``if (ch == '{' && variable) continue;``; an escaped "$" does not set it).
# Nothing else changes: the word goes on, and a ";", a "{" or whitespace still ends
# it, so "${a;b}" is the word "${a" and a ";". Inside a word "}" is plain, as in nginx
# (only at the start of a token does it close a block): "${NAME}" and "a}b" are words
# (crossplane ends a word at "}").
# Runs of plain characters are matched at once and never given back (possessive,
# Python 3.11+): the regex engine's time per token halves. Every character has one
# way to be matched (the classes exclude what starts an escape or an expansion), so
# the tokens are those of the one-character form, which Python 3.10 keeps.
POSSESSIVE = sys.version_info >= (3, 11)

_PUNCT_KIND = {"{": OPEN, "}": CLOSE, ";": SEMI}


def _comment(run: str, once: str) -> str:
    """A comment to the end of its line, without the CR of a CRLF ending."""
    return rf"\#(?:[^\r\n]{run}|\r(?!\n))*{once}"


def _expansion(run: str, once: str) -> str:
    """A "$", and the "{" that follow it and the rest of a "${...}" up to its "}", if any."""
    body = rf"(?:[^{_SPACE}{{}};\\$]{run}|{_ESC}|\$\{{*{once})*{once}"
    return rf"\$(?:\{{+{once}{body}\}}?{once})?{once}"


def scan_pattern(possessive: bool = POSSESSIVE) -> re.Pattern[str]:
    """Whitespace is folded into each match: one match object per token, and groups
    numbered so that ``lastindex`` is the kind. A comment runs to the end of the
    line; the CR of a CRLF ending is not part of it (crossplane reads in text mode
    and never sees that CR; nginx ends a comment at LF and treats CR as whitespace).
    Words, two tokens in three, are tried first: no two alternatives start with the
    same character but the last, a quote or backslash that nothing before it matched.
    """
    run, once = ("++", "+") if possessive else ("", "")
    expansion = _expansion(run, once)
    head = rf"(?:[^{_SPACE}{{}};\"'#\\$]|{_ESC}|{expansion})"
    tail = rf"(?:[^{_SPACE}{{;\\$]{run}|{_ESC}|{expansion})*{once}"
    return re.compile(
        rf"""[{_SPACE}]*{once}(?:
    ({head}{tail})
  | ([{{}};])
  | ({_comment(run, once)})
  | ("(?:[^"\\]{run}|\\[\s\S])*{once}")
  | ('(?:[^'\\]{run}|\\[\s\S])*{once}')
  | (["'\\])
    )""",
        re.VERBOSE,
    )


_SCAN_RE = scan_pattern()
_S_WORD, _S_PUNCT, _S_COMMENT, _S_DQ, _S_SQ, _S_BAD = range(1, 7)
_COMMENT_RE = re.compile(_comment("", ""))

# What nginx's lexer lets follow a closing quote (its ``need_space``): anything else is
# `unexpected "X"` (measured on 1.22.1: `"a""b"`, `'a'b`, `"a"#c`, `"a"}`), where
# crossplane reads on. "" is the end of the text.
_AFTER_QUOTE = frozenset({"", " ", "\t", "\r", "\n", ";", "{", ")"})


def _unexpected_after_quote(char: str) -> str:
    return f'unexpected "{char}" after a quoted string: nginx refuses it (a space must follow the quote)'


# (kind, value, start, end): a token without the object, for the parser's hot loop.
RawToken = tuple[int, str, int, int]


def scan_in_chunks(text: str, take: Callable[[list[RawToken]], None], size: int) -> None:
    """The tokens of ``scan``, handed to ``take`` a chunk of about ``size`` at a time as
    they are scanned: a large file never holds them all, and an exception that ``take``
    raises (the parser's first error) stops the scan there."""
    chunk: list[RawToken] = []

    def collect(token: RawToken) -> None:
        chunk.append(token)
        if len(chunk) > size:
            take(chunk[:-1])  # the last token stays: it may be the comment _last_comment ends
            del chunk[:-1]

    scan(text, collect)
    _last_comment(text, _content_end(text), chunk)
    take(chunk)


def scan(
    text: str, append: Callable[[RawToken], None] | None = None, *, lengths: bool = True
) -> list[RawToken]:
    """Tokens as tuples; raise ``LexError`` on an unterminated quote, and on a token nginx
    refuses as too long (``_check_length``) unless ``lengths`` is false (the sniff asks
    what a file is, not whether nginx loads it). With ``append``,
    each token is handed to it as it is scanned instead (``scan_in_chunks``).

    Linear in the length of the text, whatever it holds: the regex never searches
    ahead, and trailing whitespace, where it would be retried at every offset after
    a failed match, is not scanned (only the text up to its last non-whitespace
    character is).
    """
    tokens: list[RawToken] = []
    if append is None:
        append = tokens.append
    # Names and most values repeat across files (`proxy_set_header`, `on`, `$host`):
    # one string each instead of one per occurrence.
    intern = sys.intern
    punct = _PUNCT_KIND
    end = _content_end(text)
    position = 0
    lua = 0  # words still to come before a *_by_lua_block's "{" (see _lua_block_end)
    long = _MAY_BE_TOO_LONG if lengths else len(text)  # a token longer may be too long
    while True:
        restart = -1
        for m in _SCAN_RE.finditer(text, position, end):
            index = m.lastindex
            value = m[index]  # type: ignore[index]
            # The token's group ends the match (the whitespace before it does not).
            token_end = m.end()
            start = token_end - len(value)
            if token_end - start > long:
                _check_length(text, index, start, token_end)
            if index == _S_WORD:
                append((WORD, intern(value), start, token_end))
                if lua:
                    lua -= 1
                if value[-1] == "k" and value.endswith("_by_lua_block"):
                    lua = 2 if value == "set_by_lua_block" else 1  # set_by_lua_block $res {
            elif index == _S_PUNCT:
                append((punct[value], value, start, token_end))
                if lua == 1 and value == "{":
                    close = _lua_block_end(text, token_end, start)
                    append((CLOSE, "}", close, close + 1))
                    restart = close + 1
                    lua = 0
                    break
                lua = 0
            elif index == _S_COMMENT:
                append((COMMENT, value, start, token_end))
            elif index == _S_DQ:
                if text[token_end : token_end + 1] not in _AFTER_QUOTE:
                    raise LexError(_unexpected_after_quote(text[token_end]), token_end)
                append((QUOTED, value[1:-1].replace('\\"', '"'), start, token_end))
            elif index == _S_SQ:
                if text[token_end : token_end + 1] not in _AFTER_QUOTE:
                    raise LexError(_unexpected_after_quote(text[token_end]), token_end)
                append((QUOTED, value[1:-1].replace("\\'", "'"), start, token_end))
            else:
                if value == "\\":
                    raise LexError("backslash at the end of the file", start)
                if lengths:  # nginx's buffer may fill first
                    _check_length(text, _S_DQ, start, len(text) + 1)
                raise LexError(f"unterminated quoted string (opening {value} here)", start)
        if restart < 0:
            break
        position = restart
    _last_comment(text, end, tokens)
    return tokens


# nginx reads a file through a buffer of NGX_CONF_BUFFER (4096) bytes and refuses a
# token it cannot hold whole with the character read after it (`too long parameter`).
_CONF_BUFFER = 4096
# A token of more characters may come near that (4 bytes a character at most in UTF-8).
_MAY_BE_TOO_LONG = (_CONF_BUFFER - 1) // 4 - 1


def _check_length(text: str, index: int | None, start: int, end: int) -> None:
    """Raise ``LexError`` where nginx says `too long parameter` for this token.

    nginx (ngx_conf_read_token) keeps the bytes from where the token starts (after the
    opening quote of a quoted string; the "#" of a comment) in its buffer, and refuses
    the file when a byte more must be read while all 4096 are taken. The bytes read
    before the next token starts are the token's, and: for a comment, the LF that ends
    it; otherwise the character after it, and after a space (or any character but ";"
    and "{", which end the statement) the one after that too. Measured on 1.22.1: a
    word of 4095 bytes before ";" loads, before " x;" it does not; a quoted string
    loads with 4094 bytes before ";"; a comment with 4095 bytes including its "#".
    """
    first = start + 1 if index in (_S_DQ, _S_SQ) else start
    if index == _S_COMMENT:
        last = text.find("\n", end)
        if last < 0:
            last = len(text)
    else:
        last = end if text[end : end + 1] in (";", "{") else end + 1
    last = min(last, len(text) - 1)  # nothing is read past the end of the file
    if len(text[first:last].encode("utf-8", "surrogateescape")) < _CONF_BUFFER:
        return
    inside = text[first : end - 1] if index in (_S_DQ, _S_SQ) else ""
    if len(inside.encode("utf-8", "surrogateescape")) >= _CONF_BUFFER:
        message = f"too long parameter, probably missing terminating {text[start]} character"
    else:
        message = f'too long parameter "{text[first : first + 10]}..." started'
    raise LexError(message + " (nginx reads a parameter or comment in a buffer of 4096 bytes)", start)


# What can hide a "}" in Lua code: a long comment or string ("--[==[", "[[", closed by
# the "]==]" of the same level), a comment, a quoted string, or a brace itself.
_LUA_RE = re.compile(
    r"""--\[(=*)\[|--[^\n]*|\[(=*)\[|"(?:[^"\\\n]|\\[\s\S])*"|'(?:[^'\\\n]|\\[\s\S])*'|[{}]"""
)


def _lua_block_end(text: str, position: int, opening: int) -> int:
    """The offset of the "}" that closes a *_by_lua_block opened just before ``position``.

    lua-nginx-module reads the block as Lua, not as nginx directives (its own lexer,
    ngx_http_lua_conf_lua_block_parse): the code is kept whole and no nginx token is
    made of it; braces inside Lua strings and comments do not count.
    """
    depth = 1
    search = _LUA_RE.search
    while (m := search(text, position)) is not None:
        found = m.group()
        level = m.group(1) if m.group(1) is not None else m.group(2)
        if level is not None:  # a long comment or string: skip to its closing bracket
            closing = text.find(f"]{level}]", m.end())
            if closing < 0:
                break
            position = closing + len(level) + 2
            continue
        position = m.end()
        if found == "{":
            depth += 1
        elif found == "}":
            depth -= 1
            if depth == 0:
                return m.start()
    raise LexError("unterminated Lua block (its { is here)", opening)


def _last_comment(text: str, end: int, tokens: list[RawToken]) -> None:
    """A comment on the last line runs over its trailing blanks, as if not cut at ``end``."""
    if tokens and tokens[-1][0] == COMMENT and end < len(text):
        start = tokens[-1][2]
        comment = _COMMENT_RE.match(text, start)
        assert comment is not None
        tokens[-1] = (COMMENT, comment.group(), start, comment.end())


def _content_end(text: str) -> int:
    """Where scanning may stop: after the last non-whitespace character (and the
    whitespace character it escapes, if it is a backslash)."""
    end = len(text.rstrip())
    if 0 < end < len(text) and text[end - 1] == "\\":
        end += 1
    return end


class LexError(Exception):
    """Text that nginx would refuse to tokenise; ``offset`` locates it."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Token:
    """A token with its exact place in the text (``RawToken`` is the hot path's tuple)."""

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
