"""ING105: ingress-nginx keeps idle connections to a backend longer than the backend does.

Facts §1.2 and §1.5 (#3099, #11244): ``upstream-keepalive-timeout`` (default 60,
integer seconds, one value for every Ingress) must be shorter than the
backend's idle keep-alive timeout; otherwise nginx reuses a connection the
backend is closing and the request fails with 502. Like BKD101 for an nginx
upstream{}; the backend is linked by ``[[backends]] upstream = "<Service>"``
(the Service an Ingress routes to, or ``namespace/Service``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._backends import backend_anchor, backend_timeout, show_seconds, suppressed_at_backend
from tlslint.checks._kubernetes import config_location, kubernetes, set_config
from tlslint.findings import Finding, Fix, Related
from tlslint.sources.apigee.tree import Pair, Scalar
from tlslint.workspace import Workspace
from tlslint.workspace.ingress_nginx import ControllerConfig, NginxIngress

CODE = "ING105"
KEY = "upstream-keepalive-timeout"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    backends = workspace.backends
    if ws is None or backends is None or not ws.controller_configs:
        return
    for backend in backends.backends:
        mapped = set(backends.mapped_upstreams(backend))
        if not mapped:
            continue
        ingress, service = _routing_ingress(ws.nginx_ingresses, mapped)
        if ingress is None:
            continue
        timeout = backend_timeout(backend)
        if timeout.seconds is None:
            continue  # keeps no idle connection, or not verifiable (BKD102, BKD103)
        for config in ws.controller_configs:
            held = _held(config, timeout.seconds)
            if held is None:
                continue
            where = backend_anchor(backend, timeout.value)
            closes = show_seconds(timeout.seconds)
            finding = ctx.finding(
                config_location(config, KEY),
                f"ingress-nginx keeps idle connections to the backends for {held}s ({_how(config, held)}), "
                f"but {backend.label}, behind {ingress.obj.label} (Service '{service}', linked by "
                f"[[backends]] in the settings), closes them after {closes} "
                f"({timeout.how}): nginx may send a request on a connection the backend is closing, and a "
                'POST then fails with 502 "upstream prematurely closed connection" (nginx retries only '
                "idempotent requests)",
                fix=_fix(config, timeout.seconds),
                fix_note=f"or raise {backend.server}'s idle timeout above {held}s ({timeout.setting})",
                related=[Related(where, f"{backend.server} closes idle connections after {closes}")],
                anchor=f"{config.anchor}.{KEY} > {backend.server}[{backend.path.name}]",
            )
            if not suppressed_at_backend(ctx, workspace, where):
                yield finding


def _held(config: ControllerConfig, backend_seconds: float) -> int | None:
    """How long the controller keeps idle upstream connections, when not shorter than the backend."""
    held = config.int_value(KEY)
    connections = config.int_value("upstream-keepalive-connections")
    return None if held is None or not connections or held < backend_seconds else held


def applies(workspace: Workspace, config: ControllerConfig) -> bool:
    """Whether ``config`` keeps idle connections to a linked backend as long as it does."""
    ws = kubernetes(workspace)
    backends = workspace.backends
    if ws is None or backends is None:
        return False
    for backend in backends.backends:
        mapped = set(backends.mapped_upstreams(backend))
        if not mapped or _routing_ingress(ws.nginx_ingresses, mapped)[0] is None:
            continue
        seconds = backend_timeout(backend).seconds
        if seconds is not None and _held(config, seconds) is not None:
            return True
    return False


def _routing_ingress(ingresses: list[NginxIngress], mapped: set[str]) -> tuple[NginxIngress | None, str]:
    """The first Ingress that routes to a mapped Service over a connection kept alive."""
    for ingress in ingresses:
        version = ingress.annotation("proxy-http-version")
        header = ingress.annotation("connection-proxy-header")
        if _text(version) == "1.0" or _text(header).lower() == "close":
            continue  # no keep-alive to its backends (ING109)
        namespace = ingress.obj.namespace
        for service in ingress.services():
            if service in mapped or (namespace is not None and f"{namespace}/{service}" in mapped):
                return ingress, service
    return None, ""


def _text(pair: Pair | None) -> str:
    if pair is not None and isinstance(pair.value, Scalar) and pair.value.text is not None:
        return pair.value.text
    return ""


def _how(config: ControllerConfig, held: int) -> str:
    if config.pair(KEY) is None:
        return f"{KEY} is not set in {config.label}: the default of {held}"
    return f"{KEY} in {config.label}"


def _fix(config: ControllerConfig, backend_seconds: float) -> Fix | None:
    target = math.ceil(backend_seconds) - 1
    if target < 1:
        return None
    edit = set_config(config, KEY, str(target))
    if edit is None:
        return None
    return Fix(f'set {KEY}: "{target}", below the backend\'s idle timeout', (edit,), safe=False)
