"""Upstream keep-alive rules (NGX210-NGX214) and the access-log rule NGX401.

Facts: ../shared/facts/nginx.md §1 (keepalive, proxy_http_version,
proxy_ssl_session_reuse rows), §4 (nginx -t messages), §5 (what reaches the
backend; implicit upstreams are never pooled), §6 (the corpus). The catalogue
examples run through tests/test_catalogue*.py; this file adds version
awareness, fix details checked against the real ``nginx -t``, edge cases and
corpus pins. tests/test_live_upstream.py shows the fixes working on a live nginx.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import shared_path
from helpers import check_files, settings_for
from helpers import fix as fix_files
from nginx_harness import nginx_t

from tlslint.engine import RunResult, run
from tlslint.findings import Finding, Severity
from tlslint.fixing import apply_fixes

E, W, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
MINE = ["NGX210", "NGX211", "NGX212", "NGX213", "NGX214", "NGX401"]


def lint(
    tmp_path: Path, text: str, version: str | None = None, *, name: str = "site.conf", **extra: Any
) -> RunResult:
    mapping: dict[str, Any] = {"select": MINE, **extra}
    if version is not None:
        mapping["nginx"] = {"version": version}
    return check_files(tmp_path, {name: text}, mapping)


def found(result: RunResult) -> set[tuple[str, int, Severity]]:
    return {(f.code, f.location.line, f.severity) for f in result.findings}


def only(result: RunResult, code: str) -> list[Finding]:
    return [f for f in result.findings if f.code == code]


def fix(
    tmp_path: Path, text: str, version: str | None, *, unsafe: bool = False, name: str = "site.conf"
) -> str:
    """The text after ``--fix`` (``--unsafe-fixes``) with only these rules."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    mapping: dict[str, Any] = {"select": MINE}
    if version is not None:
        mapping["nginx"] = {"version": version}
    settings = settings_for(tmp_path, mapping)
    apply_fixes(run([path], settings), settings, unsafe=unsafe, write=True)
    return path.read_text(encoding="utf-8")


def assert_valid_nginx(text: str, **kwargs: Any) -> None:
    result = nginx_t(text, **kwargs)
    assert result.ok and not result.errors, result.describe()
    assert not result.warnings, result.describe()


# --------------------------------------------------------------------------- version awareness

NO_KEEPALIVE = """\
upstream app {
    server 10.0.0.11:8080;
}
server {
    listen 80;
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    location / {
        proxy_pass http://app;
    }
}
"""
KEEPALIVE_ONLY = NO_KEEPALIVE.replace(
    "    server 10.0.0.11:8080;\n", "    server 10.0.0.11:8080;\n    keepalive 16;\n"
)


def test_ngx210_depends_on_the_version(tmp_path: Path) -> None:
    # Before 1.29.7 no keepalive line means no pooling; since then `32 local` is the default.
    old = lint(tmp_path / "old", NO_KEEPALIVE, "1.22")
    assert found(old) == {("NGX210", 1, W)}
    assert "before nginx 1.29.7 (nginx.version 1.22.0)" in old.findings[0].message
    assert found(lint(tmp_path / "new", NO_KEEPALIVE, "1.30")) == set()
    assert found(lint(tmp_path / "edge", NO_KEEPALIVE, "1.29.7")) == set()
    assert found(lint(tmp_path / "before-edge", NO_KEEPALIVE, "1.29.6")) == {("NGX210", 1, W)}
    unknown = lint(tmp_path / "unknown", NO_KEEPALIVE)
    assert found(unknown) == {("NGX210", 1, Severity.INFO)}  # open: info, never more
    assert "depends on the version" in unknown.findings[0].message


def test_ngx211_depends_on_the_version(tmp_path: Path) -> None:
    old = lint(tmp_path / "old", KEEPALIVE_ONLY, "1.22")
    assert found(old) == {("NGX211", 10, W)}
    message = old.findings[0].message
    assert "HTTP/1.0" in message and "Connection: close" in message
    # 1.29.7+: HTTP/1.1 and no Connection header by default.
    assert found(lint(tmp_path / "new", KEEPALIVE_ONLY, "1.30")) == set()
    unknown = lint(tmp_path / "unknown", KEEPALIVE_ONLY)
    assert found(unknown) == {("NGX211", 10, Severity.INFO)}  # it depends on the version
    assert "before nginx 1.29.7" in unknown.findings[0].message


def test_ngx211_waits_for_keepalive_then_fix_chains_both_rules(tmp_path: Path) -> None:
    # Without keepalive only NGX210 speaks; --fix adds keepalive, then NGX211 adds the
    # HTTP/1.1 directives on the next pass of the fixpoint.
    assert {f.code for f in lint(tmp_path / "a", NO_KEEPALIVE, "1.22").findings} == {"NGX210"}
    fixed = fix(tmp_path / "b", NO_KEEPALIVE, "1.22")
    assert "    keepalive 32;\n}" in fixed
    assert "proxy_http_version 1.1;\n        proxy_set_header Host $host;" in fixed
    assert found(lint(tmp_path / "c", fixed, "1.22")) == set()
    assert_valid_nginx(fixed)


def test_explicit_http10_and_connection_close_are_reported_on_every_version(tmp_path: Path) -> None:
    text = KEEPALIVE_ONLY.replace(
        "        proxy_pass http://app;\n",
        "        proxy_pass http://app;\n"
        "        proxy_http_version 1.0;\n"
        "        proxy_set_header Connection close;\n",
    )
    for version in ("1.22", "1.30", None):
        result = lint(tmp_path / str(version), text, version)
        assert [f.code for f in result.findings] == ["NGX211"], version
        assert "proxy_http_version 1.0" in result.findings[0].message
        assert 'Connection "close"' in result.findings[0].message


# --------------------------------------------------------------------------- NGX211 fix keeps headers


def test_ngx211_fix_copies_inherited_headers_into_the_location(tmp_path: Path) -> None:
    fixed = fix(tmp_path, KEEPALIVE_ONLY, "1.22")
    assert fixed == KEEPALIVE_ONLY.replace(
        "        proxy_pass http://app;\n",
        "        proxy_pass http://app;\n"
        "        proxy_http_version 1.1;\n"
        "        proxy_set_header Host $host;\n"
        "        proxy_set_header X-Real-IP $remote_addr;\n"
        '        proxy_set_header Connection "";\n',
    )
    assert_valid_nginx(fixed)


def test_ngx211_fix_adds_to_the_locations_own_headers_without_copying(tmp_path: Path) -> None:
    text = KEEPALIVE_ONLY.replace(
        "        proxy_pass http://app;\n",
        "        proxy_pass http://app;\n"
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n",
    )
    fixed = fix(tmp_path, text, "1.22")
    location = fixed[fixed.index("location /") :]
    assert "Host" not in location  # it never sent the server's lines: nothing to copy
    assert "X-Forwarded-For $proxy_add_x_forwarded_for;\n        proxy_http_version 1.1;\n" in location
    assert 'proxy_set_header Connection "";' in location


