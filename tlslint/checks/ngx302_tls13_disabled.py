"""NGX302 tls13-disabled: the effective ssl_protocols of a TLS server lacks TLSv1.3.

In a fragment (a conf.d/ file of server blocks checked without its includer) a server
that sets no ssl_protocols gets the including http{}'s line, if it has one: the message
says nothing in this file sets it, and that nginx's default applies unless the includer
sets one. The fix (add the line to the server) is unsafe everywhere: it changes which
clients can connect. On nginx before 1.13.0, which has no TLSv1.3 to enable, nothing is
reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks import _ticket_mismatch as tickets
from tlslint.checks._protocols import (
    ignored_note,
    judged_sites,
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
from tlslint.nginx_versions import TLS13_PARAMETER
from tlslint.workspace import Workspace

CODE = "NGX302"


def lacks_tls13(protocols: tuple[str, ...]) -> bool:
    return "TLSv1.3" not in protocols


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    asked = tuple(str(ctx.options["protocols"]).split())
    for judged in judged_sites(workspace, lacks_tls13):
        site, versions = judged.site, judged.versions
        wanted = writable(asked, versions)  # what the nginx that reads the fix loads
        if versions.at_least(TLS13_PARAMETER) is False:
            continue  # no release it runs has TLSv1.3 (before 1.13.0): nothing to enable
        # Where letting TLS 1.3 in would stop virtual servers resuming it (NGX101): no fix.
        losses = tickets.tls13_losses(judged.config, site, wanted, versions)
        fix = None if lacks_tls13(wanted) or losses else protocols_fix(judged.config, site, wanted)
        where, anchor = site_location(site, judged.servers)
        spans = server_spans(site, versions)
        subject = protocols_subject(site, versions, judged.config)
        yield ctx.finding(
            where,
            f"{subject} lacks TLSv1.3, so {whom(site, spans)} cannot negotiate it (a TLS 1.3 full "
            "handshake takes one round trip instead of two)"
            f"{ignored_note(site, lacks_tls13)}{versions_note(site, versions, spans)}",
            # Only on some of the versions it may run: depends on the version.
            severity=None if site_holds_everywhere(site, versions) else Severity.INFO,
            anchor=anchor,
            covers=site_covers(site, judged.servers),
            related=site_related(site),
            fix=fix,
            fix_note=protocols_note(site)
            or refused_note(asked, versions, site, fixed=fix is not None, replaces=False)
            or (tickets.losses_note(losses) if losses else ""),
        )
