"""BKD102 sync-worker-no-keepalive: gunicorn's sync worker behind an upstream with keep-alive.

gunicorn's sync worker answers every request with ``Connection: close`` and
closes the connection (it ignores ``keepalive``), so nginx's upstream pool
never holds a connection to it: each request still opens a new one. Not a
race (BKD101 stays silent), just pooling that cannot work. ``threads`` > 1
turns the sync worker into gthread, which keeps connections.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._backends import (
    backend_anchor,
    backend_timeout,
    keepalive_wording,
    links,
    reach_note,
    sync_worker,
    upstream_anchor,
)
from tlslint.checks._upstream import anchor, has_idle_timeout, no_idle_timeout
from tlslint.findings import Finding, Related
from tlslint.workspace import Workspace

CODE = "BKD102"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for link in links(workspace):
        backend = link.backend
        chosen = sync_worker(backend)
        if not chosen:
            continue
        on, wording = keepalive_wording(link, workspace)
        if on is False or not link.reused:
            continue
        worker = backend_timeout(backend).worker
        keeps = f"keeps connections ({wording})" if on else f"may keep connections: {wording}"
        versions = workspace.nginx_versions(link.config)
        then = (
            "then keep keepalive above the upstream's keepalive_timeout (BKD101)"
            if has_idle_timeout(versions) is not False
            else (
                f"but {no_idle_timeout(versions)} upstream{{}} has no keepalive_timeout, so any idle "
                "timeout of the backend races the pool (BKD101)"
            )
        )
        message = (
            f"{backend.label} runs gunicorn's sync worker ({chosen}), which closes every connection after "
            f"its response and ignores keepalive, while upstream {link.name} {keeps}: nginx's pool never "
            "holds a connection to it, so each request opens a new one. To reuse connections, use a "
            "worker that keeps them (gthread with threads > 1, gevent, eventlet, or "
            f"uvicorn.workers.UvicornWorker), {then}"
        )
        where = backend_anchor(backend, worker)
        notes = [Related(upstream_anchor(link.upstream, None), f"upstream {link.name} {keeps}")]
        reach = reach_note(link)
        if reach is not None:
            notes.append(reach)
        fingerprint = f"{anchor(link.upstream, 'keepalive')} > {backend.server}[{backend.path.name}]"
        yield ctx.finding(where, message, related=notes, anchor=fingerprint)
