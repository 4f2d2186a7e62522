"""Inline suppression comments, read from nginx, YAML and Python files (imported by
``tlslint.filters`` only for a file that has one).

``# tlslint: disable=CODES [REASON]`` on a line (or alone on the line above it), and
``# tlslint: disable-file=CODES [REASON]`` anywhere in a file. CODES are rule codes
(any case), rule names or ``ALL``, separated by commas or spaces; the reason is the
rest, after ``--`` or simply after the last code, as in ruff's ``# noqa: X -- why``::

    # tlslint: disable=NGX104 because legacy clients
    # tlslint: disable=NGX104 NGX101 -- reviewed in INC-1234
    # tlslint: disable=NGX104, ssl-session-cache-missing: shared with the old cluster

The first word, and a word after a comma, is always read as a code (a typo is then an
unknown code, said on stderr, not silently part of the reason); after a space, only a
word shaped like a code (``NGX104``) or a rule's name continues the list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tlslint import catalogue
from tlslint.filters import UNUSED_SUPPRESSION
from tlslint.findings import Finding, Location

# ``# TLSLINT: DISABLE=...`` too, as ruff takes its noqa comments in capitals.
COMMENT_RE = re.compile(r"#\s*tlslint:\s*(disable-file|disable)\s*=[ \t]*([^\r\n]*)", re.IGNORECASE)
# A comment addressed to tlslint: one that is not a suppression is said (ruff warns of an
# invalid noqa comment), not silently read as nothing.
ADDRESSED_RE = re.compile(r"#\s*tlslint\s*:", re.IGNORECASE)
_WORD = re.compile(r"[ \t]*(?:(,)[ \t,]*)?([\w-]+)")
_CODE_SHAPE = re.compile(r"[A-Za-z]{2,3}\d{3}")
ALL = "ALL"


@dataclass(eq=False)
class Suppression:
    """One comment: what it names, and where."""

    path: Path
    line: int
    column: int  # of the '#'
    whole_file: bool
    codes: tuple[str, ...]  # known: rule codes (upper case), rule names, ALL
    unknown: tuple[str, ...]  # words read as codes that name no rule
    reason: str
    text: str  # the comment from '#', for messages
    alone: bool = False  # alone on its line: it covers the line below too
    malformed: bool = False  # addressed to tlslint, but no suppression: it silences nothing


@dataclass
class FileSuppressions:
    """A file's suppression comments, by the lines they cover."""

    entries: list[Suppression] = field(default_factory=list)
    whole_file: list[Suppression] = field(default_factory=list)
    by_line: dict[int, list[Suppression]] = field(default_factory=dict)
    malformed: list[Suppression] = field(default_factory=list)

    def add(self, suppression: Suppression, alone: bool) -> None:
        """Record a comment; one alone on its line also covers the line below it."""
        if suppression.malformed:
            self.malformed.append(suppression)
            return
        self.entries.append(suppression)
        suppression.alone = alone
        if suppression.whole_file:
            self.whole_file.append(suppression)
            return
        for line in (suppression.line, suppression.line + 1) if alone else (suppression.line,):
            self.by_line.setdefault(line, []).append(suppression)

    def matching(self, code: str, name: str, line: int) -> list[tuple[Suppression, str]]:
        """The comments that silence ``code`` at ``line``, each with the word that does."""
        # ALL does not silence the report that a comment silences nothing (its own, say).
        wanted = (code, name) if code == UNUSED_SUPPRESSION else (code, name, ALL)
        found = []
        for suppression in (*self.by_line.get(line, ()), *self.whole_file):
            for word in suppression.codes:
                if word in wanted:
                    found.append((suppression, word))
        return found


