"""Which YAML files are docker-compose files that may start an app server: cheap (the
engine asks for every deployment file in scope; ``tlslint.sources.python.compose`` reads them)."""

from __future__ import annotations

import re
from pathlib import Path

from tlslint.sources.text import sniff_head

_NAME = re.compile(r"^(?:docker-)?compose(?:\.[\w.-]+)?\.ya?ml$", re.I)
_SERVICES = re.compile(rb"^services[ \t]*:", re.M)
_STARTS = re.compile(rb"^[ \t]*(?:build|command|entrypoint)[ \t]*:", re.M)


def is_compose_file(path: Path) -> bool:
    """``docker-compose.yml``, ``docker-compose.prod.yml``, ``compose.yaml``: by name only."""
    return _NAME.match(path.name) is not None


def compose_backend_files(paths: list[Path]) -> list[Path]:
    """The compose files among ``paths`` whose first bytes have ``services:`` and a
    ``build:``, ``command:`` or ``entrypoint:``."""
    found = []
    for path in paths:
        if not is_compose_file(path):
            continue
        head = sniff_head(path)
        if head is not None and _SERVICES.search(head) and _STARTS.search(head):
            found.append(path)
    return found
