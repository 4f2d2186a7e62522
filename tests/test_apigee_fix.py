"""Apigee fixes are text edits: every other byte of the file stays as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import helpers
import jsonschema
import pytest
from helpers import only_added, replaced, settings_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from tlslint.engine import run
from tlslint.fixing import apply_fixes
from tlslint.sources.apigee.schema import ROUTE, SCHEMAS

REQUIRED = {"apigee": {"non-sni": "required"}}
WILDCARD = """\
apiVersion: apigee.cloud.google.com/v1alpha1
kind: ApigeeRoute
metadata:
  name: non-sni
  namespace: apigee
spec:
  hostnames:
  - "*"
  ports:
  - number: 443
    protocol: HTTPS
    tls:
      credentialName: prod-tls
      mode: SIMPLE
  selector:
    app: apigee-ingressgateway
  enableNonSniClient: true
"""


def fix(tmp_path: Path, files: dict[str, bytes | str], mapping: dict[str, object] | None = None,
        unsafe: bool = True) -> dict[str, bytes]:  # fmt: skip
    """--fix on the files; unsafe by default: APG102/APG103 change who can connect
    (docs/fix-safety.md), and these tests are about how their edits are written."""
    return helpers.fix(tmp_path, files, mapping, unsafe)


OVERRIDES = """\
# Apigee hybrid overrides, prod cluster
gcp:
  projectID: my-project   # the GCP project
org: my-org

virtualhosts:
    -   name: prod            # env group
        sslSecret: 'prod-tls'
        selector: {app: apigee-ingressgateway}

    # a second group, same cert
    -   name: test
        sslSecret: 'prod-tls'
        additionalGateways:
        - "internal"

envs:
  - name: prod-env