def test_ngx211_fix_keeps_http_level_headers_of_a_nested_location(tmp_path: Path) -> None:
    text = """\
http {
    proxy_set_header Host $http_host;
    upstream app { server 10.0.0.11:8080; keepalive 8; }
    server {
        listen 80;
        location /a/ {
            location /a/b/ { proxy_pass http://app; }
        }
    }
}
"""
    fixed = fix(tmp_path, text, "1.22", name="nginx.conf")
    assert (
        "location /a/b/ { proxy_pass http://app; proxy_http_version 1.1; "
        'proxy_set_header Host $http_host; proxy_set_header Connection ""; }'
    ) in fixed
    assert_valid_nginx(fixed)


def test_ngx211_fix_edits_an_include_free_location_only(tmp_path: Path) -> None:
    # proxy_http_version 1.0 from an include in the location: a second line would be
    # "is duplicate"; no fix, and a note says why.
    files = {
        "nginx.conf": "events {}\nhttp {\n"
        "    upstream app { server 10.0.0.11:8080; keepalive 8; }\n"
        "    server {\n        listen 80;\n        location / {\n"
        "            include proxy.inc;\n            proxy_pass http://app;\n        }\n    }\n}\n",
        "proxy.inc": "proxy_http_version 1.0;\n",
    }
    result = check_files(
        tmp_path, files, {"select": ["NGX211"], "nginx": {"version": "1.22"}}, target="nginx.conf"
    )
    [finding] = result.findings
    assert finding.fix is None and "include" in finding.fix_note


def test_map_with_close_for_plain_requests_defeats_keepalive(tmp_path: Path) -> None:
    text = """\
map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      close;
}
upstream app { server 10.0.0.11:8080; keepalive 16; }
server {
    listen 80;
    location / {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection $connection_upgrade;
    }
}
"""
    for version in ("1.22", "1.30"):
        [finding] = lint(tmp_path / version, text, version).findings
        assert finding.code == "NGX211" and '"close" for every request' in finding.message
        assert finding.fix is not None and not finding.fix.safe
    assert fix(tmp_path / "safe", text, "1.22") == text  # the map edit is unsafe
    fixed = fix(tmp_path / "unsafe", text, "1.22", unsafe=True)
    assert fixed == text.replace("''      close;", "''      '';")
    assert_valid_nginx(fixed)
    # A map whose default closes (no '' entry) gets an exact '' entry.
    no_entry = text.replace("    ''      close;\n", "").replace("default upgrade;", "default close;")
    fixed = fix(tmp_path / "default", no_entry, "1.22", unsafe=True)
    assert "    default close;\n    '' '';\n}" in fixed
    assert found(lint(tmp_path / "after", fixed, "1.22")) == set()


def test_constant_upgrade_and_keep_alive_do_not_defeat_keepalive(tmp_path: Path) -> None:
    # Measured on 1.22.1 (Python and Node 20 backends): the connection is kept.
    for value in ('"upgrade"', "keep-alive"):
        text = KEEPALIVE_ONLY.replace(
            "        proxy_pass http://app;\n",
            f"        proxy_pass http://app;\n        proxy_http_version 1.1;\n"
            f"        proxy_set_header Connection {value};\n",
        )
        assert "NGX211" not in {f.code for f in lint(tmp_path / value.strip('"'), text, "1.22").findings}


# --------------------------------------------------------------------------- NGX210 scope and fix


def test_keepalive_goes_after_a_balancing_method_no_redefined_warning(tmp_path: Path) -> None:
    text = """\
upstream app {
    server 10.0.0.11:8080;
    server 10.0.0.12:8080;
    hash $remote_addr consistent;
}
server {
    listen 80;
    location / {
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }
}
"""
    fixed = fix(tmp_path, text, "1.22")
    assert "    hash $remote_addr consistent;\n    keepalive 32;\n}" in fixed
    assert_valid_nginx(fixed)  # no "load balancing method redefined" (facts §4)
    wrong = fixed.replace(
        "    hash $remote_addr consistent;\n    keepalive 32;\n",
        "    keepalive 32;\n    hash $remote_addr consistent;\n",
    )
    assert any("load balancing method redefined" in w for w in nginx_t(wrong).warnings)


def test_ngx210_severity_is_error_for_https_and_names_the_handshake(tmp_path: Path) -> None:
    text = NO_KEEPALIVE.replace("http://app", "https://app")
    [finding] = lint(tmp_path, text, "1.22").findings
    assert (finding.code, finding.severity) == ("NGX210", E)
    assert "TLS handshake" in finding.message and "https" in finding.message


def test_ngx210_scope(tmp_path: Path) -> None:
    cases = {
        # FastCGI only: needs fastcgi_keep_conn too; out of scope.
        "fastcgi": "upstream php { server 127.0.0.1:9000; }\n"
        "server { listen 80; location ~ \\.php$ { fastcgi_pass php; } }\n",
        # Used by nothing here.
        "unused": "upstream app { server 10.0.0.11:8080; }\n",
        # Only WebSocket locations: an upgraded connection never returns to the pool.
        "websocket": "upstream ws { server 10.0.0.11:8080; }\n"
        "server { listen 80; location /socket.io/ { proxy_pass http://ws; } }\n",
        # A stream upstream has no keepalive directive at all.
        "stream": "events {}\nstream { upstream db { server 10.0.0.5:5432; }\n"
        "server { listen 5432; proxy_pass db; } }\n",
    }
    for name, text in cases.items():
        assert found(lint(tmp_path / name, text, "1.22")) == set(), name


def test_ngx210_follows_set_variables_to_upstreams(tmp_path: Path) -> None:
    # Lemmy's pattern: set $proxpass "http://lemmy-ui"; proxy_pass $proxpass;
    text = """\
upstream ui { server 10.0.0.11:1234; }
upstream api { server 10.0.0.12:8536; }
server {
    listen 80;
    location / {
        set $target "http://ui";
        if ($request_method = POST) { set $target "http://api"; }
        proxy_pass $target;
    }
}
"""
    assert found(lint(tmp_path, text, "1.22")) == {("NGX210", 1, W), ("NGX210", 2, W)}


def test_ngx210_names_a_variable_proxy_pass_once_with_each_set_that_reaches_it(tmp_path: Path) -> None:
    # Lemmy's docker nginx.conf: three `set $proxpass "http://lemmy"` lines reach one
    # proxy_pass. Each used to give the same related place ("49:13: proxies to it")
    # three times and crowded the next location out of the first three.
    text = """\
upstream api { server 10.0.0.12:8536; }
server {
    listen 80;
    location / {
        set $target "http://ui";
        if ($http_accept = "application/activity+json") { set $target "http://api"; }
        if ($request_method = POST) { set $target "http://api"; }
        proxy_pass $target;
    }
    location /api/ { proxy_pass http://api; }
}
"""
    [finding] = only(lint(tmp_path, text, "1.22"), "NGX210")
    assert [(note.location.line, note.message) for note in finding.related] == [
        (8, "proxies to it over http through $target"),
        (6, "sets $target to http://api"),
        (7, "sets $target to http://api"),
        (10, "proxies to it over http"),
    ]


