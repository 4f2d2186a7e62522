"""Settings: where they are found, how they are validated, what they change."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, codes

from tlslint.engine import RunResult, run
from tlslint.findings import Severity
from tlslint.settings import SettingsError, load_settings

# NGX103 (1m zone), NGX104 (1m timeout) and NGX105 (tickets with random keys on
# a version that does not keep them in the shared zone).
CONFIG = """\
http {
    ssl_session_cache shared:SSL:1m;
    ssl_session_timeout 1m;
    server {
        listen 443 ssl;
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
    }
}
"""
OLD = {"nginx": {"version": "1.22"}}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TLSLINT_DEBUG")}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "tlslint", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


# --- finding the settings file -------------------------------------------------


def test_pyproject_found_by_walking_up_from_a_nested_path(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n\n[tool.tlslint]\nselect = ["NGX103"]\n')
    # A pyproject.toml without [tool.tlslint] on the way up is not a settings file.
    write(tmp_path / "deploy" / "pyproject.toml", '[project]\nname = "deploy"\n')
    conf = write(tmp_path / "deploy" / "nginx" / "sites-available" / "site", CONFIG)
    for start in (conf, conf.parent):
        settings = load_settings(start)
        assert settings.source == tmp_path / "pyproject.toml"
        assert settings.base == tmp_path.resolve()
        assert settings.select == ["NGX103"]
    assert codes(run([conf], load_settings(conf))) == ["NGX103"]


def test_no_settings_file_means_defaults_based_at_the_path(tmp_path: Path) -> None:
    conf = write(tmp_path / "a" / "x.conf", CONFIG)
    settings = load_settings(conf)
    assert settings.source is None
    assert settings.base == conf.parent.resolve()
    assert settings.select is None
    assert settings.fail_on == Severity.WARNING


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".tlslint.toml", 'fail-on = "error"\nselect = ["NGX104"]\n[nginx]\nversion = "1.22.1"\n'),
        (".tlslint.yaml", 'fail-on: error\nselect: [NGX104]\nnginx:\n  version: "1.22.1"\n'),
        (".tlslint.yml", 'fail-on: error\nselect: [NGX104]\nnginx:\n  version: "1.22.1"\n'),
        (
            "pyproject.toml",
            '[tool.tlslint]\nfail-on = "error"\nselect = ["NGX104"]\nnginx.version = "1.22.1"\n',
        ),
    ],
)
def test_each_settings_format(tmp_path: Path, name: str, text: str) -> None:
    write(tmp_path / name, text)
    settings = load_settings(tmp_path)
    assert settings.source == tmp_path / name
    assert settings.fail_on == Severity.ERROR
    assert settings.select == ["NGX104"]
    assert settings.nginx_version == (1, 22, 1)


def test_nearest_file_wins_and_toml_before_yaml_before_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[tool.tlslint]\nselect = ["NGX101"]\n')
    write(tmp_path / ".tlslint.yaml", "select: [NGX102]\n")
    assert load_settings(tmp_path).select == ["NGX102"]
    write(tmp_path / ".tlslint.toml", 'select = ["NGX103"]\n')
    assert load_settings(tmp_path).select == ["NGX103"]
    write(tmp_path / "sub" / "pyproject.toml", '[tool.tlslint]\nselect = ["NGX104"]\n')
    assert load_settings(tmp_path / "sub").select == ["NGX104"]


def test_explicit_config_overrides_the_search(tmp_path: Path) -> None:
    write(tmp_path / ".tlslint.toml", 'select = ["NGX103"]\n')
    write(tmp_path / "ci" / "strict.toml", 'select = ["NGX104"]\n')
    write(tmp_path / "s.conf", CONFIG)
    assert load_settings(tmp_path / "s.conf", tmp_path / "ci" / "strict.toml").select == ["NGX104"]

    searched = cli(tmp_path, "check", "-q", "s.conf")
    assert "NGX103" in searched.stdout and "NGX104" not in searched.stdout
    explicit = cli(tmp_path, "check", "-q", "--config", "ci/strict.toml", "s.conf")
    assert "NGX104" in explicit.stdout and "NGX103" not in explicit.stdout
    assert explicit.returncode == 1


def test_explicit_config_must_exist_and_hold_settings(tmp_path: Path) -> None:
    write(tmp_path / "s.conf", CONFIG)
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    with pytest.raises(SettingsError, match="settings file not found"):
        load_settings(tmp_path, tmp_path / "nope.toml")
    with pytest.raises(SettingsError, match=r"has no \[tool.tlslint\] table"):
        load_settings(tmp_path, tmp_path / "pyproject.toml")
    result = cli(tmp_path, "check", "--config", "nope.toml", "s.conf")
    assert result.returncode == 2
    assert "nope.toml: settings file not found" in result.stderr
    assert "Traceback" not in result.stderr


# A TLS site whose only warnings are NGX102 (a per-worker cache) and NGX105 (tickets).
BUILTIN = CONFIG.replace("shared:SSL:1m", "builtin").replace("    ssl_session_timeout 1m;\n", "")


def test_the_order_of_the_paths_does_not_choose_the_settings_file(tmp_path: Path) -> None:
    """The settings file is found from the deepest directory holding every path (as
    Black finds its root): a hook's file list in any order reads what `tlslint .` reads."""
    write(tmp_path / ".tlslint.toml", 'ignore = ["NGX102", "NGX105"]\n')
    write(tmp_path / "sub" / ".tlslint.toml", 'fail-on = "warning"\n')
    write(tmp_path / "a.conf", BUILTIN)
    write(tmp_path / "sub" / "b.conf", BUILTIN)
    runs = [
        cli(tmp_path, "-q", "--no-cache", *order)
        for order in (("a.conf", "sub/b.conf"), ("sub/b.conf", "a.conf"))
    ]
    assert runs[0].returncode == runs[1].returncode == 0, runs[1].stdout
    assert runs[0].stdout == runs[1].stdout
    assert "NGX102" not in runs[1].stdout and "sub/b.conf" in runs[1].stdout
    assert runs[0].stdout == cli(tmp_path, "-q", "--no-cache", ".").stdout  # as CI's full run
    # Every path under sub/: its own settings file, as `tlslint sub/` reads it.
    alone = cli(tmp_path, "-q", "--no-cache", "sub/b.conf")
    assert alone.returncode == 1 and "NGX102" in alone.stdout
    for paths in (
        [tmp_path / "a.conf", tmp_path / "sub" / "b.conf"],
        [tmp_path / "sub" / "b.conf", tmp_path / "a.conf"],
    ):
        assert load_settings(paths).source == tmp_path / ".tlslint.toml"
    assert (
        load_settings([tmp_path / "sub" / "b.conf", tmp_path / "sub"]).source
        == tmp_path / "sub" / ".tlslint.toml"
    )


