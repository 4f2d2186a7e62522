"""Discovery reads what its name does not tell: files of unknown or no extension are
nginx when their content is, and a path with no configuration in it is said so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import settings_for

from tlslint import discovery
from tlslint.discovery import discover
from tlslint.engine import run
from tlslint.sources.nginx.sniff import reads_as_nginx
from tlslint.sources.text import SNIFF_BYTES

# A fediverse server's shipped site file, in its shape: an http-level cache path, a
# port-80 redirect server and a TLS server with a WebSocket-style proxy location.
SITE_NGINX = """\
# default nginx site config for the app
#
# Simple installation instructions:
# 1. Install your TLS certificate, possibly using Let's Encrypt.
# 2. Replace 'example.tld' with your instance's domain wherever it appears.
# 3. Copy this file to /etc/nginx/sites-available/ and then add a symlink to it
#    in /etc/nginx/sites-enabled/ and run 'nginx -s reload' or restart nginx.

proxy_cache_path /tmp/app-media-cache levels=1:2 keys_zone=app_media_cache:10m max_size=10g
                 inactive=720m use_temp_path=off;

server {
    server_name    example.tld;

    listen         80;
    listen         [::]:80;

    location / {
        return         301 https://$server_name$request_uri;
    }
}

ssl_session_cache shared:ssl_session_cache:10m;

