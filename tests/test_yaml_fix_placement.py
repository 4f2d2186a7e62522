"""Where YAML fixes write their value: on the key they mean, and nowhere else.

An empty value (``key:`` with nothing after it) has its node where the next token
starts: a replacement there was pasted in front of the next key, renaming it, and the
file still parsed. The fixer now checks every YAML edit on the re-parsed text.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import helm_binary, kustomize_binary
from helpers import fix, helm_render, settings_for
from test_apigee_fix import REQUIRED
from test_apigee_fix import WILDCARD as NON_SNI_ROUTE  # a route that lets clients without SNI in

from tlslint.checks._yaml_edits import replace_scalar, unmet
from tlslint.engine import run
from tlslint.findings import Edit, YamlExpect
from tlslint.fixing import apply_edits, apply_fixes
from tlslint.sources.apigee.tree import Map, Scalar, parse, to_data
from tlslint.sources.nginx.model import SourceText

PROBE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n"
PROBE += "  values: {{ toJson .Values | quote }}\n"  # every value helm read

ROUTE = """\
apiVersion: apigee.cloud.google.com/v1alpha1
kind: ApigeeRoute
metadata:
  name: non-sni
  namespace: apigee
spec:
  hostnames: ["*"]
  enableNonSniClient:{after}
  ports:
  - {{number: 443, protocol: HTTPS, tls: {{credentialName: prod-tls, mode: SIMPLE}}}}
