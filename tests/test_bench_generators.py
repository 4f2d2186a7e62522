"""The benchmark's generators write what they claim: the corpus's forms in the corpus's
proportions, trees that nginx and tlslint both load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import nginx_binary, shared_path
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.sources.nginx.model import Directive, SourceText, walk
from tlslint.sources.nginx.parser import ParseError, parse_text

sys.path.insert(0, str(Path(__file__).parent / "bench"))

from generate import nginx_tree
from realistic import overrides, realistic_tree

TOLERANCE = 0.15  # share of files; the corpus has 14 nginx files with servers


def forms(text: str) -> set[str] | None:
    """The forms a file with servers uses; None for a file without servers."""
    try:
        parsed = parse_text(SourceText(Path("corpus.conf"), text))
    except ParseError:
        return None
    directives = list(walk(parsed.directives))
    if not any(d.name == "server" and d.block is not None and _http_level(d) for d in directives):
        return None

    def has(name: str, test: object = None) -> bool:
        return any(d.name == name and (test is None or test(d)) for d in directives)  # type: ignore[operator]

    found = {
        "HTTP/2": has("listen", lambda d: "http2" in d.args) or has("http2"),
        "IPv6 listen": has("listen", lambda d: d.args[:1] and d.args[0].startswith("[")),
        "two servers or more": sum(d.name == "server" and d.block is not None for d in directives) > 1,
        "return 301 in a server": has("return", lambda d: d.parent is not None and d.parent.name == "server"),
        "regex location": has("location", lambda d: d.args[:1] in (("~",), ("~*",))),
        "named location": has("location", lambda d: d.args[:1] and d.args[0].startswith("@")),
        "if block": has("if"),
        "upstream{}": has("upstream"),
        "ssl on": has("ssl"),
        "add_header": has("add_header"),
        "include": has("include"),
        "ssl_session_cache": has("ssl_session_cache"),
        "WebSocket upgrade": has("proxy_set_header", lambda d: d.args[:1] == ("Upgrade",)),
    }
    return {name for name, present in found.items() if present}


def _http_level(directive: Directive) -> bool:
    return directive.parent is None or directive.parent.name == "http"


def shares(texts: list[str]) -> dict[str, float]:
    found = [f for f in map(forms, texts) if f is not None]
    names = set().union(*found)
    return {name: sum(name in f for f in found) / len(found) for name in sorted(names)}


def test_the_realistic_generator_writes_the_corpus_forms_in_its_proportions(tmp_path: Path) -> None:
    corpus = [p.read_text(encoding="utf-8") for p in shared_path("corpus", "nginx").iterdir()]
    realistic_tree(tmp_path, 400)
    generated = [p.read_text() for p in (tmp_path / "sites-enabled").iterdir()]
    expected, measured = shares(corpus), shares(generated)
    assert set(expected) == set(measured)
    drift = {name: (expected[name], measured[name]) for name in expected}
    assert all(abs(a - b) <= TOLERANCE for a, b in drift.values()), drift


def test_the_realistic_tree_loads_in_tlslint_without_a_refusal(tmp_path: Path) -> None:
    realistic_tree(tmp_path, 300)
    result = run([tmp_path], settings_for(tmp_path))
    codes = {f.code for f in result.findings}
    # Rules about configurations nginx refuses, and the loaders' problems.
    assert not codes & {"NGX001", "NGX002", "NGX003", "NGX106", "BKD103"}, codes
    assert {"NGX212", "NGX304", "NGX211"} <= codes  # the real forms reach the rules
    assert result.workspace.backends is not None and result.workspace.backends.backends
    # Its app servers are linked, but every location sends Connection: close or HTTP/1.0
    # (map $http_upgrade's '' close, a bare @app on nginx before 1.29.7): none reuses a
    # connection (NGX211), so there is no race to report (BKD101).
    from tlslint.checks._backends import links

    assert links(result.workspace) and not any(link.reused for link in links(result.workspace))
    assert "BKD101" not in codes
    # Its `ssl on` lines prove nginx before 1.25.1, where `listen ... http2` is the syntax;
    # on a later nginx its listens reach NGX305 (the lookup of issue 17).
    assert "NGX305" not in codes
    later = run([tmp_path], settings_for(tmp_path, {"nginx": {"version": "1.26.0"}}))
    assert "NGX305" in {f.code for f in later.findings}


@pytest.mark.nginx
@pytest.mark.parametrize("generator", [nginx_tree, realistic_tree])
def test_nginx_accepts_the_tree_it_is_timed_on(tmp_path: Path, generator: object) -> None:
    nginx = nginx_binary()
    generator(tmp_path, 60, tls=False)  # type: ignore[operator]
    done = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_overrides_load_with_every_host(tmp_path: Path) -> None:
    overrides(tmp_path, 50)
    result = check_files(tmp_path, {})
    assert not [f for f in result.findings if f.code in ("APG001", "APG201", "APG205")]
    assert result.workspace.apigee is not None
    assert len(result.workspace.apigee.hosts) == 50
