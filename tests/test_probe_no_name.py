"""``tlslint probe`` where the name is missing or the certificate untrusted, against a real nginx.

* Probing an address (no ``--sni``): there is no name to send. A server that turns away
  clients without SNI (nginx ``ssl_reject_handshake on`` in the default server: alert
  ``unrecognized_name``; an Envoy gateway without a non-SNI route: TCP reset, played
  here by a small relay that resets a ClientHello without SNI and passes the others to
  nginx) fails every handshake. That is LIV101, not "every version refused" and not an
  unreachable endpoint.
* ``--verify`` against the self-signed test certificate: the server sent a certificate
  (which is what failed to verify), and resumption and keep-alive are still measured.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_probe_nginx import running_nginx

from tlslint.cli import main

pytestmark = pytest.mark.nginx

SNI = "tlslint.test"
SERVER = f"""
        server {{
            listen 443 ssl;
            server_name {SNI};
            ssl_certificate     /etc/ssl/{SNI}.pem;
            ssl_certificate_key /etc/ssl/{SNI}.key;
            location / {{ return 200 "ok\\n"; }}
        }}"""
REJECT_DEFAULT = f"""http {{
        ssl_protocols TLSv1.2 TLSv1.3;
        server {{
            listen 443 ssl default_server;
            ssl_reject_handshake on;
        }}
{SERVER}
    }}"""
PLAIN = f"http {{\n    ssl_protocols TLSv1.2 TLSv1.3;\n{SERVER}\n    }}"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no settings file from the checkout


def probe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    try:
        main(["probe", "--count", "2", "--timeout", "3", *args])
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    doc = json.loads(captured.out) if "--format" in args else {"text": captured.out}
    return code, doc, captured.err


def versions(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["version"]: v for v in doc["probe"]["versions"]}


def codes(doc: dict[str, Any]) -> list[str]:
    return [f["code"] for f in doc["findings"]]


def _has_sni(hello: bytes) -> bool:
    """Whether a ClientHello record carries a server_name extension (type 0)."""
    at = 5 + 4 + 2 + 32  # record header, handshake header, version, random
    at += 1 + hello[at]  # session id
    at += 2 + int.from_bytes(hello[at : at + 2], "big")  # cipher suites
    at += 1 + hello[at]  # compression methods
    end = at + 2 + int.from_bytes(hello[at : at + 2], "big")
    at += 2
    while at + 4 <= end:
        kind, size = struct.unpack(">HH", hello[at : at + 4])
        if kind == 0:
            return True
        at += 4 + size
    return False


@contextlib.contextmanager
def sni_or_reset(upstream: int) -> Iterator[int]:
    """On 127.0.0.1: reset a ClientHello without SNI (as Envoy without a non-SNI chain), relay the rest."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    open_sockets: list[socket.socket] = []

    def pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def handle(client: socket.socket) -> None:
        client.settimeout(3)
        hello = b""
        with contextlib.suppress(OSError):
            while len(hello) < 5 or len(hello) < 5 + int.from_bytes(hello[3:5], "big"):
                chunk = client.recv(65536)
                if not chunk:
                    break
                hello += chunk
        if len(hello) < 5 or not _has_sni(hello):
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            return
        client.settimeout(None)
        server = socket.create_connection(("127.0.0.1", upstream), timeout=3)
        server.settimeout(None)
        open_sockets.extend((client, server))
        server.sendall(hello)
        for source, sink in ((client, server), (server, client)):
            threading.Thread(target=pump, args=(source, sink), daemon=True).start()

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                continue
            threading.Thread(target=handle, args=(client,), daemon=True).start()

    worker = threading.Thread(target=serve, daemon=True)
    worker.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        worker.join(timeout=5)
        listener.close()
        for end in open_sockets:
            end.close()


