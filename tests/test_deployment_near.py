"""A run on named files reads the deployment files a run from the project root gives the
named configurations (tlslint.deployment_near): a pre-commit hook passes
``docker/nginx/nginx.conf`` alone, and its verdicts must be CI's, which ran ``tlslint .``
and read ``docker/nginx/Dockerfile`` (the trial repository had NGX302/NGX303 as warnings
in CI and as "nginx.version is not configured" infos in the hook)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import shared_path
from helpers import settings_for, write_files

import tlslint.deployment_near
from tlslint.engine import RunOptions, RunResult, run
from tlslint.findings import Severity
from tlslint.project import project_directories

CERT = "ssl_certificate /etc/ssl/site.pem;\n        ssl_certificate_key /etc/ssl/site.key;"
# A proxy as the trial repository had it: no ssl_protocols, so the version decides
# NGX302 (no TLSv1.3 before 1.23.4) and NGX303 (TLSv1/1.1 on before 1.23.4).
PROXY = f"""events {{}}
http {{
    ssl_session_cache shared:SSL:10m;
    server {{
        listen 443 ssl;
        server_name app.example.com;
        {CERT}
        location / {{
            proxy_pass http://app:8000;
        }}
    }}
}}
"""
DOCKERFILE = "FROM nginx:1.23.3\nCOPY nginx.conf /etc/nginx/nginx.conf\n"
VERSION_RULES = ["NGX302", "NGX303", "NGX305"]


def repository(root: Path, files: dict[str, str]) -> Path:
    write_files(root, files)
    (root / ".git").mkdir(exist_ok=True)
    return root


def hook_run(root: Path, names: list[str], mapping: dict[str, Any] | None = None) -> RunResult:
    """As pre-commit runs it: from the work tree's top, the changed files named."""
    settings = settings_for(root, mapping or {"select": VERSION_RULES})
    return run([Path(name) for name in names], settings, run_options=RunOptions(force_exclude=True))


def root_run(root: Path, mapping: dict[str, Any] | None = None) -> RunResult:
    return run([Path(".")], settings_for(root, mapping or {"select": VERSION_RULES}))


def verdicts(result: RunResult, name: str | None = None) -> list[tuple[str, int, str, Severity, str]]:
    """(path from the working directory, line, code, severity, message) of each finding."""
    found = [(Path(os.path.relpath(f.location.path)).as_posix(), f) for f in result.findings]
    return sorted(
        (path, f.location.line, f.code, f.severity, f.message) for path, f in found if name in (None, path)
    )


def ranges(result: RunResult) -> dict[str, str]:
    workspace = result.workspace
    return {c.files[0].parent.name: workspace.nginx_versions(c).label() for c in workspace.nginx}


def test_the_hook_run_and_the_root_run_give_the_same_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = repository(tmp_path, {"docker/nginx/Dockerfile": DOCKERFILE, "docker/nginx/nginx.conf": PROXY})
    monkeypatch.chdir(root)
    full = verdicts(root_run(root))
    hook = verdicts(hook_run(root, ["docker/nginx/nginx.conf"]))
    assert hook == full
    assert [(code, severity) for _, _, code, severity, _ in hook] == [
        ("NGX302", Severity.WARNING),
        ("NGX303", Severity.WARNING),
    ]
    assert all("FROM nginx:1.23.3 at docker/nginx/Dockerfile:1" in message for *_, message in hook)
    # Named by its absolute path, without --force-exclude: the same verdicts.
    named = run([root / "docker/nginx/nginx.conf"], settings_for(root, {"select": VERSION_RULES}))
    assert verdicts(named) == full


