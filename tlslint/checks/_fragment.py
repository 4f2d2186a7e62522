"""A configuration that is only a fragment: a file checked without its includer.

A conf.d/ or sites-enabled/ file of ``server {}`` blocks (context ``http``), or a
snippet of server-level directives (context ``server``), is read by nginx inside a
block this run does not see. That block may set whatever the fragment leaves unset,
so a rule must not say that "nothing applies" or that nginx's default does: only
that this file sets nothing, and that the includer decides. Nor may a fix that adds
such a setting be safe: it may conflict with the includer's (an ``ssl_session_cache``
zone of another size is ``[emerg]``) or override a value the operator set there.
"""

from __future__ import annotations

from dataclasses import replace

from tlslint.findings import Fix
from tlslint.workspace.nginx import MAIN, SERVER, NginxConfig


def is_fragment(config: NginxConfig) -> bool:
    """Whether ``config`` is read inside a block of a file not in front of us."""
    return config.context != MAIN


def includer(config: NginxConfig, http_setting: bool = False) -> str:
    """How a message names what may set what the fragment leaves unset (``http_setting``:
    a setting only http{} has, such as keepalive_timeout)."""
    # Which block includes it, as its lines tell (workspace.nginx.fragment_module): a
    # file that could be either's is not said to be http{}'s.
    outer = {"http": "http{}", "stream": "stream{}"}.get(config.module, "http{} or stream{}")
    if http_setting:
        outer = "http{}"
    if config.context == SERVER:
        return f"the including server{{}} or its {outer}"
    return f"the including {outer}"


def guarded(config: NginxConfig, fix: Fix | None) -> Fix | None:
    """``fix``, unsafe in a fragment: it adds a setting the includer may already set
    (a conflict, or an override of the operator's value tlslint cannot see)."""
    if fix is None or not fix.safe or not is_fragment(config):
        return fix
    return replace(fix, safe=False)
