"""Apply fixes: non-overlapping edits, re-check to a fixpoint, atomic writes.

The loop runs on in-memory texts (an overlay over the files on disk): apply
the chosen edits, re-parse, re-check, until no fix applies (at most
``MAX_PASSES``). Only then is anything written, and only files that parse.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import errno
import itertools
import os
import stat
import sys
import tempfile
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tlslint.engine import RunOptions, RunResult, run
from tlslint.findings import Edit, Finding, Fix
from tlslint.fix_analysis import FixScreen, key_of
from tlslint.paths import resolved
from tlslint.report.text import display_path as _display
from tlslint.settings import Settings
from tlslint.sources.formats import LoadedText, kind_for_new_file, validate
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.text import SourceError, encode
from tlslint.temporaries import TEMP_MARK, TEMP_SUFFIX, remove_stale_temporaries
from tlslint.temporaries import try_lock as _try_lock
from tlslint.version_range import VersionRange

MAX_PASSES = 5
FixKey = tuple[str, str, str]  # a fix across passes: its rule, its finding's anchor, its description


@dataclass
class FixOutcome:
    result: RunResult  # the findings after fixing (what is on disk when a write failed)
    diff: str = ""
    applied: int = 0
    written: list[Path] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    unwritten: list[tuple[Path, str]] = field(default_factory=list)  # files not written, and why
    refused: list[str] = field(default_factory=list)  # fixes nginx would refuse: tlslint's bugs (exit 2)
    futile: dict[FixKey, str] = field(default_factory=dict)  # fixes that did not remove their finding


def wanted(finding: Finding, unsafe: bool) -> bool:
    return finding.fix is not None and (finding.fix.safe or unsafe)


def choose_fixes(findings: Iterable[Finding], unsafe: bool) -> list[Fix]:
    """Fixes whose edits overlap no edit already chosen; identical edits merge."""
    taken: dict[Path, _Spans] = {}
    # The same edits by value: one fix for many findings (NGX305 on 3,000 listen lines)
    # repeats them all in every finding, and a list lookup made that cubic.
    known: set[Edit] = set()
    chosen: list[Fix] = []
    # One fix object shared by every finding of a cause: decided once, by identity.
    accepted: dict[int, bool] = {}
    for finding in findings:
        if not wanted(finding, unsafe):
            continue
        fix = finding.fix
        assert fix is not None
        if id(fix.edits) in accepted:
            if accepted[id(fix.edits)]:
                chosen.append(Fix(fix.description, (), fix.safe, fix.brings))  # its edits are taken
            continue
        accepted[id(fix.edits)] = False
        new_edits = [e for e in fix.edits if e not in known]
        if any(edit.path in taken and taken[edit.path].overlaps(edit) for edit in new_edits):
            continue
        if _overlap_among(new_edits):
            continue
        for edit in new_edits:
            taken.setdefault(edit.path, _Spans()).add(edit)
            known.add(edit)
        chosen.append(Fix(fix.description, tuple(new_edits), fix.safe, fix.brings))
        accepted[id(fix.edits)] = True
    return chosen


class _Spans:
    """The edits chosen in one file, sorted by (start, end). They overlap none of each
    other, so their ends are in order too, and a new edit can overlap only the one just
    before it and those starting within it: a look-up, not a scan of every edit."""

    def __init__(self) -> None:
        self.spans: list[tuple[int, int]] = []

    def overlaps(self, edit: Edit) -> bool:
        spans = self.spans
        index = max(0, bisect.bisect_left(spans, (edit.start, -1)) - 1)
        while index < len(spans) and spans[index][0] <= edit.end:
            if _overlap(edit.start, edit.end, *spans[index]):
                return True
            index += 1
        return False

    def add(self, edit: Edit) -> None:
        bisect.insort(self.spans, (edit.start, edit.end))


def _overlap_among(edits: list[Edit]) -> bool:
    """Whether two of ``edits`` overlap (by file, each checked against those before it)."""
    if len(edits) < 2:
        return False
    seen: dict[Path, _Spans] = {}
    for edit in edits:
        spans = seen.setdefault(edit.path, _Spans())
        if spans.overlaps(edit):
            return True
        spans.add(edit)
    return False


def owners(findings: Iterable[Finding]) -> dict[Edit, Finding]:
    """The finding whose fix holds each edit (to name the rule of a refused fix)."""
    found: dict[Edit, Finding] = {}
    seen: set[int] = set()
    for finding in reversed(list(findings)):  # the last finding holding an edit names it
        if finding.fix is None or id(finding.fix.edits) in seen:
            continue
        seen.add(id(finding.fix.edits))
        for edit in finding.fix.edits:
            found.setdefault(edit, finding)
    return found


def _overlap(start: int, end: int, other_start: int, other_end: int) -> bool:
    if start < other_end and other_start < end:
        return True
    # Two insertions at one point would interleave unpredictably.
    if start == end == other_start == other_end:
        return True
    if start == end and other_start < start < other_end:
        return True
    return other_start == other_end and start < other_start < end


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    # In one pass (3,000 edits of a 4 MB file rebuilt it 3,000 times); equal spans in the
    # order applying them from the end gave (the later one first).
    ordered = [e for _, e in sorted(enumerate(edits), key=lambda t: (t[1].start, t[1].end, -t[0]))]
    if any(a.end > b.start for a, b in itertools.pairwise(ordered)):
        for edit in reversed(ordered):  # overlapping edits: one at a time, from the end
            text = text[: edit.start] + edit.replacement + text[edit.end :]
        return text
    parts: list[str] = []
    position = 0
    for edit in ordered:
        parts += (text[position : edit.start], edit.replacement)
        position = edit.end
    parts.append(text[position:])
    return "".join(parts)


def apply_fixes(
    result: RunResult,
    settings: Settings,
    *,
    unsafe: bool,
    write: bool,
    paths: list[Path] | None = None,
    symlink_targets: bool = False,
) -> FixOutcome:
    """Apply the fixes wanted, to a fixpoint; with ``write``, write the files that changed,
    only inside ``write_roots`` (anywhere a symlink leads, with ``symlink_targets``).

    A fix is written whole or not at all: where a file it edits is refused before writing
    (an includer not given, read-only, hard-linked, changed since read, outside the
    roots), the fixes are made again without touching that file, so that a fix moving a
    line from one file to another never writes the removal without the addition.

    A file that could not be written keeps its findings, and an SRC002 error says why:
    ``outcome.result`` is then the files on disk, checked again.
    """
    targets = paths if paths is not None else result.targets
    roots = None if symlink_targets or not write else write_roots(targets, settings)
    withheld: dict[Path, tuple[Path, str]] = {}  # files no fix may edit: not written, and why
    futile: dict[FixKey, str] = {}  # fixes that left their finding as it was, and what to say
    while True:
        outcome, fixed = _fixpoint(result, settings, targets, unsafe, withheld.keys(), futile.keys())
        if outcome.futile.keys() - futile.keys():
            # Made again without them: what they wrote did nothing, and is not written.
            futile.update(outcome.futile)
            continue
        outcome.messages.extend(futile.values())
        if not write:
            return outcome
        refused = _refusals(fixed, roots, _includers(result, fixed.changed, fixed.absent))
        if not any(fixed.partners(path) for path in refused):
            break
        # A fix that also edits a file refused here would be written in part: the fixes
        # are made again without touching them (each round withholds more files: it ends).
        for path, (shown, reason) in refused.items():
            withheld[path] = (shown, _with_partners(reason, fixed.partners(path)))
    outcome.unwritten.extend(withheld.values())
    _write(outcome, fixed, refused)
    if outcome.unwritten:
        on_disk = run(targets, settings, run_options=fixed.current.options)
        on_disk.findings = sorted([*on_disk.findings, *_unwritten_findings(outcome)], key=Finding.sort_key)
        outcome.result = on_disk
    return outcome


@dataclass
class _Fixed:
    """What a fixpoint changed: the texts, and which files each fix spanning several
    edits (a line moved from a server's file to http{}'s)."""

    current: RunResult
    changed: dict[Path, SourceText]
    originals: dict[Path, SourceText]
    absent: set[Path]  # files a fix creates
    links: list[frozenset[Path]] = field(default_factory=list)  # the files of each fix spanning several
    removing: set[Path] = field(default_factory=set)  # files where such a fix removes or replaces text

    _partners: dict[Path, set[Path]] | None = field(default=None, repr=False)

    def partners(self, path: Path) -> set[Path]:
        """The other changed files that a fix editing ``path`` edits too."""
        if self._partners is None:  # indexed once: asked of every file written
            self._partners = {}
            for files in self.links:
                for one in files:
                    self._partners.setdefault(one, set()).update(files)
        found = self._partners.get(path, set()) - {path}
        return found & self.changed.keys()


def _fixpoint(
    result: RunResult,
    settings: Settings,
    targets: list[Path],
    unsafe: bool,
    withheld: Collection[Path],
    futile: Collection[FixKey] = (),
) -> tuple[FixOutcome, _Fixed]:
    """The fixes wanted applied to a fixpoint in memory, none of them editing a file of
    ``withheld``, nor one of ``futile``."""
    originals: dict[Path, SourceText] = {}  # each file's text as read, before any fix
    absent: set[Path] = set()
    overlay: dict[Path, SourceText] = {}
    outcome = FixOutcome(result)
    current = result
    options: RunOptions | None = None  # made for the first re-check
    screen = FixScreen(settings)  # every fix analysed before it is applied (tlslint.fix_analysis)
    seen = {_identity(f) for f in result.findings}
    created: dict[tuple[str, Path, str], Finding] = {}
    brought: set[str] = set()  # rules a fix applied brings into play, as it says
    afresh = False  # whether the fixed text has been read as the next run will read it
    files = _FilesOf()
    links: list[frozenset[Path]] = []
    removing: set[Path] = set()
    broken: dict[Path, str] = {}  # files a fix would break, or not read: said once
    applied: set[FixKey] = set()  # every fix applied in an earlier pass
    for attempt in range(MAX_PASSES + 1):
        candidates = _not_futile(files.without(current.findings, withheld), futile)
        fixes = screen.keep(choose_fixes(candidates, unsafe), current, overlay, owners(candidates))
        if not fixes and not afresh and _bound_by_a_changed_line(current):
            # The re-checks pinned the versions the text proved before fixing, but the next
            # run reads the fixed text alone: a fix that removed the only line bounding the
            # version (`ssl on;`) leaves it judging every version, and finding more to fix
            # (a virtual server's own ssl_protocols, which counts since 1.29.2). Those fixes
            # are made now, so that a second --fix changes nothing.
            afresh = True
            fresh = run(targets, settings, overlay=overlay, run_options=result.options)
            fixes = []
            if _only_wider(result.workspace.nginx_pins(), fresh.workspace.nginx_pins()):
                candidates = files.without(fresh.findings, withheld)
                fixes = screen.keep(choose_fixes(candidates, unsafe), fresh, overlay, owners(candidates))
            if fixes:
                current, options = fresh, result.options or RunOptions()
                seen.update(_identity(f) for f in fresh.findings)
        if not fixes:
            break
        if attempt == MAX_PASSES:
            # A fix applied in every pass whose finding is still there, with the same fix,
            # did not do what it says (an item written inside a comment): said, and made again
            # without it, so that what it wrote is not written.
            held = owners(candidates)
            for fix in fixes:
                key = key_of(fix, held)
                if key in applied and key[0]:  # by its finding: a fix shared by several is not
                    outcome.futile[key] = _futile(fix, held)
            if not outcome.futile:
                outcome.messages.append(
                    f"fixes did not settle after {MAX_PASSES} passes; {len(fixes)} left for another run "
                    "(please report this)"
                )
            break
        held = owners(candidates)
        applied.update(key_of(fix, held) for fix in fixes)
        while True:
            candidates_by_file = _candidates(fixes, current, overlay, originals, absent)
            bad = {path: why for path, why in candidates_by_file.items() if isinstance(why, str)}
            if not bad:
                break
            broken.update(bad)
            # A fix is applied whole or not at all: one editing a file it would break (or
            # not read) is left out in every file it edits, and the others are made again.
            fixes = [fix for fix in fixes if not files.of(fix) & bad.keys()]
        progressed = False
        for path, candidate in candidates_by_file.items():
            assert isinstance(candidate, SourceText)
            if path not in originals:
                loaded = current.texts.get(path)
                originals[path] = loaded.source if loaded is not None else SourceText(path, "")
                if loaded is None:
                    absent.add(path)  # a file a fix creates: it must not exist when written
            before = overlay.get(path) or originals[path]
            if candidate.text != before.text:
                overlay[path] = candidate
                progressed = True
        for fix in fixes:
            spanned = files.of(fix)
            if len(spanned) > 1:
                links.append(spanned)
                removing.update(files.resolved(e.path) for e in fix.edits if e.end > e.start)
        outcome.applied += len(fixes)
        brought.update(code for fix in fixes for code in fix.brings)
        if not progressed:
            break
        options = options or _pinned(result)
        current = run(targets, settings, overlay=overlay, run_options=options)
        for finding in current.findings:
            if _identity(finding) not in seen and finding.code not in brought:
                created.setdefault(_identity(finding), finding)
        seen.update(_identity(f) for f in current.findings)
    outcome.messages.extend(f"{path}: {why}; not applied" for path, why in broken.items())
    outcome.messages.extend(
        f"{_display(f.location.path)}:{f.location.line}: {f.code} appeared after a fix "
        "(a fix should not create another rule's finding; please report this)"
        for f in created.values()
    )
    outcome.result = current
    outcome.refused = screen.refused
    outcome.messages.extend(screen.refused)
    changed = {p: s for p, s in overlay.items() if s.text != originals[p].text}
    outcome.diff = "".join(unified_diff(originals[p], changed[p]) for p in sorted(changed))
    return outcome, _Fixed(current, changed, originals, absent, links, removing)


def _not_futile(findings: list[Finding], futile: Collection[FixKey]) -> list[Finding]:
    if not futile:
        return findings
    return [f for f in findings if f.fix is None or (f.code, f.anchor, f.fix.description) not in futile]


def _futile(fix: Fix, held: dict[Edit, Finding]) -> str:
    finding = next((held[edit] for edit in fix.edits if edit in held), None)
    where = "" if finding is None else f"{_display(finding.location.path)}:{finding.location.line}: "
    code = finding.code if finding is not None else "a rule"
    return (
        f"{where}tlslint bug: the fix for {code} ({fix.description}) did not remove its finding in "
        f"{MAX_PASSES} passes; not applied (please report this)"
    )


class _FilesOf:
    """The files each fix edits, symlinks resolved once each (3,000 edits of one file)."""

    def __init__(self) -> None:
        self._paths: dict[Path, Path] = {}
        self._fixes: dict[int, frozenset[Path]] = {}

    def resolved(self, path: Path) -> Path:
        found = self._paths.get(path)
        if found is None:
            found = self._paths[path] = path.resolve()
        return found

    def of(self, fix: Fix) -> frozenset[Path]:
        return frozenset(self.resolved(edit.path) for edit in fix.edits)

    def without(self, findings: list[Finding], withheld: Collection[Path]) -> list[Finding]:
        """``findings`` but those whose fix edits a file of ``withheld``."""
        if not withheld:
            return findings
        kept = []
        for finding in findings:
            fix = finding.fix
            if fix is not None:
                spanned = self._fixes.get(id(fix.edits))
                if spanned is None:
                    spanned = self._fixes[id(fix.edits)] = self.of(fix)
                if not spanned.isdisjoint(withheld):
                    continue
            kept.append(finding)
        return kept


def _candidates(
    fixes: list[Fix],
    current: RunResult,
    overlay: dict[Path, SourceText],
    originals: dict[Path, SourceText],
    absent: set[Path],
) -> dict[Path, SourceText | str]:
    """Each file's text with ``fixes`` applied, or why they cannot be."""
    by_file: dict[Path, list[Edit]] = {}
    for fix in fixes:
        for edit in fix.edits:
            by_file.setdefault(edit.path.resolve(), []).append(edit)
    found: dict[Path, SourceText | str] = {}
    for path, edits in by_file.items():
        loaded = current.texts.get(path) or _new_file(path, overlay)
        if loaded is None:
            found[path] = "a fix targets a file that was not read"
            continue
        source = overlay.get(path) or loaded.source
        new_text = apply_edits(source.text, edits)
        candidate = SourceText(path, new_text, source.bom, source.newline)
        try:
            validate(loaded.kind, candidate)
        except SourceError as error:
            found[path] = f"a fix would break the file ({error.message})"
            continue
        # A YAML edit at a wrong offset can still parse (a value pasted in front of the
        # next key renames it): each value must read as meant, where it was meant to go.
        problem = ""
        if any(e.expect for e in edits):  # only YAML edits say what they mean: its modules load here
            from tlslint.checks._yaml_edits import unmet

            problem = unmet(candidate, edits)
        if problem:
            found[path] = f"tlslint bug: a fix would not write what it means ({problem}; please report this)"
            continue
        found[path] = candidate
    return found


