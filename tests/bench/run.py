"""Benchmarks: tlslint against crossplane's bare parse, gixy-ng and `nginx -t`.

Not part of the unit tests. Every tool runs in its own process on the same
generated trees, interleaved (round-robin, so machine noise hits all alike),
and the report gives medians, ratios, peak RSS and growth from N to 10 N.

    python tests/bench/run.py --sizes 100 1000 10000 --repeat 3 --gixy /path/to/gixy

gixy-ng must live in its own virtual environment: it installs a crossplane
fork over crossplane's package (facts: crossplane.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import nginx_tree, overrides  # noqa: E402

PYTHON = sys.executable
# As an installed user runs it: bytecode is cached (this machine disables that).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
CROSSPLANE = "import crossplane, sys; crossplane.parse(sys.argv[1], comments=True)"


@dataclass
class Sample:
    seconds: float
    max_rss_kib: int
    returncode: int


@dataclass
class Measure:
    name: str
    samples: list[Sample] = field(default_factory=list)
    timed_out: bool = False

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples) if self.samples else float("nan")

    @property
    def peak_rss_mib(self) -> float:
        return max((s.max_rss_kib for s in self.samples), default=0) / 1024


def timed(command: list[str], cwd: Path | None = None, timeout: float = 600) -> Sample | None:
    """Wall time and peak RSS of one process; None on timeout.

    Peak RSS comes from GNU time, whose tiny process is the one that forks: a
    child's ru_maxrss counts the memory it inherited before exec, and ours (a
    Python process) would inflate every figure.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        wrapped = ["/usr/bin/time", "-o", report.name, "-f", "%M", *command]
        start = time.perf_counter()
        process = subprocess.Popen(
            wrapped,
            cwd=cwd,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        # Popen.wait(timeout=...) polls with sleeps of up to 50 ms, which would
        # quantise every figure: block in waitpid and let a timer do the killing.
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            os.killpg(process.pid, 9)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            returncode = process.wait()
        finally:
            timer.cancel()
        elapsed = time.perf_counter() - start
        if expired.is_set():
            return None
        lines = [line for line in report.read().splitlines() if line.strip()]
        max_rss = int(lines[-1]) if lines and lines[-1].strip().isdigit() else 0
        return Sample(elapsed, max_rss, returncode)


def summary(measure: Measure) -> dict[str, object]:
    return {
        "median_s": measure.median,
        "peak_rss_mib": measure.peak_rss_mib,
        "timed_out": measure.timed_out,
        "samples": [s.seconds for s in measure.samples],
        "returncodes": [s.returncode for s in measure.samples],
    }


def tools(
    tree: Path, plain: Path, nginx: str | None, gixy: str | None, cache: Path
) -> dict[str, Callable[[], list[str]]]:
    main = str(tree / "nginx.conf")
    changed = tree / "sites-enabled" / "app00000.conf"

    def warm() -> list[str]:
        return [PYTHON, "-m", "tlslint", "check", "-q", str(tree)]

    def one_changed() -> list[str]:
        with changed.open("a") as stream:  # a real edit: size and mtime change
            stream.write("# touched by the benchmark\n")
        return warm()

    found: dict[str, Callable[[], list[str]]] = {
        "tlslint (cold)": lambda: [PYTHON, "-m", "tlslint", "check", "--no-cache", "-q", str(tree)],
        "tlslint (warm, nothing changed)": warm,
        "tlslint (warm, one file changed)": one_changed,
        "crossplane parse": lambda: [PYTHON, "-c", CROSSPLANE, main],
    }
    if nginx:
        found["nginx -t (no certificates)"] = lambda: [
            nginx,
            "-t",
            "-q",
            "-p",
            str(plain),
            "-c",
            str(plain / "nginx.conf"),
        ]
    if gixy:
        found["gixy-ng"] = lambda: [gixy, main]
    return found


def run(
    sizes: list[int], repeat: int, gixy: str | None, gixy_max: int, out: Path
) -> dict[str, dict[str, object]]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    results: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="tlslint-bench-") as scratch:
        root = Path(scratch)
        for size in sizes:
            tree = root / f"tls-{size}"
            plain = root / f"plain-{size}"
            nginx_tree(tree, size)
            nginx_tree(plain, size, tls=False)
            available = tools(tree, plain, nginx, gixy if size <= gixy_max else None, root / "cache")
            measures = {name: Measure(name) for name in available}
            timed(available["tlslint (warm, nothing changed)"](), cwd=tree)  # fill the cache
            for _ in range(repeat):
                for name, command in available.items():
                    measure = measures[name]
                    if measure.timed_out:
                        continue
                    sample = timed(command(), cwd=tree)
                    if sample is None:
                        measure.timed_out = True
                    else:
                        measure.samples.append(sample)
            results[str(size)] = {name: summary(m) for name, m in measures.items()}
            print(json.dumps({size: results[str(size)]}, indent=1), file=sys.stderr)
    out.write_text(json.dumps(results, indent=1))
    return results


def startup(repeat: int) -> dict[str, float]:
    """`python -c pass`, `tlslint --version` and a check of a 3-file repo."""
    with tempfile.TemporaryDirectory(prefix="tlslint-small-") as scratch:
        small = Path(scratch)
        nginx_tree(small, 2)  # nginx.conf + 2 virtual hosts = 3 files
        commands = {
            "python -c pass": [PYTHON, "-c", "pass"],
            "tlslint --version": [PYTHON, "-m", "tlslint", "--version"],
            "tlslint check (3 files)": [PYTHON, "-m", "tlslint", "check", "-q", str(small)],
        }
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(repeat):
            for name, command in commands.items():
                sample = timed(command)
                assert sample is not None
                samples[name].append(sample.seconds)
    return {name: statistics.median(values) for name, values in samples.items()}


def apigee(sizes: list[int], repeat: int) -> dict[str, dict[str, float]]:
    """tlslint on one overrides.yaml with N virtual hosts (no peer checks these files)."""
    found: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="tlslint-apigee-") as scratch:
        for size in sizes:
            directory = Path(scratch) / f"apigee-{size}"
            overrides(directory, size)
            command = [PYTHON, "-m", "tlslint", "check", "--no-cache", "-q", str(directory)]
            samples = [timed(command) for _ in range(repeat)]
            kept = [sample for sample in samples if sample is not None]
            found[str(size)] = {
                "median_s": statistics.median(s.seconds for s in kept),
                "peak_rss_mib": max(s.max_rss_kib for s in kept) / 1024,
            }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gixy", help="the gixy executable of a separate venv")
    parser.add_argument("--gixy-max", type=int, default=10_000, help="largest N to run gixy-ng on")
    parser.add_argument("--out", type=Path, default=Path("tests/bench/out/results.json"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = run(args.sizes, args.repeat, args.gixy, args.gixy_max, args.out)
    timings = startup(max(args.repeat, 10))
    print(json.dumps({"startup": timings}, indent=1))
    print(json.dumps({"apigee overrides": apigee(args.sizes, args.repeat)}, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
