"""The Apigee rules across files: policy, links, messages and locations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import check_files

from tlslint.findings import Severity

ROUTE = """\
apiVersion: apigee.cloud.google.com/v1alpha1
kind: ApigeeRoute
metadata:
  name: non-sni
  namespace: apigee
spec:
  hostnames: ["*"]
  ports:
  - number: 443
    protocol: HTTPS
    tls: {credentialName: prod-tls, mode: SIMPLE}
  selector: {app: apigee-ingressgateway}
  enableNonSniClient: true
"""
HOST = "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n    additionalGateways: [non-sni]\n"
REQUIRED = {"apigee": {"non-sni": "required"}}


def run_on(tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None) -> list[Any]:
    return check_files(tmp_path, files, mapping).findings


def codes(tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None) -> list[str]:
    return [f.code for f in run_on(tmp_path, files, mapping)]


def test_linked_set_up_is_clean_under_every_policy_but_forbidden(tmp_path: Path) -> None:
    files = {"o.yaml": HOST, "r.yaml": ROUTE}
    assert codes(tmp_path, files) == []
    assert codes(tmp_path, files, REQUIRED) == []
    assert codes(tmp_path, files, {"apigee": {"non-sni": "forbidden"}}) == ["APG301"]


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({"non-sni": "required"}, ["APG101", "APG103"]),  # the top-level setting is the fallback
        ({"non-sni": "required", "apigee": {"non-sni": "auto"}}, ["APG101", "APG103"]),
        ({"non-sni": "required", "apigee": {"non-sni": "forbidden"}}, []),
        ({"non-sni": "forbidden"}, []),
        ({}, []),
    ],
)
def test_policy_resolution(tmp_path: Path, mapping: dict[str, Any], expected: list[str]) -> None:
    host = "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n"
    assert sorted(codes(tmp_path, {"o.yaml": host}, mapping)) == expected


@pytest.mark.parametrize(
    "gateway",
    [
        "    svcType: ClusterIP\n",
        "    svcAnnotations:\n      networking.gke.io/load-balancer-type: Internal\n",
    ],
)
def test_auto_policy_signals_give_warnings(tmp_path: Path, gateway: str) -> None:
    text = (
        "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\ningressGateways:\n  - name: ing\n" + gateway
    )
    found = run_on(tmp_path, {"o.yaml": text})
    assert sorted((f.code, f.severity) for f in found) == [
        ("APG101", Severity.WARNING),
        ("APG103", Severity.WARNING),
    ]
    assert "another load balancer" in found[0].message or "load-balancer" in found[0].message


def test_required_findings_are_errors_and_located_at_the_host(tmp_path: Path) -> None:
    found = run_on(
        tmp_path, {"o.yaml": "# c\nvirtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n"}, REQUIRED
    )
    assert [(f.code, f.severity, f.location.line, f.location.column) for f in found] == [
        ("APG101", Severity.ERROR, 3, 5),
        ("APG103", Severity.ERROR, 3, 5),
    ]


def test_unknown_gateway_has_a_did_you_mean(tmp_path: Path) -> None:
    found = run_on(tmp_path, {"o.yaml": HOST.replace("[non-sni]", "[non-snl]"), "r.yaml": ROUTE})
    assert sorted(f.code for f in found) == ["APG103", "APG104"]  # and so the host lacks the route
    (finding,) = [f for f in found if f.code == "APG104"]
    assert "did you mean 'non-sni'?" in finding.message
    assert (finding.location.line, finding.location.column) == (4, 26)


def test_unknown_gateway_names_a_few_of_many_routes(tmp_path: Path) -> None:
    """No close name: five routes are named and the rest counted (the message listed every
    route, so 10,000 findings among 10,000 routes grew as their square)."""
    routes = "---\n".join(ROUTE.replace("name: non-sni", f"name: route-{n:02}") for n in range(7))
    found = run_on(tmp_path, {"o.yaml": HOST.replace("[non-sni]", "[zzz]"), "r.yaml": routes})
    (finding,) = [f for f in found if f.code == "APG104"]
    names = ", ".join(f"route-{n:02}" for n in range(5))
    assert finding.message.split("named so", 1)[1].startswith(f" (routes found: {names} and 2 more);")


def test_route_checks_wait_for_manifests(tmp_path: Path) -> None:
    found = run_on(
        tmp_path, {"o.yaml": HOST + "  - name: test\n    sslSecret: t\n    additionalGateways: [x]\n"}
    )
    assert [(f.code, f.severity) for f in found] == [("APG100", Severity.INFO)]  # once


def test_second_wildcard_route(tmp_path: Path) -> None:
    second = ROUTE.replace("name: non-sni", "name: apigee-wildcard")
    found = run_on(tmp_path, {"o.yaml": HOST, "r.yaml": ROUTE, "s.yaml": second})
    assert [(f.location.path.name, f.code) for f in found] == [("s.yaml", "APG106")]
    assert found[0].related[0].location.path.name == "r.yaml"
    # The same object once per cluster overlay is not a duplicate.
    assert codes(tmp_path, {"o.yaml": HOST, "r.yaml": ROUTE, "s.yaml": ROUTE}) == []


@pytest.mark.parametrize(
    ("host_selector", "route_selector", "expected"),
    [
        ("{app: apigee-ingressgateway}", "{app: istio-ingressgateway}", "app is 'istio-ingressgateway'"),
        ("{app: apigee-ingressgateway, ingress_name: a}", "{app: apigee-ingressgateway, ingress_name: b}",
         "ingress_name is 'b' on the route, 'a' on the host"),
        ("{app: apigee-ingressgateway}", "{app: apigee-ingressgateway, ingress_name: b}",
         "bound to ingress gateway 'b' only"),
        ("{app: apigee-ingressgateway}", "{ingress_name: b}", "no 'app' label"),
    ],
)  # fmt: skip
def test_selector_mismatch(tmp_path: Path, host_selector: str, route_selector: str, expected: str) -> None:
    host = HOST + f"    selector: {host_selector}\n"
    route = ROUTE.replace("{app: apigee-ingressgateway}", route_selector)
    (finding,) = run_on(tmp_path, {"o.yaml": host, "r.yaml": route})
    assert finding.code == "APG107" and expected in finding.message
    assert finding.location.path.name == "r.yaml" and finding.location.line == 12


def test_selector_matches_when_the_host_has_an_ingress_name_and_the_route_none(tmp_path: Path) -> None:
    host = HOST + "    selector: {app: apigee-ingressgateway, ingress_name: a}\n"
    assert codes(tmp_path, {"o.yaml": host, "r.yaml": ROUTE}) == []


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ("[{number: 8443, protocol: HTTPS, tls: {credentialName: x, mode: SIMPLE}}]", "has no port 443"),
        ("[{number: 443, protocol: HTTP, tls: {credentialName: x, mode: SIMPLE}}]", "protocol is not HTTPS"),
        ("[{number: 443, protocol: HTTPS, tls: {credentialName: x, mode: PASSTHROUGH}}]", "tls.mode"),
        ("[{number: 443, protocol: HTTPS}]", "it has no tls"),
    ],
)
def test_route_tls_incomplete(tmp_path: Path, ports: str, expected: str) -> None:
    route = ROUTE.replace(
        "  ports:\n  - number: 443\n    protocol: HTTPS\n    tls: {credentialName: prod-tls, mode: SIMPLE}\n",
        f"  ports: {ports}\n",
    )
    found = [f for f in run_on(tmp_path, {"o.yaml": HOST, "r.yaml": route}) if f.code == "APG108"]
    assert len(found) == 1 and expected in found[0].message


def test_an_http_only_route_is_not_a_non_sni_route(tmp_path: Path) -> None:
    """Apigee's own http-client component: `enableNonSniClient: true` on a route whose only
    port is 80/HTTP, linked through additionalGateways. It serves plain-HTTP clients; APG108
    called it an error for lacking a 443 port."""
    route = ROUTE.replace(
        "  - number: 443\n    protocol: HTTPS\n    tls: {credentialName: prod-tls, mode: SIMPLE}\n",
        "  - number: 80\n    protocol: HTTP\n",
    )
    files = {"o.yaml": HOST, "r.yaml": route}
    assert codes(tmp_path, files) == []
    # It gives TLS clients without SNI nothing, so a policy that requires them still asks.
    found = run_on(tmp_path, files, REQUIRED)
    assert [f.code for f in found] == ["APG101", "APG103"]  # no route for it, and none listed
    assert "ApigeeRoute 'non-sni' serves plain HTTP only" in found[0].message
    assert [(r.location.path.name, r.location.line) for r in found[0].related] == [("r.yaml", 8)]
    assert "no ApigeeRoute with hostnames" not in found[0].message  # the file has one


def test_credential_mismatch_is_an_inferred_warning(tmp_path: Path) -> None:
    (finding,) = run_on(tmp_path, {"o.yaml": HOST.replace("prod-tls", "other-tls"), "r.yaml": ROUTE})
    assert finding.code == "APG109" and finding.severity is Severity.WARNING
    assert "inferred" in finding.message and finding.location.path.name == "r.yaml"


def test_credential_from_cert_paths_needs_the_org(tmp_path: Path) -> None:
    host = (
        "virtualhosts:\n  - name: prod\n    sslCertPath: c.pem\n    sslKeyPath: k.pem\n"
        "    additionalGateways: [non-sni]\n"
    )
    assert codes(tmp_path, {"o.yaml": host, "r.yaml": ROUTE}) == []  # org unknown: undecided
    found = run_on(tmp_path, {"o.yaml": host, "r.yaml": ROUTE}, {"apigee": {"org": "acme"}})
    assert [f.code for f in found] == ["APG109"] and "'acme-prod'" in found[0].message
    good = ROUTE.replace("prod-tls", "acme-prod")
    assert codes(tmp_path, {"o.yaml": "org: acme\n" + host, "r.yaml": good}) == []


def test_route_namespace(tmp_path: Path) -> None:
    route = ROUTE.replace("namespace: apigee", "namespace: istio-system")
    (finding,) = run_on(tmp_path, {"o.yaml": HOST, "r.yaml": route})
    assert finding.code == "APG110" and finding.location.line == 5
    assert codes(tmp_path, {"o.yaml": HOST, "r.yaml": route}, {"apigee": {"namespace": "istio-system"}}) == []


def test_route_config_is_a_host(tmp_path: Path) -> None:
    config = (
        "apiVersion: apigee.cloud.google.com/v1alpha1\nkind: ApigeeRouteConfig\n"
        "metadata: {name: acme-prod, namespace: apigee}\n"
        "spec:\n  selector: {app: apigee-ingressgateway}\n"
        "  tls:\n    mode: SIMPLE\n    secretNameRef: prod-tls\n"
    )
    found = run_on(tmp_path, {"c.yaml": config, "r.yaml": ROUTE})
    assert [(f.code, f.severity) for f in found] == [("APG103", Severity.WARNING)]
    linked = config.replace("  selector:", "  additionalGateways: [non-sni]\n  selector:")
    assert codes(tmp_path, {"c.yaml": linked, "r.yaml": ROUTE}) == []
    enabled = config.replace("  selector:", "  enableNonSniClient: true\n  selector:")
    assert "APG301" in codes(tmp_path, {"c.yaml": enabled}, {"apigee": {"non-sni": "forbidden"}})


def test_schema_typo_in_a_route_with_did_you_mean_and_line(tmp_path: Path) -> None:
    route = ROUTE.replace("enableNonSniClient", "enableNonSNIClient")
    found = [f for f in run_on(tmp_path, {"r.yaml": route}) if f.code == "APG201"]
    (finding,) = found
    assert "unknown key 'enableNonSNIClient'" in finding.message
    assert "did you mean 'enableNonSniClient'?" in finding.message
    assert (finding.location.line, finding.location.column) == (13, 3)


def test_schema_wrong_types(tmp_path: Path) -> None:
    text = "virtualhosts: {name: prod}\n"
    (finding,) = run_on(tmp_path, {"o.yaml": text})
    assert finding.code == "APG201" and "must be a list" in finding.message
    text = "virtualhosts:\n  - name: prod\n    additionalGateways: non-sni\n"
    (finding,) = run_on(tmp_path, {"o.yaml": text})
    assert finding.code == "APG201" and "must be a list" in finding.message and finding.location.line == 3


def test_tls_versions(tmp_path: Path) -> None:
    text = "virtualhosts:\n  - name: prod\n    minTLSProtocolVersion: 1.2\n    maxTLSProtocolVersion: '1.1'\n"
    found = sorted((f.code, f.location.line, f.severity) for f in run_on(tmp_path, {"o.yaml": text}))
    assert found == [("APG202", 3, Severity.WARNING), ("APG203", 3, Severity.ERROR)]
    route = ROUTE.replace("mode: SIMPLE}", "mode: SIMPLE, minProtocolVersion: TLSV1_1}")
    found_route = run_on(tmp_path, {"o.yaml": HOST, "r.yaml": route})
    assert [(f.code, f.severity) for f in found_route] == [("APG203", Severity.WARNING)]


def test_names(tmp_path: Path) -> None:
    text = "virtualhosts:\n  - name: -prod\n    sslSecret: s\ningressGateways:\n  - name: Ingress\n"
    assert sorted(codes(tmp_path, {"o.yaml": text})) == ["APG204", "APG204"]
    long_name = "a" * 254
    assert codes(tmp_path, {"o.yaml": f"virtualhosts:\n  - name: {long_name}\n"}) == ["APG204"]


def test_a_host_without_selector_matches_an_asm_era_route(tmp_path: Path) -> None:
    # Up to hybrid 1.7 a host without a selector was served by istio-ingressgateway (ASM).
    route = ROUTE.replace("{app: apigee-ingressgateway}", "{app: istio-ingressgateway}")
    assert codes(tmp_path, {"o.yaml": HOST, "r.yaml": route}) == []
    # ingressGateways exist from 1.8 on, where such a host gets apigee-ingressgateway.
    host = HOST + "ingressGateways:\n  - name: ingress-a\n"
    (finding,) = run_on(tmp_path, {"o.yaml": host, "r.yaml": route})
    assert finding.code == "APG107" and "the host sets no selector" in finding.message
    assert "'apigee-ingressgateway' on the host" not in finding.message


# -- two installations in one repository (/tmp/t3/pool) ----------------------------------
OLD_CLUSTER = {
    # ASM era (hybrid 1.7): no ingressGateways, a host without selector, the route on istio's gateway.
    "cluster-old/overrides.yaml": (
        "org: old-org\nvirtualhosts:\n- name: grp\n  sslSecret: old-tls\n"
        '  additionalGateways: ["apigee-route-non-sni"]\n'
    ),
    "cluster-old/route.yaml": ROUTE.replace("name: non-sni", "name: apigee-route-non-sni")
    .replace("prod-tls", "old-tls")
    .replace("app: apigee-ingressgateway", "app: istio-ingressgateway"),
}
NEW_CLUSTER = {
    "cluster-new/overrides.yaml": (
        "org: new-org\ningressGateways:\n- name: ing\nvirtualhosts:\n- name: grp2\n"
        "  selector: {app: apigee-ingressgateway, ingress_name: ing}\n  sslSecret: new-tls\n"
    ),
}


def test_each_installation_is_checked_with_its_own_files(tmp_path: Path) -> None:
    """The old cluster's host is ASM-era (its own overrides declare no ingressGateways), and
    its route serves it; the new cluster's ingressGateways and its host do not make that an
    APG107, and the old cluster's wildcard route does not ask the new cluster for one."""
    alone = check_files(tmp_path, {**OLD_CLUSTER, **NEW_CLUSTER}, target="cluster-old").findings
    assert alone == []
    assert run_on(tmp_path, {**OLD_CLUSTER, **NEW_CLUSTER}) == []
    assert check_files(tmp_path, {}, target="cluster-new").findings == []


