"""First run: ``tlslint init`` writes a commented starter config; ``--show-settings``.

``init`` writes ``.tlslint.toml`` (or appends ``[tool.tlslint]`` to an existing
``pyproject.toml``), never overwrites settings, and fills in the nginx version from
the local ``nginx -v`` when there is one. It asks only when stdin is a terminal.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tlslint.nginx_versions import Version
from tlslint.settings import CONFIG_NAMES, Settings, read_config

STARTER_NAME = ".tlslint.toml"
PYPROJECT = "pyproject.toml"
PROFILES = ("intermediate", "modern", "throughput")
# Where distributions put the binary; often not on a user's PATH.
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin")


class InitError(Exception):
    """Why init wrote nothing, worded for the user."""


@dataclass(frozen=True)
class Detected:
    version: str  # e.g. "1.22.1"
    binary: str


@dataclass(frozen=True)
class Questions:
    """How init asks; the defaults answer when stdin is not a terminal."""

    confirm: Callable[[str, bool], bool]
    prompt: Callable[[str, str], str]


def detect_nginx_version(search_path: str | None = None) -> Detected | None:
    """The version ``nginx -v`` reports, from ``nginx`` on PATH or in the usual sbin dirs."""
    if search_path is None:
        search_path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])
    binary = shutil.which("nginx", path=search_path)
    if binary is None:
        return None
    try:
        proc = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    output = proc.stderr + proc.stdout  # nginx prints its version on stderr
    return next((Detected(found, binary) for found in map(_core_release, output.splitlines()) if found), None)


def _core_release(line: str) -> str:
    """The nginx release a line of ``nginx -v`` names with certainty (``openresty/1.21.4.1``
    → 1.21.4; Tengine's second line ``nginx version: nginx/1.24.0``); "" for none (Angie's
    ``Angie/1.9.0`` is Angie's number, not nginx's)."""
    from tlslint.nginx_versions import core_release

    if "version:" not in line:
        return ""
    try:
        return core_release(line).strip()
    except ValueError:
        return ""


def starter(prefix: str, version: str | None, note: str, profile: str = PROFILES[0]) -> str:
    """The commented starter settings; ``prefix`` is "" or "tool.tlslint"."""
    top = f"[{prefix}]\n" if prefix else ""
    dot = f"{prefix}." if prefix else ""
    version_line = f'version = "{version}"  # {note}' if version else f'# version = "1.22"  # {note}'
    return f"""\
{top}# tlslint settings, written by `tlslint init`. Every key is optional; the
# commented lines show examples. `tlslint --show-settings` prints what is in force.

# Rules to run: codes (NGX101), code prefixes (NGX1) or rule names; default all.
# select = ["ALL"]
# ignore = ["NGX108"]

# The lowest severity that fails a run (exit 1): error, warning or info.
fail-on = "warning"

# Rule option defaults: intermediate (Mozilla's intermediate guidance), modern
# (TLS 1.3 only) or throughput (edge proxies that must survive handshake storms).
profile = "{profile}"

# Paths skipped while walking directories, on top of .gitignore.
# exclude = ["vendor/"]
# Rules ignored in some files only (globs relative to this file).
# per-file-ignores = {{ "vendor/*.conf" = ["NGX104"] }}

[{dot}nginx]
# The nginx version your servers run: several defaults depend on it.
{version_line}
# Absolute include paths as they map into this repository.
# roots = {{ "/etc/nginx" = "deploy/nginx" }}
# Directives of modules built into your nginx that tlslint does not know (NGX010).
# extra-directives = ["more_set_headers", "mymod_*"]

