"""NGX010 unknown-directive: a directive no nginx.org release has (NGINX Plus's own
ones, ``nginx_directives.PLUS_ONLY``, are named as such).

nginx refuses to start with ``unknown directive "..."``. Known means: in
crossplane's table of the stock modules and NGINX Plus, in tlslint's
supplement of directives newer than that table or dated by
``tlslint.nginx_history``, a common third-party module's, or declared in
``[tool.tlslint.nginx] extra-directives``. A directive that only other
releases than the target have (``keepalive_min_timeout`` on 1.22) is
NGX004's, which names the version's evidence.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._analyzer import findings
from tlslint.findings import Finding
from tlslint.nginx_analysis import UNKNOWN_DIRECTIVE
from tlslint.workspace import Workspace

CODE = "NGX010"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for _, finding in findings(ctx, workspace, UNKNOWN_DIRECTIVE, fixes=True):
        yield finding