def _bound_by_a_changed_line(result: RunResult) -> bool:
    """Whether a configuration's version is bounded by a line a fix changed (the re-check
    cites it "before a fix changed it"): only then may the next run read another range."""
    pins = result.workspace.nginx_pins().values()
    return any(evidence.before_fix for versions in pins for evidence in versions.evidence())


def _only_wider(before: dict[Path, VersionRange], after: dict[Path, VersionRange]) -> bool:
    """Whether the fixed text, read afresh, lost a bound on the version somewhere and
    gained none: a line a fix wrote (`http2 on;`) is no fact to build fixes on, though the
    next run will read it as one."""
    lost = False
    for root, then in before.items():
        now = after.get(root)
        if now is None:
            continue
        low_lost = then.low is not None and (now.low is None or now.low < then.low)
        high_lost = then.high is not None and (now.high is None or now.high > then.high)
        low_gained = now.low is not None and (then.low is None or now.low > then.low)
        high_gained = now.high is not None and (then.high is None or now.high < then.high)
        if low_gained or high_gained:
            return False
        lost = lost or low_lost or high_lost
    return lost


def _pinned(result: RunResult) -> RunOptions:
    """``result``'s options, with each configuration's versions as ``result`` inferred
    them: the re-checks judge the fixed text by what the text proved before fixing."""
    options = result.options or RunOptions()
    pins = {**result.workspace.nginx_pins(), **(options.nginx_pinned or {})}
    return dataclasses.replace(options, nginx_pinned=pins)


