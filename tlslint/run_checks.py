"""Running the checks over a workspace: on a large tree, a family of them in a fork.

Checks are pure functions of the workspace, so a forked helper that starts
with the workspace already built can run some while this process runs the
others; only findings travel back (pickled). The helper takes the upstream
checks (NGX210-214): they share one index (upstream users), built once there,
and cost about what all the others cost together (45 and 46 ms at 1,000
servers, one process). Each side runs slower than alone, since a forked
process copies every page it first writes to (refcounts), so the split pays
from a few hundred files (``MIN_FILES``, measured like the scanner's).
Findings are put back in check order, so the report is the same as from one
process; what the helper does not deliver (it failed, it died) is run here,
where a failure shows as it would anyway.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING

from tlslint import catalogue
from tlslint.checks import Check, RuleContext

if TYPE_CHECKING:
    from tlslint.filters import Filters
    from tlslint.findings import Finding
    from tlslint.forks import Helper
    from tlslint.settings import Settings
    from tlslint.workspace import Workspace

MIN_FILES = 200  # nginx files, below which the fork costs more than it saves
HELPER_FAMILY = "NGX21"


def run_checks(
    checks: list[Check], settings: Settings, workspace: Workspace, filters: Filters, *, files: int
) -> list[Finding]:
    """The kept findings of every check, in check order."""
    theirs = [check for check in checks if check.code.startswith(HELPER_FAMILY)]
    helper = None
    # Which comment silenced which finding must be seen here when unused ones are reported.
    if files >= MIN_FILES and theirs and len(theirs) < len(checks) and not filters.tracks_usage:
        from tlslint import forks

        if forks.available_cpus() > 1 and forks.can_fork():
            helper = forks.Helper.start(partial(_pickled, theirs, settings, workspace, filters))
    found: dict[str, list[Finding]] = {}
    try:
        for check in checks:
            if helper is None or not check.code.startswith(HELPER_FAMILY):
                found[check.code] = _run(check, settings, workspace, filters)
        if helper is not None:
            helper.drain(block=True)
            found.update(_unpickled(helper))
    finally:
        if helper is not None:
            helper.stop()
    for check in theirs:  # not delivered: run here
        if check.code not in found:
            found[check.code] = _run(check, settings, workspace, filters)
    return [finding for check in checks for finding in found[check.code]]


def _run(check: Check, settings: Settings, workspace: Workspace, filters: Filters) -> list[Finding]:
    meta = catalogue.index()[check.code]
    options = {**meta.option_defaults(settings.profile), **settings.options_for(check.code)}
    context = RuleContext(meta, options, settings, filters.keep)
    return [finding for finding in check.run(context, workspace) if filters.keep(finding)]


def _pickled(
    checks: list[Check], settings: Settings, workspace: Workspace, filters: Filters
) -> Iterator[bytes]:
    """In the helper: one message with every check's findings, by code."""
    import pickle

    yield pickle.dumps({check.code: _run(check, settings, workspace, filters) for check in checks})


def _unpickled(helper: Helper) -> dict[str, list[Finding]]:
    import pickle

    for message in helper.messages():
        delivered: dict[str, list[Finding]] = pickle.loads(message)
        return delivered
    return {}
