"""The Kubernetes gateway rules beyond their catalogue examples: linking across files
and objects, the non-SNI policy's signals, replica counts, and the real corpus."""

from __future__ import annotations

from pathlib import Path

from conftest import kustomize_binary, shared_path
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.findings import Severity

GATEWAY = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: {name}
  namespace: istio-ingress
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {{number: 443, name: https-{name}, protocol: HTTPS}}
    hosts: [{hosts}]
    tls: {{mode: SIMPLE, credentialName: {name}-tls}}
"""
REQUIRED = {"kubernetes": {"non-sni": "required"}}


def gateway(name: str, hosts: str) -> str:
    return GATEWAY.format(name=name, hosts=hosts)


def found(
    tmp_path: Path, files: dict[str, str], mapping: dict[str, object] | None = None
) -> list[tuple[str, str, int]]:
    result = check_files(tmp_path, files, mapping)
    return [(f.location.path.name, f.code, f.location.line) for f in result.findings]


# -- GW101 ----------------------------------------------------------------------------
def test_servers_of_gateways_with_one_selector_are_merged_across_files(tmp_path: Path) -> None:
    files = {"shop.yaml": gateway("shop", "shop.example.com"), "default.yaml": gateway("default", '"*"')}
    assert found(tmp_path, files, {**REQUIRED, "select": ["GW101"]}) == []
    del files["default.yaml"]
    assert found(tmp_path / "alone", files, {**REQUIRED, "select": ["GW101"]}) == [("shop.yaml", "GW101", 11)]


def test_an_ingress_routing_to_the_gateway_service_is_a_load_balancer_in_front(tmp_path: Path) -> None:
    service = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: istio-ingressgateway, namespace: istio-ingress}\n"
        "spec:\n  type: NodePort\n  selector: {app: istio-ingressgateway, istio: ingressgateway}\n"
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\n"
        "metadata: {name: gclb, namespace: istio-ingress}\n"
        "spec:\n  defaultBackend:\n    service: {name: istio-ingressgateway, port: {number: 443}}\n"
    )
    result = check_files(tmp_path, {"gw.yaml": gateway("shop", "shop.example.com"), "front.yaml": service})
    (finding,) = [f for f in result.findings if f.code == "GW101"]
    assert finding.severity == Severity.WARNING
    assert finding.message.startswith("Ingress 'gclb' routes to the gateway's Service 'istio-ingressgateway'")


def test_gateway_api_infrastructure_annotations_and_the_forbidden_policy(tmp_path: Path) -> None:
    text = (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: public}\nspec:\n"
        "  gatewayClassName: istio\n  infrastructure:\n"
        "    annotations: {service.beta.kubernetes.io/aws-load-balancer-type: external}\n"
        "  listeners:\n  - {name: https, hostname: a.example.com, port: 443, protocol: HTTPS,"
        " tls: {certificateRefs: [{name: a}]}}\n"
    )
    result = check_files(tmp_path, {"gw.yaml": text}, {"select": ["GW101"]})
    (finding,) = result.findings
    assert (
        "sets the load-balancer annotation service.beta.kubernetes.io/aws-load-balancer-type"
        in finding.message
    )
    forbidden = {"non-sni": "required", "kubernetes": {"non-sni": "forbidden"}, "select": ["GW101"]}
    assert found(tmp_path, {"gw.yaml": text}, forbidden) == []


def test_a_templated_host_or_selector_is_not_judged(tmp_path: Path) -> None:
    templated = gateway("shop", '"{{ .Values.host }}"')
    selector = gateway("api", "api.example.com").replace("istio: ingressgateway", "istio: ${GATEWAY}")
    assert found(tmp_path, {"a.yaml": templated, "b.yaml": selector}, {**REQUIRED, "select": ["GW101"]}) == []


def test_the_catch_all_fix_in_a_flow_list_and_without_a_credential(tmp_path: Path) -> None:
    text = (
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw}\n"
        "spec: {selector: {istio: ingressgateway}, servers: ["
        "{port: {number: 443, name: https, protocol: HTTPS},"
        " hosts: [a.example.com], tls: {mode: SIMPLE, credentialName: a}}]}\n"
    )
    result = check_files(tmp_path, {"gw.yaml": text}, {**REQUIRED, "select": ["GW101"]})
    (finding,) = result.findings
    assert finding.fix is None and "kubernetes.catch-all-credential" in finding.fix_note
    mapping = {"kubernetes": {"non-sni": "required", "catch-all-credential": "wild"}, "select": ["GW101"]}
    (finding,) = check_files(tmp_path, {"gw.yaml": text}, mapping).findings
    assert finding.fix is not None and not finding.fix.safe
    (edit,) = finding.fix.edits
    assert edit.replacement == (
        ', {port: {number: 443, name: https-catch-all, protocol: HTTPS}, hosts: ["*"], '
        "tls: {mode: SIMPLE, credentialName: wild}}"
    )


# -- GW102, GW103, GW104 -----------------------------------------------------------------
def test_one_gateway_written_per_overlay_is_not_a_duplicate(tmp_path: Path) -> None:
    files = {"prod/gw.yaml": gateway("shop", '"*"'), "staging/gw.yaml": gateway("shop", '"*"')}
    assert found(tmp_path, files, {"select": ["GW102"]}) == []
    files["staging/other.yaml"] = gateway("other", '"*"')
    assert [c for _, c, _ in found(tmp_path, files, {"select": ["GW102"]})] == ["GW102"]


def test_a_virtual_service_names_a_gateway_of_its_own_namespace_without_a_prefix(tmp_path: Path) -> None:
    text = gateway("web", '"*.example.com"')
    service = (
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: www, namespace: {ns}}}\n"
        "spec: {{hosts: [example.com], gateways: [web], "
        "http: [{{route: [{{destination: {{host: www}}}}]}}]}}\n"
    )
    same = {"gw.yaml": text, "vs.yaml": service.format(ns="istio-ingress")}
    other = {"gw.yaml": text, "vs.yaml": service.format(ns="web")}
    assert [c for _, c, _ in found(tmp_path, same, {"select": ["GW103"]})] == ["GW103"]
    assert found(tmp_path / "other", other, {"select": ["GW103"]}) == []


def test_replicas_of_an_istio_gateway_api_deployment(tmp_path: Path) -> None:
    text = (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
        "metadata: {{name: public, namespace: web}}\nspec:\n"
        "  gatewayClassName: {cls}\n  listeners:\n  - {{name: https, port: 443, protocol: HTTPS,"
        " tls: {{certificateRefs: [{{name: a}}]}}}}\n"
        "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
        "metadata: {{name: public, namespace: web}}\n"
        "spec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: public-istio}}\n"
        "  minReplicas: 2\n  maxReplicas: 6\n"
    )
    result = check_files(tmp_path, {"gw.yaml": text.format(cls="istio")}, {"select": ["GW104"]})
    (finding,) = result.findings
    assert "up to 6 replicas of Gateway API Gateway 'public'" in finding.message
    assert found(tmp_path / "other", {"gw.yaml": text.format(cls="eg")}, {"select": ["GW104"]}) == []


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-ingressgateway, namespace: istio-ingress}
spec:
  replicas: 3
  template:
    metadata: {labels: {istio: ingressgateway}}
    spec: {containers: [{name: istio-proxy, image: auto}]}
"""
ENVOY_FILTER = """\
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {{name: ticket-keys, namespace: {namespace}}}
spec:
  {target}
  configPatches:
  - applyTo: FILTER_CHAIN
    match: {{context: {context}}}
    patch:
      operation: MERGE
      value:
        transport_socket:
          name: envoy.transport_sockets.tls
          typed_config:
            "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
            session_ticket_keys: {{keys: [{{filename: /etc/istio/ticket-keys/current.key}}]}}
"""


