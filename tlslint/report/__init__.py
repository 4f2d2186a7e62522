"""Formatters: they only format what a run produced."""

from __future__ import annotations

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
        if name == "json":  # as ruff does: one object per rule
            from tlslint.report.json_format import render_statistics as json_statistics

            return json_statistics(result)
        from tlslint.report.text import render_statistics

        return render_statistics(result)
    return str(module.render(result, quiet=quiet))
