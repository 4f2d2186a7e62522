"""``tlslint logs`` against generated logs whose ground truth is known (tests/loggen.py).

The numbers the analyser reports must equal the generator's counts exactly; the
spikes and flooding clients the generator injected must be found, and nothing else.
The HTML report is opened in a real headless Chromium (skipped where absent).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import loggen
import pytest
from helpers import cli_in_process as tlslint

from tlslint import catalogue
from tlslint.logs import analysis as analysis_module
from tlslint.logs.analysis import CappedCounter, find_spikes, percentile95
from tlslint.logs.formats import (
    BUILTIN_FORMATS,
    RECOMMENDED_LOG_FORMAT,
    FormatError,
    TimeParser,
    compile_text_format,
    detect,
    from_log_format,
    parse_log_format,
    strip_port,
)

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 10


def logs_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = tlslint(capsys, "logs", "--format", "json", *args)
    assert out, err
    return code, json.loads(out)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # settings are searched from the working directory


_GENERATED: dict[str, tuple[Path, loggen.Truth]] = {}


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated-logs")


def write_nginx(path: Path, spec: loggen.Spec) -> loggen.Truth:
    """Write the log of ``spec`` to ``path``; each spec is generated once per session, then copied."""
    key = repr(spec)
    if key not in _GENERATED:
        source = Path(os.environ.get("TLSLINT_LOGGEN_DIR", path.parent)) / f"gen-{len(_GENERATED)}.log"
        with source.open("w", encoding="utf-8") as stream:
            _GENERATED[key] = (source, loggen.generate_nginx(spec, stream))
    source, truth = _GENERATED[key]
    shutil.copyfile(source, path)
    return truth


@pytest.fixture(autouse=True)
def _generated_logs_dir(generated_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TLSLINT_LOGGEN_DIR", str(generated_dir))


# --------------------------------------------------------------------------- ground truth


@pytest.mark.parametrize("fmt", ["tls+sni", "tls", "tls-compact"])
def test_nginx_numbers_match_the_ground_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    spec = loggen.Spec(format=fmt)
    truth = write_nginx(tmp_path / "access.log", spec)
    code, doc = logs_json(capsys, "access.log")
    logs = doc["logs"]
    assert code == 1
    assert logs["files"][0]["format"]["name"] == fmt
    assert logs["files"][0]["lines"] == truth.lines == logs["files"][0]["entries"]
    assert logs["files"][0]["unparsed"] == 0
    assert logs["connections"] == truth.connections
    assert logs["resumed"] == truth.resumed
    assert logs["full_handshakes"] == truth.full
    assert logs["exact_connections"] is (fmt != "tls-compact")
    assert [w["full_handshakes"] for w in logs["windows"]] == truth.full_per_minute
    assert len(logs["windows"]) == spec.minutes

    # Spikes: exactly the injected minutes.
    starts = [s["start"] for s in logs["spikes"]]
    assert starts == [f"2026-11-22T10:{m:02d}:00Z" for m in sorted(spec.spikes)]
    assert [s["full_handshakes"] for s in logs["spikes"]] == [
        truth.full_per_minute[m] for m in sorted(spec.spikes)
    ]
    assert logs["baseline"]["source"] == "rest"
    assert logs["baseline"]["windows"] == spec.minutes - len(spec.spikes)  # the windows without a spike
    assert {s["threshold"] for s in logs["spikes"]} == {logs["baseline"]["threshold"]}

    # Flooding clients: exactly the injected ones, with their true counts.
    offenders = {o["client"]: (o["max_per_minute"], o["minutes_over"]) for o in logs["clients"]["offenders"]}
    assert offenders == truth.offenders(LIMIT)
    assert set(offenders) == set(spec.flooders)
    top = {c["client"]: c["full_handshakes"] for c in logs["clients"]["top"]}
    for client, count in top.items():
        assert count == truth.client_full[client]
    assert logs["clients"]["exact"] and logs["clients"]["per_minute_exact"]

    findings = doc["findings"]
    by_code: dict[str, list[dict[str, Any]]] = {}
    for finding in findings:
        by_code.setdefault(finding["code"], []).append(finding)
    # LOG102 is per server name here (legacy.example.com); the `tls` format logs no names.
    assert sorted(by_code) == (["LOG103", "LOG104"] if fmt == "tls" else ["LOG102", "LOG103", "LOG104"])
    # LOG103 points at the first line of each spike window.
    assert [f["line"] for f in by_code["LOG103"]] == [truth.minute_first_line[m] for m in sorted(spec.spikes)]
    # LOG104 points at the handshake that took the client over the limit.
    lines = {f["anchor"]: f["line"] for f in by_code["LOG104"]}
    assert lines == {f"client[{c}]": truth.crossing_line(c, LIMIT) for c in spec.flooders}
    assert all(f["path"] == "access.log" for f in findings)


def test_reuse_per_server_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = loggen.Spec()
    truth = write_nginx(tmp_path / "access.log", spec)
    _, doc = logs_json(capsys, "access.log")
    names = {n["name"]: (n["connections"], n["resumed"]) for n in doc["logs"]["server_names"]}
    assert names == {name: tuple(counts) for name, counts in truth.names.items()}
    reuse = [f for f in doc["findings"] if f["code"] == "LOG102"]
    # Overall 57% resumed passes the 50% default; legacy.example.com (about 20%) does not.
    assert [f["anchor"] for f in reuse] == ["session-reuse[legacy.example.com]"]
    connections, resumed = truth.names["legacy.example.com"]
    assert f"{1 - resumed / connections:.0%} of {connections} TLS connections" in reuse[0]["message"]
    assert reuse[0]["line"] == truth.name_first_full_line["legacy.example.com"]


def test_rotated_gzip_files_in_any_order_give_the_same_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_nginx(tmp_path / "whole.log", loggen.Spec())
    lines = (tmp_path / "whole.log").read_text().splitlines(keepends=True)
    half = len(lines) // 2
    with gzip.open(tmp_path / "access.log.1.gz", "wt") as stream:
        stream.writelines(lines[:half])
    (tmp_path / "access.log").write_text("".join(lines[half:]))
    _, whole = logs_json(capsys, "whole.log")
    _, split = logs_json(capsys, "access.log", "access.log.1.gz")  # newest first
    assert [f["compression"] for f in split["logs"]["files"]] == ["gzip", None]  # read oldest first
    for key in ("connections", "resumed", "full_handshakes", "windows", "spikes", "server_names"):
        assert split["logs"][key] == whole["logs"][key], key
    assert split["logs"]["clients"]["offenders"] == whole["logs"]["clients"]["offenders"]
    assert split["logs"]["clients"]["late_entries"] == 0


def test_empty_rotated_file_is_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_nginx(tmp_path / "access.log.1", loggen.Spec())
    (tmp_path / "access.log").write_text("")  # just rotated
    alone_code, alone = logs_json(capsys, "access.log.1")
    code, doc = logs_json(capsys, "access.log", "access.log.1")
    assert code == alone_code == 1  # the findings decide, as without the empty file
    assert doc["findings"] == alone["findings"]
    assert "access.log: empty (no log lines), nothing to read" in doc["logs"]["notes"]


def test_files_of_one_period_are_merged_by_time(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # One file per node over the same hour: per-client minutes must add up across them.
    write_nginx(tmp_path / "whole.log", loggen.Spec())
    lines = (tmp_path / "whole.log").read_text().splitlines(keepends=True)
    (tmp_path / "node1.log").write_text("".join(lines[0::2]))
    (tmp_path / "node2.log").write_text("".join(lines[1::2]))
    _, whole = logs_json(capsys, "whole.log")
    _, nodes = logs_json(capsys, "node2.log", "node1.log")
    for key in ("connections", "resumed", "full_handshakes", "windows", "spikes", "server_names"):
        assert nodes["logs"][key] == whole["logs"][key], key
    for key in ("top", "offenders", "late_entries"):
        assert nodes["logs"]["clients"][key] == whole["logs"]["clients"][key], key
    assert nodes["logs"]["clients"]["late_entries"] == 0
    assert [f["code"] for f in nodes["findings"]] == [f["code"] for f in whole["findings"]]
    assert sum(f["entries"] for f in nodes["logs"]["files"]) == len(lines)
    assert {f["lines"] for f in nodes["logs"]["files"]} == {len(lines[0::2]), len(lines[1::2])}


def _stray(line: str, day: str) -> str:
    """``line`` dated ``day`` (dd/Mon/yyyy) instead."""
    return re.sub(r"\[\d\d/\w{3}/\d{4}:", f"[{day}:", line, count=1)


@pytest.mark.parametrize("day", ["21/Nov/2026", "22/Nov/1990"])
def test_a_stray_line_far_away_is_a_break_not_empty_windows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], day: str
) -> None:
    spec = loggen.Spec()
    write_nginx(tmp_path / "hour.log", spec)
    lines = (tmp_path / "hour.log").read_text().splitlines(keepends=True)
    (tmp_path / "stray.log").write_text(_stray(lines[0], day) + "".join(lines))
    _, alone = logs_json(capsys, "hour.log")
    started = time.perf_counter()
    _, doc = logs_json(capsys, "stray.log")
    assert time.perf_counter() - started < 5  # 1990: 19 million empty windows were built before
    logs = doc["logs"]
    assert len(logs["windows"]) == spec.minutes + 1  # only windows with entries, no gap of zeros
    assert logs["windows"][0]["start"] == f"{day[7:]}-11-{day[:2]}T10:00:00Z"
    assert [b["entries_before"] for b in logs["breaks"]] == [1]
    assert any(
        n.startswith(f"no entries from {day[7:]}-11-{day[:2]}T10:01:00Z to 2026-11-22T10:00:00Z")
        for n in logs["notes"]
    )
    # The baseline is the hour's: the same spikes as the hour alone, nothing else flagged.
    assert [s["start"] for s in logs["spikes"]] == [s["start"] for s in alone["logs"]["spikes"]]
    assert sorted(f["anchor"] for f in doc["findings"]) == sorted(f["anchor"] for f in alone["findings"])


def test_quiet_windows_inside_a_stretch_count_as_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_nginx(tmp_path / "hour.log", loggen.Spec(spikes={}, flooders={}))
    lines = (tmp_path / "hour.log").read_text().splitlines(keepends=True)
    quiet = [line for line in lines if not re.search(r":10:(1\d|2\d):", line)]  # 20 empty minutes
    (tmp_path / "quiet.log").write_text("".join(quiet))
    _, doc = logs_json(capsys, "quiet.log")
    windows = doc["logs"]["windows"]
    assert len(windows) == 60 and not doc["logs"]["breaks"]
    assert [w["entries"] for w in windows[10:30]] == [0] * 20


def test_unreadable_times_are_lines_not_understood(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = [
        json.dumps({"time": 1795341600 + 60 * i, "remote_addr": "10.0.0.1", "ssl_session_reused": "r"})
        for i in range(20)
    ]
    odd = ['{"time": "nan", "remote_addr": "10.0.0.2"}', '{"time": "1e400", "remote_addr": "10.0.0.2"}',
           '{"time": 1e30, "remote_addr": "10.0.0.2"}']  # fmt: skip
    micro = json.dumps({"time": 1795341600123456, "remote_addr": "10.0.0.3", "ssl_session_reused": "."})
    (tmp_path / "odd.json").write_text("\n".join(good[:10] + odd + [micro] + good[10:]) + "\n")
    code, doc = logs_json(capsys, "odd.json")
    assert code in (0, 1)
    stats = doc["logs"]["files"][0]
    assert stats["unparsed"] == 3 and stats["first_unparsed_line"] == 11
    assert stats["entries"] == 21 and stats["last"] == "2026-11-22T10:19:00Z"
    assert doc["logs"]["windows"][0]["full_handshakes"] == 1  # the microsecond line, 10:00:00.123


def test_baseline_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_nginx(tmp_path / "normal.log", loggen.Spec(seed=21, spikes={}, flooders={}))
    incident = loggen.Spec(seed=22, minutes=12, spikes={5: 900}, flooders={})
    truth = write_nginx(tmp_path / "incident.log", incident)
    _, doc = logs_json(capsys, "incident.log", "--baseline", "normal.log")
    logs = doc["logs"]
    assert logs["baseline"]["source"] == "file" and logs["baseline"]["windows"] == 60
    assert [s["start"] for s in logs["spikes"]] == ["2026-11-22T10:05:00Z"]
    assert logs["spikes"][0]["full_handshakes"] == truth.full_per_minute[5]
    # Without the baseline, 12 windows are still enough (min-windows 10).
    _, alone = logs_json(capsys, "incident.log")
    assert [s["start"] for s in alone["logs"]["spikes"]] == ["2026-11-22T10:05:00Z"]


def test_a_baseline_that_counts_no_full_handshake_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A combined-format baseline has no $ssl_session_reused: as a baseline of zeros it made
    every window of the checked log a spike."""
    incident = loggen.Spec(seed=22, minutes=12, spikes={5: 900}, flooders={})
    write_nginx(tmp_path / "incident.log", incident)
    plain = [
        f'203.0.113.{n % 50} - - [22/Nov/2026:09:{n % 60:02d}:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8"'
        for n in range(600)
    ]
    (tmp_path / "combined.log").write_text("\n".join(sorted(plain, key=lambda line: line[26:28])) + "\n")
    code, out, err = tlslint(capsys, "logs", "--format", "json", "incident.log", "--baseline", "combined.log")
    assert code == 2
    assert "--baseline: the log has no session-reuse field" in err
    spikes = json.loads(out)["logs"]["spikes"]
    assert [s["start"] for s in spikes] == ["2026-11-22T10:05:00Z"]  # not every window


