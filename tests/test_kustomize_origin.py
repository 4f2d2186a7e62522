"""Which file and line set a field of a rendered resource: the repositories testers
reported (T3 sections 3 to 8), rendered by the real kubectl and traced back. The rule
held throughout: a finding is never shown over a line that holds another value than the
one it states; when the writer cannot be traced, it goes somewhere true.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import kustomize_binary
from helpers import settings_for, write_files

from tlslint.discovery import discover
from tlslint.engine import RunOptions, RunResult, run
from tlslint.findings import Finding, Location
from tlslint.workspace.rendered import load_rendered

NON_SNI = {"kubernetes": {"non-sni": "required"}}
CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
data:
  keep-alive: "75"
"""
BASE = {"base/kustomization.yaml": "resources:\n  - configmap.yaml\n", "base/configmap.yaml": CONFIGMAP}
GATEWAYS = """\
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
      hosts: ["%s"]
      tls: {mode: SIMPLE, credentialName: a-cert}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: gw-internal
  namespace: istio-ingress
spec:
  selector:
    istio: internalgateway
  servers:
    - port: {number: 443, name: https, protocol: HTTPS}
      hosts: ["b.example.com"]
      tls: {mode: SIMPLE, credentialName: b-cert}
"""


@pytest.fixture(autouse=True)
def engine() -> str:
    return kustomize_binary()


def write(root: Path, files: dict[str, str]) -> Path:
    write_files(root, files)
    (root / ".git").mkdir(exist_ok=True)  # a repository root: the search for builds stops here
    return root


def check(root: Path, mapping: dict[str, Any] | None = None, *targets: str) -> RunResult:
    paths = [root / t for t in targets] if targets else [root]
    return run(paths, settings_for(root, mapping), run_options=RunOptions())


def place(finding: Finding, root: Path) -> str:
    location = finding.location
    return f"{location.path.relative_to(root).as_posix()}:{location.line}:{location.column}"


def placed(result: RunResult, root: Path) -> list[tuple[str, str]]:
    return sorted((f.code, place(f, root)) for f in result.findings if f.code != "ING110")


def line(root: Path, where: str) -> str:
    """The text of the line a place names."""
    name, number, _ = where.rsplit(":", 2)
    return (root / name).read_text().splitlines()[int(number) - 1]


# -- 3: a patch's target is matched against the names the resource had ---------------------
PATCH_KEEP_ALIVE = """\
    patch: |-
      - op: replace
        path: /data/keep-alive
        value: "0"
"""


@pytest.mark.parametrize(
    ("kustomization", "expected"),
    [
        # kustomize applies a patch before its own kustomization's namePrefix: the target
        # names the resource as the base wrote it.
        (
            "resources:\n  - ../base\nnamePrefix: prod-\npatches:\n"
            "  - target:\n      kind: ConfigMap\n      name: ingress-nginx-controller\n" + PATCH_KEEP_ALIVE,
            "prod/kustomization.yaml:11:9",
        ),
        # ... and before its namespace: the selector's namespace is the original one.
        (
            "resources:\n  - ../base\nnamespace: edge\npatches:\n"
            "  - target: {kind: ConfigMap, name: ingress-nginx-controller, namespace: ingress-nginx}\n"
            + PATCH_KEEP_ALIVE,
            "prod/kustomization.yaml:9:9",
        ),
        # patchesJson6902 runs after the prefix (measured): its target may name the prefixed one.
        (
            "resources:\n  - ../base\nnamePrefix: prod-\npatchesJson6902:\n"
            "  - target: {version: v1, kind: ConfigMap, name: prod-ingress-nginx-controller}\n"
            + PATCH_KEEP_ALIVE,
            "prod/kustomization.yaml:9:9",
        ),
    ],
    ids=["namePrefix", "namespace", "patchesJson6902-after-prefix"],
)
def test_a_patch_is_traced_through_the_overlays_own_name_transformers(
    tmp_path: Path, kustomization: str, expected: str
) -> None:
    root = write(tmp_path, {**BASE, "prod/kustomization.yaml": kustomization})
    [(code, where)] = placed(check(root), root)
    assert (code, where) == ("ING101", expected)
    assert line(root, where).strip() == 'value: "0"'  # never the base's keep-alive: "75"


