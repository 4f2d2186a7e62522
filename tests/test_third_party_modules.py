"""Third-party nginx modules (T4): their shared-memory zones, OpenResty's Lua session
hooks, their directives (NGX010), and NGX011's list of places on the target release.

What tlslint says is asserted on text. Where a module's .so decides what nginx does,
the text is also given to the real ``nginx -t`` with the module loaded; that part skips
where the module is absent (CI installs Debian's plain ``nginx`` only): Debian's
libnginx-mod-* packages put them in /usr/lib/nginx/modules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import check_files, fix

from tlslint.findings import Severity

MODULES = Path("/usr/lib/nginx/modules")


def load(*names: str) -> str:
    """``load_module`` lines for Debian's module files ``names`` (written whether or not
    they are installed: tlslint reads the text only)."""
    return "".join(f"load_module {MODULES}/{name}.so;\n" for name in names)


def nginx_with_modules(text: str, *names: str) -> tuple[bool, list[str]]:
    """``nginx -t`` of ``text``, which loads the modules ``names``: skips where one is absent."""
    from nginx_harness import nginx_t

    for name in names:
        if not (MODULES / f"{name}.so").is_file():
            pytest.skip(
                f"{MODULES}/{name}.so is absent (a Debian libnginx-mod-* package; "
                "CI installs plain nginx): tlslint's side is tested without it"
            )
    result = nginx_t(text)
    return result.ok, result.errors


LUA = ("ndk_http_module", "ngx_http_lua_module")
TLS_SERVER = """\
    server {
        listen 8443 ssl;
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
        ssl_session_tickets off;
        ssl_protocols TLSv1.2 TLSv1.3;
    }
"""


# --------------------------------------------------------------------------- zones

ZONE_DECLARERS = {
    # line, the modules it needs, how NGX106 names the use
    "lua_shared_dict": ("lua_shared_dict SSL 1m;", LUA, "lua_shared_dict in http{}"),
    "upload_progress": (
        "upload_progress SSL 1m;",
        ("ngx_http_uploadprogress_module",),
        "upload_progress in http{}",
    ),
    "dav_ext_lock_zone": (
        "dav_ext_lock_zone zone=SSL:1m;",
        ("ngx_http_dav_ext_module",),
        "dav_ext_lock_zone in http{}",
    ),
}


@pytest.mark.parametrize("declarer", list(ZONE_DECLARERS))
def test_the_session_cache_fix_avoids_a_third_party_zones_name(tmp_path: Path, declarer: str) -> None:
    """T4 #1: the safe fix added `shared:SSL:10m` beside `lua_shared_dict SSL 1m;`, and nginx
    refused the fixed file (`already declared for a different use`)."""
    line, modules, _ = ZONE_DECLARERS[declarer]
    text = load(*modules) + "events {}\nhttp {\n    " + line + "\n" + TLS_SERVER + "}\n"
    after = fix(tmp_path, {"nginx.conf": text}, {"select": ["NGX101"]})["nginx.conf"].decode()
    assert "ssl_session_cache shared:SSL2:10m;" in after, after
    ok, errors = nginx_with_modules(after, *modules)
    assert ok and not errors, errors


@pytest.mark.parametrize("declarer", list(ZONE_DECLARERS))
def test_ngx106_reports_a_session_cache_named_like_a_third_party_zone(tmp_path: Path, declarer: str) -> None:
    line, modules, use = ZONE_DECLARERS[declarer]
    text = load(*modules) + "events {}\nhttp {\n    " + line + "\n    ssl_session_cache shared:SSL:10m;\n"
    text += TLS_SERVER + "}\n"
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX106"]})
    (finding,) = result.findings
    said = 'the shared memory zone "SSL" is already declared for a different use'
    assert finding.message == f"{said} ({use}); nginx refuses to start"
    assert finding.location.line == len(modules) + 4  # the session cache's line, after the zone's
    ok, errors = nginx_with_modules(text, *modules)
    assert not ok and errors
    match = re.search(r"\[emerg\] (.*) in \$PREFIX/nginx\.conf:(\d+)$", errors[0])
    assert match is not None and match[1] == said and int(match[2]) == finding.location.line, errors


def test_a_third_party_zone_of_its_own_name_is_no_conflict(tmp_path: Path) -> None:
    text = load(*LUA) + "events {}\nhttp {\n    lua_shared_dict sess 1m;\n"
    text += "    ssl_session_cache shared:SSL:10m;\n" + TLS_SERVER + "}\n"
    assert check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX106"]}).findings == []
    ok, errors = nginx_with_modules(text, *LUA)
    assert ok and not errors, errors


# --------------------------------------------------------------------------- Lua session hooks

LUA_HOOKS = """\
    lua_shared_dict sess 1m;
    ssl_session_store_by_lua_block {
        local s = require "ngx.ssl.session"
        ngx.shared.sess:set(s.get_session_id(), s.get_serialized_session(), 300)
    }
    ssl_session_fetch_by_lua_block {
        local s = require "ngx.ssl.session"
        local found = ngx.shared.sess:get(s.get_session_id())
        if found then s.set_serialized_session(found) end
    }
