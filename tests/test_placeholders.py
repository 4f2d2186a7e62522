"""Values a template fills in are never judged as written, and never rewritten by a fix.

The nginx image renders /etc/nginx/templates/*.template with envsubst at start
(``${NAME}``, and ``$NAME`` in those files); Go, Jinja and Helm templates hold
``{{ ... }}``. A rule that read ``ssl_protocols ${SSL_PROTOCOLS}`` as the word
``${SSL_PROTOCOLS}`` said it lacked TLSv1.3, and its fix wrote `TLSv1.2 TLSv1.3` over
the placeholder. Each family of directives the nginx rules read is held here, and every
argument of every catalogue example is turned into a placeholder to catch a rule that
forgets it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, fix, settings_for

from tlslint import catalogue
from tlslint.engine import run
from tlslint.findings import Finding
from tlslint.fixing import apply_fixes
from tlslint.nginx_values import placeholder
from tlslint.sources.nginx.lexer import CLOSE, COMMENT, OPEN, SEMI, LexError, scan

TLS = "listen 443 ssl; ssl_certificate /c.pem; ssl_certificate_key /k.pem;"


def config(*servers: str, http: str = "") -> str:
    """A whole nginx.conf: ``http`` lines, then one server per argument."""
    blocks = "".join(f"    server {{ {body} }}\n" for body in servers)
    return f"events {{}}\nhttp {{\n    ssl_session_cache shared:SSL:10m;\n{http}{blocks}}}\n"


def findings(tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None) -> list[Finding]:
    return check_files(tmp_path, files, mapping).findings


def of(found: list[Finding], code: str) -> list[Finding]:
    return [finding for finding in found if finding.code == code]


def templated_statements(text: str) -> list[str]:
    """Each `name args;` of ``text`` that holds a placeholder, as written."""
    return re.findall(r"[a-z_0-9]+ [^;{}]*(?:\$\{[A-Z0-9_]+\}|\$[A-Z][A-Z0-9_]*|\{\{[^}]*\}\})[^;{}]*;", text)


def assert_kept(before: str, after: str) -> None:
    """Every line with a placeholder is still there, as written."""
    statements = templated_statements(before)
    assert statements
    for statement in statements:
        assert statement in after, (statement, after)


def fixed_unsafely(
    tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None
) -> dict[str, str]:
    return {name: text.decode() for name, text in fix(tmp_path, dict(files), mapping, unsafe=True).items()}


# --------------------------------------------------------------------------- what a placeholder is


@pytest.mark.parametrize(
    ("value", "in_template", "expected"),
    [
        ("${SSL_PROTOCOLS}", False, True),
        ("shared:SSL:${SIZE}", False, True),
        ("{{ .Values.protocols }}", False, True),
        ("$SSL_PROTOCOLS", True, True),  # envsubst's other form, in a *.template
        ("$SSL_PROTOCOLS", False, False),  # elsewhere an nginx variable (names without case)
        ("$host", True, False),  # nginx's own variables: lower case
        ("${host}", False, False),
        ("$http_upgrade", True, False),
        ("TLSv1.2", True, False),
    ],
)
def test_what_is_a_placeholder(value: str, in_template: bool, expected: bool) -> None:
    assert placeholder(value, envsubst_file=in_template) is expected


# --------------------------------------------------------------------------- ssl_protocols

REPRO = TLS + " ssl_protocols ${SSL_PROTOCOLS}; keepalive_timeout ${KA};"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # The tester's repro: the nginx image's template, and a plain nginx.conf.
        ("templates/default.conf.template", f"server {{ {REPRO} }}\n"),
        ("nginx.conf", config(REPRO.replace("SSL_PROTOCOLS", "PROTOS"))),
        ("templates/default.conf.template", f"server {{ {REPRO.replace('${', '$').replace('}', '')} }}\n"),
        ("nginx.conf", config(TLS + ' ssl_protocols "{{ .Values.protocols }}";')),
    ],
)
def test_ssl_protocols_placeholder_is_neither_judged_nor_fixed(tmp_path: Path, name: str, text: str) -> None:
    found = findings(tmp_path, {name: text})
    assert not [f for f in found if f.code in ("NGX302", "NGX303", "NGX012")], found
    after = fixed_unsafely(tmp_path, {name: text})[name]
    assert_kept(text, after)
    assert after.count("ssl_protocols") == 1  # no second line beside it either


def test_a_literal_beside_a_placeholder_is_judged_without_a_fix(tmp_path: Path) -> None:
    """`TLSv1 ${MORE}` enables TLSv1 whatever MORE is; whether TLSv1.3 is missing is open."""
    text = config(TLS + " ssl_protocols TLSv1 ${MORE};")
    found = findings(tmp_path, {"nginx.conf": text}, {"nginx": {"version": "1.26"}})
    assert not of(found, "NGX302")
    (legacy,) = of(found, "NGX303")
    assert legacy.fix is None
    assert "`ssl_protocols TLSv1 ${MORE}` holds a template's placeholder" in legacy.fix_note
    assert fixed_unsafely(tmp_path, {"nginx.conf": text})["nginx.conf"] == text


def test_a_virtual_server_placeholder_is_not_named_as_better(tmp_path: Path) -> None:
    """Before 1.29.2 the default server's protocols decide: the virtual server's own line is
    named as ignored only where it is known to be better."""
    text = config(TLS + " ssl_protocols TLSv1 TLSv1.2;", TLS + " server_name b; ssl_protocols ${PROTOS};")
    (legacy,) = of(findings(tmp_path, {"nginx.conf": text}, {"nginx": {"version": "1.26"}}), "NGX303")
    assert "ignored" not in legacy.message and "${PROTOS}" not in legacy.message


# --------------------------------------------------------------------------- session tickets and caches


def test_ticket_placeholder_leaves_resumption_open(tmp_path: Path) -> None:
    text = config(TLS + " ssl_session_tickets ${TICKETS};").replace(
        "    ssl_session_cache shared:SSL:10m;\n", ""
    )
    found = findings(tmp_path, {"nginx.conf": text}, {"nginx": {"version": "1.26"}})
    (missing,) = of(found, "NGX101")
    assert "the ssl_session_tickets that decides is a template's placeholder" in missing.message
    assert "random ticket keys" not in missing.message  # that is tickets on
    assert not of(found, "NGX105")  # its keys matter only if the template turns tickets on
    assert "${TICKETS}" in fixed_unsafely(tmp_path, {"nginx.conf": text})["nginx.conf"]


def test_ticket_placeholder_is_not_said_to_differ(tmp_path: Path) -> None:
    """A virtual server with tickets off behind a default server whose tickets are the template's."""
    text = config(TLS + " ssl_session_tickets ${T};", TLS + " server_name b; ssl_session_tickets off;")
    found = findings(tmp_path, {"nginx.conf": text}, {"nginx": {"version": "1.26"}})
    assert not [f for f in found if "has them on" in f.message or "has them off" in f.message], found


