"""What a configuration proves about its nginx version.

nginx refuses to start on a line it does not know: a configuration that uses
``http2 on;`` runs on 1.25.1 or later, one that uses ``ssl on;`` on a release
before 1.25.1. ``infer`` walks a configuration once, looks every directive,
``listen`` parameter and argument form up in ``tlslint.nginx_history``, and
narrows what is declared (the ``nginx.version`` setting, else the deployment
files' images, else nothing) to a ``VersionRange`` that the rules read.

Lines that no single release accepts together, or that the declared version
refuses, are ``Conflict``s (NGX004 reports them; NGX304 and NGX305 report
their own ``ssl`` and ``http2`` lines against a declared version).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tlslint.nginx_history import (
    HTTP,
    MAIL,
    MAIN,
    STREAM,
    UPSTREAM,
    VersionSpan,
    listen_span,
    scope_table,
)
from tlslint.nginx_versions import OLDEST_SUPPORTED, Version, format_version
from tlslint.paths import resolved
from tlslint.version_range import DIRECTIVE, SETTING, UNKNOWN, Evidence, VersionRange

if TYPE_CHECKING:
    from tlslint.settings import Settings
    from tlslint.sources.nginx.model import Directive
    from tlslint.workspace.nginx import Block, NginxConfig

# Blocks whose lines nginx reads as directives (map, geo, types and split_clients
# hold data; an unknown block, a third-party module's, is not followed).
_SAME_SCOPE = frozenset({"server", "location", "if", "limit_except", "events"})
_SUBSYSTEM = {"http": HTTP, "stream": STREAM, "mail": MAIL}
_TOP_SCOPE = {"main": MAIN, "http": HTTP, "server": HTTP}
_SHOWN_ARGS = 40  # characters of arguments a message shows


@dataclass(frozen=True, eq=False)
class Conflict:
    """``line`` is refused on every version that ``against`` allows."""

    line: Evidence  # a DIRECTIVE
    against: Evidence  # another line, a deployment file's image, or the setting


# A line that bounds the version: the directive, its span, and the listen parameter
# it is about ("" for a directive or an argument form). Evidence is made only for
# the few lines a message names.
Line = tuple["Directive", VersionSpan, str]


@dataclass(frozen=True, eq=False)
class Inference:
    """The versions the rules use for one configuration, and why."""

    versions: VersionRange
    declared: VersionRange
    lines: tuple[Line, ...]  # every line that bounds the version, block by block in text order
    conflicts: tuple[Conflict, ...]

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        return tuple(evidence_of(line) for line in self.lines)


def declared_versions(settings: Settings) -> VersionRange:
    """The versions declared for every configuration: the ``nginx.version`` setting.
    Without it, each configuration takes the nginx images nearest above it
    (``tlslint.deployment_near``; ``Workspace.nginx_declared_for``)."""
    if settings.nginx_version is not None:
        text = settings.nginx_version_text.strip() or format_version(settings.nginx_version)
        evidence = Evidence(SETTING, f"nginx.version {text}", path=settings.source)
        return VersionRange.exactly(settings.nginx_version, evidence)
    return UNKNOWN


INFERENCE_MEMO = "nginx_inference:"  # the prefix of an inference's key in ``config.memo``


def inference(config: NginxConfig, declared: VersionRange, pinned: VersionRange | None = None) -> Inference:
    """``infer``, once per configuration and declaration (every rule asks). ``pinned``:
    the versions inferred before the fixer changed the text (see ``carried``)."""
    key = f"{INFERENCE_MEMO}{id(declared)}:{id(pinned)}"
    found = config.memo.get(key)
    if found is None:
        found = infer(config, declared)
        if pinned is not None:
            found = replace(found, versions=carried(pinned, found.lines))
        config.memo[key] = found
    return found  # type: ignore[no-any-return]


def carried(pinned: VersionRange, lines: tuple[Line, ...]) -> VersionRange:
    """``pinned`` (the range inferred before a fix), its evidence found again in the
    fixed text's ``lines``.

    A fix changes the text, not the nginx that runs it: a line a fix removed still
    proves what it proved (``ssl on`` removed by NGX304 still means before 1.25.1), and
    a line a fix wrote proves nothing (nobody ran nginx on it). So the fixer's re-checks
    judge by the range as it was, and only say where its evidence is now: the same line
    in the same file (its new line number), else the old line, marked as changed.
    """
    found: dict[int, Evidence] = {}  # by id: a bound set by one line stays one evidence

    def moved(evidence: Evidence | None) -> Evidence | None:
        if evidence is None or evidence.directive is None or evidence.before_fix:
            return evidence
        if id(evidence) not in found:
            found[id(evidence)] = _found_again(evidence, lines) or replace(evidence, before_fix=True)
        return found[id(evidence)]

    return VersionRange(pinned.low, pinned.high, moved(pinned.low_by), moved(pinned.high_by))


def _found_again(evidence: Evidence, lines: tuple[Line, ...]) -> Evidence | None:
    """The first of ``lines`` that reads as ``evidence`` in its file, with its bound."""
    assert evidence.directive is not None
    path = resolved(evidence.directive.path)
    for line in lines:
        if line[1] == evidence.span and resolved(line[0].path) == path:
            again = evidence_of(line)
            if again.what == evidence.what:
                return again
    return None


def infer(config: NginxConfig, declared: VersionRange) -> Inference:
    below_supported = declared.low is not None and declared.low < OLDEST_SUPPORTED
    lines = tuple(collect_lines(config, everything=below_supported))
    conflicts = [
        Conflict(evidence_of(line), _declared_side(declared, line))
        for line in lines
        if not declared.overlaps(line[1])
    ]
    if declared.exact is not None:  # the setting, or the one release an image pins
        return Inference(declared, declared, lines, tuple(conflicts))
    fitting = [line for line in lines if declared.overlaps(line[1])] if conflicts else lines
    low = _strongest(fitting, lambda span: span.since, max)
    high = _strongest(fitting, lambda span: span.until, min)
    if low is not None and high is not None and low[1].since >= high[1].until:  # type: ignore[operator]
        # No release accepts both lines: nginx starts on none, so nothing is inferred.
        conflicts.append(Conflict(evidence_of(high), evidence_of(low)))
        return Inference(declared, declared, lines, tuple(conflicts))
    return Inference(_narrowed(declared, low, high), declared, lines, tuple(conflicts))


def _strongest(
    lines: tuple[Line, ...] | list[Line],
    bound: Callable[[VersionSpan], Version | None],
    better: Callable[[Version, Version], Version],
) -> Line | None:
    """The line whose bound is the tightest (the first of equals), or None."""
    best: Line | None = None
    best_bound: Version | None = None
    for line in lines:
        value = bound(line[1])
        if value is not None and (
            best_bound is None or (value != best_bound and better(value, best_bound) == value)
        ):
            best, best_bound = line, value
    return best


def _narrowed(declared: VersionRange, low: Line | None, high: Line | None) -> VersionRange:
    """``declared`` with the lines' bounds. A lower bound at or below the oldest release
    the rules describe (``listen ... http2``: 1.9.5) decides nothing and is left out."""
    versions = declared
    since = low[1].since if low is not None else None
    if since is not None and since > OLDEST_SUPPORTED and (declared.low is None or since > declared.low):
        assert low is not None
        versions = VersionRange(since, versions.high, evidence_of(low), versions.high_by)
    until = high[1].until if high is not None else None
    if until is not None and (declared.high is None or until < declared.high):
        assert high is not None
        versions = VersionRange(versions.low, until, versions.low_by, evidence_of(high))
    return versions


def _declared_side(declared: VersionRange, line: Line) -> Evidence:
    """The declared bound ``line`` contradicts: the top when it needs a newer nginx."""
    since = line[1].since
    newer = since is not None and declared.high is not None and since >= declared.high
    evidence = declared.high_by if newer else declared.low_by
    assert evidence is not None
    return evidence


# --------------------------------------------------------------------------- the walk


# name -> (its span, or None; its argument forms as (test, span)), per scope.
_Forms = tuple[tuple[Callable[[Sequence[str]], bool], VersionSpan], ...]
_Entry = tuple[VersionSpan | None, _Forms]
_Tables = dict[str, dict[str, _Entry]]
_LISTEN_ENTRY: _Entry = (None, ())


def collect(config: NginxConfig) -> list[Line]:
    """Every line of ``config`` whose releases the table bounds, block by block in text
    order (includes spliced in): one pass over the directives, one dict look-up each;
    each directive once however often it is included; the lines of data blocks (map,
    geo, types...) and of blocks nginx's modules do not define are not read."""
    return collect_lines(config, everything=True)


