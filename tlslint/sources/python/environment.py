"""Environment variables that set an app server's options beside its command line.

Read from a Dockerfile's ``ENV`` (the final stage's), a systemd unit's
``Environment=``, and the platform that runs a ``Procfile`` (Heroku, Dokku,
foreman and honcho always set ``PORT``). What they change:

* gunicorn parses ``GUNICORN_CMD_ARGS`` as command-line flags, over its config
  file and under the real command line; without ``--bind`` (or ``bind`` in its
  config) it binds ``0.0.0.0:$PORT`` when ``PORT`` is set, else ``127.0.0.1:8000``
  (gunicorn/config.py, ``Bind.default``).
* uvicorn's command line reads ``UVICORN_<OPTION>`` for each option not given
  (click's ``auto_envvar_prefix``): ``UVICORN_PORT``, ``UVICORN_TIMEOUT_KEEP_ALIVE``...

A value the shell or systemd expands (``$PORT``, ``${KEEPALIVE:-75}``) is
computed, as on a command line: reported as not verifiable, never guessed.
A docker-compose service's ``env_file:`` and ``environment:`` are applied the same way
(``tlslint.sources.python.compose``). A unit's ``EnvironmentFile=`` is read on the host when
it starts: what gunicorn and uvicorn read from the environment is then unknown (over
``Environment=``, which the file overrides). ``docker run -e`` is not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from tlslint.findings import Location
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python.model import SHELL, Backend, Value
from tlslint.sources.python.servers import BIND, GUNICORN, UVICORN

if TYPE_CHECKING:
    from tlslint.sources.python.commands import Word

GUNICORN_CMD_ARGS = "GUNICORN_CMD_ARGS"
# Every name an app server reads from its environment (uvicorn: any UVICORN_<OPTION>).
SERVER_ENV = re.compile(rf"^(?:PORT|{GUNICORN_CMD_ARGS}|UVICORN_\w+)$")
PLATFORM_PORT = "set by the platform that runs the Procfile, and gunicorn then binds 0.0.0.0:$PORT"
_UVICORN_FLAGS = {
    "UVICORN_HOST": "--host", "UVICORN_PORT": "--port", "UVICORN_UDS": "--uds", "UVICORN_FD": "--fd",
    "UVICORN_TIMEOUT_KEEP_ALIVE": "--timeout-keep-alive", "UVICORN_WORKERS": "--workers",
}  # fmt: skip


@dataclass(frozen=True)
class EnvVar:
    """``NAME=value`` as set for the process: the value's span in the file, or none (the platform's)."""

    name: str
    value: str
    static: bool
    start: int = -1
    end: int = -1
    origin: str = ""  # why it is not static when it has no span
    where: Location | None = None  # set in another file (an image's ENV under a compose command:)


def dockerfile_env(text: str, start: int, end: int, env: dict[str, EnvVar]) -> None:
    """``ENV NAME=value ...`` (or the old ``ENV NAME value``) into ``env``."""
    from tlslint.sources.python.commands import dockerfile_words

    words = dockerfile_words(text, start, end)
    if not words:
        return
    if "=" not in words[0].text:
        rest = words[1:]
        if rest:
            value = " ".join(w.text for w in rest)
            env[words[0].text] = EnvVar(
                words[0].text, value, all(w.static for w in rest), rest[0].start, rest[-1].end
            )
        return
    for word in words:
        name, _, value = word.text.partition("=")
        if name:
            env[name] = EnvVar(name, value, word.static, word.start, word.end)


def systemd_env(text: str, start: int, end: int, env: dict[str, EnvVar]) -> None:
    """``Environment=NAME=value "NAME2=value 2"`` into ``env``."""
    from tlslint.sources.python.commands import lex_shell

    for word in lex_shell(text, start, end, systemd=True):
        name, sep, value = word.text.partition("=")
        if name and sep:
            env[name] = EnvVar(name, value, word.static, word.start, word.end)


def procfile_env() -> dict[str, EnvVar]:
    return {"PORT": EnvVar("PORT", "", False, origin=PLATFORM_PORT)}


def apply_environment(
    source: SourceText, backend: Backend, program_index: int, words: list[Word], env: dict[str, EnvVar]
) -> Backend:
    """The backend with what ``env`` sets and its command line does not."""
    if not env:
        return backend
    if backend.server == GUNICORN:
        cmd_args = env.get(GUNICORN_CMD_ARGS)
        if cmd_args is not None:
            backend = _under_command_line(
                backend, _env_backend(source, backend, words, program_index, cmd_args, GUNICORN_CMD_ARGS)
            )
        port = env.get("PORT")
        if port is not None and backend.get(BIND) is None:
            backend = replace(backend, port_env=_port_value(source, backend, port))
    elif backend.server == UVICORN:
        flags = [(name, flag, env[name]) for name, flag in _UVICORN_FLAGS.items() if name in env]
        for name, flag, variable in flags:
            line = f"{flag} {_quoted(variable.value)}"
            backend = _under_command_line(
                backend,
                _env_backend(source, backend, words, program_index, replace(variable, value=line), name),
            )
    return backend


def unknown_environment(backend: Backend, reason: str) -> Backend:
    """The backend when its environment may hold anything (an env file that is not in the
    checkout): what gunicorn (GUNICORN_CMD_ARGS, PORT) or uvicorn (UVICORN_*) reads from
    it and the command line does not give is unknown, never a default."""
    if backend.server not in (GUNICORN, UVICORN):
        return backend
    from tlslint.sources.python.servers import SERVER_FACTS

    names = set(SERVER_FACTS[backend.server].python_names.values())
    unknown = {
        name: f"may be set by its environment: {reason}" for name in names if name not in backend.settings
    }
    return replace(backend, unknown={**backend.unknown, **unknown}, port_env=None)


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _env_backend(
    source: SourceText, backend: Backend, words: list[Word], program_index: int, variable: EnvVar, name: str
) -> Backend:
    """The settings that ``variable`` (named ``name``) gives, read like a command line (never
    editable), each marked as read from it: messages name the variable, not a flag."""
    from tlslint.sources.python.commands import command_backend, lex_shell

    inner = lex_shell(variable.value, 0, len(variable.value))
    anchor = words[program_index]
    start, end = (variable.start, variable.end) if variable.start >= 0 else (anchor.start, anchor.end)
    why = "" if variable.static else variable.origin  # an env file's $HOME, the shell's PORT
    fixed = [
        replace(
            w,
            start=start,
            end=end,
            editable=False,
            static=w.static and variable.static,
            reason=w.reason or why,
        )
        for w in inner
    ]
    program = replace(words[program_index], editable=False)
    read = command_backend(source, backend.server, 0, [program, *fixed], backend.process)
    where = variable.where
    return replace(
        read,
        settings={
            key: replace(value, env=name) if where is None else replace(value, env=name, location=where)
            for key, value in read.settings.items()
        },
    )


def _under_command_line(backend: Backend, env_backend: Backend) -> Backend:
    settings = {**env_backend.settings, **backend.settings}
    config_ref = backend.config_ref or env_backend.config_ref
    return replace(backend, settings=settings, config_ref=config_ref)


def _port_value(source: SourceText, backend: Backend, port: EnvVar) -> Value:
    if port.start >= 0:
        location = Location(source.path, *source.region(port.start, port.end))
    elif port.where is not None:
        location = port.where
    else:
        location = backend.where
    reason = port.origin or f"expanded when the process starts: {port.value}"
    static = port.static and port.value.isdigit()
    return Value(
        "PORT", port.value if static else None, static, port.value, location, style=SHELL, reason=reason
    )
