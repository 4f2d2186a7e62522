"""The non-SNI policy of a tier: its own setting, else the top-level ``non-sni``."""

from __future__ import annotations

from dataclasses import dataclass

from tlslint.findings import Severity
from tlslint.settings import Settings

REQUIRED, FORBIDDEN, AUTO = "required", "forbidden", "auto"


@dataclass(frozen=True)
class Want:
    """Why clients without SNI must be served here, and how loudly to say so."""

    severity: Severity
    reason: str


def non_sni_policy(settings: Settings, section: str) -> tuple[str, str]:
    """(policy, where it was set): ``<section>.non-sni`` when required or forbidden,
    else the top-level ``non-sni`` when it is, else auto (\"default\")."""
    own = getattr(settings, section).get("non-sni", AUTO)
    if own in (REQUIRED, FORBIDDEN):
        return own, f"{section}.non-sni"
    if settings.non_sni in (REQUIRED, FORBIDDEN):
        return settings.non_sni, "non-sni"
    return AUTO, "default"
