"""Where the real nginx's tokenizer decides whether a file loads, tlslint decides the same.

nginx reads its configuration with ngx_conf_read_token (src/core/ngx_conf_file.c);
each case runs the real ``nginx -t`` (tests/nginx_harness.py) on a whole file and
tlslint on the same text, and holds both to the verdict measured on nginx 1.22.1:

* ``$`` followed by ``{``: the ``variable`` flag keeps that ``{`` in the word
  (``if (ch == '{' && variable) continue;``), so it opens no block.
* ``}`` inside a word is plain: only ``;``, ``{`` and whitespace end a word, so
  ``a}b`` is one word (at the start of a token ``}`` ends the block).
* ``too long parameter``: a token nginx cannot hold, with the character read after
  it, in its 4096-byte buffer (NGX_CONF_BUFFER); counted in bytes, comments too.

A file nginx refuses is NGX001 with its line and exit 2; one it loads has no NGX001.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import check_files
from nginx_harness import MAIN, nginx_t


@dataclass(frozen=True)
class Case:
    id: str
    body: str  # inside http{}, from line 3
    loads: bool  # nginx -t 1.22.1's verdict
    message: str = ""  # a fragment of nginx's message, and of NGX001's, when it does not load
    line: int = 0  # the line both name


def server(inside: str) -> str:
    return "server {\n    listen 127.0.0.1:18080;\n    " + inside + "\n}"


LONG = "too long parameter"
CASES = [
    # -- "$" + "{" ---------------------------------------------------------------
    Case("location-dollar-brace", server("location ~ \\.php${ return 200; }"), False, "location", 5),
    Case("ciphers-dollar-brace", "ssl_ciphers ${;", True),
    Case("map-key-dollar-brace", "map $uri $m {\n    default 0;\n    ~^/a${ 1;\n}", True),
    # -- "}" inside a word: plain (only ";", "{" and whitespace end a word) -------------
    Case("brace-inside-a-word", server("add_header X a}b;"), True),
    Case("brace-ending-a-location-name", server("location /x} { return 204; }"), True),
    Case("brace-after-an-argument", server("return 204 }"), False),  # nginx: unexpected "}"
    # -- "too long parameter" ------------------------------------------------------
    Case("word-4095-before-semicolon", "add_header X " + "a" * 4095 + ";", True),
    Case("word-4096-before-semicolon", "add_header X " + "a" * 4096 + ";", False, LONG, 3),
    Case("word-4094-before-a-word", "add_header X " + "a" * 4094 + " always;", True),
    Case("word-4095-before-a-word", "add_header X " + "a" * 4095 + " always;", False, LONG, 3),
    Case("quoted-4094", 'add_header X "' + "a" * 4094 + '";', True),
    Case("quoted-4095", 'add_header X "' + "a" * 4095 + '";', False, LONG, 3),
    Case("unterminated-long-quote", 'add_header X "' + "a" * 5000 + ";\n", False, LONG, 3),
    Case("comment-4095", "#" + "c" * 4094 + "\nadd_header X y;", True),
    Case("comment-4096", "#" + "c" * 4095 + "\nadd_header X y;", False, LONG, 3),
    Case("comment-bytes-not-characters", "#" + "é" * 2048 + "\nadd_header X y;", False, LONG, 3),
    Case("comment-4095-bytes", "#" + "é" * 2047 + "\nadd_header X y;", True),
    Case("long-blank-run", "add_header X y;" + "\n" * 5000 + "add_header Y z;", True),
]


def text_of(case: Case) -> str:
    return "events {}\nhttp {\n" + case.body + "\n}\n"


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_nginx_verdict(case: Case) -> None:
    result = nginx_t(text_of(case), kind=MAIN)
    assert result.ok == case.loads, result.describe()
    if not case.loads and case.message:
        assert any(case.message in error and f"nginx.conf:{case.line}" in error for error in result.errors), (
            result.describe()
        )


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_tlslint_verdict(tmp_path: Path, case: Case) -> None:
    result = check_files(tmp_path, {"nginx.conf": text_of(case)}, target="nginx.conf")
    errors = [f for f in result.findings if f.code == "NGX001"]
    if case.loads:
        assert errors == [], [f.message for f in errors]
        return
    assert errors, [f"{f.code} {f.message}" for f in result.findings]
    if case.message:
        assert case.message in errors[0].message
        assert errors[0].location.line == case.line


def test_the_command_exits_2_and_fix_writes_nothing(tmp_path: Path) -> None:
    """The fuzzer's form: --fix --unsafe-fixes rewrote a file nginx refuses."""
    text = (
        "events {}\nhttp {\n    ssl_session_timeout 1m;\n    server {\n        listen 8080;\n"
        "        location ~ \\.php${ return 200; }\n    }\n}\n"
    )
    assert not nginx_t(text, kind=MAIN).ok
    path = tmp_path / "nginx.conf"
    path.write_text(text)
    for args in (["check"], ["check", "--fix", "--unsafe-fixes"]):
        run = subprocess.run(
            [sys.executable, "-m", "tlslint", "--no-cache", *args, "nginx.conf"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert run.returncode == 2, run.stdout + run.stderr
        assert "NGX001" in run.stdout
        assert path.read_text() == text


def test_a_sniffed_file_with_a_too_long_token_is_still_read(tmp_path: Path) -> None:
    """A file found by its content (no .conf name) is nginx whatever its tokens' length:
    a too-long one is its NGX001, not a reason to skip it as "not nginx"."""
    site = "server {\n    listen 80;\n    # " + "x" * 5000 + "\n}\n"
    result = check_files(tmp_path, {"sites-enabled/default": site})
    assert [(f.code, f.location.line) for f in result.findings] == [("NGX001", 3)]
    assert LONG in result.findings[0].message
