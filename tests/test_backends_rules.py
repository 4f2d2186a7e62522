"""BKD101-BKD103: linking, versions, locations, suppression, settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, cli, settings_for, write_files

from tlslint.engine import run
from tlslint.findings import Finding, Severity, is_load_error
from tlslint.fixing import apply_fixes
from tlslint.settings import SettingsError, load_settings

UPSTREAM = """\
upstream app {{
    server {server};
{extra}}}
server {{
    listen 80;
    location / {{
        proxy_pass http://app;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
    }}
}}
"""
GTHREAD = 'bind = "{bind}"\nworker_class = "gthread"\nthreads = 4\n'


def nginx(server: str = "127.0.0.1:8000", extra: str = "    keepalive 16;\n") -> str:
    return UPSTREAM.format(server=server, extra=extra)


def findings(tmp_path: Path, files: dict[str, str], mapping: dict[str, Any] | None = None) -> list[Finding]:
    settings = {"nginx": {"version": "1.22"}, "select": ["BKD"], **(mapping or {})}
    return check_files(tmp_path, files, settings).findings


def of(code: str, found: list[Finding]) -> list[Finding]:
    return [f for f in found if f.code == code]


# --------------------------------------------------------------------------- linking


@pytest.mark.parametrize(
    ("bind", "server", "linked"),
    [
        ("0.0.0.0:8000", "127.0.0.1:8000", True),
        ("0.0.0.0:8000", "localhost:8000", True),
        ("127.0.0.1:8000", "localhost:8000", True),
        ("unix:/run/app.sock", "unix:/run/app.sock", True),
        ("0.0.0.0:8000", "127.0.0.1:8001", False),
        ("0.0.0.0:8000", "web:8000", False),  # a docker service name: map it in the settings
        ("unix:/run/app.sock", "unix:/run/api.sock", False),
    ],
)
def test_linking_by_address(tmp_path: Path, bind: str, server: str, linked: bool) -> None:
    found = findings(tmp_path, {"app.conf": nginx(server), "gunicorn.conf.py": GTHREAD.format(bind=bind)})
    assert bool(of("BKD101", found)) is linked


def test_linking_by_settings(tmp_path: Path) -> None:
    files = {"app.conf": nginx("web:8000"), "deploy/gunicorn.conf.py": GTHREAD.format(bind="0.0.0.0:8000")}
    mapping = {"backends": [{"upstream": "APP", "config": "deploy/gunicorn.conf.py"}]}
    [finding] = of("BKD101", findings(tmp_path, files, mapping))
    assert "linked by [[backends]] in the settings" in finding.message


def test_settings_backends_are_validated(tmp_path: Path) -> None:
    (tmp_path / ".tlslint.toml").write_text('[[backends]]\nupstream = "app"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="config"):
        load_settings(tmp_path)
    (tmp_path / ".tlslint.toml").write_text(
        '[[backends]]\nupstream = "app"\nconfig = "deploy/gunicorn.conf.py"\n', encoding="utf-8"
    )
    assert load_settings(tmp_path).backends == [{"upstream": "app", "config": "deploy/gunicorn.conf.py"}]


def test_a_mapping_to_a_missing_file_is_reported(tmp_path: Path) -> None:
    mapping = {"backends": [{"upstream": "app", "config": "deploy/gone.py"}]}
    [finding] = of("BKD001", findings(tmp_path, {"app.conf": nginx()}, mapping))
    assert 'config "deploy/gone.py" (upstream app) does not exist' in finding.message
    assert finding.severity == Severity.ERROR and is_load_error(finding)


def test_an_implicit_upstream_never_races(tmp_path: Path) -> None:
    conf = "server {\n    listen 80;\n    location / { proxy_pass http://127.0.0.1:8000; }\n}\n"
    found = findings(tmp_path, {"app.conf": conf, "gunicorn.conf.py": GTHREAD.format(bind="127.0.0.1:8000")})
    assert found == []


# --------------------------------------------------------------------------- versions and values


def test_version_decides_the_default_keepalive(tmp_path: Path) -> None:
    files = {"app.conf": nginx(extra=""), "gunicorn.conf.py": GTHREAD.format(bind="127.0.0.1:8000")}
    assert of("BKD101", findings(tmp_path, files)) == []  # 1.22: no keepalive line, no pool
    [new] = of("BKD101", findings(tmp_path, files, {"nginx": {"version": "1.30"}}))
    assert new.severity == Severity.ERROR and "on by default since nginx 1.29.7" in new.message
    [unknown] = of("BKD101", findings(tmp_path, files, {"nginx": {}}))
    assert unknown.severity == Severity.INFO  # the version leaves it open
    assert "depends on the nginx version" in unknown.message
    assert unknown.location.line == 1  # the upstream line: there is no keepalive line to point at
    disabled = {"app.conf": nginx(extra="    keepalive 0;\n"), "gunicorn.conf.py": files["gunicorn.conf.py"]}
    assert of("BKD101", findings(tmp_path, disabled, {"nginx": {"version": "1.30"}})) == []


# Before nginx 1.15.3 upstream{} has no keepalive_timeout (facts §1): an idle pooled
# connection has no timeout of nginx's own, and nginx refuses the line BKD101 would add.
# The repro's shape: keepalive 16, HTTP/1.1, gunicorn (gthread) on 0.0.0.0:8000.
REPRO = {"app.conf": nginx(), "gunicorn.conf.py": 'bind = "0.0.0.0:8000"\nworkers = 4\n'
         'worker_class = "gthread"\nthreads = 8\n'}  # fmt: skip


@pytest.mark.parametrize("version", ["1.14.2", "1.15.2"])
@pytest.mark.parametrize("side", ["nginx", "backend"])
def test_before_1_15_3_the_race_has_no_timeout_and_no_fix(tmp_path: Path, version: str, side: str) -> None:
    mapping = {"nginx": {"version": version}, "rules": {"BKD101": {"fix-side": side}}}
    [found] = of("BKD101", findings(tmp_path, REPRO, mapping))
    assert found.severity == Severity.ERROR  # every idle timeout of gunicorn's races it
    assert f"no keepalive_timeout before nginx 1.15.3 (nginx.version {version})" in found.message
    assert "no timeout of nginx's own" in found.message
    assert "60s" not in found.message  # no default that did not exist
    assert found.fix is None  # nginx refuses keepalive_timeout in upstream{}; 65s answers no 60s
    assert found.fix_note.startswith("no fix:") and "upgrade nginx to 1.15.3" in found.fix_note
    assert found.location.path.name == "app.conf" and found.location.line == 3  # keepalive 16


def test_before_1_15_3_the_fix_run_writes_nothing_and_reports_no_bug(tmp_path: Path) -> None:
    write_files(tmp_path, {**REPRO, ".tlslint.toml": '[nginx]\nversion = "1.14.2"\n'})
    done = cli(tmp_path, "-q", "--diff", "--unsafe-fixes", ".")
    assert "tlslint bug" not in done.stderr and done.returncode == 0, done.stderr
    assert done.stdout == ""  # nothing to change


@pytest.mark.parametrize(
    "nginx_settings", [{"version": "1.15.3"}, {"version": "1.22"}, {}], ids=["1.15.3", "1.22", "unversioned"]
)
def test_from_1_15_3_and_unversioned_the_60s_default_races(
    tmp_path: Path, nginx_settings: dict[str, str]
) -> None:
    # Unversioned: the rules describe 1.18.0 and later (docs/version-inference.md).
    [found] = of("BKD101", findings(tmp_path, REPRO, {"nginx": nginx_settings}))
    assert found.severity == Severity.ERROR
    assert "keepalive_timeout 60s, the default" in found.message and "1.15.3" not in found.message
    assert found.fix is not None
    assert found.fix.edits[0].replacement.strip() == "keepalive_timeout 1s;"


def test_a_range_across_1_15_3_adds_no_keepalive_timeout(tmp_path: Path) -> None:
    # nginx:1.15 is 1.15.0 to before 1.16.0: 1.15.0-1.15.2 refuse the line, and have no
    # timeout at all (a race too); 1.15.3 and later race the 60s default.
    files = {**REPRO, "Dockerfile": "FROM nginx:1.15\n"}
    [found] = of("BKD101", findings(tmp_path, files, {"nginx": {}}))
    assert found.severity == Severity.ERROR  # a race on every version of the range
    assert "before 1.15.3 upstream{} has no keepalive_timeout" in found.message
    assert "nginx is known only to be 1.15.x" in found.message
    assert found.fix is not None  # the other side: nginx reads nothing of it
    assert all(edit.path.name == "gunicorn.conf.py" for edit in found.fix.edits)
    assert "nginx refuses the line before 1.15.3" in found.fix_note
    [nginx_side] = of(
        "BKD101", findings(tmp_path, files, {"nginx": {}, "rules": {"BKD101": {"fix-side": "nginx"}}})
    )
    assert nginx_side.fix is not None and nginx_side.fix.edits[0].path.name == "gunicorn.conf.py"
    # A keepalive_timeout the block has is edited: the nginx that refuses it refuses the file already.
    written = {**files, "app.conf": nginx(extra="    keepalive 16;\n    keepalive_timeout 30s;\n")}
    [edited] = of("BKD101", findings(tmp_path, written, {"nginx": {}}))
    assert edited.fix is not None and edited.fix.edits[0].path.name == "app.conf"
    assert edited.fix.edits[0].replacement == "1s"


def test_ngx210_adds_no_keepalive_timeout_before_1_15_3(tmp_path: Path) -> None:
    files = {"app.conf": nginx(extra=""), "gunicorn.conf.py": REPRO["gunicorn.conf.py"]}
    mapping: dict[str, Any] = {"nginx": {"version": "1.14.2"}, "select": ["NGX210"]}
    [found] = of("NGX210", findings(tmp_path, files, mapping))
    assert found.fix is None  # keep-alive alone would race gunicorn, and the timeout is refused
    assert "before nginx 1.15.3 (nginx.version 1.14.2)" in found.fix_note
    assert "race gunicorn's idle timeout of 2s (BKD101)" in found.fix_note
    [later] = of("NGX210", findings(tmp_path, files, {**mapping, "nginx": {"version": "1.22"}}))
    assert later.fix is not None and "keepalive_timeout 1s" in later.fix.description


def test_bkd102_and_bkd103_before_1_15_3_name_no_keepalive_timeout(tmp_path: Path) -> None:
    sync = {"app.conf": nginx(), "gunicorn.conf.py": 'bind = "0.0.0.0:8000"\n'}
    [bkd102] = of("BKD102", findings(tmp_path, sync, {"nginx": {"version": "1.14.2"}}))
    assert "before nginx 1.15.3 (nginx.version 1.14.2) upstream{} has no keepalive_timeout" in bkd102.message
    computed = {"app.conf": nginx(), "gunicorn.conf.py": GTHREAD.format(bind="0.0.0.0:8000")
                + 'import os\nkeepalive = int(os.environ["KEEPALIVE"])\n'}  # fmt: skip
    [bkd103] = of("BKD103", findings(tmp_path, computed, {"nginx": {"version": "1.14.2"}}))
    assert "keeps idle connections with no timeout before nginx 1.15.3" in bkd103.message
    assert "60s" not in bkd103.message


@pytest.mark.parametrize(
    ("config", "nginx_extra", "races", "timeout"),
    [
        (GTHREAD.format(bind="127.0.0.1:8000"), "    keepalive 16;\n", True, "1s"),
        (GTHREAD.format(bind="127.0.0.1:8000") + "keepalive = 75\n", "    keepalive 16;\n", False, ""),
        (
            GTHREAD.format(bind="127.0.0.1:8000") + "keepalive = 75\n",
            "    keepalive 16;\n    keepalive_timeout 90s;\n",
            True,
            "74s",
        ),
        (
            GTHREAD.format(bind="127.0.0.1:8000") + "keepalive = 60\n",
            "    keepalive 16;\n",
            True,
            "59s",
        ),  # equal races too
        (
            GTHREAD.format(bind="127.0.0.1:8000") + "keepalive = 0\n",
            "    keepalive 16;\n",
            False,
            "",
        ),  # none kept
        (
            'bind = "127.0.0.1:8000"\nworker_class = "uvicorn.workers.UvicornWorker"\n',
            "    keepalive 16;\n",
            True,
            "1s",
        ),
    ],
    ids=["gthread-default", "above", "below-explicit", "equal", "zero", "uvicorn-worker-takes-gunicorn-2s"],
)
def test_backend_timeouts(tmp_path: Path, config: str, nginx_extra: str, races: bool, timeout: str) -> None:
    found = of(
        "BKD101", findings(tmp_path, {"app.conf": nginx(extra=nginx_extra), "gunicorn.conf.py": config})
    )
    assert bool(found) is races
    if races:
        assert found[0].fix is not None and not found[0].fix.safe
        replacement = found[0].fix.edits[0].replacement
        assert replacement == timeout or replacement.strip() == f"keepalive_timeout {timeout};"


def test_uvicorn_worker_message(tmp_path: Path) -> None:
    config = 'bind = "127.0.0.1:8000"\nworker_class = "uvicorn.workers.UvicornWorker"\n'
    [finding] = of("BKD101", findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": config}))
    assert "gunicorn's default keepalive of 2s, which UvicornWorker passes to uvicorn" in finding.message


# --------------------------------------------------------------------------- locations


def test_locations_nginx_side_with_the_backend_related(tmp_path: Path) -> None:
    conf = nginx(extra="    keepalive 16;\n    keepalive_timeout 30s;\n")
    config = 'bind = "127.0.0.1:8000"\nworker_class = "gevent"\nkeepalive = 5\n'
    [finding] = of("BKD101", findings(tmp_path, {"app.conf": conf, "gunicorn.conf.py": config}))
    assert (finding.location.path.name, finding.location.line) == ("app.conf", 4)  # keepalive_timeout
    related = {(r.location.path.name, r.location.line) for r in finding.related}
    assert ("gunicorn.conf.py", 3) in related  # keepalive = 5
    assert ("app.conf", 2) in related  # the server line that reaches it
    assert "keepalive_timeout 30s" in finding.message and "keepalive = 5" in finding.message
    assert "fix-side" in finding.fix_note  # the backend-side alternative is described


def test_locations_backend_side_with_nginx_related(tmp_path: Path) -> None:
    config = 'bind = "127.0.0.1:8000"\nworker_class = "gevent"\nkeepalive = 5\n'
    files = {"app.conf": nginx(), "gunicorn.conf.py": config}
    [finding] = of("BKD101", findings(tmp_path, files, {"rules": {"BKD101": {"fix-side": "backend"}}}))
    assert (finding.location.path.name, finding.location.line, finding.location.column) == (
        "gunicorn.conf.py",
        3,
        13,
    )
    assert ("app.conf", 3) in {
        (r.location.path.name, r.location.line) for r in finding.related
    }  # keepalive 16
    assert finding.fix is not None and finding.fix.edits[0].replacement == "65"
    assert "keepalive_timeout 4s" in finding.fix_note


# --------------------------------------------------------------------------- suppression


def test_a_comment_on_the_backend_line_silences_bkd101(tmp_path: Path) -> None:
    config = 'bind = "127.0.0.1:8000"\nworker_class = "gevent"\nkeepalive = 5  # tlslint: disable=BKD101\n'
    assert of("BKD101", findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": config})) == []
    in_string = (
        'bind = "127.0.0.1:8000"\nworker_class = "gevent"\nkeepalive = 5; x = "# tlslint: disable=BKD101"\n'
    )
    assert of("BKD101", findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": in_string}))


def test_comments_silence_bkd102_and_bkd103(tmp_path: Path) -> None:
    sync = '# tlslint: disable-file=sync-worker-no-keepalive\nbind = "127.0.0.1:8000"\n'
    assert findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": sync}) == []
    procfile = "# tlslint: disable=BKD103\nweb: gunicorn app:app -k gevent -b 0.0.0.0:$PORT\n"
    assert findings(tmp_path, {"app.conf": nginx(), "Procfile": procfile}) == []


# --------------------------------------------------------------------------- BKD102, BKD103


def test_bkd102_sync_worker(tmp_path: Path) -> None:
    [finding] = findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": 'bind = "127.0.0.1:8000"\n'})
    assert finding.code == "BKD102" and finding.severity == Severity.INFO and finding.fix is None
    assert finding.location.path.name == "gunicorn.conf.py" and finding.location.line == 1
    assert "the default worker class, sync" in finding.message
    threads = {
        "app.conf": nginx(),
        "gunicorn.conf.py": 'bind = "127.0.0.1:8000"\nthreads = 2\nkeepalive = 90\n',
    }
    assert findings(tmp_path, threads) == []  # gthread, keeping connections longer than nginx


def test_a_link_by_the_default_address_says_so(tmp_path: Path) -> None:
    # A gunicorn.conf.py without `bind` listens on gunicorn's default, 127.0.0.1:8000: the
    # link to the upstream rests on that default, and the finding says so (started with
    # another address by a unit file, the link would not hold).
    [finding] = findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": 'worker_class = "sync"\n'})
    assert finding.code == "BKD102"
    assert [note.message for note in finding.related][-1] == (
        "reaches gunicorn, which listens on 127.0.0.1:8000"
        " (gunicorn's default: no address is set in its files)"
    )
    bound = findings(
        tmp_path / "bound", {"app.conf": nginx(), "gunicorn.conf.py": 'bind = "127.0.0.1:8000"\n'}
    )
    assert [note.message for note in bound[0].related][
        -1
    ] == "reaches gunicorn, which listens on 127.0.0.1:8000"


def test_bkd103_computed_values(tmp_path: Path) -> None:
    config = 'import os\nbind = "127.0.0.1:8000"\nworker_class = os.environ["WORKER"]\n'
    [finding] = findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": config})
    assert finding.code == "BKD103" and (finding.location.line, finding.location.column) == (3, 16)
    assert "worker class" in finding.message and 'os.environ["WORKER"]' in finding.message
    port = "import os, uvicorn\nuvicorn.run(app, port=int(os.environ['PORT']))\n"
    (tmp_path / "gunicorn.conf.py").unlink()
    [unlinked] = findings(tmp_path, {"app.conf": nginx(), "main.py": port})
    assert unlinked.code == "BKD103" and "[[tool.tlslint.backends]]" in unlinked.message
    assert 'config = "main.py"' in unlinked.message


def test_bkd103_is_quiet_without_nginx_upstreams(tmp_path: Path) -> None:
    procfile = "web: gunicorn app:app -k gevent -b 0.0.0.0:$PORT --keep-alive $KA\n"
    assert findings(tmp_path, {"Procfile": procfile}) == []
    conf = "server { listen 80; location / { proxy_pass http://127.0.0.1:8000; } }\n"
    assert findings(tmp_path, {"Procfile": procfile, "app.conf": conf}) == []


def test_an_unparseable_config_is_bkd001_and_a_load_error(tmp_path: Path) -> None:
    [finding] = findings(tmp_path, {"gunicorn.conf.py": "keepalive = (\n"})
    assert finding.code == "BKD001" and "does not parse as Python" in finding.message
    assert (finding.location.line, finding.severity) == (1, Severity.ERROR) and is_load_error(finding)


@pytest.mark.parametrize(
    ("name", "text", "line", "refused"),
    [
        ("gunicorn.conf.py", 'bind = "127.0.0.1:8000"\nworker_class = "gthread"\nkeepalive = 5\nbreak\n', 4,
         "'break' outside loop"),
        ("main.py", 'import uvicorn\nuvicorn.run(app, host="127.0.0.1", port=8000, timeout_keep_alive=5, '
         "timeout_keep_alive=6)\n", 2, "keyword argument repeated"),
    ],
)  # fmt: skip
def test_python_that_parses_but_does_not_compile_is_bkd001_and_never_fixed(
    tmp_path: Path, name: str, text: str, line: int, refused: str
) -> None:
    """ast.parse (and libcst) take them; Python's compiler refuses them, so the server cannot
    import the file: a SyntaxError, not a keep-alive of 5s or 6s."""
    mapping = {"nginx": {"version": "1.22"}, "rules": {"BKD101": {"fix-side": "backend"}}}
    found = findings(tmp_path, {"app.conf": nginx(), name: text}, mapping)
    [finding] = of("BKD001", found)
    assert refused in finding.message and finding.location.line == line and is_load_error(finding)
    assert not of("BKD101", found)
    settings = settings_for(tmp_path, {**mapping, "select": ["BKD"]})
    apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert (tmp_path / name).read_text(encoding="utf-8") == text


def test_an_upstream_only_websockets_use_is_left_out(tmp_path: Path) -> None:
    conf = nginx().replace("location / {", "location /ws/ {")
    config = 'bind = "127.0.0.1:8000"\nworker_class = "gevent"\n'
    assert findings(tmp_path, {"app.conf": conf, "gunicorn.conf.py": config}) == []


def test_a_configuration_no_backend_reaches_is_spared_its_pass_targets(tmp_path: Path) -> None:
    """Linking asks for the *_pass targets and versions of a configuration only where a
    backend may reach one of its upstreams: another site's (or one whose NGX findings a warm
    run reuses) costs its upstream names and server lines, not a walk of its locations."""
    from tlslint.checks._backends import links
    from tlslint.engine import load_nginx
    from tlslint.sources.nginx.loader import NginxFiles
    from tlslint.workspace import Workspace
    from tlslint.workspace.backends import load_backends

    write_files(
        tmp_path,
        {
            "a.conf": nginx(),
            "b.conf": nginx("127.0.0.1:9000"),
            "gunicorn.conf.py": GTHREAD.format(bind="127.0.0.1:8000"),
        },
    )
    paths = [tmp_path / "a.conf", tmp_path / "b.conf"]
    settings = settings_for(tmp_path)
    files = NginxFiles(max_bytes=settings.max_file_size)
    for path in paths:
        files.get(path)
    workspace = Workspace(nginx=load_nginx(files, paths))
    workspace.backends = load_backends([tmp_path / "gunicorn.conf.py"], settings).workspace
    reached, other = workspace.nginx
    assert [link.config for link in links(workspace)] == [reached]
    assert any("upstream_users" in key for key in reached.memo)
    assert not any("upstream_users" in key or "pass_targets" in key for key in other.memo)


def test_reports_show_the_alternative_beside_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BKD101 carries one fix; the other side of the race is its note, in text and JSON."""
    import json

    from tlslint.report import json_format, text

    conf = nginx(extra="    keepalive 16;\n    keepalive_timeout 30s;\n")
    config = 'bind = "127.0.0.1:8000"\nworker_class = "gevent"\nkeepalive = 5\n'
    monkeypatch.chdir(tmp_path)
    result = check_files(tmp_path, {"app.conf": conf, "gunicorn.conf.py": config})
    [finding] = of("BKD101", result.findings)
    assert finding.fix is not None and finding.fix_note
    lines = text.render(result, colour=False).splitlines()
    fix_line = next(i for i, line in enumerate(lines) if line.startswith("  = unsafe fix (--unsafe-fixes): "))
    assert lines[fix_line + 1] == f"  = note: {finding.fix_note}"
    [item] = [i for i in json.loads(json_format.render(result))["findings"] if i["code"] == "BKD101"]
    assert item["fix"]["safety"] == "unsafe" and item["note"] == finding.fix_note


