"""Every fix analysed before it is written: would nginx still load the fixed file?

Before the fixer applies a pass, the fixed text of each nginx file it changes is
parsed and every directive checked against the directive table
(``tlslint.nginx_analysis``), in each context the file is read in. A directive
nginx would refuse that the original text did not have is tlslint's own bug:
the fix that wrote it is not applied, and the run exits 2 with the rule and the
offending line. Problems the file already had are not the fix's doing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.findings import Edit, Finding, Fix
from tlslint.nginx_analysis import Problem, check_tree, file_contexts
from tlslint.nginx_directives import ROOT_CONTEXTS, DirectiveTable, table_for
from tlslint.nginx_versions import Version
from tlslint.sources.formats import NGINX
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError

if TYPE_CHECKING:
    from tlslint.engine import RunResult
    from tlslint.settings import Settings


@dataclass
class FixScreen:
    """Keeps the fixes whose output nginx would load; remembers the others across passes."""

    settings: Settings
    refused: list[str] = field(default_factory=list)  # one message per refused fix
    # Refused fixes by rule, anchor and description: their offsets move as other fixes land.
    _refused: set[tuple[str, str, str]] = field(default_factory=set)

    def keep(
        self,
        fixes: list[Fix],
        result: RunResult,
        overlay: dict[Path, SourceText],
        owners: dict[Edit, Finding],
    ) -> list[Fix]:
        """``fixes`` without those that would make an nginx file refuse to load."""
        fixes = [fix for fix in fixes if key_of(fix, owners) not in self._refused]
        table = table_for(_target(result), self.settings.nginx_extra_directives)
        contexts: dict[Path, set[int]] | None = None
        by_file: dict[Path, list[Fix]] = {}
        for fix in fixes:
            for path in {edit.path.resolve() for edit in fix.edits}:
                by_file.setdefault(path, []).append(fix)
        for path, touching in by_file.items():
            loaded = result.texts.get(path)
            if loaded is not None and loaded.kind != NGINX:
                continue
            if loaded is None and path.suffix != ".conf":
                continue
            before = overlay.get(path) or (loaded.source if loaded is not None else SourceText(path, ""))
            if contexts is None:
                contexts = file_contexts(result.workspace.nginx, table)
            where = contexts.get(path) or contexts.get(before.path) or set()
            culprits = _culprits(before, where, touching, table)
            for fix, problem in culprits:
                self._refuse(fix, problem, table, owners)
        return [fix for fix in fixes if key_of(fix, owners) not in self._refused]

    def _refuse(self, fix: Fix, problem: Problem, table: DirectiveTable, owners: dict[Edit, Finding]) -> None:
        key = key_of(fix, owners)
        if key in self._refused:
            return
        self._refused.add(key)
        code = key[0] or "a rule"
        directive = problem.directive
        self.refused.append(
            f"{directive.path}:{directive.line}:{directive.column}: tlslint bug: the fix for {code} "
            f"({fix.description}) would make nginx refuse this file: {problem.message(table)}; "
            "not applied (please report this)"
        )


def _target(result: RunResult) -> Version | None:
    """The release every configuration of the run is pinned to (setting or image), if one:
    a fix must give what that release loads."""
    workspace = result.workspace
    if workspace.nginx_version is not None:
        return workspace.nginx_version
    pinned = {workspace.nginx_versions(config).exact for config in workspace.nginx}
    return pinned.pop() if len(pinned) == 1 else None


def key_of(fix: Fix, owners: dict[Edit, Finding]) -> tuple[str, str, str]:
    finding = next((owners[edit] for edit in fix.edits if edit in owners), None)
    if finding is None:
        return "", "", fix.description
    return finding.code, finding.anchor, fix.description


def _culprits(
    before: SourceText, contexts: set[int], fixes: list[Fix], table: DirectiveTable
) -> list[tuple[Fix, Problem]]:
    """The fixes among ``fixes`` whose edits to this file add a problem, each with one of them.

    All of them at once first (one parse); only when that adds a problem, each alone.
    """
    path = before.path.resolve()
    edits = [edit for fix in fixes for edit in fix.edits if edit.path.resolve() == path]
    if not _new_problems(before, _unique(edits), contexts, table):
        return []
    found = []
    for fix in fixes:
        own = [edit for edit in fix.edits if edit.path.resolve() == path]
        added = _new_problems(before, own, contexts, table)
        if added:
            found.append((fix, added[0]))
    if not found:  # only their combination is refused: keep none of them
        added = _new_problems(before, _unique(edits), contexts, table)
        found = [(fix, added[0]) for fix in fixes]
    return found


def _unique(edits: Iterable[Edit]) -> list[Edit]:
    return list(dict.fromkeys(edits))


def _new_problems(
    before: SourceText, edits: list[Edit], contexts: set[int], table: DirectiveTable
) -> list[Problem]:
    """What nginx would refuse in the edited text and not in ``before``."""
    from tlslint.fixing import apply_edits
    from tlslint.sources.nginx.parser import parse_text

    after = SourceText(before.path, apply_edits(before.text, edits), before.bom, before.newline)
    try:
        parsed_after = parse_text(after)
    except SourceError:
        return []  # the fixer's own validation refuses an unparseable result
    try:
        parsed_before = parse_text(before) if before.text else None
    except SourceError:
        parsed_before = None
    if not contexts:
        from tlslint.workspace.nginx import detect_context

        contexts = {ROOT_CONTEXTS[detect_context(parsed_after)]}
    old: Counter[tuple[str, str, str]] = Counter()
    new: list[Problem] = []
    for context in contexts:
        if parsed_before is not None:
            previous: list[Problem] = []
            check_tree(parsed_before.directives, context, table, previous)
            old.update(_key(problem, table) for problem in previous)
        check_tree(parsed_after.directives, context, table, new)
    added = []
    for problem in new:
        key = _key(problem, table)
        if old[key]:
            old[key] -= 1
        else:
            added.append(problem)
    return added


def _key(problem: Problem, table: DirectiveTable) -> tuple[str, str, str]:
    return problem.kind, problem.directive.name, problem.message(table)
