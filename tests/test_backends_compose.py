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
# An image whose working directory holds the build context, with no gunicorn.conf.py: a
# gunicorn its compose command starts runs with gunicorn's defaults.
IMAGE = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n"


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
        # the environment applies as compose sets it: uvicorn's --port 8000 wins over
        # UVICORN_PORT (click), and uvicorn reads no PORT; without --port, UVICORN_PORT moves it
        (BUILD_API + "    environment:\n      UVICORN_PORT: '9000'\n", "api:8000", True),
        (BUILD_API + "    environment:\n      - PORT=9000\n", "api:8000", True),
        (
            BUILD_API.replace("./api", "./bare") + "    environment:\n      UVICORN_PORT: '9000'\n",
            "api:9000",
            True,
        ),
        (
            BUILD_API.replace("./api", "./bare") + "    environment:\n      UVICORN_PORT: '9000'\n",
            "api:8000",
            False,
        ),
        # its own command overrides the Dockerfile's CMD
        (BUILD_API + "    command: celery -A tasks worker\n", "api:8000", False),
        ("services:\n  api:\n    image: example/api:1.0\n", "api:8000", False),  # no Dockerfile in scope
    ],
)
def test_linking_by_compose_name(tmp_path: Path, compose: str, server: str, linked: bool) -> None:
    bare = 'FROM python:3.12-slim\nENV UVICORN_HOST=0.0.0.0\nCMD ["uvicorn", "main:app"]\n'
    files = {
        "nginx/nginx.conf": nginx(server),
        "docker-compose.yml": compose,
        "api/Dockerfile": UVICORN,
        "bare/Dockerfile": bare,
    }
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
    compose = f"services:\n  api:\n    build: ./api\n    {command}\n"
    files = {"nginx/nginx.conf": nginx(), "docker-compose.yml": compose, "api/Dockerfile": IMAGE}
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
        "api/Dockerfile": IMAGE + UVICORN.split("\n", 1)[1],  # the build is the other file's
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
    compose = f"services:\n  api:\n    build: ./api\n    {command}\n    restart: always\n"
    files = {"nginx/nginx.conf": nginx(), "docker-compose.yml": compose, "api/Dockerfile": IMAGE}
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


# --------------------------------------------------------------------------- found by a tester

K5_COMPOSE = (
    "services:\n  api:\n    build: ./api\n    command: gunicorn app:app -b 0.0.0.0:8000\n"
    "  web:\n    image: nginx:1.27\n"
)
K5_IMAGE = (
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install gunicorn\n"
    'CMD ["gunicorn", "app:app", "-b", "0.0.0.0:8000"]\n'
)
K5_CONFIG = 'worker_class = "gthread"\nthreads = 4\nkeepalive = {keepalive}\n'


def k5(keepalive: int = 75, **changes: str) -> dict[str, str]:
    files = {
        "nginx/nginx.conf": nginx(),
        "docker-compose.yml": K5_COMPOSE,
        "api/Dockerfile": K5_IMAGE,
        "api/gunicorn.conf.py": K5_CONFIG.format(keepalive=keepalive),
    }
    return {**files, **changes}