"""


def _values(tmp_path: Path, text: str) -> dict[str, Any]:
    """The values helm reads from ``text``."""
    rendered = helm_render(tmp_path / "chart", PROBE, text)
    values: dict[str, Any] = json.loads(rendered["data"]["values"])
    return values


def _fixed_twice(tmp_path: Path, name: str, text: str) -> str:
    """The text --fix --unsafe-fixes writes; a second --fix must change nothing."""
    root = tmp_path / "project"
    out = fix(root, {name: text}, unsafe=True)[name].decode()
    assert fix(root, {name: out}, unsafe=True)[name].decode() == out
    return out


@pytest.mark.parametrize(
    ("empty", "written"),
    [
        ("    keep-alive:\n  replicaCount: 3\n", "    keep-alive: 75\n  replicaCount: 3\n"),
        ("    keep-alive:  # unset\n  replicaCount: 3\n", "    keep-alive: 75  # unset\n  replicaCount: 3\n"),
        ("    keep-alive:\n    worker-processes: '2'\n", "    keep-alive: 75\n    worker-processes: '2'\n"),
        ("    keep-alive:", "    keep-alive: 75"),  # the last line, without a line break
    ],
)
def test_ing101_writes_an_empty_value_after_its_own_colon(tmp_path: Path, empty: str, written: str) -> None:
    head = 'controller:\n  config:\n    use-http2: "true"\n'
    out = _fixed_twice(tmp_path, "values.yaml", head + empty)
    assert out == head + written
    values = _values(tmp_path, out)
    assert values["controller"]["config"]["keep-alive"] == 75
    assert sorted(values["controller"]["config"]) == sorted(
        ["use-http2", "keep-alive", *(["worker-processes"] if "worker" in empty else [])]
    )
    if "replicaCount" in empty:
        assert values["controller"]["replicaCount"] == 3


@pytest.mark.parametrize(
    ("empty", "written"),
    [
        ('{keep-alive: , use-http2: "true"}', '{keep-alive: 75, use-http2: "true"}'),
        ('{use-http2: "true", keep-alive: }', '{use-http2: "true", keep-alive: 75}'),
        ('{use-http2: "true", keep-alive: # unset\n  }', '{use-http2: "true", keep-alive: 75 # unset\n  }'),
    ],
)
def test_ing101_writes_an_empty_value_of_a_flow_mapping_after_its_colon(
    tmp_path: Path, empty: str, written: str
) -> None:
    text = f"controller:\n  config: {empty}\n  replicaCount: 3\n"
    out = _fixed_twice(tmp_path, "values.yaml", text)
    assert out == text.replace(empty, written)
    values = _values(tmp_path, out)["controller"]
    assert values == {"config": {"keep-alive": 75, "use-http2": "true"}, "replicaCount": 3}


def test_ing104_writes_an_empty_value_on_its_key(tmp_path: Path) -> None:
    text = "controller:\n  replicaCount: 2\n  config:\n"
    text += '    upstream-keepalive-connections:\n    use-http2: "true"\n'
    out = _fixed_twice(tmp_path, "values.yaml", text)
    assert out == text.replace("connections:\n", "connections: 320\n")
    config = _values(tmp_path, out)["controller"]["config"]
    assert config == {"upstream-keepalive-connections": 320, "use-http2": "true"}


@pytest.mark.parametrize("after", ["", "  # set me"])
def test_apg102_writes_an_empty_enable_non_sni_client_on_its_key(tmp_path: Path, after: str) -> None:
    text = ROUTE.format(after=after)
    out = _fixed_twice(tmp_path, "route.yaml", text)
    assert out == text.replace(f"enableNonSniClient:{after}\n", f"enableNonSniClient: true{after}\n")
    build = tmp_path / "build"
    build.mkdir()
    (build / "route.yaml").write_text(out, encoding="utf-8")
    (build / "kustomization.yaml").write_text("resources:\n- route.yaml\n", encoding="utf-8")
    binary = kustomize_binary()
    command = [binary, "build"] if Path(binary).name == "kustomize" else [binary, "kustomize"]
    done = subprocess.run([*command, str(build)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (route,) = [d for d in parse(SourceText(build / "out.yaml", done.stdout)) if isinstance(d, Map)]
    spec = route.get("spec")
    assert isinstance(spec, Map)
    assert spec.scalar("enableNonSniClient") is not None
    assert spec.scalar("enableNonSniClient").value is True  # type: ignore[union-attr]
    assert [p.name for p in spec.pairs] == ["enableNonSniClient", "hostnames", "ports"]


def test_the_fixer_refuses_a_yaml_edit_that_would_land_on_another_key(tmp_path: Path) -> None:
    """The edit the old code made for an empty value: at its node, in front of the next key.
    The file still parses; the check on the re-parsed text finds the value is not there."""
    path = tmp_path / "values.yaml"
    text = 'controller:\n  config:\n    keep-alive:\n    use-http2: "true"\n'
    source = SourceText(path, text)
    (document,) = parse(source)
    assert isinstance(document, Map)
    controller = document.get("controller")
    assert isinstance(controller, Map)
    config = controller.get("config")
    assert isinstance(config, Map)
    empty = config.scalar("keep-alive")
    assert isinstance(empty, Scalar)
    expect = YamlExpect(0, "75", "keep-alive", ("keep-alive", "use-http2"))
    misplaced = Edit(path, empty.start, empty.start, "75", expect)
    after = SourceText(path, apply_edits(text, [misplaced]))
    parse(SourceText(path, after.text))  # it parses: only the check can tell
    assert "75 would not be read as keep-alive's value" in unmet(after, [misplaced])
    # The edit made now is met, as is the same edit after another one earlier in the file.
    made = replace_scalar(empty, "75")
    assert made is not None and made.start == text.index("keep-alive:") + len("keep-alive:")
    assert unmet(SourceText(path, apply_edits(text, [made])), [made]) == ""
    earlier = Edit(path, 0, 0, "# top\n")
    assert unmet(SourceText(path, apply_edits(text, [earlier, made])), [earlier, made]) == ""


# -- an item added to a multi-line flow collection whose last item has a comment ----------


def _fixed_once(
    tmp_path: Path, files: dict[str, str], mapping: dict[str, object], name: str, code: str
) -> str:
    """``name`` as --fix --unsafe-fixes writes it; the run then finds no ``code`` left, and
    a second --fix changes nothing."""
    out = fix(tmp_path, files, mapping, unsafe=True)
    again = apply_fixes(run([tmp_path], settings_for(tmp_path, mapping)), settings_for(tmp_path, mapping),
                        unsafe=True, write=True)  # fmt: skip
    assert [f for f in again.result.findings if f.code == code or f.fix] == []
    assert again.written == [] and again.diff == "" and again.messages == []
    return out[name].decode()


@pytest.mark.parametrize(
    ("gateways", "written"),
    [
        ("[a # c\n  ]", "[a, non-sni # c\n  ]"),
        ("[\n    a,  # first\n    b   # second\n  ]", "[\n    a,  # first\n    b, non-sni   # second\n  ]"),
        ("['a', # it's\n  ]", "['a', 'non-sni' # it's\n  ]"),  # a quote in the comment
    ],
)
def test_apg103_adds_to_a_flow_list_before_the_comment_after_its_last_item(
    tmp_path: Path, gateways: str, written: str
) -> None:
    head = "virtualhosts:\n- name: prod\n  sslSecret: prod-tls\n  additionalGateways: "
    files = {"overrides.yaml": head + gateways + "\n", "non-sni-route.yaml": NON_SNI_ROUTE}
    out = _fixed_once(tmp_path, files, REQUIRED, "overrides.yaml", "APG103")
    assert out == head + written + "\n"


def test_apg103_adds_to_a_flow_virtual_host_before_its_last_comment(tmp_path: Path) -> None:
    text = "virtualhosts:\n- {name: prod, # the env group\n   sslSecret: prod-tls # secret\n  }\n"
    files = {"overrides.yaml": text, "non-sni-route.yaml": NON_SNI_ROUTE}
    out = _fixed_once(tmp_path, files, REQUIRED, "overrides.yaml", "APG103")
    assert out == text.replace("prod-tls # secret", 'prod-tls, additionalGateways: ["non-sni"] # secret')


def test_apg102_adds_to_a_flow_spec_before_its_last_comment(tmp_path: Path) -> None:
    spec = (
        'spec: {hostnames: ["*"],\n  ports: [{number: 443, protocol: HTTPS, tls: {credentialName: prod-tls, '
        "mode: SIMPLE}}],\n  selector: {app: apigee-ingressgateway} # sel\n  }\n"
    )
    route = NON_SNI_ROUTE[: NON_SNI_ROUTE.index("spec:")] + spec
    out = _fixed_once(tmp_path, {"route.yaml": route}, {}, "route.yaml", "APG102")
    assert out == route.replace("} # sel", "}, enableNonSniClient: true # sel")


def test_gw101_adds_a_server_to_a_flow_list_before_its_last_comment(tmp_path: Path) -> None:
    gateway = (
        "apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata:\n  name: public\n"
        "  namespace: istio-ingress\nspec:\n  selector: {istio: ingressgateway}\n  servers: [\n"
        "    {port: {number: 443, name: https-shop, protocol: HTTPS}, hosts: [shop.example.com],"
        " tls: {mode: SIMPLE, credentialName: shop-tls}}  # shop\n  ]\n"
    )
    mapping = {
        "kubernetes": {"non-sni": "required", "catch-all-credential": "wildcard-tls"},
        "select": ["GW101"],
    }
    out = _fixed_once(tmp_path, {"gw.yaml": gateway}, mapping, "gw.yaml", "GW101")
    (document,) = parse(SourceText(tmp_path / "gw.yaml", out))
    assert isinstance(document, Map)
    servers = to_data(document)["spec"]["servers"]
    assert [s["hosts"] for s in servers] == [["shop.example.com"], ["*"]]
    assert out.count("# shop") == 1 and out.index("# shop") > out.index('hosts: ["*"]')


def test_ing105_adds_to_a_flow_config_before_its_last_comment(tmp_path: Path) -> None:
    backend = {
        "app/gunicorn.conf.py": 'bind = "0.0.0.0:8000"\nworker_class = "gthread"\nthreads = 2\n'
        "keepalive = 3\n"
    }
    ingress = (
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n"
        "    nginx.ingress.kubernetes.io/ssl-redirect: 'true'\nspec:\n  defaultBackend:\n"
        "    service: {name: web, port: {number: 8000}}\n"
    )
    values = (
        'controller:\n  replicaCount: 2\n  config: {use-http2: "true",\n    worker-processes: "2" # w\n  }\n'
    )
    mapping = {"backends": [{"upstream": "web", "config": "app/gunicorn.conf.py"}], "select": ["ING105"]}
    out = _fixed_once(
        tmp_path, {"values.yaml": values + ingress, **backend}, mapping, "values.yaml", "ING105"
    )
    assert out == (values + ingress).replace('"2" # w', '"2", upstream-keepalive-timeout: "2" # w')


def test_a_fix_that_leaves_its_finding_is_said_and_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fix whose edit does nothing (as an item written inside a comment did) was applied
    in every pass and its text written, with "fixed 1 file": it is now named, and left out."""
    from tlslint.checks import apg102_non_sni_client_disabled as apg102

    def futile(spec: Map, key: str, value: str) -> Edit:
        return Edit(spec.source.path, 0, 0, "# enableNonSniClient: true\n")

    monkeypatch.setattr(apg102, "insert_key", futile)
    route = NON_SNI_ROUTE.replace("  enableNonSniClient: true\n", "")
    (tmp_path / "route.yaml").write_text(route, encoding="utf-8")
    settings = settings_for(tmp_path)
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert outcome.written == [] and outcome.diff == ""
    assert (tmp_path / "route.yaml").read_text(encoding="utf-8") == route
    (said,) = outcome.messages
    assert said.startswith("route.yaml:") or "route.yaml:" in said
    assert "the fix for APG102 (set enableNonSniClient: true) did not remove its finding in 5 passes" in said
    assert [f.code for f in outcome.result.findings] == ["APG102"]


