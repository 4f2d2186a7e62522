"""Running the checks over a workspace: on a large tree, shared with a fork.

Checks are pure functions of the workspace, so a forked helper that starts
with the workspace already built can run some while this process runs the
others; only findings travel back (pickled). Which ones is decided as they
go: the checks are put in groups (checks that share an index, such as NGX210,
NGX211 and NGX214 or NGX302 and NGX303, are one group, so that it is built
once), one byte per group in a pipe, dearest first, and each process takes the
next byte when it is free. Families cost very differently from one tree to
another (upstream checks lead on generate.py's tree, protocol checks on the
corpus-shaped one), so a fixed split kept one process waiting; a queue does
not. Each side runs slower than alone, since a forked process copies every page
it first writes to (refcounts), so the split pays from a few hundred files
(``MIN_FILES``, measured like the scanner's). Findings are put back in check
order, so the report is the same as from one process; what the helper does not
deliver (it failed, it died) is run here, where a failure shows as it would
anyway.

``checked`` runs the rules the engine names on each nginx configuration alone (a view
of the workspace with that one), so that the findings of each configuration can be
kept between runs (``tlslint.results``); ``run_checks`` runs every rule once over the
whole workspace.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING

from tlslint import catalogue
from tlslint.checks import Check, RuleContext

if TYPE_CHECKING:
    from pathlib import Path

    from tlslint.filters import Filters
    from tlslint.findings import Finding
    from tlslint.forks import Helper
    from tlslint.settings import Settings
    from tlslint.workspace import Workspace

MIN_FILES = 200  # nginx files, below which the fork costs more than it saves
# Checks that share an index (``per_config``, ``links``): one group, run by one process.
# The upstream checks share the proxy targets, the upstreams' users and the Connection
# maps (about 0.2 s at 10,000 hosts, paid again by a process that ran one of them), and
# the backends' links: together about half of the checks' time on both generators, so
# the other process takes the rest.
FAMILIES = (
    ("NGX210", "NGX211", "NGX212", "NGX214", "NGX215", "BKD101", "BKD102", "BKD103"),
    ("NGX302", "NGX303"),
    ("NGX201", "NGX202", "NGX203"),
    ("NGX103", "NGX108"),
    ("NGX010", "NGX011", "NGX012"),
)
# Groups by their first code, dearest first (each check timed in one process on both
# generators' trees of 10,000 hosts): what is taken last should be short, so that
# neither process waits long for the other. Groups not named follow, in check order.
DEAREST = ("NGX210", "NGX302", "NGX201", "NGX401", "NGX103", "NGX107", "NGX010", "NGX304", "NGX101")


def groups(checks: list[Check]) -> list[list[Check]]:
    """The checks in groups (``FAMILIES``, else one each), dearest first."""
    family_of = {code: family[0] for family in FAMILIES for code in family}
    found: dict[str, list[Check]] = {}
    for check in checks:
        found.setdefault(family_of.get(check.code, check.code), []).append(check)
    rank = {code: position for position, code in enumerate(DEAREST)}
    return [found[key] for key in sorted(found, key=lambda key: rank.get(key, len(rank)))]


def run_checks(
    checks: list[Check], settings: Settings, workspace: Workspace, filters: Filters, *, files: int
) -> list[Finding]:
    """The kept findings of every check, in check order."""
    found = checked(checks, settings, workspace, filters, files=files)
    return [finding for check in checks for finding in found[(None, check.code)]]


# Whose findings: a configuration's (its index in ``workspace.nginx``) or the run's (None).
Key = tuple["int | None", str]


def checked(
    checks: list[Check],
    settings: Settings,
    workspace: Workspace,
    filters: Filters,
    *,
    files: int,
    per_config: Collection[str] = (),
    skip: Collection[int] = (),
) -> dict[Key, list[Finding]]:
    """The kept findings of every check: of those in ``per_config``, for each nginx
    configuration checked alone (but those in ``skip``), keyed by its index; of the
    others, for the whole workspace, keyed by None."""
    grouped = groups(checks)
    views = _views(workspace) if per_config else []
    work = partial(_run_group, settings=settings, workspace=workspace, filters=filters, views=views,
                   per_config=frozenset(per_config), skip=frozenset(skip))  # fmt: skip
    found: dict[Key, list[Finding]] = {}
    helper = queue = None
    # Which comment silenced which finding must be seen here when unused ones are reported.
    if files >= MIN_FILES and 1 < len(grouped) < 256 and not filters.tracks_usage:
        from tlslint import forks

        if forks.available_cpus() > 1 and forks.can_fork():
            for config in workspace.nginx:  # every nginx rule asks: inferred once, for both
                workspace.nginx_versions(config)
            queue = _queue(len(grouped))
            if queue is not None:
                helper = forks.Helper.start(partial(_pickled, grouped, queue, work))
    done: set[str] = set()
    try:
        for index in _taken(queue) if queue is not None else range(len(grouped)):
            found.update(work(grouped[index]))
            done.update(check.code for check in grouped[index])
        if helper is not None:
            # No group is left for this process: the indexes its checks shared go before
            # the helper's findings arrive (both at once were the run's peak of memory).
            # A check the helper does not deliver builds again what it needs.
            drop_indexes(workspace)
            # The helper's findings name files this process holds as Path objects already:
            # those, rather than 10,000 new ones at 10,000 hosts (half of the loading),
            # gathered before waiting, while the helper may still be working.
            known = {str(path): path for config in workspace.nginx for path in config.files}
            helper.drain(block=True)
            delivered = _unpickled(helper, known)
            found.update(delivered)
            done.update(code for _, code in delivered)
    finally:
        if queue is not None:
            os.close(queue)
        if helper is not None:
            helper.stop()
    missing = [check for check in checks if check.code not in done]  # not delivered: run here
    if missing:
        found.update(work(missing))
    return found


def drop_indexes(workspace: Workspace) -> None:
    """Forget what the checks indexed on each nginx configuration (``config.memo``), but
    the inferred versions, which fixes and reports ask again."""
    from tlslint.nginx_inference import INFERENCE_MEMO

    for config in workspace.nginx:
        config.memo = {key: value for key, value in config.memo.items() if key.startswith(INFERENCE_MEMO)}


def _views(workspace: Workspace) -> list[Workspace]:
    """The workspace with one nginx configuration each."""
    import dataclasses

    return [dataclasses.replace(workspace, nginx=[config]) for config in workspace.nginx]


def _run_group(
    group: list[Check],
    *,
    settings: Settings,
    workspace: Workspace,
    filters: Filters,
    views: list[Workspace],
    per_config: frozenset[str],
    skip: frozenset[int],
) -> dict[Key, list[Finding]]:
    found: dict[Key, list[Finding]] = {}
    for check in group:
        if check.code in per_config:
            # One context for every configuration: a tree of 3,000 files, each its own
            # configuration, built it 105,000 times (9 % of the run) when it was per view.
            context = _context(check, settings, filters)
            for index, view in enumerate(views):
                if index not in skip:
                    found[(index, check.code)] = _run(check, settings, view, filters, context)
        else:
            found[(None, check.code)] = _run(check, settings, workspace, filters)
    return found


def _queue(size: int) -> int | None:
    """A pipe holding one byte per group, its writing end closed: each ``os.read`` of
    one byte takes one group, in one process only; then the pipe reads empty."""
    try:
        reader, writer = os.pipe()
    except OSError:
        return None
    try:
        os.write(writer, bytes(range(size)))  # fewer than 256 bytes: one write, never partial
    finally:
        os.close(writer)
    return reader


def _taken(queue: int) -> Iterator[int]:
    while True:
        try:
            byte = os.read(queue, 1)
        except OSError:
            return
        if not byte:
            return
        yield byte[0]


def _context(check: Check, settings: Settings, filters: Filters) -> RuleContext:
    meta = catalogue.index()[check.code]
    options = {**meta.option_defaults(settings.profile), **settings.options_for(check.code)}
    return RuleContext(meta, options, settings, filters.keep)


def _run(
    check: Check,
    settings: Settings,
    workspace: Workspace,
    filters: Filters,
    context: RuleContext | None = None,
) -> list[Finding]:
    if context is None:
        context = _context(check, settings, filters)
    keep = filters.keep
    return [finding for finding in check.run(context, workspace) if keep(finding)]


def _pickled(
    grouped: list[list[Check]], queue: int, work: Callable[[list[Check]], dict[Key, list[Finding]]]
) -> Iterator[bytes]:
    """In the helper: the groups it takes from the queue, their checks' findings, in one
    message once the queue is empty. Not a message a group: this process drains the
    pipe between its own groups only, and a group's findings can fill it (a helper
    blocked on the pipe took no group for 0.17 s of 1.3 at 10,000 hosts)."""
    from tlslint import finding_codec

    found: dict[Key, list[Finding]] = {}
    for index in _taken(queue):
        found.update(work(grouped[index]))
    yield finding_codec.dumps(found)


def _unpickled(helper: Helper, known: Mapping[str, Path]) -> dict[Key, list[Finding]]:
    from tlslint import finding_codec

    delivered: dict[Key, list[Finding]] = {}
    for message in helper.messages():
        delivered.update(finding_codec.loads(message, known))
    return delivered
