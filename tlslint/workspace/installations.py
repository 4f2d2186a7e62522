"""Which Apigee installation each checked file belongs to.

A repository may hold several clusters' Apigee files (``cluster-old/``, ``cluster-new/``).
An installation is known by its overrides files: overrides files that name different
``org:`` values configure different installations (an org is one installation's; files
of one org, or that name none, are one installation's parts, as ``helm -f a -f b`` reads
them). A file without overrides (ApigeeRoute and ApigeeRouteConfig manifests, applied
with kubectl beside the overrides) belongs to the installation whose overrides files lie
nearest to it: in its directory or below, else in its parent's tree, and so on up. When
that nearest tree holds the overrides of several installations (``overrides/prod.yaml``
and ``overrides/test.yaml`` beside one ``k8s/routes/``), the manifest is theirs alike.

So the answer for a file does not depend on the paths given: checking ``cluster-old``
alone or the whole repository puts ``cluster-old/route.yaml`` with
``cluster-old/overrides.yaml`` only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tlslint.sources.apigee.documents import ApigeeFile

Org = str | None  # an installation's org: None when no overrides file names one (or templated)


def partition(files: Sequence[ApigeeFile]) -> list[list[ApigeeFile]]:
    """The files of each installation, in the order of their first overrides file; a
    manifest may be in several. One installation (all files) when no two overrides files
    name different orgs."""
    orgs: dict[int, Org] = {id(f): org_of(f) for f in files if f.overrides}
    distinct = list(dict.fromkeys(orgs.values()))
    if len(distinct) <= 1:
        return [list(files)]
    where = [(_directory(f.path), orgs[id(f)]) for f in files if f.overrides]
    groups: dict[Org, list[ApigeeFile]] = {org: [] for org in distinct}
    for file in files:
        owners = [orgs[id(file)]] if id(file) in orgs else nearest(_directory(file.path), where) or distinct
        for org in owners:
            groups[org].append(file)
    return list(groups.values())


def org_of(file: ApigeeFile) -> Org:
    """The org its overrides name (the first that does); None when none does or it is templated."""
    for overrides in file.overrides:
        org = overrides.org
        if org is not None and org.text and not org.placeholder and not org.name_placeholder():
            return org.text
    return None


def nearest(directory: Path, overrides: Sequence[tuple[Path, Org]]) -> list[Org]:
    """The orgs of the overrides files in the nearest tree around ``directory``: its own
    (and below), else its parent's, and so on up; none when no tree holds one."""
    for tree in (directory, *directory.parents):
        found = [org for place, org in overrides if place.is_relative_to(tree)]
        if found:
            return list(dict.fromkeys(found))
    return []


def _directory(path: Path) -> Path:
    return Path(os.path.abspath(path)).parent
