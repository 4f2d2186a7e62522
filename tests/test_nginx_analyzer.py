"""The directive analyzer (NGX010-NGX012): crossplane's analyzer as its oracle, versions,
snippet contexts, third-party modules, extra-directives, exact positions."""

from __future__ import annotations

import itertools
from pathlib import Path

import crossplane.analyzer as oracle
import pytest
from crossplane.errors import (
    NgxParserDirectiveArgumentsError,
    NgxParserDirectiveContextError,
)
from helpers import check_files

from tlslint import nginx_directives as nd
from tlslint.engine import run
from tlslint.fixing import apply_fixes
from tlslint.nginx_analysis import BAD_ARGUMENTS, NOT_ALLOWED, Problem, check_children
from tlslint.nginx_directives import DirectiveTable, table_for
from tlslint.settings import from_mapping
from tlslint.sources.nginx.model import Directive, SourceText
from tlslint.sources.nginx.parser import parse_text

RULES = ["NGX010", "NGX011", "NGX012"]


def test_mask_constants_are_crossplanes() -> None:
    for name in ("NOARGS", "TAKE1", "TAKE2", "BLOCK", "FLAG", "ANY"):
        assert getattr(nd, name) == getattr(oracle, f"NGX_CONF_{name}")
    assert (nd.MORE1, nd.MORE2) == (oracle.NGX_CONF_1MORE, oracle.NGX_CONF_2MORE)
    for ours, theirs in (
        ("MAIN", "MAIN_CONF"), ("EVENT", "EVENT_CONF"), ("MAIL_MAIN", "MAIL_MAIN_CONF"),
        ("MAIL_SRV", "MAIL_SRV_CONF"), ("STREAM_MAIN", "STREAM_MAIN_CONF"),
        ("STREAM_SRV", "STREAM_SRV_CONF"), ("STREAM_UPS", "STREAM_UPS_CONF"),
        ("HTTP_MAIN", "HTTP_MAIN_CONF"), ("HTTP_SRV", "HTTP_SRV_CONF"), ("HTTP_LOC", "HTTP_LOC_CONF"),
        ("HTTP_UPS", "HTTP_UPS_CONF"), ("HTTP_SIF", "HTTP_SIF_CONF"), ("HTTP_LIF", "HTTP_LIF_CONF"),
        ("HTTP_LMT", "HTTP_LMT_CONF"), ("DIRECT", "DIRECT_CONF"),
    ):  # fmt: skip
        assert getattr(nd, ours) == getattr(oracle, f"NGX_{theirs}"), ours


def test_block_nesting_is_crossplanes() -> None:
    """Our context after each block opener is crossplane's enter_block_ctx where it analyses."""
    table = DirectiveTable()
    for context_path, mask in oracle.CONTEXTS.items():
        for name in BLOCK_OPENERS:
            inner = oracle.enter_block_ctx({"directive": name}, context_path)
            expected = oracle.CONTEXTS.get(inner, 0)
            if expected and not any(m & mask for m in oracle.DIRECTIVES[name]):
                expected = 0  # a block nginx refuses here: its body is not checked
            assert table.enter(mask, name) == expected, (context_path, name)


BLOCK_OPENERS = ("http", "events", "stream", "mail", "server", "upstream", "location", "if", "limit_except")


def _one(name: str, args: tuple[str, ...], has_block: bool) -> Directive:
    source = SourceText(Path("x.conf"), "")
    return Directive(name, args, source, 0, 0, 0, 0, [] if has_block else None)


def _crossplane_verdict(name: str, args: list[str], term: str, context_path: tuple[str, ...]) -> str | None:
    stmt = {"directive": name, "line": 1, "args": args}
    try:
        oracle.analyze("x.conf", stmt, term, ctx=context_path, strict=True)
    except NgxParserDirectiveContextError:
        return NOT_ALLOWED
    except NgxParserDirectiveArgumentsError:
        return BAD_ARGUMENTS
    return None


ARGUMENT_LISTS = [[], ["on"], ["off"], ["maybe"], ["a", "b"], ["a", "b", "c"], ["1"] * 4, ["1"] * 8]
ARGUMENT_LISTS.append(["1"] * 9)