def test_address_without_sni_against_reject_handshake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".tlslint.toml").write_text("")
    with running_nginx(tmp_path / "nginx", REJECT_DEFAULT) as live:
        code, doc, err = probe(capsys, live.endpoint, "--format", "json")
        text_code, text, _ = probe(capsys, live.endpoint)
        strict_code, strict, strict_err = probe(
            capsys, live.endpoint, "--format", "json", "--fail-on", "error"
        )
        (tmp_path / ".tlslint.toml").write_text('non-sni = "forbidden"\n')
        forbidden_code, forbidden, _ = probe(capsys, live.endpoint, "--format", "json")
    result = doc["probe"]
    assert result["sni"] is None and not result["error"] and result["no_name_only"]
    assert (result["no_sni_handshake"]["failure"], result["no_sni_handshake"]["detail"]) == (
        "alert",
        "unrecognized name",
    )
    seen = versions(doc)
    for name in ("TLSv1.2", "TLSv1.3"):  # not refused: the name was missing
        assert seen[name]["status"] == "inconclusive", seen[name]
        assert seen[name]["detail"] == "handshake failed without SNI (alert: unrecognized name)"
    (finding,) = doc["findings"]
    assert finding["code"] == "LIV101" and "no name to send" in finding["message"]
    assert code == 1 and "no TLS handshake succeeded" not in err  # a finding, not unreachable
    assert text_code == 1
    assert "refused      alert: unrecognized name" not in text["text"]
    assert "inconclusive handshake failed without SNI" in text["text"]
    assert "Found 1 finding" in text["text"]
    # Nothing else was measured: below --fail-on, or with LIV101 silenced, never a clean pass.
    assert strict_code == 2 and codes(strict) == ["LIV101"] and "give --sni NAME" in strict_err
    assert forbidden_code == 2 and codes(forbidden) == []


def test_address_without_sni_against_a_reset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_nginx(tmp_path / "nginx", PLAIN) as live, sni_or_reset(live.port) as port:
        code, doc, _ = probe(capsys, f"127.0.0.1:{port}", "--format", "json")
        named_code, named, _ = probe(capsys, f"127.0.0.1:{port}", "--sni", SNI, "--format", "json")
    assert doc["probe"]["no_sni_handshake"]["failure"] == "reset" and not doc["probe"]["error"]
    assert {v["status"] for v in doc["probe"]["versions"]} == {"inconclusive"}
    assert codes(doc) == ["LIV101"] and code == 1
    # With the name, the same relay completes handshakes: the versions were never the problem.
    assert named["probe"]["sni_handshake"]["ok"] and not named["probe"]["no_name_only"]
    assert versions(named)["TLSv1.3"]["status"] == "accepted"
    assert "LIV101" in codes(named) and "LIV104" not in codes(named) and named_code == 1


def test_untrusted_certificate_still_measures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    poor = f"""http {{
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets off;
        keepalive_timeout 0;
{SERVER}
    }}"""
    endpoint_args = ("--connect", "127.0.0.1", "--verify")
    with running_nginx(tmp_path / "good", PLAIN) as live:
        clean_code, clean, clean_err = probe(capsys, f"{SNI}:{live.port}", *endpoint_args, "--format", "json")
        _, text, _ = probe(capsys, f"{SNI}:{live.port}", *endpoint_args)
    with running_nginx(tmp_path / "poor", poor) as live:
        poor_code, bad, _ = probe(capsys, f"{SNI}:{live.port}", *endpoint_args, "--format", "json")
    handshake = clean["probe"]["sni_handshake"]
    assert handshake["failure"] == "verify-failed"
    assert handshake["certificate"]["subject"] == f"CN={SNI}"  # the server did send one
    assert "not trusted" in text["text"] and "no certificate" not in text["text"]
    for item in clean["probe"]["resumption"]:
        assert item["status"] == "measured" and item["ratio"] == 1.0, item
    assert clean["probe"]["keepalive"]["status"] == "honoured"
    assert any("measured without verification" in note for note in clean["probe"]["notes"])
    # No finding, but --verify was asked and the certificate is not trusted: not a clean pass.
    assert clean_code == 2 and "did not verify" in clean_err
    # LIV102 and LIV103 are no longer skipped after a verification failure.
    assert sorted(codes(bad)) == ["LIV102", "LIV102", "LIV103"] and poor_code == 1
