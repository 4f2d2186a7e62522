"""Findings as bytes and back, for the results cache and the checks' helper process.

pickle alone spends about 27 µs a finding here (11,035 findings of the realistic tree
of 10,000 hosts, minima of 5: 0.31 s to dump, 0.28 s to load; flattened, 0.12 and 0.15 s):
each frozen slotted dataclass goes
through ``dataclasses._dataclass_getstate`` (a ``fields()`` call an object) and each
``Path`` is rebuilt from its parts. Findings are flattened here into tuples of strings
and ints, with one table of the paths they name, which pickle handles in C; rebuilding
the objects is the only Python work left.
"""

from __future__ import annotations

import pickle
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from tlslint.findings import Edit, Finding, Fix, Location, Related, Severity, YamlExpect

K = TypeVar("K", bound=Hashable)

_VERSION = 3  # bumped when the layout below changes: an old payload is a miss

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

    def loc(location: Location) -> _Loc:
        return (
            paths(location.path),
            location.line,
            location.column,
            location.end_line,
            location.end_column,
        )

    def row(finding: Finding) -> _Row:
        flat = rows.get(id(finding))
        if flat is None:
            fix = finding.fix
            flat = rows[id(finding)] = (
                finding.code,
                finding.name,
                int(finding.severity),
                finding.message,
                loc(finding.location),
                tuple((loc(r.location), r.message) for r in finding.related),
                None
                if fix is None
                else (
                    fix.description,
                    tuple(
                        (paths(e.path), e.start, e.end, e.replacement, _expect(e.expect)) for e in fix.edits
                    ),
                    fix.safe,
                    fix.brings,
                ),
                finding.anchor,
                finding.fix_note,
                tuple((paths(path), anchor) for path, anchor in finding.covers),
            )
        return flat

    body = [(key, [row(finding) for finding in findings]) for key, findings in found.items()]
    table = list(paths.index)
    return pickle.dumps((_VERSION, table, body), protocol=pickle.HIGHEST_PROTOCOL)


def loads(payload: bytes | memoryview) -> dict[K, list[Finding]]:
    """What :func:`dumps` was given; ValueError when the payload is not its output."""
    version, table, body = pickle.loads(payload)
    if version != _VERSION:
        raise ValueError(f"findings payload of layout {version}, not {_VERSION}")
    paths = [Path(text) for text in table]
    severities = {int(s): s for s in Severity}
    built: dict[int, Finding] = {}  # by id of the row: pickle kept shared rows shared

    def loc(flat: _Loc) -> Location:
        return Location(paths[flat[0]], flat[1], flat[2], flat[3], flat[4])

    def finding(flat: _Row) -> Finding:
        made = built.get(id(flat))
        if made is None:
            code, name, severity, message, where, related, fix, anchor, note, covers = flat
            made = built[id(flat)] = Finding(
                code,
                name,
                severities[severity],
                message,
                loc(where),
                tuple(Related(loc(at), said) for at, said in related),
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
