"""What NGX010-NGX012 share: the directive table of the run and one analysis per configuration.

The three rules split one pass over every directive (``tlslint.nginx_analysis``)
by the reason nginx would refuse it, so that each can be selected or ignored
on its own (third-party modules unknown to tlslint, say). They report what no
nginx release accepts; a line only some releases accept, where the target
version (setting, image or the configuration's own evidence) is not one of
them, is NGX004's, which names the line and the evidence: one finding a line.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, related
from tlslint.findings import Finding, Fix, Severity
from tlslint.nginx_analysis import UNKNOWN_DIRECTIVE, Problem, check_config
from tlslint.nginx_directives import DirectiveTable, listed_module, table_for
from tlslint.nginx_values import ENVSUBST_PLACEHOLDER, templated
from tlslint.nginx_versions import Version
from tlslint.sources.nginx.model import Directive
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import MAIN, NginxConfig, per_config


def directive_table(ctx: RuleContext, workspace: Workspace) -> DirectiveTable:
    """Every release's directives: what this table refuses, no release accepts."""
    return table_for(None, ctx.settings.nginx_extra_directives)


def target_version(workspace: Workspace, config: NginxConfig) -> Version | None:
    """The one release ``config`` runs on, where the setting or a deployment image pins it."""
    return workspace.nginx_version or workspace.nginx_versions(config).exact


@per_config
def problems(config: NginxConfig, table: DirectiveTable) -> list[Problem]:
    return check_config(config, table)


@per_config
def unlisted_modules(config: NginxConfig) -> tuple[Directive, ...]:
    """The main-level lines that may load a module whose directives tlslint does not know:
    ``load_module`` of another module than those it lists whole, and an include it could
    not follow (Debian's ``include /etc/nginx/modules-enabled/*.conf`` read elsewhere)."""
    if config.context != MAIN:
        return ()
    found = [
        directive
        for directive in config.top.children
        if directive.name == "load_module" and directive.args and not listed_module(directive.args[0])
    ]
    if config.top.unresolved:
        own = {id(directive) for directive in config.root.directives if directive.name == "include"}
        for problem in config.problems:
            if problem.directive is not None and id(problem.directive) in own:
                found.append(problem.directive)
        if not any(directive.name == "include" for directive in found):
            found.extend(d for d in config.root.directives if d.name == "include" and templated(d))
    return tuple(dict.fromkeys(found))


def findings(
    ctx: RuleContext, workspace: Workspace, kind: str, fixes: bool = False
) -> Iterator[tuple[Problem, Finding]]:
    """The problems of ``kind`` in every configuration, as findings of the calling rule."""
    table = directive_table(ctx, workspace)
    for config in workspace.nginx:
        target = table_for(target_version(workspace, config), ctx.settings.nginx_extra_directives)
        loads = unlisted_modules(config) if kind == UNKNOWN_DIRECTIVE else ()
        for problem in problems(config, table):
            if problem.kind != kind:
                continue
            if loads:
                yield problem, _maybe_loaded(ctx, config, problem, table, target, loads, fixes)
                continue
            yield (
                problem,
                ctx.finding(
                    problem.directive,
                    problem.message(table, target) + _template_hint(problem),
                    anchor=_anchor(config, problem),
                    fix=_rename(problem, target) if fixes else None,
                ),
            )


def _maybe_loaded(
    ctx: RuleContext,
    config: NginxConfig,
    problem: Problem,
    table: DirectiveTable,
    target: DirectiveTable,
    loads: tuple[Directive, ...],
    fixes: bool,
) -> Finding:
    """A name no module tlslint knows has, where the configuration loads (or may load, through
    an include not followed) a module it does not know: that module may provide it, so
    whether nginx refuses to start is not known (a warning, not nginx's error)."""
    name = problem.directive.name
    close = table.suggest(name)
    guess = f': did you mean "{close}"?' if close else ""
    loaded = any(load.name == "load_module" for load in loads)
    what = "loads modules it does not know" if loaded else "may load modules (includes it could not follow)"
    message = (
        f'"{name}" is in no module tlslint knows, but this configuration {what}: unless one '
        f'of them provides it, nginx refuses to start (unknown directive "{name}"'
        f"{guess}); if one does, declare its directives in [nginx] extra-directives"
    )
    notes = [
        related(load, "loads a module tlslint does not know" if load.name == "load_module" else
                "an include tlslint could not follow, which may load modules")
        for load in loads[:3]
    ]  # fmt: skip
    return ctx.finding(
        problem.directive,
        message + _template_hint(problem),
        severity=Severity.WARNING,
        related=notes,
        anchor=_anchor(config, problem),
        fix=_rename(problem, target) if fixes else None,
    )


def _template_hint(problem: Problem) -> str:
    """nginx's words are right about the text, but a ``${NAME}`` argument is most likely a
    template's placeholder (the nginx image's envsubst templates): say so."""
    for arg in problem.directive.args:
        found = ENVSUBST_PLACEHOLDER.search(arg)
        if found:
            return (
                f" ({found.group()} reads like an envsubst placeholder: if this file is a template, "
                "check the file it renders)"
            )
    return ""


def _anchor(config: NginxConfig, problem: Problem) -> str:
    from tlslint.checks._protocols import block_anchor, server_map

    name = problem.directive.name
    return block_anchor(problem.block, server_map(config), name) if problem.block is not None else name


def _rename(problem: Problem, table: DirectiveTable) -> Fix | None:
    """An unknown name one typo away from a directive the target version takes right there."""
    from tlslint.findings import Edit
    from tlslint.nginx_analysis import check_children
    from tlslint.sources.nginx.model import Directive

    directive = problem.directive
    close = table.suggest(directive.name)
    written = directive.source.text[directive.start : directive.start + len(directive.name)]
    if close is None or written != directive.name:
        return None
    renamed = Directive(
        close, directive.args, directive.source, directive.start, directive.end,
        directive.args_start, directive.args_end, directive.block,
    )  # fmt: skip
    left: list[Problem] = []
    check_children([renamed], problem.context, table, left)
    if left:
        return None
    edit = Edit(directive.path, directive.start, directive.start + len(directive.name), close)
    return Fix(f'rename "{directive.name}" to "{close}"', (edit,), safe=False)