def test_the_common_directory_of_paths(tmp_path: Path) -> None:
    from tlslint.settings import common_base

    root = tmp_path.resolve()
    write(tmp_path / "x" / "y" / "a.conf", CONFIG)
    write(tmp_path / "x" / "z" / "b.conf", CONFIG)
    assert common_base([tmp_path / "x" / "y" / "a.conf"]) == root / "x" / "y"  # a file: its directory
    assert common_base([tmp_path / "x" / "y"]) == root / "x" / "y"  # a directory: itself
    assert common_base([tmp_path / "x" / "y" / "a.conf", tmp_path / "x" / "z" / "b.conf"]) == root / "x"
    assert common_base([tmp_path / "x" / "z" / "b.conf", tmp_path / "x" / "y"]) == root / "x"
    assert common_base([tmp_path / "x" / "missing.conf", tmp_path / "x" / "y" / "a.conf"]) == root / "x"


def test_stdin_filename_counts_among_the_paths(tmp_path: Path) -> None:
    write(tmp_path / ".tlslint.toml", 'ignore = ["NGX102", "NGX105"]\n')
    write(tmp_path / "sub" / ".tlslint.toml", 'fail-on = "warning"\n')
    env = {k: v for k, v in os.environ.items() if k != "TLSLINT_DEBUG"}
    piped = subprocess.run(
        [sys.executable, "-m", "tlslint", "-q", "--no-cache", "--stdin-filename", "sub/b.conf", "-"],
        cwd=tmp_path, env=env, input=BUILTIN, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert piped.returncode == 1 and "NGX102" in piped.stdout  # sub/'s settings: nothing ignored


# --- validation: every message names the file and the key ----------------------


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (".tlslint.toml", 'fail_on = "error"\n', "unknown setting 'fail_on'; did you mean 'fail-on'?"),
        (
            ".tlslint.toml",
            '[nginx]\nverison = "1.22"\n',
            "unknown setting 'nginx.verison'; did you mean 'version'?",
        ),
        (".tlslint.yaml", "selct: [NGX1]\n", "unknown setting 'selct'; did you mean 'select'?"),
        (
            "pyproject.toml",
            "[tool.tlslint]\nper_file_ignores = {}\n",
            "[tool.tlslint]: unknown setting 'per_file_ignores'; did you mean 'per-file-ignores'?",
        ),
        (".tlslint.toml", "zzz = 1\n", "unknown setting 'zzz' (valid keys: select, extend-select, ignore,"),
        (".tlslint.toml", 'select = "NGX1"\n', "'select': 'NGX1' is not of type 'array'"),
        (".tlslint.toml", 'fail-on = "fatal"\n', "'fail-on': 'fatal' is not one of"),
        (
            ".tlslint.toml",
            '[nginx]\nversion = "1.x"\n',
            "'nginx.version': not an nginx version: '1.x' (expected e.g. 1.22 or 1.22.1,",
        ),
        (".tlslint.toml", "[nginx]\nversion = 1.22\n", "'nginx.version': 1.22 is not of type 'string'"),
        (
            ".tlslint.toml",
            '[nginx.roots]\n"etc/nginx" = "deploy"\n',
            "'nginx.roots': 'etc/nginx' must be an absolute nginx path",
        ),
        # Per-rule options and rule references are checked against the catalogue.
        (
            ".tlslint.toml",
            '[rules.NGX103]\nmin_size = "1m"\n',
            "unknown setting 'rules.NGX103.min_size'; did you mean 'min-size'?",
        ),
        (
            ".tlslint.toml",
            '[rules.NGX001]\nmin = "1m"\n',
            "unknown setting 'rules.NGX001.min' (NGX001 has no options)",
        ),
        (
            ".tlslint.toml",
            '[rules.NGY103]\nmin-size = "1m"\n',
            "unknown setting 'rules.NGY103': there is no rule NGY103; did you mean 'NGX103'?",
        ),
        (
            ".tlslint.toml",
            'select = ["NGX9"]\n',
            "'select': 'NGX9' is no rule code, code prefix or rule name",
        ),
        (
            ".tlslint.toml",
            'ignore = ["ssl-session-cache-too-smal"]\n',
            "'ignore': 'ssl-session-cache-too-smal' is no rule code, code prefix or rule name; "
            "did you mean 'ssl-session-cache-too-small'?",
        ),
        (
            ".tlslint.toml",
            '[per-file-ignores]\n"legacy/*" = ["NGX10x"]\n',
            "'per-file-ignores.legacy/*': 'NGX10x' is no rule code",
        ),
    ],
)
def test_invalid_settings_name_file_and_key(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = write(tmp_path / name, text)
    with pytest.raises(SettingsError) as raised:
        load_settings(tmp_path)
    assert str(raised.value).startswith(str(path))
    assert message in str(raised.value)


def test_invalid_settings_exit_2_on_the_command_line(tmp_path: Path) -> None:
    write(tmp_path / ".tlslint.toml", 'fail_on = "error"\n[nginx]\nverison = "1.22"\n')
    write(tmp_path / "s.conf", CONFIG)
    result = cli(tmp_path, "check", "s.conf")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert (
        f"{tmp_path / '.tlslint.toml'}: unknown setting 'fail_on'; did you mean 'fail-on'?" in result.stderr
    )
    assert "unknown setting 'nginx.verison'; did you mean 'version'?" in result.stderr


def test_invalid_toml_and_yaml_are_reported(tmp_path: Path) -> None:
    write(tmp_path / ".tlslint.toml", "select = [\n")
    with pytest.raises(SettingsError, match=r"\.tlslint\.toml: invalid TOML"):
        load_settings(tmp_path)
    (tmp_path / ".tlslint.toml").unlink()
    write(tmp_path / ".tlslint.yaml", "select: [\n")
    with pytest.raises(SettingsError, match=r"\.tlslint\.yaml: invalid YAML"):
        load_settings(tmp_path)


def test_an_alias_bomb_in_yaml_settings_is_refused_at_once(tmp_path: Path) -> None:
    """It was loaded, and its schema validation walked the 9**10 nodes (a run never ended)."""
    lines = ["x-a: &a [x,x,x,x,x,x,x,x,x]"]
    for previous, level in itertools.pairwise("abcdefghij"):
        lines.append(f"x-{level}: &{level} [" + ",".join([f"*{previous}"] * 9) + "]")
    write(tmp_path / ".tlslint.yaml", "\n".join(lines) + "\n")
    started = time.monotonic()
    with pytest.raises(SettingsError, match=r"\.tlslint\.yaml: document contains excessive aliasing: "):
        load_settings(tmp_path)
    assert time.monotonic() - started < 10


def test_nginx_version_forms(tmp_path: Path) -> None:
    forms = (
        ("1.22", (1, 22, 0)),
        ("1.27.3", (1, 27, 3)),
        ("nginx/1.25.1", (1, 25, 1)),
        # As `nginx -v` prints it: NGINX Plus's suffix; OpenResty's X.Y.Z.N runs nginx X.Y.Z.
        ("nginx/1.25.3 (nginx-plus-r31-p1)", (1, 25, 3)),
        ("openresty/1.25.3.1", (1, 25, 3)),
        ("nginx version: openresty/1.21.4.1", (1, 21, 4)),
    )
    for text, expected in forms:
        write(tmp_path / ".tlslint.toml", f'[nginx]\nversion = "{text}"\n')
        assert load_settings(tmp_path).nginx_version == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("angie/1.9.0", "is angie's own release number, not nginx's"),
        ("Angie/1.9.0", "is Angie's own release number, not nginx's"),
        ("freenginx/1.27.4", "is freenginx's own release number, not nginx's"),
        ("tengine/3.1.0", "is tengine's own release number, not nginx's"),
        ("1.21.4.3", "for OpenResty write openresty/1.21.4.3 or its nginx core 1.21.4"),
    ],
)
def test_a_forks_own_number_is_refused_saying_why(tmp_path: Path, text: str, says: str) -> None:
    write(tmp_path / ".tlslint.toml", f'[nginx]\nversion = "{text}"\n')
    with pytest.raises(SettingsError, match=re.escape(says)):
        load_settings(tmp_path)
    (tmp_path / ".tlslint.toml").unlink()
    write(tmp_path / "s.conf", CONFIG)
    result = cli(tmp_path, "check", "--nginx-version", text, "s.conf")
    assert result.returncode == 2 and says in result.stderr, result.stderr


