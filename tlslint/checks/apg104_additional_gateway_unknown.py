"""APG104: ``additionalGateways`` names a route that no checked manifest defines."""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import among_checked, installations, location
from tlslint.findings import Finding
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import ApigeeWorkspace

CODE = "APG104"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for ws in installations(workspace):
        yield from _check(ctx, ws)


def _check(ctx: RuleContext, ws: ApigeeWorkspace) -> Iterator[Finding]:
    if not ws.routes_scanned:
        return  # nothing to resolve against: APG100
    known = ws.route_names()
    suggest = _Suggestions(known)
    checked = f"ApigeeRoute {among_checked(ws)}" if ws.installation else "checked ApigeeRoute"
    for host in ws.hosts:
        for entry in host.gateway_entries() or []:
            if entry.placeholder or entry.name_placeholder():
                continue
            name = str(entry.value)
            if ws.routes_named(name):
                continue
            close = suggest(name)
            hint = f"; did you mean '{close[0]}'?" if close else _found(known)
            yield ctx.finding(
                location(entry),
                f"{host.label} lists '{name}' in additionalGateways, but no {checked} is named "
                f"so{hint}; the host is added to no route, and clients without SNI are reset",
                anchor=f"{host.anchor}.additionalGateways[{name}]",
            )


SHOWN_ROUTES = 5  # route names a message lists: one per finding of 10,000 grew as their square


def _found(known: list[str]) -> str:
    if not known:
        return ""
    shown = ", ".join(known[:SHOWN_ROUTES])
    more = len(known) - SHOWN_ROUTES
    return f" (routes found: {shown}{f' and {more:,} more' if more > 0 else ''})"


class _Suggestions:
    """difflib's closest known name, once per unknown name. Among more than
    ``EXACT_UP_TO`` names only the neighbours of the name in sorted order, read
    forwards and backwards, are compared (a typo keeps one end of a name): asking
    difflib about each of 10,000 names for each unknown one does not end."""

    EXACT_UP_TO = 16
    NEIGHBOURS = 8

    def __init__(self, known: list[str]) -> None:
        self.known = sorted(known)
        self.backwards = sorted(name[::-1] for name in known)
        self.found: dict[str, list[str]] = {}

    def __call__(self, name: str) -> list[str]:
        if name not in self.found:
            candidates = self.known if len(self.known) <= self.EXACT_UP_TO else self._neighbours(name)
            self.found[name] = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
        return self.found[name]

    def _neighbours(self, name: str) -> list[str]:
        found: dict[str, None] = {}
        for names, key, turn in ((self.known, name, False), (self.backwards, name[::-1], True)):
            at = bisect.bisect_left(names, key)
            for near in names[max(0, at - self.NEIGHBOURS) : at + self.NEIGHBOURS]:
                found[near[::-1] if turn else near] = None
        return list(found)
