"""NGX303 legacy-tls-enabled: SSLv3, TLSv1 or TLSv1.1 enabled, explicitly or by default.

In a fragment (a conf.d/ file of server blocks checked without its includer) a server
that sets no ssl_protocols gets the including http{}'s line, if it has one: the message
says nothing in this file sets it, and that nginx's default applies unless the includer
sets one. The fix (add the line to the server) is unsafe everywhere: it changes which
clients can connect.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks import _ticket_mismatch as tickets
from tlslint.checks._protocols import (
    LEGACY,
    ignored_note,
    judged_sites,
    may_write,
    protocols_fix,
    protocols_note,
    protocols_subject,
    refused_note,
    server_spans,
    site_covers,
    site_holds_everywhere,
    site_location,
    site_related,
    versions_note,
    whom,
    writable,
)
from tlslint.findings import Finding, Severity
from tlslint.workspace import Workspace

CODE = "NGX303"


def legacy_of(protocols: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p for p in LEGACY if p in protocols)


def has_legacy(protocols: tuple[str, ...]) -> bool:
    return bool(legacy_of(protocols))


def why(enabled: tuple[str, ...]) -> str:
    reasons = []
    if "SSLv2" in enabled:
        reasons.append("SSLv2 is prohibited by RFC 6176")
    if "SSLv3" in enabled:
        reasons.append("SSLv3 is broken (POODLE) and prohibited by RFC 7568")
    tls = [p for p in enabled if p.startswith("TLS")]
    if tls:
        reasons.append(f"{' and '.join(tls)} {'are' if len(tls) > 1 else 'is'} deprecated by RFC 8996")
    return "; ".join(reasons)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    asked = tuple(str(ctx.options["protocols"]).split())
    for judged in judged_sites(workspace, has_legacy):
        site, versions = judged.site, judged.versions
        wanted = writable(asked, versions)  # what the nginx that reads the fix loads
        # Where letting TLS 1.3 in would stop virtual servers resuming it (NGX101): no fix.
        losses = tickets.tls13_losses(judged.config, site, wanted, versions)
        # A range whose older releases refuse what its newer ones have (TLSv1.3 before
        # 1.13.0, in the default from 1.23.4): no line is right for both.
        blocked = has_legacy(wanted) or losses or not may_write(asked, versions, site)
        fix = None if blocked else protocols_fix(judged.config, site, wanted)
        where, anchor = site_location(site, judged.servers)
        enabled: tuple[str, ...] = ()
        for rep in site.versions:
            enabled += tuple(p for p in legacy_of(site.protocols(rep)) if p not in enabled)
        obsolete = "SSLv2" in enabled or "SSLv3" in enabled
        spans = server_spans(site, versions)
        subject = protocols_subject(site, versions, judged.config)
        yield ctx.finding(
            where,
            f"{subject} enables {' and '.join(enabled)} for {whom(site, spans)}: {why(enabled)}"
            f"{ignored_note(site, has_legacy)}{versions_note(site, versions, spans)}",
            severity=(
                (Severity.ERROR if obsolete else None)
                if site_holds_everywhere(site, versions)
                else Severity.INFO  # only on some of the versions it may run
            ),
            anchor=anchor,
            covers=site_covers(site, judged.servers),
            related=site_related(site),
            fix=fix,
            fix_note=protocols_note(site)
            or refused_note(asked, versions, site, fixed=fix is not None)
            or (tickets.losses_note(losses, legacy=True) if losses else ""),
        )