def _refusals(fixed: _Fixed, roots: list[Path] | None, includers: set[Path]) -> dict[Path, tuple[Path, str]]:
    """The changed files that cannot be written, found before any is: each with the
    name to report it by and why."""
    refused: dict[Path, tuple[Path, str]] = {}
    for path in sorted(fixed.changed):
        alias = fixed.current.nginx_files.aliases.get(path)
        if path in includers:
            refused[path] = (path, _includer(path, fixed.current.targets))
            continue
        if roots is not None and not any(path.is_relative_to(root) for root in roots):
            refused[path] = (alias or path, _outside(path, roots, alias is not None))
            continue
        problem = refusal(path, _expected(fixed, path))
        if problem:
            _forget_if_changed(fixed, path, problem)
            refused[path] = (alias or path, problem)
    return refused


def _forget_if_changed(fixed: _Fixed, path: Path, problem: str) -> None:
    """The text read may be a cached tree whose stat still matches the file (an edit within
    one tick of the clock): it is dropped, so that "run again" reads the file."""
    options = fixed.current.options
    if problem == CHANGED and options is not None and options.cache is not None:
        options.cache.forget(path)


def _expected(fixed: _Fixed, path: Path) -> bytes | None:
    """The bytes the fixes of ``path`` were made from (None: a file a fix creates)."""
    if path in fixed.absent:
        return None
    before = fixed.originals[path]
    return encode(before, before.text)  # one file's bytes at a time


