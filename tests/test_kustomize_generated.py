"""What a kustomization writes itself, rendered by the real kubectl and traced back:
ConfigMaps from configMapGenerator (literals, env files, files, merged by an overlay),
annotations and labels from commonAnnotations / labels, and helmCharts (with the
settings' build options). Each test writes a small repository in the shapes testers
reported; nothing is mocked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import helm_binary, kustomize_binary
from helpers import INGRESS_NGINX_CONFIGMAP, settings_for, write_files

from tlslint.discovery import discover
from tlslint.engine import RunOptions, RunResult, run
from tlslint.findings import Finding, Location, Severity
from tlslint.fixing import apply_fixes
from tlslint.settings import SettingsError, load_settings
from tlslint.workspace.rendered import load_rendered

# The ingress-nginx controller's ConfigMap made only by a generator (issue: never rendered),
# and an overlay's generator that merges an env file into it (issue: reported in the base).
BASE = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ingress-nginx
configMapGenerator:
- name: ingress-nginx-controller
  literals:
  - keep-alive=0
  - use-http2=true
  - ssl-session-cache=false
  - ssl-session-timeout=1h
generatorOptions:
  disableNameSuffixHash: true
"""
OVERLAY = """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
configMapGenerator:
- name: ingress-nginx-controller
  behavior: merge
  envs:
  - nginx.env
"""
ENV = "keep-alive=75s\nupstream-keepalive-connections=0\n"
INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/ssl-redirect: "true"
spec:
  ingressClassName: nginx
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
"""
CHART = {
    "Chart.yaml": "apiVersion: v2\nname: ingress-nginx\nversion: 4.15.1\nappVersion: 1.15.1\n",
    "values.yaml": (
        "controller:\n  replicaCount: 1\n  config: {}\n  ingressClassResource:\n    name: nginx\n"
        "  admissionWebhooks:\n    enabled: false\n"
    ),
    "templates/controller-configmap.yaml": INGRESS_NGINX_CONFIGMAP,
}
HELM_CHARTS = """\
helmCharts:
- name: ingress-nginx
  releaseName: rel
  namespace: ingress-nginx
  valuesInline:
    controller:
      config:
        keep-alive: "0"
