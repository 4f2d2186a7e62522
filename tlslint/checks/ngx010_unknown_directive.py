"""NGX010 unknown-directive: a directive no module of the target nginx has.

nginx refuses to start with ``unknown directive "..."``. Known means: in
crossplane's table of the stock modules and NGINX Plus, in tlslint's
supplement of directives newer than that table, a common third-party
module's, or declared in ``[tool.tlslint.nginx] extra-directives``. With
``nginx.version`` set, a directive that appeared later (or was removed
earlier) is unknown too, except ``http2`` and ``ssl``: NGX305 and NGX304
report those with a fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._analyzer import directive_table, findings
from tlslint.findings import Finding
from tlslint.nginx_analysis import UNKNOWN_DIRECTIVE
from tlslint.workspace import Workspace

CODE = "NGX010"

# Version-gated directives a dedicated rule reports, with a fix.
DEDICATED = {"http2": "NGX305", "ssl": "NGX304"}


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    table = directive_table(ctx, workspace)
    for problem, finding in findings(ctx, workspace, UNKNOWN_DIRECTIVE, fixes=True):
        if problem.directive.name in DEDICATED and table.known(problem.directive.name, any_version=True):
            continue
        yield finding
