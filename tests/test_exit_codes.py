"""The exit-code contract (docs/exit-codes.md), row by row, on real files.

A file that does not load makes the run exit 2, whatever its format. The table in the
documentation is the specification: each row names a case below, and the test runs the
case and holds the CLI to the exit code and the rule the row states.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import kustomize_binary
from sandbox import Sandbox, cli_env, sandbox, tlslint

ROOT = Path(__file__).resolve().parent.parent

BROKEN_OVERRIDES = """virtualhosts:
- name: group
  sslSecret: group-tls
    additionalGateways: [non-sni]
"""


def test_invalid_yaml_exits_2_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "overrides.yaml").write_text(BROKEN_OVERRIDES)
    result = tlslint(tmp_path, "check", ".")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "overrides.yaml:4:" in result.stdout
    assert "APG201" in result.stdout and "invalid YAML" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


SCHEMA_VIOLATION = "virtualhosts:\n- name: group\n  sslSecret: group-tls\n  additionalGateway: [non-sni]\n"


def test_a_schema_violation_is_an_ordinary_finding(tmp_path: Path) -> None:
    (tmp_path / "overrides.yaml").write_text(SCHEMA_VIOLATION)
    result = tlslint(tmp_path, "check", ".")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "APG201" in result.stdout and "did you mean" in result.stdout


# -- the contract table ------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """Files to write, then the command line's arguments; ``prepare`` changes the tree
    (modes, FIFOs, symlinks). ``unprivileged``: it needs permissions to hold."""

    files: dict[str, str | bytes]
    args: tuple[str, ...]
    prepare: Callable[[Path], None] = lambda root: None
    unprivileged: bool = False
    needs: Callable[[], object] = lambda: None  # skips the case when a tool is absent
    stdin: str | None = None  # piped in (the command line reads it with `-`)


SERVER = "server {\n    listen 80;\n}\n"
BUILTIN = "http {\n    ssl_session_cache builtin:1000;\n    server {\n        listen 443 ssl;\n    }\n}\n"
NO_SESSION_CACHE = "http {\n    server {\n        listen 443 ssl;\n    }\n}\n"
ALIAS_BOMB = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"{x}: &{x} [" + ",".join([f"*{p}"] * 9) + "]\n"
            for p, x in zip("abcdefgh", "bcdefghi", strict=True)
        ),
        "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n    cipherSuites: *i\n",
    ]
)
# The bomb outside the objects validated, a fixable version in them (APG202).
BOMB_OUTSIDE = (
    ALIAS_BOMB.split("virtualhosts:")[0]
    + "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\n    minTLSProtocolVersion: 1.2\n"
)
TAB_AFTER_VALUE = (
    "virtualhosts:\n  - name: prod\n    sslSecret: prod-tls\t\n    minTLSProtocolVersion: 1.2\t# floor\n"
)
HELM_TEMPLATE = "{{- if .Values.x }}\nvirtualhosts:\n- name: {{ .Values.name }}\n{{- end }}\n"
ROUTE = (
    "apiVersion: apigee.cloud.google.com/v1alpha1\nkind: ApigeeRoute\n"
    'metadata: {name: r, namespace: apigee}\nspec:\n  hostnames: ["*"]\n'
)
GATEWAY_TAB = (
    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n\tservers: []\n"
)
APP_UPSTREAM = "upstream app {\n    server 127.0.0.1:8000;\n    keepalive 16;\n}\n"


def chmod(name: str, mode: int) -> Callable[[Path], None]:
    return lambda root: (root / name).chmod(mode)


def fifo(name: str) -> Callable[[Path], None]:
    return lambda root: os.mkfifo(root / name)


def symlink_out(root: Path) -> None:
    (root / "repo" / "conf.d" / "ext.conf").symlink_to(root / "outside.conf")


CASES: dict[str, Case] = {
    "clean": Case({"app.conf": SERVER}, ("app.conf",)),
    "finding": Case({"nginx.conf": BUILTIN}, ("--select", "NGX102", "nginx.conf")),
    "below-fail-on": Case(
        {"nginx.conf": BUILTIN}, ("--select", "NGX102", "--fail-on", "error", "nginx.conf")
    ),
    "nginx-syntax": Case(
        {"nginx.conf": NO_SESSION_CACHE.replace("http {\n", "http {\n    ssl_session_timeout 1d\n")},
        ("nginx.conf",),
    ),
    "nginx-quote": Case({"app.conf": 'server {\n    server_name "example.com;\n}\n'}, ("app.conf",)),
    "nginx-quote-then-text": Case({"app.conf": 'server {\n    add_header X "a""b";\n}\n'}, ("app.conf",)),
    # nginx keeps a "{" right after "$" in the word: it opens no block (fuzzing tester)
    "nginx-dollar-brace": Case(
        {"app.conf": "server {\n    listen 80;\n    location ~ \\.php${ return 200; }\n}\n"}, ("app.conf",)
    ),
    "nginx-too-long-parameter": Case(
        {"app.conf": "server {\n    listen 80;\n    # " + "x" * 4096 + "\n}\n"}, ("app.conf",)
    ),
    "nginx-garbage": Case({"app.conf": ";" * 100_000}, ("app.conf",)),
    "nginx-binary": Case({"app.conf": b"http {\n\x00\n}\n"}, (".",)),
    "nginx-too-large": Case(
        {".tlslint.toml": "max-file-size = 1024\n", "app.conf": "# padding\n" * 200 + SERVER}, ("app.conf",)
    ),
    "nginx-too-deep": Case({"app.conf": "http {\n" + "location / {\n" * 150 + "}\n" * 151}, ("app.conf",)),
    # nginx reads a byte-order mark as part of the first word (unknown directive
    # "\ufeffhttp"): the file does not load, and --fix leaves it as it is (tester).
    "nginx-bom-fix": Case(
        {"nginx.conf": b"\xef\xbb\xbf" + NO_SESSION_CACHE.encode()},
        ("--fix", "--select", "NGX101", "nginx.conf"),
    ),
    "nginx-unreadable": Case({"app.conf": SERVER}, (".",), chmod("app.conf", 0), unprivileged=True),
    "include-missing": Case({"nginx.conf": "http {\n    include snippets/tls.conf;\n}\n"}, ("nginx.conf",)),
    "include-outside": Case(
        {
            "conf/nginx.conf": "http {\n    include ../shared/tls.conf;\n}\n",
            "shared/tls.conf": "ssl_stapling on;\n",
        },
        ("conf/nginx.conf",),
    ),
    "include-loop": Case({"self.conf": "http {\n    include self.conf;\n}\n"}, ("self.conf",)),
    # What does not load is reported whatever the selection, as ruff reports a syntax error.
    "include-loop-ignored": Case(
        {"self.conf": "http {\n    include self.conf;\n}\n"}, ("--ignore", "NGX003", "self.conf")
    ),
    "include-missing-not-selected": Case(
        {"nginx.conf": "http {\n    include missing.conf;\n    ssl_session_timeout 2m;\n}\n"},
        ("--select", "NGX104", "nginx.conf"),
    ),
    "yaml-tab": Case({"overrides.yaml": "virtualhosts:\n\t- name: a\n"}, (".",)),
    "yaml-tab-not-selected": Case(
        {"overrides.yaml": "virtualhosts:\n  - name: a\n\tsslCertPath: x\n"}, ("--select", "NGX104", ".")
    ),
    "gateway-tab-not-selected": Case({"gw.yaml": GATEWAY_TAB}, ("--select", "NGX1", ".")),
    "yaml-unclosed": Case({"overrides.yaml": "virtualhosts: [\n  - name: prod\n"}, (".",)),
    "yaml-tab-after-value": Case({"overrides.yaml": TAB_AFTER_VALUE}, (".",)),
    "yaml-alias-bomb": Case({"overrides.yaml": ALIAS_BOMB}, (".",)),
    "yaml-alias-bomb-fix": Case({"overrides.yaml": BOMB_OUTSIDE}, ("--fix", "--unsafe-fixes", ".")),
    "yaml-too-deep": Case({"overrides.yaml": "virtualhosts: " + "[" * 10_000 + "]" * 10_000 + "\n"}, (".",)),
    "yaml-binary": Case({"overrides.yaml": b"virtualhosts:\n\x00\n"}, ("overrides.yaml",)),
    # Walked, it was skipped ("Nothing checked", exit 0; beside nginx.conf, "All checks passed").
    "yaml-binary-walked": Case(
        {"nginx.conf": "events {}\nhttp {}\n", "overrides.yaml": b"virtualhosts:\n  - name: a\n\x00\n"},
        (".",),
    ),
    "gateway-binary-walked": Case(
        {"nginx.conf": "events {}\nhttp {}\n", "gw.yaml": GATEWAY_TAB.replace("\t", "  ").encode() + b"\x00"},
        (".",),
    ),
    "yaml-schema": Case({"overrides.yaml": SCHEMA_VIOLATION}, (".",)),
    "yaml-duplicate-key": Case(
        {"overrides.yaml": "virtualhosts:\n- name: a\n  sslSecret: x\n  sslSecret: y\n"}, (".",)
    ),
    "yaml-helm-template": Case(
        {"templates/overrides.yaml": HELM_TEMPLATE},
        (".",),
    ),
    "script-no-server": Case({"start.sh": "#!/bin/sh\nset -e\nexec node server.js\n"}, ("start.sh",)),
    "python-syntax": Case({"gunicorn.conf.py": "keepalive = (\n"}, (".",)),
    "python-encoding": Case({"gunicorn.conf.py": b"# -*- coding: foobar -*-\nkeepalive = 1\n"}, (".",)),
    "python-too-deep": Case({"gunicorn.conf.py": "keepalive = " + "[" * 150 + "]" * 150 + "\n"}, (".",)),
    "python-long-chain": Case(
        {"gunicorn.conf.py": "keepalive = 5\nfmt = (\n" + "    '%(h)s '\n" * 400 + ")\n"}, (".",)
    ),
    "toml-syntax": Case({"hypercorn.toml": "bind = [\n"}, (".",)),
    "backend-mapping-missing": Case(
        {
            ".tlslint.toml": '[[backends]]\nupstream = "app"\nconfig = "deploy/gone.py"\n',
            "app.conf": APP_UPSTREAM,
        },
        (".",),
    ),
    "render-failed": Case(
        {
            "kustomization.yaml": "resources:\n- route.yaml\n- missing.yaml\n",
            "route.yaml": ROUTE,
        },
        (".",),
        needs=kustomize_binary,
    ),
    "path-missing": Case({"app.conf": SERVER}, ("app.conf", "typo.conf")),
    "path-fifo": Case({}, ("pipe.conf",), fifo("pipe.conf")),
    "directory-unreadable": Case(
        {"locked/app.conf": SERVER}, ("locked",), chmod("locked", 0), unprivileged=True
    ),
    "walk-unreadable": Case(
        {"app.conf": SERVER, "private/app.conf": SERVER}, (".",), chmod("private", 0), unprivileged=True
    ),
    "glob-fifo": Case(
        {"nginx.conf": "http {\n    include conf.d/*.conf;\n}\n", "conf.d/app.conf": SERVER},
        ("--fail-on", "error", "nginx.conf"),
        fifo("conf.d/pipe.conf"),
    ),
    "fix-read-only": Case(
        {"nginx.conf": NO_SESSION_CACHE},
        ("--fix", "--select", "NGX101", "nginx.conf"),
        chmod("nginx.conf", 0o444),
        unprivileged=True,
    ),
    # The includer above a file named is context, not given: never written (tester).
    "fix-includer": Case(
        {
            "nginx.conf": "http {\n    include sites/*.conf;\n}\n",
            "sites/a.conf": "server {\n    listen 443 ssl;\n}\n",
        },
        ("--fix", "--select", "NGX101", "sites/a.conf"),
    ),
    "fix-symlink-out": Case(
        {
            "repo/nginx.conf": "http {\n    include conf.d/*.conf;\n}\n",
            "repo/conf.d/.keep": "",
            "outside.conf": "ssl_session_timeout 1m;\n",
        },
        ("--fix", "--unsafe-fixes", "--select", "NGX104", "repo"),
        symlink_out,
    ),
    "diff": Case({"nginx.conf": NO_SESSION_CACHE}, ("--diff", "--select", "NGX101", "nginx.conf")),
    "settings-invalid": Case({".tlslint.toml": "no-such-key = 1\n", "app.conf": SERVER}, ("app.conf",)),
    "option-invalid": Case(
        {".tlslint.toml": '[rules.NGX103]\nmin-size = "banana"\n', "app.conf": SERVER}, ("app.conf",)
    ),
    "select-empty": Case({"app.conf": SERVER}, ("--select", "", "app.conf")),
    "usage": Case({"app.conf": SERVER}, ("--no-such-option", "app.conf")),
    # What `kubectl kustomize broken | tlslint check -` pipes when the shell has no pipefail.
    "stdin-empty": Case({}, ("-",), stdin=""),
}


def contract() -> dict[str, tuple[str, int]]:
    """docs/exit-codes.md's table: case -> (what it is reported as, exit code)."""
    rows = {}
    for line in (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"\| `([a-z0-9-]+)` \|[^|]*\| ([^|]*) \| (\d+) \|", line)
        if match:
            rows[match[1]] = (match[2], int(match[3]))
    return rows


