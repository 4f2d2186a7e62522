"""``tlslint --show-settings``: the nginx versions each configuration runs on, and why."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.nginx_versions import below_supported_image_warning, format_version
from tlslint.version_range import DEPLOYMENT, DIRECTIVE, SETTING, Evidence, VersionRange, shown_path

if TYPE_CHECKING:
    from tlslint.nginx_inference import Inference
    from tlslint.settings import Settings

_SOURCES = {SETTING: "setting", DEPLOYMENT: "deployment file", DIRECTIVE: "directive"}
SHOWN_CONFIGS = 50  # configurations listed; the rest are counted


def show_versions(targets: list[Path], settings: Settings) -> str:
    """Load the configurations under ``targets`` (no rule runs) and describe, for each,
    the versions the rules use, each bound with its source."""
    from tlslint.engine import run

    # Loading only: no rule runs but NGX001, which always does.
    quiet = dataclasses.replace(settings, select=[], extend_select=[], overrides=[])
    result = run(targets, quiet)
    workspace = result.workspace
    lines = ["", "# nginx versions the rules use (docs/version-inference.md)"]
    declared = [workspace.nginx_declared_for(config) for config in workspace.nginx]
    shared = len({id(d) for d in declared}) < 2  # one declaration for all: said once
    if shared:
        lines.append(f"# declared: {_declared(declared[0] if declared else workspace.nginx_declared)}")
    else:
        lines.append("# declared: by configuration, the nginx images nearest above each (below)")
    for evidence, warning in older_images(declared):
        lines.append(f"# {warning} ({evidence.where})" if evidence.where else f"# {warning}")
    if not workspace.nginx:
        lines.append("# no nginx configuration under the paths given")
    for config, versions in list(zip(workspace.nginx, declared, strict=True))[:SHOWN_CONFIGS]:
        # Named as the evidence names its files: relative to the working directory.
        described = _config_lines(shown_path(config.root.path), workspace.nginx_inference(config))
        if not shared:
            described.insert(1, f"#   declared: {_declared(versions)}")
        lines.extend(described)
    more = len(workspace.nginx) - SHOWN_CONFIGS
    if more > 0:
        lines.append(f"# ... and {more} more configurations")
    return "\n".join(lines) + "\n"


def older_images(declared: Iterable[VersionRange]) -> list[tuple[Evidence, str]]:
    """The images among ``declared`` that run nginx older than the rules describe, each
    once with its warning (``FROM nginx:1.10.3-alpine runs nginx 1.10.3, older than ...``):
    the one the setting gets, for the release an image declares."""
    found: dict[str, tuple[Evidence, str]] = {}
    for versions in declared:
        evidence = versions.low_by
        if versions.low is None or evidence is None or evidence.kind != DEPLOYMENT:
            continue
        warning = below_supported_image_warning(evidence.what, versions.low)
        if warning:
            found.setdefault(evidence.phrase(), (evidence, warning))
    return list(found.values())


def _declared(declared: VersionRange) -> str:
    if not declared.known:
        return "nothing (no nginx.version setting; no nginx image with a version at or above)"
    return f"{declared.label()}: " + "; ".join(_sourced(e) for e in declared.evidence())


def _sourced(evidence: Evidence) -> str:
    return f"{evidence.phrase()} ({_SOURCES.get(evidence.kind, evidence.kind)})"


def _config_lines(name: str, inference: Inference) -> list[str]:
    versions = inference.versions
    lines = [f"# {name}: nginx {versions.label()}"]
    if versions.low is not None and versions.low_by is not None:
        lines.append(f"#   from {format_version(versions.low)}: {_sourced(versions.low_by)}")
    if versions.high is not None and versions.high_by is not None:
        lines.append(f"#   before {format_version(versions.high)}: {_sourced(versions.high_by)}")
    if not versions.known:
        lines.append("#   nothing settles it: the rules report what depends on it as information")
    if inference.lines:
        count = len(inference.lines)
        lines.append(
            f"#   {count} line{'s' if count != 1 else ''} bound the version (each checked against it)"
        )
    for conflict in inference.conflicts:
        lines.append(
            f"#   conflict: {conflict.line.what} at {conflict.line.where} "
            f"against {_sourced(conflict.against)}"
        )
    return lines