def test_a_compose_command_reads_the_config_its_image_holds(tmp_path: Path) -> None:
    """k5: gunicorn reads ./gunicorn.conf.py from its working directory, the image's WORKDIR
    /app, where COPY . . put the build context's (api/): gthread, keepalive 75 > 60s."""
    assert check_files(tmp_path, k5(), SETTINGS).findings == []
    [race] = bkd101(tmp_path / "short", k5(keepalive=5))
    assert "gunicorn (compose api command, reads api/gunicorn.conf.py by default) closes them after 5s" in (
        race.message
    )
    assert "(keepalive = 5)" in race.message
    notes = {(r.location.path.as_posix().rsplit("/", 2)[-2:][0], r.location.line) for r in race.related}
    assert ("api", 3) in notes  # api/gunicorn.conf.py, keepalive = 5


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # a bind mount over the working directory: its host directory holds the file
        (
            {
                "docker-compose.yml": K5_COMPOSE.replace(
                    "    command:", "    working_dir: /srv\n    volumes:\n      - ./api:/srv:ro\n    command:"
                ),
                "api/Dockerfile": "FROM python:3.12-slim\n",
            },
            "reads api/gunicorn.conf.py by default",
        ),
        # COPY gunicorn.conf.py into the WORKDIR by name
        (
            {"api/Dockerfile": "FROM python\nWORKDIR /app\nCOPY requirements.txt gunicorn.conf.py ./\n"},
            "reads api/gunicorn.conf.py by default",
        ),
        # the image holds no gunicorn.conf.py: the defaults are what runs (the sync worker)
        (
            {"api/Dockerfile": "FROM python\nWORKDIR /app\nCOPY app/ ./app/\n"},
            "BKD102:gunicorn (compose api command) runs gunicorn's sync worker (the default worker class",
        ),
        (
            {"api/.dockerignore": "*.md\ngunicorn.conf.py\n"},
            "BKD102:gunicorn (compose api command) runs gunicorn's sync worker (the default worker class",
        ),
        # nothing tells what is there: unknown, never the defaults
        (
            {"docker-compose.yml": K5_COMPOSE.replace("build: ./api", "image: example/api:1.0")},
            "BKD103:its worker class may be set in ./gunicorn.conf.py, which gunicorn reads by default "
            "from its working directory: its working directory is the image example/api:1.0's, which "
            "tlslint cannot read",
        ),
        (
            {"api/Dockerfile": "FROM python:3.12-slim\nCOPY . /app\n"},
            "BKD103:Dockerfile sets no WORKDIR: its working directory is its base image's",
        ),
        (
            {
                "api/Dockerfile": (
                    "FROM python AS build\nFROM python\nWORKDIR /app\nCOPY --from=build /src /app\n"
                )
            },
            "BKD103:(/app/gunicorn.conf.py in the container): /app/gunicorn.conf.py may be copied by "
            "Dockerfile line 4 from --from=build",
        ),
        (
            {
                "docker-compose.yml": K5_COMPOSE.replace(
                    "    command:", "    volumes:\n      - code:/app\n    command:"
                )
            },
            "BKD103:/app is the volume code, whose files tlslint cannot see",
        ),
    ],
    ids=[
        "bind-mount",
        "copied-by-name",
        "not-copied",
        "dockerignored",
        "image",
        "no-workdir",
        "from-stage",
        "volume",
    ],
)
def test_where_the_implicit_config_comes_from(tmp_path: Path, changes: dict[str, str], expected: str) -> None:
    files = k5(keepalive=5, **changes)
    found = [f for f in check_files(tmp_path, files, SETTINGS).findings if f.code.startswith("BKD")]
    code, text = expected.split(":", 1) if expected.startswith("BKD") else ("BKD101", expected)
    assert [f.code for f in found] == [code], found
    assert text in found[0].message, found[0].message


def test_a_relative_config_is_read_from_the_working_directory(tmp_path: Path) -> None:
    compose = K5_COMPOSE.replace("-b 0.0.0.0:8000", "-b 0.0.0.0:8000 -c conf/gunicorn.py")
    files = k5(**{"docker-compose.yml": compose, "api/conf/gunicorn.py": K5_CONFIG.format(keepalive=5)})
    [race] = bkd101(tmp_path, files)
    assert "gunicorn (compose api command, -c conf/gunicorn.py) closes them after 5s" in race.message


def test_an_override_file_command_runs_in_the_base_files_build(tmp_path: Path) -> None:
    files = k5(
        keepalive=5,
        **{
            "docker-compose.yml": "services:\n  api:\n    build: ./api\n",
            "docker-compose.prod.yml": "services:\n  api:\n    command: gunicorn app:app -b 0.0.0.0:8000\n",
            "api/Dockerfile": K5_IMAGE.replace('CMD ["gunicorn", "app:app", "-b", "0.0.0.0:8000"]\n', ""),
        },
    )
    [race] = bkd101(tmp_path, files)
    assert "gunicorn (compose api command, reads api/gunicorn.conf.py by default)" in race.message