def test_zone_placeholders_are_not_unused_nor_removed(tmp_path: Path) -> None:
    text = config(
        TLS + " ssl_session_cache shared:SSL:10m;",
        TLS + " server_name b; ssl_session_cache shared:${ZONE}:10m;",
        TLS.replace("443", "8443") + " server_name c; ssl_session_cache ${CACHE};",
    ).replace("    ssl_session_cache shared:SSL:10m;\n", "", 1)
    found = findings(tmp_path, {"nginx.conf": text})
    assert not [f for f in found if "${ZONE}" in f.message or "${CACHE}" in f.message], found
    after = fixed_unsafely(tmp_path, {"nginx.conf": text})["nginx.conf"]
    assert "shared:${ZONE}:10m;" in after and "ssl_session_cache ${CACHE};" in after


# --------------------------------------------------------------------------- keep-alive


def test_keepalive_placeholders_are_not_judged(tmp_path: Path) -> None:
    server = (
        TLS.replace("ssl;", "ssl http2;") + " keepalive_timeout ${KA}; keepalive_requests ${KR};"
        " http2_idle_timeout ${H2}; http2_max_requests ${H2R};"
        " location /a { keepalive_timeout ${KA2}; } location /b { keepalive_requests ${KR2}; }"
    )
    text = config(server)
    found = findings(tmp_path, {"nginx.conf": text}, {"nginx": {"version": "1.18"}})
    assert not [f for f in found if f.code in ("NGX201", "NGX202", "NGX203", "NGX012")], found
    assert_kept(
        text, fixed_unsafely(tmp_path, {"nginx.conf": text}, {"nginx": {"version": "1.18"}})["nginx.conf"]
    )


def test_a_timeout_placeholder_may_turn_keepalive_off(tmp_path: Path) -> None:
    """keepalive_requests limits nothing where keepalive_timeout is 0: a placeholder may be."""
    text = config(TLS + " keepalive_timeout ${KA}; keepalive_requests 10;")
    assert not of(findings(tmp_path, {"nginx.conf": text}), "NGX203")


# --------------------------------------------------------------------------- upstream keep-alive


UPSTREAM = """\
events {}
http {
    upstream api { server 10.0.0.2:8443; keepalive 16; }
    server {
        listen 443 ssl;
        ssl_certificate /c.pem;
        ssl_certificate_key /k.pem;
        location /a {
            proxy_pass https://api; proxy_http_version ${VERSION}; proxy_set_header Connection "";
        }
        location /b {
            proxy_pass https://api; proxy_http_version 1.1; proxy_set_header Connection "{{ conn }}";
        }
        location /c {
            proxy_pass https://10.0.0.3:9443; proxy_http_version ${VERSION}; proxy_ssl_verify ${VERIFY};
        }
    }
}
"""


