"""--changed-since REV: the whole tree is checked, findings are reported for what changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from test_baseline import Ran, run_cli

from tlslint.changed import ChangedError, changed_files
from tlslint.scope import Scope, reachable, reverse

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

# Old debt in nginx.conf (NGX104, timeout too short) and in b.conf (NGX103, cache too small).
NGINX_CONF = """\
http {
    ssl_session_timeout 2m;
    ssl_session_cache shared:SSL:10m;
    include sites-enabled/*.conf;
}
"""
DEFAULT = """\
server {
    listen 443 ssl default_server;
    ssl_reject_handshake on;
}
"""
SITE = """\
server {
    listen 443 ssl;
    server_name {name}.example.com;
    ssl_certificate     /etc/ssl/{name}.pem;
    ssl_certificate_key /etc/ssl/{name}.key;
}
"""
B_SITE = SITE.replace("{name}", "b").replace(
    "ssl_certificate_key", "ssl_session_cache shared:B:1m;\n    ssl_certificate_key"
)
ARGS = ["--select", "NGX0,NGX1", "--nginx-version", "1.24", "--quiet"]


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    }  # fmt: skip
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return proc.stdout


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    write(root / "deploy" / "nginx.conf", NGINX_CONF)
    write(root / "deploy" / "sites-enabled" / "00-default.conf", DEFAULT)
    write(root / "deploy" / "sites-enabled" / "a.conf", SITE.replace("{name}", "a"))
    write(root / "deploy" / "sites-enabled" / "b.conf", B_SITE)
    write(root / "README.md", "# infra\n")
    git(root, "init", "-q")
    git(root, "symbolic-ref", "HEAD", "refs/heads/main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    return root


def tlslint(cwd: Path, *args: str) -> Ran:
    return run_cli(cwd, *ARGS, *args)


def reported(proc: Ran) -> list[tuple[str, str]]:
    """(path, code) per finding line of the quiet text output."""
    pairs = []
    for line in proc.stdout.splitlines():
        where, _, rest = line.partition(": ")
        pairs.append((where.split(":")[0], rest.split()[0]))
    return pairs


def test_without_changes_nothing_is_reported(repo: Path) -> None:
    full = tlslint(repo)
    assert full.returncode == 1
    assert {p for p, _ in reported(full)} == {"deploy/nginx.conf", "deploy/sites-enabled/b.conf"}
    quiet = tlslint(repo, "--changed-since", "main")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_committed_change_reports_the_file_and_its_includers(repo: Path) -> None:
    site = repo / "deploy" / "sites-enabled" / "a.conf"
    site.write_text(site.read_text().replace("}", "    ssl_session_timeout 1m;\n}"), encoding="utf-8")
    git(repo, "commit", "-qam", "shorter timeout for a")
    result = tlslint(repo, "--changed-since", "main")
    assert result.returncode == 1
    # a.conf changed; nginx.conf includes it; b.conf's old debt is not reported. a.conf's
    # server is a virtual server: its 1m is not in force (NGX107), the default server's
    # 2m from http{} is (NGX104).
    assert reported(result) == [("deploy/nginx.conf", "NGX104"), ("deploy/sites-enabled/a.conf", "NGX107")]


def test_cross_file_model_comes_from_the_whole_tree(repo: Path) -> None:
    # A cache on a virtual server is not used while the default server (not changed) has
    # none of its own: NGX107 needs 00-default.conf to know, and nginx.conf's http-level
    # cache to clear the default server. Checked alone, a.conf would look different.
    conf = repo / "deploy" / "nginx.conf"
    conf.write_text(NGINX_CONF.replace("    ssl_session_cache shared:SSL:10m;\n", ""), encoding="utf-8")
    git(repo, "commit", "-qam", "no http-level cache")
    site = repo / "deploy" / "sites-enabled" / "a.conf"
    site.write_text(site.read_text().replace("}", "    ssl_session_cache shared:A:10m;\n}"), encoding="utf-8")
    git(repo, "commit", "-qam", "a cache for a")
    result = tlslint(repo, "--changed-since", "HEAD~1")
    codes = reported(result)
    assert ("deploy/sites-enabled/a.conf", "NGX107") in codes
    assert all(path != "deploy/sites-enabled/00-default.conf" for path, _ in codes)
    assert all(path != "deploy/sites-enabled/b.conf" for path, _ in codes)


def test_uncommitted_and_untracked_changes_count(repo: Path) -> None:
    b_site = repo / "deploy" / "sites-enabled" / "b.conf"
    b_site.write_text("# edited, not committed\n" + B_SITE, encoding="utf-8")
    write(
        repo / "deploy" / "sites-enabled" / "c.conf",
        SITE.replace("{name}", "c").replace("}", "    ssl_session_timeout 1m;\n}"),
    )
    result = tlslint(repo, "--changed-since", "main")
    paths = {p for p, _ in reported(result)}
    assert paths == {"deploy/nginx.conf", "deploy/sites-enabled/b.conf", "deploy/sites-enabled/c.conf"}


def test_changes_on_the_base_branch_do_not_count(repo: Path) -> None:
    git(repo, "checkout", "-q", "main")
    b_site = repo / "deploy" / "sites-enabled" / "b.conf"
    b_site.write_text("# touched on main\n" + B_SITE, encoding="utf-8")
    git(repo, "commit", "-qam", "main moves on")
    git(repo, "checkout", "-q", "feature")
    assert changed_files("main", repo) == set()  # main...HEAD: only what the branch changed
    assert tlslint(repo, "--changed-since", "main").stdout == ""


def test_deleted_and_renamed_files(repo: Path) -> None:
    git(repo, "rm", "-q", "deploy/sites-enabled/b.conf")
    git(repo, "mv", "deploy/sites-enabled/a.conf", "deploy/sites-enabled/a2.conf")
    git(repo, "commit", "-qm", "drop b, rename a")
    changed = changed_files("main", repo / "deploy")
    assert (repo / "deploy" / "sites-enabled" / "a2.conf").resolve() in changed
    result = tlslint(repo, "--changed-since", "main")
    assert "Traceback" not in result.stderr
    assert reported(result) == [("deploy/nginx.conf", "NGX104")]  # the includer of a2.conf


def test_paths_narrow_the_tree(repo: Path) -> None:
    write(repo / "other" / "nginx.conf", NGINX_CONF.replace("sites-enabled", "none"))
    result = tlslint(repo, "--changed-since", "main", "deploy")
    assert result.stdout == ""  # other/ is changed (untracked) but not under the paths given
    result = tlslint(repo, "--changed-since", "main", ".")
    assert {path for path, _ in reported(result)} == {"other/nginx.conf"}


def test_paths_in_two_checkouts_are_each_judged_in_their_own(repo: Path, tmp_path: Path) -> None:
    """Not only in the first path's repository: the second's changes count too."""
    other = tmp_path / "other"
    shutil.copytree(repo, other)
    for root in (repo, other):
        site = root / "deploy" / "sites-enabled" / "a.conf"
        site.write_text(site.read_text().replace("}", "    ssl_session_timeout 1m;\n}"), encoding="utf-8")
    result = tlslint(tmp_path, "--changed-since", "main", "repo/deploy", "other/deploy")
    changed = {path for path, _ in reported(result)}
    assert changed == {
        "repo/deploy/nginx.conf", "repo/deploy/sites-enabled/a.conf",
        "other/deploy/nginx.conf", "other/deploy/sites-enabled/a.conf",
    }  # fmt: skip


def test_not_a_git_repository(tmp_path: Path) -> None:
    write(tmp_path / "a.conf", NGINX_CONF)
    result = tlslint(tmp_path, "--changed-since", "main")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "is not inside a git repository" in result.stderr
    with pytest.raises(ChangedError, match="not inside a git repository"):
        changed_files("main", tmp_path)


@pytest.mark.parametrize("rev", ["no-such-branch", "--output=x", ""])
def test_bad_revision(repo: Path, rev: str) -> None:
    result = subprocess.run(  # as users run it: one line on stderr, exit 2, no traceback
        [sys.executable, "-m", "tlslint", *ARGS, "--changed-since", rev],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--changed-since:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (repo / "x").exists()


# --- the scope itself ------------------------------------------------------------------------


def test_scope_includes_and_includers() -> None:
    main, sites, a, b, snippet = (Path(f"/r/{n}") for n in ("nginx.conf", "sites", "a", "b", "tls"))
    graph = {main: {a, b}, a: {snippet}, b: {snippet}, snippet: set()}
    assert reachable(graph, [a]) == {a, snippet}
    assert reverse(graph)[snippet] == {a, b}
    assert Scope(frozenset({snippet}), includers=True).reported(graph) == {snippet, a, b, main}
    assert Scope(frozenset({a}), includes=True).reported(graph) == {a, snippet}
    assert Scope(frozenset({a})).reported(graph) == {a}
    assert sites not in Scope(frozenset({a}), includes=True, includers=True).reported(graph)


# --- what a change removes, and what does not load ---------------------------------------

TLS_SERVER = """\
events {}
http {
    ssl_session_cache shared:SSL:10m;
    server {
        listen 443 ssl;
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
        include snippets/tls.conf;
    }
}
"""


def new_repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        write(root / name, text)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


@pytest.mark.parametrize("how", ["deleted", "renamed", "removed, not committed"])
def test_an_include_that_is_gone_reports_its_includer(tmp_path: Path, how: str) -> None:
    """The snippet's path is changed, and no longer exists: nginx.conf, which included it,
    now includes a file that is not there (NGX002, exit 2), as a full run says."""
    root = new_repo(
        tmp_path / "r", {"nginx.conf": TLS_SERVER, "snippets/tls.conf": "ssl_protocols TLSv1.2;\n"}
    )
    rev = "HEAD~1"
    if how == "deleted":
        git(root, "rm", "-q", "snippets/tls.conf")
    elif how == "renamed":
        git(root, "mv", "snippets/tls.conf", "snippets/tls2.conf")
    else:
        (root / "snippets" / "tls.conf").unlink()
        rev = "HEAD"
    if rev == "HEAD~1":
        git(root, "commit", "-qm", how)
    assert (root / "snippets" / "tls.conf").resolve() in changed_files(rev, root)
    result = tlslint(root, "--changed-since", rev)
    assert result.returncode == 2, result.stdout
    assert ("nginx.conf", "NGX002") in reported(result)
    assert tlslint(root).returncode == 2


def test_a_glob_that_no_longer_matches_a_file_reports_its_includer(tmp_path: Path) -> None:
    """``include snippets/*.conf`` matched the snippet that set the server's protocols and
    cache; renamed out of the glob's reach, the server in nginx.conf (not changed) has
    neither: its includer counts as changed, though nothing now says it includes it."""
    main = TLS_SERVER.replace("    ssl_session_cache shared:SSL:10m;\n", "").replace("tls.conf", "*.conf")
    snippet = "ssl_protocols TLSv1.2 TLSv1.3;\nssl_session_cache shared:SSL:10m;\n"
    root = new_repo(tmp_path / "r", {"nginx.conf": main, "snippets/tls.conf": snippet})
    assert tlslint(root, "--changed-since", "HEAD").returncode == 0
    git(root, "mv", "snippets/tls.conf", "snippets/tls.conf.off")
    git(root, "commit", "-qm", "disable the snippet")
    result = tlslint(root, "--changed-since", "HEAD~1")
    assert result.returncode == 1
    assert ("nginx.conf", "NGX101") in reported(result)  # no session cache now


def test_a_deleted_file_does_not_make_its_glob_siblings_changed(tmp_path: Path) -> None:
    """The documented limit: deleting a.conf makes b.conf the default server of *:443,
    whose builtin cache then serves every connection (NGX102), located in b.conf, which
    did not change and does not include what did. nginx.conf, whose glob matched the
    deleted file, counts as changed (it has no finding of its own)."""
    main = "events {}\nhttp {\n    ssl_protocols TLSv1.2 TLSv1.3;\n    include sites/*.conf;\n}\n"
    site = (
        "server {\n    listen 443 ssl;\n    ssl_certificate /x.pem;\n    ssl_certificate_key /x.key;\n"
        "    ssl_session_ticket_key /k;\n    ssl_session_cache CACHE;\n}\n"
    )
    root = new_repo(
        tmp_path / "r",
        {
            "nginx.conf": main,
            "sites/a.conf": site.replace("CACHE", "shared:A:10m"),
            "sites/b.conf": site.replace("CACHE", "builtin"),
        },
    )
    assert tlslint(root).returncode == 0
    git(root, "rm", "-q", "sites/a.conf")
    git(root, "commit", "-qm", "drop a")
    assert ("sites/b.conf", "NGX102") in reported(tlslint(root))
    result = tlslint(root, "--changed-since", "HEAD~1", "--format", "junit")
    assert result.returncode == 0
    suites = ElementTree.fromstring(result.stdout).findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["nginx.conf"]  # checked, passing


@pytest.mark.parametrize(
    ("name", "text", "code"),
    [
        ("overrides.yaml", "virtualhosts:\n  - name: a\n    x: [1, 2\n", "APG201"),
        ("broken.conf", "http {\n", "NGX001"),
    ],
)
def test_what_does_not_load_is_reported_though_unchanged(repo: Path, name: str, text: str, code: str) -> None:
    """A file that does not load is never "checked" (docs/exit-codes.md): reported with
    exit 2 whatever changed, as it is whatever the selection."""
    write(repo / name, text)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a file that does not load")
    git(repo, "checkout", "-qb", "later")
    result = tlslint(repo, "--changed-since", "feature")
    assert (result.returncode, reported(result)) == (2, [(name, code)])
    # Still only what the run was given: a named file's run does not read it.
    named = tlslint(repo, "--changed-since", "feature", "deploy/nginx.conf")
    assert (named.returncode, named.stdout) == (0, "")


def test_an_includer_that_does_not_parse_is_the_cause_shown(tmp_path: Path) -> None:
    """The site changed; nginx.conf, which includes it, does not parse: its NGX001 is
    reported (the verdict is incomplete), and the site's include is looked for from the
    prefix, where the snippet is, not reported missing."""
    main = (
        "events {}\nhttp {\n    ssl_session_cache shared:SSL:10m;\n    include sites/*.conf;\n}\n"
        "worker_processes auto\n"  # no ";": nginx.conf does not parse
    )
    site = (
        "server {\n    listen 443 ssl;\n    ssl_certificate /x.pem;\n    ssl_certificate_key /x.key;\n"
        "    include snippets/tls.conf;\n}\n"
    )
    root = new_repo(
        tmp_path / "r",
        {"nginx.conf": main, "sites/a.conf": site, "snippets/tls.conf": "ssl_protocols TLSv1.2 TLSv1.3;\n"},
    )
    (root / "sites" / "a.conf").write_text(site + "# touched\n", encoding="utf-8")
    result = tlslint(root, "--changed-since", "HEAD")
    assert result.returncode == 2
    codes = reported(result)
    assert ("nginx.conf", "NGX001") in codes
    assert all(code != "NGX002" for _, code in codes)
    assert all(path in ("nginx.conf", "sites/a.conf") for path, _ in codes)


@pytest.mark.parametrize(
    ("include", "gone", "named"),
    [
        ("snippets/tls.conf", "snippets/tls.conf", True),
        ("/etc/nginx/snippets/tls.conf", "snippets/tls.conf", True),  # mapped to the prefix
        ("snippets/*.conf", "snippets/tls.conf", True),
        ("snippets/*.conf", "snippets/tls.conf.off", False),
        ("snippets/*.conf", "snippets/.tls.conf", False),  # glob(3): "*" skips a leading dot
        ("*/*.conf", "snippets/tls.conf", True),
        ("*.conf", "snippets/tls.conf", False),  # "*" stays within one directory
        ("snippets/${TLS}.conf", "snippets/tls.conf", False),  # a template fills it in
    ],
)
def test_which_gone_files_an_include_named(tmp_path: Path, include: str, gone: str, named: bool) -> None:
    from tlslint.sources.nginx.loader import NginxFiles
    from tlslint.sources.nginx.model import SourceText
    from tlslint.sources.nginx.parser import parse_text

    directive = parse_text(SourceText(tmp_path / "nginx.conf", f"include {include};\n")).includes[0]
    absent = {(tmp_path / gone).resolve(), (tmp_path / "other.txt").resolve()}
    found = NginxFiles(max_bytes=2**20).names_absent(directive, tmp_path.resolve(), absent)
    assert found == ([(tmp_path / gone).resolve()] if named else [])


