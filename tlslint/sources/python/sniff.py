"""Which files configure or start a Python app server: by name, then a content sniff.

Cheap on purpose (discovery runs it on every walked file): no parsing, at most
the first 64 KiB read, and a ``.py`` file is read only when its name does not
already decide. In scope:

* ``*gunicorn*.py`` (``gunicorn.conf.py``, ``gunicorn_config.py``) and
  ``*hypercorn*.py``: by name;
* other ``.py`` files that mention ``uvicorn.run`` / ``uvicorn.Config`` (or
  import them from uvicorn) or hypercorn's configuration;
* hypercorn TOML: ``*hypercorn*.toml``, or a TOML file that sets
  ``keep_alive_timeout`` (bare or quoted) at its top;
* ``Procfile``, ``Dockerfile`` (``Containerfile``, ``*.dockerfile``,
  ``Dockerfile.*``) and systemd ``*.service`` units that mention gunicorn,
  uvicorn or hypercorn; a Dockerfile whose CMD/ENTRYPOINT runs a ``.sh`` script;
* shell scripts (``*.sh``, ``*.bash``, or no suffix and a shell shebang) with a
  command that starts one (``tlslint.sources.python.scripts``).
"""

from __future__ import annotations

import re
from pathlib import Path

from tlslint.sources.text import sniff_head

PYTHON_CONFIG, TOML_CONFIG, PROCFILE, DOCKERFILE, SYSTEMD, SHELL_SCRIPT = (
    "python", "toml", "procfile", "dockerfile", "systemd", "script"
)  # fmt: skip
_SERVERS = re.compile(rb"\b(?:gunicorn3?|uvicorn|hypercorn)\b")
_PY_MENTIONS = re.compile(
    rb"\buvicorn\s*\.\s*(?:run|Config)\b|\bfrom\s+uvicorn\s+import\b"
    rb"|\bhypercorn\b|^\s*keep_alive_timeout\s*=",
    re.M,
)
# A quoted key is the same key.
_TOML_KEEPALIVE = re.compile(rb"""^\s*(["']?)keep_alive_timeout\1\s*=""", re.M)
_EXEC_START = re.compile(rb"^\s*ExecStart\s*=", re.M)
_RUNS_SCRIPT = re.compile(rb"^[ \t]*(?:CMD|ENTRYPOINT)\b[^\n]*\.(?:sh|bash)\b", re.M | re.I)


def file_format(path: Path) -> str | None:
    """The backend format a file's name suggests (content not read)."""
    return _named_format(path.name, path.suffix)


def _named_format(name: str, suffix: str) -> str | None:
    """``file_format`` of a file's name and ``Path.suffix``: that property, asked once a
    file, costs as much as the rest (discovery asks for every file of the tree)."""
    suffix = suffix.lower()
    if suffix == ".py":
        return PYTHON_CONFIG
    if suffix == ".toml":
        return TOML_CONFIG
    if name == "Procfile" or name.startswith("Procfile."):
        return PROCFILE
    lowered = name.lower()
    if (
        lowered in ("dockerfile", "containerfile")
        or lowered.startswith(("dockerfile.", "containerfile."))
        or lowered.endswith(".dockerfile")
    ):
        return DOCKERFILE
    if suffix == ".service":
        return SYSTEMD
    if suffix in (".sh", ".bash"):
        return SHELL_SCRIPT
    return None


def script_format(path: Path) -> str | None:
    """``file_format``, and a shell script without a suffix by its shebang (first bytes read)."""
    kind = file_format(path)
    if kind is not None or path.suffix:
        return kind
    from tlslint.sources.python.scripts import is_script

    return SHELL_SCRIPT if is_script(path, sniff_head(path, 128)) else None


def backend_format(path: Path) -> str | None:
    """The backend format of ``path`` when it is in scope, else None."""
    name, suffix = path.name, path.suffix
    kind = _named_format(name, suffix)
    head = None
    if kind is None and not suffix and not name.startswith("."):
        head = sniff_head(path)  # read once: a script's is looked at again below
        from tlslint.sources.python.scripts import is_script

        kind = SHELL_SCRIPT if head is not None and is_script(path, head) else None
    if kind is None:
        return None
    lowered = name.lower()
    if kind == PYTHON_CONFIG and ("gunicorn" in lowered or "hypercorn" in lowered):
        return kind
    if kind == TOML_CONFIG and "hypercorn" in lowered:
        return kind
    if head is None:
        head = sniff_head(path)
    if head is None:
        return None
    if kind == PYTHON_CONFIG:
        return kind if _PY_MENTIONS.search(head) else None
    if kind == TOML_CONFIG:
        return kind if _TOML_KEEPALIVE.search(head) else None
    if kind == SYSTEMD and not _EXEC_START.search(head):
        return None
    if kind == DOCKERFILE and _RUNS_SCRIPT.search(head):
        return kind
    if kind == SHELL_SCRIPT:
        from tlslint.sources.python.scripts import starts_server

        return kind if _SERVERS.search(head) and starts_server(head.decode("utf-8", "replace")) else None
    return kind if _SERVERS.search(head) else None