def _with_partners(reason: str, partners: set[Path]) -> str:
    if not partners:
        return reason
    shown = ", ".join(_display(path) for path in sorted(partners))
    return f"{reason}; so a fix that also edits {shown} is not written there either"


def _write(outcome: FixOutcome, fixed: _Fixed, refused: dict[Path, tuple[Path, str]]) -> None:
    """Write each changed file but those ``refused``; one holding a fix whose other file
    could not be written is not written either.

    Files a fix spanning several adds lines to are written before those it removes lines
    from: a run killed (or a write failing) between the two leaves a line twice, never
    nowhere, and the next run removes the copy."""
    from tlslint.interrupts import terminate_as_interrupt

    failed = set(refused)
    try:
        with terminate_as_interrupt():
            _write_each(outcome, fixed, refused, failed)
    except KeyboardInterrupt:
        if outcome.written:  # a partly fixed tree must not look untouched
            count = len(outcome.written)
            print(
                f"tlslint: interrupted after fixing {count} file{'s' * (count != 1)}; run again to finish",
                file=sys.stderr,
            )
        raise


def _write_each(
    outcome: FixOutcome, fixed: _Fixed, refused: dict[Path, tuple[Path, str]], failed: set[Path]
) -> None:
    for path in sorted(fixed.changed, key=lambda p: (p in fixed.removing, p)):
        alias = fixed.current.nginx_files.aliases.get(path)
        if path in refused:
            outcome.unwritten.append(refused[path])
            continue
        lost = fixed.partners(path) & failed
        if lost:
            failed.add(path)
            shown = ", ".join(_display(other) for other in sorted(lost))
            outcome.unwritten.append((alias or path, f"a fix here also edits {shown}, which was not written"))
            continue
        if alias is not None:
            outcome.messages.append(f"{alias}: is a symlink; fixed its target {path}")
        data = encode(fixed.changed[path], fixed.changed[path].text)
        problem = write_atomically(path, data, _expected(fixed, path))
        _forget_if_changed(fixed, path, problem)
        if problem:
            failed.add(path)
            outcome.unwritten.append((alias or path, problem))
        else:
            outcome.written.append(path)