def test_analyzer_agrees_with_crossplane_on_its_whole_table() -> None:
    """Every directive crossplane knows, in every context it analyses, with every
    argument shape, ``;`` and ``{``: the same verdict, except where tlslint's supplement
    records a form nginx gained later (then tlslint may only accept more), or where
    tlslint reads a value crossplane does not (``tlslint.nginx_values``)."""
    table = DirectiveTable()  # no version: every known form
    disagreements = []
    for name, context_path, args, term in itertools.product(
        sorted(oracle.DIRECTIVES), oracle.CONTEXTS, ARGUMENT_LISTS, (";", "{")
    ):
        theirs = _crossplane_verdict(name, args, term, context_path)
        found: list[Problem] = []
        check_children([_one(name, tuple(args), term == "{")], oracle.CONTEXTS[context_path], table, found)
        ours = found[0].kind if found else None
        if ours == theirs:
            continue
        if name in nd.SUPPLEMENT and (ours is None or theirs == NOT_ALLOWED):
            continue  # a context or form crossplane's table does not have yet
        context = oracle.CONTEXTS[context_path]
        if theirs is None and ours == BAD_ARGUMENTS and table.typed_refusal(name, tuple(args), context):
            continue  # a value nginx's reader refuses: crossplane checks shapes only
        disagreements.append((name, context_path, args, term, theirs, ours))
    assert not disagreements, disagreements[:20]


def test_supplement_covers_what_crossplane_calls_unknown() -> None:
    """The directives crossplane 0.5.8 lacks that real configurations use (facts/crossplane.md)."""
    for name in ("ssl_reject_handshake", "http2", "keepalive_time", "ssl_conf_command", "http3",
                 "quic_retry", "quic_gso", "ssl_certificate_cache"):  # fmt: skip
        assert name not in oracle.DIRECTIVES
        assert DirectiveTable().known(name), name


def test_supplement_entries_are_well_formed() -> None:
    for name, forms in nd.SUPPLEMENT.items():
        for mask in forms:
            assert mask & nd.ALL_CONTEXTS, f"{name}: a form with no context"
            assert mask & 0x1FFF, f"{name}: a form with no argument count"


def test_every_dated_directive_has_masks_or_is_listed_unchecked() -> None:
    """nginx_history dates a directive; the analyzer must know where it goes (or say it does not)."""
    from tlslint.nginx_history import DIRECTIVE_NAMES

    without = {n for n in DIRECTIVE_NAMES if n not in oracle.DIRECTIVES and n not in nd.SUPPLEMENT}
    assert without == set(nd.UNCHECKED)


# Stream and mail forms nginx_history does not date yet: accepted on every version.
UNDATED_FORMS = [
    ("proxy_ssl_conf_command", "stream"),
    # older than every release tlslint dates (mail's proxy; stream's names from 1.7.x)
    ("proxy", "mail"), ("proxy_downstream_buffer", "stream"), ("proxy_upstream_buffer", "stream"),
]  # fmt: skip


def test_old_stock_directives_crossplane_lacks_are_known(tmp_path: Path) -> None:
    """nginx 1.22.1 loads these (the stream names with a deprecation warning); NGX010
    called them unknown, saying nginx would refuse to start."""
    text = (
        "events {}\nstream {\n    server {\n        listen 127.0.0.1:19000;\n"
        "        proxy_downstream_buffer 16k;\n        proxy_pass 127.0.0.1:9000;\n    }\n"
        "    server {\n        listen 127.0.0.1:19001;\n        proxy_upstream_buffer 16k;\n"
        "        proxy_pass 127.0.0.1:9000;\n    }\n}\n"
        "mail {\n    server {\n        listen 127.0.0.1:19143;\n        protocol imap;\n"
        "        proxy on;\n        auth_http 127.0.0.1:9000;\n    }\n}\n"
    )
    found = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX010", "NGX011", "NGX012"]}).findings
    assert found == []


def test_every_supplement_form_is_dated_or_older_than_crossplane() -> None:
    """A directive crossplane lacks is dated by nginx_history in each module it adds
    (else tlslint accepts it on every version), except max_headers, which Debian
    backported (nginx_history's docstring), and the forms listed as undated."""
    from tlslint.nginx_history import directive_versions

    undated = []
    for name, forms in nd.SUPPLEMENT.items():
        if name in oracle.DIRECTIVES or name == "max_headers":
            continue
        for mask in forms:
            if directive_versions(name, nd.scope_of_mask(mask)) is None:
                undated.append((name, nd.scope_of_mask(mask)))
    assert undated == UNDATED_FORMS


