"""nginx upstreams linked to the app servers of docker-compose services by service name,
container_name, hostname and network aliases (tlslint.sources.python.compose)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.findings import Finding, Severity
from tlslint.fixing import apply_fixes

UPSTREAM = """\
events {{}}
http {{
    upstream app {{
        server {server};
{extra}    }}
    server {{
        listen 80;
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""
UVICORN = 'FROM python:3.12-slim\nCMD ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]\n'
SETTINGS: dict[str, Any] = {"nginx": {"version": "1.22"}, "select": ["BKD"]}


def nginx(server: str = "api:8000", extra: str = "        keepalive 16;\n") -> str:
    return UPSTREAM.format(server=server, extra=extra)


def bkd101(tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None) -> list[Finding]:
    found = check_files(tmp_path, files, {**SETTINGS, **(mapping or {})}).findings
    return [f for f in found if f.code == "BKD101"]


BUILD_API = "services:\n  api:\n    build: ./api\n"


@pytest.mark.parametrize(
    ("compose", "server", "linked"),
    [
        (BUILD_API, "api:8000", True),
        (BUILD_API, "API:8000", True),  # DNS names are not case-sensitive
        (
            "services:\n  api:\n    build:\n      context: .\n      dockerfile: api/Dockerfile\n",
            "api:8000",
            True,
        ),
        ("services:\n  api:\n    build:\n      context: ./api\n", "api:8000", True),
        (BUILD_API + "    container_name: backend\n", "backend:8000", True),
        (BUILD_API + "    hostname: app-host\n", "app-host:8000", True),
        (BUILD_API + "    networks:\n      web:\n        aliases: [fastapi]\n", "fastapi:8000", True),
        # ports: publishes 8080 on the host; another container still connects to 8000
        (BUILD_API + '    ports:\n      - "8080:8000"\n', "api:8080", False),
        (BUILD_API + '    ports:\n      - "8080:8000"\n', "api:8000", True),
        (BUILD_API, "api:8001", False),
        (BUILD_API, "web:8000", False),
        (BUILD_API + "    container_name: ${NAME}\n", "${NAME}:8000", False),  # templated
        (BUILD_API + "    network_mode: host\n", "api:8000", False),
        ("services:\n  api:\n    build:\n      context: ./api\n      target: dev\n", "api:8000", False),
        (BUILD_API + "    environment:\n      UVICORN_PORT: '9000'\n", "api:8000", False),
        (BUILD_API + "    environment:\n      - PORT=9000\n", "api:8000", False),
        # its own command overrides the Dockerfile's CMD
        (BUILD_API + "    command: celery -A tasks worker\n", "api:8000", False),
        ("services:\n  api:\n    image: example/api:1.0\n", "api:8000", False),  # no Dockerfile in scope
    ],
)
def test_linking_by_compose_name(tmp_path: Path, compose: str, server: str, linked: bool) -> None:
    files = {"nginx/nginx.conf": nginx(server), "docker-compose.yml": compose, "api/Dockerfile": UVICORN}
    assert bool(bkd101(tmp_path, files)) is linked


@pytest.mark.parametrize(
    ("command", "linked"),
    [
        ("command: gunicorn -k gthread -b 0.0.0.0:8000 app:app", True),
        ('command: ["gunicorn", "-k", "gthread", "--bind", "0.0.0.0:8000", "app:app"]', True),
        ("command:\n      - uvicorn\n      - main:app\n      - --host\n      - 0.0.0.0", True),
        ('command: sh -c "python manage.py migrate && gunicorn -k gevent -b 0.0.0.0:8000 app.wsgi"', True),
        ("command: uvicorn main:app --port 8000", False),  # 127.0.0.1: no other container reaches it
        ("command: gunicorn -k gthread -b 127.0.0.1:8000 app:app", False),
        ("command: gunicorn -k gthread -b 0.0.0.0:${PORT} app:app", False),  # compose fills it in
    ],
)
def test_a_compose_command_starts_the_backend(tmp_path: Path, command: str, linked: bool) -> None:
    compose = f"services:\n  api:\n    image: python:3.12\n    {command}\n"
    files = {"nginx/nginx.conf": nginx(), "docker-compose.yml": compose}
    assert bool(bkd101(tmp_path, files)) is linked


def test_a_name_of_two_services_links_nothing(tmp_path: Path) -> None:
    files = {
        "nginx/nginx.conf": nginx("backend:8000"),
        "docker-compose.yml": (
            "services:\n"
            "  api:\n    build: ./api\n    networks:\n      default:\n        aliases: [backend]\n"
            "  admin:\n    build: ./api\n    networks:\n      default:\n        aliases: [backend]\n"
        ),
        "api/Dockerfile": UVICORN,
    }
    assert bkd101(tmp_path, files) == []
    files["nginx/nginx.conf"] = nginx("api:8000")
    assert len(bkd101(tmp_path, files)) == 1


def test_one_service_name_in_two_projects_links_nothing(tmp_path: Path) -> None:
    files = {
        "nginx/nginx.conf": nginx(),
        "one/docker-compose.yml": "services:\n  api:\n    build: .\n",
        "one/Dockerfile": UVICORN,
        "two/docker-compose.yml": "services:\n  api:\n    build: .\n",
        "two/Dockerfile": UVICORN,
    }
    assert bkd101(tmp_path, files) == []


def test_one_service_in_two_files_of_a_project_is_one_service(tmp_path: Path) -> None:
    files = {
        "nginx/nginx.conf": nginx(),
        "docker-compose.yml": BUILD_API,
        "docker-compose.prod.yml": (
            "services:\n  api:\n    command: gunicorn -k gthread -b 0.0.0.0:8000 app:app\n"
        ),
        "api/Dockerfile": UVICORN,
    }
    found = bkd101(tmp_path, files)
    assert sorted(f.message.split(" closes ")[0].rsplit("but ", 1)[1] for f in found) == [
        "gunicorn (compose api command)",
        "uvicorn (Dockerfile CMD)",
    ]


def test_the_finding_names_the_service_and_both_places(tmp_path: Path) -> None:
    files = {"nginx/nginx.conf": nginx(), "docker-compose.yml": BUILD_API, "api/Dockerfile": UVICORN}
    (finding,) = bkd101(tmp_path, files)
    assert finding.severity is Severity.ERROR
    assert (finding.location.path.name, finding.location.line) == ("nginx.conf", 5)  # keepalive 16;
    assert "uvicorn (Dockerfile CMD) closes them after 5s" in finding.message
    notes = {(r.location.path.name, r.location.line): r.message for r in finding.related}
    assert notes[("Dockerfile", 2)] == "uvicorn listens here, with the default --timeout-keep-alive (5s)"
    assert notes[("nginx.conf", 4)] == (
        "reaches uvicorn as compose service api (docker-compose.yml), which listens on 0.0.0.0:8000 "
        "inside its container"
    )
    assert finding.fix is not None and "keepalive_timeout 4s" in finding.fix.description


def test_a_service_whose_image_runs_an_entrypoint_script(tmp_path: Path) -> None:
    """The most common image: ENTRYPOINT runs a script that execs gunicorn. The service's
    names reach the script's server as they reach one the Dockerfile's CMD starts."""
    files = {
        "nginx/nginx.conf": nginx(),
        "docker-compose.yml": BUILD_API,
        "api/Dockerfile": 'FROM python:3.12-slim\nCOPY start.sh /usr/local/bin/\nENTRYPOINT ["start.sh"]\n',
        "api/start.sh": "#!/bin/sh\nexec gunicorn app:app -b 0.0.0.0:8000 -k gthread --keep-alive 2\n",
    }
    (finding,) = bkd101(tmp_path, files)
    assert "gunicorn (Dockerfile ENTRYPOINT runs start.sh) closes them after 2s" in finding.message
    notes = {(r.location.path.name, r.location.line): r.message for r in finding.related}
    assert notes[("nginx.conf", 4)].startswith("reaches gunicorn as compose service api (docker-compose.yml)")
    # Without the compose file nothing says the script's server answers to `api`.
    del files["docker-compose.yml"]
    assert bkd101(tmp_path / "alone", files) == []


def test_a_compose_file_out_of_scope_is_not_read(tmp_path: Path) -> None:
    files = {"nginx/nginx.conf": nginx(), "docker-compose.yml": BUILD_API, "api/Dockerfile": UVICORN}
    assert bkd101(tmp_path, files)
    result = run([tmp_path / "nginx", tmp_path / "api"], settings_for(tmp_path, SETTINGS))
    assert [f.code for f in result.findings if f.code == "BKD101"] == []


def test_invalid_compose_yaml_is_quiet(tmp_path: Path) -> None:
    files = {"nginx/nginx.conf": nginx(), "docker-compose.yml": "services:\n  api: [\n    build: x\n"}
    result = check_files(tmp_path, files, SETTINGS)
    assert result.findings == []


# --------------------------------------------------------------------------- fixes


def fixed_twice(
    tmp_path: Path, files: dict[str, str], mapping: dict[str, Any], unsafe: bool
) -> dict[str, str]:
    """Write ``files``, --fix them, and --fix again: the second run changes nothing."""
    result = check_files(tmp_path, files, mapping)
    settings = settings_for(tmp_path, mapping)
    apply_fixes(result, settings, unsafe=unsafe, write=True)
    after = {name: (tmp_path / name).read_bytes().decode("utf-8") for name in files}
    apply_fixes(run([tmp_path], settings), settings, unsafe=unsafe, write=True)
    assert {name: (tmp_path / name).read_bytes().decode("utf-8") for name in files} == after
    assert run([tmp_path], settings).findings == []
    return after


def test_ngx210_adds_keepalive_with_a_timeout_below_the_services(tmp_path: Path) -> None:
    files = {"nginx/nginx.conf": nginx(extra=""), "docker-compose.yml": BUILD_API, "api/Dockerfile": UVICORN}
    mapping: dict[str, Any] = {"nginx": {"version": "1.22"}, "select": ["NGX210", "NGX211", "BKD101"]}
    assert [f.code for f in check_files(tmp_path, files, mapping).findings] == ["NGX210"]
    after = fixed_twice(tmp_path, files, mapping, unsafe=False)
    assert "        keepalive 32;\n        keepalive_timeout 4s;\n    }" in after["nginx/nginx.conf"]
    assert after["docker-compose.yml"] == files["docker-compose.yml"]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (
            "command: gunicorn -k gthread --keep-alive 2 -b 0.0.0.0:8000 app:app  # web",
            "command: gunicorn -k gthread --keep-alive 65 -b 0.0.0.0:8000 app:app  # web",
        ),
        (
            "command: gunicorn -k gthread -b 0.0.0.0:8000 app:app",
            "command: gunicorn --keep-alive 65 -k gthread -b 0.0.0.0:8000 app:app",
        ),
        (
            'command: ["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000"]',
            'command: ["uvicorn", "--timeout-keep-alive", "65", "main:app", "--host", "0.0.0.0", '
            '"--port", "8000"]',
        ),
        (
            'command: ["uvicorn", "main:app", "--host", "0.0.0.0", "--timeout-keep-alive", "5"]',
            'command: ["uvicorn", "main:app", "--host", "0.0.0.0", "--timeout-keep-alive", "65"]',
        ),
    ],
)
def test_the_backend_side_fix_edits_the_compose_command(tmp_path: Path, command: str, expected: str) -> None:
    compose = f"services:\n  api:\n    image: python:3.12\n    {command}\n    restart: always\n"
    files = {"nginx/nginx.conf": nginx(), "docker-compose.yml": compose}
    mapping: dict[str, Any] = {**SETTINGS, "rules": {"BKD101": {"fix-side": "backend"}}}
    after = fixed_twice(tmp_path, files, mapping, unsafe=True)
    assert after["docker-compose.yml"] == compose.replace(command, expected)
    assert after["nginx/nginx.conf"] == files["nginx/nginx.conf"]


def test_a_block_list_command_gets_the_nginx_side(tmp_path: Path) -> None:
    """A new flag cannot follow an item of a block list in place: nginx's side is the fix."""
    compose = (
        "services:\n  api:\n    image: python:3.12\n"
        "    command:\n      - uvicorn\n      - main:app\n      - --host\n      - 0.0.0.0\n"
    )
    files = {"nginx/nginx.conf": nginx(), "docker-compose.yml": compose}
    mapping: dict[str, Any] = {**SETTINGS, "rules": {"BKD101": {"fix-side": "backend"}}}
    after = fixed_twice(tmp_path, files, mapping, unsafe=True)
    assert after["docker-compose.yml"] == compose
    assert "keepalive_timeout 4s;" in after["nginx/nginx.conf"]


SHARED_COMMAND = """\
x-common: &cmd
  image: myapp
  command: uvicorn app:app --host 0.0.0.0 --timeout-keep-alive 5
services:
  api:
    <<: *cmd
  worker:
    <<: *cmd
"""


@pytest.mark.parametrize(
    "compose",
    [
        SHARED_COMMAND,
        # the command scalar itself aliased, and a flow-list command merged in
        "services:\n  api:\n    image: myapp\n    command: &run uvicorn app:app --host 0.0.0.0"
        " --timeout-keep-alive 5\n  worker:\n    image: myapp\n    command: *run\n",
        SHARED_COMMAND.replace(
            "uvicorn app:app --host 0.0.0.0 --timeout-keep-alive 5",
            '["uvicorn", "app:app", "--host", "0.0.0.0", "--timeout-keep-alive", "5"]',
        ),
    ],
)
def test_a_command_shared_through_yaml_is_not_edited(tmp_path: Path, compose: str) -> None:
    """The backend-side fix rewrote the anchor's `command`, which changed `worker` too: a
    command reached through an alias or merge key is read, not edited, and nginx's side is
    the fix (BKD101's fallback), with the reason in the note."""
    files = {
        "nginx/app.conf": "upstream app { server api:8000; keepalive 16; }\n",
        "docker-compose.yml": compose,
    }
    mapping: dict[str, Any] = {**SETTINGS, "rules": {"BKD101": {"fix-side": "backend"}}}
    (finding,) = bkd101(tmp_path / "check", files, mapping)  # worker is not reached by `api`
    assert "compose api command" in finding.message
    assert (
        "not edited in docker-compose.yml" in finding.fix_note
        and "shared with service worker" in finding.fix_note
    )
    after = fixed_twice(tmp_path / "fix", files, mapping, unsafe=True)
    assert after["docker-compose.yml"] == compose
    assert (
        after["nginx/app.conf"] == "upstream app { server api:8000; keepalive 16; keepalive_timeout 4s; }\n"
    )


def test_a_command_merged_into_one_service_is_still_not_edited(tmp_path: Path) -> None:
    """Edited at the anchor, a command changes every place that merges it; that only one
    service merges it here is not proved, so it is not edited either (the note has no
    other service to name)."""
    compose = SHARED_COMMAND.replace("  worker:\n    <<: *cmd\n", "")
    files = {
        "nginx/app.conf": "upstream app { server api:8000; keepalive 16; }\n",
        "docker-compose.yml": compose,
    }
    mapping: dict[str, Any] = {**SETTINGS, "rules": {"BKD101": {"fix-side": "backend"}}}
    (finding,) = bkd101(tmp_path, files, mapping)
    assert finding.fix is not None and finding.fix.edits[0].path.name == "app.conf"
    assert "through a YAML alias or merge key: an edit there" in finding.fix_note


def test_bkd103_for_a_compose_command_asks_for_the_address_on_the_command(tmp_path: Path) -> None:
    """[[backends]] reads no YAML: the advice is the command line, not the settings."""
    compose = "services:\n  api:\n    image: python:3.12\n    command: gunicorn -b 0.0.0.0:${PORT} app:app\n"
    found = check_files(tmp_path, {"nginx/nginx.conf": nginx(), "docker-compose.yml": compose}, SETTINGS)
    (finding,) = [f for f in found.findings if f.code == "BKD103"]
    assert finding.location.path.name == "docker-compose.yml"
    assert finding.message.endswith(
        "write the address on the service's command: line (--bind, or --host and --port)"
    )


IMPLICIT = """\
events {}
http {
    server {
        listen 80;
        location / {
            proxy_pass http://api:8000;
        }
    }
}
"""


def test_ngx212_declares_the_upstream_with_a_timeout_below_the_services(tmp_path: Path) -> None:
    """One unsafe fix: the new upstream keeps connections without starting BKD101's race
    (nginx's 60s default in front of uvicorn's 5s), and the result is valid nginx."""
    from nginx_harness import nginx_t

    files = {"nginx/nginx.conf": IMPLICIT, "docker-compose.yml": BUILD_API, "api/Dockerfile": UVICORN}
    mapping: dict[str, Any] = {"nginx": {"version": "1.22"}, "select": ["NGX21", "BKD101"]}
    (finding,) = check_files(tmp_path, files, mapping).findings
    assert finding.code == "NGX212" and finding.fix is not None
    assert "keepalive_timeout 4s below uvicorn's idle timeout of 5s" in finding.fix.description
    after = fixed_twice(tmp_path, files, mapping, unsafe=True)["nginx/nginx.conf"]
    assert "    upstream api_8000 {\n        server api:8000;\n        keepalive 32;\n" in after
    assert "        keepalive_timeout 4s;\n    }\n" in after
    result = nginx_t(after)
    assert result.ok and not result.errors, result.describe()


def test_ngx212_without_a_linked_service_keeps_nginxs_default_timeout(tmp_path: Path) -> None:
    files = {"nginx/nginx.conf": IMPLICIT.replace("api:8000", "api:8001"), "docker-compose.yml": BUILD_API}
    files["api/Dockerfile"] = UVICORN
    mapping: dict[str, Any] = {"nginx": {"version": "1.22"}, "select": ["NGX21", "BKD101"]}
    after = fixed_twice(tmp_path, files, mapping, unsafe=True)["nginx/nginx.conf"]
    assert "keepalive 32;" in after and "keepalive_timeout" not in after
