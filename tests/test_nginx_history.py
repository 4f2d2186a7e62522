"""The version table (tlslint.nginx_history): its interface, and every http row held
to the real nginx -t (Debian's 1.22.1): a row that says 1.22.1 refuses a line must
see nginx refuse it, and a row that says it accepts it must see no refusal."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import nginx_binary

from tlslint.nginx_history import (
    ARGUMENT,
    DIRECTIVE,
    HTTP,
    LISTEN,
    MAIL,
    MAIN,
    STREAM,
    UPSTREAM,
    VersionSpan,
    argument_forms,
    argument_versions,
    directive_versions,
    entries,
    listen_parameter_versions,
    scope_of,
)


def test_directive_rows_the_issue_names() -> None:
    http2 = directive_versions("http2")
    assert http2 is not None and http2.since == (1, 25, 1) and http2.until is None
    ssl = directive_versions("ssl", "http")
    assert ssl is not None and (ssl.deprecated, ssl.until) == ((1, 15, 0), (1, 25, 1))
    assert ssl.refusal == 'unknown directive "ssl"'
    for name, since in (
        ("ssl_certificate_compression", (1, 29, 1)),
        ("keepalive_min_timeout", (1, 27, 4)),
        ("keepalive_time", (1, 19, 10)),
        ("ssl_conf_command", (1, 19, 4)),
        ("proxy_ssl_conf_command", (1, 19, 4)),
        ("ssl_early_data", (1, 15, 3)),
        ("http3", (1, 25, 0)),
    ):
        span = directive_versions(name, ("http", "server"))
        assert span is not None and span.since == since, name


def test_removed_http2_directives_are_still_accepted_with_a_warning() -> None:
    """CHANGES says 'removed', but nginx keeps them as obsolete (a warning, no effect):
    they prove no upper bound (1.22.1 below warns about the 1.19.7 ones)."""
    for name, obsolete in (
        ("http2_idle_timeout", (1, 19, 7)),
        ("http2_max_requests", (1, 19, 7)),
        ("http2_recv_timeout", (1, 19, 7)),
        ("http2_max_field_size", (1, 19, 7)),
        ("http2_max_header_size", (1, 19, 7)),
        ("http2_push", (1, 25, 1)),
        ("http2_push_preload", (1, 25, 1)),
    ):
        span = directive_versions(name)
        assert span is not None and span.until is None and span.ignored, name
        assert span.deprecated == obsolete, name
        assert span.accepts((1, 31, 4))


def test_the_module_decides_where_names_differ() -> None:
    http = directive_versions("ssl_reject_handshake", ("http", "server"))
    stream = directive_versions("ssl_reject_handshake", ("stream", "server"))
    assert http is not None and http.since == (1, 19, 4)
    assert stream is not None and stream.since == (1, 25, 5)
    assert stream.refusal == '"ssl_reject_handshake" directive is not allowed here'  # facts §4
    assert directive_versions("ssl_reject_handshake", "stream") == stream
    # keepalive_timeout: http's is old (no row); upstream{}'s appeared in 1.15.3.
    assert directive_versions("keepalive_timeout", ("http", "server")) is None
    upstream = directive_versions("keepalive_timeout", ("http", "upstream"))
    assert upstream is not None and upstream.since == (1, 15, 3)
    # nginx knows the name from http core, so before 1.15.3 it refuses the place (nginx's
    # conf parser; the same path on 1.22.1: `keepalive_disable` in upstream{}).
    assert upstream.refusal == '"keepalive_timeout" directive is not allowed here'
    requests = directive_versions("keepalive_requests", ("http", "upstream"))
    assert requests is not None and requests.refusal == '"keepalive_requests" directive is not allowed here'
    time = directive_versions("keepalive_time", ("http", "upstream"))
    assert time is not None and time.refusal == 'unknown directive "keepalive_time"'  # http's is as new
    # server_name is old in http, new (1.25.5) in stream.
    assert directive_versions("server_name", ("http", "server")) is None
    assert directive_versions("server_name", ("stream", "server")) is not None


def test_ssl_conf_command_is_dated_in_every_module() -> None:
    """Changeset 7729 (1.19.4) added it to http, stream and mail at once: before, no
    module knows the name, so nginx says "unknown directive", not "not allowed here"."""
    for scope in (("http", "server"), ("stream", "server"), ("mail",), ("mail", "server")):
        span = directive_versions("ssl_conf_command", scope)
        assert span is not None and span.since == (1, 19, 4), scope
        assert span.refusal == 'unknown directive "ssl_conf_command"', scope
        assert not span.accepts((1, 18, 0)) and span.accepts((1, 19, 4))


def test_scope_of() -> None:
    assert scope_of(None) is None
    assert scope_of(()) == MAIN
    assert scope_of(("events",)) == MAIN
    assert scope_of(("http", "server", "location", "if")) == HTTP
    assert scope_of(("http", "upstream")) == UPSTREAM
    assert scope_of(("stream", "upstream")) == STREAM
    assert scope_of(("mail", "server")) == MAIL
    assert scope_of("upstream") == UPSTREAM
    assert scope_of("server") == MAIN  # a bare block name outside any subsystem


def test_listen_parameters() -> None:
    quic = listen_parameter_versions("quic")
    assert quic is not None and quic.since == (1, 25, 0)
    http2 = listen_parameter_versions("http2")
    assert http2 is not None and http2.since == (1, 9, 5) and http2.deprecated == (1, 25, 1)
    assert http2.until is None  # deprecated, still accepted (and still in effect)
    assert listen_parameter_versions("backlog=511") is None  # old: no row
    assert listen_parameter_versions("reuseport") == listen_parameter_versions(
        "reuseport", ("http", "server")
    )
    deferred = listen_parameter_versions("deferred", ("stream", "server"))
    assert deferred is not None and deferred.since == (1, 25, 5)
    # The stream module words its refusal its own way (measured on 1.22.1).
    assert deferred.refusal == 'the invalid "deferred" parameter'
    # Virtual servers in stream (1.25.5): a default server of an address:port.
    default = listen_parameter_versions("default_server", ("stream", "server"))
    assert default is not None and default.since == (1, 25, 5)
    assert default.refusal == 'the invalid "default_server" parameter'
    assert listen_parameter_versions("default_server", ("http", "server")) is None  # http's is old
    assert listen_parameter_versions("deferred") is None  # http's is old


def test_argument_forms() -> None:
    two = argument_versions("proxy_http_version", ("2",), ("http", "server", "location"))
    assert two is not None and two.since == (1, 29, 4)
    assert argument_versions("proxy_http_version", ("1.1",)) is None
    local = argument_versions("keepalive", ("16", "local"), ("http", "upstream"))
    zero = argument_versions("keepalive", ("0",), "upstream")
    assert local is not None and local.since == (1, 29, 7)
    assert zero is not None and zero.since == (1, 29, 7)
    assert argument_versions("keepalive", ("16",), "upstream") is None
    assert argument_versions("keepalive", ("16", "local"), "http") is None  # only upstream{} has keepalive
    assert [what for what, _ in argument_forms("keepalive", "upstream")] == [
        "keepalive N local",
        "keepalive 0",
    ]


def test_every_row_is_well_formed() -> None:
    rows = list(entries())
    assert len(rows) > 100
    for kind, name, scope, span in rows:
        assert kind in (DIRECTIVE, LISTEN, ARGUMENT)
        assert scope in (MAIN, HTTP, UPSTREAM, STREAM, MAIL)
        assert span.source, name
        assert span.since is not None or span.until is not None or span.deprecated is not None, name
        if span.since is not None and span.until is not None:
            assert span.since < span.until, name
        if span.until is not None or span.since is not None:
            assert span.refusal, name
        assert not span.ignored or span.deprecated is not None, name


# --------------------------------------------------------------------------- the real nginx -t

# The line each argument form is tested with, in its context.
_FORM_LINES = {
    "proxy_http_version 2": "server { listen 127.0.0.1:18999; location / { proxy_http_version 2; } }",
    "keepalive N local": "upstream u { server 127.0.0.1:18998; keepalive 16 local; }",
    "keepalive 0": "upstream u { server 127.0.0.1:18998; keepalive 0; }",
    "ssl_protocols TLSv1.3": "ssl_protocols TLSv1.2 TLSv1.3;",
    "limit_req delay=": "limit_req_zone $binary_remote_addr zone=z:1m rate=1r/s;\n"
    "server { listen 127.0.0.1:18999; location / { limit_req zone=z delay=5; } }",
}


# Valid values for the rows whose warning is checked too (any value shows "unknown").
_VALUES = {
    "ssl": "on",
    "http2_push": "/x",
    "http2_push_preload": "on",
    "http2_max_concurrent_pushes": "10",
    "http2_idle_timeout": "10s",
    "http2_recv_timeout": "10s",
    "http2_max_requests": "10",
    "http2_max_field_size": "4k",
    "http2_max_header_size": "16k",
}


def _line(kind: str, name: str, scope: str) -> tuple[str, str]:
    """(main-level text, http-level text) placing one row's line."""
    if kind == ARGUMENT:
        return "", _FORM_LINES[name]
    if kind == LISTEN:
        return "", f"server {{ listen 127.0.0.1:18999 {name}; }}"
    if scope == MAIN:
        return f"{name} x;", ""
    if scope == UPSTREAM:
        return "", f"upstream u {{ server 127.0.0.1:18998; {name} 1; }}"
    return "", f"{name} {_VALUES.get(name, 'x')};"