# Options of one rule (`tlslint explain CODE` lists them):
# [{dot}rules.NGX103]
# min-size = "10m"
"""


def existing_settings(directory: Path) -> Path | None:
    """A file in ``directory`` that already holds tlslint settings."""
    for name in CONFIG_NAMES:
        candidate = directory / name
        if candidate.is_file() and read_config(candidate) is not None:
            return candidate
    return None


@dataclass(frozen=True)
class Written:
    path: Path
    appended: bool
    version: str | None
    note: str


def init(
    directory: Path,
    *,
    pyproject: bool | None = None,
    nginx_version: str | None = None,
    questions: Questions | None = None,
    search_path: str | None = None,
) -> Written:
    """Write the starter settings into ``directory``; raise InitError when refusing."""
    from tlslint.settings import SettingsError

    if not directory.is_dir():
        raise InitError(f"{directory}: no such directory")
    try:
        existing = existing_settings(directory)
    except SettingsError as error:
        raise InitError(str(error)) from None
    if existing is not None:
        raise InitError(f"{existing}: tlslint settings already exist here; edit them instead")
    project = directory / PYPROJECT
    if pyproject is None:
        pyproject = (
            questions.confirm(f"Add [tool.tlslint] to {project} (no: write {STARTER_NAME})?", False)
            if questions is not None and project.is_file()
            else False
        )
    if pyproject and not project.is_file():
        raise InitError(f"{project}: not found; without --pyproject, init writes {STARTER_NAME}")
    target = project if pyproject else directory / STARTER_NAME
    if not pyproject and target.exists():
        raise InitError(f"{target}: already exists; edit it instead")
    version, note = _version(nginx_version, questions, search_path, directory)
    if questions is not None:
        profile = questions.prompt(f"Profile ({', '.join(PROFILES)})", PROFILES[0]).strip()
        if profile not in PROFILES:
            raise InitError(f"'{profile}' is no profile (choose one of {', '.join(PROFILES)})")
    else:
        profile = PROFILES[0]
    text = starter("tool.tlslint" if pyproject else "", version, note, profile)
    if pyproject:
        _append(project, text)
    else:
        _create(target, text)
    return Written(target, pyproject, version, note)


def _version(
    given: str | None, questions: Questions | None, search_path: str | None, directory: Path
) -> tuple[str | None, str]:
    """The version to write and the comment that says where it came from."""
    from tlslint.nginx_versions import core_release, parse_version

    detected = None
    unset = "unknown: set the version your servers run"
    if given is None:
        detected = detect_nginx_version(search_path)
        if detected is not None:
            refuted = _refuted(directory, parse_version(detected.version))
            if refuted:
                unset = f"not the nginx {detected.version} of {detected.binary} here: {refuted}"
                detected = None
        given = detected.version if detected else ""
        if questions is not None:
            given = questions.prompt("nginx version your servers run (blank: leave unset)", given).strip()
    if not given:
        return None, unset
    try:
        parse_version(given)
    except ValueError as error:
        raise InitError(str(error)) from None
    version = core_release(given).strip().removeprefix("nginx/")  # openresty/1.25.3.1: 1.25.3
    if detected is not None and version == detected.version:
        return version, f"`nginx -v` of {detected.binary} here: make it what your servers run"
    return version, "given to tlslint init"


def _refuted(directory: Path, version: Version) -> str:
    """Why the files under ``directory`` cannot run on ``version`` (the image of a
    Dockerfile or compose file, a line only other releases accept); "" when none says so.

    The local nginx is a guess at what the servers run: pinned against what the
    repository shows, it turns the rules against the files (`http2 on` reported as
    refused by a 1.22 the servers never run)."""
    import dataclasses

    from tlslint.engine import run
    from tlslint.settings import SettingsError, load_settings

    try:
        settings = dataclasses.replace(load_settings(directory), select=[], extend_select=[])
        workspace = run([directory], settings).workspace
    except (SettingsError, OSError):
        return ""
    for config in workspace.nginx:
        versions = workspace.nginx_versions(config)
        if versions.known and not versions.contains(version):
            evidence = "; ".join(e.phrase() for e in versions.evidence())
            return (
                f"{_shown(config.files[0], directory.resolve())} runs nginx {versions.label()} ({evidence})"
            )
    return ""


def _create(target: Path, text: str) -> None:
    try:
        with open(target, "x", encoding="utf-8") as handle:  # "x": never overwrite
            handle.write(text)
    except FileExistsError:
        raise InitError(f"{target}: already exists; edit it instead") from None
    except OSError as error:
        raise InitError(f"{target}: cannot write: {error.strerror or error}") from None


def _append(project: Path, text: str) -> None:
    """Append to pyproject.toml, after checking that the result is still valid TOML."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found]

    try:
        current = project.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InitError(f"{project}: cannot read: {error}") from None
    blank_lines = len(current) - len(current.rstrip("\n"))
    separator = "\n" * max(0, 2 - blank_lines) if current else ""
    try:
        tomllib.loads(current + separator + text)
    except tomllib.TOMLDecodeError as error:
        raise InitError(f"{project}: cannot add [tool.tlslint]: invalid TOML: {error}") from None
    try:
        with open(project, "a", encoding="utf-8") as handle:
            handle.write(separator + text)
    except OSError as error:
        raise InitError(f"{project}: cannot write: {error.strerror or error}") from None


# --- --show-settings ---------------------------------------------------------------------------