K4_COMPOSE = "services:\n  api:\n    build: ./api\n    env_file: .env\n  web:\n    image: nginx:1.27\n"


def k4(env: str = "UVICORN_TIMEOUT_KEEP_ALIVE=150\n", compose: str = K4_COMPOSE) -> dict[str, str]:
    files = {
        "nginx/nginx.conf": nginx(extra="        keepalive 32;\n        keepalive_timeout 120s;\n"),
        "docker-compose.yml": compose,
        "api/Dockerfile": UVICORN,
    }
    return {**files, ".env": env} if env else files


def test_an_env_file_sets_what_the_server_reads(tmp_path: Path) -> None:
    """k4: env_file .env sets UVICORN_TIMEOUT_KEEP_ALIVE=150, which uvicorn reads (measured
    by a tester): above nginx's 120s, no race; the default 5 s was asserted, with a fix to 4s."""
    assert check_files(tmp_path, k4(), SETTINGS).findings == []
    [race] = bkd101(tmp_path / "short", k4("# keep-alive\nexport UVICORN_TIMEOUT_KEEP_ALIVE='5'  \n"))
    assert "uvicorn (Dockerfile CMD, with compose api's env_file .env) closes them after 5s" in race.message
    assert "(UVICORN_TIMEOUT_KEEP_ALIVE=5)" in race.message


@pytest.mark.parametrize(
    ("env", "compose", "expected"),
    [
        (
            "UVICORN_TIMEOUT_KEEP_ALIVE=150\n",
            K4_COMPOSE.replace("env_file: .env", "env_file:\n      - .env"),
            "",
        ),
        (
            "UVICORN_TIMEOUT_KEEP_ALIVE=150\n",
            K4_COMPOSE.replace("env_file: .env", "env_file:\n      - path: .env\n        required: true"),
            "",
        ),
        # environment: wins over env_file
        (
            "UVICORN_TIMEOUT_KEEP_ALIVE=150\n",
            K4_COMPOSE.replace(
                "env_file: .env", "env_file: .env\n    environment:\n      UVICORN_TIMEOUT_KEEP_ALIVE: 5"
            ),
            "BKD101:closes them after 5s",
        ),
        # an optional env file that is not there sets nothing
        (
            "",
            K4_COMPOSE.replace(
                "env_file: .env", "env_file:\n      - path: ./local.env\n        required: false"
            ),
            "BKD101:uvicorn's default --timeout-keep-alive of 5s",
        ),
        # a required one that is not in the checkout may set anything
        ("", K4_COMPOSE, "BKD103:its env_file .env is not in the checkout: what it sets is not known"),
        ("UVICORN_TIMEOUT_KEEP_ALIVE=${KEEPALIVE}\n", K4_COMPOSE, "BKD103:expanded by compose"),
        ("UVICORN_TIMEOUT_KEEP_ALIVE\n", K4_COMPOSE, "BKD103:taken from the shell that runs compose"),
    ],
    ids=[
        "list",
        "long-form",
        "environment-wins",
        "optional-missing",
        "required-missing",
        "interpolated",
        "shell",
    ],
)
def test_env_file_forms(tmp_path: Path, env: str, compose: str, expected: str) -> None:
    found = [
        f for f in check_files(tmp_path, k4(env, compose), SETTINGS).findings if f.code.startswith("BKD")
    ]
    if not expected:
        assert found == []
        return
    code, text = expected.split(":", 1)
    assert [f.code for f in found] == [code], found
    assert text in found[0].message, found[0].message


