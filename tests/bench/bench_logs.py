"""Benchmark: ``tlslint logs`` on large generated logs, in bounded memory.

Not part of the unit tests. Generates (once, kept under tests/bench/out/logs)
nginx logs in NGX401's format plus ``sni=`` of about 100 MB and 1 GB, a gzip copy
of the 100 MB one, and an Envoy ingress JSON log of about 100 MB; then runs
``python -m tlslint logs FILE --format json`` on each in its own process and
reports wall time, throughput and the process's peak RSS (``VmHWM``). The totals
the analyser reports are checked against the generator's.

    python tests/bench/bench_logs.py                 # 100M and 1G
    python tests/bench/bench_logs.py --sizes 100M    # quicker

Peak RSS that does not grow from 100 MB to 1 GB is the point: memory is bounded
by windows and capped client maps, not by lines.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import loggen  # noqa: E402

OUT = HERE / "out" / "logs"
UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(text: str) -> int:
    return int(float(text[:-1]) * UNITS[text[-1].upper()]) if text[-1].isalpha() else int(text)


def nginx_log(size_text: str) -> tuple[Path, dict[str, int]]:
    path = OUT / f"access-{size_text}.log"
    meta = path.with_suffix(".truth.json")
    if not (path.exists() and meta.exists()):
        truth = loggen.generate_size(path, parse_size(size_text))
        meta.write_text(json.dumps({"lines": truth.lines, "bytes": truth.bytes,
                                    "connections": truth.connections, "resumed": truth.resumed}))  # fmt: skip
    return path, json.loads(meta.read_text())


def gzip_copy(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    if not target.exists():
        with path.open("rb") as source, gzip.open(target, "wb", compresslevel=6) as sink:
            shutil.copyfileobj(source, sink, 1 << 20)
    return target


def envoy_log(size_text: str) -> tuple[Path, dict[str, int]]:
    path = OUT / f"ingress-{size_text}.log"
    meta = path.with_suffix(".truth.json")
    if not (path.exists() and meta.exists()):
        minutes = max(1, parse_size(size_text) // (2100 * 300))
        spec = loggen.EnvoySpec(minutes=minutes, requests=(2000, 2200))
        with path.open("w", buffering=1 << 20) as stream:
            truth = loggen.generate_envoy(spec, stream)
        meta.write_text(json.dumps({"lines": truth.lines, "resets": truth.resets}))
    return path, json.loads(meta.read_text())


# ru_maxrss is no good here: Linux carries the parent's high-water mark across fork and
# exec. VmHWM of /proc/self/status belongs to the process's own address space.
_RUN = """
import atexit, os, re, sys
from pathlib import Path
def _peak():
    status = Path("/proc/self/status").read_text()
    times = os.times()
    sys.stderr.write(f"CPU {times.user + times.system}\\n")
    sys.stderr.write("VmHWM " + re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1) + "\\n")
atexit.register(_peak)
from tlslint.cli import main
main(sys.argv[1:])
"""


def measure(path: Path) -> tuple[float, float, int, dict[str, object]]:
    """(wall seconds, CPU seconds, peak RSS in KiB, the JSON report) of one run in a fresh process."""
    result = OUT / "result.json"
    command = [sys.executable, "-c", _RUN, "logs", str(path), "--format", "json", "--output", str(result)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=OUT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise RuntimeError(f"tlslint logs {path} exited {done.returncode}: {done.stderr}")
    peak = int(done.stderr.rsplit("VmHWM ", 1)[1].split()[0])
    cpu = float(done.stderr.rsplit("CPU ", 1)[1].split()[0])
    return seconds, cpu, peak, json.loads(result.read_text())["logs"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", nargs="+", default=["100M", "1G"])
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    cases: list[tuple[str, Path, dict[str, int]]] = []
    for size in args.sizes:
        path, truth = nginx_log(size)
        cases.append((f"nginx tls+sni, {size}", path, truth))
    small = args.sizes[0]
    path, truth = nginx_log(small)
    cases.append((f"nginx tls+sni, {small}, gzip", gzip_copy(path), truth))
    path, truth = envoy_log(small)
    cases.append((f"Envoy JSON, {small}", path, truth))

    rows = []
    for label, path, truth in cases:
        seconds, cpu, rss, logs = measure(path)
        lines = sum(int(f["lines"]) for f in logs["files"])  # type: ignore[attr-defined]
        assert lines == truth["lines"], (label, lines, truth)
        if "connections" in truth:
            assert logs["connections"] == truth["connections"], label
            assert logs["resumed"] == truth["resumed"], label
        else:
            assert logs["non_sni_resets"]["count"] == truth["resets"], label  # type: ignore[index]
        size = truth.get("bytes") or path.stat().st_size
        rows.append(
            f"| {label} | {size / 1e6:,.0f} MB | {lines:,} | {seconds:.1f} s | {cpu:.1f} s | "
            f"{lines / cpu:,.0f} | {size / cpu / 1e6:.1f} | {rss / 1024:.0f} MiB |"
        )
        print(rows[-1], flush=True)
    print("\n| log | size | lines | wall time | CPU time | lines/s (CPU) | MB/s (CPU) | peak RSS |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
