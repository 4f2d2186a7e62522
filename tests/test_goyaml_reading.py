"""YAML read as go-yaml reads it: tabs, and aliases that expand too far.

Every YAML file tlslint reads is applied by a tool that reads it with go-yaml: Helm
(values, overrides.yaml), kubectl (manifests), docker compose. A file they read must not
be refused here (a tab before a comment was "invalid YAML", exit 2), and a file they refuse
must not pass (an alias bomb outside the objects validated was checked, and `--fix` wrote
it). The last tests of each part hold the facts against the real helm and kubectl.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import helm_binary, kubectl_binary
from helpers import check_files, cli

from tlslint.sources.apigee.tree import AliasingError, YamlError, parse, to_data
from tlslint.sources.kubernetes.documents import load_source as load_kubernetes
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python.compose import load as load_compose


def read(text: str) -> Any:
    """The first document's data, as the rules see it."""
    documents = parse(SourceText(Path("x.yaml"), text))
    return to_data(documents[0], keep_placeholders=False) if documents else None


def helm_reads(tmp_path: Path, values: str) -> tuple[bool, Any]:
    """(True, the values) as helm reads them from ``-f values``, or (False, helm's error)."""
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: t\nversion: 0.1.0\n")
    (chart / "templates" / "values.yaml").write_text("{{ toJson .Values }}\n")
    (tmp_path / "values.yaml").write_text(values)
    done = subprocess.run(
        [helm_binary(), "template", str(chart), "-f", str(tmp_path / "values.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        return False, done.stderr
    return True, json.loads(done.stdout.strip().splitlines()[-1])


# -- aliases ------------------------------------------------------------------------------------
def bomb(levels: str = "abcdefghij", hosts: str = "") -> str:
    """Nine of each level's alias to the level before: 9**10 nodes once expanded."""
    lines = [f"{levels[0]}: &{levels[0]} [x,x,x,x,x,x,x,x,x]"]
    for previous, level in itertools.pairwise(levels):
        lines.append(f"{level}: &{level} [" + ",".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n" + hosts


HOSTS = "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n    minTLSProtocolVersion: 1.2\n"
TESTER_BOMB = bomb(hosts=HOSTS)  # outside virtualhosts, which alone was validated


def test_an_alias_bomb_outside_the_objects_checked_does_not_load(tmp_path: Path) -> None:
    """Before: one APG202 warning about the version, exit 1; helm refuses the file."""
    (tmp_path / "overrides.yaml").write_text(TESTER_BOMB)
    started = time.monotonic()
    result = cli(tmp_path, "overrides.yaml")
    assert time.monotonic() - started < 20
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    (line,) = [line for line in result.stdout.splitlines() if ": APG" in line]
    assert line.startswith("overrides.yaml:4:17: APG201 [error] document contains excessive aliasing: ")
    assert "with *c here expanded, 4,630 of the 4,671 nodes read come through aliases" in line
    assert "more than the 99% that go-yaml (the YAML reader of helm and kubectl) allows" in line


@pytest.mark.parametrize("fix", [("--fix",), ("--fix", "--unsafe-fixes"), ("--diff",)])
def test_fix_never_writes_an_alias_bomb(tmp_path: Path, fix: tuple[str, ...]) -> None:
    """Before: `--fix` quoted the version and wrote the file."""
    path = tmp_path / "overrides.yaml"
    path.write_text(TESTER_BOMB)
    result = cli(tmp_path, *fix, "overrides.yaml")
    assert result.returncode == 2, result.stdout + result.stderr
    assert path.read_text() == TESTER_BOMB
    assert "fixed" not in result.stderr and "+++" not in result.stdout


def test_an_alias_bomb_does_not_load_in_any_yaml_tier(tmp_path: Path) -> None:
    """Gateway manifests and chart values, compose files: one reader, one rule."""
    values = bomb(hosts="controller:\n  config:\n    ssl-session-cache: 'false'\n")
    kube = load_kubernetes(SourceText(tmp_path / "values.yaml", values))
    assert [(p.code, p.line) for p in kube.problems] == [("GW002", 4)] and kube.values == []
    assert kube.problems[0].message.startswith("document contains excessive aliasing")
    compose = load_compose(SourceText(tmp_path / "compose.yaml", bomb(hosts="services:\n  api: {}\n")))
    assert compose.services == [] and [p.line for p in compose.problems] == [4]
    assert compose.problems[0].message.startswith("document contains excessive aliasing")


def test_an_alias_bomb_is_not_taken_for_a_helm_template(tmp_path: Path) -> None:
    """Valid YAML refused for its aliases is no template that YAML cannot read (APG001,
    info, exit 0), even with a `{{ }}` in it."""
    text = "# rendered from {{ .Values.x }}\n" + TESTER_BOMB
    (finding,) = check_files(tmp_path, {"overrides.yaml": text}).findings
    assert finding.code == "APG201" and finding.location.line == 5


def test_a_recursive_alias_does_not_load() -> None:
    """go-yaml: "anchor 'a' value contains itself"; it was read here, and only a
    virtual host's own cycle was reported."""
    with pytest.raises(AliasingError) as raised:
        parse(SourceText(Path("x.yaml"), "labels: &a {app: web, self: [1, *a]}\n"))
    assert (raised.value.line, raised.value.column) == (1, 33)
    assert raised.value.summary == (
        "recursive alias: *a is part of the value of its own anchor &a, so it never ends "
        "expanding (go-yaml, the YAML reader of helm and kubectl, refuses it: "
        "\"anchor 'a' value contains itself\")"
    )


def _items(name: str, count: int) -> str:
    return "{" + ", ".join(f"{name}{i}: {i}" for i in range(count)) + "}"


def _aliases(count: int) -> str:
    """An anchor of 151 nodes, and ``count`` aliases of it."""
    return "a: &a [" + ",".join(["x"] * 150) + "]\nb: [" + ",".join(["*a"] * count) + "]\n"


# Documents whose n-th alias takes them past go-yaml's limit, and n, as helm measured it.
SHAPES: dict[str, tuple[Callable[[int], str], int]] = {
    "a list of aliases": (_aliases, 298),
    "nodes after them": (lambda n: _aliases(n) + "c: [" + ",".join(["y"] * 500) + "]\n", 298),
    "a mapping of aliases": (
        lambda n: f"a: &a {_items('x', 60)}\nb:\n" + "".join(f"  k{i}: *a\n" for i in range(n)),
        3467,
    ),
    "merge keys": (
        lambda n: f"a: &a {_items('x', 70)}\nb:\n" + "".join(f"  - <<: *a\n    w: {i}\n" for i in range(n)),
        3257,
    ),
    "merge lists": (
        lambda n: (
            f"a: &a {_items('x', 70)}\nc: &c {_items('y', 70)}\nb:\n"
            + "".join(f"  - <<: [*a, *c]\n    w: {i}\n" for i in range(n))
        ),
        1507,
    ),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_limit_is_go_yaml_s_to_the_alias(shape: str) -> None:
    make, first_refused = SHAPES[shape]
    read(make(first_refused - 1))
    with pytest.raises(AliasingError, match="document contains excessive aliasing"):
        read(make(first_refused))


def _padded(padding: int) -> str:
    """``padding`` plain nodes, then 2,000 aliases of 151 nodes."""
    return "p: [" + ",".join(["y"] * padding) + "]\n" + _aliases(2000)


def test_nodes_written_before_the_aliases_count_as_go_yaml_counts_them() -> None:
    """go-yaml stops at the first alias past its limit: nodes after it do not save the
    document (the 500 of "nodes after them"), nodes before it may."""
    read(_padded(893))
    with pytest.raises(AliasingError):
        read(_padded(892))


def test_counting_never_expands() -> None:
    """9**30 nodes nine by nine, 2**3000 two by two: refused at once, as go-yaml stops."""
    nines = bomb("abcdefghijklmnopqrstuvwxyzABCD")
    twos = "a0: &a0 [x, x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}]\n" for i in range(1, 3000))
    for text in (nines, twos):
        started = time.monotonic()
        with pytest.raises(AliasingError, match="document contains excessive aliasing"):
            read(text)
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("shape", list(SHAPES))
def test_helm_refuses_at_the_same_alias(tmp_path: Path, shape: str) -> None:
    make, first_refused = SHAPES[shape]
    assert helm_reads(tmp_path, make(first_refused - 1))[0]
    read_it, error = helm_reads(tmp_path, make(first_refused))
    assert not read_it and "document contains excessive aliasing" in error


def test_helm_and_kubectl_refuse_what_is_refused_here(tmp_path: Path) -> None:
    assert helm_reads(tmp_path, _padded(893))[0] and not helm_reads(tmp_path, _padded(892))[0]
    read_it, error = helm_reads(tmp_path, TESTER_BOMB)
    assert not read_it and "document contains excessive aliasing" in error
    read_it, error = helm_reads(tmp_path, "labels: &a {app: web, self: [1, *a]}\n")
    assert not read_it and "anchor 'a' value contains itself" in error
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\nx:\n" + "".join(
        f"  {line}\n" for line in _aliases(317).splitlines()
    )
    with pytest.raises(AliasingError):
        read(manifest)
    (tmp_path / "m.yaml").write_text(manifest)
    done = subprocess.run(
        [kubectl_binary(), "create", "--dry-run=client", "--validate=false", "-o", "json", "-f", "m.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "document contains excessive aliasing" in done.stderr


# -- tabs ---------------------------------------------------------------------------------------
# Where go-yaml takes a tab as a blank, and what it reads (measured with helm 3.17).
TABS_READ: dict[str, Any] = {
    "minTLSProtocolVersion: 1.2\t# floor\n": {"minTLSProtocolVersion": 1.2},
    "sslSecret: prod-tls\t\n": {"sslSecret": "prod-tls"},
    "k: v \t \t\n": {"k": "v"},
    "k:\tv\n": {"k": "v"},
    "k: \tv\n": {"k": "v"},
    "k\t: v\n": {"k": "v"},
    '"k"\t:\t"v"\t# c\n': {"k": "v"},
    "k: a\tb\n": {"k": "a\tb"},
    "k: a \t b\n": {"k": "a \t b"},
    "k: a\t#b\n": {"k": "a"},
    "k: a\t\n  b\n": {"k": "a b"},
    "k: a\n  \tb\n": {"k": "a b"},
    "k: v\n  \t# c\n": {"k": "v"},
    "k:\t# nothing\nj: 1\n": {"k": None, "j": 1},
    "k:\t\n  j:\t1\t\n": {"k": {"j": 1}},
    "k: [a\tb,\tc]\t# c\n": {"k": ["a\tb", "c"]},
    "k: {a: b}\t\n": {"k": {"a": "b"}},
    "l:\n- a\t# c\n- k:\tv\t\n": {"l": ["a", {"k": "v"}]},
    "a: &x\tv\t\nb: *x\t# c\n": {"a": "v", "b": "v"},
    "---\t# c\nk: v\n": {"k": "v"},
    "k: |-\t\t# c\n  x\n  y\nz: 1\n": {"k": "x\ny", "z": 1},
    "k: >2\t\n   x\nz: 1\n": {"k": " x\n", "z": 1},
}
# Where go-yaml refuses it, and what is said here.
TABS_REFUSED: dict[str, tuple[int, int, str]] = {
    "virtualhosts:\n\t- name: a\n": (2, 1, "a tab in the indentation: YAML indents with spaces"),
    "k: v\n\t# c\n": (2, 1, "a tab in the indentation"),
    "k: v\n\t\n": (2, 1, "a tab in the indentation"),
    "k: a\n\tb\n": (2, 1, "a tab in the indentation"),
    "l:\n-\tv\n": (2, 2, "a tab after `-`, where YAML needs a space"),
    "l:\n- \tv\n": (2, 3, "a tab after `-`"),
    "? \tk\n: v\n": (1, 3, "a tab after `?`"),
    "? k\n:\tv\n": (2, 2, "a tab after `:`"),
}


@pytest.mark.parametrize("text", list(TABS_READ))
def test_a_tab_go_yaml_reads_is_read_alike(text: str) -> None:
    assert read(text) == TABS_READ[text]


@pytest.mark.parametrize("text", list(TABS_REFUSED))
def test_a_tab_go_yaml_refuses_is_a_clear_error(text: str) -> None:
    line, column, message = TABS_REFUSED[text]
    with pytest.raises(YamlError) as raised:
        read(text)
    assert (raised.value.line, raised.value.column) == (line, column)
    assert raised.value.summary.startswith(f"invalid YAML: {message}")
    assert raised.value.summary.endswith("(helm and kubectl refuse it too)")


def test_tabs_are_read_as_helm_reads_them(tmp_path: Path) -> None:
    for text, expected in TABS_READ.items():
        assert helm_reads(tmp_path, text) == (True, expected), text
    for text in TABS_REFUSED:
        assert not helm_reads(tmp_path, text)[0], text


def test_a_tab_before_a_comment_is_checked_not_refused(tmp_path: Path) -> None:
    """Before: APG201 "found character '\\t' that cannot start any token", exit 2."""
    text = "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\t\n"
    text += "    minTLSProtocolVersion: 1.2\t# floor\n"
    (tmp_path / "overrides.yaml").write_text(text)
    result = cli(tmp_path, "overrides.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith("overrides.yaml:4:28: APG202 [warning] minTLSProtocolVersion: 1.2 is")


def test_fix_keeps_every_tab(tmp_path: Path) -> None:
    """Byte for byte: only the value quoted changes, every tab stays where it was."""
    text = (
        "# overrides\t(prod)\r\nvirtualhosts:\t# the groups\r\n  - name:\tprod\t\r\n"
        "    sslSecret: prod-tls\t\r\n    minTLSProtocolVersion: 1.2\t# floor\r\n"
    )
    path = tmp_path / "overrides.yaml"
    path.write_bytes(text.encode())
    result = cli(tmp_path, "--fix", "overrides.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert path.read_bytes() == text.replace("1.2\t", '"1.2"\t').encode()