# --- a change whose findings land in files it did not touch ---------------------------------

SHARED_BASE = {
    "nginx.conf": """\
events {}
http {
    ssl_session_cache shared:SSL:10m;
    access_log /var/log/a.log;
    include conf.d/*.conf;
    include sites/*.conf;
}
""",
    "conf.d/tls.conf": "ssl_protocols TLSv1.2 TLSv1.3;\n",
    "sites/a.conf": SITE.replace("{name}", "a").replace("listen 443 ssl;", "listen 443 ssl default_server;"),
    "sites/b.conf": SITE.replace("{name}", "b"),
}
SHARED_ARGS = ["--select", "NGX1,NGX3", "--quiet"]


def lines(proc: Ran) -> set[str]:
    return set(proc.stdout.splitlines())


@pytest.mark.parametrize(
    "change",
    ["ssl_protocols removed from http{}", "the snippet that set it deleted", "the nginx image downgraded"],
)
def test_what_every_server_inherits(tmp_path: Path, change: str) -> None:
    """A change to what every server inherits (the http-level lines, a snippet spliced
    there, the image that decides the defaults) makes findings in server files the change
    did not touch: --changed-since reports them, as a full run and the pre-commit hook do."""
    files = dict(SHARED_BASE)
    image = "1.27.3" if change == "the nginx image downgraded" else "1.22.1"  # TLSv1.3 by default from 1.23.4
    files["Dockerfile"] = f"FROM nginx:{image}\nCOPY nginx.conf /etc/nginx/nginx.conf\n"
    if change == "ssl_protocols removed from http{}":
        files["nginx.conf"] = files["nginx.conf"].replace(
            "    include conf.d/*.conf;\n", "    ssl_protocols TLSv1.2 TLSv1.3;\n"
        )
        del files["conf.d/tls.conf"]
    if change == "the nginx image downgraded":
        del files["conf.d/tls.conf"]  # the defaults decide
    root = new_repo(tmp_path / "r", files)
    if change == "ssl_protocols removed from http{}":
        write(root / "nginx.conf", files["nginx.conf"].replace("    ssl_protocols TLSv1.2 TLSv1.3;\n", ""))
    elif change == "the snippet that set it deleted":
        git(root, "rm", "-q", "conf.d/tls.conf")
    else:
        write(root / "Dockerfile", files["Dockerfile"].replace("1.27.3", "1.22.1"))
    git(root, "commit", "-qam", change)
    full = run_cli(root, *SHARED_ARGS)
    assert any(path.startswith("sites/") and code == "NGX302" for path, code in reported(full))
    changed = run_cli(root, *SHARED_ARGS, "--changed-since", "HEAD~1")
    assert (changed.returncode, lines(changed)) == (full.returncode, lines(full))


