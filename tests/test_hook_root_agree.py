"""One verdict per file, however tlslint is run on it.

A pre-commit hook passes the changed files by name (``tlslint check --force-exclude
F``), CI runs ``tlslint .`` from the repository's top, and an SRE runs ``tlslint
proxy/`` by hand. For every nginx file F of each repository below (shaped after real
ones, with configurations from ../shared/corpus), the findings located in F (code,
severity, line, message) are the same in all of them: the root run, F named (as the
hook passes it, and by hand), and F's directory given.

Where a partial run cannot know what the root run knows, the difference is listed in
``KNOWN`` with the reason (docs/version-inference.md, docs/usage.md), and the test holds
that it is still there: a fix that removes one must remove its entry and its caveat.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, shared_path

from tlslint.check_command import run_check
from tlslint.engine import run
from tlslint.settings import load_settings

Verdict = tuple[str, str, int, str]  # code, severity, line, message


def corpus(name: str) -> str:
    return shared_path("corpus", "nginx", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Layout:
    name: str
    files: Callable[[], dict[str, str]]  # path -> text; called inside the test (corpus reads may skip)
    links: tuple[tuple[str, str], ...] = ()  # (path, symlink target)


# --- the repositories -----------------------------------------------------------------------

GUNICORN_APP = (
    'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]\n'
)


def compose_stack() -> dict[str, str]:
    """Lemmy's docker nginx.conf behind a compose file at the top that runs nginx from an
    image (mounting the configuration) and builds the app server it proxies to."""
    return {
        "docker-compose.yml": (
            "services:\n"
            "  proxy:\n    image: nginx:1.29.8-alpine\n    ports:\n      - '1236:1236'\n"
            "    volumes:\n      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro\n"
            "  lemmy:\n    build: ./app\n"
            "  lemmy-ui:\n    image: dessalines/lemmy-ui:0.19.3\n"
        ),
        "nginx/nginx.conf": corpus("LemmyNet__lemmy__docker_nginx.conf"),
        "app/Dockerfile": GUNICORN_APP,
        "app/gunicorn.conf.py": (
            "bind = '0.0.0.0:8536'\nworkers = 4\nworker_class = 'uvicorn.workers.UvicornWorker'\n"
        ),
        "app/pyproject.toml": '[project]\nname = "app"\nversion = "0.1"\n',  # no [tool.tlslint]
    }


def compose_stack_mapped() -> dict[str, str]:
    """The same stack, its app server mapped to the upstream in the settings
    ([[backends]]): read by every run, so the hook links it too (docs/backends.md)."""
    settings = '[[backends]]\nupstream = "lemmy"\nconfig = "app/Dockerfile"\n'
    return {**compose_stack(), ".tlslint.toml": settings}


def two_deployments() -> dict[str, str]:
    """A proxy on nginx 1.22 (an old GitLab site in conf.d/), a static frontend on 1.27
    (Mozilla's intermediate configuration), and a shared site no image runs."""
    return {
        "proxy/Dockerfile": "FROM nginx:1.22\nCOPY nginx.conf /etc/nginx/\nCOPY conf.d /etc/nginx/conf.d\n",
        "proxy/nginx.conf": "events {}\nhttp {\n    include conf.d/*.conf;\n}\n",
        "proxy/conf.d/gitlab.conf": corpus("gitlabhq__gitlabhq__lib_support_nginx_gitlab-ssl"),
        "frontend/Dockerfile": "FROM node:20 AS build\nFROM nginx:1.27-alpine\nCOPY . /etc/nginx/\n",
        "frontend/nginx.conf": "events {}\n"
        + corpus("mozilla__ssl-config-generator__GENERATED_intermediate_nginx1.27.3_openssl3.4.0.conf"),
        "shared/misskey.nginx": corpus("misskey-dev__misskey__docs_examples_misskey.nginx"),
    }


# The h5bp files its sites include that ../shared does not hold (written here, shortened).
H5BP_TLS = {
    "h5bp/tls/certificate_files.conf": (
        "ssl_certificate /etc/nginx/certs/default.crt;\nssl_certificate_key /etc/nginx/certs/default.key;\n"
    ),
    "h5bp/tls/policy_balanced.conf": "ssl_protocols TLSv1.2 TLSv1.3;\nssl_prefer_server_ciphers on;\n",
    "h5bp/errors/custom_errors.conf": "error_page 404 /404.html;\n",
    "h5bp/basic.conf": "charset utf-8;\n",
}


def h5bp(directory: str) -> dict[str, str]:
    files = {
        **H5BP_TLS,
        "h5bp/tls/ssl_engine.conf": corpus("h5bp__server-configs-nginx__h5bp_tls_ssl_engine.conf"),
    }
    return {f"{directory}/{name}": text for name, text in files.items()}


def kubernetes() -> dict[str, str]:
    """A Helm chart whose values name the nginx image, with its configuration in the
    chart; and a plain manifest in k8s/ beside a conf/ directory it does not hold."""
    deployment = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cloud\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - name: nginx\n"
        "          image: nginx:1.23.3\n"
    )
    return {
        "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
        "charts/web/values.yaml": "replicaCount: 2\nimage:\n  repository: nginx\n  tag: 1.25.3\n",
        "charts/web/files/site.conf": corpus("h5bp__server-configs-nginx__conf.d_templates_example.com.conf"),
        **h5bp("charts/web/files"),
        "k8s/cloud.yaml": deployment,
        "conf/cloud.conf": corpus(
            "nextcloud__documentation__admin_manual_installation_nginx-root.conf.sample"
        ),
    }


