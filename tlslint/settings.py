"""Settings: found by walking up from the deepest directory that holds every path
checked (so the order of the paths does not matter), validated by a JSON Schema and
against the catalogue."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tlslint.findings import Severity
from tlslint.nginx_directives import ExtraDirective, parse_extra_directives
from tlslint.nginx_versions import Version, parse_version
from tlslint.paths import resolved
from tlslint.selection import RuleSelection, selector_problem

CONFIG_NAMES = (".tlslint.toml", ".tlslint.yaml", ".tlslint.yml", "pyproject.toml")
SCHEMA_PATH = Path(__file__).parent / "schemas" / "settings.schema.json"


class SettingsError(Exception):
    """A settings problem, worded for the user (file and key named)."""


@dataclass
class Settings:
    """The settings in force: file, command-line overrides and defaults merged."""

    source: Path | None = None  # the settings file, if any
    base: Path = field(default_factory=Path.cwd)  # globs are relative to this
    # The settings file's rule selection; the command line's are ``overrides``, applied
    # after it (tlslint.selection).
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    overrides: list[RuleSelection] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    fail_on: Severity = Severity.WARNING
    profile: str = "intermediate"
    non_sni: str = "auto"
    max_file_size: int = 16 * 2**20
    nginx_version: Version | None = None
    nginx_version_text: str = ""  # as written: "1.25" and "1.25.0" read alike but mean differently
    nginx_roots: dict[str, Path] = field(default_factory=dict)
    nginx_extra_directives: tuple[ExtraDirective, ...] = ()  # third-party modules' directives
    apigee: dict[str, str] = field(default_factory=dict)
    kubernetes: dict[str, str] = field(default_factory=dict)
    kustomize_options: tuple[str, ...] = ()  # [kustomize] build-options: flags for every build
    backends: list[dict[str, str]] = field(default_factory=list)  # [[backends]] upstream / config
    helm_releases: list[dict[str, Any]] = field(default_factory=list)  # [helm] releases: chart, values...
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def options_for(self, code: str) -> dict[str, Any]:
        return self.rule_options.get(code, {})

    def selections(self) -> list[RuleSelection]:
        """The layers of rule selection, in the order they apply: the file's, then the
        command line's."""
        origin = f"{self.source}" if self.source is not None else "settings"
        own = RuleSelection(
            tuple(self.select) if self.select is not None else None,
            tuple(self.extend_select),
            tuple(self.ignore),
            origin,
        )
        return [own, *self.overrides]


def common_base(paths: Sequence[Path]) -> Path:
    """The deepest directory that holds every one of ``paths`` (a directory itself, a
    file its directory), as Black finds its project root: where the settings search
    starts, whatever the order of the paths."""
    directories = []
    for path in paths:
        found = resolved(path)  # realpath: a symlink loop given as a target does not raise
        directories.append(found if os.path.isdir(found) else found.parent)  # False where unreadable
    return Path(os.path.commonpath(directories)) if directories else resolved(Path("."))


