"""ingress-nginx as a dependency of an umbrella chart: its values under the dependency's
name, or under the alias the parent's Chart.yaml gives it (tlslint.sources.kubernetes.parent_chart)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import check_files

from tlslint.discovery import KUBERNETES, classify
from tlslint.sources.kubernetes.parent_chart import aliases

CHART = """\
apiVersion: v2
name: edge
version: 0.1.0
dependencies:
  - name: cert-manager
    version: 1.16.1
    repository: https://charts.jetstack.io
    alias: certs
  - name: ingress-nginx
    version: 4.11.3
    repository: https://kubernetes.github.io/ingress-nginx
    alias: {alias}
"""
VALUES = """\
{key}:
  controller:
    config:
      keep-alive: "0"
      use-http2: "true"
"""
SELECT = {"select": ["ING101"]}


def ing101(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, int, str]]:
    result = check_files(tmp_path, files, SELECT)
    return [(f.location.path.name, f.location.line, f.message) for f in result.findings]


def test_the_values_under_the_alias_are_ingress_nginxs(tmp_path: Path) -> None:
    files = {"Chart.yaml": CHART.format(alias="ingress"), "values.yaml": VALUES.format(key="ingress")}
    ((name, line, message),) = ing101(tmp_path, files)
    assert (name, line) == ("values.yaml", 4)
    assert message.startswith(
        "keep-alive is 0 in the ingress-nginx values of a parent chart, under its alias `ingress` "
        "(controller.config)"
    )


def test_the_values_under_the_charts_own_name_say_the_once(tmp_path: Path) -> None:
    files = {"values.yaml": VALUES.format(key="ingress-nginx")}
    ((_, _, message),) = ing101(tmp_path, files)
    assert message.startswith(
        "keep-alive is 0 in the ingress-nginx values of a parent chart (controller.config)"
    )


@pytest.mark.parametrize(
    ("chart", "why"),
    [
        (None, "no Chart.yaml: `ingress:` is any chart's key"),
        (CHART.format(alias="edge-ingress"), "the alias is another key"),
        (CHART.replace("name: ingress-nginx", "name: nginx-ingress").format(alias="ingress"), "F5's chart"),
        ("dependencies: [unclosed\n  alias: ingress\n", "a Chart.yaml that is not YAML"),
        ("\x00\x01alias", "a Chart.yaml that is not text"),
        ("alias: x\ndependencies: " + "[" * 3_000 + "]" * 3_000, "flow collections no chart has"),
        ("alias: x\ndependencies:\n" + "- " * 1_500 + "x\n", "nested deeper than the parser goes"),
    ],
)
def test_a_key_no_dependency_names_is_not_read(tmp_path: Path, chart: str | None, why: str) -> None:
    files = {"values.yaml": VALUES.format(key="ingress")}
    if chart is not None:
        files["Chart.yaml"] = chart
    assert ing101(tmp_path, files) == [], why


def test_the_values_file_is_found_by_the_alias_alone(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text(CHART.format(alias="ingress"))
    values = tmp_path / "values-prod.yaml"
    values.write_text("ingress:\n  controller:\n    replicaCount: 2\n")
    assert classify(values, explicit=False) == KUBERNETES
    assert aliases(tmp_path.resolve()) == ("ingress",)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "values.yaml").write_text(values.read_text())
    assert classify(other / "values.yaml", explicit=False) is None