def test_a_parent_overlays_patch_matches_the_name_its_child_gave(tmp_path: Path) -> None:
    """A parent sees its child's names: a target on `prod-...` applies above a `prod-` prefix."""
    root = write(
        tmp_path,
        {
            **BASE,
            "prod/kustomization.yaml": "resources:\n  - ../base\nnamePrefix: prod-\n",
            "eu/kustomization.yaml": "resources:\n  - ../prod\nnamePrefix: eu-\npatches:\n"
            "  - target: {kind: ConfigMap, name: prod-ingress-nginx-controller}\n" + PATCH_KEEP_ALIVE,
        },
    )
    assert placed(check(root), root) == [("ING101", "eu/kustomization.yaml:9:9")]


# -- 4: resources are matched to their source by their whole name -----------------------------
def test_a_prefixed_resource_is_found_under_its_whole_name_not_a_shorter_one(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - gateways.yaml\n",
            "base/gateways.yaml": GATEWAYS % "*",
            "prod/kustomization.yaml": "resources:\n  - ../base\nnamePrefix: prod-\n",
        },
    )
    [finding] = check(root, NON_SNI, "prod").findings
    assert finding.code == "GW101" and "(b.example.com)" in finding.message
    # gw-internal's hosts, not gw's catch-all `hosts: ["*"]` (line 11) that the message says is missing
    assert place(finding, root) == "base/gateways.yaml:24:7"


def test_a_strategic_merge_patch_of_one_resource_is_not_blamed_for_another(tmp_path: Path) -> None:
    patch = (GATEWAYS % "a.example.com").split("---")[0].replace(
        "  selector:\n    istio: ingressgateway\n", ""
    ) + (
        "    - port: {number: 443, name: https-catch-all, protocol: HTTPS}\n"
        '      hosts: ["*"]\n'
        "      tls: {mode: SIMPLE, credentialName: wildcard}\n"
    )
    root = write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - gateways.yaml\n",
            "base/gateways.yaml": GATEWAYS % "a.example.com",
            "overlays/prod/kustomization.yaml": (
                "resources:\n  - ../../base\npatches:\n  - path: gw-patch.yaml\n"
            ),
            "overlays/prod/gw-patch.yaml": patch,
        },
    )
    [finding] = check(root, NON_SNI).findings
    assert finding.code == "GW101" and "istio=internalgateway" in finding.message
    assert place(finding, root) == "base/gateways.yaml:24:7"  # kustomize patched gw only


# -- 5: a JSON 6902 append wrote the item it appended, not an equal one before it --------------
def test_an_append_is_not_credited_with_the_bases_equal_item(tmp_path: Path) -> None:
    base = (GATEWAYS % "*").split("---")[0].replace("name: https,", "name: https-catch-all,")
    root = write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - gateway.yaml\n",
            "base/gateway.yaml": base,
            "o/kustomization.yaml": """\
resources:
  - ../base
patches:
  - target: {kind: Gateway, name: gw}
    patch: |-
      - op: add
        path: /spec/servers/-
        value:
          port: {number: 443, name: https-catch-all-2, protocol: HTTPS}
          hosts: ["*"]
          tls: {mode: SIMPLE, credentialName: prod-wildcard}
""",
        },
    )
    [finding] = check(root).findings
    assert finding.code == "GW102" and "server 'https-catch-all-2'" in finding.message
    assert place(finding, root) == "o/kustomization.yaml:10:11"  # the appended server's hosts
    assert [(place_of(r.location, root), r.message) for r in finding.related] == [
        ("base/gateway.yaml:11:7", "lists * first")  # the base's server, at its own line
    ]