def no_image() -> dict[str, str]:
    """Sites kept for hosts managed by hand: no nginx image anywhere (an app's Dockerfile
    runs Python)."""
    return {
        "Dockerfile": 'FROM python:3.12-slim\nCMD ["python", "-m", "http.server"]\n',
        "sites/gitlab-ssl": corpus("gitlabhq__gitlabhq__lib_support_nginx_gitlab-ssl"),
        "sites/jitsi-meet.example": corpus("jitsi__jitsi-meet__doc_debian_jitsi-meet_jitsi-meet.example"),
        "sites/legacy/misskey.nginx": corpus("misskey-dev__misskey__docs_examples_misskey.nginx"),
        "README.md": "# hosts\n",
    }


def tlslint_toml() -> dict[str, str]:
    """A .tlslint.toml at the top that excludes a legacy directory; h5bp's layout in
    docker/nginx/ with the image's Dockerfile, its site two levels below it."""
    return {
        ".tlslint.toml": 'exclude = ["legacy/"]\nignore = ["NGX401"]\n',
        "docker/nginx/Dockerfile": "FROM nginxinc/nginx-unprivileged:1.27.3-alpine\nCOPY . /etc/nginx/\n",
        "docker/nginx/nginx.conf": (
            "events {}\nhttp {\n    include h5bp/tls/ssl_engine.conf;\n    include conf.d/*.conf;\n}\n"
        ),
        "docker/nginx/conf.d/example.com.conf": corpus(
            "h5bp__server-configs-nginx__conf.d_templates_example.com.conf"
        ),
        "docker/nginx/conf.d/default.conf": corpus("h5bp__server-configs-nginx__conf.d_.default.conf"),
        **h5bp("docker/nginx"),
        "legacy/old.conf": corpus("misskey-dev__misskey__docs_examples_misskey.nginx"),
    }


def pyproject() -> dict[str, str]:
    """Debian's /etc/nginx kept in the repository, its absolute includes mapped by
    [tool.tlslint] in pyproject.toml, a site enabled by a symlink in sites-enabled/ (one
    is not enabled); the image installs Debian's package (no nginx tag)."""
    return {
        "pyproject.toml": (
            '[project]\nname = "hosts"\nversion = "1"\n\n'
            '[tool.tlslint]\nselect = ["NGX1", "NGX2", "NGX3"]\n\n'
            '[tool.tlslint.nginx]\nroots = { "/etc/nginx" = "etc/nginx" }\n'
        ),
        "Dockerfile": "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y nginx\n",
        "etc/nginx/nginx.conf": corpus("debian__nginx-pkg-1.22.1-9+deb12u11__etc_nginx_nginx.conf"),
        "etc/nginx/sites-available/default": corpus(
            "debian__nginx-pkg-1.22.1-9+deb12u11__etc_nginx_sites-available_default"
        ),
        "etc/nginx/sites-available/misskey": corpus("misskey-dev__misskey__docs_examples_misskey.nginx"),
        "etc/nginx/mime.types": "types {\n    text/html html;\n}\n",
    }


def shared_snippets() -> dict[str, str]:
    """Two nginx deployments whose http{} include the same sites, kept in a directory
    beside theirs (mapped by nginx.roots): the root run checks the site in each
    includer's context."""
    main = (
        "events {}\nhttp {\n    ssl_session_cache shared:SSL:10m;\n    ssl_session_timeout 1h;\n"
        "    include /etc/nginx/sites/*.conf;\n}\n"
    )
    return {
        ".tlslint.toml": '[nginx]\nroots = { "/etc/nginx/sites" = "sites" }\n',
        "edge/Dockerfile": "FROM nginx:1.27.3\nCOPY nginx.conf /etc/nginx/\nCOPY sites /etc/nginx/sites\n",
        "edge/nginx.conf": main,
        "internal/nginx.conf": main.replace("10m", "1m"),
        "sites/jitsi.conf": corpus("jitsi__jitsi-meet__doc_debian_jitsi-meet_jitsi-meet.example"),
    }


