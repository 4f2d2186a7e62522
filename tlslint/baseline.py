"""Baselines: adopt tlslint on a tree with old findings, and fail on new ones only.

``--write-baseline FILE`` records the findings of a run; ``--baseline FILE`` ignores
the findings recorded there. An entry is keyed on what survives unrelated edits: the
rule code, the file (a posix path relative to the base: the settings file's directory,
else the working directory) and the finding's structural path (``Finding.anchor``, the
message when a finding has none), never a line number. Each entry holds a count, so
two identical findings need two recorded ones. An entry that matches nothing any more
is *stale*: the run says so, and ``--write-baseline`` drops it. Only entries a run could
have matched are judged (their rule ran, their file was checked or is gone): writing over
a baseline keeps the others untouched, so that a run of some rules, or over some files,
refreshes their entries alone. An entry whose code names no rule is never judged: the
run warns about it. A finding that reports one cause for several places
(``Finding.covers``) also matches the entries of a baseline written when each place was a
finding of its own.

The file is JSON, sorted, one entry per key, so that it diffs well in review::

    {"version": 1,
     "tool": {"name": "tlslint", "version": "0.1.0"},
     "findings": [{"code": "NGX103", "path": "sites-enabled/api.conf",
                   "anchor": "server > ssl_session_cache[SSL]",
                   "message": "shared session cache ...", "count": 1}]}
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tlslint import __version__, catalogue
from tlslint.findings import BYTE_ORDER_MARK, UNPARSED, Finding, is_unsuppressible
from tlslint.paths import resolved
from tlslint.report.json_format import relative_path
from tlslint.settings import Settings

VERSION = 1
# The anchors of load errors only (findings.is_load_error): no entry with one is recorded.
DEAD_ANCHORS = frozenset({UNPARSED, BYTE_ORDER_MARK})
Key = tuple[str, str, str]  # code, relative path, anchor (or message)


class BaselineError(Exception):
    """A baseline file that cannot be used, worded for the user."""


@dataclass(frozen=True, slots=True)
class Entry:
    code: str
    path: str  # posix, relative to the base; absolute when outside it
    anchor: str
    message: str  # the key when there is no anchor; for readers otherwise
    count: int = 1

    @property
    def key(self) -> Key:
        return (self.code, self.path, self.anchor or self.message)


@dataclass
class Baseline:
    file: Path
    base: Path
    entries: dict[Key, Entry] = field(default_factory=dict)

    def __len__(self) -> int:
        return sum(entry.count for entry in self.entries.values())


@dataclass
class BaselineOutcome:
    """What a baseline did to one run."""

    file: Path
    matched: int = 0  # findings ignored because the baseline records them
    stale: list[Entry] = field(default_factory=list)  # count: how many went unmatched
    unknown: list[Entry] = field(default_factory=list)  # entries whose code names no rule
    recorded: int | None = None  # --write-baseline: the findings this run wrote to the file
    kept: int | None = None  # --write-baseline: entries of the file overwritten, kept unjudged


def base_for(settings: Settings) -> Path:
    """The directory baseline paths are relative to."""
    return settings.base if settings.source is not None else Path.cwd().resolve()


def recordable(finding: Finding) -> bool:
    """What did not load (a file that does not parse, a path named that does not exist, a
    build that does not render) is never hidden, by a baseline either: an entry for it
    would turn a run that did not check everything into "All checks passed"."""
    return not is_unsuppressible(finding)


def key_for(finding: Finding, base: Path) -> Key:
    return (finding.code, relative_path(finding.location.path, base), finding.anchor or finding.message)


def entries_for(findings: Iterable[Finding], base: Path) -> dict[Key, Entry]:
    entries: dict[Key, Entry] = {}
    for finding in findings:
        if not recordable(finding):
            continue
        key = key_for(finding, base)
        if key in entries:
            entries[key] = replace(entries[key], count=entries[key].count + 1)
        else:
            entries[key] = Entry(key[0], key[1], finding.anchor, finding.message)
    return entries


def dumps(entries: Iterable[Entry]) -> str:
    ordered = sorted(entries, key=lambda e: (e.path, e.code, e.anchor, e.message))
    document = {
        "version": VERSION,
        "tool": {"name": "tlslint", "version": __version__},
        "findings": [
            {"code": e.code, "path": e.path, "anchor": e.anchor, "message": e.message, "count": e.count}
            for e in ordered
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def write(file: Path, entries: dict[Key, Entry], base: Path) -> Baseline:
    """Record ``entries`` (see ``entries_for``, ``unjudged``); the file is replaced atomically."""
    text = dumps(entries.values())
    temporary = file.with_name(f".{file.name}.tlslint-tmp")
    try:
        temporary.write_text(text, encoding="utf-8", errors="surrogateescape")
        os.replace(temporary, file)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise BaselineError(f"{file}: cannot write the baseline: {error.strerror or error}") from None
    return Baseline(file, base, entries)


def load(file: Path, base: Path) -> Baseline:
    try:
        text = file.read_text(encoding="utf-8", errors="surrogateescape")
    except FileNotFoundError:
        raise BaselineError(f"{file}: baseline file not found (create it with --write-baseline)") from None
    except OSError as error:
        raise BaselineError(f"{file}: cannot read the baseline: {error.strerror or error}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BaselineError(f"{file}:{error.lineno}:{error.colno}: not JSON: {error.msg}") from None
    return Baseline(file, base, _entries(file, data))


def _entries(file: Path, data: Any) -> dict[Key, Entry]:
    if not isinstance(data, dict) or "version" not in data:
        raise BaselineError(f"{file}: not a tlslint baseline (no 'version' key)")
    if data["version"] != VERSION:
        raise BaselineError(
            f"{file}: baseline version {data['version']!r} is not supported "
            f"(this tlslint reads version {VERSION}); write it again with --write-baseline"
        )
    items = data.get("findings")
    if not isinstance(items, list):
        raise BaselineError(f"{file}: 'findings' must be a list")
    entries: dict[Key, Entry] = {}
    for number, item in enumerate(items):
        where = f"{file}: findings[{number}]"
        if not isinstance(item, dict):
            raise BaselineError(f"{where}: must be an object")
        for name in ("code", "path"):
            if not isinstance(item.get(name), str) or not item[name]:
                raise BaselineError(f"{where}: '{name}' must be a non-empty string")
        for name in ("anchor", "message"):
            if not isinstance(item.get(name, ""), str):
                raise BaselineError(f"{where}: '{name}' must be a string")
        count = item.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise BaselineError(f"{where}: 'count' must be a positive integer")
        entry = Entry(item["code"], item["path"], item.get("anchor", ""), item.get("message", ""), count)
        if not entry.key[2]:
            raise BaselineError(f"{where}: needs an 'anchor' or a 'message'")
        if entry.key in entries:
            entry = replace(entry, count=entries[entry.key].count + count)
        entries[entry.key] = entry
    return entries


Judge = Callable[[Entry], bool]  # whether a run could have found an entry's findings


def judge(base: Path, checked: frozenset[Path], rule_ran: Callable[[str], bool]) -> Judge:
    """Whether a run could have found an entry's findings: its code names a rule, the rule
    ran, and the entry's file is one the run checked (``checked``: resolved) or is gone."""
    rules = catalogue.index()

    def judged(entry: Entry) -> bool:
        if entry.code not in rules:
            return False
        # An entry for what did not load (written by a tlslint that recorded it) matches
        # nothing now: always stale, so that a refresh drops it.
        if entry.anchor in DEAD_ANCHORS:
            return True
        if not rule_ran(entry.code):
            return False
        path = entry_path(entry, base)
        return resolved(path) in checked or not path.exists()

    return judged


