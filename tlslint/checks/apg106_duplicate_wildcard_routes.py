"""APG106: more than one wildcard ApigeeRoute for the same gateways."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, related, route_label, route_location
from tlslint.findings import Finding
from tlslint.sources.apigee.documents import RouteObject
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import route_selector, selector_values

CODE = "APG106"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    routes = sorted(ws.wildcard_routes(), key=lambda r: (str(r.file.path), r.node.start))
    for index, route in enumerate(routes):
        for earlier in routes[:index]:
            if _same_object(route, earlier, ws.namespace) or not _overlap(route, earlier, ws.namespace):
                continue
            yield ctx.finding(
                route_location(route, "hostnames"),
                f"{route_label(route)} is a second wildcard route beside {route_label(earlier)}: "
                "Apigee's docs say not to create two ApigeeRoute objects with a wildcard hostname; "
                "keep one and list it in every virtual host's additionalGateways",
                related=[related(earlier.node, "the first wildcard route")],
                anchor=f"{route.anchor}.spec.hostnames",
            )
            break


def _namespace(route: RouteObject, default: str) -> str | None:
    namespace = route.namespace
    if namespace is None:
        return default
    return None if namespace.name_placeholder() else namespace.text


def _same_object(a: RouteObject, b: RouteObject, default: str) -> bool:
    """One object written twice (overlays for two clusters), not two objects."""
    same_name = a.name is not None and b.name is not None and a.name.value == b.name.value
    return same_name and _namespace(a, default) == _namespace(b, default)


def _overlap(a: RouteObject, b: RouteObject, default: str) -> bool:
    na, nb = _namespace(a, default), _namespace(b, default)
    if na is not None and nb is not None and na != nb:
        return False
    sa, sb = selector_values(route_selector(a)), selector_values(route_selector(b))
    return not any(sa[k] is not None and sb[k] is not None and sa[k] != sb[k] for k in sa.keys() & sb.keys())