def test_since_and_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    truth = write_nginx(tmp_path / "access.log", loggen.Spec())
    _, doc = logs_json(capsys, "access.log", "--since", "2026-11-22T10:30:00Z", "--window", "5m")
    logs = doc["logs"]
    assert logs["window_seconds"] == 300
    assert len(logs["windows"]) == 6
    assert [w["full_handshakes"] for w in logs["windows"]] == [
        sum(truth.full_per_minute[m : m + 5]) for m in range(30, 60, 5)
    ]
    assert logs["files"][0]["before_since"] > 0


def test_envoy_non_sni_resets_match_the_ground_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = loggen.EnvoySpec()
    with (tmp_path / "ingress.log").open("w") as stream:
        truth = loggen.generate_envoy(spec, stream)
    code, doc = logs_json(capsys, "ingress.log")
    resets = doc["logs"]["non_sni_resets"]
    assert code == 1
    assert resets["count"] == truth.resets == sum(len(m) for m in spec.resets.values())
    assert resets["first"] == truth.first and resets["last"] == truth.last
    assert {c["client"]: c["count"] for c in resets["top_clients"]} == dict(truth.clients)
    assert doc["logs"]["unknown_sni_resets"]["count"] == truth.unknown_sni
    (finding,) = doc["findings"]
    assert finding["code"] == "LOG101" and finding["line"] == truth.first_line
    assert finding["message"].startswith(f"{truth.resets} TLS connections without SNI")
    assert "10.138.0.28 (5)" in finding["message"]
    assert doc["logs"]["files"][0]["format"]["name"] == "envoy-json"