def test_keepalive_from_gunicorn_cmd_args_is_the_one_compared(tmp_path: Path) -> None:
    dockerfile = (
        'FROM python\nENV GUNICORN_CMD_ARGS="-b 0.0.0.0:8000 -k gthread --keep-alive 75"\n'
        'CMD ["gunicorn", "app:app"]\n'
    )
    assert findings(tmp_path, {"app.conf": nginx(), "Dockerfile": dockerfile}) == []
    short = dockerfile.replace("75", "5")
    [race] = of("BKD101", findings(tmp_path, {"app.conf": nginx(), "Dockerfile": short}))
    assert "after 5s" in race.message and "default" not in race.message.split("closes them")[1][:40]


def test_a_keepalive_from_the_environment_is_named_by_its_variable(tmp_path: Path) -> None:
    """The value is quoted as written where it is set, not as a flag the command lacks."""
    run = 'CMD ["uvicorn", "app:app", "--host", "0.0.0.0", "--port", "8000"]\n'
    uvicorn = f"FROM python\nENV UVICORN_TIMEOUT_KEEP_ALIVE=10\n{run}"
    [race] = of("BKD101", findings(tmp_path, {"app.conf": nginx(), "Dockerfile": uvicorn}))
    assert "closes them after 10s (UVICORN_TIMEOUT_KEEP_ALIVE=10)" in race.message
    gunicorn = (
        'FROM python\nENV GUNICORN_CMD_ARGS="-b 0.0.0.0:8000 -k gthread --keep-alive 5"\n'
        'CMD ["gunicorn", "app:app"]\n'
    )
    [race] = of("BKD101", findings(tmp_path, {"app.conf": nginx(), "Dockerfile": gunicorn}))
    assert "closes them after 5s (--keep-alive 5 in GUNICORN_CMD_ARGS)" in race.message


