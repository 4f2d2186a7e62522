"""What a configuration proves about its nginx version (issue 15 §1): the range, its
evidence, the deployment files, the setting's precedence, NGX004, and the rules that
decide by the range. The configurations are hand-written in the shapes real ones have
(many servers with `http2 on;`, Mozilla's generated layout, old `ssl on;` examples)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import shared_files
from helpers import check_files, codes

from tlslint.findings import Finding, Severity
from tlslint.nginx_inference import infer
from tlslint.settings import from_mapping
from tlslint.version_range import DEPLOYMENT, DIRECTIVE, SETTING, UNKNOWN, Evidence, VersionRange

CERT = "ssl_certificate /etc/ssl/site.pem;\n        ssl_certificate_key /etc/ssl/site.key;"


def vhost(name: str, extra: str = "", listen: str = "listen 443 ssl;\n        listen [::]:443 ssl;") -> str:
    return f"""    server {{
        {listen}
        http2 on;
        server_name {name};
        {CERT}
        {extra}
        location / {{
            proxy_pass http://app;
        }}
    }}
"""


def production(servers: int = 14, extra_http: str = "") -> str:
    """The motivating shape: a production edge with `http2 on;` on every server, a
    shared cache and tickets off, no nginx.version anywhere."""
    body = "".join(vhost(f"site{i}.example") for i in range(servers))
    return f"""user www-data;