def write_roots(targets: Iterable[Path], settings: Settings) -> list[Path]:
    """Where ``--fix`` writes, symlinks resolved: inside each directory given, the
    configuration prefix of each file given (where its includes are), the ``nginx.roots``
    directories and the ``[[backends]]`` configs the settings name. A file reached
    through a symlink that leads elsewhere is not written."""
    from tlslint.sources.nginx.loader import prefix_of_directory

    # A file given is not resolved: a symlink given leads out as any other does.
    roots = [
        resolved(t) if os.path.isdir(t) else prefix_of_directory(resolved(t.absolute().parent))
        for t in targets
    ]
    roots += [resolved(directory) for directory in settings.nginx_roots.values()]
    roots += [
        resolved(settings.base / str(entry["config"])) for entry in settings.backends if "config" in entry
    ]
    return roots


def _includers(result: RunResult, changed: dict[Path, SourceText], absent: set[Path]) -> set[Path]:
    """The nginx files changed that the paths given neither are nor include: the includer
    above a file named (or a directory given), read for the context nginx loads the file
    in. As ruff writes only the files it is given, --fix does not write them, whatever
    --fix-symlink-targets says."""
    given = result.given_nginx
    if given is None:
        return set()
    parsed = result.nginx_files.parsed
    return {path for path in changed if path not in absent and path in parsed and path not in given}


