"""Shared fixtures: the ../shared directory, a tlslint runner, nginx discovery."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
IN_CI = bool(os.environ.get("CI"))


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips (never in CI) when it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing: CI must have ../shared beside the clone")
        pytest.skip(f"{path} is absent (../shared not beside this checkout)")
    return path


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
