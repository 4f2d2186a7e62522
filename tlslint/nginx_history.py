"""Which nginx releases accept a directive, a ``listen`` parameter or an argument form.

The table answers one question: on which nginx.org releases does ``nginx -t``
accept this line? A configuration that uses it runs on one of those releases,
or nginx would not start; tlslint infers the version from it
(``tlslint.nginx_inference``), and a rule can say "unknown on nginx 1.22".

Interface (small on purpose, for the rules and the analyzer):

* ``directive_versions(name, context=None) -> VersionSpan | None``
* ``listen_parameter_versions(parameter, context="http") -> VersionSpan | None``
* ``argument_versions(name, args, context=None) -> VersionSpan | None``: a value
  form that appeared later than its directive (``proxy_http_version 2``)
* ``entries()``: every (kind, name, scope, span) row, for tools that list them

``context`` is where the line is: a scope name (``"main"``, ``"http"``,
``"upstream"`` for http's ``upstream{}``, ``"stream"``, ``"mail"``), or the
names of the enclosing blocks outermost first, as crossplane gives them
(``("http", "server", "location")``, ``("stream", "server")``, ``()`` for the
main level). The same name can differ per module: ``ssl_reject_handshake``
appeared in http in 1.19.4 and in stream in 1.25.5; ``keepalive_timeout`` in
``upstream{}`` in 1.15.3 (long after http's). ``None`` looks in http, then
upstream, main, stream and mail, and gives the first row found.

``None`` (no row) means "no version fact recorded": the name is older than
anything the rules care about, or from a module this table does not follow. A
row is only as wide as it is sure: where a boundary is known only within some
releases, ``since`` is the earliest of them and ``until`` the latest, so that an
inference from the table is never wrong, only weaker. Directives that NGINX Plus
or common third-party modules had earlier under the same name (``sticky``,
``least_time``, upstream ``resolver``, the ``resolve`` parameter) are left out:
their presence proves nothing about the nginx.org release. So is ``max_headers``
(CHANGES 1.29.8): Debian's security update of 1.22.1 backports it (measured).

Sources, cited per row: ``CHANGES x.y.z`` is nginx's change log (nginx/nginx.org
text/en/CHANGES, read 2026-11 up to 1.31.6); ``docs`` the module reference
(nginx/nginx.org xml/en/docs); ``source`` nginx/nginx's C source; ``facts §N``
../shared/facts/nginx.md; ``1.22.1`` measured with Debian's nginx -t here
(tests/test_nginx_history.py checks every http row against it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from tlslint.nginx_versions import Version

MAIN, HTTP, UPSTREAM, STREAM, MAIL = "main", "http", "upstream", "stream", "mail"
SCOPES = (MAIN, HTTP, UPSTREAM, STREAM, MAIL)
_LOOKUP_ORDER = (HTTP, UPSTREAM, MAIN, STREAM, MAIL)
DIRECTIVE, LISTEN, ARGUMENT = "directive", "listen", "argument"


@dataclass(frozen=True, slots=True)
class VersionSpan:
    """The nginx.org releases that accept a line: ``since`` <= version < ``until``.

    ``deprecated``: from that release ``nginx -t`` warns (and, where ``ignored``,
    the line no longer does anything) but still starts. ``refusal`` is what nginx
    says where it does not accept the line.
    """

    since: Version | None  # None: older than anything recorded
    until: Version | None = None  # the first release that refuses it; None: accepted still
    deprecated: Version | None = None
    ignored: bool = False  # from ``deprecated`` on, accepted with a warning and without effect
    refusal: str = ""
    source: str = ""

    def accepts(self, version: Version) -> bool:
        """Whether nginx ``version`` starts with the line."""
        if self.since is not None and version < self.since:
            return False
        return self.until is None or version < self.until


def _v(text: str | None) -> Version | None:
    if text is None:
        return None
    major, minor, patch = (int(part) for part in text.split("."))
    return major, minor, patch


# name, scope, since, until, deprecated (ignored when "ignored"), source
_DirectiveRow = tuple[str, str, str | None, str | None, str | None, str]

_DIRECTIVES: tuple[_DirectiveRow, ...] = (
    # --- removed or obsolete
    ("ssl", HTTP, None, "1.25.1", "1.15.0",
     "CHANGES 1.15.0 (deprecated), 1.25.1 (not supported anymore); facts §4 (1.31.4: unknown directive)"),
    ("http2_idle_timeout", HTTP, "1.9.5", None, "1.19.7 ignored",
     "CHANGES 1.9.5 (ngx_http_v2_module), 1.19.7 (removed); source: ngx_http_v2_obsolete; 1.22.1 warns"),
    ("http2_max_requests", HTTP, "1.9.5", None, "1.19.7 ignored", "as http2_idle_timeout"),
    ("http2_recv_timeout", HTTP, "1.9.5", None, "1.19.7 ignored", "as http2_idle_timeout"),
    ("http2_max_field_size", HTTP, "1.9.5", None, "1.19.7 ignored", "as http2_idle_timeout"),
    ("http2_max_header_size", HTTP, "1.9.5", None, "1.19.7 ignored", "as http2_idle_timeout"),
    ("http2_push", HTTP, "1.13.9", None, "1.25.1 ignored",
     "CHANGES 1.13.9, 1.25.1 (server push removed); source: ngx_http_v2_obsolete warns"),
    ("http2_push_preload", HTTP, "1.13.9", None, "1.25.1 ignored", "as http2_push"),
    ("http2_max_concurrent_pushes", HTTP, "1.13.9", None, "1.25.1 ignored", "as http2_push"),
    # --- TLS
    ("ssl_session_ticket_key", HTTP, "1.5.7", None, None, "facts §1"),
    ("ssl_session_tickets", HTTP, "1.5.9", None, None, "facts §1"),
    ("ssl_buffer_size", HTTP, "1.5.9", None, None, "facts §1"),
    ("ssl_early_data", HTTP, "1.15.3", None, None, "CHANGES 1.15.3; facts §1"),
    ("ssl_ocsp", HTTP, "1.19.0", None, None, "CHANGES 1.19.0 (client certificate validation with OCSP)"),
    ("ssl_ocsp_cache", HTTP, "1.19.0", None, None, "CHANGES 1.19.0"),
    ("ssl_ocsp_responder", HTTP, "1.19.0", None, None, "CHANGES 1.19.0"),
    ("ssl_conf_command", HTTP, "1.19.4", None, None, "CHANGES 1.19.4"),
    ("proxy_ssl_conf_command", HTTP, "1.19.4", None, None, "CHANGES 1.19.4"),
    ("grpc_ssl_conf_command", HTTP, "1.19.4", None, None, "CHANGES 1.19.4"),
    ("uwsgi_ssl_conf_command", HTTP, "1.19.4", None, None, "CHANGES 1.19.4"),
    ("ssl_reject_handshake", HTTP, "1.19.4", None, None, "CHANGES 1.19.4; facts §1"),
    ("ssl_certificate_cache", HTTP, "1.27.4", None, None, "CHANGES 1.27.4"),
    ("proxy_ssl_certificate_cache", HTTP, "1.27.4", None, None, "CHANGES 1.27.4"),
    ("grpc_ssl_certificate_cache", HTTP, "1.27.4", None, None, "CHANGES 1.27.4"),
    ("uwsgi_ssl_certificate_cache", HTTP, "1.27.4", None, None, "CHANGES 1.27.4"),
    ("ssl_certificate_compression", HTTP, "1.29.1", None, None,
     "CHANGES 1.29.1; facts §6 (GrapheneOS fails on 1.22.1)"),
    ("ssl_ech_file", HTTP, "1.29.4", None, None, "CHANGES 1.29.4"),
    # --- HTTP/2 and HTTP/3
    ("http2", HTTP, "1.25.1", None, None, "CHANGES 1.25.1; facts §4 (1.22.1: unknown directive)"),
    ("http3", HTTP, "1.25.0", None, None, "CHANGES 1.25.0 (ngx_http_v3_module, experimental HTTP/3)"),
    ("http3_hq", HTTP, "1.25.0", None, None, "CHANGES 1.25.0 (ngx_http_v3_module)"),
    ("http3_max_concurrent_streams", HTTP, "1.25.0", None, None, "CHANGES 1.25.0 (ngx_http_v3_module)"),
    ("http3_stream_buffer_size", HTTP, "1.25.0", None, None, "CHANGES 1.25.0 (ngx_http_v3_module)"),
    ("quic_active_connection_id_limit", HTTP, "1.25.0", None, None, "CHANGES 1.25.0 (ngx_http_v3_module)"),
    ("quic_gso", HTTP, "1.25.0", None, None, "CHANGES 1.25.0 (ngx_http_v3_module)"),
    ("quic_host_key", HTTP, "1.25.0", None, None, "CHANGES 1.25.0 (ngx_http_v3_module)"),
    ("quic_retry", HTTP, "1.25.0", None, None, "CHANGES 1.25.0 (ngx_http_v3_module)"),
    # --- keep-alive
    ("keepalive_time", HTTP, "1.19.10", None, None, "CHANGES 1.19.10; facts §1"),
    ("keepalive_min_timeout", HTTP, "1.27.4", None, None, "CHANGES 1.27.4; facts §1"),
    ("keepalive", UPSTREAM, "1.1.4", None, None, "facts §1"),
    ("keepalive_timeout", UPSTREAM, "1.15.3", None, None, "CHANGES 1.15.3; facts §1"),
    ("keepalive_requests", UPSTREAM, "1.15.3", None, None, "CHANGES 1.15.3; facts §1"),
    ("keepalive_time", UPSTREAM, "1.19.10", None, None, "CHANGES 1.19.10; facts §1"),
    ("random", UPSTREAM, "1.15.1", None, None, "CHANGES 1.15.1"),
    ("proxy_socket_keepalive", HTTP, "1.15.6", None, None, "CHANGES 1.15.6"),
    ("fastcgi_socket_keepalive", HTTP, "1.15.6", None, None, "CHANGES 1.15.6"),
    ("grpc_socket_keepalive", HTTP, "1.15.6", None, None, "CHANGES 1.15.6"),
    ("memcached_socket_keepalive", HTTP, "1.15.6", None, None, "CHANGES 1.15.6"),
    ("scgi_socket_keepalive", HTTP, "1.15.6", None, None, "CHANGES 1.15.6"),
    ("uwsgi_socket_keepalive", HTTP, "1.15.6", None, None, "CHANGES 1.15.6"),
    # --- other http directives, by release
    ("limit_req_dry_run", HTTP, "1.17.1", None, None, "CHANGES 1.17.1"),
    ("limit_conn_dry_run", HTTP, "1.17.6", None, None, "CHANGES 1.17.6"),
    ("auth_delay", HTTP, "1.17.10", None, None, "CHANGES 1.17.10"),
    ("proxy_cookie_flags", HTTP, "1.19.3", None, None, "CHANGES 1.19.3"),
    ("userid_flags", HTTP, "1.19.3", None, None, "CHANGES 1.19.3"),
    ("mp4_start_key_frame", HTTP, "1.21.4", None, None, "CHANGES 1.21.4"),
    ("proxy_pass_trailers", HTTP, "1.27.2", None, None, "CHANGES 1.27.2"),
    ("early_hints", HTTP, "1.29.0", None, None, "CHANGES 1.29.0"),
    ("add_header_inherit", HTTP, "1.29.3", None, None, "CHANGES 1.29.3"),
    ("add_trailer_inherit", HTTP, "1.29.3", None, None, "CHANGES 1.29.3"),
    ("proxy_socket_sndbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("proxy_socket_rcvbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("fastcgi_socket_sndbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("fastcgi_socket_rcvbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("grpc_socket_sndbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("grpc_socket_rcvbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("scgi_socket_sndbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("scgi_socket_rcvbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("uwsgi_socket_sndbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("uwsgi_socket_rcvbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("tunnel_socket_sndbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("tunnel_socket_rcvbuf", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("xml_external_entities", HTTP, "1.31.3", None, None, "CHANGES 1.31.3"),
    ("client_body_early_read", HTTP, "1.31.5", None, None, "CHANGES 1.31.5"),
    # --- main level
    ("quic_bpf", MAIN, "1.25.0", None, None, "CHANGES 1.25.0 (ngx_http_v3_module)"),
    ("ssl_object_cache_inheritable", MAIN, "1.27.4", None, None, "CHANGES 1.27.4"),
    # --- stream
    ("proxy_requests", STREAM, "1.15.7", None, None, "CHANGES 1.15.7 (stream module)"),
    ("set", STREAM, "1.19.3", None, None, "CHANGES 1.19.3 (ngx_stream_set_module)"),
    ("ssl_conf_command", STREAM, "1.19.4", None, None, "CHANGES 1.19.4; docs (ngx_stream_ssl_module)"),
    ("ssl_alpn", STREAM, "1.21.4", None, None, "CHANGES 1.21.4 (stream module)"),
    ("proxy_half_close", STREAM, "1.21.4", None, None, "CHANGES 1.21.4 (stream module)"),
    ("ssl_reject_handshake", STREAM, "1.25.5", None, None,
     "CHANGES 1.25.5 (virtual servers in stream); facts §1, §4 (1.22.1: not allowed here)"),
    ("server_name", STREAM, "1.25.5", None, None, "CHANGES 1.25.5 (virtual servers in the stream module)"),
    ("pass", STREAM, "1.25.5", None, None, "CHANGES 1.25.5 (ngx_stream_pass_module)"),
    ("ssl_ocsp", STREAM, "1.27.2", None, None, "CHANGES 1.27.2 (OCSP in the stream module)"),
    ("ssl_ocsp_cache", STREAM, "1.27.2", None, None, "CHANGES 1.27.2"),
    ("ssl_ocsp_responder", STREAM, "1.27.2", None, None, "CHANGES 1.27.2"),
    ("ssl_stapling", STREAM, "1.27.2", None, None, "CHANGES 1.27.2 (OCSP stapling in the stream module)"),
    ("ssl_stapling_file", STREAM, "1.27.2", None, None, "CHANGES 1.27.2"),
    ("ssl_stapling_responder", STREAM, "1.27.2", None, None, "CHANGES 1.27.2"),
    ("ssl_stapling_verify", STREAM, "1.27.2", None, None, "CHANGES 1.27.2"),
    ("proxy_ssl_alpn", STREAM, "1.31.0", None, None, "CHANGES 1.31.0 (stream module)"),
    # The stream forms of the http directives above, added with them (nginx commit 454ad0ef
    # changes ngx_stream_proxy_module.c; nginx-tests: stream_ssl_certificate_cache.t). A
    # stream form cannot predate its http twin's release, so that bound is sound.
    ("ssl_certificate_cache", STREAM, "1.27.4", None, None, "CHANGES 1.27.4; 1.22.1: unknown directive"),
    ("proxy_ssl_certificate_cache", STREAM, "1.27.4", None, None,
     "CHANGES 1.27.4; commit 454ad0ef (stream proxy); 1.22.1: unknown directive"),
    ("ssl_certificate_compression", STREAM, "1.29.1", None, None,
     "CHANGES 1.29.1 (ngx_stream_ssl_module's certificate_compression); 1.22.1: unknown directive"),
    ("ssl_ech_file", STREAM, "1.29.4", None, None, "CHANGES 1.29.4; 1.22.1: unknown directive"),
    # --- mail
    ("proxy_smtp_auth", MAIL, "1.19.4", None, None, "CHANGES 1.19.4"),
    ("proxy_protocol", MAIL, "1.19.8", None, None, "CHANGES 1.19.8 (mail proxy)"),
    ("set_real_ip_from", MAIL, "1.19.8", None, None, "CHANGES 1.19.8 (mail proxy)"),
    ("max_errors", MAIL, "1.21.0", None, None, "CHANGES 1.21.0 (mail proxy)"),
    ("ssl_conf_command", MAIL, "1.19.4", None, None,
     "CHANGES 1.19.4; changeset 7729 adds it to ngx_mail_ssl_module.c too"),
    ("ssl_certificate_compression", MAIL, "1.29.1", None, None,
     "CHANGES 1.29.1 (as the http and stream forms); nginx_directives.SUPPLEMENT"),
    ("ssl", MAIL, None, "1.25.1", "1.15.0",
     "CHANGES 1.15.0, 1.25.1; source: ngx_mail_ssl_module's commands have no \"ssl\" after 1.25.1"),
)  # fmt: skip

_LISTEN: tuple[_DirectiveRow, ...] = (
    ("http2", HTTP, "1.9.5", None, "1.25.1",
     "CHANGES 1.9.5 (ngx_http_v2_module), 1.25.1 (deprecated); facts §4 (1.31.4 warns)"),
    # Accepted with a warning from 1.9.5 (source: "ngx_http_spdy_module was superseded");
    # refused by 1.22.1 (measured: invalid parameter "spdy"). The release in between
    # that dropped the warning is not recorded: 1.22.1 is the sound bound.
    ("spdy", HTTP, None, "1.22.1", "1.9.5", "CHANGES 1.9.5; source; 1.22.1 refuses it"),
    ("quic", HTTP, "1.25.0", None, None, "CHANGES 1.25.0 (experimental HTTP/3)"),
    ("multipath", HTTP, "1.29.7", None, None, "CHANGES 1.29.7"),
    ("reuseport", HTTP, "1.9.1", None, None, "CHANGES 1.9.1"),
    ("fastopen", STREAM, "1.21.0", None, None, "CHANGES 1.21.0 (stream module)"),
    ("deferred", STREAM, "1.25.5", None, None, "CHANGES 1.25.5 (stream module)"),
    ("accept_filter", STREAM, "1.25.5", None, None, "CHANGES 1.25.5 (stream module)"),
    ("setfib", STREAM, "1.25.5", None, None, "CHANGES 1.25.5 (stream module)"),
    ("default_server", STREAM, "1.25.5", None, None,
     "CHANGES 1.25.5 (virtual servers in the stream module); 1.22.1 refuses it (measured)"),
    ("rcvbuf", STREAM, "1.13.0", None, None, "CHANGES 1.13.0 (stream and mail)"),
    ("sndbuf", STREAM, "1.13.0", None, None, "CHANGES 1.13.0 (stream and mail)"),
    ("rcvbuf", MAIL, "1.13.0", None, None, "CHANGES 1.13.0 (stream and mail)"),
    ("sndbuf", MAIL, "1.13.0", None, None, "CHANGES 1.13.0 (stream and mail)"),
    ("proxy_protocol", MAIL, "1.19.8", None, None, "CHANGES 1.19.8 (mail proxy)"),
)  # fmt: skip


# Names an older module knows in another context: there nginx says "not allowed here".
_KNOWN_ELSEWHERE = frozenset(
    {"server_name", "set", "proxy_protocol", "set_real_ip_from", "ssl_stapling",
     "ssl_stapling_file", "ssl_stapling_responder", "ssl_stapling_verify"}
)  # fmt: skip


def _span(row: _DirectiveRow, refusal: str) -> VersionSpan:
    _, _, since, until, deprecated, source = row
    return VersionSpan(
        since=_v(since),
        until=_v(until),
        deprecated=_v(deprecated.removesuffix(" ignored")) if deprecated else None,
        ignored=deprecated is not None and deprecated.endswith(" ignored"),
        refusal=refusal,
        source=source,
    )


# http core directives far older than their upstream{} forms (CHANGES 1.15.3): before
# that, nginx knows the name and refuses only the place.
_HTTP_CORE_IN_UPSTREAM = frozenset({"keepalive_timeout", "keepalive_requests"})


def _older(first: str | None, second: str | None) -> bool:
    """Whether release ``first`` precedes ``second`` (None: any release, so yes)."""
    a, b = _v(first), _v(second)
    return a is None or b is None or a < b


def _directive_refusal(name: str, scope: str, since: str | None = None) -> str:
    # http knows the name where this module does not yet only if its form is older
    # (ssl_conf_command came to http, stream and mail at once: unknown to all before).
    http_knows = any(row[0] == name and row[1] == HTTP and _older(row[2], since) for row in _DIRECTIVES)
    if scope in (STREAM, MAIL) and (http_knows or name in _KNOWN_ELSEWHERE):
        return f'"{name}" directive is not allowed here'
    if scope == UPSTREAM and name in _HTTP_CORE_IN_UPSTREAM:
        return f'"{name}" directive is not allowed here'
    return f'unknown directive "{name}"'


_BY_DIRECTIVE: dict[tuple[str, str], VersionSpan] = {
    (row[0], row[1]): _span(row, _directive_refusal(row[0], row[1], row[2])) for row in _DIRECTIVES
}


def _listen_refusal(parameter: str, scope: str) -> str:
    """What nginx says of a listen parameter it does not know: the stream module words it
    its own way (measured on 1.22.1: `the invalid "deferred" parameter`)."""
    if scope == STREAM:
        return f'the invalid "{parameter}" parameter'
    return f'invalid parameter "{parameter}"'


_BY_LISTEN: dict[tuple[str, str], VersionSpan] = {
    (row[0], row[1]): _span(row, _listen_refusal(row[0], row[1])) for row in _LISTEN
}

# The names with any row: a configuration walk asks only about these.
DIRECTIVE_NAMES = frozenset(name for name, _ in _BY_DIRECTIVE)


@dataclass(frozen=True, slots=True)
class ArgumentForm:
    name: str
    scope: str
    what: str  # the form, as a message shows it
    span: VersionSpan

    def matches(self, args: Sequence[str]) -> bool:
        return self.test(args)

    @property
    def test(self) -> Callable[[Sequence[str]], bool]:
        return _FORM_TESTS[self.what]


_FORM_TESTS: dict[str, Callable[[Sequence[str]], bool]] = {
    "proxy_http_version 2": lambda args: len(args) > 0 and args[0] == "2",
    "keepalive N local": lambda args: len(args) > 1 and args[1] == "local",
    "keepalive 0": lambda args: len(args) > 0 and args[0] == "0",
    "ssl_protocols TLSv1.3": lambda args: any(arg.lower() == "tlsv1.3" for arg in args),
    "limit_req delay=": lambda args: any(arg.startswith("delay=") for arg in args),
}

_ARGUMENTS: tuple[ArgumentForm, ...] = (
    ArgumentForm("proxy_http_version", HTTP, "proxy_http_version 2", VersionSpan(
        (1, 29, 4), refusal='invalid value "2"',
        source="CHANGES 1.29.4 (the proxy module supports HTTP/2); facts §1, §4 (1.22.1: invalid value)")),
    ArgumentForm("keepalive", UPSTREAM, "keepalive N local", VersionSpan(
        (1, 29, 7), refusal='invalid number of arguments in "keepalive" directive',
        source="CHANGES 1.29.7; facts §4 (1.22.1 refuses it)")),
    ArgumentForm("keepalive", UPSTREAM, "keepalive 0", VersionSpan(
        (1, 29, 7), refusal='invalid value "0" in "keepalive" directive',
        source="CHANGES 1.29.7 (keepalive on by default, 0 disables); facts §1, §4 (1.22.1 refuses it)")),
    ArgumentForm("ssl_protocols", HTTP, "ssl_protocols TLSv1.3", VersionSpan(
        (1, 13, 0), refusal='invalid value "TLSv1.3"', source="CHANGES 1.13.0")),
    ArgumentForm("ssl_protocols", STREAM, "ssl_protocols TLSv1.3", VersionSpan(
        (1, 13, 0), refusal='invalid value "TLSv1.3"', source="CHANGES 1.13.0; docs")),
    ArgumentForm("limit_req", HTTP, "limit_req delay=", VersionSpan(
        (1, 15, 7), refusal='invalid parameter "delay="', source="CHANGES 1.15.7")),
)  # fmt: skip
ARGUMENT_NAMES = frozenset(form.name for form in _ARGUMENTS)
_SUBSYSTEMS = frozenset({HTTP, STREAM, MAIL})


def scope_of(context: str | Sequence[str] | None) -> str | None:
    """The table's scope for a context (see the module docstring); None for "any"."""
    if context is None:
        return None
    if isinstance(context, str):
        if context in SCOPES:
            return context
        context = (context,)
    subsystem = next((name for name in context if name in _SUBSYSTEMS), None)
    if subsystem is None:
        return MAIN
    if subsystem == HTTP and UPSTREAM in context:
        return UPSTREAM
    return subsystem


