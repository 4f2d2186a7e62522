"""Which findings a user wants: the rule selection (tlslint.selection), per-file
ignores, inline comments."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint import catalogue
from tlslint.findings import Finding, is_load_error, is_unsuppressible
from tlslint.paths import resolved as resolve_path
from tlslint.selection import Resolution, prefixes
from tlslint.settings import Settings
from tlslint.sources.nginx.loader import NginxFiles
from tlslint.sources.nginx.model import SourceText

if TYPE_CHECKING:
    from tlslint.suppressions import FileSuppressions, Suppression

# Rules whose every finding is a load error: they run whatever the selection (what does
# not load is reported by is_unsuppressible, whichever rule's code it has).
ALWAYS_ENABLED = frozenset({"NGX001", "NGX003", "BKD001"})
UNUSED_SUPPRESSION = "TLS001"  # opt-in: reported only when a selector names it
SUPPRESSION_MARK = "tlslint"  # a comment without it suppresses nothing (tlslint.suppressions unread)


def _marked(text: str) -> bool:
    """Whether ``text`` may hold a comment to tlslint (``# TLSLINT:`` too): two scans
    of the text, cheaper than one that ignores case."""
    return SUPPRESSION_MARK in text or "TLSLINT" in text


def _codes(selectors: list[str]) -> list[str]:
    """Selectors as code prefixes: names become their codes, ALL matches all."""
    by_name = {meta.name: code for code, meta in catalogue.index().items()}
    return list(prefixes(selectors, by_name))


class Filters:
    def __init__(self, settings: Settings, files: NginxFiles) -> None:
        self.settings = settings
        self.files = files
        self.selection = Resolution(settings.selections())
        self.per_file = [(glob, _codes(codes)) for glob, codes in settings.per_file_ignores.items()]
        self._suppressions: dict[Path, FileSuppressions | None] = {}
        # YAML texts (Apigee), by resolved path: `# tlslint: disable=APG103` comments.
        self.yaml_sources: dict[Path, SourceText] = {}
        # Python texts (app-server configs): comments found with the tokenizer.
        self.python_sources: dict[Path, SourceText] = {}
        # Which comment silenced which code: kept only when unused ones are reported.
        self.tracks_usage = self.enabled(UNUSED_SUPPRESSION)
        self._used: set[tuple[int, str]] = set()

    def enabled(self, code: str) -> bool:
        return code in ALWAYS_ENABLED or self.selection.selects(code)

    def keep(self, finding: Finding) -> bool:
        code = finding.code
        # What did not load is no rule's verdict that a selection may turn off: as ruff
        # reports a syntax error whatever --select says, a selection that hid it would
        # read "All checks passed" about a file nothing was checked in.
        if not self.enabled(code) and not is_load_error(finding):
            return False
        # Nor may per-file-ignores or a comment (`disable-file=ALL` in a vendored file) hide it.
        if is_unsuppressible(finding):
            return True
        path = finding.location.path
        if self.per_file and self._per_file_ignored(path, code):
            return False
        return not self._inline_ignored(finding)

    def _per_file_ignored(self, path: Path, code: str) -> bool:
        try:
            relative = resolve_path(path).relative_to(self.settings.base).as_posix()
        except ValueError:
            relative = path.as_posix()
        for glob, codes in self.per_file:
            matched = fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(path.name, glob)
            if matched and any(code.startswith(c) for c in codes):
                return True
        return False

    def _inline_ignored(self, finding: Finding) -> bool:
        suppressions = self._for_file(finding.location.path)
        if suppressions is None:
            return False
        matching = suppressions.matching(finding.code, finding.name, finding.location.line)
        if self.tracks_usage:
            self._used.update((id(suppression), word) for suppression, word in matching)
        return bool(matching)

    def _for_file(self, path: Path) -> FileSuppressions | None:
        resolved = resolve_path(path)
        if resolved in self._suppressions:
            return self._suppressions[resolved]
        parsed = self.files.parsed.get(resolved)
        result: FileSuppressions | None = None
        marked = [c for c in parsed.comments if _marked(c.text)] if parsed is not None else []
        if parsed is not None and marked:
            from tlslint.suppressions import FileSuppressions, parse

            result = FileSuppressions()
            for comment in marked:
                line, column = parsed.source.position(comment.start)
                suppression = parse(resolved, comment.text, line, column)
                if suppression is not None:
                    alone = not parsed.source.text[comment.start - column + 1 : comment.start].strip()
                    result.add(suppression, alone)
        yaml = self.yaml_sources.get(resolved)
        if parsed is None and yaml is not None and _marked(yaml.text):
            result = _yaml_suppressions(resolved, yaml)
        python = self.python_sources.get(resolved)
        if parsed is None and python is not None and _marked(python.text):
            result = _python_suppressions(resolved, python)
        self._suppressions[resolved] = result
        return result

    def read_all(self, paths: Iterable[Path]) -> list[FileSuppressions]:
        """The suppression comments of every file in ``paths`` that has any."""
        found = []
        for path in paths:
            suppressions = self._for_file(path)
            if suppressions is not None and (suppressions.entries or suppressions.malformed):
                found.append(suppressions)
        return found

    def malformed(self, paths: Iterable[Path]) -> list[Suppression]:
        """Comments in ``paths`` addressed to tlslint that are no suppression."""
        return [s for file in self.read_all(paths) for s in file.malformed]

    def unknown_codes(self, paths: Iterable[Path]) -> list[tuple[Suppression, str]]:
        """Words of suppression comments in ``paths`` that name no rule."""
        return [(s, word) for file in self.read_all(paths) for s in file.entries for word in s.unknown]

    def unused(self, paths: Iterable[Path]) -> list[tuple[Suppression, list[str]]]:
        """Each suppression comment in ``paths`` with the words that silenced nothing this
        run could have found (a code whose rule did not run is not judged), unknown ones too."""
        from tlslint.suppressions import ALL, code_of

        # ALL is judged only when every rule ran (the opt-in ones need not).
        index = catalogue.index()
        everything = all(self.enabled(code) for code, meta in index.items() if not meta.opt_in)
        result = []
        for file in self.read_all(paths):
            for suppression in file.entries:
                idle = [
                    word
                    for word in suppression.codes
                    if (id(suppression), word) not in self._used
                    and (everything if word == ALL else self.enabled(code_of(word) or word))
                ]
                idle.extend(suppression.unknown)
                if idle:
                    result.append((suppression, idle))
        return result


_YAML_COMMENT_RE = re.compile(r"(?:^|[ \t])(#\s*tlslint\s*:[^\r\n]*)", re.M | re.IGNORECASE)


def _yaml_suppressions(path: Path, source: SourceText) -> FileSuppressions:
    """Suppression comments of a YAML file (a `#` at a line start or after a blank)."""
    from tlslint.suppressions import FileSuppressions, parse

    result = FileSuppressions()
    text = source.text
    for match in _YAML_COMMENT_RE.finditer(text):
        hash_at = match.start(1)
        line, column = source.position(hash_at)
        suppression = parse(path, match.group(1), line, column)
        if suppression is not None:
            alone = not text[source.line_starts()[line - 1] : hash_at].strip()
            result.add(suppression, alone)
    return result


def _python_suppressions(path: Path, source: SourceText) -> FileSuppressions:
    """Suppression comments of a Python file: real comments only, never text in strings."""
    import io
    import tokenize

    from tlslint.suppressions import FileSuppressions, parse

    result = FileSuppressions()
    lines = source.text.splitlines()
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(source.text).readline)
            if t.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, SyntaxError):
        return _yaml_suppressions(path, source)
    for token in tokens:
        line, column = token.start
        suppression = parse(path, token.string, line, column + 1)
        if suppression is None:
            continue
        alone = not lines[line - 1][:column].strip() if line <= len(lines) else False
        result.add(suppression, alone)
    return result
