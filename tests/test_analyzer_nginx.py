"""The analyzer (NGX010-NGX012) against the real ``nginx -t`` (Debian's 1.22.1 in CI).

On every corpus file: where nginx accepts it, the analyzer finds nothing; where nginx
refuses a directive (unknown, not allowed here, wrong arguments), the analyzer reports
that line. Then each accepted file is broken on purpose, one directive at a time (a
typo in its name, its argument dropped), and both must refuse it on the same line.
Disagreements are listed in ``DISAGREEMENTS`` with their reason. crossplane's own
analyzer (``crossplane.parse`` with its context and argument checks) is held to the
files nginx accepts as well.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from conftest import nginx_binary, shared_files
from helpers import check_files
from nginx_harness import NginxTestResult, nginx_t, nginx_version

from tlslint.findings import Severity
from tlslint.nginx_analysis import check_children
from tlslint.nginx_directives import HTTP_LOC, HTTP_MAIN, HTTP_SRV, MAIN, table_for
from tlslint.nginx_values import READERS
from tlslint.nginx_versions import format_version
from tlslint.sources.nginx.model import Directive, SourceText, walk
from tlslint.sources.nginx.parser import parse_text

pytestmark = pytest.mark.nginx

RULES = ["NGX010", "NGX011", "NGX012"]
# A line only other releases accept is NGX004's (NGX304 and NGX305 for `ssl on;` and
# `http2 on;`, which fix them): their errors count as tlslint's "nginx refuses this" too.
DEDICATED = ["NGX004", "NGX304", "NGX305"]
DIRECTIVE_REFUSAL = re.compile(
    r'unknown directive "|directive is not allowed here|invalid number of arguments'
    r'|it must be "on" or "off"|has no opening "\{"|is not terminated by ";"'
    r'|invalid value "|directive invalid (value|number)|invalid session cache "'
)
# Corpus files on which nginx -t and the analyzer disagree, and why.
DISAGREEMENTS: dict[str, str] = {}
# The blocks whose bodies are directives (the analyzer's contexts); a typo inside a map
# or types{} body is a value, not a directive.
CHECKED_BLOCKS = frozenset(
    {"http", "server", "location", "if", "upstream", "events", "stream", "mail", "limit_except"}
)


def _line(message: str) -> int:
    found = re.search(r":(\d+)$", message)
    assert found is not None, message
    return int(found.group(1))


def _findings(tmp_path: Path, text: str, version: str) -> list[tuple[int, str, str]]:
    """tlslint's "nginx refuses this": NGX010-NGX012, and the version rules' errors."""
    settings = {"select": RULES + DEDICATED, "nginx": {"version": version}}
    result = check_files(tmp_path, {"corpus.conf": text}, settings)
    return [
        (f.location.line, f.code, f.message)
        for f in result.findings
        if f.code in RULES or (f.code in DEDICATED and f.severity == Severity.ERROR)
    ]


@functools.lru_cache(maxsize=64)
def _nginx_t(text: str) -> NginxTestResult:
    """nginx -t on a corpus text as it is (each file is asked by three tests)."""
    return nginx_t(text, stub_missing_includes=True)


def _installed() -> str:
    return format_version(nginx_version(nginx_binary()))  # type: ignore[arg-type]


@pytest.mark.parametrize("path", shared_files("corpus", "nginx"))
def test_nginx_and_the_analyzer_agree_on_the_corpus(tmp_path: Path, path: Path | None) -> None:
    assert path is not None
    text = path.read_text(encoding="utf-8")
    version = _installed()
    result = _nginx_t(text)
    ours = _findings(tmp_path, text, version)
    if path.name in DISAGREEMENTS:
        pytest.xfail(DISAGREEMENTS[path.name])
    refusals = [error for error in result.errors if DIRECTIVE_REFUSAL.search(error)]
    if result.ok:
        assert ours == [], f"nginx {version} accepts {path.name}; the analyzer says {ours}"
    elif refusals:
        line = _line(refusals[0])
        assert any(found == line for found, _, _ in ours), (refusals[0], ours, result.describe())
    else:  # refused for another reason (a host that does not resolve): nginx read every line before it
        stop = _line(result.errors[0])
        assert all(found >= stop for found, _, _ in ours), (result.errors[0], ours)


def _checked_directives(text: str) -> list[Directive]:
    """The directives of a file that stand where the analyzer checks them."""
    parsed = parse_text(SourceText(Path("corpus.conf"), text))
    found = []
    for directive in walk(parsed.directives):
        parent = directive.parent
        if parent is None or (parent.name in CHECKED_BLOCKS and _checked(parent)):
            found.append(directive)
    return found


def _checked(directive: Directive) -> bool:
    parent = directive.parent
    while parent is not None:
        if parent.name not in CHECKED_BLOCKS:
            return False
        parent = parent.parent
    return True


def _variants(text: str) -> list[tuple[str, str, int]]:
    """(what, broken text, line): a typo in a directive's name; a one-argument directive
    that needs its argument with none; a value nginx reads (a time, a size, a word from
    its list) that it cannot. A few per file, spread over it."""
    directives = [d for d in _checked_directives(text) if d.name != "include"]
    picked = directives[:: max(1, len(directives) // 3)][:3]
    variants = []
    for directive in picked:
        end = directive.start + len(directive.name)
        variants.append(("typo", text[:end] + "x" + text[end:], directive.line))
    table = table_for(None)
    for directive in directives:
        if len(directive.args) != 1 or directive.block is not None:
            continue
        stripped = Directive(directive.name, (), directive.source, directive.start, directive.end,
                             directive.start, directive.start)  # fmt: skip
        left: list[object] = []
        for context in (MAIN, HTTP_MAIN, HTTP_SRV, HTTP_LOC):
            check_children([stripped], context, table, left)  # type: ignore[arg-type]
        if len(left) < 4:
            continue  # takes no argument somewhere, or is not a plain one-argument directive
        broken = text[: directive.args_start] + text[directive.args_end :]
        variants.append(("argument dropped", broken, directive.line))
        break
    for directive in directives:
        if directive.name in READERS and directive.args and directive.block is None:
            broken = text[: directive.args_start] + "bogus" + text[directive.args_end :]
            variants.append(("value refused", broken, directive.line))
            break
    return variants


@pytest.mark.parametrize("path", shared_files("corpus", "nginx"))
def test_both_refuse_the_same_broken_line(tmp_path: Path, path: Path | None) -> None:
    assert path is not None
    text = path.read_text(encoding="utf-8")
    version = _installed()
    if not _nginx_t(text).ok:
        pytest.skip(f"nginx {version} refuses {path.name} as it is")
    variants = _variants(text)
    assert variants, f"{path.name}: no directive to break"
    for what, broken, line in variants:
        result = nginx_t(broken, stub_missing_includes=True)
        assert not result.ok, f"{what} at line {line}: nginx accepts it\n{result.describe()}"
        refusals = [error for error in result.errors if DIRECTIVE_REFUSAL.search(error)]
        assert refusals and _line(refusals[0]) == line, result.describe()
        ours = _findings(tmp_path, broken, version)
        assert line in [found for found, _, _ in ours], (what, line, refusals[0], ours)


# Wrappers that put a snippet where nginx -t's harness puts it, on the first line so that
# line numbers stay those of the file.
WRAPPERS = {"main": ("", ""), "http": ("http { ", "\n}\n"), "server": ("http { server { ", "\n} }\n")}


@pytest.mark.parametrize("path", shared_files("corpus", "nginx"))
def test_crossplanes_own_analyzer_accepts_what_nginx_accepts(tmp_path: Path, path: Path | None) -> None:
    """crossplane.parse with its context and argument checks, on each file Debian's nginx
    accepts: no error (its table is the base of tlslint's; its gaps are the supplement's)."""
    import crossplane

    from tlslint.workspace.nginx import detect_context

    assert path is not None
    text = path.read_text(encoding="utf-8")
    if not _nginx_t(text).ok:
        pytest.skip(f"nginx {_installed()} refuses {path.name} as it is")
    head, tail = WRAPPERS[detect_context(parse_text(SourceText(path, text)))]
    copy = tmp_path / "nginx.conf"
    copy.write_text(head + text + tail, encoding="utf-8")
    payload = crossplane.parse(str(copy), single=True, check_ctx=True, check_args=True, comments=False)
    errors = [error["error"] for error in payload["errors"]]
    assert errors == [], errors
