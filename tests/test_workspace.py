"""The nginx workspace: sockets, default servers, TLS per socket, inheritance, file context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, codes

from tlslint.checks._session import effective_cache
from tlslint.workspace.nginx import HTTP, MAIN, SERVER, NginxConfig, Server, is_default, normalise_socket


def load(tmp_path: Path, text: str, name: str = "nginx.conf") -> NginxConfig:
    result = check_files(tmp_path, {name: text}, {"select": ["NGX0"]})
    # The fixtures leave certificates out, as short examples do (NGX006's refusal).
    assert [code for code in codes(result) if code != "NGX006"] == []
    (config,) = result.workspace.nginx
    return config


def by_name(config: NginxConfig) -> dict[str, Server]:
    return {server.names[0] if server.names else f"#{i}": server for i, server in enumerate(config.servers)}


# --- listen sockets ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "socket"),
    [
        ("443", "*:443"),
        ("*:443", "*:443"),
        ("0.0.0.0:443", "*:443"),
        ("[::]:443", "[::]:443"),
        ("127.0.0.1:8443", "127.0.0.1:8443"),
        ("[::1]:8443", "[::1]:8443"),
        ("unix:/run/nginx/tls.sock", "unix:/run/nginx/tls.sock"),
        ("127.0.0.1", "127.0.0.1:80"),
        ("0.0.0.0", "*:80"),
        ("*", "*:80"),
        ("[::]", "[::]:80"),
        ("8000", "*:8000"),
    ],
)
def test_listen_normalisation(address: str, socket: str) -> None:
    assert normalise_socket(address) == socket


def test_sockets_group_servers_as_nginx_pairs_them(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
http {
    server { server_name a; listen 443 ssl; }
    server { server_name b; listen 0.0.0.0:443; }
    server { server_name c; listen *:443; listen [::]:443 ssl; }
    server { server_name d; listen 127.0.0.1:443; }
    server { server_name e; listen unix:/run/e.sock ssl; }
    server { server_name f; }
}
""",
    )
    groups = {socket: [s.names[0] for s in servers] for socket, servers in config.groups.items()}
    assert groups == {
        "*:443": ["a", "b", "c"],
        "[::]:443": ["c"],
        "127.0.0.1:443": ["d"],
        "unix:/run/e.sock": ["e"],
        "*:80": ["f"],  # no listen: nginx's default *:80
    }


def test_listen_flags(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "http {\n    server {\n        listen [::]:443 ssl http2 default_server ipv6only=on;\n"
        "        listen 8443 default;\n    }\n}\n",
    )
    first, second = config.servers[0].listens
    assert (first.socket, first.ssl, first.http2, first.default) == ("[::]:443", True, True, True)
    assert (second.socket, second.ssl, second.http2, second.default) == ("*:8443", False, False, True)
    assert first.directive is not None and first.directive.line == 3


# --- default servers -----------------------------------------------------------------


def test_first_server_is_the_default_without_default_server(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "http {\n"
        "    server { server_name one; listen 443 ssl; }\n"
        "    server { server_name two; listen 443 ssl; }\n"
        "}\n",
    )
    servers = by_name(config)
    assert config.default_server("*:443") is servers["one"]
    assert servers["one"].default_for == ["*:443"]
    assert servers["two"].default_for == []
    assert is_default(servers["one"]) and not is_default(servers["two"])


def test_explicit_default_server_wins_over_order(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
http {
    server { server_name one; listen 443 ssl; listen [::]:443 ssl default_server; }
    server { server_name two; listen 0.0.0.0:443 ssl default_server; listen [::]:443 ssl; }
    server { server_name three; listen 443 ssl; }
}
""",
    )
    servers = by_name(config)
    assert config.default_server("*:443") is servers["two"]
    assert config.default_server("[::]:443") is servers["one"]
    assert servers["one"].default_for == ["[::]:443"]
    assert servers["two"].default_for == ["*:443"]
    assert not is_default(servers["three"])
    assert config.default_server("*:80") is None


def test_default_server_decides_resumption_for_its_vhosts(tmp_path: Path) -> None:
    # facts §1: the default server's cache is used for every vhost on its socket.
    text = """\
http {
    server { listen 443 ssl default_server; ssl_session_cache shared:SSL:10m; }
    server { listen 443 ssl; server_name api.example.com; }
}
"""
    assert codes(check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX101"]})) == []
    swapped = text.replace("ssl default_server;", "ssl;").replace(
        "listen 443 ssl; server_name", "listen 443 ssl default_server; server_name"
    )
    result = check_files(tmp_path, {"nginx.conf": swapped}, {"select": ["NGX101", "NGX107"]})
    # The vhost's own cache is never used (NGX107); the default server has none (NGX101).
    assert sorted((f.code, f.location.line) for f in result.findings) == [("NGX101", 3), ("NGX107", 2)]


# --- TLS per socket --------------------------------------------------------------------


def test_tls_flag_is_merged_per_socket(tmp_path: Path) -> None:
    # facts §4: `listen X ssl` in one server and `listen X` in another: both are TLS.
    config = load(
        tmp_path,
        """\
http {
    server { server_name plain; listen 0.0.0.0:443; }
    server { server_name tls; listen 443 ssl; }
    server { server_name v6; listen [::]:443; }
    server { server_name other; listen 80; }
}
""",
    )
    servers = by_name(config)
    assert config.tls_sockets == {"*:443"}
    assert servers["plain"].tls and servers["tls"].tls
    assert not servers["v6"].tls  # [::]:443 is another socket
    assert not servers["other"].tls


def test_legacy_ssl_on(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
http {
    server { server_name legacy; listen 443; ssl on; }
    server { server_name off; listen 8443; ssl off; }
}
""",
    )
    servers = by_name(config)
    assert servers["legacy"].ssl_on is not None and servers["legacy"].tls
    assert "*:443" in config.tls_sockets
    assert servers["off"].ssl_on is None and not servers["off"].tls


