"""APG110: an ApigeeRoute outside the Apigee namespace (``apigee.namespace``)."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, location, route_label
from tlslint.findings import Finding
from tlslint.workspace import Workspace

CODE = "APG110"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    for route in ws.routes:
        namespace = route.namespace
        if namespace is None or namespace.name_placeholder() or namespace.text == ws.namespace:
            continue
        yield ctx.finding(
            location(namespace),
            f"{route_label(route)} is in namespace '{namespace.raw}', not in the Apigee namespace "
            f"'{ws.namespace}' (setting apigee.namespace): the Apigee controller and the TLS "
            "secrets live there (1.8 and later), so this route is not used",
            anchor=f"{route.anchor}.metadata.namespace",
        )
