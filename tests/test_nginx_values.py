"""The values nginx reads (``tlslint.nginx_values``): each reader against nginx's own.

Without nginx, the readers are held to what Debian's nginx 1.22.1 was measured to
do with each value below. With it (CI), every value is put through the real
``nginx -t`` in a directive that uses that reader, and every row of the table (each
directive in each scope it names, each argument) is broken on purpose: nginx and
NGX012 must refuse the same line, and both accept the row's valid value.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import check_files

from tlslint.nginx_values import (
    BACKEND_ADDRESS,
    CONNECTIONS,
    GRPC_ADDRESS,
    MAIL,
    MSEC,
    NUMBER,
    OFFSET,
    PROXY_URL,
    READERS,
    SEC,
    SESSION_CACHE,
    SIZE,
    STREAM,
    UPSTREAM,
    UWSGI_ADDRESS,
    Reader,
    proxy_url_uri,
    refusal,
    rows_for,
    seconds,
)

# (value, accepted), as nginx 1.22.1 reads each kind.
TIMES_IN_MILLISECONDS = [
    ("5", True), ("5s", True), ("500ms", True), ("1h30m", True), ("1h 30m", True),
    ("1w2d", True), ("3s5", True), ("1m30s500ms", True), ("m5", True),
    ("30m1h", False), ("1d1d", False), ("5 s", False), (" 5s", False), ("1y", False),
    ("1M", False), ("10S", False), ("1H", False), ("", False), ("s", False), ("-1", False),
    ("+5", False), ("5.5s", False), ("75x", False), ("500ms5s", False), ("$timeout", False),
]  # fmt: skip
TIMES_IN_SECONDS = [
    ("5", True), ("1y", True), ("1M", True), ("1d", True), ("1h30m", True), ("1h 30m", True),
    ("99999999999y", True), ("500ms", False), ("1M1y", False), ("1d1d", False), ("5 s", False),
    ("10x", False), ("", False), ("1D", False),
]  # fmt: skip
SIZES = [
    ("16k", True), ("16K", True), ("1m", True), ("1M", True), ("4096", True), ("0", True),
    ("1g", False), ("1G", False), ("", False), ("k", False), ("1kb", False), ("+5", False),
    ("-1", False), ("16 k", False), ("99999999999999999999", False), ("4q", False),
]  # fmt: skip
OFFSETS = [
    ("1g", True), ("8G", True), ("512M", True), ("0", True), ("100k", True),
    ("1t", False), ("1gb", False), ("", False), ("1.5g", False),
]  # fmt: skip
NUMBERS = [
    ("100", True), ("0", True), ("007", True),
    ("", False), ("x", False), ("-1", False), ("+1", False), ("1k", False),
    ("99999999999999999999", False),
]  # fmt: skip
SESSION_CACHES = [
    ("off", True), ("none", True), ("builtin", True), ("builtin:1000", True),
    ("shared:SSL:10m", True), ("shared:a-b:1024k", True),
    ("foo", False), ("OFF", False), ("Shared:SSL:10m", False), ("builtin:x", False),
    ("builtin:", False), ("shared:SSL", False), ("shared:SSL:", False), ("shared::10m", False),
    ("shared:SSL:10g", False), ("shared:a:b:10m", False),
]  # fmt: skip

# proxy_pass's URL, as nginx 1.22.1 reads it (addresses only: a host name is looked up).
URLS = [
    ("http://127.0.0.1:8080", True), ("HTTPS://127.0.0.1", True), ("http://127.0.0.1:000080", True),
    ("http://[::1]:8443/a", True), ("http://unix:/run/a.sock:/x", True), ("http://127.0.0.1:1?x", True),
    ("http://$host:80", True), ("http://127.0.0.1:65535/", True),
    ("127.0.0.1:8000", False), ("grpc://127.0.0.1:1", False), ("http://", False), ("http://:80", False),
    ("http://127.0.0.1:0", False), ("http://127.0.0.1:65536", False), ("http://127.0.0.1:800b", False),
    ("http://127.0.0.1:+80", False), ("http://127.0.0.1:", False), ("https://127.0.0.1:1x/a", False),
    ("http://127.0.0.1:8080#frag", False), ("http://[::1:8443", False), ("http://[::1]x", False),
    ("http://unix:", False),
]  # fmt: skip
# fastcgi_pass and its kin: an address, no URI, and a scheme only where the module strips one.
ADDRESSES = [
    ("127.0.0.1:9000", True), ("127.0.0.1:09000", True), ("unix:/run/php/php-fpm.sock", True),
    ("UNIX:/a.sock:/x", True), ("[::1]:9000", True), ("php-fpm", True), ("$backend", True),
    ("127.0.0.1:90000", False), ("127.0.0.1:0", False), ("127.0.0.1:", False), ("127.0.0.1:-1", False),
    ("http://127.0.0.1:9000", False), ("127.0.0.1:9000/x", False), ("127.0.0.1:9000?x", False),
    ("unix:", False), (":9000", False), ("[::1:9000", False),
]  # fmt: skip
UWSGI_ADDRESSES = [
    ("uwsgi://127.0.0.1:3031", True), ("SUWSGI://127.0.0.1:3031", True), ("127.0.0.1:3031", True),
    ("http://127.0.0.1:3031", False), ("uwsgi://127.0.0.1:3031x", False),
]  # fmt: skip
GRPC_ADDRESSES = [
    ("grpc://127.0.0.1:50051", True), ("GRPCS://127.0.0.1:50051", True), ("127.0.0.1:50051", True),
    ("grpc://unix:/run/a.sock", True), ("grpcs://127.0.0.1:99999", False), ("http://127.0.0.1:50051", False),
    ("grpc://127.0.0.1:50051/x", False),
]  # fmt: skip

# A reader, and a directive that uses it where nginx -t reads it: (directive, where).
READER_CASES = [
    (MSEC, "proxy_read_timeout", TIMES_IN_MILLISECONDS),
    (SEC, "ssl_session_timeout", TIMES_IN_SECONDS),
    (SIZE, "ssl_buffer_size", SIZES),
    (OFFSET, "client_max_body_size", OFFSETS),
    (NUMBER, "keepalive_requests", NUMBERS),
    (SESSION_CACHE, "ssl_session_cache", SESSION_CACHES),
    (PROXY_URL, "proxy_pass", URLS),
    (BACKEND_ADDRESS, "fastcgi_pass", ADDRESSES),
    (UWSGI_ADDRESS, "uwsgi_pass", UWSGI_ADDRESSES),
    (GRPC_ADDRESS, "grpc_pass", GRPC_ADDRESSES),
]
VALUE_PARAMS = [
    pytest.param(reader, name, value, accepted, id=f"{name}-{value!r}")
    for reader, name, cases in READER_CASES
    for value, accepted in cases
]


@pytest.mark.parametrize(("reader", "name", "value", "accepted"), VALUE_PARAMS)
def test_each_reader_takes_what_nginx_takes(reader: Reader, name: str, value: str, accepted: bool) -> None:
    assert reader.accepts(value) is accepted


def _refused(name: str, args: tuple[str, ...], *scopes: str) -> str:
    return refusal(name, args, rows_for(name, scopes))


def test_a_refusal_needs_every_reading_to_refuse() -> None:
    # A snippet that may stand in http{} or in stream{}: both read the same way.
    assert _refused("ssl_session_timeout", ("10x",), "http", STREAM).startswith(
        '"ssl_session_timeout" directive invalid value "10x"'
    )
    # Or in an upstream, whose keepalive_timeout takes one argument: a second is not a
    # value it reads (its count is the shape's question), so the value is not judged.
    assert (
        _refused(
            "keepalive_timeout",
            ("5", "10x"),
            "http",
        )
        != ""
    )
    assert _refused("keepalive_timeout", ("5", "10x"), "http", UPSTREAM) == ""
    # proxy_next_upstream is a list of words in http, a flag in stream: "on" is read
    # differently, so nothing is refused where either may be meant.
    assert (
        _refused(
            "proxy_next_upstream",
            ("on",),
            "http",
        )
        != ""
    )
    assert _refused("proxy_next_upstream", ("on",), "http", STREAM) == ""
    # Words are compared as nginx compares them, without case.
    assert (
        _refused(
            "ssl_protocols",
            ("tlsv1.2", "TLSV1.3"),
            "http",
        )
        == ""
    )
    assert _refused(
        "proxy_http_version",
        ("3",),
        "http",
    ) == ('invalid value "3" in "proxy_http_version" directive, it must be "1.0", "1.1" or "2"')


# ----------------------------------------------------------------------------- real nginx

SAMPLE_WORDS = {"ssl_verify_client": "off", "ssl_ocsp": "off", "proxy_http_version": "1.1"}
SAMPLE_WORDS.update(ssl_protocols="TLSv1.2", proxy_ssl_protocols="TLSv1.2", grpc_ssl_protocols="TLSv1.2")
SAMPLES = {  # a reader -> (a value it takes, one it refuses)
    MSEC: ("5s", "5x"),
    SEC: ("5m", "5x"),
    SIZE: ("4k", "4q"),  # proxy_buffer_size may not pass proxy_buffers
    OFFSET: ("1g", "1t"),
    NUMBER: ("100", "x"),
    CONNECTIONS: ("16", "x"),
    SESSION_CACHE: ("shared:T:10m", "foo"),
    PROXY_URL: ("http://127.0.0.1:8080", "http://127.0.0.1:80x"),
    BACKEND_ADDRESS: ("127.0.0.1:9000", "127.0.0.1:90000"),
    UWSGI_ADDRESS: ("uwsgi://127.0.0.1:3031", "http://127.0.0.1:3031"),
    GRPC_ADDRESS: ("grpcs://127.0.0.1:50051", "grpc://127.0.0.1:50051/x"),
}


def _samples(name: str, reader: Reader) -> tuple[str, str]:
    if reader.words:
        return SAMPLE_WORDS.get(name, reader.words[0]), "bogus"
    return SAMPLES[reader]


def _config(scope: str, line: str) -> tuple[str, int]:
    """A whole configuration with ``line`` where ``scope`` reads it, and that line's number."""
    if scope == STREAM:
        head = "events {}\nstream {\n    server {\n        listen 127.0.0.1:18445;\n"
        head += "        proxy_pass 127.0.0.1:1;\n"
        return head + f"        {line}\n    }}\n}}\n", head.count("\n") + 1
    if scope == UPSTREAM:
        head = "events {}\nhttp {\n    upstream u {\n        server 127.0.0.1:1;\n"
        tail = "    }\n    server {\n        listen 127.0.0.1:18080;\n    }\n}\n"
        return head + f"        {line}\n" + tail, head.count("\n") + 1
    head = "events {}\nhttp {\n    server {\n        listen 127.0.0.1:18080;\n"
    if line.split(" ", 1)[0].endswith("_pass"):  # read in a location only
        head += "        location / {\n"
        if line.startswith("memcached_pass "):  # its key is a variable it needs set
            head += "            set $memcached_key $uri;\n"
        return head + f"            {line}\n        }}\n    }}\n}}\n", head.count("\n") + 1
    return head + f"        {line}\n    }}\n}}\n", head.count("\n") + 1


