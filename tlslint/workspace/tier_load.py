"""What a YAML or Python tier's loader hands the engine: its workspace, texts and findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from tlslint.findings import Finding
    from tlslint.scope import Scope
    from tlslint.sources.formats import LoadedText

W = TypeVar("W")


@dataclass
class TierLoad(Generic[W]):
    """A tier's workspace, the texts it read, and the findings of its loading."""

    workspace: W
    texts: dict[Path, LoadedText]
    read: list[Path]  # resolved paths read (or refused)
    findings: list[Finding] = field(default_factory=list)

    def reported(self, scope: Scope | None) -> set[Path]:
        """The tier's files whose findings a partial run reports."""
        return set(self.read) if scope is None else set(self.read) & scope.files