def envoy_filter(target: str, namespace: str = "istio-ingress", context: str = "GATEWAY") -> str:
    return ENVOY_FILTER.format(target=target, namespace=namespace, context=context)


def test_an_envoy_filter_that_shares_ticket_keys_among_the_gateway_pods(tmp_path: Path) -> None:
    """GW104's own way out, found where it reaches the gateway's pods, and only there."""
    files = {"gw.yaml": gateway("shop", '"*"'), "deploy.yaml": DEPLOYMENT}
    select = {"select": ["GW104"]}
    assert [c for _, c, _ in found(tmp_path / "none", files, select)] == ["GW104"]
    silent = {
        "selected": envoy_filter("workloadSelector: {labels: {istio: ingressgateway}}"),
        "root": envoy_filter("workloadSelector: {}", namespace="istio-system"),
        "same-namespace": envoy_filter("workloadSelector: {}"),
    }
    for name, text in silent.items():
        assert found(tmp_path / name, {**files, "ef.yaml": text}, select) == [], name
    reported = {
        "other-pods": envoy_filter("workloadSelector: {labels: {istio: eastwestgateway}}"),
        "other-namespace": envoy_filter("workloadSelector: {}", namespace="shop"),
        "sidecars": envoy_filter(
            "workloadSelector: {labels: {istio: ingressgateway}}", context="SIDECAR_INBOUND"
        ),
        "gateway-api-target": envoy_filter(
            "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: shop}]"
        ),
    }
    for name, text in reported.items():
        assert [c for _, c, _ in found(tmp_path / name, {**files, "ef.yaml": text}, select)] == ["GW104"], (
            name
        )
    api = (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: public, namespace: web}\n"
        "spec:\n  gatewayClassName: istio\n  listeners:\n"
        "  - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: a}]}}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: public-istio, namespace: web}\n"
        "spec: {replicas: 2}\n"
    )
    target = envoy_filter(
        "targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: public}]", "web"
    )
    assert [c for _, c, _ in found(tmp_path / "api", {"gw.yaml": api}, select)] == ["GW104"]
    assert found(tmp_path / "api-target", {"gw.yaml": api, "ef.yaml": target}, select) == []
    labelled = envoy_filter(
        "workloadSelector: {labels: {gateway.networking.k8s.io/gateway-name: public}}", "web"
    )
    assert found(tmp_path / "api-labels", {"gw.yaml": api, "ef.yaml": labelled}, select) == []


