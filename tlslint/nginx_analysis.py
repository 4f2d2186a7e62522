"""Would nginx load this? Every directive checked against the directive table.

The same check runs on a configuration as the workspace splices it (includes
followed, each file in the context it is included from: NGX010-NGX012) and on
one file's own tree (a fixed text before it is written, ``tlslint.fix_analysis``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.nginx_directives import (
    ARG_BITS,
    CHECK_VALUES,
    CONTEXT_NAMES,
    FLAG_ONLY,
    HTTP_LIF,
    HTTP_LMT,
    HTTP_LOC,
    HTTP_MAIN,
    MANY,
    ROOT_CONTEXTS,
    STREAM_MAIN,
    STREAM_SRV,
    TYPED,
    VALUES,
    DirectiveTable,
)
from tlslint.nginx_upstream_names import (
    HTTP_PASSES,
    Event,
    Outcome,
    config_outcomes,
    declared_at,
    pass_address,
    resolve,
)
from tlslint.nginx_values import proxy_url_problem, proxy_url_uri, templated
from tlslint.sources.nginx.model import Directive

if TYPE_CHECKING:
    from tlslint.workspace.nginx import Block, NginxConfig

UNKNOWN_DIRECTIVE = "unknown"
NOT_ALLOWED = "context"
BAD_ARGUMENTS = "arguments"


@dataclass(frozen=True, slots=True)
class Problem:
    """A directive nginx would refuse, and why (``kind``), in ``context``."""

    kind: str
    directive: Directive
    context: int
    shape: int
    block: Block | None = None  # the workspace block it stands in, when known
    reason: str = ""  # nginx's refusal, where the block around the directive decides it

    def message(self, table: DirectiveTable, target: DirectiveTable | None = None) -> str:
        """nginx's refusal in words; ``target``: the table of the release the configuration
        runs on, where one is known (where else that release allows the directive)."""
        if self.reason:
            return self.reason
        directive = self.directive
        name = directive.name
        if self.kind == UNKNOWN_DIRECTIVE:
            reason = table.unknown_reason(name, self.context)
            return f'unknown directive "{name}"' + (f": {reason}" if reason else "")
        if self.kind == NOT_ALLOWED:
            return self._not_allowed(table, target)
        has_block = directive.block is not None
        semicolon = self.shape & ((1 << ARG_BITS) - 1)
        blocks = self.shape >> ARG_BITS & ((1 << ARG_BITS) - 1)
        if has_block and not blocks:
            return f'directive "{name}" is not terminated by ";" (it takes no block)'
        if not has_block and not semicolon:
            return f'directive "{name}" has no opening "{{" (it takes a block)'
        expected = table.expected_arguments(name, self.shape, has_block)
        if _wrong_flag(directive, self.shape):
            return f'invalid value "{directive.args[0]}" in "{name}" directive, it must be {expected}'
        if self.shape & VALUES:
            refused = table.refused_value(name, directive.args, self.context)
            if refused:
                return refused
        given = len(directive.args)
        if self.shape & TYPED and semicolon >> min(given, MANY) & 1:  # the count is right
            refused = table.typed_refusal(name, directive.args, self.context)
            if refused:
                return refused
        return (
            f'invalid number of arguments in "{name}" directive ({given} given; '
            f"it takes {expected}{_version_note(table)})"
        )

    def _not_allowed(self, table: DirectiveTable, target: DirectiveTable | None) -> str:
        """No release allows the directive here; where else it is allowed is the target
        release's answer (``ssl`` is allowed nowhere on 1.27.3; ``http2`` on 1.22 is
        nginx's `unknown directive`)."""
        name = self.directive.name
        here, allowed = context_words(self.context), table.context_words(name, self.context)
        note = ""
        if target is not None and target.version is not None:
            from tlslint.nginx_versions import format_version

            if not target.known(name):
                reason = target.unknown_reason(name, self.context)
                return f'unknown directive "{name}": {reason}, and no release allows it in {here}'
            on_target = target.context_words(name, self.context)
            if on_target != allowed:
                allowed, note = on_target, f" on nginx {format_version(target.version)}"
        return f'"{name}" directive is not allowed here (in {here}; allowed in {allowed or "none"}{note})'