# --------------------------------------------------------------------------- found by a tester


G3 = (
    '_settings = {\n    "bind": "0.0.0.0:8000",\n    "worker_class": "gthread",\n    "threads": 4,\n'
    '    "keepalive": 5,\n}\nglobals().update(_settings)\n'
)
G1 = (
    "import os\n\n# every GUNICORN_* variable becomes a setting: GUNICORN_KEEPALIVE=75 -> keepalive = 75\n"
    'for k, v in os.environ.items():\n    if k.startswith("GUNICORN_"):\n'
    '        key = k.split("_", 1)[1].lower()\n        locals()[key] = v\n'
)


@pytest.mark.parametrize(
    ("config", "line", "code"), [(G3, 7, "globals().update(_settings)"), (G1, 7, "locals()[key] = v")]
)
def test_settings_written_through_the_namespace_are_unknown_not_defaults(
    tmp_path: Path, config: str, line: int, code: str
) -> None:
    """No sync worker, no default bind: the write may set them (BKD103, at the write)."""
    [finding] = findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": config})
    assert finding.code == "BKD103" and finding.location.line == line
    assert f"bind is possibly set by `{code}` (line {line}), which tlslint does not run" in finding.message
    assert "sync" not in finding.message and "127.0.0.1" not in finding.message
    # Mapped to the upstream, the timeout is what cannot be read
    mapping = {"backends": [{"upstream": "app", "config": "gunicorn.conf.py"}]}
    [mapped] = findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": config}, mapping)
    assert mapped.code == "BKD103" and "its worker class possibly set by" in mapped.message