def test_a_compose_file_above_reads_the_dockerfile_its_service_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A service with `build: ./nginx` and `image: alex88otus/nginx:0.1` (the name of the
    image the build produces) runs nginx/Dockerfile's nginx:1.23.3, in a hook run on the
    mounted configuration as in the root run; it was read as nginx 0.1.x."""
    compose = (
        "services:\n  nginx:\n    build: ./nginx\n    image: alex88otus/nginx:0.1\n"
        "    volumes:\n      - ./cfg/conf.d/default.conf:/etc/nginx/conf.d/default.conf:z\n"
    )
    root = repository(
        tmp_path,
        {"docker-compose.yml": compose, "nginx/Dockerfile": DOCKERFILE, "cfg/conf.d/default.conf": PROXY},
    )
    monkeypatch.chdir(root)
    full = root_run(root)
    hook = hook_run(root, ["cfg/conf.d/default.conf"])
    assert verdicts(hook) == verdicts(full)
    assert ranges(hook) == ranges(full) == {"conf.d": "1.23.3"}
    assert all("FROM nginx:1.23.3 at nginx/Dockerfile:1" in message for *_, message in verdicts(hook))


def test_the_hook_command_line_prints_what_ci_prints(tmp_path: Path) -> None:
    """The real commands: the hook's entry (.pre-commit-hooks.yaml) and CI's `tlslint .`."""
    root = repository(tmp_path, {"docker/nginx/Dockerfile": DOCKERFILE, "docker/nginx/nginx.conf": PROXY})
    select = ["--select", ",".join(VERSION_RULES)]

    def tlslint(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "tlslint", "check", *select, *args]
        return subprocess.run(command, cwd=root, capture_output=True, text=True)

    ci, hook = tlslint("."), tlslint("--force-exclude", "docker/nginx/nginx.conf")
    assert ci.returncode == hook.returncode == 1, (ci.stderr, hook.stderr)
    assert hook.stdout == ci.stdout
    assert "NGX303 [warning]" in hook.stdout and "not configured" not in hook.stdout
    shown = tlslint("--show-settings", "docker/nginx/nginx.conf")
    evidence = "FROM nginx:1.23.3 at docker/nginx/Dockerfile:1 (deployment file)"
    assert f"#   before 1.23.4: {evidence}" in shown.stdout


def test_a_snippet_in_a_corpus_layout_takes_the_image_above_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """h5bp's server template (`listen 443 ssl http2`, deprecated from 1.25.1: NGX305) in
    conf.d/, the image's Dockerfile one level up: the search passes a directory without
    one, and the verdict is the root run's warning, not an info."""
    site = shared_path("corpus", "nginx", "h5bp__server-configs-nginx__conf.d_templates_example.com.conf")
    root = repository(
        tmp_path,
        {
            "edge/Dockerfile": "FROM nginxinc/nginx-unprivileged:1.27.3-alpine\nCOPY conf.d /etc/nginx/\n",
            "edge/conf.d/example.com.conf": site.read_text(encoding="utf-8"),
        },
    )
    monkeypatch.chdir(root)
    full = verdicts(root_run(root), "edge/conf.d/example.com.conf")
    hook = verdicts(hook_run(root, ["edge/conf.d/example.com.conf"]), "edge/conf.d/example.com.conf")
    assert hook == full
    assert {code: severity for _, _, code, severity, _ in hook}["NGX305"] == Severity.WARNING


def test_named_files_in_two_directories_each_get_their_own_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frontend = "server {\n    listen 80;\n    http2 on;\n}\n"
    root = repository(
        tmp_path,
        {
            "proxy/Dockerfile": "FROM nginx:1.22\nCOPY nginx.conf /etc/nginx/nginx.conf\n",
            "proxy/nginx.conf": PROXY,
            "frontend/Dockerfile": "FROM node:20 AS build\nFROM nginx:1.27-alpine\n",
            "frontend/default.conf": frontend,
            # compose at the root names a third image: nearer ones win for both
            "compose.yaml": "services:\n  edge:\n    image: nginx:1.25.3\n",
        },
    )
    monkeypatch.chdir(root)
    result = hook_run(root, ["proxy/nginx.conf", "frontend/default.conf"])
    assert ranges(result) == {"proxy": "1.22.x", "frontend": "1.27.x"}
    assert verdicts(result) == verdicts(root_run(root))
    # One of them named: its own image, not the other's, not the root's.
    assert ranges(hook_run(root, ["frontend/default.conf"])) == {"frontend": "1.27.x"}


