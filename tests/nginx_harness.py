"""Check nginx configuration text with the real ``nginx -t``.

``nginx_t(text)`` writes the text into a fresh temporary prefix and runs
``nginx -t -e stderr -p PREFIX/ -c PREFIX/nginx.conf [-g "pid PREFIX/nginx.pid;"]``
on it, so that tests can prove that tlslint's fixed output and the catalogue
examples are valid nginx.

Only a temporary copy is changed, and only its *environment*; every change is
recorded in ``NginxTestResult.adjustments`` and the directives under test keep
their values:

* ``*ssl_certificate``, ``*ssl_trusted_certificate``, ``*ssl_client_certificate``
  and ``*ssl_certificate_key`` name a throw-away certificate and key;
  ``ssl_dhparam`` the RFC 7919 ffdhe2048 group; ``ssl_session_ticket_key`` an
  80-byte random key. A TLS server with no certificate at all gets one
  (``add_missing_certificates``); ``ssl_reject_handshake on`` needs none.
* ``access_log``, ``*_temp_path`` and ``*_cache_path`` go under the prefix, and
  ``error_log`` to stderr (where the messages are read); a main-level ``pid``
  points into the prefix (``-g pid`` beside it would be a duplicate). An http{}
  without them gets ``access_log`` and the temp paths, whose compiled-in
  defaults are under /var. ``user`` is removed when not running as root.
* ``include`` of /etc/nginx/... reads the prefix; stock files (mime.types,
  fastcgi_params, snippets/fastcgi-php.conf, ...) come from the system's
  /etc/nginx, or are empty when not installed; other missing files stay
  missing unless ``stub_missing_includes`` (which is *not* environment-only).
* Host names that need DNS (docker service names, example hosts) in upstream
  ``server`` and ``*_pass`` become 127.0.0.1, ports and paths kept; upstream{}
  names, variables, ``${ENVSUBST}`` placeholders and localhost are left alone.
* ``nginx -t`` binds the listen sockets (it tolerates only EADDRINUSE), so a
  non-local listen address becomes its own 127.1.0.N (or [::1]), a unix socket
  goes under the prefix, and when not root a port below 1024 gets +20000.

Insertions are made on existing lines, so line numbers in nginx's messages are
those of the text given. Directives are found with tlslint's own lexer (exact
offsets), never with regexes over the text.

A text with a stream{} block gets ``load_module`` of the stream module first when
this nginx builds it as a dynamic module (Debian's libnginx-mod-stream, loaded from
modules-enabled/ by the system's nginx.conf) and the text does not load it itself.

Kinds (detected as tlslint does, ``tlslint.workspace.nginx.detect_context``,
or given): ``main`` gets ``events {}`` when it has none; ``http`` is wrapped
in ``events {} http { ... }``; ``server`` in ``events {} http { server {
listen 127.0.0.1:8443 ssl; <certificate> ... } }``.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tlslint.sources.nginx.lexer import CLOSE, COMMENT, OPEN, SEMI, LexError, Token, tokenize
from tlslint.sources.nginx.model import Directive, ParsedFile, SourceText
from tlslint.workspace.nginx import HTTP, MAIN, SERVER, detect_context

__all__ = [
    "HTTP",
    "KINDS",
    "MAIN",
    "SERVER",
    "NginxTestResult",
    "detect_kind",
    "make_certificate",
    "nginx_t",
    "nginx_version",
]

KINDS = (MAIN, HTTP, SERVER)
TIMEOUT = 10.0  # seconds for each openssl / nginx subprocess
WRAP_LISTEN = "127.0.0.1:8443"  # unprivileged; a port in use is fine for nginx -t
SYSTEM_CONF_DIR = PurePosixPath("/etc/nginx")
# Files every nginx package ships; an include of one that is not supplied
# resolves to the system's copy (or an empty file when it is not installed).
STOCK_INCLUDES = frozenset(
    {"mime.types", "fastcgi_params", "fastcgi.conf", "proxy_params", "scgi_params",
     "uwsgi_params", "koi-utf", "koi-win", "win-utf", "snippets/fastcgi-php.conf",
     "snippets/snakeoil.conf"}
)  # fmt: skip
# nginx's compiled-in defaults for these point under /var; each http{} that
# does not set one gets it under the prefix, so that no test writes to /var.
HTTP_DEFAULT_PATHS = (
    "access_log", "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path",
    "uwsgi_temp_path", "scgi_temp_path",
)  # fmt: skip
PASS_DIRECTIVES = frozenset(
    {"proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass"}
)
UPSTREAM_BLOCKS = frozenset({"upstream"})
# nginx -t binds every listen socket (only EADDRINUSE is tolerated in test mode):
# a port below this needs root, and an address must be local.
PORT_OFFSET = 20000
_GLOB = re.compile(r"[*?\[]")
_HOSTNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?")
_PASS_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)?(?P<host>\[[^\]]*\]|[^/:\[\]]+)(?P<port>:\d+)?(?P<rest>(?:/.*)?)",
    re.DOTALL,
)
_MESSAGE = re.compile(
    r"^(?:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d |nginx: )?"
    r"\[(?P<level>emerg|alert|crit|error|warn|notice|info|debug)\] (?:\d+#\d+: )?(?P<text>.*)$"
)
_ERROR_LEVELS = frozenset({"emerg", "alert", "crit", "error"})


# --------------------------------------------------------------------------- results


@dataclass
class NginxTestResult:
    """What ``nginx -t`` said about one configuration.

    The prefix directory is removed after the run (unless ``nginx_t`` was given
    ``directory``), so ``config_path`` is where the file was; ``config_text``
    keeps what was tested.
    """

    ok: bool
    output: str
    config_path: Path
    adjustments: list[str] = field(default_factory=list)
    kind: str = MAIN
    config_text: str = ""
    returncode: int | None = None
    version_note: str = ""
    prefix: Path = Path()
    command: list[str] = field(default_factory=list)

    @property
    def messages(self) -> list[str]:
        """``[level] text`` for each message, timestamps removed and the prefix shown as $PREFIX."""
        found = []
        for line in self.output.splitlines():
            match = _MESSAGE.match(line.strip())
            if match:
                text = match["text"].replace(str(self.prefix), "$PREFIX")
                found.append(f"[{match['level']}] {text}")
        return found

    @property
    def errors(self) -> list[str]:
        return [m for m in self.messages if m[1 : m.index("]")] in _ERROR_LEVELS]

    @property
    def warnings(self) -> list[str]:
        return [m for m in self.messages if m.startswith("[warn]")]

    def describe(self) -> str:
        """A report for assertion messages: verdict, output, adjustments, the text tested."""
        verdict = "passed" if self.ok else f"FAILED (exit status {self.returncode})"
        parts = [f"nginx -t {verdict}; kind {self.kind}"]
        if self.version_note:
            parts.append(f"note: {self.version_note}")
        parts.append("output:\n" + _indent(self.output.rstrip() or "(none)"))
        parts.append("adjustments:\n" + _indent("\n".join(self.adjustments) or "(none)"))
        numbered = "\n".join(f"{n:4} {line}" for n, line in enumerate(self.config_text.splitlines(), 1))
        parts.append(f"{self.config_path.name} as tested:\n{numbered}")
        return "\n".join(parts)

    __str__ = describe


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


# --------------------------------------------------------------------------- material


@dataclass(frozen=True)
class _Material:
    directory: Path
    cert: Path
    key: Path
    ticket_key: Path
    dhparam: Path


def _openssl(*args: str) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command line is needed to make a test certificate")
    subprocess.run(
        [openssl, *args],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )


@functools.lru_cache(maxsize=1)
def _material() -> _Material:
    """One self-signed EC key pair, ticket key and DH group for the whole test session."""
    directory = Path(tempfile.mkdtemp(prefix="tlslint-nginx-material-"))
    atexit.register(shutil.rmtree, directory, True)
    cert, key = directory / "test-cert.pem", directory / "test-key.pem"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", str(key), "-out", str(cert), "-days", "30", "-subj", "/CN=tlslint.test",
        "-addext", "subjectAltName=DNS:tlslint.test,DNS:localhost",
    )  # fmt: skip
    dhparam = directory / "test-dhparam.pem"
    # A named RFC 7919 group: instant, unlike generating DH parameters.
    _openssl("genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", str(dhparam))
    ticket_key = directory / "test-ticket.key"
    ticket_key.write_bytes(os.urandom(80))
    return _Material(directory, cert, key, ticket_key, dhparam)


def make_certificate(directory: Path | None = None) -> tuple[Path, Path]:
    """A throw-away self-signed certificate and key (EC P-256), made once per session.

    Without ``directory`` the session's own copy is returned; with one, the pair
    is copied there (``test-cert.pem``, ``test-key.pem``).
    """
    material = _material()
    if directory is None:
        return material.cert, material.key
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / material.cert.name, directory / material.key.name
    shutil.copyfile(material.cert, cert)
    shutil.copyfile(material.key, key)
    return cert, key


# --------------------------------------------------------------------------- nginx binary


def _binary() -> str:
    from conftest import nginx_binary  # skips, or fails under TLSLINT_REQUIRE_NGINX=1

    return nginx_binary()


@functools.lru_cache(maxsize=4)
def nginx_version(binary: str | None = None) -> tuple[int, ...]:
    """The version of ``binary`` (default: the one the tests use), e.g. (1, 22, 1)."""
    binary = binary or _binary()
    proc = subprocess.run(
        [binary, "-v"], capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL
    )
    match = re.search(r"nginx/(\d+(?:\.\d+)*)", proc.stdout + proc.stderr)
    if match is None:
        raise RuntimeError(f"cannot read the version of {binary}: {proc.stderr!r}")
    return tuple(int(part) for part in match.group(1).split("."))


# --------------------------------------------------------------------------- structure


@dataclass(eq=False)
class _Node:
    """A directive as tokens; tolerant of broken text (nginx reports that)."""

    words: list[Token]
    parent: _Node | None
    children: list[_Node] | None = None
    open: int = -1  # offset just past "{"
    end: int = -1  # offset just past ";" or "}"

    @property
    def name(self) -> str:
        return self.words[0].value

    @property
    def args(self) -> list[Token]:
        return self.words[1:]

    @property
    def context(self) -> str | None:
        return self.parent.name if self.parent else None


def _parse(text: str) -> list[_Node]:
    try:
        tokens = tokenize(text)
    except LexError as error:  # an unterminated quote: nginx reports it; use what precedes it
        tokens = tokenize(text[: error.offset])
    root: list[_Node] = []
    # Frames: (enclosing directive or None at the top, its children, a real block?).
    stack: list[tuple[_Node | None, list[_Node], bool]] = [(None, root, True)]
    words: list[Token] = []
    for token in tokens:
        if token.kind == COMMENT:
            continue
        if token.kind not in (SEMI, OPEN, CLOSE):
            words.append(token)
            continue
        parent, children, _ = stack[-1]
        if token.kind == SEMI:
            if words:
                children.append(_Node(words, parent, end=token.end))
        elif token.kind == OPEN:
            if words:
                block: list[_Node] = []
                children.append(_Node(words, parent, children=block, open=token.end))
                stack.append((children[-1], block, True))
            else:  # "{" with no name: nginx refuses it; keep the braces balanced
                stack.append((parent, [], False))
        elif len(stack) > 1:
            closed, _, real = stack.pop()
            if real and closed is not None:
                closed.end = token.end
        words = []
    return root


def _walk(nodes: list[_Node]) -> Iterator[_Node]:
    for node in nodes:
        yield node
        if node.children:
            yield from _walk(node.children)


def detect_kind(text: str) -> str:
    """``main``, ``http`` or ``server``, decided as tlslint decides for a file checked on its own."""
    source = SourceText(Path("snippet.conf"), text)
    directives = [
        Directive(
            name=node.name,
            args=tuple(token.value for token in node.args),
            source=source,
            start=node.words[0].start,
            end=max(node.end, node.words[-1].end),
            args_start=node.words[1].start if node.args else node.words[0].end,
            args_end=node.words[-1].end,
        )
        for node in _parse(text)
    ]
    return detect_context(ParsedFile(source, directives, []))


# --------------------------------------------------------------------------- adjusting


def _quoted(value: str, quote: str) -> str:
    return f"{quote}{value}{quote}" if quote else value


def _is_file_argument(value: str) -> bool:
    """A path nginx opens at -t time (not a variable, data:, engine:, stderr, syslog:...)."""
    return bool(value) and "$" not in value and not re.match(r"^(data|engine|syslog|memory|stderr)\b", value)


def _needs_dns(host: str, upstreams: set[str]) -> bool:
    """A host name nginx would resolve while reading the configuration."""
    if "$" in host or host.lower() in ("localhost", "unix") or host.lower() in upstreams:
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _HOSTNAME.fullmatch(host) is not None and not host.replace(".", "").isdigit()
    return False


@dataclass
class _Job:
    prefix: Path
    material: _Material
    root_user: bool
    add_missing_certificates: bool
    stub_missing_includes: bool
    upstreams: set[str] = field(default_factory=set)
    adjustments: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # relative path -> text still to adjust
    done: dict[str, str] = field(default_factory=dict)  # relative path -> adjusted text
    parsed: dict[str, list[_Node]] = field(default_factory=dict)
    counter: int = 0
    loopbacks: dict[str, str] = field(default_factory=dict)  # listen host -> local stand-in
    binary: str = ""  # the nginx that tests the text

    def show(self, value: str | Path) -> str:
        text = str(value)
        material = self.material
        for path, label in (
            (material.cert, "<test certificate>"),
            (material.key, "<test key>"),
            (material.ticket_key, "<80-byte test ticket key>"),
            (material.dhparam, "<ffdhe2048 parameters>"),
        ):
            text = text.replace(str(path), label)
        return text.replace(str(self.prefix), "$PREFIX")

    def note(self, message: str) -> None:
        if message not in self.adjustments:
            self.adjustments.append(message)

    def fresh(self, *parts: str) -> Path:
        self.counter += 1
        path = self.prefix.joinpath(*parts[:-1], f"{parts[-1]}-{self.counter}")
        return path

    def nodes(self, rel: str) -> list[_Node] | None:
        """The top-level directives of a file that will be in the prefix, if known."""
        if rel in self.parsed:
            return self.parsed[rel]
        text = self.texts.get(rel, self.done.get(rel))
        if text is None:
            return None
        self.parsed[rel] = _parse(text)
        return self.parsed[rel]


class _Editor:
    """Token-exact edits of one file; insertions never add a line."""

    def __init__(self, job: _Job, label: str, text: str) -> None:
        self.job = job
        self.label = label
        self.text = text
        self.source = SourceText(Path(label), text)
        self.edits: list[tuple[int, int, str]] = []

    def where(self, node: _Node) -> str:
        return f"{self.label}:{self.source.position(node.words[0].start)[0]}"

    def replace(self, node: _Node, token: Token, value: str, why: str = "") -> None:
        self.edits.append((token.start, token.end, _quoted(value, token.quote)))
        suffix = f" ({why})" if why else ""
        self.job.note(f"{self.where(node)}: {node.name} {token.value} -> {self.job.show(value)}{suffix}")

    def insert(self, offset: int, text: str) -> None:
        self.edits.append((offset, offset, text))

    def remove(self, node: _Node, why: str) -> None:
        self.edits.append((node.words[0].start, node.end, ""))
        words = " ".join(token.value for token in node.words)
        self.job.note(f"{self.where(node)}: removed `{words};` ({why})")

    def result(self) -> str:
        text = self.text
        for start, end, new in sorted(self.edits, reverse=True):
            text = text[:start] + new + text[end:]
        return text


def _adjust_directives(job: _Job, editor: _Editor, nodes: list[_Node], *, main_file: bool) -> bool:
    """Environment adjustments of every directive; returns whether a main-level pid was set."""
    material = job.material
    has_pid = False
    for node in _walk(nodes):
        name, args = node.name, node.args
        first = args[0] if args else None
        top = node.parent is None and main_file
        if first is None:
            continue
        value = first.value
        if name.endswith(("ssl_certificate", "ssl_trusted_certificate", "ssl_client_certificate")):
            if _is_file_argument(value):
                editor.replace(node, first, str(material.cert))
        elif name.endswith("ssl_certificate_key"):
            if _is_file_argument(value):
                editor.replace(node, first, str(material.key))
        elif name.endswith("ssl_dhparam"):
            if _is_file_argument(value):
                editor.replace(node, first, str(material.dhparam))
        elif name.endswith("ssl_session_ticket_key"):
            if _is_file_argument(value):
                editor.replace(node, first, str(material.ticket_key))
        elif name.endswith("_temp_path"):
            if _is_file_argument(value):
                editor.replace(node, first, str(job.fresh("temp", name)))
        elif name.endswith("_cache_path"):
            if _is_file_argument(value):
                editor.replace(node, first, str(job.fresh("cache", name)))
        elif name == "access_log":
            if value != "off" and _is_file_argument(value):
                target = job.prefix / "logs" / (PurePosixPath(value).name or "access.log")
                editor.replace(node, first, str(target))
        elif name == "error_log":
            if _is_file_argument(value):
                editor.replace(node, first, "stderr", "messages are read from stderr")
        elif name == "pid" and top:
            has_pid = True
            editor.replace(node, first, str(job.prefix / "nginx.pid"))
        elif name == "user" and top and not job.root_user:
            editor.remove(node, "nginx -t does not run as root")
        elif name == "include":
            _adjust_include(job, editor, node, first)
        elif name == "listen":
            _adjust_listen(job, editor, node, first)
        elif (name == "server" and node.context in UPSTREAM_BLOCKS) or name in PASS_DIRECTIVES:
            _adjust_address(job, editor, node, first)
    return has_pid


def _adjust_address(job: _Job, editor: _Editor, node: _Node, token: Token) -> None:
    """Point a host name that would need DNS at 127.0.0.1, keeping scheme, port and path."""
    value = token.value
    if "$" in value or "\\" in editor.text[token.start : token.end] or value.startswith("unix:"):
        return
    match = _PASS_URL.fullmatch(value)
    if match is None or (match["scheme"] and match["host"] == "unix"):
        return
    host = match["host"]
    # A *_pass name may be an upstream{} block; an upstream's own servers always resolve.
    names = set() if node.name == "server" else job.upstreams
    if not _needs_dns(host, names):
        return
    new = f"{match['scheme'] or ''}127.0.0.1{match['port'] or ''}{match['rest']}"
    editor.replace(node, token, new, f"{host} needs DNS, which tests do without")


def _unprivileged_port_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text())
    except (OSError, ValueError):
        return 1024


def _adjust_listen(job: _Job, editor: _Editor, node: _Node, token: Token) -> None:
    """Make a listen socket bindable here: a local address, and a port this user may bind.

    Each distinct non-local address gets its own 127.1.0.N, so that servers stay
    grouped by socket as they were; wildcard and loopback addresses are kept.
    """
    value = token.value
    if "\\" in editor.text[token.start : token.end]:
        return
    if value.startswith("unix:"):
        if _is_file_argument(value[5:]):
            sockets = job.prefix / "sockets"
            sockets.mkdir(exist_ok=True)
            editor.replace(
                node, token, f"unix:{sockets / PurePosixPath(value[5:]).name}", "nginx -t binds it"
            )
        return
    if value.isdigit():
        host, port = "", value
    elif value.startswith("["):
        host, _, rest = value.partition("]")
        host, port = host + "]", rest.removeprefix(":")
    elif ":" in value:
        host, _, port = value.rpartition(":")
    else:
        host, port = value, ""
    if port and not port.isdigit():
        return
    reasons = []
    new_host = host
    if host and host not in ("*", "0.0.0.0", "[::]", "[::1]") and host.lower() != "localhost":
        try:
            local = ipaddress.ip_address(host.strip("[]")).is_loopback
        except ValueError:
            local = not _needs_dns(host, set())
            if local:
                return  # not an address nginx can use; leave nginx to say so
        if not local:
            if host.startswith("["):
                new_host = "[::1]"
            else:
                new_host = job.loopbacks.setdefault(host, f"127.1.0.{len(job.loopbacks) + 1}")
            reasons.append(f"{host} is not an address of this machine")
    number = int(port) if port else 80
    if not job.root_user and number < _unprivileged_port_start():
        port = str(number + PORT_OFFSET)
        reasons.append(f"port {number} needs root")
    if not reasons:
        return
    new = f"{new_host}:{port}" if new_host and port else (new_host or port)
    editor.replace(node, token, new, "; ".join(reasons) + ", and nginx -t binds listen sockets")


def _adjust_include(job: _Job, editor: _Editor, node: _Node, token: Token) -> None:
    value = token.value
    path = PurePosixPath(value)
    if path.is_absolute():
        if path.is_relative_to(SYSTEM_CONF_DIR):
            rel = str(path.relative_to(SYSTEM_CONF_DIR))
            editor.replace(node, token, str(job.prefix / rel), "/etc/nginx is the prefix's copy")
        elif path.name in STOCK_INCLUDES and not Path(value).exists():
            rel = path.name
            editor.replace(node, token, str(job.prefix / rel), "a stock file of every nginx package")
        else:
            return  # read from this machine as it is
    else:
        rel = value
    if _GLOB.search(rel) or rel in job.texts or rel in job.done:
        return
    if rel in STOCK_INCLUDES:
        system = Path(SYSTEM_CONF_DIR, rel)
        if system.is_file():
            job.texts[rel] = system.read_text(encoding="utf-8", errors="surrogateescape")
            job.note(f"include {rel}: the system's stock {system}")
        else:
            job.texts[rel] = ""
            job.note(f"include {rel}: an empty stock file ({system} is not installed)")
    elif job.stub_missing_includes:
        job.texts[rel] = ""
        job.note(
            f"{editor.where(node)}: include {rel}: MISSING, replaced by an empty file (not environment-only)"
        )


def _tls_server(server: _Node) -> bool:
    for child in server.children or []:
        if child.name == "listen" and any(token.value == "ssl" for token in child.args):
            return True
        if child.name == "ssl" and child.args and child.args[0].value == "on":
            return True
    return False


def _declares(job: _Job, nodes: list[_Node], name: str, value: str | None = None) -> bool:
    """``name`` (with ``value``) among ``nodes``, or at the top of a file they include."""
    for node in nodes:
        if node.name == name and (value is None or (node.args and node.args[0].value == value)):
            return True
        if node.name == "include" and node.args:
            rel = node.args[0].value
            path = PurePosixPath(rel)
            if path.is_absolute() and path.is_relative_to(SYSTEM_CONF_DIR):
                rel = str(path.relative_to(SYSTEM_CONF_DIR))
            included = job.nodes(rel)
            if included and _declares(job, included, name, value):
                return True
    return False


def _certificate_needed(job: _Job, server_body: list[_Node], outer: list[_Node]) -> bool:
    if _declares(job, server_body, "ssl_certificate") or _declares(job, outer, "ssl_certificate"):
        return False
    rejects = _declares(job, server_body, "ssl_reject_handshake", "on") or _declares(
        job, outer, "ssl_reject_handshake", "on"
    )
    return not rejects


def _certificate_lines(job: _Job) -> str:
    return f" ssl_certificate {job.material.cert}; ssl_certificate_key {job.material.key};"


def _add_certificates(job: _Job, editor: _Editor, servers: list[_Node], outer: list[_Node]) -> None:
    for server in servers:
        body = server.children or []
        if _tls_server(server) and _certificate_needed(job, body, outer):
            editor.insert(server.open, _certificate_lines(job))
            job.note(
                f"{editor.where(server)}: server has a TLS listen but no ssl_certificate: "
                "added the test certificate and key"
            )


def _default_paths(job: _Job, present: list[_Node]) -> tuple[str, str]:
    """Directives for an http{} that lacks them, and a note naming them."""
    names = {node.name for node in present}
    added, missing = [], []
    for name in HTTP_DEFAULT_PATHS:
        if name not in names:
            missing.append(name)
            if name == "access_log":
                added.append(f" access_log {job.prefix / 'logs' / 'access.log'};")
            else:
                added.append(f" {name} {job.prefix / 'temp' / name.removesuffix('_temp_path')};")
    if not missing:
        return "", ""
    return "".join(added), f"{', '.join(missing)} under $PREFIX (the compiled-in defaults are under /var)"


# --------------------------------------------------------------------------- nginx -t


def nginx_t(
    text: str,
    *,
    kind: str | None = None,
    files: dict[str, str] | None = None,
    version_note: str = "",
    name: str = "nginx.conf",
    binary: str | None = None,
    add_missing_certificates: bool = True,
    stub_missing_includes: bool = False,
    directory: Path | None = None,
) -> NginxTestResult:
    """Run ``nginx -t`` on ``text`` in a temporary prefix; see the module docstring.

    ``files`` are further files, relative to the configuration's directory (an
    ``/etc/nginx/...`` key means the same); they are adjusted like the main text.
    ``name`` is the main file's name (for includes of it). ``add_missing_certificates``
    gives a TLS server with no certificate the test one (nginx refuses such a
    server, and short examples leave certificates out). ``stub_missing_includes``
    replaces includes of absent non-stock files with empty files: that is not an
    environment-only change and is recorded as such. ``directory`` (kept
    afterwards) replaces the temporary prefix.
    """
    if "/" in name:
        raise ValueError(f"name must be a file name, not {name!r}")
    kind = kind or detect_kind(text)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    binary = binary or _binary()
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
        return _run(text, kind, files or {}, version_note, name, binary, directory.resolve(),
                    add_missing_certificates, stub_missing_includes)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="tlslint-nginx-t-") as temporary:
        return _run(text, kind, files or {}, version_note, name, binary, Path(temporary).resolve(),
                    add_missing_certificates, stub_missing_includes)  # fmt: skip


def _relative(key: str) -> str:
    path = PurePosixPath(key)
    if path.is_absolute():
        if not path.is_relative_to(SYSTEM_CONF_DIR):
            raise ValueError(f"files: {key!r} is absolute and not under /etc/nginx")
        return str(path.relative_to(SYSTEM_CONF_DIR))
    if ".." in path.parts:
        raise ValueError(f"files: {key!r} leaves the configuration directory")
    return str(path)


def _run(
    text: str,
    kind: str,
    files: dict[str, str],
    version_note: str,
    name: str,
    binary: str,
    prefix: Path,
    add_missing_certificates: bool,
    stub_missing_includes: bool,
) -> NginxTestResult:
    job = _Job(
        prefix=prefix,
        material=_material(),
        root_user=os.geteuid() == 0,
        add_missing_certificates=add_missing_certificates,
        stub_missing_includes=stub_missing_includes,
        binary=binary,
    )
    job.texts = {_relative(key): value for key, value in files.items()}
    if name in job.texts:
        raise ValueError(f"files: {name!r} is the main file")
    nodes = _parse(text)
    job.parsed[name] = nodes
    for node in _walk(nodes):
        if node.name in UPSTREAM_BLOCKS and node.args:
            job.upstreams.add(node.args[0].value.lower())  # nginx compares names without case
    for other in list(job.texts):
        for node in _walk(job.nodes(other) or []):
            if node.name in UPSTREAM_BLOCKS and node.args:
                job.upstreams.add(node.args[0].value.lower())

    config_text, has_pid = _adjust_main(job, text, nodes, kind, name)
    while job.texts:  # further files, and the stock files their includes name
        rel, content = job.texts.popitem()
        editor = _Editor(job, rel, content)
        nodes_of_file = job.parsed.get(rel)
        if nodes_of_file is None:
            nodes_of_file = job.parsed[rel] = _parse(content)
        _adjust_directives(job, editor, nodes_of_file, main_file=False)
        job.done[rel] = editor.result()

    for sub in ("logs", "temp", "cache"):
        (prefix / sub).mkdir(exist_ok=True)
    config_path = prefix / name
    config_path.write_text(config_text, encoding="utf-8", errors="surrogateescape")
    for rel, content in job.done.items():
        target = prefix / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8", errors="surrogateescape")

    command = [binary, "-t", "-p", f"{prefix}/", "-c", str(config_path)]
    if nginx_version(binary) >= (1, 19, 5):
        command[2:2] = ["-e", "stderr"]
    if not has_pid:
        command += ["-g", f"pid {prefix}/nginx.pid;"]
    output, returncode = _execute(command, prefix)
    return NginxTestResult(
        ok=returncode == 0,
        output=output,
        config_path=config_path,
        adjustments=job.adjustments,
        kind=kind,
        config_text=config_text,
        returncode=returncode,
        version_note=version_note,
        prefix=prefix,
        command=command,
    )


def _execute(command: list[str], prefix: Path) -> tuple[str, int | None]:
    """Run nginx in its own session; on timeout kill the whole group (nothing is left running)."""
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        cwd=prefix,
        env={"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C"},
        preexec_fn=_limit_descriptors,
        start_new_session=True,
    ) as proc:
        try:
            stdout, stderr = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            return stdout + stderr + f"\n(timed out after {TIMEOUT:g} s; killed)", None
    return stdout + stderr, proc.returncode


def _limit_descriptors() -> None:
    """An include loop fails at once with EMFILE instead of recursing for a long time."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    limit = 256 if hard == resource.RLIM_INFINITY else min(256, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


