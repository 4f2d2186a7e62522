"""Which kustomizations are rendered as deployments, and which files are checked through
them: the same verdict whichever path of the tree is given (a directory, a named file in
a pre-commit hook), with real kubectl kustomize builds (reports/T3-gitops.md 1, 2, 2b)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import kustomize_binary
from helpers import settings_for, write_files

from tlslint.engine import RunOptions, run
from tlslint.findings import Finding
from tlslint.kustomize import graph as graphs

INGRESS = {"ignore": ["ING110"]}  # the controller's version is not in these trees

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
data:
  keep-alive: "{keep_alive}"
"""


def keep_alive_patch(value: str) -> str:
    return f"""\
patches:
  - target: {{kind: ConfigMap, name: ingress-nginx-controller}}
    patch: |-
      - op: replace
        path: /data/keep-alive
        value: "{value}"
"""


@pytest.fixture(autouse=True)
def engine() -> str:
    return kustomize_binary()


def repository(root: Path, files: dict[str, str]) -> Path:
    write_files(root, files)
    (root / ".git").mkdir()  # the search for the builds around a file stops here
    return root


def check(root: Path, *targets: str, mapping: dict[str, Any] | None = None, named: bool = False) -> list[str]:
    """The findings as `code path:line build`, for the paths given (files named as a
    pre-commit hook names them, with ``named``)."""
    paths = [root / t for t in targets] if targets else [root]
    result = run(paths, settings_for(root, mapping), run_options=RunOptions(force_exclude=named))
    return sorted(_shown(f, root) for f in result.findings)


def _shown(finding: Finding, root: Path) -> str:
    builds = finding.message.rpartition(" [build")[2]
    label = f" [build{builds}" if builds != finding.message else ""
    return f"{finding.code} {finding.location.path.relative_to(root)}:{finding.location.line}{label}"


GATEWAY = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: istio-ingress
spec:
  selector:
    istio: ingressgateway
  servers:
    - port: {number: 443, name: https, protocol: HTTPS}
      hosts: ["a.example.com"]
      tls: {mode: SIMPLE, credentialName: a-cert}
"""
CATCH_ALL = """\
resources:
  - ../../base
patches:
  - target: {kind: Gateway, name: gw}
    patch: |-
      - op: add
        path: /spec/servers/-
        value:
          port: {number: 443, name: https-catch-all, protocol: HTTPS}
          hosts: ["*"]
          tls: {mode: SIMPLE, credentialName: prod-wildcard}
