"""Fuzzing the loaders and --fix: no traceback, ever; every failure is located.

Generated nginx and Apigee YAML, structured but broken (real directives and keys
mixed with stray braces, quotes, backslashes, ``${``, NUL and undecodable bytes,
CRLF, a BOM, includes that loop, climb out or go missing), and raw bytes, go
through ``tlslint.engine.run`` in-process and a few through the real command line.
The properties:

* no exception escapes ``run`` or ``apply_fixes``;
* a file that does not load is a finding with a line: NGX001/NGX002/NGX003 for
  nginx, APG201 anchored "unparsed" for YAML that does not parse (or APG001 for a
  Helm template), and the run exits 2;
* ``--fix`` writes only files that still parse, never one that did not load, and a
  second run changes nothing.

``TLSLINT_FUZZ_EXAMPLES`` scales the number of examples (as in tests/test_fixing.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import settings_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tlslint.engine import RunResult, run
from tlslint.findings import LOAD_CODES, Severity
from tlslint.fixing import apply_fixes
from tlslint.sources.apigee import validate_text
from tlslint.sources.apigee.documents import UNPARSED
from tlslint.sources.nginx.parser import parse_text
from tlslint.sources.text import SourceError, decode

EXAMPLES = int(os.environ.get("TLSLINT_FUZZ_EXAMPLES", "100"))
# A library warning (ruamel's "found duplicate anchor") would reach the user's stderr.
pytestmark = pytest.mark.filterwarnings("error::Warning:ruamel")
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- nginx ------------------------------------------------------------------------------
DIRECTIVES = [
    b"listen 443 ssl;", b"listen 80 default_server;", b"server_name example.com 'a b';",
    b"ssl_session_cache shared:SSL:10m;", b"ssl_session_cache builtin:1000;", b"ssl_session_cache none;",
    b"ssl_session_timeout 1m;", b'ssl_session_timeout "30d";', b"ssl_session_tickets on;",
    b"ssl_protocols TLSv1 TLSv1.2;", b"keepalive_timeout 0;", b"keepalive_requests 10;",
    b"proxy_pass http://backend;", b"proxy_ssl_session_reuse off;", b"keepalive 16;",
    b"ssl_certificate /etc/ssl/a.pem;", b"set $a ${b}c;", b"return 200 'ok;{}';", b"http2 on;",
    b"access_log off;", b"add_header X-A \"b c\";", b"ssl on;",
]  # fmt: skip
BLOCKS = [
    b"http {",
    b"server {",
    b"location / {",
    b"upstream backend {",
    b"events {",
    b"if ($a) {",
    b"map $a $b {",
]
INCLUDES = [
    b"include a.conf;", b"include b.conf;", b"include nginx.conf;", b"include *.conf;",
    b"include missing.conf;", b"include ../outside.conf;", b"include /etc/nginx/b.conf;",
    b"include sub/../a.conf;", b"include;", b"include mime.types;", b"include ${x}.conf;",
]  # fmt: skip
NOISE = [
    b"{", b"}", b";", b"'", b'"', b"\\", b"${", b"#", b"# comment ;{}", b"\x00", b"\xff\xfe", b"caf\xe9",
    b"\r", b"\r\n", b"\t", b"\xef\xbb\xbf", b"\\\n", b"\x85", b"a" * 70,
]  # fmt: skip
NEWLINES = st.sampled_from([b"\n", b"\r\n", b"\n\n", b" ", b""])


@st.composite
def nginx_bytes(draw: st.DrawFn, noise: bool = True) -> bytes:
    """Lines of directives, blocks and includes; with ``noise``, broken pieces too."""
    kinds = [DIRECTIVES, DIRECTIVES, BLOCKS, [b"}"], INCLUDES, *([NOISE] if noise else [])]
    out = [b"\xef\xbb\xbf"] if draw(st.booleans()) and draw(st.booleans()) else []
    newline = draw(NEWLINES)
    depth = 0
    for _ in range(draw(st.integers(0, 30))):
        kind = draw(st.sampled_from(kinds))
        piece = draw(st.sampled_from(kind))
        if not noise and piece == b"}" and depth == 0:
            continue
        depth += piece.endswith(b"{") - (piece == b"}")
        out.append(b"    " * max(depth, 0) + piece)
        out.append(newline if not noise else draw(NEWLINES))
    if not noise:
        out.extend([b"}", newline] * max(depth, 0))
    if noise and draw(st.booleans()):
        out.append(draw(st.binary(max_size=12)))
    return b"".join(out)


def write_tree(directory: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


nginx_trees = st.fixed_dictionaries(
    {"nginx.conf": nginx_bytes()},
    optional={"a.conf": nginx_bytes(), "b.conf": nginx_bytes(), "sub/c.conf": nginx_bytes()},
)


def assert_located(result: RunResult) -> None:
    """Every load problem is a finding with a line and a bounded message; exit 2 with it."""
    for finding in result.findings:
        if finding.code in LOAD_CODES or finding.anchor == UNPARSED:
            assert finding.location.line >= 1, finding
            assert finding.message and len(finding.message) < 400, finding
    assert (result.exit_code(Severity.INFO) == 2) == (result.has_load_errors or bool(result.missing_paths))


@fuzz
@given(files=nginx_trees)
def test_nginx_trees_load_or_say_where_not(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes]
) -> None:
    directory = tmp_path_factory.mktemp("ngx")
    write_tree(directory, files)
    (directory.parent / "outside.conf").write_bytes(b"ssl_session_cache builtin:1000;\n")
    result = run([directory], settings_for(directory))
    assert_located(result)
    assert not any(p.name == "outside.conf" for p in result.files)  # refused: outside the root
    named = run([directory / "nginx.conf"], settings_for(directory))
    assert_located(named)


@fuzz
@given(data=st.binary(max_size=3000))
def test_raw_bytes_as_nginx(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    directory = tmp_path_factory.mktemp("raw")
    (directory / "x.conf").write_bytes(data)
    result = run([directory / "x.conf"], settings_for(directory))  # named: read whatever it holds
    assert_located(result)
    source = decode(directory / "x.conf", data) if b"\x00" not in data else None
    parses = source is not None and _parses(source.text, directory)
    assert (not parses) == any(f.code == "NGX001" for f in result.findings)
    assert_located(run([directory], settings_for(directory)))  # walked: sniffed first


def _parses(text: str, directory: Path) -> bool:
    from tlslint.sources.nginx.model import SourceText

    try:
        parse_text(SourceText(directory / "x.conf", text))
    except SourceError:
        return False
    return True


@fuzz
@given(files=nginx_trees, unsafe=st.booleans())
def test_fix_on_broken_nginx_trees(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes], unsafe: bool
) -> None:
    _assert_fix_properties(tmp_path_factory.mktemp("fix"), files, unsafe)


@fuzz
@given(
    files=st.fixed_dictionaries(
        {"nginx.conf": nginx_bytes(noise=False)}, optional={"a.conf": nginx_bytes(noise=False)}
    ),
    unsafe=st.booleans(),
)
def test_fix_on_nginx_trees_that_load(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes], unsafe: bool
) -> None:
    """Mostly valid configurations: fixes are found and applied, and settle."""
    _assert_fix_properties(tmp_path_factory.mktemp("fixok"), files, unsafe)


def _assert_fix_properties(directory: Path, files: dict[str, bytes], unsafe: bool) -> None:
    write_tree(directory, files)
    configured = settings_for(directory)
    before = {name: (directory / name).read_bytes() for name in files}
    result = run([directory], configured)
    unloadable = {f.location.path.resolve() for f in result.findings if f.code == "NGX001"}
    outcome = apply_fixes(result, configured, unsafe=unsafe, write=True)
    assert not [m for m in outcome.messages if "would break" in m], outcome.messages
    written = set(outcome.written)
    for name, data in before.items():
        path = (directory / name).resolve()
        after = path.read_bytes()
        if path not in written:
            assert after == data, name
            continue
        assert path not in unloadable, name
        parse_text(decode(path, after))  # raises if a fix broke the file
    if any("did not settle" in m for m in outcome.messages):
        return  # reported to the user as a bug of its own; a second run continues it
    again = apply_fixes(run([directory], configured), configured, unsafe=unsafe, write=True)
    assert again.written == [] and again.diff == "", again.diff


# -- Apigee YAML ------------------------------------------------------------------------
YAML_LINES = [
    "virtualhosts:", "  - name: prod", "    sslSecret: prod-tls", "    minTLSProtocolVersion: 1.2",
    "    maxTLSProtocolVersion: '1.3'", "    additionalGateways: [non-sni]",
    "    additionalGateways: non-sni", "ingressGateways:", "  - name: gw", "    replicaCountMin: 2",
    "apiVersion: apigee.cloud.google.com/v1alpha1", "kind: ApigeeRoute",
    "metadata: {name: non-sni, namespace: apigee}", "spec:", '  hostnames: ["*"]', "  ports:",
    "  - number: 443", "    protocol: HTTPS", "    tls: {credentialName: prod-tls, mode: SIMPLE}",
    "  selector: {app: apigee-ingressgateway}", "  enableNonSniClient: true",
    "defaults: &d {sslSecret: x}", "  - <<: *d", "    name: *d", "a: &a [1, *a]", "---", "...",
    "# comment: [", "  - {{ .Values.name }}", "    name: ${ENV_GROUP}", "%YAML 1.2", "? [a]", ": b",
    "  x: |", "    block", "\t- tab", "key: 'unterminated", 'key: "esc \\" [', "[", "]", "{", "}",
    "- - - x", "&", "*", "!!binary AAA", "a: b: c",
]  # fmt: skip
YAML_NOISE = ["\x00", "\x07", "\ufeff", "\udcff", "\u2028", "\r", "é", "\\", "'", '"', ":", "-", "  "]


@st.composite
def yaml_text(draw: st.DrawFn, noise: bool = True) -> bytes:
    lines = ["virtualhosts:"]  # what discovery sniffs for
    for _ in range(draw(st.integers(0, 20))):
        line = draw(st.sampled_from(YAML_LINES))
        if noise and draw(st.integers(0, 4)) == 0:
            cut = draw(st.integers(0, len(line)))
            line = line[:cut] + draw(st.sampled_from(YAML_NOISE)) + line[cut:]
        lines.append(line)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) and draw(st.booleans()) else b""
    return bom + text.encode("utf-8", "surrogateescape")


def assert_yaml_located(result: RunResult, path: Path, data: bytes) -> None:
    assert_located(result)
    here = [f for f in result.findings if f.location.path.resolve() == path.resolve()]
    unparsed = [f for f in here if f.anchor == UNPARSED]
    template = [f for f in here if f.code == "APG001"]
    try:
        validate_text(decode(path, data))
        loads = True
    except SourceError:
        loads = False
    if loads:
        assert not unparsed, unparsed
    else:
        assert unparsed or template, here
        assert all(f.code == "APG201" for f in unparsed)


@fuzz
@given(data=yaml_text())
def test_yaml_loads_or_says_where_not(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    directory = tmp_path_factory.mktemp("yaml")
    path = directory / "overrides.yaml"
    path.write_bytes(data)
    result = run([path], settings_for(directory))
    assert_yaml_located(result, path, data)


@fuzz
@given(data=st.binary(max_size=2000))
def test_raw_bytes_as_yaml(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    directory = tmp_path_factory.mktemp("rawyaml")
    path = directory / "o.yaml"
    path.write_bytes(b"virtualhosts:\n" + data)
    result = run([path], settings_for(directory))
    assert_yaml_located(result, path, b"virtualhosts:\n" + data)


VERSION = st.sampled_from(["1.2", "1.3", '"1.2"', "'1.3'", "1.1", "1.20", "TLSv1.2", "{{ .Values.v }}"])
COMMENT = st.sampled_from(["", "  # floor", " #", "  # caf\u00e9 ;[]"])


@st.composite
def overrides_yaml(draw: st.DrawFn) -> bytes:
    """Overrides that parse, in assorted styles, with TLS versions to fix."""
    indent = draw(st.sampled_from(["  ", "    "]))
    lines = []
    if draw(st.booleans()):
        lines += ["defaults: &defaults", f"{indent}minTLSProtocolVersion: {draw(VERSION)}{draw(COMMENT)}"]
    lines.append("virtualhosts:")
    for index in range(draw(st.integers(1, 3))):
        style = draw(st.sampled_from(["block", "flow", "merge"]))
        if style == "flow":
            lines.append(
                f"{indent}- {{name: prod{index}, sslSecret: s, minTLSProtocolVersion: {draw(VERSION)}}}"
                + draw(COMMENT)
            )
            continue
        lines.append(f"{indent}- name: prod{index}{draw(COMMENT)}")
        if style == "merge":
            lines.append(f"{indent}  <<: *defaults" if "defaults: &defaults" in lines else f"{indent}  x: 1")
        lines.append(f"{indent}  sslSecret: prod-tls")
        for key in draw(
            st.lists(st.sampled_from(["minTLSProtocolVersion", "maxTLSProtocolVersion"]), max_size=2)
        ):
            lines.append(f"{indent}  {key}: {draw(VERSION)}{draw(COMMENT)}")
        if draw(st.booleans()):
            lines.append(f"{indent}  additionalGateways: [non-sni]")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode()


@fuzz
@given(data=st.one_of(overrides_yaml(), yaml_text(noise=False)), unsafe=st.booleans())
def test_fix_on_yaml(tmp_path_factory: pytest.TempPathFactory, data: bytes, unsafe: bool) -> None:
    directory = tmp_path_factory.mktemp("yamlfix")
    path = directory / "overrides.yaml"
    path.write_bytes(data)
    configured = settings_for(directory, {"apigee": {"non-sni": "required"}})
    outcome = apply_fixes(run([directory], configured), configured, unsafe=unsafe, write=True)
    assert not [m for m in outcome.messages if "would break" in m], outcome.messages
    for written in outcome.written:
        text = written.read_bytes()
        validate_text(decode(written, text))  # raises if a fix broke it
    if path.resolve() not in outcome.written:
        assert path.read_bytes() == data
    again = apply_fixes(run([directory], configured), configured, unsafe=unsafe, write=True)
    assert again.written == [] and again.diff == "", again.diff


# -- the real command line ----------------------------------------------------------------
LOCATED = re.compile(r"^\S+?(?::\d+:\d+)?: (?:NGX00[123]|APG201|APG001) ", re.M)


@settings(
    max_examples=max(3, EXAMPLES // 25),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(files=nginx_trees, overrides=yaml_text())
def test_cli_fix_never_crashes(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes], overrides: bytes
) -> None:
    directory = tmp_path_factory.mktemp("cli")
    write_tree(directory, {**files, "overrides.yaml": overrides})
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TLSLINT_DEBUG")}
    result = subprocess.run(
        [sys.executable, "-m", "tlslint", "check", "--fix", "--no-cache", "."],
        cwd=directory,
        env={**env, "NO_COLOR": "1"},
        capture_output=True,
        timeout=120,
    )
    # The CLI echoes source lines as their bytes, undecodable ones included.
    stdout, stderr = (stream.decode("utf-8", "replace") for stream in (result.stdout, result.stderr))
    for stream in (stdout, stderr):
        assert "Traceback" not in stream and "internal error" not in stream, stream
    assert "Warning" not in stderr, stderr
    assert result.returncode in (0, 1, 2), (stdout, stderr)
    if result.returncode == 2:
        assert LOCATED.search(stdout) or stderr.startswith("tlslint: "), stdout
