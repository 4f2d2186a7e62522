"""Benchmark: what reading the deployment files near a named nginx file adds to a
pre-commit run (tlslint.deployment_near.versions_near), on a deep tree.

Not part of the unit tests. Builds (in a temporary directory) a repository whose nginx
file sits ``--depth`` directories below the work tree's top, every level holding what a
monorepo's levels hold (a README, a compose file and a Dockerfile of other images, a
values.yaml, a few sources), and times, each in a fresh state (resolved-path cache
dropped), the search alone and the whole in-process run of the hook's command line
(``check --force-exclude FILE``) with and without it:

- ``none``: no nginx image anywhere: every level is listed up to the top (the worst case);
- ``top``: ``FROM nginx:1.25.3`` at the top: the same walk, then one image read;
- ``beside``: a Dockerfile beside the nginx file: one level.

    python tests/bench/bench_deployment_near.py              # depth 40
    python tests/bench/bench_deployment_near.py --depth 100
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

import tlslint.deployment_near as near  # noqa: E402
from tlslint.engine import RunOptions, run  # noqa: E402
from tlslint.paths import forget  # noqa: E402
from tlslint.settings import load_settings  # noqa: E402

NGINX = """events {}
http {
    server {
        listen 443 ssl;
        ssl_certificate /etc/ssl/site.pem;
        ssl_certificate_key /etc/ssl/site.key;
    }
}
"""
LEVEL = {
    "README.md": "# service\n",
    "docker-compose.yml": "services:\n  db:\n    image: postgres:16\n  cache:\n    image: redis:7\n",
    "Dockerfile": 'FROM python:3.12-slim\nCMD ["python", "-m", "app"]\n',
    "values.yaml": "replicaCount: 2\nimage:\n  repository: ghcr.io/example/app\n  tag: 1.4.0\n",
    "main.py": "print('hello')\n",
    "util.py": "X = 1\n",
    "setup.cfg": "[metadata]\nname = x\n",
}


def build(root: Path, depth: int, image: str) -> Path:
    (root / ".git").mkdir(parents=True)
    directory = root
    for level in range(depth):
        for name, text in LEVEL.items():
            (directory / name).write_text(text, encoding="utf-8")
        directory = directory / f"level{level}"
        directory.mkdir()
    nginx = directory / "nginx.conf"
    nginx.write_text(NGINX, encoding="utf-8")
    if image == "top":
        (root / "Dockerfile").write_text("FROM nginx:1.25.3\n", encoding="utf-8")
    elif image == "beside":
        (directory / "Dockerfile").write_text("FROM nginx:1.25.3\n", encoding="utf-8")
    return nginx


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median milliseconds, each call in a fresh state."""
    times = []
    for _ in range(repeat):
        forget()
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--depth", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    real = near.versions_near
    print(f"depth {args.depth}, median of {args.repeat} (ms)")
    print(f"{'case':8} {'search':>8} {'run with':>9} {'run without':>12} {'added':>7}  range")
    for case in ("none", "top", "beside"):
        with tempfile.TemporaryDirectory() as temporary:
            root = Path(temporary).resolve()
            nginx = build(root, args.depth, case)
            os.chdir(root)
            named = [nginx.relative_to(root)]
            settings = load_settings(named[0])
            options = RunOptions(force_exclude=True)
            search = timed(lambda: real([nginx], [], [], settings), args.repeat)  # noqa: B023
            result = run(named, settings, run_options=options)
            label = result.workspace.nginx_versions(result.workspace.nginx[0]).label()
            with_it = timed(lambda: run(named, settings, run_options=options), args.repeat)  # noqa: B023
            near.versions_near = lambda *_: {}
            try:
                without = timed(lambda: run(named, settings, run_options=options), args.repeat)  # noqa: B023
            finally:
                near.versions_near = real
            print(f"{case:8} {search:8.2f} {with_it:9.2f} {without:12.2f} {with_it - without:7.2f}  {label}")


if __name__ == "__main__":
    main()