STREAM_MODULE = Path("/usr/lib/nginx/modules/ngx_stream_module.so")  # Debian's libnginx-mod-stream


@functools.lru_cache(maxsize=4)
def _dynamic_modules(binary: str) -> frozenset[str]:
    """The modules ``binary`` was built to load dynamically (``--with-stream=dynamic``)."""
    proc = subprocess.run(
        [binary, "-V"], capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL
    )
    return frozenset(re.findall(r"--with-(\w+)=dynamic", proc.stdout + proc.stderr))


def _stream_module(job: _Job, nodes: list[_Node]) -> str:
    """The module to load at main level for a stream{} block, or '' when the text has none,
    loads it itself, or this nginx has stream built in. Debian's nginx loads it from
    modules-enabled/, which the prefix's copy of /etc/nginx does not hold."""
    main = [*nodes, *(node for rel in job.texts for node in job.nodes(rel) or [])]
    if not any(node.name == "stream" and node.children is not None for node in main):
        return ""
    if any(node.name == "load_module" and any("stream" in t.value for t in node.args) for node in main):
        return ""
    return str(STREAM_MODULE) if "stream" in _dynamic_modules(job.binary) else ""


def _adjust_main(job: _Job, text: str, nodes: list[_Node], kind: str, name: str) -> tuple[str, bool]:
    editor = _Editor(job, name, text)
    has_pid = _adjust_directives(job, editor, nodes, main_file=kind == MAIN)
    head = tail = ""
    if kind == MAIN:
        if not any(node.name == "events" for node in nodes):
            head = "events {} "
            job.note(f"{name}: added `events {{}}` (nginx needs one; the text has none)")
        module = _stream_module(job, nodes)
        if module:
            head = f"load_module {module}; " + head
            job.note(f"{name}: added `load_module {module};` (stream{{}} is a dynamic module of this nginx)")
        for http in (node for node in nodes if node.name == "http" and node.children is not None):
            defaults, note = _default_paths(job, http.children or [])
            if defaults:
                editor.insert(http.open, defaults)
                job.note(f"{editor.where(http)}: http{{}} gets {note}")
        if job.add_missing_certificates:
            for block in _walk(nodes):
                if block.name in ("http", "stream") and block.children is not None:
                    servers = [n for n in block.children if n.name == "server" and n.children is not None]
                    _add_certificates(job, editor, servers, block.children)
    elif kind == HTTP:
        defaults, note = _default_paths(job, nodes)
        head, tail = f"events {{}} http {{{defaults} ", "\n}\n"
        job.note(
            f"{name}: wrapped in `events {{}} http {{ ... }}`" + (f"; http{{}} gets {note}" if note else "")
        )
        if job.add_missing_certificates:
            servers = [n for n in nodes if n.name == "server" and n.children is not None]
            _add_certificates(job, editor, servers, nodes)
    else:
        defaults, note = _default_paths(job, [])
        server_head = ""
        has_listen = any(node.name == "listen" for node in nodes)
        if not has_listen:
            server_head += f" listen {WRAP_LISTEN} ssl;"
        tls = not has_listen or any(
            node.name == "listen" and any(t.value == "ssl" for t in node.args) for node in nodes
        )
        added_certificate = job.add_missing_certificates and tls and _certificate_needed(job, nodes, [])
        if added_certificate:
            server_head += _certificate_lines(job)
        head, tail = f"events {{}} http {{{defaults} server {{{server_head} ", "\n} }\n"
        job.note(f"{name}: wrapped in `events {{}} http {{ server {{{job.show(server_head)} ... }} }}`")
        job.note(f"{name}: http{{}} gets {note}")
    return head + editor.result() + tail, has_pid