def _lookup(table: dict[tuple[str, str], VersionSpan], name: str, scope: str | None) -> VersionSpan | None:
    if scope is not None:
        return table.get((name, scope))
    for candidate in _LOOKUP_ORDER:
        found = table.get((name, candidate))
        if found is not None:
            return found
    return None


def directive_span(name: str, scope: str) -> VersionSpan | None:
    """``directive_versions`` for a scope of ``SCOPES`` given as such (a walk's fast path)."""
    return _BY_DIRECTIVE.get((name, scope))


def listen_span(parameter: str, scope: str) -> VersionSpan | None:
    """``listen_parameter_versions`` for a scope of ``SCOPES`` given as such."""
    return _BY_LISTEN.get((parameter.partition("=")[0], scope))


def directive_versions(name: str, context: str | Sequence[str] | None = None) -> VersionSpan | None:
    """The releases that accept directive ``name`` in ``context``; None when not recorded."""
    return _lookup(_BY_DIRECTIVE, name, scope_of(context))


def listen_parameter_versions(
    parameter: str, context: str | Sequence[str] | None = HTTP
) -> VersionSpan | None:
    """The releases that accept a ``listen`` parameter (``quic``, ``backlog=511``)."""
    name = parameter.partition("=")[0]
    return _lookup(_BY_LISTEN, name, scope_of(context) or HTTP)


