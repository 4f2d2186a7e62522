"""The engine's rendered tier: kustomize builds, Helm releases and YAML streams on stdin,
each checked as its own deployment.

``load_rendered`` finds what to render, renders it with the real engines and says
which files the builds cover: those are checked through the builds, not on their
own. A build that cannot be rendered is reported (RND001-RND003) and its files are
checked one by one, with the cross-file route rules marked undecidable.
``check_builds`` runs the YAML tiers' checks on each build and maps every finding
back to the source file and line that set the field.

A YAML tier takes part in three places: a builder in ``TIERS`` (given a build, it
sets the tier's part of a fresh ``Workspace`` from ``build.documents`` or
``build.trees`` and returns its loading problems as findings located in the rendered
text; its checks are those whose catalogue ``target`` is the tier's name), a sniffer in
``RELEVANT`` (so that builds holding only its resources are rendered), and its
cross-file rule codes in ``UNDECIDABLE_PREFIXES`` (downgraded where a build failed).
Mapping findings back is the build's: nothing tier-specific is needed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint import catalogue
from tlslint.findings import UNPARSED, Finding, Location, Severity
from tlslint.paths import resolved
from tlslint.rendered import RenderedBuild, SourceFiles, documents_of, merge_across_builds
from tlslint.settings import Settings
from tlslint.sources.apigee import YAML
from tlslint.sources.apigee.tree import Node, YamlError
from tlslint.sources.formats import LoadedText
from tlslint.sources.nginx.model import SourceText

if TYPE_CHECKING:
    from tlslint.discovery import Discovered
    from tlslint.filters import Filters
    from tlslint.kustomize.generated import Chart
    from tlslint.kustomize.graph import Graph, Kustomization
    from tlslint.scope import Scope
    from tlslint.workspace import Workspace

BUILD_FAILED = "RND001"
RENDERER_NOT_FOUND = "RND002"
REMOTE_NOT_FETCHED = "RND003"
COMPONENT_UNUSED = "RND004"
ENABLE_HELM = "--enable-helm"  # the build option that lets kustomize inflate helmCharts
# The cross-file rules that a file alone cannot decide (a build's other files are missing).
UNDECIDABLE_PREFIXES = ("APG1", "GW1", "ING105", "ING111")
# Rules that say a thing once a run, whichever deployment they find it in.
ONCE_A_RUN = frozenset({"ING110"})


def _apigee_part(
    build: RenderedBuild, settings: Settings, workspace: Workspace, beside: Workspace | None
) -> list[Finding]:
    """The build's Apigee objects as one deployment, with the routes of the run's plain
    manifests of its installation when it is applied beside them (``beside``: a Helm
    release of virtual hosts, whose non-SNI route is applied with kubectl); schema
    problems as findings."""
    from tlslint.sources.apigee.documents import load_source
    from tlslint.workspace.apigee import ApigeeWorkspace, policy

    loaded = load_source(build.source, documents=build.trees)
    if not loaded.objects and not loaded.overrides:
        return []
    plain = beside.apigee if beside is not None else None
    routes = plain.routes_beside(build.files) if plain is not None else []
    mode, origin = policy(settings)
    workspace.apigee = ApigeeWorkspace(
        files=[loaded, *routes],
        policy=mode,
        policy_origin=origin,
        namespace=settings.apigee.get("namespace") or "apigee",
        org=settings.apigee.get("org") or None,
    )
    index = catalogue.index()
    return [
        Finding(
            index[p.code].code, index[p.code].name, p.severity or index[p.code].severity, p.message,
            Location(build.source.path, p.line, p.column, p.end_line, p.end_column), anchor=p.anchor,
        )
        for p in loaded.problems
    ]  # fmt: skip


def _apigee_text(head: bytes) -> bool:
    from tlslint.discovery import sniff_apigee

    return sniff_apigee(head) or b"ApigeeRoute" in head


def _kubernetes_part(
    build: RenderedBuild, settings: Settings, workspace: Workspace, beside: Workspace | None
) -> list[Finding]:
    """The build's gateways, ingress-nginx configuration and what links them, as one deployment."""
    if not _kubernetes_text(build.source.text.encode("utf-8", "surrogateescape")):
        return []  # nothing of the tier's: its modules stay unimported
    from tlslint.workspace.kubernetes import load_build

    loaded = load_build(build.source, build.trees, settings)
    if loaded is None:
        return []
    workspace.kubernetes = loaded.workspace
    return loaded.findings


