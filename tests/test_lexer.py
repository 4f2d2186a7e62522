"""Our lexer against crossplane's: same (value, quoted) stream, plus exact offsets.

``tlslint.sources.nginx.lexer.tokenize`` promises the tokens ``crossplane.lex``
gives. It is held to that on every corpus file and on generated configs.

Known crossplane 0.5.8 quirks, kept out of the generated input on purpose.
Each is a crossplane artefact; where the two lexers differ, ours does what
nginx does:

* A comment on the last line of a file without a final newline is dropped by
  crossplane (its loop waits for "\\n" and hits the end of the file); we keep it.
  So is a word that ends the file with nothing after it. Generated files end
  with a newline.
* An unterminated quote is truncated silently by crossplane; we raise LexError
  at the opening quote (tested below).
* Text right after a closing quote (``"a""b"``, ``'a'b``, ``"a"}``) is read on by
  crossplane; nginx says `unexpected`, and we raise LexError there (tested below).
* ``${`` without a closing ``}`` makes crossplane swallow the following
  whitespace and words into one token; so does a closed ``${...}`` that is
  followed directly by whitespace or the end of the file (``set $a ${b} c;``
  lexes as ``${b} c`` in crossplane). crossplane also keeps ``;`` and ``{``
  inside ``${...}``, where nginx ends the word (``${a;b}`` is ``${a`` and ``;``
  to nginx: only the ``{`` right after ``$`` stays in the word). Generated
  expansions are closed, hold neither, and are followed by a non-space character.
* crossplane ends a word at ``}``; nginx keeps a ``}`` inside a word (``a}b``),
  and so do we (tested below). Generated words hold no ``}``.
* A backslash inside ``${...}`` (crossplane ends the expansion at ``\\}``) and
  ``\\$`` followed by ``{`` (crossplane starts an expansion after an escaped
  ``$``; nginx does not) are not generated.
* A comment that ends in a backslash loses it in crossplane (the backslash
  and the newline are read as one escaped character); nginx keeps it. Generated
  comments do not end in a backslash.
* crossplane reads in text mode (universal newlines): a lone CR becomes a line
  break, and a CRLF inside a quoted string reads as LF. We keep the text as
  written, as nginx does. So no lone CR and no backslash before CR are
  generated, and CRLF inside quoted values is compared as LF.
* crossplane raises on unbalanced braces after yielding the tokens before the
  problem; generated input may be unbalanced, and we compare up to that point.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import crossplane
import pytest
from conftest import shared_files
from crossplane.errors import NgxParserSyntaxError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlslint.sources.nginx import lexer
from tlslint.sources.nginx.lexer import (
    CLOSE,
    COMMENT,
    OPEN,
    QUOTED,
    SEMI,
    WORD,
    LexError,
    Token,
    scan,
    tokenize,
)
from tlslint.sources.text import read_source

# Collected even where ../shared is absent (then skipped, or failed in CI).
CORPUS_PARAMS = shared_files("corpus", "nginx")


def crossplane_tokens(path: Path) -> tuple[list[tuple[str, bool]], bool]:
    """crossplane's (value, quoted) stream, and whether it stopped on a brace error."""
    tokens: list[tuple[str, bool]] = []
    try:
        for value, _line, quoted in crossplane.lex(str(path)):
            tokens.append((value, quoted))
    except NgxParserSyntaxError:
        return tokens, True
    return tokens, False


def stream(tokens: list[Token]) -> list[tuple[str, bool]]:
    return [(token.value, token.kind == QUOTED) for token in tokens]


def unescape(raw: str, quote: str) -> str:
    return raw.replace("\\" + quote, quote)


def assert_offsets(text: str, tokens: list[Token]) -> None:
    """Each token is its own text as written; between tokens there is only whitespace."""
    previous_end = 0
    for token in tokens:
        assert text[previous_end : token.start].strip() == "", (previous_end, token)
        written = text[token.start : token.end]
        if token.kind == QUOTED:
            assert written[0] == written[-1] == token.quote
            assert unescape(written[1:-1], token.quote) == token.value
        else:
            assert token.quote == ""
            assert written == token.value
        if token.kind in (OPEN, CLOSE, SEMI):
            assert written == {OPEN: "{", CLOSE: "}", SEMI: ";"}[token.kind]
        previous_end = token.end
    assert text[previous_end:].strip() == ""