# A proxy_pass with variables is evaluated per request, and its host is looked up among the
# upstream{} blocks before any resolver (ngx_http_upstream_init_request): a host written out,
# followed by a variable that starts the URI, names its upstream{} as a literal one does.
# Measured on 1.22.1 (the tester's repro): `proxy_pass http://docservice$1;` under
# `location ~ ^(/fonts/.*)` reached upstream docservice (no DNS entry for that name), as
# HTTP/1.0 with Connection: close, a new connection per request.
PATH_VARIABLE = """\
upstream docservice {
    server 127.0.0.1:18000;
    keepalive 8;
}
server {
    listen 80;
    location ~ ^(/fonts/.*) {
        proxy_pass http://docservice$1;
    }
}
"""


def test_ngx211_follows_a_proxy_pass_whose_uri_is_a_variable(tmp_path: Path) -> None:
    [finding] = lint(tmp_path, PATH_VARIABLE, "1.22").findings
    assert (finding.code, finding.location.line) == ("NGX211", 8)
    assert finding.message.startswith("upstream docservice has keepalive (8), but this location never")
    fixed = fix(tmp_path / "fix", PATH_VARIABLE, "1.22")
    assert fixed == PATH_VARIABLE.replace(
        "        proxy_pass http://docservice$1;\n",
        "        proxy_pass http://docservice$1;\n        proxy_http_version 1.1;\n"
        '        proxy_set_header Connection "";\n',
    )
    assert fix(tmp_path / "again", fixed, "1.22") == fixed
    assert lint(tmp_path / "after", fixed, "1.22").findings == []
    assert_valid_nginx(fixed)


@pytest.mark.parametrize(
    ("location", "target"),
    [
        ("location ~ ^(/fonts/.*)", "http://docservice$1"),
        # OnlyOffice: the version prefix is optional (empty), the path group starts with \/.
        ("location ~ ^(\\/7.0.0-1)?(\\/fonts\\/.*)", "http://docservice$2"),
        ("location ~* ^/x(?:/y)?(/(?<rest>.*))$", "http://docservice$1"),
        ("location /", "http://docservice$request_uri"),
        ("location /", "http://docservice${uri}$is_args$args"),
        ("location ~ ^(/a|/b)", "http://docservice$1"),
    ],
)
def test_ngx210_links_a_literal_host_with_a_variable_uri(tmp_path: Path, location: str, target: str) -> None:
    # An `if` that matches no regex leaves the location's captures alone.
    text = (
        "upstream docservice { server 127.0.0.1:18000; }\n"
        f"server {{ listen 80; {location} {{ if ($request_method = POST) {{ }} proxy_pass {target}; }} }}\n"
    )
    [finding] = lint(tmp_path, text, "1.22").findings
    assert finding.code == "NGX210"
    notes = [(note.location.line, note.message) for note in finding.related]
    assert notes == [(2, "proxies to it over http")]


@pytest.mark.parametrize(
    ("location", "target"),
    [
        # The host itself is a variable: which upstream is not known.
        ("location ~ ^(/fonts/.*)", "http://$backend$1"),
        # A variable that need not start the URI: `/fontsX` gives host docserviceX.
        ("location ~ ^/fonts(.*)", "http://docservice$1"),
        ("location ~ ^(/?fonts.*)", "http://docservice$1"),
        ("location ~ ^(/a|b)", "http://docservice$1"),
        ("location /", "http://docservice$suffix"),
        ("location /", "http://docservice$1"),  # no regex: no capture of the location's
        # A rewrite, or an if's regex, sets the captures again.
        ("location ~ ^(/fonts/.*) { rewrite ^/(.*)$ /$1 break;", "http://docservice$1"),
        ('location ~ ^(/fonts/.*) { if ($uri ~ "(.*)") { }', "http://docservice$1"),
        # With a port an upstream{} never matches: the name is resolved (no keep-alive).
        ("location ~ ^(/fonts/.*)", "http://docservice:18000$1"),
    ],
)
def test_ngx210_leaves_a_variable_host_unknown(tmp_path: Path, location: str, target: str) -> None:
    opened = location if location.endswith((";", "}")) else location + " {"
    text = (
        "upstream docservice { server 127.0.0.1:18000; }\n"
        "upstream docservicex { server 127.0.0.1:18001; }\n"
        f"server {{ listen 80; resolver 127.0.0.53; {opened} proxy_pass {target}; }} }}\n"
    )
    assert lint(tmp_path, text, "1.22").findings == [], target


def test_a_variable_uri_to_a_name_no_upstream_declares_is_no_implicit_upstream_finding(
    tmp_path: Path,
) -> None:
    """Without an upstream{} of its name the host is resolved per request (a resolver is
    needed): not the implicit upstream NGX212 describes and rewrites."""
    text = (
        "events {}\nhttp { resolver 127.0.0.53; server { listen 80; location ~ ^(/fonts/.*) {"
        " proxy_pass http://docs.example$1; } } }\n"
    )
    assert lint(tmp_path, text, "1.22", name="nginx.conf").findings == []


def test_ngx210_keepalive_zero_and_profiles(tmp_path: Path) -> None:
    zero = NO_KEEPALIVE.replace(
        "    server 10.0.0.11:8080;\n", "    server 10.0.0.11:8080;\n    keepalive 0;\n"
    )
    [finding] = lint(tmp_path / "zero", zero, "1.30").findings
    assert finding.code == "NGX210" and finding.location.line == 3 and "keepalive 0" in finding.message
    assert finding.fix is not None and not finding.fix.safe
    throughput = fix(tmp_path / "throughput", NO_KEEPALIVE.replace("location / {", "location / {"), "1.22")
    assert "keepalive 32;" in throughput
    path = tmp_path / "profile" / "site.conf"
    path.parent.mkdir()
    path.write_text(NO_KEEPALIVE)
    settings = settings_for(
        path.parent, {"select": ["NGX210"], "nginx": {"version": "1.22"}, "profile": "throughput"}
    )
    apply_fixes(run([path], settings), settings, unsafe=False, write=True)
    assert "    keepalive 64;\n" in path.read_text()


# --------------------------------------------------------------------------- NGX212


def test_ngx212_is_reported_on_every_version(tmp_path: Path) -> None:
    text = (
        "server {\n    listen 80;\n    location / {\n"
        "        proxy_pass http://127.0.0.1:3000/app/;\n    }\n}\n"
    )
    for version in ("1.22", "1.30", None):
        assert found(lint(tmp_path / str(version), text, version)) == {("NGX212", 4, W)}
    https = text.replace("http://127.0.0.1:3000", "https://10.0.0.9")
    assert found(lint(tmp_path / "https", https, "1.30")) == {("NGX212", 4, E)}


def test_ngx212_leaves_variables_websockets_and_possible_upstream_names(tmp_path: Path) -> None:
    cases = {
        "variable-host": "server { listen 80; resolver 127.0.0.53;"
        " location / { proxy_pass http://$host:8080; } }\n",
        "variable-uri": "server { listen 80; location / { proxy_pass http://127.0.0.1:3000/$uri; } }\n",
        "websocket": "server { listen 80; location /cable { proxy_pass http://127.0.0.1:3000; } }\n",
        "bare-name-in-snippet": "server { listen 80; location / { proxy_pass http://app; } }\n",
        "upstream-elsewhere-case": "upstream App { server 10.0.0.1:80; keepalive 8; }\n"
        "server { listen 80; location / { proxy_pass http://app; proxy_http_version 1.1;"
        ' proxy_set_header Connection ""; } }\n',
    }
    for name, text in cases.items():
        assert found(lint(tmp_path / name, text, "1.22")) == set(), name
    # In a whole nginx.conf a bare name that no upstream{} declares is a host name.
    full = "events {}\nhttp { server { listen 80; location / { proxy_pass http://app; } } }\n"
    assert {f.code for f in lint(tmp_path / "full", full, "1.30", name="nginx.conf").findings} == {"NGX212"}


