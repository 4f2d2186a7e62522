"""ING102: a ConfigMap value the controller cannot decode for its key's type.

Facts §1.1 (``configmap.go`` L454-468) and mapstructure: integer keys are read
with Go's ``strconv.ParseInt(s, 0, 64)`` and booleans with ``ParseBool``
(weakly typed). ``keep-alive: "75s"`` does not decode: the controller logs
``unexpected error merging defaults`` and that key keeps its default; the other
keys still apply. The template appends the ``s`` itself.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._kubernetes import config_location, kubernetes, set_config
from tlslint.findings import Finding, Fix
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

CODE = "ING102"
_YES = frozenset({"yes", "on", "y", "enabled", "enable"})
_NO = frozenset({"no", "off", "n", "disabled", "disable"})


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = kubernetes(workspace)
    if ws is None:
        return
    for config in ws.controller_configs:
        for key, default in INT_KEYS.items():
            text = config.text(key)
            if text is None or decode_int(text) is not None:
                continue
            yield _finding(ctx, config, key, text, "an integer", str(default), _integer(key, text))
        for key, flag in BOOL_KEYS.items():
            text = config.text(key)
            if text is None or decode_bool(text) is not None:
                continue
            lowered = text.strip().lower()
            better = "true" if lowered in _YES else "false" if lowered in _NO else None
            yield _finding(ctx, config, key, text, '"true" or "false"', str(flag).lower(), better)


def _integer(key: str, text: str) -> str | None:
    """The whole seconds a time such as ``75s`` or ``1m`` means, for a key that counts seconds."""
    if key not in SECONDS_KEYS:
        return None
    seconds = parse_time(text.strip())
    return str(int(seconds)) if seconds is not None and seconds.is_integer() else None


def _finding(
    ctx: RuleContext,
    config: ControllerConfig,
    key: str,
    text: str,
    wanted: str,
    default: str,
    better: str | None,
) -> Finding:
    unit = " (the template adds the s itself)" if key in SECONDS_KEYS and better is not None else ""
    edit = set_config(config, key, better) if better is not None else None
    fix = Fix(f'set {key}: "{better}"', (edit,), safe=False) if edit is not None else None
    return ctx.finding(
        config_location(config, key),
        f"{key}: {text!r} in {config.label} is not {wanted}{unit}: ingress-nginx cannot decode it, logs "
        f"'unexpected error merging defaults' and keeps the default {key} of {default} (the other keys "
        "still apply)",
        fix=fix,
        anchor=f"{config.anchor}.{key}",
    )
