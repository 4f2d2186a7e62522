"""The nginx version that deployment files in scope declare (tlslint.deployment):
Dockerfile/Containerfile FROM lines, compose and Kubernetes `image:`, Helm values
`repository`/`tag`. Hand-written in the shapes those files have."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import check_files, cli

from tlslint.deployment import (
    deployment_versions,
    is_deployment_file,
    nginx_images,
    split_reference,
    tag_versions,
)
from tlslint.discovery import discover


@pytest.mark.parametrize(
    ("tag", "low", "high"),
    [
        ("1.27.3-alpine", (1, 27, 3), (1, 27, 4)),
        ("1.27.3", (1, 27, 3), (1, 27, 4)),
        ("1.25", (1, 25, 0), (1, 26, 0)),  # the series, not 1.25.0
        ("1.27-alpine-slim", (1, 27, 0), (1, 28, 0)),
        ("1.25.3-debian-11-r0", (1, 25, 3), (1, 25, 4)),  # bitnami/nginx
        ("stable", None, None),
        ("mainline-alpine", None, None),
        ("latest", None, None),
        ("alpine", None, None),
        ("1", None, None),
        ("", None, None),
        ("${NGINX_VERSION}", None, None),
        ("{{ .Values.image.tag }}", None, None),
    ],
)
def test_tag_versions(tag: str, low: object, high: object) -> None:
    assert tag_versions(tag) == (low, high)


def test_split_reference() -> None:
    assert split_reference("nginx:1.25") == ("nginx", "1.25")
    assert split_reference("docker.io/library/nginx:1.25.3@sha256:abc") == (
        "docker.io/library/nginx",
        "1.25.3",
    )
    assert split_reference("nginx@sha256:abc") == ("nginx", "")
    assert split_reference("registry.local:5000/nginx") == ("registry.local:5000/nginx", "")
    assert split_reference("registry.local:5000/web/nginx:1.26") == ("registry.local:5000/web/nginx", "1.26")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def versions(*paths: Path) -> tuple[object, object]:
    found = deployment_versions(list(paths))
    return found.low, found.high


def test_dockerfile_forms(tmp_path: Path) -> None:
    multi = write(
        tmp_path,
        "Dockerfile",
        "ARG NODE=20\n"
        "FROM node:${NODE} AS assets\n"
        "RUN npm ci && npm run build\n"
        "\n"
        "from --platform=$BUILDPLATFORM nginxinc/nginx-unprivileged:1.27-alpine AS web\n"
        "COPY --from=assets /app/dist /usr/share/nginx/html\n",
    )
    (image,) = nginx_images(multi)
    assert image.evidence.line == 5 and image.evidence.what.startswith("FROM nginxinc/nginx-unprivileged")
    assert versions(multi) == ((1, 27, 0), (1, 28, 0))
    exact = write(tmp_path, "web/Containerfile", "FROM docker.io/library/nginx:1.27.3-alpine@sha256:0123\n")
    assert versions(exact) == ((1, 27, 3), (1, 27, 4))
    templated = write(tmp_path, "t/Dockerfile", "ARG NGINX_VERSION=1.25.3\nFROM nginx:${NGINX_VERSION}\n")
    assert versions(templated) == (None, None)  # ARG-templated: unknown
    moving = write(tmp_path, "m/Dockerfile.prod", "FROM nginx:stable-alpine\n")
    assert versions(moving) == (None, None)
    digest = write(tmp_path, "d/Dockerfile", "FROM nginx@sha256:0123456789abcdef\n")
    assert versions(digest) == (None, None)
    ingress = write(tmp_path, "i/Dockerfile", "FROM nginx/nginx-ingress:3.4.0\n")
    assert nginx_images(ingress) == []  # another product, its own version numbers


def test_compose_and_kubernetes(tmp_path: Path) -> None:
    compose = write(
        tmp_path,
        "docker-compose.yml",
        "services:\n"
        "  app:\n"
        "    image: ghcr.io/example/app:2.4.1\n"
        "  web:\n"
        '    image: "nginx:1.25"  # pinned to the series\n'
        "    ports: ['443:443']\n",
    )
    (image,) = nginx_images(compose)
    assert image.evidence.line == 5 and image.evidence.what == "image nginx:1.25"
    assert versions(compose) == ((1, 25, 0), (1, 26, 0))
    deployment = write(
        tmp_path,
        "k8s/deployment.yaml",
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: edge\n"
        "          image: nginx:1.27.3-alpine\n"
        "        - name: exporter\n"
        "          image: nginx/nginx-prometheus-exporter:1.1.0\n",
    )
    assert versions(deployment) == ((1, 27, 3), (1, 27, 4))
    # Several images: the configuration may run on any of them.
    assert versions(compose, deployment) == ((1, 25, 0), (1, 27, 4))
    latest = write(tmp_path, "dev/compose.yaml", "services:\n  web:\n    image: nginx\n")
    assert versions(compose, latest) == (None, None)  # one of them runs "latest": unknown


def test_helm_values(tmp_path: Path) -> None:
    values = write(
        tmp_path,
        "chart/values.yaml",
        "replicaCount: 2\n"
        "image:\n"
        "  registry: docker.io\n"
        "  repository: bitnami/nginx\n"
        '  tag: "1.25.3-debian-12-r0"\n'
        "  pullPolicy: IfNotPresent\n"
        "service:\n"
        "  port: 443\n",
    )
    (image,) = nginx_images(values)
    assert image.evidence.line == 4
    assert versions(values) == ((1, 25, 3), (1, 25, 4))
    reordered = write(tmp_path, "c2/values.yaml", "nginx:\n  image:\n    tag: 1.26\n    repository: nginx\n")
    assert versions(reordered) == ((1, 26, 0), (1, 27, 0))
    templated = write(
        tmp_path, "c3/values.yaml", "image:\n  repository: nginx\n  tag: '{{ .Chart.AppVersion }}'\n"
    )
    assert versions(templated) == (None, None)
    other = write(tmp_path, "c4/values.yaml", "image:\n  repository: grafana/grafana\n  tag: 10.2.0\n")
    assert nginx_images(other) == []


def test_unreadable_or_binary_files_declare_nothing(tmp_path: Path) -> None:
    binary = tmp_path / "Dockerfile"
    binary.write_bytes(b"FROM nginx:1.25\n\0\0\0")
    assert nginx_images(binary) == []
    assert nginx_images(tmp_path / "missing.yaml") == []
    assert versions(tmp_path / "missing.yaml") == (None, None)


def test_discovery_notes_deployment_files_by_name(tmp_path: Path) -> None:
    write(tmp_path, "nginx.conf", "events {}\nhttp {}\n")
    write(tmp_path, "Dockerfile", "FROM nginx:1.27\n")
    write(tmp_path, "compose.yaml", "services:\n  web:\n    image: nginx:1.27\n")
    write(tmp_path, "README.md", "FROM nginx:1.22\n")
    found = discover([tmp_path])
    assert sorted(p.name for p in found.deployment) == ["Dockerfile", "compose.yaml"]
    assert [p.name for p in found.nginx] == ["nginx.conf"]
    assert is_deployment_file(Path("Containerfile")) and is_deployment_file(Path("app.dockerfile"))
    assert not is_deployment_file(Path("nginx.conf"))


def test_deployment_files_are_never_configuration_files(tmp_path: Path) -> None:
    """Read for the version only: not in the files read, never a finding, never a
    failure (a broken YAML or Dockerfile is none of tlslint's business)."""
    files = {
        "nginx.conf": "events {}\nhttp {\n    server {\n        listen 80;\n    }\n}\n",
        "Dockerfile": "FROM nginx:1.27.3\nRUN [broken\n",
        "deploy/compose.yaml": "services: [web:\n  - image: nginx:1.27.3\n",  # invalid YAML
    }
    result = check_files(tmp_path, files)
    assert [p.name for p in result.files] == ["nginx.conf"]
    assert not result.has_load_errors and not result.missing_paths
    assert {f.location.path.name for f in result.findings} <= {"nginx.conf"}
    (config,) = result.workspace.nginx
    assert result.workspace.nginx_declared_for(config).exact == (1, 27, 3)


# --- A compose service that builds its image (the Compose spec: with `build:`,
# `image:` names the image the build produces, so its tag is the project's own). ---

SERVICE_CONF = (
    "upstream php { server php:9000; keepalive 8; keepalive_timeout 30s; }\n"
    "server {\n"
    "    listen 443 ssl;\n"
    "    http2 on;\n"
    "    server_name _;\n"
    "    ssl_certificate /etc/ssl/c.pem;\n"
    "    ssl_certificate_key /etc/ssl/k.pem;\n"
    "    location ~ \\.php$ { fastcgi_pass php; fastcgi_keep_conn on; include fastcgi_params; }\n"
    "}\n"
)
BUILT_SERVICE = (
    'version: "3"\n'
    "services:\n"
    "  nginx:\n"
    "    build: ./nginx\n"
    "    image: alex88otus/nginx:0.1\n"
    "    volumes:\n"
    "      - ./cfg/etc/nginx/conf.d/default.conf:/etc/nginx/conf.d/default.conf:z\n"
    "  php:\n"
    "    build: ./php\n"
    "    image: alex88otus/php:0.1\n"
)


def test_a_built_service_runs_its_dockerfile_not_its_image_name(tmp_path: Path) -> None:
    compose = write(tmp_path, "docker-compose.yml", BUILT_SERVICE)
    write(tmp_path, "nginx/Dockerfile", "FROM nginx:1.27.3-alpine\n")
    write(tmp_path, "php/Dockerfile", "FROM php:8.3-fpm\n")
    (image,) = nginx_images(compose)
    assert image.evidence.what == "FROM nginx:1.27.3-alpine"
    assert image.evidence.path == tmp_path / "nginx" / "Dockerfile" and image.evidence.line == 1
    assert versions(compose) == ((1, 27, 3), (1, 27, 4))
    # build: {context, dockerfile}, the file named relative to the context
    mapped = write(
        tmp_path,
        "m/compose.yaml",
        "services:\n"
        "  web:\n"
        "    image: registry.example.com/prod/nginx:${TAG}\n"
        "    build:\n"
        "      context: ./docker\n"
        "      dockerfile: web.Dockerfile\n"
        "      args: {A: b}\n",
    )
    write(tmp_path, "m/docker/web.Dockerfile", "FROM node:20 AS assets\nFROM nginx:1.25-alpine\n")
    assert versions(mapped) == ((1, 25, 0), (1, 26, 0))


def test_a_built_service_whose_dockerfile_tells_nothing_is_unknown(tmp_path: Path) -> None:
    missing = write(
        tmp_path,
        "a/compose.yaml",
        "services:\n  web:\n    build: ./web\n    image: 172.22.109.126/my-rep/nginx:1.0.0\n",
    )
    (image,) = nginx_images(missing)  # the Dockerfile is not there: which nginx is unknown
    assert image.low is None and image.evidence.line == 4
    remote = write(
        tmp_path,
        "b/compose.yaml",
        "services:\n  web:\n    image: nginx:1.25.3\n"
        "    build:\n      context: https://github.com/example/web.git\n",
    )
    assert versions(remote) == (None, None)
    packaged = write(
        tmp_path, "c/compose.yaml", "services:\n  web:\n    build: .\n    image: example/nginx:2.0\n"
    )
    write(tmp_path, "c/Dockerfile", "FROM debian:12\nRUN apt-get install -y nginx\n")
    assert versions(packaged) == (None, None)  # nginx from Debian's package: its version unknown
    # A built image that is not named nginx, from no nginx image: nothing about nginx.
    other = write(
        tmp_path, "d/compose.yaml", "services:\n  api:\n    build: ./api\n    image: nginx-api:1.2\n"
    )
    write(tmp_path, "d/api/Dockerfile", "FROM python:3.12\n")
    assert nginx_images(other) == []


def test_a_built_service_in_a_check(tmp_path: Path) -> None:
    """The tester's repository: no false NGX004 (keepalive "appeared in 1.1.4: nginx 0.1.x
    refuses to start") or NGX305 on `http2 on;`, which 1.27.3 reads."""
    result = check_files(
        tmp_path,
        {
            "docker-compose.yml": BUILT_SERVICE,
            "nginx/Dockerfile": "FROM nginx:1.27.3-alpine\n",
            "cfg/etc/nginx/conf.d/default.conf": SERVICE_CONF,
        },
        {"select": ["NGX004", "NGX305"]},
    )
    (config,) = result.workspace.nginx
    assert result.workspace.nginx_declared_for(config).exact == (1, 27, 3)
    assert [f.code for f in result.findings] == []


# --- Whose nginx an image is: the tag is nginx's release only in nginx's own
# repositories; another product's or project's `.../nginx` runs an nginx of its own. ---


@pytest.mark.parametrize(
    ("reference", "low"),
    [
        ("nginx:1.27.3", (1, 27, 3)),
        ("docker.io/library/nginx:1.27.3", (1, 27, 3)),
        ("mirror.gcr.io/nginx:1.27.3", (1, 27, 3)),  # a mirror of Docker Hub's
        ("harbor.example.com/dockerhub/library/nginx:1.27.3", (1, 27, 3)),
        ("public.ecr.aws/nginx/nginx:1.27.3", (1, 27, 3)),
        ("nginxinc/nginx-unprivileged:1.27.3-alpine", (1, 27, 3)),
        ("ghcr.io/nginx/nginx-unprivileged:1.27.3", (1, 27, 3)),
        ("bitnami/nginx:1.27.3-debian-12-r0", (1, 27, 3)),
        ("harbor.example.com/proxy/bitnami/nginx:1.27.3", (1, 27, 3)),
        ("ubuntu/nginx:1.24-24.04_beta", (1, 24, 0)),
        ("${REGISTRY}/nginx:1.27.3", (1, 27, 3)),  # a templated registry
        # Other products' and projects' builds: their own release numbers.
        ("ghcr.io/nginxinc/nginx-gateway-fabric/nginx:1.5.1", None),
        ("ghcr.io/nginx/nginx-gateway-fabric/nginx:2.2.0", None),
        ("registry.gitlab.com/group/project/nginx:1.0", None),
        ("alex88otus/nginx:0.1", None),
        ("172.22.109.126/my-rep/nginx:1.0.0", None),
        ("harbor.example.com/proxy/nginx:1.27.3", None),  # a mirror's project, or a build?
    ],
)
def test_whose_nginx_an_image_is(tmp_path: Path, reference: str, low: object) -> None:
    compose = write(tmp_path, "compose.yaml", f"services:\n  web:\n    image: {reference}\n")
    (image,) = nginx_images(compose)  # every one runs nginx: it stops the search
    assert image.low == low


def test_nginx_gateway_fabric_values(tmp_path: Path) -> None:
    values = write(
        tmp_path,
        "deploy/values.yaml",
        "nginxGateway:\n"
        "  image:\n"
        "    repository: ghcr.io/nginxinc/nginx-gateway-fabric\n"
        "    tag: 1.5.1\n"
        "nginx:\n"
        "  image:\n"
        "    repository: ghcr.io/nginxinc/nginx-gateway-fabric/nginx\n"
        "    tag: 1.5.1\n"
        "    pullPolicy: Always\n"
        "  plus: false\n",
    )
    (image,) = nginx_images(values)  # the data plane; the control plane is no nginx
    assert image.evidence.line == 7 and image.low is None
    flow = write(
        tmp_path,
        "b/values.yaml",
        "nginx:\n  image: {repository: ghcr.io/nginx/nginx-gateway-fabric/nginx, tag: 2.2.0}\n",
    )
    assert versions(flow) == (None, None)
    assert versions(write(tmp_path, "c/values.yaml", "image: {repository: nginx, tag: 1.26.2}\n")) == (
        (1, 26, 2),
        (1, 26, 3),
    )


# --- Helm: an empty or missing tag runs the chart's appVersion (helm create's
# `{{ .Values.image.tag | default .Chart.AppVersion }}`). ---


def test_helm_empty_or_missing_tag(tmp_path: Path) -> None:
    empty = write(
        tmp_path, "a/values.yaml", 'image:\n  repository: nginx\n  tag: ""\n  pullPolicy: IfNotPresent\n'
    )
    (image,) = nginx_images(empty)
    assert image.low is None and image.evidence.line == 2  # no Chart.yaml: unknown
    missing = write(tmp_path, "b/values.yaml", "image:\n  repository: nginx\n  pullPolicy: IfNotPresent\n")
    assert [i.low for i in nginx_images(missing)] == [None]
    scaffold = write(tmp_path, "c/values.yaml", 'image:\n  repository: nginx\n  tag: ""\n')
    write(
        tmp_path,
        "c/Chart.yaml",
        'apiVersion: v2\nname: web\ntype: application\nversion: 0.1.0\nappVersion: "1.16.0"\n',
    )
    (image,) = nginx_images(scaffold)
    assert (image.low, image.high) == ((1, 16, 0), (1, 16, 1))
    assert image.evidence.path == tmp_path / "c" / "Chart.yaml" and image.evidence.line == 5
    assert "appVersion" in image.evidence.what
    # Each document of a stream is its own: the second's image has no tag.
    stream = write(tmp_path, "s/values.yaml", "repository: nginx\ntag: 1.25.3\n---\nrepository: nginx\n")
    assert [i.low for i in nginx_images(stream)] == [(1, 25, 3), None]
    # A chart dependency names a chart repository, not an image.
    chart = write(
        tmp_path,
        "d/Chart.yaml",
        "apiVersion: v2\nname: site\ndependencies:\n  - name: nginx\n    version: 15.0.0\n"
        "    repository: oci://registry-1.docker.io/bitnamicharts/nginx\n",
    )
    assert nginx_images(chart) == []


def test_an_empty_helm_tag_stops_the_search(tmp_path: Path) -> None:
    result = check_files(
        tmp_path,
        {
            "e/compose.yaml": "services:\n  web:\n    image: nginx:1.21.6\n",
            "e/sub/values.yaml": 'image:\n  repository: nginx\n  tag: ""\n',
            "e/sub/nginx.conf": "events {}\nhttp {\n    server {\n        listen 80;\n    }\n}\n",
        },
    )
    (config,) = result.workspace.nginx
    assert result.workspace.nginx_declared_for(config).low is None


# --- Dockerfile: `FROM <name>` names an earlier stage of that name first. ---


def test_from_an_earlier_stage(tmp_path: Path) -> None:
    staged = write(
        tmp_path,
        "Dockerfile",
        "FROM nginx:1.19-alpine AS nginx\n"
        "COPY docker/nginx.conf /etc/nginx/nginx.conf\n"
        "\n"
        "FROM nginx AS nginx-dev\n"
        "RUN apk add --no-cache curl\n",
    )
    assert versions(staged) == ((1, 19, 0), (1, 20, 0))
    # Not a stage yet: `FROM nginx AS nginx` is Docker Hub's image, which moves.
    first = write(tmp_path, "b/Dockerfile", "FROM nginx AS nginx\nFROM NGINX\n")
    assert versions(first) == (None, None)
    # A stage called nginx that is no nginx image runs none.
    other = write(tmp_path, "c/Dockerfile", "FROM node:20 AS Nginx\nFROM nginx\n")
    assert nginx_images(other) == []


# --- nginx's forks: OpenResty, Angie, Tengine, NGINX Plus run an nginx core whose release
# their tag does not name (OpenResty's own image aside: X.Y.Z.N runs nginx X.Y.Z). ---


@pytest.mark.parametrize(
    ("reference", "low"),
    [
        ("openresty/openresty:1.21.4.3-alpine", (1, 21, 4)),
        ("openresty/openresty:1.25.3.1-0-jammy", (1, 25, 3)),
        ("docker.io/openresty/openresty:1.27.1.2", (1, 27, 1)),
        ("openresty/openresty:alpine", None),
        ("openresty/openresty:1.25", None),  # not OpenResty's X.Y.Z.N
        ("bitnami/openresty:1.25.3-1", None),  # Bitnami's own numbering
        ("docker.angie.software/angie:1.9.0-alpine", None),  # Angie's numbers, not nginx's
        ("axizdkr/tengine:3.1.0", None),
        ("private-registry.nginx.com/nginx-plus/base:r31", None),
        ("registry.example.com/nginx-plus:r32", None),
        ("macbre/nginx-http3:1.27.0", None),
    ],
)
def test_a_fork_image_runs_nginx_of_its_core_or_unknown(tmp_path: Path, reference: str, low: object) -> None:
    compose = write(tmp_path, "compose.yaml", f"services:\n  web:\n    image: {reference}\n")
    (image,) = nginx_images(compose)  # nginx runs there: it stops the search
    assert image.low == low
    # Beside Docker Hub's nginx (another service), the union: unknown unless the core is known.
    write(
        tmp_path,
        "compose.yaml",
        f"services:\n  gw:\n    image: {reference}\n  static:\n    image: nginx:1.27.3\n",
    )
    assert versions(compose)[0] == low


def test_a_fork_dockerfile_names_no_nginx(tmp_path: Path) -> None:
    """``FROM openresty/openresty`` alone (no "nginx" in the file) is still read."""
    dockerfile = write(tmp_path, "proxy/Dockerfile", "FROM openresty/openresty:1.21.4.3-alpine\n")
    assert versions(dockerfile) == ((1, 21, 4), (1, 21, 5))
    tengine = write(tmp_path, "t/Dockerfile", "FROM axizdkr/tengine:3.1.0\n")
    (image,) = nginx_images(tengine)
    assert image.low is None


FORK_CONF = (
    "events {}\n"
    "http {\n"
    "    ssl_session_cache shared:SSL:10m;\n"
    "    server {\n"
    "        listen 443 ssl http2;\n"
    "        server_name a.example.com;\n"
    "        ssl_certificate /etc/ssl/c.pem;\n"
    "        ssl_certificate_key /etc/ssl/k.pem;\n"
    "    }\n"
    "}\n"
)


@pytest.mark.parametrize("gateway", ["openresty/openresty:1.21.4.3-alpine", "axizdkr/tengine:3.1.0"])
def test_a_sibling_nginx_image_does_not_decide_for_a_fork(tmp_path: Path, gateway: str) -> None:
    """The tester's compose file: the gateway's nginx (OpenResty's 1.21.4 core, or
    Tengine's unknown one) cannot be judged by the static service's nginx:1.27.3, so no
    safe fix writes `http2 on;`, which nginx before 1.25.1 refuses."""
    compose = f"services:\n  gateway:\n    image: {gateway}\n  static:\n    image: nginx:1.27.3-alpine\n"
    write(tmp_path, "docker-compose.yml", compose)
    conf = write(tmp_path, "nginx.conf", FORK_CONF)
    done = cli(tmp_path, "--fix", "--select", "NGX305", "nginx.conf")
    assert done.returncode == 0, done.stdout + done.stderr
    assert conf.read_text(encoding="utf-8") == FORK_CONF
    assert "http2 on" not in done.stdout


def test_a_setting_is_checked_against_a_fork_image(tmp_path: Path) -> None:
    """NGX004 reads OpenResty's core release like any image's, and an unknown fork image
    beside another service's nginx blames neither."""
    result = check_files(
        tmp_path,
        {"proxy/Dockerfile": "FROM openresty/openresty:1.21.4.3\n", "proxy/nginx.conf": FORK_CONF},
        {"select": ["NGX004"], "nginx": {"version": "1.27.3"}},
    )
    assert [f.code for f in result.findings] == ["NGX004"]
    assert "openresty/openresty:1.21.4.3" in result.findings[0].message
    result = check_files(
        tmp_path,
        {
            "proxy/Dockerfile": "FROM axizdkr/tengine:3.1.0\n",
            "proxy/compose.yaml": "services:\n  static:\n    image: nginx:1.27.3\n",
        },
        {"select": ["NGX004"], "nginx": {"version": "1.21.4"}},
    )
    assert [f.code for f in result.findings] == []
