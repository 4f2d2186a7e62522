"""Loading Kubernetes gateway YAML: discovery, positions, multi-document files and
`kind: List`, documents from elsewhere, schemas, broken and hostile input, laziness."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import check_files, fix, settings_for
from hypothesis import given
from hypothesis import strategies as st

from tlslint.discovery import KUBERNETES, YAML, classify, discover
from tlslint.engine import run
from tlslint.findings import UNPARSED, Severity
from tlslint.sources.apigee.tree import Map, Scalar, Seq, parse
from tlslint.sources.kubernetes.documents import load_documents, load_source
from tlslint.sources.kubernetes.ingress_nginx import decode_bool, decode_int, known_key
from tlslint.sources.text import decode, read_source
from tlslint.workspace.kubernetes import Coverage, covers, load_kubernetes

GATEWAY = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: public-gateway
  namespace: istio-ingress
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["shop.example.com"]
    tls: {mode: SIMPLE, credentialName: shop-tls}
"""
ROUTE = """\
apiVersion: apigee.cloud.google.com/v1alpha1
kind: ApigeeRoute
metadata: {name: non-sni, namespace: apigee}
spec: {hostnames: ["*"], enableNonSniClient: true}
"""


def findings(
    tmp_path: Path, files: dict[str, str], mapping: dict[str, object] | None = None
) -> list[tuple[str, str, int]]:
    result = check_files(tmp_path, files, mapping)
    return [(f.location.path.name, f.code, f.location.line) for f in result.findings]


