"""``tlslint probe`` against a real nginx on 127.0.0.1, and against small misbehaving servers.

Each nginx runs from a temporary prefix on a free high port with the generated test
certificate (tests/live_probe_nginx.py: ``daemon off``, stopped by its PID, every
wait bounded). Debian's nginx 1.22.1 offers TLS 1.3 only with an explicit
``ssl_protocols`` line (facts: nginx.md §1), so the configurations that measure
TLS 1.3 resumption write one.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import cli_in_process as run_cli
from live_probe_nginx import free_port, prepare, running, running_nginx
from nginx_harness import make_certificate, nginx_version

from tlslint import catalogue
from tlslint.cli import main
from tlslint.live import probe as probe_module
from tlslint.live.adapter import load_rule_settings
from tlslint.live.command import evaluate
from tlslint.live.probe import (
    Handshake,
    KeepAlive,
    ProbeResult,
    Resumption,
    VersionResult,
    classify,
    local_support,
    make_target,
    parse_endpoint,
)

SNI = "tlslint.test"  # the name in the generated certificate
COUNT = "5"

SERVER = f"""
        server {{
            listen 443 ssl;
            server_name {SNI};
            ssl_certificate     /etc/ssl/{SNI}.pem;
            ssl_certificate_key /etc/ssl/{SNI}.key;
            location / {{ return 200 "ok\\n"; }}
        }}"""


def run_probe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    try:
        main(["probe", "--format", "json", "--count", COUNT, "--timeout", "3", *args])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out = capsys.readouterr().out
    return code, json.loads(out)


def codes(doc: dict[str, Any]) -> list[str]:
    return [finding["code"] for finding in doc["findings"]]


def resumption(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["version"]: item for item in doc["probe"]["resumption"]}


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no settings file from the checkout


# --------------------------------------------------------------------------- (a) resumption and --fix


@pytest.mark.nginx
def test_fix_turns_no_resumption_into_full_resumption(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No session cache and tickets off: ~0% resumed and LIV102; after `tlslint --fix`: >= 90%."""
    site = tmp_path / "site"
    site.mkdir()
    http = f"""http {{
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets off;
{SERVER}
    }}"""
    config, port = prepare(site, http)
    endpoint = f"127.0.0.1:{port}"
    with running(config, port):
        code, before = run_probe(capsys, endpoint, "--sni", SNI)
    ratios = {version: item["ratio"] for version, item in resumption(before).items()}
    assert ratios == {"TLSv1.2": 0.0, "TLSv1.3": 0.0}, before["probe"]["resumption"]
    assert codes(before).count("LIV102") == 2 and code == 1

    fixed = subprocess.run(
        [sys.executable, "-m", "tlslint", "--fix", str(site), "--nginx-version", "1.22"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert "fixed 1 file" in fixed.stderr, fixed.stdout + fixed.stderr
    assert "ssl_session_cache shared:" in config.read_text()

    with running(config, port):
        code, after = run_probe(capsys, endpoint, "--sni", SNI)
    for version, item in resumption(after).items():
        assert item["status"] == "measured", item
        assert item["ratio"] >= 0.9, (version, item)
        assert item["resumed_handshake_ms"] is not None
    assert "LIV102" not in codes(after)


# --------------------------------------------------------------------------- (b) non-SNI handshake


REJECT_DEFAULT = f"""http {{
        ssl_protocols TLSv1.2 TLSv1.3;
        server {{
            listen 443 ssl default_server;
            ssl_reject_handshake on;
        }}
{SERVER}
    }}"""


@pytest.mark.nginx
def test_reject_handshake_default_fails_without_sni_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with running_nginx(tmp_path / "nginx", REJECT_DEFAULT) as live:
        code, doc = run_probe(capsys, live.endpoint, "--sni", SNI)
        # --connect: HOST is the name to send, the address is where to connect.
        _, connected = run_probe(capsys, f"{SNI}:{live.port}", "--connect", "127.0.0.1")
    probe = doc["probe"]
    with_sni, without = probe["sni_handshake"], probe["no_sni_handshake"]
    assert with_sni["ok"] and with_sni["certificate"]["subject"] == f"CN={SNI}"
    assert with_sni["handshake_ms"] > 0 and with_sni["protocol"] == "TLSv1.3"
    assert not without["ok"] and without["certificate"] is None
    assert (without["failure"], without["detail"]) == ("alert", "unrecognized name")
    (finding,) = [f for f in doc["findings"] if f["code"] == "LIV101"]
    assert "without SNI fails (alert: unrecognized name)" in finding["message"]
    assert f"with SNI '{SNI}' the server sends a certificate" in finding["message"]
    assert finding["path"] == live.endpoint and finding["line"] == 0
    assert code == 1
    assert connected["probe"]["sni"] == SNI and connected["probe"]["address"] == "127.0.0.1"
    assert connected["probe"]["sni_handshake"]["ok"]
    assert "LIV101" in codes(connected)


@pytest.mark.nginx
def test_non_sni_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".tlslint.toml").write_text('non-sni = "forbidden"\n')
    with running_nginx(tmp_path / "nginx", REJECT_DEFAULT) as live:
        _, forbidden = run_probe(capsys, live.endpoint, "--sni", SNI, "--count", "1")
        (tmp_path / ".tlslint.toml").write_text('non-sni = "required"\n')
        _, required = run_probe(capsys, live.endpoint, "--sni", SNI, "--count", "1")
    assert "LIV101" not in codes(forbidden)
    assert any("non-sni policy" in note for note in forbidden["probe"]["notes"])
    assert [f["severity"] for f in required["findings"] if f["code"] == "LIV101"] == ["error"]


# --------------------------------------------------------------------------- (c) keep-alive


@pytest.mark.nginx
def test_keepalive_timeout_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    http = f"""http {{
        keepalive_timeout 0;
{SERVER}
    }}"""
    with running_nginx(tmp_path / "nginx", http) as live:
        code, doc = run_probe(capsys, live.endpoint, "--sni", SNI, "--count", "1")
    keep = doc["probe"]["keepalive"]
    assert keep["status"] == "closed" and keep["first_status"] == 200
    assert keep["connection_header"] == "close" and keep["second_status"] is None
    assert "LIV103" in codes(doc) and code == 1


@pytest.mark.nginx
def test_keepalive_after_an_error_status_is_not_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """nginx closes the connection after a 500 (and a 400) whatever its keep-alive settings:
    a `HEAD /` answered so is no evidence, and no LIV103. Other paths keep the connection."""
    cert, _key = make_certificate()
    http = f"""http {{
        ssl_protocols TLSv1.2 TLSv1.3;
        server {{
            listen 443 ssl;
            server_name {SNI};
            ssl_certificate     /etc/ssl/{SNI}.pem;
            ssl_certificate_key /etc/ssl/{SNI}.key;
            location = / {{ return 500; }}
            location / {{ return 200 "ok\\n"; }}
        }}
        server {{
            listen 127.0.0.1:{{MTLS}} ssl;
            server_name {SNI};
            ssl_certificate     /etc/ssl/{SNI}.pem;
            ssl_certificate_key /etc/ssl/{SNI}.key;
            ssl_verify_client on;
            ssl_client_certificate {cert};
            location / {{ return 200 "ok\\n"; }}
        }}
    }}"""
    mtls = free_port()
    with running_nginx(tmp_path / "nginx", http.replace("{MTLS}", str(mtls))) as live:
        code, doc = run_probe(capsys, live.endpoint, "--sni", SNI, "--count", "1")
        text = run_cli(capsys, "probe", live.endpoint, "--sni", SNI, "--count", "1")
        reused = _two_requests(live.port, "/other")
        mtls_code, mtls_doc = run_probe(capsys, f"127.0.0.1:{mtls}", "--sni", SNI, "--count", "1")
    keep = doc["probe"]["keepalive"]
    assert (keep["status"], keep["first_status"], keep["second_status"]) == ("inconclusive", 500, None)
    assert keep["detail"].startswith("not measured: HEAD / answered HTTP 500"), keep
    assert "LIV103" not in codes(doc) and code == 0, doc
    (row,) = [line for line in text[1].splitlines() if "HTTP/1.1 keep-alive" in line]
    assert row.split("keep-alive", 1)[1].strip().startswith("not measured: HEAD / answered HTTP 500")
    assert text[0] == 0, text
    assert reused == [200, 200]  # the ground truth: the server keeps connections alive
    keep = mtls_doc["probe"]["keepalive"]
    assert (keep["status"], keep["first_status"]) == ("inconclusive", 400), keep
    assert "LIV103" not in codes(mtls_doc) and mtls_code == 0, mtls_doc


def _two_requests(port: int, path: str) -> list[int]:
    """The statuses of two GET requests over one connection (as curl would send them)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    statuses = []
    with (
        socket.create_connection(("127.0.0.1", port), timeout=3) as raw,
        context.wrap_socket(raw, server_hostname=SNI) as tls,
    ):
        stream = tls.makefile("rb")
        for _ in range(2):
            tls.sendall(f"GET {path} HTTP/1.1\r\nHost: {SNI}\r\n\r\n".encode())
            statuses.append(int(stream.readline().split()[1]))
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            stream.read(length)
    return statuses


# --------------------------------------------------------------------------- versions


@pytest.mark.nginx
def test_debian_default_protocols_and_tls13(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No ssl_protocols line: nginx before 1.23.4 does not offer TLS 1.3 (LIV104)."""
    http = f"http {{\n{SERVER}\n    }}"
    with running_nginx(tmp_path / "nginx", http) as live:
        _, doc = run_probe(capsys, live.endpoint, "--sni", SNI, "--count", "2")
    versions = {v["version"]: v for v in doc["probe"]["versions"]}
    old = nginx_version() < (1, 23, 4)
    assert ("LIV104" in codes(doc)) is old
    assert versions["TLSv1.3"]["status"] == ("refused" if old else "accepted")
    assert versions["TLSv1.2"]["status"] == "accepted"
    if old:
        tls13 = resumption(doc)["TLSv1.3"]
        assert tls13["status"] == "not-offered" and tls13["ratio"] is None
        assert versions["TLSv1.3"]["detail"] == "alert: protocol version"


@pytest.mark.nginx
def test_versions_failing_for_another_reason_are_not_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`refused` is for a version the server will not speak: a rejected name (the
    ssl_reject_handshake default server, SNI of no server) or a port that does not speak
    TLS (plain HTTP, an SSH banner) is not a refused version, and no LIV104."""
    plain = free_port()
    http = REJECT_DEFAULT.rstrip().removesuffix("}") + (
        f"    server {{ listen 127.0.0.1:{plain}; location / {{ return 200; }} }}\n    }}"
    )
    with running_nginx(tmp_path / "nginx", http) as live:
        code, doc = run_probe(capsys, live.endpoint, "--sni", "other.test", "--count", "1")
        text = run_cli(capsys, "probe", live.endpoint, "--sni", "other.test", "--count", "1")
        _, named = run_probe(capsys, live.endpoint, "--sni", SNI, "--count", "1")
        _, http_doc = run_probe(capsys, f"127.0.0.1:{plain}", "--sni", SNI, "--count", "1")
    with tcp_server("banner") as port:
        _, ssh_doc = run_probe(capsys, f"127.0.0.1:{port}", "--sni", SNI, "--count", "1")

    def statuses(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
        return {v["version"]: (v["status"], v["detail"]) for v in doc["probe"]["versions"]}

    # nginx checks the version before the name: TLS 1.0 and 1.1 are refused for what they are.
    rejected = "not measured: the server rejected the name, not the version (alert: unrecognized name)"
    assert statuses(doc) == {
        "TLSv1": ("refused", "alert: protocol version"),
        "TLSv1.1": ("refused", "alert: protocol version"),
        "TLSv1.2": ("inconclusive", rejected),
        "TLSv1.3": ("inconclusive", rejected),
    }, statuses(doc)
    assert "LIV104" not in codes(doc) and code == 2  # no handshake completed: nothing measured
    assert [line.split()[2] for line in text[1].splitlines() if "protocol TLSv1." in line] == [
        "refused",
        "inconclusive",
        "inconclusive",
    ]
    assert f"inconclusive {rejected}" in text[1]
    # With a name the server has, the same versions complete: the name was the problem.
    assert {v: s for v, (s, _) in statuses(named).items()}["TLSv1.3"] == "accepted"
    for doc_ in (http_doc, ssh_doc):
        assert {status for status, _ in statuses(doc_).values()} == {"inconclusive"}, statuses(doc_)
        assert all(d == "not TLS (tls-error: wrong version number)" for _, d in statuses(doc_).values())
        assert "is not TLS" in doc_["probe"]["error"] and "LIV104" not in codes(doc_)


LIVE_EXAMPLES = [
    pytest.param(code, key, example[key], id=f"{code}-{index}-{key}")
    for code, entry in catalogue.load_entries().items()
    if entry["target"] == "live"
    for index, example in enumerate(entry["examples"])
    for key in ("bad", "good")
    if key in example
]


@pytest.mark.nginx
@pytest.mark.parametrize(("code", "key", "text"), LIVE_EXAMPLES)
def test_catalogue_live_examples(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], code: str, key: str, text: str
) -> None:
    """Each live example is a server: probed, bad raises the code and good does not."""
    if code == "LIV105" and key == "bad" and local_support("TLSv1") and local_support("TLSv1.1"):
        pytest.skip("the local OpenSSL can offer neither TLS 1.0 nor TLS 1.1")
    with running_nginx(tmp_path / "nginx", text) as live:
        status, doc = run_probe(capsys, live.endpoint, "--sni", SNI, "--select", code)
    assert not doc["probe"]["error"], doc["probe"]
    if key == "bad":
        assert code in codes(doc) and status == 1, doc["probe"]
    else:
        assert code not in codes(doc) and status == 0, doc["probe"]


@pytest.mark.nginx
def test_verify_and_other_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    http = f"http {{\n    ssl_protocols TLSv1.2 TLSv1.3;\n{SERVER}\n    }}"
    cert, _key = make_certificate()
    with running_nginx(tmp_path / "nginx", http) as live:
        _, unverified = run_probe(capsys, live.endpoint, "--sni", SNI, "--count", "1")
        _, failing = run_probe(capsys, live.endpoint, "--sni", SNI, "--count", "1", "--verify")
        _, verified = run_probe(
            capsys, live.endpoint, "--sni", SNI, "--count", "1", "--verify", "--cafile", str(cert)
        )
        sarif = run_cli(capsys, "probe", live.endpoint, "--sni", SNI, "--count", "1", "--format", "sarif",
                        "--select", "LIV104")  # fmt: skip
        text = run_cli(capsys, "probe", live.endpoint, "--sni", SNI, "--count", "2")
    assert any("not verified" in note for note in unverified["probe"]["notes"])
    assert failing["probe"]["sni_handshake"]["failure"] == "verify-failed"
    assert verified["probe"]["sni_handshake"]["ok"]
    assert not any("not verified" in note for note in verified["probe"]["notes"])
    assert json.loads(sarif[1])["runs"][0]["results"] == [] and sarif[0] == 0
    assert text[0] == 0, text
    assert "resumption TLSv1.3" in text[1] and "2/2 resumed (100%)" in text[1]
    assert f"No findings probing {live.endpoint}" in text[1]
    assert "\r" not in text[2]  # no progress line when stderr is not a terminal


def _probe_on_a_terminal(*args: str) -> tuple[int, str, str]:
    """``tlslint probe ARGS`` in a subprocess whose stderr is a terminal (a pty): (status, stdout, stderr)."""
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tlslint", "probe", *args],
            stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL, timeout=60,
        )  # fmt: skip
        os.close(follower)
        follower = -1
        shown = b""
        with contextlib.suppress(OSError):  # EIO once the terminal's buffer is read
            while chunk := os.read(leader, 4096):
                shown += chunk
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    return done.returncode, done.stdout.decode(), shown.decode(errors="replace")


@pytest.mark.nginx
def test_quiet_prints_findings_only_and_no_progress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-q: the findings, without the measurement table, summary or progress line (as for logs)."""
    http = f"http {{\n    ssl_protocols TLSv1.2;\n{SERVER}\n    }}"
    with running_nginx(tmp_path / "nginx", http) as live:
        args = (live.endpoint, "--sni", SNI, "--count", "1", "--select", "LIV104")
        code, out, err = run_cli(capsys, "probe", *args, "-q")
        loud = _probe_on_a_terminal(*args)
        quiet = _probe_on_a_terminal(*args, "-q")
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{live.endpoint}: LIV104 [warning]"), out
    assert code == 1 and err == ""
    assert "probing" in loud[2] and "\x1b[K" in loud[2]  # the progress line, on a terminal
    assert "handshake, no SNI" in loud[1]
    assert quiet[2] == "", quiet  # never with --quiet
    assert quiet[1] == out and quiet[0] == code == loud[0]


# --------------------------------------------------------------------------- misbehaving servers


@contextlib.contextmanager
def tcp_server(behaviour: str) -> Iterator[int]:
    """``reset``: read the ClientHello, then RST; ``silent``: accept and never answer;
    ``banner``: an SSH server's greeting, then read and close."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            if behaviour == "reset":
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(4096)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            elif behaviour == "banner":
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
                    conn.recv(4096)
                conn.close()
            else:
                held.append(conn)

    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        worker.join(timeout=5)
        listener.close()
        for conn in held:
            conn.close()


@contextlib.contextmanager
def tls_server_without_http() -> Iterator[int]:
    """A TLS server (Python's ssl, the test certificate) that completes handshakes and never answers."""
    cert, key = make_certificate()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.settimeout(2)
            try:
                held.append(context.wrap_socket(conn, server_side=True))
            except OSError:
                conn.close()

    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        worker.join(timeout=5)
        listener.close()
        for conn in held:
            conn.close()


def test_a_tls_service_that_does_not_speak_http_is_measured_quickly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    start = time.monotonic()
    with tls_server_without_http() as port:
        _, doc = run_probe(capsys, f"127.0.0.1:{port}", "--sni", SNI, "--timeout", "0.5", "--count", "3")
    elapsed = time.monotonic() - start
    probe = doc["probe"]
    assert probe["sni_handshake"]["ok"] and not probe["error"]
    assert probe["keepalive"]["status"] == "failed"  # no HTTP: neither a finding nor a pass
    for item in probe["resumption"]:
        assert item["status"] == "measured" and item["attempts"] == 3, item
    assert "LIV103" not in codes(doc)
    assert elapsed < 6  # one full timeout, then short waits for tickets


def test_reset_during_the_handshake_is_reported_as_reset(capsys: pytest.CaptureFixture[str]) -> None:
    with tcp_server("reset") as port:
        code, doc = run_probe(capsys, f"127.0.0.1:{port}", "--sni", SNI, "--count", "1")
    probe = doc["probe"]
    assert probe["sni_handshake"]["failure"] == "reset"
    assert probe["no_sni_handshake"]["failure"] == "reset"
    assert probe["error"].startswith("no TLS handshake succeeded") and code == 2


def test_a_silent_server_never_hangs_the_probe(capsys: pytest.CaptureFixture[str]) -> None:
    start = time.monotonic()
    with tcp_server("silent") as port:
        code, doc = run_probe(capsys, f"127.0.0.1:{port}", "--sni", SNI, "--timeout", "0.3")
    assert time.monotonic() - start < 5
    assert doc["probe"]["no_sni_handshake"]["failure"] == "timeout"
    assert "within 0.3 s" in doc["probe"]["error"] and code == 2


def test_nothing_listening_and_no_such_host(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    code, doc = run_probe(capsys, f"127.0.0.1:{port}", "--sni", SNI)
    assert code == 2 and doc["probe"]["error"].startswith("cannot connect") and doc["findings"] == []
    code, out, err = run_cli(capsys, "probe", f"127.0.0.1:{port}", "--sni", SNI)  # text: no "No findings"
    assert code == 2 and "No findings" not in out and out.rstrip().endswith("the probe failed.")
    assert "cannot connect" in err
    start = time.monotonic()
    code, doc = run_probe(capsys, "no-such-host.invalid:443", "--timeout", "2")
    assert code == 2 and "cannot resolve" in doc["probe"]["error"]
    assert time.monotonic() - start < 10


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["host:99999"], ["host", "--count", "0"], ["host", "--connect", "not-an-ip"], ["[::1"]):
        with pytest.raises(SystemExit) as exit_:
            main(["probe", *args])
        assert exit_.value.code == 2, args
    assert capsys.readouterr().err.count("tlslint:") == 4


# --------------------------------------------------------------------------- units


def test_parse_endpoint_and_target() -> None:
    assert parse_endpoint("example.com") == ("example.com", 443)
    assert parse_endpoint("example.com:8443") == ("example.com", 8443)
    assert parse_endpoint("[2001:db8::1]:8443") == ("2001:db8::1", 8443)
    assert parse_endpoint("2001:db8::1") == ("2001:db8::1", 443)
    assert parse_endpoint("https://example.com:444/path") == ("example.com", 444)
    assert make_target("10.0.0.1").sni is None  # no SNI for an address
    assert make_target("10.0.0.1", sni="api.example.com").sni == "api.example.com"
    target = make_target("api.example.com:8443", connect="10.0.0.9")
    assert (target.sni, target.connect, target.endpoint) == (
        "api.example.com",
        "10.0.0.9",
        "api.example.com:8443",
    )
    assert make_target("[::1]:8443").endpoint == "[::1]:8443"


def test_classify() -> None:
    assert classify(ConnectionResetError()) == ("reset", "connection reset by peer")
    assert classify(TimeoutError("timed out"))[0] == "timeout"
    assert classify(ConnectionRefusedError())[0] == "refused"
    assert local_support("TLSv1.2") is None and local_support("TLSv1.3") is None


def _result(**changes: Any) -> ProbeResult:
    ok = Handshake(True, protocol="TLSv1.3", cipher="TLS_AES_128_GCM_SHA256", handshake_ms=1.0)
    base = ProbeResult("h:443", "h", 443, "h", sni_handshake=ok, no_sni_handshake=ok)
    base.versions = [VersionResult(v, "accepted") for v in ("TLSv1.2", "TLSv1.3")]
    base.resumption = [Resumption("TLSv1.2", "measured", attempts=10, resumed=10)]
    base.keepalive = KeepAlive("honoured")
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_evaluation_rules() -> None:
    rules = load_rule_settings(None, None, None, None)

    def found(result: ProbeResult) -> list[str]:
        return [f.code for f in evaluate(result, rules)]

    assert found(_result()) == []
    assert found(_result(no_sni_handshake=Handshake(False, "reset", "connection reset by peer"))) == [
        "LIV101"
    ]
    # A timeout without SNI counts only when the handshake with SNI worked.
    assert found(_result(no_sni_handshake=Handshake(False, "timeout", "timed out"))) == ["LIV101"]
    assert found(_result(no_sni_handshake=Handshake(False, "refused", ""))) == []
    assert found(_result(resumption=[Resumption("TLSv1.2", "measured", attempts=10, resumed=8)])) == [
        "LIV102"
    ]
    assert found(_result(resumption=[Resumption("TLSv1.2", "measured", attempts=10, resumed=9)])) == []
    strict = load_rule_settings(None, None, None, None, {"LIV102": {"min-ratio": 1.0}})
    nine = _result(resumption=[Resumption("TLSv1.2", "measured", attempts=10, resumed=9)])
    assert [f.code for f in evaluate(nine, strict)] == ["LIV102"]
    legacy = [
        VersionResult("TLSv1", "not-tested", "could not test: ..."),
        VersionResult("TLSv1.1", "accepted"),
    ]
    assert found(_result(versions=legacy)) == ["LIV105"]
    assert found(_result(versions=[VersionResult("TLSv1.3", "inconclusive", "timeout")])) == []


def test_a_version_the_local_openssl_cannot_offer_is_not_tested(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(probe_module, "local_support", lambda version: "no" if version == "TLSv1" else None)
    prober = probe_module.Prober(make_target("127.0.0.1:1"), 1)
    result = prober.probe_version("TLSv1", None)
    assert (result.status, result.detail) == ("not-tested", "could not test: no")