def _kubernetes_text(head: bytes) -> bool:
    from tlslint.sources.kubernetes.sniff import sniff_kubernetes

    return sniff_kubernetes(head)


# Tier name (a catalogue target) -> what adds that tier's part of a build's workspace
# (given the run's own workspace when the build is applied beside its plain manifests),
# returning the problems found while reading the build (in the rendered text).
TIERS: dict[str, Callable[[RenderedBuild, Settings, Workspace, Workspace | None], list[Finding]]] = {
    "apigee": _apigee_part,
    "kubernetes": _kubernetes_part,
}
# Whether a file's first bytes hold something a tier checks: a build none of whose
# local files (kustomizations and patches included) does, and none of whose
# kustomizations generates such a thing (kustomize/generated.py), is not rendered at
# all. A repository's other applications have kustomizations too, and their builds are
# not tlslint's business.
RELEVANT: list[Callable[[bytes], bool]] = [_apigee_text, _kubernetes_text]


def relevant(paths: Iterable[Path], known: dict[Path, bool]) -> bool:
    """Whether any of ``paths`` holds what a tier checks (``known``: answers so far)."""
    from tlslint.sources.text import sniff_head

    for path in paths:
        if path not in known:
            head = sniff_head(path)
            known[path] = head is not None and any(sniffer(head) for sniffer in RELEVANT)
        if known[path]:
            return True
    return False


def relevant_build(graph: Graph, node: Kustomization, known: dict[Path, bool]) -> bool:
    """Whether the build of ``node`` (a root or a component) holds what a tier checks: in
    one of its files, or in what one of its kustomizations generates."""
    if relevant(graph.files(node), known):
        return True
    return any(_generates_relevant(member, known) for member in graph.closure(node))


def _generates_relevant(node: Kustomization, known: dict[Path, bool]) -> bool:
    """Whether a kustomization's generators or charts make what a tier checks: each is
    sniffed as the manifest (or the HelmRelease and values) it amounts to. No file is read
    but the generators' env files, already read with the kustomization."""
    key = node.path / "<generated>"  # a file's path has no child: never a real file's key
    if key not in known:
        texts = [g.manifest() for g in node.generators] + [c.release_text() for c in node.charts]
        known[key] = any(sniffer(text) for text in texts for sniffer in RELEVANT)
    return known[key]


@dataclass
class RenderedLoad:
    """What the rendered tier read and found, for the engine."""

    builds: list[RenderedBuild] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)  # RND findings: about builds, not fields
    covered: set[Path] = field(default_factory=set)  # files checked through a build, not alone
    fallback: dict[Path, str] = field(default_factory=dict)  # file -> why checked alone (a build failed)
    texts: dict[Path, LoadedText] = field(default_factory=dict)
    in_scope: set[Path] | None = None  # files whose build findings are reported; None: all
    sources: SourceFiles | None = None  # the builds' source files, read as findings are mapped

    def register(self, filters: Filters) -> None:
        """Every source text read so far: in the run's texts, and for suppression comments."""
        for path, source in self.sources.texts.items() if self.sources is not None else ():
            if resolved(path) not in self.texts:
                self.texts[resolved(path)] = LoadedText(source, YAML)
                filters.yaml_sources[resolved(path)] = source

    @property
    def read(self) -> list[Path]:
        return sorted(self.texts)

    def reported(self, scope: Scope | None) -> set[Path]:
        files = {resolved(f.location.path) for f in self.findings} | set(self.texts)
        return (
            files
            if scope is None
            else (files & scope.files) | {resolved(f.location.path) for f in self.findings}
        )

    def remaining(self, paths: Iterable[Path]) -> list[Path]:
        """The YAML files still to check one by one."""
        return [path for path in paths if resolved(path) not in self.covered]

    def mark_undecidable(self, findings: Iterable[Finding]) -> list[Finding]:
        """Route findings in a failed build's files: info, saying why they are undecidable."""
        result = []
        for finding in findings:
            why = self.fallback.get(resolved(finding.location.path))
            if why is not None and finding.code.startswith(UNDECIDABLE_PREFIXES):
                finding = dataclasses.replace(
                    finding,
                    severity=Severity.INFO,
                    message=f"{finding.message} (undecidable: {why}; this is what the file says on its own)",
                )
            result.append(finding)
        return result


