"""NGX102 ssl-session-cache-builtin: a per-worker cache misses across workers."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, unique
from tlslint.checks._placement import zone_name_for
from tlslint.checks._session import anchor, effective_cache, every_tls_server
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import replace_arguments
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, is_default

CODE = "NGX102"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for whole in workspace.nginx:
        # Once a configuration (the engine keeps one of a snippet's findings in two).
        reported: set[int] = set()
        if _one_worker(whole):
            continue  # one worker process: its builtin cache sees every connection
        for config, server in every_tls_server(whole):
            # Sessions are stored in the default server's cache only (facts §1):
            # a virtual server's own builtin cache is never consulted.
            if not is_default(server):
                continue
            cache = effective_cache(server)
            if not cache.builtin or cache.shared is not None or cache.directive is None or cache.refused:
                continue
            for directive in unique([cache.directive]):
                if id(directive) in reported:
                    continue
                reported.add(id(directive))
                of = f" of the {server.label}" if server.stream else ""
                yield ctx.finding(
                    directive,
                    f"ssl_session_cache {' '.join(directive.args)}{of} is per worker process: "
                    "a client whose next connection lands on another worker gets a full "
                    "handshake (measured 16/30 resumed with 4 workers); use a shared zone",
                    anchor=anchor(server, "ssl_session_cache"),
                    fix=_shared_instead(
                        directive, f"shared:{zone_name_for(config, server)}:{ctx.options['size']}"
                    ),
                )


def _one_worker(config: NginxConfig) -> bool:
    """``worker_processes 1`` in the main context (unknown, or ``auto``, is more than one)."""
    if config.context != "main":
        return False
    line = config.top.last("worker_processes")
    return line is not None and line.args[:1] == ("1",)


def _shared_instead(directive: Directive, value: str) -> Fix:
    return Fix(
        f"replace `{' '.join(directive.args)}` with `{value}`",
        (replace_arguments(directive, [value]),),
        safe=False,  # `builtin` is what the operator wrote
    )
