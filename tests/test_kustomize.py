"""Kustomize builds rendered by the real engine, checked as deployments, mapped back.

The tree under tests/data/kustomize/hybrid is hand-written in the shape of an Apigee
hybrid installation (its README says what each part is); each test copies it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import kustomize_binary
from helpers import check_files, settings_for

from tlslint import catalogue
from tlslint.engine import RunOptions, RunResult, run
from tlslint.findings import Finding, Severity
from tlslint.kustomize import graph as graphs
from tlslint.kustomize.render import clean_error

TREE = Path(__file__).parent / "data" / "kustomize" / "hybrid"
REQUIRED = {"apigee": {"non-sni": "required"}}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(TREE, root)
    (root / ".git").mkdir()  # a repository root: the search for builds stops here
    return root


@pytest.fixture
def engine() -> str:
    return kustomize_binary()


def check(root: Path, *targets: str, mapping: dict[str, Any] | None = None, **options: Any) -> RunResult:
    paths = [root / t for t in targets] if targets else [root]
    return run(
        paths, settings_for(root, REQUIRED if mapping is None else mapping), run_options=RunOptions(**options)
    )


def where(finding: Finding, root: Path) -> str:
    return f"{finding.location.path.relative_to(root)}:{finding.location.line}"


def summary(result: RunResult, root: Path) -> list[tuple[str, str]]:
    return sorted((f.code, where(f, root)) for f in result.findings)


def test_each_overlay_is_its_own_deployment(tree: Path, engine: str) -> None:
    """The issue's repository: overlays on a base without additionalGateways, each with one
    of three alternative components that define the same route and link it by a JSON patch."""
    result = check(tree)
    found = summary(result, tree)
    # prod and staging link a proper non-SNI route: nothing to say about them.
    assert not [f for f in result.findings if "overlays/prod" in f.message or "overlays/staging" in f.message]
    # The base alone has no additionalGateways; every build's patch adds it: no APG103 but
    # in dev, whose patch links an HTTP-only route (below).
    assert [
        f for f in result.findings if f.code == "APG103" and "[build: overlays/dev]" not in f.message
    ] == []
    # Three routes of one name exist in the tree, but never in one build.
    assert "APG106" not in [code for code, _ in found]
    # dev links only an HTTP-only route on port 80, a valid http-client route (issue 15),
    # while clients without SNI are required: no route serves them, and the host lists no
    # TLS wildcard route. Findings at the host, for that build only.
    dev = [f for f in result.findings if f.message.endswith("[build: overlays/dev]")]
    assert {(f.code, where(f, tree)) for f in dev} == {
        ("APG101", "base/routeconfig.yaml:1"),
        ("APG103", "base/routeconfig.yaml:1"),
    }
    (missing,) = [f for f in dev if f.code == "APG101"]  # never "no such route": one is there
    assert "ApigeeRoute 'custom-additional-route' serves plain HTTP only" in missing.message
    assert [(r.location.path.relative_to(tree).as_posix(), r.location.line) for r in missing.related] == [
        ("components/http-client/route.yaml", 8)
    ]
    (linked,) = [f for f in dev if f.code == "APG103"]
    assert "it lists 'custom-additional-route', which serves plain HTTP only" in linked.message
    assert all(f.fix is None for f in dev)
    # The broken overlay: kustomize's own message, once; the unused component, once.
    assert [(c, w) for c, w in found if c.startswith("RND")] == [
        ("RND001", "overlays/broken/kustomization.yaml:3"),  # the entry of the missing file
        ("RND004", "components/unused/kustomization.yaml:2"),
    ]
    broken = next(f for f in result.findings if f.code == "RND001")
    assert "missing.yaml" in broken.message and "no such file or directory" in broken.message
    assert "`kubectl kustomize overlays/broken`" in broken.message or "`kustomize build" in broken.message
    assert result.exit_code(Severity.WARNING) == 2  # a build that fails leaves the verdict incomplete


def test_a_field_a_json_patch_set_is_reported_at_the_patch(tree: Path, engine: str) -> None:
    link = tree / "components/non-sni-client/link-route.yaml"
    link.write_text(link.read_text().replace('["custom-additional-route"]', '["custom-additonal-route"]'))
    result = check(tree, "overlays/prod")
    [finding] = [f for f in result.findings if f.code == "APG104"]
    assert where(finding, tree) == "components/non-sni-client/link-route.yaml:3"  # the value's line
    assert "did you mean 'custom-additional-route'?" in finding.message
    assert finding.message.endswith("[build: overlays/prod]")
    # The host without the wildcard route (APG103) is the ApigeeRouteConfig, in its own file.
    [host] = [f for f in result.findings if f.code == "APG103"]
    assert where(host, tree) == "base/routeconfig.yaml:1"


def test_a_field_a_strategic_merge_patch_set_is_reported_at_the_patch(tree: Path, engine: str) -> None:
    patch = tree / "overlays/staging/tls-min.yaml"
    patch.write_text(patch.read_text().replace("TLSV1_2", "TLS_V1_2"))
    result = check(tree, "overlays/staging")
    [finding] = [f for f in result.findings if f.code == "APG201"]
    assert (where(finding, tree), finding.location.column) == ("overlays/staging/tls-min.yaml:7", 25)
    assert "minProtocolVersion is 'TLS_V1_2'" in finding.message


def test_an_inline_patch_is_reported_at_its_line_in_the_kustomization(tree: Path, engine: str) -> None:
    overlay = tree / "overlays/prod/kustomization.yaml"
    overlay.write_text(
        overlay.read_text()
        + "patches:\n- target:\n    kind: ApigeeRoute\n  patch: |-\n    - op: replace\n"
        + "      path: /spec/enableNonSniClient\n      value: false\n"
    )
    result = check(tree, "overlays/prod")
    [finding] = [f for f in result.findings if f.code == "APG102"]
    assert where(finding, tree) == "overlays/prod/kustomization.yaml:13"


def test_a_json_6902_patch_is_applied_after_patches(tmp_path: Path, engine: str) -> None:
    # Measured with kubectl: patchesJson6902 wins over `patches` on one field, wherever
    # each is written; both set keep-alive "0" here, and the finding was placed at the
    # `patches` entry.
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "base").mkdir()
    (root / "base/cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-nginx-controller\n"
        '  namespace: ingress-nginx\ndata:\n  keep-alive: "75"\n'
    )
    (root / "base/kustomization.yaml").write_text("resources: [cm.yaml]\n")
    replace = '  patch: |-\n    - op: replace\n      path: /data/keep-alive\n      value: "0"\n'
    (root / "ov").mkdir()
    (root / "ov/kustomization.yaml").write_text(
        "resources: [../base]\npatchesJson6902:\n"
        "- target: {version: v1, kind: ConfigMap, name: ingress-nginx-controller}\n"
        + replace
        + "patches:\n- target: {kind: ConfigMap, name: ingress-nginx-controller}\n"
        + replace
    )
    result = check(root, "ov", mapping={})
    [finding] = [f for f in result.findings if f.code == "ING101"]
    assert where(finding, root) == "ov/kustomization.yaml:7"


def test_a_namespace_set_by_a_kustomization_is_reported_there(tree: Path, engine: str) -> None:
    overlay = tree / "overlays/prod/kustomization.yaml"
    overlay.write_text(overlay.read_text() + "namespace: apigee-system\n")
    result = check(tree, "overlays/prod")
    [finding] = [f for f in result.findings if f.code == "APG110"]
    assert where(finding, tree) == "overlays/prod/kustomization.yaml:7"


def test_the_same_finding_in_two_builds_is_one_finding_naming_both(tree: Path, engine: str) -> None:
    route = tree / "base/routeconfig.yaml"
    route.write_text(route.read_text().replace("app: apigee-ingressgateway", "app: other-gateway"))
    shutil.copytree(tree / "overlays/prod", tree / "overlays/qa")  # the same component as prod
    result = check(tree, "overlays/prod", "overlays/qa")
    [finding] = [f for f in result.findings if f.code == "APG107"]
    assert finding.message.endswith("[builds: overlays/prod, overlays/qa]")
    assert where(finding, tree) == "components/non-sni-client/route.yaml:14"  # the route's selector


def test_files_named_one_by_one_are_checked_through_the_builds_that_read_them(
    tree: Path, engine: str
) -> None:
    """pre-commit passes the changed files: the builds around them are found and rendered,
    and only findings in the named files are reported (a failing build is always said)."""
    # The HTTP-only route is right as it is: dev's findings are at the host, not in it.
    result = check(tree, "components/http-client/route.yaml", force_exclude=True)
    assert summary(result, tree) == []
    assert summary(check(tree, "overlays/dev/kustomization.yaml", force_exclude=True), tree) == [
        ("APG101", "base/routeconfig.yaml:1"),
        ("APG103", "base/routeconfig.yaml:1"),
    ]
    assert summary(check(tree, "components/non-sni-client/link-route.yaml", force_exclude=True), tree) == []
    # The base holds dev's findings (at its host), and the broken build reads it too: that
    # build's failure is said.
    assert summary(check(tree, "base/routeconfig.yaml", force_exclude=True), tree) == [
        ("APG101", "base/routeconfig.yaml:1"),
        ("APG103", "base/routeconfig.yaml:1"),
        ("RND001", "overlays/broken/kustomization.yaml:3"),
    ]


def test_components_given_alone_are_checked_through_the_builds_that_use_them(tree: Path, engine: str) -> None:
    """`tlslint components/` (a CI job for a changed directory): the overlays that list the
    components lie outside it. They are found in the project, so a used component is not
    called unused, and its files are checked as deployed: the whole tree's answer, in the
    files given."""
    route = tree / "components/non-sni-client/route.yaml"
    route.write_text(route.read_text().replace("app: apigee-ingressgateway", "app: other-gateway"))
    whole = [(code, at) for code, at in summary(check(tree), tree) if at.startswith("components/")]
    assert whole == [
        ("APG107", "components/non-sni-client/route.yaml:14"),
        ("RND004", "components/unused/kustomization.yaml:2"),
    ]
    assert summary(check(tree, "components"), tree) == whole
    assert summary(check(tree, "components/non-sni-client"), tree) == whole[:1]
    assert summary(check(tree, "components/unused"), tree) == whole[1:]


def test_a_failing_build_falls_back_to_file_by_file_with_route_rules_undecidable(
    tmp_path: Path, engine: str
) -> None:
    root = tmp_path / "repo"
    shutil.copytree(TREE / "base", root / "base")
    overlay = root / "overlays/prod"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources:\n- ../../base\n- ${ROUTE_FILE}\n")
    result = check(root)
    assert [f.code for f in result.findings] == ["APG101", "APG103", "RND001"]
    *routes, failed = result.findings
    for finding in routes:
        assert finding.severity is Severity.INFO
        assert "undecidable: the build of overlays/prod failed" in finding.message
    assert "${ROUTE_FILE}" in failed.message
    assert result.exit_code(Severity.WARNING) == 2


def test_without_kubectl_every_build_says_so_once_and_files_are_checked_alone(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tree / "no-binaries-here"))
    result = check(tree, "overlays")
    rnd = [f for f in result.findings if f.code.startswith("RND")]
    assert sorted(where(f, tree) for f in rnd if f.code == "RND002") == [
        f"overlays/{name}/kustomization.yaml:1" for name in ("broken", "dev", "prod", "staging")
    ]
    assert all("neither kustomize nor kubectl is on PATH" in f.message for f in rnd)
    route_findings = [f for f in result.findings if f.code.startswith("APG1")]
    assert route_findings and all(f.severity is Severity.INFO for f in route_findings)
    assert all("undecidable" in f.message for f in route_findings)
    assert result.exit_code(Severity.WARNING) == 1  # RND002 is a warning: never a silent pass


def test_remote_bases_are_not_fetched_unless_allowed(tmp_path: Path, engine: str) -> None:
    root = tmp_path / "repo"
    shutil.copytree(TREE / "base", root / "base")
    overlay = root / "overlays/prod"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text(
        "resources:\n- ../../base\n- https://github.com/example/routes//non-sni?ref=v1.0.0\n"
    )
    result = check(root)
    [remote] = [f for f in result.findings if f.code == "RND003"]
    assert where(remote, root) == "overlays/prod/kustomization.yaml:3"
    assert "--allow-remote-bases" in remote.message
    others = [f for f in result.findings if f.code != "RND003"]
    assert [f.code for f in others] == ["APG101", "APG103"]  # the base, alone: undecidable
    assert all(f.severity is Severity.INFO for f in others)


@pytest.mark.parametrize(
    ("entry", "remote"),
    [
        ("https://github.com/org/repo//base?ref=v1", True),
        ("github.com/org/repo/base?ref=v1", True),
        ("git@github.com:org/repo.git//base", True),
        ("ssh://git@example.com/org/repo.git", True),
        ("../../base", False),
        ("route.yaml", False),
        ("missing/dir", False),
    ],
)
def test_remote_references_are_recognised(tmp_path: Path, entry: str, remote: bool) -> None:
    assert graphs.is_remote(entry, tmp_path) is remote


def test_the_users_files_are_never_edited(tree: Path, engine: str) -> None:
    before = _snapshot(tree)
    check(tree)
    assert _snapshot(tree) == before


def _snapshot(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_roots_components_and_unused_components_of_the_graph(tree: Path) -> None:
    graph = graphs.load(graphs.find(tree.rglob("*")), 2**20)
    roots = [r.directory.relative_to(tree).as_posix() for r in graph.roots()]
    assert roots == ["overlays/broken", "overlays/dev", "overlays/prod", "overlays/staging"]
    unused = [c.directory.relative_to(tree).as_posix() for c in graph.unused_components(graph.roots())]
    assert unused == ["components/unused"]
    prod = next(r for r in graph.roots() if r.directory.name == "prod")
    order = [k.directory.relative_to(tree).as_posix() for k in graph.closure(prod)]
    assert order == ["base", "components/non-sni-client", "overlays/prod"]  # kustomize's order
    [patch] = graph.patches(prod)
    assert patch.kind == graphs.JSON6902 and patch.target == {"kind": "ApigeeRouteConfig"}


def test_kubectls_log_prefix_and_the_wrappers_layer_are_taken_off_errors(tmp_path: Path) -> None:
    root, wrapper = Path("/repo/overlays/prod"), tmp_path / "0"
    stderr = (
        'E1205 21:24:33.419936   20977 run.go:72] "command failed" err="accumulating resources: '
        "accumulation err='accumulating resources from '../../repo/overlays/prod': '/repo/overlays/prod' "
        "must resolve to a file': recursed accumulation of path '/repo/overlays/prod': missing.yaml: "
        'no such file"\n'
    )
    assert clean_error(stderr, root, wrapper) == "missing.yaml: no such file"


def test_pre_commit_without_kustomizations_imports_nothing_of_it(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / ".git").mkdir()
    (tmp_path / "nginx.conf").write_text("events {}\nhttp { server { listen 80; } }\n")
    code = (
        "import sys; from pathlib import Path; from tlslint.engine import run;"
        "from tlslint.settings import Settings;"
        f"run([Path({str(tmp_path / 'nginx.conf')!r})], Settings(base=Path({str(tmp_path)!r})));"
        "print(sorted(m for m in sys.modules if m.startswith(('tlslint.kustomize.', 'tlslint.rendered', "
        "'tlslint.workspace.rendered', 'tlslint.helm'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert out.stdout.strip() == "[]"


RENDER_EXAMPLES = [
    pytest.param(code, index, example, id=f"{code}-{index}-{'bad' if 'bad' in example else 'good'}")
    for code, entry in catalogue.load_entries().items()
    if entry["target"] == "render"
    for index, example in enumerate(entry["examples"])
]


@pytest.mark.parametrize(("code", "index", "example"), RENDER_EXAMPLES)
def test_render_catalogue_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str, index: int, example: dict[str, Any]
) -> None:
    """Every catalogue example of the render rules: bad raises the code, good does not.
    RND002's examples are checked where no renderer is on PATH (its good ones, near misses
    included, need none); the others with kubectl."""
    if code == "RND002":
        monkeypatch.setenv("PATH", str(tmp_path / "no-binaries-here"))
    else:
        kustomize_binary()
    (tmp_path / ".git").mkdir()
    text = example.get("bad", example.get("good"))
    files = {example["path"]: text, **example.get("files", {})}
    result = check_files(tmp_path, files, {**example.get("settings", {}), "select": [code]})
    assert (code in [f.code for f in result.findings]) is ("bad" in example)


def test_a_remote_base_is_fetched_when_allowed(tmp_path: Path, engine: str) -> None:
    """A git repository on this machine stands for the remote (file://: git's own protocol
    for local repositories, the one the offline environment leaves open)."""
    import subprocess

    remote = tmp_path / "remote"
    shutil.copytree(TREE / "base", remote / "base")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(remote)], check=True)
    subprocess.run([*git, "-C", str(remote), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(remote), "commit", "-qm", "base"], check=True)
    root = tmp_path / "repo"
    (root / "overlays/prod").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "overlays/prod/kustomization.yaml").write_text(f"resources:\n- file://{remote}//base\n")
    refused = check(root)
    assert [f.code for f in refused.findings] == ["RND003"]
    fetched = check(root, allow_remote_bases=True)
    # The base's ApigeeRouteConfig lists no wildcard route; it came from the remote, so the
    # finding is located at the build's root, naming the build.
    assert [(f.code, where(f, root)) for f in fetched.findings] == [
        ("APG101", "overlays/prod/kustomization.yaml:1"),
        ("APG103", "overlays/prod/kustomization.yaml:1"),
    ]
    assert all(f.message.endswith("[build: overlays/prod]") for f in fetched.findings)


def test_the_real_hybrid_install_files_as_a_build(tmp_path: Path, engine: str) -> None:
    """The public hybrid-install repository's own base ApigeeRouteConfig (no
    additionalGateways, `${VAR}` names with kpt-set comments) and non-SNI component route
    (`<CREDENTIAL_NAME>` placeholder), read in place from ../shared, laid out as that
    repository lays them out, with a hand-written component kustomization and JSON patch."""
    from conftest import shared_path

    corpus = shared_path("corpus", "apigee")
    root = tmp_path / "repo"
    group = root / "route-config/test-envgroup"
    (group / "components/non-sni-client").mkdir(parents=True)
    (root / ".git").mkdir()
    (group / "apigee-route-config.yaml").write_bytes(
        (corpus / "03_hybrid-install_apigee-route-config.yaml").read_bytes()
    )
    (group / "components/non-sni-client/apigee-route.yaml").write_bytes(
        (corpus / "01_hybrid-install_non-sni-client_apigee-route.yaml").read_bytes()
    )
    (group / "kustomization.yaml").write_text(
        "resources:\n- apigee-route-config.yaml\ncomponents:\n- components/non-sni-client\n"
    )
    (group / "components/non-sni-client/kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- apigee-route.yaml\n"
        "patches:\n- target:\n    kind: ApigeeRouteConfig\n  patch: |-\n    - op: add\n"
        '      path: /spec/additionalGateways\n      value: ["custom-additional-route"]\n'
    )
    result = check(root)
    assert [f.code for f in result.findings] == []  # linked by the patch; placeholders are no values
    route = (group / "components/non-sni-client/apigee-route.yaml").read_text()
    (group / "components/non-sni-client/apigee-route.yaml").write_text(
        route.replace("enableNonSniClient: true", "enableNonSniClient: false")
    )
    [finding] = check(root).findings
    assert (finding.code, where(finding, root)) == (
        "APG102",
        "route-config/test-envgroup/components/non-sni-client/apigee-route.yaml:33",
    )


def test_a_cycle_and_an_unreadable_kustomization_are_said_not_passed(tmp_path: Path, engine: str) -> None:
    root = tmp_path / "repo"
    for name in ("a", "b", "c"):
        (root / name).mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "a/kustomization.yaml").write_text("resources:\n- ../b\n- r.yaml\n")
    (root / "b/kustomization.yaml").write_text("resources:\n- ../a\n")
    (root / "c/kustomization.yaml").write_text("resources: [\n")
    for name in ("a", "c"):
        shutil.copy(TREE / "base/routeconfig.yaml", root / name / "r.yaml")
    result = check(root)
    failed = {where(f, root): f.message for f in result.findings if f.code == "RND001"}
    assert sorted(failed) == ["a/kustomization.yaml:2", "b/kustomization.yaml:2", "c/kustomization.yaml:1"]
    assert "cycle detected" in failed["a/kustomization.yaml:2"]
    assert failed["c/kustomization.yaml:1"].endswith(
        "failed: invalid Kustomization: yaml: line 1: did not find expected node content"
    )