@pytest.mark.parametrize(
    ("listed", "written"),
    [
        (
            '[\n    "a.example.com",  # prod\n    "b.example.com"   # stage\n  ]',
            '[\n    # prod\n    # stage\n    "*"\n  ]',
        ),
        ('["a.example.com", # prod\n    "b.example.com"]', '[\n    # prod\n    "*"]'),
    ],
)
def test_apg105_keeps_the_comments_of_a_flow_list_on_lines_of_their_own(
    tmp_path: Path, listed: str, written: str
) -> None:
    route = NON_SNI_ROUTE.replace('  hostnames:\n  - "*"\n', f"  hostnames: {listed}\n")
    out = _fixed_once(tmp_path, {"route.yaml": route}, {}, "route.yaml", "APG105")
    assert out == route.replace(listed, written)
    (document,) = parse(SourceText(tmp_path / "route.yaml", out))
    assert to_data(document)["spec"]["hostnames"] == ["*"]


# -- a file with a key twice in one mapping is not written -------------------------------
def test_no_fix_is_written_in_a_route_with_a_key_twice(tmp_path: Path) -> None:
    route = NON_SNI_ROUTE.replace("  enableNonSniClient: true\n", "").replace(
        "spec:\n", 'spec:\n  hostnames: ["*"]\nspec:\n', 1
    )
    (tmp_path / "route.yaml").write_text(route, encoding="utf-8")
    settings = settings_for(tmp_path)
    result = run([tmp_path], settings)
    (apg102,) = [f for f in result.findings if f.code == "APG102"]
    assert apg102.fix is None and "has a key twice in one mapping (APG205, line 8)" in apg102.fix_note
    assert "APG205" in [f.code for f in result.findings]
    outcome = apply_fixes(result, settings, unsafe=True, write=True)
    assert outcome.written == [] and (tmp_path / "route.yaml").read_text(encoding="utf-8") == route
    # What the note says of kubectl.
    build = tmp_path / "build"
    build.mkdir()
    (build / "route.yaml").write_text(route, encoding="utf-8")
    (build / "kustomization.yaml").write_text("resources:\n- route.yaml\n", encoding="utf-8")
    binary = kustomize_binary()
    command = [binary, "build"] if Path(binary).name == "kustomize" else [binary, "kustomize"]
    done = subprocess.run([*command, str(build)], capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and 'mapping key "spec" already defined' in done.stderr


def test_no_fix_is_written_in_a_configmap_with_a_key_twice(tmp_path: Path) -> None:
    configmap = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-nginx-controller\n"
        '  namespace: ingress-nginx\ndata:\n  keep-alive: "0"\ndata:\n  keep-alive: "0"\n'
    )
    (tmp_path / "cm.yaml").write_text(configmap, encoding="utf-8")
    settings = settings_for(tmp_path)
    result = run([tmp_path], settings)
    fixable = [f for f in result.findings if f.fix is not None]
    assert fixable == [] and any("GW003" in f.fix_note for f in result.findings)
    outcome = apply_fixes(result, settings, unsafe=True, write=True)
    assert outcome.written == [] and (tmp_path / "cm.yaml").read_text(encoding="utf-8") == configmap