def test_threads_written_as_a_string_is_gthread(tmp_path: Path) -> None:
    """thr: gunicorn reads threads = "4" as 4 (validate_pos_int), so the sync worker
    becomes gthread: no BKD102, and its 2 s keepalive races nginx."""
    config = 'bind = "0.0.0.0:8000"\nworkers = 2\nthreads = "4"\n'
    [race] = findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": config})
    assert (
        race.code == "BKD101" and "closes them after 2s (gunicorn's default keepalive of 2s)" in race.message
    )
    as_true = 'bind = "0.0.0.0:8000"\nworker_class = "gthread"\nkeepalive = True\n'
    [one] = findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": as_true})
    assert "closes them after 1s (keepalive = True)" in one.message


DUP_MAIN = (
    "import uvicorn\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n"
    'if __name__ == "__main__":\n    uvicorn.run("main:app", host="0.0.0.0", port=8000, reload=True)\n'
)
DUP_IMAGE = (
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nCMD "
    '["uvicorn", "main:app", "--host", "0.0.0.0", "--port", "8000", "--timeout-keep-alive", "75"]\n'
)


def test_a_guarded_run_of_the_module_a_command_imports_is_not_linked(tmp_path: Path) -> None:
    """dup: the image runs `uvicorn main:app` (75 s); main.py's guarded uvicorn.run() (5 s
    default) never runs there: imported, main is not __main__. No false BKD101."""
    assert findings(tmp_path, {"app.conf": nginx(), "main.py": DUP_MAIN, "Dockerfile": DUP_IMAGE}) == []
    short = DUP_IMAGE.replace("75", "5")
    [race] = findings(tmp_path / "short", {"app.conf": nginx(), "main.py": DUP_MAIN, "Dockerfile": short})
    assert "uvicorn (Dockerfile CMD)" in race.message  # the image's command, not main.py's run()


