"""The cache keeps parsed files flat (tlslint.sources.nginx.flat): loaded back, the same tree."""

from __future__ import annotations

import marshal
import sys
from array import array
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from test_lexer import CORPUS_PARAMS, config_text

from tlslint.sources.nginx.flat import flatten, unflatten
from tlslint.sources.nginx.model import Directive, ParsedFile, SourceText, walk
from tlslint.sources.nginx.parser import parse_text
from tlslint.sources.text import SourceError, read_source

PATH = Path("/etc/nginx/nginx.conf")


def shape(parsed: ParsedFile) -> list[object]:
    def parent(directive: Directive) -> int | None:
        return directive.parent.start if directive.parent is not None else None

    def fields(d: Directive) -> tuple[object, ...]:
        offsets = (d.start, d.end, d.args_start, d.args_end, d.block_open, d.block_close)
        size = None if d.block is None else len(d.block)
        return (d.name, d.args, *offsets, parent(d), size, d.source is source)

    source = parsed.source
    return [
        (source.path, source.text, source.bom, source.newline, parsed.depth),
        [fields(d) for d in walk(parsed.directives)],
        [(c.text, c.start) for c in parsed.comments],
        [d.start for d in parsed.includes],
    ]


def round_trip(parsed: ParsedFile) -> ParsedFile:
    """Through marshal, as the cache pack goes."""
    return unflatten(parsed.path, marshal.loads(marshal.dumps(flatten(parsed))))


@pytest.mark.parametrize("path", CORPUS_PARAMS)
def test_a_corpus_file_loads_back_as_parsed(path: Path) -> None:
    try:
        parsed = parse_text(read_source(path, 2**24))
    except SourceError:
        pytest.skip(f"{path.name} does not parse (its parse error is tested elsewhere)")
    assert shape(round_trip(parsed)) == shape(parsed)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=config_text())
def test_a_generated_file_loads_back_as_parsed(text: str) -> None:
    try:
        parsed = parse_text(SourceText(PATH, text, bom=True, newline="\r\n"))
    except SourceError:
        return
    assert shape(round_trip(parsed)) == shape(parsed)


def test_nesting_includes_and_comments_load_back() -> None:
    text = (
        "# top\nhttp {\n    include mime.types; # types\n    server {\n        location / {\n"
        "            if ($x) { return 403; }\n        }\n    }\n}\ninclude conf.d/*.conf;\n"
    )
    parsed = parse_text(SourceText(PATH, text))
    loaded = round_trip(parsed)
    assert loaded.depth == parsed.depth == 4
    assert [d.args for d in loaded.includes] == [("mime.types",), ("conf.d/*.conf",)]
    assert [c.text for c in loaded.comments] == ["# top", "# types"]
    assert shape(loaded) == shape(parsed)


def test_names_stay_interned_through_marshal() -> None:
    parsed = parse_text(SourceText(PATH, "server { listen 443 ssl; }\n"))
    loaded = round_trip(parsed)
    listen = loaded.directives[0].block[0]  # type: ignore[index]
    assert listen.name is sys.intern("listen")


@pytest.mark.parametrize(
    "damage",
    [
        lambda flat: (*flat[:4], flat[4][:-4], flat[5]),  # the top-level count cut off
        lambda flat: (*flat[:4], flat[4][:-1], flat[5]),  # not whole integers
        lambda flat: (*flat[:3], flat[3][:-1], *flat[4:]),  # a string missing
        lambda flat: (*flat[:3], [*flat[3], "extra"], *flat[4:]),  # a string too many
        lambda flat: (*flat[:5], [*flat[5], "# extra"]),  # a comment without its start
        lambda flat: flat[:5],
        lambda flat: "not a tuple",
    ],
)
def test_data_it_did_not_write_is_refused(damage: object) -> None:
    parsed = parse_text(SourceText(PATH, "http { server { listen 443; } } # c\n"))
    flat = flatten(parsed)
    with pytest.raises(ValueError):
        unflatten(PATH, damage(flat))  # type: ignore[operator]


def test_an_offset_past_2_gib_is_not_flattened() -> None:
    source = SourceText(PATH, "x;")
    source.offsets = array("q")  # as a text past 2 GiB has them (2 GiB of text is not made here)
    huge = Directive("x", (), source, 2**31, 2**31 + 2, 2**31 + 1, 2**31 + 1)
    with pytest.raises(OverflowError):
        flatten(ParsedFile(source, [huge], []))


def test_a_text_past_2_gib_keeps_its_offsets_in_64_bits() -> None:
    class Long(str):
        def __len__(self) -> int:
            return 2**31

    assert SourceText(PATH, Long("x;")).offsets.typecode == "q"
    assert SourceText(PATH, "x;").offsets.typecode == "i"


def test_the_parser_and_the_cache_build_directives_as_the_constructor_does() -> None:
    """Both build directives without ``Directive.__init__`` (their hot loops): every
    slot is set, to what the constructor sets from the same offsets."""
    text = "http {\n    include mime.types;\n    server { listen 443 ssl; location / { } }\n}\nx;\n"
    parsed = parse_text(SourceText(PATH, text))
    for tree in (parsed, round_trip(parsed)):
        for directive in walk(tree.directives):
            for slot in Directive.__slots__:
                getattr(directive, slot)  # AttributeError for a slot left unset
            again = Directive(
                directive.name,
                directive.args,
                directive.source,
                directive.start,
                directive.end,
                directive.args_start,
                directive.args_end,
                directive.block,
                directive.block_open,
                directive.block_close,
                directive.parent,
            )
            assert (again.name, again.args, again.source, again.block, again.parent) == (
                directive.name,
                directive.args,
                directive.source,
                directive.block,
                directive.parent,
            )
            assert (again.start, again.end, again.args_start, again.args_end) == (
                directive.start,
                directive.end,
                directive.args_start,
                directive.args_end,
            )
            assert (again.block_open, again.block_close) == (directive.block_open, directive.block_close)
    assert [d.name for d in walk(parsed.directives)] == [
        "http",
        "include",
        "server",
        "listen",
        "location",
        "x",
    ]