# -- overrides in a later document of a file: helm -f never reads them -------------------
def test_helm_reads_only_the_first_document_of_a_values_file(tmp_path: Path) -> None:
    """The evidence for reading overrides from the first document only (`helm -f`)."""
    helm_render(tmp_path / "chart", PROBE, "")  # the probe chart, no values of its own
    given = tmp_path / "overrides.yaml"
    given.write_text("foo: 1\n---\nfoo: 2\nvirtualhosts:\n- name: prod\n", encoding="utf-8")
    command = [helm_binary(), "template", str(tmp_path / "chart"), "-f", str(given)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (rendered,) = [d for d in parse(SourceText(tmp_path / "out.yaml", done.stdout)) if isinstance(d, Map)]
    assert json.loads(to_data(rendered)["data"]["values"]) == {"foo": 1}


def test_overrides_in_a_later_document_are_said_unread_and_not_fixed(tmp_path: Path) -> None:
    text = "foo: 1\n---\nvirtualhosts:\n- name: prod\n  sslSecret: prod-tls\n  minTLSProtocolVersion: 1.2\n"
    (tmp_path / "overrides.yaml").write_text(text, encoding="utf-8")
    settings = settings_for(tmp_path, REQUIRED)
    result = run([tmp_path], settings)
    (unread,) = result.findings
    assert (unread.code, unread.location.line, unread.severity.name) == ("APG201", 3, "WARNING")
    assert "document 2 of this file, and `helm -f` reads only the first document" in unread.message
    outcome = apply_fixes(result, settings, unsafe=True, write=True)
    assert outcome.written == [] and (tmp_path / "overrides.yaml").read_text(encoding="utf-8") == text
    # In the first document, the same virtual host is checked (APG202: its 1.2 unquoted).
    first = text.replace("foo: 1\n---\n", "")
    (tmp_path / "overrides.yaml").write_text(first + "---\nfoo: 1\n", encoding="utf-8")
    codes = {f.code for f in run([tmp_path], settings).findings}
    assert {"APG202", "APG101"} <= codes and "APG201" not in codes
