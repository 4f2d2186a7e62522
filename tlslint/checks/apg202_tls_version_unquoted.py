"""APG202: ``minTLSProtocolVersion`` / ``maxTLSProtocolVersion`` written as a YAML number."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, location, replace_scalar
from tlslint.findings import Finding, Fix, Severity
from tlslint.workspace import Workspace

CODE = "APG202"
KEYS = ("minTLSProtocolVersion", "maxTLSProtocolVersion")
_DECIMAL = re.compile(r"\d+\.\d+")


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    for host in ws.virtual_hosts:
        for key in KEYS:
            value = host.node.scalar(key)
            if value is None or value.style is not None or value.placeholder:
                continue
            if isinstance(value.value, bool) or not isinstance(value.value, (int, float)):
                continue
            edit = replace_scalar(value, f'"{value.raw}"') if _DECIMAL.fullmatch(value.raw) else None
            lost = _DECIMAL.fullmatch(value.raw) is not None and value.raw.endswith("0")
            yield ctx.finding(
                location(value),
                f"{key}: {value.raw} is a YAML number, not the string the chart compares with "
                f'"AUTO" and "1.0"…"1.3"'
                + (f"; read as a number it becomes {float(value.raw):g}" if lost else "")
                + f' (inferred); write "{value.raw}"',
                severity=Severity.ERROR if lost else None,
                # Quoting keeps the value the chart sees (safe) unless the number loses its
                # last digit (1.0 reads as 1): then the quoted value changes who can connect.
                fix=Fix(f'quote {key}: "{value.raw}"', (edit,), safe=not lost) if edit is not None else None,
                fix_note="" if edit else "no fix: not a version number; see APG203",
                anchor=f"{host.anchor}.{key}",
            )