@pytest.mark.parametrize("path", CORPUS_PARAMS)
def test_corpus_file_lexes_like_crossplane(path: Path) -> None:
    text = read_source(path, 2**24).text
    ours = tokenize(text)
    theirs, brace_error = crossplane_tokens(path)
    assert not brace_error
    assert len(ours) > 10
    assert stream(ours) == theirs
    assert_offsets(text, ours)


# --- generated configs -------------------------------------------------------

PLAIN = "abcxyzABZ0129_-./:=@*!?,+%&|~^<>()[]éß✓"
NAME = "abcXYZ_019"
newline = st.sampled_from(["\n", "\r\n"])
plain = st.text(PLAIN, min_size=1, max_size=6)
variable = st.text(NAME, min_size=1, max_size=4).map(lambda name: "$" + name)
# Any escaped character but "$" (see the module docstring) and CR.
escape = st.sampled_from([*PLAIN, " ", "\t", "\n", '"', "'", "#", ";", "{", "}", "\\"]).map(
    lambda char: "\\" + char
)
# A closed ${...} with no backslash, ";" or "{" inside, followed by a word character
# inside a word, or by ";" / "{" at the end of one (never by whitespace or the file end).
expansion_inner = st.text(NAME + '"#$', max_size=5).map(lambda inner: "${" + inner + "}")
expansion = st.builds(str.__add__, expansion_inner, plain)
word_head = st.one_of(plain, variable, escape, expansion)
word_tail = st.one_of(plain, variable, escape, expansion, st.sampled_from(['"', "'", "#"]))
word_end = st.one_of(
    st.just(""), st.builds(str.__add__, expansion_inner, st.sampled_from([";", "{"]))
)  # fmt: skip
word = st.builds(
    lambda head, tail, end: head + "".join(tail) + end, word_head, st.lists(word_tail, max_size=3), word_end
)


@st.composite
def quoted(draw: st.DrawFn) -> str:
    quote = draw(st.sampled_from(['"', "'"]))
    other = "'" if quote == '"' else '"'
    part = st.one_of(
        st.text(PLAIN + " \t;{}#" + other, min_size=1, max_size=6),
        variable,
        st.just("\\" + quote),  # escaped quote: unescaped in the value
        st.sampled_from(["\\n", "\\t", "\\\\", "\\" + other]),  # other escapes stay as written
        newline,
    )
    return quote + "".join(draw(st.lists(part, max_size=4))) + quote


comment = st.builds(
    lambda body, end: "#" + body + ("." if body.endswith("\\") else "") + end,
    st.text(PLAIN + " \t#;{}\"'\\$", max_size=12),
    newline,
)
separator = st.sampled_from(["", " ", "  ", "\t", "\n", "\r\n", " \r\n\t"])
punct = st.sampled_from([";", ";", "{", "}"])


@st.composite
def config_text(draw: st.DrawFn) -> str:
    """Pieces with separators, which may be empty: ``a;``, ``}b``, ``"x";`` are generated
    (``"x"y`` is not: nginx refuses it, and so do we; tested below).

    A quoted string or a comment written directly after a word would become part
    of the word, and their contents (spaces, ``${``, a final backslash) are not
    meant to be word characters, so a space goes between those.
    """
    out: list[str] = []
    previous_is_word = previous_is_quote = False
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["word", "word", "word", "quoted", "comment", "punct"]))
        if kind in ("quoted", "comment") and previous_is_word:
            out.append(" ")
        strategy = {"word": word, "quoted": quoted(), "comment": comment, "punct": punct}[kind]
        piece = draw(strategy)
        if piece == "}" and previous_is_word:
            out.append(" ")  # "a}" is one word to nginx (and to us), two tokens to crossplane
        if previous_is_quote and piece[0] not in ";{)":
            out.append(" ")  # nginx refuses anything else right after a quote; crossplane reads on
        out.append(piece)
        sep = draw(separator)
        out.append(sep)
        # a word ends at an unescaped ";" or "{" (an escaped one, "\;", goes on)
        ended = out[-2][-1] in ";{" and not out[-2].endswith(("\\;", "\\{"))
        previous_is_word = kind == "word" and sep == "" and not ended
        previous_is_quote = kind == "quoted" and sep == ""
    out.append(draw(newline))  # see the module docstring: crossplane drops a word at the very end
    return "".join(out)


