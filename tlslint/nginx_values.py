"""The values nginx checks as it reads a directive: times, sizes, numbers, fixed words.

nginx reads these with a few shared readers (``ngx_parse_time``, ``ngx_parse_size``,
``ngx_parse_offset``, ``ngx_atoi``, the enum and bitmask slots, and
``ssl_session_cache``'s own) and refuses the whole configuration when one fails:
``"keepalive_timeout" directive invalid value``, ``invalid value "3"``,
``invalid session cache "foo"``. ``READERS`` says which reader takes each argument
of the directives tlslint's rules read and of their neighbours (timeouts, buffer
and body sizes); tests/test_nginx_values.py checks every row, and the readers on
tricky values, against the installed nginx.

Only what no release accepts is refused, so the readers are lenient where releases
differ: a number too large (whose checks changed across releases) passes, and a
word a later release added (``proxy_http_version 2``) is a word here; whether the
target version takes it is NGX004's question (``tlslint.nginx_history``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from tlslint.sources.nginx.model import Directive

# envsubst's ${NAME} (the nginx image's templates); nginx's own variables are lower case.
ENVSUBST_PLACEHOLDER: Final = re.compile(r"\$\{[A-Z][A-Z0-9_]*\}")
# What a template fills in before nginx reads the file: envsubst's ${NAME}, and a Go,
# Jinja or Helm {{ ... }} (quoted: nginx would read a bare `{` as a block).
_PLACEHOLDER: Final = re.compile(rf"{ENVSUBST_PLACEHOLDER.pattern}|\{{\{{.*?\}}\}}", re.S)
# envsubst's other form, $NAME, in the nginx image's templates (/etc/nginx/templates/
# *.template, rendered at start). Elsewhere an upper-case $NAME is an nginx variable:
# nginx reads variable names without case.
_BARE_PLACEHOLDER: Final = re.compile(r"\$[A-Z][A-Z0-9_]*(?![A-Za-z0-9_])")
ENVSUBST_SUFFIX: Final = ".template"


def placeholder(value: str, *, envsubst_file: bool = False) -> bool:
    """Whether ``value`` holds a template's placeholder (``envsubst_file``: it is in a
    ``*.template`` file, where ``$NAME`` is one too). Its value is decided when the
    template is rendered: no rule judges it as written, and no fix rewrites it."""
    if "$" not in value and "{{" not in value:
        return False  # nearly every value: no search
    if _PLACEHOLDER.search(value) is not None:
        return True
    return envsubst_file and _BARE_PLACEHOLDER.search(value) is not None


def in_envsubst_file(directive: Directive) -> bool:
    """Whether ``directive`` is in a ``*.template`` file (``$NAME`` is a placeholder there)."""
    return directive.source.path.name.endswith(ENVSUBST_SUFFIX)


def templated(directive: Directive | None, at: int | None = None) -> bool:
    """Whether an argument of ``directive`` (the one ``at`` that position, if given)
    holds a template's placeholder."""
    if directive is None:
        return False
    args = directive.args if at is None else directive.args[at : at + 1]
    if not any("$" in arg or "{{" in arg for arg in args):
        return False  # nearly every directive: its file's name is not looked at
    envsubst_file = in_envsubst_file(directive)
    return any(placeholder(arg, envsubst_file=envsubst_file) for arg in args)


def literal_args(directive: Directive) -> tuple[str, ...]:
    """The arguments of ``directive`` that hold no placeholder: what is known of it."""
    envsubst_file = in_envsubst_file(directive)
    return tuple(arg for arg in directive.args if not placeholder(arg, envsubst_file=envsubst_file))


# nginx's ngx_atoi/ngx_atosz/ngx_atoof: digits only, refused past the largest 64-bit value.
_DIGITS: Final = re.compile(r"[0-9]+")
_LARGEST: Final = 2**63 - 1
# ngx_parse_time's units, largest first: the step each one takes (see _time).
_UNIT_STEPS: Final = {"y": 1, "M": 2, "w": 3, "d": 4, "h": 5, "m": 6, "s": 7}
_MSEC_STEP: Final = 8
_LAST_STEP: Final = 9


# The forms nearly every value takes (one number, one unit), read by one match: the
# check runs on every such line of every server, and remembering its answers by value
# would hold every distinct value a process ever saw.
_SHORT_NUMBER: Final = re.compile(r"[0-9]{1,18}")  # below _LARGEST
_SHORT_MSEC: Final = re.compile(r"[0-9]{1,9}(?:ms|[smhdw])?")
_SHORT_SEC: Final = re.compile(r"[0-9]{1,9}[smhdwMy]?")


