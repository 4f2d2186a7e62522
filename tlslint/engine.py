"""One run: discovery → sources → workspace → checks → filtered findings."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint import catalogue, collector
from tlslint.checks import Check, file_location, load_checks
from tlslint.discovery import Discovered, discover, missing_reason
from tlslint.filters import Filters
from tlslint.findings import (
    BYTE_ORDER_MARK,
    INCLUDE_LOOP,
    INCLUDE_NOT_FOUND,
    PARSE_ERROR,
    UNPARSED,
    Finding,
    Location,
    Severity,
    is_load_error,
)
from tlslint.nginx_inference import declared_versions
from tlslint.paths import resolved, working_directory_pinned
from tlslint.project import stops
from tlslint.run_checks import checked, drop_indexes
from tlslint.settings import Settings
from tlslint.sources.formats import NGINX, LoadedText
from tlslint.sources.nginx.loader import NginxFiles, prefix_for
from tlslint.sources.nginx.model import ParsedFile, SourceText
from tlslint.version_range import SETTING
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import MAIN, NginxConfig, build_config, detect_context

if TYPE_CHECKING:
    from tlslint.baseline import Baseline, BaselineOutcome, Judge
    from tlslint.cache import ModelCache
    from tlslint.discovery import Discovered
    from tlslint.results import ResultStore
    from tlslint.scope import Scope
    from tlslint.sources.python.prefetch import Prefetch
    from tlslint.suppressions import Suppression
    from tlslint.version_range import Evidence, VersionRange
    from tlslint.workspace.apigee import ApigeeLoad
    from tlslint.workspace.backends import BackendLoad
    from tlslint.workspace.kubernetes import KubernetesLoad
    from tlslint.workspace.rendered import RenderedLoad

UNKNOWN_DIRECTIVE_CODE = "NGX010"
UNREADABLE_PATH = "SRC001"  # named: an error (exit 2); found by a walk or an include glob: a warning


@dataclass
class RunResult:
    """What a run found and read: findings, texts and workspace, for reports and fixes."""

    findings: list[Finding]
    files: list[Path]  # every file read, includes too
    workspace: Workspace
    nginx_files: NginxFiles
    targets: list[Path] = field(default_factory=list)  # the paths the run was given
    missing_paths: list[Path] = field(default_factory=list)
    texts: dict[Path, LoadedText] = field(default_factory=dict)  # every text read, by resolved path
    baseline: BaselineOutcome | None = None  # what --baseline ignored, and its stale entries
    reported: frozenset[Path] | None = None  # the files findings were reported for; None: all
    # In a run on files (or a directory) below their includer: the nginx files given and
    # what they include. --fix writes no other nginx file (the includer is not given).
    given_nginx: frozenset[Path] | None = None
    options: RunOptions | None = None  # how the run was made; the fixer re-checks the same way
    warnings: list[tuple[Location, str]] = field(default_factory=list)  # said on stderr, not findings
    empty_paths: list[Path] = field(default_factory=list)  # given, but no configuration in them
    rule_ran: Callable[[str], bool] = lambda code: True  # whether a code's rule ran (select, ignore)

    def baseline_judge(self, base: Path) -> Judge:
        """Which entries of a baseline (paths relative to ``base``) this run judged."""
        from tlslint.baseline import judge

        checked = checked_files(
            self.files, self.workspace.nginx, self.nginx_files, self.reported, self.findings
        )
        return judge(base, checked, self.rule_ran)

    def source(self, path: Path) -> SourceText | None:
        loaded = self.texts.get(resolved(path))
        return loaded.source if loaded is not None else None

    @property
    def has_load_errors(self) -> bool:
        """A file could not be read or parsed (any format): the verdict is incomplete."""
        return any(is_load_error(f) for f in self.findings)

    def exit_code(self, fail_on: Severity) -> int:
        if self.missing_paths or self.has_load_errors:
            return 2
        return 1 if any(f.severity >= fail_on for f in self.findings) else 0


Progress = Callable[[int, int], None]  # (files parsed, files to parse)


@dataclass(frozen=True)
class RunOptions:
    """How a run chooses and reports, beyond the settings."""

    scope: Scope | None = None  # report only findings located in these files
    baseline: Baseline | None = None  # ignore the findings it records
    force_exclude: bool = False  # named files are filtered and classified like walked ones
    progress: Progress | None = None  # told as each discovered file is parsed
    cache: ModelCache | None = None  # parsed models kept between runs (the CLI's, not the API's)
    results: ResultStore | None = None  # nginx configurations' findings kept between runs
    stdin: SourceText | None = None  # text read from standard input (path: --stdin-filename)
    allow_remote_bases: bool = False  # kustomize may fetch remote bases
    # The fixer's re-checks: each configuration's versions as inferred before fixing
    # (by root; see Workspace.nginx_pinned). A fix does not change the nginx that runs it.
    nginx_pinned: Mapping[Path, VersionRange] | None = None


def run(
    paths: Iterable[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None = None,
    run_options: RunOptions | None = None,
) -> RunResult:
    with collector.paused(), working_directory_pinned():  # see tlslint.collector
        return _run(paths, settings, overlay, run_options)


def _run(
    paths: Iterable[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None,
    run_options: RunOptions | None,
) -> RunResult:
    how = run_options or RunOptions()
    targets = list(paths)
    discovered = discover(
        targets, settings.exclude, settings.base, force_exclude=how.force_exclude, roots=settings.nginx_roots
    )
    stdin_yaml, overlay = _add_stdin(how.stdin, discovered, overlay)
    files = NginxFiles(
        max_bytes=settings.max_file_size, roots=settings.nginx_roots, overlay=overlay or {}, cache=how.cache
    )
    python = None
    try:
        files.prefetch(discovered.nginx)  # across processes, when there are many
        # Forked after that scan, which keeps both CPUs busy, and before the nginx files
        # are read one by one or built into configurations here alone.
        python = _prefetch_backends(discovered, settings, overlay)
        if how.progress is not None:
            _parse_all(files, discovered.nginx, how.progress)
        named = [path for path in discovered.nginx if resolved(path) in discovered.explicit]
        before = {*files.parsed, *files.errors}
        includers = _includers(files, named, settings) if named else []
        above = _directory_includers(files, targets, discovered.nginx, settings)
        configs = load_nginx(files, [*includers, *above, *discovered.nginx])
        searched = _searched_only(files, before, configs, [*includers, *above, *discovered.nginx])
        filters = Filters(settings, files)
        declaring = settings.nginx_version is not None  # the setting wins over the images
        # Looked for under a setting only to report an image it contradicts (NGX004).
        images = (
            _versions_near(settings, discovered.deployment, targets, configs)
            if not declaring or filters.enabled("NGX004")
            else {}
        )
        workspace = Workspace(
            nginx=configs,
            nginx_version=settings.nginx_version,
            nginx_declared=declared_versions(settings),
            nginx_declared_near={} if declaring else images,
            nginx_images_overruled=images if declaring else {},
            nginx_pinned=how.nginx_pinned or {},
        )
        findings = [
            f
            for f in load_findings(files, configs)
            if filters.keep(f) and (not searched or resolved(f.location.path) not in searched)
        ]
        findings.extend(f for f in walk_findings(discovered, configs) if filters.keep(f))
        rendered = _add_rendered(discovered, targets, settings, how, stdin_yaml, filters, overlay)
        yaml = rendered.remaining(discovered.yaml) if rendered is not None else discovered.yaml
        apigee = _add_apigee(workspace, filters, yaml, settings, overlay, targets)
        findings.extend(f for f in apigee.findings if filters.keep(f))
        # Given files by name, or a directory below the project's top: the compose stack
        # above them names the app servers too.
        walked = [target for target in targets if os.path.isdir(target)]
        below = not named and _below_project_root(walked, settings)
        near = _compose_near(configs, discovered, settings) if named or below else []
        backends = _add_backends(
            workspace,
            filters,
            [*discovered.backend, *_compose_files(discovered), *near],
            settings,
            overlay,
            python,
        )
        # What only the stack above led to is context, never reported: not a file given
        # (nor, in a run on a directory, one in it).
        context = _context(backends.read, discovered, None if named else walked) if near else set()
    finally:
        if python is not None:
            python.stop()  # a helper whose result was not taken (the run failed first)
    findings.extend(f for f in backends.findings if filters.keep(f))
    gateways = rendered.remaining(discovered.kubernetes) if rendered is not None else discovered.kubernetes
    kubernetes = _add_kubernetes(workspace, filters, gateways, yaml, settings, overlay, targets)
    findings.extend(f for f in kubernetes.findings if filters.keep(f))
    index = catalogue.index()
    checks = load_checks(lambda code: filters.enabled(code) and _has_input(index[code].target, workspace))
    findings.extend(_checked(checks, settings, workspace, filters, files, how, overlay))
    drop_indexes(workspace)  # the checks' shared indexes (not the versions, which fixes ask)
    if rendered is not None:
        from tlslint.workspace.rendered import check_builds, once_a_run

        findings = rendered.mark_undecidable(findings)
        findings.extend(f for f in rendered.findings if filters.keep(f))
        built = check_builds(rendered, settings, filters, workspace, findings)
        findings = once_a_run([*findings, *built])
    # the files suppressions can be in (a YAML file both the Apigee and the gateway tier read, once)
    rendered_texts = rendered.texts if rendered else ()
    nginx_read = [path for path in files.parsed if path not in searched]
    commented = list(
        dict.fromkeys([*nginx_read, *apigee.texts, *backends.texts, *kubernetes.texts, *rendered_texts])
    )
    if filters.tracks_usage:  # after every other rule: what the comments silenced is known
        findings.extend(f for f in _unused_suppressions(filters, commented) if filters.keep(f))
    findings = _dedupe(findings)
    findings = _unfixable_with_marks(files, findings)
    findings = _unfixable_below_unparsed(files, configs, findings)
    findings.sort(key=Finding.sort_key)
    read = sorted(
        {
            *nginx_read, *(p for p in files.errors if p not in searched), *apigee.read,
            *(p for p in backends.read if p not in context), *kubernetes.read,
            *(rendered.read if rendered else ()),
        }
    )  # fmt: skip
    texts = {path: LoadedText(files.parsed[path].source, NGINX) for path in nginx_read}
    texts.update(apigee.texts)
    texts.update(backends.texts)
    texts.update(kubernetes.texts)
    if rendered is not None:
        texts.update({path: text for path, text in rendered.texts.items() if path not in texts})
    findings = _unfixable_with_cr_lines(texts, findings)
    # Both YAML tiers may read a file; either one finding a key twice withholds its fixes.
    refused = {p: t.no_fix for tier in (apigee.texts, kubernetes.texts) for p, t in tier.items() if t.no_fix}
    findings = _without_fixes_into(refused, findings)
    # Given files by name, or a directory below its includer: report what was given.
    walked = [*discovered.nginx, *_loaded_in(configs, targets)] if above else discovered.nginx
    given_walk = walked if named or above else None
    reported, given = _reported(files, configs, how.scope, given_walk)
    if reported is not None and how.scope is not None:
        reported |= _changed_for_all(files, workspace, how.scope, given)
    if reported is not None:
        reported |= apigee.reported(how.scope)
        reported |= backends.reported(how.scope) - context
        reported |= kubernetes.reported(how.scope)
        reported |= rendered.reported(how.scope) if rendered is not None else set()
        # What does not load is reported wherever --changed-since leaves it: the verdict
        # is incomplete (exit 2), and "all checks passed" must not be said of it
        # (docs/exit-codes.md). Only within what the run was given, as ever.
        tiers = [apigee.reported, backends.reported, kubernetes.reported]
        tiers += [rendered.reported] if rendered is not None else []
        loads = _given_files(files, configs, given_walk, tiers) if how.scope is not None else set()
        # A finding for one cause is reported where any place it covers is; under
        # --changed-since, also where a place it names changed.
        findings = [
            f
            for f in findings
            if (where := resolved(f.location.path)) in reported
            or any(resolved(p) in reported for p, _ in f.covers)
            or (how.scope is not None and _touches(f, how.scope.files))
            or (is_load_error(f) and where not in context and (loads is None or where in loads))
        ]
    elif context:
        findings = [f for f in findings if f.location.path not in context]
    outcome = None
    if how.baseline is not None:
        from tlslint.baseline import apply, judge

        checked = checked_files(read, configs, files, reported, findings)
        findings, outcome = apply(how.baseline, findings, judge(how.baseline.base, checked, filters.enabled))
    missing = list(discovered.missing)
    if missing:  # a path named and not checked is said in every format, whatever the scope
        findings = sorted([*path_findings(discovered), *findings], key=Finding.sort_key)
    scope = frozenset(reported) if reported is not None else None
    in_scope = [p for p in commented if scope is None or p in scope]
    unknown = filters.unknown_codes(in_scope)
    warnings = _unknown_code_warnings(unknown) if unknown else []
    if not declaring:  # an image older than the rules describe, as the setting is warned of
        warnings += _older_image_warnings(images.values())
    malformed = filters.malformed(in_scope)
    if malformed:
        from tlslint.suppressions import malformed_warnings

        warnings = [*warnings, *malformed_warnings(malformed)]
        warnings.sort(key=lambda warning: (str(warning[0].path), warning[0].line))
    return RunResult(
        findings,
        read,
        workspace,
        files,
        targets,
        missing,
        texts,
        baseline=outcome,
        reported=scope,
        given_nginx=given,  # an includer above them is context, never written
        options=how,
        warnings=warnings,
        rule_ran=filters.enabled,
        # A named YAML file of no format is configuration when a build renders it.
        empty_paths=[p for p in discovered.empty if rendered is None or p not in discovered.other_yaml],
    )


class _NoSources:
    """What loading a tier gives when none of its files is in scope."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.texts: dict[Path, LoadedText] = {}
        self.read: list[Path] = []

    def reported(self, scope: Scope | None) -> set[Path]:
        return set()