ROW_PARAMS = [
    pytest.param(name, scope, position, id=f"{name}-{scope}-{position}")
    for name, rows in READERS.items()
    for row in rows
    # Debian builds no mail module: mail's rows use the same nginx readers as http's.
    for scope in row.scopes
    if scope != MAIL
    for position in range(len(row.readers))
]


def _nginx_refusal(reader: Reader, name: str, value: str) -> str:
    """nginx's own words for this reader's refusal (a pattern)."""
    if reader.words:
        return f'invalid value "{re.escape(value)}"'
    if reader is SESSION_CACHE:
        return f'invalid session cache "{re.escape(value)}"'
    if reader is NUMBER:
        return f'"{name}" directive invalid number'
    if reader is CONNECTIONS:
        return f'invalid value "{re.escape(value)}" in "{name}" directive'
    if reader in (PROXY_URL, BACKEND_ADDRESS, UWSGI_ADDRESS, GRPC_ADDRESS):
        return "invalid URL prefix|(invalid port|no host|invalid host) in upstream|no path in the unix domain"
    return f'"{name}" directive invalid value'


@pytest.mark.nginx
@pytest.mark.parametrize(("reader", "name", "value", "accepted"), VALUE_PARAMS)
def test_nginx_reads_each_value_as_the_reader_does(
    reader: Reader, name: str, value: str, accepted: bool
) -> None:
    from nginx_harness import nginx_t

    quoted = '"' + value.replace('"', '\\"') + '"'
    text, line = _config("http", f"{name} {quoted};")
    result = nginx_t(text, kind="main")
    refused = [e for e in result.errors if re.search(_nginx_refusal(reader, name, value), e)]
    assert bool(refused) is not accepted, result.describe()
    if refused:
        assert refused[0].endswith(f":{line}"), result.describe()


