"""The pre-commit hooks, and what a hook run on a subset of the files means.

The slow test runs the real ``pre-commit try-repo`` against a committed copy of this
working tree: pre-commit builds the hook's environment from it with pip, as a user's
first commit would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import IN_CI, ROOT
from helpers import settings_for
from test_changed_since import git
from test_newcomer import copy_working_tree

from tlslint.discovery import discover
from tlslint.engine import RunOptions, run

NGINX_CONF = """\
events {}
http {
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 2m;
    include sites-enabled/*.conf;
}
"""
DEFAULT_SITE = """\
server {
    listen 443 ssl default_server;
    ssl_reject_handshake on;
}
"""
API_SITE = """\
server {
    listen 443 ssl;
    server_name api.example.com;
    ssl_certificate     /etc/ssl/api.pem;
    ssl_certificate_key /etc/ssl/api.key;
}
"""
SESSION_RULES = {"select": ["NGX0", "NGX1"], "nginx": {"version": "1.24"}}
SUPERVISOR_INI = "[program:app]\ncommand=/usr/bin/app\n"
MANIFEST = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edge(root: Path) -> Path:
    """nginx.conf with a finding of its own (NGX104), and two sites that are clean in its context."""
    write(root / "nginx.conf", NGINX_CONF)
    write(root / "sites-enabled" / "00-default.conf", DEFAULT_SITE)
    write(root / "sites-enabled" / "api.conf", API_SITE)
    return root


def located(result: object) -> list[tuple[str, str]]:
    findings = getattr(result, "findings", [])
    return sorted((f.location.path.name, f.code) for f in findings)


# --- a run on named files: the includer's context, the named files' findings ---------------------


def test_named_snippet_is_checked_in_its_includers_context(tmp_path: Path) -> None:
    root = edge(tmp_path / "deploy")
    settings = settings_for(tmp_path, SESSION_RULES)
    api = root / "sites-enabled" / "api.conf"
    # Alone, a server block without a cache looks like a default server without one (NGX101);
    # in nginx.conf's context it inherits the http-level cache, and is clean.
    alone = settings_for(tmp_path, SESSION_RULES)
    alone_result = run([api], alone, run_options=RunOptions())
    assert located(alone_result) == []
    assert (root / "nginx.conf").resolve() in alone_result.files  # the includer was read
    # nginx.conf's own finding (NGX104) is not reported: it was not named.
    assert located(run([root / "nginx.conf"], settings)) == [("nginx.conf", "NGX104")]
    # A finding in the named file is.
    write(api, API_SITE.replace("}", "    ssl_session_timeout 1m;\n}"))
    # (api.conf's server is a virtual server: its own timeout is not used, NGX107)
    assert located(run([api], settings)) == [("api.conf", "NGX107")]


def test_findings_of_named_files_and_what_they_include(tmp_path: Path) -> None:
    root = edge(tmp_path / "deploy")
    write(root / "snippets" / "tls.conf", "ssl_session_timeout 1m;\n")
    api = root / "sites-enabled" / "api.conf"
    write(api, API_SITE.replace("}", "    include snippets/tls.conf;\n}"))
    result = run([api], settings_for(tmp_path, SESSION_RULES))
    assert located(result) == [("tls.conf", "NGX107")]  # included by the named file: reported


def test_the_nearest_includer_that_reaches_the_file_wins(tmp_path: Path) -> None:
    outer = edge(tmp_path / "repo")
    inner = tmp_path / "repo" / "sites-enabled"
    write(inner / "nginx.conf", "http {\n    include other/*.conf;\n}\n")  # does not include api.conf
    result = run([inner / "api.conf"], settings_for(tmp_path, SESSION_RULES))
    assert located(result) == []  # checked in outer/nginx.conf's context, which has the cache
    assert (outer / "nginx.conf").resolve() in result.files


def test_the_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    edge(tmp_path)
    repo = tmp_path / "sites-enabled"
    (repo / ".git").mkdir()  # a repository nested below the nginx.conf
    result = run([repo / "api.conf"], settings_for(tmp_path, SESSION_RULES))
    assert (tmp_path / "nginx.conf").resolve() not in result.files
    assert "NGX101" in [code for _, code in located(result)]  # alone: no cache anywhere


def test_the_includer_is_found_from_any_working_directory(tmp_path: Path) -> None:
    root = edge(tmp_path / "deploy")
    (tmp_path / ".git").mkdir()
    sites = root / "sites-enabled"
    write(sites / "api.conf", API_SITE.replace("}", "    ssl_session_timeout 1m;\n}"))
    args = ["--select", "NGX0,NGX1", "--nginx-version", "1.24", "--quiet", "api.conf"]
    proc = subprocess.run([sys.executable, "-m", "tlslint", *args], cwd=sites, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    (line,) = proc.stdout.splitlines()  # in context: no NGX101, nginx.conf's NGX104 not reported
    assert line.startswith("api.conf:6:5: NGX107 ")  # a virtual server's timeout: not used


def test_a_broken_candidate_is_not_reported(tmp_path: Path) -> None:
    write(tmp_path / "nginx.conf", "http {\n    include nothing-here/*.conf;\n")  # unterminated
    site = write(tmp_path / "sites-enabled" / "api.conf", API_SITE)
    result = run([site], settings_for(tmp_path, SESSION_RULES))
    assert "NGX001" not in [code for _, code in located(result)]


@pytest.mark.parametrize(("cwd", "given"), [("", "sub"), ("", "sub/site.conf"), ("sub", ".")])
def test_files_above_read_only_to_look_for_an_includer_are_no_part_of_the_run(
    tmp_path: Path, cwd: str, given: str
) -> None:
    # Neither includes sub/site.conf: a directory run and a run on its files agree, and
    # neither reports, fails on or counts what was read only to look for an includer.
    (tmp_path / ".git").mkdir()
    write(tmp_path / "broken.conf", "http {\n  server {\n")  # cannot be shown to include it
    write(tmp_path / "other.conf", "server {\n    listen 81;\n}\n")
    write(tmp_path / "sub" / "site.conf", "server { listen 80; }\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tlslint", "--no-cache", given],
        cwd=tmp_path / cwd,
        capture_output=True,
        text=True,
    )
    assert (proc.returncode, proc.stdout) == (0, "All checks passed (1 file read).\n"), (
        proc.stdout + proc.stderr
    )


# --- --force-exclude: what pre-commit passes is filtered like a walk ------------------------------


def test_force_exclude_filters_named_files_like_walked_ones(tmp_path: Path) -> None:
    root = edge(tmp_path)
    ini = write(root / "conf.d" / "supervisor.conf", SUPERVISOR_INI)
    manifest = write(root / "k8s" / "configmap.yaml", MANIFEST)
    vendored = write(root / "vendor" / "upstream.conf", NGINX_CONF)
    write(root / ".gitignore", "generated/\n")
    generated = write(root / "generated" / "x.conf", NGINX_CONF)
    (root / ".git").mkdir()
    api = root / "sites-enabled" / "api.conf"
    named = [api, ini, manifest, vendored, generated]
    plain = discover(named, ["vendor/"], root)
    assert {api, ini, vendored, generated} <= set(plain.nginx)  # named *.conf: read as nginx
    forced = discover(named, ["vendor/"], root, force_exclude=True)
    assert forced.nginx == [api]
    assert forced.explicit == {api.resolve()}
    settings = settings_for(root, {**SESSION_RULES, "exclude": ["vendor/"]})
    result = run(named, settings, run_options=RunOptions(force_exclude=True))
    assert located(result) == []


def test_force_exclude_on_the_command_line(tmp_path: Path) -> None:
    edge(tmp_path)
    write(tmp_path / "conf.d" / "supervisor.conf", SUPERVISOR_INI)
    args = ["--select", "NGX0,NGX1", "--nginx-version", "1.24", "conf.d/supervisor.conf"]
    command = [sys.executable, "-m", "tlslint", "check", *args]
    plain = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert plain.returncode == 2  # named: read as nginx, and it does not parse
    forced = subprocess.run([*command, "--force-exclude"], cwd=tmp_path, capture_output=True, text=True)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "Nothing checked: no configuration found (0 files read)." in forced.stdout


# --- the manifest ----------------------------------------------------------------------------------


def hooks() -> list[dict[str, object]]:
    from ruamel.yaml import YAML

    loaded: list[dict[str, object]] = YAML(typ="safe", pure=True).load(
        (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    )
    return loaded


def test_manifest_declares_both_hooks() -> None:
    by_id = {hook["id"]: hook for hook in hooks()}
    assert set(by_id) == {"tlslint", "tlslint-fix"}
    assert by_id["tlslint"]["entry"] == "tlslint check --force-exclude"
    assert by_id["tlslint-fix"]["entry"] == "tlslint check --force-exclude --fix"
    for hook in by_id.values():
        assert hook["language"] == "python"
        assert hook["require_serial"] is True
        assert hook["types"] == ["text"]


@pytest.mark.parametrize(
    ("name", "matched"),
    [
        ("nginx.conf", True),
        ("deploy/nginx/nginx.conf", True),
        ("etc/nginx/conf.d/api.conf", True),
        ("sites-available/example.com", True),
        ("installation/app.nginx", True),
        ("hosts/legacy.vhost", True),
        ("deploy/nginx/snippets/tls", True),
        # Any depth under those directories: the nginx image's templates/, sites in subdirectories.
        ("nginx/sites/example.com", True),
        ("nginx/templates/default.conf.template", True),
        ("templates/default.conf.template", True),  # the image's layout: ./templates:/etc/nginx/templates
        ("docs/letter.template", False),
        ("sites-enabled/sub/x", True),
        ("deploy/etc/conf.d/apps/api", True),
        ("http.d/a/b/c", True),
        ("my-nginx/site", False),
        ("nginx", False),
        ("src/conf.d.py", False),
        ("apigee/overrides.yaml", True),
        ("k8s/apigee-route.yml", True),
        ("gunicorn.conf.py", True),
        ("app/gunicorn_conf.py", True),
        ("hypercorn.toml", True),
        ("Procfile", True),
        ("deploy/Procfile.web", True),
        ("Dockerfile", True),
        ("app/Dockerfile.prod", True),
        ("api.dockerfile", True),
        ("Containerfile", True),
        ("deploy/systemd/app.service", True),
        ("Dockerfile-notes.md", False),
        ("docs/Procfiles.md", False),
        ("app/main.py", False),
        ("README.md", False),
        ("pyproject.toml", False),
        ("docs/nginx.md", False),
    ],
)
def test_manifest_file_pattern(name: str, matched: bool) -> None:
    for hook in hooks():
        pattern = re.compile(str(hook["files"]))
        assert bool(pattern.search(name)) is matched, (hook["id"], name)


# --- the real pre-commit -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree, copied and committed: pre-commit clones hooks from git."""
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("pre-commit is not installed (it is in the test extra)")
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    checkout = copy_working_tree(tmp_path_factory.mktemp("hooks") / "tlslint")
    git(checkout, "init", "-q")
    git(checkout, "add", "-A")
    git(checkout, "commit", "-qm", "tlslint under test")
    return checkout


def pre_commit(project: Path, home: Path, *args: str) -> str:
    """Run pre-commit in ``project``; its exit code and output, asserting nothing yet."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FORCE_COLOR", "VIRTUAL_ENV")}
    env.update(PRE_COMMIT_HOME=str(home), NO_COLOR="1", PRE_COMMIT_COLOR="never")
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", *args, "--color", "never"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return f"exit {proc.returncode}\n{proc.stdout}{proc.stderr}"


def test_pre_commit_hooks_fail_fix_and_pass(hook_repository: Path, tmp_path: Path) -> None:
    project = tmp_path / "infra"
    root = edge(project / "deploy" / "nginx")
    api = root / "sites-enabled" / "api.conf"
    write(project / ".tlslint.toml", 'select = ["NGX0", "NGX1"]\n\n[nginx]\nversion = "1.24"\n')
    write(root / "conf.d" / "supervisor.conf", SUPERVISOR_INI)  # *.conf, not nginx: skipped
    write(project / "k8s" / "configmap.yaml", MANIFEST)  # YAML, no Apigee: skipped
    write(project / "README.md", "# infra\n")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "infra")
    home = tmp_path / "pre-commit-home"

    # As a hook author tries it: try-repo builds the hook's environment from the checkout.
    tried = pre_commit(project, home, "try-repo", str(hook_repository), "tlslint", "--all-files")
    assert tried.startswith("exit 1"), tried
    assert re.search(r"^tlslint\.+Failed$", tried, re.M), tried
    assert "deploy/nginx/nginx.conf:4:5: NGX104" in tried
    assert "supervisor.conf" not in tried and "configmap.yaml" not in tried

    # As a user runs it: .pre-commit-config.yaml names the repository and a revision.
    # (try-repo installs into a new store on every call; `run` installs once.)
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=hook_repository, capture_output=True, text=True, check=True
    ).stdout.strip()
    write(
        project / ".pre-commit-config.yaml",
        f"repos:\n  - repo: {hook_repository}\n    rev: {rev}\n"
        # The team accepts unsafe fixes too (NGX104 replaces the timeout it wrote).
        "    hooks:\n      - id: tlslint-fix\n        args: [--unsafe-fixes]\n      - id: tlslint\n",
    )
    git(project, "add", ".pre-commit-config.yaml")
    git(project, "commit", "-qm", "pre-commit")
    fixed = pre_commit(project, home, "run", "tlslint-fix", "--all-files")
    assert fixed.startswith("exit 1"), fixed
    assert "files were modified by this hook" in fixed
    assert "ssl_session_timeout 5m;" in (root / "nginx.conf").read_text(encoding="utf-8")
    passed = pre_commit(project, home, "run", "--all-files")
    assert passed.startswith("exit 0"), passed
    assert re.search(r"^tlslint\.+Passed$", passed, re.M), passed
    assert re.search(r"^tlslint \(fix\)\.+Passed$", passed, re.M), passed
    git(project, "commit", "-qam", "tlslint --fix")

    # A subset run: only api.conf is passed, yet it is checked in nginx.conf's context
    # (read from disk): clean, where checked alone it would lack a session cache.
    named = str(api.relative_to(project))
    subset = pre_commit(project, home, "run", "tlslint", "--files", named)
    assert subset.startswith("exit 0"), subset
    write(api, API_SITE.replace("}", "    ssl_session_timeout 1m;\n}"))
    broken = pre_commit(project, home, "run", "tlslint", "--files", named)
    assert broken.startswith("exit 1"), broken
    assert "deploy/nginx/sites-enabled/api.conf:6:5: NGX107" in broken  # a virtual server's timeout
    assert "NGX101" not in broken
