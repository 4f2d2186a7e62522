"""ING102: a ConfigMap value the controller cannot decode for its key's type.

Facts §1.1 (``configmap.go`` L454-468) and mapstructure: integer keys are read
with Go's ``strconv.ParseInt(s, 0, 64)`` and booleans with ``ParseBool``
(weakly typed). ``keep-alive: "75s"`` does not decode: the controller logs
``unexpected error merging defaults`` and that key keeps its default; the other
keys still apply. The template appends the ``s`` itself.

Chart values are read as Helm reads them (``tlslint.sources.kubernetes.helm_values``):
``keep-alive-requests: 1000000`` reaches the ConfigMap as "1e+06", which does not
decode, and ``proxy-http-version: 1.0`` as "1", which the controller writes into
``proxy_http_version 1;``: nginx refuses it (1.22.1 -t: invalid value "1"), and the
controller loads no configuration that fails ``nginx -t``.

A fix that decodes the value as written changes what the controller does; where that
brings another rule's finding (``keep-alive: "0s"`` decoded is 0: client keep-alive off
and HTTP/2 broken, ING101), no fix is offered, as for ``proxy-http-version``: the
default it keeps today is not what was written either.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from tlslint.checks import (
    RuleContext,
    ing101_keepalive_zero_http2,
    ing103_session_timeout_ignored,
    ing104_upstream_keepalive_off,
    ing105_upstream_keepalive_race,
    ing107_reject_handshake_non_sni,
    ing111_per_replica_session_state,
    ing112_session_resumption_off,
)
from tlslint.checks._kubernetes import config_location, kubernetes, set_config
from tlslint.findings import Finding, Fix
from tlslint.sources.apigee.tree import Scalar
from tlslint.sources.kubernetes.helm_values import helm_value
from tlslint.sources.kubernetes.ingress_nginx import (
    BOOL_KEYS,
    INT_KEYS,
    SECONDS_KEYS,
    decode_bool,
    decode_int,
)
from tlslint.units import parse_time
from tlslint.workspace import Workspace
from tlslint.workspace.ingress_nginx import ControllerConfig
from tlslint.workspace.kubernetes import KubernetesWorkspace
from tlslint.workspace.policy import FORBIDDEN

CODE = "ING102"
_YES = frozenset({"yes", "on", "y", "enabled", "enable"})
_NO = frozenset({"no", "off", "n", "disabled", "disable"})
VERSION = "proxy-http-version"
_VERSIONS = ("1.0", "1.1")  # what nginx's proxy_http_version takes


@dataclass(eq=False)
class _Decoded(ControllerConfig):
    """A controller configuration with some values read as a fix would write them."""

    written: dict[str, str] = field(default_factory=dict)

    def scalar(self, key: str) -> Scalar | None:
        return None if key in self.written else super().scalar(key)

    def text(self, key: str) -> str | None:
        return self.written[key] if key in self.written else super().text(key)


def _consequences(
    workspace: Workspace, ws: KubernetesWorkspace
) -> list[tuple[str, Callable[[ControllerConfig], bool], str]]:
    """Other rules' findings a value can bring about: code, whether it applies, and what it says."""
    found: list[tuple[str, Callable[[ControllerConfig], bool], str]] = [
        (
            "ING101",
            ing101_keepalive_zero_http2.applies,
            "turns client keep-alive off, which with HTTP/2 on breaks concurrent HTTP/2 requests",
        ),
        (
            "ING104",
            ing104_upstream_keepalive_off.applies,
            "drops the keepalive of the controller's upstream",
        ),
        ("ING103", ing103_session_timeout_ignored.applies, "leaves ssl-session-timeout without effect"),
        ("ING112", ing112_session_resumption_off.no_resumption, "leaves no TLS session resumed"),
        (
            "ING111",
            ing111_per_replica_session_state.applies,
            "leaves each controller pod with TLS session state of its own",
        ),
        (
            "ING105",
            lambda config: ing105_upstream_keepalive_race.applies(workspace, config),
            "keeps idle connections to a backend at least as long as the backend does",
        ),
    ]
    if ws.policy != FORBIDDEN:
        found.append(
            ("ING107", ing107_reject_handshake_non_sni.applies, "rejects every handshake without SNI")
        )
    return found


def _brought(
    workspace: Workspace, ws: KubernetesWorkspace, config: ControllerConfig, key: str, value: str
) -> tuple[str, str] | None:
    """The other rule whose finding ``value`` for ``key`` would bring, and what it says."""
    names = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.init}
    decoded = _Decoded(**names, written={key: value})
    for code, applies, says in _consequences(workspace, ws):
        if applies(decoded) and not applies(config):
            return code, says
    return None


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for config in ws.controller_configs:
        for key, default in INT_KEYS.items():
            text = config.text(key)
            if text is None or decode_int(text) is not None:
                continue
            better = _meant_integer(config, key) or _integer(key, text)
            brings = _brought(workspace, ws, config, key, better) if better is not None else None
            yield _finding(ctx, config, key, text, "an integer", str(default), better, brings)
        for key, flag in BOOL_KEYS.items():
            text = config.text(key)
            if text is None or decode_bool(text) is not None:
                continue
            lowered = text.strip().lower()
            better = "true" if lowered in _YES else "false" if lowered in _NO else None
            brings = _brought(workspace, ws, config, key, better) if better is not None else None
            yield _finding(ctx, config, key, text, '"true" or "false"', str(flag).lower(), better, brings)
        version = _version_finding(ctx, config)
        if version is not None:
            yield version


