"""NGX011 directive-not-allowed-here: a directive in a context nginx does not accept it in.

nginx refuses to start with ``"..." directive is not allowed here``. The
context is where nginx reads the directive: an included file counts in the
block that includes it; a file checked on its own counts in every context its
kind may be included in (``tlslint.nginx_directives.ROOT_CONTEXTS``), so a
snippet is not reported for a context its includer may well provide. A context
a directive gained in a later release than the target (``ssl_reject_handshake``
in stream{}, 1.25.5) is NGX004's.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._analyzer import findings
from tlslint.findings import Finding
from tlslint.nginx_analysis import NOT_ALLOWED
from tlslint.workspace import Workspace

CODE = "NGX011"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for _, finding in findings(ctx, workspace, NOT_ALLOWED):
        yield finding
