"""APG106: more than one wildcard ApigeeRoute for the same gateways."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import (
    installations,
    related,
    route_label,
    route_location,
    route_namespace,
    selectors_overlap,
)
from tlslint.findings import Finding
from tlslint.sources.apigee.documents import RouteObject
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import ApigeeWorkspace, route_selector, selector_values

CODE = "APG106"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for ws in installations(workspace):
        yield from _check(ctx, ws)


def _check(ctx: RuleContext, ws: ApigeeWorkspace) -> Iterator[Finding]:
    routes = sorted(ws.wildcard_routes(), key=lambda r: (str(r.file.path), r.node.start))
    earlier_by_kind = _Earlier(ws.namespace)
    for route in routes:
        earlier = earlier_by_kind.first_overlapping(route)
        earlier_by_kind.add(route)
        if earlier is not None:
            yield ctx.finding(
                route_location(route, "hostnames"),
                f"{route_label(route)} is a second wildcard route beside {route_label(earlier)}: "
                "Apigee's docs say not to create two ApigeeRoute objects with a wildcard hostname; "
                "keep one and list it in every virtual host's additionalGateways",
                related=[related(earlier.node, "the first wildcard route")],
                anchor=f"{route.anchor}.spec.hostnames",
            )


class _Earlier:
    """The routes seen so far, grouped by namespace and selector: the first earlier
    route that overlaps a new one is looked for among groups, not among every route
    (wildcard routes are many only when copied, and then they share their group)."""

    def __init__(self, default: str) -> None:
        self.default = default
        # (namespace, selector) -> the group's first route, and its first of another name
        self.groups: dict[tuple[str | None, tuple[tuple[str, str | None], ...]], list[RouteObject]] = {}
        self.order: dict[int, int] = {}  # id(route) -> position

    def add(self, route: RouteObject) -> None:
        self.order[id(route)] = len(self.order)
        key = (
            route_namespace(route, self.default),
            tuple(sorted(selector_values(route_selector(route)).items())),
        )
        group = self.groups.setdefault(key, [])
        if not group or (len(group) == 1 and not _same_object(route, group[0], self.default)):
            group.append(route)

    def first_overlapping(self, route: RouteObject) -> RouteObject | None:
        """The earliest route before ``route`` that overlaps it and is not the same object.

        Within a group every route overlaps ``route`` alike and has the same namespace, so
        the first one will do, or, when that one is ``route``'s own object written again,
        the group's first route of another name."""
        best: RouteObject | None = None
        for group in self.groups.values():
            if not _overlap(route, group[0], self.default):
                continue
            found = next((r for r in group if not _same_object(route, r, self.default)), None)
            if found is not None and (best is None or self.order[id(found)] < self.order[id(best)]):
                best = found
        return best


def _same_object(a: RouteObject, b: RouteObject, default: str) -> bool:
    """One object written twice (overlays for two clusters), not two objects."""
    same_name = a.name is not None and b.name is not None and a.name.value == b.name.value
    return same_name and route_namespace(a, default) == route_namespace(b, default)


def _overlap(a: RouteObject, b: RouteObject, default: str) -> bool:
    na, nb = route_namespace(a, default), route_namespace(b, default)
    if na is not None and nb is not None and na != nb:
        return False
    return selectors_overlap(selector_values(route_selector(a)), selector_values(route_selector(b)))