def _add_apigee(
    workspace: Workspace,
    filters: Filters,
    paths: list[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None,
    targets: list[Path],
) -> ApigeeLoad | _NoSources:
    """Apigee YAML, its modules imported only when some is in scope (a fix may be creating one)."""
    pending_yaml = any(p.suffix in (".yaml", ".yml") and not p.exists() for p in overlay or {})
    if not paths and not pending_yaml:
        return _NoSources()
    from tlslint.workspace.apigee import add_apigee

    return add_apigee(workspace, filters, paths, settings, overlay, targets)


def _prefetch_backends(
    discovered: Discovered, settings: Settings, overlay: Mapping[Path, SourceText] | None
) -> Prefetch | None:
    """Python app-server configs, read by a forked helper while nginx is parsed here."""
    if not discovered.backend or overlay:
        return None
    from tlslint.sources.python.prefetch import Prefetch

    return Prefetch.start(discovered.backend, settings.max_file_size, len(discovered.nginx))


def _add_stdin(
    stdin: SourceText | None, discovered: Discovered, overlay: Mapping[Path, SourceText] | None
) -> tuple[SourceText | None, Mapping[Path, SourceText] | None]:
    """Text read from stdin: nginx joins the files (as an edited text), YAML is a stream to
    check as one deployment (returned)."""
    if stdin is None:
        return None, overlay
    from tlslint.stdin import is_nginx

    if not is_nginx(stdin):
        return stdin, overlay
    path = resolved(stdin.path)
    discovered.nginx.append(path)
    discovered.explicit.add(path)
    return None, {**(overlay or {}), path: stdin}


def _add_rendered(
    discovered: Discovered,
    targets: list[Path],
    settings: Settings,
    how: RunOptions,
    stdin: SourceText | None,
    filters: Filters,
    overlay: Mapping[Path, SourceText] | None = None,
) -> RenderedLoad | None:
    """Kustomize builds, Helm releases and a YAML stream on stdin; None (nothing imported)
    when none is in scope. A release renders from the texts a fix edited (``overlay``)."""
    if not (discovered.kustomizations or settings.helm_releases or stdin is not None):
        from tlslint.kustomize import enclosing

        # Every YAML tier's named files (rendered.named_yaml, not imported without a build)
        yaml = (*discovered.yaml, *discovered.kubernetes, *discovered.other_yaml)
        named = [p for p in yaml if resolved(p) in discovered.explicit]
        if not any(enclosing(path, stops(settings)) is not None for path in named):
            return None
    from tlslint.workspace.rendered import load_rendered

    loaded = load_rendered(
        discovered, targets, settings, allow_remote=how.allow_remote_bases, stdin=stdin, overlay=overlay
    )
    loaded.register(filters)
    return loaded


def _compose_files(discovered: Discovered) -> list[Path]:
    """docker-compose files that may run an app server: its service names reach it."""
    if not discovered.deployment or not discovered.nginx:
        return []
    from tlslint.sources.python.compose_sniff import compose_backend_files

    return compose_backend_files(discovered.deployment)


def _below_project_root(walked: list[Path], settings: Settings) -> bool:
    """Whether a directory given is not the project's top (``tlslint nginx/``), where a
    walk sees every compose file the project has."""
    from tlslint.project import is_root, stops

    tops = {resolved(stop) for stop in stops(settings)}
    for directory in walked:
        try:
            if not is_root(resolved(directory), tops):
                return True
        except OSError:  # cannot be listed (reported as such): nothing is looked for above it
            continue
    return False


def _context(read: list[Path], discovered: Discovered, walked: list[Path] | None) -> set[Path]:
    """The backend files read only because of the compose stack above: not given by name,
    and in a run on directories (``walked``), outside them."""
    given = [resolved(directory) for directory in walked or ()]
    return {
        path
        for path in read
        if (found := resolved(path)) not in discovered.explicit
        and not any(found.is_relative_to(directory) for directory in given)
    }


def _compose_near(configs: list[NginxConfig], discovered: Discovered, settings: Settings) -> list[Path]:
    """The compose files above the configurations of a run given files by name or a
    directory below the project's top (see ``tlslint.deployment_near.compose_near``)."""
    if not configs:
        return []
    from tlslint.deployment_near import compose_near

    return compose_near([config.files[0] for config in configs], discovered.deployment, settings)


def _add_backends(
    workspace: Workspace,
    filters: Filters,
    paths: list[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None,
    prefetch: Prefetch | None = None,
) -> BackendLoad | _NoSources:
    """App-server configs, their modules imported only when some is in scope or mapped."""
    if not paths and not settings.backends:
        return _NoSources()
    from tlslint.workspace.backends import add_backends

    prefetched = prefetch.result() if prefetch is not None else None
    return add_backends(workspace, filters, paths, settings, overlay, prefetched)


def _add_kubernetes(
    workspace: Workspace,
    filters: Filters,
    paths: list[Path],
    apigee: list[Path],
    settings: Settings,
    overlay: Mapping[Path, SourceText] | None,
    targets: list[Path],
) -> KubernetesLoad | _NoSources:
    """Gateway and ingress-nginx YAML, its modules imported only when some is in scope
    (``apigee``: the files the Apigee tier reads too, which report their own load errors)."""
    if not paths:
        return _NoSources()
    from tlslint.workspace.kubernetes import add_kubernetes

    return add_kubernetes(workspace, filters, paths, settings, overlay, targets, quiet=apigee)


def _checked(
    checks: list[Check],
    settings: Settings,
    workspace: Workspace,
    filters: Filters,
    files: NginxFiles,
    how: RunOptions,
    overlay: Mapping[Path, SourceText] | None,
) -> list[Finding]:
    """Every check's kept findings, in check order; a rule whose target is nginx checks
    each configuration alone (what it finds in one depends on that one only), so that
    a configuration unchanged since an earlier run takes that run's findings
    (``tlslint.results``). Not for the fixer's re-checks (edited texts, pinned versions)
    nor when unused suppressions are reported (only a check run says what it silenced)."""
    index = catalogue.index()
    per_config = [check.code for check in checks if index[check.code].target == "nginx"]
    store = how.results
    if store is None or overlay or how.nginx_pinned or filters.tracks_usage or not per_config:
        store = None
    keys: list[str] = []
    reused: dict[int, dict[str, list[Finding]]] = {}
    if store is not None:
        from tlslint.results import config_key, run_digest

        # By declared range and overruled image: most configurations share one.
        digests: dict[tuple[int, int], bytes] = {}
        for config in workspace.nginx:
            declared = workspace.nginx_declared_for(config)
            overruled = workspace.nginx_images_overruled.get(config.files[0])
            shared = (id(declared), id(overruled))
            if shared not in digests:
                digests[shared] = run_digest(settings, declared, overruled)
            keys.append(config_key(digests[shared], config, files))
        for position, key in enumerate(keys):
            earlier = store.get(key)
            if earlier is not None and all(code in earlier for code in per_config):
                reused[position] = earlier
    found = checked(
        checks, settings, workspace, filters, files=len(files.parsed), per_config=per_config, skip=reused
    )
    for position, key in enumerate(keys):
        if position not in reused:
            store.put(key, {code: found[(position, code)] for code in per_config})  # type: ignore[union-attr]
    ordered: list[Finding] = []
    for check in checks:
        if check.code not in per_config:
            ordered.extend(found[(None, check.code)])
            continue
        for position in range(len(workspace.nginx)):
            earlier = reused.get(position)
            ordered.extend(earlier[check.code] if earlier is not None else found[(position, check.code)])
    return ordered


def _versions_near(
    settings: Settings, deployment: list[Path], targets: list[Path], configs: list[NginxConfig]
) -> dict[Path, VersionRange]:
    """By configuration root: the versions of the nginx images nearest above it, in every
    run alike (``tlslint.deployment_near``)."""
    if not configs:
        return {}
    from tlslint.deployment_near import versions_near

    walked = [target for target in targets if os.path.isdir(target)]
    return versions_near([config.files[0] for config in configs], deployment, walked, settings)


def _has_input(target: str, workspace: Workspace) -> bool:
    """False when the tier a rule reads loaded nothing: its check would find nothing
    (tests hold every check to that), so its module is not even imported."""
    if target == "apigee":
        return workspace.apigee is not None
    if target == "backend":
        return workspace.backends is not None
    if target == "kubernetes":
        return workspace.kubernetes is not None
    return True


def _unused_suppressions(filters: Filters, paths: list[Path]) -> list[Finding]:
    from tlslint.filters import UNUSED_SUPPRESSION
    from tlslint.suppressions import unused_findings

    return unused_findings(catalogue.index()[UNUSED_SUPPRESSION], filters.unused(paths))


def _older_image_warnings(images: Iterable[VersionRange]) -> list[tuple[Location, str]]:
    from tlslint.version_report import older_images

    return [
        (Location(evidence.path, evidence.line, 1), warning)
        for evidence, warning in older_images(images)
        if evidence.path is not None
    ]


def _unknown_code_warnings(unknown: list[tuple[Suppression, str]]) -> list[tuple[Location, str]]:
    from tlslint.suppressions import unknown_code_warnings

    return unknown_code_warnings(unknown)


def _parse_all(files: NginxFiles, paths: list[Path], progress: Progress) -> None:
    """Parse up front, one file at a time, to tell ``progress`` (later reads hit the cache)."""
    total = len(paths)
    for done, path in enumerate(paths, 1):
        files.get(path)
        progress(done, total)


def _includers(files: NginxFiles, named: list[Path], settings: Settings) -> list[Path]:
    """The nginx.conf files above the named files that include them (see tlslint.scope)."""
    from tlslint.scope import find_includers, walked_nginx

    return find_includers(files, named, stops(settings), walked_nginx(settings.exclude, settings.base))


def _directory_includers(
    files: NginxFiles, targets: list[Path], walked: list[Path], settings: Settings
) -> list[Path]:
    """The nginx.conf files above the directories given that include files found in them."""
    directories = [target for target in targets if os.path.isdir(target)]  # False where unreadable
    if not directories or not walked:
        return []
    from tlslint.scope import find_directory_includers, walked_nginx

    nginx_in = walked_nginx(settings.exclude, settings.base)
    return find_directory_includers(files, directories, walked, stops(settings), nginx_in)


def _searched_only(
    files: NginxFiles, before: set[Path], configs: list[NginxConfig], roots: list[Path]
) -> frozenset[Path]:
    """The nginx files read only while looking for an includer above the paths given:
    read since ``before``, and part of no configuration checked (a candidate whose
    includes do not reach those paths, or that does not parse and so cannot be shown to,
    and what it includes). They are no part of the run: not read, not reported, whatever
    their errors (docs/usage.md#checking-some-files-of-a-tree)."""
    searched = {*files.parsed, *files.errors} - before
    if not searched:
        return frozenset()
    loaded = {resolved(path) for path in roots}
    loaded.update(path for config in configs for path in config.files)
    searched -= loaded
    if not searched:
        return frozenset()  # a whole tree: everything read is in a configuration
    from tlslint.scope import include_graph

    for targets in include_graph(files, configs).values():
        searched -= targets  # an include that does not parse is the configuration's error
    return frozenset(searched)


def _loaded_in(configs: list[NginxConfig], targets: list[Path]) -> list[Path]:
    """The files that configurations load from the directories given, the walk's or not:
    ``include sites-enabled/*;`` reads ``sites-enabled/a~``, which no walk takes for
    configuration, and ``tlslint sites-enabled`` reports it as ``tlslint .`` does."""
    directories = [os.fspath(resolved(Path(t))) + os.sep for t in targets if os.path.isdir(t)]
    return [
        path for config in configs for path in config.files if os.fspath(path).startswith(tuple(directories))
    ]


def _reported(
    files: NginxFiles, configs: list[NginxConfig], scope: Scope | None, named: list[Path] | None
) -> tuple[set[Path] | None, frozenset[Path] | None]:
    """The files whose findings this run reports (None for all of them), and the nginx
    files given with what they include (None unless ``named``: where --fix may write).

    ``named`` is set when the run was given files by name: it reports the findings in
    the files given (named, or found in a directory given) and in what they include,
    not those of an includer found above a named file, nor of a file read only while
    looking for one.
    """
    if scope is None and named is None:
        return None, None
    from tlslint.scope import Scope, include_graph

    graph = include_graph(files, configs, scope.absent if scope is not None else ())
    given = Scope.of(named, includes=True).reported(graph) if named else None
    if scope is None:
        assert given is not None
        return set(given), frozenset(given)
    reported = scope.reported(graph)
    if given is not None:
        reported &= given
    return reported, frozenset(given) if given is not None else None


def _changed_for_all(
    files: NginxFiles, workspace: Workspace, scope: Scope, given: frozenset[Path] | None
) -> set[Path]:
    """Under --changed-since, the nginx files whose every finding a change may have made:
    each configuration's, where a changed file sets what all its servers inherit
    (``tlslint.scope.shared_changes``) or names the nginx its versions come from (a Dockerfile's
    image: the defaults of every server changed with it). Within what the run was given."""
    from tlslint.scope import shared_changes

    found = shared_changes(files, workspace.nginx, scope)
    for config in workspace.nginx:
        versions = workspace.nginx_versions(config)
        sources = [_evidence_path(e) for e in (versions.low_by, versions.high_by) if e is not None]
        if any(path is not None and resolved(path) in scope.files for path in sources):
            found.update(config.files)
    return found if given is None else found & given


def _evidence_path(evidence: Evidence) -> Path | None:
    """The file a version bound comes from: an image's deployment file or a line's; not
    the settings (a settings file changes for other reasons; its version is not told apart)."""
    if evidence.kind == SETTING:
        return None
    if evidence.directive is not None:
        return evidence.directive.path
    return evidence.path


def _touches(finding: Finding, changed: Collection[Path]) -> bool:
    """A place ``finding`` names (the other declaration of a zone, say) is in a changed file."""
    return any(resolved(related.location.path) in changed for related in finding.related)


def _given_files(
    files: NginxFiles,
    configs: list[NginxConfig],
    named: list[Path] | None,
    tiers: Iterable[Callable[[Scope | None], set[Path]]],
) -> set[Path] | None:
    """The files a run reports on without ``--changed-since`` (None: all of them); each
    tier's ``reported``, which says its own."""
    reported, _ = _reported(files, configs, None, named)
    if reported is not None:
        for tier in tiers:
            reported |= tier(None)
    return reported


def checked_files(
    read: list[Path],
    configs: list[NginxConfig],
    files: NginxFiles,
    reported: Collection[Path] | None,
    findings: list[Finding],
) -> frozenset[Path]:
    """The files whose findings a run knows, for baselines: read, in a configuration checked
    (an nginx file read only while looking for an includer is not), reported, and parsed
    (the findings of a file that does not parse are not known)."""
    in_configs = {path for config in configs for path in config.files}
    unparsed = {resolved(f.location.path) for f in findings if f.anchor == UNPARSED}
    return frozenset(
        path
        for path in read
        if (reported is None or path in reported)
        and path not in unparsed
        and (path in in_configs or path not in files.parsed)
    )


def load_nginx(files: NginxFiles, paths: list[Path]) -> list[NginxConfig]:
    """Parse every file; check each in the context of its includer, once."""
    parsed: list[tuple[Path, ParsedFile]] = []
    unparsed: list[Path] = []
    for path in paths:
        result = files.get(path)
        if result is None:
            unparsed.append(path)
        else:
            parsed.append((path, result))
    prefixes = _prefixes_below_unparsed(files, unparsed) if parsed else {}
    # Each file's resolved path and prefix, found once (both passes below ask).
    roots: list[tuple[Path, Path, Path, ParsedFile]] = []
    included: set[Path] = set()
    for path, result in parsed:
        resolved_path = resolved(path)
        prefix = prefixes.get(resolved_path) or prefix_for(path)
        roots.append((path, resolved_path, prefix, result))
        for directive in result.includes:
            included.update(resolved(p) for p in files.resolve_include(directive, prefix).paths)
    configs: list[NginxConfig] = []
    covered: set[Path] = set()
    for second_pass in (False, True):
        order = roots
        if second_pass:
            # Files only reachable through an include cycle become roots in a second
            # pass, starting from a main configuration, as nginx would, rather than
            # whatever sorts first (only the files left are sorted: a context each).
            order = [root for root in roots if root[1] not in covered]
            order.sort(key=lambda root: (detect_context(root[3]) != MAIN, root[0].name != "nginx.conf"))
        for _, resolved_path, prefix, result in order:
            if resolved_path in covered or (not second_pass and resolved_path in included):
                continue
            config = build_config(files, result, prefix)
            covered.update(config.files)
            configs.append(config)
    return configs


def _prefixes_below_unparsed(files: NginxFiles, unparsed: list[Path]) -> dict[Path, Path]:
    """By resolved path: the prefix of the nginx file that does not parse and includes it
    (its include lines, as far as they can be read). nginx resolves the file's own
    relative includes against that prefix, not against the file's directory: looked
    for there, ``include snippets/tls.conf;`` in ``sites/a.conf`` would be reported
    missing when it is not, and the snippet checked alone. The context the includer
    gives is still unknown (``_unfixable_below_unparsed``)."""
    prefixes: dict[Path, Path] = {}
    for path in unparsed:
        prefix = prefix_for(path)
        for target in files.unparsed_includes(path, prefix):
            prefixes.setdefault(target, prefix)
    return prefixes


_PROBLEM_CODES = {"loop": INCLUDE_LOOP, "missing": INCLUDE_NOT_FOUND, "unreadable": UNREADABLE_PATH}


def load_findings(files: NginxFiles, configs: list[NginxConfig]) -> list[Finding]:
    findings = []
    for path, error in sorted(files.errors.items()):
        findings.append(load_finding(PARSE_ERROR, file_location(path, error.line), error.message, UNPARSED))
    findings.extend(_byte_order_marks(files))
    seen: set[tuple[Path, int, str]] = set()
    for config in configs:
        for problem in config.problems:
            key = (problem.path, problem.line, problem.message)
            if key in seen:
                continue
            seen.add(key)
            code = _PROBLEM_CODES[problem.kind]
            column = problem.directive.column if problem.directive else 1
            location = Location(problem.path, problem.line, column)
            target = " ".join(problem.directive.args) if problem.directive else ""
            # What an include glob matched and could not read: a warning (SRC001).
            severity = Severity.WARNING if code == UNREADABLE_PATH else None
            findings.append(load_finding(code, location, problem.message, f"include[{target}]", severity))
    return findings


_FIRST_WORD = re.compile(r"[^\s;{}]*")


def _byte_order_marks(files: NginxFiles) -> list[Finding]:
    """nginx files that start with a UTF-8 byte-order mark: nginx reads it as part of the
    first word (measured with 1.22.1: unknown directive "\ufeffevents", or "\ufeff#" before
    a comment), and refuses the configuration. The parse here drops it, as editors do."""
    found = []
    for path, parsed in files.parsed.items():
        if parsed.source.bom:
            word = _FIRST_WORD.match(parsed.source.text)
            shown = "\\ufeff" + (word.group() if word is not None else "")
            message = (
                "the file starts with a UTF-8 byte-order mark, which nginx reads as part of its first "
                f'word: nginx -t stops with unknown directive "{shown}"; save the file without it'
            )
            location = Location(path, 1, 1)
            found.append(load_finding(UNKNOWN_DIRECTIVE_CODE, location, message, BYTE_ORDER_MARK))
    return found


def _unfixable_with_marks(files: NginxFiles, findings: list[Finding]) -> list[Finding]:
    """Findings whose fix edits an nginx file with a byte-order mark, without the fix:
    --fix never writes such a file (nginx refuses it), so no report may count it fixable."""
    note = "no automatic fix: the file starts with a UTF-8 byte-order mark (NGX010); save it without it first"
    return _without_fixes_into(
        {resolved(p): note for p, parsed in files.parsed.items() if parsed.source.bom}, findings
    )


def _unfixable_with_cr_lines(texts: dict[Path, LoadedText], findings: list[Finding]) -> list[Finding]:
    """Findings whose fix edits a YAML file that ends lines with a lone CR, without the
    fix: the file is read (a CR is a YAML line break), but the YAML edits find lines by
    LF, and would put a key after the wrong line. No report may count such a fix."""
    note = "no automatic fix: the file ends its lines with a CR alone; convert its line ends to LF first"
    return _without_fixes_into(
        {path: note for path, loaded in texts.items() if loaded.source.cr_breaks}, findings
    )


def _without_fixes_into(notes: Mapping[Path, str], findings: list[Finding]) -> list[Finding]:
    """``findings``, those whose fix edits a file of ``notes`` (by resolved path) without
    it, and with the note of the first such file it edits instead."""
    if not notes:
        return findings
    kept = []
    for finding in findings:
        edited = (resolved(edit.path) for edit in finding.fix.edits) if finding.fix is not None else ()
        note = next((notes[path] for path in edited if path in notes), None)
        kept.append(finding if note is None else replace(finding, fix=None, fix_note=note))
    return kept


def _unfixable_below_unparsed(
    files: NginxFiles, configs: list[NginxConfig], findings: list[Finding]
) -> list[Finding]:
    """Findings whose fix edits a file that an nginx file which does not parse includes
    (NGX001), without the fix. nginx reads the file in that includer's context, which is
    not known: the file is checked as if nothing included it, and a fix made so (a
    session cache its includer already declares at another size) can keep nginx from
    starting once the includer is mended. The configuration the file roots is withheld
    with it (the files it includes in turn)."""
    if not files.errors or not any(f.fix is not None for f in findings):
        return findings
    includers: dict[Path, Path] = {}  # resolved file -> the unparsed file that includes it
    for path in sorted(files.errors):
        for target in files.unparsed_includes(path, prefix_for(path)):
            includers.setdefault(target, path)
    if not includers:
        return findings
    for config in configs:
        includer = includers.get(resolved(config.root.source.path))
        if includer is not None:
            for path in config.files:
                includers.setdefault(path, includer)
    notes = {
        path: f"no automatic fix: {includer.name}, which includes this file, does not parse (NGX001): "
        "this file was checked as if nothing included it, and the context nginx reads it in is "
        f"unknown; fix {includer.name} first"
        for path, includer in includers.items()
    }
    return _without_fixes_into(notes, findings)


def path_findings(discovered: Discovered) -> list[Finding]:
    """The paths named on the command line that could not be checked (SRC001 errors)."""
    return [
        load_finding(UNREADABLE_PATH, file_location(path), missing_reason(path), UNPARSED)
        for path in discovered.missing
    ]


def walk_findings(discovered: Discovered, configs: list[NginxConfig]) -> list[Finding]:
    """What a directory walk found and could not read (SRC001 warnings); a path an
    include glob matched is reported at the include instead, and one also named on the
    command line is its SRC001 error (``path_findings``)."""
    included = {resolved(p.unread) for config in configs for p in config.problems if p.unread is not None}
    included.update(resolved(path) for path in discovered.missing)
    return [
        load_finding(UNREADABLE_PATH, file_location(path), reason, severity=Severity.WARNING)
        for path, reason in discovered.unreadable
        if resolved(path) not in included
    ]


def load_finding(
    code: str, location: Location, message: str, anchor: str = "file", severity: Severity | None = None
) -> Finding:
    """A finding of a rule that loaders report (a file or path that did not load, a fix
    not written), at the rule's severity unless ``severity`` says otherwise."""
    meta = catalogue.index()[code]
    # The anchor keeps fingerprints free of line numbers and absolute paths.
    return Finding(meta.code, meta.name, severity or meta.severity, message, location, anchor=anchor)


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