def test_proxy_http_version_and_connection_placeholders(tmp_path: Path) -> None:
    found = findings(tmp_path, {"nginx.conf": UPSTREAM}, {"nginx": {"version": "1.26"}})
    assert not of(found, "NGX211"), found  # neither the version nor the header is judged
    (implicit,) = of(found, "NGX212")  # an implicit upstream keeps nothing, whatever the version
    assert implicit.fix is not None and "proxy_http_version" not in implicit.fix.description
    assert "proxy_ssl_name" in implicit.fix.description  # the template may turn verification on
    after = fixed_unsafely(tmp_path, {"nginx.conf": UPSTREAM}, {"nginx": {"version": "1.26"}})["nginx.conf"]
    assert after.count("proxy_http_version ${VERSION};") == 2
    assert 'proxy_set_header Connection "{{ conn }}";' in after


# --------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("code", "line", "version"),
    [("NGX304", "ssl ${SSL};", "1.30"), ("NGX305", "http2 ${HTTP2};", "1.22")],
)
def test_a_flag_placeholder_keeps_its_line(tmp_path: Path, code: str, line: str, version: str) -> None:
    """`ssl` and `http2` are reported by the directive's name (the release that removed or
    added it), not by their value; the fix, which depends on on or off, is not offered."""
    text = config(f"listen 443; {line} ssl_certificate /c.pem; ssl_certificate_key /k.pem;")
    (finding,) = of(findings(tmp_path, {"nginx.conf": text}, {"nginx": {"version": version}}), code)
    assert finding.fix is None and "template's placeholder" in finding.fix_note
    assert "off" not in finding.message
    assert (
        line in fixed_unsafely(tmp_path, {"nginx.conf": text}, {"nginx": {"version": version}})["nginx.conf"]
    )


def test_a_listen_http2_fix_does_not_call_a_placeholder_off(tmp_path: Path) -> None:
    text = config(
        "listen 443 ssl http2; ssl_certificate /c.pem; ssl_certificate_key /k.pem;",
        "listen 443 ssl; server_name b; http2 ${H2}; ssl_certificate /c.pem; ssl_certificate_key /k.pem;",
    )
    (listen,) = of(findings(tmp_path, {"nginx.conf": text}, {"nginx": {"version": "1.26"}}), "NGX305")
    assert listen.fix is None and "`http2 ${H2}` holds a template's placeholder" in listen.fix_note


def test_a_reject_handshake_placeholder_is_not_said_to_reject(tmp_path: Path) -> None:
    text = config("listen 443 ssl default_server; ssl_reject_handshake ${REJECT};", TLS + " server_name b;")
    assert not of(findings(tmp_path, {"nginx.conf": text}), "NGX301")


@pytest.mark.parametrize(
    "server",
    [
        "listen ${LISTEN}; ssl_certificate /c.pem; ssl_certificate_key /k.pem;",
        "listen 443 ${SSL_FLAG}; ssl_certificate /c.pem; ssl_certificate_key /k.pem;",
        "listen 443; ssl ${SSL}; ssl_certificate /c.pem; ssl_certificate_key /k.pem;",
    ],
    ids=["listen", "listen-flag", "ssl"],
)
def test_a_server_whose_tls_is_templated_may_use_the_cache(tmp_path: Path, server: str) -> None:
    """envsubst fills `${LISTEN}` in before nginx reads the line: it may be `443 ssl`. The
    http{} zone was called "used by no TLS default server, allocated for nothing", and
    --unsafe-fixes removed it; a plain server as written still gets NGX108."""
    text = config(server)
    assert not of(findings(tmp_path, {"nginx.conf": text}), "NGX108")
    assert "ssl_session_cache shared:SSL:10m;" in fixed_unsafely(tmp_path, {"nginx.conf": text})["nginx.conf"]
    plain = config("listen 80;")
    assert of(findings(tmp_path / "plain", {"nginx.conf": plain}), "NGX108")


def test_a_templated_rejection_is_not_stated(tmp_path: Path) -> None:
    """A default server whose ssl_reject_handshake is the template's may or may not reject:
    NGX101 says so, and its own handshakes are not judged (NGX302 on it)."""
    text = config(
        "listen 443 ssl default_server; ssl_reject_handshake ${REJECT}; ssl_certificate /c.pem; "
        "ssl_certificate_key /k.pem; ssl_session_cache off;",
        TLS + " server_name b;",
    ).replace("    ssl_session_cache shared:SSL:10m;\n", "", 1)
    found = findings(tmp_path, {"nginx.conf": text}, {"nginx": {"version": "1.22.1"}})
    [cache] = [f for f in of(found, "NGX101") if f.message.startswith("TLS server[*:443]")]
    assert "may reject handshakes itself (a template decides)" in cache.message, cache.message
    assert "rejects handshakes itself" not in cache.message
    assert not [f for f in of(found, "NGX302") if "server[*:443]" in f.message], found


