"""Discovery: which files a run reads, and in which context each is checked."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import settings_for, write_files

from tlslint.discovery import discover
from tlslint.engine import run
from tlslint.findings import Severity
from tlslint.settings import load_settings

NGINX_SERVER = "server {\n    listen 80;\n}\n"
SUPERVISORD = "[program:web]\ncommand=/usr/bin/gunicorn app:app\nautostart=true\n"


def found(root: Path, *paths: str, exclude: tuple[str, ...] = ()) -> list[str]:
    targets = [root / p for p in paths] if paths else [root]
    discovered = discover(targets, exclude, root)
    return sorted(p.resolve().relative_to(root.resolve()).as_posix() for p in discovered.nginx)


# --- .gitignore and exclude --------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    write_files(
        tmp_path,
        {
            ".gitignore": "*.generated.conf\nbuild/\n",
            "site.conf": NGINX_SERVER,
            "site.generated.conf": NGINX_SERVER,
            "build/out.conf": NGINX_SERVER,
            "sub/.gitignore": "local.conf\n!keep.generated.conf\n",
            "sub/local.conf": NGINX_SERVER,
            "sub/other.conf": NGINX_SERVER,
            "sub/keep.generated.conf": NGINX_SERVER,
            "sub/drop.generated.conf": NGINX_SERVER,
            "sub/deeper/local.conf": NGINX_SERVER,
        },
    )
    return tmp_path


def test_gitignore_and_nested_gitignore(repo: Path) -> None:
    # Same verdicts as `git check-ignore`: the nested "!keep.generated.conf"
    # re-includes what the top-level "*.generated.conf" ignores.
    assert found(repo) == ["site.conf", "sub/keep.generated.conf", "sub/other.conf"]


def test_gitignore_above_the_walked_directory_applies_inside_a_repository(repo: Path) -> None:
    assert found(repo, "sub") == ["sub/keep.generated.conf", "sub/other.conf"]
    assert found(repo, "sub/deeper") == []


def test_gitignore_above_a_directory_outside_a_repository_does_not_apply(repo: Path) -> None:
    (repo / ".git").rmdir()
    # repo/.gitignore is not this tree's (no repository around it); sub's own applies.
    assert found(repo, "sub") == ["sub/drop.generated.conf", "sub/keep.generated.conf", "sub/other.conf"]


def test_explicitly_named_ignored_file_is_checked(repo: Path) -> None:
    assert found(repo, "site.generated.conf", "build/out.conf") == ["build/out.conf", "site.generated.conf"]


def test_exclude_setting(repo: Path) -> None:
    assert found(repo, exclude=("sub/", "site.conf")) == []
    assert found(repo, exclude=("*.conf", "!other.conf")) == ["sub/other.conf"]


def test_exclude_from_settings_is_relative_to_the_settings_file(repo: Path) -> None:
    write_files(
        repo, {".tlslint.toml": 'exclude = ["/sub/other.conf"]\n', "vendor/sub/other.conf": NGINX_SERVER}
    )
    settings = load_settings(repo)
    cwd = Path.cwd()
    try:
        os.chdir(repo / "sub")
        result = run([Path(".."), Path(".")], settings)
    finally:
        os.chdir(cwd)
    read = sorted(p.relative_to(repo.resolve()).as_posix() for p in result.files)
    assert read == ["site.conf", "sub/keep.generated.conf", "vendor/sub/other.conf"]


def test_always_skipped_directories(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {".git/config.conf": NGINX_SERVER, "node_modules/x/nginx.conf": NGINX_SERVER, "a.conf": NGINX_SERVER},
    )
    assert found(tmp_path) == ["a.conf"]


# --- classification by name and content -----------------------------------------


def test_ini_conf_is_skipped_when_walking_but_checked_when_named(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "supervisor/conf.d/web.conf": SUPERVISORD,
            "etc/supervisord.conf": SUPERVISORD,
            "etc/resolv.conf": "nameserver 1.1.1.1\nsearch example.com\n",
            "nginx/conf.d/site.conf": NGINX_SERVER,
        },
    )
    assert found(tmp_path) == ["nginx/conf.d/site.conf"]
    assert found(tmp_path, "supervisor/conf.d/web.conf") == ["supervisor/conf.d/web.conf"]
    named = run([tmp_path / "etc/supervisord.conf"], settings_for(tmp_path))
    assert [(f.code, f.location.line) for f in named.findings] == [("NGX001", 1)]


def test_files_without_conf_suffix_in_nginx_directories(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "nginx/sites-available/example.com": NGINX_SERVER,
            "nginx/sites-enabled/default": NGINX_SERVER,
            "nginx/conf.d/upstreams.inc": "upstream app {\n    server 127.0.0.1:8000;\n}\n",
            "deploy/nginx/proxy_headers": "proxy_set_header Host $host;\n",
            # Beside them, not configuration: skipped while walking.
            "nginx/Dockerfile": "FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n",
            "nginx/README.md": "# nginx\n\n```\nserver {\n    listen 80;\n}\n```\n",
            "nginx/sites-available/.gitkeep": "",
            "nginx/conf.d/favicon.ico": "\x00\x00\x01\x00",
            "nginx/conf.d/cert.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
            # No extension, not an nginx directory: its content makes it nginx (tests/test_sniff.py).
            "docs/example": NGINX_SERVER,
        },
    )
    assert found(tmp_path) == [
        "deploy/nginx/proxy_headers",
        "docs/example",
        "nginx/conf.d/upstreams.inc",
        "nginx/sites-available/example.com",
        "nginx/sites-enabled/default",
    ]
    result = run([tmp_path], settings_for(tmp_path))
    assert not result.has_load_errors


def test_one_line_blocks_read_as_nginx(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "a.conf": "server { listen 80; return 444; }\n",
            "b.conf": "# comment\nevents {}  # trailing\n",
            "c.conf": "key = value\nother: thing\n",
        },
    )
    assert found(tmp_path) == ["a.conf", "b.conf"]


def test_nginx_conf_and_binary_conf_are_always_reported(tmp_path: Path) -> None:
    write_files(tmp_path, {"x/nginx.conf": "[section]\n"})
    (tmp_path / "bin.conf").write_bytes(b"\x00\x01")
    assert found(tmp_path) == ["bin.conf", "x/nginx.conf"]
    result = run([tmp_path], settings_for(tmp_path))
    assert sorted((f.location.path.name, f.code) for f in result.findings) == [
        ("bin.conf", "NGX001"),
        ("nginx.conf", "NGX001"),
    ]


def test_a_walked_yaml_with_a_nul_is_reported_when_its_text_says_whose_it_is(tmp_path: Path) -> None:
    """A NUL byte made a walked YAML file silently skipped: an Apigee overrides file that
    does not load read "Nothing checked", exit 0. Its text before the NUL tells."""
    write_files(tmp_path, {"nginx.conf": "events {}\nhttp {}\n"})
    files = {
        "overrides.yaml": b"virtualhosts:\n  - name: prod\n    sslSecret: tls\n\x00\n",
        "route.yaml": b"apiVersion: apigee.cloud.google.com/v1\nkind: ApigeeRoute\nspec: {}\n\x00",
        "gw.yaml": b"apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\n\x00",
        "utf16.yaml": "virtualhosts:\n  - name: prod\n".encode("utf-16"),
        "random.yaml": bytes(range(256)) * 4,  # a binary *.yaml of some other tool
        "other.yaml": b"jobs:\n  test: {}\n\x00",  # no format of tlslint's
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    walked = discover([tmp_path], base=tmp_path)
    assert sorted(p.name for p in walked.yaml) == ["overrides.yaml", "route.yaml", "utf16.yaml"]
    assert [p.name for p in walked.kubernetes] == ["gw.yaml"]
    result = run([tmp_path], settings_for(tmp_path))
    assert sorted((f.location.path.name, f.code) for f in result.findings) == [
        ("gw.yaml", "GW002"),
        ("overrides.yaml", "APG201"),
        ("route.yaml", "APG201"),
        ("utf16.yaml", "APG201"),
    ]
    assert result.exit_code(Severity.WARNING) == 2
    # Named, every one is reported: by its own tier, or the Apigee tier when nothing says
    named = discover([tmp_path / name for name in files], base=tmp_path)
    assert sorted(p.name for p in named.yaml) == [
        "other.yaml", "overrides.yaml", "random.yaml", "route.yaml", "utf16.yaml",
    ]  # fmt: skip
    assert [p.name for p in named.kubernetes] == ["gw.yaml"]


def test_missing_path_is_reported(tmp_path: Path) -> None:
    discovered = discover([tmp_path / "nope.conf"])
    assert discovered.missing == [tmp_path / "nope.conf"]
    result = run([tmp_path / "nope.conf"], settings_for(tmp_path))
    assert result.missing_paths == [tmp_path / "nope.conf"]
    assert result.exit_code(Severity.WARNING) == 2


def test_a_file_given_twice_is_read_once(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.conf": NGINX_SERVER})
    assert found(tmp_path, "a.conf", ".", "./a.conf") == ["a.conf"]


# --- includes: one context, one report --------------------------------------------

MAIN = """\
events {}
http {
    ssl_certificate     /etc/ssl/example.com.pem;
    ssl_certificate_key /etc/ssl/example.com.key;
    ssl_session_cache shared:SSL:10m;
    include conf.d/*.conf;
    server {
        listen 443 ssl default_server;
        include snippets/tls.conf;
    }
    server {
        listen 8443 ssl;
        include snippets/tls.conf;
    }
}
"""
SITE = """\
server {
    listen 443 ssl;
    server_name site.example.com;
    ssl_session_timeout 1m;
}
"""


def test_included_file_is_checked_once_in_the_includers_context(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"nginx.conf": MAIN, "conf.d/site.conf": SITE, "snippets/tls.conf": "ssl_session_timeout 2m;\n"},
    )
    result = run(
        [tmp_path], settings_for(tmp_path, {"nginx": {"version": "1.27"}, "select": ["NGX0", "NGX1"]})
    )
    assert len(result.workspace.nginx) == 1  # one root: nginx.conf
    assert result.workspace.nginx[0].root.path.name == "nginx.conf"
    found_ = sorted(
        (f.location.path.relative_to(tmp_path).as_posix(), f.code, f.location.line) for f in result.findings
    )
    # Each timeout once, though snippets/tls.conf sits in two servers; no NGX101 for
    # the site: in nginx.conf's http{} it inherits shared:SSL:10m. The site is a virtual
    # server on *:443: its 1m is not in force there (NGX107; the default server's 2m is).
    assert found_ == [("conf.d/site.conf", "NGX107", 4), ("snippets/tls.conf", "NGX104", 1)]


def test_a_file_nothing_includes_is_checked_on_its_own(tmp_path: Path) -> None:
    write_files(tmp_path, {"sites/site.conf": SITE})
    result = run([tmp_path / "sites/site.conf"], settings_for(tmp_path, {"select": ["NGX101"]}))
    # No includer, so no http-level cache: the server has none.
    assert [(f.code, f.location.line) for f in result.findings] == [("NGX101", 1)]


def test_absolute_include_maps_through_the_default_root(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "nginx.conf": "events {}\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n"
            "    include /etc/nginx/snippets/tls.conf;\n}\n",
            "conf.d/site.conf": SITE,
            "snippets/tls.conf": "ssl_certificate /etc/ssl/a.pem;\nssl_certificate_key /etc/ssl/a.key;\n"
            "ssl_session_cache shared:TLS:1m;\n",
        },
    )
    result = run([tmp_path / "nginx.conf"], settings_for(tmp_path, {"select": ["NGX0", "NGX103", "NGX104"]}))
    assert {p.relative_to(tmp_path).as_posix() for p in result.files} == {
        "nginx.conf",
        "conf.d/site.conf",
        "snippets/tls.conf",
    }
    assert sorted((f.location.path.name, f.code) for f in result.findings) == [
        ("site.conf", "NGX104"),
        ("tls.conf", "NGX103"),
    ]


def test_absolute_include_never_reads_the_hosts_etc_nginx(tmp_path: Path) -> None:
    write_files(
        tmp_path, {"nginx.conf": "events {}\nhttp {\n    include /etc/nginx/sites-enabled/default;\n}\n"}
    )
    result = run([tmp_path / "nginx.conf"], settings_for(tmp_path, {"select": ["NGX0"]}))
    assert [(f.code, f.location.line) for f in result.findings] == [("NGX002", 3)]
    assert all(str(p).startswith(str(tmp_path)) for p in result.files)


def test_absolute_include_maps_through_nginx_roots(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            ".tlslint.toml": 'select = ["NGX0", "NGX103", "NGX104"]\n'
            '[nginx.roots]\n"/etc/nginx" = "deploy/nginx"\n"/opt/tls/" = "ops/tls"\n',
            "deploy/nginx/snippets/session.conf": "ssl_session_timeout 1m;\n",
            "ops/tls/params.conf": "ssl_session_cache shared:OPS:1m;\n",
            "sites/app.conf": "server {\n    listen 443 ssl;\n    include /etc/nginx/snippets/session.conf;\n"
            "    include /opt/tls/params.conf;\n}\n",
        },
    )
    settings = load_settings(tmp_path / "sites")
    result = run([tmp_path / "sites"], settings)
    assert sorted((f.location.path.relative_to(tmp_path).as_posix(), f.code) for f in result.findings) == [
        ("deploy/nginx/snippets/session.conf", "NGX104"),
        ("ops/tls/params.conf", "NGX103"),
    ]
    # Without the mapping, /etc/nginx maps to the file's own prefix and /opt is outside.
    plain = run([tmp_path / "sites"], settings_for(tmp_path, {"select": ["NGX0"]}))
    messages = sorted((f.code, f.location.line, f.message) for f in plain.findings)
    assert [(code, line) for code, line, _ in messages] == [("NGX002", 3), ("NGX002", 4)]
    assert 'absolute include "/opt/tls/params.conf" is outside the mapped roots' in messages[1][2]
    assert 'map it with nginx.roots (roots = { "/opt/tls" = ' in messages[1][2]


# --- what the walk remembers ----------------------------------------------------


@pytest.mark.parametrize("given", ["relative", "absolute", "through a symlink"])
def test_the_walks_resolutions_and_prefixes_are_the_file_systems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, given: str
) -> None:
    # The walk records where each file resolves from its directory's place, and the
    # loader takes a file's prefix by its directory's text: both must answer as realpath
    # and a Path resolved afresh do, for relative and absolute walks, symlinked
    # directories and files, and after the working directory changes.
    from tlslint.paths import forget, resolved
    from tlslint.sources.nginx.loader import prefix_for, prefix_of_directory

    tree = tmp_path / "tree"
    write_files(
        tree,
        {
            "nginx.conf": NGINX_SERVER,
            "sites-available/a.conf": NGINX_SERVER,
            "conf.d/templates/b.conf": NGINX_SERVER,
            "real/c.conf": NGINX_SERVER,
        },
    )
    write_files(tmp_path, {"outside/x.conf": NGINX_SERVER})
    (tree / "sites-enabled").mkdir()
    (tree / "sites-enabled" / "x.conf").symlink_to(tmp_path / "outside" / "x.conf")
    (tree / "linked").symlink_to("real")  # not followed by the walk
    (tmp_path / "alias").symlink_to("tree")
    top = {"relative": Path("."), "absolute": tree, "through a symlink": tmp_path / "alias"}[given]
    monkeypatch.chdir(tree)
    forget()
    for _ in range(2):  # the second walk over what the first remembered
        discovered = discover([top], (), tree)
        names = sorted(os.path.relpath(os.path.abspath(p), os.path.abspath(top)) for p in discovered.nginx)
        assert names == [
            "conf.d/templates/b.conf", "nginx.conf", "real/c.conf",
            "sites-available/a.conf", "sites-enabled/x.conf",
        ]  # fmt: skip
        for path in discovered.nginx:
            assert resolved(path) == Path(os.path.realpath(path))
            parent = Path(os.path.realpath(os.path.dirname(os.path.abspath(path))))
            assert prefix_for(path) == prefix_of_directory(parent)
    monkeypatch.chdir(tree / "real")  # "." is another place now
    assert resolved(Path("c.conf")) == (tree / "real" / "c.conf").resolve()
    assert prefix_for(Path("c.conf")) == (tree / "real").resolve()
    assert prefix_for(Path("../conf.d/templates/b.conf")) == tree.resolve()