def test_pretty_printed_apigee_entry_from_the_guide(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = """{
  "request_time": 1,
  "tls_protocol": null,
  "start_time": "2025-05-19T04:46:20.117Z",
  "bytes_received": 0,
  "remote_address": "10.138.0.28:19432",
  "status_details": "filter_chain_not_found",
  "request": "- - -",
  "status": 0,
  "upstream_response_flags": "NR",
  "sni_host": null
}
"""
    (tmp_path / "ingress.log").write_text(sample)
    code, doc = logs_json(capsys, "ingress.log")
    assert code == 1
    assert doc["logs"]["non_sni_resets"]["count"] == 1
    assert doc["findings"][0]["line"] == 1


def test_cloud_logging_export_is_unwrapped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = {
        "insertId": "x",
        "jsonPayload": {
            "remote_address": "10.1.1.1:5",
            "status_details": "filter_chain_not_found",
            "sni_host": None,
        },
        "timestamp": "2025-05-19T04:46:20.117Z",
    }
    (tmp_path / "export.json").write_text(json.dumps(entry) + "\n")
    _, doc = logs_json(capsys, "export.json")
    assert doc["logs"]["non_sni_resets"]["top_clients"] == [{"client": "10.1.1.1", "count": 1}]


# --------------------------------------------------------------------------- formats


def test_recommended_format_is_ngx401s() -> None:
    """The format NGX401's page recommends is the one the reader knows as `tls`."""
    ngx401 = catalogue.load_entries()["NGX401"]["fix"]
    block = re.search(r"```nginx\n(log_format tls .*?;)\n", ngx401, re.S)
    assert block is not None
    assert parse_log_format(block.group(1))[0] == BUILTIN_FORMATS["tls"]
    assert parse_log_format(RECOMMENDED_LOG_FORMAT)[0] == BUILTIN_FORMATS["tls"]


def test_log_format_option_compiles_any_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directive = (
        "log_format edge '$time_iso8601 $remote_addr \"$request\" $ssl_session_reused $connection_requests';"
    )
    lines = [
        '2026-11-22T10:00:01+00:00 192.0.2.1 "GET / HTTP/1.1" . 1\n',
        '2026-11-22T10:00:02+00:00 192.0.2.1 "GET /a b HTTP/1.1" . 2\n',
        '2026-11-22T10:00:03+00:00 192.0.2.2 "GET / HTTP/1.1" r 1\n',
        "garbage\n",
    ]
    (tmp_path / "edge.log").write_text("".join(lines))
    code, doc = logs_json(capsys, "edge.log", "--log-format", directive)
    logs = doc["logs"]
    assert (logs["connections"], logs["resumed"], logs["full_handshakes"]) == (2, 1, 1)
    assert logs["files"][0]["unparsed"] == 1 and logs["files"][0]["first_unparsed_line"] == 4
    assert code == 0
    # Without --log-format, the file is refused with a hint.
    code, _out, err = tlslint(capsys, "logs", "edge.log")
    assert code == 2 and "--log-format" in err


def test_escape_json_log_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directive = (
        'log_format j escape=json \'{"t":"$time_local","ip":"$remote_addr",'
        '"reused":"$ssl_session_reused","n":$connection_requests,"sni":"$ssl_server_name"}\';'
    )
    line = '{"t":"22/Nov/2026:10:00:00 +0100","ip":"192.0.2.9","reused":".","n":1,"sni":"a.example"}\n'
    (tmp_path / "j.log").write_text(line * 3)
    _, doc = logs_json(capsys, "j.log", "--log-format", directive)
    logs = doc["logs"]
    assert logs["full_handshakes"] == 3 and logs["windows"][0]["start"] == "2026-11-22T09:00:00Z"
    assert logs["server_names"][0]["name"] == "a.example"


def test_compiled_pattern_handles_spaces_quotes_and_adjacent_variables() -> None:
    pattern, captured = compile_text_format(
        '$remote_addr [$time_local] "$http_user_agent" $ssl_protocol/$ssl_cipher'
    )
    match = pattern.match(
        '::1 [22/Nov/2026:10:00:00 +0000] "Mozilla/5.0 (X11) \\x22q\\x22" TLSv1.3/TLS_AES\n'
    )
    assert match is not None and captured == ["remote_addr", "time_local", "ssl_protocol"]
    assert match.groups() == ("::1", "22/Nov/2026:10:00:00 +0000", "TLSv1.3")
    fmt = from_log_format("$msec $remote_addr $ssl_session_reused")
    entry = next(iter(fmt.read(["1795341600.5 192.0.2.1 r\n"])))[1]
    assert entry is not None and entry.time == 1795341600.5 and entry.reused is True
    with pytest.raises(FormatError, match="no time variable"):
        from_log_format("$remote_addr $ssl_session_reused")


def test_time_parsing() -> None:
    times = TimeParser()
    assert times.time_local("22/Nov/2026:10:00:05 +0000") == 1795341605
    assert times.time_local("22/Nov/2026:11:00:05 +0100") == 1795341605
    assert times.time_local("22/Nov/2026:05:30:05 -0430") == 1795341605
    assert times.time_local("22/Foo/2026:10:00:05 +0000") is None
    assert TimeParser.iso("2026-11-22T10:00:05Z") == 1795341605
    assert TimeParser.iso("2026-11-22T10:00:05.250+00:00") == 1795341605.25
    assert TimeParser.iso("2026-11-22T10:00:05") == 1795341605  # no zone: UTC
    assert times.any(1795341605000) == 1795341605  # milliseconds
    assert times.any(1795341605 * 10**9) == 1795341605  # nanoseconds
    assert times.any(1795341605 * 10**6) == 1795341605  # microseconds
    assert times.any("1795341605123456") == 1795341605.123456
    assert times.any(99999999999) == 99999999999  # seconds up to year 5138
    for unreadable in ("nan", "1e400", "inf", "-1", 1e30, float("nan"), "-5"):
        assert times.any(unreadable) is None, unreadable
    assert times.time_local("22/Nov/0000:10:00:05 +0000") is None  # year 0: no datetime
    assert TimeParser.iso("0001-01-01T00:00:00+01:00") is None  # before year 1 in UTC
    assert times.any("-") is None
    assert strip_port("10.0.0.1:443") == "10.0.0.1"
    assert strip_port("[2001:db8::1]:443") == "2001:db8::1"
    assert strip_port("2001:db8::1") == "2001:db8::1"


def test_detection_prefers_the_most_specific_builtin_format() -> None:
    line = (
        '192.0.2.1 - - [22/Nov/2026:10:00:05 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" TLSv1.3 '
        "TLS_AES_128_GCM_SHA256 r conn=5 reqs=1 rt=0.001 uct=0.001, 0.002 sni=api.example.com\n"
    )
    fmt = detect([line])
    assert fmt.name == "tls+uct+sni"
    assert detect([line.replace(" uct=0.001, 0.002", "")]).name == "tls+sni"
    assert detect([line.replace(" sni=api.example.com", "")]).name == "tls+uct"
    entry = next(iter(fmt.read([line])))[1]
    assert entry is not None and entry.server_name == "api.example.com" and entry.first_request is True
    combined = '192.0.2.1 - - [22/Nov/2026:10:00:05 +0000] "GET / HTTP/1.1" 200 1 "-" "curl"\n'
    assert detect([combined]).name == "combined" and not detect([combined]).has_reuse


# --------------------------------------------------------------------------- bounded memory


def test_counters_stay_within_their_caps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With tiny caps, the maps stay bounded, the flooders are still exact, and the report says so."""
    monkeypatch.setattr(analysis_module, "CLIENT_CAP", 200)
    monkeypatch.setattr(analysis_module, "MINUTE_CAP", 300)
    truth = write_nginx(
        tmp_path / "access.log", loggen.Spec(minutes=20, spikes={}, flooders={"203.0.113.66": {3: 60}})
    )
    _, doc = logs_json(capsys, "access.log")
    clients = doc["logs"]["clients"]
    assert not clients["exact"] and clients["error_bound"] > 0
    assert clients["top"][0] == {"client": "203.0.113.66", "full_handshakes": 60}
    assert truth.client_full["203.0.113.66"] == 60
    assert [o["client"] for o in clients["offenders"]] == ["203.0.113.66"]
    assert any("lower bounds" in note for note in doc["logs"]["notes"])


def test_capped_counter() -> None:
    counter = CappedCounter(4)
    for key, times in (("a", 10), ("b", 5), ("c", 1), ("d", 1), ("e", 1)):
        for _ in range(times):
            counter.add(key)
    assert len(counter) <= 4 and counter.top(2) == [("a", 10), ("b", 5)]
    assert not counter.exact and counter.dropped_max == 1


def test_find_spikes_baseline_excludes_spikes_and_methods() -> None:
    quiet = [100, 104, 96, 101, 99, 103, 97, 100, 102, 98] * 3
    counts = [*quiet[:15], 400, *quiet[15:]]
    summary, spikes = find_spikes(counts, None)
    assert summary is not None and [s.window for s in spikes] == [15]
    assert spikes[0].mean == pytest.approx(100)  # the spike is not in its own baseline
    assert summary.windows == 30 and summary.threshold == spikes[0].threshold == 208  # 2 x p95 104
    # Two spikes of different heights do not hide each other.
    two = [*quiet, 1000, *quiet, 250]
    assert [s.window for s in find_spikes(two, None)[1]] == [30, 61]
    # With a baseline file, every window is judged by its threshold.
    assert [s.window for s in find_spikes([150, 300], quiet)[1]] == [1]
    assert percentile95(sorted(range(1, 101))) == 95
    # With "either", a mildly high window over mean + 3 sigma fires; with "both" it does not.
    mild = [*quiet, 112]
    assert [s.window for s in find_spikes(mild, None, method="either")[1]] == [30]
    assert find_spikes(mild, None, method="both")[1] == []
    assert find_spikes(counts[:5], None) == (None, [])  # too few windows
    assert find_spikes([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 9], None)[1] == []  # below min-handshakes


# --------------------------------------------------------------------------- CLI behaviour


def test_exit_codes_and_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_nginx(tmp_path / "access.log", loggen.Spec(minutes=30))  # one spike, one flooder
    assert tlslint(capsys, "logs", "access.log")[0] == 1
    assert tlslint(capsys, "logs", "access.log", "--fail-on", "error")[0] == 0
    assert tlslint(capsys, "logs", "access.log", "--ignore", "LOG1")[0] == 0
    code, out, err = tlslint(capsys, "logs", "access.log", "missing.log")
    assert code == 2 and "missing.log: no such file or directory" in err
    assert tlslint(capsys, "logs", "access.log", "--window", "1x")[0] == 2
    assert tlslint(capsys, "logs", "access.log", "--since", "yesterday")[0] == 2
    (tmp_path / "empty.log").write_text("")
    code, out, err = tlslint(capsys, "logs", "empty.log")  # read, and nothing in it: a note
    assert code == 0 and "note: empty.log: empty (no log lines), nothing to read" in out and not err
    (tmp_path / "garbage.log").write_text("hello\nworld\n")
    assert tlslint(capsys, "logs", "garbage.log")[0] == 2  # an unknown format stays a usage error

    code, out, _ = tlslint(capsys, "logs", "access.log", "--format", "sarif")
    result = json.loads(out)["runs"][0]["results"][0]
    region = result["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "access.log" and region["region"]["startLine"] > 0
    code, out, _ = tlslint(capsys, "logs", "access.log", "--format", "github")
    assert out.startswith("::warning file=access.log,line=")

    code, out, _ = tlslint(capsys, "logs", "access.log")
    assert "full handshakes per 1m window (30 windows" in out and "^ marks a spike" in out
    assert re.search(r"^  \|[▁▂▃▄▅▆▇█ ]{30}\|$", out, re.M)
    assert re.search(r"^ {20}\^$", out, re.M)  # under minute 17
    assert "Found 3 findings (3 warnings) in 1 log file." in out

    settings = tmp_path / ".tlslint.toml"
    settings.write_text("[rules.LOG104]\nper-client-limit = 100\n")
    _, doc = logs_json(capsys, "access.log")
    assert not doc["logs"]["clients"]["offenders"]
    assert tlslint(capsys, "logs", "access.log", "--per-client-limit", "30", "--select", "LOG104")[0] == 1


# --------------------------------------------------------------------------- catalogue


LOG_EXAMPLES = [
    pytest.param(code, index, example, id=f"{code}-{index}-{'bad' if 'bad' in example else 'good'}")
    for code, entry in catalogue.load_entries().items()
    if entry["target"] == "logs"
    for index, example in enumerate(entry["examples"])
]


def _toml(settings: dict[str, Any]) -> str:
    out = []
    for code, options in settings.get("rules", {}).items():
        out.append(f"[rules.{code}]")
        out += [f"{name} = {json.dumps(value)}" for name, value in options.items()]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize(("code", "index", "example"), LOG_EXAMPLES)
def test_catalogue_log_examples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], code: str, index: int, example: dict[str, Any]
) -> None:
    """Every logs example through the analyser: bad raises the code, good does not."""
    (tmp_path / ".tlslint.toml").write_text(_toml(example.get("settings", {})))
    key = "bad" if "bad" in example else "good"
    (tmp_path / "example.log").write_text(example[key])
    status, doc = logs_json(capsys, "example.log", "--select", code)
    codes = [f["code"] for f in doc["findings"]]
    assert sum(f["unparsed"] for f in doc["logs"]["files"]) == 0
    if key == "bad":
        assert code in codes and status == 1
    else:
        assert code not in codes and status == 0


def test_every_logs_and_live_rule_is_documented() -> None:
    text = (ROOT / "docs" / "probe-and-logs.md").read_text()
    for code, entry in catalogue.load_entries().items():
        if entry["target"] in ("logs", "live"):
            assert code in text, code


# --------------------------------------------------------------------------- HTML in a browser


def chromium() -> str | None:
    return next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)


class _Bars(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.svg: str | None = None
        self.bars: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "svg":
            self.svg = values.get("id")
        elif tag == "rect" and self.svg is not None:
            self.bars.setdefault(self.svg, []).append(values.get("class") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.svg = None


def _browser(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(profile)}, start_new_session=True,
    )  # fmt: skip


def test_html_report_renders_in_chromium(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = loggen.Spec()
    write_nginx(tmp_path / "access.log", spec)
    code, out, _ = tlslint(capsys, "logs", "access.log", "--format", "html", "--output", "report.html")
    assert code == 1 and out == ""
    page = (tmp_path / "report.html").read_text()
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    binary = chromium()
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    url = (tmp_path / "report.html").as_uri()
    dumped = _browser(binary, tmp_path / "profile", "--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    bars = _Bars()
    bars.feed(dumped.stdout)
    chart = bars.bars["chart"]
    assert len(chart) == spec.minutes  # one bar per window
    assert sum("spike" in css.split() for css in chart) == len(spec.spikes)
    assert "TLS handshakes in access logs" in dumped.stdout
    assert "203.0.113.66" in dumped.stdout  # the top clients table
    screenshot = ROOT / "docs" / "img" / "logs-report.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    shot = _browser(
        binary, tmp_path / "profile", f"--screenshot={tmp_path / 'shot.png'}", "--window-size=1200,800", url
    )
    assert shot.returncode == 0, shot.stderr[-2000:]
    png = (tmp_path / "shot.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    # The docs' picture is refreshed only when asked: a test run never edits the checkout
    # (fonts differ between machines, so the bytes would churn on every run).
    if os.environ.get("TLSLINT_UPDATE_DOCS_IMAGES") and (
        not screenshot.exists() or screenshot.read_bytes() != png
    ):
        screenshot.write_bytes(png)