# --------------------------------------------------------------------------- versions


@pytest.mark.parametrize(
    ("version", "text", "expected"),
    [
        (None, "http { keepalive_time 1h; }", []),
        ("1.22.1", "http { keepalive_time 1h; }", []),
        ("1.28.0", "http { keepalive_min_timeout 5s; }", []),
        ("1.26.0", "stream { server { listen 1; ssl_reject_handshake on; } }", []),
        ("1.30.0", "http { upstream a { server b; keepalive 8 local; } }", []),
        (None, "http { upstream a { server b; keepalive 8 local; } }", []),
        (None, "http { server { location / { proxy_http_version 2; } } }", []),
        ("1.31.5", "http { proxy_socket_sndbuf 64k; }", []),
        ("1.30.0", "http { upstream a { server b; resolver 127.0.0.53; } }", []),
        # A line only other releases than the target accept: NGX004's, one finding a line.
        ("1.18.0", "http { keepalive_time 1h; }", ["NGX004"]),
        ("1.22.1", "http { keepalive_min_timeout 5s; }", ["NGX004"]),
        ("1.22.1", "stream { server { listen 1; ssl_reject_handshake on; } }", ["NGX004"]),
        ("1.22.1", "http { upstream a { server b; keepalive 8 local; } }", ["NGX004"]),
        ("1.22.1", "http { upstream a { server b; keepalive 0; } }", ["NGX004"]),
        ("1.22.1", "http { server { location / { proxy_http_version 2; } } }", ["NGX004"]),
        ("1.22.1", "http { proxy_socket_sndbuf 64k; }", ["NGX004"]),
        # What no release accepts: this analyzer's, whatever the version.
        (None, "http { http2_pushh on; }", ["NGX010"]),
        ("1.22.1", "http { server { location / { ssl_session_cache none; } } }", ["NGX011"]),
        ("1.30.0", "http { upstream a { server b; keepalive 8 local extra; } }", ["NGX012"]),
    ],
)
def test_one_finding_a_line_with_ngx004(
    tmp_path: Path, version: str | None, text: str, expected: list[str]
) -> None:
    settings = {"select": [*RULES, "NGX004"], **({"nginx": {"version": version}} if version else {})}
    result = check_files(tmp_path, {"nginx.conf": f"events {{}}\n{text}\n"}, settings)
    assert [f.code for f in result.findings] == expected, [f.message for f in result.findings]


@pytest.mark.parametrize(
    ("version", "text", "message"),
    [
        (
            (1, 22, 1),
            "keepalive_min_timeout 5s;",
            'unknown directive "keepalive_min_timeout": '
            "nginx 1.22.1 does not have it (nginx 1.27.4 or later does)",
        ),
        (
            (1, 22, 1),
            "proxy_http_version 2;",
            'invalid value "2" on nginx 1.22.1: `proxy_http_version 2` needs nginx 1.29.4 or later',
        ),
    ],
)
def test_a_versioned_table_words_the_release(version: tuple[int, int, int], text: str, message: str) -> None:
    """What the fix screen says when a fix writes a line the target release refuses."""
    table = table_for(version)
    parsed = parse_text(SourceText(Path("x.conf"), text))
    found: list[Problem] = []
    check_children(parsed.directives, nd.HTTP_LOC, table, found)
    assert [problem.message(table) for problem in found] == [message]


# --------------------------------------------------------------------------- messages, positions, fix


def test_typo_with_exact_position_and_unsafe_rename(tmp_path: Path) -> None:
    text = "http {\r\n\tserver {\r\n\t\tlisten 443 ssl;\r\n"
    text += "\t\tssl_sesion_cache shared:SSL:10m; # TLS\r\n\t}\r\n}\r\n"
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": RULES})
    (finding,) = result.findings
    assert finding.code == "NGX010"
    assert (finding.location.line, finding.location.column) == (4, 3)
    assert finding.message == 'unknown directive "ssl_sesion_cache": did you mean "ssl_session_cache"?'
    assert finding.fix is not None and not finding.fix.safe
    settings = from_mapping({"select": RULES}, None)
    apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert (tmp_path / "nginx.conf").read_bytes() == text.replace("sesion", "session").encode()


