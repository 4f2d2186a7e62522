"""APG203: a TLS version the chart refuses, min above max, or a minimum below TLS 1.2."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, location, route_label
from tlslint.findings import Finding, Severity
from tlslint.sources.apigee.tree import Map, Scalar, Seq
from tlslint.workspace import Workspace

CODE = "APG203"
VALID = ("AUTO", "1.0", "1.1", "1.2", "1.3")
OLD = ("1.0", "1.1")
ROUTE_ORDER = {"TLSV1_0": 0, "TLSV1_1": 1, "TLSV1_2": 2, "TLSV1_3": 3}


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    for host in ws.virtual_hosts:
        low = host.node.scalar("minTLSProtocolVersion")
        high = host.node.scalar("maxTLSProtocolVersion")
        texts = {}
        for key, value in (("minTLSProtocolVersion", low), ("maxTLSProtocolVersion", high)):
            if value is None or value.placeholder or value.value is None:
                continue
            if value.raw not in VALID:
                yield ctx.finding(
                    location(value),
                    f"{key} is '{value.raw}'; the apigee-virtualhost chart accepts only "
                    '"AUTO", "1.0", "1.1", "1.2" or "1.3" and fails the install',
                    anchor=f"{host.anchor}.{key}",
                )
                continue
            texts[key] = (value.raw, value)
        low_text = texts.get("minTLSProtocolVersion")
        high_text = texts.get("maxTLSProtocolVersion")
        if (
            low_text
            and high_text
            and "AUTO" not in (low_text[0], high_text[0])
            and (float(low_text[0]) > float(high_text[0]))
        ):
            yield ctx.finding(
                location(low_text[1]),
                f"minTLSProtocolVersion {low_text[0]} is above maxTLSProtocolVersion {high_text[0]}: "
                "the chart fails the install",
                anchor=f"{host.anchor}.minTLSProtocolVersion",
            )
        elif low_text and low_text[0] in OLD:
            yield ctx.finding(
                location(low_text[1]),
                f"minTLSProtocolVersion {low_text[0]} lets clients use TLS {low_text[0]}, deprecated by "
                'RFC 8996; use "1.2"',
                severity=Severity.WARNING,
                anchor=f"{host.anchor}.minTLSProtocolVersion",
            )
    for route in ws.routes:
        spec = route.spec
        ports = spec.get("ports") if spec is not None else None
        for port in ports.items if isinstance(ports, Seq) else []:
            tls = port.get("tls") if isinstance(port, Map) else None
            if not isinstance(tls, Map):
                continue
            low, high = tls.scalar("minProtocolVersion"), tls.scalar("maxProtocolVersion")
            low_rank = _rank(low)
            high_rank = _rank(high)
            if low is not None and low_rank is not None and high_rank is not None and low_rank > high_rank:
                yield ctx.finding(
                    location(low),
                    f"{route_label(route)}: tls.minProtocolVersion {low.raw} is above maxProtocolVersion "
                    f"{high.raw if high is not None else ''}",
                    anchor=f"{route.anchor}.spec.ports.tls.minProtocolVersion",
                )
            elif low is not None and low_rank is not None and low_rank < 2:
                yield ctx.finding(
                    location(low),
                    f"{route_label(route)}: tls.minProtocolVersion {low.raw} allows TLS versions "
                    "deprecated by RFC 8996; use TLSV1_2 or TLS_AUTO",
                    severity=Severity.WARNING,
                    anchor=f"{route.anchor}.spec.ports.tls.minProtocolVersion",
                )


def _rank(value: Scalar | None) -> int | None:
    if value is None or value.placeholder:
        return None
    return ROUTE_ORDER.get(str(value.value))
