"""Fuzzing the Kubernetes gateway tier: structured but broken gateway, ConfigMap,
values and Ingress YAML through ``run`` and ``--fix``. No traceback, ever; a file
that does not load is a GW002 finding anchored "unparsed" (or GW001 for a Helm
template); ``--fix`` writes only YAML that still parses, and a second run changes
nothing. ``TLSLINT_FUZZ_EXAMPLES`` scales the number of examples."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import settings_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlslint.engine import run
from tlslint.findings import UNPARSED
from tlslint.fixing import apply_fixes
from tlslint.sources.apigee import validate_text
from tlslint.sources.text import SourceError, decode

EXAMPLES = int(os.environ.get("TLSLINT_FUZZ_EXAMPLES", "100"))
pytestmark = pytest.mark.filterwarnings("error::Warning:ruamel")
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
LINES = [
    "apiVersion: networking.istio.io/v1", "apiVersion: gateway.networking.k8s.io/v1", "kind: Gateway",
    "metadata: {name: gw, namespace: istio-ingress}", "spec:", "  selector: {istio: ingressgateway}",
    "  servers:", "  - port: {number: 443, name: https, protocol: HTTPS}", '    hosts: ["a.example.com"]',
    '    hosts: ["*"]', "    hosts: a.example.com", "    tls: {mode: SIMPLE, credentialName: a}",
    "    tls: {mode: PASSTHROUGH}", "  gatewayClassName: istio", "  listeners:",
    "  - {name: https, port: 443, protocol: HTTPS, hostname: a.example.com,"
    " tls: {certificateRefs: [{name: a}]}}",
    "  - {name: https2, port: 443, protocol: HTTPS}", "---", "apiVersion: v1", "kind: ConfigMap",
    "metadata: {name: ingress-nginx-controller}", "data:", '  keep-alive: "0"', "  keep-alive: 75s",
    '  upstream-keepalive-connections: "0"', '  ssl-reject-handshake: "true"', "  use-http2: yes",
    '  http2-max-requests: "1000"', "  ssl-session-cache: 'false'", "  ssl-session-timeout: 1d",
    "controller:", "  replicaCount: 3", "  admissionWebhooks: {enabled: true}", "  config:",
    "    keep-alive: 0", "    <<: *d", "d: &d {keep-alive: '0'}", "kind: Ingress", "  annotations:",
    "    nginx.ingress.kubernetes.io/keep-alive: '30'",
    '    nginx.ingress.kubernetes.io/proxy-http-version: "1.0"',
    "kind: List", "items:", "- kind: Gateway", "  {{- range .Values.x }}", "    name: ${NAME}", "[", "]", "{",
    "}", "a: b: c", "? [a]", "key: 'unterminated", "\t- tab", "*", "&", "a: &a [1, *a]",
]  # fmt: skip
NOISE = ["\x00", "\ufeff", "\udcff", "\r", "é", "\\", "'", '"', ":", "-", "  ", "#"]


@st.composite
def gateway_yaml(draw: st.DrawFn, noise: bool = True) -> bytes:
    lines = [draw(st.sampled_from(["apiVersion: networking.istio.io/v1", "controller:"]))]
    for _ in range(draw(st.integers(0, 24))):
        line = draw(st.sampled_from(LINES))
        if noise and draw(st.integers(0, 4)) == 0:
            cut = draw(st.integers(0, len(line)))
            line = line[:cut] + draw(st.sampled_from(NOISE)) + line[cut:]
        lines.append(line)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    return text.encode("utf-8", "surrogateescape")


def loads(path: Path, data: bytes) -> bool:
    try:
        validate_text(decode(path, data))
    except SourceError:
        return False
    return True


@fuzz
@given(data=gateway_yaml())
def test_gateway_yaml_loads_or_says_where_not(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    directory = tmp_path_factory.mktemp("gwyaml")
    path = directory / "ingress-nginx.yaml"
    path.write_bytes(data)
    result = run([path], settings_for(directory, {"non-sni": "required"}))
    here = [f for f in result.findings if f.location.path.resolve() == path.resolve()]
    unparsed = [f for f in here if f.anchor == UNPARSED]
    assert all(f.location.line >= 0 for f in result.findings)
    if result.workspace.kubernetes is None:
        return  # not read: discovery found no gateway content in it
    if loads(path, data):
        assert not unparsed, unparsed
    else:
        assert unparsed or [f for f in here if f.code == "GW001"], here
        assert all(f.code == "GW002" for f in unparsed)


@fuzz
@given(data=gateway_yaml(noise=False), unsafe=st.booleans())
def test_fix_on_gateway_yaml(tmp_path_factory: pytest.TempPathFactory, data: bytes, unsafe: bool) -> None:
    directory = tmp_path_factory.mktemp("gwfix")
    path = directory / "ingress-nginx.yaml"
    path.write_bytes(data)
    mapping = {"kubernetes": {"non-sni": "required", "catch-all-credential": "wild"}}
    configured = settings_for(directory, mapping)
    outcome = apply_fixes(run([directory], configured), configured, unsafe=unsafe, write=True)
    assert not [m for m in outcome.messages if "would break" in m], outcome.messages
    for written in outcome.written:
        assert loads(written, written.read_bytes())
    if path.resolve() not in outcome.written:
        assert path.read_bytes() == data
    if any("did not settle" in m for m in outcome.messages):
        return
    again = apply_fixes(run([directory], configured), configured, unsafe=unsafe, write=True)
    assert again.written == [] and again.diff == "", again.diff
