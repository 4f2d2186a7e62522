"""What nginx knows about each directive: where it may stand and how many arguments it takes.

The table is crossplane's (``crossplane.analyzer.DIRECTIVES``: nginx's own
``ngx_command_t`` masks for the stock modules and NGINX Plus), extended in one
place, ``SUPPLEMENT``, with the directives and forms nginx gained after
crossplane 0.5.8's table was taken (about nginx 1.17), each from nginx's
documentation and source. ``THIRD_PARTY`` names the directives of common
third-party modules (Lua, headers-more, njs, brotli, ...): known, so never
"unknown", but not checked further. Users add their own modules' directives
with ``[tool.tlslint.nginx] extra-directives``.

Checking a directive is one dict lookup and a bit test: for each context (a
mask of nginx's context bits) the table keeps, per directive name, a *shape*:
bits 0-8 are the argument counts accepted before ``;`` (bit 8: eight or more),
bits 9-17 the same before ``{``, and ``FLAG_ONLY`` says that one argument must
be ``on`` or ``off``. A shape of 0 means "not allowed here", ``UNKNOWN`` that
no module has the directive. Shapes are filled in on first use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from tlslint.nginx_values import READERS, Row, rows_for
from tlslint.nginx_values import refusal as values_refusal
from tlslint.nginx_versions import Version, format_version

if TYPE_CHECKING:
    from tlslint.nginx_history import VersionSpan

# Argument and block bits of ngx_command_t.type (nginx's ngx_conf_file.h; crossplane's names).
NOARGS: Final = 0x00000001
TAKE1: Final = 0x00000002
TAKE2: Final = 0x00000004
TAKE3: Final = 0x00000008
TAKE4: Final = 0x00000010
TAKE12: Final = TAKE1 | TAKE2
TAKE123: Final = TAKE12 | TAKE3
TAKE1234: Final = TAKE123 | TAKE4
BLOCK: Final = 0x00000100
FLAG: Final = 0x00000200
ANY: Final = 0x00000400
MORE1: Final = 0x00000800
MORE2: Final = 0x00001000

# Context bits.
DIRECT: Final = 0x00010000
MAIN: Final = 0x00040000
EVENT: Final = 0x00080000
MAIL_MAIN: Final = 0x00100000
MAIL_SRV: Final = 0x00200000
STREAM_MAIN: Final = 0x00400000
STREAM_SRV: Final = 0x00800000
STREAM_UPS: Final = 0x01000000
HTTP_MAIN: Final = 0x02000000
HTTP_SRV: Final = 0x04000000
HTTP_LOC: Final = 0x08000000
HTTP_UPS: Final = 0x10000000
HTTP_SIF: Final = 0x20000000
HTTP_LIF: Final = 0x40000000
HTTP_LMT: Final = 0x80000000
ALL_CONTEXTS: Final = 0xFFFF0000 & ~DIRECT

CONTEXT_NAMES: Final = {
    MAIN: "main", EVENT: "events", MAIL_MAIN: "mail", MAIL_SRV: "mail server",
    STREAM_MAIN: "stream", STREAM_SRV: "stream server", STREAM_UPS: "stream upstream",
    HTTP_MAIN: "http", HTTP_SRV: "server", HTTP_LOC: "location", HTTP_UPS: "upstream",
    HTTP_SIF: "if in server", HTTP_LIF: "if in location", HTTP_LMT: "limit_except",
}  # fmt: skip
_FAMILIES: Final = (
    HTTP_MAIN | HTTP_SRV | HTTP_LOC | HTTP_UPS | HTTP_SIF | HTTP_LIF | HTTP_LMT,
    STREAM_MAIN | STREAM_SRV | STREAM_UPS,
    MAIL_MAIN | MAIL_SRV,
    MAIN | EVENT,
)
# The names ``extra-directives`` accepts for its contexts.
SETTING_CONTEXTS: Final = {
    "main": MAIN, "events": EVENT, "http": HTTP_MAIN, "server": HTTP_SRV,
    "location": HTTP_LOC, "upstream": HTTP_UPS, "if": HTTP_SIF | HTTP_LIF,
    "limit_except": HTTP_LMT, "stream": STREAM_MAIN, "stream-server": STREAM_SRV,
    "stream-upstream": STREAM_UPS, "mail": MAIL_MAIN, "mail-server": MAIL_SRV,
}  # fmt: skip

# The block a context opens, by the block directive's name: nginx's own nesting
# (a location inside a location is still a location). Blocks whose bodies are
# not directives (map, geo, types, split_clients, ...) open no context: their
# children are not checked.
_OPENS: Final = {
    "http": ((MAIN, HTTP_MAIN),),
    "events": ((MAIN, EVENT),),
    "stream": ((MAIN, STREAM_MAIN),),
    "mail": ((MAIN, MAIL_MAIN),),
    "server": ((HTTP_MAIN, HTTP_SRV), (STREAM_MAIN, STREAM_SRV), (MAIL_MAIN, MAIL_SRV)),
    "upstream": ((HTTP_MAIN, HTTP_UPS), (STREAM_MAIN, STREAM_UPS)),
    "location": ((HTTP_SRV, HTTP_LOC), (HTTP_LOC, HTTP_LOC)),
    "if": ((HTTP_SRV, HTTP_SIF), (HTTP_LOC, HTTP_LIF)),
    "limit_except": ((HTTP_LOC, HTTP_LMT),),
}

# Where a file checked on its own may be included (its detected context, see
# tlslint.workspace.nginx.detect_context). A file of server blocks may be included
# in http{} or stream{} (or be a list of upstream servers: `server a:80;` lines);
# a file of other directives anywhere at all (a server, a location, http{}, an
# upstream, events{}, the main level). A directive is "not allowed here" only when
# no includer would allow it, so at the top of such a file NGX011 stays silent;
# blocks inside it are checked as nginx would check them.
ROOT_CONTEXTS: Final = {
    "main": MAIN,
    "http": HTTP_MAIN | STREAM_MAIN | MAIL_MAIN | HTTP_UPS | STREAM_UPS,
    "server": ALL_CONTEXTS,
}

# --------------------------------------------------------------------------- the supplement
#
# Directives and forms that crossplane 0.5.8's table lacks, as nginx's sources
# declare them (ngx_command_t masks) and nginx.org documents them: name -> the
# masks to add to crossplane's (a context or an argument count a directive
# gained later). Which releases have each form is not recorded here but in
# tlslint.nginx_history, by the form's module (http, upstream, stream, mail,
# main); a form with no row there is taken to exist on every release.

_HTTP2 = HTTP_MAIN | HTTP_SRV
_HTTP_ALL = HTTP_MAIN | HTTP_SRV | HTTP_LOC
_STREAM2 = STREAM_MAIN | STREAM_SRV
_MAIL2 = MAIL_MAIN | MAIL_SRV

SUPPLEMENT: Final[dict[str, tuple[int, ...]]] = {
    # http core and friends
    "auth_delay": (_HTTP_ALL | TAKE1,),
    "keepalive_time": (_HTTP_ALL | TAKE1, HTTP_UPS | TAKE1),
    "keepalive_min_timeout": (_HTTP_ALL | TAKE1,),
    "max_headers": (_HTTP2 | TAKE1,),
    "early_hints": (_HTTP_ALL | MORE1,),
    "add_header_inherit": (_HTTP_ALL | HTTP_LIF | TAKE1,),
    "add_trailer_inherit": (_HTTP_ALL | HTTP_LIF | TAKE1,),
    "proxy_cookie_flags": (_HTTP_ALL | TAKE1234,),
    "userid_flags": (_HTTP_ALL | TAKE123,),
    "mp4_start_key_frame": (_HTTP_ALL | FLAG,),
    "proxy_pass_trailers": (_HTTP_ALL | FLAG,),
    # nginx's `include` is allowed in every context (NGX_ANY_CONF), if and limit_except too
    "include": (HTTP_SIF | HTTP_LIF | HTTP_LMT | TAKE1,),
    # HTTP/2 and HTTP/3
    "http2": (_HTTP2 | FLAG,),
    "http3": (_HTTP2 | FLAG,),
    "http3_hq": (_HTTP2 | FLAG,),
    "http3_max_concurrent_streams": (_HTTP2 | TAKE1,),
    "http3_stream_buffer_size": (_HTTP2 | TAKE1,),
    "quic_active_connection_id_limit": (_HTTP2 | TAKE1,),
    "quic_bpf": (MAIN | DIRECT | FLAG,),
    "quic_gso": (_HTTP2 | FLAG,),
    "quic_host_key": (_HTTP2 | TAKE1,),
    "quic_retry": (_HTTP2 | FLAG,),
    # TLS
    "ssl_conf_command": (_HTTP2 | TAKE2, _MAIL2 | TAKE2, _STREAM2 | TAKE2),
    "proxy_ssl_conf_command": (_HTTP_ALL | TAKE2, _STREAM2 | TAKE2),
    "grpc_ssl_conf_command": (_HTTP_ALL | TAKE2,),
    "uwsgi_ssl_conf_command": (_HTTP_ALL | TAKE2,),
    "ssl_reject_handshake": (_HTTP2 | FLAG, _STREAM2 | FLAG),
    "ssl_ocsp": (_HTTP2 | TAKE1, _STREAM2 | TAKE1),
    "ssl_ocsp_cache": (_HTTP2 | TAKE1, _STREAM2 | TAKE1),
    "ssl_ocsp_responder": (_HTTP2 | TAKE1, _STREAM2 | TAKE1),
    "ssl_stapling": (_STREAM2 | FLAG,),
    "ssl_stapling_file": (_STREAM2 | TAKE1,),
    "ssl_stapling_responder": (_STREAM2 | TAKE1,),
    "ssl_stapling_verify": (_STREAM2 | FLAG,),
    "ssl_certificate_cache": (_HTTP2 | TAKE123, _STREAM2 | TAKE123),
    "proxy_ssl_certificate_cache": (_HTTP_ALL | TAKE123, _STREAM2 | TAKE123),
    "grpc_ssl_certificate_cache": (_HTTP_ALL | TAKE123,),
    "uwsgi_ssl_certificate_cache": (_HTTP_ALL | TAKE123,),
    "ssl_object_cache_inheritable": (MAIN | DIRECT | FLAG,),
    "ssl_certificate_compression": (_HTTP2 | FLAG, _MAIL2 | FLAG, _STREAM2 | FLAG),
    "ssl_ech_file": (_HTTP2 | TAKE1, _STREAM2 | TAKE1),
    # upstreams
    "keepalive": (HTTP_UPS | TAKE12,),  # `keepalive 32 local;` (its release: nginx_history)
    "resolver": (STREAM_UPS | MORE1,),
    "resolver_timeout": (HTTP_UPS | TAKE1, STREAM_UPS | TAKE1),
    # stream and mail
    "pass": (STREAM_SRV | TAKE1,),
    "set": (STREAM_SRV | TAKE2,),
    "ssl_alpn": (_STREAM2 | MORE1,),
    "proxy_half_close": (_STREAM2 | FLAG,),
    "server_name": (STREAM_SRV | MORE1,),
    "server_names_hash_bucket_size": (STREAM_MAIN | TAKE1,),
    "server_names_hash_max_size": (STREAM_MAIN | TAKE1,),
    "proxy_protocol": (_MAIL2 | FLAG,),
    "set_real_ip_from": (_MAIL2 | TAKE1,),
    "proxy_smtp_auth": (_MAIL2 | FLAG,),
    "max_errors": (_MAIL2 | TAKE1,),
    # Old stock directives crossplane's table lacks (nginx 1.22.1 accepts them): mail's
    # `proxy on|off`, stream's deprecated names for proxy_buffer_size.
    "proxy": (_MAIL2 | FLAG,),
    "proxy_downstream_buffer": (_STREAM2 | TAKE1,),
    "proxy_upstream_buffer": (_STREAM2 | TAKE1,),
}

# Directives nginx_history dates whose masks are not established here yet (the
# newest releases): known, their contexts and arguments not checked. A test
# keeps this list and nginx_history's rows in step.
UNCHECKED: Final = frozenset(
    {
        "proxy_socket_sndbuf", "proxy_socket_rcvbuf", "fastcgi_socket_sndbuf",
        "fastcgi_socket_rcvbuf", "grpc_socket_sndbuf", "grpc_socket_rcvbuf",
        "scgi_socket_sndbuf", "scgi_socket_rcvbuf", "uwsgi_socket_sndbuf",
        "uwsgi_socket_rcvbuf", "tunnel_socket_sndbuf", "tunnel_socket_rcvbuf",
        "xml_external_entities", "client_body_early_read", "proxy_ssl_alpn",
    }
)  # fmt: skip

# --------------------------------------------------------------------------- third-party modules
#
# Known, so never "unknown", but neither their contexts nor their arguments are
# checked (their masks are each module's own). Exact names, and prefixes or
# suffixes that only these modules use.
THIRD_PARTY_NAMES: Final = frozenset(
    {
        # headers-more
        "more_set_headers", "more_clear_headers", "more_set_input_headers",
        "more_clear_input_headers",
        # geoip2, pagespeed, modsecurity, echo, fancyindex, sticky, nchan-less others
        "geoip2", "geoip2_proxy", "geoip2_proxy_recursive", "pagespeed", "modsecurity",
        "modsecurity_rules", "modsecurity_rules_file", "modsecurity_rules_remote",
        "modsecurity_transaction_id", "echo", "fancyindex", "sticky", "rtmp",
        "dav_ext_methods", "dav_ext_lock", "dav_ext_lock_zone",
        "auth_pam", "auth_pam_service_name", "auth_pam_set_pam_env",
        # The modules below are known whole: every command of Debian's build (bookworm's
        # libnginx-mod-*), each confirmed with nginx -t with the module loaded (T4's scan).
        # lua (beside the lua_ prefix and _by_lua suffixes) and the ndk it needs
        "access_by_lua_no_postpone", "rewrite_by_lua_no_postpone", "ndk_set_var_value",
        "upstream_list", "set_by_lua", "set_by_lua_file", "set_by_lua_block",
        # set-misc (OpenResty ships it)
        "set_base32_alphabet", "set_base32_padding", "set_decode_base32", "set_decode_base64",
        "set_decode_base64url", "set_decode_hex", "set_encode_base32", "set_encode_base64",
        "set_encode_base64url", "set_encode_hex", "set_escape_uri", "set_formatted_gmt_time",
        "set_formatted_local_time", "set_hashed_upstream", "set_hmac_sha1", "set_hmac_sha256",
        "set_if_empty", "set_local_today", "set_md5", "set_misc_base32_padding",
        "set_quote_json_str", "set_quote_pgsql_str", "set_quote_sql_str", "set_random",
        "set_rotate", "set_secure_random_alphanum", "set_secure_random_lcalpha", "set_sha1",
        "set_unescape_uri",
        # upload-progress
        "upload_progress", "track_uploads", "report_uploads", "upload_progress_content_type",
        "upload_progress_header", "upload_progress_java_output", "upload_progress_json_output",
        "upload_progress_jsonp_output", "upload_progress_jsonp_parameter",
        "upload_progress_template",
        # subs-filter
        "subs_filter", "subs_filter_types", "subs_filter_bypass", "subs_buffers",
        "subs_line_buffer_size",
        # upstream-fair
        "fair", "upstream_fair_shm_size",
        # nchan's legacy names (beside the nchan_ prefix)
        "push_authorized_channels_only", "push_channel_group", "push_channel_timeout",
        "push_max_channel_id_length", "push_max_channel_subscribers",
        "push_max_message_buffer_length", "push_max_reserved_memory",
        "push_message_buffer_length", "push_message_timeout", "push_min_message_buffer_length",
        "push_publisher", "push_store_messages", "push_subscriber",
        "push_subscriber_concurrency", "push_subscriber_timeout",
        # rtmp's directives outside its rtmp{} block: the main level's and http locations'
        "rtmp_auto_push", "rtmp_auto_push_reconnect", "rtmp_socket_dir", "rtmp_stat",
        "rtmp_stat_stylesheet", "rtmp_control",
    }
)  # fmt: skip
# rtmp's directives of its own rtmp{} block (whose body tlslint does not check):
# anywhere else nginx refuses them (`"live" directive is not allowed here` with the
# module loaded, `unknown directive` without), so they are "not allowed here", and the
# message says where they belong. Debian's build, confirmed as above.
RTMP_BLOCK_NAMES: Final = frozenset(
    {
        "ack_window", "application", "buffer", "buflen", "busy", "chunk_size", "dash",
        "dash_cleanup", "dash_fragment", "dash_nested", "dash_path", "dash_playlist_length",
        "drop_idle_publisher", "exec", "exec_kill_signal", "exec_options", "exec_play",
        "exec_play_done", "exec_publish", "exec_publish_done", "exec_pull", "exec_push",
        "exec_record_done", "exec_static", "hls_audio_buffer_size", "hls_base_url",
        "hls_cleanup", "hls_continuous", "hls_fragment_naming",
        "hls_fragment_naming_granularity", "hls_fragment_slicing", "hls_fragments_per_key",
        "hls_key_path", "hls_key_url", "hls_keys", "hls_max_audio_delay", "hls_max_fragment",
        "hls_muxdelay", "hls_nested", "hls_path", "hls_playlist_length", "hls_sync",
        "hls_type", "hls_variant", "idle_streams", "interleave", "live", "max_connections",
        "max_message", "max_streams", "meta", "netcall_buffer", "netcall_timeout",
        "notify_method", "notify_relay_redirect", "notify_update_strict",
        "notify_update_timeout", "on_connect", "on_disconnect", "on_done", "on_play",
        "on_play_done", "on_publish", "on_publish_done", "on_record_done", "on_update",
        "out_cork", "out_queue", "ping", "ping_timeout", "play", "play_local_path",
        "play_restart", "play_temp_path", "play_time_fix", "publish_notify",
        "publish_time_fix", "pull", "pull_reconnect", "push", "push_reconnect", "record",
        "record_append", "record_interval", "record_lock", "record_max_frames",
        "record_max_size", "record_notify", "record_path", "record_suffix", "record_unique",
        "recorder", "relay_buffer", "respawn", "respawn_timeout", "session_relay",
        "so_keepalive", "stream_buckets", "sync", "wait_key", "wait_video",
    }
)  # fmt: skip
THIRD_PARTY_PREFIXES: Final = (
    "lua_", "js_", "otel_", "brotli", "zstd", "vhost_traffic_status", "passenger_",
    "nchan_", "push_stream_", "echo_", "fancyindex_", "srcache_", "memc_", "redis2_",
    "vod_", "auth_ldap", "acme_", "ssl_dyn_rec_", "encrypted_session_",
    "tunnel_",  # nginx 1.31's tunnel module: masks not established yet
)  # fmt: skip
THIRD_PARTY_SUFFIXES: Final = ("_by_lua", "_by_lua_block", "_by_lua_file", "_cache_purge")

# The dynamic modules whose directives tlslint knows whole, by file name (``load_module
# modules/NAME.so``): nginx's own (in crossplane's table) and the third-party modules
# above, as Debian and nginx.org name them. A configuration that loads any other module
# may use directives tlslint cannot know: NGX010 says so instead of "nginx refuses".
LISTED_MODULES: Final = frozenset(
    {
        "ngx_stream_module", "ngx_mail_module", "ngx_http_geoip_module",
        "ngx_stream_geoip_module", "ngx_http_image_filter_module",
        "ngx_http_xslt_filter_module", "ngx_http_perl_module", "ngx_http_js_module",
        "ngx_stream_js_module", "ndk_http_module", "ngx_http_lua_module",
        "ngx_http_auth_pam_module", "ngx_http_brotli_filter_module",
        "ngx_http_brotli_static_module", "ngx_http_cache_purge_module",
        "ngx_http_dav_ext_module", "ngx_http_echo_module", "ngx_http_fancyindex_module",
        "ngx_http_geoip2_module", "ngx_stream_geoip2_module",
        "ngx_http_headers_more_filter_module", "ngx_http_memc_module",
        "ngx_http_set_misc_module", "ngx_http_srcache_filter_module",
        "ngx_http_subs_filter_module", "ngx_http_uploadprogress_module",
        "ngx_http_upstream_fair_module", "ngx_nchan_module", "ngx_rtmp_module",
    }
)  # fmt: skip


def listed_module(path: str) -> bool:
    """Whether ``load_module path`` loads a module whose directives tlslint knows whole."""
    name = path.rstrip("/").rpartition("/")[2]
    return name.removesuffix(".so") in LISTED_MODULES


# --------------------------------------------------------------------------- shapes

ARG_BITS: Final = 9  # argument counts 0..7, and 8 or more
MANY: Final = 8
_COUNTS: Final = (1 << ARG_BITS) - 1
FLAG_ONLY: Final = 1 << (2 * ARG_BITS)  # with one argument, only "on" or "off"
VALUES: Final = 1 << (2 * ARG_BITS + 1)  # a value form of this name is newer than the target version
TYPED: Final = 1 << (2 * ARG_BITS + 2)  # nginx reads its values (tlslint.nginx_values)
CHECK_VALUES: Final = FLAG_ONLY | VALUES | TYPED
ANYTHING: Final = _COUNTS | _COUNTS << ARG_BITS  # any arguments, with or without a block
UNKNOWN: Final = -1


def _counts(mask: int) -> int:
    counts = mask & 0xFF
    if mask & FLAG:
        counts |= 1 << 1
    if mask & ANY:
        counts |= _COUNTS
    if mask & MORE1:
        counts |= _COUNTS & ~1
    if mask & MORE2:
        counts |= _COUNTS & ~3
    return counts


def shape_of(masks: Iterable[int], context: int) -> int:
    """The shape of a directive with these masks in ``context`` (0: not allowed there)."""
    semicolon = block = 0
    flag = False
    for mask in masks:
        if not mask & context:
            continue
        if mask & BLOCK:
            block |= _counts(mask)
            continue
        if mask & FLAG and not mask & TAKE1:
            flag = True
        semicolon |= _counts(mask & ~FLAG)
    if flag:
        if not semicolon & (1 << 1):
            semicolon |= FLAG_ONLY
        semicolon |= 1 << 1
    return semicolon | block << ARG_BITS


def argument_bit(count: int, has_block: bool) -> int:
    return (count if count < MANY else MANY) + (ARG_BITS if has_block else 0)


@dataclass(frozen=True)
class ExtraDirective:
    """A directive the user declared (``extra-directives``): a name or ``prefix_*``,
    allowed where ``contexts`` say (all contexts when empty), any arguments."""

    name: str
    contexts: int = ALL_CONTEXTS

    @property
    def prefix(self) -> str | None:
        return self.name[:-1] if self.name.endswith("*") else None


def parse_extra_directives(entries: Iterable[str | Mapping[str, object]]) -> tuple[ExtraDirective, ...]:
    """Settings entries (already schema-checked): ``"name"`` or ``{name, contexts}``."""
    extras = []
    for entry in entries:
        if isinstance(entry, str):
            extras.append(ExtraDirective(entry))
            continue
        contexts = 0
        for context in entry.get("contexts") or ():  # type: ignore[attr-defined]
            contexts |= SETTING_CONTEXTS[str(context)]
        extras.append(ExtraDirective(str(entry["name"]), contexts or ALL_CONTEXTS))
    return tuple(extras)


# NGINX Plus's own directives that no nginx.org release has, missing from crossplane's
# table: nginx.org's ngx_http_ssl_module page lists ssl_key_log, and nginx/nginx#874
# (2025-09, open) asks to open-source "ssl_key_log and proxy_ssl_key_log"; nginx.org's
# nginx refuses them (1.22.1: unknown directive "ssl_key_log"). NGX010 says whose they are.
PLUS_ONLY = frozenset({"ssl_key_log", "proxy_ssl_key_log"})


@dataclass
class DirectiveTable:
    """The directives of one nginx version (None: any version) and the user's extras."""

    version: Version | None = None
    extras: tuple[ExtraDirective, ...] = ()
    _masks: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _values: frozenset[str] = field(default_factory=frozenset, repr=False)
    _refusals: dict[int, dict[str, dict[tuple[str, ...], str]]] = field(default_factory=dict, repr=False)
    _typed: dict[int, dict[str, tuple[Row, ...]]] = field(default_factory=dict, repr=False)
    _shapes: dict[int, dict[str, int]] = field(default_factory=dict, repr=False)
    _enter: dict[str, dict[int, int]] = field(default_factory=dict, repr=False)
    _suggested: dict[str, str | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        from crossplane.analyzer import DIRECTIVES  # its table only; imported when nginx is checked

        masks: dict[str, list[int]] = {name: list(forms) for name, forms in DIRECTIVES.items()}
        for name, added in SUPPLEMENT.items():
            masks.setdefault(name, []).extend(added)
        version = self.version
        self._masks = {
            name: tuple(m for m in forms if version is None or _accepts(name, scope_of_mask(m), version))
            for name, forms in masks.items()
        }
        self._masks = {name: forms for name, forms in self._masks.items() if forms}
        self._values = _value_forms(version)

    # ----------------------------------------------------------------- the hot path

    def shapes(self, context: int) -> dict[str, int]:
        """Shapes by directive name in ``context``; missing names are filled by ``fill``."""
        found = self._shapes.get(context)
        if found is None:
            found = self._shapes[context] = {}
        return found

    def fill(self, name: str, context: int) -> int:
        shapes = self.shapes(context)
        masks = self._masks.get(name)
        shape = shape_of(masks, context) if masks is not None else self._outside(name, context)
        if shape > 0 and name in self._values:
            shape |= VALUES
        if shape > 0 and name in READERS:
            shape |= TYPED
        shapes[name] = shape
        return shape

    def _outside(self, name: str, context: int) -> int:
        """The shape of a directive not in nginx's table: the user's, a third-party one, or unknown."""
        for extra in self.extras:
            prefix = extra.prefix
            if name == extra.name or (prefix is not None and name.startswith(prefix)):
                return ANYTHING if extra.contexts & context else 0
        if name in UNCHECKED or name in _history_names():
            return ANYTHING if self.version is None or _accepted_somewhere(name, self.version) else UNKNOWN
        if (
            name in THIRD_PARTY_NAMES
            or name.startswith(THIRD_PARTY_PREFIXES)
            or name.endswith(THIRD_PARTY_SUFFIXES)
        ):
            return ANYTHING
        if name in RTMP_BLOCK_NAMES:
            return 0  # rtmp{}'s own: not allowed in any context tlslint checks
        return UNKNOWN

    def enter(self, context: int, name: str) -> int:
        """The context a block ``name`` opens inside ``context`` (0: not checked inside)."""
        by_context = self._enter.get(name)
        if by_context is None:
            by_context = self._enter[name] = {}
        inner = by_context.get(context)
        if inner is None:
            inner = 0
            for outer, opened in _OPENS.get(name, ()):
                if context & outer:
                    inner |= opened
            by_context[context] = inner
        return inner

    # ----------------------------------------------------------------- words for findings

    def known(self, name: str, any_version: bool = False) -> bool:
        """Whether some module has ``name`` on the target version (or on any, with ``any_version``)."""
        table = table_for(None, self.extras) if any_version and self.version is not None else self
        return name in table._masks or table._outside(name, ALL_CONTEXTS) != UNKNOWN

    def known_names(self) -> list[str]:
        """The names in nginx's table (the user's extras and third-party names aside)."""
        return list(self._masks)

    def allowed_contexts(self, name: str) -> int:
        allowed = 0
        for mask in self._masks.get(name, ()):
            allowed |= mask
        for extra in self.extras:
            if name == extra.name or (extra.prefix is not None and name.startswith(extra.prefix)):
                allowed |= extra.contexts
        return allowed & ALL_CONTEXTS

    def refused_value(self, name: str, args: tuple[str, ...], context: int) -> str:
        """nginx's refusal of a value form newer than the target version (``keepalive 32
        local`` on 1.22), with the release that accepts it; '' when the version takes it.
        Remembered per context, name and arguments: the same line repeats across servers."""
        by_args = self._refusals.setdefault(context, {}).setdefault(name, {})
        found = by_args.get(args)
        if found is None:
            found = by_args[args] = self._refused_value(name, args, context)
        return found

    def typed_refusal(self, name: str, args: tuple[str, ...], context: int) -> str:
        """nginx's refusal of a value its reader does not take (``proxy_http_version 3``,
        ``keepalive_timeout 75x``), in every family ``name`` stands in within ``context``;
        '' when one takes it. The rows are remembered per context and name; the values
        are read each time (a memo by value would keep every value a process saw)."""
        by_name = self._typed.get(context)
        if by_name is None:
            by_name = self._typed[context] = {}
        rows = by_name.get(name)
        if rows is None:
            masks = self._masks.get(name, ())
            scopes = tuple(
                scope for scope, bits in _SCOPE_BITS.items() if any(mask & bits & context for mask in masks)
            )
            rows = by_name[name] = rows_for(name, scopes)
        return values_refusal(name, args, rows)

    def _refused_value(self, name: str, args: tuple[str, ...], context: int) -> str:
        from tlslint.nginx_history import argument_form

        version = self.version
        if version is None:
            return ""
        for what, span in argument_form(name, args, scope_of_mask(context)):
            if not span.accepts(version):
                shown = format_version(version)
                return f"{span.refusal} on nginx {shown}: `{what}` needs nginx {_span_words(span)}"
        return ""

    def unknown_reason(self, name: str, context: int) -> str:
        """Why nginx refuses ``name``: the releases that have it, or the nearest known name."""
        from tlslint.nginx_history import directive_versions

        version = self.version
        span = directive_versions(name, scope_of_mask(context)) or directive_versions(name)
        if version is not None and span is not None and not span.accepts(version):
            return f"nginx {format_version(version)} does not have it (nginx {_span_words(span)} does)"
        if name in PLUS_ONLY:
            return (
                "it is NGINX Plus's (commercial subscription), which no nginx.org release has; "
                "on NGINX Plus, declare it in [nginx] extra-directives"
            )
        close = self.suggest(name)
        if close:
            return f'did you mean "{close}"?'
        return "if a module of yours provides it, declare it in [nginx] extra-directives"

    def suggest(self, name: str) -> str | None:
        """The nearest known name; each name asked once (a module's directive may be on
        10,000 servers, and a fuzzy match against 900 names is dear)."""
        if name not in self._suggested:
            import difflib  # only to word a finding

            candidates = list(self._masks) + [extra.name for extra in self.extras if extra.prefix is None]
            found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.8)
            self._suggested[name] = found[0] if found else None
        return self._suggested[name]

    def context_words(self, name: str, near: int = ALL_CONTEXTS) -> str:
        """Where ``name`` is allowed: within the module family of ``near`` (http, stream,
        mail, core) when it is allowed anywhere there, else everywhere it is."""
        allowed = self.allowed_contexts(name)
        if not allowed and name in RTMP_BLOCK_NAMES:
            return "rtmp{} (the rtmp module's block)"
        for family in _FAMILIES:
            if near & family and allowed & family:
                allowed &= family
                break
        return ", ".join(label for bit, label in CONTEXT_NAMES.items() if allowed & bit)

    def expected_arguments(self, name: str, shape: int, has_block: bool) -> str:
        """What ``name`` takes in a context with ``shape``, in words."""
        if shape & FLAG_ONLY and not has_block:
            return '"on" or "off"'
        semicolon, block = shape & _COUNTS, shape >> ARG_BITS & _COUNTS
        if has_block and not block:
            return 'no block: it ends with ";"'
        if not has_block and not semicolon:
            return 'a block: "{ ... }"'
        counts = block if has_block else semicolon
        return _counts_words(counts)


