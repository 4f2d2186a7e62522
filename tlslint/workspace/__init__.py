"""The workspace: every loaded source, linked across files, for the checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.nginx_versions import Version
from tlslint.version_range import SETTING, UNKNOWN, Evidence, VersionRange
from tlslint.workspace.nginx import NginxConfig

if TYPE_CHECKING:
    from tlslint.nginx_inference import Inference
    from tlslint.workspace.apigee import ApigeeWorkspace
    from tlslint.workspace.backends import BackendWorkspace
    from tlslint.workspace.kubernetes import KubernetesWorkspace


@dataclass
class Workspace:
    """Every source a run loaded, linked across files, for the checks."""

    nginx: list[NginxConfig] = field(default_factory=list)
    nginx_version: Version | None = None  # the setting; rules read ``nginx_versions(config)``
    nginx_declared: VersionRange = UNKNOWN  # the setting: declared for every configuration
    # By configuration root (as loaded): the nginx images nearest above it, when no
    # setting declares the version (``tlslint.deployment_near``).
    nginx_declared_near: Mapping[Path, VersionRange] = field(default_factory=dict)
    # By configuration root (as loaded): those images where the setting declares the
    # version and wins over them; NGX004 reports one that the setting contradicts.
    nginx_images_overruled: Mapping[Path, VersionRange] = field(default_factory=dict)
    # By configuration root (resolved): the versions inferred before the fixer changed the
    # text; its re-checks judge by them (``tlslint.nginx_inference.carried``).
    nginx_pinned: Mapping[Path, VersionRange] = field(default_factory=dict)
    apigee: ApigeeWorkspace | None = None  # None when no Apigee YAML was in scope
    backends: BackendWorkspace | None = None  # None when no app-server config was in scope
    kubernetes: KubernetesWorkspace | None = None  # None when no gateway or ingress-nginx YAML was

    def __post_init__(self) -> None:
        if self.nginx_version is not None and not self.nginx_declared.known:
            from tlslint.nginx_versions import format_version

            shown = format_version(self.nginx_version)
            setting = Evidence(SETTING, f"nginx.version {shown}")
            self.nginx_declared = VersionRange.exactly(self.nginx_version, setting)

    def nginx_inference(self, config: NginxConfig) -> Inference:
        """What ``config`` proves about its nginx version, with what is declared."""
        from tlslint.nginx_inference import inference

        pinned = self.nginx_pinned.get(config.files[0]) if self.nginx_pinned else None
        return inference(config, self.nginx_declared_for(config), pinned)

    def nginx_declared_for(self, config: NginxConfig) -> VersionRange:
        """What is declared for ``config``: the nearest images, else ``nginx_declared``."""
        return self.nginx_declared_near.get(config.files[0], self.nginx_declared)

    def nginx_pins(self) -> dict[Path, VersionRange]:
        """The versions each configuration runs on, by root, for re-checks of fixed
        text to keep (``nginx_pinned``)."""
        return {config.files[0]: self.nginx_versions(config) for config in self.nginx}

    def nginx_versions(self, config: NginxConfig) -> VersionRange:
        """The nginx versions ``config`` runs on, as far as anything tells (see
        docs/version-inference.md): the rules decide by these."""
        return self.nginx_inference(config).versions