def expected_from_ours(tokens: list[Token]) -> tuple[list[tuple[str, bool]], bool]:
    """Our stream cut where crossplane's brace check stops, CRLF in quotes read as LF."""
    depth = 0
    result: list[tuple[str, bool]] = []
    for token in tokens:
        if token.kind == CLOSE:
            depth -= 1
            if depth < 0:
                return result, True
        elif token.kind == OPEN:
            depth += 1
        value = token.value.replace("\r\n", "\n") if token.kind == QUOTED else token.value
        result.append((value, token.kind == QUOTED))
    return result, depth > 0


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lex") / "generated.conf"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=config_text())
def test_generated_config_lexes_like_crossplane(scratch: Path, text: str) -> None:
    scratch.write_bytes(text.encode("utf-8"))
    ours = tokenize(text)
    assert_offsets(text, ours)
    expected, brace_error = expected_from_ours(ours)
    theirs, their_brace_error = crossplane_tokens(scratch)
    assert theirs == expected
    assert their_brace_error == brace_error


# --- explicit cases ----------------------------------------------------------


def kinds_and_values(text: str) -> list[tuple[int, str]]:
    return [(token.kind, token.value) for token in tokenize(text)]


def test_token_kinds_quotes_and_offsets() -> None:
    text = "add_header X 'a \\'b\\' c' \"d\\\"e\";  # note\r\nserver{}"
    tokens = tokenize(text)
    assert [(t.kind, t.value, t.quote) for t in tokens] == [
        (WORD, "add_header", ""),
        (WORD, "X", ""),
        (QUOTED, "a 'b' c", "'"),
        (QUOTED, 'd"e', '"'),
        (SEMI, ";", ""),
        (COMMENT, "# note", ""),  # the CR of CRLF is not part of the comment
        (WORD, "server", ""),
        (OPEN, "{", ""),
        (CLOSE, "}", ""),
    ]
    assert text[tokens[2].start : tokens[2].end] == "'a \\'b\\' c'"
    assert_offsets(text, tokens)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # nginx's ngx_conf_read_token keeps a "{" right after "$" in the word (its
        # ``variable`` flag); the word then goes on by the usual rules.
        ("proxy_pass http://${HOST}:9000;",
         [(WORD, "proxy_pass"), (WORD, "http://${HOST}:9000"), (SEMI, ";")]),
        ("location ~ \\.php${ return 200; }",
         [(WORD, "location"), (WORD, "~"), (WORD, "\\.php${"), (WORD, "return"), (WORD, "200"),
          (SEMI, ";"), (CLOSE, "}")]),
        ("ssl_ciphers ${;", [(WORD, "ssl_ciphers"), (WORD, "${"), (SEMI, ";")]),
        ("a x${{{b;", [(WORD, "a"), (WORD, "x${{{b"), (SEMI, ";")]),
        # ";" and "{" end the word inside "${...}" too (crossplane reads on to the "}")
        ("a http://${HOST;x}:9000;", [(WORD, "a"), (WORD, "http://${HOST"), (SEMI, ";"), (WORD, "x}:9000"),
                                      (SEMI, ";")]),
        # an escaped "$" does not keep the "{"
        ("a \\${b;", [(WORD, "a"), (WORD, "\\$"), (OPEN, "{"), (WORD, "b"), (SEMI, ";")]),
    ],
)  # fmt: skip
def test_dollar_brace_stays_in_the_word(text: str, expected: list[tuple[int, str]]) -> None:
    assert kinds_and_values(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Inside a word "}" is an ordinary character to nginx (only ";", "{" and whitespace
        # end a word): `add_header X a}b;` loads (nginx 1.22.1), where crossplane ends the
        # word and reads a block's end.
        ("add_header X a}b;", [(WORD, "add_header"), (WORD, "X"), (WORD, "a}b"), (SEMI, ";")]),
        ("location /x} { }", [(WORD, "location"), (WORD, "/x}"), (OPEN, "{"), (CLOSE, "}")]),
        # At the start of a token it still closes the block.
        ("a b; }}", [(WORD, "a"), (WORD, "b"), (SEMI, ";"), (CLOSE, "}"), (CLOSE, "}")]),
        ("a b;}", [(WORD, "a"), (WORD, "b"), (SEMI, ";"), (CLOSE, "}")]),
    ],
)  # fmt: skip
def test_a_closing_brace_inside_a_word_is_part_of_it(text: str, expected: list[tuple[int, str]]) -> None:
    assert kinds_and_values(text) == expected