# The module family of a form, as tlslint.nginx_history names it.
_SCOPE_BITS: Final = {
    "upstream": HTTP_UPS,
    "http": HTTP_MAIN | HTTP_SRV | HTTP_LOC | HTTP_SIF | HTTP_LIF | HTTP_LMT,
    "stream": STREAM_MAIN | STREAM_SRV | STREAM_UPS,
    "mail": MAIL_MAIN | MAIL_SRV,
    "main": MAIN | EVENT | DIRECT,
}


def scope_of_mask(mask: int) -> str:
    """nginx_history's scope of a form or a context: the first family it touches."""
    for scope, bits in _SCOPE_BITS.items():
        if mask & bits and (scope != "upstream" or not mask & _SCOPE_BITS["http"]):
            return scope
    return "main"


def _accepts(name: str, scope: str, version: Version) -> bool:
    from tlslint.nginx_history import directive_versions

    span = directive_versions(name, scope)
    return span is None or span.accepts(version)


def _accepted_somewhere(name: str, version: Version) -> bool:
    """Whether some module's row for ``name`` accepts ``version`` (no row: not dated, accepted)."""
    from tlslint.nginx_history import directive_versions

    spans = [span for scope in _SCOPE_BITS if (span := directive_versions(name, scope)) is not None]
    return not spans or any(span.accepts(version) for span in spans)


