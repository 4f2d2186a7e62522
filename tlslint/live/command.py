"""``tlslint probe``: measurements, findings (LIV101 to LIV105), the usual formats and exit codes."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlslint.findings import Finding, Location, Severity
from tlslint.live.adapter import (
    RuleSettings,
    UsageError,
    findings_text,
    load_rule_settings,
    make_finding,
    make_result,
    summary_line,
)
from tlslint.live.probe import (
    Handshake,
    ProbeResult,
    Resumption,
    make_target,
    probe,
)

if TYPE_CHECKING:
    from tlslint.selection import Given

FORMATS = ("text", "json", "sarif", "github")
MAX_TIMEOUT = 3600  # seconds: --timeout bounds each network step; sockets and threads take no more
# A failed handshake without SNI that says something about the server (not the network).
_NON_SNI_FAILURES = frozenset({"reset", "alert", "closed", "tls-error"})
_NON_SNI_FIX = (
    "nginx: let the default server of this socket serve a certificate instead of "
    "`ssl_reject_handshake on`. Apigee hybrid: a wildcard ApigeeRoute with `enableNonSniClient: true`, "
    "listed in the virtual host's additionalGateways (APG101, APG103). If refusing clients without "
    'SNI is intended, set non-sni = "forbidden".'
)
_RESUMPTION_FIX = (
    "nginx: `ssl_session_cache shared:SSL:10m;` at http{} level, so that the default server of the "
    "socket has it (NGX101, NGX107); with tickets, a ticket key shared by every node (NGX105). "
    "Behind a load balancer, keep clients on one node or share the keys."
)


def evaluate(result: ProbeResult, rules: RuleSettings) -> list[Finding]:
    location = Location(Path(result.endpoint), 0, 0)
    found: list[Finding] = []
    found += _non_sni(result, rules, location)
    found += _resumption(result, rules, location)
    keepalive = result.keepalive
    if keepalive is not None and keepalive.status == "closed":
        found.append(
            make_finding(
                "LIV103",
                f"HTTP/1.1 keep-alive is not honoured: {keepalive.detail}; every request pays a new "
                "TCP connection and TLS handshake",
                location,
                anchor="keepalive",
                fix_note="nginx: remove `keepalive_timeout 0` (the default is 75s) and keep "
                "keepalive_requests at its default of 1000 or more",
            )
        )
    tls13 = result.version("TLSv1.3")
    if tls13 is not None and tls13.status == "refused":
        found.append(
            make_finding(
                "LIV104",
                f"TLS 1.3 is not offered (a TLS 1.3 handshake failed: {tls13.detail}); full handshakes "
                "take two round trips and resumption cannot be 1-RTT",
                location,
                anchor="protocols[TLSv1.3]",
                fix_note="nginx: `ssl_protocols TLSv1.2 TLSv1.3;` (the default before nginx 1.23.4 has "
                "no TLSv1.3, and OpenSSL must be 1.1.1 or later)",
            )
        )
    legacy = [
        v.version for v in result.versions if v.version in ("TLSv1", "TLSv1.1") and v.status == "accepted"
    ]
    if legacy:
        found.append(
            make_finding(
                "LIV105",
                f"the server completes handshakes with {' and '.join(legacy)}, deprecated by RFC 8996",
                location,
                anchor="protocols[legacy]",
                fix_note="nginx: `ssl_protocols TLSv1.2 TLSv1.3;` (the default before 1.27.3 still has "
                "TLSv1 and TLSv1.1)",
            )
        )
    return [f for f in found if rules.keep(f)]


def _non_sni(result: ProbeResult, rules: RuleSettings, location: Location) -> list[Finding]:
    no_sni = result.no_sni_handshake
    with_sni = result.sni_handshake
    if no_sni is None or no_sni.ok:
        return []
    failed = no_sni.failure in _NON_SNI_FAILURES or (
        no_sni.failure == "timeout" and with_sni is not None and with_sni.ok
    )
    if not failed:
        return []
    policy = rules.settings.non_sni
    if policy == "forbidden":
        result.notes.append("the handshake without SNI is refused, as the non-sni policy (forbidden) wants")
        return []
    if with_sni is not None and with_sni.ok:
        contrast = f"; with SNI {with_sni_name(result)} the server sends a certificate"
    elif with_sni is not None:
        contrast = f"; with SNI {with_sni_name(result)} it fails too ({with_sni.describe()})"
    else:  # an address and no --sni: no name to send, so no handshake with SNI to compare
        contrast = (
            f"; there was no name to send ({result.host} is an address), so a handshake with SNI "
            "was not tried: give --sni NAME to compare"
        )
    return [
        make_finding(
            "LIV101",
            f"a TLS handshake without SNI fails ({no_sni.describe()}), so clients that send no "
            f"server_name get no certificate{contrast}",
            location,
            anchor="handshake[no-sni]",
            fix_note=_NON_SNI_FIX,
            severity=Severity.ERROR if policy == "required" else None,
        )
    ]


def with_sni_name(result: ProbeResult) -> str:
    return f"'{result.sni}'"


def _resumption(result: ProbeResult, rules: RuleSettings, location: Location) -> list[Finding]:
    minimum = float(rules.options("LIV102")["min-ratio"])
    found = []
    for item in result.resumption:
        ratio = item.ratio
        if item.status != "measured" or ratio is None or ratio >= minimum:
            continue
        failed = f", {item.failed} more did not connect" if item.failed else ""
        found.append(
            make_finding(
                "LIV102",
                f"{item.version}: {item.resumed} of {item.attempts} reconnects resumed the session "
                f"({ratio:.0%}, minimum {minimum:.0%}{failed}); the others paid a full handshake",
                location,
                anchor=f"resumption[{item.version}]",
                fix_note=_RESUMPTION_FIX,
            )
        )
    return found


# --------------------------------------------------------------------------- text


def _handshake_line(handshake: Handshake | None) -> str:
    if handshake is None:
        return "not tested"
    cert = handshake.certificate
    served = "no certificate"
    if cert is not None:
        subject = cert.subject or "certificate"
        served = f"certificate {subject} (sha256 {cert.sha256[:16]}…)"
    if not handshake.ok:
        timing = f" after {handshake.handshake_ms:.1f} ms" if handshake.handshake_ms is not None else ""
        if handshake.failure == "verify-failed":  # the server sent one: it is not trusted
            served = f"{served} not trusted" if cert is not None else "certificate not trusted"
        return f"failed  {handshake.describe()}{timing}; {served}"
    return f"ok      {handshake.describe()}, {handshake.handshake_ms:.1f} ms, {served}"


def _resumption_line(item: Resumption) -> str:
    if item.status != "measured":
        return f"not measured ({item.status}: {item.detail})"
    ratio = item.ratio
    if ratio is None:
        return f"not measured (no reconnect completed; {item.failed} failed)"
    parts = [f"{item.resumed}/{item.attempts} resumed ({ratio:.0%})"]
    if item.full_handshake_ms is not None:
        parts.append(f"full handshake {item.full_handshake_ms:.1f} ms")
    if item.resumed_handshake_ms is not None:
        parts.append(f"resumed {item.resumed_handshake_ms:.1f} ms")
    if item.ticket is not None:
        parts.append("ticket" if item.ticket else "no ticket")
    if item.failed:
        parts.append(f"{item.failed} reconnects failed")
    return ", ".join(parts)


def render_text(result: ProbeResult) -> str:
    target = result.endpoint
    via = f" (connected to {result.address})" if result.address and result.address != result.host else ""
    lines = [f"tlslint probe {target}{via}"]
    lines += [f"  note: {note}" for note in result.notes]
    if result.error:
        lines.append(f"  error: {result.error}")
    lines.append("")
    rows: list[tuple[str, str]] = []
    if result.sni:
        rows.append((f"handshake, SNI {result.sni}", _handshake_line(result.sni_handshake)))
    rows.append(("handshake, no SNI", _handshake_line(result.no_sni_handshake)))
    for version in result.versions:
        rows.append((f"protocol {version.version}", f"{version.status:<13}{version.detail}".rstrip()))
    for item in result.resumption:
        rows.append((f"resumption {item.version}", _resumption_line(item)))
    if result.keepalive is not None:
        keep = result.keepalive
        if keep.status == "honoured":
            text = f"honoured: HTTP {keep.first_status} and {keep.second_status} on one connection"
        elif keep.status == "inconclusive":  # the detail starts "not measured: HEAD / answered ..."
            text = keep.detail
        else:
            text = f"{keep.status}: {keep.detail}"
        rows.append(("HTTP/1.1 keep-alive", text))
    width = max(len(label) for label, _ in rows)
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    return "\n".join(lines) + "\n\n"


# --------------------------------------------------------------------------- command


class _Progress:
    """One overwritten status line on stderr, only on a terminal and never with --quiet."""

    def __init__(self, endpoint: str, *, quiet: bool = False) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.endpoint = endpoint
        self.shown = False

    def __call__(self, message: str) -> None:
        if self.enabled:
            sys.stderr.write(f"\r\x1b[Kprobing {self.endpoint}: {message}")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def run_probe(
    endpoint: str,
    *,
    sni: str | None,
    connect: str | None,
    count: int,
    timeout: float,
    verify: bool,
    cafile: Path | None,
    min_ratio: float | None,
    output_format: str,
    fail_on: str | None,
    config: Path | None,
    select: Given,
    ignore: Given,
    quiet: bool,
    extend_select: Given = None,
) -> int:
    """Probe, report, and return the exit status."""
    try:
        if count < 1:
            raise UsageError("--count must be at least 1")
        if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):  # nan, inf: no timeout at all
            raise UsageError(f"--timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT}")
        if min_ratio is not None and not 0 <= min_ratio <= 1:
            raise UsageError("--min-ratio must be between 0 and 1")
        overrides = {"LIV102": {"min-ratio": min_ratio}} if min_ratio is not None else None
        rules = load_rule_settings(config, select, ignore, fail_on, overrides, extend_select)
        target = make_target(
            endpoint, sni=sni, connect=connect, timeout=timeout, verify=verify,
            cafile=str(cafile) if cafile else None,
        )  # fmt: skip
    except (UsageError, ValueError) as error:
        print(f"tlslint: {error}", file=sys.stderr)
        return 2
    progress = _Progress(target.endpoint, quiet=quiet)
    try:
        result = probe(target, count, progress)
    finally:
        progress.clear()
    findings = [] if result.error else evaluate(result, rules)
    run = make_result(findings, [])
    if output_format == "json":
        from tlslint.report.json_format import document

        payload: dict[str, Any] = document(run)
        payload["probe"] = result.as_dict()
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    elif output_format == "text":
        out = "" if quiet else render_text(result)  # --quiet: findings only, as for logs and check
        out += findings_text(run, quiet=quiet)
        if not quiet:
            where = f"probing {result.endpoint} in {result.elapsed_s:.1f} s"
            # A probe that failed judged nothing: no "No findings" beside its error.
            summary = f"Nothing judged {where}: the probe failed." if result.error else None
            out += ("\n" if run.findings else "") + (summary or summary_line(run.findings, where)) + "\n"
        sys.stdout.write(out)
    else:
        from tlslint.report import render

        sys.stdout.write(render(output_format, run, quiet=quiet))
    if result.error:
        print(f"tlslint: probe {result.endpoint}: {result.error}", file=sys.stderr)
        return 2
    code = run.exit_code(rules.fail_on)
    if code == 0 and (result.no_name_only or result.verify_failed):
        # Never a clean pass for what was not measured, or for a certificate --verify rejected.
        print(f"tlslint: probe {result.endpoint}: {_incomplete(result)}", file=sys.stderr)
        return 2
    return code


def _incomplete(result: ProbeResult) -> str:
    if result.no_name_only:
        return (
            "no handshake completed without SNI and there is no name to send "
            f"({result.host} is an address): give --sni NAME to measure the rest"
        )
    return f"--verify: the certificate did not verify ({result.verify_failed})"
