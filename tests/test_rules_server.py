"""NGX201-203 (client keep-alive) and NGX301-305 (SNI, protocols, removed syntax).

Beyond the catalogue examples: version awareness (the same text on different
``nginx.version`` values), the wording when no version is configured,
inheritance, the default-server effect, fixes that touch only their lines and
stay valid under the real ``nginx -t`` (Debian's 1.22.1 here), and what the
rules say on the shared corpus. Facts: ../shared/facts/nginx.md §1, §4, §6.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import shared_path
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.findings import Finding, Severity
from tlslint.fixing import apply_fixes

MINE = ["NGX201", "NGX202", "NGX203", "NGX301", "NGX302", "NGX303", "NGX304", "NGX305"]
E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

CERT = "ssl_certificate /etc/ssl/a.pem; ssl_certificate_key /etc/ssl/a.key;"


def _mapping(codes: list[str], version: str | None, extra: dict[str, Any]) -> dict[str, Any]:
    mapping: dict[str, Any] = {"select": codes, **extra}
    if version is not None:
        mapping["nginx"] = {"version": version}
    return mapping


def lint(
    tmp_path: Path,
    text: str,
    codes: str | list[str],
    version: str | None = None,
    name: str = "nginx.conf",
    **extra: Any,
) -> list[Finding]:
    wanted = [codes] if isinstance(codes, str) else codes
    directory = Path(tempfile.mkdtemp(dir=tmp_path))
    result = check_files(directory, {name: text}, _mapping(wanted, version, extra))
    return [f for f in result.findings if f.code in wanted]


def verdicts(findings: list[Finding]) -> set[tuple[str, int, Severity]]:
    return {(f.code, f.location.line, f.severity) for f in findings}


def fix(
    tmp_path: Path,
    text: str,
    codes: str | list[str],
    version: str | None = None,
    *,
    unsafe: bool = False,
    name: str = "nginx.conf",
    **extra: Any,
) -> str:
    wanted = [codes] if isinstance(codes, str) else codes
    directory = Path(tempfile.mkdtemp(dir=tmp_path))
    path = directory / name
    path.write_text(text, encoding="utf-8")
    configured = settings_for(directory, _mapping(wanted, version, extra))
    apply_fixes(run([directory], configured), configured, unsafe=unsafe, write=True)
    return path.read_text(encoding="utf-8")


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """Lines only in ``before`` and lines only in ``after`` (a plain line diff)."""
    import difflib

    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


@pytest.fixture
def nginx() -> str:
    from conftest import nginx_binary

    return nginx_binary()


def nginx_accepts(text: str) -> None:
    from nginx_harness import nginx_t

    result = nginx_t(text)
    assert result.ok, result.describe()
    assert not result.errors, result.describe()


# =========================================================================== NGX201


def test_ngx201_server_level_zero(tmp_path: Path) -> None:
    text = (
        f"http {{\n    server {{\n        listen 443 ssl;\n        keepalive_timeout 0;\n"
        f"        {CERT}\n    }}\n}}\n"
    )
    (finding,) = lint(tmp_path, text, "NGX201")
    assert finding.location.line == 4 and finding.severity == W
    assert "new TLS handshake" in finding.message
    assert finding.fix is not None and not finding.fix.safe  # `0` may be deliberate


def test_ngx201_location_overrides_server(tmp_path: Path) -> None:
    text = """http {
    server {
        listen 443 ssl;
        keepalive_timeout 65s;
        location /a/ {
            keepalive_timeout 0;
        }
        location /b/ {
        }
    }
}
"""
    (finding,) = lint(tmp_path, text, "NGX201")
    assert finding.location.line == 6
    assert "(location /a/)" in finding.message
    assert finding.anchor.endswith("location[/a/] > keepalive_timeout")


def test_ngx201_location_restores_keepalive_but_server_zero_still_decides(tmp_path: Path) -> None:
    text = """http {
    keepalive_timeout 0s;
    server {
        listen 443 ssl;
        location /long-poll/ {
            keepalive_timeout 65s;
        }
    }
}
"""
    (finding,) = lint(tmp_path, text, "NGX201")
    assert finding.location.line == 2  # `0s` is zero too; the rest of the server inherits it
    assert finding.anchor == "http > keepalive_timeout"


def test_ngx201_inherited_by_several_servers_is_one_finding(tmp_path: Path) -> None:
    text = """http {
    keepalive_timeout 0;
    server { listen 443 ssl; server_name a.example; }
    server { listen 443 ssl; server_name b.example; }
    server { listen 80; }
}
"""
    (finding,) = lint(tmp_path, text, "NGX201")
    assert "a.example" in finding.message and "b.example" in finding.message
    assert "*:80" not in finding.message


def test_ngx201_plain_http_only_is_silent(tmp_path: Path) -> None:
    text = "http {\n    keepalive_timeout 0;\n    server { listen 80; }\n}\n"
    assert lint(tmp_path, text, "NGX201") == []


def test_ngx201_fix_keeps_header_timeout_and_comment(tmp_path: Path) -> None:
    text = (
        "http {\n    # client side\n    keepalive_timeout 0 30s;  # why not\n"
        "    server { listen 443 ssl; }\n}\n"
    )
    assert fix(tmp_path, text, "NGX201") == text  # unsafe: plain --fix keeps the operator's 0
    after = fix(tmp_path, text, "NGX201", unsafe=True)
    assert changed_lines(text, after) == (
        ["    keepalive_timeout 0 30s;  # why not"],
        ["    keepalive_timeout 75s 30s;  # why not"],
    )


H2_ZERO = f"""http {{
    server {{
        listen 443 ssl http2;
        server_name a.example.com;
        {CERT}
        keepalive_timeout 0;
    }}
}}
"""


def test_ngx201_http2_part_follows_the_version(tmp_path: Path) -> None:
    """keepalive_timeout governs HTTP/2 connections only since 1.19.7 (facts §1); before,
    http2_idle_timeout does, and HTTP/1.x clients alone pay for the 0."""
    (old,) = lint(tmp_path, H2_ZERO, "NGX201", "1.18")
    assert "disables keep-alive for the HTTP/1.x clients of TLS server[a.example.com@*:443]" in old.message
    assert (
        "HTTP/2 connections are not affected before nginx 1.19.7 (nginx.version 1.18.0): "
        "http2_idle_timeout governs them"
    ) in old.message
    assert "so do HTTP/2" not in old.message and "as soon as they are idle" not in old.message
    (new,) = lint(tmp_path, H2_ZERO, "NGX201", "1.22.1")
    assert (
        "disables client keep-alive for TLS server[a.example.com@*:443]: HTTP/1.x clients open a new TCP "
        "connection for every request, and so do HTTP/2 clients"
    ) in new.message
    (unknown,) = lint(tmp_path, H2_ZERO, "NGX201")
    assert (
        "since nginx 1.19.7 HTTP/2 clients open a new TCP connection for every request too" in unknown.message
    )
    assert "before, http2_idle_timeout governs HTTP/2 connections; nginx.version is not configured" in (
        unknown.message
    )
    assert old.severity == new.severity == unknown.severity == W  # HTTP/1.x clients pay on every version


def test_ngx201_http2_part_names_the_servers_that_speak_it(tmp_path: Path) -> None:
    text = f"""http {{
    keepalive_timeout 0;
    {CERT}
    server {{ listen 443 ssl http2; server_name a.example.com; }}
    server {{ listen 8443 ssl; server_name b.example.com; }}
}}
"""
    (finding,) = lint(tmp_path, text, "NGX201", "1.22.1")
    assert "and so do the HTTP/2 clients of server[a.example.com@*:443];" in finding.message
    assert "server[b.example.com@*:8443]" in finding.message  # named, but not for HTTP/2
    (old,) = lint(tmp_path, text, "NGX201", "1.18")
    assert "the HTTP/2 connections of server[a.example.com@*:443] are not affected before nginx 1.19.7" in (
        old.message
    )


def test_ngx201_without_http2_says_nothing_of_it(tmp_path: Path) -> None:
    text = H2_ZERO.replace(" http2;", ";")
    for version in ("1.18", "1.22.1", None):
        (finding,) = lint(tmp_path, text, "NGX201", version)
        assert (
            "HTTP/2" not in finding.message and "every request opens a new TCP connection" in finding.message
        )


# =========================================================================== NGX202


KEEPALIVE = "http {{\n    keepalive_timeout {value};\n    server {{\n        listen 443 ssl;\n    }}\n}}\n"


@pytest.mark.parametrize(
    ("value", "reported"), [("5s", True), ("9", True), ("10s", False), ("0", False), ("1m", False)]
)
def test_ngx202_threshold(tmp_path: Path, value: str, reported: bool) -> None:
    findings = lint(tmp_path, KEEPALIVE.format(value=value), "NGX202")
    assert bool(findings) is reported


def test_ngx202_profile_and_option(tmp_path: Path) -> None:
    text = KEEPALIVE.format(value="30s")
    assert lint(tmp_path, text, "NGX202") == []
    (finding,) = lint(tmp_path, text, "NGX202", profile="throughput")
    assert "minimum 60s" in finding.message
    assert lint(tmp_path, text, "NGX202", rules={"NGX202": {"min": "45s"}})
    assert fix(tmp_path, text, "NGX202", profile="throughput") == text  # a value the operator wrote
    assert fix(tmp_path, text, "NGX202", profile="throughput", unsafe=True) == KEEPALIVE.format(value="60s")


def test_ngx202_raised_minimum_reports_the_default(tmp_path: Path) -> None:
    text = "http {\n    server {\n        listen 443 ssl;\n    }\n}\n"
    options: dict[str, Any] = {"rules": {"NGX202": {"min": "120s"}}}
    (finding,) = lint(tmp_path, text, "NGX202", **options)
    assert "default 75s" in finding.message
    assert fix(tmp_path, text, "NGX202", **options) == (
        "http {\n    keepalive_timeout 120s;\n    server {\n        listen 443 ssl;\n    }\n}\n"
    )


H2_SHORT = f"""http {{
    server {{
        listen 443 ssl http2;
        server_name a.example.com;
        {CERT}
        keepalive_timeout 5s;
    }}
}}
"""
DROPPED = "dropped sooner and come back with a new TCP connection and TLS handshake"


def test_ngx202_http2_part_follows_the_version(tmp_path: Path) -> None:
    """keepalive_timeout bounds idle HTTP/2 connections only since 1.19.7 (facts §1);
    before, http2_idle_timeout (3m by default) does, and only HTTP/1.x clients are dropped
    sooner (measured since: tests/test_live_keepalive.py)."""
    (old,) = lint(tmp_path, H2_SHORT, "NGX202", "1.18")
    assert old.message == (
        f"keepalive_timeout 5s for TLS server[a.example.com@*:443] is below the minimum 10s: idle HTTP/1.x "
        f"clients are {DROPPED}; HTTP/2 connections are not affected before nginx 1.19.7 (nginx.version "
        "1.18.0): http2_idle_timeout governs them"
    )
    (new,) = lint(tmp_path, H2_SHORT, "NGX202", "1.22.1")
    assert new.message.endswith(f"is below the minimum 10s: idle clients are {DROPPED}")
    (unknown,) = lint(tmp_path, H2_SHORT, "NGX202")
    assert unknown.message.endswith(
        f": idle HTTP/1.x clients are {DROPPED}; since nginx 1.19.7 so are HTTP/2 clients (before, "
        "http2_idle_timeout governs HTTP/2 connections; nginx.version is not configured)"
    )
    assert old.severity == new.severity == unknown.severity == W  # HTTP/1.x clients on every version


def test_ngx202_http2_part_names_the_servers_that_speak_it(tmp_path: Path) -> None:
    text = f"""http {{
    keepalive_timeout 5s;
    {CERT}
    server {{ listen 443 ssl http2; server_name a.example.com; }}
    server {{ listen 8443 ssl; server_name b.example.com; }}
}}
"""
    (old,) = lint(tmp_path, text, "NGX202", "1.18")
    assert "for TLS server[a.example.com@*:443], server[b.example.com@*:8443] is below" in old.message
    assert old.message.endswith(
        "the HTTP/2 connections of server[a.example.com@*:443] are not affected before nginx 1.19.7 "
        "(nginx.version 1.18.0): http2_idle_timeout governs them"
    )
    (unknown,) = lint(tmp_path, text, "NGX202")
    assert (
        "; since nginx 1.19.7 so are the HTTP/2 clients of server[a.example.com@*:443] (" in unknown.message
    )
    (new,) = lint(tmp_path, text, "NGX202", "1.22.1")
    assert "HTTP/2" not in new.message and f"idle clients are {DROPPED}" in new.message


def test_ngx202_without_http2_says_nothing_of_it(tmp_path: Path) -> None:
    text = H2_SHORT.replace(" http2;", ";")
    for version in ("1.18", "1.22.1", None):
        (finding,) = lint(tmp_path, text, "NGX202", version)
        assert finding.message.endswith(f"below the minimum 10s: idle clients are {DROPPED}"), version


def test_ngx202_raised_minimum_on_an_old_http2_server(tmp_path: Path) -> None:
    """nginx's default 75s below a raised minimum: before 1.19.7 it bounds the HTTP/1.x
    clients only; one finding for the servers one http-level line would cover."""
    text = f"""http {{
    {CERT}
    server {{ listen 443 ssl http2; server_name a.example.com; }}
    server {{ listen 8443 ssl; server_name b.example.com; }}
}}
"""
    options: dict[str, Any] = {"rules": {"NGX202": {"min": "120s"}}}
    (old,) = lint(tmp_path, text, "NGX202", "1.18", **options)
    assert old.message == (
        "keepalive_timeout is not set for 2 TLS servers (server[a.example.com@*:443], "
        "server[b.example.com@*:8443]): nginx's default 75s is below the minimum 120s; idle HTTP/1.x "
        f"clients are {DROPPED}; the HTTP/2 connections of server[a.example.com@*:443] are not affected "
        "before nginx 1.19.7 (nginx.version 1.18.0): http2_idle_timeout governs them"
    )
    alone = text.replace("    server { listen 8443", "    # server { listen 8443")
    (alone_finding,) = lint(tmp_path, alone, "NGX202", "1.18", **options)
    assert alone_finding.message.startswith(
        "keepalive_timeout is not set for TLS server[a.example.com@*:443]: "
    )
    assert alone_finding.message.endswith(
        "HTTP/2 connections are not affected before nginx 1.19.7 (nginx.version 1.18.0): http2_idle_timeout "
        "governs them"
    )
    (new,) = lint(tmp_path, text, "NGX202", "1.22.1", **options)
    assert new.message.endswith(f"nginx's default 75s is below the minimum 120s; idle clients are {DROPPED}")


def h2_idle(value: str, http2: bool = True) -> str:
    return f"""http {{
    http2_idle_timeout {value};
    {CERT}
    server {{ listen 443 ssl{" http2" if http2 else ""}; server_name a.example.com; }}
    server {{ listen 8443 ssl; server_name b.example.com; }}
}}
"""


def test_ngx202_short_http2_idle_timeout_where_it_counts(tmp_path: Path) -> None:
    """Before 1.19.7 http2_idle_timeout bounds idle HTTP/2 connections (from the server
    level); since, nginx ignores it with a warning (measured on 1.22.1)."""
    (old,) = lint(tmp_path, h2_idle("5s"), "NGX202", "1.18")
    assert old.message == (
        f"http2_idle_timeout 5s for TLS server[a.example.com@*:443] is below the minimum 10s: idle HTTP/2 "
        f"clients are {DROPPED}; before nginx 1.19.7 (nginx.version 1.18.0) this line governs idle HTTP/2 "
        "connections, not keepalive_timeout"
    )
    assert (old.severity, old.location.line) == (W, 2)  # b speaks no HTTP/2: not named
    assert lint(tmp_path, h2_idle("5s"), "NGX202", "1.22.1") == []  # ignored (obsolete)
    (unknown,) = lint(tmp_path, h2_idle("5s"), "NGX202")
    assert unknown.severity == I  # it counts before 1.19.7 only
    assert unknown.message.endswith(
        f": before nginx 1.19.7 idle HTTP/2 clients are {DROPPED}; since 1.19.7 nginx ignores the line "
        "(obsolete: keepalive_timeout governs HTTP/2 connections; nginx.version is not configured)"
    )
    # No server speaks HTTP/2, the value is long enough, or a server sets its own.
    assert lint(tmp_path, h2_idle("5s", http2=False), "NGX202", "1.18") == []
    assert lint(tmp_path, h2_idle("3m"), "NGX202", "1.18") == []
    own = h2_idle("5s").replace(
        "server_name a.example.com;", "server_name a.example.com; http2_idle_timeout 1m;"
    )
    assert lint(tmp_path, own, "NGX202", "1.18") == []
    # The minimum is the rule's: 30s is short under the throughput profile.
    (throughput,) = lint(tmp_path, h2_idle("30s"), "NGX202", "1.18", profile="throughput")
    assert "below the minimum 60s" in throughput.message


def test_ngx202_http2_idle_timeout_fix(tmp_path: Path, nginx: str) -> None:
    text = h2_idle("5s")
    assert fix(tmp_path, text, "NGX202", "1.18") == text  # the operator's value: unsafe
    after = fix(tmp_path, text, "NGX202", "1.18", unsafe=True)
    assert changed_lines(text, after) == (["    http2_idle_timeout 5s;"], ["    http2_idle_timeout 10s;"])
    nginx_accepts(after)


# =========================================================================== NGX203


REQUESTS = "http {{\n    keepalive_requests {value};\n    server {{\n        listen 443 ssl;\n    }}\n}}\n"


def test_ngx203_version_awareness(tmp_path: Path) -> None:
    text = REQUESTS.format(value="100")
    # 100 was nginx's own default before 1.19.10 (facts §1: 100 -> 1000 in 1.19.10) ...
    assert lint(tmp_path, text, "NGX203", "1.18") == []
    # ... and is below it since: the field guide's value (seeds README).
    (on_122,) = lint(tmp_path, text, "NGX203", "1.22")
    assert "below nginx's default of 1000" in on_122.message
    # 1.22 and 1.30 share the default (no change after 1.19.10): the same verdict.
    (on_130,) = lint(tmp_path, text, "NGX203", "1.30")
    assert on_130.message == on_122.message
    assert "not configured" not in on_122.message


def test_ngx203_unknown_version_wording_and_fix(tmp_path: Path) -> None:
    (finding,) = lint(tmp_path, REQUESTS.format(value="500"), "NGX203")
    assert "nginx.version is not configured: before 1.19.10 the default was 100" in finding.message
    # Below the default on some versions only: an open question, at info
    # (docs/version-inference.md), not the rule's warning.
    assert finding.severity == Severity.INFO
    # Removing the line would give 100 on old releases: the fix writes the value instead.
    assert fix(tmp_path, REQUESTS.format(value="500"), "NGX203", unsafe=True) == REQUESTS.format(value="1000")
    # Below 100 is below the default on every version: no hedging, the rule's severity.
    (low,) = lint(tmp_path, REQUESTS.format(value="50"), "NGX203")
    assert "not configured" not in low.message
    assert low.severity == Severity.WARNING


@pytest.mark.parametrize(
    ("value", "version", "options", "severity"),
    [
        ("100", None, {}, Severity.INFO),  # the field guide's value: 1.19.10's default decides
        ("999", None, {}, Severity.INFO),
        ("100", "1.22", {}, Severity.WARNING),  # settled: below the default
        ("99", None, {}, Severity.WARNING),  # below 100 and 1000: settled on every version
        ("500", None, {"rules": {"NGX203": {"min": "1000"}}}, Severity.WARNING),  # no version question
    ],
)
def test_ngx203_severity_follows_whether_the_version_decides(
    tmp_path: Path, value: str, version: str | None, options: dict[str, Any], severity: Severity
) -> None:
    (finding,) = lint(tmp_path, REQUESTS.format(value=value), "NGX203", version, **options)
    assert finding.severity == severity


def test_ngx203_an_image_that_settles_the_version_keeps_the_warning(tmp_path: Path) -> None:
    # nginx:1.22 is the 1.22.x series: the range settles 1.19.10, unlike no version at all.
    files = {"nginx.conf": REQUESTS.format(value="100"), "Dockerfile": "FROM nginx:1.22\n"}
    (finding,) = [
        f for f in check_files(tmp_path, files, {"select": ["NGX203"]}).findings if f.code == "NGX203"
    ]
    assert finding.severity == Severity.WARNING and "not configured" not in finding.message


def test_ngx203_fix_removes_when_the_default_is_enough(tmp_path: Path) -> None:
    text = (
        "http {\n    keepalive_requests 50;  # old tuning\n    server {\n        listen 443 ssl;\n    }\n}\n"
    )
    after = fix(tmp_path, text, "NGX203", "1.18", unsafe=True)  # default 100 there
    assert after == "http {\n    # old tuning\n    server {\n        listen 443 ssl;\n    }\n}\n"


def test_ngx203_location_below_an_inherited_high_value(tmp_path: Path) -> None:
    text = """http {
    server {
        listen 443 ssl;
        keepalive_requests 5000;
        location /api/ {
            keepalive_requests 200;
        }
    }
}
"""
    (finding,) = lint(tmp_path, text, "NGX203", "1.22")
    assert finding.location.line == 6 and "(location /api/)" in finding.message
    assert finding.fix is not None and "server-level 5000" in finding.fix.description
    removed, added = changed_lines(text, fix(tmp_path, text, "NGX203", "1.22", unsafe=True))
    assert removed == ["            keepalive_requests 200;"] and added == []


def test_ngx203_unset_is_silent_without_a_configured_minimum(tmp_path: Path) -> None:
    text = "http {\n    server {\n        listen 443 ssl;\n    }\n}\n"
    for version in ("1.18", "1.22", None):
        assert lint(tmp_path, text, "NGX203", version) == [], version
    (finding,) = lint(tmp_path, text, "NGX203", rules={"NGX203": {"min": "2000"}})
    assert "100 before 1.19.10, 1000 since" in finding.message


def test_ngx203_one_request_per_connection(tmp_path: Path) -> None:
    (finding,) = lint(tmp_path, REQUESTS.format(value="1"), "NGX203", "1.22")
    assert "closed after one request" in finding.message


def test_ngx203_throughput_minimum(tmp_path: Path) -> None:
    (finding,) = lint(tmp_path, REQUESTS.format(value="5000"), "NGX203", "1.22", profile="throughput")
    assert "configured minimum 10000" in finding.message
    fixed = fix(tmp_path, REQUESTS.format(value="5000"), "NGX203", "1.22", profile="throughput", unsafe=True)
    assert fixed == REQUESTS.format(value="10000")


def h2_requests(timeout: str, extra: str = "") -> str:
    return f"""http {{
    server {{
        listen 443 ssl http2;
        server_name a.example.com;
        {CERT}
        keepalive_timeout {timeout};
        keepalive_requests 50;{extra}
    }}
}}
"""


def test_ngx203_http2_part_follows_the_version(tmp_path: Path) -> None:
    """keepalive_requests limits HTTP/2 connections only since 1.19.7; before,
    http2_max_requests does (facts §1)."""
    text = h2_requests("65s")
    (old,) = lint(tmp_path, text, "NGX203", "1.18")
    assert old.message == (
        "keepalive_requests 50 for TLS server[a.example.com@*:443] is below nginx's default of 100 (before "
        "1.19.10): HTTP/1.x clients must reconnect, with a new TLS handshake, after every 50 requests; "
        "HTTP/2 connections are not limited by keepalive_requests before nginx 1.19.7 (nginx.version "
        "1.18.0): http2_max_requests limits them"
    )
    (new,) = lint(tmp_path, text, "NGX203", "1.22.1")
    assert new.message.endswith(": clients must reconnect, with a new TLS handshake, after every 50 requests")
    (unknown,) = lint(tmp_path, text, "NGX203")
    assert (
        "HTTP/1.x clients must reconnect, with a new TLS handshake, after every 50 requests, and since nginx "
        "1.19.7 so must HTTP/2 clients (before, http2_max_requests limits HTTP/2 connections; nginx.version "
        "is not configured)"
    ) in unknown.message
    # An http2_max_requests line changes nothing of it: the HTTP/2 limit before 1.19.7 is
    # said to be its, and since 1.19.7 nginx ignores it (warns: obsolete).
    with_line = h2_requests("65s", "\n        http2_max_requests 5000;")
    assert [f.message for f in lint(tmp_path, with_line, "NGX203", "1.18")] == [old.message]
    assert [f.message for f in lint(tmp_path, with_line, "NGX203", "1.22.1")] == [new.message]


@pytest.mark.parametrize("version", ["1.18", "1.22.1", None])
def test_ngx203_silent_where_keepalive_timeout_0_decides(tmp_path: Path, version: str | None) -> None:
    """With keepalive_timeout 0 an HTTP/1.x connection closes after every request and, since
    1.19.7, an HTTP/2 connection serves one (before, http2_max_requests limits it): the
    limit counts nowhere (measured on 1.22.1: tests/test_live_keepalive.py). NGX201 reports the 0."""
    assert lint(tmp_path, h2_requests("0"), "NGX203", version) == []
    plain = h2_requests("0").replace(" http2;", ";").replace("requests 50", "requests 10")
    assert lint(tmp_path, plain, "NGX203", version) == []
    assert [f.code for f in lint(tmp_path, plain, ["NGX201", "NGX203"], version)] == ["NGX201"]


def test_ngx203_names_only_the_servers_where_the_line_counts(tmp_path: Path) -> None:
    """http{} `keepalive_timeout 0; keepalive_requests 10;`: the server that keeps its
    connections (65s) is limited on both protocols; the one inheriting the 0 is not."""
    text = f"""http {{
    keepalive_timeout 0;
    keepalive_requests 10;
    {CERT}
    server {{
        listen 443 ssl;
        http2 on;
        server_name a.example.com;
        keepalive_timeout 65s;
    }}
    server {{
        listen 443 ssl;
        server_name b.example.com;
    }}
}}
"""
    (finding,) = lint(tmp_path, text, "NGX203", "1.26")
    assert finding.message == (
        "keepalive_requests 10 for TLS server[a.example.com@*:443] is below nginx's default of 1000 (since "
        "1.19.10): clients must reconnect, with a new TLS handshake, after every 10 requests"
    )
    # The unsafe fix still removes the line, which limits nothing on b.example.com.
    assert finding.fix is not None and "remove" in finding.fix.description


def test_ngx203_http2_part_names_its_servers(tmp_path: Path) -> None:
    text = f"""http {{
    keepalive_timeout 0;
    keepalive_requests 10;
    {CERT}
    server {{ listen 443 ssl http2; server_name a.example.com; keepalive_timeout 65s; }}
    server {{ listen 8443 ssl; server_name b.example.com; keepalive_timeout 65s; }}
    server {{
        listen 9443 ssl http2;
        server_name c.example.com;
        location /x/ {{ keepalive_timeout 65s; }}
    }}
}}
"""
    (finding,) = lint(tmp_path, text, "NGX203", "1.22.1")
    assert (
        "for TLS server[a.example.com@*:443], server[b.example.com@*:8443], server[c.example.com@*:9443] "
        "(location /x/) is below" in finding.message
    )
    # c's HTTP/2 connections take the server level's 0 (one request each): only its
    # HTTP/1.x clients of /x/ are limited, so the HTTP/2 part names a alone.
    assert finding.message.endswith(
        "HTTP/1.x clients must reconnect, with a new TLS handshake, after every 10 requests, and so must "
        "the HTTP/2 clients of server[a.example.com@*:443]"
    )


def test_ngx203_one_request_on_an_old_http2_server(tmp_path: Path) -> None:
    text = h2_requests("65s").replace("keepalive_requests 50", "keepalive_requests 1")
    (finding,) = lint(tmp_path, text, "NGX203", "1.18")
    assert (
        "HTTP/1.x connections are closed after one request, as with keepalive_timeout 0; HTTP/2 "
        "connections are not limited by keepalive_requests before nginx 1.19.7" in finding.message
    )


def test_ngx203_configured_minimum_where_the_default_counts(tmp_path: Path) -> None:
    text = f"""http {{
    {CERT}
    server {{ listen 443 ssl http2; server_name a.example.com; }}
    server {{ listen 8443 ssl; server_name b.example.com; }}
    server {{ listen 9443 ssl; server_name c.example.com; keepalive_timeout 0; }}
}}
"""
    options: dict[str, Any] = {"rules": {"NGX203": {"min": "2000"}}}
    (old,) = lint(tmp_path, text, "NGX203", "1.18", **options)
    assert "is not set for 2 TLS servers (server[a.example.com@*:443], server[b.example.com@*:8443])" in (
        old.message
    )  # c closes every connection after one request whatever the limit
    assert (
        "so HTTP/1.x clients reconnect, with a new TLS handshake, that often; the HTTP/2 connections of "
        "server[a.example.com@*:443] are not limited by keepalive_requests before nginx 1.19.7" in old.message
    )
    (new,) = lint(tmp_path, text, "NGX203", "1.22.1", **options)
    assert new.message.endswith("so clients reconnect, with a new TLS handshake, that often")


def h2_max(value: str, http2: bool = True, level: str = "server") -> str:
    line = f"http2_max_requests {value};"
    return f"""http {{
    {line if level == "http" else ""}
    {CERT}
    server {{
        listen 443 ssl{" http2" if http2 else ""};
        server_name a.example.com;
        {line if level == "server" else ""}
    }}
}}
"""


def test_ngx203_low_http2_max_requests_where_it_counts(tmp_path: Path) -> None:
    """Before 1.19.7 http2_max_requests (1000 by default) limits HTTP/2 connections; since,
    nginx ignores it with a warning (measured on 1.22.1: tests/test_live_keepalive.py)."""
    (old,) = lint(tmp_path, h2_max("100"), "NGX203", "1.18")
    assert old.message == (
        "http2_max_requests 100 for TLS server[a.example.com@*:443] is below nginx's default of 1000: HTTP/2 "
        "clients must reconnect, with a new TLS handshake, after every 100 requests; before nginx 1.19.7 "
        "(nginx.version 1.18.0) this line limits HTTP/2 connections, not keepalive_requests"
    )
    assert old.severity == W
    assert lint(tmp_path, h2_max("100"), "NGX203", "1.22.1") == []  # ignored (obsolete)
    (unknown,) = lint(tmp_path, h2_max("100"), "NGX203")
    assert unknown.severity == I  # it counts before 1.19.7 only
    assert unknown.message.endswith(
        ": before nginx 1.19.7 HTTP/2 clients must reconnect, with a new TLS handshake, after every 100 "
        "requests; since 1.19.7 nginx ignores the line (obsolete: keepalive_requests limits HTTP/2 "
        "connections; nginx.version is not configured)"
    )
    # No HTTP/2, or at its default: nothing.
    assert lint(tmp_path, h2_max("100", http2=False), "NGX203", "1.18") == []
    assert lint(tmp_path, h2_max("1000"), "NGX203", "1.18") == []
    (one,) = lint(tmp_path, h2_max("1"), "NGX203", "1.18")
    assert ": every HTTP/2 connection is closed after one request; " in one.message
    # A configured minimum is the threshold for this line too.
    options: dict[str, Any] = {"rules": {"NGX203": {"min": "5000"}}}
    found = lint(tmp_path, h2_max("2000"), "NGX203", "1.18", **options)
    (configured,) = [f for f in found if f.message.startswith("http2_max_requests")]
    assert "is below the configured minimum 5000: " in configured.message
    assert lint(tmp_path, h2_max("2000"), "NGX203", "1.18", rules={"NGX203": {"min": "0"}}) == []


def test_ngx203_http2_max_requests_fix(tmp_path: Path, nginx: str) -> None:
    """Removed where its default (1000) or an http-level line is enough: right on every
    version (1.19.7 and later ignore the line); raised below a configured minimum."""
    text = h2_max("100")
    assert fix(tmp_path, text, "NGX203", "1.18") == text  # the operator's value: unsafe
    removed, added = changed_lines(text, fix(tmp_path, text, "NGX203", None, unsafe=True))
    assert (removed, added) == (["        http2_max_requests 100;"], [])
    under = text.replace("http {\n", "http {\n    http2_max_requests 50;\n")
    # The http level's 50 is what the server would inherit, and it governs no server
    # (the only one sets its own): one finding, raised rather than removed.
    (finding,) = lint(tmp_path, under, "NGX203", "1.18")
    assert finding.location.line == 8 and finding.fix is not None
    assert finding.fix.description == "raise http2_max_requests to 1000"
    options: dict[str, Any] = {"rules": {"NGX203": {"min": "5000"}}}
    after = fix(tmp_path, h2_max("2000"), "NGX203", "1.18", unsafe=True, **options)
    removed, added = changed_lines(h2_max("2000"), after)
    assert removed == ["        http2_max_requests 2000;"]
    assert "        http2_max_requests 5000;" in added  # (beside keepalive_requests 5000 added to http{})
    nginx_accepts(after)


# =========================================================================== NGX301


CATCH_ALL = f"""http {{
    server {{
        listen 443 ssl default_server;
        listen [::]:443 ssl default_server;
        ssl_reject_handshake on;
    }}
    server {{
        listen 443 ssl;
        listen [::]:443 ssl;
        server_name example.com;
        {CERT}
    }}
}}
"""


@pytest.mark.parametrize(("policy", "severity"), [("required", E), ("auto", I), ("forbidden", None)])
def test_ngx301_severity_follows_the_non_sni_policy(
    tmp_path: Path, policy: str, severity: Severity | None
) -> None:
    findings = lint(tmp_path, CATCH_ALL, "NGX301", **{"non-sni": policy})
    if severity is None:
        assert findings == []
        return
    (finding,) = findings  # one default server for both sockets: one finding
    assert finding.severity == severity
    assert finding.location.line == 5
    assert "*:443, [::]:443" in finding.message
    assert "unrecognized_name" in finding.message and "example.com" in finding.message
    assert finding.fix is None and "non-sni" in finding.fix_note


def test_ngx301_first_server_is_the_default_without_default_server(tmp_path: Path) -> None:
    text = f"""http {{
    server {{
        listen 443 ssl;
        ssl_reject_handshake on;
    }}
    server {{
        listen 443 ssl;
        server_name example.com;
        {CERT}
    }}
}}
"""
    assert verdicts(lint(tmp_path, text, "NGX301", **{"non-sni": "required"})) == {("NGX301", 4, E)}
    # The same servers with default_server on the one with a certificate: fine.
    moved = text.replace(
        "listen 443 ssl;\n        server_name", "listen 443 ssl default_server;\n        server_name"
    )
    assert lint(tmp_path, moved, "NGX301", **{"non-sni": "required"}) == []


def test_ngx301_reject_in_a_virtual_server_does_not_matter(tmp_path: Path) -> None:
    text = f"""http {{
    server {{
        listen 443 ssl;
        server_name example.com;
        {CERT}
    }}
    server {{
        listen 443 ssl;
        server_name old.example.com;
        ssl_reject_handshake on;
    }}
}}
"""
    assert lint(tmp_path, text, "NGX301", **{"non-sni": "required"}) == []


def test_ngx301_http_level_reject_inherited_by_the_default(tmp_path: Path) -> None:
    text = f"""http {{
    ssl_reject_handshake on;
    server {{
        listen 443 ssl default_server;
    }}
    server {{
        listen 443 ssl;
        server_name example.com;
        ssl_reject_handshake off;
        {CERT}
    }}
}}
"""
    (finding,) = lint(tmp_path, text, "NGX301", **{"non-sni": "required"})
    assert finding.location.line == 2
    assert [r.location.line for r in finding.related] == [3]


def test_ngx301_certificate_that_needs_sni(tmp_path: Path) -> None:
    text = """http {
    server {
        listen 443 ssl;
        ssl_certificate     /etc/ssl/$ssl_server_name.pem;
        ssl_certificate_key /etc/ssl/$ssl_server_name.key;
    }
}
"""
    (finding,) = lint(tmp_path, text, "NGX301")
    assert finding.location.line == 4 and "$ssl_server_name" in finding.message


def test_ngx301_no_certificate_unless_an_include_is_missing(tmp_path: Path) -> None:
    """A whole configuration without the certificate is refused by nginx: NGX006's error,
    whatever the non-SNI policy; NGX301 does not say it again."""
    text = "http {\n    server {\n        listen 443 ssl;\n    }\n}\n"
    assert lint(tmp_path, text, "NGX301") == []
    (finding,) = lint(tmp_path, text, "NGX006")
    assert "has no ssl_certificate" in finding.message
    with_include = "http {\n    server {\n        listen 443 ssl;\n        include certs.conf;\n    }\n}\n"
    assert lint(tmp_path, with_include, "NGX301") == []
    assert lint(tmp_path, with_include, "NGX006") == []


def test_ngx301_http_level_certificate_is_inherited(tmp_path: Path) -> None:
    text = f"http {{\n    {CERT}\n    server {{\n        listen 443 ssl;\n    }}\n}}\n"
    assert lint(tmp_path, text, "NGX301", **{"non-sni": "required"}) == []


# =========================================================================== NGX302 / NGX303


NO_PROTOCOLS = f"""http {{
    server {{
        listen 443 ssl;
        server_name example.com;
        {CERT}
    }}
}}
"""


def test_ngx302_ngx303_defaults_by_version(tmp_path: Path) -> None:
    codes = ["NGX302", "NGX303"]
    # up to 1.23.3: TLSv1 TLSv1.1 TLSv1.2 (no TLSv1.3, legacy on)
    assert verdicts(lint(tmp_path, NO_PROTOCOLS, codes, "1.22")) == {("NGX302", 2, W), ("NGX303", 2, W)}
    # 1.23.4 .. 1.27.2: TLSv1.3 added, legacy still on
    assert verdicts(lint(tmp_path, NO_PROTOCOLS, codes, "1.26")) == {("NGX303", 2, W)}
    # since 1.27.3: TLSv1.2 TLSv1.3
    assert lint(tmp_path, NO_PROTOCOLS, codes, "1.30") == []


def test_ngx302_ngx303_unknown_version_say_where_it_holds(tmp_path: Path) -> None:
    (tls13,) = lint(tmp_path, NO_PROTOCOLS, "NGX302")
    assert "nginx.version is not configured: this holds on nginx before 1.23.4" in tls13.message
    (legacy,) = lint(tmp_path, NO_PROTOCOLS, "NGX303")
    assert "nginx.version is not configured: this holds on nginx before 1.27.3" in legacy.message
    # The fix is valid on every version, so it is offered.
    assert tls13.fix is not None and legacy.fix is not None


def test_ngx302_ngx303_explicit_list_on_both_versions(tmp_path: Path) -> None:
    text = NO_PROTOCOLS.replace("server_name", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n        server_name")
    for version in ("1.22", "1.30", None):
        found = verdicts(lint(tmp_path, text, ["NGX302", "NGX303"], version))
        assert found == {("NGX302", 4, W), ("NGX303", 4, W)}, version
    (finding,) = lint(tmp_path, text, "NGX303", "1.30")
    assert "not configured" not in finding.message


DEFAULT_LACKS_TLS13 = f"""http {{
    server {{
        listen 443 ssl default_server;
        ssl_protocols TLSv1.2;
        {CERT}
    }}
    server {{
        listen 443 ssl;
        server_name example.com;
        ssl_protocols TLSv1.2 TLSv1.3;
        {CERT}
    }}
}}
"""


def test_ngx302_before_1_29_2_the_default_server_decides(tmp_path: Path) -> None:
    (before,) = lint(tmp_path, DEFAULT_LACKS_TLS13, "NGX302", "1.28")
    assert before.location.line == 4
    assert "server[example.com@*:443]" in before.message  # the vhost is affected ...
    assert "before nginx 1.29.2 only the default server's ssl_protocols takes effect" in before.message
    assert "sets `ssl_protocols TLSv1.2 TLSv1.3`" in before.message  # ... and its own line ignored
    (since,) = lint(tmp_path, DEFAULT_LACKS_TLS13, "NGX302", "1.30")
    assert since.location.line == 4
    assert "example.com" not in since.message and "1.29.2" not in since.message


def both_sockets(name: str, line: str = "") -> str:
    """A TLS server on *:443 and [::]:443, with ``line`` of its own."""
    own = f"        {line}\n" if line else ""
    return (
        f"    server {{\n        listen 443 ssl;\n        listen [::]:443 ssl;\n"
        f"        server_name {name};\n{own}        {CERT}\n    }}\n"
    )


def test_ngx302_ngx303_a_default_server_of_one_socket_decides_there_only(tmp_path: Path) -> None:
    # GitLab's site beside another: `listen [::]:443 ipv6only=on ssl default_server` makes it
    # the default of the IPv6 socket only; the first server stays the IPv4 socket's default.
    # Its line was said to keep the other server from TLS 1.3 altogether, and that server's
    # own line to be ignored: both hold on [::]:443 only.
    legacy = "        listen 0.0.0.0:443 ssl;\n        listen [::]:443 ipv6only=on ssl default_server;\n"
    text = (
        "http {\n"
        + both_sockets("a.example.com", "ssl_protocols TLSv1.2 TLSv1.3;")
        + both_sockets("legacy.example.com", "ssl_protocols TLSv1 TLSv1.1 TLSv1.2;").replace(
            "        listen 443 ssl;\n        listen [::]:443 ssl;\n", legacy
        )
        + "}\n"
    )
    for code in ("NGX302", "NGX303"):
        (finding,) = lint(tmp_path, text, code, "1.28")
        assert (
            finding.location.line
            == text.splitlines().index("        ssl_protocols TLSv1 TLSv1.1 TLSv1.2;") + 1
        )
        assert "server[a.example.com@*:443,[::]:443] on [::]:443" in finding.message
        assert "server[legacy.example.com@*:443,[::]:443] on [::]:443" in finding.message
        assert "sets `ssl_protocols TLSv1.2 TLSv1.3`, ignored on [::]:443" in finding.message
        (since,) = lint(tmp_path, text, code, "1.30")  # each server decides its own
        assert "a.example.com" not in since.message and " on [::]:443" not in since.message
        # Unknown: on [::]:443 the legacy line decides on every version, so that is what is said.
        (unknown,) = lint(tmp_path, text, code)
        assert "server[legacy.example.com@*:443,[::]:443] on [::]:443" in unknown.message
    # Two default servers whose lines agree (nginx's default on both sockets) decide on
    # every socket of a vhost: no socket is named.
    agreeing = text.replace("        ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n", "").replace(
        "        ssl_protocols TLSv1.2 TLSv1.3;\n", ""
    )
    (default,) = lint(tmp_path, agreeing, "NGX303", "1.26")
    assert "server[a.example.com@*:443,[::]:443]," in default.message
    assert " on *:443" not in default.message and " on [::]:443" not in default.message


def test_ngx101_names_the_sockets_whose_default_server_has_no_cache(tmp_path: Path) -> None:
    # The IPv4 socket's default server has a cache, the IPv6 socket's (a reject catch-all)
    # none: the vhost was said to resume only with tickets, though on *:443 its sessions
    # resume in the IPv4 default's cache (facts: the default server's cache is used).
    catch_all = (
        "    server {\n        listen [::]:443 ipv6only=on ssl default_server;\n"
        "        ssl_reject_handshake on;\n    }\n"
    )
    text = (
        "http {\n"
        + both_sockets("a.example.com", "ssl_session_cache shared:A:10m;")
        + catch_all
        + both_sockets("c.example.com")
        + "}\n"
    )
    findings = lint(tmp_path, text, "NGX101", "1.26")
    (vhost,) = [f for f in findings if "c.example.com" in f.message]
    assert (
        "on [::]:443, whose default server has none either, only session tickets can resume" in vhost.message
    )
    assert (
        "on *:443 its sessions resume in the cache of the default server server[a.example.com"
        in vhost.message
    )
    # With the cache on the IPv6 catch-all too, nothing is missing anywhere.
    both = text.replace(
        "ssl_reject_handshake on;", "ssl_reject_handshake on;\n        ssl_session_cache shared:A:10m;"
    )
    assert [f for f in lint(tmp_path, both, "NGX101", "1.26") if "c.example.com" in f.message] == []


def test_ngx107_a_default_server_of_one_socket_is_a_vhost_on_another(tmp_path: Path) -> None:
    # a.example.com is the default of *:443 (the first server there) and a virtual server
    # on [::]:443, whose default is a catch-all without a cache: its cache serves IPv4
    # clients only. It was skipped as "a default server".
    catch_all = (
        "    server {\n        listen [::]:443 ipv6only=on ssl default_server;\n"
        "        ssl_reject_handshake on;\n    }\n"
    )
    text = "http {\n" + both_sockets("a.example.com", "ssl_session_cache shared:A:10m;") + catch_all + "}\n"
    (finding,) = lint(tmp_path, text, "NGX107", "1.26")
    assert finding.message.startswith(
        "ssl_session_cache here is not used on [::]:443: sessions there are resumed"
    )
    assert "(it is used on *:443, whose default server this is)" in finding.message
    fixed = fix(tmp_path, text, "NGX107", "1.26")
    assert "ssl_session_cache shared:A:10m;" in fixed.split("server {")[0]  # moved to http{}
    assert lint(tmp_path, fixed, "NGX107", "1.26") == []


def test_ngx302_vhost_own_value_counts_only_since_1_29_2(tmp_path: Path) -> None:
    text = f"""http {{
    server {{
        listen 443 ssl default_server;
        ssl_protocols TLSv1.2 TLSv1.3;
        {CERT}
    }}
    server {{
        listen 443 ssl;
        server_name legacy.example.com;
        ssl_protocols TLSv1.2;
        {CERT}
    }}
}}
"""
    assert lint(tmp_path, text, "NGX302", "1.28") == []  # the vhost's line is ignored there
    assert verdicts(lint(tmp_path, text, "NGX302", "1.30")) == {("NGX302", 10, W)}
    (unknown,) = lint(tmp_path, text, "NGX302")
    assert unknown.location.line == 10 and "this holds on nginx 1.29.2 and later" in unknown.message


def test_ngx302_ngx303_unknown_version_names_each_servers_versions(tmp_path: Path) -> None:
    # The default server's own line decides for itself on every version, and for the vhost
    # (which inherits http{}'s good line) only before 1.29.2: the finding stays a warning
    # for a.example, and names b.example with its versions, not as affected everywhere.
    template = f"""http {{
    ssl_protocols GOOD;
    server {{
        listen 443 ssl default_server;
        server_name a.example;
        ssl_protocols BAD;
        {CERT}
    }}
    server {{
        listen 443 ssl;
        server_name b.example;
        {CERT}
    }}
}}
"""
    cases = {"NGX302": ("TLSv1.2 TLSv1.3", "TLSv1.2"), "NGX303": ("TLSv1.2 TLSv1.3", "TLSv1 TLSv1.2")}
    for code, (good, bad) in cases.items():
        text = template.replace("GOOD", good).replace("BAD", bad)
        (unknown,) = lint(tmp_path, text, code)
        assert unknown.severity == W and unknown.location.line == 6
        assert "server[a.example@*:443], server[b.example@*:443] (on nginx before 1.29.2)" in unknown.message
        assert "nginx.version is not configured; set nginx.version to decide" in unknown.message
        (before,) = lint(tmp_path, text, code, "1.22.1")
        assert "server[b.example@*:443]" in before.message and "(on nginx" not in before.message
        (since,) = lint(tmp_path, text, code, "1.29.2")
        assert "b.example" not in since.message and "(on nginx" not in since.message


def test_ngx303_vhost_without_legacy_still_accepts_it_before_1_29_2(tmp_path: Path) -> None:
    text = DEFAULT_LACKS_TLS13.replace("ssl_protocols TLSv1.2;", "ssl_protocols TLSv1 TLSv1.2 TLSv1.3;")
    (before,) = lint(tmp_path, text, "NGX303", "1.28")
    assert "server[example.com@*:443]" in before.message and "ignored" in before.message
    (since,) = lint(tmp_path, text, "NGX303", "1.30")
    assert "example.com" not in since.message


def test_ngx303_sslv3_is_an_error_and_names_are_case_insensitive(tmp_path: Path) -> None:
    text = NO_PROTOCOLS.replace("server_name", "ssl_protocols sslv3 tlsv1.2 TLSV1.3;\n        server_name")
    (finding,) = lint(tmp_path, text, "NGX303", "1.22")
    assert finding.severity == E and "POODLE" in finding.message
    assert lint(tmp_path, text, "NGX302", "1.22") == []  # tlsv1.3 counts


def test_ngx302_several_lines_in_a_block_add_up(tmp_path: Path) -> None:
    # Measured on 1.22.1: `ssl_protocols TLSv1.2; ssl_protocols TLSv1.3;` offers both.
    text = NO_PROTOCOLS.replace(
        "server_name", "ssl_protocols TLSv1.2;\n        ssl_protocols TLSv1.3;\n        server_name"
    )
    assert lint(tmp_path, text, ["NGX302", "NGX303"], "1.22") == []


def test_ngx303_http_level_line_with_no_visible_server(tmp_path: Path) -> None:
    text = "http {\n    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n    include sites-enabled/*;\n}\n"
    (finding,) = lint(tmp_path, text, "NGX303", "1.30")
    assert finding.location.line == 2 and "every TLS server that does not set its own" in finding.message


def test_ngx302_fix_inserts_at_http_and_keeps_everything_else(tmp_path: Path) -> None:
    text = """http {
    # TLS
    ssl_session_cache shared:SSL:10m;   # resumption

    server {
        listen 443 ssl;
    }
}
"""
    # Unsafe even as an addition: it changes who can connect (docs/fix-safety.md).
    assert fix(tmp_path, text, ["NGX302", "NGX303"], "1.22") == text
    after = fix(tmp_path, text, ["NGX302", "NGX303"], "1.22", unsafe=True)
    assert changed_lines(text, after) == ([], ["    ssl_protocols TLSv1.2 TLSv1.3;"])
    assert after.index("ssl_protocols") > after.index("# resumption")


def test_ngx302_fix_in_a_server_only_file_goes_to_the_default_server(tmp_path: Path) -> None:
    text = f"""server {{
    listen 443 ssl default_server;
    {CERT}
}}
server {{
    listen 443 ssl;
    server_name example.com;
    {CERT}
}}
"""
    after = fix(tmp_path, text, "NGX302", "1.22", unsafe=True)
    removed, added = changed_lines(text, after)
    assert removed == [] and added == ["    ssl_protocols TLSv1.2 TLSv1.3;"]
    assert after.index("ssl_protocols") < after.index("server_name")  # in the first (default) server


def test_ngx302_ngx303_fix_by_profile_is_unsafe(tmp_path: Path) -> None:
    text = (
        "http {\n    ssl_protocols TLSv1 TLSv1.2;  # keep\n    server {\n        listen 443 ssl;\n    }\n}\n"
    )
    codes = ["NGX302", "NGX303"]
    # The profile chooses the protocols; under every profile the fix changes who can
    # connect, so plain --fix leaves the line alone.
    for profile in ("modern", "intermediate", "throughput"):
        assert fix(tmp_path, text, codes, "1.22", profile=profile) == text
    assert "ssl_protocols TLSv1.3;  # keep" in fix(
        tmp_path, text, codes, "1.22", profile="modern", unsafe=True
    )
    assert "ssl_protocols TLSv1.2 TLSv1.3;  # keep" in fix(tmp_path, text, codes, "1.22", unsafe=True)
    assert "TLSv1.2 TLSv1.3;  # keep" in fix(tmp_path, text, codes, "1.22", profile="throughput", unsafe=True)


def test_ngx302_no_fix_when_the_option_lacks_tls13(tmp_path: Path) -> None:
    text = "http {\n    ssl_protocols TLSv1.2;\n    server {\n        listen 443 ssl;\n    }\n}\n"
    (finding,) = lint(tmp_path, text, "NGX302", "1.22", rules={"NGX302": {"protocols": "TLSv1.2"}})
    assert finding.fix is None


@pytest.mark.nginx
def test_ngx302_ngx303_fixed_output_passes_nginx_t(nginx: str, tmp_path: Path) -> None:
    codes = ["NGX302", "NGX303"]
    inserted = fix(tmp_path, NO_PROTOCOLS, codes, "1.22", unsafe=True)
    assert "    ssl_protocols TLSv1.2 TLSv1.3;\n" in inserted
    nginx_accepts(inserted)
    legacy = DEFAULT_LACKS_TLS13.replace("ssl_protocols TLSv1.2;", "ssl_protocols TLSv1 TLSv1.1;")
    replaced = fix(tmp_path, legacy, codes, "1.22", unsafe=True)
    assert replaced.count("ssl_protocols TLSv1.2 TLSv1.3;") == 2
    nginx_accepts(replaced)


# =========================================================================== NGX304


SSL_ON = f"""http {{
    server {{
        listen 443;
        listen [::]:443 default_server;  # v6
        server_name example.com;
        ssl on;
        {CERT}
    }}
}}
"""


def test_ngx304_severity_by_version(tmp_path: Path) -> None:
    assert verdicts(lint(tmp_path, SSL_ON, "NGX304", "1.22")) == {("NGX304", 6, W)}
    assert verdicts(lint(tmp_path, SSL_ON, "NGX304", "1.30")) == {("NGX304", 6, E)}
    (old,) = lint(tmp_path, SSL_ON, "NGX304", "1.22")
    assert "deprecated since nginx 1.15.0" in old.message and "nginx -t warns" in old.message
    (older,) = lint(tmp_path, SSL_ON, "NGX304", "1.14.2")  # nginx -t warns from 1.15.0 only
    assert "deprecated since nginx 1.15.0 and removed" in older.message and "warns" not in older.message
    (new,) = lint(tmp_path, SSL_ON, "NGX304", "1.30")
    assert 'refuses to start (`unknown directive "ssl"`)' in new.message
    # No version set: `ssl on` itself proves a release before 1.25.1 (nginx would not
    # start otherwise), so it is the deprecation warning, not a guess.
    (inferred,) = lint(tmp_path, SSL_ON, "NGX304")
    assert inferred.severity == W and "deprecated since nginx 1.15.0" in inferred.message
    # Next to `http2 on` (1.25.1 or later) nothing is proven (NGX004): open, so info.
    both = SSL_ON.replace("ssl on;", "ssl on;\n        http2 on;")
    (unknown,) = lint(tmp_path, both, "NGX304")
    assert unknown.severity == I
    assert "nginx 1.25.1 and later refuse to start" in unknown.message
    assert "nginx.version is not configured" in unknown.message


def test_ngx304_fix_moves_ssl_onto_the_listen_lines(tmp_path: Path) -> None:
    after = fix(tmp_path, SSL_ON, "NGX304", "1.30")
    removed, added = changed_lines(SSL_ON, after)
    assert removed == [
        "        listen 443;",
        "        listen [::]:443 default_server;  # v6",
        "        ssl on;",
    ]
    assert added == ["        listen 443 ssl;", "        listen [::]:443 default_server ssl;  # v6"]


def test_ngx304_http_level_ssl_on(tmp_path: Path) -> None:
    text = """http {
    ssl on;
    server {
        listen 443;
    }
    server {
        listen 80;
        ssl off;
    }
}
"""
    findings = lint(tmp_path, text, "NGX304", "1.22")
    assert {f.location.line for f in findings} == {2, 8}
    by_line = {f.location.line: f for f in findings}
    assert by_line[8].fix is None and "http-level" in by_line[8].fix_note
    after = fix(tmp_path, text, "NGX304", "1.22")
    assert after == "\n".join(
        [
            "http {",
            "    server {",
            "        listen 443 ssl;",
            "    }",
            "    server {",
            "        listen 80;",
            "    }",
            "}",
            "",
        ]
    )


def test_http_level_ssl_on_makes_its_servers_tls(tmp_path: Path) -> None:
    # `ssl on;` in http{} is inherited (measured on 1.22.1: the server below speaks TLS
    # and, with tickets off and no cache, resumes nothing). The server-level rules used
    # to read only a server's own line: NGX101 was silent and NGX108 called the
    # http-level cache unused.
    text = f"""http {{
    ssl on;
    ssl_session_tickets off;
    {CERT}
    server {{
        listen 443;
        server_name a.example;
    }}
    server {{
        listen 8080;
        server_name plain.example;
        ssl off;
    }}
}}
"""
    codes = ["NGX101", "NGX108", "NGX302"]
    found = lint(tmp_path, text, codes, "1.22")
    assert {(f.code, f.location.line) for f in found} >= {("NGX101", 5), ("NGX302", 5)}
    assert not any("plain.example" in f.message for f in found)
    cache = "ssl_session_tickets off;\n    ssl_session_cache shared:SSL:10m;"
    cached = text.replace("ssl_session_tickets off;", cache)
    assert [f.code for f in lint(tmp_path, cached, codes, "1.22")] == ["NGX302"]


def test_ngx304_line_in_a_file_included_by_two_servers(tmp_path: Path) -> None:
    main = """http {
    server {
        listen 443 default_server;
        include tls.conf;
    }
    server {
        listen 443;
        server_name b.example;
        include tls.conf;
    }
}
"""
    snippet = f"ssl on;\n{CERT}\n"
    directory = Path(tempfile.mkdtemp(dir=tmp_path))
    (directory / "nginx.conf").write_text(main)
    (directory / "tls.conf").write_text(snippet)
    configured = settings_for(directory, _mapping(["NGX304"], "1.30", {}))
    result = run([directory / "nginx.conf"], configured)
    (finding,) = [f for f in result.findings if f.code == "NGX304"]
    assert finding.location.path.name == "tls.conf"
    apply_fixes(result, configured, unsafe=False, write=True)
    assert (directory / "tls.conf").read_text() == f"{CERT}\n"
    assert (directory / "nginx.conf").read_text() == main.replace("listen 443;", "listen 443 ssl;").replace(
        "listen 443 default_server;", "listen 443 default_server ssl;"
    )


def test_ngx304_virtual_server_on_a_plain_socket_loses_its_no_op_line(tmp_path: Path) -> None:
    # Measured on 1.22.1: only the default server's `ssl on` counts; this socket is plain.
    # The listen parameter would make it TLS for its cert-less default server too, which
    # nginx refuses (tester: `no "ssl_certificate" is defined for the "listen ... ssl"
    # directive`): the no-op line is removed, safely, and the socket stays plain.
    text = """http {
    server {
        listen 8080;
        return 204;
    }
    server {
        listen 8080;
        server_name b.example;
        ssl on;
        ssl_certificate c.pem;
        ssl_certificate_key k.pem;
    }
}
"""
    (finding,) = lint(tmp_path, text, "NGX304", "1.22")
    assert finding.fix is not None and finding.fix.safe
    assert "*:8080 speaks plain HTTP today and stays plain" in finding.fix.description
    assert fix(tmp_path, text, "NGX304", "1.22") == text.replace("        ssl on;\n", "")


@pytest.mark.nginx
def test_ngx304_virtual_server_on_a_plain_socket_fix_passes_nginx_t(nginx: str, tmp_path: Path) -> None:
    from nginx_harness import nginx_t

    text = f"""http {{
    server {{
        listen 8080;
        return 204;
    }}
    server {{
        listen 8080;
        server_name b.example;
        ssl on;
        {CERT}
    }}
}}
"""
    fixed = fix(tmp_path, text, "NGX304", "1.22", unsafe=True)
    assert "ssl on" not in fixed and "8080 ssl" not in fixed
    after = nginx_t(fixed)
    assert after.ok, after.describe()


@pytest.mark.nginx
def test_ngx304_fixed_output_passes_nginx_t_without_the_warning(nginx: str, tmp_path: Path) -> None:
    from nginx_harness import nginx_t

    before = nginx_t(SSL_ON)
    assert before.ok and any('"ssl" directive is deprecated' in w for w in before.warnings)
    after = nginx_t(fix(tmp_path, SSL_ON, "NGX304", "1.22"))
    assert after.ok and after.warnings == [], after.describe()


# =========================================================================== NGX305


HTTP2_ON = f"""http {{
    server {{
        listen 443 ssl;
        listen [::]:443 ssl;  # v6
        http2 on;
        server_name example.com;
        {CERT}
    }}
    server {{
        listen 80;
        return 301 https://$host$request_uri;
    }}
}}
"""
LISTEN_HTTP2 = f"""http {{
    server {{
        listen 443 ssl http2;
        server_name example.com;
        {CERT}
    }}
    server {{
        listen 443 ssl;
        server_name api.example.com;
        {CERT}
    }}
    server {{
        listen 80;
    }}
}}
"""


def test_ngx305_version_awareness(tmp_path: Path) -> None:
    assert verdicts(lint(tmp_path, HTTP2_ON, "NGX305", "1.22")) == {("NGX305", 5, E)}
    assert lint(tmp_path, HTTP2_ON, "NGX305", "1.30") == []
    assert lint(tmp_path, LISTEN_HTTP2, "NGX305", "1.22") == []
    assert verdicts(lint(tmp_path, LISTEN_HTTP2, "NGX305", "1.30")) == {("NGX305", 3, W)}
    (finding,) = lint(tmp_path, HTTP2_ON, "NGX305", "1.22")
    assert 'refuses to start (`unknown directive "http2"`)' in finding.message
    (deprecated,) = lint(tmp_path, LISTEN_HTTP2, "NGX305", "1.30")
    assert 'the "listen ... http2" directive is deprecated' in deprecated.message


def test_ngx305_unknown_version(tmp_path: Path) -> None:
    # `http2 on;` proves 1.25.1 or later: nginx would refuse it before. Nothing to say.
    assert lint(tmp_path, HTTP2_ON, "NGX305") == []
    (listen,) = lint(tmp_path, LISTEN_HTTP2, "NGX305")
    assert listen.severity == I and listen.fix is None
    assert "not configured" in listen.message
    # Next to `ssl on` (before 1.25.1) nothing is proven (NGX004): open, so info.
    both = HTTP2_ON.replace("http2 on;", "http2 on;\n        ssl on;")
    (directive,) = lint(tmp_path, both, "NGX305")
    assert directive.severity == I and directive.fix is None
    assert "appeared in nginx 1.25.1" in directive.message and "not configured" in directive.message


def test_ngx305_before_1_25_1_fix_uses_the_listen_parameter(tmp_path: Path) -> None:
    after = fix(tmp_path, HTTP2_ON, "NGX305", "1.22")
    removed, added = changed_lines(HTTP2_ON, after)
    assert removed == ["        listen 443 ssl;", "        listen [::]:443 ssl;  # v6", "        http2 on;"]
    assert added == ["        listen 443 ssl http2;", "        listen [::]:443 ssl http2;  # v6"]
    assert "listen 80;" in after  # a plain listen never gets http2 (it would be HTTP/2-only)


def test_ngx305_before_1_25_1_http_level_and_an_explicit_off(tmp_path: Path) -> None:
    text = f"""http {{
    http2 on;
    server {{
        listen 443 ssl default_server;
        {CERT}
    }}
    server {{
        listen 443 ssl;
        server_name h1.example;
        http2 off;
        {CERT}
    }}
}}
"""
    findings = {f.location.line: f for f in lint(tmp_path, text, "NGX305", "1.22")}
    assert set(findings) == {2, 10}
    http_level, server_off = findings[2], findings[10]
    # The listen parameter would give h1.example HTTP/2 too: that needs a decision.
    assert http_level.fix is not None and not http_level.fix.safe
    assert "h1.example" in http_level.fix.description
    assert server_off.fix is None and "http-level" in server_off.fix_note
    assert fix(tmp_path, text, "NGX305", "1.22") == text


DEFAULT_WITHOUT_HTTP2 = f"""http {{
    server {{
        listen 8443 ssl default_server;
        server_name c.example;
        {CERT}
    }}
    server {{
        listen 8443 ssl;
        server_name b.example;
        http2 on;
        {CERT}
    }}
}}
"""


def test_ngx305_before_1_25_1_the_default_server_would_gain_http2(tmp_path: Path) -> None:
    # Before 1.25.1 the listen parameter is the socket's: c.example (the default server,
    # no `http2 on;`) would negotiate HTTP/2 too, so the fix is the operator's to take.
    (finding,) = lint(tmp_path, DEFAULT_WITHOUT_HTTP2, "NGX305", "1.22")
    assert finding.fix is not None and not finding.fix.safe
    assert "server[c.example@*:8443] would get HTTP/2 too" in finding.fix.description
    assert "b.example" not in finding.fix.description
    assert fix(tmp_path, DEFAULT_WITHOUT_HTTP2, "NGX305", "1.22") == DEFAULT_WITHOUT_HTTP2
    after = fix(tmp_path, DEFAULT_WITHOUT_HTTP2, "NGX305", "1.22", unsafe=True)
    assert changed_lines(DEFAULT_WITHOUT_HTTP2, after) == (
        ["        listen 8443 ssl;", "        http2 on;"],
        ["        listen 8443 ssl http2;"],
    )


def test_ngx305_before_1_25_1_every_server_on_the_socket_in_force(tmp_path: Path) -> None:
    # Both servers say `http2 on;`: moving it to the socket gives nobody anything new.
    both = DEFAULT_WITHOUT_HTTP2.replace(
        "server_name c.example;", "server_name c.example;\n        http2 on;"
    )
    findings = lint(tmp_path, both, "NGX305", "1.22")
    assert len(findings) == 2 and all(f.fix is not None and f.fix.safe for f in findings)
    # An ssl_reject_handshake default server negotiates nothing: it gains nothing either.
    rejecting = DEFAULT_WITHOUT_HTTP2.replace(
        "server_name c.example;", "server_name c.example;\n        ssl_reject_handshake on;"
    )
    (finding,) = lint(tmp_path, rejecting, "NGX305", "1.22")
    assert finding.fix is not None and finding.fix.safe


SNIPPET_SITES = {
    "nginx.conf": "events {}\nhttp {\n    include conf.d/*.conf;\n}\n",
    "conf.d/default.conf": f"server {{\n    listen 443 ssl default_server;\n    {CERT}\n}}\n",
    "conf.d/sites.conf": (
        f"server {{\n    listen 443 ssl;\n    server_name a.example;\n    include h2.conf;\n    {CERT}\n}}\n"
        f"server {{\n    listen 443 ssl;\n    server_name b.example;\n    include h2.conf;\n    {CERT}\n}}\n"
    ),
    "h2.conf": "http2 on;\n",
}


def test_ngx305_before_1_25_1_snippet_shared_by_two_servers(tmp_path: Path) -> None:
    # The snippet's line is in a.example and b.example; the default server, in another
    # file, has no `http2 on;` and would get HTTP/2 from the listen parameter.
    from helpers import fix as fix_files

    mapping = {"select": ["NGX305"], "nginx": {"version": "1.22"}}
    result = check_files(Path(tempfile.mkdtemp(dir=tmp_path)), SNIPPET_SITES, mapping)
    (finding,) = [f for f in result.findings if f.code == "NGX305"]
    assert finding.fix is not None and not finding.fix.safe
    assert "server[*:443] would get HTTP/2 too" in finding.fix.description
    safe = fix_files(Path(tempfile.mkdtemp(dir=tmp_path)), SNIPPET_SITES, mapping)
    assert safe == {name: text.encode() for name, text in SNIPPET_SITES.items()}
    after = fix_files(Path(tempfile.mkdtemp(dir=tmp_path)), SNIPPET_SITES, mapping, unsafe=True)
    assert after["h2.conf"] == b""
    assert after["conf.d/sites.conf"].count(b"listen 443 ssl http2;") == 2
    assert after["conf.d/default.conf"] == SNIPPET_SITES["conf.d/default.conf"].encode()


@pytest.mark.nginx
def test_ngx305_fix_giving_the_socket_http2_passes_nginx_t(nginx: str, tmp_path: Path) -> None:
    from nginx_harness import nginx_t

    assert not nginx_t(DEFAULT_WITHOUT_HTTP2).ok  # unknown directive "http2" on 1.22.1
    nginx_accepts(fix(tmp_path, DEFAULT_WITHOUT_HTTP2, "NGX305", "1.22", unsafe=True))


@pytest.mark.nginx
def test_ngx305_fixed_for_1_22_passes_nginx_t(nginx: str, tmp_path: Path) -> None:
    from nginx_harness import nginx_t

    assert not nginx_t(HTTP2_ON).ok  # unknown directive "http2" on 1.22.1
    nginx_accepts(fix(tmp_path, HTTP2_ON, "NGX305", "1.22"))


def test_ngx305_since_1_25_1_every_server_on_the_socket_keeps_http2(tmp_path: Path) -> None:
    # The listen parameter gave HTTP/2 to api.example.com too (same socket).
    after = fix(tmp_path, LISTEN_HTTP2, "NGX305", "1.30")
    removed, added = changed_lines(LISTEN_HTTP2, after)
    assert removed == ["        listen 443 ssl http2;"]
    assert added == ["        listen 443 ssl;", "        http2 on;", "        http2 on;"]
    assert after.count("http2 on;") == 2 and "listen 80;\n    }" in after


def test_ngx305_http_level_when_equivalent(tmp_path: Path) -> None:
    text = LISTEN_HTTP2.replace("    server {\n        listen 80;\n    }\n", "")
    after = fix(tmp_path, text, "NGX305", "1.30")
    removed, added = changed_lines(text, after)
    assert removed == ["        listen 443 ssl http2;"]
    assert added == ["    http2 on;", "        listen 443 ssl;"]
    assert after.startswith("http {\n    http2 on;\n")


def test_ngx305_listen_parameter_next_to_the_directive(tmp_path: Path) -> None:
    text = (
        f"http {{\n    http2 on;\n    server {{\n        listen 443 ssl http2;\n        {CERT}\n    }}\n}}\n"
    )
    (finding,) = lint(tmp_path, text, "NGX305", "1.30")
    assert finding.fix is not None and "already has `http2 on;`" in finding.fix.description
    assert fix(tmp_path, text, "NGX305", "1.30") == text.replace("listen 443 ssl http2;", "listen 443 ssl;")


def test_ngx305_plain_socket_only_the_default_server_decides(tmp_path: Path) -> None:
    # Plain HTTP/2 (h2c): nginx reads the preface with the default server's settings.
    text = """http {
    server {
        listen 8080 http2;
    }
    server {
        listen 8080;
        server_name other.example;
    }
}
"""
    after = fix(tmp_path, text, "NGX305", "1.30")
    assert after == text.replace("listen 8080 http2;", "listen 8080;\n        http2 on;")


def test_ngx305_explicit_off_on_the_socket_blocks_the_fix(tmp_path: Path) -> None:
    text = LISTEN_HTTP2.replace(
        "server_name api.example.com;", "server_name api.example.com;\n        http2 off;"
    )
    (finding,) = lint(tmp_path, text, "NGX305", "1.30")
    assert finding.fix is None and "http2 off" in finding.fix_note


def test_ngx305_widening_to_another_tls_socket_is_unsafe(tmp_path: Path) -> None:
    text = f"""http {{
    server {{
        listen 443 ssl http2;
        listen 8443 ssl;
        {CERT}
    }}
}}
"""
    (finding,) = lint(tmp_path, text, "NGX305", "1.30")
    assert finding.fix is not None and not finding.fix.safe
    assert "*:8443" in finding.fix.description
    assert fix(tmp_path, text, "NGX305", "1.30") == text


def test_ngx305_both_changes_on_one_listen_line(tmp_path: Path) -> None:
    # Misskey's old example on 1.30: `listen 443 http2;` + `ssl on;` (NGX304 and NGX305).
    text = f"http {{\n    server {{\n        listen 443 http2;\n        ssl on;\n        {CERT}\n    }}\n}}\n"
    after = fix(tmp_path, text, ["NGX304", "NGX305"], "1.30")
    assert (
        after
        == f"http {{\n    server {{\n        listen 443 ssl;\n        http2 on;\n        {CERT}\n    }}\n}}\n"
    )


# =========================================================================== corpus (facts §6)


MOZ = "mozilla__ssl-config-generator__GENERATED_"
GITLAB = "gitlabhq__gitlabhq__lib_support_nginx_gitlab-ssl"
MISSKEY = "misskey-dev__misskey__docs_examples_misskey.nginx"
JITSI = "jitsi__jitsi-meet__doc_debian_jitsi-meet_jitsi-meet.example"
DEBIAN = "debian__nginx-pkg-1.22.1-9+deb12u11__etc_nginx_nginx.conf"
NEXTCLOUD = "nextcloud__documentation__admin_manual_installation_nginx-root.conf.sample"
PEERTUBE = "Chocobozzz__PeerTube__support_nginx_peertube"
H5BP_DEFAULT = "h5bp__server-configs-nginx__conf.d_.default.conf"
H5BP_EXAMPLE = "h5bp__server-configs-nginx__conf.d_templates_example.com.conf"
H5BP_ENGINE = "h5bp__server-configs-nginx__h5bp_tls_ssl_engine.conf"

# The default ssl_protocols of 1.22 (no TLSv1.3, TLSv1/1.1 on) where nothing sets it.
OLD_DEFAULT = {("NGX302", W), ("NGX303", W)}

CORPUS: list[tuple[str, str, set[tuple[str, int, Severity]]]] = [
    # GitLab (old gitlab-ssl): `ssl on;` (deprecated: a warning on 1.22, an error on
    # 1.30, where nginx -t says `unknown directive "ssl"`, §6) and TLSv1/TLSv1.1 listed.
    (GITLAB, "1.22", {("NGX304", 79, W), ("NGX302", 85, W), ("NGX303", 85, W)}),
    (GITLAB, "1.30", {("NGX304", 79, E), ("NGX302", 85, W), ("NGX303", 85, W)}),
    # Misskey (old): `listen 443 http2` + `ssl on;` + `ssl_protocols TLSv1 TLSv1.2`;
    # the listen parameter is only deprecated from 1.25.1.
    (MISSKEY, "1.22", {("NGX304", 31, W), ("NGX302", 43, W), ("NGX303", 43, W)}),
    (
        MISSKEY,
        "1.30",
        {("NGX305", 28, W), ("NGX305", 29, W), ("NGX304", 31, E), ("NGX302", 43, W), ("NGX303", 43, W)},
    ),
    # Jitsi: TLSv1 TLSv1.1 TLSv1.2 explicitly, on every version.
    (JITSI, "1.22", {("NGX302", 24, W), ("NGX303", 24, W)}),
    (JITSI, "1.30", {("NGX302", 24, W), ("NGX303", 24, W)}),
    # Debian's nginx.conf: http-level TLSv1 TLSv1.1 TLSv1.2 TLSv1.3, servers in sites-enabled/.
    (DEBIAN, "1.22", {("NGX303", 33, W)}),
    (DEBIAN, "1.30", {("NGX303", 33, W)}),
    # Mozilla's generator output for 1.27.3: `http2 on;` does not load on 1.22 (§6: fail x3).
    (MOZ + "intermediate_nginx1.27.3_openssl3.4.0.conf", "1.22", {("NGX305", 9, E)}),
    (MOZ + "intermediate_nginx1.27.3_openssl3.4.0.conf", "1.30", set()),
    (MOZ + "modern_nginx1.27.3_openssl3.4.0.conf", "1.22", {("NGX305", 9, E)}),
    (MOZ + "modern_nginx1.27.3_openssl3.4.0.conf", "1.30", set()),
    # ... and "old" lists TLSv1 and TLSv1.1 on purpose.
    (MOZ + "old_guideline5.8_nginx1.27.3_openssl3.4.0.conf", "1.22", {("NGX305", 9, E), ("NGX303", 18, W)}),
    (MOZ + "old_guideline5.8_nginx1.27.3_openssl3.4.0.conf", "1.30", {("NGX303", 18, W)}),
    # Nextcloud: `listen ... ssl http2` and no ssl_protocols: the 1.22 default lacks
    # TLSv1.3; on 1.30 the default is fine but the listen parameter is deprecated.
    (NEXTCLOUD, "1.22", {(c, 26, s) for c, s in OLD_DEFAULT}),
    (NEXTCLOUD, "1.30", {("NGX305", 27, W), ("NGX305", 28, W)}),
    # PeerTube: TLSv1.2 TLSv1.3 and keepalive_timeout 10s (= the minimum): only the
    # listen parameter, from 1.25.1.
    (PEERTUBE, "1.22", set()),
    (PEERTUBE, "1.30", {("NGX305", 25, W), ("NGX305", 26, W)}),
    # h5bp: ssl_protocols comes from an include the corpus lacks (policy_*.conf), so
    # nothing is said about the default; the listen parameter is reported on 1.30.
    (H5BP_DEFAULT, "1.22", set()),
    (H5BP_DEFAULT, "1.30", {("NGX305", 13, W), ("NGX305", 14, W)}),
    (H5BP_EXAMPLE, "1.30", {("NGX305", line, W) for line in (13, 14, 29, 30)}),
    # h5bp's ssl_engine.conf checked alone is a server snippet without ssl_protocols: the
    # server that includes it decides (h5bp's policy_*.conf sets them), so nginx's default
    # is not said to apply; keepalive_timeout 300s is fine.
    (H5BP_ENGINE, "1.22", set()),
    (H5BP_ENGINE, "1.30", set()),
    # Plain-HTTP configurations: nothing for these rules.
    ("LemmyNet__lemmy__docker_nginx.conf", "1.22", set()),
    ("discourse__discourse__config_nginx.sample.conf", "1.30", set()),
    ("nginx__nginx__conf_nginx.conf", "1.22", set()),
    ("h5bp__server-configs-nginx__nginx.conf", "1.30", set()),
]


@pytest.mark.parametrize(("name", "version", "expected"), CORPUS, ids=[f"{n[:30]}@{v}" for n, v, _ in CORPUS])
def test_corpus_verdicts(name: str, version: str, expected: set[tuple[str, int, Severity]]) -> None:
    corpus = shared_path("corpus", "nginx")
    result = run([corpus / name], settings_for(corpus, _mapping(MINE, version, {})))
    assert verdicts([f for f in result.findings if f.code in MINE]) == expected
