"""Findings as bytes and back, for the results cache and the checks' helper process.

pickle alone spends about 27 µs a finding here (11,035 findings of the realistic tree
of 10,000 hosts, minima of 5: 0.31 s to dump, 0.28 s to load; flattened, 0.12 and 0.15 s):
each frozen slotted dataclass goes
through ``dataclasses._dataclass_getstate`` (a ``fields()`` call an object) and each
``Path`` is rebuilt from its parts. Findings are flattened here into tuples of strings
and ints, with one table of the paths they name, which pickle handles in C; rebuilding
the objects is the only Python work left.

Equal texts and equal lists of related places are flattened to one object each, which
pickle writes once and loads as one (the 4,520 findings the checks' helper sends at
10,000 hosts hold 8 messages, 4 notes and 5 lists of related places: 3.8 MB were 2.1 MB,
and the lists are rebuilt once each). A reader that holds the paths already (the process
that forked the helper) passes them to :func:`loads`: rebuilding 10,000 ``Path`` objects
from text was half of the loading.
"""

from __future__ import annotations

import pickle
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from tlslint.findings import Edit, Finding, Fix, Location, Related, Severity, YamlExpect

K = TypeVar("K", bound=Hashable)

_VERSION = 4  # bumped when the layout below changes: an old payload is a miss

# The flat forms (positions in the path table stand for paths).
_Loc = tuple[int, int, int, int, int]
_FixRow = tuple[str, tuple[tuple[int, int, int, str, tuple[Any, ...] | None], ...], bool, tuple[str, ...]]
_Row = tuple[
    str,
    str,
    int,
    str,
    _Loc,
    tuple[tuple[_Loc, str], ...],
    "_FixRow | None",
    str,
    str,
    tuple[tuple[int, str], ...],
]


class _Paths:
    """Positions in the path table; by object first (hashing a Path is slow, and findings
    share their file's Path object), then by text."""

    def __init__(self) -> None:
        self.by_id: dict[int, int] = {}
        self.index: dict[str, int] = {}

    def __call__(self, path: Path) -> int:
        found = self.by_id.get(id(path))
        if found is None:
            found = self.by_id[id(path)] = self.index.setdefault(str(path), len(self.index))
        return found


def dumps(found: Mapping[K, list[Finding]]) -> bytes:
    """``found`` (any picklable keys) as bytes for :func:`loads`."""
    paths = _Paths()
    rows: dict[int, _Row] = {}  # by id: a finding shared by several lists is flattened once
    # Equal texts and lists of related places, each as one object (see the docstring).
    same: dict[Any, Any] = {}
    once = same.setdefault
    by_id = paths.by_id  # asked inline: a call a place was a sixth of the flattening

    def loc(location: Location) -> _Loc:
        path = location.path
        at = by_id.get(id(path))
        return (
            paths(path) if at is None else at,
            location.line,
            location.column,
            location.end_line,
            location.end_column,
        )

    def related(places: tuple[Related, ...]) -> tuple[tuple[_Loc, str], ...]:
        if not places:
            return ()
        flat = tuple((loc(r.location), once(r.message, r.message)) for r in places)
        return once(flat, flat)  # type: ignore[no-any-return]

    def row(finding: Finding) -> _Row:
        flat = rows.get(id(finding))
        if flat is None:
            fix = finding.fix
            flat = rows[id(finding)] = (
                finding.code,
                finding.name,
                int(finding.severity),
                once(finding.message, finding.message),
                loc(finding.location),
                related(finding.related),
                None
                if fix is None
                else (
                    once(fix.description, fix.description),
                    tuple(
                        (paths(e.path), e.start, e.end, once(e.replacement, e.replacement), _expect(e.expect))
                        for e in fix.edits
                    ),
                    fix.safe,
                    fix.brings,
                ),
                once(finding.anchor, finding.anchor),
                once(finding.fix_note, finding.fix_note),
                tuple((paths(path), anchor) for path, anchor in finding.covers),  # each its own
            )
        return flat

    body = [(key, [row(finding) for finding in findings]) for key, findings in found.items()]
    table = list(paths.index)
    return pickle.dumps((_VERSION, table, body), protocol=pickle.HIGHEST_PROTOCOL)


def loads(payload: bytes | memoryview, known: Mapping[str, Path] | None = None) -> dict[K, list[Finding]]:
    """What :func:`dumps` was given; ValueError when the payload is not its output.
    A path whose text is in ``known`` is that object, not a new one."""
    version, table, body = pickle.loads(payload)
    if version != _VERSION:
        raise ValueError(f"findings payload of layout {version}, not {_VERSION}")
    known = known or {}
    paths = [known.get(text) or Path(text) for text in table]
    severities = {int(s): s for s in Severity}
    built: dict[int, Finding] = {}  # by id of the row: pickle kept shared rows shared
    relateds: dict[int, tuple[Related, ...]] = {}  # by id too: dumps shares equal ones

    def places(flat: tuple[tuple[_Loc, str], ...]) -> tuple[Related, ...]:
        made = relateds[id(flat)] = tuple(
            Related(Location(paths[p], line, column, end_line, end_column), said)
            for (p, line, column, end_line, end_column), said in flat
        )
        return made

    def finding(flat: _Row) -> Finding:
        made = built.get(id(flat))
        if made is None:
            code, name, severity, message, where, related, fix, anchor, note, covers = flat
            p, line, column, end_line, end_column = where
            made = built[id(flat)] = Finding(
                code,
                name,
                severities[severity],
                message,
                Location(paths[p], line, column, end_line, end_column),
                (relateds.get(id(related)) or places(related)) if related else (),
                None
                if fix is None
                else Fix(
                    fix[0],
                    tuple(Edit(paths[p], s, e, r, _unexpect(x)) for p, s, e, r, x in fix[1]),
                    fix[2],
                    fix[3],
                ),
                anchor,
                note,
                tuple((paths[p], a) for p, a in covers),
            )
        return made

    return {key: [finding(flat) for flat in rows] for key, rows in body}


def _expect(expect: YamlExpect | None) -> tuple[Any, ...] | None:
    """A YAML edit's expectation as plain data (``fixing`` checks it on cached findings too)."""
    if expect is None:
        return None
    return (expect.value_at, expect.value, expect.key, expect.keys, expect.items, expect.index)


def _unexpect(flat: tuple[Any, ...] | None) -> YamlExpect | None:
    return None if flat is None else YamlExpect(*flat)