def load_rendered(
    discovered: Discovered,
    targets: Sequence[Path],
    settings: Settings,
    *,
    allow_remote: bool = False,
    stdin: SourceText | None = None,
    overlay: Mapping[Path, SourceText] | None = None,
) -> RenderedLoad:
    """``overlay``: texts a fix edited in memory (the fixer's re-checks); a Helm release
    whose values file one is renders from it."""
    files = SourceFiles(settings.max_file_size, overlay)
    load = RenderedLoad(sources=files)
    if stdin is not None:
        _add_stream(load, stdin, files)
    kustomizations = _kustomizations_in_scope(discovered, targets, settings)
    if kustomizations:
        _add_kustomize(load, kustomizations, discovered, targets, settings, files, allow_remote)
    if settings.helm_releases:
        from tlslint.helm import add_releases

        add_releases(load, discovered, targets, settings, files, overlay)
    return load


def _add_stream(load: RenderedLoad, stdin: SourceText, files: SourceFiles) -> None:
    """A rendered stream on stdin: one deployment; origin annotations are honoured,
    resolved against the directory of --stdin-filename (else the working directory)."""
    base = Path(os.path.abspath(stdin.path)).parent
    trees: list[Node] = []
    try:
        documents = documents_of(stdin, base, trees)
    except YamlError as error:
        location = Location(stdin.path, error.line, error.column)
        load.findings.append(finding_at(location, "APG201", error.summary, UNPARSED))
        files.texts[resolved(stdin.path)] = stdin  # read, as a file that does not parse is
        return
    build = RenderedBuild(
        "",
        stdin,
        documents,
        Location(stdin.path, 0, 0),
        [files.own_file],
        unmapped_in_place=True,
        trees=trees,
    )
    load.builds.append(build)
    files.texts[resolved(stdin.path)] = stdin


# -- kustomize ----------------------------------------------------------------------
def named_yaml(discovered: Discovered) -> list[Path]:
    """The YAML files found that a kustomize build may read: every YAML tier's, the
    kustomizations and the named YAML of no format (a patch)."""
    return [*discovered.yaml, *discovered.kubernetes, *discovered.other_yaml, *discovered.kustomizations]


def _kustomizations_in_scope(
    discovered: Discovered, targets: Sequence[Path], settings: Settings
) -> list[Path]:
    """The kustomization files found, and for files named one by one (pre-commit), those
    of the project around them when a kustomization encloses one (of any YAML tier: a
    base's Gateway is checked through the overlays that read it, never alone)."""
    from tlslint.kustomize import enclosing

    found = [resolved(p) for p in discovered.kustomizations]
    stops = [settings.base] if settings.source is not None else []
    named = [p for p in named_yaml(discovered) if resolved(p) in discovered.explicit]
    projects: set[Path] = set()
    for path in named:
        if enclosing(path, stops) is None:
            continue
        from tlslint.kustomize.graph import project_root

        projects.add(project_root(path, stops))
    if projects:
        from tlslint.discovery import discover

        for project in sorted(projects):
            found.extend(
                resolved(p) for p in discover([project], settings.exclude, settings.base).kustomizations
            )
    return sorted(set(found))