events {{ worker_connections 1024; }}
http {{
    ssl_session_cache shared:SSL:10m;
    ssl_session_timeout 1d;
    ssl_session_tickets off;
    {extra_http}
    upstream app {{
        server 127.0.0.1:8080;
        keepalive 16;
    }}
{body}}}
"""


def run_tree(
    tmp_path: Path, files: dict[str, str], mapping: dict[str, object] | None = None
) -> list[Finding]:
    return check_files(tmp_path, files, mapping).findings  # type: ignore[arg-type]


def of(code: str, findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code == code]


def inference_of(tmp_path: Path, files: dict[str, str], mapping: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    result = check_files(tmp_path, files, {**(mapping or {}), "select": ["NGX001"]})  # type: ignore[dict-item]
    (config,) = result.workspace.nginx
    return result.workspace.nginx_inference(config)


# --------------------------------------------------------------------------- the range


def test_range_answers() -> None:
    low = Evidence(DIRECTIVE, "`http2 on`", path=Path("nginx.conf"), line=278)
    versions = VersionRange((1, 25, 1), None, low, None)
    assert versions.at_least((1, 23, 4)) is True
    assert versions.at_least((1, 25, 1)) is True
    assert versions.at_least((1, 27, 3)) is None
    assert versions.label() == "≥ 1.25.1"
    assert versions.settled((1, 23, 4)) == "nginx ≥ 1.25.1 (inferred: `http2 on` at nginx.conf:278)"
    assert versions.settled((1, 29, 7)) == ""
    assert versions.representatives([(1, 23, 4), (1, 27, 3), (1, 29, 2)]) == (
        (1, 25, 1),
        (1, 27, 3),
        (1, 29, 2),
    )
    assert versions.decides([(1, 19, 10)]) == (1, 25, 1)
    assert versions.decides([(1, 27, 3)]) is None
    assert (
        versions.unsettled() == "nginx is known only to be ≥ 1.25.1, inferred: `http2 on` at nginx.conf:278"
    )
    assert UNKNOWN.representatives([(1, 23, 4)]) == ((1, 18, 0), (1, 23, 4))
    assert UNKNOWN.unsettled() == "nginx.version is not configured"
    setting = VersionRange.exactly((1, 22, 1), Evidence(SETTING, "nginx.version 1.22.1"))
    assert setting.exact == (1, 22, 1) and setting.at_least((1, 22, 1)) and not setting.at_least((1, 22, 2))
    assert setting.name() == "nginx 1.22.1" and setting.settled((1, 25, 1)) == "nginx.version 1.22.1"
    series = VersionRange(
        (1, 25, 0), (1, 26, 0), Evidence(DEPLOYMENT, "FROM nginx:1.25", Path("Dockerfile"), 1)
    )
    assert (
        series.label() == "1.25.x"
        and series.at_least((1, 25, 1)) is None
        and series.at_least((1, 26, 0)) is False
    )
    assert series.name() == "nginx 1.25.x (FROM nginx:1.25 at Dockerfile:1)"
    below = VersionRange(None, (1, 9, 5), None, None)
    assert below.representatives([(1, 23, 4)]) == ((0, 0, 0),)


def test_http2_on_proves_1_25_1(tmp_path: Path) -> None:
    found = inference_of(tmp_path, {"nginx.conf": production(3)})
    assert found.versions.low == (1, 25, 1) and found.versions.high is None
    assert found.versions.low_by.what == "`http2 on`"
    assert found.versions.low_by.where == "nginx.conf:15"  # the first of the equals, in text order
    assert found.conflicts == ()
    assert [e.what for e in found.evidence].count("`http2 on`") == 3


def test_ssl_on_proves_a_release_before_1_25_1(tmp_path: Path) -> None:
    text = f"""server {{
    listen 443;
    ssl on;
    {CERT}
}}
"""
    found = inference_of(tmp_path, {"gitlab-ssl.conf": text}, None)
    assert (found.versions.low, found.versions.high) == (None, (1, 25, 1))
    assert found.versions.high_by.what == "`ssl on`"


def test_lines_that_no_release_accepts_together(tmp_path: Path) -> None:
    text = production(2).replace("ssl_session_tickets off;", "ssl_session_tickets off;\n    ssl on;")
    found = inference_of(tmp_path, {"nginx.conf": text})
    assert found.versions is UNKNOWN or not found.versions.known
    (conflict,) = found.conflicts
    assert conflict.line.what == "`ssl on`" and conflict.against.what == "`http2 on`"


@pytest.mark.parametrize(
    ("snippet", "low", "high"),
    [
        ("listen 443 quic reuseport;", (1, 25, 0), None),
        ("http3 on;", (1, 25, 0), None),
        ("keepalive_min_timeout 5s;", (1, 27, 4), None),
        ("ssl_certificate_compression on;", (1, 29, 1), None),
        ("keepalive_time 1h;", (1, 19, 10), None),
        ("location / { proxy_http_version 2; proxy_pass https://b; }", (1, 29, 4), None),
        # Obsolete, not removed: nginx warns and starts (source: ngx_http_v2_obsolete).
        ("http2_push_preload on;", None, None),
        ("http2_idle_timeout 3m;", None, None),
        # Old enough to say nothing the rules use.
        ("listen 443 ssl http2;", None, None),
        ("ssl_early_data on;", None, None),
    ],
)
def test_what_a_server_line_proves(tmp_path: Path, snippet: str, low: object, high: object) -> None:
    text = f"http {{\n    server {{\n        listen 80;\n        {snippet}\n    }}\n}}\n"
    found = inference_of(tmp_path, {"nginx.conf": text})
    assert (found.versions.low, found.versions.high) == (low, high)


def test_upstream_keepalive_forms(tmp_path: Path) -> None:
    for line, low in (
        ("keepalive 16 local;", (1, 29, 7)),
        ("keepalive 0;", (1, 29, 7)),
        ("keepalive 16;", None),
    ):
        text = f"upstream app {{\n    server 10.0.0.1:80;\n    {line}\n}}\n"
        assert inference_of(tmp_path / line, {"app.conf": text}).versions.low == low, line
    # keepalive_timeout in upstream{} is 1.15.3: below what the rules describe, so it is
    # evidence only against a declared version older than that (a conflict there).
    text = "upstream app {\n    server 10.0.0.1:80;\n    keepalive 8;\n    keepalive_timeout 30s;\n}\n"
    assert inference_of(tmp_path / "t", {"app.conf": text}).evidence == ()
    old = inference_of(tmp_path / "o", {"app.conf": text}, {"nginx": {"version": "1.14.2"}})
    (conflict,) = old.conflicts
    assert conflict.line.what == "`keepalive_timeout 30s`" and conflict.line.span is not None
    assert conflict.line.span.since == (1, 15, 3)


def test_the_module_decides_which_version_a_name_proves(tmp_path: Path) -> None:
    stream = """events {}
