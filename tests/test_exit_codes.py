"""A file that does not parse makes the run exit 2, whatever its format."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BROKEN_OVERRIDES = """virtualhosts:
- name: group
  sslSecret: group-tls
    additionalGateways: [non-sni]
"""


def tlslint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TLSLINT_DEBUG")}
    return subprocess.run(
        [sys.executable, "-m", "tlslint", *args], cwd=cwd, capture_output=True, text=True, env=env
    )


def test_invalid_yaml_exits_2_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "overrides.yaml").write_text(BROKEN_OVERRIDES)
    result = tlslint(tmp_path, "check", ".")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "overrides.yaml:4:" in result.stdout
    assert "APG201" in result.stdout and "invalid YAML" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_schema_violation_is_an_ordinary_finding(tmp_path: Path) -> None:
    (tmp_path / "overrides.yaml").write_text(
        "virtualhosts:\n- name: group\n  sslSecret: group-tls\n  additionalGateway: [non-sni]\n"
    )
    result = tlslint(tmp_path, "check", ".")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "APG201" in result.stdout and "did you mean" in result.stdout