def test_an_env_file_reaches_a_compose_command(tmp_path: Path) -> None:
    compose = K4_COMPOSE.replace(
        "    env_file: .env\n",
        "    env_file: .env\n    command: uvicorn main:app --host 0.0.0.0 --port 8000\n",
    )
    assert check_files(tmp_path, k4(compose=compose), SETTINGS).findings == []
    [race] = bkd101(tmp_path / "short", k4("UVICORN_TIMEOUT_KEEP_ALIVE=5\n", compose))
    assert "uvicorn (compose api command) closes them after 5s (UVICORN_TIMEOUT_KEEP_ALIVE=5)" in race.message


COMMAND_API = (
    "services:\n  api:\n    build: ./api\n    command: uvicorn main:app --host 0.0.0.0 --port 8000\n"
)
IMAGE_ENV = "FROM python:3.12-slim\nENV UVICORN_TIMEOUT_KEEP_ALIVE={keepalive}\nWORKDIR /app\n"


def image_env_files(keepalive: int, compose: str = COMMAND_API) -> dict[str, str]:
    return {
        "nginx/nginx.conf": nginx(extra="        keepalive 32;\n        keepalive_timeout 120s;\n"),
        "docker-compose.yml": compose,
        "api/Dockerfile": IMAGE_ENV.format(keepalive=keepalive),
    }


def test_a_compose_command_runs_with_its_images_env(tmp_path: Path) -> None:
    """A command: replaces the image's CMD, not its ENV: uvicorn reads the Dockerfile's
    UVICORN_TIMEOUT_KEEP_ALIVE (BKD101 used to state uvicorn's default of 5s beside an
    ENV of 150), placed at the ENV line; compose's environment: wins over it."""
    assert check_files(tmp_path, image_env_files(150), SETTINGS).findings == []
    [race] = bkd101(tmp_path / "short", image_env_files(3))
    assert "uvicorn (compose api command) closes them after 3s (UVICORN_TIMEOUT_KEEP_ALIVE=3)" in race.message
    [where] = [r.location for r in race.related if r.location.path.name == "Dockerfile"]
    assert (where.line, where.column) == (2, 5)
    overridden = COMMAND_API + "    environment:\n      UVICORN_TIMEOUT_KEEP_ALIVE: 4\n"
    [race] = bkd101(tmp_path / "overridden", image_env_files(150, overridden))
    assert "closes them after 4s" in race.message
    # Another stage's ENV is not the final image's; the stage it is built FROM is.
    files = image_env_files(150)
    files["api/Dockerfile"] = files["api/Dockerfile"] + "FROM python:3.12-slim\n"
    [race] = bkd101(tmp_path / "stage", files)
    assert "uvicorn's default --timeout-keep-alive of 5s" in race.message
    files["api/Dockerfile"] = files["api/Dockerfile"].replace("slim\nENV", "slim AS base\nENV", 1)
    files["api/Dockerfile"] = files["api/Dockerfile"].replace("FROM python:3.12-slim\n", "FROM base\n")
    assert check_files(tmp_path / "chain", files, SETTINGS).findings == []


def test_the_env_file_parser_reads_as_compose_does() -> None:
    from tlslint.sources.python.dotenv import EnvFileError, parse

    text = (
        "# comment\n\nA=1\nexport B = 2 # trailing\nC: 'x # y'\nD=\"a\\nb\"\nE=$HOME/x\nF\n"
        'G="multi\nline"\nH=\n'
    )
    read = {a.name: (a.value, a.static) for a in parse(text)}
    assert read == {
        "A": ("1", True),
        "B": ("2", True),
        "C": ("x # y", True),
        "D": ("a\nb", True),
        "E": ("$HOME/x", False),
        "F": ("", False),
        "G": ("multi\nline", True),
        "H": ("", True),
    }
    with pytest.raises(EnvFileError, match="not closed"):
        parse("A='x\n")
    with pytest.raises(EnvFileError, match="unexpected character"):
        parse("A-B=1\n")