def _version_note(table: DirectiveTable) -> str:
    from tlslint.nginx_versions import format_version

    return f" on nginx {format_version(table.version)}" if table.version is not None else ""


def context_words(context: int) -> str:
    names = [label for bit, label in CONTEXT_NAMES.items() if context & bit]
    return " or ".join(names) if names else "an unknown context"


# Whether a value was refused, by context, name and arguments: one pass's memo (a
# configuration's, a file's), since the same line repeats across its servers.
Refused = dict[tuple[int, str, tuple[str, ...]], bool]


def check_children(
    children: Iterable[Directive],
    context: int,
    table: DirectiveTable,
    problems: list[Problem],
    block: Block | None = None,
    refused: Refused | None = None,
) -> None:
    """The hot loop: per directive, a dict lookup and a bit test or two (names bound
    to locals: this runs once for every directive of every configuration)."""
    if refused is None:
        refused = {}
    shapes = table.shapes(context)
    get = shapes.get
    fill = table.fill
    check_values = CHECK_VALUES
    for directive in children:
        shape = get(directive.name)
        if shape is None:
            shape = fill(directive.name, context)
        if shape <= 0:
            problems.append(
                Problem(UNKNOWN_DIRECTIVE if shape else NOT_ALLOWED, directive, context, shape, block)
            )
            continue
        count = len(directive.args)
        if count > 8:
            count = 8  # MANY: eight or more
        if directive.block is not None:
            count += 9  # ARG_BITS: the counts taken before "{"
        elif shape & check_values and shape >> count & 1:
            key = (context, directive.name, directive.args)
            wrong = refused.get(key)
            if wrong is None:
                wrong = refused[key] = _wrong_value(directive, shape, context, table)
            if wrong:
                count = -1  # a value refused (a wrong count is refused anyway)
        if count < 0 or not shape >> count & 1:
            problems.append(Problem(BAD_ARGUMENTS, directive, context, shape, block))


def _wrong_flag(directive: Directive, shape: int) -> bool:
    args = directive.args
    return bool(shape & FLAG_ONLY) and len(args) == 1 and args[0].lower() not in ("on", "off")


def _wrong_value(directive: Directive, shape: int, context: int, table: DirectiveTable) -> bool:
    """A flag's value, a value form newer than the target version, or a value nginx's
    reader refuses."""
    refused = (
        _wrong_flag(directive, shape)
        or bool(shape & VALUES and table.refused_value(directive.name, directive.args, context))
        or bool(shape & TYPED and table.typed_refusal(directive.name, directive.args, context))
    )
    # A template's value (`$NAME` in a *.template too) is not judged: the rendered file is
    # nginx's (`ssl_session_tickets ${TICKETS};` renders to on or off).
    return refused and not templated(directive)


# Blocks where nginx cannot replace the matched part of the request's URI, so that a
# proxy_pass URL may carry no URI part (ngx_http_proxy_pass: regex and named locations,
# "if" and "limit_except", whose location has no name).
_URI_BLOCKS = frozenset({"location", "if", "limit_except"})
_HTTP_PASS_CONTEXTS = HTTP_LOC | HTTP_LIF | HTTP_LMT


def _uri_barred_in(block: Directive) -> str:
    """Where ``block`` is, in words, when a proxy_pass in it may not have a URI part."""
    if block.name != "location":
        return f'inside "{block.name}"'
    args = block.args
    modifier = args[0] if len(args) >= 2 else (args[0][:1] if args else "")
    if modifier in ("~", "~*"):
        return "in a location given by a regular expression"
    return "in a named location" if modifier == "@" else ""


