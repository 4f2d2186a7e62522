"""APG203: a TLS version the chart refuses, min above max, or a minimum below TLS 1.2."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import CHART_VERSIONS, ChartVersion, apigee, chart_version, location, route_label
from tlslint.findings import Finding, Severity
from tlslint.sources.apigee.tree import Map, Scalar, Seq
from tlslint.workspace import Workspace

CODE = "APG203"
VALID = CHART_VERSIONS
OLD = ("1.0", "1.1")
ROUTE_ORDER = {"TLSV1_0": 0, "TLSV1_1": 1, "TLSV1_2": 2, "TLSV1_3": 3}


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    for host in ws.virtual_hosts:
        versions: dict[str, ChartVersion] = {}
        for key in ("minTLSProtocolVersion", "maxTLSProtocolVersion"):
            version = chart_version(host.node.scalar(key))
            if version is None:
                continue
            # Judged as the chart receives it: an unquoted 1.30 arrives as 1.3.
            if version.received not in VALID:
                if version.meant is not None:
                    # 1.0 arrives as 1: APG202 reports that, with the version meant; what
                    # is meant is still judged (quoted, "1.0" lets TLS 1.0 in).
                    if key == "minTLSProtocolVersion" and version.meant in OLD:
                        yield _deprecated(ctx, host.anchor, version, version.meant)
                    continue
                yield ctx.finding(
                    location(version.scalar),
                    f"{key} is {_shown(version)}; the apigee-virtualhost chart accepts only "
                    '"AUTO", "1.0", "1.1", "1.2" or "1.3" and fails the install',
                    anchor=f"{host.anchor}.{key}",
                )
                continue
            versions[key] = version
        floor = versions.get("minTLSProtocolVersion")
        ceiling = versions.get("maxTLSProtocolVersion")
        if (
            floor
            and ceiling
            and "AUTO" not in (floor.received, ceiling.received)
            and float(floor.received) > float(ceiling.received)
        ):
            yield ctx.finding(
                location(floor.scalar),
                f"minTLSProtocolVersion {_version(floor)} is above maxTLSProtocolVersion "
                f"{_version(ceiling)}: the chart fails the install",
                anchor=f"{host.anchor}.minTLSProtocolVersion",
            )
        elif floor and floor.received in OLD:
            yield _deprecated(ctx, host.anchor, floor, floor.received)
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


def _deprecated(ctx: RuleContext, anchor: str, floor: ChartVersion, meant: str) -> Finding:
    written = _version(floor) if meant == floor.received else f"{floor.scalar.raw} (meant as {meant})"
    return ctx.finding(
        location(floor.scalar),
        f'minTLSProtocolVersion {written} lets clients use TLS {meant}, deprecated by RFC 8996; use "1.2"',
        severity=Severity.WARNING,
        anchor=f"{anchor}.minTLSProtocolVersion",
    )


def _rank(value: Scalar | None) -> int | None:
    if value is None or value.placeholder:
        return None
    return ROUTE_ORDER.get(str(value.value))


def _version(version: ChartVersion) -> str:
    """The version as the chart receives it, and as written when that differs (1.30)."""
    raw = version.scalar.raw
    return raw if raw == version.received else f"{raw} (read as {version.received})"


def _shown(version: ChartVersion) -> str:
    if not version.number:
        return repr(version.scalar.raw)
    if version.scalar.raw == version.received:
        return f"the number {version.received}"
    return f"{version.scalar.raw}, read as the number {version.received}"