"""


def test_apg103_adds_lines_and_changes_nothing_else(tmp_path: Path) -> None:
    route_internal = WILDCARD.replace("name: non-sni", "name: internal").replace(
        '- "*"', "- internal.example.com"
    )
    route_internal = route_internal.replace("  enableNonSniClient: true\n", "")
    files = {"overrides.yaml": OVERRIDES, "r/wild.yaml": WILDCARD, "r/internal.yaml": route_internal}
    out = fix(tmp_path, files,
              REQUIRED)  # fmt: skip
    added = only_added(OVERRIDES.encode(), out["overrides.yaml"])
    assert added == [b'        additionalGateways: ["non-sni"]\n', b'        - "non-sni"\n']
    text = out["overrides.yaml"].decode()
    assert text.index('additionalGateways: ["non-sni"]') < text.index("# a second group")
    assert run([tmp_path], settings_for(tmp_path, REQUIRED)).findings == []


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_apg105_keeps_the_comments_among_the_items_it_replaces(tmp_path: Path, newline: str) -> None:
    # The replaced span used to take the comments between the items with it.
    listed = (
        '  hostnames:\n  # the public names\n  - "api.example.com"   # prod\n'
        "  # staging, until June\n  - 'stage.example.com'\n  - www.example.com  # last\n"
    )
    route = WILDCARD.replace('  hostnames:\n  - "*"\n', listed).replace("\n", newline)
    fixed = fix(tmp_path, {"route.yaml": route})["route.yaml"].decode()
    # The last item's comment too: beside "*", it would label the wildcard.
    expected = '  hostnames:\n  # the public names\n  # prod\n  # staging, until June\n  # last\n  - "*"\n'
    assert fixed == WILDCARD.replace('  hostnames:\n  - "*"\n', expected).replace("\n", newline)
    assert fix(tmp_path, {"route.yaml": fixed}) == {"route.yaml": fixed.encode()}  # a second fix: nothing


def test_crlf_and_bom_are_kept(tmp_path: Path) -> None:
    text = "virtualhosts:\r\n  - name: prod\r\n    sslSecret: prod-tls # tls\r\n"
    before = b"\xef\xbb\xbf" + text.encode()
    out = fix(tmp_path, {"o.yaml": before, "wild.yaml": WILDCARD}, REQUIRED)
    assert out["o.yaml"].startswith(b"\xef\xbb\xbf")
    assert only_added(before, out["o.yaml"]) == [b'    additionalGateways: ["non-sni"]\r\n']


def test_flow_mapping_host_gets_a_flow_entry(tmp_path: Path) -> None:
    before = "virtualhosts: [{name: prod, sslSecret: prod-tls}]  # one group\n"
    out = fix(tmp_path, {"o.yaml": before, "wild.yaml": WILDCARD}, REQUIRED)
    assert replaced(before.encode(), out["o.yaml"]) == [
        (
            before.encode(),
            b"virtualhosts: [{name: prod, sslSecret: prod-tls, "
            b'additionalGateways: ["non-sni"]}]  # one group\n',
        )
    ]


def test_null_additional_gateways_is_filled(tmp_path: Path) -> None:
    before = "virtualhosts:\n  - name: prod\n    additionalGateways:   # none yet\n    sslSecret: prod-tls\n"
    out = fix(tmp_path, {"o.yaml": before, "wild.yaml": WILDCARD}, REQUIRED)
    assert replaced(before.encode(), out["o.yaml"]) == [
        (b"    additionalGateways:   # none yet\n", b'    additionalGateways: ["non-sni"]   # none yet\n')
    ]


def test_apg102_on_a_file_without_a_final_line_break(tmp_path: Path) -> None:
    before = WILDCARD.replace("  enableNonSniClient: true\n", "").rstrip("\n")
    out = fix(tmp_path, {"route.yaml": before})
    assert out["route.yaml"] == (before + "\n  enableNonSniClient: true").encode()


def test_apg202_quotes_only_the_value(tmp_path: Path) -> None:
    """The anchor stays; a tag goes with the quoting (`!!float "1.3"` is still a float)."""
    before = (
        "virtualhosts:\n  - name: prod\n"
        "    minTLSProtocolVersion: &v 1.2   # floor\n    maxTLSProtocolVersion: !!float 1.3\n"
    )
    out = fix(tmp_path, {"o.yaml": before}, unsafe=False)
    assert replaced(before.encode(), out["o.yaml"]) == [
        (
            b"    minTLSProtocolVersion: &v 1.2   # floor\n",
            b'    minTLSProtocolVersion: &v "1.2"   # floor\n',
        ),
        (b"    maxTLSProtocolVersion: !!float 1.3\n", b'    maxTLSProtocolVersion: "1.3"\n'),
    ]
    assert [f.code for f in run([tmp_path], settings_for(tmp_path)).findings] == []


@pytest.mark.parametrize(
    ("written", "fixed"),
    [
        ("!!float 1.2", '"1.2"'),
        ('!!float "1.2"', '"1.2"'),  # quoted, but the tag makes it the number 1.2
        ("&v !!float 1.2", '&v "1.2"'),
    ],
)
def test_apg202_a_tagged_number_loses_its_tag(tmp_path: Path, written: str, fixed: str) -> None:
    """Quoting a tagged scalar keeps the tag, and `!!float "1.2"` is the float 1.2 still: the
    fix must drop the tag, or the next run would not see the number it left."""
    before = f"virtualhosts:\n  - name: prod\n    sslSecret: s\n    minTLSProtocolVersion: {written}\n"
    out = fix(tmp_path, {"o.yaml": before}, unsafe=False)
    assert out["o.yaml"] == before.replace(written, fixed).encode()
    assert [f.code for f in run([tmp_path], settings_for(tmp_path)).findings] == []
    again = fix(tmp_path, {"o.yaml": out["o.yaml"]}, unsafe=True)
    assert again["o.yaml"] == out["o.yaml"]


def test_apg202_a_tag_before_an_anchor_is_reported_without_a_fix(tmp_path: Path) -> None:
    """ruamel starts `!!float &v 1.2` at the anchor: the tag is found before it, and the
    value left alone (the finding says why) rather than quoted into `!!float &v "1.2"`."""
    before = "virtualhosts:\n  - name: prod\n    sslSecret: s\n    minTLSProtocolVersion: !!float &v 1.2\n"
    out = fix(tmp_path, {"o.yaml": before})
    assert out["o.yaml"] == before.encode()
    (finding,) = run([tmp_path], settings_for(tmp_path)).findings
    assert finding.code == "APG202" and finding.fix is None
    assert "tag and anchor" in finding.fix_note


def test_values_shared_through_aliases_are_not_edited(tmp_path: Path) -> None:
    before = (
        "apiVersion: apigee.cloud.google.com/v1alpha1\nkind: ApigeeRoute\nmetadata:\n  name: a\n"
        "  annotations:\n    base: &spec\n      hostnames: ['*']\nspec: *spec\n"
    )
    out = fix(tmp_path, {"route.yaml": before})
    assert out["route.yaml"] == before.encode()
    result = run([tmp_path], settings_for(tmp_path))
    (finding,) = [f for f in result.findings if f.code == "APG102"]
    assert finding.fix is None and "alias" in finding.fix_note


def test_apg101_manifest_goes_beside_the_overrides_in_a_checked_directory(tmp_path: Path) -> None:
    overrides = (
        "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n"
        "    selector:\n      app: apigee-ingressgateway\n      ingress_name: ing-a\n"
    )
    out = fix(tmp_path, {"env/overrides.yaml": overrides}, REQUIRED, unsafe=True)
    route = out["env/non-sni-route.yaml"].decode()
    assert "credentialName: prod-tls" in route and "ingress_name: ing-a" in route
    assert only_added(overrides.encode(), out["env/overrides.yaml"]) == [
        b'    additionalGateways: ["non-sni"]\n'
    ]
    assert run([tmp_path], settings_for(tmp_path, REQUIRED)).findings == []


def test_apg101_uses_the_generated_secret_name_with_cert_paths(tmp_path: Path) -> None:
    overrides = (
        "org: acme\nvirtualhosts:\n  - name: prod\n    sslCertPath: ./c.pem\n    sslKeyPath: ./k.pem\n"
    )
    out = fix(tmp_path, {"overrides.yaml": overrides}, REQUIRED, unsafe=True)
    assert "credentialName: acme-prod\n" in out["non-sni-route.yaml"].decode()


def test_apg101_is_not_applied_without_unsafe_fixes(tmp_path: Path) -> None:
    overrides = "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n"
    out = fix(tmp_path, {"overrides.yaml": overrides}, REQUIRED, unsafe=False)
    assert list(out) == ["overrides.yaml"] and out["overrides.yaml"] == overrides.encode()


def test_end_to_end_through_the_cli(tmp_path: Path) -> None:
    """--fix --unsafe-fixes on an overrides file plus a manifest directory, policy required."""
    repo = tmp_path / "repo"
    (repo / "k8s").mkdir(parents=True)
    (repo / ".tlslint.toml").write_text('[apigee]\nnon-sni = "required"\n')
    overrides = (
        "# prod overrides\norg: acme\n\nvirtualhosts:\n  - name: prod   # env group\n"
        "    sslSecret: prod-tls\n    selector:\n      app: apigee-ingressgateway\n"
        "\nenvs:\n  - name: prod-env\n"
    )
    (repo / "overrides.yaml").write_text(overrides)
    api_route = WILDCARD.replace("name: non-sni", "name: api").replace('- "*"', "- api.example.com")
    (repo / "k8s" / "api-route.yaml").write_text(api_route.replace("  enableNonSniClient: true\n", ""))
    env = {**os.environ, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "tlslint", "overrides.yaml", "k8s"]

    before = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    assert before.returncode == 1 and "APG101" in before.stdout and "APG103" in before.stdout

    fixed = subprocess.run(
        [*command, "--fix", "--unsafe-fixes"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "fixed 2 files" in fixed.stderr

    after = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    assert after.returncode == 0, after.stdout
    assert "All checks passed" in after.stdout

    created = repo / "k8s" / "non-sni-route.yaml"
    manifest = YAML(typ="safe", pure=True).load(created.read_text())
    schema = json.loads((SCHEMAS / ROUTE).read_text())
    jsonschema.Draft202012Validator(schema).validate(manifest)
    assert manifest["spec"]["hostnames"] == ["*"] and manifest["spec"]["enableNonSniClient"] is True
    assert manifest["metadata"] == {"name": "non-sni", "namespace": "apigee"}
    tls = manifest["spec"]["ports"][0]["tls"]
    assert tls == {"credentialName": "prod-tls", "mode": "SIMPLE"}
    assert only_added(overrides.encode(), (repo / "overrides.yaml").read_bytes()) == [
        b'    additionalGateways: ["non-sni"]\n'
    ]
    again = subprocess.run(
        [*command, "--fix", "--unsafe-fixes"], cwd=repo, env=env, capture_output=True, text=True
    )
    assert again.returncode == 0 and "fixed" not in again.stderr


def test_apg101_never_writes_a_second_manifest(tmp_path: Path) -> None:
    """Checking the overrides file alone after a fix: the route beside it is not read."""
    overrides = tmp_path / "overrides.yaml"
    overrides.write_text("virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n")
    settings = settings_for(tmp_path, REQUIRED)
    apply_fixes(run([overrides], settings), settings, unsafe=True, write=True)
    assert (tmp_path / "non-sni-route.yaml").is_file()
    assert run([overrides, tmp_path / "non-sni-route.yaml"], settings).findings == []
    again = run([overrides], settings)
    assert [f.code for f in again.findings] == ["APG100"]  # the route it lists was not read
    assert apply_fixes(again, settings, unsafe=True, write=True).written == []
    # A file of that name that this run does not read is never overwritten or doubled.
    overrides.write_text("virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n")
    third = run([overrides], settings)
    (finding,) = [f for f in third.findings if f.code == "APG101"]
    assert finding.fix is None and "exists but is not among the checked files" in finding.fix_note
    assert apply_fixes(third, settings, unsafe=True, write=True).written == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["non-sni-route.yaml", "overrides.yaml"]


TWO_GATEWAYS = """\
# two env groups, each on its own ingress gateway
virtualhosts:
  - name: prod
    sslSecret: prod-tls   # prod cert
    selector:
      app: apigee-ingressgateway
      ingress_name: ing1
  - name: test
    sslSecret: test-tls
    selector:
      app: apigee-ingressgateway
      ingress_name: ing2
