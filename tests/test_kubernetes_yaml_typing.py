"""How the gateway tier reads a value's YAML type as the tool that applies the file does.

Manifests (Istio and Gateway API Gateways, ConfigMaps, HelmReleases) are applied with
kubectl, whose YAML reader (go-yaml v2 through sigs.k8s.io/yaml) is YAML 1.1: a plain
`off` is false. Chart values are read by Helm with the same reader, and pass through JSON,
so every number reaches a template as a float64: ingress-nginx's chart quotes
`controller.config` into its ConfigMap, `off` as "false" and `1000000` as "1e+06". A
ConfigMap's data is strings: "off" reaches the controller as written, and Go's ParseBool
refuses it. The last tests hold these facts against the real kubectl, kustomize and helm.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import helm_binary, kubectl_binary, kustomize_binary
from helpers import check_files, fix, helm_render

from tlslint.findings import Finding, Severity
from tlslint.sources.apigee.tree import Map, Scalar, parse
from tlslint.sources.goyaml import YAML11_BOOLEANS
from tlslint.sources.kubernetes.helm_values import plain_reads_as, quoted_text, truthy, whole_number
from tlslint.sources.nginx.model import SourceText

CHART_KEYS = "  ingressClassResource:\n    name: nginx\n"


def values(config: str, extra: str = "") -> str:
    """ingress-nginx chart values with ``controller.config`` entries (one per line)."""
    lines = "".join(f"    {line}\n" for line in config.splitlines())
    return f"controller:\n{CHART_KEYS}{extra}  config:\n{lines}"


def config_map(data: str) -> str:
    lines = "".join(f"  {line}\n" for line in data.splitlines())
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-nginx-controller\n"
        f"  namespace: ingress-nginx\ndata:\n{lines}"
    )


def findings(tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None) -> list[Finding]:
    settings = {"ignore": ["ING110"], **(mapping or {})}
    return check_files(tmp_path, files, settings).findings


def by_code(found: list[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = {}
    for finding in found:
        grouped.setdefault(finding.code, []).append(finding)
    return grouped


# -- 1. chart values: a YAML 1.1 boolean is the boolean Helm reads ------------------------------
def test_use_http2_off_turns_http2_off_so_keep_alive_0_is_no_http2_error(tmp_path: Path) -> None:
    """Before: ING102 called `off` undecodable (the chart writes "false") and ING101 said HTTP/2
    was on."""
    found = findings(tmp_path, {"values.yaml": values("use-http2: off\nkeep-alive: 0")})
    assert found == []


@pytest.mark.parametrize("word", ["no", "No", "NO", "off", "Off", "n", "N"])
def test_a_yaml11_false_turns_the_session_cache_off(tmp_path: Path, word: str) -> None:
    text = values(f"ssl-session-cache: {word}\nssl-session-timeout: 1h")
    found = by_code(findings(tmp_path, {"values.yaml": text}))
    assert sorted(found) == ["ING103", "ING112"]
    assert "ssl-session-cache is false" in found["ING103"][0].message


@pytest.mark.parametrize("word", ["yes", "Yes", "on", "ON", "y", "Y"])
def test_a_yaml11_true_rejects_handshakes_without_sni(tmp_path: Path, word: str) -> None:
    (finding,) = findings(tmp_path, {"values.yaml": values(f"ssl-reject-handshake: {word}")})
    assert finding.code == "ING107" and "ssl-reject-handshake is true" in finding.message


def test_a_quoted_word_is_still_the_string_the_controller_refuses(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, {"values.yaml": values('use-http2: "off"')})
    assert finding.code == "ING102"
    assert "use-http2: 'off' in the ingress-nginx chart values" in finding.message
    out = fix(tmp_path, {"values.yaml": values('use-http2: "off"')}, {"ignore": ["ING110"]}, unsafe=True)
    assert out["values.yaml"] == values('use-http2: "false"').encode()


# -- 2. chart values: numbers are float64, printed as Go prints them -----------------------------
def test_a_million_reaches_the_configmap_as_1e06(tmp_path: Path) -> None:
    text = values("keep-alive-requests: 1000000\nupstream-keepalive-requests: 100000")
    (finding,) = findings(tmp_path, {"values.yaml": text})
    assert (finding.code, finding.location.line) == ("ING102", 5)
    assert finding.message.startswith(
        "keep-alive-requests: 1000000 in the ingress-nginx chart values (controller.config) reaches the "
        "ConfigMap as '1e+06' (Helm reads it as a number"
    )
    assert "keeps the default keep-alive-requests of 1000" in finding.message
    out = fix(tmp_path, {"values.yaml": text}, {"ignore": ["ING110"]}, unsafe=True)
    fixed = values('keep-alive-requests: "1000000"\nupstream-keepalive-requests: 100000')
    assert out["values.yaml"] == fixed.encode()  # quoted, though its neighbour is plain
    assert findings(tmp_path, {}) == []


@pytest.mark.parametrize("written", ["75.0", "0x4b", "1_000", "010"])
def test_numbers_helm_prints_as_integers_decode(tmp_path: Path, written: str) -> None:
    """75.0 prints as 75, 010 as 8 (YAML 1.1 octal): integers the controller decodes."""
    assert findings(tmp_path, {"values.yaml": values(f"keep-alive: {written}")}) == []


def test_proxy_http_version_1_0_becomes_1_which_nginx_refuses(tmp_path: Path) -> None:
    """Before: ING109 said every location proxies over HTTP/1.0; the chart writes "1", which
    nginx 1.22.1 -t refuses (invalid value "1"): no configuration change loads."""
    text = values("proxy-http-version: 1.0")
    (finding,) = findings(tmp_path, {"values.yaml": text})
    assert finding.code == "ING102" and finding.fix is None
    assert "reaches the ConfigMap as '1'" in finding.message
    assert "proxy_http_version 1; into every location, which nginx -t refuses" in finding.message
    assert finding.fix_note.startswith('no fix: write "1.0", quoted, for what the file says')
    # Quoted, it is the HTTP/1.0 ING109 speaks of: hence no fix.
    quoted = values('proxy-http-version: "1.0"')
    assert [f.code for f in findings(tmp_path, {"values.yaml": quoted})] == ["ING109"]


def test_a_quoted_proxy_http_version_nginx_refuses_has_no_fix(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, {"cm.yaml": config_map('proxy-http-version: "2"')})
    assert finding.code == "ING102" and finding.fix is None
    assert "proxy-http-version: '2' in ConfigMap 'ingress-nginx-controller' is neither" in finding.message
    assert findings(tmp_path, {"cm.yaml": config_map('proxy-http-version: "1.1"')}) == []


# -- 3. chart flags: the chart's {{ if }} --------------------------------------------------------
TICKETS = "ssl-session-tickets: true"


@pytest.mark.parametrize(
    ("enabled", "replicas"),
    [("yes", "up to 5 replicas"), ("on", "up to 5 replicas"), ('"false"', "up to 5 replicas"),
     ("no", None), ("off", None), ("~", None), ("false", None)],
)  # fmt: skip
def test_autoscaling_enabled_as_the_chart_reads_it(
    tmp_path: Path, enabled: str, replicas: str | None
) -> None:
    """A plain yes is true; the string "false" is not empty, so the chart's if takes it as true."""
    extra = f"  autoscaling:\n    enabled: {enabled}\n    maxReplicas: 5.0\n"
    found = by_code(findings(tmp_path, {"values.yaml": values(TICKETS, extra)}))
    if replicas is None:
        assert found == {}
        return
    (finding,) = found["ING111"]
    assert f"runs {replicas}" in finding.message
    if enabled == '"false"':
        assert 'with enabled: "false", a string that is not empty' in finding.message
    else:
        assert f"with enabled: {enabled}, true to Helm, which reads YAML 1.1" in finding.message


