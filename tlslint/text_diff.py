"""Unified diffs of a fixed file that stay fast on files of thousands of lines.

difflib's matcher is quadratic on a long file whose lines repeat (3,000 servers that
differ only in their names: 35 s for one `--diff`). A fix changes a few lines between
long identical stretches, so the file is aligned first on the lines that occur exactly
once on each side (in order: a longest increasing run of them, found in n log n), and
difflib matches only the short stretches between two such anchors. Small files keep
difflib's own alignment; the output format is the same unified format either way.
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence

LARGE = 2_000  # lines on both sides together, from which the anchored alignment is used
CONTEXT = 3


def unified_lines(before: list[str], after: list[str], fromfile: str, tofile: str) -> Iterator[str]:
    """The lines of a unified diff (``---``, ``+++``, hunks), each ending as its text does."""
    if len(before) + len(after) < LARGE:
        yield from difflib.unified_diff(before, after, fromfile=fromfile, tofile=tofile)
        return
    matcher = _AnchoredMatcher(before, after)
    first = True
    for group in matcher.get_grouped_opcodes(CONTEXT):
        if first:
            first = False
            yield f"--- {fromfile}\n"
            yield f"+++ {tofile}\n"
        old = _hunk_range(group[0][1], group[-1][2])
        new = _hunk_range(group[0][3], group[-1][4])
        yield f"@@ -{old} +{new} @@\n"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (" " + line for line in before[i1:i2])
                continue
            yield from ("-" + line for line in before[i1:i2])
            yield from ("+" + line for line in after[j1:j2])


def _hunk_range(start: int, stop: int) -> str:
    """``start,length`` as unified diffs write it (1-based; an empty range names the line before)."""
    length = stop - start
    if length == 1:
        return str(start + 1)
    return f"{start + 1 if length else start},{length}"


class _AnchoredMatcher(difflib.SequenceMatcher):  # type: ignore[type-arg]
    """difflib's opcodes and grouping over matching blocks found by anchoring."""

    def __init__(self, a: Sequence[str], b: Sequence[str]) -> None:
        super().__init__(None, a, b, autojunk=False)
        self._lines = (a, b)
        self._blocks: list[difflib.Match] | None = None

    def get_matching_blocks(self) -> list[difflib.Match]:
        if self._blocks is None:
            self._blocks = _matching_blocks(*self._lines)
        return self._blocks


def _matching_blocks(a: Sequence[str], b: Sequence[str]) -> list[difflib.Match]:
    blocks: list[tuple[int, int, int]] = []
    i0 = j0 = 0
    for i, j in [*_anchors(a, b), (len(a), len(b))]:
        if i > i0 and j > j0:  # the stretch between two anchors: short, so difflib
            stretch = difflib.SequenceMatcher(None, a[i0:i], b[j0:j])
            blocks.extend((i0 + x, j0 + y, n) for x, y, n in stretch.get_matching_blocks() if n)
        if i < len(a):
            blocks.append((i, j, 1))
        i0, j0 = i + 1, j + 1
    merged: list[tuple[int, int, int]] = []
    for i, j, n in blocks:
        if merged and merged[-1][0] + merged[-1][2] == i and merged[-1][1] + merged[-1][2] == j:
            merged[-1] = (merged[-1][0], merged[-1][1], merged[-1][2] + n)
        else:
            merged.append((i, j, n))
    return [difflib.Match(*m) for m in merged] + [difflib.Match(len(a), len(b), 0)]


def _anchors(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """Pairs (i, j) of lines unique on both sides, the longest run increasing in both."""
    in_a, in_b = Counter(a), Counter(b)
    where_b = {line: j for j, line in enumerate(b) if in_b[line] == 1}
    pairs = [(i, where_b[line]) for i, line in enumerate(a) if in_a[line] == 1 and line in where_b]
    # Longest increasing subsequence by j (patience sorting), keeping back-links.
    tails: list[int] = []  # j of the smallest tail of each length
    tail_at: list[int] = []  # index into pairs of that tail
    back: list[int] = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        k = bisect_left(tails, j)
        if k == len(tails):
            tails.append(j)
            tail_at.append(index)
        else:
            tails[k] = j
            tail_at[k] = index
        back[index] = tail_at[k - 1] if k else -1
    run: list[tuple[int, int]] = []
    index = tail_at[-1] if tail_at else -1
    while index >= 0:
        run.append(pairs[index])
        index = back[index]
    return run[::-1]