def test_bad_nginx_version_flag_exits_2(tmp_path: Path) -> None:
    write(tmp_path / "s.conf", CONFIG)
    result = cli(tmp_path, "check", "--nginx-version", "one.two", "s.conf")
    assert result.returncode == 2
    assert "not an nginx version: 'one.two'" in result.stderr


# --- what settings change -------------------------------------------------------


def ngx1_codes(result: RunResult) -> list[str]:
    """The NGX1xx codes: rules of other families may have a say on CONFIG too."""
    return [code for code in codes(result) if code.startswith("NGX1")]


def run_codes(tmp_path: Path, mapping: dict[str, Any]) -> list[str]:
    return ngx1_codes(check_files(tmp_path, {"s.conf": CONFIG}, {**OLD, **mapping}))


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({}, ["NGX103", "NGX104", "NGX105"]),
        ({"select": ["NGX103"]}, ["NGX103"]),
        ({"select": ["ngx104"]}, ["NGX104"]),
        ({"select": ["NGX10"]}, ["NGX103", "NGX104", "NGX105"]),
        ({"select": ["NGX106"]}, []),
        ({"select": ["ssl-session-timeout-out-of-range"]}, ["NGX104"]),
        ({"select": ["ALL"], "ignore": ["NGX104"]}, ["NGX103", "NGX105"]),
        ({"ignore": ["ssl-session-tickets-unrotated", "NGX103"]}, ["NGX104"]),
        ({"ignore": ["NGX1"]}, []),
        ({"select": ["NGX1"], "ignore": ["NGX10"]}, []),
    ],
)
def test_select_and_ignore(tmp_path: Path, mapping: dict[str, Any], expected: list[str]) -> None:
    assert run_codes(tmp_path, mapping) == expected