def place_of(location: Any, root: Path) -> str:
    return f"{location.path.relative_to(root).as_posix()}:{location.line}:{location.column}"


# -- 6: replacements and the replicas transformer -------------------------------------------
def test_a_value_a_replacement_wrote_is_at_the_replacements_field_path(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            **BASE,
            "prod/settings.yaml": CONFIGMAP.replace("ingress-nginx-controller", "tuning").replace(
                'keep-alive: "75"', 'ka: "0"'
            ),
            "prod/kustomization.yaml": """\
resources:
  - ../base
  - settings.yaml
replacements:
  - source: {kind: ConfigMap, name: tuning, fieldPath: data.ka}
    targets:
      - select: {kind: ConfigMap, name: ingress-nginx-controller}
        fieldPaths: [data.keep-alive]
""",
        },
    )
    assert placed(check(root), root) == [("ING101", "prod/kustomization.yaml:8:22")]


def test_replicas_set_by_the_replicas_transformer_are_at_its_count(tmp_path: Path) -> None:
    deployment = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
  labels: {app.kubernetes.io/name: ingress-nginx, app.kubernetes.io/component: controller}
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: ingress-nginx}
  template:
    metadata:
      labels: {app.kubernetes.io/name: ingress-nginx}
    spec:
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:v1.13.9
          args:
            - /nginx-ingress-controller
            - --configmap=$(POD_NAMESPACE)/ingress-nginx-controller
"""
    root = write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - configmap.yaml\n  - deploy.yaml\n",
            "base/configmap.yaml": CONFIGMAP,
            "base/deploy.yaml": deployment,
            "prod/kustomization.yaml": "resources:\n  - ../base\nreplicas:\n"
            "  - name: ingress-nginx-controller\n    count: 4\n",
        },
    )
    [(code, where)] = placed(check(root), root)
    assert (code, where) == ("ING111", "prod/kustomization.yaml:5:12")  # count: 4, not replicas: 1


# -- 7: a stream on stdin whose origin file holds another value ----------------------------------
def piped(root: Path, overlay: str, *options: str) -> tuple[str, list[dict[str, Any]]]:
    """``kubectl kustomize OVERLAY | tlslint --stdin-filename OVERLAY/rendered.yaml -``: the
    stream (the overlay asks for origin annotations) and the findings."""
    binary = kustomize_binary()
    command = [binary, "build"] if Path(binary).name == "kustomize" else [binary, "kustomize"]
    stream = subprocess.run([*command, overlay], cwd=root, capture_output=True, text=True, check=True).stdout
    assert "config.kubernetes.io/origin" in stream
    done = subprocess.run(
        [sys.executable, "-m", "tlslint", "check", *options, "--format", "json", "--no-cache",
         "--stdin-filename", f"{overlay}/rendered.yaml", "-"],
        input=stream.encode(), capture_output=True, cwd=root, check=False, timeout=120,
        env={**os.environ, "TLSLINT_DEBUG": "1"},
    )  # fmt: skip
    return stream, json.loads(done.stdout)["findings"]


def test_a_patched_value_on_stdin_stays_on_the_streams_line(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            **BASE,
            "prod/kustomization.yaml": "resources:\n  - ../base\nbuildMetadata: [originAnnotations]\n"
            "patches:\n  - target: {kind: ConfigMap, name: ingress-nginx-controller}\n" + PATCH_KEEP_ALIVE,
        },
    )
    stream, [finding] = piped(root, "prod", "--ignore", "ING110")
    assert finding["code"] == "ING101"
    # The base's line says keep-alive "75": the stream's own line says "0".
    assert finding["path"] == "prod/rendered.yaml"
    assert stream.splitlines()[finding["line"] - 1].strip() == 'keep-alive: "0"'


def test_a_prefixed_resource_on_stdin_is_found_under_the_longest_name_it_holds(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - gateways.yaml\n",
            "base/gateways.yaml": GATEWAYS % "*",
            "prod/kustomization.yaml": "resources:\n  - ../base\nnamePrefix: prod-\n"
            "buildMetadata: [originAnnotations]\n",
            ".tlslint.toml": '[kubernetes]\nnon-sni = "required"\n',
        },
    )
    _, [finding] = piped(root, "prod")
    assert finding["code"] == "GW101"
    # prod-gw-internal is gw-internal's (line 24), not gw's, whose line 11 is the catch-all
    assert (finding["path"], finding["line"]) == ("base/gateways.yaml", 24)


# -- 8: a missing patch file, an inline patch starting with a blank line ------------------------
def test_a_missing_patch_file_is_reported_at_its_entry(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "cm.yaml": CONFIGMAP,
            "kustomization.yaml": "resources:\n  - cm.yaml\npatches:\n  - path: missing-patch.yaml\n",
        },
    )
    [failed] = [f for f in check(root).findings if f.code == "RND001"]
    assert place(failed, root) == "kustomization.yaml:4:5"
    assert "missing-patch.yaml" in failed.message


def test_an_inline_patch_starting_with_a_blank_line_is_at_its_column(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            **BASE,
            "o1/kustomization.yaml": "resources:\n  - ../base\npatches:\n"
            "  - target: {kind: ConfigMap, name: ingress-nginx-controller}\n    patch: |\n\n"
            '      - op: replace\n        path: /data/keep-alive\n        value: "0"\n',
        },
    )
    assert placed(check(root), root) == [("ING101", "o1/kustomization.yaml:9:9")]


# -- images:, and a step nothing traces --------------------------------------------------------
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: ingress-nginx}
  template:
    metadata:
      labels: {app.kubernetes.io/name: ingress-nginx}
    spec:
      containers:
        - name: controller
          image: registry.k8s.io/ingress-nginx/controller:v1.13.9
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: ingress-nginx
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ingress-nginx}
subjects:
  - kind: ServiceAccount
    name: ingress-nginx
    namespace: ingress-nginx
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: ingress-nginx
  namespace: ingress-nginx
"""