def unknown(entries: Iterable[Entry]) -> list[Entry]:
    """Entries whose code names no rule of this tlslint (a typo, a rule of another
    version): they match nothing and are never stale, and a run says so."""
    rules = catalogue.index()
    return [entry for entry in entries if entry.code not in rules]


def unjudged(previous: Baseline, entries: dict[Key, Entry], judged: Judge) -> list[Entry]:
    """The entries of ``previous`` that a run recording ``entries`` could not have judged:
    writing over ``previous`` keeps them as they are."""
    return [e for key, e in previous.entries.items() if key not in entries and not judged(e)]


def apply(
    baseline: Baseline, findings: list[Finding], judged: Judge
) -> tuple[list[Finding], BaselineOutcome]:
    """The findings the baseline does not record, and what it matched.

    Only entries ``judged`` (see ``judge``) can be stale.
    """
    remaining = {key: entry.count for key, entry in baseline.entries.items()}
    outcome = BaselineOutcome(baseline.file, unknown=unknown(baseline.entries.values()))
    kept = []
    for finding in findings:
        key = key_for(finding, baseline.base) if recordable(finding) else None
        if key is not None and remaining.get(key, 0) > 0:
            remaining[key] -= 1
            outcome.matched += 1
        elif key is not None and _matches_covered(finding, baseline.base, remaining):
            outcome.matched += 1
        else:
            kept.append(finding)
    outcome.stale = [
        replace(entry, count=remaining[key])
        for key, entry in baseline.entries.items()
        if remaining[key] > 0 and judged(entry)
    ]
    return kept, outcome


def _matches_covered(finding: Finding, base: Path, remaining: dict[Key, int]) -> bool:
    """A finding for one cause matches a baseline written when each place it covers was
    a finding of its own: the same cause was recorded, at one place or more. The entries
    it matches are used up, so none of them is reported stale."""
    covered = [(finding.code, relative_path(path, base), anchor) for path, anchor in finding.covers]
    hits = [key for key in dict.fromkeys(covered) if remaining.get(key, 0) > 0]
    for key in hits:
        remaining[key] = max(0, remaining[key] - covered.count(key))
    return bool(hits)


def entry_path(entry: Entry, base: Path) -> Path:
    path = Path(entry.path)
    return path if path.is_absolute() else base / path
