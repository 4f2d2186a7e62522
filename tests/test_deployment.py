"""The nginx version that deployment files in scope declare (tlslint.deployment):
Dockerfile/Containerfile FROM lines, compose and Kubernetes `image:`, Helm values
`repository`/`tag`. Hand-written in the shapes those files have."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import check_files

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