def test_an_unknown_name_with_no_neighbour_points_to_extra_directives(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"nginx.conf": "http { frobnicate_widgets on; }\n"}, {"select": RULES})
    (finding,) = result.findings
    assert finding.message == (
        'unknown directive "frobnicate_widgets": '
        "if a module of yours provides it, declare it in [nginx] extra-directives"
    )
    assert finding.fix is None


def test_no_rename_where_the_suggestion_would_be_refused(tmp_path: Path) -> None:
    """ssl_session_cache is not allowed in a location: no fix that trades one error for another."""
    text = "http { server { location / { ssl_sesion_cache shared:SSL:10m; } } }\n"
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": RULES})
    (finding,) = result.findings
    assert finding.code == "NGX010" and finding.fix is None


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        (
            "http { server { location / { ssl_session_cache shared:SSL:10m; } } }",
            "NGX011",
            '"ssl_session_cache" directive is not allowed here (in location; allowed in http, server)',
        ),
        (
            "http { server { listen 80; add_header X-Frame-Options; } }",
            "NGX012",
            'invalid number of arguments in "add_header" directive (1 given; it takes 2 or 3 arguments)',
        ),
        (
            "http { ssl_session_tickets no; }",
            "NGX012",
            'invalid value "no" in "ssl_session_tickets" directive, it must be "on" or "off"',
        ),
        ("http { server; }", "NGX012", 'directive "server" has no opening "{" (it takes a block)'),
        ("http { server { server_name; } }", "NGX012", "it takes at least 1 argument)"),
    ],
)
def test_messages(tmp_path: Path, text: str, code: str, message: str) -> None:
    result = check_files(tmp_path, {"nginx.conf": text + "\n"}, {"select": RULES})
    assert [f.code for f in result.findings] == [code]
    assert result.findings[0].message.endswith(message) or result.findings[0].message == message


def test_no_cascade_inside_a_refused_block(tmp_path: Path) -> None:
    """nginx stops at the misplaced block; its body is not judged in a context it never opens."""
    text = "http { server { location / { server { listen 80; ssl_session_cache none; } } } }\n"
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": RULES})
    assert [(f.code, f.location.column) for f in result.findings] == [("NGX011", 30)]


# --------------------------------------------------------------------------- contexts of snippets


def test_included_file_is_checked_where_it_is_included(tmp_path: Path) -> None:
    files = {
        "nginx.conf": "events {}\nhttp {\n    server {\n        location / {\n"
        "            include snippets/tls.conf;\n        }\n    }\n}\n",
        "snippets/tls.conf": "ssl_session_timeout 1d;\n",
    }
    result = check_files(tmp_path, files, {"select": RULES})
    (finding,) = result.findings
    assert finding.code == "NGX011" and finding.location.path.name == "tls.conf"
    assert "(in location; allowed in http, server)" in finding.message


@pytest.mark.parametrize(
    "text",
    [
        "ssl_session_cache shared:SSL:10m;\nssl_protocols TLSv1.2 TLSv1.3;\n",  # server-level snippet
        "proxy_set_header Host $host;\nproxy_pass http://app;\n",  # location-level snippet
        "server {\n    listen 8443;\n    proxy_pass backend:8443;\n}\n",  # a stream server file
        "server {\n    listen 80;\n    return 301 https://$host$request_uri;\n}\n",
        "geoip_country /usr/share/GeoIP/GeoIP.dat;\nssl_stapling on;\n",  # http-level, detected as server
        "server 10.0.0.1:8080 max_fails=3;\nserver 10.0.0.2:8080 backup;\nkeepalive 16;\n",  # upstream's
        "worker_shutdown_timeout 10s;\nworker_connections 4096;\n",  # main level and events{}
    ],
)
def test_snippet_checked_alone_is_not_called_misplaced(tmp_path: Path, text: str) -> None:
    result = check_files(tmp_path, {"conf.d/snippet.conf": text}, {"select": RULES})
    assert result.findings == [], [f.message for f in result.findings]