@pytest.mark.parametrize(
    ("written", "sticky"), [("no", False), ("off", False), ("true", True), ('"no"', True)]
)
def test_a_service_turned_off_is_no_sticky_front(tmp_path: Path, written: str, sticky: bool) -> None:
    """`service.enabled: no` renders no Service: its sessionAffinity keeps no client on a pod."""
    extra = f"  replicaCount: 3\n  service:\n    enabled: {written}\n    sessionAffinity: ClientIP\n"
    found = findings(tmp_path, {"values.yaml": values(TICKETS, extra)})
    assert [f.code for f in found] == ["ING111"]
    assert ("sessionAffinity: ClientIP is already set" in found[0].message) is sticky


# -- 4. manifests: what kubectl sends -------------------------------------------------------------
def test_a_plain_off_in_configmap_data_is_a_boolean_the_api_server_refuses(tmp_path: Path) -> None:
    """Before: ING102 said the controller cannot decode 'off'; it never sees it."""
    found = findings(tmp_path, {"cm.yaml": config_map('use-http2: off\nkeep-alive: "75"')})
    (finding,) = found
    assert (finding.code, finding.severity, finding.location.line) == ("GW002", Severity.ERROR, 7)
    assert finding.message == (
        "ConfigMap 'ingress-nginx-controller'.data.use-http2 must be a string or empty, not a boolean "
        "('off'); kubectl reads YAML 1.1, where a plain off is the boolean false: quote it"
    )


