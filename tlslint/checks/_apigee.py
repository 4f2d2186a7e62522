"""Helpers of the Apigee checks: the Apigee workspace, route locations and labels,
and where a created manifest goes. The YAML edits and locations they use are
``tlslint.checks._yaml_edits``, shared with the Kubernetes tier.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from tlslint.sources.apigee.tree import Map, Scalar, Seq
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import DEFAULT_APP, ApigeeWorkspace, Host, route_selector, selector_values

# Up to hybrid 1.7 (Anthos Service Mesh) a host without a selector was served by this gateway, so
# a route that selects it matches such a host; ingressGateways (1.8+) in the overrides rule that out.
ASM_APP = "istio-ingressgateway"
Selector = dict[str, str | None]  # selector labels; a templated value is None (unknown)


def apigee(workspace: Workspace) -> ApigeeWorkspace | None:
    ws = workspace.apigee
    return ws if ws is not None and ws.files else None


def installations(workspace: Workspace) -> list[ApigeeWorkspace]:
    """Each installation's part of the files (``ApigeeWorkspace.installations``): the rules
    that link hosts and routes run on each, so that one cluster's route never serves, nor
    duplicates, another's."""
    ws = apigee(workspace)
    return ws.installations() if ws is not None else []


def among_checked(ws: ApigeeWorkspace) -> str:
    """Where the route rules looked: the checked files, or those of this installation when
    the run holds several (another cluster's routes are checked, but not for its hosts)."""
    if not ws.installation:
        return "among the checked files"
    return (
        f"among the checked files of {ws.installation} (a manifest belongs to the installation "
        "whose overrides files lie nearest to it)"
    )


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


# -- which gateways a route serves (APG107 reports a listed route that does not; the
# -- fixes of APG101 and APG103 link only routes that do) ---------------------------
def selector_problems(ws: ApigeeWorkspace, host: Host, route: Selector) -> list[str]:
    """Why a route with selector ``route`` does not serve ``host``'s ingress gateways."""
    host_selector = selector_values(host.selector)
    host_app = host_selector.get("app", DEFAULT_APP)
    problems = []
    if "app" not in route:
        problems.append("the route's selector has no 'app' label, so it selects no Apigee ingress gateway")
    elif None not in (route["app"], host_app) and route["app"] != host_app:
        route_app = route["app"]
        if "app" in host_selector:
            problems.append(f"app is '{route_app}' on the route, '{host_app}' on the host")
        elif route_app != ASM_APP or ws.ingress_gateways:
            problems.append(
                f"app is '{route_app}' on the route; the host sets no selector, so it "
                f"gets '{host_app}' (the default since hybrid 1.8)"
            )
    ingress = route.get("ingress_name")
    host_ingress = host_selector.get("ingress_name")
    if ingress is not None and "ingress_name" not in host_selector:
        problems.append(f"the route is bound to ingress gateway '{ingress}' only, the host to every gateway")
    elif ingress is not None and host_ingress is not None and ingress != host_ingress:
        problems.append(f"ingress_name is '{ingress}' on the route, '{host_ingress}' on the host")
    return problems


class Serving:
    """Which of ``routes`` serve a host, decided once per distinct host selector: an
    overrides file may hold 10,000 hosts, and they share a few selectors."""

    def __init__(self, ws: ApigeeWorkspace, routes: list[RouteObject]) -> None:
        self.ws = ws
        self.routes = [(route, selector_values(route_selector(route))) for route in routes]
        self.known: dict[tuple[tuple[str, str | None], ...], list[RouteObject]] = {}

    def of(self, host: Host) -> list[RouteObject]:
        key = tuple(sorted(selector_values(host.selector).items()))
        found = self.known.get(key)
        if found is None:
            found = [r for r, s in self.routes if not selector_problems(self.ws, host, s)]
            self.known[key] = found
        return found


def route_namespace(route: RouteObject, default: str) -> str | None:
    """The route's namespace (``default`` when unset); None when templated (unknown)."""
    namespace = route.namespace
    if namespace is None:
        return default
    return None if namespace.name_placeholder() else namespace.text


def selectors_overlap(a: Selector, b: Selector) -> bool:
    """Whether two route selectors can pick the same gateway pods: no label both set differs."""
    return not any(a[k] is not None and b[k] is not None and a[k] != b[k] for k in a.keys() & b.keys())


def credential_name(route: RouteObject) -> Scalar | None:
    """tls.credentialName of the route's first port 443."""
    spec = route.spec
    ports = spec.get("ports") if spec is not None else None
    if not isinstance(ports, Seq):
        return None
    for port in ports.items:
        if not isinstance(port, Map):
            continue
        number = port.scalar("number")
        if number is None or (number.value != 443 and not number.placeholder):
            continue
        tls = port.get("tls")
        if isinstance(tls, Map):
            return tls.scalar("credentialName")
    return None


def credential_conflict(route: RouteObject, host: Host, credential: Scalar | None = None) -> Scalar | None:
    """The route's credentialName (``credential``, when already read) when it is known and
    not the secret ``host`` uses (APG109)."""
    if not host.credential:
        return None
    credential = credential or credential_name(route)
    if credential is None or credential.placeholder or credential.name_placeholder():
        return None
    return None if credential.value == host.credential else credential


# -- minTLSProtocolVersion / maxTLSProtocolVersion -------------------------------------
CHART_VERSIONS = ("AUTO", "1.0", "1.1", "1.2", "1.3")  # the apigee-virtualhost chart's values
SHARED_NOTE = (
    "no fix: the value is reached through a YAML alias or merge key, and an edit there would "
    "change every place that shares it"
)


@dataclass(frozen=True)
class ChartVersion:
    """A virtual host's TLS version as the apigee-virtualhost chart receives it.

    Helm reads values with go-yaml v2: an unquoted ``1.30`` (or ``!!float "1.2"``) is a
    float, which the chart prints as Go does (``1.3``; ``1.0`` as ``1``).
    """

    scalar: Scalar
    received: str  # the text the chart gets
    number: bool  # a YAML number, not a string
    meant: str | None  # for a number: the chart version it reads as in decimal ("1.30": "1.3")


def chart_version(scalar: Scalar | None) -> ChartVersion | None:
    """None when absent, empty or templated."""
    if scalar is None or scalar.placeholder or scalar.value is None:
        return None
    value = scalar.value
    if isinstance(value, bool):
        return ChartVersion(scalar, "true" if value else "false", False, None)
    if isinstance(value, float):
        decimal = repr(value)  # shortest: 1.30 -> "1.3", 1.00 -> "1.0"
        received = decimal[:-2] if decimal.endswith(".0") else decimal  # Go prints 1.0 as 1
        return ChartVersion(scalar, received, True, decimal if decimal in CHART_VERSIONS else None)
    if isinstance(value, int):
        return ChartVersion(scalar, str(value), True, None)
    return ChartVersion(scalar, str(value), False, None)
