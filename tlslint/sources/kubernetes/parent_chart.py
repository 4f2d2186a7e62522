"""The keys under which a parent chart's values configure ingress-nginx.

An umbrella chart that depends on ingress-nginx gives it the values under the
dependency's name (``ingress-nginx:``), or under the ``alias`` its ``Chart.yaml``
gives the dependency (``dependencies: [{name: ingress-nginx, alias: ingress}]`` puts
them under ``ingress:``; Helm's documentation, "Alias field in dependencies"). The
values file sits beside the ``Chart.yaml``, so each directory's is read once, on the
first YAML file of that directory that looks like it holds such a key.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Final

CHART: Final = "ingress-nginx"
MAX_CHART_BYTES: Final = 256 * 1024  # a Chart.yaml is a few hundred bytes
_MAX_FLOW: Final = 512  # flow collections ([...], {...}): a real one has a handful
# An alias is a chart name: lower case letters, digits and dashes (helm lint).
_ALIAS: Final = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


def values_keys(values_file: Path) -> tuple[str, ...]:
    """The chart's name, then the aliases the parent's Chart.yaml gives it."""
    return (CHART, *aliases(values_file.parent))


def aliases(directory: Path) -> tuple[str, ...]:
    """The aliases of the ingress-nginx dependencies in ``directory/Chart.yaml``; none
    when it is absent, unreadable, too large or not a chart's."""
    chart = directory / "Chart.yaml"
    try:
        status = chart.stat()
    except OSError:
        return ()
    if status.st_size > MAX_CHART_BYTES:
        return ()
    return _aliases(chart, status.st_mtime_ns, status.st_size)


@lru_cache(maxsize=256)
def _aliases(chart: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    """Read once per version of the file (its time and size are part of the key)."""
    try:
        data = chart.read_bytes()[: MAX_CHART_BYTES + 1]
    except OSError:
        return ()
    if b"alias" not in data:
        return ()
    if data.count(b"[") + data.count(b"{") > _MAX_FLOW:
        return ()  # not a chart's: ruamel's pure parser recurses (seconds) before it gives up
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        loaded = YAML(typ="safe", pure=True).load(data.decode("utf-8"))
    except (YAMLError, UnicodeError, ValueError, RecursionError):  # nested past the parser's stack
        return ()
    dependencies = loaded.get("dependencies") if isinstance(loaded, dict) else None
    found: list[str] = []
    for dependency in dependencies if isinstance(dependencies, list) else ():
        if not isinstance(dependency, dict) or dependency.get("name") != CHART:
            continue
        alias = dependency.get("alias")
        if isinstance(alias, str) and _ALIAS.fullmatch(alias) and alias != CHART:
            found.append(alias)
    return tuple(dict.fromkeys(found))