def test_a_plain_off_for_an_integer_key_says_what_kubectl_sends(tmp_path: Path) -> None:
    found = by_code(findings(tmp_path, {"cm.yaml": config_map("keep-alive: off")}))
    assert sorted(found) == ["GW002", "ING102"]
    assert found["ING102"][0].message.startswith(
        "keep-alive: off in ConfigMap 'ingress-nginx-controller' (the boolean false to kubectl, YAML 1.1), "
        "which is not an integer"
    )


def test_a_quoted_off_in_configmap_data_is_the_string_parse_bool_refuses(tmp_path: Path) -> None:
    (finding,) = findings(tmp_path, {"cm.yaml": config_map('use-http2: "off"')})
    assert finding.code == "ING102"
    assert finding.message.startswith("use-http2: 'off' in ConfigMap 'ingress-nginx-controller' is not")
    out = fix(tmp_path, {"cm.yaml": config_map('use-http2: "off"')}, {"ignore": ["ING110"]}, unsafe=True)
    assert out["cm.yaml"] == config_map('use-http2: "false"').encode()


GATEWAY = """\
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: istio-ingress}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
    tls: {httpsRedirect: REDIRECT}
"""


@pytest.mark.parametrize(
    ("written", "severity"), [("yes", Severity.WARNING), ("on", Severity.WARNING), ('"yes"', Severity.ERROR)]
)
def test_https_redirect_yes_is_true_to_kubectl(tmp_path: Path, written: str, severity: Severity) -> None:
    """Before: GW002 called a plain yes a string, an error; kubectl sends true."""
    (finding,) = findings(tmp_path, {"gw.yaml": GATEWAY.replace("REDIRECT", written)})
    assert (finding.code, finding.severity) == ("GW002", severity)
    if severity is Severity.WARNING:
        assert f"httpsRedirect is {written}: the boolean true to kubectl" in finding.message
        assert finding.message.endswith("; write true")


HELM_RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: ingress-nginx, namespace: ingress-nginx}
spec:
  chart:
    spec: {chart: ingress-nginx}
  values:
    controller:
      config:
        use-http2: off
        keep-alive: "0"