stream {
    server {
        listen 5443 ssl;
        ssl_reject_handshake on;
    }
}
"""
    assert inference_of(tmp_path / "s", {"nginx.conf": stream}).versions.low == (1, 25, 5)
    http = stream.replace("stream {", "http {").replace("5443 ssl", "443 ssl default_server")
    assert inference_of(tmp_path / "h", {"nginx.conf": http}).versions.low == (1, 19, 4)


def test_data_blocks_are_not_directives(tmp_path: Path) -> None:
    """A map's keys are data: a key named like a directive proves nothing."""
    text = """http {
    map $http_upgrade $connection_upgrade {
        default upgrade;
        http2   close;
        ssl     close;
    }
    server {
        listen 80;
    }
}
"""
    found = inference_of(tmp_path, {"nginx.conf": text})
    assert found.evidence == () and not found.versions.known


def test_a_file_included_twice_counts_once(tmp_path: Path) -> None:
    files = {
        "nginx.conf": "events {}\nhttp {\n    server { listen 443 ssl; include h2.conf; }\n"
        "    server { listen 8443 ssl; include h2.conf; }\n}\n",
        "h2.conf": "http2 on;\n",
    }
    found = inference_of(tmp_path, files)
    assert len(found.evidence) == 1 and found.versions.low == (1, 25, 1)


def test_each_line_is_looked_up_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One pass: a snippet included by 300 servers is looked up once, not 300 times."""
    import tlslint.nginx_inference as inference

    calls: list[str] = []
    real = inference._bounds

    def counted(directive, scope, entry, found):  # type: ignore[no-untyped-def]
        calls.append(directive.name)
        real(directive, scope, entry, found)

    monkeypatch.setattr(inference, "_bounds", counted)
    servers = "".join(f"    server {{ listen {8000 + i} ssl; include tls.conf; }}\n" for i in range(300))
    files = {
        "nginx.conf": f"events {{}}\nhttp {{\n{servers}}}\n",
        "tls.conf": "http2 on;\nkeepalive_time 1h;\n",
    }
    found = inference_of(tmp_path, files)
    assert calls.count("http2") == 1 and calls.count("keepalive_time") == 1
    assert calls.count("listen") == 300
    assert found.versions.low == (1, 25, 1)


# --------------------------------------------------------------------------- precedence


def test_the_setting_wins_and_contradictions_are_reported(tmp_path: Path) -> None:
    text = production(1, extra_http="ssl_certificate_compression on;")
    found = inference_of(tmp_path, {"nginx.conf": text}, {"nginx": {"version": "1.22"}})
    assert found.versions.exact == (1, 22, 0) and found.versions.set_by_setting
    assert {c.line.what for c in found.conflicts} == {"`ssl_certificate_compression on`", "`http2 on`"}
    assert {c.against.kind for c in found.conflicts} == {SETTING}


def test_a_deployment_series_is_narrowed_by_the_lines(tmp_path: Path) -> None:
    files = {
        "nginx.conf": production(2),
        "Dockerfile": "FROM nginx:1.25-alpine\nCOPY nginx.conf /etc/nginx/\n",
    }
    found = inference_of(tmp_path, files)
    assert (found.versions.low, found.versions.high) == ((1, 25, 1), (1, 26, 0))
    assert found.versions.low_by.kind == DIRECTIVE and found.versions.high_by.kind == DEPLOYMENT
    assert found.conflicts == ()


def test_the_setting_wins_over_the_deployment_files(tmp_path: Path) -> None:
    files = {"nginx.conf": production(1), "Dockerfile": "FROM nginx:1.27.3-alpine\n"}
    found = inference_of(tmp_path, files, {"nginx": {"version": "1.30.1"}})
    assert found.versions.exact == (1, 30, 1)


# --------------------------------------------------------------------------- the motivating case


def test_http2_on_everywhere_gets_no_version_warnings(tmp_path: Path) -> None:
    """14 servers with `http2 on;` and no nginx.version: no NGX305 "older versions refuse
    to start", no pre-1.23.4 default-protocol findings; what stays open is information."""
    findings = run_tree(tmp_path, {"nginx.conf": production(14)})
    assert of("NGX305", findings) == []
    assert of("NGX302", findings) == []  # TLSv1.3 is in every default from 1.23.4
    assert of("NGX004", findings) == []
    for finding in findings:
        assert "1.23.4" not in finding.message, finding.message
    legacy = of("NGX303", findings)  # TLSv1/1.1 left the default in 1.27.3: open
    assert legacy and all(f.severity == Severity.INFO for f in legacy)
    assert "≥ 1.25.1, inferred: `http2 on` at nginx.conf:15" in legacy[0].message
    assert not [f for f in findings if "not configured" in f.message]