def test_a_dockerfile_above_the_repository_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_files(tmp_path, {"Dockerfile": DOCKERFILE})  # beside the checkout, in no clone of it
    root = repository(tmp_path / "repo", {"nginx/nginx.conf": PROXY})
    monkeypatch.chdir(root)
    (found,) = hook_run(root, ["nginx/nginx.conf"]).workspace.nginx
    assert not hook_run(root, ["nginx/nginx.conf"]).workspace.nginx_versions(found).known
    assert verdicts(hook_run(root, ["nginx/nginx.conf"])) == verdicts(root_run(root))


def test_the_settings_file_directory_ends_the_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No repository: the project is the settings file's directory (its `exclude` is
    relative to it), and outside any project, the current directory."""
    write_files(tmp_path, {"Dockerfile": DOCKERFILE, "project/nginx/nginx.conf": PROXY})
    project = tmp_path / "project"
    settings = settings_for(project, {"select": VERSION_RULES})
    settings.source = project / ".tlslint.toml"
    monkeypatch.chdir(tmp_path)
    (config,) = (result := run([project / "nginx/nginx.conf"], settings)).workspace.nginx
    assert not result.workspace.nginx_versions(config).known
    # No settings file, no repository: up to the current directory, and no further.
    settings.source = None
    (config,) = (result := run([project / "nginx/nginx.conf"], settings)).workspace.nginx
    assert result.workspace.nginx_versions(config).label() == "1.23.3"
    monkeypatch.chdir(project)
    (config,) = (result := run([project / "nginx/nginx.conf"], settings)).workspace.nginx
    assert not result.workspace.nginx_versions(config).known


@pytest.mark.parametrize(
    "mapping, ignored",
    [
        ({"exclude": ["docker/nginx/Dockerfile"]}, ""),
        ({}, "Dockerfile\n"),  # docker/nginx/.gitignore
        ({"exclude": ["docker/"]}, ""),  # the directory: the walk never enters it
    ],
)
def test_an_excluded_or_ignored_dockerfile_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mapping: dict[str, Any], ignored: str
) -> None:
    files = {"docker/nginx/Dockerfile": DOCKERFILE, "docker/nginx/nginx.conf": PROXY}
    if ignored:
        files["docker/nginx/.gitignore"] = ignored
    root = repository(tmp_path, files)
    monkeypatch.chdir(root)
    mapping = {**mapping, "select": VERSION_RULES}
    settings = settings_for(root, mapping)
    named = run([Path("docker/nginx/nginx.conf")], settings)  # named without --force-exclude
    assert "Dockerfile" not in str(verdicts(named)) and named.workspace.nginx_declared.known is False
    if "docker/" not in mapping.get("exclude", []):  # excluded, the root run checks nothing
        assert verdicts(named) == verdicts(root_run(root, mapping))


def test_a_gateway_manifest_is_no_deployment_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Classified as the walk classifies: YAML that tlslint checks as an ingress-nginx
    manifest is configuration, not a deployment file, in both runs; a compose file is."""
    manifest = (
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n"
        "  annotations:\n    nginx.ingress.kubernetes.io/ssl-redirect: 'true'\n"
        "spec:\n  ingressClassName: nginx\n  rules: []\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
        "spec:\n  containers:\n    - name: web\n      image: nginx:1.23.3\n"
    )
    root = repository(tmp_path, {"web/ingress.yaml": manifest, "web/nginx.conf": PROXY})
    monkeypatch.chdir(root)
    full = root_run(root)
    assert full.workspace.kubernetes is not None  # checked as configuration
    hook = hook_run(root, ["web/nginx.conf"])
    assert verdicts(hook, "web/nginx.conf") == verdicts(full, "web/nginx.conf")
    assert not hook.workspace.nginx_declared.known  # its Pod's image is not read
    write_files(root, {"web/compose.yaml": "services:\n  web:\n    image: nginx:1.23.3\n"})
    (config,) = hook_run(root, ["web/nginx.conf"]).workspace.nginx
    assert hook_run(root, ["web/nginx.conf"]).workspace.nginx_versions(config).label() == "1.23.3"