"""


def test_a_yaml11_word_in_inline_values_is_a_warning(tmp_path: Path) -> None:
    """kubectl sends false; kustomize (Flux applies through it) keeps the string "off"."""
    (finding,) = findings(tmp_path, {"hr.yaml": HELM_RELEASE})
    assert (finding.code, finding.severity, finding.location.line) == ("GW002", Severity.WARNING, 10)
    assert finding.message == (
        "controller.config.use-http2 is off in the HelmRelease 'ingress-nginx' values: the boolean false "
        'to kubectl and Helm (YAML 1.1), but the string "off" once kustomize (YAML 1.2) has written the '
        "manifest, as Flux's kustomize-controller and Argo CD's kustomize sources do; write false"
    )


def test_a_values_file_has_no_such_warning(tmp_path: Path) -> None:
    """Only Helm reads a values file: `off` is false, and nothing rewrites it."""
    assert findings(tmp_path, {"values.yaml": values("use-http2: off")}) == []


# -- the facts, against the real tools -------------------------------------------------------------
WORDS = [*YAML11_BOOLEANS, "yEs", "'yes'", '"false"', "!!str yes", "~", "", '""', "0", "0.0",
         "1000000", "1234567", "123456", "75.0", "1.0", "1.30", "010", "09", "0x10", "0o10", "0b101",
         "1_000", "1e3", "+.5e2", ".5", "1.", "-1", "-0", "0.0001", "0.00001", "1e21",
         "9223372036854775807", "18446744073709551615", "99999999999999999999", "1e400", "_1", "1e",
         "0xg", "!!float 1", '!!int "7"', "enabled", "75s"]  # fmt: skip


def _values_map(path: Path, text: str) -> Map:
    (document,) = parse(SourceText(path, text))
    assert isinstance(document, Map)
    table = document.get("v")
    assert isinstance(table, Map)
    return table


def test_what_the_chart_prints_is_what_helm_renders(tmp_path: Path) -> None:
    """ingress-nginx's ConfigMap template (`{{ $value | quote }}`), its flags' `{{ if }}` and a
    count printed unquoted (`replicas: {{ .Values.x }}`), rendered by the real helm."""
    chart = tmp_path / "chart"
    template = (
        "data:\n{{- range $key, $value := .Values.v }}\n  {{- $key | nindent 2 }}: {{ $value | quote }}\n"
        "{{- end }}\ntruth:\n{{- range $key, $value := .Values.v }}\n"
        "  {{- $key | nindent 2 }}: {{ if $value }}true{{ else }}false{{ end }}\n{{- end }}\n"
        "count:\n{{- range $key, $value := .Values.v }}\n"
        "  {{- $key | nindent 2 }}: {{ $value }}\n{{- end }}\n"
    )
    text = "v:\n" + "".join(f"  k{index:02d}: {word}\n" for index, word in enumerate(WORDS))
    rendered = helm_render(chart, template, text)
    table = _values_map(chart / "values.yaml", text)
    for index, word in enumerate(WORDS):
        key = f"k{index:02d}"
        scalar = table.get(key)
        assert isinstance(scalar, Scalar)
        printed = rendered["data"][key]
        assert quoted_text(scalar) == ("" if printed is None else printed), word
        assert truthy(scalar) is rendered["truth"][key], word
        count = rendered["count"][key]
        expected = count if isinstance(count, int) and not isinstance(count, bool) else None
        if isinstance(count, float) and count.is_integer():
            expected = int(count)
        assert whole_number(scalar) == expected, word
        if scalar.style is None and not scalar.tagged():  # what a fix writing it plain would get
            assert plain_reads_as(scalar.raw) == quoted_text(scalar), word


def test_a_null_in_user_values_turns_a_chart_flag_off(tmp_path: Path) -> None:
    """`enabled: ~` in a values file removes the chart's default true: the flag reads false."""
    chart = tmp_path / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: t\nversion: 0.1.0\n", encoding="utf-8")
    (chart / "values.yaml").write_text("flags: {a: true, b: true, c: true}\n", encoding="utf-8")
    (chart / "templates" / "cm.yaml").write_text(
        'data:\n{{- range $key := list "a" "b" "c" }}\n'
        '  {{ $key }}: {{ if index $.Values.flags $key }}"on"{{ else }}"off"{{ end }}\n{{- end }}\n',
        encoding="utf-8",
    )
    user = "flags:\n  a: ~\n  b:\n  c: no\n"
    (tmp_path / "user.yaml").write_text(user, encoding="utf-8")
    done = subprocess.run(
        [helm_binary(), "template", str(chart), "-f", str(tmp_path / "user.yaml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert 'a: "off"\n  b: "off"\n  c: "off"' in done.stdout
    (document,) = parse(SourceText(tmp_path / "user.yaml", user))
    assert isinstance(document, Map)
    flags = document.get("flags")
    assert isinstance(flags, Map)
    for key in "abc":
        assert truthy(flags.scalar(key)) is False


def test_configmap_data_is_what_kubectl_sends(tmp_path: Path) -> None:
    """GW002 reports exactly the ConfigMap data values kubectl sends as something other than a
    string (`label --local` decodes the manifest as `kubectl apply -f` does, without a cluster)."""
    words = [word for word in WORDS if word not in ("", "~")]  # null is unset: not reported
    data = "".join(f"  k{index:02d}: {word}\n" for index, word in enumerate(words))
    text = f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n{data}"
    path = tmp_path / "cm.yaml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [kubectl_binary(), "label", "--local", "-f", str(path), "x=y", "-o", "json"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "KUBECONFIG": os.devnull},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sent = json.loads(done.stdout)["data"]
    refused = {6 + index for index, _ in enumerate(words) if not isinstance(sent[f"k{index:02d}"], str)}
    assert len(refused) > len(YAML11_BOOLEANS)  # the booleans and the numbers
    (tmp_path / "ingress.yaml").write_text(  # puts the file in the gateway tier's scope
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-nginx-controller\ndata: {}\n",
        encoding="utf-8",
    )
    found = [f for f in findings(tmp_path, {"cm.yaml": text + "  # ingress-nginx\n"}) if f.code == "GW002"]
    assert {f.location.line for f in found} == refused


def test_kustomize_keeps_the_string_flux_applies(tmp_path: Path) -> None:
    """Built by kustomize (YAML 1.2), the HelmRelease carries the string "off": the chart writes
    "off", which the controller cannot decode; the build's findings say so at the source line."""
    kustomize_binary()
    files = {"kustomization.yaml": "resources:\n- hr.yaml\n", "hr.yaml": HELM_RELEASE}
    found = by_code(findings(tmp_path, files))
    assert sorted(found) == ["ING101", "ING102"]  # HTTP/2 stays on, so keep-alive 0 breaks it
    (decoded,) = found["ING102"]
    assert decoded.location.line == 10 and "use-http2: 'off'" in decoded.message
