"""Which findings a user wants: select/ignore, per-file ignores, inline comments."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

from tlslint import catalogue
from tlslint.findings import Finding
from tlslint.paths import resolved as resolve_path
from tlslint.settings import Settings
from tlslint.sources.nginx.loader import NginxFiles
from tlslint.sources.nginx.model import SourceText

# `# tlslint: disable=NGX101,ssl-session-cache-missing` / `disable-file=...`
_DIRECTIVE_RE = re.compile(r"#\s*tlslint:\s*(disable|disable-file)\s*=\s*([\w\-, ]+)")
UNSUPPRESSIBLE = frozenset({"NGX001", "BKD001"})  # a file that does not parse is never hidden


def _codes(selectors: list[str]) -> list[str]:
    """Selectors as code prefixes: names become their codes, ALL matches all."""
    by_name = {meta.name: code for code, meta in catalogue.index().items()}
    result = []
    for selector in selectors:
        selector = selector.strip()
        if selector.upper() == "ALL":
            result.append("")
        else:
            result.append(by_name.get(selector, selector.upper()))
    return result


@dataclass
class _FileSuppressions:
    """A file's ``tlslint: disable`` comments: whole-file codes and codes by line."""

    whole_file: set[str] = field(default_factory=set)
    by_line: dict[int, set[str]] = field(default_factory=dict)

    def add(self, match: re.Match[str], line: int, alone: bool) -> None:
        """Record one `tlslint: disable[-file]=...` comment found on `line`."""
        kind, raw_codes = match.group(1), match.group(2)
        codes = {c.strip() for c in raw_codes.split(",") if c.strip()}
        codes = {c.upper() if re.fullmatch(r"[a-zA-Z]{3}\d{3}", c) else c for c in codes}
        if kind == "disable-file":
            self.whole_file |= codes
            return
        # A comment alone on its line also covers the line below it.
        for covered in (line, line + 1) if alone else (line,):
            self.by_line.setdefault(covered, set()).update(codes)


class Filters:
    def __init__(self, settings: Settings, files: NginxFiles) -> None:
        self.settings = settings
        self.files = files
        self.select = _codes(settings.select) if settings.select is not None else None
        self.ignore = _codes(settings.ignore)
        self.per_file = [(glob, _codes(codes)) for glob, codes in settings.per_file_ignores.items()]
        self._suppressions: dict[Path, _FileSuppressions | None] = {}
        # YAML texts (Apigee), by resolved path: `# tlslint: disable=APG103` comments.
        self.yaml_sources: dict[Path, SourceText] = {}
        # Python texts (app-server configs): comments found with the tokenizer.
        self.python_sources: dict[Path, SourceText] = {}

    def enabled(self, code: str) -> bool:
        if code in UNSUPPRESSIBLE:
            return True
        if self.select is not None and not any(code.startswith(p) for p in self.select):
            return False
        return not any(code.startswith(p) for p in self.ignore)

    def keep(self, finding: Finding) -> bool:
        code = finding.code
        if not self.enabled(code):
            return False
        if code in UNSUPPRESSIBLE:
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
        matches = {finding.code, finding.name, "ALL"}
        if suppressions.whole_file & matches:
            return True
        return bool(suppressions.by_line.get(finding.location.line, set()) & matches)

    def _for_file(self, path: Path) -> _FileSuppressions | None:
        resolved = resolve_path(path)
        if resolved in self._suppressions:
            return self._suppressions[resolved]
        parsed = self.files.parsed.get(resolved)
        result: _FileSuppressions | None = None
        if parsed is not None:
            result = _FileSuppressions()
            for comment in parsed.comments:
                match = _DIRECTIVE_RE.search(comment.text)
                if match is None:
                    continue
                line, column = parsed.source.position(comment.start)
                alone = not parsed.source.text[comment.start - column + 1 : comment.start].strip()
                result.add(match, line, alone)
        if parsed is None and resolved in self.yaml_sources:
            result = _yaml_suppressions(self.yaml_sources[resolved])
        if parsed is None and resolved in self.python_sources:
            result = _python_suppressions(self.python_sources[resolved])
        self._suppressions[resolved] = result
        return result


_YAML_COMMENT_RE = re.compile(r"(?:^|[ \t])#\s*tlslint:\s*(disable|disable-file)\s*=\s*([\w\-, ]+)", re.M)


def _yaml_suppressions(source: SourceText) -> _FileSuppressions:
    """Suppression comments of a YAML file (a `#` at a line start or after a blank)."""
    result = _FileSuppressions()
    text = source.text
    for match in _YAML_COMMENT_RE.finditer(text):
        hash_at = text.index("#", match.start())
        line = source.position(hash_at)[0]
        alone = not text[source.line_starts()[line - 1] : hash_at].strip()
        result.add(match, line, alone)
    return result


def _python_suppressions(source: SourceText) -> _FileSuppressions:
    """Suppression comments of a Python file: real comments only, never text in strings."""
    import io
    import tokenize

    result = _FileSuppressions()
    lines = source.text.splitlines()
    try:
        tokens = [
            t
            for t in tokenize.generate_tokens(io.StringIO(source.text).readline)
            if t.type == tokenize.COMMENT
        ]
    except (tokenize.TokenError, SyntaxError):
        return _yaml_suppressions(source)
    for token in tokens:
        match = _DIRECTIVE_RE.search(token.string)
        if match is None:
            continue
        line, column = token.start
        alone = not lines[line - 1][:column].strip() if line <= len(lines) else False
        result.add(match, line, alone)
    return result