def test_ngx212_fix_keeps_the_host_header_and_uri(tmp_path: Path) -> None:
    text = """\
http {
    proxy_set_header X-Real-IP $remote_addr;
    server {
        listen 80;
        location /api/ {
            proxy_pass https://10.0.0.9:8443/v1/;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate /etc/ssl/ca.pem;
        }
    }
}
"""
    fixed = fix(tmp_path, text, "1.22", unsafe=True, name="nginx.conf")
    assert (
        fixed
        == """\
http {
    proxy_set_header X-Real-IP $remote_addr;
    upstream backend_10_0_0_9_8443 {
        server 10.0.0.9:8443;
        keepalive 32;
    }

    server {
        listen 80;
        location /api/ {
            proxy_pass https://backend_10_0_0_9_8443/v1/;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate /etc/ssl/ca.pem;
            proxy_http_version 1.1;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header Connection "";
            proxy_set_header Host 10.0.0.9:8443;
            proxy_ssl_name 10.0.0.9;
        }
    }
}
"""
    )
    assert found(lint(tmp_path / "after", fixed, "1.22", name="nginx.conf")) == set()
    assert_valid_nginx(fixed)


def test_ngx212_fix_shares_one_upstream_between_locations_and_avoids_taken_names(tmp_path: Path) -> None:
    text = """\
upstream backend_127_0_0_1_3000 { server 10.9.9.9:80; keepalive 8; }
server {
    listen 80;
    location /a/ { proxy_pass http://127.0.0.1:3000; proxy_set_header Host $host; }
    location /b/ { proxy_pass http://127.0.0.1:3000; proxy_set_header Host $host; }
    location /c/ { proxy_pass http://unix:/run/app.sock:/c/; proxy_set_header Host $host; }
}
"""
    fixed = fix(tmp_path, text, "1.30", unsafe=True)
    assert fixed.count("upstream backend_127_0_0_1_3000_2 {") == 1
    assert fixed.count("proxy_pass http://backend_127_0_0_1_3000_2;") == 2
    assert "upstream unix_app_sock {\n    server unix:/run/app.sock;\n    keepalive 32;\n}" in fixed
    assert "proxy_pass http://unix_app_sock/c/;" in fixed
    assert "proxy_http_version" not in fixed  # 1.30: HTTP/1.1 is the default
    assert found(lint(tmp_path / "after", fixed, "1.30")) == set()
    assert_valid_nginx(fixed)


def test_ngx212_keeps_the_name_only_when_every_pass_allows_it(tmp_path: Path) -> None:
    # An upstream{} named like the host would capture `proxy_pass http://api.internal:8080`
    # too, which nginx then refuses ("may not have port"): derive a name instead.
    text = """\
server {
    listen 80;
    location /a/ { proxy_pass http://api.internal/; proxy_set_header Host $host; }
    location /b/ { proxy_pass http://api.internal:8080/; proxy_set_header Host $host; }
}
"""
    fixed = fix(tmp_path, text, "1.30", unsafe=True)
    assert "upstream api_internal_80 {" in fixed and "upstream api_internal_8080 {" in fixed
    assert_valid_nginx(fixed)


def test_ngx212_keeps_the_name_only_when_the_passes_with_variables_allow_it_too(tmp_path: Path) -> None:
    # A pass with variables finds an upstream{} of its host per request, when it writes no
    # port: one named api.internal would take `https://api.internal$request_uri` to the
    # http server api.internal:80 over TLS. Derive a name instead.
    text = """\
server {
    listen 80;
    location /a/ { proxy_pass http://api.internal/; proxy_set_header Host $host; }
    location /b/ { proxy_pass https://api.internal$request_uri; proxy_set_header Host $host; }
}
"""
    fixed = fix(tmp_path, text, "1.30", unsafe=True)
    assert "upstream api_internal_80 {" in fixed
    assert "proxy_pass https://api.internal$request_uri;" in fixed
    assert_valid_nginx(fixed)


def test_ngx212_no_fix_in_a_server_snippet(tmp_path: Path) -> None:
    text = "listen 443 ssl;\nlocation / {\n    proxy_pass http://127.0.0.1:3000;\n}\n"
    [finding] = only(lint(tmp_path, text, "1.22"), "NGX212")
    assert finding.fix is None and "http{}" in finding.fix_note


# --------------------------------------------------------------------------- NGX213


def test_ngx213_websocket_only_locations(tmp_path: Path) -> None:
    template = (
        "server {{ listen 80; location {path} {{ proxy_pass http://127.0.0.1:3000; proxy_http_version 1.1;"
        ' proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; }} }}\n'
    )
    websocket = ["/ws/", "/socket.io", "/cable", "/api/v1/streaming", "@api_websocket", "= /xmpp-websocket"]
    for path in websocket:
        result = lint(tmp_path / path.strip("/@=~ ").replace("/", "_"), template.format(path=path), "1.22")
        assert "NGX213" not in {f.code for f in result.findings}, path
    for path in ("/", "/news", "/api/", "~ ^/(api|feeds)"):
        result = lint(
            tmp_path / ("p" + path.strip("/~^ (|)").replace("/", "_")), template.format(path=path), "1.22"
        )
        assert [(f.code, f.severity) for f in only(result, "NGX213")] == [("NGX213", INFO)], path
    guarded = template.format(path="/live").replace(
        "proxy_pass", 'if ($http_upgrade != "websocket") { return 426; } proxy_pass'
    )
    assert not only(lint(tmp_path / "guarded", guarded, "1.22"), "NGX213")


def test_ngx213_server_level_constant_is_judged_by_the_locations_that_inherit_it(tmp_path: Path) -> None:
    text = """\
server {
    listen 80;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection "upgrade";
    location /ws/ { proxy_pass http://127.0.0.1:4000; }
    location / { proxy_pass http://127.0.0.1:3000; }
    location /static/ { proxy_pass http://127.0.0.1:3001; proxy_set_header Host $host; }
}
"""
    [finding] = only(lint(tmp_path / "a", text, "1.22"), "NGX213")
    assert (
        finding.location.line == 5 and "location[/]" in finding.message and "/static/" not in finding.message
    )
    fixed = fix(tmp_path / "b", text, "1.22", unsafe=True)
    assert fixed.startswith(
        "map $http_upgrade $connection_upgrade {\n    default upgrade;\n    ''      '';\n}\n\n"
    )
    assert 'proxy_set_header Connection "$connection_upgrade";' in fixed
    assert_valid_nginx(fixed)
    only_ws = text.replace("    location / { proxy_pass http://127.0.0.1:3000; }\n", "")
    assert not only(lint(tmp_path / "c", only_ws, "1.22"), "NGX213")


