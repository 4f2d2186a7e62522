"""The workspace: every loaded source, linked across files, for the checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tlslint.nginx_versions import Version
from tlslint.workspace.nginx import NginxConfig

if TYPE_CHECKING:
    from tlslint.workspace.apigee import ApigeeWorkspace
    from tlslint.workspace.backends import BackendWorkspace
    from tlslint.workspace.kubernetes import KubernetesWorkspace


@dataclass
class Workspace:
    """Every source a run loaded, linked across files, for the checks."""

    nginx: list[NginxConfig] = field(default_factory=list)
    nginx_version: Version | None = None
    apigee: ApigeeWorkspace | None = None  # None when no Apigee YAML was in scope
    backends: BackendWorkspace | None = None  # None when no app-server config was in scope
    kubernetes: KubernetesWorkspace | None = None  # None when no gateway or ingress-nginx YAML was