def test_a_route_belongs_to_the_installation_of_the_nearest_overrides(tmp_path: Path) -> None:
    """The new cluster's host lists the old cluster's route by name: that route is in the
    other cluster's tree, so it is no route of the new cluster's."""
    linked = NEW_CLUSTER["cluster-new/overrides.yaml"] + '  additionalGateways: ["apigee-route-non-sni"]\n'
    files = {**OLD_CLUSTER, "cluster-new/overrides.yaml": linked}
    # No route manifest in the new cluster's tree: the old cluster's does not count, and
    # the message says whose routes were looked for (the old cluster's route is checked).
    [finding] = run_on(tmp_path, files)
    assert (finding.code, finding.location.path.parent.name) == ("APG100", "cluster-new")
    assert "no ApigeeRoute manifest is among the checked files of org 'new-org'" in finding.message
    # The same finding when the new cluster is checked alone, in the words of one installation.
    [alone] = check_files(tmp_path, {}, target="cluster-new").findings
    assert (alone.code, alone.location) == (finding.code, finding.location)


def test_overrides_of_one_org_and_routes_beside_both_stay_one_installation(tmp_path: Path) -> None:
    """docs/apigee.md's layout: overrides/prod.yaml and overrides/test.yaml beside one
    k8s/routes/: the route serves both (different orgs), as before."""
    files = {
        "overrides/prod.yaml": "org: a\n" + HOST,
        "overrides/test.yaml": "org: b\n" + HOST,
        "k8s/routes/non-sni-route.yaml": ROUTE,
    }
    assert run_on(tmp_path, files, REQUIRED) == []
    files["overrides/test.yaml"] = "org: b\n" + HOST.replace("non-sni]", "non-snii]")
    assert [(f.code, f.location.path.name) for f in run_on(tmp_path, files, REQUIRED)] == [
        ("APG103", "test.yaml"),
        ("APG104", "test.yaml"),
    ]