"""
ENABLE_HELM = {"kustomize": {"build-options": ["--enable-helm"]}}


@pytest.fixture(autouse=True)
def engine() -> str:
    return kustomize_binary()


def write(root: Path, files: dict[str, str]) -> Path:
    write_files(root, files)
    (root / ".git").mkdir(exist_ok=True)  # a repository root: the search for builds stops here
    return root


def check(root: Path, mapping: dict[str, Any] | None = None, **options: Any) -> RunResult:
    return run([root], settings_for(root, mapping), run_options=RunOptions(**options))


def where(finding: Finding, root: Path) -> str:
    return f"{finding.location.path.relative_to(root).as_posix()}:{finding.location.line}"


def placed(result: RunResult, root: Path) -> set[tuple[str, str]]:
    return {(f.code, where(f, root)) for f in result.findings if f.code != "ING110"}


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# -- configMapGenerator -------------------------------------------------------------------
def test_a_controller_configmap_made_only_by_generators_is_rendered_and_traced(tmp_path: Path) -> None:
    """The tester's l2: no resource file at all. The build is rendered, and each key is
    reported where it was set: the overlay's env file lines, the base's literals."""
    root = write(
        tmp_path,
        {
            "base/kustomization.yaml": BASE,
            "overlays/prod/kustomization.yaml": OVERLAY,
            "overlays/prod/nginx.env": ENV,
        },
    )
    result = check(root)
    assert placed(result, root) == {
        ("ING102", "overlays/prod/nginx.env:1"),  # keep-alive=75s, merged over the base's 0
        ("ING104", "overlays/prod/nginx.env:2"),
        ("ING112", "base/kustomization.yaml:9"),  # - ssl-session-cache=false
        ("ING103", "base/kustomization.yaml:10"),  # - ssl-session-timeout=1h
    }
    assert all(f.message.endswith("[build: overlays/prod]") for f in result.findings)
    # What the generated ConfigMap as a whole is said about: its generator's name line.
    [retired] = [f for f in result.findings if f.code == "ING110"]
    assert where(retired, root) == "base/kustomization.yaml:5"
    # The same codes as the rendered stream piped in (the tester's comparison).
    stream = subprocess.run(
        [sys.executable, "-m", "tlslint", "check", "-q", "--stdin-filename", "r.yaml", "-"],
        input=_rendered(root / "overlays/prod"),
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )
    assert {code for code, _ in placed(result, root)} == {
        line.split(": ")[1].split()[0] for line in stream.stdout.splitlines() if "ING110" not in line
    }


def _rendered(directory: Path) -> str:
    binary = kustomize_binary()
    command = [binary, "build"] if Path(binary).name == "kustomize" else [binary, "kustomize"]
    return subprocess.run([*command, str(directory)], capture_output=True, text=True, check=True).stdout


def test_a_literal_merged_by_an_overlay_is_reported_at_its_value(tmp_path: Path) -> None:
    """An overlay literal wins over the base's: reported at the overlay's item, the column
    of its value; a `files:` item stands for its file's content."""
    overlay = OVERLAY.replace("  envs:\n  - nginx.env\n", '  literals:\n  - "keep-alive=75s"\n')
    root = write(tmp_path, {"base/kustomization.yaml": BASE, "overlays/prod/kustomization.yaml": overlay})
    [finding] = [f for f in check(root).findings if f.code == "ING102"]
    assert where(finding, root) == "overlays/prod/kustomization.yaml:9"
    assert finding.location.column == 6  # inside the quotes: the line's `keep-alive`

    files_overlay = OVERLAY.replace("  envs:\n  - nginx.env\n", "  files:\n  - keep-alive=conf/ka\n")
    root = write(
        tmp_path / "files",
        {
            "base/kustomization.yaml": BASE,
            "overlays/prod/kustomization.yaml": files_overlay,
            "overlays/prod/conf/ka": "75s",
        },
    )
    [finding] = [f for f in check(root).findings if f.code == "ING102"]
    assert (where(finding, root), finding.location.column) == ("overlays/prod/kustomization.yaml:9", 5)


def test_a_suppression_comment_in_the_env_file_silences_its_line(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "base/kustomization.yaml": BASE,
            "overlays/prod/kustomization.yaml": OVERLAY,
            "overlays/prod/nginx.env": "# tlslint: disable=ING102 -- migrating\n" + ENV,
        },
    )
    found = placed(check(root), root)
    assert ("ING104", "overlays/prod/nginx.env:3") in found  # the build was checked
    assert not [code for code, _ in found if code == "ING102"]


def test_builds_that_generate_nothing_a_tier_checks_are_not_rendered(tmp_path: Path) -> None:
    """A GitOps repository's other applications generate ConfigMaps and inflate charts too.
    Theirs are not rendered (each of these builds would fail if it were), while the
    ingress-nginx build beside them is."""
    root = write(
        tmp_path,
        {
            "apps/shop/kustomization.yaml": (
                "resources:\n- missing.yaml\nconfigMapGenerator:\n- name: shop-config\n"
                "  literals:\n  - LOG_LEVEL=debug\n  - keep_alive=0\n"
            ),
            "apps/certs/kustomization.yaml": (
                "helmCharts:\n- name: cert-manager\n  repo: https://charts.jetstack.io\n  version: v1.16.0\n"
                "  releaseName: cert-manager\n  valuesInline: {installCRDs: true}\n"
            ),
            "ingress/base/kustomization.yaml": BASE,
        },
    )
    result = check(root)
    assert not [f for f in result.findings if f.code.startswith("RND")]
    assert ("ING112", "ingress/base/kustomization.yaml:9") in placed(result, root)


def test_a_fix_edits_only_files_checked_alone(tmp_path: Path) -> None:
    """Rendered findings carry no fix: the generator's sources stay byte for byte, while a
    controller ConfigMap outside every kustomization is fixed in its own file."""
    standalone = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-nginx-controller\n"
        '  namespace: ingress-nginx\ndata:\n  keep-alive: "75s"\n'
    )
    root = write(
        tmp_path,
        {
            "base/kustomization.yaml": BASE,
            "overlays/prod/kustomization.yaml": OVERLAY,
            "overlays/prod/nginx.env": ENV,
            "legacy/controller.yaml": standalone,
        },
    )
    before = snapshot(root)
    settings = settings_for(root)
    apply_fixes(run([root], settings), settings, unsafe=True, write=True)
    after = snapshot(root)
    assert {name for name in before if before[name] != after[name]} == {"legacy/controller.yaml"}
    assert b'keep-alive: "75"' in after["legacy/controller.yaml"]


