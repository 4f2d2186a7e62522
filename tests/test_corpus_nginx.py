"""The real-world nginx corpus (../shared/corpus/nginx): loads, reads, and the NGX1xx verdicts.

Facts referred to below are ../shared/facts/nginx.md: §1 (directive table,
inheritance, default-server effect) and §6 (the corpus). MANIFEST.tsv's
FEATURES column lists, per file, the session settings as written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import CORPUS_NOT_CONFIGS, shared_files, shared_path
from helpers import settings_for

from tlslint.engine import run
from tlslint.findings import Severity
from tlslint.sources.nginx.model import Directive, walk
from tlslint.sources.nginx.parser import parse_file
from tlslint.workspace.nginx import parse_listen

MAX_BYTES = 2**24


def corpus_dir() -> Path:
    return shared_path("corpus", "nginx")


def corpus_files() -> list[str]:
    return sorted(p.name for p in corpus_dir().iterdir() if p.is_file() and p.name not in CORPUS_NOT_CONFIGS)


# Collected even where ../shared is absent (then skipped, or failed in CI).
CORPUS_PARAMS = shared_files("corpus", "nginx")


def manifest() -> dict[str, dict[str, str]]:
    """FEATURES of each corpus file: ``cache=shared:SSL:10m; tickets=off; ...``."""
    rows: dict[str, dict[str, str]] = {}
    lines = (corpus_dir() / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    for line in lines[1:]:
        name, _kind, _nginx_t, notes = line.split("\t")
        features = notes.split("FEATURES: ", 1)[1]
        rows[name] = dict(
            (item.split("=", 1) if "=" in item else (item, "")) for item in features.split("; ")
        )
    return rows


# --- every file loads ---------------------------------------------------------


@pytest.mark.parametrize("path", CORPUS_PARAMS)
def test_corpus_file_loads_through_the_engine(path: Path) -> None:
    name = path.name
    result = run([path], settings_for(corpus_dir()))
    assert path.resolve() in result.files
    # Every corpus file is valid nginx syntax (nginx -t fails only on semantics).
    assert [f for f in result.findings if f.code == "NGX001"] == []
    assert len(result.workspace.nginx) == 1
    # Missing includes are the h5bp tree's files, which the corpus does not hold.
    for finding in result.findings:
        if finding.code == "NGX002":
            assert name.startswith("h5bp__"), finding
            assert '"h5bp/' in finding.message


def test_every_corpus_file_is_in_the_manifest() -> None:
    assert set(corpus_files()) == set(manifest())


# --- the parser reads what the curator read ----------------------------------

FEATURE_DIRECTIVES = {
    "cache": "ssl_session_cache",
    "sess_timeout": "ssl_session_timeout",
    "tickets": "ssl_session_tickets",
    "protocols": "ssl_protocols",
    "keepalive_timeout": "keepalive_timeout",
    "proxy_http_version": "proxy_http_version",
}


def directives_of(name: str) -> list[Directive]:
    return list(walk(parse_file(corpus_dir() / name, MAX_BYTES).directives))


@pytest.mark.parametrize("path", CORPUS_PARAMS)
def test_parsed_settings_match_manifest_features(path: Path) -> None:
    name = path.name
    features = manifest()[name]
    directives = directives_of(name)
    for feature, directive_name in FEATURE_DIRECTIVES.items():
        written = {" ".join(d.args) for d in directives if d.name == directive_name}
        value = features.get(feature, "unset")
        if value.startswith("unset"):
            assert written == set(), (feature, written)
        else:
            assert written == {value}, feature
    upstreams = {d.args[0] for d in directives if d.name == "upstream"}
    assert upstreams == set(filter(None, features.get("upstreams", "").split(",")))
    listens = [parse_listen(d) for d in directives if d.name == "listen"]
    assert any(lst.http2 for lst in listens) == ("listen..http2" in features)
    default_443 = any(lst.default and lst.socket.endswith(":443") for lst in listens)
    assert default_443 == ("443_default_server" in features)
    ssl_on = any(d.name == "ssl" and d.args == ("on",) for d in directives)
    assert ssl_on == any(key.startswith("ssl_on") for key in features)
    http2_on = any(d.name == "http2" and d.args == ("on",) for d in directives)
    assert http2_on == ("http2_on" in features)


# --- pinned NGX1xx verdicts ----------------------------------------------------

W, E = Severity.WARNING, Severity.ERROR


def ngx1(path: Path, base: Path, version: str | None) -> set[tuple[str, int, Severity]]:
    mapping: dict[str, object] = {"select": ["NGX1"]}
    if version is not None:
        mapping["nginx"] = {"version": version}
    result = run([path], settings_for(base, mapping))
    return {(f.code, f.location.line, f.severity) for f in result.findings}


MOZ = "mozilla__ssl-config-generator__GENERATED_"
PINNED = [
    # Debian's sites-available/default: the 443 server lines are commented out, so
    # there is no TLS server at all; nothing to resume (§6: no session settings).
    ("debian__nginx-pkg-1.22.1-9+deb12u11__etc_nginx_sites-available_default", "1.22.1", set()),
    # nginx's stock conf: the HTTPS server is commented out (MANIFEST).
    ("nginx__nginx__conf_nginx.conf", "1.27.3", set()),
    # h5bp ssl_engine.conf, a server snippet (checked as one server that decides
    # its own sessions): shared:SSL:10m (= min-size), 24h (= the 1d maximum,
    # inclusive), tickets off (§2: "tickets are not auto-rotated") -> clean on
    # every version: no tickets, so no NGX105; a shared cache, so no NGX101/102.
    ("h5bp__server-configs-nginx__h5bp_tls_ssl_engine.conf", "1.22.1", set()),
    ("h5bp__server-configs-nginx__h5bp_tls_ssl_engine.conf", "1.27.3", set()),
    # Mozilla intermediate (generated for 1.27.3): http-level shared:MozSSL:10m and
    # 1d, tickets left on because since 1.23.2 the shared zone keeps and rotates the
    # ticket keys (§2, PR #252) -> clean on 1.27.
    (MOZ + "intermediate_nginx1.27.3_openssl3.4.0.conf", "1.27.3", set()),
    # ...but the same file on 1.22 keeps random ticket keys that die on every reload
    # (§1 Reloads: "on <1.23.2 ... every reload triggers a full-handshake storm"):
    # NGX105 at the only TLS server (line 6), the default of *:443 and [::]:443.
    (MOZ + "intermediate_nginx1.27.3_openssl3.4.0.conf", "1.22.1", {("NGX105", 6, W)}),
    # Mozilla old (guideline 5.8): same session block as intermediate.
    (MOZ + "old_guideline5.8_nginx1.27.3_openssl3.4.0.conf", "1.27.3", set()),
    # Mozilla modern: the cache is commented out for TLSv1.3-only (§2, PR #306) and
    # tickets are on: TLS 1.3 resumes with tickets, so no NGX101 (a cache is for TLS 1.2
    # clients, and there are none); but with no shared zone the ticket keys are random
    # per start on any version -> NGX105 at the server (line 6).
    (MOZ + "modern_nginx1.27.3_openssl3.4.0.conf", "1.27.3", {("NGX105", 6, W)}),
    # GitLab (old gitlab-ssl): server-level shared:SSL:10m, 5m (= the minimum), tickets
    # on, on the 443 default server (listen [::]:443 ... default_server). On 1.22 the
    # keys are not kept in the shared zone -> NGX105 at the server (line 66); on 1.27
    # they are -> clean. (Its `ssl on;` is a 1.25.1 removal, not a session matter.)
    ("gitlabhq__gitlabhq__lib_support_nginx_gitlab-ssl", "1.22.1", {("NGX105", 66, W)}),
    ("gitlabhq__gitlabhq__lib_support_nginx_gitlab-ssl", "1.27.3", set()),
    # Misskey (old): `ssl on;` makes the 443 server TLS without `listen ... ssl`;
    # server-level shared:ssl_session_cache:10m, tickets on -> NGX105 on 1.22 only.
    ("misskey-dev__misskey__docs_examples_misskey.nginx", "1.22.1", {("NGX105", 27, W)}),
    ("misskey-dev__misskey__docs_examples_misskey.nginx", "1.27.3", set()),
    # PeerTube: shared:SSL:10m, 1d, tickets off on the only (so default) 443 server:
    # stateful resumption through a shared cache -> clean on every version.
    ("Chocobozzz__PeerTube__support_nginx_peertube", "1.22.1", set()),
    ("Chocobozzz__PeerTube__support_nginx_peertube", "1.27.3", set()),
    # Nextcloud: no ssl_session_* at all (§6: "defaults: cache none, tickets on") on its
    # 443 server (line 26) -> NGX101 warning (tickets only) and NGX105 (random keys).
    (
        "nextcloud__documentation__admin_manual_installation_nginx-root.conf.sample",
        "1.27.3",
        {("NGX101", 26, W), ("NGX105", 26, W)},
    ),
    # Jitsi: likewise no session settings on the 443 server (line 19).
    (
        "jitsi__jitsi-meet__doc_debian_jitsi-meet_jitsi-meet.example",
        "1.22.1",
        {("NGX101", 19, W), ("NGX105", 19, W)},
    ),
    # Debian nginx.conf: http-level ssl_protocols, but no server in the file (the
    # /etc/nginx/... globs map to the corpus directory and match nothing).
    ("debian__nginx-pkg-1.22.1-9+deb12u11__etc_nginx_nginx.conf", "1.22.1", set()),
]


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    PINNED,
    ids=[f"{name.split('__')[0]}-{name.split('__')[-1][:30]}-{version}" for name, version, _ in PINNED],
)
def test_pinned_session_findings(name: str, version: str, expected: set[tuple[str, int, Severity]]) -> None:
    assert ngx1(corpus_dir() / name, corpus_dir(), version) == expected


# h5bp's server files take their session settings from the include
# h5bp/tls/ssl_engine.conf, which the corpus holds under a flat name. Rebuilt as
# the repository lays it out (the certificate and policy files are stubs with the
# directives they hold upstream: certificates, protocols and ciphers; no session
# settings), the includes resolve against the prefix above conf.d/ as nginx does.
H5BP_STUBS = {
    "h5bp/tls/certificate_files.conf": (
        "ssl_certificate /etc/nginx/certs/default.crt;\nssl_certificate_key /etc/nginx/certs/default.key;\n"
    ),
    "h5bp/tls/policy_balanced.conf": "ssl_protocols TLSv1.2;\nssl_ciphers EECDH+CHACHA20:EECDH+AES;\n",
    "h5bp/errors/custom_errors.conf": "error_page 404 /404.html;\n",
    "h5bp/basic.conf": "charset utf-8;\n",
}


@pytest.fixture
def h5bp_tree(tmp_path: Path) -> Path:
    corpus = corpus_dir()
    layout = {
        "h5bp/tls/ssl_engine.conf": "h5bp__server-configs-nginx__h5bp_tls_ssl_engine.conf",
        "conf.d/.default.conf": "h5bp__server-configs-nginx__conf.d_.default.conf",
        "conf.d/templates/example.com.conf": "h5bp__server-configs-nginx__conf.d_templates_example.com.conf",
    }
    for relative, name in layout.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / name, tmp_path / relative)
    for relative, text in H5BP_STUBS.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    return tmp_path


@pytest.mark.parametrize("version", ["1.22.1", "1.27.3"])
def test_h5bp_default_server_with_its_tls_includes(h5bp_tree: Path, version: str) -> None:
    # The 443 catch-all default server (return 444) gets shared:SSL:10m, 24h and
    # tickets off from ssl_engine.conf: the default server has a cache (§1: it is the
    # one that stores and resumes sessions for the socket) -> clean.
    path = h5bp_tree / "conf.d/.default.conf"
    assert ngx1(path, h5bp_tree, version) == set()
    result = run([path], settings_for(h5bp_tree, {"select": ["NGX0"]}))
    assert [f.code for f in result.findings] == []  # every include resolved


def test_h5bp_example_com_with_its_tls_includes(h5bp_tree: Path) -> None:
    # Two 443 servers, both including ssl_engine.conf: the same zone name and size
    # twice is fine (§1: "the same name and size ... is fine", so no NGX106); the
    # default (first) server has the cache, so the vhost's copy is used (no NGX107).
    path = h5bp_tree / "conf.d/templates/example.com.conf"
    assert ngx1(path, h5bp_tree, "1.27.3") == set()


def test_h5bp_default_server_without_its_includes_reports_them(h5bp_tree: Path) -> None:
    (h5bp_tree / "h5bp/tls/ssl_engine.conf").unlink()
    path = h5bp_tree / "conf.d/.default.conf"
    result = run([path], settings_for(h5bp_tree, {"select": ["NGX0"]}))
    assert [(f.code, f.location.line) for f in result.findings] == [("NGX002", 18)]
    assert result.exit_code(Severity.ERROR) == 2