@pytest.mark.nginx
@pytest.mark.parametrize(("name", "scope", "position"), ROW_PARAMS)
def test_nginx_and_ngx012_refuse_each_row(tmp_path: Path, name: str, scope: str, position: int) -> None:
    from nginx_harness import nginx_t

    row = next(row for row in READERS[name] if scope in row.scopes)
    readers = row.readers[: position + 1]
    good = [_samples(name, reader)[0] for reader in readers]
    bad = [*good[:-1], _samples(name, readers[-1])[1]]
    for args, refused in ((good, False), (bad, True)):
        text, line = _config(scope, f"{name} {' '.join(args)};")
        result = nginx_t(text, kind="main")
        expected = _nginx_refusal(readers[-1], name, args[-1])
        assert result.ok is not refused, result.describe()
        if refused:
            assert re.search(expected, result.errors[0]), result.describe()
            assert result.errors[0].endswith(f":{line}"), result.describe()
        found = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX012"]}).findings
        assert [(f.location.line, f.message) for f in found] == (
            [(line, readers[-1].refusal(name, args[-1]))] if refused else []
        )


# Where a proxy_pass URL may carry a URI part: (block around it, URL, refused by nginx).
URI_BLOCKS = [
    ("location ~ \\.php$ {", "http://127.0.0.1:8080/", True),
    ("location ~*/img {", "http://unix:/run/a.sock:/x", True),
    ("location @fallback {", "https://[::1]:8443/", True),
    ("location / { if ($arg_debug) {", "http://127.0.0.1:8080/a", True),
    ("location / { limit_except GET {", "http://127.0.0.1:8080?x=1", True),
    ("location /a { location ~ b {", "http://127.0.0.1:8080/", True),
    ("location ~ \\.php$ {", "http://127.0.0.1:8080", False),
    ("location ~ \\.php$ {", "http://127.0.0.1:8080/$uri", False),
    ("location ~ /x { location /x/y {", "http://127.0.0.1:8080/", False),
    ("location = /q {", "http://127.0.0.1:8080/", False),
    ("location ^~ /static/ {", "http://127.0.0.1:8080/files/", False),
    ("location @fallback {", "http://unix:/run/a.sock", False),
]  # fmt: skip