@pytest.mark.parametrize(
    "files",
    [
        {"main.py": DUP_MAIN},  # nothing imports it: run as a script, its run() starts the server
        {"main.py": DUP_MAIN, "Dockerfile": DUP_IMAGE.replace("main:app", "other:app")},
        {"main.py": DUP_MAIN, "deploy/Dockerfile": DUP_IMAGE},  # not the module beside the command
    ],
    ids=["no-command", "another-module", "another-directory"],
)
def test_a_guarded_run_stays_where_no_command_imports_its_module(
    tmp_path: Path, files: dict[str, str]
) -> None:
    found = findings(tmp_path, {"app.conf": nginx(), **files})
    assert any(f.code == "BKD101" and "uvicorn.run() (main.py:7)" in f.message for f in found), found


DD = (
    "FROM python:3.12-slim\nENV PORT=8000\n"
    "CMD gunicorn --bind 0.0.0.0:$PORT --worker-class gthread --threads 4 app:app\n"
)


def test_a_shell_form_cmd_is_expanded_with_the_images_env(tmp_path: Path) -> None:
    """dd: /bin/sh -c runs a shell-form CMD with the image's ENV, so $PORT is 8000 there as
    in a start.sh that the CMD runs (it was 'known only at run time', BKD103)."""
    [race] = findings(tmp_path, {"app.conf": nginx(), "Dockerfile": DD})
    assert race.code == "BKD101" and "gunicorn (Dockerfile CMD) closes them after 2s" in race.message
    assert race.related[-1].message == "reaches gunicorn, which listens on 0.0.0.0:8000"
    script = "#!/bin/sh\nexec gunicorn --bind 0.0.0.0:$PORT --worker-class gthread --threads 4 app:app\n"
    image = 'FROM python:3.12-slim\nENV PORT=8000\nCMD ["./start.sh"]\n'
    [same] = findings(tmp_path / "script", {"app.conf": nginx(), "Dockerfile": image, "start.sh": script})
    assert same.code == "BKD101" and same.related[-1].message == race.related[-1].message
    # Nothing sets it: unknown, and said once ("not set in Dockerfile")
    [unset] = findings(
        tmp_path / "unset", {"app.conf": nginx(), "Dockerfile": DD.replace("ENV PORT=8000\n", "")}
    )
    assert unset.code == "BKD103" and "$PORT is not set in Dockerfile)" in unset.message


