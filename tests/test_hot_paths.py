"""Short cuts taken on paths every finding or server goes through, held to the long way
they replace: a region without a newline, a listen's parts by its arguments, a finding
with another anchor, a report's display paths."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from tlslint.sources.nginx.model import SourceText
from tlslint.sources.nginx.parser import parse_text
from tlslint.workspace.nginx import Listen, _listen_parts, normalise_socket, parse_listen

TEXT = "server {\n\tlisten 443 ssl;\r\n  server_name a.example; # é\n}\n\nx"


def long_way(source: SourceText, start: int, end: int, first_line: bool) -> tuple[int, int, int, int]:
    line, column = source.position(start)
    end_line, end_column = source.position(end)
    if first_line and end_line != line:
        end_line, end_column = line, len(source.line_text(line)) + 1
    return line, column, end_line, end_column


@pytest.mark.parametrize("first_line", [False, True])
@pytest.mark.parametrize("tabled", [False, True])
def test_region_is_the_two_positions_it_saves(first_line: bool, tabled: bool) -> None:
    for start in range(len(TEXT) + 1):
        for end in range(start, len(TEXT) + 1):
            source = SourceText(Path("a.conf"), TEXT)
            if tabled:
                source.line_starts()  # the other way position() answers
            expected = long_way(SourceText(Path("a.conf"), TEXT), start, end, first_line)
            assert source.region(start, end, first_line=first_line) == expected, (start, end)


LISTENS = [
    "listen 443 ssl http2;",
    "listen [::]:443 ssl http2 default_server ipv6only=on;",
    "listen 80 default;",
    "listen 0.0.0.0;",
    "listen unix:/run/a.sock ssl;",
    "listen 443 quic reuseport;",
    "listen ${PORT};",
    "listen example.org:8443 ssl;",
]


def test_listen_parts_by_arguments_are_the_listen_itself() -> None:
    parsed = parse_text(SourceText(Path("a.conf"), "\n".join(LISTENS * 2)))
    listens = [parse_listen(d) for d in parsed.directives]
    for directive, listen in zip(parsed.directives, listens, strict=True):
        assert listen.directive is directive
        assert (listen.socket, listen.ssl, listen.default, listen.http2) == _listen_parts(directive.args)
    first, again = listens[: len(LISTENS)], listens[len(LISTENS) :]
    assert [(a.socket, a.ssl, a.default, a.http2) for a in first] == [
        (b.socket, b.ssl, b.default, b.http2) for b in again
    ]
    assert first[0] == Listen("*:443", True, False, True, parsed.directives[0])
    assert first[1].default and first[1].socket == "[::]:443"
    assert first[2].default and not first[2].ssl
    assert first[3].socket == normalise_socket("0.0.0.0") == "*:80"
    assert first[5].socket == "*:443/quic"
    assert first[6].socket == "${PORT}"


def test_anchored_is_replace_of_the_anchor() -> None:
    from test_finding_codec import every_field, sample

    finding = sample()[("one", 1)][0]  # every field set, compare=False ones too
    moved = finding.anchored("http > server[b:443] > access_log")
    assert every_field(moved) == every_field(replace(finding, anchor="http > server[b:443] > access_log"))
    assert moved.anchor != finding.anchor


def test_report_names_each_file_as_display_path_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tlslint.engine import run
    from tlslint.report.text import display_path, render_lines
    from tlslint.settings import Settings

    site = tmp_path / "conf" / "site.conf"
    site.parent.mkdir()
    site.write_text("server {\n    listen 443 ssl;\n    ssl_protocols TLSv1 TLSv1.2;\n}\n")
    monkeypatch.chdir(tmp_path / "conf")
    result = run([site], Settings())
    assert result.findings
    report = "".join(render_lines(result, colour=False))
    for finding in result.findings:
        assert f"{display_path(finding.location.path)}:{finding.location.line}:" in report
    assert os.path.relpath(site) == "site.conf" and "site.conf:" in report


def test_indent_unit_found_in_c_is_the_line_by_line_reading() -> None:
    import random

    from tlslint.nginx_edits import _indent_unit, _indent_unit_by_line

    rng = random.Random(17)
    alphabet = [" ", " ", "  ", "\t", "#", "a", "b;", "\n", "\n", "\r\n", "\r", "\x0b", "\x85", "\u2028"]
    texts = ["", "a;\n", "  a;\n    b;\n", "\ta;\n  b;\n", "  # c\n    a;\n", "    a;\r\n  \r\n", "   "]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))) for _ in range(3000)]
    for text in texts:
        _indent_unit.cache_clear()
        assert _indent_unit(text) == _indent_unit_by_line(text), repr(text)


def test_glob_files_is_glob_then_isfile(tmp_path: Path) -> None:
    import glob

    from tlslint.sources.nginx.loader import glob_files

    conf = tmp_path / "conf.d"
    conf.mkdir()
    for name in ("a.conf", "b.conf", "B.conf", ".hidden.conf", "c.txt", "[x].conf", "é.conf"):
        (conf / name).write_text("server {}\n")
    (conf / "dir.conf").mkdir()
    (conf / "link.conf").symlink_to(conf / "a.conf")
    (conf / "broken.conf").symlink_to(conf / "missing")
    (conf / "dirlink.conf").symlink_to(conf / "dir.conf")
    os.mkfifo(conf / "fifo.conf")
    patterns = ["*.conf", ".*", "*", "[ab]*.conf", "?.conf", "**", "*.CONF", "[[]x].conf", "*.conf*"]
    for pattern in patterns:
        for directory in (conf, tmp_path / "absent", conf / "a.conf", conf / "dir.conf"):
            text = os.path.join(directory, pattern)
            found = sorted(glob.glob(text))
            assert glob_files(text) == (found, [p for p in found if os.path.isfile(p)]), text
    nested = os.path.join(tmp_path, "*", "*.conf")  # magic above the last part: glob itself
    found = sorted(glob.glob(nested))
    assert glob_files(nested) == (found, [p for p in found if os.path.isfile(p)])


def test_session_cache_read_again_is_its_own_directives() -> None:
    from tlslint.checks._session import parse_cache

    _read_cache = parse_cache.__wrapped__

    text = "ssl_session_cache shared:SSL:10m;\nssl_session_cache shared:SSL:10m;\nssl_session_cache off;\n"
    first, twin, off = parse_text(SourceText(Path("a.conf"), text)).directives
    assert parse_cache(first) == parse_cache(first) == _read_cache(first)
    read = parse_cache(twin)
    assert read == _read_cache(twin) and read[2] is not None and read[2].directive is twin
    assert parse_cache(off) == (True, False, None)
    assert parse_cache(first)[2].directive is first  # type: ignore[union-attr]
