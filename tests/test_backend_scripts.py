"""Shell scripts that start an app server (docker-entrypoint.sh, start.sh, run.sh, boot.sh).

Shapes written after real entrypoint scripts: ``set -e`` and migrations before an
``exec gunicorn`` with continuations, ``PORT="${PORT:-8000}"``, ``: "${PORT:=8000}"``,
``case "$1" in web) ... celery) ...``, an ``if`` with a dev server in one branch, a
here-document of Python, ``export GUNICORN_CMD_ARGS`` before ``exec gunicorn app "$@"``,
``poetry run`` / ``uv run`` / ``python -m``, a Dockerfile whose ENTRYPOINT runs the script.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from helpers import settings_for, static_value
from sandbox import tlslint

from tlslint.discovery import BACKEND, classify
from tlslint.sources.python import load
from tlslint.sources.python.model import Backend
from tlslint.sources.python.scripts import statements
from tlslint.sources.python.servers import BIND, HOST, KEEPALIVE, PORT, THREADS, WORKER_CLASS, WORKERS
from tlslint.sources.python.sniff import SHELL_SCRIPT
from tlslint.sources.text import decode
from tlslint.workspace.backends import binding, load_backends


def script(text: str, name: str = "docker-entrypoint.sh") -> list[Backend]:
    loaded = load(decode(Path(name), textwrap.dedent(text).encode()), SHELL_SCRIPT)
    assert not loaded.problems, loaded.problems
    return loaded.backends


def only(text: str, name: str = "docker-entrypoint.sh") -> Backend:
    found = script(text, name)
    assert len(found) == 1, [b.label for b in found]
    return found[0]


def test_exec_gunicorn_after_migrations_with_continuations() -> None:
    backend = only(
        """\
        #!/bin/bash
        set -euo pipefail

        echo "Applying migrations..."
        python manage.py migrate --noinput
        python manage.py collectstatic --noinput --clear

        cd /app/site || { echo "no /app/site"; exit 1; }
        # Start Gunicorn
        exec gunicorn site.wsgi:application \\
            --bind 0.0.0.0:8000 \\
            --workers 3 --threads 2 \\
            --keep-alive 5 \\
            --access-logfile -
        """
    )
    assert (backend.server, backend.process) == ("gunicorn", "docker-entrypoint.sh")
    assert static_value(backend, BIND) == ["0.0.0.0:8000"] and static_value(backend, WORKERS) == 3
    assert static_value(backend, THREADS) == 2 and static_value(backend, KEEPALIVE) == 5
    keepalive = backend.get(KEEPALIVE)
    assert keepalive is not None and keepalive.editable and keepalive.location.line == 13


def test_variables_and_defaults_are_expanded() -> None:
    backend = only(
        """\
        #!/usr/bin/env bash
        set -e
        PORT="${PORT:-8000}"
        HOST=${API_HOST:-"0.0.0.0"}
        KEEP_ALIVE=75
        exec uvicorn app.main:app --host "$HOST" --port "${PORT}" --timeout-keep-alive $KEEP_ALIVE
        """,
        "start.sh",
    )
    assert (static_value(backend, HOST), static_value(backend, PORT), static_value(backend, KEEPALIVE)) == (
        "0.0.0.0",
        8000,
        75,
    )
    port = backend.get(PORT)
    assert port is not None and port.text == '"${PORT}"' and not port.editable  # shown as written
    assert [str(a) for a in binding(backend).addresses] == ["0.0.0.0:8000"]


def test_colon_equals_sets_the_default_for_what_follows() -> None:
    backend = only(': "${PORT:=8001}"\nexec uvicorn main:app --host 0.0.0.0 --port "$PORT"\n')
    assert static_value(backend, PORT) == 8001


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("exec gunicorn app:app --bind 0.0.0.0:$PORT", "$PORT is not set in docker-entrypoint.sh"),
        ("exec gunicorn app:app --bind 0.0.0.0:$(cat /etc/port)", "runs a command"),
        ("exec gunicorn app:app --bind 0.0.0.0:${1:-8000}", "$1 is an argument of docker-entrypoint.sh"),
        (
            'if [ -n "$DEV" ]; then P=5000; else P=8000; fi\nexec gunicorn app:app -b :$P',
            "$P is set under if",
        ),
    ],
)
def test_a_value_that_stays_unknown_is_not_static(line: str, why: str) -> None:
    bind = only(line + "\n").get(BIND)
    assert bind is not None and not bind.static and why in bind.reason, bind


def test_case_branch_that_starts_the_server_is_taken_and_named() -> None:
    backend = only(
        """\
        #!/bin/sh
        set -e
        case "$1" in
          web)
            python manage.py migrate --noinput
            exec gunicorn config.wsgi:application --bind 0.0.0.0:8000 --workers 3
            ;;
          celery|worker)
            exec celery -A config worker -l info
            ;;
          *)
            exec "$@"
            ;;
        esac
        """
    )
    assert backend.process == 'docker-entrypoint.sh, case "$1" in web'
    assert static_value(backend, BIND) == ["0.0.0.0:8000"]


def test_every_branch_that_starts_a_server_is_a_backend() -> None:
    dev, prod = script(
        """\
        #!/bin/bash
        if [ "$FLASK_ENV" = "development" ]; then
            exec uvicorn app:app --reload --port 5000
        else
            exec gunicorn --bind 0.0.0.0:5000 --workers 2 app:app
        fi
        """,
        "run.sh",
    )
    assert dev.server == "uvicorn" and dev.process == 'run.sh, if [ "$FLASK_ENV" = "development" ]'
    assert prod.server == "gunicorn" and prod.process.startswith("run.sh, else of if [")


def test_nothing_after_an_unconditional_exec_runs_but_a_guard_does_not_stop_reading() -> None:
    [backend] = script(
        """\
        [ -n "$DATABASE_URL" ] || exit 1
        test -f .env && exec echo "has .env"
        ( cd frontend && exec npm run start ) &
        exec uvicorn main:app --port 8000
        exec gunicorn never:reached
        """
    )
    assert backend.server == "uvicorn" and static_value(backend, PORT) == 8000


def test_heredocs_are_skipped_and_prefixes_are_read() -> None:
    found = script(
        """\
        #!/bin/sh
        python - <<'PY'
        import subprocess  # it's a "test"
        subprocess.run(["gunicorn", "--version"])
        PY
        cat <<-EOF
        \tgunicorn app:app --bind 0.0.0.0:1
        \tEOF
        poetry run gunicorn main:app -k uvicorn.workers.UvicornWorker -b 0.0.0.0:8001 &
        uv run python -m hypercorn app:app --bind 127.0.0.1:8002 &
        wait
        """
    )
    assert [(b.server, static_value(b, BIND)) for b in found] == [
        ("gunicorn", ["0.0.0.0:8001"]),
        ("hypercorn", ["127.0.0.1:8002"]),
    ]
    assert static_value(found[0], WORKER_CLASS) == "uvicorn.workers.UvicornWorker"


def test_an_unquoted_expansion_is_split_into_words() -> None:
    backend = only('OPTS="--keep-alive 7 --workers 2"\nexec gunicorn app:app -b :8000 $OPTS\n')
    assert static_value(backend, KEEPALIVE) == 7 and static_value(backend, WORKERS) == 2


def test_exported_gunicorn_cmd_args_and_port_reach_the_server() -> None:
    [cmd_args, port] = script(
        """\
        export GUNICORN_CMD_ARGS="--access-logfile - --bind=0.0.0.0:5000 --keep-alive=4"
        gunicorn server:app &
        unset GUNICORN_CMD_ARGS
        export PORT=${PORT:-7000}
        exec gunicorn other:app
        """
    )
    assert static_value(cmd_args, BIND) == ["0.0.0.0:5000"] and static_value(cmd_args, KEEPALIVE) == 4
    assert [str(a) for a in binding(port).addresses] == ["0.0.0.0:7000"]  # gunicorn reads $PORT
    unexported = only("PORT=7000\nexec gunicorn other:app\n")
    assert [str(a) for a in binding(unexported).addresses] == ["127.0.0.1:8000"]


def test_script_arguments_may_give_any_setting_the_command_line_does_not() -> None:
    backend = only(
        'export GUNICORN_CMD_ARGS="--keep-alive=4"\nexec gunicorn -b "0.0.0.0:8000" app:app "$@"\n'
    )
    assert static_value(backend, BIND) == ["0.0.0.0:8000"]
    assert backend.get(KEEPALIVE) is None and '"$@"' in backend.unknown[KEEPALIVE]


def test_a_config_named_by_a_variable_set_under_if_is_unknown() -> None:
    """The shape of a widely used image's start.sh: the config file depends on what exists."""
    backend = only(
        """\
        #! /usr/bin/env sh
        set -e
        if [ -f /app/gunicorn_conf.py ]; then
            DEFAULT_GUNICORN_CONF=/app/gunicorn_conf.py
        else
            DEFAULT_GUNICORN_CONF=/gunicorn_conf.py
        fi
        export GUNICORN_CONF=${GUNICORN_CONF:-$DEFAULT_GUNICORN_CONF}
        export WORKER_CLASS=${WORKER_CLASS:-"uvicorn.workers.UvicornWorker"}
        exec gunicorn -k "$WORKER_CLASS" -c "$GUNICORN_CONF" "$APP_MODULE"
        """,
        "start.sh",
    )
    assert static_value(backend, WORKER_CLASS) == "uvicorn.workers.UvicornWorker"
    config = backend.config_ref
    assert config is not None and not config.static and "set under if" in config.reason