def test_reading_is_lazy_and_stops_at_the_nearest_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    real = tlslint.deployment_near.nginx_images

    def spy(path: Path) -> Any:
        opened.append(path.relative_to(root).as_posix())
        return real(path)

    monkeypatch.setattr(tlslint.deployment_near, "nginx_images", spy)
    root = repository(
        tmp_path,
        {
            "Dockerfile": "FROM nginx:1.27.3\n",
            "svc/Dockerfile": "FROM python:3.12-slim\nCMD gunicorn app:app\n",  # no nginx: go on up
            "svc/proxy/nginx.conf": PROXY,
            "svc/proxy/conf.d/tls.conf": "ssl_session_timeout 1d;\n",
            "app/gunicorn.conf.py": "bind = '0.0.0.0:8000'\n",
        },
    )
    monkeypatch.chdir(root)
    hook_run(root, ["app/gunicorn.conf.py"])  # no nginx file named: nothing read for images
    assert opened == []
    hook_run(root, ["svc/proxy/nginx.conf"], {"select": VERSION_RULES, "nginx": {"version": "1.24"}})
    assert opened == []  # the setting wins: no image is looked for
    # Unless NGX004 runs: it reports the image the setting contradicts, once.
    settings = {"select": [*VERSION_RULES, "NGX004"], "nginx": {"version": "1.24"}}
    result = hook_run(root, ["svc/proxy/nginx.conf"], settings)
    assert opened == ["svc/Dockerfile", "Dockerfile"]
    image = [
        (p, line, severity, message)
        for p, line, code, severity, message in verdicts(result)
        if code == "NGX004"
    ]
    assert [found[:3] for found in image] == [("svc/proxy/nginx.conf", 0, Severity.WARNING)]
    assert image[0][3].startswith(
        "the nginx.version setting is 1.24.0, but FROM nginx:1.27.3 at Dockerfile:1 runs this "
        "configuration on nginx 1.27.3: "
    )
    assert [result.workspace.nginx_versions(c).label() for c in result.workspace.nginx] == ["1.24.0"]
    opened.clear()
    result = hook_run(root, ["svc/proxy/nginx.conf"], {**settings, "nginx": {"version": "1.27.3"}})
    assert opened == ["svc/Dockerfile", "Dockerfile"]
    assert not [v for v in verdicts(result) if v[2] == "NGX004"]  # they agree
    opened.clear()
    result = hook_run(root, ["svc/proxy/nginx.conf"])
    assert opened == ["svc/Dockerfile", "Dockerfile"]  # svc/Dockerfile runs no nginx: on up
    assert [result.workspace.nginx_versions(c).label() for c in result.workspace.nginx] == ["1.27.3"]
    opened.clear()
    write_files(root, {"svc/proxy/Dockerfile": DOCKERFILE})
    result = hook_run(root, ["svc/proxy/nginx.conf", "svc/proxy/conf.d/tls.conf"])
    assert opened == ["svc/proxy/Dockerfile"]  # the nearest has an image: the search ends there
    assert {result.workspace.nginx_versions(c).label() for c in result.workspace.nginx} == {"1.23.3"}


