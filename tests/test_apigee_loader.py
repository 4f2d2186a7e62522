"""Loading Apigee YAML: positions, hostile and broken input, templates, discovery."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import check_files, settings_for, write_files

from tlslint.discovery import YAML, classify, discover
from tlslint.engine import RunResult, run
from tlslint.findings import Severity
from tlslint.sources.apigee import validate_text
from tlslint.sources.apigee.documents import load_source
from tlslint.sources.apigee.tree import Map, Scalar, Seq, YamlError, parse
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError, decode
from tlslint.workspace.apigee import load_apigee

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


def findings(
    tmp_path: Path, files: dict[str, str], mapping: dict[str, object] | None = None
) -> list[tuple[str, str, int]]:
    result = check_files(tmp_path, files, mapping)
    return [(f.location.path.name, f.code, f.location.line) for f in result.findings]


# -- positions ----------------------------------------------------------------------
def test_offsets_survive_crlf_and_bom() -> None:
    data = "\ufeffvirtualhosts:\r\n  - name: prod\r\n    sslSecret: 'prod-tls'\r\n".encode()
    source = decode(Path("o.yaml"), data)
    (document,) = parse(source)
    assert isinstance(document, Map)
    hosts = document.get("virtualhosts")
    assert isinstance(hosts, Seq)
    host = hosts.items[0]
    assert isinstance(host, Map)
    secret = host.scalar("sslSecret")
    assert secret is not None and secret.style == "'"
    assert source.text[secret.start : secret.end] == "'prod-tls'"
    assert (secret.line, secret.column) == (3, 16)
    assert secret.content_span() == (secret.start, secret.end)


def test_a_lone_cr_is_a_line_break_in_yaml_and_not_in_nginx() -> None:
    """A file saved with CR line endings: ruamel, go-yaml and helm read CR as a line
    break. Its findings were placed on line 1 (1:126), the code frame one long line."""
    text = "virtualhosts:\r  - name: prod\r\r    sslSecret: 'prod-tls'\r\n    x: 1\n"
    source = decode(Path("o.yaml"), text.encode())
    (document,) = parse(source)
    assert isinstance(document, Map)
    hosts = document.get("virtualhosts")
    assert isinstance(hosts, Seq) and isinstance(hosts.items[0], Map)
    secret = hosts.items[0].scalar("sslSecret")
    assert secret is not None and (secret.line, secret.column) == (4, 16)
    assert source.line_text(4) == "    sslSecret: 'prod-tls'"
    assert source.line_text(3) == ""
    assert source.line_text(5) == "    x: 1"
    assert source.position(len(text)) == (6, 1)
    assert source.region(secret.start, text.index("x: 1")) == (4, 16, 5, 5)
    assert source.region(secret.start, secret.end) == (4, 16, 4, 26)
    # nginx counts lines at LF only (a CR is a blank to it): the same text, unparsed as YAML
    nginx = SourceText(Path("a.conf"), text)
    assert nginx.position(text.index("x: 1")) == (2, 5)
    assert not nginx.cr_breaks and not decode(Path("crlf.yaml"), b"a: 1\r\nb: 2\r\n").cr_breaks


@pytest.mark.parametrize("newline", ["\n", "\r"])
def test_deep_flow_nesting_after_a_comment_is_refused_whatever_the_line_ends(newline: str) -> None:
    """With CR line ends, the depth check read the comment as running to the end of the
    file, and let ruamel recurse until it gave up (no place, seconds later)."""
    text = f"# overrides{newline}virtualhosts: " + "[" * 5000 + "]" * 5000 + newline
    with pytest.raises(YamlError) as raised:
        parse(decode(Path("o.yaml"), text.encode()))
    assert (raised.value.line, raised.value.column) == (2, 215)
    assert "nested more than" in str(raised.value)
    tab = decode(Path("t.yaml"), f"virtualhosts:{newline}\t- name: a{newline}".encode())
    with pytest.raises(YamlError, match="a tab in the indentation"):
        parse(tab)


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_yaml_with_cr_line_endings_is_found_and_its_findings_placed(tmp_path: Path, newline: str) -> None:
    """A CR-only ApigeeRoute was "no configuration found" (the sniff's `$` needs an LF);
    a CR-only overrides file was checked with every finding at line 1."""
    route = ROUTE.replace("enableNonSniClient: true", "enableNonSniClient: false")
    overrides = "gcp:\n  projectID: p\nvirtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n"
    overrides += '    cipherSuites: "RC4"\n'
    write_files(tmp_path / "lf", {"route.yaml": route, "o.yaml": overrides})
    files = {"route.yaml": route.replace("\n", newline), "o.yaml": overrides.replace("\n", newline)}
    write_files(tmp_path / "cr", files)
    for target in (tmp_path / "cr", tmp_path / "cr" / "route.yaml"):
        assert classify(tmp_path / "cr" / "route.yaml", explicit=False) == YAML
        assert [p.name for p in discover([target], base=tmp_path).yaml] == (
            ["o.yaml", "route.yaml"] if target.is_dir() else ["route.yaml"]
        )

    def placed(result: RunResult) -> list[tuple[str, str, int, int, int, int]]:
        return sorted(
            (f.location.path.name, f.code, f.location.line, f.location.column, f.location.end_line,
             f.location.end_column)
            for f in result.findings
        )  # fmt: skip

    result = run([tmp_path / "cr"], settings_for(tmp_path / "cr"))
    assert placed(result) == placed(run([tmp_path / "lf"], settings_for(tmp_path / "lf")))
    assert {row[:4] for row in placed(result)} >= {
        ("o.yaml", "APG201", 6, 19),
        ("route.yaml", "APG102", 13, 3),
    }
    apg102 = next(f for f in result.findings if f.code == "APG102")
    if newline == "\r\n":
        assert apg102.fix is not None
    else:  # the YAML edits find lines by LF: no fix rather than a key after the wrong line
        assert apg102.fix is None and "a CR alone" in apg102.fix_note


def test_scalar_values_follow_yaml_tags() -> None:
    text = "a: 1.2\nb: '1.2'\nc: 0o17\nd: true\ne: ~\nf: 443\ng: .inf\n"
    (document,) = parse(SourceText(Path("x.yaml"), text))
    assert isinstance(document, Map)
    values = {
        name: pair.value.value
        for name, pair in document.effective().items()
        if isinstance(pair.value, Scalar)
    }
    assert values == {"a": 1.2, "b": "1.2", "c": 15, "d": True, "e": None, "f": 443, "g": float("inf")}


def test_duplicate_keys_are_kept_with_positions(tmp_path: Path) -> None:
    text = "virtualhosts:\n  - name: prod\n    sslSecret: a\n    sslSecret: b\n"
    assert findings(tmp_path, {"o.yaml": text}) == [("o.yaml", "APG205", 4)]
    (document,) = parse(SourceText(Path("o.yaml"), text))
    host = document.get("virtualhosts").items[0]  # type: ignore[union-attr]
    assert host.scalar("sslSecret").value == "b"  # the last one counts, as in most tools


def test_merge_keys_are_applied(tmp_path: Path) -> None:
    text = (
        "defaults: &defaults\n  sslSecret: prod-tls\n  additionalGateways: [non-sni]\n"
        "virtualhosts:\n  - <<: *defaults\n    name: prod\n"
    )
    result = check_files(tmp_path, {"o.yaml": text, "r.yaml": ROUTE}, {"apigee": {"non-sni": "required"}})
    assert [f.code for f in result.findings] == []
    assert result.workspace.apigee is not None
    (host,) = result.workspace.apigee.hosts
    assert host.listed_names() == {"non-sni"} and host.credential == "prod-tls"


# -- hostile input ------------------------------------------------------------------
def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for letter in "bcdefghi":
        lines.append(f"{letter}: &{letter} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = letter
    lines += ["virtualhosts:", "  - name: prod", "    sslSecret: prod-tls", "    cipherSuites: *i"]
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_neither_expanded_nor_fatal(tmp_path: Path) -> None:
    started = time.monotonic()
    result = check_files(tmp_path, {"o.yaml": billion_laughs()}, {"apigee": {"non-sni": "required"}})
    assert time.monotonic() - started < 10
    (schema,) = result.findings  # the file is not read: nothing else is said about it
    assert schema.code == "APG201" and schema.message.startswith("document contains excessive aliasing")
    # Where go-yaml stops: the alias whose expansion takes the share past 99%.
    assert (schema.location.line, schema.location.column) == (4, 17)


def test_an_object_too_large_to_validate_is_said_so(tmp_path: Path) -> None:
    """Aliases go-yaml reads (98.6% of the nodes) that expand one virtual host past the
    20,000 nodes tlslint validates: its verdict is incomplete."""
    items = ",".join(f"s{i}" for i in range(250))
    text = f"suites: &s [{items}]\nvirtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n"
    text += "    cipherSuites: [" + ",".join(["*s"] * 100) + "]\n"
    (finding,) = check_files(tmp_path, {"o.yaml": text}).findings
    assert finding.code == "APG201" and finding.location.line == 3
    assert finding.message == "virtualhosts[0]: aliases expand to more than 20000 nodes; not validated"


def test_recursive_anchors_end(tmp_path: Path) -> None:
    text = "virtualhosts: &v\n  - name: prod\n    selector: &s {app: *s}\n  - *v\n"
    result = check_files(tmp_path, {"o.yaml": text})
    assert {f.code for f in result.findings} <= {"APG201"}


def test_deep_nesting_is_a_finding(tmp_path: Path) -> None:
    text = "virtualhosts: " + "[" * 3000 + "]" * 3000 + "\n"
    result = check_files(tmp_path, {"o.yaml": text})
    (finding,) = result.findings
    assert finding.code == "APG201" and "nest" in finding.message


def test_binary_file_is_reported_named_or_walked_when_its_text_says_apigee(tmp_path: Path) -> None:
    # Walked, it was skipped ("Nothing checked", exit 0): its text before the NUL says
    # virtualhosts:, so it is Apigee's, and does not load. A binary *.yaml whose text
    # says nothing of the kind is skipped by a walk, as every file of no format is.
    path = tmp_path / "o.yaml"
    path.write_bytes(b"virtualhosts:\n  - name: prod\x00\n")
    (tmp_path / "other.yaml").write_bytes(b"\x00\x01binary")
    named = run([path], settings_for(tmp_path))
    assert [(f.code, f.location.line) for f in named.findings] == [("APG201", 2)]
    assert "binary" in named.findings[0].message
    walked = run([tmp_path], settings_for(tmp_path))
    assert [(f.location.path.name, f.code, f.location.line) for f in walked.findings] == [
        ("o.yaml", "APG201", 2)
    ]


def test_huge_file_is_refused_by_size(tmp_path: Path) -> None:
    text = "virtualhosts:\n" + "".join(f"  - name: group-{i}\n    sslSecret: s\n" for i in range(200))
    result = check_files(tmp_path, {"o.yaml": text}, {"max-file-size": 1024})
    (finding,) = result.findings
    assert finding.code == "APG201" and "limit" in finding.message and finding.location.line == 0


def test_control_character_is_a_finding_with_a_line(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"o.yaml": "virtualhosts:\n  - name: pr\x07od\n"})
    assert [(f.code, f.location.line) for f in result.findings] == [("APG201", 2)]


def test_undecodable_bytes_are_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_bytes(b"virtualhosts:\n  - name: caf\xe9\n")
    result = run([tmp_path], settings_for(tmp_path))
    assert [(f.code, f.location.line) for f in result.findings] == [("APG201", 2)]


# -- templates ----------------------------------------------------------------------
def test_helm_template_that_is_not_yaml_is_one_info(tmp_path: Path) -> None:
    text = "virtualhosts:\n{{- range .Values.groups }}\n  - name: {{ .name }}\n{{- end }}\n"
    result = check_files(tmp_path, {"values.yaml": text}, {"apigee": {"non-sni": "required"}})
    # At the line where reading stopped (the `{{- range }}` line reads as a flow mapping).
    assert [(f.code, f.severity.name, f.location.line) for f in result.findings] == [("APG001", "INFO", 3)]
    assert "a Helm template" in result.findings[0].message
    assert "`helm template`" in result.findings[0].message


def test_a_jinja_template_is_said_to_be_one_where_reading_stopped(tmp_path: Path) -> None:
    """/tmp/t3/j: an Ansible overrides template whose `{{ }}` values are valid YAML and whose
    `{% if %}` line is not; it was called a Helm template, at its first `{{ }}` (line 2)."""
    text = (
        'org: "{{ PROJECT_ID }}"\nvirtualhosts:\n  - name: "{{ ENV_GROUP }}"\n'
        "cassandra:\n  replicaCount: {{ COUNT }}\n{% if SEED is defined %}\n"
        "  multiRegionSeedHost: {{ SEED }}\n{% endif %}\n"
    )
    result = check_files(tmp_path, {"overrides.yaml": text})
    [finding] = result.findings
    assert (finding.code, finding.location.line) == ("APG001", 6)
    assert finding.message.startswith("a Jinja template")
    assert "Helm" not in finding.message and "helm template" not in finding.message


def test_helm_placeholders_in_valid_yaml_are_not_wrong_values(tmp_path: Path) -> None:
    text = (
        "virtualhosts:\n  - name: {{ .Values.envgroup }}\n    sslSecret: {{ .Values.secret }}\n"
        "    minTLSProtocolVersion: {{ .Values.min }}\n    additionalGateways: {{ .Values.gw }}\n"
    )
    assert findings(tmp_path, {"o.yaml": text}, {"apigee": {"non-sni": "required"}}) == [
        ("o.yaml", "APG101", 2)  # the route is missing whatever the values are
    ]


@pytest.mark.parametrize(
    "value", ["${ENV_GROUP}", "$ENV_GROUP", "<ENV_GROUP>", "ENV_GROUP_NAME", '"${ORG}-${ENV}"']
)
def test_placeholder_names_are_not_reported(tmp_path: Path, value: str) -> None:
    text = f"virtualhosts:\n  - name: {value}\n    sslSecret: $SECRET\n"
    assert findings(tmp_path, {"o.yaml": text}) == []


def test_placeholder_port_and_credential_pass_the_route_checks(tmp_path: Path) -> None:
    route = ROUTE.replace("number: 443", "number: ${PORT}").replace("prod-tls", "<CREDENTIAL_NAME>")
    overrides = "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n    additionalGateways: [non-sni]\n"
    assert (
        findings(tmp_path, {"o.yaml": overrides, "r.yaml": route}, {"apigee": {"non-sni": "required"}}) == []
    )


# -- documents ----------------------------------------------------------------------
def test_kind_list_and_multi_document_manifests(tmp_path: Path) -> None:
    items = "".join("  " + line + "\n" if line else "\n" for line in ROUTE.splitlines())
    listed = "apiVersion: v1\nkind: List\nitems:\n-" + items[1:]
    multi = "apiVersion: v1\nkind: Service\nmetadata: {name: x}\n---\n" + ROUTE.replace("non-sni", "other")
    result = check_files(tmp_path, {"list.yaml": listed, "multi.yaml": multi})
    assert result.workspace.apigee is not None
    names = sorted(str(r.name.value) for r in result.workspace.apigee.routes if r.name is not None)
    assert names == ["non-sni", "other"]


def test_unrelated_yaml_is_skipped_quietly(tmp_path: Path) -> None:
    files = {
        ".github/workflows/ci.yml": "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n",
        "kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n"
        ),
        "deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
        "broken.yml": "a: [\n",
        "values.yaml": "replicas: 2\nimage: {tag: 1.0}\n",
    }
    result = check_files(tmp_path, files)
    assert result.findings == [] and result.files == []
    named = run([tmp_path / "broken.yml", tmp_path / "deploy.yaml"], settings_for(tmp_path))
    assert named.findings == [] and named.files == [] and named.exit_code(Severity.INFO) == 0


def test_discovery_sniffs_content(tmp_path: Path) -> None:
    (tmp_path / "o.yaml").write_text("# values\nvirtualhosts: []\n")
    (tmp_path / "r.yml").write_text(ROUTE)
    (tmp_path / "nested.yaml").write_text("spec:\n  virtualhosts: []\n")
    (tmp_path / "other.yaml").write_text("apiVersion: apigee.cloud.google.com/v1\nkind: ApigeeEnvironment\n")
    found = discover([tmp_path])
    assert sorted(p.name for p in found.yaml) == ["o.yaml", "r.yml"]
    assert found.nginx == []
    assert classify(tmp_path / "other.yaml", explicit=True) is None
    assert classify(tmp_path / "o.yaml", explicit=True) == YAML


def test_validate_text_raises_with_the_line() -> None:
    with pytest.raises(SourceError) as raised:
        validate_text(SourceText(Path("o.yaml"), "virtualhosts:\n - name: a\n   x: 1\n  - name: b\n"))
    assert raised.value.line == 4
    validate_text(SourceText(Path("o.yaml"), ROUTE))


def test_load_source_never_raises_on_odd_shapes() -> None:
    for text in ["", "---\n...\n", "- 1\n- 2\n", "virtualhosts: 3\n", "virtualhosts: {a: b}\n",
                 "ingressGateways: [1, [2]]\n", "virtualhosts:\n  - 1\n  - [x]\n  - {? [a] : b}\n",
                 "kind: ApigeeRoute\napiVersion: apigee.cloud.google.com/v1alpha1\nspec: 3\n"]:  # fmt: skip
        load_source(SourceText(Path("o.yaml"), text))


def test_overlay_new_files_are_read_within_the_targets(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    inside = (tmp_path / "sub" / "new.yaml").resolve()
    outside = (tmp_path.parent / f"{tmp_path.name}-elsewhere.yaml").resolve()
    overlay = {inside: SourceText(inside, ROUTE), outside: SourceText(outside, ROUTE)}
    loaded = load_apigee([], settings_for(tmp_path), overlay, [tmp_path])
    assert [f.path for f in loaded.workspace.files] == [inside]


def test_ruamel_is_imported_only_when_yaml_is_in_scope(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").write_text("events {}\nhttp {}\n")
    code = (
        "import sys; from pathlib import Path; from tlslint.engine import run; "
        "from tlslint.settings import Settings; "
        f"run([Path({str(tmp_path)!r})], Settings(base=Path({str(tmp_path)!r}))); "
        "print('ruamel.yaml' in sys.modules, 'jsonschema' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


# -- suppressions -------------------------------------------------------------------
def test_yaml_comments_suppress(tmp_path: Path) -> None:
    text = "virtualhosts:\n  # tlslint: disable=APG103\n  - name: prod\n    sslSecret: prod-tls\n"
    required = {"apigee": {"non-sni": "required"}}
    assert [c for _, c, _ in findings(tmp_path, {"o.yaml": text}, required)] == ["APG101"]
    whole = "# tlslint: disable-file=non-sni-route-missing,APG103\n" + text.replace(
        "  # tlslint: disable=APG103\n", ""
    )
    assert findings(tmp_path, {"o.yaml": whole}, required) == []


@pytest.mark.parametrize("name", ["apigee-virtualhost", "apigee-ingressgateway", "apigee-route"])
def test_shipped_schemas_are_draft_2020_12(name: str) -> None:
    import json

    import jsonschema

    from tlslint.sources.apigee.schema import SCHEMAS

    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
