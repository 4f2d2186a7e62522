"""What checks produce: findings with exact locations and optional fixes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

# The anchor of a finding about a file that could not be read or parsed at all
# (any format): the run exits 2 for it.
UNPARSED = "unparsed"

# Loading problems are findings too, so every format reports them alike.
PARSE_ERROR = "NGX001"
INCLUDE_NOT_FOUND = "NGX002"
INCLUDE_LOOP = "NGX003"
LOAD_CODES = frozenset({PARSE_ERROR, INCLUDE_NOT_FOUND, INCLUDE_LOOP})
UNWRITTEN_FIX = "SRC002"  # --fix could not write a file: its findings stand, exit 2
# The anchor of NGX010's finding on an nginx file that starts with a UTF-8 byte-order
# mark: tlslint reads past it, nginx does not load the file (unknown directive
# "\ufeffhttp"). A load error: exit 2, and --fix never writes the file.
BYTE_ORDER_MARK = "byte-order-mark"
# The rules whose findings can be load errors (is_load_error), for --show-settings and
# the docs. APG201 and GW002 are load errors for YAML that does not load, not for a schema
# violation in YAML that does; SRC001 for a path named, not for one a walk found; NGX010
# for a byte-order mark, not for an unknown directive.
LOADING_RULES = (
    "NGX001", "NGX002", "NGX003", "NGX010", "APG201", "GW002", "BKD001", "RND001", "SRC001", "SRC002",
)  # fmt: skip


class Severity(IntEnum):
    INFO = 0
    WARNING = 1
    ERROR = 2

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding points: a file, and a region in it (1-based lines and columns)."""

    path: Path
    line: int  # 1-based; 0 when the problem is the file as a whole
    column: int = 1  # 1-based, in characters
    end_line: int = 0  # 0: unknown
    end_column: int = 0  # exclusive: the column just past the region


@dataclass(frozen=True, slots=True)
class YamlExpect:
    """What a YAML edit must leave, checked on the re-parsed text before anything is written:
    the value written reads as ``value`` where it was meant to go. A text edit at the wrong
    offset can still parse (a value pasted in front of the next key renames that key)."""

    value_at: int  # where, in the edit's replacement, the value's text begins
    value: str  # the value's YAML text
    key: str | None  # the mapping key that must hold it; None: the last item of a list
    keys: tuple[str | None, ...] = ()  # that mapping's keys after the edit, in order
    items: int = 0  # or that list's length after the edit
    index: int = 0  # and the value's place in it


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace text[start:end] of ``path`` (offsets into the decoded text)."""

    path: Path
    start: int
    end: int
    replacement: str
    # Not part of the edit's identity: two fixes writing the same text are one edit.
    expect: YamlExpect | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Fix:
    """Text edits that resolve a finding; ``safe`` ones are applied by ``--fix``."""

    description: str
    edits: tuple[Edit, ...]
    safe: bool = True
    # Rules whose findings the fix brings into play, which its description names
    # (NGX201's keep-alive turned on makes keepalive_requests count: NGX203): --fix
    # does not report them as having appeared after it.
    brings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Related:
    """Another place that explains a finding (the directive it conflicts with, say)."""

    location: Location
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict on one place, with its fix if there is one."""

    code: str
    name: str
    severity: Severity
    message: str
    location: Location
    related: tuple[Related, ...] = ()
    fix: Fix | None = None
    # Structural path for baselines and fingerprints,
    # e.g. "http > server[api.example.com:443] > ssl_session_cache".
    anchor: str = ""
    fix_note: str = field(default="", compare=False)  # why there is no fix, or a hint
    # One finding for one cause that affects several places (a missing http-level line,
    # say): the (file, anchor) of each place, which earlier versions reported one by one;
    # baselines that recorded those still match (tlslint.checks._causes).
    covers: tuple[tuple[Path, str], ...] = field(default=(), compare=False)

    @property
    def places(self) -> int:
        """How many places the finding stands for (``--statistics``)."""
        return len(self.covers) or 1

    def sort_key(self) -> tuple[str, int, int, str]:
        return (str(self.location.path), self.location.line, self.location.column, self.code)

    def anchored(self, anchor: str) -> Finding:
        """This finding with another anchor (``dataclasses.replace`` costs twice as much,
        asked for each of 10,000 servers sharing one cause)."""
        return Finding(
            self.code, self.name, self.severity, self.message, self.location,
            self.related, self.fix, anchor, self.fix_note, self.covers,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class RuleCount:
    """How often one rule fired in a run (``--statistics``)."""

    code: str
    name: str
    count: int
    fixable: int  # of them, how many carry a fix
    places: int  # the places they stand for: a finding per cause may cover several


def rule_counts(findings: list[Finding]) -> list[RuleCount]:
    """Findings counted per rule, most frequent first, then by code."""
    counts: dict[tuple[str, str], list[int]] = {}
    for finding in findings:
        tally = counts.setdefault((finding.code, finding.name), [0, 0, 0])
        tally[0] += 1
        tally[1] += finding.fix is not None
        tally[2] += finding.places
    ordered = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
    return [RuleCount(code, name, *tally) for (code, name), tally in ordered]


def is_load_error(finding: Finding) -> bool:
    """A file or path that did not load, in any format, or a fix not written: the run
    exits 2 for it (docs/exit-codes.md), and no selection hides it. Loaders of other
    formats mark theirs ``UNPARSED``."""
    return (
        finding.code in LOAD_CODES
        or finding.code == UNWRITTEN_FIX
        or finding.anchor == UNPARSED
        or finding.anchor == BYTE_ORDER_MARK
    )


def is_unsuppressible(finding: Finding) -> bool:
    """A load error (``is_load_error``) that nothing hides: no baseline records it, and no
    per-file-ignores, ``ignore`` or suppression comment silences it, so that a run that did
    not check everything never reads "All checks passed". A missing include (NGX002) is
    the exception: the file may be provided at deploy time (docs/usage.md#baselines)."""
    return finding.code != INCLUDE_NOT_FOUND and is_load_error(finding)
