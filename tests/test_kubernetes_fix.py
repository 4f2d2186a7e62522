"""Kubernetes gateway fixes are text edits at ruamel's positions: every other byte
of the file stays as it was, CRLF, BOM, comments and quoting included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import fix, only_added, replaced, settings_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlslint.engine import run
from tlslint.fixing import apply_fixes

CATCH_ALL = {
    "kubernetes": {"non-sni": "required", "catch-all-credential": "wildcard-tls"},
    "select": ["GW101"],
}
GATEWAY = """\
# Public gateway, prod cluster   (reviewed 2026-01)
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
    name: public-gateway      # the one the VirtualServices name
    namespace: istio-ingress
spec:
    selector:
        istio: ingressgateway

    servers:
        -   port:
                number: 443
                name: 'https-shop'
                protocol: HTTPS
            hosts:
                - shop.example.com   # storefront
            tls:
                mode: SIMPLE
                credentialName: 'shop-tls'

# end of the gateway
"""


def test_the_catch_all_server_follows_the_servers_indentation_and_nothing_else_moves(tmp_path: Path) -> None:
    out = fix(tmp_path, {"gw.yaml": GATEWAY}, CATCH_ALL, unsafe=True)
    added = only_added(GATEWAY.encode(), out["gw.yaml"])
    assert b"".join(added).decode() == (
        "        -   port:\n"
        "                number: 443\n"
        "                name: https-catch-all\n"
        "                protocol: HTTPS\n"
        "            hosts:\n"
        '                - "*"\n'
        "            tls:\n"
        "                mode: SIMPLE\n"
        "                credentialName: wildcard-tls\n"
    )
    after = out["gw.yaml"].decode()
    assert after.index("credentialName: 'shop-tls'") < after.index("https-catch-all") < after.index("# end")
    assert run([tmp_path], settings_for(tmp_path, CATCH_ALL)).findings == []


@pytest.mark.parametrize("bom", [False, True])
def test_crlf_a_bom_and_a_missing_final_line_break_are_kept(tmp_path: Path, bom: bool) -> None:
    text = GATEWAY.replace("\n\n# end of the gateway\n", "").replace("\n", "\r\n")
    before = ("\ufeff" if bom else "").encode() + text.encode()
    out = fix(tmp_path, {"gw.yaml": before}, CATCH_ALL, unsafe=True)
    after = out["gw.yaml"]
    assert after.startswith(before) and after.startswith(b"\xef\xbb\xbf") == bom
    tail = after[len(before) :]  # the file still ends without a line break
    assert tail.startswith(b"\r\n") and b"\n" not in tail.replace(b"\r\n", b"") and not tail.endswith(b"\n")


def test_a_configmap_value_is_replaced_in_place_with_its_quotes(tmp_path: Path) -> None:
    before = (
        b"apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n"
        b"  name: ingress-nginx-controller   # chart 4.15.1\r\n"
        b"data:\r\n  keep-alive: '75s'      # seconds\r\n  upstream-keepalive-connections: \"0\"\r\n"
    )
    mapping = {"select": ["ING102", "ING104"]}
    out = fix(tmp_path, {"cm.yaml": before}, mapping, unsafe=True)
    assert replaced(before, out["cm.yaml"]) == [
        (b"  keep-alive: '75s'      # seconds\r\n", b"  keep-alive: '75'      # seconds\r\n"),
        (b'  upstream-keepalive-connections: "0"\r\n', b'  upstream-keepalive-connections: "320"\r\n'),
    ]


def test_values_reached_through_an_alias_are_not_edited(tmp_path: Path) -> None:
    before = (
        "common: &common\n  keep-alive: '0'\ncontroller:\n  admissionWebhooks: {enabled: false}\n"
        "  config:\n    <<: *common\n    use-http2: 'true'\n"
    )
    out = fix(tmp_path, {"values.yaml": before}, {"select": ["ING101"]}, unsafe=True)
    assert out["values.yaml"].decode() == before
    findings = run([tmp_path], settings_for(tmp_path, {"select": ["ING101"]})).findings
    assert [f.code for f in findings] == ["ING101"] and findings[0].fix is None


def test_a_missing_key_is_added_to_the_data_or_a_config_created(tmp_path: Path) -> None:
    backend = {
        "app/gunicorn.conf.py": 'bind = "0.0.0.0:8000"\nworker_class = "gthread"\nthreads = 2\n'
        "keepalive = 3\n"
    }
    ingress = (
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n"
        "    nginx.ingress.kubernetes.io/ssl-redirect: 'true'\nspec:\n  defaultBackend:\n"
        "    service: {name: web, port: {number: 8000}}\n"
    )
    values = "controller:\n  replicaCount: 2\n  admissionWebhooks:\n    enabled: true\n" + ingress
    mapping = {"backends": [{"upstream": "web", "config": "app/gunicorn.conf.py"}], "select": ["ING105"]}
    out = fix(tmp_path, {"values.yaml": values, **backend}, mapping, unsafe=True)
    assert only_added(values.encode(), out["values.yaml"]) == [b"  config: {upstream-keepalive-timeout: 2}\n"]
    second = run([tmp_path], settings_for(tmp_path, mapping))
    assert second.findings == []
    again = apply_fixes(second, settings_for(tmp_path, mapping), unsafe=True, write=True)
    assert again.written == [] and again.diff == ""


def test_through_the_cli_diff_then_unsafe_fix(tmp_path: Path) -> None:
    (tmp_path / "gw.yaml").write_text(GATEWAY, encoding="utf-8")
    (tmp_path / ".tlslint.toml").write_text(
        '[kubernetes]\nnon-sni = "required"\ncatch-all-credential = "wildcard-tls"\n', encoding="utf-8"
    )
    command = [sys.executable, "-m", "tlslint"]
    check = subprocess.run([*command, "gw.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert check.returncode == 1 and "GW101" in check.stdout
    diff = subprocess.run(
        [*command, "--diff", "--unsafe-fixes", "gw.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert '+                - "*"' in diff.stdout and (tmp_path / "gw.yaml").read_text() == GATEWAY
    plain = subprocess.run(
        [*command, "--fix", "gw.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert plain.returncode == 1 and (tmp_path / "gw.yaml").read_text() == GATEWAY  # unsafe: not applied
    fixed = subprocess.run(
        [*command, "--fix", "--unsafe-fixes", "gw.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "https-catch-all" in (tmp_path / "gw.yaml").read_text()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    indent=st.sampled_from([2, 4]),
    list_indent=st.sampled_from([0, 2]),
    comments=st.booleans(),
    crlf=st.booleans(),
    final_newline=st.booleans(),
    listeners=st.integers(min_value=1, max_value=3),
)
def test_gateway_api_listener_added_in_any_layout(
    tmp_path_factory: pytest.TempPathFactory,
    indent: int,
    list_indent: int,
    comments: bool,
    crlf: bool,
    final_newline: bool,
    listeners: int,
) -> None:
    one = " " * indent
    dash = " " * list_indent
    note = "  # tenant" if comments else ""
    lines = ["apiVersion: gateway.networking.k8s.io/v1", "kind: Gateway", "metadata:", f"{one}name: public"]
    lines += ["spec:", f"{one}gatewayClassName: istio", f"{one}listeners:"]
    for index in range(listeners):
        pad = one + dash
        lines += [f"{pad}- name: https-{index}{note}", f"{pad}  hostname: t{index}.example.com"]
        lines += [f"{pad}  port: 443", f"{pad}  protocol: HTTPS", f"{pad}  tls:"]
        lines += [f"{pad}  {one}certificateRefs:", f"{pad}  {one}{dash}- name: t{index}-tls{note}"]
        if comments:
            lines.append("")
    newline = "\r\n" if crlf else "\n"
    before = (newline.join(lines) + (newline if final_newline else "")).encode()
    tmp_path = tmp_path_factory.mktemp("gw101")
    out = fix(tmp_path, {"gw.yaml": before}, CATCH_ALL, unsafe=True)
    added = only_added(before, out["gw.yaml"])
    assert [line.strip() for line in added] == [
        b"- name: https-catch-all", b"port: 443", b"protocol: HTTPS", b"tls:", b"mode: Terminate",
        b"certificateRefs:", b"- name: wildcard-tls",
    ]  # fmt: skip
    ends = [line.endswith(newline.encode()) for line in added]
    assert all(ends[:-1]) and ends[-1] == before.endswith(newline.encode())
    assert run([tmp_path], settings_for(tmp_path, {**CATCH_ALL, "select": ["GW"]})).findings == []


def test_fixing_a_values_file_leaves_the_retirement_notice_where_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The re-check reads the fixed file under its resolved path, the first run under the
    path given: ING110 went to the first file by that path, and the fixer said "ING110
    appeared after a fix" (a tester's ingress-nginx chart, no Helm release declared)."""
    (tmp_path / "charts/ingress-nginx").mkdir(parents=True)
    (tmp_path / "env").mkdir()
    (tmp_path / "charts/ingress-nginx/values.yaml").write_text(
        'controller:\n  name: controller\n  config: {}\n  electionID: ""\n'
    )
    (tmp_path / "env/prod.yaml").write_text("controller:\n  config:\n    keep-alive: 0\n")
    monkeypatch.chdir(tmp_path)  # `tlslint --diff --unsafe-fixes .`: paths as given, relative
    settings = settings_for(tmp_path)
    outcome = apply_fixes(run([Path(".")], settings), settings, unsafe=True, write=False)
    assert outcome.diff
    assert not [m for m in outcome.messages if "appeared after a fix" in m]