def test_snippet_still_gets_what_no_includer_could_accept(tmp_path: Path) -> None:
    text = "location / {\n    ssl_session_cache shared:SSL:10m;\n}\n"
    result = check_files(tmp_path, {"conf.d/snippet.conf": text}, {"select": RULES})
    assert [f.code for f in result.findings] == ["NGX011"]


# --------------------------------------------------------------------------- modules


@pytest.mark.parametrize(
    "line",
    [
        'more_set_headers "Server: edge";',
        'content_by_lua_block { ngx.say("hi"); }',
        "lua_shared_dict cache 10m;",
        "js_import main from /etc/nginx/njs/main.js;",
        "brotli on;",
        "vhost_traffic_status_zone;",
        "passenger_enabled on;",
        "modsecurity on;",
    ],
)
def test_common_third_party_modules_are_known(tmp_path: Path, line: str) -> None:
    text = f"http {{\n    server {{\n        listen 80;\n        location / {{\n            {line}\n"
    text += "        }\n    }\n}\n"
    result = check_files(tmp_path, {"nginx.conf": text}, {"select": RULES})
    assert result.findings == [], [f.message for f in result.findings]


def test_extra_directives_setting(tmp_path: Path) -> None:
    text = "http {\n    auth_sso on;\n    server {\n        mymod_x 1 2 3;\n"
    text += "        location / { auth_sso on; }\n    }\n}\n"
    settings = {
        "select": RULES,
        "nginx": {"extra-directives": ["mymod_*", {"name": "auth_sso", "contexts": ["location", "server"]}]},
    }
    result = check_files(tmp_path, {"nginx.conf": text}, settings)
    (finding,) = result.findings
    assert finding.code == "NGX011" and finding.location.line == 2
    assert "allowed in server, location" in finding.message
    without = check_files(tmp_path, {"nginx.conf": text}, {"select": RULES})
    assert sorted(f.code for f in without.findings) == ["NGX010", "NGX010", "NGX010"]


def test_extra_directives_are_validated_by_the_schema(tmp_path: Path) -> None:
    from tlslint.settings import SettingsError, validate

    validate({"nginx": {"extra-directives": ["a_b", "c_*", {"name": "d", "contexts": ["http"]}]}}, "t")
    for bad in (["a b"], [{"name": "d", "contexts": ["nowhere"]}], [{"contexts": ["http"]}], "x"):
        with pytest.raises(SettingsError, match="extra-directives"):
            validate({"nginx": {"extra-directives": bad}}, "t")


# --------------------------------------------------------------------------- cost


def test_checking_a_directive_allocates_nothing() -> None:
    """The per-directive path fills its shape once per name and context, then only reads."""
    table = table_for(None)
    directives = [_one("proxy_set_header", ("Host", "$host"), False)] * 1000
    found: list[Problem] = []
    check_children(directives, nd.HTTP_LOC, table, found)
    before = dict(table.shapes(nd.HTTP_LOC))
    check_children(directives, nd.HTTP_LOC, table, found)
    assert found == [] and table.shapes(nd.HTTP_LOC) == before


# --------------------------------------------------------------------------- no false findings


def _catalogue_texts() -> list[object]:
    from tlslint import catalogue

    params = []
    for code, entry in catalogue.load_entries().items():
        if entry["target"] != "nginx" or code in ("NGX001", "NGX002", "NGX003", *RULES):
            continue
        for index, example in enumerate(entry["examples"]):
            for key in ("bad", "good", "fixed"):
                if key in example:
                    params.append(pytest.param(example, key, id=f"{code}-{index}-{key}"))
    return params


@pytest.mark.parametrize(("example", "key"), _catalogue_texts())
def test_every_other_catalogue_example_loads(tmp_path: Path, example: dict, key: str) -> None:
    """Every other rule's examples are valid nginx (tests/test_catalogue_nginx.py): the
    analyzer must find nothing in them, under each example's own settings."""
    settings = {**example.get("settings", {}), "select": RULES}
    files = {example.get("path", "example.conf"): example[key], **example.get("files", {})}
    result = check_files(tmp_path, files, settings)
    assert result.findings == [], [f"{f.code} {f.location.line}: {f.message}" for f in result.findings]