def test_an_exec_form_shell_script_is_expanded_with_the_images_env(tmp_path: Path) -> None:
    """["sh", "-c", "... $PORT ..."] runs the same shell as the shell form: it was not read
    at all (no finding, no BKD103). Its words are inside one JSON string: read, never edited."""
    script = '["sh", "-c", "gunicorn --bind 0.0.0.0:$PORT --worker-class gthread --threads 4 app:app"]'
    dockerfile = DD.replace(DD.splitlines()[-1], f"CMD {script}")
    [race] = findings(tmp_path, {"app.conf": nginx(), "Dockerfile": dockerfile})
    assert race.code == "BKD101" and "gunicorn (Dockerfile CMD) closes them after 2s" in race.message
    assert race.related[-1].message == "reaches gunicorn, which listens on 0.0.0.0:8000"
    [unset] = findings(
        tmp_path / "unset", {"app.conf": nginx(), "Dockerfile": dockerfile.replace("ENV PORT=8000\n", "")}
    )
    assert unset.code == "BKD103"
    backend_side = {"rules": {"BKD101": {"fix-side": "backend"}}}
    [kept] = findings(tmp_path / "side", {"app.conf": nginx(), "Dockerfile": dockerfile}, backend_side)
    assert kept.fix is None or all(edit.path.name != "Dockerfile" for edit in kept.fix.edits)


def test_a_shell_form_cmd_keeps_the_env_lines_place(tmp_path: Path) -> None:
    dockerfile = (
        'FROM python\nENV GUNICORN_CMD_ARGS="-b 0.0.0.0:8000 -k gthread --keep-alive 5"\n'
        "CMD gunicorn app:app\n"
    )
    [race] = of("BKD101", findings(tmp_path, {"app.conf": nginx(), "Dockerfile": dockerfile}))
    assert "closes them after 5s (--keep-alive 5 in GUNICORN_CMD_ARGS)" in race.message
    assert ("Dockerfile", 2) in {(r.location.path.name, r.location.line) for r in race.related}


