"""What did not load is never hidden: not by a baseline (written or read), not by
per-file-ignores or ``ignore``, not by a suppression comment, whichever rule's code it
has (docs/exit-codes.md, docs/usage.md#baselines). A run that did not check everything
never reads "All checks passed" (exit 2). The same codes on a file that loads stay
ordinary findings, which all of these hide."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import kustomize_binary
from helpers import cli_in_process

from tlslint.paths import forget

OVERRIDES = "overrides.yaml"
UNCLOSED = "virtualhosts:\n  - name: a\n    x: [1, 2\n"
GATEWAY_TAB = (
    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n\tservers: []\n"
)
ROUTE = (
    "apiVersion: apigee.cloud.google.com/v1alpha1\nkind: ApigeeRoute\n"
    'metadata: {name: r, namespace: apigee}\nspec:\n  hostnames: ["*"]\n'
)
DISABLE_ALL = "# tlslint: disable-file=ALL -- vendored\n"

# code -> (the file that does not load, its text, other files of the tree)
LOAD_ERRORS: dict[str, tuple[str, str, dict[str, str]]] = {
    "APG201": (OVERRIDES, UNCLOSED, {}),  # YAML that is not YAML
    "GW002": ("gw.yaml", GATEWAY_TAB, {}),
    "NGX010": ("nginx.conf", "\ufeffevents {}\n", {}),  # nginx refuses the byte-order mark
    # A build that does not render: a resource it lists is missing.
    "RND001": ("kustomization.yaml", "resources:\n- route.yaml\n- missing.yaml\n", {"route.yaml": ROUTE}),
}


def check(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str
) -> tuple[int, list[dict[str, str]], str]:
    """``tlslint check --no-cache --format json ARGS`` in ``root``: exit, findings, stderr."""
    monkeypatch.chdir(root)
    forget()  # "." resolves against the working directory, which each test changes
    code, out, err = cli_in_process(capsys, "check", "--no-cache", "--format", "json", *args)
    return code, json.loads(out)["findings"], err


def tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")


def load_error(root: Path, code: str, comment: str = "") -> str:
    if code == "RND001":
        kustomize_binary()
    name, text, others = LOAD_ERRORS[code]
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    tree(root, {**others, name: bom + comment + text.removeprefix(bom)})
    return name


def recorded(root: Path) -> list[str]:
    return [entry["code"] for entry in json.loads((root / "b.json").read_text(encoding="utf-8"))["findings"]]


def reported(findings: list[dict[str, str]], code: str, name: str) -> bool:
    return any(f["code"] == code and f["path"] == name for f in findings)


@pytest.mark.parametrize("code", list(LOAD_ERRORS))
def test_a_baseline_neither_records_nor_hides_what_did_not_load(
    code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = load_error(tmp_path, code)
    status, findings, _ = check(tmp_path, capsys, monkeypatch, "--write-baseline", "b.json", ".")
    assert status == 2 and reported(findings, code, name), findings
    assert code not in recorded(tmp_path)
    # A baseline that holds it anyway (an earlier tlslint recorded it) hides nothing: its
    # entry is stale, so that a refresh drops it.
    (finding,) = [f for f in findings if f["code"] == code]
    entry = {k: finding[k] for k in ("code", "path", "anchor", "message")}
    (tmp_path / "b.json").write_text(json.dumps({"version": 1, "findings": [entry]}), encoding="utf-8")
    status, findings, err = check(tmp_path, capsys, monkeypatch, "--baseline", "b.json", ".")
    assert status == 2 and reported(findings, code, name), findings
    assert "1 stale entry" in err and "never hidden by a baseline" in err, err
    check(tmp_path, capsys, monkeypatch, "--baseline", "b.json", "--write-baseline", "b.json", ".")
    assert code not in recorded(tmp_path)


@pytest.mark.parametrize("code", list(LOAD_ERRORS))
def test_settings_do_not_hide_what_did_not_load(
    code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = load_error(tmp_path, code)
    for settings in (f'per-file-ignores = {{ "*" = ["{code}", "ALL"] }}\n', f'ignore = ["{code}"]\n'):
        (tmp_path / ".tlslint.toml").write_text(settings, encoding="utf-8")
        status, findings, _ = check(tmp_path, capsys, monkeypatch, ".")
        assert status == 2 and reported(findings, code, name), (settings, findings)


@pytest.mark.parametrize("code", list(LOAD_ERRORS))
def test_a_suppression_comment_does_not_hide_what_did_not_load(
    code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = load_error(tmp_path, code, DISABLE_ALL)
    status, findings, _ = check(tmp_path, capsys, monkeypatch, ".")
    assert status == 2 and reported(findings, code, name), findings


def test_a_path_named_that_does_not_exist_is_not_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, findings, _ = check(tmp_path, capsys, monkeypatch, "--write-baseline", "b.json", "deploy/nginx")
    assert status == 2 and [f["code"] for f in findings] == ["SRC001"] and recorded(tmp_path) == []
    status, findings, err = check(tmp_path, capsys, monkeypatch, "--baseline", "b.json", "deploy/nginx")
    assert status == 2 and [f["code"] for f in findings] == ["SRC001"] and "stale" not in err, err


# --- the same codes on files that load: ordinary findings ---------------------------------------

SCHEMA_VIOLATION = "virtualhosts:\n- name: group\n  sslSecret: group-tls\n  additionalGateway: [non-sni]\n"
UNKNOWN_DIRECTIVE = "events {}\nhttp {\n    ssl_sesion_timeout 1h;\n}\n"


@pytest.mark.parametrize(
    ("code", "name", "text"),
    [("APG201", OVERRIDES, SCHEMA_VIOLATION), ("NGX010", "nginx.conf", UNKNOWN_DIRECTIVE)],
)
def test_the_same_codes_on_a_file_that_loads_can_be_hidden(
    code: str,
    name: str,
    text: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tree(tmp_path, {name: text})
    args = ("--select", code, ".")
    status, findings, _ = check(tmp_path, capsys, monkeypatch, "--write-baseline", "b.json", *args)
    assert status == 0 and findings == []
    assert recorded(tmp_path) == [code]
    assert check(tmp_path, capsys, monkeypatch, "--baseline", "b.json", *args)[:2] == (0, [])
    status, findings, _ = check(tmp_path, capsys, monkeypatch, *args)
    assert status == 1 and reported(findings, code, name), findings
    tree(tmp_path, {name: DISABLE_ALL + text})
    assert check(tmp_path, capsys, monkeypatch, *args)[:2] == (0, [])


def test_a_parse_error_has_the_anchor_of_what_did_not_load(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # docs/json-format.md: a file that could not be read or parsed is anchored `unparsed`.
    tree(tmp_path, {"nginx.conf": "http {\n"})
    status, findings, _ = check(tmp_path, capsys, monkeypatch, ".")
    assert status == 2 and [(f["code"], f["anchor"]) for f in findings] == [("NGX001", "unparsed")]