def test_the_search_climbs_no_higher_than_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path.resolve()
    start = root / "a" / "b" / "c"
    start.mkdir(parents=True)
    chain = [start, start.parent, root / "a"]
    monkeypatch.chdir(root / "a")  # no repository, no settings file: up to the current directory
    assert list(project_directories(start, set())) == chain
    monkeypatch.chdir(start)
    assert list(project_directories(start, set())) == [start]
    (root / "elsewhere").mkdir()
    monkeypatch.chdir(root / "elsewhere")  # outside the current directory: its own directory only
    assert list(project_directories(start, set())) == [start]
    assert list(project_directories(start, {root / "a"})) == chain  # the settings file's directory
    (start.parent / ".git").mkdir()  # the work tree's top, nearer: it wins
    assert list(project_directories(start, {root / "a"})) == chain[:2]
    monkeypatch.chdir(root)
    assert list(project_directories(start, set())) == chain[:2]


def test_a_directory_given_takes_the_image_above_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`tlslint docker/nginx/conf.d` (or `cd` there and `tlslint .`) reads the Dockerfile
    above the directory, as naming its files does: it was "nginx.version is not
    configured" infos, where the root run warned."""
    site = "server {\n    listen 443 ssl;\n    " + CERT + "\n}\n"
    root = repository(
        tmp_path, {"docker/nginx/Dockerfile": DOCKERFILE, "docker/nginx/conf.d/site.conf": site}
    )
    monkeypatch.chdir(root)
    settings = settings_for(root, {"select": VERSION_RULES})
    full = verdicts(root_run(root))
    assert [severity for _, _, _, severity, _ in full] == [Severity.WARNING, Severity.WARNING]
    assert verdicts(run([Path("docker/nginx/conf.d")], settings)) == full
    monkeypatch.chdir(root / "docker/nginx/conf.d")
    inside = verdicts(run([Path(".")], settings))
    assert [(code, severity) for _, _, code, severity, _ in inside] == [(c, s) for _, _, c, s, _ in full]
    # A file above the working directory is named by its name (tlslint.version_range._shown).
    assert all("FROM nginx:1.23.3 at Dockerfile:1" in message for *_, message in inside)


def test_each_directory_is_looked_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many configurations below one directory: it is listed once, for all of them."""
    listed: list[str] = []
    real = tlslint.deployment_near._unread_images

    def spy(directory: Path, *args: Any) -> Any:
        listed.append(directory.relative_to(root).as_posix() or ".")
        return real(directory, *args)

    monkeypatch.setattr(tlslint.deployment_near, "_unread_images", spy)
    sites = {f"sites/{name}/nginx.conf": PROXY for name in ("a", "b", "c")}
    root = repository(tmp_path, {"Dockerfile": DOCKERFILE, **sites})
    monkeypatch.chdir(root)
    result = run([Path("sites")], settings_for(root, {"select": VERSION_RULES}))
    assert sorted(listed) == ["."]  # sites/ and below were walked; the top once
    assert {result.workspace.nginx_versions(c).label() for c in result.workspace.nginx} == {"1.23.3"}
    listed.clear()
    hook_run(root, sorted(sites))
    assert sorted(listed) == [".", "sites", "sites/a", "sites/b", "sites/c"]


def test_show_settings_names_each_configurations_images(tmp_path: Path) -> None:
    root = repository(
        tmp_path,
        {
            "proxy/Dockerfile": DOCKERFILE,
            "proxy/nginx.conf": PROXY,
            "k8s/web.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
            "    - name: web\n      image: nginx:1.27.3\n",
            "conf/nginx.conf": PROXY,
        },
    )
    shown = subprocess.run(
        [sys.executable, "-m", "tlslint", "check", "--show-settings", "."],
        cwd=root,
        capture_output=True,
        text=True,
    ).stdout
    assert "# declared: by configuration, the nginx images nearest above each (below)" in shown
    proxy = shown[shown.index("# proxy/nginx.conf") :]
    assert (
        proxy.splitlines()[1]
        == "#   declared: 1.23.3: FROM nginx:1.23.3 at proxy/Dockerfile:1 (deployment file)"
    )
    conf = shown[shown.index("# conf/nginx.conf") :]
    assert conf.splitlines()[1].startswith("#   declared: nothing")  # k8s/ is beside conf/, not above it
