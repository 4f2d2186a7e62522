"""NGX107 ssl-session-cache-not-on-default-server: vhost settings the default server overrides."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint import catalogue
from tlslint.checks import RuleContext, related
from tlslint.checks._placement import http_target
from tlslint.checks._session import anchor, effective_cache, parse_cache, tickets_on, tls_servers
from tlslint.findings import Finding, Fix, Severity
from tlslint.nginx_edits import argument_tokens, remove_directive, replace_argument
from tlslint.sources.nginx.model import Directive
from tlslint.units import parse_size
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Server, is_default

CODE = "NGX107"
TOO_SMALL = "NGX103"  # its min-size: the size a moved zone needs


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        for server in tls_servers(config):
            if is_default(server):
                continue
            own_cache = server.block.last("ssl_session_cache")
            own_key = server.block.last("ssl_session_ticket_key")
            for listen in server.listens:
                if listen.socket not in config.tls_sockets:
                    continue
                default = config.default_server(listen.socket)
                if default is None or default is server:
                    continue
                lacking: list[tuple[Directive, str]] = []
                cache_is_own = own_cache is not None and effective_cache(server).present
                if own_cache is not None and cache_is_own and not effective_cache(default).present:
                    lacking.append((own_cache, "session cache"))
                if own_key is not None and default.effective("ssl_session_ticket_key") is None:
                    lacking.append((own_key, "ticket key"))
                for directive, what in lacking:
                    yield ctx.finding(
                        directive,
                        f"{directive.name} here is not used: sessions on {listen.socket} are "
                        f"resumed in the context of its default server {default.label}, which "
                        f"has no {what}; move the setting to http{{}} or onto the default server",
                        severity=Severity.ERROR if not tickets_on(server) else None,
                        related=[
                            related(
                                default.block.directive or default.block.children[0],
                                f"default server for {listen.socket}",
                            )
                        ],
                        anchor=anchor(server, directive.name),
                        fix=_move_to_http(ctx, server, directive),
                        fix_note="" if server.http and server.http.directive else NO_HTTP_NOTE,
                    )


NO_HTTP_NOTE = "no automatic fix: this file has no http{} block; add the setting to the default server"


def _move_to_http(ctx: RuleContext, server: Server, directive: Directive) -> Fix | None:
    target = http_target(server)
    if target is None or target.has(directive.name):
        return None
    statement, resized = _statement_to_move(ctx, directive)
    description = f"move `{statement}` to http{{}} so that the default server inherits it"
    if resized:
        description += f" (raised from {resized}: every TLS server now stores sessions in it, NGX103)"
    return Fix(description, (remove_directive(directive), target.insert(statement)), safe=False)


def _statement_to_move(ctx: RuleContext, directive: Directive) -> tuple[str, str]:
    """The directive as it will read in http{}, and the zone size it had if raised.

    A zone that only a virtual server used stores sessions for every server once it is
    in http{}: one below NGX103's min-size moves at that size, so that the move does
    not leave NGX103 a finding to make.
    """
    text = directive.source.text
    statement = text[directive.start : directive.end]
    _, _, zone = parse_cache(directive) if directive.name == "ssl_session_cache" else (None, None, None)
    if zone is None or zone.size is None:
        return statement, ""
    meta = catalogue.index()[TOO_SMALL]
    options = {**meta.option_defaults(ctx.settings.profile), **ctx.settings.options_for(TOO_SMALL)}
    minimum = str(options["min-size"])
    if zone.size >= (parse_size(minimum) or 0):
        return statement, ""
    for index, (_, _, value, _) in enumerate(argument_tokens(directive)):
        if value.startswith(f"shared:{zone.name}:"):
            edit = replace_argument(directive, index, f"shared:{zone.name}:{minimum}")
            start, end = edit.start - directive.start, edit.end - directive.start
            return statement[:start] + edit.replacement + statement[end:], zone.size_text
    return statement, ""