# -- ingress-nginx ------------------------------------------------------------------------
CONTROLLER = """\
apiVersion: apps/v1
kind: {kind}
metadata: {{name: ingress-nginx-controller, namespace: ingress-nginx}}
spec:
  template:
    spec:
      containers:
      - name: controller
        image: registry.k8s.io/ingress-nginx/controller:v1.13.9
        args: [/nginx-ingress-controller, --configmap=$(POD_NAMESPACE)/{configmap}]
"""
CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: ingress-nginx-controller, namespace: ingress-nginx}
data:
  keep-alive: ""
"""


def test_a_daemonset_controller_and_a_controller_named_for_another_configmap(tmp_path: Path) -> None:
    daemon = CONTROLLER.format(kind="DaemonSet", configmap="ingress-nginx-controller")
    result = check_files(tmp_path, {"cm.yaml": CONFIG_MAP, "ds.yaml": daemon}, {"select": ["ING111"]})
    (finding,) = result.findings
    assert "runs one pod a node" in finding.message and finding.location.path.name == "ds.yaml"
    other = CONTROLLER.format(kind="Deployment", configmap="other").replace(
        "spec:\n  template", "spec:\n  replicas: 3\n  template"
    )
    assert found(tmp_path / "b", {"cm.yaml": CONFIG_MAP, "d.yaml": other}, {"select": ["ING111"]}) == []


def test_chart_autoscaling_without_a_maximum_takes_the_charts_eleven(tmp_path: Path) -> None:
    values = "controller:\n  autoscaling:\n    enabled: true\n  config:\n    use-forwarded-headers: 'true'\n"
    result = check_files(tmp_path, {"ingress-nginx/values.yaml": values}, {"select": ["ING111"]})
    (finding,) = result.findings
    assert "up to 11 replicas" in finding.message and finding.location.line == 3


def test_tickets_off_is_called_the_default_only_where_nothing_sets_it(tmp_path: Path) -> None:
    # `ssl-session-tickets: "false"` written in the ConfigMap was reported as "off (the default)".
    base = "controller:\n  replicaCount: 3\n  config:\n    use-forwarded-headers: 'true'\n"
    wordings = {
        "": "ssl-session-tickets is off (the default since controller v0.40.0), so",
        "    ssl-session-tickets: 'false'\n": "ssl-session-tickets is off, so",
        "    ssl-session-tickets: 'nope'\n": "is off (the default: 'nope' does not decode, ING102), so",
    }
    for index, (line, wording) in enumerate(wordings.items()):
        files = {"ingress-nginx/values.yaml": base + line}
        (finding,) = check_files(tmp_path / str(index), files, {"select": ["ING111"]}).findings
        assert wording in finding.message, finding.message


def test_no_cache_and_no_tickets_is_no_resumption_not_per_pod_state(tmp_path: Path) -> None:
    """ING111 said that sessions live in each pod's session cache, and advised sticky
    balancing, where `ssl-session-cache: "false"` leaves nginx with no cache at all (and
    tickets are off): nothing resumes on any pod. ING112 says that, ING111 nothing."""
    select = {"select": ["ING103", "ING111", "ING112"]}
    base = 'controller:\n  replicaCount: {replicas}\n  config:\n    ssl-session-cache: "false"\n'
    for replicas in (3, 1):
        files = {"ingress-nginx/values.yaml": base.format(replicas=replicas)}
        (finding,) = check_files(tmp_path / str(replicas), files, select).findings
        assert finding.code == "ING112" and finding.severity is Severity.ERROR
        assert finding.location.line == 4 and "no TLS session is ever resumed, on any pod" in finding.message
        assert "sticky" not in finding.message and "own session cache" not in finding.message
    # Tickets on without a shared key: the pods resume by ticket, each with its own keys.
    tickets = base.format(replicas=3) + "    ssl-session-tickets: 'true'\n"
    (finding,) = check_files(tmp_path / "tickets", {"ingress-nginx/values.yaml": tickets}, select).findings
    assert finding.code == "ING111" and "each pod encrypts tickets with its own keys" in finding.message
    # The cache on (explicitly, or by a value that does not decode): ING111 as before.
    for name, value in {"on": "'true'", "undecodable": "'no'"}.items():
        text = base.format(replicas=3).replace('"false"', value)
        codes = [
            f.code for f in check_files(tmp_path / name, {"ingress-nginx/values.yaml": text}, select).findings
        ]
        assert codes == ["ING111"], name
    # A timeout beside it: ING103 says that it is not read; no resumption is ING112's alone.
    timeout = base.format(replicas=3) + "    ssl-session-timeout: 1d\n"
    result = check_files(tmp_path / "timeout", {"ingress-nginx/values.yaml": timeout}, select)
    assert sorted(f.code for f in result.findings) == ["ING103", "ING112"]


def test_chart_values_without_config_are_not_called_its_tls_settings(tmp_path: Path) -> None:
    # A HelmRelease whose values set only controller.service and replicaCount: the related
    # location (the controller mapping's first key) was labelled "(controller.config)".
    values = "controller:\n  service:\n    type: LoadBalancer\n  replicaCount: 2\n"
    result = check_files(tmp_path, {"ingress-nginx/values.yaml": values}, {"select": ["ING111"]})
    (finding,) = result.findings
    (related,) = finding.related
    assert related.location.line == 2
    assert "TLS settings" not in related.message
    assert related.message.endswith("(controller.config): no config, so every key keeps its default")
    configured = values + "  config:\n    use-forwarded-headers: 'true'\n"
    files = {"ingress-nginx/values.yaml": configured}
    (finding,) = check_files(tmp_path / "b", files, {"select": ["ING111"]}).findings
    (related,) = finding.related
    assert related.message.startswith("the TLS settings of") and related.location.line == 5


SERVICE = """\
apiVersion: v1
kind: Service
metadata: {{name: {name}, namespace: ingress-nginx}}
spec:
  {spec}
  selector: {{app.kubernetes.io/name: {app}}}
  ports:
  - {{name: https, port: 443, targetPort: {target}}}