def test_a_rule_decides_and_says_why(tmp_path: Path) -> None:
    """`ssl on;` proves a release before 1.25.1, so before 1.29.7: an upstream without
    keepalive opens a connection per request, and the message says how that is known."""
    text = f"""upstream app {{
    server 10.0.0.11:8080;
}}
server {{
    listen 443;
    ssl on;
    {CERT}
    location / {{
        proxy_pass http://app;
    }}
}}
"""
    (finding,) = of("NGX210", run_tree(tmp_path, {"legacy.conf": text}))
    assert finding.severity == Severity.WARNING
    assert "before nginx 1.29.7 (nginx < 1.25.1 (inferred: `ssl on` at legacy.conf:6))" in finding.message


def test_keepalive_local_settles_the_upstream_default(tmp_path: Path) -> None:
    text = """upstream a {
    server 10.0.0.11:8080;
    keepalive 16 local;
}
upstream b {
    server 10.0.0.12:8080;
}
server {
    listen 80;
    location /a { proxy_pass http://a; }
    location /b { proxy_pass http://b; }
}
"""
    findings = run_tree(tmp_path, {"app.conf": text})
    assert of("NGX210", findings) == []  # b keeps 32 local by default on 1.29.7+
    assert of("NGX211", findings) == []


# --------------------------------------------------------------------------- NGX004


def test_ngx004_names_both_lines(tmp_path: Path) -> None:
    text = production(1).replace("ssl_session_tickets off;", "ssl_session_tickets off;\n    ssl on;")
    (finding,) = of("NGX004", run_tree(tmp_path, {"nginx.conf": text}))
    assert finding.severity == Severity.ERROR
    assert finding.location.line == 7  # `ssl on;`
    assert finding.related[0].location.line == 16  # `http2 on;`
    assert "no nginx release accepts both" in finding.message
    assert '`unknown directive "http2"`' in finding.message and '`unknown directive "ssl"`' in finding.message


def test_ngx004_against_the_setting_leaves_http2_and_ssl_to_their_rules(tmp_path: Path) -> None:
    text = production(1, extra_http="keepalive_min_timeout 10s;")
    findings = run_tree(tmp_path, {"nginx.conf": text}, {"nginx": {"version": "1.22"}})
    (conflict,) = of("NGX004", findings)
    assert (
        "`keepalive_min_timeout 10s` appeared in nginx 1.27.4: nginx 1.22.0 refuses to start"
        in conflict.message
    )
    assert of("NGX305", findings)  # `http2 on;` is NGX305's, with its fix
    assert not [f for f in of("NGX004", findings) if "http2" in f.message]


def test_ngx004_against_a_deployment_image(tmp_path: Path) -> None:
    files = {
        "deploy/nginx.conf": production(1, extra_http="ssl_certificate_compression on;"),
        "deploy/compose.yaml": "services:\n  web:\n    image: nginx:1.26.2-alpine\n    ports: ['443:443']\n",
    }
    (conflict,) = of("NGX004", run_tree(tmp_path, files))
    assert "nginx 1.26.2 (image nginx:1.26.2-alpine at compose.yaml:3) refuses to start" in conflict.message
    assert conflict.related[0].location.path.name == "compose.yaml" and conflict.related[0].location.line == 3