def test_nginx_version_changes_the_verdict(tmp_path: Path) -> None:
    new = ngx1_codes(check_files(tmp_path, {"s.conf": CONFIG}, {"nginx": {"version": "1.27"}}))
    assert new == ["NGX103", "NGX104"]  # the shared zone keeps and rotates ticket keys since 1.23.2


@pytest.mark.parametrize(
    ("rules", "profile", "expected"),
    [
        ({}, "intermediate", ["NGX103", "NGX104"]),
        ({"NGX103": {"min-size": "1m"}}, "intermediate", ["NGX104"]),
        ({"NGX103": {"min-size": "1024k"}}, "intermediate", ["NGX104"]),
        ({"NGX103": {"min-size": "2m"}}, "intermediate", ["NGX103", "NGX104"]),
        ({"NGX104": {"min": "1m"}}, "intermediate", ["NGX103"]),
        ({"NGX104": {"min": "30s", "max": "45s"}}, "intermediate", ["NGX103", "NGX104"]),
        ({"NGX103": {"min-size": "1m"}, "NGX104": {"min": "60"}}, "intermediate", []),
    ],
)
def test_rule_options(tmp_path: Path, rules: dict[str, Any], profile: str, expected: list[str]) -> None:
    mapping = {"select": ["NGX103", "NGX104"], "rules": rules, "profile": profile}
    assert run_codes(tmp_path, mapping) == expected


