"""The nginx -t harness against the real nginx: facts messages, environment adjustments, the corpus."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import nginx_harness
import pytest
from conftest import SHARED, nginx_binary, shared_path
from nginx_harness import HTTP, MAIN, SERVER, NginxTestResult, detect_kind, make_certificate, nginx_t

pytestmark = pytest.mark.nginx

HTTP_SNIPPET = """\
ssl_session_cache shared:SSL:10m;
ssl_session_timeout 1d;
server {
    listen 443 ssl;
    server_name example.com;
    ssl_certificate     /etc/ssl/example.com.pem;
    ssl_certificate_key /etc/ssl/example.com.key;
    location / {
        keepalive_timeout 65s 60s;
    }
}
"""


@pytest.fixture
def nginx() -> str:
    return nginx_binary()


def version_at_least(binary: str, *version: int) -> bool:
    return nginx_harness.nginx_version(binary) >= version


def error_lines(result: NginxTestResult) -> list[int]:
    return [int(m) for m in re.findall(r"in \$PREFIX/[^ ]+:(\d+)$", "\n".join(result.errors), re.M)]


# --------------------------------------------------------------------------- certificate


def test_certificate_is_made_once_and_copied(tmp_path: Path) -> None:
    first = make_certificate()
    assert first == make_certificate()
    cert, key = make_certificate(tmp_path / "copy")
    assert cert.read_bytes() == first[0].read_bytes() and key.read_bytes() == first[1].read_bytes()
    shown = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-noout", "-subject"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "tlslint.test" in shown.stdout


# --------------------------------------------------------------------------- kinds


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("events {}\nhttp {}\n", MAIN),
        ("http { server { listen 80; } }\n", MAIN),
        ("user www-data;\n", MAIN),
        ("server { listen 80; }\n", HTTP),
        ("upstream app { server 127.0.0.1:8000; }\n", HTTP),
        ("map $a $b { default 1; }\n", HTTP),
        ("include conf.d/*.conf;\n", HTTP),
        ("ssl_session_cache shared:SSL:10m;\n", SERVER),
        ("location / { return 204; }\n", SERVER),
        ('server_name "unterminated;\n', HTTP),  # what precedes a lexer error decides
    ],
)
def test_detect_kind(text: str, kind: str) -> None:
    assert detect_kind(text) == kind


# --------------------------------------------------------------------------- valid configurations


def test_valid_http_snippet_passes(nginx: str) -> None:
    result = nginx_t(HTTP_SNIPPET)
    assert result.ok, result.describe()
    assert result.kind == HTTP
    assert "syntax is ok" in result.output and "test is successful" in result.output
    assert not result.errors
    assert (
        "nginx.conf:6: ssl_certificate /etc/ssl/example.com.pem -> <test certificate>" in result.adjustments
    )
    assert "nginx.conf:7: ssl_certificate_key /etc/ssl/example.com.key -> <test key>" in result.adjustments
    assert not result.config_path.exists(), "the temporary prefix is removed"


def test_server_snippet_is_wrapped_with_listen_and_certificate(nginx: str) -> None:
    result = nginx_t("ssl_session_cache shared:SSL:10m;\nssl_session_tickets off;\n")
    assert result.ok, result.describe()
    assert result.kind == SERVER
    first = result.config_text.splitlines()[0]
    assert first.startswith("events {} http {") and "server { listen 127.0.0.1:8443 ssl;" in first
    assert first.endswith("ssl_session_cache shared:SSL:10m;"), "the snippet keeps its line numbers"


def test_main_config_gets_events_and_keeps_its_pid(nginx: str, tmp_path: Path) -> None:
    text = "pid /run/nginx.pid;\nerror_log /var/log/nginx/error.log warn;\nhttp {}\n"
    result = nginx_t(text, directory=tmp_path)
    assert result.ok, result.describe()
    assert result.config_text.startswith("events {} pid")
    assert f"pid {tmp_path}/nginx.pid;" in result.config_text
    assert not any(arg.startswith("pid ") for arg in result.command), "no -g pid beside a pid directive"
    assert "error_log stderr warn;" in result.config_text
    assert (tmp_path / "nginx.conf").is_file(), "a given directory is kept"


def test_user_is_removed_when_not_root(nginx: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    result = nginx_t("user www-data;\nevents {}\n")
    assert result.ok, result.describe()
    assert "user" not in result.config_text
    assert any("removed `user www-data;`" in note for note in result.adjustments)


def test_ticket_key_dhparam_and_trusted_certificates(nginx: str) -> None:
    text = """\