def _history_names() -> frozenset[str]:
    from tlslint.nginx_history import DIRECTIVE_NAMES

    return DIRECTIVE_NAMES


def _value_forms(version: Version | None) -> frozenset[str]:
    """Names with a recorded value form that ``version`` refuses (none without a version)."""
    if version is None:
        return frozenset()
    from tlslint.nginx_history import ARGUMENT, entries

    return frozenset(
        name.split()[0] for kind, name, _, span in entries() if kind == ARGUMENT and not span.accepts(version)
    )


def _span_words(span: VersionSpan) -> str:
    """``1.25.1 or later``, ``before 1.25.1``, ``1.9.5 or later, before 1.22.1``."""
    words = []
    if span.since is not None:
        words.append(f"{format_version(span.since)} or later")
    if span.until is not None:
        words.append(f"before {format_version(span.until)}")
    return ", ".join(words) or "any version"


def _counts_words(counts: int) -> str:
    taken = [n for n in range(ARG_BITS) if counts >> n & 1]
    if counts & (1 << MANY):
        least = taken[0]
        return "any number of arguments" if least == 0 else f"at least {least} argument{'s' * (least > 1)}"
    if taken == [0]:
        return "no arguments"
    words = [str(n) for n in taken]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
    return f"{listed} argument{'s' * (taken != [1])}"


_TABLES: dict[tuple[Version | None, tuple[ExtraDirective, ...]], DirectiveTable] = {}


def table_for(version: Version | None, extras: tuple[ExtraDirective, ...] = ()) -> DirectiveTable:
    """One table per version and extras, for the whole process (its shapes fill as used)."""
    key = (version, extras)
    table = _TABLES.get(key)
    if table is None:
        table = _TABLES[key] = DirectiveTable(version, extras)
    return table