def _includer(path: Path, targets: list[Path]) -> str:
    shown = ", ".join(_display(target) for target in targets)
    return (
        f"the fix edits {_display(path)}, which includes the paths given ({shown}) and is not one "
        f"of them; name it too, or run on the whole tree (tlslint check --fix {_display(path.parent)})"
    )


def _outside(path: Path, roots: list[Path], through_symlink: bool) -> str:
    shown = ", ".join(_display(root) for root in roots)
    if through_symlink:
        return (
            f"a symlink leads to {_display(path)}, outside the paths given ({shown}); "
            "--fix-symlink-targets writes through it"
        )
    # A file read for what the paths given hold (a Helm release's other values file).
    return f"the fix edits {_display(path)}, outside the paths given ({shown}); name it too"


def _unwritten_findings(outcome: FixOutcome) -> list[Finding]:
    from tlslint.checks import file_location
    from tlslint.engine import load_finding
    from tlslint.findings import UNWRITTEN_FIX

    return [
        load_finding(UNWRITTEN_FIX, file_location(path), f"not fixed: {reason} (its findings stand)")
        for path, reason in outcome.unwritten
    ]


def _identity(finding: Finding) -> tuple[str, Path, str]:
    """A finding across passes, as baselines key it: rule, file, structural anchor."""
    # realpath: a finding about a symlink loop (SRC001) has a path that Path.resolve() refuses
    return (finding.code, resolved(finding.location.path), finding.anchor or finding.message)


