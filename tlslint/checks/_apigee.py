"""Helpers of the Apigee checks: the Apigee workspace, route locations and labels,
and where a created manifest goes. The YAML edits and locations they use are
``tlslint.checks._yaml_edits``, shared with the Kubernetes tier.
"""

from __future__ import annotations

from pathlib import Path

from tlslint.checks._yaml_edits import append_item as append_item
from tlslint.checks._yaml_edits import insert_key as insert_key
from tlslint.checks._yaml_edits import location as location
from tlslint.checks._yaml_edits import pair_location
from tlslint.checks._yaml_edits import quoted as quoted
from tlslint.checks._yaml_edits import related as related
from tlslint.checks._yaml_edits import replace_list as replace_list
from tlslint.checks._yaml_edits import replace_scalar as replace_scalar
from tlslint.checks._yaml_edits import set_list as set_list
from tlslint.findings import Location
from tlslint.sources.apigee.documents import RouteObject
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import ApigeeWorkspace, Host


def apigee(workspace: Workspace) -> ApigeeWorkspace | None:
    ws = workspace.apigee
    return ws if ws is not None and ws.files else None


def route_location(route: RouteObject, *keys: str) -> Location:
    """The first of ``keys`` found in the route's spec, else the spec, else the object."""
    spec = route.spec
    if spec is not None:
        for key in keys:
            pair = spec.pair(key)
            if pair is not None and not pair.merged:
                return pair_location(pair)
        pair = route.node.pair("spec")
        if pair is not None:
            return pair_location(pair)
    return location(route.node)


def host_location(host: Host) -> Location:
    return location(host.where)


def route_label(route: RouteObject) -> str:
    name = route.name
    return f"ApigeeRoute '{name.raw}'" if name is not None else "an ApigeeRoute without a name"


def new_file_path(ws: ApigeeWorkspace, beside: Path, name: str) -> Path:
    """Where a created manifest goes: next to ``beside`` when a later run with the
    same paths will read it there, else into a directory given to the run (the one
    holding the other manifests, if any)."""
    directory = beside.resolve().parent
    target_dirs = [t for t in ws.targets if t.is_dir()]
    if not any(directory == t or directory.is_relative_to(t) for t in target_dirs):
        manifest_dirs = [
            t for t in target_dirs if any(f.objects and f.path.resolve().is_relative_to(t) for f in ws.files)
        ]
        chosen = manifest_dirs or target_dirs
        if chosen:
            directory = chosen[0]
    return directory / name