"""


def sticky_files(*services: str) -> dict[str, str]:
    """A controller of three pods with its ConfigMap (tickets off), and the Services given."""
    controller = CONTROLLER.format(kind="Deployment", configmap="ingress-nginx-controller").replace(
        "spec:\n  template:\n    spec:",
        "spec:\n  replicas: 3\n  template:\n"
        "    metadata:\n      labels: {app.kubernetes.io/name: ingress-nginx}\n    spec:",
    )
    files = {"cm.yaml": CONFIG_MAP, "deploy.yaml": controller}
    files.update({f"svc{i}.yaml": text for i, text in enumerate(services)})
    return files


def service(
    spec: str, name: str = "ingress-nginx-controller", app: str = "ingress-nginx", target: str = "https"
) -> str:
    return SERVICE.format(name=name, spec=spec, app=app, target=target)


def test_a_sticky_service_in_front_of_the_controller(tmp_path: Path) -> None:
    """ING111 told users to make balancing sticky by client address where the
    controller's Service already set sessionAffinity: ClientIP."""
    select = {"select": ["ING111"]}
    (plain,) = check_files(tmp_path / "none", sticky_files(service("type: ClusterIP")), select).findings
    assert plain.severity is Severity.WARNING and "Make the load balancer sticky" in plain.message
    inside = service("type: ClusterIP\n  sessionAffinity: ClientIP")
    assert found(tmp_path / "inside", sticky_files(inside), select) == []
    balanced = service("type: LoadBalancer\n  sessionAffinity: ClientIP")
    (finding,) = check_files(tmp_path / "lb", sticky_files(balanced), select).findings
    assert finding.severity is Severity.INFO
    assert "already set by Service 'ingress-nginx-controller'" in finding.message
    assert "Make the load balancer sticky" not in finding.message
    assert "kube-proxy keeps that affinity on each node apart" in finding.message
    assert [r.location.line for r in finding.related][-1] == 6
    local = service("type: NodePort\n  externalTrafficPolicy: Local\n  sessionAffinity: ClientIP")
    (finding,) = check_files(tmp_path / "local", sticky_files(local), select).findings
    assert "type: NodePort" in finding.message and "externalTrafficPolicy: Local" in finding.message
    # Affinity on a Service that does not reach the controller's HTTPS port, or only on
    # one of two that do, leaves clients spread.
    reported = {
        "other-pods": sticky_files(service("sessionAffinity: ClientIP", app="web")),
        "webhook": sticky_files(service("sessionAffinity: ClientIP", target="webhook")),
        "one-of-two": sticky_files(inside, service("type: LoadBalancer", name="public")),
        "templated": sticky_files(service("sessionAffinity: ${AFFINITY}")),
    }
    for name, files in reported.items():
        (finding,) = check_files(tmp_path / name, files, select).findings
        assert finding.severity is Severity.WARNING, name
        assert "Make the load balancer sticky" in finding.message, name