def _new_file(path: Path, overlay: dict[Path, SourceText]) -> LoadedText | None:
    """A file that a fix creates (e.g. a manifest written next to another)."""
    if path.exists() and path not in overlay:
        return None
    kind = kind_for_new_file(path)
    if kind is None:
        return None
    return LoadedText(overlay.get(path, SourceText(path, "")), kind)


def unified_diff(before: SourceText, after: SourceText) -> str:
    """The diff of a fixed file, its name relative to the working directory (`patch -p0`,
    `git apply -p0` there): a name with a blank ends with a tab, as GNU diff writes it
    before a date, so that patch and git read the whole name; a byte-order mark is part
    of the first line, as in the file."""
    name = _display(before.path)
    if any(blank in name for blank in " \t"):
        name += "\t"
    created = not before.path.exists()
    from tlslint.text_diff import unified_lines

    lines = unified_lines(
        _lines(before),
        _lines(after),
        fromfile="/dev/null" if created else name,
        tofile=name,
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(source: SourceText) -> list[str]:
    return (("\ufeff" if source.bom else "") + source.text).splitlines(keepends=True)


@contextlib.contextmanager
def _temporary(target: Path, data: bytes, mode: int, owner: tuple[int, int] | None = None) -> Iterator[str]:
    """A temporary file beside ``target`` holding ``data`` (with ``owner`` where this
    process may give it, and ``mode``; synced), locked while this process moves it into
    place; removed if it is still there."""
    handle, temporary = tempfile.mkstemp(
        prefix=_temporary_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent
    )
    try:
        _try_lock(handle, blocking=True)  # a new file: never waits
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view) :]
        if owner is not None and hasattr(os, "fchown"):
            # Not ours to give away when not root; the mode is kept regardless.
            with contextlib.suppress(PermissionError):
                os.fchown(handle, *owner)
        os.fchmod(handle, mode)  # after the owner: a chown clears the setuid and setgid bits
        os.fsync(handle)
        yield temporary
    finally:
        os.close(handle)
        with contextlib.suppress(OSError):
            os.unlink(temporary)


RANDOM_PART = 8  # the characters mkstemp puts between prefix and suffix