def test_statements_keep_quoted_newlines_and_continuations() -> None:
    text = 'a "x\\"\ny" \\\n b\n# c\nd $(e\nf) `g\nh`\n'
    assert [text[s:e] for s, e in statements(text)] == ['a "x\\"\ny" \\\n b', "# c", "d $(e\nf) `g\nh`"]


# --------------------------------------------------------------------------- discovery


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("entrypoint.sh", "#!/bin/sh\nexec gunicorn app:app\n", BACKEND),
        ("boot.sh", "#!/bin/sh\nflask db upgrade\nexec gunicorn -b :5000 app:app\n", BACKEND),
        ("docker-entrypoint", "#!/usr/bin/env bash\nexec uvicorn main:app\n", BACKEND),  # by its shebang
        ("install.sh", "#!/bin/sh\npip install gunicorn uvicorn\n", None),  # mentions, starts nothing
        ("notes.sh", "#!/bin/sh\necho 'run gunicorn by hand'\n", None),
        ("Dockerfile", 'FROM python:3.12\nENTRYPOINT ["/docker-entrypoint.sh"]\n', BACKEND),
    ],
)
def test_classification(tmp_path: Path, name: str, text: str, kind: str | None) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert classify(path, explicit=False) == kind


def test_a_named_script_that_starts_no_server_is_not_nginx(tmp_path: Path) -> None:
    path = tmp_path / "start.sh"
    path.write_text("#!/bin/sh\nset -e\nexec node server.js\n", encoding="utf-8")
    assert classify(path, explicit=True) is None
    result = tlslint(tmp_path, "start.sh")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Nothing checked" in result.stdout and "NGX001" not in result.stdout
    assert "start.sh is a shell script that starts no gunicorn, uvicorn or hypercorn" in result.stderr