def test_ngx213_picks_a_free_variable_name(tmp_path: Path) -> None:
    text = """\
map $host $connection_upgrade { default x; }
server {
    listen 80;
    location / {
        proxy_pass http://127.0.0.1:3000;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
    }
}
"""
    fixed = fix(tmp_path, text, None, unsafe=True)
    assert "map $http_upgrade $connection_upgrade_2 {" in fixed
    assert 'Connection "$connection_upgrade_2";' in fixed
    assert_valid_nginx(fixed)


# --------------------------------------------------------------------------- NGX214


def test_ngx214_severity_follows_connection_reuse(tmp_path: Path) -> None:
    pooled = """\
upstream api { server 10.0.0.21:443; keepalive 16; }
server {
    listen 80;
    proxy_ssl_session_reuse off;
    location / { proxy_pass https://api; proxy_http_version 1.1; proxy_set_header Connection ""; }
}
"""
    assert found(lint(tmp_path / "pooled", pooled, "1.22")) == {("NGX214", 4, W)}
    not_pooled = pooled.replace(" keepalive 16;", "")
    assert found(lint(tmp_path / "old", not_pooled, "1.22")) == {("NGX210", 1, E), ("NGX214", 4, E)}
    assert found(lint(tmp_path / "new", not_pooled, "1.30")) == {("NGX214", 4, W)}
    plain_http = pooled.replace("https://api", "http://api")
    assert found(lint(tmp_path / "http", plain_http, "1.22")) == set()
    overridden = pooled.replace("location / {", "location / { proxy_ssl_session_reuse on;")
    assert found(lint(tmp_path / "overridden", overridden, "1.22")) == set()


def test_ngx214_names_the_backend_whose_connections_are_not_kept(tmp_path: Path) -> None:
    """The first https pass under the line keeps its connections; the one that does not is named."""
    text = """\
proxy_ssl_session_reuse off;
upstream secure { server 127.0.0.1:8443; keepalive 8; }
server {
    listen 80;
    location / { proxy_pass https://secure; proxy_http_version 1.1; proxy_set_header Connection ""; }
    location /old { proxy_pass https://127.0.0.1:9443; }
}
"""
    [finding] = only(lint(tmp_path / "one", text, "1.22"), "NGX214")
    assert finding.severity == E
    assert "https backend https://127.0.0.1:9443 (location[/old]), and connections to it are not kept" in (
        finding.message
    )
    assert "https://secure" not in finding.message
    assert [(n.location.line, n.message) for n in finding.related] == [
        (6, "proxies over https here, connections not kept"),
        (5, "proxies over https here"),
    ]
    two = text.replace("}\n}\n", "}\n    location /older { proxy_pass https://127.0.0.2:9443; }\n}\n")
    [finding] = only(lint(tmp_path / "two", two, "1.22"), "NGX214")
    assert "https backends https://127.0.0.1:9443 (location[/old]) and 1 more, and connections to them" in (
        finding.message
    )
    kept = text.replace("    location /old { proxy_pass https://127.0.0.1:9443; }\n", "")
    [finding] = only(lint(tmp_path / "kept", kept, "1.22"), "NGX214")
    assert finding.severity == W and "https backend https://secure (location[/])," in finding.message
    # keepalive that a balancing line below it replaces (before 1.29.7) keeps nothing either.
    replaced = kept.replace("keepalive 8; }", "keepalive 8; least_conn; }")
    [finding] = only(lint(tmp_path / "replaced", replaced, "1.22"), "NGX214")
    assert finding.severity == E and "https://secure" in finding.message
    assert only(lint(tmp_path / "replaced-new", replaced, "1.30"), "NGX214")[0].severity == W


# --------------------------------------------------------------------------- NGX211: balancer order

BALANCER_AFTER = """\
upstream u {
    server 127.0.0.1:8081;
    server 127.0.0.1:8082;
    keepalive 16;
    least_conn;  # the idlest backend
}
server {
    listen 80;
    location / {
        proxy_pass http://u;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }
}
"""


@pytest.mark.parametrize(
    "balancer", ["least_conn;", "ip_hash;", "hash $request_uri consistent;", "random two least_conn;"]
)
def test_ngx211_balancer_below_keepalive_is_what_nginx_warns_about(tmp_path: Path, balancer: str) -> None:
    text = BALANCER_AFTER.replace("least_conn;  # the idlest backend", balancer)
    warned = nginx_t(text, kind="http")
    assert warned.ok and len(warned.warnings) == 1, warned.describe()
    assert re.fullmatch(r"\[warn\] load balancing method redefined in .*nginx\.conf:5", warned.warnings[0])
    [finding] = only(lint(tmp_path, text, "1.22"), "NGX211")
    assert (finding.location.line, finding.severity) == (5, W)
    assert finding.message.startswith(f"`{balancer.rstrip(';')}` comes after `keepalive 16` in upstream u:")
    assert "so upstream u keeps no connection" in finding.message
    assert finding.fix is not None and finding.fix.safe
    fixed = fix(tmp_path / "fixed", text, "1.22")
    assert fixed == text.replace(
        f"    keepalive 16;\n    {balancer}\n", f"    {balancer}\n    keepalive 16;\n"
    )
    assert_valid_nginx(fixed, kind="http")  # no warning left
    assert fix(tmp_path / "fixed", fixed, "1.22") == fixed  # a second --fix changes nothing


def test_ngx211_balancer_order_depends_on_the_version(tmp_path: Path) -> None:
    assert only(lint(tmp_path / "new", BALANCER_AFTER, "1.29.7"), "NGX211") == []
    [unknown] = only(lint(tmp_path / "unknown", BALANCER_AFTER), "NGX211")
    assert unknown.severity == INFO and "since 1.29.7 the order does not matter" in unknown.message
    tls = BALANCER_AFTER.replace("http://u", "https://u")
    assert only(lint(tmp_path / "tls", tls, "1.22"), "NGX211")[0].severity == E
    before = BALANCER_AFTER.replace(
        "    keepalive 16;\n    least_conn;", "    least_conn;\n    keepalive 16;"
    )
    assert only(lint(tmp_path / "before", before, "1.22"), "NGX211") == []


def test_ngx211_balancer_move_keeps_comments_line_endings_and_one_line_blocks(tmp_path: Path) -> None:
    # The trailing comment goes with the line; CRLF stays CRLF.
    crlf = BALANCER_AFTER.replace("\n", "\r\n").encode()
    fixed_bytes = fix_files(
        tmp_path / "crlf", {"site.conf": crlf}, {"select": MINE, "nginx": {"version": "1.22"}}
    )
    assert fixed_bytes["site.conf"] == crlf.replace(
        b"    keepalive 16;\r\n    least_conn;  # the idlest backend\r\n",
        b"    least_conn;  # the idlest backend\r\n    keepalive 16;\r\n",
    )
    # The tester's one-line upstream: the statement moves within the line.
    inline = (
        "upstream u { server 127.0.0.1:8081; server 127.0.0.1:8082; keepalive 16; least_conn; }\n"
        "server {\n    listen 80;\n    location / { proxy_pass http://u; proxy_http_version 1.1; "
        'proxy_set_header Connection ""; }\n}\n'
    )
    fixed = fix(tmp_path / "inline", inline, "1.22")
    assert fixed == inline.replace("keepalive 16; least_conn; }", "least_conn; keepalive 16; }")
    assert_valid_nginx(fixed, kind="http")
    # Two balancing lines below keepalive (nginx warns twice) move together, in order.
    two = BALANCER_AFTER.replace("    least_conn;  # the idlest backend\n", "    ip_hash;\n    hash $uri;\n")
    fixed = fix(tmp_path / "two", two, "1.22")
    assert "    ip_hash;\n    hash $uri;\n    keepalive 16;\n}" in fixed


