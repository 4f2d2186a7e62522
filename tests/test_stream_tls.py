"""TLS servers of stream{} (MQTT, Postgres, generic TCP proxies): the workspace knows them
apart from http's servers, and the session and protocol rules judge them."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import check_files, codes

from tlslint.checks._session import effective_cache, ticket_keys
from tlslint.findings import Finding
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
    # The http server leaves its certificate out, as short examples do (NGX006's refusal).
    assert [code for code in codes(result) if code != "NGX006"] == []
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


# --- the session rules judge stream TLS servers ---------------------------------------

MQTT = """\
events {}
http {
    ssl_session_cache shared:SSL:10m;
    server {
        listen 443 ssl;
        ssl_certificate     /etc/ssl/example.com.pem;
        ssl_certificate_key /etc/ssl/example.com.key;
    }
}
stream {
    server {
        listen 8883 ssl;
        ssl_certificate     /etc/ssl/mqtt.pem;
        ssl_certificate_key /etc/ssl/mqtt.key;
        proxy_pass 127.0.0.1:1883;
    }
    server {
        listen 5432 ssl;
        ssl_session_cache builtin:1000;
        ssl_certificate     /etc/ssl/pg.pem;
        ssl_certificate_key /etc/ssl/pg.key;
        proxy_pass 127.0.0.1:5433;
    }
    server {
        listen 6432 ssl;
        ssl_session_cache shared:PG:10m;
        ssl_certificate     /etc/ssl/pg.pem;
        ssl_certificate_key /etc/ssl/pg.key;
        proxy_pass 127.0.0.1:5433;
    }
}
"""


def _messages(tmp_path: Path, text: str, select: list[str], version: str = "1.24.0") -> dict[str, list[str]]:
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": select, "nginx": {"version": version}})
    found: dict[str, list[str]] = {}
    for finding in result.findings:
        found.setdefault(finding.code, []).append(finding.message)
    return found


def test_session_rules_name_stream_servers(tmp_path: Path) -> None:
    found = _messages(tmp_path, MQTT, ["NGX101", "NGX102", "NGX105", "NGX108"])
    (missing,) = found["NGX101"]
    assert missing.startswith("TLS stream server[*:8883] has no session cache")
    (builtin,) = found["NGX102"]
    assert builtin.startswith("ssl_session_cache builtin:1000 of the stream server[*:5432] is per worker")
    tickets = found["NGX105"]
    assert [m.split(", which")[0] for m in tickets] == [
        "session tickets on *:8883 are encrypted with the keys of the default server stream server[*:8883]",
        "session tickets on *:5432 are encrypted with the keys of the default server stream server[*:5432]",
    ]  # *:6432 has a shared cache, which keeps and rotates the keys from 1.23.2 (as http's *:443)
    # http{}'s shared cache is not the stream servers' (nor its default servers theirs).
    assert not any("server[*:443]" in message for messages in found.values() for message in messages)
    # The zone of stream server[*:6432] is its default server's: in use.
    assert "NGX108" not in found
    # The same version rule as http's: before 1.23.2 a shared cache keeps no ticket keys.
    old = _messages(tmp_path, MQTT, ["NGX105"], version="1.22.1")["NGX105"]
    said = "stream server[*:6432], which has no ssl_session_ticket_key: nginx.version 1.22.1 keeps no"
    assert sum(said in message for message in old) == 1


def test_stream_fixes_go_to_stream_with_a_zone_of_their_own(tmp_path: Path) -> None:
    from helpers import fix

    text = MQTT.replace("    ssl_session_cache shared:SSL:10m;\n", "", 1)
    select = {"select": ["NGX101", "NGX102", "NGX105", "NGX108"]}
    fixed = fix(tmp_path, {"nginx.conf": text}, select, unsafe=True)
    after = fixed["nginx.conf"].decode()
    http, stream = after.split("stream {")
    assert "ssl_session_cache shared:SSL:10m;" in http
    assert stream.startswith("\n    ssl_session_cache shared:STREAM_SSL:10m;\n    server {\n")
    assert "ssl_session_cache shared:STREAM_SSL:10m;\n        ssl_certificate     /etc/ssl/pg.pem;" in stream
    assert "shared:PG:10m" in stream  # used by its default server: kept
    result = _nginx_t(after)
    assert result.ok, result.describe()


def _nginx_t(text: str):  # type: ignore[no-untyped-def]
    import nginx_harness

    return nginx_harness.nginx_t(text)


def test_harness_loads_the_stream_module(tmp_path: Path) -> None:
    result = _nginx_t(MQTT)
    assert result.ok, result.describe()
    clash = _nginx_t(MQTT.replace("builtin:1000", "shared:SSL:10m"))
    assert not clash.ok
    assert 'the shared memory zone "SSL" is already declared for a different use' in clash.output


def test_protocol_rules_judge_stream_servers_by_stream_lines(tmp_path: Path) -> None:
    found = _messages(tmp_path, MQTT.replace("http {", "http {\n    ssl_protocols TLSv1.2 TLSv1.3;"),
                      ["NGX302", "NGX303"], version="1.22.1")  # fmt: skip
    # http{}'s line covers http's server only; stream{}'s servers have nginx 1.22.1's default.
    for code, says in (("NGX302", "lacks TLSv1.3"), ("NGX303", "enables TLSv1 and TLSv1.1")):
        (message,) = found[code]
        assert message.startswith("nginx 1.22.1's default ssl_protocols"), message
        assert says in message
        assert "TLS stream server[*:8883], stream server[*:5432], stream server[*:6432]" in message
    # On 1.27.3 and later the default is TLSv1.2 TLSv1.3 for stream as for http.
    assert _messages(tmp_path, MQTT, ["NGX302", "NGX303"], version="1.28.0") == {}


# --- NGX103 and NGX104 on stream{} ----------------------------------------------------

SMALL_STREAM = """\
events {}
http {
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1d;
    server {
        listen 443 ssl;
        ssl_certificate     /etc/ssl/example.com.pem;
        ssl_certificate_key /etc/ssl/example.com.key;
    }
}
stream {
    ssl_session_cache shared:MQTT:1m;
    ssl_session_timeout 30s;
    server {
        listen 8883 ssl;
        ssl_certificate     /etc/ssl/mqtt.pem;
        ssl_certificate_key /etc/ssl/mqtt.key;
        proxy_pass 127.0.0.1:1883;
    }
    server {
        listen 5432 ssl;
        ssl_session_timeout 2d;
        ssl_certificate     /etc/ssl/pg.pem;
        ssl_certificate_key /etc/ssl/pg.key;
        proxy_pass 127.0.0.1:5433;
    }
}
"""


def test_cache_size_and_timeout_name_the_stream_servers(tmp_path: Path) -> None:
    found = _messages(tmp_path, SMALL_STREAM, ["NGX103", "NGX104"])
    (small,) = found["NGX103"]
    assert small.startswith(
        'shared session cache "MQTT" of the stream server[*:8883], stream server[*:5432] is 1m'
    )
    short, long = found["NGX104"]
    assert short.startswith("ssl_session_timeout 30s of the stream server[*:8883] is below the minimum 5m")
    assert long.startswith("ssl_session_timeout 2d of the stream server[*:5432] is above the maximum 1d")
    # http{}'s lines are judged as before, naming no server.
    http = _messages(tmp_path, SMALL_STREAM.replace("1d;", "1m;", 1), ["NGX104"])["NGX104"]
    assert http[0].startswith("ssl_session_timeout 1m is below")


def test_cache_size_and_timeout_fixes_stay_in_stream(tmp_path: Path) -> None:
    from helpers import fix

    fixed = fix(tmp_path, {"nginx.conf": SMALL_STREAM}, {"select": ["NGX103", "NGX104"]}, unsafe=True)
    after = fixed["nginx.conf"].decode()
    assert after == (
        SMALL_STREAM.replace("MQTT:1m", "MQTT:10m").replace("30s", "5m").replace("timeout 2d", "timeout 1d")
    )
    assert _messages(tmp_path, after, ["NGX103", "NGX104"]) == {}  # a second --fix changes nothing
    result = _nginx_t(after)
    assert result.ok and not result.errors, result.describe()


def test_a_small_zone_only_a_virtual_stream_server_names_is_left_to_ngx108(tmp_path: Path) -> None:
    """Only the default server's cache resumes sessions (stream's as http's): raising the
    zone of a stream server that is not its socket's default would allocate for nothing."""
    server = (
        "    server {{\n        listen 5432 ssl;\n        server_name {name};\n"
        "        ssl_session_cache shared:{zone};\n        ssl_certificate     /etc/ssl/pg.pem;\n"
        "        ssl_certificate_key /etc/ssl/pg.key;\n        proxy_pass 127.0.0.1:5433;\n    }}\n"
    )
    text = "events {}\nstream {\n" + server.format(name="a.example", zone="A:10m")
    text += server.format(name="b.example", zone="B:1m") + "}\n"
    found = _messages(tmp_path, text, ["NGX103", "NGX108"], version="1.26.0")
    assert list(found) == ["NGX108"] and found["NGX108"][0].startswith('shared session cache "B" (1m)')
    # The default server's own small zone is NGX103's.
    found = _messages(tmp_path, text.replace("A:10m", "A:1m"), ["NGX103"], version="1.26.0")
    assert found["NGX103"][0].startswith('shared session cache "A" of the stream server[a.example@*:5432]')