def check_uri_parts(
    children: Iterable[Directive],
    block: Directive,
    context: int,
    table: DirectiveTable,
    problems: list[Problem],
    workspace_block: Block | None = None,
) -> None:
    """A ``proxy_pass`` URL with a URI part where nginx cannot use one (the children of
    ``block``); URLs refused for other reasons, or with variables, are left as they are."""
    where = _uri_barred_in(block)
    if not where:
        return  # a prefix or exact location: most of them
    for directive in children:
        if directive.name != "proxy_pass" or directive.block is not None or len(directive.args) != 1:
            continue
        url = directive.args[0]
        uri = proxy_url_uri(url)
        if not uri or proxy_url_problem(url):
            continue
        shape = table.shapes(context).get("proxy_pass") or table.fill("proxy_pass", context)
        if shape > 0:
            base = url[: len(url) - len(uri)].removesuffix(":")  # a unix path's separator too
            reason = (
                f'"proxy_pass" cannot have URI part ("{uri}") {where}: pass "{base}", and '
                "rewrite the URI before it if it must change"
            )
            problems.append(Problem(BAD_ARGUMENTS, directive, context, shape, workspace_block, reason))


def port_refusal(directive: Directive, outcome: Outcome) -> str:
    """NGX012's words for a pass nginx refuses because its host is an upstream{}'s name
    and it writes a port (``tlslint.nginx_upstream_names``)."""
    declared, address, value = outcome.declared, outcome.address, directive.args[0]
    bare = value.replace(f"{address.host}:{address.written}", address.host, 1)
    return (
        f"{outcome.refusal}: {address.host} is the name of upstream {declared.args[0]} "
        f"({declared_at(declared, directive)}), which "
        f"a {directive.name} takes only without a port (its server lines carry the ports): pass "
        f'"{bare}" to use it, or rename the upstream{{}} if {address.host}:{address.written} itself was meant'
    )


def _port_problem(
    directive: Directive, outcome: Outcome, context: int, table: DirectiveTable, block: Block | None
) -> Problem | None:
    shape = table.shapes(context).get(directive.name) or table.fill(directive.name, context)
    if shape <= 0:
        return None  # not allowed here: NGX011's
    return Problem(BAD_ARGUMENTS, directive, context, shape, block, port_refusal(directive, outcome))


def _add_port_problems(
    problems: list[Problem],
    found: Sequence[tuple[Directive, Outcome, int, Block | None]],
    table: DirectiveTable,
) -> None:
    """The passes nginx refuses for a port on an upstream{}'s name, one problem a line:
    none where the line has another (a URI part nginx refuses as well)."""
    if not found:
        return
    taken = {id(problem.directive) for problem in problems}
    for directive, outcome, context, block in found:
        if id(directive) not in taken:
            problem = _port_problem(directive, outcome, context, table, block)
            if problem is not None:
                taken.add(id(directive))
                problems.append(problem)


def check_tree(
    directives: list[Directive],
    context: int,
    table: DirectiveTable,
    problems: list[Problem],
    refused: Refused | None = None,
) -> None:
    """One file's own tree in ``context`` (its includes are not followed)."""
    contexts: dict[int, int] = {}
    events: dict[bool, list[Event]] = {False: [], True: []}
    _check_tree(directives, context, table, problems, {} if refused is None else refused, contexts, events)
    outcomes = resolve(events[False])
    outcomes.update(resolve(events[True]))
    found = [
        (directive, outcome, contexts[id(directive)], None)
        for directive, _ in (*events[False], *events[True])
        if (outcome := outcomes.get(id(directive))) is not None and outcome.refusal
    ]
    _add_port_problems(problems, found, table)


def _check_tree(
    directives: list[Directive],
    context: int,
    table: DirectiveTable,
    problems: list[Problem],
    refused: Refused,
    contexts: dict[int, int],
    events: dict[bool, list[Event]],
) -> None:
    check_children(directives, context, table, problems, refused=refused)
    for directive in directives:
        _tree_event(directive, context, contexts, events)
        if directive.block:
            inner = table.enter(context, directive.name)
            if inner:
                _check_tree(directive.block, inner, table, problems, refused, contexts, events)
                if directive.name in _URI_BLOCKS:
                    check_uri_parts(directive.block, directive, inner, table, problems)