# -- discovery ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("gateway.yaml", GATEWAY),
        ("gw.yml", "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\n"),
        ("ingress.yaml", "kind: Ingress\nmetadata:\n  annotations:\n    nginx.ingress.kubernetes.io/a: b\n"),
        ("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ingress-nginx-controller}\n"),
        ("values.yaml", "controller:\n  admissionWebhooks:\n    enabled: false\n"),
        ("ingress-nginx/values.yaml", "controller:\n  replicaCount: 2\n"),
        ("parent/values.yaml", "ingress-nginx:\n  controller:\n    replicaCount: 2\n"),
        ("release.yaml", "kind: HelmRelease\nspec:\n  chart:\n    spec:\n      chart: ingress-nginx\n"),
        ("svc.yaml", "apiVersion: v1\nkind: Service\nspec:\n  selector: {istio: ingressgateway}\n"),
        ("vs.yaml", "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v}\n"),
    ],
)
@pytest.mark.parametrize("newline", ["\n", "\r"])  # a lone CR is a YAML line break too
def test_gateway_files_are_found_by_content(tmp_path: Path, name: str, text: str, newline: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode())
    assert classify(path, explicit=False) == KUBERNETES
    assert discover([tmp_path]).kubernetes == [path]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n"),
        ("kustomization.yaml", "resources:\n- deployment.yaml\n"),
        ("deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\n"),
        ("values.yaml", "controller:\n  replicas: 2\n"),  # another chart's controller
        ("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-settings}\n"),
    ],
)
def test_other_yaml_is_skipped_named_or_not(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    assert classify(path, explicit=True) is None
    assert discover([tmp_path]).kubernetes == []


@pytest.mark.parametrize("name", ["gateway.yaml.tpl", "gateway.yml.j2", "gateway.yaml.gotmpl"])
def test_a_named_yaml_template_is_read_as_yaml_never_as_nginx(tmp_path: Path, name: str) -> None:
    # Terraform and Ansible keep manifests as gateway.yaml.tpl with ${var} placeholders; named on
    # the command line, such a file was parsed as nginx ("apiVersion:" directive is not terminated).
    path = tmp_path / name
    path.write_text(GATEWAY.replace("shop.example.com", "shop.${domain}"), encoding="utf-8")
    assert classify(path, explicit=True) == KUBERNETES
    result = run([path], settings_for(tmp_path))
    assert not any(f.code.startswith("NGX") for f in result.findings)
    assert result.exit_code(Severity.WARNING) == 0
    assert discover([tmp_path]).kubernetes == []  # walking still skips templates


def test_a_named_template_that_is_no_manifest_is_not_read_as_nginx(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml.tpl"
    path.write_text("replicas: ${count}\n", encoding="utf-8")
    assert classify(path, explicit=True) is None


def test_a_file_with_apigee_and_istio_objects_goes_to_both_tiers(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yaml"
    path.write_text(ROUTE + "---\n" + GATEWAY, encoding="utf-8")
    found = discover([tmp_path])
    assert found.yaml == [path] and found.kubernetes == [path]
    assert classify(tmp_path / "mixed.yaml", explicit=False) not in (None, YAML, KUBERNETES)


def test_invalid_yaml_read_by_both_tiers_is_reported_once(tmp_path: Path) -> None:
    text = ROUTE + "---\n" + GATEWAY + "  bad: [unclosed\n"
    result = check_files(tmp_path, {"mixed.yaml": text})
    assert [f.code for f in result.findings if f.anchor == UNPARSED] == ["APG201"]
    assert result.exit_code(Severity.ERROR) == 2


# -- positions, documents ------------------------------------------------------------
def test_positions_survive_crlf_and_bom() -> None:
    data = ("\ufeff" + GATEWAY).replace("\n", "\r\n").encode()
    loaded = load_source(decode(Path("g.yaml"), data))
    (gateway,) = loaded.objects
    spec = gateway.spec
    assert spec is not None
    servers = spec.get("servers")
    assert isinstance(servers, Seq) and isinstance(servers.items[0], Map)
    credential = servers.items[0].get("tls").scalar("credentialName")  # type: ignore[union-attr]
    assert isinstance(credential, Scalar)
    assert (credential.line, credential.column) == (12, 41)
    assert loaded.source.text[credential.start : credential.end] == "shop-tls"


def test_multi_document_files_and_kind_list() -> None:
    items = "".join(
        f"- apiVersion: networking.istio.io/v1beta1\n  kind: Gateway\n  metadata: {{name: g{i}}}\n"
        f"  spec: {{selector: {{istio: ingressgateway}}, servers: []}}\n"
        for i in range(3)
    )
    text = GATEWAY + "---\n# a comment only\n---\napiVersion: v1\nkind: List\nitems:\n" + items
    loaded = load_source(decode(Path("all.yaml"), text.encode()))
    assert [o.name for o in loaded.objects] == ["public-gateway", "g0", "g1", "g2"]
    assert loaded.problems == []


def test_documents_parsed_elsewhere_load_the_same(tmp_path: Path) -> None:
    """A rendered build hands the tier its documents with their own source positions."""
    source = decode(tmp_path / "rendered.yaml", (GATEWAY + "---\n" + GATEWAY).encode())
    direct = load_source(source)
    handed = load_documents(source, parse(source))
    assert [o.anchor for o in handed.objects] == [o.anchor for o in direct.objects]
    assert [(o.node.start, o.node.end) for o in handed.objects] == [
        (o.node.start, o.node.end) for o in direct.objects
    ]


def test_chart_values_under_a_parent_chart_a_helm_release_and_an_argo_application(tmp_path: Path) -> None:
    text = (
        "ingress-nginx:\n  controller:\n    config: {keep-alive: '0'}\n"
        "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: ingress-nginx}\n"
        "spec:\n  chart:\n    spec: {chart: ingress-nginx, version: 4.15.1}\n"
        "  values:\n    controller:\n      config:\n        keep-alive: '0'\n"
        "---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: ingress-nginx}\n"
        "spec:\n  source:\n    chart: ingress-nginx\n    helm:\n      valuesObject:\n"
        "        controller:\n          config:\n            keep-alive: '0'\n"
    )
    assert [
        (c, line) for _, c, line in findings(tmp_path, {"platform.yaml": text}, {"select": ["ING101"]})
    ] == [
        ("ING101", 3),
        ("ING101", 14),
        ("ING101", 26),
    ]


ARGO_VALUES_STRING = (
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: ingress-nginx}}\n"
    "spec:\n  source:\n    chart: ingress-nginx\n    helm:\n      values: {style}\n"
    "        # the controller's settings\n        controller:\n          config:\n"
    "            keep-alive: '0'\n"
)


@pytest.mark.parametrize(
    ("style", "expected"), [("|", [("ING101", 12)]), ("|-", [("ING101", 12)]), (">", [])]
)
def test_an_argo_application_values_string(
    tmp_path: Path, style: str, expected: list[tuple[str, int]]
) -> None:
    """`helm.values: |` (the string form, common in public repositories) was not read: a
    keep-alive of 0 there went unreported. Its YAML is read in place: the finding and the
    fix are at the file's own line. A folded string (>) is not read: YAML moves its text."""
    text = ARGO_VALUES_STRING.format(style=style)
    found = findings(tmp_path, {"app.yaml": text}, {"select": ["ING101"]})
    assert [(code, line) for _, code, line in found] == expected
    if not expected:
        return
    after = fix(tmp_path / "fixed", {"app.yaml": text}, {"select": ["ING101"]}, unsafe=True)["app.yaml"]
    assert after.decode() == text.replace("keep-alive: '0'", "keep-alive: '75'")


def test_argo_valuesobject_wins_over_the_values_string(tmp_path: Path) -> None:
    text = ARGO_VALUES_STRING.format(style="|") + "      valuesObject:\n        controller: {config: {}}\n"
    assert findings(tmp_path, {"app.yaml": text}, {"select": ["ING101"]}) == []


ARGO_PARAMETERS = (
    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: ingress-nginx}}\n"
    "spec:\n  source:\n    chart: ingress-nginx\n    helm:\n      parameters:\n"
    '        - name: {name}\n          value: "{parameter}"\n'
    "      valuesObject:\n        controller:\n          config:\n            keep-alive: '{value}'\n"
)