# --- NGX106, NGX107 and NGX108 on stream{} -------------------------------------------

# An MQTT port with two virtual servers (nginx >= 1.25.5: server_name in stream): the
# catch-all default server rejects handshakes and has no cache; the virtual server's own.
STREAM_VHOSTS = """\
events {}
stream {
    server {
        listen 8883 ssl default_server;
        ssl_reject_handshake on;
        proxy_pass 127.0.0.1:1883;
    }
    server {
        listen 8883 ssl;
        server_name mqtt.example.com;
        ssl_session_cache shared:MQTT:10m;
        ssl_certificate     /etc/ssl/mqtt.pem;
        ssl_certificate_key /etc/ssl/mqtt.key;
        proxy_pass 127.0.0.1:1883;
    }
}
"""


def test_a_virtual_stream_servers_cache_is_not_used(tmp_path: Path) -> None:
    found = _messages(tmp_path, STREAM_VHOSTS, ["NGX107", "NGX108"], version="1.26.0")
    (unused,) = found["NGX107"]
    assert unused == (
        "ssl_session_cache here is not used: sessions on *:8883 are resumed in the context of its "
        "default server stream server[*:8883], which has no session cache; move the setting to "
        "stream{} or onto the default server"
    )
    (zone,) = found["NGX108"]
    assert zone.startswith(
        'shared session cache "MQTT" (10m) of the stream server[mqtt.example.com@*:8883] is used '
        "by no stream TLS default server"
    )


