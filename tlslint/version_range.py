"""A range of nginx versions and the evidence for each of its bounds.

The rules ask "is nginx at least X here?" (``at_least``). The answer comes from a
range: one release when ``nginx.version`` is set (or a deployment file pins one),
a series for an image tag like ``nginx:1.25``, what the configuration's own
directives prove (``tlslint.nginx_inference``), or nothing. Each bound keeps
the evidence that set it, so that a rule can say why it decided:
"nginx ≥ 1.25.1 (inferred: `http2 on` at nginx.conf:278)".
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.nginx_versions import OLDEST_SUPPORTED, Version, format_version

if TYPE_CHECKING:
    from tlslint.nginx_history import VersionSpan
    from tlslint.sources.nginx.model import Directive

SETTING, DEPLOYMENT, DIRECTIVE = "setting", "deployment", "directive"
UNKNOWN_VERSION = "nginx.version is not configured"


@dataclass(frozen=True, eq=False)
class Evidence:
    """Why a bound holds: the setting, a deployment file's image, or a line of the
    configuration that nginx accepts only on some releases."""

    kind: str  # SETTING | DEPLOYMENT | DIRECTIVE
    what: str  # "nginx.version 1.22", "FROM nginx:1.27.3-alpine", "`http2 on`"
    path: Path | None = None
    line: int = 0
    directive: Directive | None = None  # a DIRECTIVE's line
    span: VersionSpan | None = None  # a DIRECTIVE's releases
    # A DIRECTIVE's line as read before a fix changed or removed it: the bound still
    # holds (the nginx that runs the file did not change with it), ``where`` is the old line.
    before_fix: bool = False

    @property
    def where(self) -> str:
        if self.directive is not None:
            return f"{shown_path(self.directive.path)}:{self.directive.line}"
        if self.path is not None:
            return f"{shown_path(self.path)}:{self.line}" if self.line else shown_path(self.path)
        return ""

    def phrase(self) -> str:
        """``inferred: `http2 on` at nginx.conf:278``; ``FROM nginx:1.22 at Dockerfile:1``."""
        return self._phrase

    @cached_property
    def _phrase(self) -> str:
        # Made once: a rule cites one piece of evidence in thousands of messages, and
        # ``where`` asks the file system for a relative path each time.
        if self.kind == SETTING:
            return self.what
        at = f" at {self.where}" if self.where else ""
        if self.kind == DIRECTIVE:
            return f"inferred: {self.what}{at}" + (", before a fix changed it" if self.before_fix else "")
        return f"{self.what}{at}"


def shown_path(path: Path) -> str:
    """A path as findings show theirs, relative to the working directory, where it is
    under it: a repository has many a Dockerfile and nginx.conf. Elsewhere its name."""
    try:
        shown = os.path.relpath(path)
    except ValueError:
        return path.name
    return path.name if shown.startswith("..") else Path(shown).as_posix()


def next_release(version: Version) -> Version:
    return version[0], version[1], version[2] + 1


@dataclass(frozen=True, eq=False)
class VersionRange:
    """nginx versions ``low`` <= v < ``high``; None on a side means unbounded."""

    low: Version | None = None
    high: Version | None = None
    low_by: Evidence | None = None
    high_by: Evidence | None = None
    _settled: dict[Version, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def exactly(cls, version: Version, evidence: Evidence) -> VersionRange:
        return cls(version, next_release(version), evidence, evidence)

    @property
    def known(self) -> bool:
        return self.low is not None or self.high is not None

    @property
    def exact(self) -> Version | None:
        """The one release the range holds, if it holds one."""
        if self.low is not None and self.high == next_release(self.low):
            return self.low
        return None

    @property
    def set_by_setting(self) -> bool:
        return self.low_by is not None and self.low_by.kind == SETTING

    def at_least(self, threshold: Version) -> bool | None:
        """Whether every version in the range is >= ``threshold``; False when none is;
        None when the range holds both kinds (the question stays open)."""
        if self.low is not None and self.low >= threshold:
            return True
        if self.high is not None and self.high <= threshold:
            return False
        return None

    def contains(self, version: Version) -> bool:
        return (self.low is None or version >= self.low) and (self.high is None or version < self.high)

    def overlaps(self, span: VersionSpan) -> bool:
        """Whether some version of the range is one that ``span`` accepts."""
        low_ok = span.until is None or self.low is None or self.low < span.until
        high_ok = span.since is None or self.high is None or span.since < self.high
        return low_ok and high_ok

    def decides(self, boundaries: Sequence[Version]) -> Version | None:
        """A version standing for the whole range when no boundary falls inside it
        (every version in it behaves alike for them), else None."""
        reps = self.representatives(boundaries)
        return reps[0] if len(reps) == 1 else None

    def representatives(self, boundaries: Sequence[Version]) -> tuple[Version, ...]:
        """One version for each stretch between ``boundaries`` that the range overlaps
        (its first version there). Unknown: the oldest supported release and each
        boundary, as the rules have always tried."""
        # Boundaries below the oldest supported release count only for a range that
        # reaches below it (a setting of an older release): SSLv3 left the defaults in 1.9.1.
        floor = min(OLDEST_SUPPORTED, self.low) if self.low is not None else OLDEST_SUPPORTED
        cuts = sorted(b for b in boundaries if b > floor)
        found: list[Version] = []
        for start, end in zip([None, *cuts], [*cuts, None], strict=True):
            if start is None:
                below_oldest = self.high is not None and self.high <= OLDEST_SUPPORTED
                first = self.low or ((0, 0, 0) if below_oldest else OLDEST_SUPPORTED)
            else:
                first = self.low if self.low is not None and self.low > start else start
            if (end is None or first < end) and (self.high is None or first < self.high):
                found.append(first)
        return tuple(found)

    def label(self) -> str:
        """``1.22.1``, ``1.25.x``, ``≥ 1.25.1``, ``< 1.25.1``, ``1.25.1 to before 1.27.0``."""
        if self.exact is not None:
            return format_version(self.exact)
        low, high = self.low, self.high
        if low is not None and high is not None:
            if low[2] == 0 and high == (low[0], low[1] + 1, 0):
                return f"{low[0]}.{low[1]}.x"
            return f"{format_version(low)} to before {format_version(high)}"
        if low is not None:
            return f"≥ {format_version(low)}"
        if high is not None:
            return f"< {format_version(high)}"
        return "unknown"

    def evidence(self) -> list[Evidence]:
        found = [e for e in (self.low_by, self.high_by) if e is not None]
        return found[:1] if len(found) == 2 and found[0] is found[1] else found

    def name(self) -> str:
        """How a message names the nginx in question: ``nginx 1.22.0`` for the setting
        (as the rules always have), else the range and why:
        ``nginx ≥ 1.25.1 (inferred: `http2 on` at nginx.conf:278)``."""
        if self.set_by_setting and self.exact is not None:
            return f"nginx {format_version(self.exact)}"
        why = "; ".join(e.phrase() for e in self.evidence())
        return f"nginx {self.label()}" + (f" ({why})" if why else "")

    def settled(self, threshold: Version) -> str:
        """Why ``at_least(threshold)`` is decided: ``nginx.version 1.22.0``, or the bound
        that decides it with its evidence: ``nginx ≥ 1.25.1 (inferred: `http2 on` at x:3)``;
        '' while it is open."""
        found = self._settled.get(threshold)
        if found is None:  # asked once per finding: thousands of times for one answer
            found = self._settled[threshold] = self._settle(threshold)
        return found

    def _settle(self, threshold: Version) -> str:
        answer = self.at_least(threshold)
        if answer is None:
            return ""
        if self.set_by_setting and self.exact is not None:
            return f"nginx.version {format_version(self.exact)}"
        if self.exact is not None or self.low_by is self.high_by:
            return self.name()
        if answer:
            assert self.low is not None
            bound, evidence = f"≥ {format_version(self.low)}", self.low_by
        else:
            assert self.high is not None
            bound, evidence = f"< {format_version(self.high)}", self.high_by
        return f"nginx {bound}" + (f" ({evidence.phrase()})" if evidence is not None else "")

    def unsettled(self) -> str:
        """Why a rule's question stays open, for its message: ``nginx.version is not
        configured``, or what is known: ``nginx is known only to be
        ≥ 1.25.1, inferred: `http2 on` at nginx.conf:278``."""
        if not self.known:
            return UNKNOWN_VERSION
        why = "; ".join(e.phrase() for e in self.evidence())
        return f"nginx is known only to be {self.label()}" + (f", {why}" if why else "")


UNKNOWN = VersionRange()
