"""NGX304 ssl-directive-removed: ``ssl on;`` (deprecated in 1.15.0, removed in 1.25.1)."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._placeholders import placeholder_note, templated, templated_line
from tlslint.checks._protocols import (
    argument_index,
    block_anchor,
    combine,
    flag_on,
    flag_sites,
    inherited_flag,
    server_map,
    servers_deciding,
    socket_was_tls,
)
from tlslint.findings import Edit, Finding, Fix, Severity
from tlslint.nginx_edits import insert_argument, remove_directive
from tlslint.nginx_versions import HTTP2_DIRECTIVE
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Block, NginxConfig

CODE = "NGX304"

REMOVED_IN = HTTP2_DIRECTIVE  # 1.25.1 removed `ssl` and added `http2`
DEPRECATED_IN = (1, 15, 0)
DEPRECATION_WARNING = 'the "ssl" directive is deprecated, use the "listen ... ssl" directive instead'


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        versions = workspace.nginx_versions(config)
        removed = versions.at_least(REMOVED_IN)
        servers = server_map(config)
        sites = [(d, blocks, False) for d, blocks in flag_sites(config, "ssl")]
        sites += [(d, blocks, True) for d, blocks in _mail_sites(config)]
        for directive, blocks, mail in sites:
            if mail:
                fix, note = combine([_mail_fix(block, block.all("ssl")) for block in blocks])
            else:
                fix, note = combine([_fix(config, block, block.all("ssl")) for block in blocks])
            written = f"`ssl {' '.join(directive.args)};`"
            if removed:
                message = (
                    f"{written} was removed in nginx 1.25.1: {versions.name()} refuses "
                    'to start (`unknown directive "ssl"`); use the `ssl` parameter of `listen`'
                )
                severity = Severity.ERROR
            elif removed is False:
                # nginx -t says nothing of it before 1.15.0 (below the rules' 1.18.0 floor,
                # but a configured 1.14 is accepted).
                warned = versions.at_least(DEPRECATED_IN)
                warns = "" if warned is False else f" (nginx -t warns `{DEPRECATION_WARNING}`)"
                message = (
                    f"{written} is deprecated since nginx 1.15.0{warns} and removed in 1.25.1, where "
                    "nginx refuses to start; use the `ssl` parameter of `listen`"
                )
                severity = Severity.WARNING
            else:
                # Only where other lines contradict it (NGX004): the line itself
                # proves a release before 1.25.1.
                message = (
                    f"{written} is deprecated since nginx 1.15.0 and was removed in 1.25.1: nginx "
                    '1.25.1 and later refuse to start (`unknown directive "ssl"`); use the `ssl` '
                    f"parameter of `listen` ({versions.unsettled()})"
                )
                severity = Severity.INFO
            yield ctx.finding(
                directive,
                message,
                severity=severity,
                anchor=block_anchor(blocks[0], servers, "ssl"),
                fix=fix,
                fix_note=note,
            )


def _mail_sites(config: NginxConfig) -> list[tuple[Directive, list[Block]]]:
    """Each ``ssl`` line of mail{} or a mail server, with every block it is in. mail's
    `ssl` went the same way as http's (CHANGES 1.15.0, 1.25.1; nginx_history's mail row);
    stream never had one (`listen ... ssl` only)."""
    order: list[Directive] = []
    blocks: dict[int, list[Block]] = {}
    for block in config.top.walk():
        if block.context not in ("mail", "server"):
            continue
        # Which module reads the block is asked of the few blocks with the line only.
        if not block.has("ssl") or block.module() != "mail":
            continue
        for directive in block.all("ssl"):
            if id(directive) not in blocks:
                order.append(directive)
                blocks[id(directive)] = []
            if block not in blocks[id(directive)]:
                blocks[id(directive)].append(block)
    return [(directive, blocks[id(directive)]) for directive in order]


def _mail_fix(block: Block, directives: list[Directive]) -> tuple[Fix | None, str]:
    """mail's fix: ``ssl`` on the listen lines of the servers the line turns TLS on, and
    the line removed. A mail address:port belongs to one server (nginx refuses it twice),
    so unlike http's virtual servers each server's own value decides its sockets."""
    removals = [remove_directive(directive) for directive in directives]
    own = templated_line(directives)
    if own is not None:
        return None, placeholder_note(own)
    if not flag_on(directives[-1]):
        inherited = inherited_flag(block, "ssl")
        if flag_on(inherited):
            return None, "fix the mail-level `ssl on;` first: without this line the server would inherit it"
        return Fix("remove the `ssl off;` line (plain is the default)", tuple(removals)), ""
    servers = [block] if block.context == "server" else [b for b in block.sub("server") if not b.all("ssl")]
    edits: list[Edit] = []
    for server in servers:
        listens = server.all("listen")
        if not listens or any(not listen.args for listen in listens):
            return None, "a mail server without a listen line with an address must be fixed first"
        if server.unresolved:
            return None, "an include in the mail server was not followed: its listen lines are not all known"
        for listen in listens:
            if "ssl" not in listen.args[1:]:
                edits.append(insert_argument(listen, argument_index(listen, ()), "ssl"))
    description = "add `ssl` to the listen lines and remove `ssl on;`" if edits else "remove `ssl on;`"
    return Fix(description, (*edits, *removals)), ""


def _fix(config: NginxConfig, block: Block, directives: list[Directive]) -> tuple[Fix | None, str]:
    """Move the switch onto the listen lines: ``ssl`` on every listen of the servers
    that inherit ``ssl on`` from here, and the ``ssl`` lines removed."""
    removals = [remove_directive(directive) for directive in directives]
    own = templated_line(directives)
    if own is not None:
        return None, placeholder_note(own)  # on or off is the template's: so is where `ssl` goes
    if not flag_on(directives[-1]):
        inherited = inherited_flag(block, "ssl")
        if flag_on(inherited):
            return None, "fix the http-level `ssl on;` first: without this line the server would inherit it"
        if inherited is not None and templated(inherited):
            return None, placeholder_note(inherited)  # what the server would inherit is the template's
        return Fix("remove the `ssl off;` line (plain is the default)", tuple(removals)), ""
    edits: list[Edit] = []
    plain: list[str] = []  # sockets plain today, where this `ssl on` has no effect
    servers = servers_deciding(config, block, "ssl")
    for server in servers:
        listens = [listen for listen in server.listens if listen.directive is not None]
        if any(listen.directive is not None and not listen.directive.args for listen in listens):
            return None, "a listen line without an address (nginx -t refuses it) must be fixed first"
        if not listens and server.synthetic:  # a server snippet: its includer's listen is unseen
            return None, (
                f"this snippet ({server.fragment or 'a server snippet'}) has no listen line to put `ssl` on: "
                "add `ssl` to the listen lines of the server that includes it"
            )
        if not listens:
            return None, f"{server.label} has no listen line to put `ssl` on (it listens on the default port)"
        for listen in listens:
            if listen.ssl:
                continue
            assert listen.directive is not None
            if not socket_was_tls(config, listen.socket):
                # Measured on 1.22.1: `ssl on` in a server that is not the default server
                # of a plain socket has no effect there. The listen parameter would switch
                # the whole socket to TLS, its default server too (which nginx refuses
                # without a certificate there): the line is removed, the socket kept plain.
                if listen.socket not in plain:
                    plain.append(listen.socket)
                continue
            index = argument_index(listen.directive, ("default_server", "default"))
            edits.append(insert_argument(listen.directive, index, "ssl"))
    if edits:
        description = "add `ssl` to the listen lines and remove `ssl on;`"
    elif plain:
        description = "remove `ssl on;`"
    else:
        description = "remove `ssl on;` (the listen lines already have `ssl`)"
    if plain:
        sockets = ", ".join(plain)
        description += (
            f" ({sockets} speaks plain HTTP today and stays plain: only the default server's "
            "`ssl on` counts, so this line has no effect there; to serve TLS there, add `ssl` "
            "to the listen lines of that socket, with a certificate for its default server)"
        )
    return Fix(description, (*edits, *removals)), ""