def test_stream_default_servers_are_judged_only_where_the_version_has_them(tmp_path: Path) -> None:
    """Before 1.25.5 a stream address:port has one server: a second is refused, so no
    stream server is another's virtual server, and the rules say nothing of one."""
    select = ["NGX103", "NGX107", "NGX108"]
    assert _messages(tmp_path, STREAM_VHOSTS, select, version="1.22.1") == {}
    # Without a version, server_name in stream proves >= 1.25.5 (version inference) ...
    result = check_files(tmp_path, {"nginx.conf": STREAM_VHOSTS}, {"select": select})
    assert sorted(codes(result)) == ["NGX107", "NGX108"]
    # ... and without it (nor default_server or ssl_reject_handshake, also 1.25.5's) nothing
    # tells: nginx 1.22 refuses the shared port, 1.26 has a default server; silence.
    plain = (
        STREAM_VHOSTS.replace("        server_name mqtt.example.com;\n", "")
        .replace(" default_server", "")
        .replace("        ssl_reject_handshake on;\n", "        ssl_certificate     /etc/ssl/d.pem;\n"
                 "        ssl_certificate_key /etc/ssl/d.key;\n")
    )  # fmt: skip
    result = check_files(tmp_path, {"nginx.conf": plain}, {"select": select})
    assert codes(result) == []
    assert sorted(_messages(tmp_path, plain, select, version="1.26.0")) == ["NGX107", "NGX108"]