# --------------------------------------------------------------------------- --show-settings


def test_show_settings_prints_the_range_and_its_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tlslint.check_command import run_check

    (tmp_path / "nginx.conf").write_text(production(2), encoding="utf-8")
    (tmp_path / "Dockerfile").write_text("FROM nginx:1.27-alpine\n", encoding="utf-8")
    assert run_check([tmp_path], show_settings=True, no_cache=True) == 0
    out = capsys.readouterr().out
    assert "# declared: 1.27.x: FROM nginx:1.27-alpine at Dockerfile:1 (deployment file)" in out
    assert "# nginx.conf: nginx 1.27.x" in out
    (tmp_path / "Dockerfile").unlink()
    assert run_check([tmp_path], show_settings=True, no_cache=True) == 0
    out = capsys.readouterr().out
    assert "# nginx.conf: nginx ≥ 1.25.1" in out
    assert "#   from 1.25.1: inferred: `http2 on` at nginx.conf:15 (directive)" in out
    assert run_check([tmp_path], show_settings=True, no_cache=True, nginx_version="1.30.1") == 0
    out = capsys.readouterr().out
    assert "#   from 1.30.1: nginx.version 1.30.1 (setting)" in out


def test_infer_is_a_function_of_the_configuration_and_the_declaration(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"nginx.conf": production(2)}, {"select": ["NGX001"]})
    (config,) = result.workspace.nginx
    first, second = infer(config, UNKNOWN), infer(config, UNKNOWN)
    assert first is not second and first.versions.low == second.versions.low == (1, 25, 1)
    assert from_mapping({}, None).nginx_version is None


# --------------------------------------------------------------------------- the corpus

CORPUS = shared_files("corpus", "nginx")
_SPAN = re.compile(r"this holds on nginx (before (\d+\.\d+\.\d+)|(\d+\.\d+\.\d+) and later)")


@pytest.mark.parametrize("path", CORPUS)
def test_corpus_messages_never_contradict_what_the_file_proves(tmp_path: Path, path: Path) -> None:
    """Run without a version on each real configuration: a message may say where its
    answer depends on the version only within the versions the file may run on, and
    nothing the file proves is reported as depending on the version."""
    from tlslint.engine import run
    from tlslint.nginx_versions import parse_version

    result = run([path], from_mapping({}, None))
    ranges = [result.workspace.nginx_versions(config) for config in result.workspace.nginx]
    for finding in result.findings:
        for match in _SPAN.finditer(finding.message):
            before, after = match.group(2), match.group(3)
            for versions in ranges:
                if before and versions.low is not None:
                    assert versions.low < parse_version(before), finding.message
                if after and versions.high is not None:
                    assert parse_version(after) < versions.high, finding.message
        if finding.code == "NGX305":
            assert "`http2 on;` appeared" not in finding.message or any(not r.known for r in ranges)
    name = path.name
    if "mozilla" in name:
        assert all(r.low == (1, 25, 1) for r in ranges)  # the generator writes `http2 on;`
        assert not [f for f in result.findings if f.code in ("NGX302", "NGX304", "NGX305")]
    if "gitlab" in name or "misskey" in name:  # `ssl on;` (before 1.25.1)
        assert all(r.high == (1, 25, 1) for r in ranges)
        (ssl,) = [f for f in result.findings if f.code == "NGX304"]
        assert ssl.severity == Severity.WARNING and "deprecated since nginx 1.15.0" in ssl.message
    assert not [f for f in result.findings if f.code == "NGX004"]


