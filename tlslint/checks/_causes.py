"""One finding per cause: a missing http-level line that affects 19 servers is one
finding, at the place its fix goes, not 19.

A check builds the finding each place would get alone, with the key of its cause
(usually the fix: places that one edit fixes share a cause), and hands them to
``one_per_cause``. A cause with one place keeps that place's finding; a cause with
several becomes one finding at ``where``, with the check's wording for all of them,
each place as a related location, and ``covers`` naming the places, so that baselines
written when each place was a finding of its own still match (tlslint.baseline).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from tlslint.findings import Edit, Finding, Fix, Location, Related


@dataclass(frozen=True)
class Place:
    """The finding one affected place would get alone, and what its cause is."""

    cause: Hashable
    finding: Finding
    note: str  # what the related location says about the place: "TLS server[a@*:443]"
    detail: Any = None  # what the check's wording of the cause needs to know of the place
    # Where the related location points, when not at the place's finding: places whose
    # findings all sit on the line they share (a server inheriting an http-level line)
    # are shown at each server.
    at: Location | None = None


@dataclass(frozen=True)
class Cause:
    """How a cause with several places is reported."""

    where: Location
    message: str
    anchor: str


def fix_key(finding: Finding) -> Hashable:
    """The cause of places that one fix resolves: its edits; a place without a fix is
    its own cause."""
    if finding.fix is None or not finding.fix.edits:
        return ("alone", finding.location, finding.anchor)
    return ("fix", finding.fix.edits)


def one_per_cause(
    places: Iterable[Place], describe: Callable[[list[Place]], Cause], keep: Callable[[Finding], bool]
) -> Iterator[Finding]:
    """The findings for ``places``: one per cause, in the order causes first appear.

    A place the user suppressed (``keep``: a comment on its line, a per-file ignore) is
    left out of its cause; the finding for the cause is then filtered like any other.
    """
    groups: dict[Hashable, list[Place]] = {}
    for place in places:
        if keep(place.finding):
            groups.setdefault(place.cause, []).append(place)
    for members in groups.values():
        if len(members) == 1:
            yield members[0].finding
        else:
            yield merged(members, describe(members))


def merged(members: list[Place], cause: Cause) -> Finding:
    first = members[0].finding
    # In order, each once (a dict, not a scan: a cause may have 10,000 places).
    related = dict.fromkeys(Related(place.at or place.finding.location, place.note) for place in members)
    for place in members:
        related.update(dict.fromkeys(place.finding.related))
    return replace(
        first,
        fix=_one_fix([place.finding.fix for place in members]),
        severity=max(place.finding.severity for place in members),
        message=cause.message,
        location=cause.where,
        related=tuple(related),
        anchor=cause.anchor,
        covers=tuple((place.finding.location.path, place.finding.anchor) for place in members),
    )


def _one_fix(fixes: list[Fix | None]) -> Fix | None:
    """The places' fix: the same one (a cause keyed on its fix), or their edits together."""
    present = [fix for fix in fixes if fix is not None]
    if not present or all(fix == present[0] for fix in present):
        return present[0] if present else None
    edits: dict[Edit, None] = {}
    for fix in present:
        edits.update(dict.fromkeys(fix.edits))
    descriptions = list(dict.fromkeys(fix.description for fix in present))
    return Fix("; ".join(descriptions), tuple(edits), all(fix.safe for fix in present))