def test_ngx107_moves_a_stream_cache_to_stream(tmp_path: Path) -> None:
    from helpers import fix

    select = {"select": ["NGX107", "NGX108"], "nginx": {"version": "1.26.0"}}
    after = fix(tmp_path, {"nginx.conf": STREAM_VHOSTS}, select)["nginx.conf"].decode()
    assert after == _moved(STREAM_VHOSTS)
    assert _messages(tmp_path, after, ["NGX101", "NGX107", "NGX108"], version="1.26.0") == {}
    # The line moved into stream{} is valid there on the installed nginx (1.22.1): with
    # the 1.25.5-only lines left out and the virtual server on a port of its own.
    older = (
        after.replace("        server_name mqtt.example.com;\n", "")
        .replace("listen 8883 ssl default_server;", "listen 8884 ssl;")
        .replace("        ssl_reject_handshake on;\n", "        ssl_certificate     /etc/ssl/d.pem;\n"
                 "        ssl_certificate_key /etc/ssl/d.key;\n")
    )  # fmt: skip
    assert "ssl_session_cache shared:MQTT:10m;" in older
    result = _nginx_t(older)
    assert result.ok and not result.errors, result.describe()


def test_ngx107_moves_a_stream_virtual_servers_ticket_keys_to_stream(tmp_path: Path) -> None:
    from helpers import fix

    keys = STREAM_VHOSTS.replace(
        "        ssl_session_cache shared:MQTT:10m;\n",
        "        ssl_session_ticket_key /etc/nginx/new.key;\n"
        "        ssl_session_ticket_key /etc/nginx/old.key;\n",
    )
    (message,) = _messages(tmp_path, keys, ["NGX107"], version="1.26.0")["NGX107"]
    assert message.startswith("ssl_session_ticket_key here is not used: sessions on *:8883")
    assert "which has no ticket key; move the setting to stream{}" in message
    after = fix(tmp_path, {"nginx.conf": keys}, {"select": ["NGX107"], "nginx": {"version": "1.26.0"}})
    text = after["nginx.conf"].decode()
    assert text.startswith(
        "events {}\nstream {\n    ssl_session_ticket_key /etc/nginx/new.key;\n"
        "    ssl_session_ticket_key /etc/nginx/old.key;\n    server {\n"
    )
    assert text.count("ssl_session_ticket_key") == 2


def _moved(text: str) -> str:
    """STREAM_VHOSTS as NGX107 fixes it: the cache line moves up into stream{}."""
    without = text.replace("        ssl_session_cache shared:MQTT:10m;\n", "")
    return without.replace("stream {\n", "stream {\n    ssl_session_cache shared:MQTT:10m;\n", 1)


def test_a_stream_servers_own_cache_on_its_own_port_is_used(tmp_path: Path) -> None:
    """Near miss: two stream servers, each with its own cache, each alone on its port (as
    every stream server is before 1.25.5): each is its socket's default server."""
    text = MQTT.replace("shared:PG:10m", "shared:PG:10m;\n        ssl_session_ticket_key /etc/nginx/pg.key")
    assert _messages(tmp_path, text, ["NGX107", "NGX108"], version="1.22.1") == {}
    assert _messages(tmp_path, text, ["NGX107", "NGX108"], version="1.26.0") == {}


OVERRIDDEN = """\
events {}
stream {
    ssl_session_cache shared:STREAM_SSL:10m;
    server {
        listen 8883 ssl;
        ssl_session_cache shared:MQTT:10m;
        ssl_certificate     /etc/ssl/mqtt.pem;
        ssl_certificate_key /etc/ssl/mqtt.key;
        proxy_pass 127.0.0.1:1883;
    }
    server {
        listen 5432 ssl;
        ssl_session_cache shared:PG:10m;
        ssl_certificate     /etc/ssl/pg.pem;
        ssl_certificate_key /etc/ssl/pg.key;
        proxy_pass 127.0.0.1:5433;
    }
}
"""