def test_a_long_env_file_is_read_in_linear_time() -> None:
    import time

    from tlslint.sources.python.dotenv import parse

    text = "".join(f"NAME_{i}=value_{i}  # comment\n" for i in range(100_000))
    started = time.perf_counter()
    found = parse(text)
    assert len(found) == 100_000 and found[-1].line == 100_000
    assert time.perf_counter() - started < 5


MAIN = (
    "import uvicorn\n\nasync def app(scope, receive, send):\n    pass\n\n"
    'if __name__ == "__main__":\n'
    '    uvicorn.run("main:app", host="0.0.0.0", port=8000, timeout_keep_alive=30)\n'
)


@pytest.mark.parametrize(
    "cmd",
    [
        'CMD ["python", "main.py"]',
        'CMD ["python3", "-u", "main.py"]',
        'CMD ["/usr/local/bin/python", "/app/main.py"]',
        "CMD python main.py",
        "CMD exec python -X dev main.py",
        'CMD ["sh", "-c", "python main.py"]',
    ],
)
def test_a_python_file_the_image_runs_starts_its_servers(tmp_path: Path, cmd: str) -> None:
    """c16: `python main.py` runs main.py's guarded uvicorn.run() (real: closed after 30.00 s);
    nothing linked it to `server api:8000`, and the run said all checks passed."""
    dockerfile = f"FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n{cmd}\n"
    compose = "services:\n  api:\n    build: .\n"
    files = {"nginx.conf": nginx(), "docker-compose.yml": compose, "Dockerfile": dockerfile, "main.py": MAIN}
    [race] = bkd101(tmp_path, files)
    assert "uvicorn.run() (main.py:7, run by Dockerfile CMD) closes them after 30s" in race.message
    assert race.related[-1].message.startswith("reaches uvicorn as compose service api")


@pytest.mark.parametrize(
    ("image", "linked"),
    [
        ("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\n", True),
        ("FROM python:3.12-slim\nWORKDIR /app\nCOPY run.py .\n", True),
        ("FROM python:3.12-slim\nWORKDIR /app\nCOPY other.py .\n", False),  # not in the image
        ("FROM python:3.12-slim\nCOPY . /app\n", False),  # no WORKDIR: run.py's directory unknown
    ],
)
def test_a_compose_command_runs_a_python_file_of_its_image(tmp_path: Path, image: str, linked: bool) -> None:
    """c06: `command: python run.py` in a service built from ./api. Its environment does not
    reach uvicorn.run(): UVICORN_* are read by uvicorn's command line only."""
    compose = (
        "services:\n  scr:\n    build: ./api\n    command: python run.py\n"
        "    environment:\n      - UVICORN_TIMEOUT_KEEP_ALIVE=75\n"
    )
    run_py = (
        'import uvicorn\n\nif __name__ == "__main__":\n'
        '    uvicorn.run("main:app", host="0.0.0.0", port=8000)\n'
    )
    files = {
        "nginx.conf": nginx("scr:8000"),
        "docker-compose.yml": compose,
        "api/Dockerfile": image + 'CMD ["uvicorn", "main:app"]\n',
        "api/run.py": run_py,
        "api/other.py": "",
    }
    found = bkd101(tmp_path, files)
    assert bool(found) is linked
    if linked:
        assert "uvicorn.run() (run.py:4, run by compose scr command) closes them after 5s" in found[0].message


def test_a_python_run_fixes_the_file_it_runs(tmp_path: Path) -> None:
    dockerfile = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "main.py"]\n'
    files = {
        "nginx.conf": nginx(),
        "docker-compose.yml": "services:\n  api:\n    build: .\n",
        "Dockerfile": dockerfile,
        "main.py": MAIN,
    }
    backend_side = {"rules": {"BKD101": {"fix-side": "backend"}}}
    [race] = bkd101(tmp_path, files, backend_side)
    assert race.fix is not None and [e.path.name for e in race.fix.edits] == ["main.py"]
    assert race.fix.edits[0].replacement == "65"
