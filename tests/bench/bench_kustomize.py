"""Benchmark: rendering kustomize overlays against `kubectl kustomize` on them alone.

Not a unit test. Generates a tree shaped like an Apigee hybrid installation (one base,
a component with a JSON 6902 patch, N overlays each with its own env-group
ApigeeRouteConfig and a strategic-merge patch), then times, interleaved:

* ``kubectl``: ``kubectl kustomize`` on every overlay, one after another (the engine
  alone, as a CI script that renders each overlay would run it);
* ``tlslint``: ``tlslint check TREE`` (find the roots, render them in parallel through
  the wrapper, check every build, map the findings back);
* ``tlslint (no kustomization)``: the same files without kustomization files, checked
  one by one as before rendering existed (what a pre-commit hook pays).

    python tests/bench/bench_kustomize.py --overlays 50 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUTE_CONFIG = """\
apiVersion: apigee.cloud.google.com/v1alpha1
kind: ApigeeRouteConfig
metadata:
  name: {name}
spec:
  selector:
    app: apigee-ingressgateway
  tls:
    secretNameRef: {name}-tls
    mode: SIMPLE
"""
ROUTE = """\
apiVersion: apigee.cloud.google.com/v1alpha1
kind: ApigeeRoute
metadata:
  name: non-sni
spec:
  hostnames:
  - "*"
  ports:
  - number: 443
    protocol: HTTPS
    tls:
      credentialName: prod-tls
      mode: SIMPLE
  selector:
    app: apigee-ingressgateway
  enableNonSniClient: true
"""


def generate(root: Path, overlays: int, kustomize: bool = True) -> None:
    def write(path: str, text: str) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)

    write("base/routeconfig.yaml", ROUTE_CONFIG.format(name="shared"))
    write("components/non-sni/route.yaml", ROUTE)
    write(
        "components/non-sni/link.yaml",
        "- op: add\n  path: /spec/additionalGateways\n  value: [non-sni]\n",
    )
    if kustomize:
        write("base/kustomization.yaml", "namespace: apigee\nresources:\n- routeconfig.yaml\n")
        write(
            "components/non-sni/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n- route.yaml\n"
            "patches:\n- path: link.yaml\n  target:\n    kind: ApigeeRouteConfig\n",
        )
    for index in range(overlays):
        name = f"env-{index:03d}"
        write(f"overlays/{name}/group.yaml", ROUTE_CONFIG.format(name=name))
        write(
            f"overlays/{name}/tls.yaml",
            f"apiVersion: apigee.cloud.google.com/v1alpha1\nkind: ApigeeRouteConfig\nmetadata:\n"
            f"  name: {name}\nspec:\n  tls:\n    minProtocolVersion: TLSV1_2\n",
        )
        if kustomize:
            write(
                f"overlays/{name}/kustomization.yaml",
                "resources:\n- ../../base\n- group.yaml\ncomponents:\n- ../../components/non-sni\n"
                "patches:\n- path: tls.yaml\n",
            )


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overlays", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        sys.exit("kubectl is not installed")
    work = Path(tempfile.mkdtemp(prefix="tlslint-bench-kustomize-"))
    try:
        tree, flat = work / "tree", work / "flat"
        generate(tree, args.overlays)
        generate(flat, args.overlays, kustomize=False)
        for root in (tree, flat):
            (root / ".git").mkdir()
        overlays = sorted((tree / "overlays").iterdir())
        tlslint = [sys.executable, "-m", "tlslint", "check", "--quiet", "--no-cache", "--fail-on", "never"]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        os.environ.clear()
        os.environ.update(env)
        times: dict[str, list[float]] = {"kubectl": [], "tlslint": [], "tlslint (no kustomization)": []}
        timed([*tlslint, str(tree)], work)  # warm: bytecode, page cache
        for _ in range(args.repeat):
            start = time.perf_counter()
            for overlay in overlays:
                subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, check=True)
            times["kubectl"].append(time.perf_counter() - start)
            times["tlslint"].append(timed([*tlslint, str(tree)], work))
            times["tlslint (no kustomization)"].append(timed([*tlslint, str(flat)], work))
        base = statistics.median(times["kubectl"])
        print(f"{args.overlays} overlays, {args.repeat} runs each, {os.cpu_count()} CPUs; medians:")
        for name, samples in times.items():
            median = statistics.median(samples)
            print(f"  {name:<28} {median * 1000:8.0f} ms  {median / base:5.2f} x kubectl")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