# --------------------------------------------------------------------------- Dockerfiles


ENTRYPOINT = """\
#!/bin/sh
set -e
case "$1" in
  web) exec gunicorn app:app --bind "0.0.0.0:${PORT:-8000}" -k gthread --threads 4 --keep-alive 5 ;;
  worker) exec celery -A app worker ;;
esac
exec "$@"
"""


def _tree(root: Path, dockerfile: str) -> None:
    (root / "docker").mkdir()
    (root / "docker" / "Dockerfile").write_text(dockerfile, encoding="utf-8")
    (root / "docker" / "docker-entrypoint.sh").write_text(ENTRYPOINT, encoding="utf-8")


def test_a_dockerfile_gives_the_script_it_runs_its_env_and_arguments(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        "FROM python:3.12-slim\nENV PORT=9000\nCOPY docker-entrypoint.sh /usr/local/bin/\n"
        'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]\nCMD ["web"]\n',
    )
    dockerfile = tmp_path / "docker" / "Dockerfile"
    [backend] = load_backends([dockerfile], settings_for(tmp_path)).workspace.backends
    assert backend.process == 'Dockerfile ENTRYPOINT + CMD runs docker-entrypoint.sh, case "$1" in web'
    assert [str(a) for a in binding(backend).addresses] == ["0.0.0.0:9000"]  # the image's PORT
    assert dockerfile in backend.files and backend.path.name == "docker-entrypoint.sh"
    # The script walked beside it is the image's, not a second backend on the default port.
    script_path = tmp_path / "docker" / "docker-entrypoint.sh"
    both = load_backends([dockerfile, script_path], settings_for(tmp_path)).workspace.backends
    assert [b.label for b in both] == [backend.label]
    # Alone, its default applies, and "$1" is unknown: still the web branch, read as written.
    [alone] = load_backends([script_path], settings_for(tmp_path)).workspace.backends
    assert [str(a) for a in binding(alone).addresses] == ["0.0.0.0:8000"]


