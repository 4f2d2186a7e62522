"""NGX108 ssl-session-cache-zone-unused: a shared zone no TLS server uses.

Only the default server of a listen socket stores and resumes sessions (facts §1), in
http{} and in stream{} alike; each module's zones serve its own servers. In stream{} the
default server is the only server of its address:port before nginx 1.25.5; from 1.25.5
(virtual servers) it is chosen as in http{}. Where stream servers share an address:port
on nginx not known to be >= 1.25.5, stream's zones are not judged.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._placeholders import placeholder_note, templated
from tlslint.checks._protocols import server_map
from tlslint.checks._session import (
    SharedZone,
    default_servers_of,
    effective_cache,
    shared_cache_declarations,
    tls_server_of_block,
    zone_unused,
)
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import remove_directive
from tlslint.nginx_values import in_envsubst_file, placeholder
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block, NginxConfig, is_default

CODE = "NGX108"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        if config.incomplete or config.context == "server":
            continue  # servers may hide behind an include that was not followed
        if config.tls_unknown or (config.stream is not None and config.stream.tls_unknown):
            continue  # a template decides whether a server is TLS: it may be the zone's user
        versions = workspace.nginx_versions(config)
        for block, zone in shared_cache_declarations(config):
            if placeholder(zone.name, envsubst_file=in_envsubst_file(zone.directive)):
                continue  # the template names it: it may be the zone the default server uses
            # A zone that only a virtual server names is never used.
            if not zone_unused(config, block, zone.name, versions):
                continue
            of, module = _where(config, block)
            fix, note = _removal(config, block, zone)
            yield ctx.finding(
                zone.directive,
                f'shared session cache "{zone.name}" ({zone.size_text}){of} is used by no{module} TLS '
                "default server, and only default servers' caches store and resume sessions: "
                "the memory is allocated for nothing",
                anchor=f"{block.context} > ssl_session_cache[{zone.name}]",
                fix=fix,
                fix_note=note,
            )


def _removal(config: NginxConfig, block: Block, zone: SharedZone) -> tuple[Fix | None, str]:
    """The line removed; or why not: NGX107 puts it to use, or its value is a template's."""
    if _movable(config, block):
        return None, MOVABLE_NOTE.format(module=_module(block))
    if templated(zone.directive):
        return None, placeholder_note(zone.directive)
    return Fix(f'remove the unused zone "{zone.name}"', (remove_directive(zone.directive),), safe=False), ""


MOVABLE_NOTE = (
    "no automatic fix: the default server has no cache, so NGX107 moves this one to {module}{{}} "
    "where it is used; remove it by hand if it is not wanted"
)


def _module(block: Block) -> str:
    return "stream" if block.in_stream() else "http"


def _where(config: NginxConfig, block: Block) -> tuple[str, str]:
    """How the message names a stream zone's place and whose default servers it is for:
    (" of the stream server[...]" or " in stream{}", " stream"); ("", "") in http{}."""
    if not block.in_stream():
        return "", ""
    server = server_map(config.stream).get(id(block)) if config.stream is not None else None
    return (f" of the {server.label}" if server is not None else " in stream{}"), " stream"


def _movable(config: NginxConfig, block: Block) -> bool:
    """A virtual server's own zone while its default server has no cache: NGX107's case,
    whose fix puts the zone to use (removing it would leave the server with none)."""
    scope = config.stream if block.in_stream() else config
    if scope is None:
        return False
    server = tls_server_of_block(scope).get(id(block))
    if server is None or is_default(server):
        return False
    return any(not effective_cache(default).present for default in default_servers_of(scope, server))