CONFIGMAP = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ingress-nginx-controller\n"
    "  namespace: ingress-nginx\n"
    "data:\n"
)


@pytest.mark.parametrize(
    ("name", "text", "code"),
    [
        ("cm.yaml", CONFIGMAP + '  keep-alive: "0s"\n', "ING101"),  # 0: keep-alive off, HTTP/2 broken
        ("values.yaml", "controller:\n  config:\n    keep-alive: 0m\n", "ING101"),
        ("cm.yaml", CONFIGMAP + '  ssl-reject-handshake: "yes"\n', "ING107"),
        ("cm.yaml", CONFIGMAP + '  ssl-session-cache: "no"\n', "ING112"),  # tickets are off by default
    ],
)
def test_ing102_offers_no_value_that_brings_another_rules_finding(
    tmp_path: Path, name: str, text: str, code: str
) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    settings = settings_for(tmp_path)
    result = run([tmp_path], settings)
    [finding] = [f for f in result.findings if f.code == "ING102"]
    assert finding.fix is None and f"({code})" in finding.fix_note and "no fix" in finding.fix_note
    outcome = apply_fixes(result, settings, unsafe=True, write=True)
    assert not any("appeared after a fix" in m for m in outcome.messages), outcome.messages
    assert (tmp_path / name).read_text(encoding="utf-8") == text
    alone = settings_for(tmp_path, {"select": ["ING102"]})
    assert apply_fixes(run([tmp_path], alone), alone, unsafe=True, write=True).diff == ""