def _nginx_says(binary: str, main: str, http: str) -> str:
    with tempfile.TemporaryDirectory(prefix="tlslint-history-") as directory:
        prefix = Path(directory)
        conf = prefix / "nginx.conf"
        conf.write_text(
            f"pid {prefix}/nginx.pid;\nerror_log stderr;\n{main}\nevents {{}}\n"
            f"http {{\n access_log off;\n client_body_temp_path {prefix}/b;\n proxy_temp_path {prefix}/p;\n"
            f" fastcgi_temp_path {prefix}/f;\n uwsgi_temp_path {prefix}/u;\n scgi_temp_path {prefix}/s;\n"
            f"{http}\n}}\n",
            encoding="utf-8",
        )
        proc = subprocess.run(
            [binary, "-t", "-p", f"{prefix}/", "-c", str(conf)],
            capture_output=True,
            text=True,
            timeout=10,
            stdin=subprocess.DEVNULL,
        )
        return proc.stderr + proc.stdout


_ROWS_ON_THIS_NGINX = [
    pytest.param(kind, name, scope, span, id=f"{kind}-{scope}-{name}")
    for kind, name, scope, span in entries()
    if scope in (MAIN, HTTP, UPSTREAM)
]


@pytest.mark.parametrize(("kind", "name", "scope", "span"), _ROWS_ON_THIS_NGINX)
def test_row_agrees_with_nginx_t(kind: str, name: str, scope: str, span: VersionSpan) -> None:
    """Stream and mail rows are not checked here: Debian builds those modules as
    dynamic modules, which this machine does not install."""
    from nginx_harness import nginx_version

    binary = nginx_binary()
    version = nginx_version(binary)
    if len(version) != 3:
        pytest.skip(f"nginx {version} is not a release number")
    release = (version[0], version[1], version[2])
    said = _nginx_says(binary, *_line(kind, name, scope))
    refused = span.refusal in said
    assert refused == (not span.accepts(release)), (
        f"{kind} {name} ({scope}): the table says nginx {release} "
        f"{'accepts' if span.accepts(release) else 'refuses'} it; nginx -t said:\n{said}"
    )
    if (
        span.deprecated is not None
        and span.deprecated <= release
        and span.accepts(release)
        and kind == DIRECTIVE
    ):
        assert "[warn]" in said and name in said, said


@pytest.mark.parametrize("name", ["deferred", "default_server", "fastopen=1", "rcvbuf=64k"])
def test_stream_listen_rows_agree_with_nginx_t(name: str) -> None:
    """The stream listen rows written as flags or with a value, through the harness (which
    loads Debian's dynamic stream module): the refusal is the stream module's wording."""
    from nginx_harness import nginx_t, nginx_version

    binary = nginx_binary()
    version = nginx_version(binary)
    if len(version) != 3:
        pytest.skip(f"nginx {version} is not a release number")
    span = listen_parameter_versions(name, "stream")
    assert span is not None
    text = f"events {{}}\nstream {{\n    server {{\n        listen 127.0.0.1:18997 {name};\n"
    text += "        proxy_pass 127.0.0.1:18996;\n    }\n}\n"
    said = nginx_t(text).output
    release = (version[0], version[1], version[2])
    assert (span.refusal in said) == (not span.accepts(release)), said