def test_a_server_file_changed_reports_only_it_and_its_includer(tmp_path: Path) -> None:
    """A file of server{} blocks adds nothing the others inherit: the other server files'
    findings stay out, as before."""
    files = {
        **SHARED_BASE,
        "nginx.conf": SHARED_BASE["nginx.conf"].replace("    ssl_session_cache shared:SSL:10m;\n", ""),
    }
    root = new_repo(tmp_path / "r", files)
    write(root / "sites/b.conf", files["sites/b.conf"].replace("}", "    ssl_session_timeout 1m;\n}"))
    git(root, "commit", "-qam", "b: shorter timeout")
    full = {path for path, _ in reported(run_cli(root, *SHARED_ARGS))}
    assert "sites/a.conf" in full  # the default server has no cache (NGX101)
    changed = {path for path, _ in reported(run_cli(root, *SHARED_ARGS, "--changed-since", "HEAD~1"))}
    assert "sites/a.conf" not in changed
    assert changed <= {"nginx.conf", "sites/b.conf"}


def test_a_finding_whose_other_place_changed(tmp_path: Path) -> None:
    """A zone declared again with another size (NGX106) in a new file that comes first: the
    finding is located at the later declaration, in a file the change did not touch, and
    names the new one; --changed-since reports it."""
    files = {
        **SHARED_BASE,
        "sites/b.conf": SHARED_BASE["sites/b.conf"].replace("}", "    ssl_session_cache shared:Z:10m;\n}"),
    }
    root = new_repo(tmp_path / "r", files)
    write(
        root / "sites/0-new.conf",
        SITE.replace("{name}", "new").replace("}", "    ssl_session_cache shared:Z:1m;\n}"),
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "a new site, with zone Z again")
    full = [f for f in reported(run_cli(root, *SHARED_ARGS)) if f[1] == "NGX106"]
    assert full == [("sites/b.conf", "NGX106")]
    changed = [
        f for f in reported(run_cli(root, *SHARED_ARGS, "--changed-since", "HEAD~1")) if f[1] == "NGX106"
    ]
    assert changed == full