def test_chart_values_with_a_sticky_controller_service(tmp_path: Path) -> None:
    select = {"select": ["ING111"]}
    values = (
        "controller:\n  replicaCount: 3\n  service:\n{service}  config: {{use-forwarded-headers: 'true'}}\n"
    )

    def run_values(name: str, service: str) -> list:
        files = {"ingress-nginx/values.yaml": values.format(service=service)}
        return check_files(tmp_path / name, files, select).findings

    (plain,) = run_values("plain", "    type: LoadBalancer\n")
    assert plain.severity is Severity.WARNING
    (default,) = run_values("default-type", "    sessionAffinity: ClientIP\n")
    assert default.severity is Severity.INFO and "type: LoadBalancer (the default)" in default.message
    assert "already set by the ingress-nginx chart values (controller.service)" in default.message
    assert run_values("cluster-ip", "    type: ClusterIP\n    sessionAffinity: ClientIP\n") == []
    # The internal Service takes its own sessionAffinity, not the external one's.
    internal = "    internal:\n      enabled: true\n      annotations: {{a: b}}\n{affinity}"
    both = "    type: ClusterIP\n    sessionAffinity: ClientIP\n" + internal
    (finding,) = run_values("internal-plain", both.format(affinity=""))
    assert finding.severity is Severity.WARNING
    sticky = "      sessionAffinity: ClientIP\n"
    assert run_values("internal-inside", both.format(affinity=sticky)) == []  # type: ClusterIP, taken over
    (finding,) = run_values("internal-sticky", both.format(affinity=sticky + "      type: LoadBalancer\n"))
    assert finding.severity is Severity.INFO and "(controller.service.internal)" in finding.message
    external_off = "    external: {{enabled: false}}\n    type: ClusterIP\n" + internal
    sticky_internal = external_off.format(affinity="      sessionAffinity: ClientIP\n")
    # The external Service off, its lack of affinity does not count.
    assert run_values("internal-only", sticky_internal) == []