def test_an_image_is_at_the_images_entry_and_an_untraced_change_at_no_contradicting_line(
    tmp_path: Path,
) -> None:
    root = write(
        tmp_path,
        {
            "base/kustomization.yaml": "resources:\n  - configmap.yaml\n  - deploy.yaml\n",
            "base/configmap.yaml": CONFIGMAP,
            "base/deploy.yaml": DEPLOYMENT,
            "prod/kustomization.yaml": "resources:\n  - ../base\nnamespace: edge\nimages:\n"
            "  - name: registry.k8s.io/ingress-nginx/controller\n    newTag: v1.12.1\n",
        },
    )
    load = load_rendered(discover([root], [], root), [root], settings_for(root))
    [build] = load.builds

    def located(kind: str, path: tuple[str | int, ...]) -> str | None:
        [document] = [d for d in build.documents if d.kind == kind]
        node: Any = document.node
        for key in path:
            node = node.items[key] if isinstance(key, int) else node.get(key)
        line_number, column = build.source.position(node.start)
        found = build.locate(Location(build.source.path, line_number, column))
        return None if found is None else place_of(found, root)

    image = ("spec", "template", "spec", "containers", 0, "image")
    assert located("Deployment", image) == "prod/kustomization.yaml:6:13"  # newTag: v1.12.1
    # The namespace transformer rewrote the subject's namespace (edge: its ServiceAccount is
    # in the build): the base's line says ingress-nginx, so it is not where the field is shown.
    assert located("ClusterRoleBinding", ("subjects", 0, "namespace")) is None
    # A field the base wrote as rendered stays there.
    assert located("ClusterRoleBinding", ("subjects", 0, "name")) == "base/deploy.yaml:24:11"
