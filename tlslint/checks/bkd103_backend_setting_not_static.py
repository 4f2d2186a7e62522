"""BKD103 backend-setting-not-static: a backend value that only exists at run time.

tlslint reads app-server files without running them, so a value computed when
the server starts (an environment variable, a function call, an assignment
under a condition, ``from settings import *``, ``$PORT`` on a command line,
``**kwargs``) is reported here instead of being guessed:

* the idle timeout (or the worker class / threads that decide whether there is
  one) of a backend that an upstream{} with keep-alive reaches: BKD101 cannot
  be decided;
* the address of a backend that no ``[[backends]]`` entry maps, while the
  nginx configuration has upstreams with keep-alive: it cannot be linked.

A backend file that cannot be read or does not parse is BKD001's (an error, exit 2).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from tlslint.checks import RuleContext
from tlslint.checks._backends import (
    backend_timeout,
    has_keepalive_upstreams,
    keepalive_wording,
    links,
    show_seconds,
    upstream_anchor,
    upstream_timeout,
)
from tlslint.checks._upstream import has_idle_timeout, no_idle_timeout
from tlslint.findings import Finding, Location, Related
from tlslint.workspace import Workspace
from tlslint.workspace.backends import binding

CODE = "BKD103"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    backends = workspace.backends
    if backends is None:
        return
    seen: set[tuple[Path, int, int, str]] = set()

    def once(finding: Finding) -> Finding | None:
        loc = finding.location
        key = (loc.path, loc.line, loc.column, finding.message)
        if key in seen:
            return None
        seen.add(key)
        return finding

    linked: set[int] = set()
    for link in links(workspace):
        linked.add(id(link.backend))
        on, _ = keepalive_wording(link, workspace)
        if on is False or not link.reused:
            continue
        timeout = backend_timeout(link.backend)
        if not timeout.unknown:
            continue
        nginx = upstream_timeout(link.upstream)
        held = show_seconds(nginx.seconds) if nginx is not None else "its keepalive_timeout"
        backend = link.backend
        where: Location = timeout.unknown_value.location if timeout.unknown_value else backend.where
        advice = (
            f"make sure that class keeps no idle connection, or keeps one for more than {held} (BKD101)"
            if timeout.custom
            else f"write it as a literal, or make sure the value in force stays above {held} (BKD101)"
        )
        compared = f"upstream {link.name}'s keepalive_timeout ({held})"
        if has_idle_timeout(workspace.nginx_versions(link.config)) is False:
            # Before 1.15.3 nginx keeps an idle connection with no timeout: only none is safe.
            nginx = None
            compared = (
                f"upstream {link.name}, which keeps idle connections with no timeout "
                f"{no_idle_timeout(workspace.nginx_versions(link.config))}: any idle timeout races it"
            )
            advice = (
                "make sure that class keeps no idle connection (BKD101)"
                if timeout.custom
                else "write it as a literal (BKD101)"
            )
        message = (
            f"{backend.label}: {timeout.unknown}, so tlslint cannot compare its idle keep-alive timeout "
            f"with {compared}; {advice}"
        )
        notes = [Related(upstream_anchor(link.upstream, nginx), f"upstream {link.name}")]
        found = once(
            ctx.finding(
                where, message, related=notes, anchor=f"{backend.server}[{backend.path.name}] > keepalive"
            )
        )
        if found is not None:
            yield found
    if not workspace.nginx or not has_keepalive_upstreams(workspace):
        return
    mapped = backends.mapped_by_backend()
    for backend in backends.backends:
        if id(backend) in linked or mapped[id(backend)]:
            continue
        bound = binding(backend)
        if not bound.unknown:
            continue
        where = bound.unknown_value.location if bound.unknown_value is not None else backend.where
        config = _relative(backend.path, ctx.settings.base)
        what = f"{bound.unknown_value.name} is {bound.unknown}" if bound.unknown_value else bound.unknown
        advice = f'name it in the settings: [[tool.tlslint.backends]] upstream = "NAME", config = "{config}"'
        if backend.path.suffix.lower() in (".yml", ".yaml"):  # a compose command: [[backends]] reads no YAML
            advice = "write the address on the service's command: line (--bind, or --host and --port)"
        message = (
            f"{backend.label} listens on an address known only at run time ({what}), so tlslint "
            f"cannot tell which nginx upstream{{}} reaches it and cannot check its keep-alive timeout "
            f"(BKD101); {advice}"
        )
        found = once(ctx.finding(where, message, anchor=f"{backend.server}[{backend.path.name}] > bind"))
        if found is not None:
            yield found


def _relative(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