def test_an_empty_keep_alive_reads_as_zero(tmp_path: Path) -> None:
    (finding,) = check_files(tmp_path, {"cm.yaml": CONFIG_MAP}, {"select": ["ING101"]}).findings
    assert "(an empty value reads as 0)" in finding.message


GUNICORN = 'bind = "0.0.0.0:8000"\nworker_class = "gthread"\nthreads = 4\nkeepalive = 5  {comment}\n'
INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/{annotation}
spec:
  defaultBackend: {{service: {{name: web, port: {{number: 8000}}}}}}
"""


def test_the_backend_race_needs_a_link_and_a_kept_connection(tmp_path: Path) -> None:
    config = CONFIG_MAP.replace('keep-alive: ""', 'use-forwarded-headers: "true"')
    linked = {"backends": [{"upstream": "shop/web", "config": "gunicorn.conf.py"}], "select": ["ING105"]}
    files = {
        "cm.yaml": config,
        "ingress.yaml": INGRESS.format(annotation="proxy-body-size: 8m"),
        "gunicorn.conf.py": GUNICORN.format(comment=""),
    }
    assert found(tmp_path / "a", files, {"select": ["ING105"]}) == []  # not linked
    assert [c for _, c, _ in found(tmp_path / "b", files, linked)] == ["ING105"]
    files["ingress.yaml"] = INGRESS.format(annotation='proxy-http-version: "1.0"')
    assert found(tmp_path / "c", files, linked) == []
    files["ingress.yaml"] = INGRESS.format(annotation="proxy-body-size: 8m")
    files["gunicorn.conf.py"] = GUNICORN.format(comment="# tlslint: disable=ING105")
    assert found(tmp_path / "d", files, linked) == []


def test_annotations_not_close_to_one_tlslint_reads_are_left_alone(tmp_path: Path) -> None:
    text = INGRESS.format(annotation="custom-thing: x")
    assert found(tmp_path, {"ingress.yaml": text}, {"select": ["ING108"]}) == []


def test_the_retirement_notice_is_given_once_a_run(tmp_path: Path) -> None:
    files = {
        "a/cm.yaml": CONFIG_MAP,
        "b/ingress.yaml": INGRESS.format(annotation="proxy-body-size: 8m"),
        "c/values.yaml": "ingress-nginx:\n  controller: {replicaCount: 1}\n",
    }
    assert found(tmp_path, files, {"select": ["ING110"]}) == [("cm.yaml", "ING110", 1)]


def test_the_values_of_f5s_chart_are_not_ingress_nginxs(tmp_path: Path) -> None:
    """F5's NGINX Ingress Controller chart (nginx-ingress) has a `controller:` too, with
    other keys: in a directory named for it, it was read as ingress-nginx's values (a
    retirement notice, per-replica session state, its `entries` an unknown key)."""
    values = "controller:\n  replicaCount: 3\n  config:\n    {config}\n"
    f5 = {
        "keys": "controller:\n  nginxplus: false\n  replicaCount: 3\n",
        "entries": values.format(config="entries: {keepalive-timeout: 75s}"),
        "image": "controller:\n  image: {repository: nginx/nginx-ingress}\n  replicaCount: 3\n",
        "plus-image": "controller:\n  image:\n"
        "    repository: private-registry.nginx.com/nginx-ic/nginx-plus-ingress\n  replicaCount: 3\n",
    }
    for name, text in f5.items():
        assert found(tmp_path / name, {"nginx-ingress/values.yaml": text}) == [], name
    community = values.format(config="use-forwarded-headers: 'true'")
    assert [c for _, c, _ in found(tmp_path / "ingress-nginx", {"nginx-ingress/values.yaml": community})] == [
        "ING110",
        "ING111",
    ]


def test_minimal_values_are_ingress_nginxs_by_a_configmap_key_only_it_has(tmp_path: Path) -> None:
    """The common minimal values file (`controller: {config: {...}, service: {...}}`) names
    the chart nowhere: a ConfigMap key only ingress-nginx has makes it the chart's values
    (it was not even read: `keep-alive: "75s"` passed); keys other controllers share do not."""
    service = "  service:\n    targetPorts: {http: http, https: http}\n"
    block = "controller:\n  config:\n    use-proxy-protocol: 'true'\n    keep-alive: 75s\n" + service
    flow = 'controller:\n  replicaCount: 2\n  config: {"keep-alive": 75s}\n'
    for name, text in {"block": block, "flow": flow}.items():
        assert ("values.yaml", "ING102", 4 if name == "block" else 3) in found(
            tmp_path / name, {"deploy/values.yaml": text}
        ), name
    others = {
        # haproxy-ingress's chart: a controller.config of its own keys.
        "haproxy": "controller:\n  config:\n    timeout-keep-alive: 1m\n    use-proxy-protocol: 'true'\n",
        # F5's chart: its entries, even with a key ingress-nginx has too.
        "f5": "controller:\n  config:\n    entries: {keep-alive: 75s}\n",
        "no-config": "controller:\n  replicaCount: 3\n" + service,
    }
    for name, text in others.items():
        result = check_files(tmp_path / name, {"deploy/values.yaml": text})
        assert result.findings == [], name  # F5's is read (its key matches), never as ingress-nginx's
        assert name == "f5" or result.workspace.kubernetes is None, name


# -- the corpus ---------------------------------------------------------------------------
def test_the_corpus_has_no_gateway_files_and_no_gateway_findings() -> None:
    for name in ("apigee", "nginx"):
        directory = shared_path("corpus", name)
        for mapping in ({}, {"non-sni": "required"}):
            result = run([directory], settings_for(directory, {**mapping, "select": ["GW", "ING"]}))
            assert result.workspace.kubernetes is None
            assert [f for f in result.findings if f.code.startswith(("GW", "ING"))] == []


# -- rendered builds ---------------------------------------------------------------------
def test_kustomize_overlays_are_checked_as_deployments_and_mapped_back(tmp_path: Path) -> None:
    """Two overlays of one base: the prod patch adds the catch-all server, staging does not."""
    kustomize_binary()
    base = gateway("public", "shop.example.com")
    files = {
        "base/gateway.yaml": base,
        "base/kustomization.yaml": "resources:\n- gateway.yaml\n",
        "staging/kustomization.yaml": "resources:\n- ../base\n",
        "prod/kustomization.yaml": (
            "resources:\n- ../base\npatches:\n- target: {kind: Gateway, name: public}\n"
            "  patch: |-\n    - op: add\n      path: /spec/servers/-\n      value:\n"
            "        port: {number: 443, name: https-default, protocol: HTTPS}\n"
            '        hosts: ["*"]\n        tls: {mode: SIMPLE, credentialName: wildcard-tls}\n'
        ),
    }
    result = check_files(tmp_path, files, {**REQUIRED, "select": ["GW101"]})
    (finding,) = result.findings
    assert finding.location.path == tmp_path / "base" / "gateway.yaml" and finding.location.line == 11
    assert finding.message.endswith("[build: staging]")  # prod's patch adds the catch-all