def _integer(key: str, text: str) -> str | None:
    """The whole seconds a time such as ``75s`` or ``1m`` means, for a key that counts seconds."""
    if key not in SECONDS_KEYS:
        return None
    seconds = parse_time(text.strip())
    return str(int(seconds)) if seconds is not None and seconds.is_integer() else None


def _number(config: ControllerConfig, key: str) -> float | None:
    """A chart value Helm reads as a number (a float64), else None."""
    scalar = config.scalar(key)
    if not config.chart or scalar is None or scalar.placeholder:
        return None
    value = helm_value(scalar)
    return value if isinstance(value, float) and math.isfinite(value) else None


def _meant_integer(config: ControllerConfig, key: str) -> str | None:
    """The whole number a chart value was written as (``1000000`` for "1e+06")."""
    number = _number(config, key)
    return str(int(number)) if number is not None and number.is_integer() else None


def _version_finding(ctx: RuleContext, config: ControllerConfig) -> Finding | None:
    """proxy-http-version that nginx refuses: the controller writes it into every location."""
    text = config.text(VERSION)
    if not text or text in _VERSIONS:  # absent, templated or empty: the default, as far as is known
        return None
    # No fix: "1.0" as written keeps no upstream connection (ING109); "1.1" is not what was
    # written. (A chart's 1.1 and 1.10 print as "1.1": only 1.0 and 1.00 come here.)
    number = _number(config, VERSION)
    note = ""
    if number == 1.0:
        note = (
            'no fix: write "1.0", quoted, for what the file says (HTTP/1.0, which keeps no upstream '
            'connection: ING109), or "1.1", the default'
        )
    return ctx.finding(
        config_location(config, VERSION),
        f'{_shown(config, VERSION, text)} is neither "1.0" nor "1.1": the controller writes '
        f"proxy_http_version {text}; into every location, which nginx -t refuses (invalid value), and it "
        "loads no configuration that fails nginx -t, so no change to the Ingresses or the ConfigMap "
        "takes effect",
        fix_note=note,
        anchor=f"{config.anchor}.{VERSION}",
    )


def _shown(config: ControllerConfig, key: str, text: str) -> str:
    """``key: value in <where>``, and what the chart makes of a value Helm reads otherwise."""
    scalar = config.scalar(key)
    if scalar is None or scalar.style is not None or scalar.raw == text:
        return f"{key}: {text!r} in {config.label}"
    if not config.chart:  # a ConfigMap's plain off: a boolean, which GW002 says is refused
        if scalar.kube_bool() is None:
            return f"{key}: {text!r} in {config.label}"
        return f"{key}: {scalar.raw} in {config.label} (the boolean {text} to kubectl, YAML 1.1), which"
    value = helm_value(scalar)
    if isinstance(value, bool):
        why = f"Helm reads YAML 1.1, where a plain {scalar.raw} is the boolean {text}"
    elif isinstance(value, float):
        why = "Helm reads it as a number, and the chart prints numbers as Go prints a float"
    else:
        return f"{key}: {text!r} in {config.label}"
    return f"{key}: {scalar.raw} in {config.label} reaches the ConfigMap as {text!r} ({why}), which"


def _finding(
    ctx: RuleContext,
    config: ControllerConfig,
    key: str,
    text: str,
    wanted: str,
    default: str,
    better: str | None,
    brings: tuple[str, str] | None = None,
) -> Finding:
    unit = " (the template adds the s itself)" if key in SECONDS_KEYS and better is not None else ""
    note = ""
    if better is not None and brings is not None:
        # Decoding it as written would make another rule's finding true; the default the
        # controller uses today is not what was written either (as for proxy-http-version).
        code, says = brings
        note = (
            f'no fix: "{better}", the value as written, {says} ({code}); "{default}", the default the '
            "controller uses today, is not what was written"
        )
        better = None
    edit = set_config(config, key, better) if better is not None else None
    fix = Fix(f'set {key}: "{better}"', (edit,), safe=False) if edit is not None else None
    return ctx.finding(
        config_location(config, key),
        f"{_shown(config, key, text)} is not {wanted}{unit}: ingress-nginx cannot decode it, logs "
        f"'unexpected error merging defaults' and keeps the default {key} of {default} (the other keys "
        "still apply)",
        fix=fix,
        fix_note=note,
        anchor=f"{config.anchor}.{key}",
    )
