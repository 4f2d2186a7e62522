"""First run: `tlslint init`, --show-settings, --statistics, --quiet, the progress bar."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tlslint.check_command import PROGRESS_MIN_FILES, _progress_bar
from tlslint.init import InitError, Questions, detect_nginx_version, init, show_settings, starter
from tlslint.settings import SettingsError, load_settings, validate

NO_CACHE = """\
http {
    server {
        listen 443 ssl;
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
        ssl_session_tickets off;
    }
}
"""


def fake_nginx(directory: Path, banner: str) -> str:
    """An ``nginx`` on a PATH of its own that prints ``banner`` for ``nginx -v``, as nginx does."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "nginx"
    script.write_text(f"#!/bin/sh\necho '{banner}' >&2\n", encoding="utf-8")
    script.chmod(0o755)
    return str(directory)


def tlslint(cwd: Path, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TLSLINT_DEBUG")}
    env["NO_COLOR"] = "1"
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "tlslint", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


# --- detecting nginx -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("banner", "version"),
    [
        ("nginx version: nginx/1.22.1", "1.22.1"),
        ("nginx version: nginx/1.27.3 (Ubuntu)", "1.27.3"),
        ("nginx version: openresty/1.21.4.1", "1.21.4"),
        ("nginx version: something else", None),
        ("nginx version: nginx/1.25.3 (nginx-plus-r31-p1)", "1.25.3"),
        ("Tengine version: Tengine/3.1.0\nnginx version: nginx/1.24.0", "1.24.0"),  # its core
        # Their own release numbers, not nginx's: nothing is detected.
        ("Angie version: Angie/1.9.0", None),
        ("nginx version: freenginx/1.27.4", None),
    ],
)
def test_detect_nginx_version(tmp_path: Path, banner: str, version: str | None) -> None:
    found = detect_nginx_version(fake_nginx(tmp_path / "bin", banner))
    assert (found.version if found else None) == version
    if found:
        assert found.binary == str(tmp_path / "bin" / "nginx")


def test_no_nginx_no_version(tmp_path: Path) -> None:
    assert detect_nginx_version(str(tmp_path)) is None


# --- init ---------------------------------------------------------------------------------------


def test_init_writes_a_valid_commented_starter(tmp_path: Path) -> None:
    written = init(tmp_path, search_path=fake_nginx(tmp_path / "bin", "nginx version: nginx/1.22.1"))
    assert written.path == tmp_path / ".tlslint.toml"
    assert (written.version, written.appended) == ("1.22.1", False)
    text = written.path.read_text(encoding="utf-8")
    assert re.search(r'^version = "1\.22\.1"  # `nginx -v` of .*/bin/nginx here', text, re.M)
    settings = load_settings(tmp_path)
    assert settings.source == written.path
    assert settings.nginx_version == (1, 22, 1)
    assert str(settings.fail_on) == "warning" and settings.profile == "intermediate"


def test_every_commented_example_in_the_starter_is_valid(tmp_path: Path) -> None:
    """Uncommenting the examples must give settings that the schema and the catalogue accept."""
    text = starter("", "1.22", "note")
    uncommented = re.sub(r"^# (\[?[\w.\-]+\]?( = .*)?)$", r"\1", text, flags=re.M)
    assert uncommented.count("\n# ") < text.count("\n# ")
    for line in (
        "select =",
        "ignore =",
        "exclude =",
        "per-file-ignores =",
        "roots =",
        "extra-directives =",
        "[rules.NGX103]",
    ):
        assert f"\n{line}" in uncommented, line
    path = tmp_path / ".tlslint.toml"
    path.write_text(uncommented, encoding="utf-8")
    settings = load_settings(tmp_path)
    assert settings.options_for("NGX103") == {"min-size": "10m"}
    assert settings.per_file_ignores == {"vendor/*.conf": ["NGX104"]}
    assert settings.nginx_extra_directives, "the starter's extra-directives example was not read"


