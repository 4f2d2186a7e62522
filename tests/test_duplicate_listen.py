"""NGX005 beyond its catalogue examples: the sockets it compares and those it leaves alone,
each form measured with nginx 1.22.1 (see rules/NGX005.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import check_files

CODE = "NGX005"


def messages(tmp_path: Path, text: str) -> list[str]:
    result = check_files(tmp_path, {"nginx.conf": f"events {{}}\n{text}"}, {"select": [CODE]})
    return [f.message for f in result.findings if f.code == CODE]


def test_a_stream_server_listening_twice_is_reported_in_streams_words(tmp_path: Path) -> None:
    (said,) = messages(
        tmp_path, "stream {\n server {\n listen 5432;\n listen *:5432;\n proxy_pass 127.0.0.1:5433;\n }\n}\n"
    )
    assert 'duplicate "0.0.0.0:5432" address and port pair' in said


def test_the_old_default_spelling_and_unix_sockets_count(tmp_path: Path) -> None:
    found = messages(
        tmp_path,
        "http {\n server { listen 8443 default; }\n server { listen 8443 default_server; }\n"
        " server { listen unix:/run/a.sock default_server; }\n"
        " server { listen unix:/run/a.sock default_server; }\n}\n",
    )
    assert [m.split("(`", 1)[1] for m in found] == [
        "a duplicate default server for 0.0.0.0:8443`)",
        "a duplicate default server for unix:/run/a.sock`)",
    ]


@pytest.mark.parametrize(
    "servers",
    [
        # Three address:port pairs, a default server each (nginx starts).
        "server { listen 8443 default_server; }\nserver { listen 127.0.0.1:8443 default_server; }\n"
        "server { listen [::]:8443 default_server; }\n",
        # A host name and an address: what the name resolves to is the host's; not compared.
        "server { listen localhost:8443 default_server; }\n"
        "server { listen 127.0.0.1:8443 default_server; }\n",
        # A template's variable: not compared.
        "server { listen ${PORT} default_server; }\nserver { listen ${PORT} default_server; }\n",
        # A server without a listen line (the implicit *:80) beside an explicit default.
        "server { server_name a; }\nserver { listen 80 default_server; }\n",
    ],
)
def test_what_is_not_a_duplicate_or_not_compared(tmp_path: Path, servers: str) -> None:
    assert messages(tmp_path, f"http {{\n{servers}}}\n") == []


def test_two_different_socket_options_are_duplicate_options(tmp_path: Path) -> None:
    (said,) = messages(
        tmp_path, "http {\n server { listen 8443 rcvbuf=64k; }\n server { listen 8443 sndbuf=64k; }\n}\n"
    )
    assert "sets socket options (sndbuf=64k) on *:8443, and so does server[*:8443] (rcvbuf=64k)" in said
    assert said.endswith("(`duplicate listen options for 0.0.0.0:8443`)")


def test_socket_options_on_each_address_once_are_accepted(tmp_path: Path) -> None:
    servers = (
        "server { listen 8443 reuseport; listen [::]:8443 reuseport; }\n"
        "server { listen 8443; listen [::]:8443 ssl; }\n"
        "server { listen 127.0.0.1:8443 reuseport; }\n"
    )
    assert messages(tmp_path, f"http {{\n{servers}}}\n") == []


def test_one_host_name_twice_is_one_address(tmp_path: Path) -> None:
    """nginx resolves each listen's name, so one name (in any case) is one address each
    time: measured on 1.22.1, `a duplicate default server for 127.0.0.1:8443` and
    `duplicate listen options for 127.0.0.1:8443` for localhost."""
    found = messages(
        tmp_path,
        "http {\n server { listen localhost:8443 default_server reuseport; }\n"
        " server { listen LocalHost:8443 default_server backlog=10; }\n"
        " server { listen api.internal:8444; listen api.internal:8444 ssl; }\n}\n",
    )
    assert sorted(m.split("(`", 1)[1] for m in found) == [
        "a duplicate default server for ADDRESS:8443`, ADDRESS being what localhost resolves to)",
        "a duplicate listen ADDRESS:8444`, ADDRESS being what api.internal resolves to)",
        "duplicate listen options for ADDRESS:8443`, ADDRESS being what localhost resolves to)",
    ]


def test_ipv6_spellings_of_one_address_are_one_socket(tmp_path: Path) -> None:
    """nginx compares addresses, not their spelling (measured on 1.22.1: `a duplicate
    default server for [::]:8443`, `duplicate listen options for [::1]:8443`, stream's
    `duplicate "[::1]:8443" address and port pair`)."""
    found = messages(
        tmp_path,
        "http {\n server { listen [::0]:8443 default_server; }\n"
        " server { listen [0:0:0:0:0:0:0:0]:8443 default_server; }\n"
        " server { listen [::1]:8444 reuseport; }\n server { listen [0::1]:8444 backlog=5; }\n}\n"
        "stream {\n server { listen [::1]:8445; listen [0:0::1]:8445; proxy_pass 127.0.0.1:1; }\n}\n",
    )
    assert sorted(m.split("(`", 1)[1] for m in found) == [
        "a duplicate default server for [::]:8443`)",
        'duplicate "[::1]:8445" address and port pair` on 1.22.1)',
        "duplicate listen options for [::1]:8444`)",
    ]


# A port range (`listen 127.0.0.1:18450-18452`) binds each port of it (nginx 1.22.1
# measured, http and stream): it meets a listen of one of its ports elsewhere (T4).
RANGE_STREAM = """events {}
stream {
    server {
        listen 127.0.0.1:18450-18452 ssl;
        ssl_certificate /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
        proxy_pass 127.0.0.1:9000;
    }
    server {
        listen 127.0.0.1:18451 ssl;
        ssl_certificate /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
        proxy_pass 127.0.0.1:9000;
    }
}
"""


def test_a_stream_port_range_meets_a_port_of_it(tmp_path: Path) -> None:
    mapping = {"select": ["NGX004"], "nginx": {"version": "1.22"}}
    (finding,) = check_files(tmp_path, {"nginx.conf": RANGE_STREAM}, mapping).findings
    assert finding.location.line == 10
    assert "(the first is stream server[127.0.0.1:18450-18452])" in finding.message
    assert '`duplicate "127.0.0.1:18451" address and port pair`' in finding.message


def test_a_port_range_is_the_default_server_of_its_ports(tmp_path: Path) -> None:
    from test_workspace import load

    stream = load(tmp_path, RANGE_STREAM).stream
    assert stream is not None
    first, second = stream.servers
    assert stream.default_server("127.0.0.1:18451") is first
    assert second.default_for == []
    assert first.label == "stream server[127.0.0.1:18450-18452]"


def test_an_http_port_range_and_a_second_default_server(tmp_path: Path) -> None:
    text = (
        "events {}\nhttp {\n    server { listen 127.0.0.1:18450-18452 default_server; }\n"
        "    server { listen 127.0.0.1:18452 default_server; }\n}\n"
    )
    (finding,) = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX005"]}).findings
    assert "`a duplicate default server for 127.0.0.1:18452`" in finding.message  # nginx 1.22.1's words


def test_a_whole_port_range_stays_small(tmp_path: Path) -> None:
    """1-65535 is not 65535 sockets: only its first port and those others name."""
    text = (
        "events {}\nhttp {\n    server { listen 127.0.0.1:1-65535 default_server; }\n"
        "    server { listen 127.0.0.1:8443 default_server; }\n}\n"
    )
    (finding,) = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX005"]}).findings
    assert "127.0.0.1:8443" in finding.message


@pytest.mark.nginx
def test_nginx_refuses_the_port_range_duplicate(tmp_path: Path) -> None:
    """What the two tests above rest on: nginx binds each port of a range (1.22.1)."""
    from conftest import nginx_binary
    from nginx_harness import nginx_t

    nginx_binary()
    result = nginx_t(RANGE_STREAM)
    assert not result.ok
    assert 'duplicate "127.0.0.1:18451" address and port pair' in result.output, result.describe()
    http = (
        "events {}\nhttp {\n    server { listen 127.0.0.1:18450-18452 default_server; }\n"
        "    server { listen 127.0.0.1:18452 default_server; }\n}\n"
    )
    result = nginx_t(http)
    assert "a duplicate default server for 127.0.0.1:18452" in result.output, result.describe()


def test_overlapping_port_ranges_meet(tmp_path: Path) -> None:
    text = (
        "events {}\nhttp {\n    server { listen 127.0.0.1:18450-18452 default_server; }\n"
        "    server { listen 127.0.0.1:18452-18460 default_server; }\n}\n"
    )
    (finding,) = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX005"]}).findings
    assert "`a duplicate default server for 127.0.0.1:18452`" in finding.message


def test_a_port_range_without_an_address_is_on_every_address(tmp_path: Path) -> None:
    """`listen 18460-18462` is ports 18460 to 18462 on every address, as `listen 18461` is
    one (it was read as a host named 18460-18462 on port 80: no NGX005, a false label)."""
    text = (
        "events {}\nhttp {\n    server { listen 18460-18462 default_server; }\n"
        "    server { listen 18461 default_server; }\n}\n"
    )
    (finding,) = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX005"]}).findings
    assert "(the first is server[*:18460-18462])" in finding.message
    assert "`a duplicate default server for 0.0.0.0:18461`" in finding.message  # nginx 1.22.1's words