# -- commonAnnotations and labels -----------------------------------------------------------
def test_annotations_an_overlay_adds_are_reported_at_its_entries(tmp_path: Path) -> None:
    """The tester's q: commonAnnotations in the overlay, not the base's unrelated annotation."""
    root = write(
        tmp_path,
        {
            "base/ing.yaml": INGRESS,
            "base/kustomization.yaml": "resources:\n- ing.yaml\n",
            "ov/kustomization.yaml": (
                "resources:\n- ../base\ncommonAnnotations:\n"
                '  nginx.ingress.kubernetes.io/keep-alive: "5"\n'
                '  nginx.ingress.kubernetes.io/proxy-http-version: "1.0"\n'
            ),
            # A sibling build whose commonAnnotations never reach the base's Ingress of ov.
            "other/kustomization.yaml": (
                'resources:\n- ../base\ncommonAnnotations:\n  nginx.ingress.kubernetes.io/keep-alive: "7"\n'
            ),
        },
    )
    result = check(root)
    ov = {(f.code, where(f, root)) for f in result.findings if "ov" in f.message.rpartition("[build")[2]}
    assert {("ING108", "ov/kustomization.yaml:4"), ("ING109", "ov/kustomization.yaml:5")} <= ov
    other = [
        f for f in result.findings if f.code == "ING108" and "other" in f.message.rpartition("[build")[2]
    ]
    assert [where(f, root) for f in other] == ["other/kustomization.yaml:4"]


def test_a_patch_that_adds_an_annotation_is_still_reported_at_the_patch(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "base/ing.yaml": INGRESS,
            "base/kustomization.yaml": "resources:\n- ing.yaml\n",
            "ov/kustomization.yaml": (
                "resources:\n- ../base\npatches:\n- target: {kind: Ingress, name: web}\n  patch: |-\n"
                "    - op: add\n      path: /metadata/annotations/nginx.ingress.kubernetes.io~1keep-alive\n"
                '      value: "5"\n'
            ),
        },
    )
    [finding] = [f for f in check(root).findings if f.code == "ING108"]
    assert where(finding, root) == "ov/kustomization.yaml:8"


def test_labels_without_include_selectors_do_not_claim_selectors(tmp_path: Path) -> None:
    """`labels:` writes the resource's own labels; with includeSelectors, the selector too
    (commonLabels always). A selector the base wrote stays the base's."""
    service = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: ingress-nginx-controller\n"
        "  namespace: ingress-nginx\n  labels: {app.kubernetes.io/name: ingress-nginx}\n"
        "spec:\n  type: LoadBalancer\n"
        "  selector:\n    app.kubernetes.io/name: ingress-nginx\n  ports: [{name: https, port: 443}]\n"
    )
    labels = "labels:\n- pairs:\n    app.kubernetes.io/name: ingress-nginx\n"
    root = write(
        tmp_path,
        {
            "base/svc.yaml": service,
            "base/kustomization.yaml": "resources:\n- svc.yaml\n",
            "ov/kustomization.yaml": "resources:\n- ../base\n" + labels,
            "sel/kustomization.yaml": "resources:\n- ../base\n" + labels + "  includeSelectors: true\n",
        },
    )
    settings = settings_for(root)
    load = load_rendered(discover([root], [], root), [root], settings)
    located = {}
    for build in load.builds:
        [document] = build.documents
        for path in (
            ("metadata", "labels", "app.kubernetes.io/name"),
            ("spec", "selector", "app.kubernetes.io/name"),
        ):
            node = document.node
            for key in path:
                node = node.get(key)
            line, column = build.source.position(node.start)
            found = build.locate(Location(build.source.path, line, column))
            assert found is not None
            located[(build.label, path[0])] = f"{found.path.relative_to(root).as_posix()}:{found.line}"
    assert located == {
        ("ov", "metadata"): "ov/kustomization.yaml:5",  # the pair's line
        ("ov", "spec"): "base/svc.yaml:10",
        ("sel", "metadata"): "sel/kustomization.yaml:5",
        ("sel", "spec"): "sel/kustomization.yaml:5",
    }


