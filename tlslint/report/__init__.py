"""Formatters: they only format what a run produced."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tlslint.engine import RunResult

FORMATS = {
    "text": "tlslint.report.text",
    "json": "tlslint.report.json_format",
    "sarif": "tlslint.report.sarif",
    "github": "tlslint.report.github",
    "gitlab": "tlslint.report.gitlab",
    "junit": "tlslint.report.junit",
}


def render(name: str, result: RunResult, *, statistics: bool = False, quiet: bool = False) -> str:
    module = import_module(FORMATS[name])
    if statistics:
        # A format with its own (text; json, one object per rule as ruff gives) uses
        # it; the others print the text table.
        own = getattr(module, "render_statistics", None)
        table = own if own is not None else import_module(FORMATS["text"]).render_statistics
        return str(table(result))
    return str(module.render(result, quiet=quiet))


def render_pieces(
    name: str, result: RunResult, *, statistics: bool = False, quiet: bool = False
) -> Iterable[str]:
    """``render``'s text in pieces to write one after another: the text report a finding
    at a time (a report of 10,000 findings is never held whole), the others at once."""
    if name == "text" and not statistics:
        from tlslint.report.text import render_lines

        return render_lines(result, quiet=quiet)
    return [render(name, result, statistics=statistics, quiet=quiet)]
