"""NGX215 proxy-ssl-server-name: nginx sends an https backend no SNI, or the wrong one.

``proxy_ssl_server_name`` is ``off`` by default in every release, so ``proxy_pass
https://api.partner.example`` opens its TLS connection without SNI. When it is ``on``
the name sent is ``proxy_ssl_name``, which defaults to ``$proxy_host``: the host of
``proxy_pass``, which for an ``upstream{}`` is the upstream's *name*. No SNI is sent
for an address (RFC 6066), nor, whatever ``proxy_ssl_name`` says, while the switch is
off. ``grpc_pass grpcs://`` has the same pair, ``grpc_ssl_server_name`` and
``grpc_ssl_name``. Measured with Debian's nginx 1.22.1 against a backend that selects
by SNI (tests/test_live_sni.py; docs/rules/NGX215.md).

Reported only where the name the backend serves is known from the file: a host name
with a dot (``api.partner.example``, not a single-label service name such as ``api``,
which a private backend rarely routes by) in ``proxy_pass``, in the upstream's name,
or as the one host of the upstream's ``server`` lines; or a ``proxy_ssl_name`` the
switch never sends. With the switch on, the upstream's name is reported only against that
one host: with addresses (or several names) the name served is unknown. An explicit
``proxy_ssl_server_name off`` is taken as meant.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tlslint.checks import RuleContext, related
from tlslint.checks._effective import effective
from tlslint.checks._upstream import (
    LocationChange,
    PassTarget,
    anchor,
    is_ip_address,
    label,
    pass_notes,
    pass_targets,
    split_address,
)
from tlslint.findings import Finding, Fix
from tlslint.nginx_edits import insert_directive
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block

CODE = "NGX215"


@dataclass(frozen=True)
class _Names:
    """A module's directives for the name it sends: the switch, the name, its default."""

    switch: str
    name: str
    default: str


# grpc_pass grpcs:// has the same pair (ngx_http_grpc_module), off by default as well.
_BY_MODULE = {
    "proxy": _Names("proxy_ssl_server_name", "proxy_ssl_name", "$proxy_host"),
    "grpc": _Names("grpc_ssl_server_name", "grpc_ssl_name", "the host of grpc_pass"),
}
SELECTS_BY_SNI = (
    "a backend that selects its certificate or route by SNI (Envoy-based gateways such as "
    "Apigee hybrid's ingress and Istio, CDNs, most cloud load balancers) refuses or resets "
    "the handshake, and nginx answers 502 (`SSL_do_handshake() failed ... while SSL "
    "handshaking to upstream`)"
)


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        judged: set[int] = set()
        unsent: dict[int, tuple[Directive, list[PassTarget]]] = {}  # name lines, never sent
        for target in pass_targets(config):
            names = _BY_MODULE.get(target.module)
            if names is None or not target.tls or target.location is None:
                continue
            if id(target.directive) in judged:
                continue  # a proxy_pass $var has a target per `set`: judged by the first
            judged.add(id(target.directive))
            named = effective(target.block, names.name)
            switch = effective(target.block, names.switch)
            if named is not None and switch is None:
                unsent.setdefault(id(named), (named, []))[1].append(target)
                continue
            finding = _judge(ctx, target, names, switch, named)
            if finding is not None:
                yield finding
        for named, targets in unsent.values():
            yield _unsent(ctx, named, targets)


def _unsent(ctx: RuleContext, named: Directive, targets: list[PassTarget]) -> Finding:
    """A ``proxy_ssl_name`` that no switch sends: the switch goes beside it."""
    first = targets[0]
    assert first.location is not None
    names = _BY_MODULE[first.module]
    parent = named.parent
    siblings = parent.block if parent is not None and parent.block is not None else [named]
    edit = insert_directive(named.source, parent, siblings, f"{names.switch} on;", named)
    return ctx.finding(
        named,
        f"`{names.name} {' '.join(named.args)}` is never sent: {names.switch} is off (the default), so "
        f"nginx sends no SNI to the TLS backend of {label(first.location)} ({first.directive.name} "
        f"{first.directive.args[0]}); {SELECTS_BY_SNI}",
        fix=Fix(f"add `{names.switch} on;` beside it", (edit,), False),
        related=pass_notes(targets, lambda _: "connects over TLS here"),
        anchor=anchor(first.location, names.switch),
    )


def _judge(
    ctx: RuleContext, target: PassTarget, names: _Names, switch: Directive | None, named: Directive | None
) -> Finding | None:
    location = target.location
    assert location is not None
    upstream = target.upstream
    server_host = _one_server_host(upstream) if upstream is not None else None
    shown = f"{target.directive.name} {target.directive.args[0]}"
    if switch is None:
        host = target.host
        if upstream is None or _dotted(host):
            if not _dotted(host):
                return None  # an address, or a single-label name: no SNI was ever to be sent
            lines, sent = [f"{names.switch} on;"], host
        elif server_host is not None:
            lines, sent = [f"{names.switch} on;", f"{names.name} {server_host};"], server_host
        else:
            return None  # upstream name and servers say nothing of the name it serves
        return ctx.finding(
            target.directive,
            f"{shown} sends no SNI: {names.switch} is off (the default), so nginx opens the TLS "
            f"connection to {sent} without a server name; {SELECTS_BY_SNI}",
            fix=_fix(target, lines),
            anchor=anchor(location, names.switch),
        )
    if switch.args[:1] != ("on",) or named is not None or upstream is None:
        return None
    name = target.host
    if server_host is None or _dotted(name) or is_ip_address(name) or name.lower() == server_host.lower():
        # Only the servers' one host name says what the backend serves: with addresses (or
        # several names) it is unknown, and the upstream's name may be it. nginx sends no
        # address; a dotted upstream name is taken as the host it serves.
        return None
    return ctx.finding(
        target.directive,
        f"{shown} sends the SNI {name!r}: with {names.switch} on and no {names.name}, nginx sends "
        f"{names.default}, the upstream's name, not {server_host}, the host its server lines name; "
        f"{SELECTS_BY_SNI}",
        fix=_fix(target, [f"{names.name} {server_host};"]),
        related=[related(switch, f"{names.switch} on is set here")],
        anchor=anchor(location, names.name),
    )


def _fix(target: PassTarget, lines: list[str]) -> Fix | None:
    """The lines, added to the location of ``target`` (never into an ``if``: nginx
    refuses the directives there)."""
    assert target.location is not None
    edits = LocationChange(target.location, statements=lines).edits()
    if not edits:
        return None
    added = " and ".join(f"`{line}`" for line in lines)
    return Fix(f"add {added} to {label(target.location)}", tuple(edits), False)


def _dotted(host: str) -> bool:
    """A host name with a dot: what a virtual-hosted backend serves (no address)."""
    return "." in host and not is_ip_address(host) and not host.startswith("unix:")


def _server_hosts(upstream: Block) -> list[str | None]:
    """The host of each ``server`` line of ``upstream`` (None where it does not parse)."""
    found: list[str | None] = []
    for line in upstream.all("server"):
        parts = split_address(line.args[0]) if line.args else None
        found.append(parts[1] if parts is not None else None)
    return found


def _one_server_host(upstream: Block) -> str | None:
    """The one dotted host name every ``server`` line of ``upstream`` names, if any."""
    hosts = set(_server_hosts(upstream))
    if len(hosts) != 1:
        return None
    (host,) = hosts
    return host if host is not None and _dotted(host) else None
