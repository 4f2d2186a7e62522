"""The ``ApigeeRouteConfig`` of an Apigee virtual-host release, located at the
``virtualhosts[]`` entry it is rendered from.

The ``apigee-virtualhost`` chart renders the entry whose ``name`` is the release's
``envgroup`` (``--set envgroup=…``; the chart fails without one) as an
``ApigeeRouteConfig`` (facts/apigee.md: "Each virtualhosts[] entry becomes an
ApigeeRouteConfig with selector, additionalGateways[], tls{mode, secretNameRef,
minProtocolVersion, maxProtocolVersion}"). A finding about that object belongs at the
entry in the values file (``overrides.yaml``), where the Apigee tier's own reading
of the file puts the same finding and its fix; a template line of the vendor's chart
is no place the user edits.

The chart prints the entry through a ``range`` over a list (``$vh.sslSecret``), which
``helm.ValuesLocator`` does not follow: it reads ``.Values`` paths, and in
``{{ $vh.sslSecret | default (printf "%s-%s" $.Values.org $vh.name) }}`` would name
``org``. This locator is therefore tried first, and only on ``ApigeeRouteConfig``
documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tlslint.findings import Location
from tlslint.rendered import FieldPath, RenderedDocument, SourceFiles, is_identity, node_location, walk
from tlslint.sources.apigee.tree import Map, Scalar, Seq

ROUTE_CONFIG = "ApigeeRouteConfig"
# The route config's fields and the entry's keys the chart writes them from.
_FIELDS: dict[FieldPath, tuple[str, ...]] = {
    ("spec", "selector"): ("selector",),
    ("spec", "additionalGateways"): ("additionalGateways",),
    ("spec", "tls", "secretNameRef"): ("sslSecret",),
    ("spec", "tls", "mode"): ("tlsMode",),
    ("spec", "tls", "minProtocolVersion"): ("minTLSProtocolVersion",),
    ("spec", "tls", "maxProtocolVersion"): ("maxTLSProtocolVersion",),
}


def envgroup(given: Mapping[str, Any], files: SourceFiles, values: Sequence[Path]) -> str | None:
    """The env group a release renders: ``set`` wins over the values files (the last wins)."""
    if given.get("envgroup") is not None:
        return str(given["envgroup"])
    for path in reversed(values):
        root = _root(files, path)
        name = root.scalar("envgroup") if root is not None else None
        if name is not None and name.text:
            return name.text
    return None


class VirtualHostLocator:
    """A field of the release's ``ApigeeRouteConfig`` at the entry of ``virtualhosts``
    it comes from: its identity and anything the chart writes from no key of the entry at
    the entry (the host), a field the entry sets at that key; else None."""

    def __init__(self, files: SourceFiles, chart: Path, values: Sequence[Path], name: str | None) -> None:
        self.files = files
        self.layers = [chart / "values.yaml", *values]  # Helm's order: the last wins
        self.name = name

    def __call__(self, document: RenderedDocument, path: FieldPath, at_key: bool) -> Location | None:
        if document.kind != ROUTE_CONFIG or self.name is None:
            return None
        entry = self._entry()
        if entry is None:
            return None
        if not path or is_identity(path):
            return node_location(entry, None, False)
        for prefix, keys in _FIELDS.items():
            if path[: len(prefix)] == prefix:
                wanted = (*keys, *path[len(prefix) :])
                node, pair, steps = walk(entry, wanted)
                if steps < len(keys):
                    return None  # the chart's own default: its template says so
                return node_location(node, pair, at_key and steps == len(wanted))
        return None

    def _entry(self) -> Map | None:
        """The entry named ``self.name`` in the last values file that sets ``virtualhosts``:
        Helm replaces a list a later file sets, never merges it."""
        for path in reversed(self.layers):
            root = _root(self.files, path)
            hosts = root.get("virtualhosts") if root is not None else None
            if not isinstance(hosts, Seq):
                continue
            for item in hosts.items:
                name = item.get("name") if isinstance(item, Map) else None
                if isinstance(item, Map) and isinstance(name, Scalar) and name.text == self.name:
                    return item
            return None
        return None


def _root(files: SourceFiles, path: Path) -> Map | None:
    documents = files.documents(path)
    return documents[0] if documents and isinstance(documents[0], Map) else None