def show_settings(settings: Settings) -> str:
    """The settings in force, as TOML-like text: each value with where it came from."""
    from tlslint import catalogue
    from tlslint.filters import Filters
    from tlslint.nginx_versions import format_version
    from tlslint.sources.nginx.loader import NginxFiles

    raw = settings.raw
    lines = []
    if settings.source is not None:
        table = " [tool.tlslint]" if settings.source.name == PYPROJECT else ""
        lines.append(f"# settings file: {settings.source}{table}")
    else:
        lines.append("# settings file: none found (defaults)")
    lines.append(f"# base directory: {settings.base} (globs are relative to it)")
    lines.append("")

    def line(key: str, value: Any, file_value: Any, default: Any) -> str:
        text = f"{key} = {_toml(value)}"
        if file_value is _MISSING:
            source = "default" if value == default else "command line"
        else:
            source = "" if value == file_value else "command line"
        return f"{text:<40}  # {source}" if source else text

    # The file's selection as written; the command line's is a layer over it, said apart:
    # two layers do not merge into one (ruff's layering, tlslint.selection).
    lines.append(line("select", settings.select or ["ALL"], raw.get("select", _MISSING), ["ALL"]))
    lines.append(line("extend-select", settings.extend_select, raw.get("extend-select", _MISSING), []))
    lines.append(line("ignore", settings.ignore, raw.get("ignore", _MISSING), []))
    lines += _command_line_selection(settings)
    lines.append(
        line("per-file-ignores", settings.per_file_ignores, raw.get("per-file-ignores", _MISSING), {})
    )
    lines.append(line("exclude", settings.exclude, raw.get("exclude", _MISSING), []))
    lines.append(line("fail-on", str(settings.fail_on), raw.get("fail-on", _MISSING), "warning"))
    lines.append(line("profile", settings.profile, raw.get("profile", _MISSING), "intermediate"))
    lines.append(line("non-sni", settings.non_sni, raw.get("non-sni", _MISSING), "auto"))
    lines.append(
        line("max-file-size", settings.max_file_size, raw.get("max-file-size", _MISSING), 16 * 2**20)
    )
    nginx_raw = raw.get("nginx", {})
    version = format_version(settings.nginx_version) if settings.nginx_version else None
    lines += ["", "[nginx]"]
    if version is None:
        lines.append("# version: not set (rules say where their answer depends on it)")
    else:
        file_version = nginx_raw.get("version", _MISSING)
        if file_version is not _MISSING:
            try:
                from tlslint.nginx_versions import parse_version

                file_version = format_version(parse_version(file_version))
            except ValueError:
                pass
        lines.append(line("version", version, file_version, None))
        from tlslint.nginx_versions import below_supported_warning

        older = below_supported_warning(settings.nginx_version_text or version)
        if older:
            lines.append(f"# {older}")
    roots = {key: _shown(path, settings.base) for key, path in settings.nginx_roots.items()}
    lines.append(line("roots", roots, nginx_raw.get("roots", _MISSING), {}))
    if settings.kustomize_options:  # the flags every kustomize build is run with
        lines += ["", "[kustomize]", f"build-options = {_toml(list(settings.kustomize_options))}"]
    for section, values in (("apigee", settings.apigee), ("kubernetes", settings.kubernetes)):
        if values:
            lines += ["", f"[{section}]"]
            lines += [f"{key} = {_toml(value)}" for key, value in sorted(values.items())]
    enabled = Filters(settings, NginxFiles(max_bytes=settings.max_file_size)).enabled
    for code, meta in catalogue.index().items():
        if not meta.options or not enabled(code):
            continue
        defaults = meta.option_defaults(settings.profile)
        given = settings.options_for(code)
        lines += ["", f"[rules.{code}]  # {meta.name}"]
        for name in meta.options:
            value = given.get(name, defaults[name])
            source = "" if name in given else f"  # default ({settings.profile} profile)"
            lines.append(f"{name} = {_toml(value)}{source}")
    return "\n".join(lines) + "\n"


_MISSING: Any = object()


def _command_line_selection(settings: Settings) -> list[str]:
    """The command line's selection over the file's, and the rules that run, as comments."""
    from tlslint import catalogue
    from tlslint.filters import ALWAYS_ENABLED
    from tlslint.findings import LOADING_RULES
    from tlslint.selection import Resolution

    lines = []
    for layer in settings.overrides:
        options = [
            f"--{key} {','.join(values)}"
            for key, values in (
                ("select", layer.select),
                ("extend-select", layer.extend_select),
                ("ignore", layer.ignore),
            )
            if values
        ]
        lines.append(f"# command line, over the lines above: {' '.join(options)}")
        if layer.select is not None:
            lines.append(
                "#   (--select starts afresh: the file's select, extend-select and ignore do not apply)"
            )
    index = catalogue.index()
    selected = set(Resolution(settings.selections()).selected()) | ALWAYS_ENABLED
    running = [code for code in index if code in selected]
    idle = [code for code in index if code not in selected]
    if len(idle) <= len(running):
        shown = "all but " + ", ".join(idle) if idle else "all"
    else:
        shown = ", ".join(running)
    lines.append(f"# rules that run ({len(running)} of {len(index)}): {shown}")
    lines.append(f"# reported whatever the selection, for what does not load: {', '.join(LOADING_RULES)}")
    return lines


def _shown(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix() or "."
    except ValueError:
        return path.as_posix()


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Path):
        return json.dumps(value.as_posix(), ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = ", ".join(f"{json.dumps(str(k))} = {_toml(v)}" for k, v in value.items())
        return "{ " + items + " }"
    return json.dumps(str(value))


def interactive() -> bool:
    return sys.stdin.isatty()