"""


def test_a_named_base_gateway_is_checked_through_the_overlays_and_its_fix_never_written(
    tmp_path: Path,
) -> None:
    """Repro 1a: prod adds the catch-all server, dev does not. Checked alone, the base
    lacked it and `--fix --unsafe-fixes base/gateway.yaml` appended one to the base that
    prod shares, so prod rendered two catch-alls (GW102)."""
    root = repository(
        tmp_path / "repo",
        {
            ".tlslint.toml": '[kubernetes]\nnon-sni = "required"\ncatch-all-credential = "wildcard-tls"\n',
            "base/kustomization.yaml": "resources:\n  - gateway.yaml\n",
            "base/gateway.yaml": GATEWAY,
            "overlays/prod/kustomization.yaml": CATCH_ALL,
            "overlays/dev/kustomization.yaml": "resources:\n  - ../../base\n",
        },
    )
    mapping = {"kubernetes": {"non-sni": "required", "catch-all-credential": "wildcard-tls"}}
    expected = ["GW101 base/gateway.yaml:11 [build: overlays/dev]"]
    assert check(root, mapping=mapping) == expected
    assert check(root, "base/gateway.yaml", mapping=mapping, named=True) == expected
    before = (root / "base/gateway.yaml").read_bytes()
    command = [sys.executable, "-m", "tlslint", "check", "--fix", "--unsafe-fixes", "base/gateway.yaml"]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, env=os.environ, check=False)
    assert "[build: overlays/dev]" in done.stdout and "no fix: found in the rendered build" in done.stdout
    assert (root / "base/gateway.yaml").read_bytes() == before
    assert check(root, mapping=mapping) == expected  # prod still has one catch-all: no GW102


def test_a_named_strategic_merge_patch_gets_the_builds_verdict(tmp_path: Path) -> None:
    """Repro 1b: the patch file sets keep-alive 0 and turns the session cache off, and a
    later JSON patch of the same overlay restores keep-alive and turns tickets on: the
    build is fine. Named alone, the patch was checked as a ConfigMap of its own (ING101,
    ING112, and an unsafe fix to the patch)."""
    root = repository(
        tmp_path / "repo",
        {
            "base/kustomization.yaml": "resources:\n  - configmap.yaml\n",
            "base/configmap.yaml": CONFIGMAP.format(keep_alive="75"),
            "prod/cm-patch.yaml": CONFIGMAP.format(keep_alive="0") + '  ssl-session-cache: "false"\n',
            "prod/kustomization.yaml": (
                "resources:\n  - ../base\npatches:\n  - path: cm-patch.yaml\n"
                "  - target: {kind: ConfigMap, name: ingress-nginx-controller}\n    patch: |-\n"
                '      - op: replace\n        path: /data/keep-alive\n        value: "75"\n'
                '      - op: add\n        path: /data/ssl-session-tickets\n        value: "true"\n'
            ),
        },
    )
    assert check(root, mapping=INGRESS) == []
    assert check(root, "prod/cm-patch.yaml", mapping=INGRESS, named=True) == []
    assert check(root, "base/configmap.yaml", mapping=INGRESS, named=True) == []


def test_a_base_given_alone_is_checked_through_the_overlays_that_use_it(tmp_path: Path) -> None:
    """Repro 2b: both overlays override the base's keep-alive 0. `tlslint base` rendered
    the base as a deployment of its own ([build: base], which no cluster receives)."""
    overlay = "resources:\n  - ../../base\n" + keep_alive_patch("75")
    root = repository(
        tmp_path / "repo",
        {
            "base/kustomization.yaml": "resources:\n  - configmap.yaml\n",
            "base/configmap.yaml": CONFIGMAP.format(keep_alive="0"),
            "overlays/prod/kustomization.yaml": overlay,
            "overlays/dev/kustomization.yaml": overlay,
        },
    )
    assert check(root, mapping=INGRESS) == []
    assert check(root, "base", mapping=INGRESS) == []
    assert check(root, "base/configmap.yaml", mapping=INGRESS, named=True) == []
    # Where an overlay keeps the base's value, the base's line is reported for that build.
    (root / "overlays/dev/kustomization.yaml").write_text("resources:\n  - ../../base\n")
    dev = ["ING101 base/configmap.yaml:7 [build: overlays/dev]"]
    assert check(root, "base", mapping=INGRESS) == dev
    assert check(root, mapping=INGRESS) == dev


def test_an_overlay_another_overlay_builds_on_is_a_deployment_of_its_own(tmp_path: Path) -> None:
    """Repro 2: prod-eu builds on prod and restores keep-alive; prod itself sets it to 0
    and is deployed too. It was treated as a base (included by another kustomization),
    so every run but `tlslint overlays/prod` hid its finding."""
    root = repository(
        tmp_path / "repo",
        {
            "base/kustomization.yaml": "resources:\n  - configmap.yaml\n",
            "base/configmap.yaml": CONFIGMAP.format(keep_alive="75") + '  use-http2: "true"\n',
            "overlays/prod/kustomization.yaml": "resources:\n  - ../../base\n" + keep_alive_patch("0"),
            "overlays/prod-eu/kustomization.yaml": "resources:\n  - ../prod\n" + keep_alive_patch("75"),
        },
    )
    prod = ["ING101 overlays/prod/kustomization.yaml:8 [build: overlays/prod]"]
    assert check(root, mapping=INGRESS) == prod
    assert check(root, "overlays", mapping=INGRESS) == prod
    assert check(root, "overlays/prod", mapping=INGRESS) == prod
    assert check(root, "overlays/prod/kustomization.yaml", mapping=INGRESS, named=True) == prod
    assert check(root, "overlays/prod-eu", mapping=INGRESS) == []
    # A finding both deployments keep (the base's, which neither overrides) is one finding.
    configmap = root / "base/configmap.yaml"
    configmap.write_text(configmap.read_text().replace('use-http2: "true"', 'ssl-session-cache: "false"'))
    both = "ING112 base/configmap.yaml:8 [builds: overlays/prod, overlays/prod-eu]"
    assert check(root, mapping=INGRESS) == sorted([*prod, both])
    assert check(root, "base/configmap.yaml", mapping=INGRESS, named=True) == [both]


def test_overlays_are_roots_and_bases_are_not(tmp_path: Path) -> None:
    """The graph's rule: a kustomization is a root when nothing includes it, or when it
    builds on a kustomization outside its directory (an overlay) and a sibling builds on
    it; a base that gathers the kustomizations below it is still a base."""
    root = repository(
        tmp_path / "repo",
        {
            "base/kustomization.yaml": "resources:\n  - ingress\n",
            "base/ingress/kustomization.yaml": "resources:\n  - configmap.yaml\n",
            "base/ingress/configmap.yaml": CONFIGMAP.format(keep_alive="75"),
            "overlays/prod/kustomization.yaml": "resources:\n  - ../../base\n",
            "overlays/prod-eu/kustomization.yaml": "resources:\n  - ../prod\n",
            "components/tls/kustomization.yaml": "kind: Component\n",
        },
    )
    graph = graphs.load(graphs.find(root.rglob("*")), 2**20)
    roots = [r.directory.relative_to(root).as_posix() for r in graph.roots()]
    assert roots == ["overlays/prod", "overlays/prod-eu"]


def test_a_base_building_on_common_is_still_a_base(tmp_path: Path) -> None:
    """base/ lists ../common, and both overlays override its keep-alive 0: no cluster
    receives base's build. Counting every included kustomization that builds on one
    outside its directory as a deployment reported ING101 [build: base]; an included
    overlay is one only where a sibling builds on it (overlays/prod-eu on ../prod)."""
    overlay = "resources:\n  - ../../base\n" + keep_alive_patch("75")
    root = repository(
        tmp_path / "repo",
        {
            "common/kustomization.yaml": "resources:\n  - configmap.yaml\n",
            "common/configmap.yaml": CONFIGMAP.format(keep_alive="0"),
            "base/kustomization.yaml": "resources:\n  - ../common\ncommonLabels:\n  team: edge\n",
            "overlays/prod/kustomization.yaml": overlay,
            "overlays/dev/kustomization.yaml": overlay,
        },
    )
    graph = graphs.load(graphs.find(root.rglob("*")), 2**20)
    roots = [r.directory.relative_to(root).as_posix() for r in graph.roots()]
    assert roots == ["overlays/dev", "overlays/prod"]
    assert check(root, mapping=INGRESS) == []
    assert check(root, "base", mapping=INGRESS) == []
    assert check(root, "common", mapping=INGRESS) == []


def test_an_edited_base_is_reported_the_same_for_each_path_given(tmp_path: Path) -> None:
    """The base's finding, kept by every overlay, whichever way the run is started."""
    root = repository(
        tmp_path / "repo",
        {
            "base/kustomization.yaml": "resources:\n  - configmap.yaml\n",
            "base/configmap.yaml": CONFIGMAP.format(keep_alive="0"),
            "overlays/prod/kustomization.yaml": "resources:\n  - ../../base\n",
            "overlays/dev/kustomization.yaml": "resources:\n  - ../../base\n",
        },
    )
    both = ["ING101 base/configmap.yaml:7 [builds: overlays/dev, overlays/prod]"]
    for targets, named in [((), False), (("base",), False), (("base/configmap.yaml",), True)]:
        assert check(root, *targets, mapping=INGRESS, named=named) == both
