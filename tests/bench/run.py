"""Benchmarks: tlslint against crossplane's bare parse, gixy-ng and `nginx -t`, and the
targets of issue 17, in one command.

Not part of the unit tests. For each generator (``generate.py``'s virtual hosts and
``realistic.py``'s corpus shapes) and each N, every tool runs in its own process on
the same tree, interleaved (round-robin, so machine noise hits all alike); the
report gives minima and medians, peak RSS, per-rule timings at the largest N
(tests/bench/rules.py), tlslint on an Apigee overrides file of as many virtual hosts
against ruamel.yaml's own round-trip load of it, and the targets table with each
ratio, met or missed. It is written to ``--out`` (JSON) and ``--report`` (Markdown).

    python -m venv /tmp/gixy && /tmp/gixy/bin/pip install gixy-ng
    python tests/bench/run.py --gixy /tmp/gixy/bin/gixy

gixy-ng must live in its own virtual environment: it installs a crossplane fork
over crossplane's package (facts: crossplane.md). It runs once at N >= 10,000
(about six minutes a run), and stops at ``--gixy-timeout``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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

import generate  # noqa: E402
import realistic  # noqa: E402

PYTHON = sys.executable
# As an installed user runs it: bytecode is cached (this machine disables that).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
CROSSPLANE = "import crossplane, sys; crossplane.parse(sys.argv[1], comments=True)"
RUAMEL = "import sys; from ruamel.yaml import YAML; YAML().load(open(sys.argv[1], encoding='utf-8'))"

COLD, WARM, CHANGED = "tlslint (cold)", "tlslint (warm, nothing changed)", "tlslint (warm, one file changed)"
CROSSPLANE_PARSE, NGINX_T, GIXY = "crossplane parse", "nginx -t (no certificates)", "gixy-ng"
APIGEE, RUAMEL_LOAD = "tlslint (Apigee overrides)", "ruamel.yaml round-trip load"
# Exit codes of a run that did its whole job (tlslint and gixy-ng: 1 = findings);
# a run that exits otherwise is shown, and left out of the figures.
OK_CODES = {COLD: (0, 1), WARM: (0, 1), CHANGED: (0, 1), APIGEE: (0, 1), GIXY: (0, 1)}


@dataclass(frozen=True)
class Generator:
    name: str
    nginx: Callable[..., Path]  # (directory, n, *, tls) -> main file
    overrides: Callable[[Path, int], Path]
    changed: str  # the virtual host the one-file-changed runs edit


GENERATORS = {
    "generate": Generator("generate", generate.nginx_tree, generate.overrides, "sites-enabled/app00000.conf"),
    "realistic": Generator(
        "realistic", realistic.realistic_tree, realistic.overrides, "sites-enabled/site00000.conf"
    ),
}


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
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if s.returncode in OK_CODES.get(self.name, (0,))]

    @property
    def minimum(self) -> float:
        return min((s.seconds for s in self.ok), default=float("nan"))

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.ok) if self.ok else float("nan")

    @property
    def peak_rss_mib(self) -> float:
        return max((s.max_rss_kib for s in self.ok), default=0) / 1024


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
        "min_s": measure.minimum,
        "median_s": measure.median,
        "peak_rss_mib": measure.peak_rss_mib,
        "timed_out": measure.timed_out,
        "samples": [s.seconds for s in measure.samples],
        "returncodes": [s.returncode for s in measure.samples],
    }


def tools(
    tree: Path, plain: Path, changed: Path, nginx: str | None, gixy: str | None
) -> dict[str, Callable[[], list[str]]]:
    main = str(tree / "nginx.conf")

    def warm() -> list[str]:
        return [PYTHON, "-m", "tlslint", "check", "-q", str(tree)]

    def one_changed() -> list[str]:
        with changed.open("a") as stream:  # a real edit: size and mtime change
            stream.write("# touched by the benchmark\n")
        return warm()

    found: dict[str, Callable[[], list[str]]] = {
        COLD: lambda: [PYTHON, "-m", "tlslint", "check", "--no-cache", "-q", str(tree)],
        WARM: warm,
        CHANGED: one_changed,
        CROSSPLANE_PARSE: lambda: [PYTHON, "-c", CROSSPLANE, main],
    }
    if nginx:
        found[NGINX_T] = lambda: [nginx, "-t", "-q", "-p", str(plain), "-c", str(plain / "nginx.conf")]
    if gixy:
        found[GIXY] = lambda: [gixy, main]
    return found


def nginx_tables(
    generator: Generator, sizes: list[int], args: argparse.Namespace, root: Path
) -> dict[str, dict[str, object]]:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    results: dict[str, dict[str, object]] = {}
    for size in sizes:
        tree = root / f"{generator.name}-tls-{size}"
        plain = root / f"{generator.name}-plain-{size}"
        generator.nginx(tree, size)
        generator.nginx(plain, size, tls=False)
        available = tools(tree, plain, tree / generator.changed, nginx, args.gixy)
        measures = {name: Measure(name) for name in available}
        timed([PYTHON, "-m", "tlslint", "check", "-q", str(tree)], cwd=tree)  # fill the cache
        repeat = args.repeat if size < 10_000 else args.repeat_large
        for round_ in range(repeat):
            for name, command in available.items():
                measure = measures[name]
                if measure.timed_out or (name == GIXY and size >= 10_000 and round_ >= args.gixy_repeat):
                    continue
                limit = args.gixy_timeout if name == GIXY else 600
                sample = timed(command(), cwd=tree, timeout=limit)
                if sample is None:
                    measure.timed_out = True
                else:
                    measure.samples.append(sample)
        results[str(size)] = {name: summary(m) for name, m in measures.items()}
        if size == max(sizes):
            out = root / f"{generator.name}-rules.json"
            rules = [PYTHON, str(HERE / "rules.py"), str(tree), "--repeat", str(args.rule_repeat)]
            subprocess.run(
                [*rules, "--json", str(out)],
                env=ENV,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            results[str(size)]["rules"] = json.loads(out.read_text())
        shutil.rmtree(tree)
        shutil.rmtree(plain)
        print(f"{generator.name} N={size}: done", file=sys.stderr, flush=True)
    return results


def apigee(generator: Generator, size: int, repeat: int, root: Path) -> dict[str, dict[str, object]]:
    """tlslint on one overrides.yaml of ``size`` virtual hosts (and, for the realistic
    generator, the wildcard route beside it) against ruamel.yaml's round-trip load of
    the overrides file: no other tool checks these files."""
    directory = root / f"{generator.name}-apigee-{size}"
    path = generator.overrides(directory, size)
    commands = {
        APIGEE: [PYTHON, "-m", "tlslint", "check", "--no-cache", "-q", str(directory)],
        RUAMEL_LOAD: [PYTHON, "-c", RUAMEL, str(path)],
    }
    measures = {name: Measure(name) for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            sample = timed(command)
            if sample is not None:
                measures[name].samples.append(sample)
    shutil.rmtree(directory)
    return {name: summary(m) for name, m in measures.items()}


def startup(repeat: int) -> dict[str, float]:
    """`python -c pass`, `tlslint --version` and a check of a 3-file repo (minima)."""
    with tempfile.TemporaryDirectory(prefix="tlslint-small-") as scratch:
        small = Path(scratch)
        generate.nginx_tree(small, 2)  # nginx.conf + 2 virtual hosts = 3 files
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
    return {name: min(values) for name, values in samples.items()}


def instructions(generator: Generator, size: int, root: Path) -> dict[str, int]:
    """Instructions (valgrind's callgrind) of a cold check on one CPU and of crossplane's
    parse of the same tree: unlike time, the same count on an idle and on a loaded
    machine (this one's speed varied by half between runs of one command), so a change
    can be judged by it; the targets stay wall-time ratios. Empty without valgrind."""
    valgrind, taskset = shutil.which("valgrind"), shutil.which("taskset")
    if valgrind is None or taskset is None:
        return {}
    tree = root / f"{generator.name}-tls-{size}"
    if not tree.exists():
        generator.nginx(tree, size)
    commands = {
        COLD: [PYTHON, "-m", "tlslint", "check", "--no-cache", "-q", str(tree)],
        CROSSPLANE_PARSE: [PYTHON, "-c", CROSSPLANE, str(tree / "nginx.conf")],
    }
    found: dict[str, int] = {}
    env = {**ENV, "PYTHONHASHSEED": "0"}  # the same hashes, the same dictionaries: the same count
    for name, command in commands.items():
        done = subprocess.run(
            [taskset, "-c", "0", valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
            cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
        )  # fmt: skip
        counts = [line.rsplit(":", 1)[1] for line in done.stderr.splitlines() if "Collected :" in line]
        if counts:
            found[name] = int(counts[-1].strip())
    return found


# --------------------------------------------------------------------------- report


def _ratio(a: float, b: float) -> float:
    return a / b if b and b == b else float("nan")


Row = tuple[str, str, str, bool]


def targets(results: dict[str, dict[str, object]], large: int, small: int) -> list[Row]:
    """(measure, target, measured, met) of issue 17, from one generator's minima."""

    def m(size: int, name: str, key: str = "min_s") -> float:
        entry = results["nginx"].get(str(size), {}).get(name)  # type: ignore[union-attr]
        if not isinstance(entry, dict):
            return float("nan")
        return float(entry[key])

    rows: list[Row] = []
    for size in (small, large):
        cold, parse = m(size, COLD), m(size, CROSSPLANE_PARSE)
        ratio = _ratio(cold, parse)
        rows.append(
            (f"cold check, N = {size:,}", "≤ 0.4 × crossplane's bare parse",
             f"{cold:.3f} / {parse:.3f} s = {ratio:.2f} ×", ratio <= 0.4)
        )  # fmt: skip
    growth = _ratio(m(large, COLD), m(small, COLD))
    rows.append((f"growth, N = {small:,} → {large:,}", "≤ 10.5 ×", f"{growth:.1f} ×", growth <= 10.5))
    gixy_entry = results["nginx"].get(str(large), {}).get(GIXY)  # type: ignore[union-attr]
    if isinstance(gixy_entry, dict):
        gixy_s = float(gixy_entry["min_s"])
        if gixy_entry.get("timed_out"):
            past = f"gixy-ng past {results['gixy_timeout']:.0f} s"
            rows.append((f"cold check, N = {large:,}", "≥ 150 × faster than gixy-ng", past, True))
        else:
            speed = _ratio(gixy_s, m(large, COLD))
            rows.append(
                (f"cold check, N = {large:,}", "≥ 150 × faster than gixy-ng",
                 f"{gixy_s:.0f} / {m(large, COLD):.2f} s = {speed:.0f} ×", speed >= 150)
            )  # fmt: skip
    else:
        rows.append((f"cold check, N = {large:,}", "≥ 150 × faster than gixy-ng", "not run (--gixy)", False))
    changed, nginx_t = m(large, CHANGED), m(large, NGINX_T)
    ratio = _ratio(changed, nginx_t)
    rows.append(
        (f"warm check, one file of N = {large:,} changed", "≤ 0.25 × `nginx -t` without certificates",
         f"{changed:.3f} / {nginx_t:.3f} s = {ratio:.2f} ×", ratio <= 0.25)
    )  # fmt: skip
    rss, parse_rss = m(large, COLD, "peak_rss_mib"), m(large, CROSSPLANE_PARSE, "peak_rss_mib")
    ratio = _ratio(rss, parse_rss)
    rows.append(
        (f"peak RSS, N = {large:,}", "≤ 1.2 × crossplane's bare parse",
         f"{rss:.0f} / {parse_rss:.0f} MiB = {ratio:.2f} ×", ratio <= 1.2)
    )  # fmt: skip
    entry = results.get("apigee", {})
    ours = entry.get(APIGEE, {}) if isinstance(entry, dict) else {}
    theirs = entry.get(RUAMEL_LOAD, {}) if isinstance(entry, dict) else {}
    a, b = float(ours.get("min_s", "nan")), float(theirs.get("min_s", "nan"))  # type: ignore[union-attr]
    ratio = _ratio(a, b)
    rows.append(
        (f"Apigee overrides with {results.get('apigee_size', large):,} virtual hosts",
         "≤ 1.0 × ruamel.yaml's own round-trip load", f"{a:.2f} / {b:.2f} s = {ratio:.2f} ×", ratio <= 1.0)
    )  # fmt: skip
    return rows


def report(all_results: dict[str, object], sizes: list[int]) -> str:
    large, small = max(sizes), min(sizes)
    lines = [f"# Benchmark ({all_results['when']}, {all_results['machine']})", ""]
    for name, results in all_results["generators"].items():  # type: ignore[union-attr]
        lines += [f"## Generator `{name}`", "", "| N | tool | min | median | peak RSS |"]
        lines.append("|---|---|---|---|---|")
        for size in sizes:
            for tool, entry in results["nginx"][str(size)].items():
                if tool == "rules":
                    continue
                shown = f"{entry['min_s']:.3f} s"
                if entry["timed_out"] and not entry["samples"]:
                    shown = f"past {results['gixy_timeout']:.0f} s"
                codes = {c for c in entry["returncodes"] if c not in OK_CODES.get(tool, (0,))}
                note = f" (exit {', '.join(map(str, sorted(codes)))})" if codes else ""
                median = f"{entry['median_s']:.3f} s" if entry["samples"] else "—"
                rss = f"{entry['peak_rss_mib']:.0f} MiB" if entry["samples"] else "—"
                lines.append(f"| {size:,} | {tool}{note} | {shown} | {median} | {rss} |")
        for tool, entry in results["apigee"].items():
            lines.append(
                f"| {results['apigee_size']:,} hosts | {tool} | {entry['min_s']:.3f} s | "
                f"{entry['median_s']:.3f} s | {entry['peak_rss_mib']:.0f} MiB |"
            )
        lines += ["", "| measure | target | measured | |", "|---|---|---|---|"]
        for measure, target, measured, met in targets(results, large, small):
            lines.append(f"| {measure} | {target} | {measured} | {'met' if met else '**missed**'} |")
        counted = results.get("instructions")
        if isinstance(counted, dict) and len(counted) == 2:
            ours, theirs = counted[COLD], counted[CROSSPLANE_PARSE]
            lines += [
                "",
                f"Instructions at N = {small:,} (callgrind, one CPU, not a target): tlslint cold "
                f"{ours / 1e9:.2f} G, crossplane's parse {theirs / 1e9:.2f} G = {ours / theirs:.2f} ×.",
            ]
        rules = results["nginx"][str(large)].get("rules")
        if rules:
            lines += ["", f"Where a cold check of N = {large:,} goes (one process, minima):", ""]
            lines += ["| phase or rule | time |", "|---|---|"]
            lines += [f"| {phase} | {seconds * 1000:.0f} ms |" for phase, seconds in rules["phases"].items()]
            lines += [f"| {code} | {seconds * 1000:.1f} ms |" for code, seconds in rules["rules"].items()]
        lines.append("")
    start = all_results.get("startup")
    if isinstance(start, dict):
        lines += ["## Start-up (minima)", ""]
        lines += [f"- {name}: {seconds * 1000:.1f} ms" for name, seconds in start.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--generators", nargs="+", choices=sorted(GENERATORS), default=sorted(GENERATORS))
    parser.add_argument("--repeat", type=int, default=5, help="runs of each tool below N = 10,000")
    parser.add_argument("--repeat-large", type=int, default=3, help="runs of each tool from N = 10,000")
    parser.add_argument("--rule-repeat", type=int, default=3, help="runs of each rule at the largest N")
    parser.add_argument("--gixy", help="the gixy executable of a separate venv")
    parser.add_argument("--gixy-repeat", type=int, default=1, help="runs of gixy-ng from N = 10,000")
    parser.add_argument("--gixy-timeout", type=float, default=600)
    parser.add_argument("--apigee-size", type=int, default=10_000)
    parser.add_argument(
        "--instructions", action="store_true", help="also count instructions at the smallest N (valgrind)"
    )
    parser.add_argument("--out", type=Path, default=HERE / "out" / "results.json")
    parser.add_argument("--report", type=Path, default=HERE / "out" / "report.md")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    all_results: dict[str, object] = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "machine": (
            f"{os.cpu_count()} CPUs, Python {platform.python_version()}, load average {load:.1f} at the start"
        ),
        "generators": {},
    }
    with tempfile.TemporaryDirectory(prefix="tlslint-bench-") as scratch:
        for name in args.generators:
            generator = GENERATORS[name]
            results: dict[str, object] = {"nginx": nginx_tables(generator, args.sizes, args, Path(scratch))}
            results["apigee"] = apigee(generator, args.apigee_size, args.repeat_large, Path(scratch))
            results["apigee_size"] = args.apigee_size
            results["gixy_timeout"] = args.gixy_timeout
            if args.instructions:
                results["instructions"] = instructions(generator, min(args.sizes), Path(scratch))
            all_results["generators"][name] = results  # type: ignore[index]
            args.out.write_text(json.dumps(all_results, indent=1))
    all_results["startup"] = startup(10)
    args.out.write_text(json.dumps(all_results, indent=1))
    text = report(all_results, args.sizes)
    args.report.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
