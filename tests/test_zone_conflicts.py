"""NGX106 against the real nginx: every shared-memory zone nginx declares, not only
ssl_session_cache's. An upstream{}'s `zone NAME [SIZE]` (http's or stream's) and
`ssl_ocsp_cache shared:NAME:SIZE` are uses of their own: one name with an
ssl_session_cache zone is nginx's `already declared for a different use`, reported at
the line nginx reports it at (the later one in the text). Measured on 1.22.1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import check_files, fix

from tlslint.findings import Finding

SERVER = """\
    server {
        listen 8443 ssl;
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
        location / {
            proxy_pass http://app;
        }
    }
"""


def with_server_cache(text: str) -> str:
    """``text`` with `ssl_session_cache shared:SSL:10m;` in its TLS server."""
    key = "ssl_certificate_key /etc/ssl/a.key;\n"
    return text.replace(key, key + "        ssl_session_cache shared:SSL:10m;\n")


def http(before: str, zone: str = "zone APP 64k;", after: str = "") -> str:
    """http{} with ``before`` lines, an upstream{} with ``zone``, a TLS server, ``after``."""
    upstream = f"    upstream app {{\n        {zone}\n        server 127.0.0.1:8080;\n    }}\n"
    return "events {}\nhttp {\n" + before + upstream + SERVER + after + "}\n"


STREAM = """\
stream {
    upstream db {
        zone DB 64k;
        server 127.0.0.1:5433;
    }
    ssl_session_cache shared:PG:10m;
    server {
        listen 5432 ssl;
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
        proxy_pass db;
    }
}
"""


def conflicts(tmp_path: Path, text: str) -> list[Finding]:
    return list(check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX106"]}).findings)


def nginx_line(text: str) -> tuple[str, int]:
    """What nginx -t says of ``text`` (it must refuse it): the message, the line."""
    from nginx_harness import nginx_t

    result = nginx_t(text)
    assert not result.ok and result.errors, result.describe()
    match = re.search(r"\[emerg\] (.*) in \$PREFIX/nginx\.conf:(\d+)$", result.errors[0])
    assert match is not None, result.describe()
    return match[1], int(match[2])


CASES = {
    "upstream zone after the cache": http("    ssl_session_cache shared:SSL:10m;\n", "zone SSL 64k;"),
    "upstream zone before a server's cache": with_server_cache(http("", "zone SSL 64k;")),
    "an unsized upstream zone": http("    ssl_session_cache shared:SSL:10m;\n", "zone SSL;"),
    "the OCSP cache, then the session cache": http(
        "    ssl_ocsp_cache shared:SSL:10m;\n    ssl_session_cache shared:SSL:10m;\n"
    ),
    "the session cache, then the OCSP cache": http(
        "    ssl_session_cache shared:SSL:10m;\n    ssl_ocsp_cache shared:SSL:10m;\n"
    ),
    "a stream upstream zone and stream's session cache": http("") + STREAM.replace("zone DB", "zone PG"),
    "http's upstream zone and stream's session cache": http("", "zone PG 64k;") + STREAM,
    "http's upstream zone and stream's upstream zone": http("", "zone DB 64k;") + STREAM,
    # nginx reads lines in text order: http{}'s line after a server{} comes after the server's.
    "a server's cache, then an http-level limit_req_zone": with_server_cache(
        http("", after="    limit_req_zone $binary_remote_addr zone=SSL:10m rate=10r/s;\n")
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_zone_of_another_use_is_refused_where_nginx_says(tmp_path: Path, case: str) -> None:
    text = CASES[case]
    (finding,) = conflicts(tmp_path, text)
    said, line = nginx_line(text)
    assert finding.location.line == line, (finding.message, said)
    assert finding.message.startswith(said), (finding.message, said)
    assert finding.message.endswith("; nginx refuses to start")


def test_the_message_names_the_other_use(tmp_path: Path) -> None:
    named = {
        "upstream zone after the cache": "(ssl_session_cache in http{})",
        "upstream zone before a server's cache": "(the zone of an upstream{} in http{})",
        "the OCSP cache, then the session cache": "(ssl_ocsp_cache in http{})",
        "a stream upstream zone and stream's session cache": "(the zone of an upstream{} in stream{})",
        "http's upstream zone and stream's upstream zone": "(the zone of an upstream{} in http{})",
        "a server's cache, then an http-level limit_req_zone": "(ssl_session_cache in http{})",
    }
    for case, use in named.items():
        (finding,) = conflicts(tmp_path, CASES[case])
        assert use in finding.message, (case, finding.message)


NEAR = {
    # Names of their own: no conflict.
    "an upstream zone and a session cache": http("    ssl_session_cache shared:SSL:10m;\n"),
    # An unsized upstream zone shares the zone another upstream{} sizes.
    "two upstreams share one zone": http(
        "    ssl_session_cache shared:SSL:10m;\n"
        "    upstream b {\n        zone APP 64k;\n        server 127.0.0.1:1;\n    }\n",
        "zone APP;",
    ),
    "an OCSP cache of its own": http(
        "    ssl_ocsp_cache shared:OCSP:10m;\n    ssl_session_cache shared:SSL:10m;\n"
    ),
    "ssl_ocsp_cache off": http("    ssl_ocsp_cache off;\n    ssl_session_cache shared:SSL:10m;\n"),
    "stream's upstream zone of its own": http("") + STREAM,
}


@pytest.mark.parametrize("case", list(NEAR))
def test_near_misses_nginx_accepts(tmp_path: Path, case: str) -> None:
    from nginx_harness import nginx_t

    text = NEAR[case]
    assert conflicts(tmp_path, text) == []
    result = nginx_t(text)
    assert result.ok and not result.errors, result.describe()


def test_a_fix_adding_a_zone_avoids_an_upstreams_and_an_ocsp_caches_names(tmp_path: Path) -> None:
    """NGX101's zone must not take a name nginx already gives another use."""
    from nginx_harness import nginx_t

    text = http("    ssl_ocsp_cache shared:SSL2:10m;\n", "zone SSL 64k;")
    after = fix(tmp_path, {"nginx.conf": text}, {"select": ["NGX101"]})["nginx.conf"].decode()
    assert "    ssl_session_cache shared:SSL3:10m;\n" in after
    result = nginx_t(after)
    assert result.ok and not result.errors, result.describe()