def _temporary_prefix(target: Path) -> str:
    """``.<name>.tlslint-``, the name cut short where the temporary's would pass the file
    system's limit (a 240-byte name is legal, and its temporary was refused as too long);
    remove_stale_temporaries finds it by the mark either way."""
    try:
        limit = os.pathconf(target.parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    room = limit - len(f".{TEMP_MARK}{TEMP_SUFFIX}") - RANDOM_PART
    name = os.fsencode(target.name)
    if len(name) > room:
        name = name[: max(room, 0)]
    return f".{name.decode('utf-8', 'ignore')}{TEMP_MARK}"


CHANGED = "the file changed since tlslint read it; run again"
DELETED = "the file was deleted since tlslint read it; not created again"
NO_DIRECTORY = "its directory does not exist; not created"


def refusal(path: Path, expected: bytes | None) -> str:
    """Why ``path`` cannot be written now, or '': found for every file before any is
    written, so that a fix spanning several files is written whole or not at all.
    ``expected``: its bytes as read (None: a file a fix creates)."""
    target = path.resolve()
    try:
        info = target.stat()
    except FileNotFoundError:
        if expected is not None:
            return DELETED
        return "" if target.parent.is_dir() else NO_DIRECTORY
    except OSError as error:
        return f"cannot read its state: {error.strerror}"
    if expected is None:
        return f"cannot create: {os.strerror(errno.EEXIST)}"
    problem = _unwritable(target, info)
    if problem:
        return problem
    try:
        if not _holds(target, expected):
            return CHANGED
    except OSError as error:
        return f"cannot read it: {error.strerror}"
    if not os.access(target.parent, os.W_OK):
        return f"cannot write: {os.strerror(errno.EACCES)}"
    return ""


def _unwritable(target: Path, info: os.stat_result) -> str:
    if not info.st_mode & stat.S_IWUSR or not os.access(target, os.W_OK):
        return "the file is read-only"
    if info.st_nlink > 1:
        # The rename gives the path a new inode: the file's other names would keep the
        # old text, and an nginx reading one of them would run it unfixed.
        return f"the file has {info.st_nlink} hard links, which a rename would leave with the old text"
    return ""


def write_atomically(path: Path, data: bytes, expected: bytes | None = None) -> str:
    """Write through a temporary file in the same directory; return why it could not
    be written, or ''.

    ``expected`` is the file's content as read, which the fix was made from: a file that
    no longer holds it (an editor saved it meanwhile) is left as it is now, never
    overwritten with a fix of an older text. A symlink is written through to its target;
    mode and ownership are kept.
    """
    target = path.resolve()
    try:
        info = target.stat()
    except FileNotFoundError:
        if expected is not None:
            return DELETED
        return _create(target, data)
    except OSError as error:
        return f"cannot read its state: {error.strerror}"
    problem = _unwritable(target, info)
    if problem:
        return problem
    directory = target.parent
    remove_stale_temporaries(directory)
    try:
        with _temporary(target, data, stat.S_IMODE(info.st_mode), (info.st_uid, info.st_gid)) as temporary:
            # Last, just before the rename: the window for a write to slip in between the
            # two is a stat and a read of one file.
            if expected is not None and not _holds(target, expected):
                return CHANGED
            os.replace(temporary, target)
    except OSError as error:
        return f"cannot write: {error.strerror or error}"
    _fsync_directory(directory)
    return ""


def _holds(target: Path, expected: bytes) -> bool:
    """Whether ``target`` holds exactly ``expected`` (its size is asked first: a file that
    grew or shrank is not read)."""
    descriptor = os.open(target, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if os.fstat(descriptor).st_size != len(expected):
            return False
        chunks: list[bytes] = []
        left = len(expected) + 1  # one byte more: a file that grew meanwhile
        while left > 0 and (chunk := os.read(descriptor, left)):
            chunks.append(chunk)
            left -= len(chunk)
    finally:
        os.close(descriptor)
    return b"".join(chunks) == expected


def _create(target: Path, data: bytes) -> str:
    """A new file, written in one go: it appears complete or not at all."""
    if not target.parent.is_dir():
        return NO_DIRECTORY
    umask = os.umask(0)
    os.umask(umask)
    try:
        with _temporary(target, data, 0o666 & ~umask) as temporary:
            os.link(temporary, target)  # fails if the file appeared meanwhile: never clobber
    except OSError as error:
        return f"cannot create: {error.strerror or error}"
    _fsync_directory(target.parent)
    return ""


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
