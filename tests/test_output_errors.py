"""Usage errors that used to end as "internal error ... please report it": `probe --timeout`
that is not a finite number of seconds, and `logs -o` into a path that cannot be a file."""

from __future__ import annotations

from pathlib import Path

import loggen
import pytest
from helpers import cli_in_process as tlslint


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no settings file from the checkout


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "0", "-1", "3601"])
def test_probe_timeout_must_be_finite_positive_and_bounded(
    capsys: pytest.CaptureFixture[str], value: str
) -> None:
    # No network: the option is refused before anything is resolved or connected.
    code, out, err = tlslint(capsys, "probe", "127.0.0.1:9", "--timeout", value)
    assert code == 2 and out == ""
    assert err == "tlslint: --timeout must be a number of seconds above 0 and at most 3600\n", err


def test_logs_output_that_cannot_be_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "access.log"
    with log.open("w", encoding="utf-8") as stream:
        loggen.generate_nginx(loggen.Spec(minutes=3, spikes={}, flooders={}), stream)
    (tmp_path / "a-directory").mkdir()
    cases = {
        "missing/x.html": "cannot write missing/x.html: no such directory missing",
        "a-directory": "cannot write a-directory: it is a directory",
    }
    if Path("/dev/full").exists():  # passes the checks before the analysis, fails while writing
        cases["/dev/full"] = "cannot write /dev/full: No space left on device"
    for target, message in cases.items():
        code, out, err = tlslint(capsys, "logs", str(log.name), "--format", "html", "-o", target)
        assert (code, out, err) == (2, "", f"tlslint: {message}\n"), target
    code, out, err = tlslint(capsys, "logs", str(log.name), "--format", "html", "-o", "report.html")
    assert code in (0, 1) and out == "" and "internal error" not in err
    assert (tmp_path / "report.html").read_text().startswith("<!DOCTYPE html>")
