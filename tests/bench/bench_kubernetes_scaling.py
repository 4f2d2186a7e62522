"""How the Kubernetes gateway tier scales: every GW/ING catalogue example, its
documents repeated N times in one file, checked at two sizes.

Not part of the unit tests. The run is in process (the tier's own cost, not
start-up), one rule selected at a time as the catalogue tests do, best of
``--repeat``, in CPU seconds of this process (``time.process_time``): on a
machine shared with other jobs, wall time grows with their load, not ours.
Linear growth gives a ratio near the size ratio (8 for 1,000 -> 8,000); a
quadratic join gives about 64.

    python tests/bench/bench_kubernetes_scaling.py --sizes 1000 8000 --repeat 1
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from helpers import settings_for  # noqa: E402

from tlslint import catalogue  # noqa: E402
from tlslint.engine import run  # noqa: E402

FAMILIES = ("GW", "ING")


def replicated(text: str, copies: int) -> str:
    """The example's documents ``copies`` times, as one multi-document file."""
    body = text if text.endswith("\n") else text + "\n"
    if not body.startswith("---"):
        body = "---\n" + body
    return body * copies


def measure(code: str, example: dict[str, object], copies: int, repeat: int) -> tuple[float, int]:
    text = str(example.get("bad", example.get("good")))
    best, count = float("inf"), 0
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        path = root / str(example.get("path", "example.yaml"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(replicated(text, copies), encoding="utf-8")
        for name, extra in dict(example.get("files", {})).items():  # type: ignore[call-overload]
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(extra, encoding="utf-8")
        mapping = {**dict(example.get("settings", {})), "select": [code]}  # type: ignore[call-overload]
        settings = settings_for(root, mapping)
        settings.max_file_size = 2**30
        for _ in range(repeat):
            gc.collect()
            start = time.process_time()
            result = run([root], settings)
            best = min(best, time.process_time() - start)
            count = sum(f.code == code for f in result.findings)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[1000, 8000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=[], help="rule codes")
    args = parser.parse_args()
    small, large = args.sizes
    print(f"{'example':<14} {small:>7}x s {large:>7}x s  ratio  findings   (CPU seconds)")
    worst = 0.0
    for code, entry in sorted(catalogue.load_entries().items()):
        if not code.startswith(FAMILIES) or (args.only and code not in args.only):
            continue
        for index, example in enumerate(entry["examples"]):
            kind = "bad" if "bad" in example else "good"
            first, found_small = measure(code, example, small, args.repeat)
            second, found_large = measure(code, example, large, args.repeat)
            ratio = second / first if first else float("nan")
            worst = max(worst, ratio)
            label = f"{code}-{index}-{kind}"
            print(f"{label:<14} {first:>9.2f} {second:>9.2f}  {ratio:5.1f}  {found_small} -> {found_large}")
            sys.stdout.flush()
    print(f"worst ratio {worst:.1f} (size ratio {large / small:g})")


if __name__ == "__main__":
    main()