def test_a_stream_zone_every_stream_server_overrides_is_unused(tmp_path: Path) -> None:
    found = _messages(tmp_path, OVERRIDDEN, ["NGX103", "NGX108"], version="1.22.1")
    (unused,) = found["NGX108"]
    assert unused.startswith(
        'shared session cache "STREAM_SSL" (10m) in stream{} is used by no stream TLS default server'
    )
    assert "NGX103" not in found
    # Too small and unused: NGX108's (removed), not NGX103's (raised for nothing).
    small = OVERRIDDEN.replace("STREAM_SSL:10m", "STREAM_SSL:1m")
    assert list(_messages(tmp_path, small, ["NGX103", "NGX108"], version="1.22.1")) == ["NGX108"]
    from helpers import fix

    after = fix(tmp_path, {"nginx.conf": OVERRIDDEN}, {"select": ["NGX108"]}, unsafe=True)
    text = after["nginx.conf"].decode()
    assert text == OVERRIDDEN.replace("    ssl_session_cache shared:STREAM_SSL:10m;\n", "")
    result = _nginx_t(text)
    assert result.ok and not result.errors, result.describe()


def test_a_stream_zone_a_stream_default_server_inherits_is_used(tmp_path: Path) -> None:
    """Near miss: the PG server overrides stream{}'s zone, the MQTT server inherits it."""
    text = OVERRIDDEN.replace("        ssl_session_cache shared:MQTT:10m;\n", "")
    assert _messages(tmp_path, text, ["NGX108"], version="1.22.1") == {}


def test_http_and_stream_zones_are_apart(tmp_path: Path) -> None:
    """An http zone is used only by http's default servers, a stream zone by stream's;
    one name in both is nginx's 'already declared for a different use' (NGX106)."""
    text = MQTT.replace("shared:PG:10m", "shared:SSL:10m")
    found = _messages(tmp_path, text, ["NGX106", "NGX108"], version="1.22.1")
    (clash,) = found["NGX106"]
    assert clash == (
        'the shared memory zone "SSL" is already declared for a different use '
        "(ssl_session_cache in http{}); nginx refuses to start"
    )
    assert "NGX108" not in found  # each is its own module's default server's zone
    assert not _nginx_t(text).ok
    # stream's limit_conn_zone is another module's than http's (measured: nginx refuses).
    limits = MQTT.replace("http {\n", "http {\n    limit_conn_zone $binary_remote_addr zone=CONN:10m;\n")
    limits = limits.replace("stream {\n", "stream {\n    limit_conn_zone $binary_remote_addr zone=CONN:1m;\n")
    (conflict,) = _messages(tmp_path, limits, ["NGX106"], version="1.22.1")["NGX106"]
    assert "(limit_conn_zone in http{})" in conflict
    said = _nginx_t(limits)
    assert 'the shared memory zone "CONN" is already declared for a different use' in said.output


def test_stream_zone_sizes_conflict_as_http_ones(tmp_path: Path) -> None:
    two = OVERRIDDEN.replace("shared:PG:10m", "shared:MQTT:20m")
    (conflict,) = _messages(tmp_path, two, ["NGX106"], version="1.22.1")["NGX106"]
    said = 'the size 20971520 of shared memory zone "MQTT" conflicts with the size 10485760'
    assert conflict.startswith(said)
    assert "conflicts with already declared size 10485760" in _nginx_t(two).output
    # Near miss: two stream servers share one zone at one size, written two ways.
    same = OVERRIDDEN.replace("shared:PG:10m", "shared:MQTT:10240k")
    assert _messages(tmp_path, same, ["NGX106"], version="1.22.1") == {}
    assert _nginx_t(same).ok


# --- NGX401 on stream{} ---------------------------------------------------------------

# The stream log module's documented example format: no TLS variables.
BASIC = (
    "log_format basic '$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received "
    "$session_time';"
)
TLS_FORMAT = (
    "log_format tls '$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received '\n"
    "                   '$session_time $ssl_protocol $ssl_cipher $ssl_session_reused';"
)


def _stream_logs(lines: str, server_lines: str = "") -> str:
    return MQTT.replace("stream {\n", "stream {\n    " + lines + "\n", 1).replace(
        "        listen 8883 ssl;\n", "        listen 8883 ssl;\n" + server_lines, 1
    )


