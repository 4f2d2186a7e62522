"""APG107: a listed route selects other ingress gateways than its host."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, related, route_label, route_location
from tlslint.findings import Finding
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import DEFAULT_APP, route_selector, selector_values

CODE = "APG107"
# Up to hybrid 1.7 (Anthos Service Mesh) a host without a selector was served by this gateway, so
# a route that selects it matches such a host; ingressGateways (1.8+) in the overrides rule that out.
ASM_APP = "istio-ingressgateway"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None:
        return
    for host in ws.hosts:
        host_selector = selector_values(host.selector)
        host_app = host_selector.get("app", DEFAULT_APP)
        for name in sorted(host.listed_names() or ()):
            for route in ws.routes_named(name):
                problems = []
                route_values = selector_values(route_selector(route))
                if "app" not in route_values:
                    problems.append(
                        "the route's selector has no 'app' label, so it selects no Apigee ingress gateway"
                    )
                elif None not in (route_values["app"], host_app) and route_values["app"] != host_app:
                    route_app = route_values["app"]
                    if "app" in host_selector:
                        problems.append(f"app is '{route_app}' on the route, '{host_app}' on the host")
                    elif route_app != ASM_APP or ws.ingress_gateways:
                        problems.append(
                            f"app is '{route_app}' on the route; the host sets no selector, so it "
                            f"gets '{host_app}' (the default since hybrid 1.8)"
                        )
                ingress = route_values.get("ingress_name")
                host_ingress = host_selector.get("ingress_name")
                if ingress is not None and "ingress_name" not in host_selector:
                    problems.append(
                        f"the route is bound to ingress gateway '{ingress}' only, the host to every gateway"
                    )
                elif ingress is not None and host_ingress is not None and ingress != host_ingress:
                    problems.append(f"ingress_name is '{ingress}' on the route, '{host_ingress}' on the host")
                if not problems:
                    continue
                yield ctx.finding(
                    route_location(route, "selector"),
                    f"{route_label(route)} does not serve the gateways of {host.label}, which lists it: "
                    + "; ".join(problems),
                    related=[related(host.where, f"{host.label} lists '{name}'")],
                    anchor=f"{route.anchor}.spec.selector[{host.anchor}]",
                )
