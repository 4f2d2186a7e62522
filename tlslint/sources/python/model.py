"""What the backend loaders produce: settings with exact positions, per server.

A ``Value`` is one setting as written (in a Python config, a TOML file or on a
command line), with the offsets of its value so that a fix can replace exactly
that token and nothing else. A value that is computed at run time (an
environment variable, a function call, a conditional assignment) is kept with
``static=False``: it is reported as not verifiable, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tlslint.findings import Edit, Location

# How a replacement value is written: a Python or TOML literal, a shell word,
# a JSON string (Dockerfile exec form).
PYTHON, TOML, SHELL, JSON = "python", "toml", "shell", "json"
_QUOTED_NUMBER = re.compile(r"""(['"])[ \t]*\+?[0-9_]+[ \t]*\1""")


@dataclass(frozen=True)
class Value:
    name: str  # as written: "keepalive", "timeout_keep_alive", "--keep-alive", ...
    value: Any  # the value when static (int, float, str, list of str); None otherwise
    static: bool
    text: str  # the value as written (an expression, a word)
    location: Location  # the value's region
    start: int = -1  # offsets of the value in the decoded text; -1: not editable
    end: int = -1
    style: str = PYTHON
    statement_line: int = 0  # the line of the statement or flag that sets it
    reason: str = ""  # why it is not static
    env: str = ""  # the environment variable it is read from (UVICORN_TIMEOUT_KEEP_ALIVE, GUNICORN_CMD_ARGS)
    form: str = ""  # how the setting is written, "{name}={value}"; "": by its style

    def written(self, value: str) -> str:
        """The setting as it reads with ``value`` in place of this one's token:
        ``keepalive = 65``, ``timeout_keep_alive=65``, ``--keep-alive 65``, ``"--keep-alive", "65"``."""
        form = self.form or {
            PYTHON: "{name} = {value}", TOML: "{name} = {value}", SHELL: "{name} {value}",
            JSON: '"{name}", "{value}"',
        }[self.style]  # fmt: skip
        if self.style == PYTHON and _QUOTED_NUMBER.fullmatch(self.text):
            value = f"{self.text[0]}{value}{self.text[-1]}"
        return form.format(name=self.name, value=value)

    @property
    def path(self) -> Path:
        return self.location.path

    @property
    def editable(self) -> bool:
        return self.start >= 0

    def replace(self, new: str) -> Edit | None:
        """An edit that writes ``new`` (a number, as text) in place of the value's token."""
        if not self.editable:
            return None
        replacement = new
        if self.style == PYTHON and _QUOTED_NUMBER.fullmatch(self.text):
            replacement = f"{self.text[0]}{new}{self.text[-1]}"  # gunicorn's threads = "4": stays a string
        elif self.style == JSON:
            replacement = f'"{new}"'
        elif (
            self.style == SHELL
            and len(self.text) >= 2
            and self.text[0] == self.text[-1]
            and self.text[0] in "'\""
        ):
            replacement = f"{self.text[0]}{new}{self.text[0]}"
        return Edit(self.path, self.start, self.end, replacement)


@dataclass(frozen=True)
class Addition:
    """Where a missing setting can be added: ``template`` with ``{value}``, at ``offset``."""

    path: Path
    offset: int
    template: str
    extra: tuple[Edit, ...] = ()  # e.g. a comma the new keyword argument needs

    def edits(self, value: str) -> tuple[Edit, ...]:
        return (*self.extra, Edit(self.path, self.offset, self.offset, self.template.format(value=value)))

    def written(self, value: str) -> str:
        """The new setting as it reads: ``keepalive = 65``, ``timeout_keep_alive=65``."""
        return self.template.format(value=value).strip().strip(",").strip()


@dataclass(frozen=True)
class Mount:
    """A ``volumes:`` entry of a compose service."""

    source: str  # as written: "./api", a volume's name; "" for a tmpfs
    target: str  # inside the container, absolute
    bind: bool  # a host path (its source starts with ".", "/" or "~")


@dataclass(frozen=True)
class Container:
    """What a docker-compose service says of the container its ``command:`` runs in: where
    gunicorn looks for its ``gunicorn.conf.py`` (its working directory) and what is there."""

    compose: Path  # the compose file: relative host paths start at its directory
    service: str
    dockerfile: Path | None = None  # the Dockerfile its build: names; None: an image: only
    context: Path | None = None  # the build context
    image: str = ""  # image:, as written
    working_dir: str | None = None  # working_dir:, as written
    mounts: tuple[Mount, ...] = ()
    unknown: str = ""  # why its build cannot be read (a remote context, a target stage)


@dataclass(frozen=True)
class PythonRun:
    """``python FILE.py`` on a command line: FILE runs as ``__main__``, so the servers its
    ``uvicorn.run()`` calls (guarded or not) and hypercorn serve code start there."""

    script: str  # FILE as written: "main.py", "/app/run.py"
    where: Location  # the FILE word
    process: str  # the command that runs it: "Dockerfile CMD", "compose api command", "Procfile web"
    path: Path  # the file the command is written in (a Dockerfile, a compose file, a Procfile)
    image: Path | None = None  # the Dockerfile whose container runs it (FILE is found there)


@dataclass(frozen=True)
class AppModule:
    """The files that can be the module a command line imports as its app."""

    under: Path  # the command file's directory, resolved
    tails: tuple[tuple[str, ...], ...]  # how their paths end: ("api", "main.py")

    def is_file(self, resolved: Path) -> bool:
        """Whether ``resolved`` (a resolved path) is one of them."""
        parts = resolved.parts
        return any(parts[-len(tail) :] == tail for tail in self.tails) and resolved.is_relative_to(self.under)


@dataclass(eq=False)
class Backend:
    """One app server as configured by a file: a gunicorn config, a ``uvicorn.run()``
    call, a command line in a Procfile, Dockerfile or systemd unit."""

    server: str  # gunicorn | uvicorn | hypercorn
    path: Path  # the file that starts or configures it
    label: str  # for messages: "gunicorn (gunicorn.conf.py)", "uvicorn.run() (main.py:12)"
    where: Location  # the call, the command's program word, or the file (line 0)
    settings: dict[str, Value] = field(default_factory=dict)  # canonical name -> value
    unknown: dict[str, str] = field(default_factory=dict)  # canonical name -> why it may be set elsewhere
    additions: dict[str, Addition] = field(default_factory=dict)  # canonical name -> where to add it
    files: list[Path] = field(default_factory=list)  # every file its settings come from
    config_ref: Value | None = None  # -c / --config on a command line
    process: str = ""  # Procfile process type, Dockerfile instruction, systemd key
    command: bool = False  # started by a command line
    port_env: Value | None = None  # PORT in its environment: gunicorn's default bind is then 0.0.0.0:$PORT
    shared: str = ""  # why its command line is read, not edited (a YAML alias or merge key)
    app: str = ""  # the app a command line imports: "main:app" (its module never runs as __main__)
    main_only: bool = False  # a call under `if __name__ == "__main__":`: runs only when the file is run
    container: Container | None = None  # the compose service whose command: starts it

    def app_module(self) -> AppModule | None:
        """Where the module is that this command line starts as its app: a file under the
        command file's directory (``main:app`` -> main.py, ``api.main:app`` -> api/main.py);
        None without an app."""
        module = self.app.split(":", 1)[0]
        if not module:
            return None
        parts = module.split(".")
        tail = (*parts[:-1], f"{parts[-1]}.py")
        package = (*parts, "__init__.py")
        return AppModule(self.path.resolve().parent, (tail, package))

    def get(self, name: str) -> Value | None:
        return self.settings.get(name)


@dataclass(frozen=True)
class Problem:
    """A backend file that could not be read (it is reported as not verifiable)."""

    path: Path
    line: int
    message: str


@dataclass
class LoadedFile:
    path: Path
    kind: str  # the text kind the fixer validates with: python, toml, command
    backends: list[Backend] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    runs: list[PythonRun] = field(default_factory=list)  # Python files its commands run