def test_ngx211_balancer_from_an_include_gets_no_fix(tmp_path: Path) -> None:
    text = BALANCER_AFTER.replace("    least_conn;  # the idlest backend\n", "    include balancer.conf;\n")
    result = check_files(
        tmp_path,
        {"site.conf": text, "balancer.conf": "least_conn;\n"},
        {"select": ["NGX211"], "nginx": {"version": "1.22"}},
    )
    [finding] = result.findings
    assert finding.fix is None
    assert finding.fix_note.startswith("move `least_conn` above `keepalive 16` by hand (a line from an")


# --------------------------------------------------------------------------- NGX401

TLS = "listen 443 ssl; ssl_certificate /etc/ssl/a.pem; ssl_certificate_key /etc/ssl/a.key;"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # http-level good format, inherited by the server: fine.
        ("log_format t '$ssl_protocol $ssl_session_reused'; access_log /l t; server { %s }", set()),
        # ...but the server's own line drops it (all or nothing) and uses combined.
        (
            "log_format t '$ssl_protocol $ssl_session_reused'; access_log /l t; server { %s access_log /s; }",
            {5},
        ),
        # One of several logs at a level is enough.
        (
            "log_format t '$ssl_protocol ${ssl_session_reused}';"
            " server { %s access_log /s; access_log /t t; }",
            set(),
        ),
        # Reused without protocol is not enough.
        ("log_format r '$ssl_session_reused'; server { %s access_log /s r; }", {5}),
        # access_log off at the server: nothing logged; a location that logs again is judged.
        ("server { %s access_log off; location /x { access_log /x; } }", {5}),
        # A format this file does not declare: not judged.
        ("server { %s access_log /s main; }", set()),
        # Parameters after the path are not a format name (so combined).
        ("server { %s access_log /s buffer=32k flush=5s; }", {5}),
        # A plain-http server is out of scope.
        ("server { listen 80; }", set()),
    ],
)
def test_ngx401_inheritance_and_formats(tmp_path: Path, body: str, expected: set[int]) -> None:
    text = "events {}\nhttp {\n\n\n" + (body % TLS if "%s" in body else body) + "\n}\n"
    result = lint(tmp_path, text, "1.22", name="nginx.conf")
    assert {f.location.line for f in only(result, "NGX401")} == expected
    assert all(f.severity == INFO and f.fix is None and f.fix_note for f in result.findings)


def test_ngx401_one_finding_for_an_http_level_line_shared_by_servers(tmp_path: Path) -> None:
    """One cause (the http-level line), one finding at it, naming every TLS server that
    logs by it, each as a related place at its server, and covering the per-server
    findings of older runs (baselines); a server with lines of its own is its own cause."""
    text = (
        "http {\n    access_log /var/log/nginx/access.log;\n"
        f"    server {{ {TLS} }}\n    server {{ {TLS} server_name b; }}\n"
        f"    server {{ listen 80; }}\n    server {{ listen 8443 ssl; server_name c; }}\n"
        f"    server {{ listen 9443 ssl; server_name d; access_log /d.log; }}\n}}\n"
    )
    shared, own = only(lint(tmp_path, text, "1.22", name="nginx.conf"), "NGX401")
    assert shared.location.line == 2 and shared.anchor == "http > access_log"
    assert shared.message == (
        "3 TLS servers (server[*:443], server[b@*:443], server[c@*:8443]) log with format combined "
        "(set in http), which has no $ssl_session_reused and no $ssl_protocol: full handshakes "
        "cannot be counted"
    )
    assert [(r.location.line, r.message) for r in shared.related] == [
        (3, "TLS server[*:443]"), (4, "TLS server[b@*:443]"), (6, "TLS server[c@*:8443]"),
    ]  # fmt: skip
    assert [anchor for _, anchor in shared.covers] == [
        "http > server[443] > access_log", "http > server[b] > access_log", "http > server[c] > access_log",
    ]  # fmt: skip
    assert own.location.line == 7
    assert own.message.startswith("TLS server[d@*:9443] logs with format combined,")
    # One server inheriting the line: its finding, as before.
    alone = f"http {{\n    access_log /var/log/nginx/access.log;\n    server {{ {TLS} }}\n}}\n"
    [finding] = only(lint(tmp_path / "alone", alone, "1.22", name="nginx.conf"), "NGX401")
    assert finding.location.line == 2 and finding.anchor == "http > server[443] > access_log"
    assert finding.message.startswith("TLS server[*:443] logs with format combined (set in http)")


def test_ngx401_one_finding_for_an_included_line_that_decides_for_several_servers(tmp_path: Path) -> None:
    """A line of a file that several servers include is each server's own line, and one
    cause, as an http-level line is: one finding at it, naming every TLS server it logs
    for (mailcow's sites-default.conf, included by two servers, named only the first)."""
    text = (
        "events {}\nhttp {\n    log_format tls '$ssl_protocol $ssl_session_reused';\n"
        f"    server {{ {TLS} server_name a.example; include common.conf; }}\n"
        f"    server {{ {TLS} server_name b.example; include common.conf; }}\n"
        "    server { listen 80; server_name c.example; include common.conf; }\n"
        f"    server {{ {TLS} server_name d.example; access_log off;"
        " location / { include common.conf; } }\n"
        # Lines of its own beside the included one: judged by them all.
        f"    server {{ {TLS} server_name e.example; include common.conf; access_log /e.log tls; }}\n"
        "}\n"
    )
    files = {"nginx.conf": text, "common.conf": "access_log /var/log/nginx/x.log;\n"}
    [finding] = only(check_files(tmp_path, files, {"select": MINE, "nginx": {"version": "1.25.3"}}), "NGX401")
    assert (finding.location.path.name, finding.location.line) == ("common.conf", 1)
    assert finding.message == (
        "TLS server[a.example@*:443], TLS server[b.example@*:443] and location[/] of TLS "
        "server[d.example@*:443] log with format combined, which has no $ssl_session_reused and no "
        "$ssl_protocol: full handshakes cannot be counted"
    )
    assert [(r.location.line, r.message) for r in finding.related] == [
        (4, "TLS server[a.example@*:443]"), (5, "TLS server[b.example@*:443]"),
        (7, "location[/] of TLS server[d.example@*:443]"),
    ]  # fmt: skip
    # Included by one TLS server only: that server's finding, as before.
    alone = {
        **files,
        "nginx.conf": "".join(line for line in text.splitlines(True) if not re.search("[ad].example", line)),
    }
    [finding] = only(check_files(tmp_path / "alone", alone, {"select": MINE}), "NGX401")
    assert finding.message.startswith("TLS server[b.example@*:443] logs with format combined,")
    assert finding.related == ()


