"""ING109: ``proxy-http-version: "1.0"`` or ``connection-proxy-header: close``.

Facts §1.2: nginx keeps an upstream connection only over HTTP/1.1 with the
``Connection`` header cleared; ``proxy-http-version: "1.0"`` (annotation, or a
ConfigMap key through the squashed Backend defaults) and a
``connection-proxy-header`` of ``close`` make every request to the backend open
a new connection, whatever ``upstream-keepalive-connections`` says.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import config_location, kubernetes, set_config
from tlslint.checks._yaml_edits import pair_location, quoted, replace_scalar
from tlslint.findings import Finding, Fix
from tlslint.sources.apigee.tree import Scalar
from tlslint.workspace import Workspace

CODE = "ING109"
VERSION, HEADER = "proxy-http-version", "connection-proxy-header"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for config in ws.controller_configs:
        if config.text(VERSION) != "1.0":
            continue
        edit = set_config(config, VERSION, "1.1")
        yield ctx.finding(
            config_location(config, VERSION),
            f'{VERSION}: "1.0" in {config.label} makes every location proxy over HTTP/1.0, and nginx keeps '
            "no upstream connection over HTTP/1.0: every request opens a new connection to a backend pod",
            fix=Fix(f'set {VERSION}: "1.1"', (edit,), safe=False) if edit else None,
            anchor=f"{config.anchor}.{VERSION}",
        )
    for ingress in ws.nginx_ingresses:
        version, header = ingress.annotation(VERSION), ingress.annotation(HEADER)
        if version is not None and isinstance(version.value, Scalar) and version.value.text == "1.0":
            edit = replace_scalar(version.value, quoted("1.1", [version.value]))
            yield ctx.finding(
                pair_location(version),
                f'{VERSION}: "1.0" on {ingress.obj.label} proxies its requests over HTTP/1.0, and nginx '
                "keeps no upstream connection over HTTP/1.0: each of them opens a new connection to a "
                "backend pod",
                fix=Fix(f'set {VERSION}: "1.1"', (edit,), safe=False) if edit else None,
                anchor=f"{ingress.obj.anchor}.annotations.{VERSION}",
            )
        value = header.value if header is not None else None
        if header is not None and isinstance(value, Scalar) and (value.text or "").lower() == "close":
            yield ctx.finding(
                pair_location(header),
                f"{HEADER}: {value.text} on {ingress.obj.label} sends 'Connection: close' to its backends, "
                "so nginx closes each upstream connection after one request and opens a new one for the next",
                anchor=f"{ingress.obj.anchor}.annotations.{HEADER}",
            )