"""


def test_ngx101_says_nothing_where_lua_hooks_resume_sessions(tmp_path: Path) -> None:
    """T4 #3: with OpenResty's session hooks in http{}, 5 of 5 reconnections resumed
    (tickets off, no ssl_session_cache); NGX101 said every connection is a full handshake."""
    text = load(*LUA) + "events {}\nhttp {\n" + LUA_HOOKS + TLS_SERVER + "}\n"
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX101"]})
    assert result.findings == [], [f.message for f in result.findings]
    ok, errors = nginx_with_modules(text, *LUA)
    assert ok and not errors, errors


def test_the_fetch_hook_as_a_file_counts_too(tmp_path: Path) -> None:
    text = "events {}\nhttp {\n    ssl_session_fetch_by_lua_file /etc/nginx/lua/fetch.lua;\n"
    text += TLS_SERVER + "}\n"
    assert check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX101"]}).findings == []


def test_the_store_hook_alone_resumes_nothing(tmp_path: Path) -> None:
    """Without the fetch hook nothing reads the Lua cache (measured: 0 of 3 resumed)."""
    store_only = LUA_HOOKS[: LUA_HOOKS.index("    ssl_session_fetch_by_lua_block")]
    text = load(*LUA) + "events {}\nhttp {\n" + store_only + TLS_SERVER + "}\n"
    (finding,) = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX101"]}).findings
    assert "every connection is a full handshake" in finding.message


# --------------------------------------------------------------------------- NGX010

# The directives of the T4 repro that NGX010 called unknown: each module's, with the
# module loaded nginx -t passes.
KNOWN_WHOLE = (
    load(
        *LUA,
        "ngx_rtmp_module",
        "ngx_http_set_misc_module",
        "ngx_http_uploadprogress_module",
        "ngx_http_subs_filter_module",
        "ngx_http_upstream_fair_module",
    )
    + """\