def test_ing102_decodes_a_zero_that_brings_nothing(tmp_path: Path) -> None:
    before = CONFIGMAP + '  use-http2: "false"\n  keep-alive: "0s"\n'
    mapping = {"select": ["ING101", "ING102"]}
    out = fix(tmp_path, {"cm.yaml": before}, mapping, unsafe=True)
    assert replaced(before.encode(), out["cm.yaml"]) == [(b'  keep-alive: "0s"\n', b'  keep-alive: "0"\n')]


def test_ing102_offers_no_upstream_timeout_that_outlasts_a_linked_backend(tmp_path: Path) -> None:
    """ "2m" decoded is 120s, longer than the gunicorn behind the Ingress keeps its connections
    (90s): ING105's race, so the default of 60 it keeps today is left alone."""
    ingress = (
        "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n"
        "    nginx.ingress.kubernetes.io/ssl-redirect: 'true'\nspec:\n"
        "  defaultBackend:\n    service: {name: web, port: {number: 8000}}\n"
    )
    files = {
        "k.yaml": CONFIGMAP + '  upstream-keepalive-timeout: "2m"\n' + ingress,
        "app/gunicorn.conf.py": 'bind = "0.0.0.0:8000"\nworker_class = "gthread"\nkeepalive = 90\n',
    }
    mapping = {"backends": [{"upstream": "web", "config": "app/gunicorn.conf.py"}]}
    out = fix(tmp_path, files, mapping, unsafe=True)
    assert out["k.yaml"].decode() == files["k.yaml"]
    [finding] = [f for f in run([tmp_path], settings_for(tmp_path, mapping)).findings if f.code == "ING102"]
    assert finding.fix is None and "(ING105)" in finding.fix_note
    files["app/gunicorn.conf.py"] = files["app/gunicorn.conf.py"].replace("90", "150")
    out = fix(tmp_path, files, mapping, unsafe=True)  # 120s is shorter than 150s: decoded
    assert '  upstream-keepalive-timeout: "120"\n' in out["k.yaml"].decode()
