"""YAML read as go-yaml reads it: aliases that expand too far.

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

from tlslint.sources.apigee.tree import AliasingError, parse, to_data
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