events {}
http {
    access_by_lua_no_postpone on;
    upload_progress proxied 1m;
    upstream_fair_shm_size 64k;
    upstream fairb { fair; server 127.0.0.1:9000; }
    server {
        listen 8080;
        location /stat { rtmp_stat all; rtmp_stat_stylesheet stat.xsl; }
        location /e { set_escape_uri $e $arg_x; set_if_empty $e none; return 200 $e; }
        location /p { report_uploads proxied; upload_progress_json_output; }
        location /s { subs_filter a b; subs_line_buffer_size 8 32k; subs_filter_bypass $e; }
    }
}
"""
)


def test_the_modules_tlslint_knows_are_known_whole(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"nginx.conf": KNOWN_WHOLE}, {"select": ["NGX010", "NGX011", "NGX012"]})
    assert result.findings == [], [f.message for f in result.findings]
    modules = [
        line.split("/")[-1].removesuffix(".so;") for line in KNOWN_WHOLE.splitlines() if "load_module" in line
    ]
    ok, errors = nginx_with_modules(KNOWN_WHOLE, *modules)
    assert ok and not errors, errors


def test_an_rtmp_block_directive_elsewhere_is_not_allowed_there(tmp_path: Path) -> None:
    text = load("ngx_rtmp_module") + "events {}\nhttp {\n    server {\n        listen 8080;\n"
    text += "        location / { live on; }\n    }\n}\n"
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX010", "NGX011"]})
    (finding,) = result.findings
    assert finding.code == "NGX011"
    assert finding.message == (
        '"live" directive is not allowed here (in location; allowed in rtmp{} (the rtmp module\'s block))'
    )
    ok, errors = nginx_with_modules(text, "ngx_rtmp_module")
    assert not ok and errors and '"live" directive is not allowed here' in errors[0], errors


UNKNOWN_MODULE_TEXT = """\
events {}
http {
    server {
        listen 8080;
        location / { foo_realm staff; }
    }
}
"""


def test_a_name_tlslint_does_not_know_is_an_error_without_other_modules(tmp_path: Path) -> None:
    for head in ("", load(*LUA, "ngx_rtmp_module")):  # none loaded, or only modules known whole
        result = check_files(tmp_path, {"nginx.conf": head + UNKNOWN_MODULE_TEXT}, {"select": ["NGX010"]})
        (finding,) = result.findings
        assert finding.severity is Severity.ERROR
        assert finding.message.startswith('unknown directive "foo_realm"')


def test_a_loaded_module_tlslint_does_not_know_may_provide_a_name(tmp_path: Path) -> None:
    """T4 #4 (b): a module loaded by the configuration may provide a name tlslint does not
    know; whether nginx refuses it is not known, so it is not said to."""
    text = "load_module modules/ngx_http_foo_module.so;\n" + UNKNOWN_MODULE_TEXT
    (finding,) = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX010"]}).findings
    assert finding.severity is Severity.WARNING
    assert finding.message == (
        '"foo_realm" is in no module tlslint knows, but this configuration loads modules it does '
        'not know: unless one of them provides it, nginx refuses to start (unknown directive "foo_realm"); '
        "if one does, declare its directives in [nginx] extra-directives"
    )
    assert [(r.location.line, r.message) for r in finding.related] == [
        (1, "loads a module tlslint does not know")
    ]
    declared = {"select": ["NGX010"], "nginx": {"extra-directives": ["foo_*"]}}
    assert check_files(tmp_path, {"nginx.conf": text}, declared).findings == []


def test_a_main_level_include_not_followed_may_load_modules(tmp_path: Path) -> None:
    text = "include /nonexistent/modules-enabled/*.conf;\n" + UNKNOWN_MODULE_TEXT
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX010"]})
    (finding,) = [f for f in result.findings if f.code == "NGX010"]
    assert finding.severity is Severity.WARNING
    assert "may load modules (includes it could not follow)" in finding.message
    assert [r.location.line for r in finding.related] == [1]


# --------------------------------------------------------------------------- NGX011 on the target release

STREAM_AND_MAIL = """\
events {}
stream {
    server {
        listen 8443;
        ssl on;
        http2 on;
        proxy_pass 127.0.0.1:9000;
    }
}
mail {
    auth_http 127.0.0.1:9000/auth;
    server {
        listen 9993;
        protocol imap;
        ssl_reject_handshake on;
    }
}
"""


def ngx011(tmp_path: Path, version: str | None) -> dict[int, str]:
    settings: dict[str, object] = {"select": ["NGX011"]}
    if version is not None:
        settings["nginx"] = {"version": version}
    result = check_files(tmp_path, {"nginx.conf": STREAM_AND_MAIL}, settings)
    return {f.location.line: f.message for f in result.findings}


def test_ngx011_lists_the_places_of_the_target_release(tmp_path: Path) -> None:
    """T4 #8: the list ignored the target version."""
    assert ngx011(tmp_path, "1.22.1") == {
        5: '"ssl" directive is not allowed here (in stream server; '
        "allowed in mail, mail server, http, server)",
        6: 'unknown directive "http2": nginx 1.22.1 does not have it (nginx 1.25.1 or later does), '
        "and no release allows it in stream server",
        15: '"ssl_reject_handshake" directive is not allowed here (in mail server; allowed in http, server '
        "on nginx 1.22.1)",
    }
    on_1_27 = ngx011(tmp_path, "1.27.3")
    assert on_1_27[5] == (
        'unknown directive "ssl": nginx 1.27.3 does not have it (nginx before 1.25.1 does), '
        "and no release allows it in stream server"
    )
    assert on_1_27[6] == '"http2" directive is not allowed here (in stream server; allowed in http, server)'
    assert "allowed in stream, stream server, http, server)" in on_1_27[15]
    # With no version, every release's places.
    assert "allowed in mail, mail server, http, server)" in ngx011(tmp_path, None)[5]


@pytest.mark.parametrize("name", ["ssl_key_log", "proxy_ssl_key_log"])
def test_nginx_plus_only_directives_are_named_as_such(tmp_path: Path, name: str) -> None:
    """nginx.org's nginx refuses NGINX Plus's key-log directives (so NGX010 stands), but
    "no module has it in any release" would be false: the finding says whose they are."""
    import nginx_harness

    text = (
        "server {\n    listen 443 ssl;\n    server_name a.example;\n"
        "    ssl_certificate /etc/ssl/a.pem;\n    ssl_certificate_key /etc/ssl/a.key;\n"
        f"    {name} /var/log/nginx/keys.log;\n}}\n"
    )
    assert f'unknown directive "{name}"' in nginx_harness.nginx_t(text).output
    result = check_files(tmp_path, {"site.conf": text}, {"select": ["NGX010"]})
    (finding,) = result.findings
    assert finding.message.startswith(f'unknown directive "{name}": it is NGINX Plus\'s')
    assert "no nginx.org release has" in finding.message
    declared = check_files(
        tmp_path, {"site.conf": text}, {"select": ["NGX010"], "nginx": {"extra-directives": [name]}}
    )
    assert declared.findings == []