# --- inheritance -------------------------------------------------------------------------


def test_server_inherits_http_settings(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
http {
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets off;
    server { server_name inherits; listen 443 ssl; }
    server { server_name own; listen 8443 ssl; ssl_session_tickets on; }
}
""",
    )
    servers = by_name(config)
    tickets = servers["inherits"].effective("ssl_session_tickets")
    assert tickets is not None and tickets.args == ("off",) and tickets.line == 3
    own = servers["own"].effective("ssl_session_tickets")
    assert own is not None and own.args == ("on",) and own.line == 5
    cache = effective_cache(servers["inherits"])
    assert cache.present and cache.shared is not None and cache.shared.name == "SSL"


@pytest.mark.parametrize(
    ("server_cache", "present", "builtin", "shared"),
    [
        ("", True, False, "SSL"),  # inherited from http
        ("ssl_session_cache builtin:1000;", True, True, "SSL"),  # builtin + inherited shared (30/30)
        ("ssl_session_cache shared:OWN:10m;", True, False, "OWN"),
        ("ssl_session_cache builtin shared:OWN:10m;", True, True, "OWN"),
        ("ssl_session_cache none;", False, False, None),  # 0/30
        ("ssl_session_cache off;", False, False, None),
    ],
)
def test_session_cache_inheritance(
    tmp_path: Path, server_cache: str, present: bool, builtin: bool, shared: str | None
) -> None:
    config = load(
        tmp_path,
        "http {\n"
        "    ssl_session_cache shared:SSL:10m;\n"
        f"    server {{ listen 443 ssl; {server_cache} }}\n"
        "}\n",
    )
    cache = effective_cache(config.servers[0])
    assert (cache.present, cache.builtin) == (present, builtin)
    assert (cache.shared.name if cache.shared else None) == shared


def test_builtin_with_inherited_shared_is_not_reported(tmp_path: Path) -> None:
    text = (
        "http {\n"
        "    ssl_session_cache shared:SSL:10m;\n"
        "    server { listen 443 ssl; ssl_session_cache builtin:1000; }\n"
        "}\n"
    )
    assert codes(check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX101", "NGX102"]})) == []
    alone = text.replace("    ssl_session_cache shared:SSL:10m;\n", "")
    assert codes(check_files(tmp_path, {"nginx.conf": alone}, {"select": ["NGX101", "NGX102"]})) == ["NGX102"]


def test_inheritance_through_an_include(tmp_path: Path) -> None:
    result = check_files(
        tmp_path,
        {
            "nginx.conf": "events {}\nhttp {\n    include tls/session.conf;\n    include sites/*.conf;\n}\n",
            "tls/session.conf": "ssl_certificate /etc/ssl/a.pem;\nssl_certificate_key /etc/ssl/a.key;\n"
            "ssl_session_cache shared:SSL:10m;\n",
            "sites/a.conf": "server {\n    listen 443 ssl;\n}\n",
        },
        {"select": ["NGX0", "NGX101"]},
    )
    assert codes(result) == []
    (config,) = result.workspace.nginx
    cache = effective_cache(config.servers[0])
    assert cache.directive is not None and cache.directive.path.name == "session.conf"


# --- the context of a file checked on its own --------------------------------------------


@pytest.mark.parametrize(
    ("text", "context"),
    [
        ("events {}\nhttp {\n    server { listen 80; }\n}\n", MAIN),
        ("user www-data;\nworker_processes auto;\n", MAIN),
        ("server {\n    listen 443 ssl;\n}\n", HTTP),
        ("upstream app {\n    server 127.0.0.1:8000;\n}\n", HTTP),
        ("map $http_upgrade $connection_upgrade {\n    default upgrade;\n}\n", HTTP),
        ("include conf.d/*.conf;\n", HTTP),
        ("ssl_session_cache shared:SSL:10m;\nssl_session_tickets off;\n", SERVER),
        ("location / {\n    proxy_pass http://app;\n}\n", SERVER),
    ],
)
def test_context_of_a_snippet(tmp_path: Path, text: str, context: str) -> None:
    (tmp_path / "conf.d").mkdir()
    assert load(tmp_path, text, name="snippet.conf").context == context


def test_server_snippet_is_one_default_tls_server(tmp_path: Path) -> None:
    config = load(tmp_path, "listen 443 ssl;\nssl_session_timeout 1d;\n", name="server-tls.conf")
    (server,) = config.servers
    assert config.context == SERVER
    assert server.synthetic and server.tls
    # With a listen, the snippet's own server is grouped like any other.
    assert config.default_server("*:443") is server

    bare = load(tmp_path / "x", "ssl_session_cache shared:SSL:10m;\n", name="ssl.conf")
    (server,) = bare.servers
    assert server.synthetic and server.tls and server.listens == []
    assert is_default(server)  # its includer is unknown: treated as deciding its sessions


def test_plain_server_snippet_is_not_tls(tmp_path: Path) -> None:
    config = load(tmp_path, "location / {\n    root /srv;\n}\n", name="static.conf")
    (server,) = config.servers
    assert server.synthetic and not server.tls


def test_http_snippet_servers_have_no_http_block(tmp_path: Path) -> None:
    config = load(tmp_path, "server { listen 443 ssl; }\nserver { listen 80; }\n", name="sites.conf")
    assert config.context == HTTP
    assert [s.listens[0].socket for s in config.servers] == ["*:443", "*:80"]
    assert all(s.http is config.top for s in config.servers)
    assert all(not s.synthetic for s in config.servers)


def test_per_config_computes_once_per_configuration_and_arguments(tmp_path: Path) -> None:
    from tlslint.workspace.nginx import per_config

    calls: list[tuple[int, str]] = []

    @per_config
    def names(config: NginxConfig, name: str) -> list[str]:
        calls.append((id(config), name))
        return [server.block.directive.name for server in config.servers if server.block.directive and name]

    result = check_files(
        tmp_path, {"nginx.conf": "http {\n    server {\n        listen 443 ssl;\n    }\n}\n"}
    )
    (config,) = result.workspace.nginx
    first = names(config, "a")
    assert names(config, "a") is first  # the same object: computed once
    assert names(config, "b") is not first
    assert calls == [(id(config), "a"), (id(config), "b")]


def test_zone_lines_are_read_in_text_order_past_blocks_without_any(tmp_path: Path) -> None:
    """``_in_text_order`` skips blocks with no zone line below them (most of a
    configuration): the lines it reads are still those of every block, in text order."""
    from tlslint.checks._placement import _ZONE_DIRECTIVES, _in_text_order

    (tmp_path / "zones.conf").write_text("limit_req_zone $a zone=INC:1m rate=1r/s;\n")
    config = load(
        tmp_path,
        "events {}\nhttp {\n  ssl_session_cache shared:A:1m;\n"
        "  server { listen 443 ssl; location / { root /x; } ssl_session_cache shared:B:1m; }\n"
        "  upstream u { server 127.0.0.1; zone U 64k; }\n  include zones.conf;\n"
        "  server { listen 80; location / { root /y; } }\n  ssl_ocsp_cache shared:C:1m;\n}\n",
    )

    def every(block: Any) -> Iterator[tuple[Any, Any]]:  # the long way: every line, recursively
        inner = {id(b.directive): b for b in block.blocks}
        for directive in block.children:
            yield block, directive
            if id(directive) in inner:
                yield from every(inner[id(directive)])

    expected = [(b, d) for b, d in every(config.top) if d.name in _ZONE_DIRECTIVES]
    found = list(_in_text_order(config.top, _ZONE_DIRECTIVES))
    assert [d.args[0] for _, d in found] == ["shared:A:1m", "shared:B:1m", "U", "$a", "shared:C:1m"]
    assert [(id(b), id(d)) for b, d in found] == [(id(b), id(d)) for b, d in expected]


def test_a_servers_session_cache_is_read_once(tmp_path: Path) -> None:
    config = load(tmp_path, "http {\n  ssl_session_cache shared:A:1m;\n  server { listen 443 ssl; }\n}\n")
    server = config.servers[0]
    assert effective_cache(server) is effective_cache(server)
    assert effective_cache(server).shared is not None and effective_cache(server).shared.name == "A"