def test_rule_options_from_a_settings_file_and_messages(tmp_path: Path) -> None:
    write(tmp_path / ".tlslint.toml", '[rules.NGX104]\nmin = "30s"\nmax = "45s"\n')
    conf = write(tmp_path / "s.conf", CONFIG)
    result = run([conf], load_settings(conf))
    ngx104 = [f for f in result.findings if f.code == "NGX104"]
    assert len(ngx104) == 1
    assert "above the maximum 45s" in ngx104[0].message


def test_profile_sets_option_defaults(tmp_path: Path) -> None:
    ten = CONFIG.replace("shared:SSL:1m", "shared:SSL:10m")
    intermediate = check_files(tmp_path, {"s.conf": ten}, {"select": ["NGX103"]})
    throughput = check_files(tmp_path, {"s.conf": ten}, {"select": ["NGX103"], "profile": "throughput"})
    assert codes(intermediate) == []
    assert codes(throughput) == ["NGX103"]
    assert "below min-size 50m" in throughput.findings[0].message
    # An explicit option beats the profile.
    explicit = {"select": ["NGX103"], "profile": "throughput", "rules": {"NGX103": {"min-size": "10m"}}}
    assert codes(check_files(tmp_path, {"s.conf": ten}, explicit)) == []


def test_per_file_ignores_relative_to_the_settings_file(tmp_path: Path) -> None:
    write(
        tmp_path / ".tlslint.toml",
        '[per-file-ignores]\n"legacy/*.conf" = ["NGX103", "ssl-session-timeout-out-of-range"]\n'
        '"only-name.conf" = ["NGX1"]\n',
    )
    write(tmp_path / "legacy" / "old.conf", CONFIG)
    write(tmp_path / "current" / "new.conf", CONFIG)
    write(tmp_path / "current" / "deeper" / "only-name.conf", CONFIG)
    # Run from a different working directory: globs are relative to the settings file.
    settings = load_settings(tmp_path / "current")
    cwd = Path.cwd()
    try:
        os.chdir(tmp_path / "current")
        result = run([tmp_path], settings)
    finally:
        os.chdir(cwd)
    found = {
        (f.location.path.relative_to(tmp_path).as_posix(), f.code)
        for f in result.findings
        if f.code.startswith("NGX1")
    }
    assert found == {
        ("legacy/old.conf", "NGX105"),
        ("current/new.conf", "NGX103"),
        ("current/new.conf", "NGX104"),
        ("current/new.conf", "NGX105"),
    }