def test_a_settled_range_gets_the_fix_a_setting_would(tmp_path: Path) -> None:
    """`http2 on;` in one server proves 1.25.1 or later: another server's `listen ...
    http2` is then the deprecated syntax, a warning with its fix, as under nginx.version."""
    from helpers import settings_for

    from tlslint.engine import run
    from tlslint.fixing import apply_fixes

    text = production(1).replace(
        "    }\n}", f"    }}\n    server {{\n        listen 8443 ssl http2;\n        {CERT}\n    }}\n}}", 1
    )
    (finding,) = of("NGX305", run_tree(tmp_path, {"nginx.conf": text}))
    assert finding.severity == Severity.WARNING and finding.fix is not None
    assert "nginx ≥ 1.25.1 (inferred: `http2 on` at nginx.conf:15) warns" in finding.message
    settings = settings_for(tmp_path, {"select": ["NGX305"]})
    apply_fixes(run([tmp_path], settings), settings, unsafe=False, write=True)
    fixed = (tmp_path / "nginx.conf").read_text(encoding="utf-8")
    assert "listen 8443 ssl;" in fixed and fixed.count("http2 on;") == 2


def test_no_deployment_file_costs_no_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a Dockerfile or YAML in scope, no file is opened for the version."""
    import tlslint.deployment_near

    opened: list[Path] = []
    monkeypatch.setattr(tlslint.deployment_near, "nginx_images", lambda path: opened.append(path) or [])
    run_tree(tmp_path, {"nginx.conf": production(2), "conf.d/a.conf": "server { listen 80; }\n"})
    assert opened == []
    run_tree(tmp_path, {"Dockerfile": "FROM nginx:1.27\n"})
    assert [p.name for p in opened] == ["Dockerfile"]


def test_each_configuration_takes_the_image_nearest_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A repository with a proxy and a static frontend, each its own nginx image: the
    proxy's configuration runs on the proxy's image, not on the union of both (it was
    "1.22.0 to before 1.28.0", citing the frontend's Dockerfile, and NGX303 an info)."""
    server = f"    server {{\n        listen 443 ssl;\n        {CERT}\n    }}\n"
    proxy = f"events {{}}\nhttp {{\n    ssl_session_cache shared:SSL:10m;\n{server}}}\n"
    frontend = "FROM node:20 AS build\nFROM nginx:1.27-alpine\nCOPY default.conf /etc/nginx/conf.d/\n"
    files = {
        "proxy/Dockerfile": "FROM nginx:1.22\nCOPY nginx.conf /etc/nginx/nginx.conf\n",
        "proxy/nginx.conf": proxy,
        "frontend/Dockerfile": frontend,
        "frontend/default.conf": "server {\n    listen 80;\n    http2 on;\n}\n",
    }
    monkeypatch.chdir(tmp_path)
    result = check_files(tmp_path, files, {"select": ["NGX303"]})
    ranges = {c.files[0].name: result.workspace.nginx_versions(c) for c in result.workspace.nginx}
    assert ranges["nginx.conf"].label() == "1.22.x" and ranges["default.conf"].label() == "1.27.x"
    (finding,) = of("NGX303", result.findings)
    assert finding.severity == Severity.WARNING
    assert "FROM nginx:1.22 at proxy/Dockerfile:1" in finding.message and "frontend" not in finding.message
    # No image in a directory at or above it: nothing is declared for it. It was the union
    # of all ("1.22.0 to before 1.28.0", citing both Dockerfiles, neither of which runs it),
    # which a hook run on shared/extra.conf could not know (tests/test_hook_root_agree.py).
    files["shared/extra.conf"] = "events {}\nhttp {\n    server {\n        listen 8080;\n    }\n}\n"
    result = check_files(tmp_path, files, {"select": ["NGX303"]})
    (extra,) = [c for c in result.workspace.nginx if c.files[0].name == "extra.conf"]
    assert not result.workspace.nginx_versions(extra).known


# --- "1.25" (a series, read as 1.25.0 with a warning): no safe fix across a change within
# the series, and an image inside the series agrees with it. ---

HTTP2_ON = (
    "server {\n    listen 443 ssl;\n    http2 on;\n    server_name a.example;\n"
    "    ssl_certificate /etc/ssl/a.pem;\n    ssl_certificate_key /etc/ssl/a.key;\n}\n"
)


