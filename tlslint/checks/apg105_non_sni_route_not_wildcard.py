"""APG105: a route used for non-SNI clients has hostnames other than exactly ``["*"]``."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, quoted, replace_list, replace_scalar, route_label, route_location
from tlslint.findings import Finding, Fix
from tlslint.sources.apigee.tree import Scalar, Seq
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import WILDCARD, hostnames, is_wildcard

CODE = "APG105"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    wildcards = ws.wildcard_routes()
    for route in ws.non_sni_routes():
        spec = route.spec
        node = spec.get("hostnames") if spec is not None else None
        if isinstance(node, Scalar) and node.placeholder:
            continue
        names = hostnames(route)
        if names is None and isinstance(node, Seq):
            continue  # templated items
        values = [str(item.value) for item in names or []]
        if values == [WILDCARD]:
            continue
        fix = None
        note = ""
        others = len(wildcards) > 1 or (bool(wildcards) and wildcards[0] is not route)
        # hostnames: "*" is a string, which the API server refuses for the list (APG201 too).
        single = isinstance(node, Scalar) and node.value is not None
        if not others:
            like = [item for item in names or [] if item.value == WILDCARD]
            edit = None
            if isinstance(node, Seq):
                edit = replace_list(node, [quoted(WILDCARD, like)])
            elif single:
                assert isinstance(node, Scalar)
                edit = replace_scalar(node, f"[{quoted(WILDCARD, [node])}]")
            if edit is not None:
                fix = Fix('set hostnames to ["*"]', (edit,), safe=False)
        if fix is None:
            note = (
                "no fix: another wildcard route exists (see APG106)"
                if others
                else "no fix: hostnames is missing, shared through an alias or not a list of values"
            )
        if single:
            assert isinstance(node, Scalar)
            shown = f"hostnames: {node.written}, a single value where a list is needed"
        elif node is not None and not isinstance(node, (Seq, Scalar)):
            shown = "hostnames that are a mapping, not a list"
        else:
            shown = "no hostnames" if not values else f"hostnames {values}"
        why = "has the wildcard hostname" if is_wildcard(route) else "sets enableNonSniClient: true"
        yield ctx.finding(
            route_location(route, "hostnames"),
            f"{route_label(route)} {why} but has {shown}; a route for clients without SNI must have "
            'exactly hostnames: ["*"]',
            fix=fix,
            fix_note=note,
            anchor=f"{route.anchor}.spec.hostnames",
        )