# -- helmCharts and the build options -------------------------------------------------------
def _helm_repo(root: Path, kustomization: str) -> Path:
    files = {f"app/charts/ingress-nginx/{name}": text for name, text in CHART.items()}
    return write(root, {**files, "app/kustomization.yaml": kustomization})


def test_helm_charts_without_the_option_fail_saying_how_to_enable_it(tmp_path: Path) -> None:
    """The tester's kh: kustomize refuses helmCharts without --enable-helm. The build is
    relevant (the chart is ingress-nginx), fails, and the message says how to opt in."""
    root = _helm_repo(tmp_path, HELM_CHARTS)
    result = check(root)
    [failed] = [f for f in result.findings if f.code == "RND001"]
    assert where(failed, root) == "app/kustomization.yaml:1"
    assert "must specify --enable-helm" in failed.message
    assert '[kustomize] build-options = ["--enable-helm"]' in failed.message
    assert "Flux's kustomize-controller never renders helmCharts" in failed.message
    assert result.exit_code(Severity.WARNING) == 2


def test_helm_charts_with_the_option_are_rendered_and_traced_to_the_values(tmp_path: Path) -> None:
    """Only helmCharts in the kustomization (the brief's shape): ING101 at the valuesInline key;
    the chart's own files are checked through the build, not one by one (no GW001)."""
    helm_binary()
    root = _helm_repo(tmp_path, HELM_CHARTS)
    before = snapshot(root)
    result = check(root, ENABLE_HELM)
    assert placed(result, root) == {("ING101", "app/kustomization.yaml:8")}
    [retired] = [f for f in result.findings if f.code == "ING110"]
    assert where(retired, root) == "app/kustomization.yaml:2"  # the chart item: what made it
    assert snapshot(root) == before
    # Flow style, as a tester wrote it: the key is found in the one line.
    flow = (
        HELM_CHARTS.split("  valuesInline:")[0]
        + '  valuesInline: {controller: {config: {keep-alive: "0"}}}\n'
    )
    root = _helm_repo(tmp_path / "flow", flow)
    [finding] = [f for f in check(root, ENABLE_HELM).findings if f.code == "ING101"]
    assert (where(finding, root), finding.location.column) == ("app/kustomization.yaml:5", 40)


def test_a_chart_kustomize_would_pull_is_not_pulled_without_allow_remote(tmp_path: Path) -> None:
    kustomization = HELM_CHARTS.replace(
        "- name: ingress-nginx\n",
        "- name: ingress-nginx\n  repo: https://kubernetes.github.io/ingress-nginx\n  version: 4.15.1\n",
    )
    root = write(tmp_path, {"app/kustomization.yaml": kustomization})
    result = check(root, ENABLE_HELM)
    [remote] = [f for f in result.findings if f.code.startswith("RND")]
    assert (remote.code, where(remote, root)) == ("RND003", "app/kustomization.yaml:2")
    assert "--allow-remote-bases" in remote.message
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) == [
        "app/kustomization.yaml"
    ]


@pytest.mark.parametrize("option", ["--enable-exec", "--enable-alpha-plugins", "--helm-command=sh", "-o=out"])
def test_only_known_safe_build_options_are_accepted(tmp_path: Path, option: str) -> None:
    (tmp_path / ".tlslint.toml").write_text(f'[kustomize]\nbuild-options = ["{option}"]\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="build-options"):
        load_settings(tmp_path)
    (tmp_path / ".tlslint.toml").write_text(
        '[kustomize]\nbuild-options = ["--enable-helm"]\n', encoding="utf-8"
    )
    assert load_settings(tmp_path).kustomize_options == ("--enable-helm",)
    shown = subprocess.run(
        [sys.executable, "-m", "tlslint", "--show-settings", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert '[kustomize]\nbuild-options = ["--enable-helm"]\n' in shown