@pytest.mark.parametrize(
    ("name", "parameter", "value", "expected"),
    [
        ("controller.config.keep-alive", "75", "0", []),  # the parameter wins: no keep-alive 0
        ("controller.config.keep-alive", "0", "75", [("ING101", 9)]),  # at the parameter
        ("controller.config.Keep-Alive", "0", "75", [("ING101", 9)]),  # case folded, as the key
        ("controller.config.keep-alive\\.x", "0", "75", []),  # another key (an escaped dot)
        ("controller.replicaCount", "0", "0", [("ING101", 14)]),
    ],
)
def test_argo_parameters_win_over_the_values(
    tmp_path: Path, name: str, parameter: str, value: str, expected: list[tuple[str, int]]
) -> None:
    """Argo CD passes helm.parameters as `helm --set`, over valuesObject: ING101 called a
    keep-alive of 0 in force where a parameter set 75."""
    text = ARGO_PARAMETERS.format(name=name, parameter=parameter, value=value)
    found = findings(tmp_path, {"app.yaml": text}, {"select": ["ING101"]})
    assert [(code, line) for _, code, line in found] == expected
    if expected and expected[0][1] == 9:
        after = fix(tmp_path / "fixed", {"app.yaml": text}, {"select": ["ING101"]}, unsafe=True)["app.yaml"]
        assert after.decode() == text.replace('value: "0"', 'value: "75"')


# -- schemas ------------------------------------------------------------------------
def test_did_you_mean_on_gateway_typos(tmp_path: Path) -> None:
    text = GATEWAY.replace("hosts:", "host:").replace("credentialName", "credentialname")
    api = (
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n"
        "  gatewayClassName: istio\n  listeners:\n  - name: https\n    hostnames: [a.example.com]\n"
        "    port: 443\n    protocol: HTTPS\n    tls: {certificateRef: [{name: a}]}\n"
    )
    result = check_files(tmp_path, {"g.yaml": text, "api.yaml": api}, {"select": ["GW002"]})
    messages = sorted(f.message for f in result.findings)
    assert any("unknown key 'host'" in m and "did you mean 'hosts'?" in m for m in messages)
    assert any("'credentialname'" in m and "did you mean 'credentialName'?" in m for m in messages)
    assert any("'hostnames'" in m and "did you mean 'hostname'?" in m for m in messages)
    assert any("'certificateRef'" in m and "did you mean 'certificateRefs'?" in m for m in messages)


def test_an_api_version_istio_does_not_serve(tmp_path: Path) -> None:
    text = GATEWAY.replace("networking.istio.io/v1", "networking.istio.io/v2")
    (finding,) = check_files(tmp_path, {"g.yaml": text}, {"select": ["GW002"]}).findings
    assert "networking.istio.io/v2" in finding.message and finding.location.line == 1


def test_unknown_keys_only_in_the_controller_configmap(tmp_path: Path) -> None:
    controller = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ingress-nginx-controller}\nspec:\n"
        "  template:\n    spec:\n      containers:\n      - name: controller\n"
        "        image: registry.k8s.io/ingress-nginx/controller:v1.15.1\n"
        "        args: [--configmap=$(POD_NAMESPACE)/nginx-settings, --tcp-services-configmap=ns/tcp]\n"
    )
    maps = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nginx-settings, namespace: ingress-nginx}\n"
        "data: {keepalive: '30', Keep-Alive: '30'}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ingress-nginx-tcp, namespace: ingress-nginx}\n"
        "data: {'9000': default/db:5432}\n"
    )
    result = check_files(tmp_path, {"deploy.yaml": controller, "maps.yaml": maps}, {"select": ["GW002"]})
    (finding,) = result.findings
    # `Keep-Alive` sets keep-alive (mapstructure folds case): the hint no longer proposes it.
    assert finding.message.endswith(
        "unknown key 'keepalive' in ConfigMap 'nginx-settings': no ingress-nginx release reads it, so "
        "the controller ignores it; the key it resembles, 'Keep-Alive', is set here already"
    )


