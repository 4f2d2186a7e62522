"""Rule selection layered as ruff layers it (tlslint.selection): the settings file, then
the command line; the most specific selector decides within a layer; a layer's
``select`` starts afresh; a selection that runs no rule is an error."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from helpers import check_files, cli, codes

from tlslint.live.adapter import UsageError, load_rule_settings
from tlslint.selection import Resolution, RuleSelection, SelectionError, command_line, require_some

SITE = """\
http {
    ssl_session_cache builtin;
    ssl_session_timeout 1m;
    server {
        listen 443 ssl;
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
    }
}
"""  # NGX102 (builtin cache), NGX104 (1m), NGX105 (tickets) on 1.22
OLD = {"nginx": {"version": "1.22"}}
SESSION = ("NGX102", "NGX104", "NGX105")


def layer(
    origin: str = "file",
    select: list[str] | None = None,
    extend: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
) -> RuleSelection:
    return RuleSelection(tuple(select) if select is not None else None, extend, ignore, origin)


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ([], ["NGX102", "NGX104", "NGX105"]),
        # Within a layer: the more specific selector wins, ignore wins a tie.
        ([layer(select=["NGX103"], ignore=("NGX1",))], []),
        ([layer(select=["NGX102"], ignore=("NGX1",))], ["NGX102"]),
        ([layer(select=["NGX1"], ignore=("NGX10",))], []),
        ([layer(select=["NGX10"], ignore=("NGX10",))], []),
        ([layer(select=["NGX"], ignore=("NGX104", "ssl-session-tickets-unrotated"))], ["NGX102"]),
        ([layer(ignore=("NGX1",), extend=("NGX104",))], ["NGX104"]),
        # A later select starts afresh: the file's ignore no longer applies.
        ([layer(ignore=("NGX102",)), layer("cli", select=["NGX102"])], ["NGX102"]),
        ([layer(select=["NGX104"]), layer("cli", select=["NGX1"], ignore=("NGX105",))], ["NGX102", "NGX104"]),
        # A later layer without select adjusts the earlier one, at any specificity.
        ([layer(ignore=("NGX102",)), layer("cli", extend=("NGX102",))], ["NGX102", "NGX104", "NGX105"]),
        ([layer(select=["NGX102"]), layer("cli", ignore=("NGX1",))], []),
        ([layer(select=["NGX102"]), layer("cli", extend=("NGX104",))], ["NGX102", "NGX104"]),
        ([layer(select=["NGX102"], ignore=("NGX104",)), layer("cli", extend=("NGX10",))], SESSION),
    ],
)
def test_layers_resolve_as_in_ruff(layers: list[RuleSelection], expected: list[str]) -> None:
    resolution = Resolution(layers)
    assert [code for code in SESSION if resolution.selects(code)] == list(expected)


def test_an_opt_in_rule_runs_only_where_a_selector_names_it() -> None:
    assert not Resolution([layer(select=["ALL"])]).selects("TLS001")
    assert not Resolution([layer(select=["TLS"])]).selects("TLS001")
    assert Resolution([layer(select=["ALL", "TLS001"])]).selects("TLS001")
    assert Resolution([layer(), layer("cli", extend=("unused-suppression",))]).selects("TLS001")
    assert not Resolution([layer(select=["TLS001"]), layer("cli", select=["ALL"])]).selects("TLS001")


# --- on the command line ----------------------------------------------------------------


def project(tmp_path: Path, settings: str) -> Path:
    (tmp_path / ".tlslint.toml").write_text(settings + '[nginx]\nversion = "1.22"\n', encoding="utf-8")
    (tmp_path / "a.conf").write_text(SITE, encoding="utf-8")
    return tmp_path


def reported(result: subprocess.CompletedProcess[str]) -> list[str]:
    return sorted({line.split()[1] for line in result.stdout.splitlines() if line.startswith("a.conf:")})


def test_select_on_the_command_line_overrides_the_files_ignore(tmp_path: Path) -> None:
    project(tmp_path, 'ignore = ["NGX102"]\n')
    assert "NGX102" not in reported(cli(tmp_path, "-q", "a.conf"))
    result = cli(tmp_path, "-q", "--select", "NGX102", "a.conf")
    assert result.returncode == 1 and reported(result) == ["NGX102"], result.stdout + result.stderr
    # Only the same command line's --ignore takes it away again (an error: nothing left).
    assert reported(cli(tmp_path, "-q", "--select", "NGX102,NGX104", "--ignore", "NGX104", "a.conf")) == [
        "NGX102"
    ]
    # --extend-select adds to the file's selection; --ignore removes from it.
    extended = reported(cli(tmp_path, "-q", "--extend-select", "NGX102", "a.conf"))
    assert {"NGX102", "NGX104", "NGX105"} <= set(extended)
    assert reported(cli(tmp_path, "-q", "--select", "NGX1", "--ignore", "NGX104", "a.conf")) == [
        "NGX102",
        "NGX105",
    ]
    shown = cli(tmp_path, "--select", "NGX102", "--show-settings", "a.conf").stdout
    assert 'ignore = ["NGX102"]' in shown and "# command line, over the lines above: --select NGX102" in shown
    assert "# rules that run (4 of " in shown and "NGX001, NGX003, NGX102" in shown  # with the loading rules
    assert "# reported whatever the selection, for what does not load: NGX001, NGX002, NGX003, " in shown


REPEATED = ["--ignore", "NGX104", "--ignore", "NGX105,NGX4", "--select", "NGX1", "--select", "NGX2"]
REPEATED += ["--extend-select", "TLS001", "--extend-select", "NGX3"]


@pytest.mark.parametrize("command", ["check", "probe", "logs"])
def test_repeated_selectors_add_up_as_in_ruff(tmp_path: Path, command: str) -> None:
    # pre-commit users write `args: [--ignore, NGX104, --ignore, NGX105]`: both apply.
    from tlslint import cli as cli_module

    seen: list[dict[str, object]] = []
    runner = {"check": "tlslint.check_command.run_check", "probe": "tlslint.live.command.run_probe",
              "logs": "tlslint.logs.command.run_logs"}[command]  # fmt: skip
    module, name = runner.rsplit(".", 1)
    extra = {"check": ["a.conf"], "probe": ["example.com"], "logs": ["a.log"]}[command]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(__import__(module, fromlist=[name]), name, lambda *a, **k: seen.append(k) or 0)
        with pytest.raises(SystemExit):
            cli_module.main([command, *REPEATED, *extra])
    given = command_line(seen[0]["select"], seen[0]["extend_select"], seen[0]["ignore"])  # type: ignore[arg-type]
    assert given == RuleSelection(
        ("NGX1", "NGX2"), ("TLS001", "NGX3"), ("NGX104", "NGX105", "NGX4"), "command line"
    )


def test_repeated_ignores_on_the_command_line(tmp_path: Path) -> None:
    project(tmp_path, "")
    found = reported(cli(tmp_path, "-q", "--ignore", "NGX104", "--ignore", "NGX105", "a.conf"))
    assert "NGX102" in found and not {"NGX104", "NGX105"} & set(found), found
    shown = cli(tmp_path, "--show-settings", "--ignore", "NGX104", "--ignore", "NGX101", "a.conf").stdout
    assert "# command line, over the lines above: --ignore NGX104,NGX101" in shown
    assert re.search(r"^# rules that run .*: all but NGX101, NGX104, TLS001$", shown, re.M), shown


def test_per_file_ignores_hold_whatever_the_command_line_selects(tmp_path: Path) -> None:
    project(tmp_path, '[per-file-ignores]\n"a.conf" = ["NGX102"]\n')
    assert reported(cli(tmp_path, "-q", "--select", "NGX102,NGX104", "a.conf")) == ["NGX104"]


def test_selection_in_the_settings_file(tmp_path: Path) -> None:
    def found(mapping: dict[str, object]) -> list[str]:
        return [c for c in codes(check_files(tmp_path, {"a.conf": SITE}, {**OLD, **mapping})) if c in SESSION]

    assert found({"select": ["NGX102"], "ignore": ["NGX1"]}) == ["NGX102"]
    assert found({"select": [], "extend-select": ["NGX104"]}) == ["NGX104"]
    assert found({"ignore": ["NGX1"], "extend-select": ["NGX105"]}) == ["NGX105"]


@pytest.mark.parametrize(
    ("settings", "args", "said"),
    [
        ("", ("--select", ""), "--select '' names no rule, so nothing would be checked"),
        ("", ("--select", " , "), "--select ' , ' names no rule"),
        ("select = []\n", (), "'select' is empty, so no rule would run (leave it out to run every rule)"),
        ('select = [""]\n', (), "'select': '' names no rule"),
        ("", ("--ignore", "ALL"), "nothing would be checked: ignore = [ALL] (command line)"),
        (
            'ignore = ["NGX104"]\n',
            ("--select", "NGX102", "--ignore", "NGX102"),
            "no rule would run, so nothing would be checked: select = [NGX102] (command line), "
            "ignore = [NGX102] (command line)",
        ),
        ('ignore = ["NGX", "APG", "BKD", "GW", "ING", "LIV", "LOG", "RND", "SRC"]\n', (), "no rule"),
    ],
)  # fmt: skip
def test_a_selection_that_runs_no_rule_is_an_error(
    tmp_path: Path, settings: str, args: tuple[str, ...], said: str
) -> None:
    project(tmp_path, settings)
    result = cli(tmp_path, *args, "a.conf")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == "" and "All checks passed" not in result.stderr
    assert result.stderr.startswith("tlslint: ") and said in result.stderr, result.stderr
    if not args:  # the settings file's own mistake: named
        assert str(tmp_path / ".tlslint.toml") in result.stderr


def test_selections_that_run_a_rule_are_not_empty() -> None:
    require_some([layer(select=["NGX001"])])  # the loading rule, asked for
    require_some([layer(select=[]), layer("cli", extend=("NGX102",))])
    with pytest.raises(SelectionError):
        require_some([layer(select=["TLS"])])  # an opt-in rule is not run by a prefix
    assert command_line(None, None, "") == RuleSelection(None, (), (), "command line")  # ignores nothing


def test_probe_and_logs_layer_their_options_alike(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".tlslint.toml").write_text('ignore = ["LOG102"]\n', encoding="utf-8")
    assert not load_rule_settings(None, None, None, None).enabled("LOG102")
    assert load_rule_settings(None, "LOG102", None, None).enabled("LOG102")
    assert load_rule_settings(None, None, None, None, extend_select="LOG102").enabled("LOG102")
    for select in ("", "LOG1O2"):
        with pytest.raises(UsageError):
            load_rule_settings(None, select, None, None)