LAYOUTS = [
    Layout("compose-stack", compose_stack),
    Layout("compose-stack-mapped", compose_stack_mapped),
    Layout("two-deployments", two_deployments),
    Layout("kubernetes", kubernetes),
    Layout("no-image", no_image),
    Layout("tlslint-toml", tlslint_toml),
    Layout("pyproject", pyproject, (("etc/nginx/sites-enabled/misskey", "../sites-available/misskey"),)),
    Layout("shared-snippets", shared_snippets),
]

# (layout, file, run) -> why that partial run's verdict on that file is not the root run's.
# Each is a limit of what a run on part of the tree can know without walking all of it.
INCLUDERS_BESIDE = (
    "its includers, edge/nginx.conf and internal/nginx.conf, sit beside sites/, not above "
    "it: a run on part of the tree looks for an includer in the file's directory and above "
    "only (docs/usage.md), so the site is checked on its own"
)
NOT_A_HOOK_FILE = (
    "its name matches no pattern of .pre-commit-hooks.yaml (no .conf suffix, not under "
    "nginx/, sites-enabled/, conf.d/, ...): pre-commit never passes it "
    "(docs/integrations/pre-commit.md)"
)
KNOWN: dict[tuple[str, str, str], str] = {
    **{
        ("shared-snippets", "sites/jitsi.conf", how): INCLUDERS_BESIDE
        for how in ("hook", "named", "directory")
    },
    ("no-image", "sites/gitlab-ssl", "hook, all files"): NOT_A_HOOK_FILE,
    ("no-image", "sites/jitsi-meet.example", "hook, all files"): NOT_A_HOOK_FILE,
}


# --- the runs -------------------------------------------------------------------------------

Findings = list[dict[str, object]]


def cli(*paths: str, force_exclude: bool = False) -> Findings:
    """The command line in-process (settings found from the paths' common directory, as
    the CLI finds them), run from the repository's top: its JSON findings."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        run_check([Path(p) for p in paths], output_format="json", no_cache=True, force_exclude=force_exclude)
    return json.loads(out.getvalue())["findings"]  # type: ignore[no-any-return]


def located(findings: Findings, name: str) -> list[Verdict]:
    return sorted(
        (str(f["code"]), str(f["severity"]), int(f["line"]), str(f["message"]))  # type: ignore[call-overload]
        for f in findings
        if f["path"] == name
    )


def nginx_files(root: Path) -> list[str]:
    """Every nginx file the root run reads (included ones too), from the top."""
    parsed = run([Path(".")], load_settings(Path("."))).nginx_files.parsed
    return sorted(Path(os.path.relpath(path)).as_posix() for path in parsed if path.is_relative_to(root))


def hook_files(root: Path) -> list[str]:
    """What ``pre-commit run --all-files`` passes: every file the hook's pattern matches."""
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    pattern = re.compile(hooks[0]["files"])
    files = (p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)
    return sorted(name for name in (p.relative_to(root).as_posix() for p in files) if pattern.search(name))


def partial_runs(name: str, every: list[str], links: list[str]) -> dict[str, tuple[tuple[str, ...], bool]]:
    """How each partial run is made: (paths, --force-exclude). ``links``: symlinks to F
    (sites-enabled/x), which a commit or a user may name instead."""
    runs = {
        "hook": ((name,), True),  # .pre-commit-hooks.yaml's entry, on a commit that changed F
        "named": ((name,), False),  # by hand
        "directory": ((Path(name).parent.as_posix(),), False),  # `tlslint proxy/`
        "hook, all files": (tuple(every), True),  # pre-commit run --all-files
    }
    for link in links:
        runs[f"hook on {link}"] = ((link,), True)
        runs[f"directory {Path(link).parent}"] = ((Path(link).parent.as_posix(),), False)
    return runs