# The CPTM8 performance document's ConfigMap (T7 P2): its keys are nginx's directive names.
DIRECTIVE_NAMED = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: ingress-nginx-controller
  namespace: ingress-nginx
data:
  keepalive-requests: "1000"
  keepalive-timeout: "75"
  upstream-keepalive-timeout: "60"
"""


def test_a_key_written_as_the_directive_is_pointed_at_the_key_that_renders_it(tmp_path: Path) -> None:
    """`keepalive-timeout` reads closest to `upstream-keepalive-timeout` (the pool's timeout,
    set two lines below: following the hint duplicated it and left the client's unset); the
    key for nginx's client keepalive_timeout is `keep-alive`."""
    result = check_files(tmp_path, {"cm.yaml": DIRECTIVE_NAMED}, {"select": ["GW002"]})
    hints = [f.message.split("ignores it")[1] for f in result.findings]
    assert hints == [
        "; did you mean 'keep-alive-requests' (nginx's keepalive_requests)?",
        "; did you mean 'keep-alive' (nginx's keepalive_timeout)?",
    ]
    both = DIRECTIVE_NAMED + '  keep-alive: "75"\n'
    result = check_files(tmp_path / "both", {"cm.yaml": both}, {"select": ["GW002"]})
    assert result.findings[1].message.endswith(
        "; the key it resembles, 'keep-alive' (nginx's keepalive_timeout), is set here already"
    )


def test_a_key_written_as_a_client_directive_no_key_renders_gets_no_upstream_key(tmp_path: Path) -> None:
    """No ConfigMap key renders the client's keepalive_time or keepalive_min_timeout
    (facts §1.2): the closest spellings, upstream-keepalive-time and -timeout, are the
    upstream pool's settings, and `keep-alive` renders keepalive_timeout."""
    cm = DIRECTIVE_NAMED.replace(
        '  keepalive-requests: "1000"\n  keepalive-timeout: "75"\n  upstream-keepalive-timeout: "60"\n',
        '  keepalive-time: "1h"\n  keepalive_time: "1h"\n  keepalive-min-timeout: "5s"\n',
    )
    result = check_files(tmp_path, {"cm.yaml": cm}, {"select": ["GW002"]})
    hints = [f.message.split("ignores it")[1] for f in result.findings]
    assert hints == [
        "; no ingress-nginx key renders nginx's keepalive_time for clients",
        "; no ingress-nginx key renders nginx's keepalive_time for clients",
        "; no ingress-nginx key renders nginx's keepalive_min_timeout for clients",
    ]


def test_duplicate_keys_and_templates(tmp_path: Path) -> None:
    duplicated = GATEWAY.replace("    tls: {mode", "    tls: {mode: SIMPLE}\n    tls: {mode")
    template = GATEWAY.replace("  servers:\n", "  servers:\n  {{- range .Values.servers }}\n")
    assert findings(tmp_path, {"dup.yaml": duplicated, "tpl.yaml": template}) == [
        ("dup.yaml", "GW003", 13),
        ("tpl.yaml", "GW001", 11),  # where reading stopped: the `{{- range }}` line reads as a key
    ]


@pytest.mark.parametrize(
    "text",
    [
        "a: &a [*a, *a]\n" + GATEWAY,
        "lol1: &l1 [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"lol{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(2, 10))
        + "---\n"
        + GATEWAY,
        "[" * 300 + "]" * 300 + "\n",
        GATEWAY + "  selector: " + "{a: " * 250 + "b" + "}" * 250 + "\n",
        "\x00\x01binary" + GATEWAY,
    ],
    ids=["recursive-alias", "billion-laughs", "deep-flow", "deep-mapping", "binary"],
)
def test_hostile_input_is_a_finding_never_a_traceback(tmp_path: Path, text: str) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    result = run([path], settings_for(tmp_path))  # named: read whatever it holds
    assert all(f.code.startswith(("GW", "APG", "ING")) for f in result.findings)


def test_a_file_above_max_file_size_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "gateway.yaml"
    path.write_text(GATEWAY + "#" * 5000 + "\n", encoding="utf-8")
    settings = settings_for(tmp_path, {"max-file-size": 1024})
    loaded = load_kubernetes([path], settings)
    (finding,) = loaded.findings
    assert finding.code == "GW002" and finding.anchor == UNPARSED and loaded.workspace.files == []


def test_suppression_comments(tmp_path: Path) -> None:
    text = GATEWAY.replace(
        '    hosts: ["shop.example.com"]', '    hosts: ["shop.example.com"]  # tlslint: disable=GW101'
    )
    assert findings(tmp_path, {"g.yaml": text}, {"non-sni": "required"}) == []
    assert (
        findings(
            tmp_path,
            {"g.yaml": "# tlslint: disable-file=non-sni-catch-all-missing\n" + GATEWAY},
            {"non-sni": "required"},
        )
        == []
    )


# -- Go's decoding of ConfigMap values --------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [("75", 75), ("", 0), ("0x10", 16), ("010", 8), ("1_000", 1000), ("+5", 5), ("-1", -1), ("0", 0),
     ("75s", None), ("08", None), ("1.5", None), (" 75", None), ("1e3", None),
     ("9223372036854775807", 2**63 - 1), ("9223372036854775808", None), ("0x" + "f" * 17, None),
     ("1" * 5_000, None)],
)  # fmt: skip
def test_integers_decode_as_go_parse_int_base_0(text: str, value: int | None) -> None:
    assert decode_int(text) == value