def test_a_series_setting_gets_no_fix_across_a_change_within_it(tmp_path: Path) -> None:
    result = check_files(
        tmp_path, {"site.conf": HTTP2_ON}, {"select": ["NGX305"], "nginx": {"version": "1.25"}}
    )
    (finding,) = result.findings
    assert finding.fix is None and "give the exact release" in finding.fix_note
    # The exact release keeps its fix: 1.25.0 does refuse `http2 on;`.
    result = check_files(
        tmp_path, {"site.conf": HTTP2_ON}, {"select": ["NGX305"], "nginx": {"version": "1.25.0"}}
    )
    (finding,) = result.findings
    assert finding.fix is not None and finding.fix.safe


def test_an_image_inside_a_series_setting_agrees_with_it(tmp_path: Path) -> None:
    files = {"Dockerfile": "FROM nginx:1.25.3-alpine\n", "nginx.conf": "events {}\nhttp {}\n"}
    assert codes(check_files(tmp_path, files, {"select": ["NGX004"], "nginx": {"version": "1.25"}})) == []
    assert codes(check_files(tmp_path, files, {"select": ["NGX004"], "nginx": {"version": "1.25.0"}})) == [
        "NGX004"
    ]
    assert codes(check_files(tmp_path, files, {"select": ["NGX004"], "nginx": {"version": "1.24"}})) == [
        "NGX004"
    ]


CACHE_127 = (
    "events {}\nhttp {\n    ssl_certificate_cache max=100;\n    server {\n        listen 443 ssl;\n"
    "        server_name a.example;\n        ssl_certificate /etc/ssl/a.pem;\n"
    "        ssl_certificate_key /etc/ssl/a.key;\n    }\n}\n"
)


def test_a_line_from_inside_a_series_setting_is_information_naming_its_release(tmp_path: Path) -> None:
    """`ssl_certificate_cache` appeared in 1.27.4: "1.27" names a series that has it (the
    image nginx:1.27 runs the file cleanly), so not "nginx 1.27.0 refuses to start"."""
    (finding,) = check_files(
        tmp_path, {"nginx.conf": CACHE_127}, {"select": ["NGX004"], "nginx": {"version": "1.27"}}
    ).findings
    assert finding.severity == Severity.INFO, finding.message
    assert "refuses to start" not in finding.message
    assert "nginx.version 1.27 names a series whose releases before 1.27.4 refuse to start" in finding.message
    assert "1.27.4 or later for this line" in finding.message
    # The exact release, and a series the line is not in, still refuse it.
    for version, refusing in (("1.27.0", "nginx 1.27.0"), ("1.26", "nginx 1.26.0")):
        (finding,) = check_files(
            tmp_path, {"nginx.conf": CACHE_127}, {"select": ["NGX004"], "nginx": {"version": version}}
        ).findings
        assert finding.severity == Severity.ERROR
        assert f"{refusing} refuses to start" in finding.message


def test_stream_virtual_servers_under_a_series_setting_that_has_them(tmp_path: Path) -> None:
    """Two stream servers on one port need 1.25.5: information under "1.25", an error under
    "1.25.0"."""
    server = (
        "    server {{\n        listen 5432 ssl;\n        server_name {0}.example;\n"
        "        ssl_certificate /etc/ssl/a.pem;\n        ssl_certificate_key /etc/ssl/a.key;\n"
        "        proxy_pass 127.0.0.1:5433;\n    }}\n"
    )
    text = "events {}\nstream {\n" + server.format("a") + server.format("b") + "}\n"
    for version, severity in (("1.25", Severity.INFO), ("1.25.0", Severity.ERROR)):
        result = check_files(
            tmp_path, {"nginx.conf": text}, {"select": ["NGX004"], "nginx": {"version": version}}
        )
        shared = [f for f in result.findings if "another stream server" in f.message]
        assert [f.severity for f in shared] == [severity], version
        assert {f.severity for f in result.findings} == {severity}, version