def test_ngx401_the_shared_line_is_suppressed_where_it_is(tmp_path: Path) -> None:
    """Every server's place is the shared line, so a comment there suppresses the cause."""
    text = (
        "http {\n    access_log /var/log/nginx/access.log;  # tlslint: disable=NGX401 reviewed\n"
        f"    server {{ {TLS} }}\n    server {{ {TLS} server_name b; }}\n}}\n"
    )
    assert only(lint(tmp_path, text, "1.22", name="nginx.conf"), "NGX401") == []


def test_ngx401_server_snippet_is_judged_by_its_own_lines_only(tmp_path: Path) -> None:
    assert not only(lint(tmp_path / "a", "ssl_protocols TLSv1.2;\n", "1.22"), "NGX401")
    own = "ssl_protocols TLSv1.2;\naccess_log /var/log/x.log;\n"
    assert [f.location.line for f in only(lint(tmp_path / "b", own, "1.22"), "NGX401")] == [2]


# --------------------------------------------------------------------------- corpus pins


def corpus_dir() -> Path:
    return shared_path("corpus", "nginx")


PEERTUBE = "Chocobozzz__PeerTube__support_nginx_peertube"
LEMMY = "LemmyNet__lemmy__docker_nginx.conf"
DISCOURSE = "discourse__discourse__config_nginx.sample.conf"
GITLAB = "gitlabhq__gitlabhq__lib_support_nginx_gitlab-ssl"
JITSI = "jitsi__jitsi-meet__doc_debian_jitsi-meet_jitsi-meet.example"
MISSKEY = "misskey-dev__misskey__docs_examples_misskey.nginx"
NEXTCLOUD = "nextcloud__documentation__admin_manual_installation_nginx-root.conf.sample"
MOZ = "mozilla__ssl-config-generator__GENERATED_"

# What each corpus file gives on 1.22 (before upstream keepalive defaults) and on 1.30.
CORPUS_PINS: dict[str, dict[str, set[tuple[str, int, Severity]]]] = {
    # `upstream backend { server ${PEERTUBE_HOST}; }` has no keepalive (line 20): 1.22 only.
    # @api_websocket (Connection "upgrade") is WebSocket-only: no NGX213. The 443 server
    # logs to peertube.access.log in the combined format (line 29).
    PEERTUBE: {
        "1.22": {("NGX210", 20, W), ("NGX401", 29, INFO)},
        "1.30": {("NGX401", 29, INFO)},
    },
    # Two upstreams without keepalive; lemmy-ui is reached only through
    # `set $proxpass "http://lemmy-ui"; proxy_pass $proxpass;`. The API location sends
    # Connection "upgrade" as a constant (line 62). No TLS server: no NGX401.
    LEMMY: {
        "1.22": {("NGX210", 6, W), ("NGX210", 10, W), ("NGX213", 62, INFO)},
        "1.30": {("NGX213", 62, INFO)},
    },
    # The 4-server unix-socket upstream without keepalive (facts §6), and the avatar proxy
    # to https://avatars.discourse.org/ (an implicit https upstream: error, every version).
    # Its HTTPS server lines are commented out: no NGX401.
    DISCOURSE: {
        "1.22": {("NGX210", 6, W), ("NGX212", 216, E)},
        "1.30": {("NGX212", 216, E)},
    },
    GITLAB: {
        "1.22": {("NGX210", 41, W), ("NGX210", 45, W), ("NGX401", 109, INFO)},
        "1.30": {("NGX401", 109, INFO)},
    },
    # BOSH proxies to http://localhost:5280 (implicit); /xmpp-websocket is WebSocket-only
    # (and has variables): neither NGX212 nor NGX213 there.
    JITSI: {
        "1.22": {("NGX212", 68, W), ("NGX401", 19, INFO)},
        "1.30": {("NGX212", 68, W), ("NGX401", 19, INFO)},
    },
    # proxy_pass http://127.0.0.1:3000 (implicit). Its map's `'' close` only matters once
    # an upstream{} keeps connections (NGX211 after the NGX212 fix).
    MISSKEY: {
        "1.22": {("NGX212", 52, W), ("NGX401", 27, INFO)},
        "1.30": {("NGX212", 52, W), ("NGX401", 27, INFO)},
    },
    # The FastCGI upstream php-handler without keepalive is out of NGX210's scope.
    NEXTCLOUD: {
        "1.22": {("NGX401", 26, INFO)},
        "1.30": {("NGX401", 26, INFO)},
    },
    # h5bp's server files include h5bp/tls/*.conf, which the flat corpus does not hold: an
    # access_log may be in them, so a missing one is not reported (NGX002 says why).
    "h5bp__server-configs-nginx__conf.d_.default.conf": {"1.22": set(), "1.30": set()},
    "h5bp__server-configs-nginx__conf.d_templates_example.com.conf": {"1.22": set(), "1.30": set()},
    MOZ + "intermediate_nginx1.27.3_openssl3.4.0.conf": {
        "1.22": {("NGX401", 6, INFO)},
        "1.30": {("NGX401", 6, INFO)},
    },
    MOZ + "modern_nginx1.27.3_openssl3.4.0.conf": {
        "1.22": {("NGX401", 6, INFO)},
        "1.30": {("NGX401", 6, INFO)},
    },
    MOZ + "old_guideline5.8_nginx1.27.3_openssl3.4.0.conf": {
        "1.22": {("NGX401", 6, INFO)},
        "1.30": {("NGX401", 6, INFO)},
    },
    # No upstreams, proxy_pass or TLS servers in these (h5bp's nginx.conf logs with
    # `main`, but its servers are in conf.d, which the flat corpus does not hold).
    "debian__nginx-pkg-1.22.1-9+deb12u11__etc_nginx_nginx.conf": {"1.22": set(), "1.30": set()},
    "debian__nginx-pkg-1.22.1-9+deb12u11__etc_nginx_sites-available_default": {"1.22": set(), "1.30": set()},
    "h5bp__server-configs-nginx__h5bp_tls_ssl_engine.conf": {"1.22": set(), "1.30": set()},
    "h5bp__server-configs-nginx__nginx.conf": {"1.22": set(), "1.30": set()},
    "nginx__nginx__conf_nginx.conf": {"1.22": set(), "1.30": set()},
}
PIN_PARAMS = [(name, version) for name in CORPUS_PINS for version in ("1.22", "1.30")]


def test_every_corpus_file_is_pinned() -> None:
    names = {p.name for p in corpus_dir().iterdir() if p.name not in ("MANIFEST.tsv", "SOURCES.txt")}
    assert names == set(CORPUS_PINS)


@pytest.mark.parametrize(("name", "version"), PIN_PARAMS, ids=[f"{n[:24]}-{v}" for n, v in PIN_PARAMS])
def test_corpus_pins(name: str, version: str) -> None:
    corpus = corpus_dir()
    result = run([corpus / name], settings_for(corpus, {"select": MINE, "nginx": {"version": version}}))
    # What does not load is reported whatever the selection: h5bp's includes, whose tree
    # the corpus does not hold (NGX002), are no finding of these rules.
    assert {f.code for f in result.findings if f.code not in MINE} <= {"NGX002"}
    assert {pin for pin in found(result) if pin[0] in MINE} == CORPUS_PINS[name][version]


