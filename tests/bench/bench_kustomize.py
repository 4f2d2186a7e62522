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
import resource
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


def cpu() -> float:
    """CPU seconds (user + system) of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``command`` (its children, kubectl, included)."""
    start, start_cpu = time.perf_counter(), cpu()
    subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    return time.perf_counter() - start, cpu() - start_cpu


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
        names = ("kubectl", "tlslint", "tlslint (no kustomization)")
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        timed([*tlslint, str(tree)], work)  # warm: bytecode, page cache
        for _ in range(args.repeat):
            start, start_cpu = time.perf_counter(), cpu()
            for overlay in overlays:
                subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, check=True)
            times["kubectl"].append((time.perf_counter() - start, cpu() - start_cpu))
            times["tlslint"].append(timed([*tlslint, str(tree)], work))
            times["tlslint (no kustomization)"].append(timed([*tlslint, str(flat)], work))
        wall = statistics.median(w for w, _ in times["kubectl"])
        busy = statistics.median(c for _, c in times["kubectl"])
        load = os.getloadavg()[0]
        shape = f"{args.overlays} overlays, {args.repeat} runs each, {os.cpu_count()} CPUs"
        print(f"{shape}, load average {load:.1f}; medians:")
        print(f"  {'':<28} {'wall':>8}  {'ratio':>5}   {'CPU':>8}  {'ratio':>5}")
        for name, samples in times.items():
            w = statistics.median(s[0] for s in samples)
            c = statistics.median(s[1] for s in samples)
            print(f"  {name:<28} {w * 1000:6.0f} ms  {w / wall:5.2f}   {c * 1000:6.0f} ms  {c / busy:5.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