def _number(text: str) -> bool:
    if _SHORT_NUMBER.fullmatch(text) is not None:
        return True
    # 19 digits may still fit; more never do (nor may int() read 4,300 of them).
    return len(text) <= 19 and _DIGITS.fullmatch(text) is not None and int(text) <= _LARGEST


def _scaled(text: str, units: str) -> bool:
    """ngx_parse_size (k, m) and ngx_parse_offset (k, m, g): a number, one unit letter."""
    if text and text[-1] in units:
        text = text[:-1]
    return _number(text)


def _milliseconds(text: str) -> bool:
    return _SHORT_MSEC.fullmatch(text) is not None or _time(text, in_seconds=False)


def _seconds(text: str) -> bool:
    return _SHORT_SEC.fullmatch(text) is not None or _time(text, in_seconds=True)


def _time(text: str, in_seconds: bool) -> bool:
    return seconds(text, in_seconds=in_seconds) is not None


# Milliseconds in each of ngx_parse_time's units.
_UNIT_MS: Final = {
    "y": 31_536_000_000, "M": 2_592_000_000, "w": 604_800_000, "d": 86_400_000,
    "h": 3_600_000, "m": 60_000, "s": 1_000,
}  # fmt: skip


@lru_cache(maxsize=256)  # a handful of values (`1d`, `75s`), asked for each of 10,000 servers
def seconds(text: str, *, in_seconds: bool) -> float | None:
    """The time nginx reads ``text`` as, in seconds (ngx_parse_time); None where it
    refuses it: numbers with units, each unit at most once and largest first (``1h30m``,
    ``1h 30m``), a bare number (seconds) last; no ``ms`` where nginx counts seconds
    (``in_seconds``), no ``y`` or ``M`` where it counts milliseconds. The rules judge a
    time by this, so that a line nginx refuses is NGX012's alone."""
    step = 0 if in_seconds else 2  # st_start / st_month
    digits = False
    value = total_ms = 0
    position, end = 0, len(text)
    while position < end:
        char = text[position]
        position += 1
        if "0" <= char <= "9":
            digits = True
            value = value * 10 + ord(char) - 48
            continue
        if char == "m" and position < end and text[position] == "s":
            if in_seconds or step >= _MSEC_STEP:
                return None
            position += 1
            step, scale = _MSEC_STEP, 1
        elif char == " ":
            if step >= _UNIT_STEPS["s"]:
                return None
            step, scale = _LAST_STEP, 1_000
        elif char in _UNIT_STEPS:
            unit_step = _UNIT_STEPS[char]
            if step >= unit_step:  # a unit again, or after a smaller one
                return None
            step, scale = unit_step, _UNIT_MS[char]
        else:
            return None
        total_ms += value * scale
        value = 0
        while position < end and text[position] == " ":
            position += 1
    if not digits:
        return None
    total_ms += value * 1_000
    return total_ms / 1_000 if total_ms < 10**18 else float("inf")  # past 64 bits: as good as forever


def _session_cache(text: str) -> bool:
    """ngx_http_ssl_session_cache, one argument: off, none, builtin[:N] or shared:NAME:SIZE."""
    if text in ("off", "none", "builtin"):
        return True
    if text.startswith("builtin:"):
        return _number(text[len("builtin:") :])
    if text.startswith("shared:"):
        name, colon, size = text[len("shared:") :].partition(":")
        return bool(name) and bool(colon) and _scaled(size, "kKmM")
    return False


@dataclass(frozen=True, slots=True)
class Reader:
    """How nginx reads one argument, and its refusal (``{name}`` and ``{value}`` filled)."""

    accepts: Callable[[str], bool]
    template: str
    words: tuple[str, ...] = ()  # the fixed words it takes (an enum or a bitmask slot)
    # A reader whose refusal names what is wrong (an address's port, its host): the words.
    explain: Callable[[str, str], str] | None = None

    def refusal(self, name: str, value: str) -> str:
        if self.explain is not None:
            return self.explain(name, value)
        if self.words:
            listed = [f'"{word}"' for word in self.words]
            choice = ", ".join(listed[:-1]) + " or " + listed[-1]
            return f'invalid value "{value}" in "{name}" directive, it must be {choice}'
        return self.template.format(name=name, value=value)