def parse(path: Path, text: str, line: int, column: int) -> Suppression | None:
    """The suppression in comment ``text`` (from its '#'), or None if it holds none; one
    marked ``malformed`` where the comment is addressed to tlslint in another form."""
    match = COMMENT_RE.search(text)
    if match is None:
        addressed = ADDRESSED_RE.search(text)
        if addressed is None:
            return None
        start = addressed.start()
        comment = text[start:].rstrip()
        return Suppression(path, line, column + start, False, (), (), "", comment, malformed=True)
    codes, unknown, reason = read_codes(match.group(2))
    start = match.start()
    return Suppression(
        path,
        line,
        column + start,
        match.group(1).lower() == "disable-file",
        tuple(codes),
        tuple(unknown),
        reason,
        text[start:].rstrip(),
    )


def read_codes(text: str) -> tuple[list[str], list[str], str]:
    """Known codes, unknown codes and the reason, from the text after ``disable=``."""
    known_codes, names = _known()
    codes: list[str] = []
    unknown: list[str] = []
    position = 0
    expect_code = True  # at the start and after a comma
    while True:
        match = _WORD.match(text, position)
        if match is None:
            break
        word = match.group(2)
        if word.startswith("--"):
            break  # `-- reason`
        expect_code = expect_code or match.group(1) is not None
        canonical = _canonical(word, expect_code)
        is_known = canonical == ALL or canonical in known_codes or canonical in names
        if not (expect_code or is_known or _CODE_SHAPE.fullmatch(word)):
            break  # the reason begins
        (codes if is_known else unknown).append(canonical)
        expect_code = False
        position = match.end()
    reason = text[position:].strip().lstrip("-:;,. \t").strip()
    return codes, unknown, reason


def _canonical(word: str, expect_code: bool) -> str:
    if _CODE_SHAPE.fullmatch(word):
        return word.upper()
    if word.upper() == ALL and (expect_code or word == ALL):
        return ALL
    return word


@lru_cache(maxsize=1)
def _known() -> tuple[frozenset[str], frozenset[str]]:
    index = catalogue.index()
    return frozenset(index), frozenset(meta.name for meta in index.values())


def code_of(word: str) -> str | None:
    """The rule code a known word names (None for ALL)."""
    if word == ALL:
        return None
    index = catalogue.index()
    if word in index:
        return word
    return next(code for code, meta in index.items() if meta.name == word)


def unused_findings(meta: catalogue.RuleMeta, unused: list[tuple[Suppression, list[str]]]) -> list[Finding]:
    """TLS001 unused-suppression: one finding per comment, naming its idle words."""
    findings = []
    for suppression, words in unused:
        known = [word for word in words if word not in suppression.unknown]
        parts = []
        if known:
            where = (
                "in this file"
                if suppression.whole_file
                else "on its line or the next"
                if suppression.alone
                else "on its line"
            )
            parts.append(f"{_listed(known)} silenced nothing {where}")
        if suppression.unknown:
            unknown = list(suppression.unknown)
            parts.append(f"{_listed(unknown)} name{'s' if len(unknown) == 1 else ''} no rule")
        message = f"unused suppression `{suppression.text}`: {'; '.join(parts)}"
        location = Location(suppression.path, suppression.line, suppression.column)
        anchor = f"suppression[{' '.join(words)}]"
        findings.append(Finding(meta.code, meta.name, meta.severity, message, location, anchor=anchor))
    return findings


def unknown_code_warnings(unknown: list[tuple[Suppression, str]]) -> list[tuple[Location, str]]:
    """What to say on stderr, in every run, about words that name no rule."""
    return [
        (
            Location(suppression.path, suppression.line, suppression.column),
            f"unknown rule code '{word}' in `{suppression.text}`: it silences nothing",
        )
        for suppression, word in unknown
    ]


def malformed_warnings(malformed: list[Suppression]) -> list[tuple[Location, str]]:
    """What to say on stderr, in every run, about comments to tlslint that suppress nothing."""
    return [
        (
            Location(suppression.path, suppression.line, suppression.column),
            f"`{suppression.text}` is not a suppression comment: it silences nothing "
            "(write `# tlslint: disable=CODES` or `# tlslint: disable-file=CODES`)",
        )
        for suppression in malformed
    ]


def _listed(words: list[str]) -> str:
    return ", ".join(f"`{word}`" for word in words)