def _add_kustomize(
    load: RenderedLoad,
    kustomizations: list[Path],
    discovered: Discovered,
    targets: Sequence[Path],
    settings: Settings,
    files: SourceFiles,
    allow_remote: bool,
) -> None:
    from tlslint.kustomize import graph as graphs
    from tlslint.kustomize.render import find_engine, render_each

    graph = graphs.load(kustomizations, settings.max_file_size)
    explicit = {resolved(p) for p in discovered.explicit}
    directories = [resolved(t) for t in targets if os.path.isdir(t)]
    named_only = not directories
    sniffed: dict[Path, bool] = {}
    users: set[Path] = set()
    if directories:
        graph, users = _with_users(graph, kustomizations, directories, settings, sniffed)
    # What a remote base holds, or a kustomization that cannot be read, is unknown: those count.
    roots = [r for r in graph.roots() if r.error or graph.remote(r) or relevant_build(graph, r, sniffed)]
    if named_only:  # files named one by one: the builds that read one of them
        roots = [r for r in roots if graph.files(r) & explicit]
    else:
        # An overlay outside the directories given that a build there builds on is rendered
        # as part of that build only (`tlslint overlays/prod-eu`: not overlays/prod itself).
        roots = [
            r for r in roots if _under(r.path, directories) or r.path in users or graph.files(r) & explicit
        ]
    for component in graph.unused_components(graph.roots()):
        files_of = graph.files(component)
        if not relevant_build(graph, component, sniffed):
            continue
        if _under(component.path, directories) or files_of & explicit:
            load.findings.append(_component_unused(component, settings))
        load.covered |= files_of
    engine = find_engine()
    options = settings.kustomize_options
    to_render: list[Kustomization] = []
    for root in roots:
        remote = graph.remote(root) if not allow_remote else []
        # Without --enable-helm the build fails on any chart: that failure says how to opt in.
        charts = graph.remote_charts(root) if not allow_remote and ENABLE_HELM in options else []
        if remote:
            node, ref = remote[0]
            load.findings.append(_remote(root, node, ref, settings))
            _fall_back(load, graph, root, f"the remote base of {_label(root, settings)} was not fetched")
        elif charts:
            node, chart = charts[0]
            load.findings.append(_remote_chart(root, node, chart, settings))
            _fall_back(load, graph, root, f"the chart of {_label(root, settings)} was not pulled")
        elif engine is None:
            load.findings.append(
                _about(
                    root,
                    RENDERER_NOT_FOUND,
                    f"{_label(root, settings)} was not rendered: neither kustomize nor kubectl is on PATH; "
                    "its files were checked one by one, and the route rules are undecidable",
                    settings,
                )
            )
            _fall_back(load, graph, root, "kubectl is not installed to render its build")
        else:
            to_render.append(root)
    if engine is None or not to_render:
        _scope(load, graph, roots, explicit, directories)
        return
    from tlslint.kustomize.origin import BuildLocator

    for root, output in zip(
        to_render,
        render_each(engine, [r.directory for r in to_render], allow_remote=allow_remote, options=options),
        strict=True,
    ):
        label = _label(root, settings)
        if output.error:
            command = " ".join([engine.name, *options, _shown(root.directory, settings)])
            message = f"`{command}` failed: {output.error}{_helm_hint(output.error, options)}"
            location = _failing_entry(graph, root, output.error) or Location(root.path, 1, 1)
            load.findings.append(finding_at(location, BUILD_FAILED, message, UNPARSED))
            _fall_back(load, graph, root, f"the build of {label} failed")
            continue
        source = SourceText(root.directory / "<rendered>", output.text)
        trees: list[Node] = []
        try:
            documents = documents_of(source, output.wrapper, trees)
        except YamlError as error:  # kustomize's output is YAML; never seen otherwise
            load.findings.append(
                _about(root, BUILD_FAILED, f"its output is not YAML: {error.message}", settings)
            )
            _fall_back(load, graph, root, f"the build of {label} gave no YAML")
            continue
        locator = BuildLocator(graph, root, files)
        where = Location(root.path, 1, 1)
        build_files = graph.files(root)
        load.builds.append(
            RenderedBuild(label, source, documents, where, [locator], build_files, trees=trees)
        )
        load.covered |= build_files
        for node in graph.closure(root):
            if node.source is not None:
                files.texts.setdefault(node.path, node.source)
            for patch in node.patches:
                if patch.file != node.path:
                    files.texts.setdefault(patch.file, patch.source)
            for source in (s for generator in node.generators for s in generator.sources):
                files.texts.setdefault(source.path, source)
    for path in load.covered:
        load.fallback.pop(path, None)  # another build of the file did render
    _scope(load, graph, roots, explicit, directories)