def test_streams_ocsp_cache_is_taken_but_not_judged(tmp_path: Path) -> None:
    """stream's ssl_ocsp_cache (1.27.2) cannot be measured on the installed nginx: its
    conflicts are not reported, but a fix's new stream zone avoids its name."""
    text = (
        "events {}\nstream {\n    ssl_ocsp_cache shared:STREAM_SSL:10m;\n    server {\n"
        "        listen 5432 ssl;\n        ssl_session_cache shared:STREAM_SSL:10m;\n"
        "        ssl_certificate     /etc/ssl/a.pem;\n        ssl_certificate_key /etc/ssl/a.key;\n"
        "        proxy_pass 127.0.0.1:5433;\n    }\n}\n"
    )
    assert conflicts(tmp_path, text) == []
    missing = text.replace("        ssl_session_cache shared:STREAM_SSL:10m;\n", "")
    after = fix(tmp_path, {"nginx.conf": missing}, {"select": ["NGX101"], "nginx": {"version": "1.28.0"}})
    assert "ssl_session_cache shared:STREAM_SSL2:10m;" in after["nginx.conf"].decode()


TLS_SNIPPET = (
    "ssl_certificate     /etc/ssl/a.pem;\n"
    "ssl_certificate_key /etc/ssl/a.key;\n"
    "ssl_session_cache shared:TLS:10m;\n"
)


def _http_and_stream_including(snippet: str) -> str:
    return (
        "events {}\nhttp {\n    server {\n        listen 8443 ssl;\n        server_name w;\n"
        f"        include {snippet};\n    }}\n}}\n"
        "stream {\n    server {\n        listen 8883 ssl;\n"
        f"        include {snippet};\n        proxy_pass 127.0.0.1:1883;\n    }}\n}}\n"
    )


