"""A run skips (without importing) the checks whose tier loaded nothing: sound only
while each such check finds nothing without its input, which this file holds them to."""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import settings_for

from tlslint import catalogue
from tlslint.checks import RuleContext, check_modules, module_code
from tlslint.engine import run

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TIERED = [
    name
    for name in check_modules()
    if catalogue.index()[module_code(name)].target in ("apigee", "backend", "kubernetes")
]
# Settings under which a tier's checks are most eager to speak.
EAGER = [{}, {"non-sni": "required"}, {"non-sni": "forbidden"}, {"nginx": {"version": "1.22.1"}}]


def test_every_tier_has_checks() -> None:
    assert {module_code(name).rstrip("0123456789") for name in TIERED} == {"APG", "BKD", "GW", "ING"}


@pytest.mark.parametrize("mapping", EAGER, ids=str)
@pytest.mark.parametrize("name", TIERED)
def test_a_check_finds_nothing_when_its_tier_loaded_nothing(
    name: str, mapping: dict[str, object], tmp_path: Path
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    settings = settings_for(tmp_path, mapping)
    result = run([tmp_path / "examples"], settings)
    workspace = result.workspace
    assert workspace.nginx and workspace.apigee is None and workspace.backends is None
    assert workspace.kubernetes is None
    module = importlib.import_module(f"tlslint.checks.{name}")
    meta = catalogue.index()[module.CODE]
    context = RuleContext(meta, meta.option_defaults(settings.profile), settings)
    assert list(module.check(context, workspace)) == []


def test_an_nginx_only_run_imports_no_apigee_backend_or_kubernetes_module(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    probe = (
        "import sys; from pathlib import Path; from tests.helpers import settings_for; "
        "from tlslint.engine import run; "
        f"result = run([Path({str(tmp_path / 'examples')!r})], settings_for(Path({str(tmp_path)!r}))); "
        "assert result.findings; "
        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('tlslint'))))"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert "tlslint.checks.ngx101_session_cache_missing" in imported
    # Discovery's sniffers (tlslint.sources.*.sniff) are light and needed to classify files.
    tiers = ("tlslint.workspace.apigee", "tlslint.workspace.backends", "tlslint.checks._apigee")
    tiers += ("tlslint.checks._backends", "tlslint.checks.apg", "tlslint.checks.bkd")
    tiers += (
        "tlslint.checks._kubernetes",
        "tlslint.checks._yaml_edits",
        "tlslint.checks.gw",
        "tlslint.checks.ing",
    )
    tiers += (
        "tlslint.workspace.kubernetes",
        "tlslint.workspace.ingress_nginx",
        "tlslint.workspace.kube_facts",
    )
    tiers += ("tlslint.sources.kubernetes.documents",)
    tiers += ("tlslint.sources.kubernetes.schema", "tlslint.sources.kubernetes.ingress_nginx")
    tiers += ("tlslint.sources.manifests",)
    tiers += (
        "tlslint.sources.apigee.documents",
        "tlslint.sources.apigee.tree",
        "tlslint.sources.python.model",
    )
    assert [m for m in imported if m.startswith(tiers)] == []