http {
    ssl_session_ticket_key /etc/nginx/ticket.key;
    ssl_session_ticket_key /etc/nginx/previous.key;
    ssl_dhparam /etc/nginx/dhparam.pem;
    ssl_trusted_certificate /etc/ssl/chain.pem;
    server {
        listen 443 ssl;
        ssl_certificate     /etc/ssl/example.com.pem;
        ssl_certificate_key /etc/ssl/example.com.key;
        ssl_client_certificate /etc/ssl/clients.pem;
        ssl_verify_client optional;
    }
}
"""
    result = nginx_t(text)
    assert result.ok, result.describe()
    assert "nginx.conf:2: ssl_session_ticket_key /etc/nginx/ticket.key -> <80-byte test ticket key>" in (
        result.adjustments
    )
    assert "nginx.conf:4: ssl_dhparam /etc/nginx/dhparam.pem -> <ffdhe2048 parameters>" in result.adjustments


def test_paths_go_under_the_prefix(nginx: str) -> None:
    text = """\
proxy_cache_path /var/cache/nginx/app levels=1:2 keys_zone=app:10m;
fastcgi_cache_path /var/cache/nginx/php keys_zone=php:10m;
client_body_temp_path /var/spool/nginx/body 1 2;
log_format main '$remote_addr $request';
server {
    listen 80;
    access_log /var/log/nginx/app.log main;
    error_log /var/log/nginx/app.error.log;
    location / { proxy_cache app; proxy_temp_path /var/spool/nginx/proxy; proxy_pass http://127.0.0.1:8000; }
}
"""
    result = nginx_t(text)
    assert result.ok, result.describe()
    shown = "\n".join(result.adjustments)
    assert "nginx.conf:1: proxy_cache_path /var/cache/nginx/app -> $PREFIX/cache/" in shown
    assert "nginx.conf:3: client_body_temp_path /var/spool/nginx/body -> $PREFIX/temp/" in shown
    assert "nginx.conf:7: access_log /var/log/nginx/app.log -> $PREFIX/logs/app.log" in shown
    assert "levels=1:2 keys_zone=app:10m;" in result.config_text and " 1 2;" in result.config_text
    assert "/var/" not in result.config_text


def test_stock_includes_come_from_the_system(nginx: str) -> None:
    text = """\
include /etc/nginx/mime.types;
server {
    listen 80;
    include proxy_params;
    location ~ \\.php$ { include snippets/fastcgi-php.conf; fastcgi_pass unix:/run/php/php-fpm.sock; }
}
"""
    result = nginx_t(text)
    assert result.ok, result.describe()
    shown = "\n".join(result.adjustments)
    assert "include /etc/nginx/mime.types -> $PREFIX/mime.types" in shown
    # fastcgi-php.conf includes fastcgi.conf, which must be there too
    assert "include fastcgi.conf:" in shown and "include snippets/fastcgi-php.conf:" in shown


def test_files_are_written_and_adjusted(nginx: str) -> None:
    files = {
        "/etc/nginx/snippets/tls.conf": "ssl_certificate /etc/ssl/a.pem;\nssl_certificate_key /etc/a.key;\n",
        "conf.d/app.conf": "upstream app { server app:8000; }\n",
    }
    text = """\
events {}
http {
    include conf.d/*.conf;
    server {
        listen 443 ssl;
        include /etc/nginx/snippets/tls.conf;
        location / { proxy_pass http://app; }
    }
}
"""
    result = nginx_t(text, files=files)
    assert result.ok, result.describe()
    shown = "\n".join(result.adjustments)
    assert "snippets/tls.conf:1: ssl_certificate /etc/ssl/a.pem -> <test certificate>" in shown
    assert "conf.d/app.conf:1: server app:8000 -> 127.0.0.1:8000" in shown
    assert "server has a TLS listen" not in shown, "the included certificate counts"
    with pytest.raises(ValueError, match="absolute and not under /etc/nginx"):
        nginx_t(text, files={"/srv/x.conf": ""})


def test_host_names_are_pointed_at_localhost(nginx: str) -> None:
    text = """\
upstream backend { server app:8000 max_fails=2; server db.internal; server 10.0.0.5:80; }
upstream php { server php-fpm:9000; }
server {
    listen 80;
    location /a { proxy_pass http://backend; }
    location /b { proxy_pass https://api.example.com:8443/v1/; }
    location /c { proxy_pass http://localhost:5280/http-bind; }
    location /d { proxy_pass http://$host; }
    location /e { fastcgi_pass php; }
    location /f { fastcgi_pass php-fpm:9000; }
}
"""
    result = nginx_t(text)
    assert result.ok, result.describe()
    assert [note for note in result.adjustments if "DNS" in note] == [
        "nginx.conf:1: server app:8000 -> 127.0.0.1:8000 (app needs DNS, which tests do without)",
        "nginx.conf:1: server db.internal -> 127.0.0.1 (db.internal needs DNS, which tests do without)",
        "nginx.conf:2: server php-fpm:9000 -> 127.0.0.1:9000 (php-fpm needs DNS, which tests do without)",
        "nginx.conf:6: proxy_pass https://api.example.com:8443/v1/ -> https://127.0.0.1:8443/v1/"
        " (api.example.com needs DNS, which tests do without)",
        "nginx.conf:10: fastcgi_pass php-fpm:9000 -> 127.0.0.1:9000"
        " (php-fpm needs DNS, which tests do without)",
    ]
    assert "10.0.0.5:80" in result.config_text and "http://backend;" in result.config_text
    assert "http://localhost:5280" in result.config_text and "fastcgi_pass php;" in result.config_text


def test_listen_addresses_become_local(nginx: str) -> None:
    text = """\
server { listen 192.0.2.10:8080 default_server; }
server { listen 192.0.2.10:8080; server_name b; }
server { listen 192.0.2.20:8080; }
server { listen [2001:db8::1]:8080; }
server { listen www.example.com:8081; }
server { listen unix:/run/nginx/app.sock; }
server { listen 8082; listen [::]:8082; listen 127.0.0.1:8083; listen localhost:8084; }
"""
    result = nginx_t(text)
    assert result.ok, result.describe()
    why = "is not an address of this machine, and nginx -t binds listen sockets)"
    assert result.adjustments[:6] == [
        f"nginx.conf:1: listen 192.0.2.10:8080 -> 127.1.0.1:8080 (192.0.2.10 {why}",
        f"nginx.conf:2: listen 192.0.2.10:8080 -> 127.1.0.1:8080 (192.0.2.10 {why}",
        f"nginx.conf:3: listen 192.0.2.20:8080 -> 127.1.0.2:8080 (192.0.2.20 {why}",
        f"nginx.conf:4: listen [2001:db8::1]:8080 -> [::1]:8080 ([2001:db8::1] {why}",
        f"nginx.conf:5: listen www.example.com:8081 -> 127.1.0.3:8081 (www.example.com {why}",
        "nginx.conf:6: listen unix:/run/nginx/app.sock -> unix:$PREFIX/sockets/app.sock (nginx -t binds it)",
    ]
    assert (
        "listen 8082; listen [::]:8082; listen 127.0.0.1:8083; listen localhost:8084;" in result.config_text
    )


def test_listen_ports_below_1024_move_when_not_root(nginx: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    text = (
        "server { listen 443 ssl default_server; listen [::]:443 ssl; listen 127.0.0.1; listen 8443 ssl; }\n"
    )
    result = nginx_t(text)
    assert result.ok, result.describe()
    assert (
        "listen 20443 ssl default_server; listen [::]:20443 ssl; listen 127.0.0.1:20080; listen 8443 ssl;"
        in (result.config_text)
    )
    assert "nginx.conf:1: listen 443 -> 20443 (port 443 needs root, and nginx -t binds listen sockets)" in (
        result.adjustments
    )


def test_envsubst_placeholders_are_not_host_names(nginx: str) -> None:
    result = nginx_t("upstream backend {\n    server ${PEERTUBE_HOST};\n}\n")
    assert not result.ok
    assert result.errors == ['[emerg] host not found in upstream "${PEERTUBE_HOST}" in $PREFIX/nginx.conf:2']


def test_reject_handshake_default_server_needs_no_certificate(nginx: str) -> None:
    text = "server {\n    listen 443 ssl default_server;\n    ssl_reject_handshake on;\n}\n"
    result = nginx_t(text)
    assert result.ok, result.describe()
    assert "ssl_certificate" not in result.config_text


def test_missing_certificate_is_reported_when_not_added(nginx: str) -> None:
    text = "server {\n    listen 443 ssl default_server;\n}\n"
    added = nginx_t(text)
    assert added.ok, added.describe()
    assert added.adjustments[-1] == (
        "nginx.conf:1: server has a TLS listen but no ssl_certificate: added the test certificate and key"
    )
    refused = nginx_t(text, add_missing_certificates=False)
    assert not refused.ok
    assert refused.errors[0].startswith(
        '[emerg] no "ssl_certificate" is defined for the "listen ... ssl" directive in $PREFIX/nginx.conf:'
    )


def test_missing_include_fails_unless_stubbed(nginx: str) -> None:
    text = "server {\n    listen 80;\n    include h5bp/basic.conf;\n}\n"
    missing = nginx_t(text)
    assert missing.errors == [
        '[emerg] open() "$PREFIX/h5bp/basic.conf" failed (2: No such file or directory)'
        " in $PREFIX/nginx.conf:3"
    ]
    stubbed = nginx_t(text, stub_missing_includes=True)
    assert stubbed.ok, stubbed.describe()
    assert (
        "nginx.conf:3: include h5bp/basic.conf: MISSING, replaced by an empty file (not environment-only)"
        in (stubbed.adjustments)
    )


def test_include_loop_fails_fast(nginx: str) -> None:
    files = {"a.conf": "include b.conf;\n", "b.conf": "include a.conf;\n"}
    result = nginx_t("events {}\nhttp {\n    include a.conf;\n}\n", files=files)
    assert not result.ok
    assert "(24: Too many open files)" in result.output


def test_timeout_kills_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "nginx"
    marker = tmp_path / "child.pid"
    fake.write_text(
        '#!/bin/sh\nif [ "$1" = -v ]; then echo "nginx version: nginx/1.22.1" >&2; exit 0; fi\n'
        f"sleep 60 & echo $! > {marker}\nwait\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(nginx_harness, "TIMEOUT", 0.5)
    result = nginx_t("events {}\n", binary=str(fake))
    assert not result.ok and result.returncode is None
    assert "timed out after 0.5 s" in result.output
    child = int(marker.read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{child}").exists() and "zombie" not in _state(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{child}").exists() or "zombie" in _state(child), "the grandchild was killed"


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].splitlines()[0]
    except (OSError, IndexError):
        return "gone"


# --------------------------------------------------------------------------- facts §4 messages


def test_same_zone_with_two_sizes_conflicts(nginx: str) -> None:
    text = """\
ssl_session_cache shared:SSL:10m;
server {
    listen 443 ssl;
    ssl_certificate     /etc/ssl/example.com.pem;
    ssl_certificate_key /etc/ssl/example.com.key;
    ssl_session_cache shared:SSL:20m;
}
"""
    result = nginx_t(text)
    assert not result.ok
    assert result.errors == [
        '[emerg] the size 20971520 of shared memory zone "SSL" conflicts with already declared size 10485760'
        " in $PREFIX/nginx.conf:6"
    ]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (
            "server {\n    listen 80;\n    location / {\n        ssl_session_cache shared:A:1m;\n    }\n}\n",
            '"ssl_session_cache" directive is not allowed here',
            4,
        ),
        (
            "server {\n    listen 80;\n    location / { ssl_session_tickets off; }\n}\n",
            '"ssl_session_tickets" directive is not allowed here',
            3,
        ),
        ("server {\n    listen 80;\n    keepalive 16;\n}\n", '"keepalive" directive is not allowed here', 3),
        ("keepalive 16;\nserver { listen 80; }\n", '"keepalive" directive is not allowed here', 1),
        (
            "upstream app {\n    server 127.0.0.1:8000;\n    keepalive 16;\n    keepalive 32;\n}\n",
            '"keepalive" directive is duplicate',
            4,
        ),
        ("ssl_session_cache shared:SSL:16k;\n", 'session cache "shared:SSL:16k" is too small', 1),
        ("ssl_session_cache shared:SSL;\n", 'invalid session cache "shared:SSL"', 1),
        ("ssl_session_timeout 10x;\n", '"ssl_session_timeout" directive invalid value', 1),
        (
            "limit_req_zone $binary_remote_addr zone=SSL:1m rate=1r/s;\nssl_session_cache shared:SSL:1m;\n",
            'the shared memory zone "SSL" is already declared for a different use',
            2,
        ),
        (
            "server {\n    listen 127.0.0.1:18443 ssl default_server;\n}\n"
            "server {\n    listen 127.0.0.1:18443 ssl default_server;\n}\n",
            "a duplicate default server for 127.0.0.1:18443",
            5,
        ),
    ],
    ids=[
        "cache-in-location",
        "tickets-in-location",
        "keepalive-in-server",
        "keepalive-in-http",
        "keepalive-duplicate",
        "cache-too-small",
        "cache-without-size",
        "timeout-invalid",
        "zone-other-use",
        "two-default-servers",
    ],
)
def test_facts_messages(nginx: str, text: str, message: str, line: int) -> None:
    result = nginx_t(text, kind=HTTP)
    assert not result.ok, result.describe()
    assert result.errors == [f"[emerg] {message} in $PREFIX/nginx.conf:{line}"], result.describe()


def test_version_dependent_messages(nginx: str) -> None:
    http2 = nginx_t(
        "server {\n    listen 443 ssl;\n    http2 on;\n}\n", version_note="http2 appeared in 1.25.1"
    )
    keepalive_zero = nginx_t("upstream app {\n    server 127.0.0.1:8000;\n    keepalive 0;\n}\n")
    proxy_v2 = nginx_t("proxy_http_version 2;\n", kind=HTTP)
    ssl_on = nginx_t("server {\n    listen 443;\n    ssl on;\n}\n")
    if version_at_least(nginx, 1, 25, 1):
        assert http2.ok, http2.describe()
        assert ssl_on.errors == ['[emerg] unknown directive "ssl" in $PREFIX/nginx.conf:3']
    else:
        assert http2.errors == ['[emerg] unknown directive "http2" in $PREFIX/nginx.conf:3'], http2.describe()
        assert "note: http2 appeared in 1.25.1" in http2.describe()
        assert ssl_on.ok, ssl_on.describe()
        assert ssl_on.warnings == [
            '[warn] the "ssl" directive is deprecated, use the "listen ... ssl" directive instead'
            " in $PREFIX/nginx.conf:3"
        ]
    if version_at_least(nginx, 1, 29, 7):
        assert keepalive_zero.ok, keepalive_zero.describe()
    else:
        assert keepalive_zero.errors == [
            '[emerg] invalid value "0" in "keepalive" directive in $PREFIX/nginx.conf:3'
        ]
    if version_at_least(nginx, 1, 29, 4):
        assert proxy_v2.ok, proxy_v2.describe()
    else:
        assert proxy_v2.errors == ['[emerg] invalid value "2" in $PREFIX/nginx.conf:1']


# --------------------------------------------------------------------------- the corpus

CORPUS = SHARED / "corpus" / "nginx"
MANIFEST_KINDS = {"full": MAIN, "http-snippet": HTTP, "server-snippet": SERVER}
# Rows: file, kind, nginx_t verdict on 1.22.1, notes ("1.31.4:pass", "<version> err: [emerg] ...").
MANIFEST_ROWS = (
    [line.split("\t") for line in (CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]]
    if (CORPUS / "MANIFEST.tsv").is_file()
    else []
)
# The MANIFEST's copies of these files needed the h5bp repository's include tree;
# ../shared/corpus/nginx holds the files alone, so nginx stops at the first include.
H5BP_TREE = {
    "h5bp__server-configs-nginx__nginx.conf": "h5bp/security/server_software_information.conf",
    "h5bp__server-configs-nginx__conf.d_.default.conf": "h5bp/tls/ssl_engine.conf",
    "h5bp__server-configs-nginx__conf.d_templates_example.com.conf": "h5bp/tls/ssl_engine.conf",
}
# The MANIFEST's copies of the Mozilla files had two lines (events {}) prepended.
PREPENDED_LINES = {"events{} prepended": 2}


def corpus_params() -> list[object]:
    if not MANIFEST_ROWS:
        return [pytest.param(None, id="corpus-absent")]
    return [pytest.param(row, id=row[0]) for row in MANIFEST_ROWS]


def expectation(row: list[str], version: tuple[int, ...]) -> tuple[str, str | None, int | None]:
    """(pass|fail, documented message, documented line) for this nginx version."""
    name, _, verdict, notes = row
    label = ".".join(map(str, version))
    if version == (1, 22, 1):
        status = verdict
    else:
        recorded = re.search(rf"(?:^| ){re.escape(label)}:(pass|fail)\b", notes)
        if recorded is None:
            pytest.skip(f"MANIFEST.tsv records nginx -t only for 1.22.1 and 1.31.4, not {label}")
        status = recorded.group(1)
    err = re.search(
        rf"{re.escape(label)} err: \[emerg\] (.*?)(?: in corpus_copy\.conf:(\d+))?(?: \|\||$)", notes
    )
    if status == "fail" and err is None:
        raise AssertionError(f"{name}: MANIFEST says fail on {label} but gives no message")
    return status, (err.group(1) if err else None), (int(err.group(2)) if err and err.group(2) else None)


@pytest.mark.parametrize("row", corpus_params())
def test_corpus_file(nginx: str, row: list[str] | None) -> None:
    directory = shared_path("corpus", "nginx")
    assert row is not None
    name, manifest_kind, _, notes = row
    status, message, line = expectation(row, nginx_harness.nginx_version(nginx))
    text = (directory / name).read_text(encoding="utf-8")
    kind = MANIFEST_KINDS[manifest_kind]
    assert detect_kind(text) == kind, "the harness and MANIFEST.tsv agree on the kind"
    result = nginx_t(text, kind=kind)
    if name in H5BP_TREE:
        assert not result.ok
        assert result.errors[0].startswith(f'[emerg] open() "$PREFIX/{H5BP_TREE[name]}" failed (2: '), (
            result.describe()
        )
        documented = f"MANIFEST: {status}" + (f" with {message}" if message else "")
        pytest.xfail(
            f"needs the h5bp include tree ({H5BP_TREE[name]} ...), which MANIFEST.tsv's run copied "
            f"and ../shared/corpus/nginx does not hold; {documented}"
        )
    if status == "pass":
        assert result.ok, result.describe()
        assert not result.errors
        return
    assert not result.ok, result.describe()
    assert message is not None
    assert result.errors[0].startswith(f"[emerg] {message}"), result.describe()
    if line is not None:
        shift = sum(n for marker, n in PREPENDED_LINES.items() if marker in notes)
        assert error_lines(result)[0] == line - shift, result.describe()
        quoted = re.search(r'"([^"]+)"', message)
        assert quoted is not None and quoted.group(1) in text.splitlines()[line - shift - 1]


@pytest.mark.parametrize("name", sorted(H5BP_TREE))
def test_h5bp_files_pass_with_their_includes_stubbed(nginx: str, name: str) -> None:
    """Not environment-only (the h5bp includes become empty): what is left of each file is valid."""
    text = (shared_path("corpus", "nginx") / name).read_text(encoding="utf-8")
    result = nginx_t(text, stub_missing_includes=True)
    assert result.ok, result.describe()
    assert any("MISSING, replaced by an empty file" in note for note in result.adjustments)


TLS_DIRECTIVES = re.compile(
    r"ssl_session_(?!ticket_key)\w+|ssl_protocols|ssl_prefer_server_ciphers|ssl_ciphers|keepalive\w*"
    r"|listen|http2|ssl|ssl_reject_handshake|server_name|proxy_http_version"
)


@pytest.mark.parametrize("row", corpus_params())
def test_adjustments_leave_tls_directives_alone(nginx: str, row: list[str] | None) -> None:
    """Every directive the rules look at reaches nginx exactly as written."""
    directory = shared_path("corpus", "nginx")
    assert row is not None
    text = (directory / row[0]).read_text(encoding="utf-8")
    result = nginx_t(text, stub_missing_includes=True)

    def tls(source: str) -> list[tuple[str, ...]]:
        """Names and arguments; a listen's address may move (see test_listen_*), its parameters not."""
        return [
            (node.name, *(token.value for token in node.args[node.name == "listen" :]))
            for node in nginx_harness._walk(nginx_harness._parse(source))
            if TLS_DIRECTIVES.fullmatch(node.name)
        ]

    wrapper = [("listen", "ssl")] if result.kind == SERVER else []
    assert tls(result.config_text) == wrapper + tls(text)