def test_a_snippet_included_in_http_and_in_stream_declares_its_zone_for_each(tmp_path: Path) -> None:
    """One line of a file included in an http{} server and in a stream{} server is two
    declarations, one for each module: nginx refuses the second, at the snippet's line."""
    from nginx_harness import nginx_t

    text = _http_and_stream_including("snippets/tls.conf")
    files = {"nginx.conf": text, "snippets/tls.conf": TLS_SNIPPET}
    (finding,) = check_files(tmp_path, files, {"select": ["NGX106"]}).findings
    result = nginx_t(text, files={"snippets/tls.conf": TLS_SNIPPET})
    assert not result.ok, result.describe()
    match = re.search(r"\[emerg\] (.*) in \$PREFIX/snippets/tls\.conf:(\d+)$", result.errors[0])
    assert match is not None, result.describe()
    assert finding.location.path.name == "tls.conf" and finding.location.line == int(match[2])
    assert finding.message.startswith(match[1]), (finding.message, match[1])
    said = "(ssl_session_cache in http{}: this line, included in http{} and again in stream{}"
    assert said in finding.message
    assert finding.related == ()  # the zone was first declared by this very line


def test_a_snippet_included_in_two_http_servers_is_one_use(tmp_path: Path) -> None:
    from nginx_harness import nginx_t

    text = (
        "events {}\nhttp {\n"
        "    server {\n        listen 8443 ssl;\n        include snippets/tls.conf;\n    }\n"
        "    server {\n        listen 8444 ssl;\n        include snippets/tls.conf;\n    }\n}\n"
    )
    files = {"nginx.conf": text, "snippets/tls.conf": TLS_SNIPPET}
    assert list(check_files(tmp_path, files, {"select": ["NGX106"]}).findings) == []
    result = nginx_t(text, files={"snippets/tls.conf": TLS_SNIPPET})
    assert result.ok and not result.errors, result.describe()


MAIL = """\
mail {
    server_name mail.example.com;
    auth_http 127.0.0.1:9000/auth;
    ssl_certificate     /etc/ssl/mail.pem;
    ssl_certificate_key /etc/ssl/mail.key;
    ssl_session_cache shared:%s;
    server {
        listen 993 ssl;
        protocol imap;
    }
}
"""


@pytest.mark.parametrize("size", ["10m", "5m"])
def test_mail_zones_are_mail_modules_own(tmp_path: Path, size: str) -> None:
    """ngx_mail_ssl_module declares its zones with its own tag (nginx's source:
    ngx_shared_memory_add(cf, &name, n, &ngx_mail_ssl_module)), and nginx compares the
    tag before the size: one name in http{} and mail{} is a different use, whatever the
    sizes (the installed nginx has no mail module to measure it)."""
    http_cache = "events {}\nhttp {\n    ssl_session_cache shared:SSL:10m;\n"
    text = http_cache + SERVER + "}\n" + MAIL % f"SSL:{size}"
    (finding,) = conflicts(tmp_path, text)
    assert finding.message == (
        'the shared memory zone "SSL" is already declared for a different use '
        "(ssl_session_cache in http{}); nginx refuses to start"
    )
    assert finding.location.line == len(text.splitlines()) - 5  # mail{}'s line, the later one


def test_two_mail_declarations_of_one_zone_conflict_on_size_only(tmp_path: Path) -> None:
    same = MAIL % "MAIL:10m"
    imap = "        protocol imap;\n"
    other = same.replace(imap, imap + "        ssl_session_cache shared:MAIL:%s;\n")
    assert conflicts(tmp_path, "events {}\n" + other % "10240k") == []
    (finding,) = conflicts(tmp_path, "events {}\n" + other % "5m")
    assert finding.message.startswith('the size 5242880 of shared memory zone "MAIL" conflicts')


def test_mail_zones_are_not_judged_as_http_caches(tmp_path: Path) -> None:
    """mail{}'s servers are not read: its zone is no http{} cache that no http default
    server uses (NGX108), nor one whose size an http fix changes (NGX103)."""
    text = "events {}\nhttp {\n    ssl_session_cache shared:SSL:10m;\n" + SERVER + "}\n" + MAIL % "MAIL:1m"
    found = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX103", "NGX106", "NGX108"]}).findings
    assert list(found) == []
