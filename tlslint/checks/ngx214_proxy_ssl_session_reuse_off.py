"""NGX214 proxy-ssl-session-reuse-off: a full TLS handshake per upstream connection.

``proxy_ssl_session_reuse off`` stops nginx from resuming TLS sessions with an
https backend, so every new upstream connection costs a full handshake. It is
an error where connections to that backend are never kept either (an
implicit upstream, or no keepalive before 1.29.7): then every request pays a
full handshake. The nginx docs suggest it only against "digest check failed"
errors, hence the unsafe fix (remove the line).
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, unique
from tlslint.checks._effective import effective
from tlslint.checks._upstream import (
    PassTarget,
    anchor,
    connection_issue,
    http_version_issue,
    in_stream,
    keepalive_on,
    label,
    pass_notes,
    pass_targets,
    upgrade_maps,
)
from tlslint.findings import Finding, Fix, Severity
from tlslint.nginx_edits import remove_directive
from tlslint.nginx_versions import UPSTREAM_KEEPALIVE_DEFAULT
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
        seen: set[int] = set()
        for block in config.top.walk():
            if in_stream(block):
                continue
            for directive in unique(block.all("proxy_ssl_session_reuse")):
                if id(directive) in seen or directive.args[:1] != ("off",):
                    continue
                seen.add(id(directive))
                affected = decided.get(id(directive), [])
                if not affected:
                    continue
                never_kept = [
                    t
                    for t in affected
                    if t.upstream is None
                    or keepalive_on(t.upstream, versions) is False
                    or (
                        versions.at_least(UPSTREAM_KEEPALIVE_DEFAULT) is not None
                        and (
                            http_version_issue(t.block, versions) is not None
                            or connection_issue(t.block, versions, maps) is not None
                        )
                    )
                ]
                if never_kept:
                    consequence = (
                        "and connections to it are not kept, so every request pays a full TLS handshake"
                    )
                else:
                    consequence = "so every new upstream connection pays a full TLS handshake"
                shown = affected[0]
                yield ctx.finding(
                    directive,
                    f"proxy_ssl_session_reuse off: nginx never resumes TLS sessions with the https backend "
                    f"{shown.directive.args[0]} ({label(shown.location or shown.block)}) {consequence}",
                    severity=Severity.ERROR if never_kept else Severity.WARNING,
                    fix=Fix(
                        "remove `proxy_ssl_session_reuse off;` (the default is on)",
                        (remove_directive(directive),),
                        False,
                    ),
                    related=pass_notes(affected, lambda _: "proxies over https here"),
                    anchor=anchor(block, "proxy_ssl_session_reuse"),
                )
