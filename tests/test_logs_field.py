"""``tlslint logs`` on lines as real servers wrote them: what tests/loggen.py does not produce.

The nginx lines are nginx 1.22.1's own output (curl and Python clients against a local
server), cut down to a few lines and repeated with new times or addresses where a count
is needed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import cli_in_process as tlslint

from tlslint.logs.formats import detect, from_log_format


def logs_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = tlslint(capsys, "logs", "--format", "json", *args)
    assert out, err
    return code, json.loads(out), err


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def codes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((f["code"], f["anchor"]) for f in doc["findings"])


# --------------------------------------------------------------------------- $remote_user

# nginx logs $remote_user from any client's "Authorization: Basic" header, with no auth_basic
# configured: curl -u 'x [y:pw' gives the user "x [y", written unescaped (only " \ and control
# bytes are escaped).
TLS_SNI = (
    '127.0.0.2 - - [07/Dec/2026:16:41:46 +0000] "GET / HTTP/2.0" 200 3 "-" "curl/7.88.1" TLSv1.3 '
    "TLS_AES_256_GCM_SHA384 . conn=1098 reqs=1 rt=0.000 sni=a.test\n"
)
TLS_SNI_USER = (
    '127.0.0.3 - x [y [07/Dec/2026:16:41:46 +0000] "GET / HTTP/2.0" 200 3 "-" "curl/7.88.1" TLSv1.3 '
    "TLS_AES_256_GCM_SHA384 . conn=1099 reqs=1 rt=0.000 sni=a.test\n"
)
COMBINED = '127.0.0.2 - - [07/Dec/2026:16:41:46 +0000] "GET / HTTP/2.0" 200 3 "-" "curl/7.88.1"\n'
COMBINED_USER = '127.0.0.3 - x [y [07/Dec/2026:16:41:46 +0000] "GET / HTTP/2.0" 200 3 "-" "curl/7.88.1"\n'
TLS_SNI_FORMAT = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" '
    '"$http_user_agent" $ssl_protocol $ssl_cipher $ssl_session_reused conn=$connection '
    "reqs=$connection_requests rt=$request_time sni=$ssl_server_name"
)


@pytest.mark.parametrize(
    ("plain", "user", "name"),
    [(TLS_SNI, TLS_SNI_USER, "tls+sni"), (COMBINED, COMBINED_USER, "combined")],
    ids=["tls+sni", "combined"],
)
def test_a_user_name_with_space_bracket_is_read(plain: str, user: str, name: str) -> None:
    lines = [plain, plain, user] * 10  # a third of the lines: detection failed below 80 %
    fmt = detect(lines)
    assert fmt.name == name
    entries = [entry for _, entry in fmt.read(lines)]
    assert all(entries) and {e.client for e in entries if e} == {"127.0.0.2", "127.0.0.3"}
    assert entries[2] is not None and entries[2].time == entries[0].time  # the time, not "y [07/Dec..."


@pytest.mark.parametrize(
    "user",
    ["x [y", "a [07/Dec/2026:16:41:46 +0000] b", "[", "a ] [b", "x [07/Dec/2026:16:41:46 +0000]"],
)
def test_a_user_name_cannot_fake_the_time(user: str) -> None:
    line = TLS_SNI_USER.replace("x [y", user).replace("16:41:46", "16:43:01")
    entry = next(iter(from_log_format(TLS_SNI_FORMAT).read([line])))[1]
    assert entry is not None and entry.client == "127.0.0.3" and entry.server_name == "a.test"
    assert entry.time % 3600 == 43 * 60 + 1 and entry.reused is False and entry.first_request is True


def _flood_with_user(path: Path) -> None:
    """Twelve minutes of 10 clients (one full handshake each a minute); 10.9.9.9 makes 300 at 10:05,
    all with the user name "x [y"."""
    lines = []
    for minute in range(12):
        for client in range(10):
            lines.append(
                TLS_SNI.replace("127.0.0.2", f"10.0.0.{client}").replace("16:41:46", f"10:{minute:02d}:00")
            )
        if minute == 5:
            lines += [TLS_SNI_USER.replace("127.0.0.3", "10.9.9.9").replace("16:41:46", "10:05:30")] * 300
    path.write_text("".join(lines))


@pytest.mark.parametrize("given", [False, True])
def test_a_flood_behind_a_user_name_is_found(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], given: bool
) -> None:
    _flood_with_user(tmp_path / "flood.log")
    extra = ["--log-format", TLS_SNI_FORMAT] if given else []
    code, doc, _ = logs_json(capsys, "flood.log", "--select", "LOG104", *extra)
    assert code == 1 and codes(doc) == [("LOG104", "client[10.9.9.9]")]
    assert doc["logs"]["files"][0]["unparsed"] == 0


def test_lines_not_understood_are_stated_in_every_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [TLS_SNI.replace("16:41:46", f"10:{minute:02d}:00") for minute in range(12)]
    lines[3:3] = ["127.0.0.9 - - [broken\n", "not a log line\n"]
    (tmp_path / "some.log").write_text("".join(lines))
    _, doc, err = logs_json(capsys, "some.log")
    note = "some.log: 2 of 14 lines (14.3%) not understood, first at line 4"
    assert doc["logs"]["notes"][0].startswith(note)
    assert "the clients on them are not judged" in doc["logs"]["notes"][0]
    assert f"tlslint: warning: {note}" in err
    code, out, err = tlslint(capsys, "logs", "some.log", "--quiet")
    assert code == 0 and out == "" and f"tlslint: warning: {note}" in err
    code, out, err = tlslint(capsys, "logs", "some.log")
    assert f"note: {note}" in out


# --------------------------------------------------------------------------- time out of order


def _minutes(start: int, count: int, hour: int = 10, day: str = "07/Dec/2026") -> list[str]:
    """``count`` minutes from ``hour:start``: 10 clients with one full handshake each a minute."""
    lines = []
    for minute in range(start, start + count):
        for client in range(10):
            stamp = f"{day}:{hour + minute // 60:02d}:{minute % 60:02d}:{client * 5:02d}"
            lines.append(
                TLS_SNI.replace("127.0.0.2", f"10.0.0.{client}").replace("07/Dec/2026:16:41:46", stamp)
            )
    return lines


def _flood(minute: int, count: int = 30, hour: int = 10) -> list[str]:
    stamp = f"07/Dec/2026:{hour:02d}:{minute:02d}:30"
    return [TLS_SNI.replace("127.0.0.2", "10.9.9.9").replace("07/Dec/2026:16:41:46", stamp)] * count


@pytest.mark.parametrize("day", ["08/Dec/2026", "07/Dec/2027"])
@pytest.mark.parametrize("index", [55, 0])
def test_one_line_dated_ahead_does_not_stop_per_client_counting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], day: str, index: int
) -> None:
    lines = _minutes(0, 30)
    lines[index] = lines[index].replace("07/Dec/2026", day)  # one full handshake, dated later
    lines[200:200] = _flood(20)
    (tmp_path / "ahead.log").write_text("".join(lines))
    code, doc, _ = logs_json(capsys, "ahead.log", "--select", "LOG104")
    clients = doc["logs"]["clients"]
    assert code == 1 and codes(doc) == [("LOG104", "client[10.9.9.9]")]
    assert clients["late_entries"] == 0 and clients["stray_entries"] == 1 and clients["clock_steps_back"] == 0
    assert clients["offenders"][0]["max_per_minute"] == 30
    note = "1 full handshake dated more than 2 minutes ahead of the lines around it "
    note += f"(first at ahead.log:{index + 1})"
    assert any(n.startswith(note) for n in doc["logs"]["notes"])


def test_a_line_dated_ahead_in_one_of_two_nodes_logs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One client makes 6 full handshakes on each of two nodes at 10:20: 12 in the merged minute.
    # The stray line of node 1 once came out of the merge after all of node 2, leaving the rest of
    # node 1 behind it, so node 1's half of the flood was counted apart from node 2's.
    node1, node2 = _minutes(0, 30), _minutes(0, 30)
    node1[55] = node1[55].replace("07/Dec/2026", "08/Dec/2026")
    node2[0] = node2[0].replace("07/Dec/2026", "08/Dec/2026")  # and the first line of node 2
    node1[200:200] = _flood(20, 6)
    node2[200:200] = _flood(20, 6)
    (tmp_path / "node1.log").write_text("".join(node1))
    (tmp_path / "node2.log").write_text("".join(node2))
    code, doc, _ = logs_json(capsys, "node1.log", "node2.log", "--select", "LOG104")
    clients = doc["logs"]["clients"]
    assert code == 1 and codes(doc) == [("LOG104", "client[10.9.9.9]")]
    assert clients["offenders"][0]["max_per_minute"] == 12
    assert clients["late_entries"] == 0 and clients["stray_entries"] == 2 and clients["clock_steps_back"] == 0


def test_a_clock_stepped_back_keeps_counting_per_client(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The clock was an hour ahead (11:00 to 11:09), then set right (10:10 on): before, every line
    # until 11:08 was "out of order" and not counted per client, the flood at 10:30 with them.
    lines = _minutes(0, 10, hour=11) + _minutes(10, 30)
    lines[300:300] = _flood(30)
    (tmp_path / "stepped.log").write_text("".join(lines))
    code, doc, _ = logs_json(capsys, "stepped.log", "--select", "LOG104")
    clients = doc["logs"]["clients"]
    assert code == 1 and codes(doc) == [("LOG104", "client[10.9.9.9]")]
    assert clients["late_entries"] == 0 and clients["clock_steps_back"] == 1
    assert clients["offenders"][0]["max_minute"] == "2026-12-07T10:30:00Z"


def test_a_late_line_or_a_real_gap_is_no_clock_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = _minutes(0, 10) + _minutes(20, 10)  # a 10-minute gap, then more minutes
    lines[155:155] = _flood(25, 12)
    lines[120] = lines[120].replace("10:22:", "10:02:")  # one line late
    (tmp_path / "gap.log").write_text("".join(lines))
    code, doc, _ = logs_json(capsys, "gap.log", "--select", "LOG104")
    clients = doc["logs"]["clients"]
    assert code == 1 and codes(doc) == [("LOG104", "client[10.9.9.9]")]
    assert clients["late_entries"] == 1 and clients["stray_entries"] == 0 and clients["clock_steps_back"] == 0
    assert clients["offenders"][0]["max_per_minute"] == 12


# --------------------------------------------------------------------------- JSON layouts

DATA = Path(__file__).resolve().parent / "data" / "logs"


def _copy(tmp_path: Path, name: str) -> str:
    (tmp_path / name).write_bytes((DATA / name).read_bytes())
    return name


@pytest.mark.parametrize(
    ("name", "resets", "unread"),
    [
        ("kubectl-logs.txt", 25, 3),  # 3 container start-up lines, then pretty-printed Apigee objects
        ("one-line.txt", 12, 1),  # "not json", then one Cloud Logging entry a line
        ("gcl-array.json", 12, 0),  # gcloud logging read --format=json: a JSON array
        ("gcl.jsonl", 12, 0),  # the same entries, one a line
    ],
)
def test_json_logs_after_other_lines_and_in_an_array(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, resets: int, unread: int
) -> None:
    code, doc, err = logs_json(capsys, _copy(tmp_path, name))
    logs = doc["logs"]
    assert code == 1 and codes(doc) == [("LOG101", "non-sni-resets")]
    assert logs["files"][0]["format"]["name"] == "envoy-json" and logs["non_sni_resets"]["count"] == resets
    assert logs["files"][0]["unparsed"] == unread
    assert ("not understood" in err) == bool(unread)
    if unread:  # an object can span lines: a count, not a share of the lines
        assert (
            f"{name}: {unread} lines or objects (of {logs['files'][0]['lines']} lines) not understood" in err
        )


def test_json_array_is_streamed_entry_by_entry() -> None:
    from tlslint.logs.formats import objects

    lines = ["[\n", '  {"a": 1,\n', '   "b": {"c": 2}\n', "  },\n", '  {"a": 3},\n', '  {"a": 4}\n', "]\n"]
    assert list(objects(lines)) == [(2, {"a": 1, "b": {"c": 2}}), (5, {"a": 3}), (6, {"a": 4})]
    assert list(objects(['[{"a": 1},\n', '{"a": 2}]\n'])) == [(1, {"a": 1}), (2, {"a": 2})]
    assert list(objects(['[{"a": 1}, {"a": 2}]\n'])) == [(1, {"a": 1}), (1, {"a": 2})]
    assert list(objects(["]\n", "[not json\n"])) == [(1, None), (2, None)]  # no array: lines not understood


def test_a_file_that_is_mostly_not_json_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = '{"start_time": "2025-05-19T04:47:00.000Z", "remote_address": "10.0.0.1:5"}\n'
    (tmp_path / "mixed.log").write_text("starting\n" * 6 + entry * 4)
    code, _, err = tlslint(capsys, "logs", "mixed.log")
    assert code == 2 and "40% of the first 10 lines are JSON log entries, 80% are needed" in err
    assert "--log-format" not in err  # the nginx hint does not fit a JSON log
    (tmp_path / "timeless.log").write_text('{"remote_address": "10.0.0.1:5"}\n' * 4)
    code, _, err = tlslint(capsys, "logs", "timeless.log")
    assert code == 2 and "JSON lines without a time field" in err


def test_json_shaped_nginx_format_without_escape_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # log_format jd '{"time_local":"$time_local",...,"ua":"$http_user_agent"}' (no escape=json): a
    # User-Agent 'evil "x' is written "evil \x22x", which is not JSON.
    name = _copy(tmp_path, "jd.log")
    assert (DATA / name).read_text().count("\\x22") == 12
    _, doc, err = logs_json(capsys, name)
    files = doc["logs"]["files"][0]
    assert files["lines"] == files["entries"] == 80 and files["unparsed"] == 0 and not err
    assert doc["logs"]["connections"] == 79
    from tlslint.logs.formats import objects

    line = next(line for line in (DATA / name).read_text().splitlines() if "x22" in line)
    assert next(objects([line]))[1]["ua"] == 'evil "x'


# --------------------------------------------------------------------------- server names


def test_server_names_are_one_whatever_their_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # nginx logs $ssl_server_name as sent: 60 connections with SNI "a.test" and 60 with "A.Test",
    # none resumed. Split in two, each was below min-connections (100) and a.test went unjudged.
    name = _copy(tmp_path, "sni-case.log")
    text = (DATA / name).read_text()
    assert text.count("sni=a.test") == 60 and text.count("sni=A.Test") == 60
    (tmp_path / "other.log").write_text(
        text.replace("sni=a.test", "sni=b.test").replace("sni=A.Test", "sni=b.test")
    )
    _, doc, _ = logs_json(capsys, name, "other.log", "--select", "LOG102")
    assert [(n["name"], n["connections"]) for n in doc["logs"]["server_names"]] == [
        ("a.test", 120),
        ("b.test", 120),
    ]
    assert "session-reuse[a.test]" in [anchor for _, anchor in codes(doc)]
