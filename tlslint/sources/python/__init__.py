"""Python app servers behind nginx: gunicorn, uvicorn and hypercorn settings.

Read from Python configs (``gunicorn.conf.py``, ``uvicorn.run(...)`` calls,
hypercorn configs) with libcst, never imported or executed; from hypercorn's
TOML; and from the command lines that start them (Procfile, Dockerfile
CMD/ENTRYPOINT, systemd ExecStart=).

Importing this package is cheap: libcst (about 0.4 s) is imported only when a
Python config is loaded or an edited one is re-validated. It registers three
text kinds so that the fixer re-validates every edited file with its parser:
``python`` (libcst), ``toml`` (tomllib) and ``command`` (Dockerfile exec forms
stay JSON).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tlslint.sources.formats import register
from tlslint.sources.python.sniff import (
    DOCKERFILE,
    PROCFILE,
    PYTHON_CONFIG,
    SHELL_SCRIPT,
    SYSTEMD,
    TOML_CONFIG,
)

if TYPE_CHECKING:
    from tlslint.sources.nginx.model import SourceText
    from tlslint.sources.python.model import LoadedFile

PYTHON = "python"
TOML = "toml"
COMMAND = "command"

register(PYTHON, "tlslint.sources.python:validate_text", (".py",))
register(TOML, "tlslint.sources.python.tomlconfig:validate")
register(COMMAND, "tlslint.sources.python.commands:validate_text")


def validate_text(source: SourceText) -> None:
    """Raise ``SourceError`` (with the line) when ``source`` is not Python."""
    from tlslint.sources.python.pyconfig import validate

    validate(source)


def load(source: SourceText, fmt: str, *, mapped: bool = False, server: str | None = None) -> LoadedFile:
    """Every app server ``source`` configures or starts; ``fmt`` from ``sniff.file_format``."""
    if fmt == PYTHON_CONFIG:
        from tlslint.sources.python import pyconfig

        return pyconfig.load(source, mapped=mapped, server=server)
    if fmt == TOML_CONFIG:
        from tlslint.sources.python import tomlconfig

        return tomlconfig.load(source)
    if fmt in (PROCFILE, DOCKERFILE, SYSTEMD):
        from tlslint.sources.python import commands

        return commands.load(source, fmt)
    if fmt == SHELL_SCRIPT:
        from tlslint.sources.python import scripts

        return scripts.load(source)
    raise ValueError(f"not a backend format: {fmt}")
