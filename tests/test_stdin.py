"""Standard input: a rendered YAML stream (origin annotations honoured) or nginx configuration."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import kustomize_binary

TREE = Path(__file__).parent / "data" / "kustomize" / "hybrid"
SETTINGS = '[tool.tlslint.apigee]\nnon-sni = "required"\n'
NGINX = """\
events {}
http {
    ssl_session_cache shared:SSL:10m;
    server {
        listen 443 ssl;
        ssl_certificate a.pem;
        ssl_certificate_key a.key;
        ssl_session_cache off;
    }
}
"""


def tlslint(cwd: Path, *args: str, stdin: str) -> tuple[int, list[dict[str, Any]], str]:
    done = subprocess.run(
        [sys.executable, "-m", "tlslint", *args, "--format", "json", "--no-cache"],
        input=stdin.encode(),
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "TLSLINT_DEBUG": "1"},
        check=False,
        timeout=120,
    )
    report = json.loads(done.stdout) if done.stdout.strip() else {"findings": []}
    return done.returncode, report["findings"], done.stderr.decode()


def rendered(tree: Path, overlay: str, *, origins: bool) -> str:
    """What a user pipes in: `kubectl kustomize` output, with origin annotations when their
    kustomization asks for them (here: a kustomization beside the overlays that does)."""
    binary = kustomize_binary()
    command = [binary, "build"] if Path(binary).name == "kustomize" else [binary, "kustomize"]
    directory = tree / overlay
    if origins:
        directory = tree / "render"
        directory.mkdir()
        (directory / "kustomization.yaml").write_text(
            f"resources:\n- ../{overlay}\nbuildMetadata: [originAnnotations]\n"
        )
    text = subprocess.run([*command, str(directory)], capture_output=True, text=True, check=True).stdout
    if origins:
        shutil.rmtree(directory)
    return text


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(TREE, root)
    (root / "pyproject.toml").write_text(SETTINGS)
    return root


def places(findings: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return sorted((f["code"], f["path"], f["line"]) for f in findings)


def test_a_rendered_stream_is_one_deployment_located_on_stdin(tree: Path) -> None:
    status, findings, _ = tlslint(tree, "-", stdin=rendered(tree, "overlays/dev", origins=False))
    assert status == 1
    # dev links an HTTP-only route while clients without SNI are required (issue 15: the
    # route itself is right): the findings are at the host.
    # Line 15: the ApigeeRouteConfig's first line, after the route's 13 lines and `---`.
    assert places(findings) == [("APG101", "stdin", 15), ("APG103", "stdin", 15)]


def test_origin_annotations_put_findings_in_the_source_files(tree: Path) -> None:
    stream = rendered(tree, "overlays/dev", origins=True)
    assert "config.kubernetes.io/origin" in stream
    (tree / "render").mkdir()  # origins are relative to where the stream was built
    status, findings, _ = tlslint(tree, "--stdin-filename", "render/all.yaml", "-", stdin=stream)
    assert status == 1
    assert places(findings) == [
        ("APG101", "base/routeconfig.yaml", 1),
        ("APG103", "base/routeconfig.yaml", 1),
    ]


def test_a_suppression_comment_in_the_source_file_holds_for_the_stream(tree: Path) -> None:
    host = tree / "base/routeconfig.yaml"
    host.write_text(host.read_text().replace("v1alpha1\n", "v1alpha1  # tlslint: disable=APG103\n", 1))
    stream = rendered(tree, "overlays/dev", origins=True)
    (tree / "render").mkdir()
    _, findings, _ = tlslint(tree, "--stdin-filename", "render/all.yaml", "-", stdin=stream)
    assert [f["code"] for f in findings] == ["APG101"]


def test_nginx_on_stdin_is_checked_under_its_name(tmp_path: Path) -> None:
    status, findings, _ = tlslint(tmp_path, "--stdin-filename", "nginx.conf", "-", stdin=NGINX)
    assert status == 1
    assert ("NGX101", "nginx.conf", 8) in places(findings)  # `ssl_session_cache off`, line 8
    assert {f["path"] for f in findings} == {"nginx.conf"}


def test_nginx_on_stdin_is_recognised_without_a_name(tmp_path: Path) -> None:
    _, named, _ = tlslint(tmp_path, "--stdin-filename", "nginx.conf", "-", stdin=NGINX)
    _, unnamed, _ = tlslint(tmp_path, "-", stdin=NGINX)
    assert [(f["code"], f["line"]) for f in unnamed] == [(f["code"], f["line"]) for f in named]
    assert {f["path"] for f in unnamed} == {"stdin"}


def test_invalid_yaml_on_stdin_is_reported_not_a_traceback(tmp_path: Path) -> None:
    status, findings, stderr = tlslint(tmp_path, "--stdin-filename", "x.yaml", "-", stdin="a: [\n")
    assert status == 2 and "Traceback" not in stderr
    assert [(f["code"], f["path"]) for f in findings] == [("APG201", "x.yaml")]
    # The text it could not parse was read, as a file that does not parse is.
    done = subprocess.run(
        [sys.executable, "-m", "tlslint", "--stdin-filename", "x.yaml", "-", "--no-cache"],
        input=b"a: [\n", capture_output=True, cwd=tmp_path, check=False, timeout=120,
    )  # fmt: skip
    assert done.stdout.decode().rstrip().endswith("Found 1 finding (1 error) in 1 file read.")


@pytest.mark.parametrize("option", ["--fix", "--diff"])
def test_fixing_stdin_is_refused_with_a_clear_error(tmp_path: Path, option: str) -> None:
    status, _, stderr = tlslint(tmp_path, option, "-", stdin=NGINX)
    assert status == 2
    assert f"tlslint: {option} works on files; it cannot be combined with standard input (-)" in stderr


@pytest.mark.parametrize("text", ["", "\n  \n"])
def test_empty_stdin_is_nothing_checked_not_a_pass(tmp_path: Path, text: str) -> None:
    # What `kubectl kustomize broken | tlslint check -` pipes in a shell without pipefail.
    status, findings, stderr = tlslint(tmp_path, "-", stdin=text)
    assert (status, findings) == (2, [])
    assert "tlslint: standard input is empty: nothing checked" in stderr and "pipefail" in stderr