def test_stream_servers_logging_by_stream_lines(tmp_path: Path) -> None:
    text = _stream_logs(BASIC + "\n    access_log /var/log/nginx/stream.log basic;")
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX401"]})
    (finding,) = [f for f in result.findings if f.anchor == "stream > access_log"]
    assert finding.message == (
        "3 TLS servers (stream server[*:8883], stream server[*:5432], stream server[*:6432]) log with "
        "format basic (set in stream), which has no $ssl_session_reused and no $ssl_protocol: full "
        "handshakes cannot be counted"
    )
    assert [r.message for r in finding.related] == [
        "TLS stream server[*:8883]", "TLS stream server[*:5432]", "TLS stream server[*:6432]",
    ]  # fmt: skip
    # http{}'s server is judged by http{}'s lines (none: combined), apart.
    assert [f.anchor for f in result.findings if f is not finding] == ["http > server[443] > access_log"]
    assert _nginx_t(text).ok


def test_stream_formats_are_streams_own(tmp_path: Path) -> None:
    """A stream server with a format that has both variables is fine; one with its own
    line overrides stream{}'s; http{}'s format names are not stream's (nginx refuses
    them: not judged), nor is a line without a format (stream has no combined)."""
    good = _stream_logs(TLS_FORMAT + "\n    access_log /var/log/nginx/stream.log tls;")
    assert _messages(tmp_path, good, ["NGX401"]).get("NGX401", []) == [
        "TLS server[*:443]: no access_log is set, so nginx logs in the combined format, which has "
        "neither $ssl_protocol nor $ssl_session_reused: full handshakes cannot be counted"
    ]
    assert _nginx_t(good).ok
    own = _stream_logs(
        TLS_FORMAT + "\n    " + BASIC + "\n    access_log /var/log/nginx/stream.log tls;",
        "        access_log /var/log/nginx/mqtt.log basic;\n",
    )
    stream = [m for m in _messages(tmp_path, own, ["NGX401"])["NGX401"] if "stream" in m]
    assert stream == [
        "TLS stream server[*:8883] logs with format basic, which has no $ssl_session_reused and no "
        "$ssl_protocol: full handshakes cannot be counted"
    ]
    assert _nginx_t(own).ok
    http_format = "log_format tls '$remote_addr $ssl_protocol $ssl_cipher $ssl_session_reused';"
    http_name = MQTT.replace("http {\n", "http {\n    " + http_format + "\n", 1)
    http_name = http_name.replace("stream {\n", "stream {\n    access_log /var/log/nginx/stream.log tls;\n")
    assert not [m for m in _messages(tmp_path, http_name, ["NGX401"])["NGX401"] if "stream" in m]
    assert 'unknown log format "tls"' in _nginx_t(http_name).output


def test_a_stream_server_without_access_log_logs_nothing(tmp_path: Path) -> None:
    """Near miss: no access_log in stream{} looks like http's 'nginx logs in combined', but
    stream's default is access_log off: there is no log that lacks the variables."""
    found = _messages(tmp_path, MQTT, ["NGX401"])["NGX401"]
    assert found == [
        "TLS server[*:443]: no access_log is set, so nginx logs in the combined format, which has "
        "neither $ssl_protocol nor $ssl_session_reused: full handshakes cannot be counted"
    ]


def test_ngx401_page_stream_format_is_the_one_nginx_t_checks() -> None:
    """The stream log_format the rule page shows is the stream `good` example's, which
    tests/test_catalogue_nginx.py runs through nginx -t."""
    from tlslint import catalogue

    entry = catalogue.load_entries()["NGX401"]
    page = entry["fix"].split("```nginx\n")[2].split("```", 1)[0]
    shown = [line.strip() for line in page.splitlines() if line.strip()]
    assert shown[0].startswith("log_format tls '$remote_addr [$time_local] $protocol")
    good = next(e["good"] for e in entry["examples"] if "good" in e and "stream.log tls" in e["good"])
    assert all(line in good for line in shown), shown


# --- stream servers sharing an address:port: refused before 1.25.5 -------------------