def collect_lines(config: NginxConfig, *, everything: bool) -> list[Line]:
    """``collect``; without ``everything``, only the lines that can bound the version
    above the oldest release the rules describe (an upstream's `keepalive`, 1.1.4,
    cannot), which is all a declaration from that release on needs."""
    found: list[Line] = []
    top = config.top
    tables = _FULL_TABLES if everything else _TABLES
    scope = STREAM if top.module() == "stream" else _TOP_SCOPE.get(top.context, HTTP)  # a stream fragment
    _collect(top, scope, tables, found, set())
    return found


def _collect(block: Block, scope: str, tables: _Tables, found: list[Line], seen: set[int]) -> None:
    # Recursion is bounded: blocks nest at most MAX_BLOCK_DEPTH (100) deep.
    lookup = tables[scope].get
    for child in block.children:
        entry = lookup(child.name)
        if entry is not None and id(child) not in seen:
            seen.add(id(child))
            _bounds(child, scope, entry, found)
    for inner in block.blocks:
        context = inner.context
        inner_scope = scope if context in _SAME_SCOPE else _scope_below(context, scope)
        if inner_scope is not None:
            _collect(inner, inner_scope, tables, found, seen)


def _walk_table(scope: str, everything: bool) -> dict[str, _Entry]:
    table: dict[str, _Entry] = {}
    for name, (span, forms) in scope_table(scope).items():
        if not everything:
            span = span if span is not None and _bounds_supported(span) else None
            forms = tuple(form for form in forms if _bounds_supported(form.span))
        if span is not None or forms:
            table[name] = (span, tuple((form.test, form.span) for form in forms))
    table["listen"] = _LISTEN_ENTRY
    return table


