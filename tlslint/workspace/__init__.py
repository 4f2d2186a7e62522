"""The workspace: every loaded source, linked across files, for the checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from tlslint.nginx_versions import Version
from tlslint.workspace.nginx import NginxConfig


@dataclass
class Workspace:
    nginx: list[NginxConfig] = field(default_factory=list)
    nginx_version: Version | None = None