# Two stream servers on *:8883 (nginx refuses the second before 1.25.5; from 1.25.5 the
# first is the default server), and one on a port of its own (every release's default).
SHARED_PORT = """\
events {}
stream {
    server {
        listen 8883 ssl;
        ssl_certificate     /etc/ssl/mqtt.pem;
        ssl_certificate_key /etc/ssl/mqtt.key;
        proxy_pass 127.0.0.1:1883;
    }
    server {
        listen 8883 ssl;
        ssl_session_cache shared:MQTT:10m;
        ssl_session_ticket_key /etc/nginx/mqtt.key;
        ssl_certificate     /etc/ssl/mqtt2.pem;
        ssl_certificate_key /etc/ssl/mqtt2.key;
        proxy_pass 127.0.0.1:1884;
    }
    server {
        listen 5432 ssl;
        ssl_certificate     /etc/ssl/pg.pem;
        ssl_certificate_key /etc/ssl/pg.key;
        proxy_pass 127.0.0.1:5433;
    }
}
"""


def _found(tmp_path: Path, text: str, select: list[str], version: str | None) -> list[Finding]:
    mapping: dict[str, object] = {"select": select}
    if version is not None:
        mapping["nginx"] = {"version": version}
    return list(check_files(tmp_path, {"nginx.conf": text}, mapping).findings)


def test_session_rules_name_a_shared_stream_ports_default_only_from_1_25_5(tmp_path: Path) -> None:
    """NGX101 and NGX105 speak of the servers on *:8883 (whose default server resumes and
    encrypts for both) only on nginx known to be >= 1.25.5; the server alone on *:5432 is
    its port's default on every release, and judged on each."""
    select = ["NGX101", "NGX105"]
    new = _found(tmp_path, SHARED_PORT, select, "1.26.0")
    (missing,) = [f.message for f in new if f.code == "NGX101"]
    assert missing.startswith("stream{} sets no ssl_session_cache (nginx's default is none), so 2 TLS")
    (keys,) = [f.message for f in new if f.code == "NGX105"]
    assert "2 default servers (stream server[*:8883], stream server[*:5432])" in keys
    for version in (None, "1.22.1"):
        found = _found(tmp_path, SHARED_PORT, select, version)
        assert [f.code for f in found] == ["NGX101", "NGX105"], version
        missing, keys = (f.message for f in found)
        assert missing.startswith("TLS stream server[*:5432] has no session cache"), missing
        assert keys.startswith("session tickets on *:5432 are encrypted with the keys of the default "
                               "server stream server[*:5432]"), keys  # fmt: skip
        assert not any("8883" in f.message or f.location.line < 17 for f in found), version


def test_a_shared_stream_port_on_nginx_before_1_25_5_is_refused(tmp_path: Path) -> None:
    (refused,) = _found(tmp_path, SHARED_PORT, ["NGX004"], "1.22.1")
    assert refused.location.line == 10  # the second server's listen, where nginx stops
    assert refused.message == (
        "another stream server on *:8883 (the first is stream server[*:8883]): stream{} has several "
        "servers on one address:port (virtual servers) only from nginx 1.25.5, and nginx.version "
        '1.22.1 refuses to start (`duplicate "0.0.0.0:8883" address and port pair`); give each '
        "server an address:port of its own, or run nginx 1.25.5 or later and tell them apart by "
        "server_name"
    )
    (first,) = refused.related
    assert (first.location.line, first.message) == (4, "the first stream server on *:8883")
    assert refused.fix is None and refused.anchor == "stream > listen[*:8883]"
    said = _nginx_t(SHARED_PORT)
    assert said.errors[0].startswith('[emerg] duplicate "0.0.0.0:8883" address and port pair in '
                                     "$PREFIX/nginx.conf:10"), said.describe()  # fmt: skip
    # A version that may be 1.25.5 or later (unknown), or is: nothing to say.
    assert _found(tmp_path, SHARED_PORT, ["NGX004"], None) == []
    assert _found(tmp_path, SHARED_PORT, ["NGX004"], "1.26.0") == []
    # A line of the configuration that proves an older nginx decides it too, and is named.
    old = SHARED_PORT.replace("events {}\n", "events {}\nhttp {\n    server {\n        listen 443;\n"
                              "        ssl on;\n    }\n}\n")  # fmt: skip
    (inferred,) = [f for f in _found(tmp_path, old, ["NGX004"], None) if "stream" in f.message]
    assert "and nginx < 1.25.1 (inferred: `ssl on` at " in inferred.message
    assert "nginx.conf:5) refuses to start (`duplicate" in inferred.message