def _tree_event(
    directive: Directive, context: int, contexts: dict[int, int], events: dict[bool, list[Event]]
) -> None:
    """An upstream{} or a literal pass, in reading order, for the module that reads it."""
    name = directive.name
    if not directive.args or (name != "upstream" and name not in HTTP_PASSES):
        return
    if name == "upstream":
        if directive.block is not None and context & (HTTP_MAIN | STREAM_MAIN):
            events[not context & HTTP_MAIN].append((directive, None))
        return
    stream = name == "proxy_pass" and bool(context & STREAM_SRV) and not context & _HTTP_PASS_CONTEXTS
    address = pass_address(name, directive.args[0], stream=stream)
    if address is not None:
        contexts[id(directive)] = context
        events[stream].append((directive, address))


def check_config(config: NginxConfig, table: DirectiveTable) -> list[Problem]:
    """Every directive of a configuration, includes spliced in."""
    problems: list[Problem] = []
    refused: Refused = {}
    outcomes = config_outcomes(config)
    ports = {key: outcome for key, outcome in outcomes.items() if outcome.refusal}
    found: list[tuple[Directive, Outcome, int, Block | None]] = []
    upstreams: dict[tuple[bool, str], Directive] = {}
    read: set[tuple[bool, str]] = set()
    stack = [(config.top, ROOT_CONTEXTS[config.context])]
    enter = table.enter
    mains = HTTP_MAIN | STREAM_MAIN
    while stack:
        block, context = stack.pop()
        check_children(block.children, context, table, problems, block, refused)
        if context & mains:
            _add_duplicate_upstreams(block, context, table, problems, upstreams, read)
        directive = block.directive
        # A prefix or exact location (most of them) is not read again for a URI part.
        if directive is not None and directive.name in _URI_BLOCKS and _uri_barred_in(directive):
            check_uri_parts(block.children, directive, context, table, problems, block)
        if ports:
            found.extend(
                (child, ports[id(child)], context, block) for child in block.children if id(child) in ports
            )
        for sub in reversed(block.blocks):
            directive = sub.directive
            if directive is not None:
                inner = enter(context, directive.name)
                if inner:
                    stack.append((sub, inner))
    _add_port_problems(problems, found, table)
    return problems


def _add_duplicate_upstreams(
    block: Block,
    context: int,
    table: DirectiveTable,
    problems: list[Problem],
    seen: dict[tuple[bool, str], Directive],
    twice: set[tuple[bool, str]],
) -> None:
    """A second ``upstream NAME {}`` of one module, names compared without case: nginx
    refuses it (`duplicate upstream "NAME"`), also where a file holding one is read twice."""
    for child in block.children:
        if child.name != "upstream" or child.block is None or not child.args:
            continue
        key = (not context & HTTP_MAIN, child.args[0].lower())
        first = seen.setdefault(key, child)
        if first is child and key not in twice:
            twice.add(key)  # the first reading; a second of the same line is its file read again
            continue
        shape = table.shapes(context).get("upstream") or table.fill("upstream", context)
        where = (
            f"its file is read twice into {'stream' if key[0] else 'http'}{{}}: an include meets it again"
            if first is child
            else f"the first is at {declared_at(first, child)}"
        )
        reason = (
            f'duplicate upstream "{child.args[0]}": nginx refuses a second upstream{{}} of the name ({where})'
        )
        problems.append(Problem(BAD_ARGUMENTS, child, context, shape, block, reason))


def file_contexts(configs: Iterable[NginxConfig], table: DirectiveTable) -> dict[Path, set[int]]:
    """The contexts each file's top-level directives stand in, over every configuration
    (a snippet included from a server and from a location has both)."""
    found: dict[Path, set[int]] = {}
    for config in configs:
        stack = [(config.top, ROOT_CONTEXTS[config.context])]
        while stack:
            block, context = stack.pop()
            for child in block.children:
                if child.parent is None:
                    found.setdefault(child.path, set()).add(context)
            for sub in block.blocks:
                if sub.directive is not None:
                    inner = table.enter(context, sub.directive.name)
                    if inner:
                        stack.append((sub, inner))
    return found