def test_init_pins_no_local_nginx_that_the_repository_refutes(tmp_path: Path) -> None:
    """The local `nginx -v` is a guess at what the servers run: where the repository's
    files rule it out (an image tag, `http2 on`), it is not pinned. It was, and then
    every `http2 on;` was NGX305 "nginx 1.22.1 refuses to start", with a fix undoing it."""
    search = fake_nginx(tmp_path / "bin", "nginx version: nginx/1.22.1")
    repo = tmp_path / "repo"
    (repo / "conf.d").mkdir(parents=True)
    (repo / "conf.d" / "app.conf").write_text(
        "server {\n    listen 443 ssl;\n    http2 on;\n}\n", encoding="utf-8"
    )
    written = init(repo, search_path=search)
    assert written.version is None
    assert "not the nginx 1.22.1 of" in written.note and "`http2 on` at" in written.note
    assert load_settings(repo).nginx_version is None
    # An image tag does as much; one that includes the local release leaves it pinned.
    for tag, pinned in (("1.27-alpine", None), ("1.22", "1.22.1")):
        other = tmp_path / tag
        other.mkdir()
        (other / "nginx.conf").write_text(
            "events {}\nhttp {\n    server {\n        listen 80;\n    }\n}\n", encoding="utf-8"
        )
        (other / "Dockerfile").write_text(f"FROM nginx:{tag}\n", encoding="utf-8")
        assert init(other, search_path=search).version == pinned


def test_init_without_nginx_leaves_the_version_commented(tmp_path: Path) -> None:
    written = init(tmp_path, search_path=str(tmp_path / "empty"))
    assert written.version is None
    text = written.path.read_text(encoding="utf-8")
    assert '# version = "1.22"  # unknown: set the version your servers run' in text
    assert load_settings(tmp_path).nginx_version is None


def test_init_takes_a_given_version(tmp_path: Path) -> None:
    written = init(tmp_path, nginx_version="nginx/1.26", search_path=str(tmp_path))
    assert written.version == "1.26"
    assert load_settings(tmp_path).nginx_version == (1, 26, 0)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(InitError, match="not an nginx version"):
        init(elsewhere, nginx_version="latest", search_path="")
    assert not (elsewhere / ".tlslint.toml").exists()
    # A fork's string as `nginx -v` prints it: its nginx core is written, or it is refused.
    openresty = tmp_path / "openresty"
    openresty.mkdir()
    assert init(openresty, nginx_version="openresty/1.25.3.1", search_path="").version == "1.25.3"
    with pytest.raises(InitError, match="Angie's own release number"):
        init(elsewhere, nginx_version="Angie/1.9.0", search_path="")


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    (tmp_path / ".tlslint.toml").write_text("# mine\n", encoding="utf-8")
    with pytest.raises(InitError, match="already exist"):
        init(tmp_path, search_path="")
    assert (tmp_path / ".tlslint.toml").read_text(encoding="utf-8") == "# mine\n"
    other = tmp_path / "other"
    other.mkdir()
    (other / ".tlslint.yaml").write_text("fail-on: error\n", encoding="utf-8")
    with pytest.raises(InitError, match=r"\.tlslint\.yaml: tlslint settings already exist"):
        init(other, search_path="")
    assert not (other / ".tlslint.toml").exists()


def test_init_appends_to_pyproject(tmp_path: Path) -> None:
    project = tmp_path / "pyproject.toml"
    original = '[project]\nname = "infra"\n\n[tool.black]\nline-length = 100'  # no final newline
    project.write_text(original, encoding="utf-8")
    written = init(tmp_path, pyproject=True, nginx_version="1.24", search_path="")
    assert written.appended and written.path == project
    text = project.read_text(encoding="utf-8")
    assert text.startswith(original + "\n\n[tool.tlslint]\n")
    assert "\n[tool.tlslint.nginx]\n" in text and "# [tool.tlslint.rules.NGX103]" in text
    settings = load_settings(tmp_path)
    assert settings.source == project and settings.nginx_version == (1, 24, 0)
    with pytest.raises(InitError, match=r"pyproject\.toml: tlslint settings already exist"):
        init(tmp_path, pyproject=True, search_path="")


def test_init_pyproject_errors(tmp_path: Path) -> None:
    with pytest.raises(InitError, match=r"pyproject\.toml: not found"):
        init(tmp_path, pyproject=True, search_path="")
    (tmp_path / "pyproject.toml").write_text("[project\n", encoding="utf-8")
    with pytest.raises(InitError, match="invalid TOML"):
        init(tmp_path, pyproject=True, search_path="")
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == "[project\n"