def _words(*words: str) -> Reader:
    folded = frozenset(word.lower() for word in words)  # nginx compares them with ngx_strcasecmp
    return Reader(lambda text: text.lower() in folded, "", words)


_SLOT = '"{name}" directive invalid value "{value}": it takes '
MSEC: Final = Reader(
    _milliseconds,
    _SLOT + "a time in units ms, s, m, h, d, w, largest first (75s, 1m30s, 500ms)",
)
SEC: Final = Reader(
    _seconds,
    _SLOT + "a time in units s, m, h, d, w, M, y, largest first (10m, 1h30m, 1d)",
)
SIZE: Final = Reader(lambda text: _scaled(text, "kKmM"), _SLOT + "a size in bytes, k or m (16k, 1m)")
OFFSET: Final = Reader(lambda text: _scaled(text, "kKmMgG"), _SLOT + "a size in bytes, k, m or g (10m, 1g)")
NUMBER: Final = Reader(_number, '"{name}" directive invalid number "{value}": it takes a whole number (1000)')
# ngx_http_upstream_keepalive reads its own number, and words its refusal as an enum slot does.
CONNECTIONS: Final = Reader(
    _number, 'invalid value "{value}" in "{name}" directive: it takes a number of connections (32)'
)
SESSION_CACHE: Final = Reader(
    _session_cache,
    'invalid session cache "{value}": it takes off, none, builtin, builtin:N or shared:NAME:SIZE'
    " (shared:SSL:10m)",
)