def test_expansion_followed_by_space_is_two_words() -> None:
    # crossplane quirk: it lexes this as one token "${b} c"; nginx sees two words.
    assert kinds_and_values("set $a ${b} c;") == [
        (WORD, "set"),
        (WORD, "$a"),
        (WORD, "${b}"),
        (WORD, "c"),
        (SEMI, ";"),
    ]


def test_hash_inside_a_word_is_not_a_comment() -> None:
    assert kinds_and_values("location /a#b {}") == [
        (WORD, "location"),
        (WORD, "/a#b"),
        (OPEN, "{"),
        (CLOSE, "}"),
    ]


def test_comment_on_last_line_without_newline_is_kept() -> None:
    # crossplane quirk: it drops this comment; suppressions on the last line need it.
    text = "listen 443 ssl; # tlslint: disable=NGX101"
    tokens = tokenize(text)
    assert (tokens[-1].kind, tokens[-1].value) == (COMMENT, "# tlslint: disable=NGX101")
    assert tokens[-1].end == len(text)


@pytest.mark.parametrize(
    ("text", "quote_at"),
    [
        ('server_name "example.com;\n', 12),
        ("a;\nb 'c\nd;\n", 5),
        ('a "ok" \'x";\n', 7),
    ],
)
def test_unterminated_quote_raises_at_the_opening_quote(text: str, quote_at: int) -> None:
    # crossplane quirk: it truncates the string silently.
    with pytest.raises(LexError) as raised:
        tokenize(text)
    assert raised.value.offset == quote_at
    assert "unterminated" in raised.value.message


@pytest.mark.parametrize(
    ("text", "char"),
    [
        ('a "x""y";\n', '"'),
        ("a 'x'b;\n", "b"),
        ('a "x"#c\n;\n', "#"),
        ('a "x"}\n', "}"),
        ("a 'x'\f;\n", "\f"),
    ],
)
def test_a_quote_followed_by_anything_but_a_space_raises(text: str, char: str) -> None:
    # nginx 1.22.1: `unexpected """` and so on (its lexer needs a space after a quote);
    # crossplane read on, and a fix could write a file nginx refuses.
    with pytest.raises(LexError) as raised:
        scan(text)
    assert raised.value.offset == text.index(char, text.index("x") + 2)
    assert raised.value.message.startswith(f'unexpected "{char}" after a quoted string')


def test_what_may_follow_a_quote() -> None:
    text = 'if ($a = "b") { x "y"; z \'w\'{ }\n  v "u"\t;\n  t "s"\r\n;\n}\n'
    assert [value for _, value, _, _ in scan(text) if value in ("b", "y", "w", "u", "s")] == [
        "b",
        "y",
        "w",
        "u",
        "s",
    ]


def test_backslash_at_end_of_file_raises() -> None:
    with pytest.raises(LexError) as raised:
        tokenize("a b\\")
    assert raised.value.offset == 3


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(config_text(), st.text(alphabet=" \t\r\n;{}\"'\\#$ab{}", max_size=60)))
def test_runs_of_plain_characters_give_the_one_character_tokens(text: str) -> None:
    """The possessive pattern (Python 3.11+) lexes as the one-character form 3.10 uses."""
    one_character = lexer.scan_pattern(possessive=False)
    try:
        fast: object = scan(text)
    except LexError as error:
        fast = ("error", error.offset, str(error))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lexer, "_SCAN_RE", one_character)
        try:
            slow: object = scan(text)
        except LexError as error:
            slow = ("error", error.offset, str(error))
    assert fast == slow


def test_the_space_class_is_what_backslash_s_matches() -> None:
    """The pattern names ``\\s``'s characters (a bitmap for sre, not a category): the same set."""
    space = re.compile(f"[{lexer._SPACE}]")
    category = re.compile(r"\s")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert (space.match(char) is None) == (category.match(char) is None), hex(code)