@pytest.mark.parametrize(
    ("first", "second", "said"),
    [
        ("5432", "*:5432", "0.0.0.0:5432"),
        ("0.0.0.0:5432", "5432", "0.0.0.0:5432"),
        ("127.0.0.1:5432", "127.0.0.1:5432", "127.0.0.1:5432"),
        ("[::1]:5432", "[0:0::1]:5432", "[::1]:5432"),  # one address, written two ways
        ("[::1]:5432", "[::1]:5432", "[::1]:5432"),
        ("5353 udp", "5353 udp", "0.0.0.0:5353"),
        ("*:5432", "127.0.0.1:5432", None),  # two address:port pairs: nginx accepts them
        ("5432 ssl", "5432 udp", None),  # TCP and UDP: two sockets
        # A name, in any case: nginx writes what it resolves to (here 127.0.0.1).
        ("localhost:5432", "LocalHost:5432", "ADDRESS:5432"),
        ("localhost:5432", "127.0.0.1:5432", None),  # a name and an address: not compared
    ],
)
def test_the_refused_address_is_written_as_nginx_writes_it(
    tmp_path: Path, first: str, second: str, said: str | None
) -> None:
    text = (
        "events {}\nstream {\n"
        f"    server {{\n        listen {first};\n        proxy_pass 127.0.0.1:1;\n    }}\n"
        f"    server {{\n        listen {second};\n        proxy_pass 127.0.0.1:2;\n    }}\n"
        "}\n"
    )
    found = _found(tmp_path, text, ["NGX004"], "1.22.1")
    nginx = _nginx_t(text)
    if said is None:
        assert found == []
        if "localhost" not in first:
            assert nginx.ok, nginx.describe()
        return
    (refused,) = found
    resolved = ", ADDRESS being what localhost resolves to" if said.startswith("ADDRESS:") else ""
    assert f'(`duplicate "{said}" address and port pair`{resolved})' in refused.message
    written = said.replace("ADDRESS", "127.0.0.1")
    assert nginx.errors[0].startswith(f'[emerg] duplicate "{written}" address and port pair'), (
        nginx.describe()
    )


# The stream forms of 1.27.4+ directives: dated as their http twins (nginx 1.22.1 refuses
# each with `unknown directive`), so NGX004 and the inference read them in stream{} too.
NEW_IN_STREAM = {
    "ssl_certificate_cache max=100;": (1, 27, 4),
    "proxy_ssl_certificate_cache max=100;": (1, 27, 4),
    "ssl_certificate_compression on;": (1, 29, 1),
    "ssl_ech_file /etc/ssl/ech.pem;": (1, 29, 4),
}
STREAM_SITE = """\
events {}
stream {
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:SSLS:10m;
    server {
        listen 127.0.0.1:15432 ssl;
        ssl_certificate     /etc/ssl/c.pem;
        ssl_certificate_key /etc/ssl/k.pem;
        LINE
        proxy_pass 127.0.0.1:5433;
    }
}
"""


@pytest.mark.parametrize("line", list(NEW_IN_STREAM))
def test_newer_stream_directives_bound_the_version(tmp_path: Path, line: str) -> None:
    text = STREAM_SITE.replace("LINE", line)
    name = line.split()[0]
    result = check_files(
        tmp_path, {"nginx.conf": text}, {"select": ["NGX004"], "nginx": {"version": "1.22.1"}}
    )
    (finding,) = result.findings
    assert finding.code == "NGX004" and f'unknown directive "{name}"' in finding.message
    assert f'unknown directive "{name}"' in _nginx_t(text).output  # as nginx 1.22.1 says
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX004"]})
    (config,) = result.workspace.nginx
    assert result.workspace.nginx_versions(config).low == NEW_IN_STREAM[line]
