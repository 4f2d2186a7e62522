"""Checks: pure functions from the workspace to findings, one rule per module.

Each module defines ``CODE`` and ``check(ctx, workspace)``; the rule's name,
severity, options and documentation live in the catalogue (``rules/CODE.yaml``).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tlslint.catalogue import RuleMeta
from tlslint.findings import Finding, Fix, Location, Related, Severity
from tlslint.settings import Settings

if TYPE_CHECKING:
    from tlslint.sources.nginx.model import Directive
    from tlslint.workspace import Workspace

# A check module is named after its rule: ``ngx101_session_cache_missing``, ``gw101_...``.
_MODULE_RE = re.compile(r"^([a-z]{2,3}\d{3})_\w+$")


def check_modules() -> list[str]:
    """Every check module in this package, in code order (no registry to edit)."""
    names = [info.name for info in pkgutil.iter_modules(__path__) if _MODULE_RE.match(info.name)]
    return sorted(names)


def module_code(name: str) -> str:
    """The rule code of a check module's name."""
    match = _MODULE_RE.match(name)
    assert match is not None, name
    return match.group(1).upper()


@dataclass(frozen=True)
class Check:
    """A rule's code and its check function."""

    code: str
    run: Callable[[RuleContext, Workspace], Iterable[Finding]]


def load_checks(enabled: Callable[[str], bool]) -> list[Check]:
    checks = []
    for name in check_modules():
        code = module_code(name)
        if not enabled(code):
            continue
        module: ModuleType = importlib.import_module(f"tlslint.checks.{name}")
        assert code == module.CODE, f"{name} declares {module.CODE}"
        checks.append(Check(code, module.check))
    return checks


@dataclass(frozen=True)
class RuleContext:
    """What a check may know about its own rule: metadata and resolved options."""

    meta: RuleMeta
    options: dict[str, Any]
    settings: Settings = field(default_factory=Settings)
    # Whether the user keeps a finding (select, per-file ignores, inline comments): a
    # finding for one cause is built from the places that are kept (checks._causes).
    keep: Callable[[Finding], bool] = field(default=lambda finding: True)

    def finding(
        self,
        where: Directive | Location,
        message: str,
        *,
        severity: Severity | None = None,
        fix: Fix | None = None,
        related: Iterable[Related] = (),
        anchor: str = "",
        fix_note: str = "",
        covers: tuple[tuple[Path, str], ...] = (),
    ) -> Finding:
        location = where if isinstance(where, Location) else directive_location(where)
        return Finding(
            code=self.meta.code,
            name=self.meta.name,
            severity=self.meta.severity if severity is None else severity,
            message=message,
            location=location,
            related=tuple(related),
            fix=fix,
            anchor=anchor,
            fix_note=fix_note,
            covers=covers,
        )


def directive_location(directive: Directive) -> Location:
    # The region covers the directive's first line: name and arguments, or up
    # to the '{' of a block, which is what an annotation should underline.
    end = directive.block_open + 1 if directive.block is not None else directive.end
    return Location(directive.path, *directive.source.region(directive.start, end, first_line=True))


def related(directive: Directive, message: str) -> Related:
    return Related(directive_location(directive), message)


def file_location(path: Path, line: int = 0) -> Location:
    return Location(path, line, 1 if line else 0)


def unique(directives: Iterable[Directive]) -> Iterator[Directive]:
    """Each directive once, though a file included twice shows it twice."""
    seen: set[int] = set()
    for directive in directives:
        if id(directive) not in seen:
            seen.add(id(directive))
            yield directive