"""


def test_hosts_on_two_ingress_gateways_get_a_route_each(tmp_path: Path) -> None:
    """The APG101 + APG103 fixes made one route for ing1 and listed it on both hosts: the
    second host's gateway was not served (APG107) and its secret not sent (APG109), and
    the fixer said "APG107 appeared after a fix". Each gateway now gets its own route."""
    settings = settings_for(tmp_path, REQUIRED)
    (tmp_path / "overrides.yaml").write_text(TWO_GATEWAYS)
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert outcome.messages == [] and outcome.result.findings == []
    loader = YAML(typ="safe", pure=True)
    routes = {
        name: loader.load((tmp_path / f"{name}-route.yaml").read_text())["spec"]
        for name in ("non-sni-ing1", "non-sni-ing2")
    }
    assert routes["non-sni-ing1"]["selector"] == {"app": "apigee-ingressgateway", "ingress_name": "ing1"}
    assert routes["non-sni-ing2"]["selector"] == {"app": "apigee-ingressgateway", "ingress_name": "ing2"}
    assert routes["non-sni-ing1"]["ports"][0]["tls"]["credentialName"] == "prod-tls"
    assert routes["non-sni-ing2"]["ports"][0]["tls"]["credentialName"] == "test-tls"
    after = (tmp_path / "overrides.yaml").read_bytes()
    assert only_added(TWO_GATEWAYS.encode(), after) == [
        b'    additionalGateways: ["non-sni-ing1"]\n',
        b'    additionalGateways: ["non-sni-ing2"]\n',
    ]
    assert after.decode().index("non-sni-ing1") < after.decode().index("- name: test")
    assert run([tmp_path], settings).findings == []
    assert apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True).written == []


def test_a_route_for_one_gateway_is_not_listed_on_another(tmp_path: Path) -> None:
    """A route bound to ing1 exists: the host on ing2 is not linked to it; APG101 writes
    a route for ing2, and APG103 links that one."""
    route = WILDCARD.replace(
        "    app: apigee-ingressgateway\n", "    app: apigee-ingressgateway\n    ingress_name: ing1\n"
    )
    overrides = TWO_GATEWAYS.replace(
        "      ingress_name: ing1\n", "      ingress_name: ing1\n    additionalGateways: [non-sni]\n"
    )
    settings = settings_for(tmp_path, REQUIRED)
    for name, text in {"overrides.yaml": overrides, "non-sni-route.yaml": route}.items():
        (tmp_path / name).write_text(text)
    before = run([tmp_path], settings)
    (apg101,) = [f for f in before.findings if f.code == "APG101"]
    assert (
        "serves ingress gateway 'ing2', which virtual host 'test' uses; "
        "ApigeeRoute 'non-sni' does not serve them" in apg101.message
    )
    (apg103,) = [f for f in before.findings if f.code == "APG103"]
    assert apg103.fix is None and "ingress_name is 'ing1' on the route, 'ing2' on the host" in apg103.fix_note
    outcome = apply_fixes(before, settings, unsafe=True, write=True)
    assert outcome.messages == [] and outcome.result.findings == []
    assert only_added(overrides.encode(), (tmp_path / "overrides.yaml").read_bytes()) == [
        b'    additionalGateways: ["non-sni-ing2"]\n'
    ]
    assert "ingress_name: ing2" in (tmp_path / "non-sni-ing2-route.yaml").read_text()


def test_a_host_with_another_secret_is_not_linked_to_its_gateways_route(tmp_path: Path) -> None:
    """One gateway, one wildcard route, one certificate: a host with another secret is not
    added (APG109 would follow), and no second route is written for that gateway (APG106)."""
    overrides = (
        "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n  - name: test\n    sslSecret: test-tls\n"
    )
    settings = settings_for(tmp_path, REQUIRED)
    (tmp_path / "overrides.yaml").write_text(overrides)
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert outcome.messages == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["non-sni-route.yaml", "overrides.yaml"]
    assert only_added(overrides.encode(), (tmp_path / "overrides.yaml").read_bytes()) == [
        b'    additionalGateways: ["non-sni"]\n'
    ]
    (left,) = outcome.result.findings
    assert left.code == "APG103" and left.fix is None and "virtual host 'test'" in left.message
    assert "secret 'prod-tls'" in left.fix_note and "uses 'test-tls'" in left.fix_note


def test_no_route_is_written_beside_a_wildcard_route_on_the_same_gateways(tmp_path: Path) -> None:
    """A wildcard route bound to ing1 does not serve a host bound to no ingress; a new route
    for every gateway would pick ing1 too (APG106): the fix is withheld, with the reason."""
    route = WILDCARD.replace(
        "    app: apigee-ingressgateway\n", "    app: apigee-ingressgateway\n    ingress_name: ing1\n"
    )
    settings = settings_for(tmp_path, REQUIRED)
    (tmp_path / "overrides.yaml").write_text("virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n")
    (tmp_path / "non-sni-route.yaml").write_text(route)
    result = run([tmp_path], settings)
    (finding,) = [f for f in result.findings if f.code == "APG101"]
    assert (
        finding.fix is None
        and "ApigeeRoute 'non-sni' has the wildcard hostname and a selector that may pick" in finding.fix_note
    )
    assert apply_fixes(result, settings, unsafe=True, write=True).written == []


def test_flow_lists_with_a_trailing_comma_or_over_several_lines(tmp_path: Path) -> None:
    before = (
        "virtualhosts:\n  - name: prod\n    additionalGateways: [a, ]\n"
        '  - name: test\n    additionalGateways: [\n      "b"\n    ]\n'
    )
    routes = WILDCARD + "".join(
        f"---\n{WILDCARD}".replace("name: non-sni", f"name: {n}")
        .replace('- "*"', f"- {n}.example.com")
        .replace("  enableNonSniClient: true\n", "")
        for n in ("a", "b")
    )
    out = fix(tmp_path, {"o.yaml": before, "routes.yaml": routes}, REQUIRED)
    assert out["o.yaml"].decode() == before.replace("[a, ]", "[a, non-sni ]").replace(
        '"b"\n', '"b", "non-sni"\n'
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    indent=st.sampled_from([2, 4]),
    item_indent=st.sampled_from([0, 2, 4]),
    quote=st.sampled_from(["", "'", '"']),
    comment=st.booleans(),
    crlf=st.booleans(),
    final_newline=st.booleans(),
    gateways=st.sampled_from(["none", "flow", "block", "empty"]),
)
def test_apg103_fix_only_adds_or_extends_one_line(
    tmp_path_factory: pytest.TempPathFactory,
    indent: int,
    item_indent: int,
    quote: str,
    comment: bool,
    crlf: bool,
    final_newline: bool,
    gateways: str,
) -> None:
    pad, key_pad = " " * item_indent, " " * (item_indent + indent)
    note = "   # the env group" if comment else ""
    lines = ["# overrides", "virtualhosts:", f"{pad}-{' ' * (indent - 1)}name: {quote}prod{quote}{note}"]
    lines.append(f"{key_pad}sslSecret: {quote}prod-tls{quote}")
    if gateways == "flow":
        lines.append(f"{key_pad}additionalGateways: [{quote}internal{quote}]")
    elif gateways == "block":
        lines += [f"{key_pad}additionalGateways:", f"{key_pad}- {quote}internal{quote}{note}"]
    elif gateways == "empty":
        lines.append(f"{key_pad}additionalGateways:{note}")
    newline = "\r\n" if crlf else "\n"
    before = (newline.join(lines) + (newline if final_newline else "")).encode()
    tmp_path = tmp_path_factory.mktemp("apg103")
    out = fix(tmp_path, {"o.yaml": before, "wild.yaml": WILDCARD}, REQUIRED)
    after = out["o.yaml"]
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    changed = [(a, b) for a, b in zip(old, new, strict=False) if a != b]
    if gateways in ("none", "block"):
        added = only_added(before, after)
        assert len(added) == 1 and b"non-sni" in added[0]
        assert added[0].endswith(newline.encode()) or not final_newline
    else:
        assert len(old) == len(new) and len(changed) == 1 and b"non-sni" in changed[0][1]
        assert changed[0][1].startswith(changed[0][0].split(b"[")[0].split(b":")[0])
    result = run([tmp_path], settings_for(tmp_path, REQUIRED))
    assert [f.code for f in result.findings if f.code in ("APG101", "APG103")] == []