def argument_forms(
    name: str, context: str | Sequence[str] | None = None
) -> Iterator[tuple[str, VersionSpan]]:
    """Each recorded value form of directive ``name``: (the form, its span)."""
    scope = scope_of(context)
    for form in _ARGUMENTS:
        if form.name == name and (scope is None or form.scope == scope):
            yield form.what, form.span


def argument_versions(
    name: str, args: Sequence[str], context: str | Sequence[str] | None = None
) -> VersionSpan | None:
    """The releases that accept these arguments of ``name``, where a value form appeared
    later than the directive; None when no recorded form matches."""
    if name not in ARGUMENT_NAMES:
        return None
    return next((span for _, span in argument_form(name, args, context)), None)


def argument_form(
    name: str, args: Sequence[str], context: str | Sequence[str] | None = None
) -> Iterator[tuple[str, VersionSpan]]:
    """The recorded forms these arguments use, with their spans (``keepalive 0``...)."""
    scope = scope_of(context)
    for form in _ARGUMENTS:
        if form.name == name and (scope is None or form.scope == scope) and form.matches(args):
            yield form.what, form.span


def scope_table(scope: str) -> dict[str, tuple[VersionSpan | None, tuple[ArgumentForm, ...]]]:
    """For a walk in one scope of ``SCOPES``: each name with a row, its directive span
    (None when only its argument forms have rows) and its argument forms. Built once."""
    table = _SCOPE_TABLES.get(scope)
    if table is None:
        table = {}
        for (name, row_scope), span in _BY_DIRECTIVE.items():
            if row_scope == scope:
                table[name] = (span, ())
        for form in _ARGUMENTS:
            if form.scope == scope:
                span_, forms = table.get(form.name, (None, ()))
                table[form.name] = (span_, (*forms, form))
        _SCOPE_TABLES[scope] = table
    return table


_SCOPE_TABLES: dict[str, dict[str, tuple[VersionSpan | None, tuple[ArgumentForm, ...]]]] = {}


def entries() -> Iterator[tuple[str, str, str, VersionSpan]]:
    """Every row: (DIRECTIVE | LISTEN | ARGUMENT, name or form, scope, span)."""
    for (name, scope), span in _BY_DIRECTIVE.items():
        yield DIRECTIVE, name, scope, span
    for (name, scope), span in _BY_LISTEN.items():
        yield LISTEN, name, scope, span
    for form in _ARGUMENTS:
        yield ARGUMENT, form.what, form.scope, form.span