def find_config(directory: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest settings file at or above ``directory`` that holds tlslint settings."""
    for candidate_dir in (directory, *directory.parents):
        for name in CONFIG_NAMES:
            candidate = candidate_dir / name
            if not os.path.isfile(candidate):
                continue
            data = read_config(candidate)
            if data is not None:
                return candidate, data
    return None


def read_config(path: Path) -> dict[str, Any] | None:
    """The tlslint table of ``path``; None for a pyproject.toml without one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{path}: cannot read settings: {error}") from None
    data = _load_yaml(path, text) if path.suffix in (".yaml", ".yml") else _load_toml(path, text)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("tlslint") if isinstance(tool, dict) else None
        if table is None:
            return None
        data = table
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: settings must be a mapping")
    return data


def _load_toml(path: Path, text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found]
    try:
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{path}: invalid TOML: {error}") from None


def _load_yaml(path: Path, text: str) -> dict[str, Any]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if "*" in text:  # an alias, maybe
        _refuse_excessive_aliasing(path, text)
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except YAMLError as error:
        raise SettingsError(f"{path}: invalid YAML: {error}") from None
    return data if data is not None else {}


def _refuse_excessive_aliasing(path: Path, text: str) -> None:
    """An alias bomb is refused before it is loaded: validating its expansion never ends.
    The rule of every YAML file tlslint reads (go-yaml's, in ``aliasing.py``)."""
    from tlslint.sources.apigee.tree import AliasingError, YamlError, parse
    from tlslint.sources.nginx.model import SourceText

    try:
        parse(SourceText(path, text))
    except AliasingError as error:
        raise SettingsError(f"{path}: {error.summary} (line {error.line})") from None
    except YamlError:
        pass  # invalid YAML: said as the loader says it


def validate(data: dict[str, Any], origin: str) -> None:
    """Check ``data`` against the settings schema, once per distinct content.

    Importing jsonschema and compiling the schema costs more than the rest of a
    pre-commit run on a few files; settings rarely change. A settings content
    that passed is remembered (a marker named by its hash, the schema's and
    tlslint's version) in the user's cache, never in the repository.
    """
    schema_text = SCHEMA_PATH.read_text(encoding="utf-8")
    marker = _validated_marker(data, schema_text)
    if marker is not None and marker.exists():
        return
    import jsonschema

    schema = json.loads(schema_text)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise SettingsError("\n".join(_describe(error, schema, origin) for error in errors))
    if marker is not None:
        try:
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        except OSError:
            pass  # validated again next time


def _validated_marker(data: dict[str, Any], schema_text: str) -> Path | None:
    import hashlib

    from tlslint import __version__
    from tlslint.paths import user_cache_dir

    try:
        canonical = json.dumps(data, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return None
    digest = hashlib.blake2b(digest_size=16)
    for part in (__version__, schema_text, canonical):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return user_cache_dir() / "settings-valid" / digest.hexdigest()


def _describe(error: Any, schema: dict[str, Any], origin: str) -> str:
    where = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "additionalProperties":
        known = list(error.schema.get("properties", {}))
        extra = [key for key in error.instance if key not in known]
        parts = []
        for key in extra:
            full = f"{where}.{key}" if where else key
            close = _close_matches(key, known, n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else f" (valid keys: {', '.join(known)})"
            parts.append(f"{origin}: unknown setting '{full}'{hint}")
        return "\n".join(parts)
    label = f"'{where}'" if where else "settings"
    if where == "nginx.version" and error.validator == "pattern":
        try:
            parse_version(str(error.instance))
        except ValueError as problem:
            return f"{origin}: {label}: {problem}"
    return f"{origin}: {label}: {error.message}"


def check_references(data: dict[str, Any], origin: str) -> None:
    """Rule codes, names and options that no rule has.

    The schema cannot know the catalogue: without this, a typo in ``select``
    silently disables every rule, and one in a rule option silently leaves the
    default in force.
    """
    from tlslint import catalogue

    index = catalogue.index()
    problems = []
    for key in ("select", "extend-select", "ignore"):
        for selector in data.get(key, []):
            problem = selector_problem(selector)
            if problem:
                problems.append(f"{origin}: '{key}': {problem}")
    for glob, selectors in data.get("per-file-ignores", {}).items():
        for selector in selectors:
            problem = selector_problem(selector)
            if problem:
                problems.append(f"{origin}: 'per-file-ignores.{glob}': {problem}")
    for code, options in data.get("rules", {}).items():
        meta = index.get(code)
        if meta is None:
            close = _close_matches(code, list(index), n=1, cutoff=0.6)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append(f"{origin}: unknown setting 'rules.{code}': there is no rule {code}{hint}")
            continue
        known = list(meta.options)
        for name, value in options.items():
            if name in known:
                from tlslint import rule_options  # only for settings that set options

                wrong = rule_options.problem(value, meta.options[name])
                if wrong:
                    problems.append(f"{origin}: 'rules.{code}.{name}': {wrong}")
                continue
            close = _close_matches(name, known, n=1, cutoff=0.5)
            if close:
                hint = f"; did you mean '{close[0]}'?"
            else:
                hint = f" (valid keys: {', '.join(known)})" if known else f" ({code} has no options)"
            problems.append(f"{origin}: unknown setting 'rules.{code}.{name}'{hint}")
        if any("at-most" in spec for spec in meta.options.values()) and not problems:
            from tlslint import rule_options

            for name, why in rule_options.order_problem(dict(options), meta.options):
                problems.append(f"{origin}: 'rules.{code}.{name}': {why}")
    if problems:
        raise SettingsError("\n".join(problems))


def load_settings(start: Path | Sequence[Path], explicit: Path | None = None) -> Settings:
    """The settings for a run on ``start`` (a path, or the paths of a run): ``explicit``
    (``--config``), else the nearest settings file at or above their common directory."""
    directory = common_base([start] if isinstance(start, Path) else start)
    if explicit is not None:
        if not explicit.is_file():
            raise SettingsError(f"{explicit}: settings file not found")
        data = read_config(explicit)
        if data is None:
            raise SettingsError(f"{explicit}: has no [tool.tlslint] table")
        found: tuple[Path, dict[str, Any]] | None = (explicit, data)
    else:
        found = find_config(directory)
    if found is None:
        return Settings(base=directory)
    path, data = found
    origin = f"{path}" + (" [tool.tlslint]" if path.name == "pyproject.toml" else "")
    validate(data, origin)
    check_references(data, origin)
    return from_mapping(data, path)


def from_mapping(data: dict[str, Any], path: Path | None) -> Settings:
    base = path.parent.resolve() if path else Path.cwd()
    nginx = data.get("nginx", {})
    version_text = nginx.get("version")
    origin = str(path) if path else "settings"
    try:
        version = parse_version(version_text) if version_text else None
    except ValueError as error:
        raise SettingsError(f"{origin}: 'nginx.version': {error}") from None
    roots = {key.rstrip("/") or "/": (base / value) for key, value in nginx.get("roots", {}).items()}
    for key in roots:
        if not key.startswith("/"):
            raise SettingsError(f"{origin}: 'nginx.roots': '{key}' must be an absolute nginx path")
    return Settings(
        source=path,
        base=base,
        select=data.get("select"),
        extend_select=list(data.get("extend-select", [])),
        ignore=list(data.get("ignore", [])),
        per_file_ignores=dict(data.get("per-file-ignores", {})),
        exclude=list(data.get("exclude", [])),
        fail_on=Severity.parse(data.get("fail-on", "warning")),
        profile=data.get("profile", "intermediate"),
        non_sni=data.get("non-sni", "auto"),
        max_file_size=int(data.get("max-file-size", 16 * 2**20)),
        nginx_version=version,
        nginx_version_text=str(version_text or ""),
        nginx_roots=roots,
        nginx_extra_directives=parse_extra_directives(nginx.get("extra-directives", ())),
        apigee=dict(data.get("apigee", {})),
        kubernetes=dict(data.get("kubernetes", {})),
        kustomize_options=tuple(data.get("kustomize", {}).get("build-options", ())),
        backends=[dict(entry) for entry in data.get("backends", [])],
        helm_releases=[dict(entry) for entry in data.get("helm", {}).get("releases", [])],
        rule_options={code: dict(options) for code, options in data.get("rules", {}).items()},
        raw=data,
    )


def _close_matches(word: str, candidates: list[str], n: int, cutoff: float) -> list[str]:
    import difflib  # only to word an error

    return difflib.get_close_matches(word, candidates, n=n, cutoff=cutoff)