@pytest.mark.nginx
@pytest.mark.parametrize(("block", "url", "refused"), URI_BLOCKS)
def test_a_uri_part_is_refused_where_nginx_refuses_it(
    tmp_path: Path, block: str, url: str, refused: bool
) -> None:
    from nginx_harness import nginx_t

    closing = "}" * block.count("{")
    text = (
        "events {}\nhttp {\n    server {\n        listen 127.0.0.1:18080;\n"
        f"        {block}\n            proxy_pass {url};\n        {closing}\n    }}\n}}\n"
    )
    result = nginx_t(text, kind="main")
    assert result.ok is not refused, result.describe()
    if refused:
        assert "cannot have URI part" in result.errors[0], result.describe()
        assert result.errors[0].endswith(":6"), result.describe()
    found = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX012"]}).findings
    assert [f.location.line for f in found] == ([6] if refused else [])
    if refused:
        uri = proxy_url_uri(url)
        assert f'cannot have URI part ("{uri}")' in found[0].message
        assert f'pass "{url[: -len(uri)].removesuffix(":")}"' in found[0].message


# ----------------------------------------------------------------------------- one cause, one finding

SESSION_SERVER = """http {
    %s
    server {
        listen 443 ssl;
        ssl_certificate a.pem;
        ssl_certificate_key a.key;
        %s
    }
}
"""