# --------------------------------------------------------------------------- worker classes, locations


@pytest.mark.parametrize(
    ("worker", "threads"),
    [
        ("myworkers.QuietSyncWorker", ""),  # a SyncWorker subclass: keeps nothing (measured)
        ("paperless.workers.ConfigurableWorker", ""),  # a UvicornWorker subclass: its own timeout
        ("myapp.workers.MyUvicornWorker", ""),
        ("myapp.gthread", ""),  # not gunicorn's gthread, whatever its last part
    ],
)
def test_a_worker_class_of_the_apps_own_is_unknown(tmp_path: Path, worker: str, threads: str) -> None:
    """c03/c14: gunicorn's 2 s keepalive was assumed for a custom class; real gunicorn ran
    myworkers.QuietSyncWorker, which answered Connection: close."""
    config = f'bind = "127.0.0.1:8000"\nworker_class = "{worker}"\n{threads}'
    [finding] = findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": config})
    assert finding.code == "BKD103" and f'its worker class "{worker}" is not one of' in finding.message
    assert (finding.location.path.name, finding.location.line) == ("gunicorn.conf.py", 2)
    assert "write it as a literal" not in finding.message
    procfile = f"web: gunicorn -k {worker} -b 127.0.0.1:8000 app:app\n"
    [command] = findings(tmp_path / "p", {"app.conf": nginx(), "Procfile": procfile})
    assert command.code == "BKD103" and f"its worker class {worker} is not one of" in command.message


