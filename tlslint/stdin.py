"""Text on standard input: ``kustomize build overlays/prod | tlslint -``.

As ruff and yamllint do, ``-`` among the paths reads standard input, and
``--stdin-filename`` names it: in findings, for finding the settings, and for
telling its format (a ``.yaml``/``.yml`` name is a YAML stream, ``nginx.conf`` or a
``.conf`` name is nginx). Without a name the content decides.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import BinaryIO

from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import decode

STDIN = "-"
DEFAULT_NAME = "stdin"
# A Kubernetes object or Apigee overrides: the first key of a YAML document.
_YAML_KEY = re.compile(r"^(?:---|apiVersion:|kind:|virtualhosts:|ingressGateways:|items:)", re.M)
_NGINX_STATEMENT = re.compile(r"^[^\S\n]*[A-Za-z_][\w.-]*(?:\s[^\n#]*)?[;{}]\s*(?:#[^\n]*)?$", re.M)


def read(name: Path | None, stream: BinaryIO | None = None, max_bytes: int = 16 * 2**20) -> SourceText:
    """Standard input's text, named ``name`` (default: ``stdin``); ``SourceError`` for a
    NUL byte, ``ValueError`` past ``max_bytes``."""
    stream = stream if stream is not None else sys.stdin.buffer
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"standard input is larger than max-file-size ({max_bytes} bytes)")
    return decode(name if name is not None else Path(DEFAULT_NAME), data)


def is_nginx(source: SourceText) -> bool:
    """Whether stdin holds nginx configuration rather than a YAML stream."""
    suffix = source.path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return False
    if suffix == ".conf" or source.path.name == "nginx.conf":
        return True
    head = source.text[:65536]
    if _YAML_KEY.search(head):
        return False
    return _NGINX_STATEMENT.search(head) is not None


def given(paths: list[Path] | None) -> bool:
    return bool(paths) and any(str(path) == STDIN for path in paths or [])
