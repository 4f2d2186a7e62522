"""NGX214 proxy-ssl-session-reuse-off: a full TLS handshake per upstream connection.

``proxy_ssl_session_reuse off`` stops nginx from resuming TLS sessions with an
https backend, so every new upstream connection costs a full handshake. It is
an error where connections to that backend are never kept either (an
implicit upstream, or no keepalive before 1.29.7): then every request pays a
full handshake; the message names those backends. The nginx docs suggest it only
against "digest check failed" errors, hence the unsafe fix (remove the line).
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, unique
from tlslint.checks._effective import effective
from tlslint.checks._upstream import (
    PassTarget,
    UpgradeMap,
    anchor,
    balancers_after_keepalive,
    connection_issue,
    http_version_issue,
    keepalive_on,
    label,
    pass_notes,
    pass_targets,
    upgrade_maps,
)
from tlslint.findings import Finding, Fix, Related, Severity
from tlslint.nginx_edits import remove_directive
from tlslint.nginx_versions import UPSTREAM_KEEPALIVE_DEFAULT
from tlslint.version_range import VersionRange
from tlslint.workspace import Workspace

CODE = "NGX214"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        versions = workspace.nginx_versions(config)
        targets = [t for t in pass_targets(config) if t.module == "proxy" and t.tls]
        maps = upgrade_maps(config)
        # Each target under the line that decides for it, asked once, not once per line.
        decided: dict[int, list[PassTarget]] = {}
        for target in targets:
            decider = effective(target.block, "proxy_ssl_session_reuse")
            if decider is not None:
                decided.setdefault(id(decider), []).append(target)
        if not decided:
            continue  # no line decides for a target: nothing to report
        seen: set[int] = set()
        for block in config.top.walk():
            # The line first: in_stream() walks up to the top, and few of the 70,000 blocks
            # of 10,000 hosts hold the line.
            lines = block.all("proxy_ssl_session_reuse")
            if not lines or block.in_stream():
                continue
            for directive in unique(lines):
                if id(directive) in seen or directive.args[:1] != ("off",):
                    continue
                seen.add(id(directive))
                affected = decided.get(id(directive), [])
                if not affected:
                    continue
                never_kept = [t for t in affected if _not_kept(t, versions, maps)]
                yield ctx.finding(
                    directive,
                    _message(affected, never_kept),
                    severity=Severity.ERROR if never_kept else Severity.WARNING,
                    fix=Fix(
                        "remove `proxy_ssl_session_reuse off;` (the default is on)",
                        (remove_directive(directive),),
                        False,
                    ),
                    related=_notes(affected, never_kept),
                    anchor=anchor(block, "proxy_ssl_session_reuse"),
                )


def _not_kept(target: PassTarget, versions: VersionRange, maps: dict[str, UpgradeMap]) -> bool:
    """Connections to the backend of ``target`` are never kept: an implicit upstream, no
    keepalive (or one a later balancing line replaces) before 1.29.7, or a location that
    defeats it where the version settles that."""
    upstream = target.upstream
    if upstream is None or keepalive_on(upstream, versions) is False:
        return True
    settled = versions.at_least(UPSTREAM_KEEPALIVE_DEFAULT)
    if settled is False and balancers_after_keepalive(upstream):
        return True
    return settled is not None and (
        http_version_issue(target.block, versions) is not None
        or connection_issue(target.block, versions, maps) is not None
    )


def _message(affected: list[PassTarget], never_kept: list[PassTarget]) -> str:
    """Names the backends whose connections are not kept, when there are any (the
    others pay a handshake per new connection only)."""
    named = never_kept or affected
    shown = named[0]
    others = len({id(t.directive) for t in named}) - 1
    who = f"{shown.directive.args[0]} ({label(shown.location or shown.block)})"
    if others:
        who += f" and {others} more"
    if never_kept:
        them = "them" if others else "it"
        consequence = f", and connections to {them} are not kept, so every request pays a full TLS handshake"
    else:
        consequence = ", so every new upstream connection pays a full TLS handshake"
    backend = "backends" if others else "backend"
    return (
        f"proxy_ssl_session_reuse off: nginx never resumes TLS sessions with the https {backend} "
        f"{who}{consequence}"
    )


def _notes(affected: list[PassTarget], never_kept: list[PassTarget]) -> list[Related]:
    unkept = {id(t.directive) for t in never_kept}
    ordered = never_kept + [t for t in affected if id(t.directive) not in unkept]
    return pass_notes(
        ordered,
        lambda t: (
            "proxies over https here, connections not kept"
            if id(t.directive) in unkept
            else "proxies over https here"
        ),
    )