def test_a_mapping_that_names_the_dockerfile_links_the_scripts_backend(tmp_path: Path) -> None:
    _tree(tmp_path, 'FROM python:3.12\nCOPY . /app\nCMD ["sh", "/app/docker-entrypoint.sh", "web"]\n')
    (tmp_path / "app.conf").write_text(
        "upstream web {\n    server web:8000;\n    keepalive 16;\n}\n"
        "server {\n    listen 80;\n    location / {\n        proxy_pass http://web;\n"
        '        proxy_http_version 1.1;\n        proxy_set_header Connection "";\n    }\n}\n',
        encoding="utf-8",
    )
    (tmp_path / ".tlslint.toml").write_text(
        '[nginx]\nversion = "1.22"\n[[backends]]\nupstream = "web"\nconfig = "docker/Dockerfile"\n',
        encoding="utf-8",
    )
    result = tlslint(tmp_path, "--format", "json", "app.conf")
    findings = json.loads(result.stdout)["findings"]
    assert [f["code"] for f in findings] == ["BKD101"], result.stdout
    assert "runs docker-entrypoint.sh" in findings[0]["message"]
    assert "(--keep-alive 5)" in findings[0]["message"]


def test_the_backend_side_fix_edits_the_script(tmp_path: Path) -> None:
    (tmp_path / "app.conf").write_text(
        "upstream app {\n    server 127.0.0.1:8000;\n    keepalive 8;\n}\n"
        "server {\n    listen 80;\n    location / {\n        proxy_pass http://app;\n"
        '        proxy_http_version 1.1;\n        proxy_set_header Connection "";\n    }\n}\n',
        encoding="utf-8",
    )
    (tmp_path / ".tlslint.toml").write_text(
        '[nginx]\nversion = "1.22"\n[rules.BKD101]\nfix-side = "backend"\n', encoding="utf-8"
    )
    text = "#!/bin/sh\nset -e\nexec gunicorn app:app \\\n  -b 0.0.0.0:8000 -k gevent \\\n  --keep-alive 5\n"
    (tmp_path / "start.sh").write_text(text, encoding="utf-8")
    result = tlslint(tmp_path, "--fix", "--unsafe-fixes", ".")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "start.sh").read_text(encoding="utf-8") == text.replace(
        "--keep-alive 5", "--keep-alive 65"
    )
    again = tlslint(tmp_path, "--fix", "--unsafe-fixes", ".")
    assert again.returncode == 0 and "fixed" not in again.stderr
