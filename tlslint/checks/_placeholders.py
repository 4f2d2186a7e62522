"""Lines whose value a template fills in (``${NAME}``, ``{{ }}``; ``$NAME`` in a *.template).

The nginx image renders /etc/nginx/templates/*.template with envsubst at start, so the
value nginx reads is not in the file: a rule neither judges such a value as written
(``ssl_protocols ${SSL_PROTOCOLS}`` lacks nothing, and enables nothing) nor fixes it
(a fix would overwrite the placeholder with a literal, in every rendering). Where the
finding stands whatever the value, it is kept without a fix; the note says why.
"""

from __future__ import annotations

from collections.abc import Iterable

from tlslint.nginx_values import templated
from tlslint.sources.nginx.model import Directive

__all__ = ["placeholder_note", "templated", "templated_line"]


def templated_line(directives: Iterable[Directive | None]) -> Directive | None:
    """The first of ``directives`` that holds a placeholder, if any."""
    return next((d for d in directives if d is not None and templated(d)), None)


def placeholder_note(directive: Directive) -> str:
    """Why a finding about ``directive`` has no fix: its value is the template's."""
    written = " ".join((directive.name, *directive.args))
    return (
        f"no automatic fix: `{written}` holds a template's placeholder, whose value is decided "
        "when the template is rendered: change the template by hand"
    )