def test_booleans_decode_as_go_parse_bool() -> None:
    assert [decode_bool(t) for t in ("true", "True", "TRUE", "t", "1", "", "false", "F", "0")] == [
        True, True, True, True, True, False, False, False, False,
    ]  # fmt: skip
    assert [decode_bool(t) for t in ("yes", "on", "tRUE", "enabled")] == [None, None, None, None]
    assert known_key("Keep-Alive") and known_key("enable-opentracing") and not known_key("keepalive")


# -- laziness -----------------------------------------------------------------------------
PROBE = (
    "import sys; from pathlib import Path; from tests.helpers import settings_for; "
    "from tlslint.engine import run; "
    "result = run([Path(sys.argv[1])], settings_for(Path(sys.argv[1]))); "
    "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('tlslint'))))"
)
TIER = ("tlslint.workspace.kubernetes", "tlslint.sources.kubernetes.documents", "tlslint.checks.gw")


def imported_by_a_run(tmp_path: Path) -> list[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path)],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()


def test_a_run_without_gateway_files_imports_nothing_of_the_tier(tmp_path: Path) -> None:
    (tmp_path / "routes.yaml").write_text(ROUTE, encoding="utf-8")
    (tmp_path / "kustomization.yaml").write_text("resources: [routes.yaml]\n", encoding="utf-8")
    (tmp_path / "ci.yml").write_text("on: push\n", encoding="utf-8")
    imported = imported_by_a_run(tmp_path)
    assert "tlslint.workspace.apigee" in imported
    assert [m for m in imported if m.startswith(TIER)] == []


def test_a_run_with_a_gateway_loads_the_tier(tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text(GATEWAY, encoding="utf-8")
    imported = imported_by_a_run(tmp_path)
    assert (
        "tlslint.workspace.kubernetes" in imported
        and "tlslint.checks.gw101_non_sni_catch_all_missing" in imported
    )
    assert "tlslint.workspace.apigee" not in imported


def test_a_named_file_that_is_not_yaml_of_the_tier_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("image: {tag: 1.2}\n", encoding="utf-8")
    result = run([path], settings_for(tmp_path))
    assert result.findings == [] and result.workspace.kubernetes is None
    assert read_source(path, 2**20).text.startswith("image")


_LABELS = st.sampled_from(["a", "b", "Example", "example", "com", "x-1", ""])
_NAMES = st.lists(_LABELS, min_size=1, max_size=4).map(".".join)
_PATTERNS = st.one_of(_NAMES, _NAMES.map(lambda name: f"*.{name}"), st.just("*"))


@given(st.lists(_PATTERNS, max_size=6), _NAMES)
def test_coverage_answers_as_covers_over_every_pattern(patterns: list[str], name: str) -> None:
    """GW103 asks the index, not each server name in turn: the same answer."""
    assert Coverage(patterns)(name) == any(covers(pattern, name) for pattern in patterns)
