"""TLS servers of stream{} (MQTT, Postgres, generic TCP proxies): the workspace knows them
apart from http's servers, and the session and protocol rules judge them."""

from __future__ import annotations

from pathlib import Path

from helpers import check_files, codes

from tlslint.checks._session import effective_cache, ticket_keys
from tlslint.workspace.nginx import NginxConfig, is_default, scopes

MQTT_AND_WEB = """\
events {}
http {
    ssl_session_cache shared:WEB:10m;
    server {
        listen 8883 ssl;
        server_name web.example.com;
    }
}
stream {
    ssl_session_timeout 1h;
    ssl_session_ticket_key /etc/nginx/ticket.key;
    server {
        listen 8883 ssl;
        listen 127.0.0.1:5432 ssl;
        ssl_certificate     /etc/ssl/mqtt.pem;
        ssl_certificate_key /etc/ssl/mqtt.key;
        proxy_pass 127.0.0.1:1883;
    }
    server {
        listen 127.0.0.1:5432;
        proxy_pass 127.0.0.1:5433;
    }
    server {
        listen 53 udp;
        proxy_pass 127.0.0.1:5353;
    }
}
"""


def load(tmp_path: Path, text: str) -> NginxConfig:
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX0"]})
    assert codes(result) == []
    (config,) = result.workspace.nginx
    return config


def test_stream_servers_are_apart_from_http_servers(tmp_path: Path) -> None:
    config = load(tmp_path, MQTT_AND_WEB)
    assert [server.label for server in config.servers] == ["server[web.example.com@*:8883]"]
    stream = config.stream
    assert stream is not None
    assert scopes(config) == (config, stream)
    assert [server.label for server in stream.servers] == [
        "stream server[*:8883,127.0.0.1:5432]",
        "stream server[127.0.0.1:5432]",
        "stream server[*:53/udp]",
    ]
    # Stream sockets are their own: *:8883 of stream{} is not http's *:8883.
    assert config.groups["*:8883"] == config.servers
    assert stream.groups["*:8883"] == stream.servers[:1]
    assert stream.tls_sockets == {"*:8883", "127.0.0.1:5432"}
    assert config.tls_sockets == {"*:8883"}


def test_stream_default_servers_and_inheritance(tmp_path: Path) -> None:
    stream = load(tmp_path, MQTT_AND_WEB).stream
    assert stream is not None
    mqtt, postgres, dns = stream.servers
    assert mqtt.tls and postgres.tls and not dns.tls  # postgres shares the TLS socket 127.0.0.1:5432
    assert stream.default_server("127.0.0.1:5432") is mqtt
    assert is_default(mqtt) and not is_default(postgres) and is_default(dns)
    # stream → server inheritance, never http's settings.
    assert mqtt.effective("ssl_session_timeout").args == ("1h",)  # type: ignore[union-attr]
    assert mqtt.effective("ssl_session_cache") is None
    assert not effective_cache(mqtt).present
    assert [line.args for line in ticket_keys(stream, postgres)] == [("/etc/nginx/ticket.key",)]


def test_no_stream_servers_no_stream_scope(tmp_path: Path) -> None:
    config = load(tmp_path, "events {}\nstream {\n    upstream b { server 127.0.0.1:1; }\n}\n")
    assert config.stream is None
    assert scopes(config) == (config,)