@pytest.mark.parametrize("value", [value for value, accepted in SESSION_CACHES if not accepted])
@pytest.mark.parametrize("where", ["http", "server"])
def test_the_session_rules_leave_a_cache_line_nginx_refuses_to_ngx012(
    tmp_path: Path, value: str, where: str
) -> None:
    """NGX101 would say the server has no cache and add a second line beside the one
    nginx refuses (still refused); NGX102 and NGX105 would judge a cache nginx never
    loads. NGX012 alone speaks."""
    line = f"ssl_session_cache {value};"
    text = SESSION_SERVER % ((line, "") if where == "http" else ("", line))
    found = check_files(tmp_path, {"nginx.conf": text}).findings
    assert [f.message for f in found if f.code == "NGX012"] == [SESSION_CACHE.refusal("", value)]
    assert [f for f in found if f.code in ("NGX101", "NGX102", "NGX105")] == []


def test_the_session_rules_still_speak_of_a_cache_line_nginx_reads(tmp_path: Path) -> None:
    text = SESSION_SERVER % ("ssl_session_cache none;", "")
    assert "NGX101" in [f.code for f in check_files(tmp_path, {"nginx.conf": text}).findings]


@pytest.mark.parametrize(
    ("text", "in_seconds", "expected"),
    [
        ("1h30m", True, 5400.0), ("1h 30m", True, 5400.0), ("75", False, 75.0), ("500ms", False, 0.5),
        ("1m30s500ms", False, 90.5), ("3s5", True, 8.0), ("1 1", True, 2.0), ("1y", True, 31_536_000.0),
        ("500ms", True, None), ("1y", False, None), ("30m1h", True, None), ("", True, None),
        ("1" * 5_000, True, float("inf")),
    ],
)  # fmt: skip
def test_seconds_are_what_nginx_reads(text: str, in_seconds: bool, expected: float | None) -> None:
    assert seconds(text, in_seconds=in_seconds) == expected
    assert (MSEC if not in_seconds else SEC).accepts(text) is (expected is not None)


@pytest.mark.parametrize(
    ("line", "rule"),
    [("ssl_session_timeout 500ms;", "NGX104"), ('keepalive_timeout "5 s";', "NGX202")],
)
def test_a_time_nginx_cannot_read_is_ngx012s_alone(tmp_path: Path, line: str, rule: str) -> None:
    """units.parse_time read `500ms` as half a second where nginx counts seconds, and
    `5 s` as five seconds: NGX104 and NGX202 judged a line nginx refuses."""
    text = SESSION_SERVER % (line, "")
    codes = [f.code for f in check_files(tmp_path / "refused", {"nginx.conf": text}).findings]
    assert "NGX012" in codes and rule not in codes
    readable = line.replace("500ms", "1s").replace('"5 s"', "5s")
    codes = [
        f.code
        for f in check_files(tmp_path / "read", {"nginx.conf": SESSION_SERVER % (readable, "")}).findings
    ]
    assert "NGX012" not in codes and rule in codes
