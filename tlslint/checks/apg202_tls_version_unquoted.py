"""APG202: ``minTLSProtocolVersion`` / ``maxTLSProtocolVersion`` written as a YAML number."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import SHARED_NOTE, apigee, chart_version, location, replace_scalar
from tlslint.findings import Finding, Fix, Severity
from tlslint.workspace import Workspace

CODE = "APG202"
KEYS = ("minTLSProtocolVersion", "maxTLSProtocolVersion")


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    for host in ws.virtual_hosts:
        for key in KEYS:
            version = chart_version(host.node.scalar(key))
            # A number that is no chart version in decimal (1.4, 12) is APG203's: its value is wrong.
            if version is None or not version.number or version.meant is None:
                continue
            value, meant = version.scalar, version.meant
            # 1.0 reaches the chart as 1, which it refuses; 1.30 as 1.3, which it takes.
            refused = version.received != meant
            read_as = ""
            if value.raw != version.received:
                read_as = f"; read as a number it becomes {version.received}"
                read_as += ", which the chart refuses" if refused else ""
            edit = replace_scalar(value, f'"{meant}"')
            # Quoting (the tag dropped with it) keeps the text the chart sees: safe. Writing other
            # digits (1.30 as "1.3") replaces what was typed, and "1.0" for the refused 1 makes the
            # chart allow TLS 1.0: both unsafe.
            quoting = value.raw == meant and not refused
            verb = "quote" if value.raw == meant else "write"
            yield ctx.finding(
                location(value),
                f"{key}: {value.written} is a YAML number, not the string the chart compares with "
                f'"AUTO" and "1.0"…"1.3"{read_as} (inferred); write "{meant}"',
                severity=Severity.ERROR if refused else None,
                fix=Fix(f'{verb} {key}: "{meant}"', (edit,), safe=quoting) if edit is not None else None,
                fix_note="" if edit else _no_fix(value.shared),
                anchor=f"{host.anchor}.{key}",
            )


def _no_fix(shared: bool) -> str:
    return SHARED_NOTE if shared else "no fix: its tag and anchor are written in a way this fix does not edit"