def test_init_asks_on_a_terminal(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    asked: list[str] = []

    def confirm(question: str, default: bool) -> bool:
        asked.append(question)
        return True

    answers = iter(["1.25.3", "throughput"])

    def prompt(question: str, default: str) -> str:
        asked.append(f"{question} [{default}]")
        return next(answers)

    bin_dir = fake_nginx(tmp_path / "bin", "nginx version: nginx/1.22.1")
    written = init(tmp_path, questions=Questions(confirm, prompt), search_path=bin_dir)
    assert written.appended
    assert asked[0].startswith("Add [tool.tlslint] to ")
    assert asked[1] == "nginx version your servers run (blank: leave unset) [1.22.1]"
    assert asked[2].startswith("Profile (intermediate, modern, throughput)")
    settings = load_settings(tmp_path)
    assert settings.nginx_version == (1, 25, 3) and settings.profile == "throughput"


def test_init_cli_asks_nothing_without_a_terminal(tmp_path: Path) -> None:
    path = fake_nginx(tmp_path / "bin", "nginx version: nginx/1.22.1") + os.pathsep + os.defpath
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    result = tlslint(tmp_path, "init", path=path)
    assert result.returncode == 0, result.stderr
    assert "tlslint: wrote .tlslint.toml; nginx 1.22.1" in result.stdout
    assert "[tool.tlslint]" not in (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    again = tlslint(tmp_path, "init", path=path)
    assert again.returncode == 2
    assert "already exist" in again.stderr and again.stdout == ""
    (tmp_path / ".tlslint.toml").unlink()
    appended = tlslint(tmp_path, "init", "--pyproject", "--nginx-version", "1.24", path=path)
    assert appended.returncode == 0, appended.stderr
    assert "wrote [tool.tlslint] to pyproject.toml; nginx 1.24" in appended.stdout


# --- --show-settings --------------------------------------------------------------------------


def test_show_settings_names_the_file_and_the_sources(tmp_path: Path) -> None:
    (tmp_path / ".tlslint.toml").write_text(
        'fail-on = "error"\nselect = ["NGX1"]\n[nginx]\nversion = "1.22"\n[rules.NGX103]\nmin-size = "20m"\n',
        encoding="utf-8",
    )
    result = tlslint(tmp_path, "--show-settings", "--ignore", "NGX108")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"# settings file: {tmp_path / '.tlslint.toml'}" in out
    assert re.search(r'^fail-on = "error"$', out, re.M)  # from the file: no comment
    # The command line is a layer over the file's selection, said apart from it.
    assert re.search(r'^select = \["NGX1"\]$', out, re.M)
    assert re.search(r"^ignore = \[\]\s+# default$", out, re.M)
    assert re.search(r"^# command line, over the lines above: --ignore NGX108$", out, re.M)
    running = re.search(r"^# rules that run \(\d+ of \d+\): (.*)$", out, re.M)
    assert running is not None and "NGX107" in running[1] and "NGX108" not in running[1]
    assert "NGX201" not in running[1]
    assert re.search(r'^profile = "intermediate"\s+# default$', out, re.M)
    assert re.search(r'^version = "1\.22\.0"$', out, re.M)
    assert re.search(r'^min-size = "20m"$', out, re.M)
    assert re.search(r'^size = "10m"\s+# default \(intermediate profile\)$', out, re.M)  # NGX101's


def test_show_settings_is_text_a_toml_reader_accepts(tmp_path: Path) -> None:
    import tomllib

    from tlslint.settings import from_mapping

    mapping = {"per-file-ignores": {"a/*.conf": ["NGX104"]}, "nginx": {"roots": {"/etc/nginx": "d"}}}
    settings = from_mapping(mapping, tmp_path / ".tlslint.toml")
    data = tomllib.loads(show_settings(settings))
    assert data["per-file-ignores"] == {"a/*.conf": ["NGX104"]}
    assert data["nginx"]["roots"] == {"/etc/nginx": "d"}
    assert data["rules"]["NGX103"]["min-size"] == "10m"
    validate(data, "--show-settings")  # what it prints is settings tlslint would accept


def test_show_settings_without_a_file(tmp_path: Path) -> None:
    result = tlslint(tmp_path, "--show-settings")
    assert result.returncode == 0
    assert "# settings file: none found (defaults)" in result.stdout
    assert "# version: not set" in result.stdout


def test_show_settings_reports_a_bad_file(tmp_path: Path) -> None:
    (tmp_path / ".tlslint.toml").write_text('fail-on = "sometimes"\n', encoding="utf-8")
    result = tlslint(tmp_path, "--show-settings")
    assert result.returncode == 2
    assert "'fail-on'" in result.stderr
    with pytest.raises(SettingsError):
        load_settings(tmp_path)


# --- --statistics and --quiet -----------------------------------------------------------------


def test_statistics_counts_per_rule(tmp_path: Path) -> None:
    (tmp_path / "a.conf").write_text(NO_CACHE, encoding="utf-8")
    (tmp_path / "b.conf").write_text(NO_CACHE, encoding="utf-8")
    result = tlslint(tmp_path, "--statistics", "--select", "NGX101")
    assert result.returncode == 1
    assert result.stdout == "    2  NGX101  [*] ssl-session-cache-missing\n"
    as_json = tlslint(tmp_path, "--statistics", "--select", "NGX101", "--format", "json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout) == [
        {"code": "NGX101", "name": "ssl-session-cache-missing", "count": 2, "fixable": 2, "places": 2}
    ]


def test_statistics_count_causes_and_the_places_they_cover(tmp_path: Path) -> None:
    """One missing http-level line for three servers is one finding that covers three places."""
    servers = "".join(
        f"    server {{\n        listen 443 ssl;\n        server_name {name};\n    }}\n" for name in "abc"
    )
    (tmp_path / "nginx.conf").write_text(f"http {{\n{servers}}}\n", encoding="utf-8")
    result = tlslint(tmp_path, "--statistics", "--select", "NGX101")
    assert result.stdout == "    1  NGX101  [*] ssl-session-cache-missing (3 places)\n"
    as_json = tlslint(tmp_path, "--statistics", "--select", "NGX101", "--format", "json")
    assert json.loads(as_json.stdout)[0]["places"] == 3


def test_quiet_prints_findings_only(tmp_path: Path) -> None:
    (tmp_path / "a.conf").write_text(NO_CACHE, encoding="utf-8")
    result = tlslint(tmp_path, "--quiet", "--select", "NGX101")
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("a.conf:2:5: NGX101 [error] ")


# --- the progress bar ---------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_only_on_a_terminal() -> None:
    assert _progress_bar(io.StringIO()) is None
    stream = Terminal()
    bar = _progress_bar(stream)
    assert bar is not None
    for done in range(1, PROGRESS_MIN_FILES):
        bar(done, PROGRESS_MIN_FILES - 1)  # a few files: nothing shown
    assert stream.getvalue() == ""
    total = 2 * PROGRESS_MIN_FILES
    for done in range(1, total + 1):
        bar(done, total)
    shown = stream.getvalue()
    assert shown.count("\r") == 101  # once per percent (0 to 100), not once per file
    assert shown.endswith(f"\rtlslint: checking {total} files [{'#' * 30}] 100%")
    bar.clear()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    for index in range(PROGRESS_MIN_FILES + 10):
        (tmp_path / f"s{index:04}.conf").write_text(NO_CACHE, encoding="utf-8")
    result = tlslint(tmp_path, "--select", "NGX101", "--statistics")
    assert result.returncode == 1
    assert result.stderr == ""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_on_a_real_terminal(tmp_path: Path) -> None:
    import pty

    for index in range(PROGRESS_MIN_FILES + 10):
        (tmp_path / f"s{index:04}.conf").write_text(NO_CACHE, encoding="utf-8")
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
    with os.fdopen(leader, "rb", buffering=0) as terminal:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tlslint", "--select", "NGX101", "--statistics"],
            cwd=tmp_path,
            env={**env, "NO_COLOR": "1"},
            stdout=subprocess.PIPE,
            stderr=follower,
        )
        os.close(follower)
        stdout, _ = proc.communicate(timeout=120)
        seen = b""
        while True:
            try:
                chunk = terminal.read(65536)
            except OSError:  # the follower side closed
                break
            if not chunk:
                break
            seen += chunk
    assert proc.returncode == 1
    assert stdout.startswith(b"  310  NGX101")  # the report itself is untouched
    assert b"tlslint: checking 310 files [" in seen
    assert seen.endswith(b"\r\x1b[K")
