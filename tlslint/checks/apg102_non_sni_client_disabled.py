"""APG102: a wildcard ApigeeRoute lacks ``enableNonSniClient: true``."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, insert_key, replace_scalar, route_label, route_location
from tlslint.findings import Edit, Finding, Fix
from tlslint.sources.apigee.tree import Node, Scalar
from tlslint.sources.goyaml import YAML11_BOOLEANS, YAML11_ONLY
from tlslint.sources.manifests import node_kind
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import FORBIDDEN

CODE = "APG102"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None or ws.policy == FORBIDDEN:
        return  # APG301 reports the route itself
    for route in ws.wildcard_routes():
        spec = route.spec
        assert spec is not None  # a wildcard route has spec.hostnames
        pair = spec.pair("enableNonSniClient")
        edit: Edit | None = None
        if pair is None:
            edit = insert_key(spec, "enableNonSniClient", "true")
            state = "does not set enableNonSniClient"
        else:
            value = pair.value
            # kubectl reads YAML 1.1: `yes` and `on` are true (APG201 warns of YAML 1.2 tools).
            if isinstance(value, Scalar) and (value.placeholder or value.kube_bool() is True):
                continue
            if isinstance(value, Scalar) and not pair.merged:
                edit = replace_scalar(value, "true")
            state = _state(value)
        # Unsafe: clients without SNI can then connect (docs/fix-safety.md).
        fix = Fix("set enableNonSniClient: true", (edit,), safe=False) if edit is not None else None
        yield ctx.finding(
            route_location(route, "enableNonSniClient", "hostnames"),
            f"{route_label(route)} has the wildcard hostname but {state}: the gateway still "
            "requires SNI, and clients without it are reset",
            fix=fix,
            fix_note="" if fix else "no fix: the value comes through a YAML alias or is not a plain value",
            anchor=f"{route.anchor}.spec.enableNonSniClient",
        )


def _state(value: Node) -> str:
    """What the route has instead of true, as written (a quoted "true" is a string)."""
    if not isinstance(value, Scalar):
        return f"has enableNonSniClient set to {node_kind(value)}, not the boolean true"
    if value.value is None:
        return "has enableNonSniClient empty (null)"
    shown = f"has enableNonSniClient: {value.written}"
    if value.kube_bool() is False:
        return shown if isinstance(value.value, bool) else f"{shown} (false to kubectl, which reads YAML 1.1)"
    if isinstance(value.value, str):
        shown += ", a string rather than the boolean true"
        if value.value in YAML11_ONLY and YAML11_BOOLEANS[value.value]:  # quoted, or as kustomize wrote it
            shown += f" (kustomize writes a plain {value.value} so)"
        return shown
    return f"{shown}, not the boolean true"