def build(root: Path, files: dict[str, str], links: tuple[tuple[str, str], ...] = ()) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for name, target in links:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).symlink_to(target)
    (root / ".git").mkdir()


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
def test_every_run_gives_a_file_the_root_runs_verdict(
    layout: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path.resolve() / "repo"
    build(root, layout.files(), layout.links)
    monkeypatch.chdir(root)
    full = cli(".")
    names = nginx_files(root)
    assert names, "the layout has nginx files"
    every = hook_files(root)
    runs: dict[tuple[tuple[str, ...], bool], Findings] = {}  # a directory or all files: run once
    differences = []
    for name in names:
        want = located(full, name)
        links = [link for link, _ in layout.links if (root / link).resolve() == root / name]
        for how, (paths, force_exclude) in partial_runs(name, every, links).items():
            if (paths, force_exclude) not in runs:
                runs[paths, force_exclude] = cli(*paths, force_exclude=force_exclude)
            got = located(runs[paths, force_exclude], name)
            reason = KNOWN.get((layout.name, name, how))
            if reason is not None:
                assert got != want, f"{name} [{how}] now agrees: drop it from KNOWN and its caveat ({reason})"
            elif got != want:
                only_root, only_here = sorted(set(want) - set(got)), sorted(set(got) - set(want))
                differences.append(f"{name} [{how}]\n  root run only: {only_root}\n  {how} only: {only_here}")
    assert not differences, "\n".join(differences)


def test_a_file_the_settings_exclude_is_checked_only_when_named_by_hand(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hook's --force-exclude skips legacy/ as the root run's walk does; a file named
    without it is checked whatever the settings exclude (docs/usage.md), the one run that
    gives an excluded file a verdict: it was asked for by name."""
    root = tmp_path.resolve() / "repo"
    build(root, tlslint_toml())
    monkeypatch.chdir(root)
    assert "legacy/old.conf" not in nginx_files(root) and "legacy/old.conf" in hook_files(root)
    assert located(cli("."), "legacy/old.conf") == []
    assert located(cli("legacy/old.conf", force_exclude=True), "legacy/old.conf") == []
    assert (
        located(cli("docker/nginx/nginx.conf", "legacy/old.conf", force_exclude=True), "legacy/old.conf")
        == []
    )
    assert {code for code, *_ in located(cli("legacy/old.conf"), "legacy/old.conf")} >= {"NGX302", "NGX304"}


# --- an includer not named nginx.conf -------------------------------------------------------

SITE = "server {\n    listen 443 ssl;\n    include tls/certificates.conf;\n}\n"
CERTIFICATES = "ssl_certificate /etc/ssl/site.pem;\nssl_certificate_key /etc/ssl/site.key;\n"


def test_a_snippet_is_checked_in_the_file_above_it_that_includes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chart's files/ holds site.conf and the tls/ snippet it includes, and no
    nginx.conf: named, the snippet is checked in site.conf's context as the root run
    checks it (alone, it read as a server{} of its own: "TLS server[no listen] has no
    session cache"); a file the settings exclude is no includer, as in the root run."""
    root = tmp_path.resolve() / "repo"
    build(root, {"files/site.conf": SITE, "files/tls/certificates.conf": CERTIFICATES})
    monkeypatch.chdir(root)
    snippet = "files/tls/certificates.conf"
    assert located(cli("."), snippet) == []
    for paths in ((snippet,), ("files/tls",)):
        assert located(cli(*paths, force_exclude=True), snippet) == [], paths
    (root / ".tlslint.toml").write_text('exclude = ["files/site.conf"]\n', encoding="utf-8")
    alone = {code for code, *_ in located(cli("."), snippet)}
    assert "NGX101" in alone  # excluded, site.conf includes nothing: the snippet is its own root
    assert {code for code, *_ in located(cli(snippet, force_exclude=True), snippet)} == alone


def test_the_top_of_a_chain_of_includers_is_the_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """all.conf includes sites/site.conf, which includes sites/tls/certificates.conf: the
    root run loads all.conf (its http{} has the session cache); so does a run given the
    snippet or the site, or their directory."""
    main = "http {\n    ssl_session_cache shared:SSL:10m;\n    include sites/*.conf;\n}\n"
    site = SITE.replace("tls/", "sites/tls/")  # relative to the prefix: all.conf's directory
    root = tmp_path.resolve() / "repo"
    files = {"all.conf": main, "sites/site.conf": site, "sites/tls/certificates.conf": CERTIFICATES}
    build(root, files)
    monkeypatch.chdir(root)
    full = cli(".")
    in_context = {code for code, *_ in located(full, "sites/site.conf")}
    assert in_context and not in_context & {"NGX101", "NGX002"}
    for name in files:
        for paths in ((name,), (Path(name).parent.as_posix(),)):
            assert located(cli(*paths, force_exclude=True), name) == located(full, name), (name, paths)