server {
    server_name example.tld;

    listen 443 ssl;
    listen [::]:443 ssl;
    ssl_session_timeout 5m;

    ssl_certificate     /etc/letsencrypt/live/example.tld/fullchain.pem;
    ssl_certificate_key /etc/letsencrypt/live/example.tld/privkey.pem;

    location / {
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_set_header Host $http_host;
        proxy_pass http://localhost:4000;
    }
}
"""
MAIN = """\
user www-data;
events {
    worker_connections 768;
}
http {
    include mime.types;
    include proxy_params;
    ssl_session_cache shared:SSL:10m;
    include sites-enabled/*;
}
"""
VHOST = """\
server {
    listen 443 ssl;
    server_name legacy.example.com;
    ssl_certificate     /etc/ssl/legacy.pem;
    ssl_certificate_key /etc/ssl/legacy.key;
    ssl_session_timeout 1m;
}
"""
PROXY_PARAMS = """\
proxy_set_header Host $http_host;
proxy_set_header X-Real-IP $remote_addr;
proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
proxy_set_header X-Forwarded-Proto $scheme;
"""
MIME_TYPES = """\
types {
    text/html                             html htm shtml;
    text/css                              css;
    application/javascript                js;
    image/png                             png;
}
"""
# Beside an nginx.conf, never nginx: each has semicolons or braces somewhere.
NOT_NGINX = {
    "README": (
        "Edge proxy for example.com\n\n"
        "Reload with: systemctl reload nginx; then tail the error log.\n"
        "server { listen 443; } is how a site starts.\n"
    ),
    "NOTES": "set up the certificates first; then reload;\nwatch the logs;\n",
    "reload": "#!/bin/sh\nset -e\nnginx -t && nginx -s reload;\n",
    "rotate-keys": "set -e; openssl rand 80 > /etc/nginx/ticket.key; nginx -s reload;\n",
    "manage": '#!/usr/bin/env python3\nimport os\nif __name__ == "__main__":\n    print({"a": 1});\n',
    "settings": 'ALLOWED = {"a": 1, "b": 2}\nprint(ALLOWED);\n',
    "config": '{\n  "listen": 443,\n  "server_name": "example.com"\n}\n',
    "upstreams": "[upstreams]\napp = 127.0.0.1:8000;\n",
    "Makefile": "reload:\n\tnginx -s reload;\n",
    "README.md": "# nginx\n\n```nginx\nserver {\n    listen 80;\n}\n```\n",
    "deploy.sh": "#!/bin/sh\nset -e; nginx -s reload;\n",
    "app.py": "server = {'listen': 80};\n",
    "site.json": '{"server": {"listen": 80}}\n',
    "nginx.conf.bak": VHOST,
    "nginx.conf~": VHOST,
    ".nginx.conf.swp": VHOST,
}


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def found(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in discover([root], (), root).nginx)


def findings(root: Path, *paths: Path) -> list[tuple[str, str, int, str]]:
    result = run(list(paths) or [root], settings_for(root))
    return sorted((f.location.path.name, f.code, f.location.line, f.message) for f in result.findings)


def test_a_directory_whose_only_configuration_is_a_dot_nginx_file(tmp_path: Path) -> None:
    write(tmp_path, {"app/installation/app.nginx": SITE_NGINX})
    directory = tmp_path / "app"
    assert found(directory) == ["installation/app.nginx"]
    by_directory = findings(directory)
    assert by_directory  # the same findings as naming the file, not "All checks passed"
    assert by_directory == findings(directory, directory / "installation" / "app.nginx")


def test_unknown_and_missing_extensions_inside_a_tree(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "etc/nginx/nginx.conf": MAIN,
            "etc/nginx/mime.types": MIME_TYPES,
            "etc/nginx/proxy_params": PROXY_PARAMS,
            "etc/nginx/sites-available/legacy.example.com": VHOST,
            "etc/nginx/sites-enabled/legacy.vhost": VHOST,
            "hosts/api.nginx": VHOST,
            **{f"etc/nginx/{name}": text for name, text in NOT_NGINX.items()},
        },
    )
    assert found(tmp_path) == [
        "etc/nginx/mime.types",
        "etc/nginx/nginx.conf",
        "etc/nginx/proxy_params",
        "etc/nginx/sites-available/legacy.example.com",
        "etc/nginx/sites-enabled/legacy.vhost",
        "hosts/api.nginx",
    ]
    result = run([tmp_path], settings_for(tmp_path))
    assert not result.has_load_errors
    # Included files are checked in their includer's context, once: three roots.
    roots = sorted(config.root.path.relative_to(tmp_path).as_posix() for config in result.workspace.nginx)
    assert roots == [
        "etc/nginx/nginx.conf",
        "etc/nginx/sites-available/legacy.example.com",
        "hosts/api.nginx",
    ]


@pytest.mark.parametrize("name", sorted(NOT_NGINX))
def test_files_beside_nginx_conf_that_are_not_nginx(tmp_path: Path, name: str) -> None:
    write(tmp_path, {"nginx.conf": MAIN, name: NOT_NGINX[name]})
    assert found(tmp_path) == ["nginx.conf"]


@pytest.mark.parametrize(
    "text",
    [
        "server {\n    listen 80;\n}\n",
        "# comment first\n\nupstream app {\n    server 127.0.0.1:8000;\n    keepalive 16;\n}\n",
        "\ufeffmap $http_upgrade $connection_upgrade {\n    default upgrade;\n    ''      close;\n}\n",
        "location /api/ {\n    proxy_pass http://app;\n    more_set_headers 'X-A: b';\n}\n",  # third-party
        "server { listen 80; return 444; }",
    ],
)
def test_reads_as_nginx(text: str) -> None:
    assert reads_as_nginx(text.encode(), complete=True)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# only a comment\n",
        "server {\n    listen 80\n",  # ends in the middle of a statement
        "echo one; echo two; set -e;\n",  # mostly not directives
        "Listen 80;\n",  # directives are lower case
        '"server" { listen 80; }\n',
        "listen 80;\n}\n",  # closes what it never opened
        "server {\n    it's prose;\n}\n",
        "<VirtualHost *:443>\n    SSLEngine on\n</VirtualHost>\n",
    ],
)
def test_does_not_read_as_nginx(text: str) -> None:
    assert not reads_as_nginx(text.encode(), complete=True)


def test_a_cut_head_ends_at_its_last_whole_line() -> None:
    head = b"server {\n    listen 80;\n    server_name exa"
    assert reads_as_nginx(head, complete=False)
    assert not reads_as_nginx(head, complete=True)


def test_sniffing_is_bounded_in_bytes_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = "#" + "-" * 78 + "\n"
    write(
        tmp_path,
        {
            "nginx.conf": MAIN,
            "sites/big.conf": VHOST + big * 2000,  # 160 KB
            "sites/late": big * 300 + VHOST,  # the server block after 24 KB of comments
            "sites/early": VHOST + big * 2000,
            "notes": "prose; " * 50_000,
        },
    )
    asked: list[tuple[str, int]] = []
    real = discovery.sniff_head

    def recording(path: Path, size: int = SNIFF_BYTES) -> bytes | None:
        asked.append((path.name, size))
        return real(path, size)

    monkeypatch.setattr(discovery, "sniff_head", recording)
    assert found(tmp_path) == ["nginx.conf", "sites/big.conf", "sites/early"]
    sizes = dict(asked)
    assert sizes["big.conf"] == SNIFF_BYTES
    assert sizes["late"] == sizes["early"] == sizes["notes"] == discovery.UNKNOWN_SNIFF_BYTES == 16 * 1024


# --- a path that yields no configuration ---------------------------------------------------


def tlslint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tlslint", "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_directory_without_configuration_is_said_so(tmp_path: Path) -> None:
    write(tmp_path, {"docs/README.md": "# docs\n", "docs/notes": NOT_NGINX["NOTES"], "ci.yaml": "on: push\n"})
    result = tlslint(tmp_path, "docs")
    assert result.stderr == "tlslint: no nginx, Apigee or app-server configuration found under docs\n"
    assert "All checks passed" not in result.stdout
    assert result.stdout == "Nothing checked: no configuration found (0 files read).\n"
    named = tlslint(tmp_path, "ci.yaml")
    assert named.stderr == "tlslint: no nginx, Apigee or app-server configuration found in ci.yaml\n"
    assert "All checks passed" not in named.stdout


def test_only_the_empty_path_is_named(tmp_path: Path) -> None:
    write(tmp_path, {"docs/README.md": "# docs\n", "site/app.nginx": VHOST.replace("1m", "1h")})
    result = tlslint(tmp_path, "--select", "NGX104", "docs", "site")
    assert result.stderr == "tlslint: no nginx, Apigee or app-server configuration found under docs\n"
    assert result.stdout == "All checks passed (1 file read).\n"


def test_pre_commit_passing_files_that_are_not_configuration_is_quiet(tmp_path: Path) -> None:
    write(tmp_path, {"ci.yaml": "on: push\n", "conf.d/supervisor.conf": "[program:x]\ncommand=x\n"})
    result = tlslint(tmp_path, "--force-exclude", "ci.yaml", "conf.d/supervisor.conf")
    assert result.stderr == ""