# --------------------------------------------------------------------------- logs


@pytest.mark.parametrize(
    ("line", "judged"),
    [
        ("access_log ${ACCESS_LOG};", False),  # may be `off`, or a path and a format
        ("access_log /var/log/nginx/a.log ${FORMAT};", False),
        ("access_log /var/log/nginx/${HOST}.log;", True),  # a path: the format is combined
    ],
)
def test_access_log_placeholders(tmp_path: Path, line: str, judged: bool) -> None:
    text = config(f"{TLS} ssl_protocols TLSv1.2 TLSv1.3; {line}")
    assert bool(of(findings(tmp_path, {"nginx.conf": text}), "NGX401")) is judged


# --------------------------------------------------------------------------- nginx's own refusals


def test_values_nginx_reads_are_not_refused_in_a_template(tmp_path: Path) -> None:
    """NGX012 leaves `${NAME}` unjudged (the rendered file is nginx's): so `$NAME` in a
    *.template, and a quoted `{{ }}`. nginx's own variable is still refused where it reads none."""
    template = f'server {{ {TLS} keepalive_timeout $KA; ssl_session_timeout "{{{{ t }}}}"; }}\n'
    assert not of(findings(tmp_path, {"templates/default.conf.template": template}), "NGX012")
    plain = config(TLS + " keepalive_timeout $timeout;")
    assert of(findings(tmp_path / "plain", {"nginx.conf": plain}), "NGX012")


@pytest.mark.parametrize(
    "line", ["ssl_session_tickets $TICKETS;", "http2 ${H2};", "ssl_prefer_server_ciphers ${PREFER};"]
)
def test_flags_a_template_fills_in_are_not_refused(tmp_path: Path, line: str) -> None:
    """A flag's placeholder renders to on or off: nginx refuses the literal `$NAME`, the
    template's reader never sees it. A flag with nginx's own variable is still refused."""
    template = f"server {{ {TLS} {line} }}\n"
    assert not of(findings(tmp_path, {"templates/default.conf.template": template}), "NGX012")
    plain = config(TLS + " ssl_session_tickets $tickets;")
    assert of(findings(tmp_path / "plain", {"nginx.conf": plain}), "NGX012")


# --------------------------------------------------------------------------- every rule


PLACEHOLDER = "${TLSLINT_VALUE}"
ENTRIES = catalogue.load_entries()


def _argument_spans(text: str) -> list[tuple[int, int]]:
    """Where each argument (not a directive's name) of ``text`` is."""
    spans = []
    named = False
    for kind, _, start, end in scan(text):
        if kind == COMMENT:
            continue
        if kind in (OPEN, CLOSE, SEMI):
            named = False
        elif named:
            spans.append((start, end))
        else:
            named = True
    return spans


def _examples() -> list[Any]:
    params = []
    for code, entry in ENTRIES.items():
        if entry["target"] != "nginx":
            continue
        for index, example in enumerate(entry["examples"]):
            text = example.get("bad", example.get("good"))
            try:
                spans = _argument_spans(text)
            except LexError:
                continue  # an example of a file nginx cannot read
            params.append(pytest.param(example, text, spans, id=f"{code}-{index}"))
    return params


@pytest.mark.parametrize(("example", "text", "spans"), _examples())
def test_no_fix_rewrites_a_placeholder(
    tmp_path: Path, example: dict[str, Any], text: str, spans: list[tuple[int, int]]
) -> None:
    """Each argument of each nginx example in turn becomes a placeholder; every rule runs,
    and every fix, unsafe ones too, must leave the placeholder in the file."""
    name = example.get("path", "example.conf")
    mapping = {k: v for k, v in example.get("settings", {}).items() if k != "select"}
    for number, (start, end) in enumerate(spans):
        root = tmp_path / str(number)
        written = text[:start] + PLACEHOLDER + text[end:]
        for other, content in {name: written, **example.get("files", {})}.items():
            (root / other).parent.mkdir(parents=True, exist_ok=True)
            (root / other).write_text(content, encoding="utf-8")
        settings = settings_for(root, mapping)
        apply_fixes(run([root], settings), settings, unsafe=True, write=True)
        after = (root / name).read_text(encoding="utf-8")
        assert PLACEHOLDER in after, (
            text[start:end],
            written,
            after,
        )  # kept (a copy of its line may join it)
