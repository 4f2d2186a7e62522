"""One run: discovery → sources → workspace → checks → filtered findings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tlslint import catalogue
from tlslint.checks import RuleContext, load_checks
from tlslint.discovery import discover
from tlslint.filters import Filters
from tlslint.findings import Finding, Location, Severity
from tlslint.settings import Settings
from tlslint.sources.formats import NGINX, LoadedText
from tlslint.sources.nginx.loader import NginxFiles, include_directives, prefix_for
from tlslint.sources.nginx.model import ParsedFile, SourceText
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import NginxConfig, build_config

# Loading problems are findings too, so every format reports them alike.
PARSE_ERROR = "NGX001"
INCLUDE_NOT_FOUND = "NGX002"
INCLUDE_LOOP = "NGX003"
LOAD_CODES = frozenset({PARSE_ERROR, INCLUDE_NOT_FOUND, INCLUDE_LOOP})


@dataclass
class RunResult:
    findings: list[Finding]
    files: list[Path]  # every file read, includes too
    workspace: Workspace
    nginx_files: NginxFiles
    targets: list[Path] = field(default_factory=list)  # the paths the run was given
    missing_paths: list[Path] = field(default_factory=list)
    texts: dict[Path, LoadedText] = field(default_factory=dict)  # every text read, by resolved path

    def source(self, path: Path) -> SourceText | None:
        loaded = self.texts.get(path.resolve())
        return loaded.source if loaded is not None else None

    @property
    def has_load_errors(self) -> bool:
        return any(f.code in LOAD_CODES for f in self.findings)

    def exit_code(self, fail_on: Severity) -> int:
        if self.missing_paths or self.has_load_errors:
            return 2
        return 1 if any(f.severity >= fail_on for f in self.findings) else 0


def run(
    paths: Iterable[Path], settings: Settings, overlay: Mapping[Path, SourceText] | None = None
) -> RunResult:
    targets = list(paths)
    discovered = discover(targets, settings.exclude, settings.base)
    files = NginxFiles(max_bytes=settings.max_file_size, roots=settings.nginx_roots, overlay=overlay or {})
    configs = load_nginx(files, discovered.nginx)
    workspace = Workspace(nginx=configs, nginx_version=settings.nginx_version)
    filters = Filters(settings, files)
    findings = [f for f in load_findings(files, configs) if filters.keep(f)]
    index = catalogue.index()
    for check in load_checks(filters.enabled):
        meta = index[check.code]
        options = {**meta.option_defaults(settings.profile), **settings.options_for(check.code)}
        context = RuleContext(meta, options, settings)
        findings.extend(f for f in check.run(context, workspace) if filters.keep(f))
    findings = _dedupe(findings)
    findings.sort(key=Finding.sort_key)
    read = sorted({*files.parsed, *files.errors})
    texts = {path: LoadedText(parsed.source, NGINX) for path, parsed in files.parsed.items()}
    return RunResult(findings, read, workspace, files, targets, list(discovered.missing), texts)


def load_nginx(files: NginxFiles, paths: list[Path]) -> list[NginxConfig]:
    """Parse every file; check each in the context of its includer, once."""
    parsed: list[tuple[Path, ParsedFile]] = []
    included: set[Path] = set()
    for path in paths:
        result = files.get(path)
        if result is None:
            continue
        parsed.append((path, result))
        prefix = prefix_for(path)
        for directive in include_directives(result):
            included.update(p.resolve() for p in files.resolve_include(directive, prefix).paths)
    configs: list[NginxConfig] = []
    covered: set[Path] = set()
    # Files only reachable through an include cycle become roots in a second pass.
    for second_pass in (False, True):
        for path, result in parsed:
            resolved = path.resolve()
            if resolved in covered or (not second_pass and resolved in included):
                continue
            config = build_config(files, result, prefix_for(path))
            covered.update(config.files)
            configs.append(config)
    return configs


def load_findings(files: NginxFiles, configs: list[NginxConfig]) -> list[Finding]:
    meta = catalogue.index()
    findings = []
    for path, error in sorted(files.errors.items()):
        findings.append(
            _load_finding(
                meta[PARSE_ERROR], Location(path, error.line, 1 if error.line else 0), error.message
            )
        )
    seen: set[tuple[Path, int, str]] = set()
    for config in configs:
        for problem in config.problems:
            key = (problem.path, problem.line, problem.message)
            if key in seen:
                continue
            seen.add(key)
            code = INCLUDE_LOOP if problem.kind == "loop" else INCLUDE_NOT_FOUND
            column = problem.directive.column if problem.directive else 1
            location = Location(problem.path, problem.line, column)
            target = " ".join(problem.directive.args) if problem.directive else ""
            findings.append(_load_finding(meta[code], location, problem.message, f"include[{target}]"))
    return findings


def _load_finding(
    meta: catalogue.RuleMeta, location: Location, message: str, anchor: str = "file"
) -> Finding:
    # The anchor keeps fingerprints free of line numbers and absolute paths.
    return Finding(meta.code, meta.name, meta.severity, message, location, anchor=anchor)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """A file included from two contexts can raise the same finding twice."""
    seen: set[tuple[str, Path, int, int, str]] = set()
    unique = []
    for finding in findings:
        loc = finding.location
        key = (finding.code, loc.path, loc.line, loc.column, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    return unique