CONTRACT = contract()


def test_every_row_has_a_case_and_every_case_a_row() -> None:
    assert len(CONTRACT) > 20 and set(CONTRACT) == set(CASES)


def _run(case: Case, root: Path, box: Sandbox | None) -> subprocess.CompletedProcess[str]:
    for name, content in case.files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    if box is not None:
        box.own()
    case.prepare(root)
    machine = () if {"--diff", "--no-such-option"} & set(case.args) else ("--format", "json")
    args = ("--no-cache", *machine, *case.args)
    if case.stdin is not None:
        command = [sys.executable, "-m", "tlslint", *args]
        return subprocess.run(
            command, input=case.stdin, cwd=root, env=cli_env(), capture_output=True, text=True, timeout=120
        )
    return box.tlslint(*args) if box is not None else tlslint(root, *args)


@pytest.mark.parametrize("name", list(CASES))
def test_contract_row(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    case.needs()
    reported_as, expected = CONTRACT[name]
    if case.unprivileged:
        with sandbox() as box:
            result = _run(case, box.root, box)
    else:
        result = _run(case, tmp_path, None)
    assert result.returncode == expected, result.stdout + result.stderr
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream and "internal error" not in stream, stream
    codes = re.findall(r"[A-Z]{2,3}\d{3}", reported_as)
    if result.stdout.startswith("{"):
        found = [(f["code"], f["severity"]) for f in json.loads(result.stdout)["findings"]]
        assert {code for code, _ in found} >= set(codes), found
        for severity in ("error", "warning", "info"):
            if f"{codes[0] if codes else ''} {severity}" in reported_as:
                assert (codes[0], severity) in found, found
        if "and the finding" in reported_as:  # an unwritten fix: the finding it would fix stands
            assert len({code for code, _ in found}) == 2, found
        if name == "clean":
            assert found == []
        if "Nothing checked" in reported_as:
            assert found == [] and "shell script that starts no" in result.stderr, result.stderr
    elif "stderr" in reported_as:
        assert result.stdout == "" and result.stderr.startswith(("tlslint: ", "Usage: ")), result.stderr
    else:
        assert result.stdout.startswith("---"), result.stdout  # a diff


def test_the_loading_rules_are_those_that_exit_2() -> None:
    # --show-settings and the docs list the rules no selection hides; each row that exits 2
    # for an input (its first code) names one, and each is some row's reason to exit 2.
    from tlslint.findings import LOADING_RULES

    firsts = {
        re.findall(r"[A-Z]{2,3}\d{3}", said)[:1][0]
        for said, code in CONTRACT.values()
        if code == 2 and re.search(r"[A-Z]{2,3}\d{3}", said)
    }
    assert firsts == set(LOADING_RULES)