# http(s)://name-or-address[:port][/uri]: a port of 1 to 4 digits, not 0, is always valid.
_PLAIN_URL: Final = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._-]+(?::0*[1-9][0-9]{0,3})?(?:[/?][^#]*)?"
)


# Where a URL's URI part starts (ngx_parse_inet_url: the first "/" or "?").
_URI_START: Final = re.compile(r"[/?]")


def proxy_url_problem(text: str) -> str:
    """nginx's words for a ``proxy_pass`` URL it refuses at start (ngx_http_proxy_pass,
    ngx_parse_url); '' for one it takes, and for one with variables, which nginx reads per
    request. Host names are not looked up: nginx -t's "host not found" is the DNS's."""
    if _PLAIN_URL.fullmatch(text) is not None or "$" in text:
        return ""  # the common form, read by one match; variables: read per request
    lowered = text.lower()
    scheme = next((prefix for prefix in ("http://", "https://") if lowered.startswith(prefix)), "")
    if not scheme:
        return "invalid URL prefix"
    return _address_problem(text[len(scheme) :], uri=True)


def backend_address_problem(text: str, schemes: tuple[str, ...] = ()) -> str:
    """nginx's words for the address of a ``fastcgi_pass``, ``uwsgi_pass``, ``scgi_pass``,
    ``grpc_pass`` or ``memcached_pass`` it refuses at start: no URI part, and a scheme only
    where the module strips one (``schemes``). An address without a port may name an
    upstream{} (nginx says "no port" only when none has that name): it is not judged."""
    if "$" in text:
        return ""
    lowered = text.lower()
    scheme = next((prefix for prefix in schemes if lowered.startswith(prefix)), "")
    return _address_problem(text[len(scheme) :], uri=False)


def _address_problem(url: str, *, uri: bool) -> str:
    """ngx_parse_url's refusal of ``url`` (after the scheme): a unix path, or a host, an
    IPv6 address in brackets or a name, and a port; with ``uri``, a URI part may follow."""
    if url[:5].lower() == "unix:":
        path = url[5:].partition(":")[0] if uri else url[5:]
        return "" if path else f'no path in the unix domain socket in upstream "{url}"'
    authority = _URI_START.split(url, maxsplit=1)[0]
    if not uri and authority != url:
        return f'invalid host in upstream "{url}"'
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            return f'invalid host in upstream "{url}"'
        host, rest = authority[: end + 1], authority[end + 1 :]
        if rest and not rest.startswith(":"):
            return f'invalid host in upstream "{url}"'
        port = rest[1:] if rest else None
    else:
        host, colon, tail = authority.partition(":")
        port = tail if colon else None
    if not host:
        return f'no host in upstream "{url}"'
    digits = (port or "").lstrip("0")  # ngx_atoi reads leading zeros (08080 is 8080)
    if port is not None and not (
        _DIGITS.fullmatch(port) and len(digits) <= 5 and 1 <= int(digits or "0") <= 65535
    ):
        return f'invalid port in upstream "{url}"'
    return ""


def proxy_url_uri(text: str) -> str:
    """The URI part of a ``proxy_pass`` URL nginx reads at start (ngx_parse_url: from the
    first ``/`` or ``?`` after the host, or after a unix path's ``:``); '' for none, and
    for a URL with variables, whose URI nginx does not judge at start."""
    if "$" in text:
        return ""
    lowered = text.lower()
    scheme = next((prefix for prefix in ("http://", "https://") if lowered.startswith(prefix)), "")
    if not scheme:
        return ""
    url = text[len(scheme) :]
    if url[:5].lower() == "unix:":
        _, colon, uri = url[5:].partition(":")
        return uri if colon else ""
    found = _URI_START.search(url, url.find("]") + 1 if url.startswith("[") else 0)
    return url[found.start() :] if found is not None else ""


def _proxy_url_refusal(name: str, value: str) -> str:
    problem = proxy_url_problem(value)
    if problem == "invalid URL prefix":
        return f'invalid URL prefix in "{name}" "{value}": it takes http:// or https:// (http://backend)'
    return f"{problem}: it takes a host, an address or unix:/path, with a port from 1 to 65535"


# ngx_http_proxy_pass: the URL of an http proxy_pass (stream's takes host:port, no scheme).
PROXY_URL: Final = Reader(lambda text: not proxy_url_problem(text), "", explain=_proxy_url_refusal)


def _backend_reader(schemes: tuple[str, ...], example: str) -> Reader:
    """An address as fastcgi_pass (and its kin) reads it: ``schemes`` the module strips."""
    scheme = f"an optional {' or '.join(schemes)}" if schemes else "no scheme"

    def refusal(name: str, value: str) -> str:
        return (
            f"{backend_address_problem(value, schemes)}: it takes host:port (a port from 1 to "
            f"65535) or unix:/path, with no URI and {scheme} ({example})"
        )

    return Reader(lambda text: not backend_address_problem(text, schemes), "", explain=refusal)


BACKEND_ADDRESS: Final = _backend_reader((), "127.0.0.1:9000")
UWSGI_ADDRESS: Final = _backend_reader(("uwsgi://", "suwsgi://"), "127.0.0.1:3031")
GRPC_ADDRESS: Final = _backend_reader(("grpc://", "grpcs://"), "grpc://127.0.0.1:50051")
# http's proxy_next_upstream (stream's is a flag).
NEXT_UPSTREAM: Final = _words(
    "error", "timeout", "invalid_header", "http_500", "http_502", "http_503", "http_504",
    "http_403", "http_404", "http_429", "non_idempotent", "off",
)  # fmt: skip
PROTOCOLS: Final = _words("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")

# Scopes as tlslint.nginx_directives.scope_of_mask names them.
HTTP, UPSTREAM, STREAM, MAIL = "http", "upstream", "stream", "mail"
_HTTP_STREAM = (HTTP, STREAM)
_TLS = (HTTP, STREAM, MAIL)


@dataclass(frozen=True, slots=True)
class Row:
    """One directive's readers in some scopes: by argument position, the last one
    repeating (``repeat``) for directives that take a list."""

    scopes: tuple[str, ...]
    readers: tuple[Reader, ...]
    repeat: bool = False

    def reader(self, position: int) -> Reader | None:
        if position < len(self.readers):
            return self.readers[position]
        return self.readers[-1] if self.repeat else None


def _rows() -> dict[str, tuple[Row, ...]]:
    timeouts = (
        "send_timeout", "client_header_timeout", "client_body_timeout", "lingering_time",
        "lingering_timeout", "resolver_timeout", "proxy_send_timeout", "proxy_read_timeout",
        "proxy_next_upstream_timeout", "grpc_connect_timeout", "grpc_send_timeout",
        "grpc_read_timeout", "fastcgi_connect_timeout", "fastcgi_send_timeout",
        "fastcgi_read_timeout", "uwsgi_connect_timeout", "uwsgi_send_timeout", "uwsgi_read_timeout",
    )  # fmt: skip
    sizes = (
        "ssl_buffer_size", "proxy_buffer_size", "proxy_busy_buffers_size",
        "client_body_buffer_size", "client_header_buffer_size", "proxy_temp_file_write_size",
        "proxy_max_temp_file_size",
    )  # fmt: skip
    rows: dict[str, tuple[Row, ...]] = {name: (Row((HTTP,), (MSEC,)),) for name in timeouts}
    rows.update({name: (Row((HTTP,), (SIZE,)),) for name in sizes})
    rows.update(
        {
            # ngx_http_core_keepalive: the timeout in milliseconds, the header's in seconds.
            "keepalive_timeout": (Row((HTTP,), (MSEC, SEC)), Row((UPSTREAM,), (MSEC,))),
            "keepalive_time": (Row((HTTP, UPSTREAM), (MSEC,)),),
            "keepalive_requests": (Row((HTTP, UPSTREAM), (NUMBER,)),),
            "keepalive": (Row((UPSTREAM,), (CONNECTIONS,)),),
            "proxy_connect_timeout": (Row(_HTTP_STREAM, (MSEC,)),),
            "proxy_timeout": (Row((STREAM, MAIL), (MSEC,)),),
            "ssl_handshake_timeout": (Row((STREAM,), (MSEC,)),),
            "ssl_session_timeout": (Row(_TLS, (SEC,)),),
            "ssl_session_cache": (Row(_TLS, (SESSION_CACHE,), repeat=True),),
            "client_max_body_size": (Row((HTTP,), (OFFSET,)),),
            "proxy_next_upstream_tries": (Row((HTTP,), (NUMBER,)),),
            "ssl_protocols": (Row(_TLS, (PROTOCOLS,), repeat=True),),
            "proxy_ssl_protocols": (Row(_HTTP_STREAM, (PROTOCOLS,), repeat=True),),
            "grpc_ssl_protocols": (Row((HTTP,), (PROTOCOLS,), repeat=True),),
            "proxy_http_version": (Row((HTTP,), (_words("1.0", "1.1", "2"),)),),
            "ssl_verify_client": (Row(_TLS, (_words("on", "off", "optional", "optional_no_ca"),)),),
            "ssl_ocsp": (Row((HTTP,), (_words("on", "off", "leaf"),)),),
            "lingering_close": (Row((HTTP,), (_words("off", "on", "always"),)),),
            "server_tokens": (Row((HTTP,), (_words("off", "on", "build"),)),),
            "satisfy": (Row((HTTP,), (_words("all", "any"),)),),
            "keepalive_disable": (Row((HTTP,), (_words("none", "msie6", "safari"),), repeat=True),),
            "proxy_next_upstream": (Row((HTTP,), (NEXT_UPSTREAM,), repeat=True),),
            "proxy_pass": (Row((HTTP,), (PROXY_URL,)),),
            "fastcgi_pass": (Row((HTTP,), (BACKEND_ADDRESS,)),),
            "scgi_pass": (Row((HTTP,), (BACKEND_ADDRESS,)),),
            "memcached_pass": (Row((HTTP,), (BACKEND_ADDRESS,)),),
            "uwsgi_pass": (Row((HTTP,), (UWSGI_ADDRESS,)),),
            "grpc_pass": (Row((HTTP,), (GRPC_ADDRESS,)),),
        }
    )
    return rows


READERS: Final[Mapping[str, tuple[Row, ...]]] = _rows()


def row_for(name: str, scope: str) -> Row | None:
    for row in READERS.get(name, ()):
        if scope in row.scopes:
            return row
    return None


def rows_for(name: str, scopes: tuple[str, ...]) -> tuple[Row, ...]:
    """The rows reading ``name`` in each of ``scopes`` (those it can stand in here); none
    when a scope has no row (how it reads the values there is not known)."""
    rows = tuple(row_for(name, scope) for scope in scopes)
    return () if None in rows else rows  # type: ignore[return-value]


def refusal(name: str, args: tuple[str, ...], rows: tuple[Row, ...]) -> str:
    """nginx's refusal of the first argument that every one of ``rows`` reads and
    refuses; '' when some reading takes them all (or reads an argument not at all).
    A template's placeholder (``${KEEPALIVE_TIMEOUT}``) is a value not known yet, not a
    wrong one: the file that nginx reads is the one it renders."""
    if not rows:
        return ""
    first_row = rows[0]
    for position, value in enumerate(args):
        reader = first_row.reader(position)
        if reader is None or reader.accepts(value):
            continue
        if placeholder(value):
            continue
        if all((other := row.reader(position)) is not None and not other.accepts(value) for row in rows[1:]):
            return reader.refusal(name, value)
    return ""
