"""ING106: ``http2-max-requests``, ``http2-max-field-size``, ``http2-max-header-size``.

Facts §1.2: deprecated in ingress-nginx 1.1.3; the directives they render are
obsolete since nginx 1.19.7, which warns and ignores them (verified on nginx
1.22.1). ``keep-alive-requests`` caps requests per HTTP/2 connection since
1.19.7; ``large-client-header-buffers`` limits header sizes.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import config_location, kubernetes
from tlslint.findings import Finding
from tlslint.workspace import Workspace

CODE = "ING106"
OBSOLETE = {
    "http2-max-requests": ("http2_max_requests", "keep-alive-requests"),
    "http2-max-field-size": ("http2_max_field_size", "large-client-header-buffers"),
    "http2-max-header-size": ("http2_max_header_size", "large-client-header-buffers"),
}


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for config in ws.controller_configs:
        for key, (directive, instead) in OBSOLETE.items():
            if config.pair(key) is None:
                continue
            yield ctx.finding(
                config_location(config, key),
                f"{key} in {config.label} is obsolete: the {directive} directive it stands for has done "
                f"nothing since nginx 1.19.7 (nginx warns and ignores it; the controller runs nginx 1.27); "
                f"set {instead} instead",
                anchor=f"{config.anchor}.{key}",
            )