def test_fail_on_from_settings_decides_the_exit_code(tmp_path: Path) -> None:
    write(tmp_path / "s.conf", CONFIG)
    write(tmp_path / ".tlslint.toml", 'select = ["NGX1"]\n')
    assert cli(tmp_path, "check", "-q", "s.conf").returncode == 1  # warnings, default fail-on warning
    write(tmp_path / ".tlslint.toml", 'select = ["NGX1"]\nfail-on = "error"\n')
    result = cli(tmp_path, "check", "-q", "s.conf")
    assert result.returncode == 0
    assert "NGX103" in result.stdout  # still reported, just not failing


# --- validation is remembered ---------------------------------------------------


def _loads_jsonschema(cwd: Path) -> tuple[bool, str]:
    """Load the settings in a fresh process: whether jsonschema was imported, and the error."""
    code = (
        "import sys\nfrom pathlib import Path\nfrom tlslint.settings import SettingsError, load_settings\n"
        "try:\n    load_settings(Path('.'))\n    error = ''\nexcept SettingsError as e:\n    error = str(e)\n"
        "print('jsonschema' in sys.modules, error)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60)
    imported, _, error = done.stdout.strip().partition(" ")
    return imported == "True", error


def test_valid_settings_are_validated_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    write(tmp_path / "repo" / ".tlslint.toml", 'select = ["NGX1"]\n[nginx]\nversion = "1.22"\n')
    assert _loads_jsonschema(tmp_path / "repo") == (True, "")
    assert len(list((tmp_path / "xdg" / "tlslint" / "settings-valid").iterdir())) == 1
    assert _loads_jsonschema(tmp_path / "repo") == (False, "")  # remembered: no jsonschema
    write(tmp_path / "repo" / ".tlslint.toml", 'select = ["NGX1"]\n[nginx]\nversion = "1.24"\n')
    assert _loads_jsonschema(tmp_path / "repo") == (True, "")  # new content: validated again


def test_invalid_settings_are_reported_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    write(tmp_path / "repo" / ".tlslint.toml", 'selekt = ["NGX1"]\n')
    for _ in range(2):
        imported, error = _loads_jsonschema(tmp_path / "repo")
        assert imported and "selekt" in error and "did you mean 'select'" in error
    assert not (tmp_path / "xdg" / "tlslint" / "settings-valid").exists()


# --- a version without its patch number -------------------------------------------


@pytest.mark.parametrize(
    ("given", "warned"),
    [("1.25", "since 1.25.1 `http2 on;` appears"), ("1.23", "since 1.23.4 the default ssl_protocols"),
     ("1.15", "since 1.15.3 upstream{} accepts keepalive_timeout"),
     ("1.22", ""), ("1.25.3", ""), ("nginx/1.29", "since 1.29.7 every upstream")],
)  # fmt: skip
def test_a_partial_version_is_warned_about_when_its_series_changed(
    tmp_path: Path, given: str, warned: str
) -> None:
    write(tmp_path / "nginx.conf", CONFIG)
    for args in (["--nginx-version", given], []):
        if not args:
            write(tmp_path / ".tlslint.toml", f'[nginx]\nversion = "{given}"\n')
        done = cli(tmp_path, "check", "-q", *args, ".")
        assert done.returncode == 1  # the findings decide the exit code, not the warning
        if warned:
            assert f"tlslint: warning: nginx.version {given} is read as" in done.stderr
            assert warned in done.stderr
        else:
            assert "warning: nginx.version" not in done.stderr
