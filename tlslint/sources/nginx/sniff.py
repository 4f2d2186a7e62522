"""Whether the first bytes of a file of no known kind read as nginx configuration.

A ``.conf`` file, or one in a ``sites-available/`` directory, is nginx by its name unless
its content says otherwise; a file with an unknown or no extension (``pleroma.nginx``,
``example.vhost``, ``sites-available/example.com``, ``proxy_params`` beside an
``nginx.conf``) has only its content to go by, and the tree around it holds READMEs,
shell scripts, Python and JSON files too. So the test is strict: the text tokenises
as nginx does, every statement ends in ``;`` or opens a block, every statement's name
is shaped like a directive, and most are directives nginx knows (crossplane's table,
which lacks third-party modules and some recent directives: hence "most").
"""

from __future__ import annotations

import re
from functools import lru_cache

from tlslint.sources.nginx.lexer import CLOSE, COMMENT, OPEN, QUOTED, SEMI, LexError, scan

# Blocks whose entries are data, not directives: `map $a $b { default 0; ~x 1; }`.
_DATA_BLOCKS = frozenset({"map", "geo", "types", "charset_map", "split_clients"})
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
# Blank and comment lines, then a directive's name: most other files fail here, unlexed.
_FIRST_STATEMENT = re.compile(rb"(?:[ \t\r]*(?:#[^\n]*)?\n)*[ \t]*[a-z_][a-z0-9_]*[\s;{]")


def reads_as_nginx(head: bytes, complete: bool) -> bool:
    """Whether ``head`` (the whole file when ``complete``, else its first bytes) is nginx."""
    head = head.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 BOM
    if head.startswith(b"#!") or _FIRST_STATEMENT.match(head) is None:
        return False  # a script; prose, JSON, ...
    text = head.decode("utf-8", errors="replace")
    if not complete:
        text = text[: text.rfind("\n") + 1]  # the last line may be cut
    try:
        tokens = scan(text, lengths=False)  # a token nginx refuses as too long is NGX001, once read
    except LexError:
        return False  # an apostrophe in prose, or a cut quoted string
    data: list[bool] = []  # per open block: whether its entries are data
    words: list[str] = []
    known = unknown = 0
    for kind, value, _, _ in tokens:
        if kind == COMMENT:
            continue
        in_data = bool(data) and data[-1]
        if kind == CLOSE:
            if words or not data:
                return False  # `}` in the middle of a statement, or with no block open
            data.pop()
        elif kind in (SEMI, OPEN):
            if not words:
                return False  # JSON's `{`, a stray `;`
            if not in_data:
                name = words[0]
                if not _NAME.fullmatch(name):
                    return False
                if name in _directives():
                    known += 1
                else:
                    unknown += 1
            if kind == OPEN:
                data.append(in_data or words[0] in _DATA_BLOCKS)
            words = []
        elif kind == QUOTED and not words and not in_data:
            return False  # no directive name is quoted
        else:
            words.append(value)
    if words and complete:
        return False  # the file ends in the middle of a statement
    return known > unknown


@lru_cache(maxsize=1)
def _directives() -> frozenset[str]:
    from crossplane.analyzer import DIRECTIVES  # ~12 ms: only once a file gets this far

    return frozenset(DIRECTIVES)