def _bounds_supported(span: VersionSpan) -> bool:
    return span.until is not None or (span.since is not None and span.since > OLDEST_SUPPORTED)


_SCOPES = (MAIN, HTTP, UPSTREAM, STREAM, MAIL)
_TABLES = {scope: _walk_table(scope, everything=False) for scope in _SCOPES}
_FULL_TABLES = {scope: _walk_table(scope, everything=True) for scope in _SCOPES}


def _scope_below(context: str, scope: str) -> str | None:
    if context in _SAME_SCOPE:
        return scope
    if context in _SUBSYSTEM:
        return _SUBSYSTEM[context]
    if context == "upstream":
        return UPSTREAM if scope == HTTP else scope
    return None


# A listen's bounding parameters by its arguments and scope: 10,000 servers write a
# handful of listen lines. Bounded, since it outlives the run.
_LISTEN_BOUNDS: dict[tuple[tuple[str, ...], str], tuple[tuple[VersionSpan, str], ...]] = {}
_LISTEN_BOUNDS_MAX = 1 << 12


def _bounds(
    directive: Directive,
    scope: str,
    entry: _Entry,
    found: list[Line],
) -> None:
    span, forms = entry
    if entry is _LISTEN_ENTRY:
        key = (directive.args, scope)
        bounded = _LISTEN_BOUNDS.get(key)
        if bounded is None:
            bounded = tuple(
                (parameter, arg)
                for arg in directive.args[1:]
                if (parameter := listen_span(arg, scope)) is not None
                and (parameter.since is not None or parameter.until is not None)
            )
            if len(_LISTEN_BOUNDS) < _LISTEN_BOUNDS_MAX:
                _LISTEN_BOUNDS[key] = bounded
        for parameter, arg in bounded:
            found.append((directive, parameter, arg))
        return
    if span is not None and (span.since is not None or span.until is not None):
        found.append((directive, span, ""))
    for test, form_span in forms:
        if test(directive.args):
            found.append((directive, form_span, ""))


def evidence_of(line: Line) -> Evidence:
    directive, span, parameter = line
    what = f"`listen ... {parameter}`" if parameter else f"`{_shown(directive)}`"
    return Evidence(DIRECTIVE, what, directive=directive, span=span)


def _shown(directive: Directive) -> str:
    args = " ".join(directive.args)
    if len(args) > _SHOWN_ARGS:
        args = args[: _SHOWN_ARGS - 3] + "..."
    return f"{directive.name} {args}" if args else directive.name
