"""NGX012 invalid-directive-arguments: the wrong number of arguments, a flag that is
not ``on``/``off``, or a block where nginx expects ``;`` (or the reverse).

nginx refuses to start with ``invalid number of arguments in "..." directive``,
``invalid value "..." ... it must be "on" or "off"``, ``directive "..." has no
opening "{"`` or ``... is not terminated by ";"``; and a ``*_pass`` that writes a port
on the name of an upstream{} (``upstream "backend" may not have port 8080``, in either
order: tlslint.nginx_upstream_names). A form only later releases
take (``keepalive 32 local;``, 1.29.7) on an older target is NGX004's.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._analyzer import findings
from tlslint.findings import Finding
from tlslint.nginx_analysis import BAD_ARGUMENTS
from tlslint.workspace import Workspace

CODE = "NGX012"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for _, finding in findings(ctx, workspace, BAD_ARGUMENTS):
        yield finding