def _with_users(
    graph: Graph,
    kustomizations: list[Path],
    directories: list[Path],
    settings: Settings,
    sniffed: dict[Path, bool],
) -> tuple[Graph, set[Path]]:
    """For a component or a base in the directories given that no build there uses, the
    builds of its project that do (`tlslint apigee/` where clusters/prod lists
    apigee/components/non-sni; `tlslint base/` where overlays/prod lists ../../base): it is
    checked through them, as it is when the whole project is given; a component is not
    reported as unused, and a base is not rendered as a deployment no cluster receives.
    A kustomization no other one of the project includes stays a root. Also returns the
    users found."""
    candidates = [c for c in graph.unused_components(graph.roots()) if relevant_build(graph, c, sniffed)]
    # A root of the directories given may be another one's base, or an overlay that only
    # a kustomization elsewhere builds on: the project's graph decides (Graph.roots).
    candidates += [r for r in graph.roots() if not r.error and relevant_build(graph, r, sniffed)]
    from tlslint.kustomize.graph import project_root

    stops = [settings.base] if settings.source is not None else []
    # A project inside a directory given: its kustomizations are all in the graph already.
    projects = {project_root(c.path, stops) for c in candidates}
    projects = {p for p in projects if not _under(p, directories)}
    if not projects:
        return graph, set()
    from tlslint.discovery import discover
    from tlslint.kustomize import graph as graphs

    found = [resolved(p) for p in discover(sorted(projects), settings.exclude, settings.base).kustomizations]
    wider = graphs.load([*kustomizations, *found], settings.max_file_size)
    roots = wider.roots()
    wanted = {c.path for c in candidates} - {r.path for r in roots}
    users = [r for r in roots if any(n.path in wanted for n in wider.closure(r))]
    if not users:
        return graph, set()
    given = set(kustomizations)
    # Only the builds that use such a component or base join the ones in the directories given.
    added = [r.path for r in users if r.path not in given]
    return graphs.load([*kustomizations, *added], settings.max_file_size), set(added)


def _failing_entry(graph: Graph, root: Kustomization, error: str) -> Location | None:
    """The entry of a kustomization in the build that kustomize's error names, if one does."""
    for node in reversed(graph.closure(root)):
        for ref in [*node.resources, *node.components]:
            if f"'{ref.entry}'" in error or (ref.path is not None and f"'{ref.path}'" in error):
                line, column = ref.node.source.position(ref.node.start)
                return Location(node.path, line, column)
        # "failed to get the patch file from path(p.yaml): evalsymlink failure on '/abs/p.yaml'"
        for path, entry, item in node.patch_entries:
            if f"path({entry})" in error or f"'{path}'" in error:
                line, column = item.source.position(item.start)
                return Location(node.path, line, column)
    return None


def _scope(
    load: RenderedLoad, graph: Graph, roots: list[Kustomization], explicit: set[Path], directories: list[Path]
) -> None:
    """Findings in a build's files are reported when its root was given (or lies in a
    directory given); otherwise only in the files given."""
    if (
        not explicit - {r.path for r in roots}
        and directories
        and all(_under(r.path, directories) for r in roots)
    ):
        return  # every root comes from a directory given: everything found is in scope
    scope = set(explicit)
    for root in roots:
        if root.path in explicit or _under(root.path, directories):
            scope |= graph.files(root)
    scope |= {p for b in load.builds for p in b.files if _under(p, directories)}
    load.in_scope = scope


def _under(path: Path, directories: Iterable[Path]) -> bool:
    return any(path.is_relative_to(d) for d in directories)


def _fall_back(load: RenderedLoad, graph: Graph, root: Kustomization, why: str) -> None:
    for path in graph.files(root):
        load.fallback.setdefault(path, why)


def _label(root: Kustomization, settings: Settings) -> str:
    return _shown(root.directory, settings)


def _shown(path: Path, settings: Settings) -> str:
    for base in (Path.cwd(), settings.base):
        try:
            return path.relative_to(resolved(base)).as_posix() or "."
        except ValueError:
            continue
    return str(path)


def _about(root: Kustomization, code: str, message: str, settings: Settings, anchor: str = "") -> Finding:
    return finding_at(Location(root.path, 1, 1), code, message, anchor or f"build[{_label(root, settings)}]")


def finding_at(location: Location, code: str, message: str, anchor: str) -> Finding:
    """A finding about a build or a release as a whole."""
    meta = catalogue.index()[code]
    return Finding(meta.code, meta.name, meta.severity, message, location, anchor=anchor)


def _helm_hint(error: str, options: Sequence[str]) -> str:
    """How to render a build with helmCharts, when that is why it failed."""
    if ENABLE_HELM in options or f"must specify {ENABLE_HELM}" not in error:
        return ""
    return (
        f"; to render helmCharts as Argo CD does with kustomize.buildOptions: {ENABLE_HELM}, set "
        f'[kustomize] build-options = ["{ENABLE_HELM}"] in the settings (helm on PATH); '
        "Flux's kustomize-controller never renders helmCharts"
    )