UPSTREAM_FILES = [PEERTUBE, LEMMY, DISCOURSE, GITLAB, JITSI, MISSKEY]


@pytest.mark.nginx
@pytest.mark.parametrize("name", UPSTREAM_FILES)
def test_corpus_fixed_for_122_is_clean_and_valid(tmp_path: Path, name: str) -> None:
    """--fix --unsafe-fixes with nginx.version 1.22: no NGX21x left, and nginx -t still passes
    (PeerTube's envsubst placeholders are substituted first, as its MANIFEST row does)."""
    original = (corpus_dir() / name).read_text(encoding="utf-8")
    if name == PEERTUBE:
        original = original.replace("${PEERTUBE_HOST}", "127.0.0.1:9000").replace(
            "${WEBSERVER_HOST}", "peertube.test"
        )
    path = tmp_path / "site.conf"
    path.write_text(original, encoding="utf-8")
    settings = settings_for(tmp_path, {"select": MINE, "nginx": {"version": "1.22"}})
    apply_fixes(run([path], settings), settings, unsafe=True, write=True)
    fixed = path.read_text(encoding="utf-8")
    assert fixed != original
    left = {f.code for f in run([path], settings).findings}
    assert left <= {"NGX401"}, left
    result = nginx_t(fixed)
    assert result.ok, result.describe()


def test_corpus_gitlab_fix_keeps_unix_socket_upstreams_and_location_headers(tmp_path: Path) -> None:
    shutil.copyfile(corpus_dir() / GITLAB, tmp_path / "gitlab.conf")
    (tmp_path / "gitlab.conf").chmod(0o644)
    fixed = fix(tmp_path, (tmp_path / "gitlab.conf").read_text(), "1.22", name="gitlab.conf")
    assert (
        "  server unix:/home/git/gitlab/tmp/sockets/gitlab.socket fail_timeout=0;\n  keepalive 32;\n}"
        in fixed
    )
    assert fixed.count('proxy_set_header Connection "";') == 3  # /uploads/, @gitlab, @gitlab-workhorse


def test_ngx401_page_format_is_the_one_nginx_t_checks() -> None:
    """The log_format the rule page recommends is the `good` example run through nginx -t."""
    from tlslint import catalogue

    entry = catalogue.load_entries()["NGX401"]
    page = entry["fix"].split("```nginx\n", 1)[1].split("```", 1)[0]
    recommended = [line.strip() for line in page.splitlines() if not line.strip().startswith("access_log")]
    good = next(e["good"] for e in entry["examples"] if "good" in e and "log_format tls" in e["good"])
    assert all(line in good for line in recommended if line), recommended


# --------------------------------------------------------------------------- NGX215
def test_ngx215_speaks_only_where_the_file_names_the_host_the_backend_serves(tmp_path: Path) -> None:
    def codes(name: str, text: str) -> list[int]:
        result = lint(tmp_path / name, text, "1.22", select=["NGX215"])
        return sorted(f.location.line for f in result.findings)

    server = "server {{\n    listen 80;\n{body}}}\n"
    location = "    location {path} {{ proxy_pass {target}; }}\n"
    # Reported: a host name with a dot, reached directly or through a `set` variable.
    assert codes(
        "direct", server.format(body=location.format(path="/", target="https://api.partner.example"))
    ) == [3]
    via_set = (
        "    location / {\n        set $to https://api.partner.example;\n        proxy_pass $to;\n    }\n"
    )
    assert codes("set", server.format(body=via_set)) == [5]
    # Not reported: an explicit off (meant), the switch at http level, variables in the host.
    off = "    proxy_ssl_server_name off;\n" + location.format(path="/", target="https://api.partner.example")
    assert codes("off", server.format(body=off)) == []
    on = (
        "http {\n    proxy_ssl_server_name on;\n"
        + server.format(body=location.format(path="/", target="https://api.partner.example"))
        + "}\n"
    )
    assert codes("on", "events {}\n" + on) == []
    assert codes("variable", server.format(body=location.format(path="/", target="https://$host"))) == []
    # An upstream named after one of its servers sends that server's name: not reported.
    named = "upstream api { server api:8443; }\n" + server.format(
        body="    proxy_ssl_server_name on;\n" + location.format(path="/", target="https://api")
    )
    assert codes("service", named) == []


def test_ngx215_switch_on_speaks_only_where_the_servers_name_the_host(tmp_path: Path) -> None:
    """With addresses (or several names) in the upstream, the name the backend serves is
    unknown: the upstream's name may be it. The tester's two cases, proxy and gRPC."""
    proxy = (
        "upstream backend { server 10.0.0.21:8443; server 10.0.0.22:8443; keepalive 8; }\n"
        "server { listen 80; proxy_ssl_server_name on; location / { proxy_pass https://backend; } }\n"
    )
    grpc = (
        "upstream grpc_up { server 10.0.0.21:8443; server 10.0.0.22:8443; keepalive 8; }\n"
        "server { listen 80 http2; grpc_ssl_server_name on; location / { grpc_pass grpcs://grpc_up; } }\n"
    )
    for name, text in (("proxy", proxy), ("grpc", grpc)):
        assert only(lint(tmp_path / name, text, "1.27.3", select=["NGX215"]), "NGX215") == []
        two_names = text.replace("10.0.0.21", "a.api.example").replace("10.0.0.22", "b.api.example")
        assert only(lint(tmp_path / f"{name}-two", two_names, "1.27.3", select=["NGX215"]), "NGX215") == []
        one_name = text.replace("10.0.0.21", "api.example").replace("10.0.0.22", "api.example")
        [finding] = only(lint(tmp_path / f"{name}-one", one_name, "1.27.3", select=["NGX215"]), "NGX215")
        assert "not api.example, the host its server lines name" in finding.message
        assert finding.fix is not None


def test_ngx215_one_finding_for_a_proxy_ssl_name_that_several_locations_inherit(tmp_path: Path) -> None:
    text = (
        "server {\n    listen 80;\n    proxy_ssl_name api.partner.example;\n"
        "    location /a/ { proxy_pass https://10.0.0.21; }\n"
        "    location /b/ { proxy_pass https://10.0.0.22; }\n}\n"
    )
    [finding] = only(lint(tmp_path, text, "1.22", select=["NGX215"]), "NGX215")
    assert finding.location.line == 3 and "is never sent" in finding.message
    assert [note.location.line for note in finding.related] == [4, 5]
    mapping: dict[str, Any] = {"select": ["NGX215"], "nginx": {"version": "1.22"}}
    path = tmp_path / "fixed" / "site.conf"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    settings = settings_for(tmp_path / "fixed", mapping)
    apply_fixes(run([path], settings), settings, unsafe=True, write=True)
    after = path.read_text(encoding="utf-8")
    assert after == text.replace(
        "proxy_ssl_name api.partner.example;\n",
        "proxy_ssl_name api.partner.example;\n    proxy_ssl_server_name on;\n",
    )
    assert_valid_nginx(after)
    assert only(run([path], settings), "NGX215") == []  # a second --fix changes nothing
