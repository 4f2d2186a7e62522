"""What the directive analyzer (NGX010-NGX012) costs on the benchmark tree.

Not part of the unit tests. On ``generate.nginx_tree`` (N TLS virtual hosts),
interleaved so that machine noise hits every measure alike:

- the analysis alone (``tlslint.nginx_analysis.check_config`` over the built
  workspace, a fresh directive table each time), per directive, without and
  with a target version (value forms checked);
- crossplane's bare parse of the same tree, in the same process;
- whole cold runs in fresh processes, with the three rules and without them
  (``--ignore NGX010,NGX011,NGX012``).

    python tests/bench/bench_analyzer.py --size 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import nginx_tree  # noqa: E402

from tlslint.engine import run  # noqa: E402
from tlslint.nginx_analysis import check_config  # noqa: E402
from tlslint.nginx_directives import DirectiveTable  # noqa: E402
from tlslint.settings import from_mapping  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
RULES = "NGX010,NGX011,NGX012"


def timed(function: object) -> float:
    gc.collect()
    start = time.perf_counter()
    function()  # type: ignore[operator]
    return time.perf_counter() - start


def process(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tlslint-bench-analyzer-") as temporary:
        tree = Path(temporary) / "tree"
        nginx_tree(tree, options.size)
        settings = from_mapping({"select": [RULES.split(",")[0]]}, None)
        settings.base = tree
        configs = run([tree], settings).workspace.nginx
        count = sum(len(block.children) for config in configs for block in config.top.walk())
        measures: dict[str, list[float]] = {}
        python = sys.executable
        cold = [python, "-m", "tlslint", "check", "--no-cache", "-q", str(tree)]
        for _ in range(options.repeat):
            for version in (None, (1, 22, 1)):
                table = DirectiveTable(version)  # fresh: its shapes fill during the pass, as in a run
                label = f"analysis, version {'unset' if version is None else '1.22.1'}"
                measures.setdefault(label, []).append(
                    timed(lambda t=table: [check_config(config, t) for config in configs])  # type: ignore[misc]
                )
            measures.setdefault("crossplane.parse", []).append(
                timed(lambda: __import__("crossplane").parse(str(tree / "nginx.conf"), comments=True))
            )
            measures.setdefault("cold check, all rules", []).append(process(cold))
            without = process([*cold, "--ignore", RULES])
            measures.setdefault(f"cold check, --ignore {RULES}", []).append(without)
        print(f"N = {options.size:,}: {count:,} directives; medians of {options.repeat}")
        for label, samples in measures.items():
            median = statistics.median(samples)
            extra = f" ({median / count * 1e9:.0f} ns a directive)" if label.startswith("analysis") else ""
            print(f"  {label}: {median:.3f} s (min {min(samples):.3f}){extra}")
        parse = statistics.median(measures["crossplane.parse"])
        analysis = statistics.median(measures["analysis, version unset"])
        print(f"  analysis / crossplane parse: {analysis / parse:.3f}")
        with_rules = statistics.median(measures["cold check, all rules"])
        ignored = statistics.median(measures[f"cold check, --ignore {RULES}"])
        print(f"  cold check with / without the rules: {with_rules / ignored:.3f}")
        print(f"  cold check / crossplane parse: {with_rules / parse:.3f}")


if __name__ == "__main__":
    main()
