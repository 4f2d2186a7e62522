"""How the Apigee rules read a value's YAML type as the tool that applies the file does.

Routes are applied with kubectl, whose YAML reader (go-yaml v2, through sigs.k8s.io/yaml)
is YAML 1.1: plain `yes`/`on` are true. Overrides are Helm values, read by the same
reader: an unquoted `1.30` is the float 1.3, which the chart prints as `1.3` (and `1.0`
as `1`). The last tests hold those facts against the real kubectl and helm.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import kubectl_binary, kustomize_binary
from helpers import check_files, fix, helm_render, settings_for
from test_apigee_rules import HOST, ROUTE

from tlslint.checks._apigee import chart_version
from tlslint.engine import run
from tlslint.findings import Finding, Severity
from tlslint.sources.apigee.tree import Map, Scalar, parse
from tlslint.sources.goyaml import YAML11_BOOLEANS
from tlslint.sources.nginx.model import SourceText


def findings(tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None) -> list[Finding]:
    return check_files(tmp_path, files, mapping).findings


def overrides(**versions: str) -> str:
    lines = "".join(f"    {key}: {value}\n" for key, value in versions.items())
    return "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n" + lines


# -- 1. a number's trailing zero: the chart receives 1.3 for 1.30 ------------------------------
@pytest.mark.parametrize(("written", "received"), [("1.30", "1.3"), ("1.20", "1.2"), ("1.10", "1.1")])
def test_a_trailing_zero_is_read_as_the_version_without_it(
    tmp_path: Path, written: str, received: str
) -> None:
    """APG202 said 'becomes 1.3 … write "1.30"' and APG203 that '1.30' fails the install: the
    fix wrote the one form APG203 refuses. The chart receives 1.3, a version it takes."""
    found = [f for f in findings(tmp_path, {"o.yaml": overrides(maxTLSProtocolVersion=written)})]
    assert [(f.code, f.severity) for f in found if f.code != "APG203" or "TLS 1.1" not in f.message] == [
        ("APG202", Severity.WARNING)
    ]
    (finding,) = [f for f in found if f.code == "APG202"]
    assert f'read as a number it becomes {received} (inferred); write "{received}"' in finding.message
    assert finding.fix is not None and not finding.fix.safe  # it rewrites the digits typed
    out = fix(tmp_path, {"o.yaml": overrides(maxTLSProtocolVersion=written)}, unsafe=True)
    assert out["o.yaml"] == overrides(maxTLSProtocolVersion=f'"{received}"').encode()
    assert [f.code for f in run([tmp_path], settings_for(tmp_path)).findings] == []


def test_plain_fix_leaves_a_trailing_zero_alone(tmp_path: Path) -> None:
    out = fix(tmp_path, {"o.yaml": overrides(maxTLSProtocolVersion="1.30")}, unsafe=False)
    assert out["o.yaml"] == overrides(maxTLSProtocolVersion="1.30").encode()


@pytest.mark.parametrize("written", ["1.0", "1.00"])
def test_a_number_the_chart_refuses_is_one_error(tmp_path: Path, written: str) -> None:
    """1.0 reaches the chart as 1: APG202 reports it (an error, with "1.0" as an unsafe fix);
    APG203 judges the version meant, which its fix writes: TLS 1.0, deprecated."""
    finding, meant = findings(tmp_path, {"o.yaml": overrides(minTLSProtocolVersion=written)})
    assert (meant.code, meant.severity) == ("APG203", Severity.WARNING)
    assert meant.message.startswith(f"minTLSProtocolVersion {written} (meant as 1.0) lets clients use TLS")
    assert (finding.code, finding.severity) == ("APG202", Severity.ERROR)
    assert 'becomes 1, which the chart refuses (inferred); write "1.0"' in finding.message
    assert finding.fix is not None and not finding.fix.safe
    out = fix(tmp_path, {"o.yaml": overrides(minTLSProtocolVersion=written)}, unsafe=True)
    assert out["o.yaml"] == overrides(minTLSProtocolVersion='"1.0"').encode()


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ("1.4", "the number 1.4"),
        ("1", "the number 1"),
        ("'1.30'", "'1.30'"),
        ("1.40", "1.40, read as the number 1.4"),
    ],
)
def test_a_value_that_is_no_version_is_apg203_alone(tmp_path: Path, written: str, shown: str) -> None:
    (finding,) = findings(tmp_path, {"o.yaml": overrides(minTLSProtocolVersion=written)})
    assert finding.code == "APG203" and f"minTLSProtocolVersion is {shown};" in finding.message


def test_min_above_max_compares_what_the_chart_receives(tmp_path: Path) -> None:
    text = overrides(minTLSProtocolVersion="1.30", maxTLSProtocolVersion='"1.2"')
    found = sorted((f.code, f.message) for f in findings(tmp_path, {"o.yaml": text}))
    assert [code for code, _ in found] == ["APG202", "APG203"]
    assert "minTLSProtocolVersion 1.30 (read as 1.3) is above maxTLSProtocolVersion 1.2" in found[1][1]


# -- 2. a tag types the value, quoted or not ----------------------------------------------------
@pytest.mark.parametrize("written", ["!!float 1.2", '!!float "1.2"'])
def test_a_tagged_number_is_a_number(tmp_path: Path, written: str) -> None:
    (finding,) = findings(tmp_path, {"o.yaml": overrides(minTLSProtocolVersion=written)})
    assert (
        finding.code == "APG202" and f"minTLSProtocolVersion: {written} is a YAML number" in finding.message
    )
    assert finding.fix is not None and finding.fix.safe


def test_a_string_tag_is_a_string(tmp_path: Path) -> None:
    assert findings(tmp_path, {"o.yaml": overrides(minTLSProtocolVersion="!!str 1.2")}) == []


# -- 3. aliases and merge keys: the reason there is no fix ---------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "vh: &vh {sslSecret: s, minTLSProtocolVersion: 1.2}\nvirtualhosts: [{name: prod, <<: *vh}]\n",
        "tlsv: &tlsv 1.2\nvirtualhosts:\n  - name: prod\n    sslSecret: s\n"
        "    minTLSProtocolVersion: *tlsv\n",
    ],
)
def test_a_shared_value_says_why_it_is_not_fixed(tmp_path: Path, text: str) -> None:
    (finding,) = findings(tmp_path, {"o.yaml": text})
    assert finding.code == "APG202" and finding.fix is None
    assert finding.fix_note.startswith("no fix: the value is reached through a YAML alias or merge key")
    assert "not a version number" not in finding.fix_note
    assert "minTLSProtocolVersion: 1.2 is a YAML number" in finding.message  # no `&tlsv` in it


# -- 4. kubectl reads YAML 1.1 booleans ------------------------------------------------------------
@pytest.mark.parametrize("word", ["yes", "Yes", "YES", "on", "On", "ON", "y", "Y", "True", "TRUE"])
def test_a_yaml11_true_enables_non_sni(tmp_path: Path, word: str) -> None:
    route = ROUTE.replace("enableNonSniClient: true", f"enableNonSniClient: {word}")
    found = findings(tmp_path, {"o.yaml": HOST, "r.yaml": route})
    if word in ("True", "TRUE"):  # YAML 1.2 booleans too: nothing to say
        assert found == []
        return
    (finding,) = found
    assert (finding.code, finding.severity, finding.location.line) == ("APG201", Severity.WARNING, 13)
    assert f"enableNonSniClient is {word}: the boolean true to kubectl" in finding.message
    assert "write true" in finding.message
    # It counts as a non-SNI route: the forbidden policy sees it, as kubectl applies it.
    forbidden = findings(tmp_path, {"o.yaml": HOST, "r.yaml": route}, {"apigee": {"non-sni": "forbidden"}})
    assert "APG301" in [f.code for f in forbidden]


def test_a_yaml11_true_on_a_named_route_makes_it_a_non_sni_route(tmp_path: Path) -> None:
    route = ROUTE.replace('hostnames: ["*"]', "hostnames: [api.example.com]").replace(
        "enableNonSniClient: true", "enableNonSniClient: on"
    )
    assert "APG105" in [f.code for f in findings(tmp_path, {"r.yaml": route})]


@pytest.mark.parametrize("word", ["no", "off", "N"])
def test_a_yaml11_false_is_false(tmp_path: Path, word: str) -> None:
    route = ROUTE.replace("enableNonSniClient: true", f"enableNonSniClient: {word}")
    found = {f.code: f for f in findings(tmp_path, {"o.yaml": HOST, "r.yaml": route})}
    assert found["APG201"].severity is Severity.WARNING
    assert (
        f"has enableNonSniClient: {word} (false to kubectl, which reads YAML 1.1)" in found["APG102"].message
    )


@pytest.mark.parametrize(
    ("written", "shown"),
    [
        ('"true"', 'has enableNonSniClient: "true", a string rather than the boolean true'),
        ("'yes'", "has enableNonSniClient: 'yes', a string rather than the boolean true (kustomize"),
        ("!!str yes", "has enableNonSniClient: !!str yes, a string rather than the boolean true"),
        ("yEs", "has enableNonSniClient: yEs, a string rather than the boolean true"),
    ],
)
def test_a_string_is_shown_as_written(tmp_path: Path, written: str, shown: str) -> None:
    """A quoted "true" was shown as `true`, so the message contradicted itself."""
    route = ROUTE.replace("enableNonSniClient: true", f"enableNonSniClient: {written}")
    found = {f.code: f for f in findings(tmp_path, {"o.yaml": HOST, "r.yaml": route})}
    assert set(found) == {"APG102", "APG201"}
    assert shown in found["APG102"].message
    assert (
        found["APG201"].severity is Severity.ERROR
        and "must be a boolean, not a string" in found["APG201"].message
    )
    out = fix(tmp_path, {"o.yaml": HOST, "r.yaml": route}, unsafe=True)
    assert out["r.yaml"] == ROUTE.encode()  # the tag goes with the value


def test_a_yaml11_word_in_a_string_field_is_a_boolean_there(tmp_path: Path) -> None:
    """kubectl sends `credentialName: yes` as true, which the API server refuses."""
    route = ROUTE.replace("credentialName: prod-tls", "credentialName: yes")
    (finding,) = [f for f in findings(tmp_path, {"r.yaml": route}) if f.code == "APG201"]
    assert finding.severity is Severity.ERROR
    assert "credentialName must be a string, not a boolean ('yes')" in finding.message


def test_overrides_are_not_read_as_yaml11(tmp_path: Path) -> None:
    """Only the manifests kubectl applies: a virtual host has no boolean field."""
    text = "virtualhosts:\n  - name: prod\n    sslSecret: 'yes'\n    tlsMode: SIMPLE\n"
    assert findings(tmp_path, {"o.yaml": text}) == []


# -- 5. an empty value is unset; a required one is reported at its key -----------------------------
@pytest.mark.parametrize(
    "text",
    [
        "virtualhosts:\n  - name: dev\n    sslSecret: s\n    additionalGateways:\n"
        "  - name: qa\n    sslSecret: s\n    minTLSProtocolVersion: ~\n",
        "virtualhosts:\n  - name: dev\n    sslSecret: s\n    additionalGateways:\n\n  # later\n\n"
        "ingressGateways:\n  - name: ig\n",
    ],
)
def test_an_empty_value_is_unset_as_helm_reads_it(tmp_path: Path, text: str) -> None:
    """Helm (go-yaml) reads `key:` and `key: ~` as null: the chart sees the key unset."""
    assert findings(tmp_path, {"o.yaml": text}) == []


@pytest.mark.parametrize(
    "text",
    [
        "virtualhosts:\n  - sslSecret: s\n    name:\n  - name: qa\n    sslSecret: s\n",
        "virtualhosts:\n  - sslSecret: s\n    name:\n\n  # later\n\ningressGateways:\n  - name: ig\n",
    ],
)
def test_an_empty_required_value_is_reported_at_its_key(tmp_path: Path, text: str) -> None:
    """ruamel places an empty value at the next token: the next item, or the next top-level key."""
    (finding,) = findings(tmp_path, {"o.yaml": text})
    assert finding.code == "APG201"
    assert finding.message == (
        "virtualhosts[0].name is empty, which Helm and kubectl read as unset; it is required"
    )
    location = finding.location
    assert (location.line, location.column, location.end_line, location.end_column) == (3, 5, 3, 10)


def test_an_empty_route_field_is_unset_or_reported_at_its_key(tmp_path: Path) -> None:
    # kubectl sends null, and the API server drops it: an optional field is unset.
    route = ROUTE.replace("  selector: {app: apigee-ingressgateway}\n", "  selector:\n\n# the flag\n")
    assert [f for f in findings(tmp_path, {"r.yaml": route}) if f.code == "APG201"] == []
    route = ROUTE.replace("  name: non-sni\n", "  name:\n")
    found = [f for f in findings(tmp_path, {"r.yaml": route}) if f.code == "APG201"]
    assert [(f.location.line, f.location.column, f.message) for f in found] == [
        (4, 3, "ApigeeRoute.metadata.name is empty, which Helm and kubectl read as unset; it is required")
    ]


# -- 6. a field present in the wrong form is not called missing -------------------------------------
def test_hostnames_as_a_string_is_not_missing(tmp_path: Path) -> None:
    route = ROUTE.replace('hostnames: ["*"]', 'hostnames: "*"')
    found = {f.code: f for f in findings(tmp_path, {"o.yaml": HOST, "r.yaml": route})}
    assert "no hostnames" not in found["APG105"].message
    assert 'has hostnames: "*", a single value where a list is needed' in found["APG105"].message
    assert "hostnames must be a list, not a string" in found["APG201"].message
    out = fix(tmp_path, {"o.yaml": HOST, "r.yaml": route}, unsafe=True)
    assert out["r.yaml"] == ROUTE.encode()


def test_a_port_number_as_a_string_is_not_missing(tmp_path: Path) -> None:
    route = ROUTE.replace("number: 443", 'number: "443"')
    found = {f.code: f for f in findings(tmp_path, {"o.yaml": HOST, "r.yaml": route})}
    assert "has no port 443" not in found["APG108"].message
    assert 'has its port 443 written as the string "443"' in found["APG108"].message
    assert "number must be an integer, not a string" in found["APG201"].message


# -- the facts, against the real tools ---------------------------------------------------------------
WORDS = [*YAML11_BOOLEANS, "yEs", "oN", "enabled", "'yes'", '"true"', "!!str yes", "1", "null"]


def test_kube_bool_is_what_kubectl_reads(tmp_path: Path) -> None:
    """kubectl decodes the manifest as `kubectl apply -f` does (`label --local` needs no cluster)."""
    fields = {f"f{index}": word for index, word in enumerate(WORDS)}
    text = (
        "apiVersion: apigee.cloud.google.com/v1alpha1\nkind: ApigeeRoute\nmetadata: {name: a}\nspec:\n"
        + "".join(f"  {key}: {word}\n" for key, word in fields.items())
    )
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        [kubectl_binary(), "label", "--local", "-f", str(path), "x=y", "-o", "json"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "KUBECONFIG": os.devnull},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout)["spec"]
    (document,) = parse(SourceText(path, text))
    assert isinstance(document, Map)
    spec = document.get("spec")
    assert isinstance(spec, Map)
    for key, word in fields.items():
        scalar = spec.get(key)
        assert isinstance(scalar, Scalar)
        expected = read[key] if isinstance(read[key], bool) else None
        assert scalar.kube_bool() is expected, (word, read[key])


def test_chart_version_is_what_helm_gives_the_chart(tmp_path: Path) -> None:
    """helm reads values with the same YAML 1.1 reader and the chart prints a float as Go does."""
    written = ["1.30", "1.20", "1.0", "1.00", "1.2", '"1.2"', "!!float 1.2", '!!float "1.2"', "1", "'1.30'"]
    chart = tmp_path / "chart"
    template = "data:\n{{- range $k, $v := .Values.v }}\n  {{ $k }}: {{ toString $v | quote }}\n{{- end }}\n"
    values = "v:\n" + "".join(f"  k{index}: {text}\n" for index, text in enumerate(written))
    rendered = helm_render(chart, template, values)["data"]
    (document,) = parse(SourceText(chart / "values.yaml", values))
    assert isinstance(document, Map)
    table = document.get("v")
    assert isinstance(table, Map)
    for index, text in enumerate(written):
        scalar = table.get(f"k{index}")
        assert isinstance(scalar, Scalar)
        version = chart_version(scalar)
        assert version is not None and version.received == rendered[f"k{index}"], text


def test_kustomize_writes_a_plain_yes_back_as_a_string(tmp_path: Path) -> None:
    """What makes `yes` worth a warning: rendered by kustomize (YAML 1.2), the route carries
    the string "yes", and the build's findings say where it came from."""
    kustomize_binary()
    route = ROUTE.replace("enableNonSniClient: true", "enableNonSniClient: yes")
    files = {"kustomization.yaml": "resources:\n- route.yaml\n", "route.yaml": route}
    found = {f.code: f for f in findings(tmp_path, files)}
    assert set(found) == {"APG102", "APG201"}
    assert found["APG201"].severity is Severity.ERROR and found["APG201"].location.line == 13
    assert (
        'not a string ("yes"); kustomize and other YAML 1.2 tools write a plain yes so'
        in found["APG201"].message
    )
    assert 'has enableNonSniClient: "yes", a string rather than the boolean true' in found["APG102"].message