@pytest.mark.parametrize(
    ("worker", "threads", "code"),
    [
        ("gthread", "", "BKD101"),
        ("gevent", "", "BKD101"),
        ("eventlet", "", "BKD101"),
        ("tornado", "", "BKD101"),
        ("egg:gunicorn#gevent", "", "BKD101"),
        ("gunicorn.workers.ggevent.GeventWorker", "", "BKD101"),
        ("uvicorn.workers.UvicornWorker", "", "BKD101"),
        ("uvicorn_worker.UvicornWorker", "", "BKD101"),
        ("sync", "", "BKD102"),
        ("gunicorn.workers.sync.SyncWorker", "", "BKD102"),
        ("myworkers.QuietSyncWorker", "threads = 4\n", "BKD101"),  # gunicorn runs gthread for it
        ("egg:gunicorn#sync", "threads = 4\n", "BKD102"),  # not switched: it stays sync
    ],
)
def test_known_worker_classes_keep_their_facts(tmp_path: Path, worker: str, threads: str, code: str) -> None:
    config = f'bind = "127.0.0.1:8000"\nworker_class = "{worker}"\n{threads}'
    assert [f.code for f in findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf.py": config})] == [code]


@pytest.mark.parametrize(
    ("location", "version", "raced"),
    [
        ("proxy_pass http://app;", "1.22", False),  # HTTP/1.0 and Connection: close (measured)
        ('proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";', "1.22", True),
        ("proxy_pass http://app; proxy_http_version 1.1;", "1.22", False),  # Connection: close
        ('proxy_pass http://app; proxy_set_header Connection "";', "1.22", False),  # HTTP/1.0
        ("proxy_pass http://app;", "1.30", True),  # 1.1 and no Connection header since 1.29.7
        ("proxy_pass http://app;", None, True),  # the version decides: not "never"
        ("proxy_pass http://app; proxy_http_version 1.0;", None, False),  # written: never, any version
        ('proxy_pass http://app; proxy_set_header Connection "close";', None, False),
    ],
)
def test_bkd101_is_quiet_where_no_location_reuses_a_connection(
    tmp_path: Path, location: str, version: str | None, raced: bool
) -> None:
    """r2: BKD101 said a race (with a fix) while NGX211 said every request opens a new
    connection; nginx 1.22.1 measured: 3 requests, 3 connections."""
    conf = (
        "upstream app { server 127.0.0.1:8000; keepalive 16; }\n"
        f"server {{ listen 80; location / {{ {location} }} }}\n"
    )
    nginx_settings = {"nginx": {"version": version} if version else {}}
    found = findings(
        tmp_path,
        {"app.conf": conf, "gunicorn.conf.py": GTHREAD.format(bind="127.0.0.1:8000")},
        nginx_settings,
    )
    assert bool(of("BKD101", found)) is raced
    # A second location that reuses connections brings the race back.
    if not raced and version:
        both = conf.replace(
            "} }\n",
            "}\n location /api { proxy_pass http://app; proxy_http_version 1.1;"
            ' proxy_set_header Connection ""; } }\n',
        )
        again = findings(
            tmp_path / "both",
            {"app.conf": both, "gunicorn.conf.py": GTHREAD.format(bind="127.0.0.1:8000")},
            nginx_settings,
        )
        assert of("BKD101", again)


def test_a_sync_worker_or_unknown_value_behind_locations_that_never_reuse_is_quiet(tmp_path: Path) -> None:
    conf = (
        "upstream app { server 127.0.0.1:8000; keepalive 16; }\n"
        "server { listen 80; location / { proxy_pass http://app; } }\n"
    )
    sync = 'bind = "127.0.0.1:8000"\n'
    computed = GTHREAD.format(bind="127.0.0.1:8000") + 'import os\nkeepalive = int(os.environ["K"])\n'
    assert findings(tmp_path, {"app.conf": conf, "gunicorn.conf.py": sync}) == []
    assert findings(tmp_path / "c", {"app.conf": conf, "gunicorn.conf.py": computed}) == []


UNIT = """\
[Service]
WorkingDirectory=/srv/myproject
{extra}ExecStart=/srv/myproject/venv/bin/gunicorn --worker-class gthread --threads 4 \\
          --bind 127.0.0.1:8000 myproject.wsgi:application
"""


@pytest.mark.parametrize(
    "extra",
    [
        "EnvironmentFile=/etc/myproject/env\n",
        "EnvironmentFile=-/etc/myproject/env\n",  # optional: on the host it may exist
        # The file wins over Environment=:
        'Environment="GUNICORN_CMD_ARGS=--keep-alive 75"\nEnvironmentFile=/etc/myproject/env\n',
    ],
)
def test_a_units_environment_file_may_set_what_gunicorn_reads(tmp_path: Path, extra: str) -> None:
    """c11: real `GUNICORN_CMD_ARGS="--keep-alive 75" gunicorn --print-config` keeps 75 s;
    the unit's EnvironmentFile= was ignored and gunicorn's 2 s default compared."""
    [finding] = findings(tmp_path, {"app.conf": nginx(), "app.service": UNIT.format(extra=extra)})
    assert (
        finding.code == "BKD103"
        and "EnvironmentFile=/etc/myproject/env is read on the host" in finding.message
    )


def test_a_unit_without_an_environment_file_keeps_its_facts(tmp_path: Path) -> None:
    [race] = findings(tmp_path, {"app.conf": nginx(), "app.service": UNIT.format(extra="")})
    assert race.code == "BKD101" and "gunicorn's default --keep-alive of 2s" in race.message
    extra = 'Environment="GUNICORN_CMD_ARGS=--keep-alive 75"\n'
    assert findings(tmp_path / "e", {"app.conf": nginx(), "app.service": UNIT.format(extra=extra)}) == []


NETBOX = "bind='127.0.0.1:8000'\nworkers=3\nthreads=3\ntimeout=120\n"


def test_a_mapped_python_config_without_a_suffix_is_read(tmp_path: Path) -> None:
    """c19: NetBox's contrib/gunicorn.conf, mapped in the settings, was BKD001 (exit 2);
    `gunicorn -c gunicorn.conf --print-config` loads it."""
    mapping = {"backends": [{"upstream": "app", "config": "gunicorn.conf"}]}
    [race] = findings(tmp_path, {"app.conf": nginx(), "gunicorn.conf": NETBOX}, mapping)
    assert race.code == "BKD101" and "gunicorn (gunicorn.conf)" in race.message
    [not_python] = findings(
        tmp_path / "n", {"app.conf": nginx(), "gunicorn.conf": "[server]\nbind: x y\n"}, mapping
    )
    assert not_python.code == "BKD001" and "not a gunicorn" in not_python.message


def test_a_command_line_config_without_a_suffix_is_read(tmp_path: Path) -> None:
    procfile = "web: gunicorn -c gunicorn.conf app:app\n"
    [race] = findings(tmp_path, {"app.conf": nginx(), "Procfile": procfile, "gunicorn.conf": NETBOX})
    assert race.code == "BKD101" and "gunicorn (Procfile web, -c gunicorn.conf)" in race.message
    long = NETBOX + "keepalive = 75\n"
    assert findings(tmp_path / "l", {"app.conf": nginx(), "Procfile": procfile, "gunicorn.conf": long}) == []


KEEPALIVE_ENV = (
    "FROM python\nENV KEEPALIVE 5\n"
    "CMD gunicorn --bind 0.0.0.0:8000 -k gevent --keep-alive $KEEPALIVE app:app\n"
)
RUN_SH = "#!/bin/sh\nexec gunicorn -b 0.0.0.0:8000 -k gevent --keep-alive ${GUNICORN_KEEPALIVE:-2} app:app\n"
CMD_ARGS = (
    'FROM python\nENV GUNICORN_CMD_ARGS="-b 0.0.0.0:8000 -k gevent --keep-alive 5"\n'
    'CMD ["gunicorn", "app:app"]\n'
)


@pytest.mark.parametrize(
    ("files", "why"),
    [
        (
            {"Dockerfile": KEEPALIVE_ENV},
            "not edited in Dockerfile: --keep-alive $KEEPALIVE takes its value from $KEEPALIVE when it runs",
        ),
        (
            {"Dockerfile": 'FROM python\nCMD ["./run.sh"]\n', "run.sh": RUN_SH},
            "not edited in run.sh: --keep-alive ${GUNICORN_KEEPALIVE:-2} takes its value from "
            "$GUNICORN_KEEPALIVE",
        ),
        ({"Dockerfile": CMD_ARGS}, "not edited in Dockerfile: it is set in GUNICORN_CMD_ARGS"),
    ],
    ids=["dockerfile-env", "script-default", "gunicorn-cmd-args"],
)
def test_the_note_says_why_the_backend_side_is_not_edited(
    tmp_path: Path, files: dict[str, str], why: str
) -> None:
    """c08b/c18: with fix-side = "backend" the fix quietly went to nginx's side."""
    backend_side = {"rules": {"BKD101": {"fix-side": "backend"}}}
    [race] = findings(tmp_path, {"app.conf": nginx(), **files}, backend_side)
    assert race.fix is not None and all(edit.path.name == "app.conf" for edit in race.fix.edits)
    assert why in race.fix_note