def _remote_chart(root: Kustomization, node: Kustomization, chart: Chart, settings: Settings) -> Finding:
    through = "" if node is root else f" (through {_shown(node.path, settings)})"
    return finding_at(
        chart.where(),
        REMOTE_NOT_FETCHED,
        f"{_label(root, settings)} inflates the chart '{chart.name}' from {chart.repo}{through}, "
        "which is not pulled without --allow-remote-bases (kustomize keeps a pulled chart in the "
        "chartHome beside the kustomization); its local files were checked one by one, and the "
        "route rules are undecidable",
        f"build[{_label(root, settings)}].chart[{chart.name}]",
    )


def _remote(root: Kustomization, node: Kustomization, ref: object, settings: Settings) -> Finding:
    from tlslint.kustomize.graph import Ref

    assert isinstance(ref, Ref)
    line, column = ref.node.source.position(ref.node.start)
    where = "" if node is root else f" (through {_shown(node.path, settings)})"
    return finding_at(
        Location(node.path, line, column),
        REMOTE_NOT_FETCHED,
        f"{_label(root, settings)} uses the remote base '{ref.entry}'{where}, which is not fetched without "
        "--allow-remote-bases; its local files were checked one by one, and the route rules are undecidable",
        f"build[{_label(root, settings)}].remote[{ref.entry}]",
    )


def _component_unused(component: Kustomization, settings: Settings) -> Finding:
    kind = component.setting("kind")
    line = kind.line if kind is not None else 1
    label = _shown(component.directory, settings)
    return finding_at(
        Location(component.path, line, 1),
        COMPONENT_UNUSED,
        f"the component {label} is used by no build (no kustomization lists it under components:); "
        "its files were not checked",
        f"component[{label}]",
    )


# -- checking ----------------------------------------------------------------------
def check_builds(
    load: RenderedLoad,
    settings: Settings,
    filters: Filters,
    plain: Workspace | None = None,
    alone: Sequence[Finding] = (),
) -> list[Finding]:
    """Every YAML tier's checks on every build, findings mapped to their sources.
    ``plain``: the run's workspace of the files checked on their own, and ``alone``
    their findings (for builds applied beside them: ``RenderedBuild.beside_plain``)."""
    from tlslint.checks import load_checks
    from tlslint.run_checks import run_checks
    from tlslint.workspace import Workspace

    if not load.builds:
        return []
    index = catalogue.index()
    parts = []
    for build in load.builds:
        workspace = Workspace()
        beside = plain if build.beside_plain else None
        problems = [problem for add in TIERS.values() for problem in add(build, settings, workspace, beside)]
        parts.append((build, workspace, problems))
    # A tier's checks are imported only when some build holds its resources.
    present = {
        tier for _, workspace, _ in parts for tier in TIERS if getattr(workspace, tier, None) is not None
    }
    checks = load_checks(lambda code: filters.enabled(code) and index[code].target in present)
    found: list[Finding] = []
    for build, workspace, problems in parts:
        mapped = [build.map_finding(f) for f in problems]
        mapped += [build.map_finding(f) for f in run_checks(checks, settings, workspace, filters, files=0)]
        if build.restate is not None:
            mapped = build.restate(mapped, filters, alone)
        load.register(filters)
        found.extend(f for f in mapped if filters.keep(f) and _reported(load, f))
    return list(merge_across_builds(found))


def once_a_run(findings: list[Finding]) -> list[Finding]:
    """The rules said once a run (``ONCE_A_RUN``) said once, though the files and each
    build found them: at the first place by resolved path (an edited text in the
    fixer's re-checks has its resolved path, and the notice must not move)."""
    said = [f for f in findings if f.code in ONCE_A_RUN]
    if len(said) < 2:
        return findings
    first: dict[str, Finding] = {}
    for finding in sorted(said, key=_first_place):
        first.setdefault(finding.code, finding)
    kept = {id(f) for f in first.values()}
    return [f for f in findings if f.code not in ONCE_A_RUN or id(f) in kept]


def _first_place(finding: Finding) -> tuple[str, int, int]:
    return str(resolved(finding.location.path)), finding.location.line, finding.location.column


def _reported(load: RenderedLoad, finding: Finding) -> bool:
    return load.in_scope is None or resolved(finding.location.path) in load.in_scope
