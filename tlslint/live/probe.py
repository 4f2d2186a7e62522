"""Measure one TLS endpoint with Python's ``ssl`` module (no external binaries).

Every network step has a timeout (name resolution included, which ``getaddrinfo``
itself lacks), so a probe never hangs. Steps:

1. handshakes with and without SNI: certificate served or not, and how a failure
   looked (reset, alert, closed, timeout, ...);
2. protocol versions, one handshake pinned to each (TLS 1.0/1.1 need
   ``DEFAULT:@SECLEVEL=0`` with OpenSSL 3; a version the local OpenSSL cannot offer
   is reported as not tested, never as refused);
3. session resumption for TLS 1.2 and 1.3 separately: one full handshake and N
   reconnects, each offering the session of the connection before. TLS 1.3 tickets
   arrive after the handshake, so each connection sends a request and reads the
   response headers before its session is taken;
4. HTTP/1.1 keep-alive: two requests over one connection.

Certificates are not verified unless asked: a probe is diagnostics, and the servers
it is pointed at often have test or internal certificates.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import ipaddress
import os
import socket
import ssl
import tempfile
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tlslint import __version__

USER_AGENT = f"tlslint-probe/{__version__}"
MAX_HEADER_BYTES = 64 * 1024
# Statuses after which servers close the connection whatever their keep-alive settings, so that
# a close says nothing about keep-alive: nginx after 400, 413, 414, 495 to 497, 500 and 501
# (ngx_http_special_response_handler); Apache httpd and Tomcat after 400, 408, 411, 413, 414,
# 417, 500, 501 and 503; proxies after the 5xx they make themselves. Every 5xx counts; other
# statuses (a 404 or 403 at /, common on APIs) do not make nginx close, and stay evidence.
CLOSING_STATUSES = frozenset({400, 408, 411, 413, 414, 417, 431, 495, 496, 497})
TICKET_WAIT = 0.3  # seconds to wait for TLS 1.3 tickets from a server that does not answer HTTP
VERSION_NAMES = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
LEGACY_VERSIONS = ("TLSv1", "TLSv1.1")
RESUMPTION_VERSIONS = ("TLSv1.2", "TLSv1.3")
# Failures that say nothing about the server's TLS policy.
INCONCLUSIVE = frozenset({"timeout", "unreachable", "refused", "local", "error"})
# How servers turn away a ClientHello without SNI: nginx's ssl_reject_handshake answers
# unrecognized_name, Envoy without a non-SNI filter chain resets (or closes) the connection.
# With no name to send, a version handshake that fails the same way says nothing about the version.
NO_NAME_ALERTS = frozenset({"unrecognized name", "handshake failure"})
# How a pinned handshake fails when the server has no version in common with it: its
# protocol_version alert, or the local OpenSSL's refusal of the version the server chose.
VERSION_FAILURES = frozenset(
    {
        ("alert", "protocol version"),
        ("tls-error", "unsupported protocol"),
        ("tls-error", "version too low"),
        ("tls-error", "version too high"),
    }
)
# What OpenSSL says when the bytes that came back are not TLS records (plain HTTP, an SSH or
# SMTP banner): with the unpinned handshake failing alike, the port does not speak TLS.
NOT_TLS = frozenset({"wrong version number", "packet length too long"})


def refused_for_no_name(handshake: Handshake) -> bool:
    """A failed handshake that looks like a server turning away a client without SNI."""
    if handshake.ok:
        return False
    return handshake.failure in ("reset", "closed") or (
        handshake.failure == "alert" and handshake.detail in NO_NAME_ALERTS
    )


def not_tls(handshake: Handshake) -> bool:
    return handshake.failure == "tls-error" and handshake.detail in NOT_TLS


def closes_after(status: int) -> bool:
    """Whether servers close the connection after a response with ``status`` regardless of keep-alive."""
    return status in CLOSING_STATUSES or status >= 500


Progress = Callable[[str], None]


def _tls_version(name: str) -> ssl.TLSVersion:
    with warnings.catch_warnings():  # TLSv1 and TLSv1_1 are deprecated names, and probed on purpose
        warnings.simplefilter("ignore", DeprecationWarning)
        return {
            "TLSv1": ssl.TLSVersion.TLSv1,
            "TLSv1.1": ssl.TLSVersion.TLSv1_1,
            "TLSv1.2": ssl.TLSVersion.TLSv1_2,
            "TLSv1.3": ssl.TLSVersion.TLSv1_3,
        }[name]


# --------------------------------------------------------------------------- target


@dataclass
class Target:
    host: str  # as given: a name or an address
    port: int
    sni: str | None  # the server_name sent; None when there is no name to send
    connect: str | None  # --connect: the address to connect to instead of resolving host
    timeout: float = 5.0
    verify: bool = False
    cafile: str | None = None

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_endpoint(text: str, default_port: int = 443) -> tuple[str, int]:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address."""
    text = text.strip()
    for prefix in ("https://", "tls://"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].split("/", 1)[0]
    if not text:
        raise ValueError("no host given")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if not rest:
            return host, default_port
        if not rest.startswith(":"):
            raise ValueError(f"cannot read '{text}' as HOST[:PORT]")
        return host, _port(rest[1:], text)
    if text.count(":") > 1:  # a bare IPv6 address
        if not is_address(text):
            raise ValueError(f"cannot read '{text}' as HOST[:PORT] (write IPv6 addresses as [addr]:port)")
        return text, default_port
    host, sep, port = text.partition(":")
    if not host:
        raise ValueError(f"cannot read '{text}' as HOST[:PORT]")
    return host, _port(port, text) if sep else default_port


def _port(text: str, whole: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 18 or not 0 < int(text) < 65536:
        raise ValueError(f"invalid port in '{whole}'")
    return int(text)


def make_target(
    endpoint: str,
    *,
    sni: str | None = None,
    connect: str | None = None,
    timeout: float = 5.0,
    verify: bool = False,
    cafile: str | None = None,
) -> Target:
    host, port = parse_endpoint(endpoint)
    if connect is not None and not is_address(connect.strip("[]")):
        raise ValueError(f"--connect takes an IP address, not '{connect}'")
    # Python sends no SNI for an IP address (RFC 6066 forbids it), so an address alone has no name.
    name = sni if sni is not None else (None if is_address(host) else host)
    return Target(host, port, name or None, connect.strip("[]") if connect else None, timeout, verify, cafile)


# --------------------------------------------------------------------------- results


@dataclass
class Certificate:
    sha256: str
    subject: str = ""
    issuer: str = ""
    not_after: str = ""
    names: list[str] = field(default_factory=list)


@dataclass
class Handshake:
    ok: bool
    failure: str = (
        ""  # reset | alert | closed | timeout | refused | unreachable | verify-failed | tls-error | local
    )
    detail: str = ""
    protocol: str = ""
    cipher: str = ""
    resumed: bool = False
    connect_ms: float | None = None
    handshake_ms: float | None = None
    certificate: Certificate | None = None

    def describe(self) -> str:
        if self.ok:
            return f"{self.protocol} {self.cipher}".strip()
        return f"{self.failure}: {self.detail}" if self.detail else self.failure


@dataclass
class VersionResult:
    version: str
    status: str  # accepted | refused | not-tested | inconclusive
    detail: str = ""
    handshake: Handshake | None = None


@dataclass
class Resumption:
    version: str
    status: str  # measured | not-offered | failed
    detail: str = ""
    attempts: int = 0  # reconnects that completed a handshake
    resumed: int = 0
    failed: int = 0  # reconnects that did not complete
    ticket: bool | None = None  # whether the last session held a ticket
    full_handshake_ms: float | None = None  # mean over connections that did not resume
    resumed_handshake_ms: float | None = None
    connections: list[Handshake] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        return self.resumed / self.attempts if self.attempts else None


@dataclass
class KeepAlive:
    # honoured | closed | failed | inconclusive (closed after an error status: not evidence)
    status: str
    detail: str = ""
    first_status: int | None = None
    connection_header: str = ""
    keep_alive_header: str = ""
    second_status: int | None = None
    first_ms: float | None = None
    second_ms: float | None = None


@dataclass
class ProbeResult:
    endpoint: str
    host: str
    port: int
    sni: str | None
    address: str = ""  # what TCP connected to
    verify: bool = False
    count: int = 0
    timeout: float = 0.0
    local_openssl: str = ssl.OPENSSL_VERSION
    error: str = ""  # set when nothing could be measured
    # No handshake completed, each failing as servers turn away clients without SNI, and there
    # was no name to send (an address without --sni): LIV101's evidence, nothing else measured.
    no_name_only: bool = False
    verify_failed: str = ""  # under --verify: why the certificate did not verify
    sni_handshake: Handshake | None = None
    no_sni_handshake: Handshake | None = None
    versions: list[VersionResult] = field(default_factory=list)
    resumption: list[Resumption] = field(default_factory=list)
    keepalive: KeepAlive | None = None
    notes: list[str] = field(default_factory=list)
    started: float = 0.0
    elapsed_s: float = 0.0

    def version(self, name: str) -> VersionResult | None:
        return next((v for v in self.versions if v.version == name), None)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for item in data["resumption"]:
            item["ratio"] = item["resumed"] / item["attempts"] if item["attempts"] else None
        return data


# --------------------------------------------------------------------------- sockets


def resolve(host: str, port: int, timeout: float) -> str:
    """The first address of ``host``, within ``timeout`` (getaddrinfo has none of its own)."""
    if is_address(host):
        return host
    outcome: list[Any] = []

    def lookup() -> None:
        try:
            outcome.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except OSError as error:
            outcome.append(error)

    worker = threading.Thread(target=lookup, name="tlslint-resolve", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise TimeoutError(f"resolving {host} took longer than {timeout:g} s")
    if isinstance(outcome[0], OSError):
        raise outcome[0]
    return str(outcome[0][0][4][0])


def make_context(
    target: Target, version: str | None = None, *, hostname_check: bool = True, verify: bool = True
) -> ssl.SSLContext:
    """``verify=False`` turns verification off even under --verify (measuring past an untrusted chain)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if target.verify and verify:
        if target.cafile:
            context.load_verify_locations(target.cafile)
        else:
            context.load_default_certs()
        context.check_hostname = hostname_check and target.sni is not None
        context.verify_mode = ssl.CERT_REQUIRED
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if version is not None:
        pinned = _tls_version(version)
        if version in LEGACY_VERSIONS:
            # OpenSSL 3 refuses TLS 1.0/1.1 at security level 1 and above (SHA-1 signatures).
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = pinned
            context.maximum_version = pinned
    with contextlib.suppress(NotImplementedError):
        context.set_alpn_protocols(["http/1.1"])
    return context


def local_support(version: str) -> str | None:
    """None when the local OpenSSL can send a ClientHello for ``version``; else why not."""
    try:
        context = make_context(Target("localhost", 443, None, None), version)
        tls = context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=False)
        tls.do_handshake()
    except ssl.SSLWantReadError:
        return None  # the ClientHello is written; it waits for the server
    except (ssl.SSLError, ValueError) as error:
        return f"the local OpenSSL ({ssl.OPENSSL_VERSION}) cannot offer {version}: {error}"
    return None


def classify(error: BaseException) -> tuple[str, str]:
    """(failure kind, detail) for an exception raised while connecting or shaking hands."""
    if isinstance(error, ssl.SSLCertVerificationError):
        return "verify-failed", str(error.verify_message or error)
    if isinstance(error, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return "closed", "the server closed the connection during the handshake"
    if isinstance(error, ssl.SSLError):
        reason = str(error.reason or "")
        upper = reason.upper()
        if "ALERT" in upper or upper == "TLSV1_UNRECOGNIZED_NAME":
            name = upper
            for prefix in ("SSLV3_ALERT_", "TLSV1_ALERT_", "TLSV13_ALERT_", "TLSV1_"):
                name = name.removeprefix(prefix)
            return "alert", name.lower().replace("_", " ")
        if "UNEXPECTED_EOF" in upper:
            return "closed", "the server closed the connection during the handshake"
        if upper in ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE"):
            return "local", str(error)
        return "tls-error", reason.lower().replace("_", " ") or str(error)
    if isinstance(error, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "reset", "connection reset by peer"
    if isinstance(error, TimeoutError):
        return "timeout", str(error) or "timed out"
    if isinstance(error, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(error, OSError):
        return "unreachable" if error.errno in _UNREACHABLE else "error", error.strerror or str(error)
    return "error", f"{type(error).__name__}: {error}"


_UNREACHABLE = {
    getattr(errno, name)
    for name in ("ENETUNREACH", "EHOSTUNREACH", "EHOSTDOWN", "ENETDOWN", "EADDRNOTAVAIL")
    if hasattr(errno, name)
}


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 3)


def _certificate(tls: ssl.SSLSocket) -> Certificate | None:
    der = tls.getpeercert(binary_form=True)
    if not der:
        return None
    cert = Certificate(hashlib.sha256(der).hexdigest())
    decoded = _decode_certificate(der)
    if decoded:
        cert.subject = _name(decoded.get("subject", ()))
        cert.issuer = _name(decoded.get("issuer", ()))
        cert.not_after = str(decoded.get("notAfter", ""))
        cert.names = [
            value for kind, value in decoded.get("subjectAltName", ()) if kind in ("DNS", "IP Address")
        ]
    return cert


def _decode_certificate(der: bytes) -> dict[str, Any]:
    """Subject, issuer, expiry and names of an unverified certificate (stdlib only).

    ``getpeercert()`` returns nothing when verification is off; CPython's
    ``_test_decode_cert`` reads a PEM file. Without it, only the fingerprint is known.
    """
    decode = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decode is None:
        return {}
    handle, name = tempfile.mkstemp(prefix="tlslint-cert-", suffix=".pem")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(ssl.DER_cert_to_PEM_cert(der))
        result = decode(name)
        return dict(result) if isinstance(result, dict) else {}
    except Exception:  # a certificate the decoder does not understand: the fingerprint is enough
        return {}
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _name(rdns: Any) -> str:
    parts = []
    for rdn in rdns:
        for key, value in rdn:
            short = {"commonName": "CN", "organizationName": "O", "countryName": "C"}.get(key, key)
            parts.append(f"{short}={value}")
    return ", ".join(parts)


class Connection:
    """One TCP connection and TLS handshake; ``tls`` is open when it succeeded."""

    def __init__(self, target: Target, address: str) -> None:
        self.target = target
        self.address = address
        self.tls: ssl.SSLSocket | None = None

    def open(
        self,
        context: ssl.SSLContext,
        server_hostname: str | None,
        session: ssl.SSLSession | None = None,
        *,
        certificate: bool = False,
    ) -> Handshake:
        timeout = self.target.timeout
        start = time.perf_counter()
        try:
            raw = socket.create_connection((self.address, self.target.port), timeout=timeout)
        except OSError as error:
            failure, detail = classify(error)
            if failure == "reset":
                failure = "refused"
            return Handshake(False, failure, detail)
        connect_ms = _ms(start)
        raw.settimeout(timeout)
        start = time.perf_counter()
        try:
            tls = context.wrap_socket(raw, server_hostname=server_hostname, session=session)
        except (OSError, ValueError) as error:
            raw.close()
            failure, detail = classify(error)
            return Handshake(False, failure, detail, connect_ms=connect_ms, handshake_ms=_ms(start))
        handshake_ms = _ms(start)
        self.tls = tls
        cipher = tls.cipher()
        return Handshake(
            True,
            protocol=tls.version() or "",
            cipher=cipher[0] if cipher else "",
            resumed=bool(tls.session_reused),
            connect_ms=connect_ms,
            handshake_ms=handshake_ms,
            certificate=_certificate(tls) if certificate else None,
        )

    def close(self) -> None:
        if self.tls is not None:
            with contextlib.suppress(OSError):
                self.tls.close()
            self.tls = None

    def request(self, *, close: bool, wait: float | None = None) -> tuple[int | None, dict[str, str], str]:
        """Send ``HEAD /`` and read the response headers: (status, headers, problem).

        ``wait`` (default: the target's timeout) bounds the whole exchange.
        """
        if self.tls is None:
            return None, {}, "not connected"
        host = self.target.sni or self.target.host
        if ":" in host:
            host = f"[{host}]"
        lines = [
            "HEAD / HTTP/1.1",
            f"Host: {host}",
            f"User-Agent: {USER_AGENT}",
            "Accept: */*",
        ]
        if close:
            lines.append("Connection: close")
        limit = self.target.timeout if wait is None else min(wait, self.target.timeout)
        deadline = time.monotonic() + limit
        try:
            self.tls.settimeout(limit)
            self.tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
            data = b""
            while b"\r\n\r\n" not in data:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None, {}, "timeout: no complete response"
                self.tls.settimeout(remaining)
                chunk = self.tls.recv(4096)
                if not chunk:
                    return (
                        None,
                        {},
                        "closed: the server closed the connection"
                        + (" in the middle of a response" if data else " without a response"),
                    )
                data += chunk
                if len(data) > MAX_HEADER_BYTES:
                    return None, {}, "error: response headers larger than 64 KiB"
        except (OSError, ValueError) as error:
            failure, detail = classify(error)
            return None, {}, f"{failure}: {detail}"
        return _parse_head(data.split(b"\r\n\r\n", 1)[0])


def _parse_head(head: bytes) -> tuple[int | None, dict[str, str], str]:
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        return None, {}, f"error: not an HTTP response ({lines[0][:60]!r})"
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    return int(parts[1]), headers, ""


# --------------------------------------------------------------------------- the probe


class Prober:
    def __init__(self, target: Target, count: int, progress: Progress | None = None) -> None:
        self.target = target
        self.count = count
        self.progress = progress or (lambda _message: None)
        self.address = ""
        self.http = True  # False once a request went unanswered: then only wait briefly for tickets
        # Under --verify, once the chain failed to verify: resumption and keep-alive are measured
        # without verification (the server still completes the handshake).
        self.verify = True

    def connection(self) -> Connection:
        return Connection(self.target, self.address)

    def handshake(self, server_hostname: str | None, *, no_sni: bool = False) -> Handshake:
        # A handshake without SNI cannot check a host name, even with --verify.
        context = make_context(self.target, hostname_check=not no_sni)
        conn = self.connection()
        try:
            handshake = conn.open(context, server_hostname, certificate=True)
        finally:
            conn.close()
        if handshake.failure == "verify-failed":
            # The server sent a certificate (that is what failed to verify): show which one.
            conn = self.connection()
            try:
                unverified = conn.open(
                    make_context(self.target, verify=False), server_hostname, certificate=True
                )
            finally:
                conn.close()
            handshake.certificate = unverified.certificate
        return handshake

    def run(self) -> ProbeResult:
        target = self.target
        result = ProbeResult(
            target.endpoint, target.host, target.port, target.sni, verify=target.verify,
            count=self.count, timeout=target.timeout, started=time.time(),
        )  # fmt: skip
        clock = time.perf_counter()
        try:
            self._run(result)
        finally:
            result.elapsed_s = round(time.perf_counter() - clock, 3)
        return result

    def _run(self, result: ProbeResult) -> None:
        target = self.target
        self.progress("resolving")
        try:
            self.address = target.connect or resolve(target.host, target.port, target.timeout)
        except OSError as error:
            result.error = f"cannot resolve {target.host}: {classify(error)[1]}"
            return
        result.address = self.address
        if not target.verify:
            result.notes.append(
                "certificates were not verified (a probe is diagnostics; --verify checks them)"
            )
        if target.sni is None:
            result.notes.append(
                f"no server name to send as SNI ({target.host} is an address): give --sni NAME "
                "to test the handshake with SNI"
            )
        else:
            self.progress(f"handshake with SNI {target.sni}")
            result.sni_handshake = self.handshake(target.sni)
        if result.sni_handshake is not None and result.sni_handshake.failure in ("refused", "unreachable"):
            result.error = f"cannot connect to {self.address}:{target.port}: {result.sni_handshake.detail}"
            return
        self.progress("handshake without SNI")
        result.no_sni_handshake = self.handshake(None, no_sni=True)
        if result.sni_handshake is None and result.no_sni_handshake.failure in ("refused", "unreachable"):
            result.error = f"cannot connect to {self.address}:{target.port}: {result.no_sni_handshake.detail}"
            return
        reference = result.sni_handshake if result.sni_handshake is not None else result.no_sni_handshake
        if not reference.ok and reference.failure == "timeout" and not result.no_sni_handshake.ok:
            result.error = f"no TLS handshake completed within {target.timeout:g} s"
            return
        failed_verify = next(
            (
                h
                for h in (result.sni_handshake, result.no_sni_handshake)
                if h and h.failure == "verify-failed"
            ),
            None,
        )
        if failed_verify is not None:
            self.verify = False
            result.verify_failed = failed_verify.detail
            result.notes.append(
                f"the certificate did not verify ({failed_verify.detail}); resumption and keep-alive "
                "were measured without verification"
            )
        name = target.sni  # None: the later steps go without SNI
        # With no name to send, a version that fails as the handshake without SNI did is untested.
        no_name = result.no_sni_handshake if name is None else None
        if no_name is not None and not refused_for_no_name(no_name):
            no_name = None
        for version in VERSION_NAMES:
            self.progress(f"protocol {version}")
            result.versions.append(self.probe_version(version, name, no_name, reference))
        for version in RESUMPTION_VERSIONS:
            result.resumption.append(self.measure_resumption(version, name, result.version(version)))
        self.progress("HTTP/1.1 keep-alive")
        result.keepalive = self.measure_keepalive(name)
        if not any(v.status == "accepted" for v in result.versions) and not (
            (result.sni_handshake and result.sni_handshake.ok) or result.no_sni_handshake.ok
        ):
            if no_name is not None:
                result.no_name_only = True
                result.notes.append(
                    f"no handshake completed without SNI ({no_name.describe()}) and there is no name "
                    "to send: versions, resumption and keep-alive were not measured"
                )
            else:
                result.error = "no TLS handshake succeeded: " + reference.describe()
                if not_tls(reference) and not_tls(result.no_sni_handshake):
                    result.error += " (what the server sent back is not TLS: plain HTTP or another protocol?)"

    def probe_version(
        self,
        version: str,
        name: str | None,
        no_name: Handshake | None = None,
        reference: Handshake | None = None,
    ) -> VersionResult:
        """``no_name``: the failed handshake without SNI, when there is no name to send;
        ``reference``: the handshake with the same name and no version pinned.

        ``refused`` is kept for failures about the version (a protocol_version alert, no
        version in common), and for other failures of a version the unpinned handshake
        does not share; a failure that is not about the version is ``inconclusive``.
        """
        problem = local_support(version)
        if problem is not None:
            return VersionResult(version, "not-tested", f"could not test: {problem}")
        conn = self.connection()
        try:
            handshake = conn.open(make_context(self.target, version), name)
        finally:
            conn.close()
        if handshake.ok:
            return VersionResult(version, "accepted", handshake.describe(), handshake)
        if no_name is not None and (handshake.failure, handshake.detail) == (no_name.failure, no_name.detail):
            return VersionResult(
                version, "inconclusive", f"handshake failed without SNI ({handshake.describe()})", handshake
            )
        if handshake.failure in INCONCLUSIVE:
            return VersionResult(version, "inconclusive", handshake.describe(), handshake)
        if handshake.failure == "verify-failed":
            return VersionResult(
                version, "accepted", f"handshake completed; {handshake.describe()}", handshake
            )
        if (handshake.failure, handshake.detail) in VERSION_FAILURES:
            return VersionResult(version, "refused", handshake.describe(), handshake)
        same = reference is not None and (reference.failure, reference.detail) == (
            handshake.failure,
            handshake.detail,
        )
        if same and not_tls(handshake):
            return VersionResult(version, "inconclusive", f"not TLS ({handshake.describe()})", handshake)
        if handshake.failure == "alert" and handshake.detail == "unrecognized name":
            # nginx checks the version first (a protocol_version alert), then the name.
            return VersionResult(
                version,
                "inconclusive",
                f"not measured: the server rejected the name, not the version ({handshake.describe()})",
                handshake,
            )
        if same:
            return VersionResult(
                version,
                "inconclusive",
                f"not measured: the handshake fails with any version ({handshake.describe()})",
                handshake,
            )
        return VersionResult(version, "refused", handshake.describe(), handshake)

    def measure_resumption(self, version: str, name: str | None, offered: VersionResult | None) -> Resumption:
        if offered is not None and offered.status != "accepted":
            status = "not-offered" if offered.status == "refused" else "failed"
            return Resumption(version, status, offered.detail.removeprefix("not measured: "))
        context = make_context(self.target, version, verify=self.verify)
        session: ssl.SSLSession | None = None
        outcome = Resumption(version, "measured")
        full: list[float] = []
        quick: list[float] = []
        for index in range(self.count + 1):
            self.progress(f"resumption {version} {index}/{self.count}")
            conn = self.connection()
            try:
                handshake = conn.open(context, name, session)
                if handshake.ok and conn.tls is not None:
                    # TLS 1.3 tickets come after the handshake: read before taking the session.
                    # A service that does not speak HTTP gets a short wait (tickets come at once).
                    _status, _headers, problem = conn.request(
                        close=True, wait=None if self.http else TICKET_WAIT
                    )
                    if problem.startswith("timeout") and self.http:
                        self.http = False
                    with contextlib.suppress(ValueError):
                        session = conn.tls.session or session
            finally:
                conn.close()
            outcome.connections.append(handshake)
            if index == 0:
                if not handshake.ok:
                    return Resumption(version, "failed", handshake.describe(), connections=[handshake])
                if handshake.handshake_ms is not None:
                    full.append(handshake.handshake_ms)
                continue
            if not handshake.ok:
                outcome.failed += 1
                continue
            outcome.attempts += 1
            if handshake.resumed:
                outcome.resumed += 1
            if handshake.handshake_ms is not None:
                (quick if handshake.resumed else full).append(handshake.handshake_ms)
        outcome.ticket = bool(session.has_ticket) if session is not None else None
        outcome.full_handshake_ms = round(sum(full) / len(full), 3) if full else None
        outcome.resumed_handshake_ms = round(sum(quick) / len(quick), 3) if quick else None
        return outcome

    def measure_keepalive(self, name: str | None) -> KeepAlive:
        conn = self.connection()
        try:
            handshake = conn.open(make_context(self.target, verify=self.verify), name)
            if not handshake.ok:
                without = " without SNI" if name is None else ""
                return KeepAlive("failed", f"no handshake{without}: {handshake.describe()}")
            start = time.perf_counter()
            status, headers, problem = conn.request(close=False)
            first_ms = _ms(start)
            if status is None:
                return KeepAlive("failed", f"no HTTP response to the first request ({problem})")
            result = KeepAlive(
                "honoured",
                first_status=status,
                connection_header=headers.get("connection", ""),
                keep_alive_header=headers.get("keep-alive", ""),
                first_ms=first_ms,
            )
            start = time.perf_counter()
            second, _headers, problem = conn.request(close=True)
            result.second_ms = _ms(start)
            result.second_status = second
            if second is None:
                said = "said Connection: close and " if "close" in result.connection_header.lower() else ""
                if problem.startswith(("closed:", "reset:")) and closes_after(status):
                    result.status = "inconclusive"
                    result.detail = (
                        f"not measured: HEAD / answered HTTP {status} and the server {said}closed the "
                        "connection, as nginx and others do after such an error whatever their "
                        "keep-alive settings"
                    )
                elif problem.startswith(("closed:", "reset:")):
                    result.status = "closed"
                    result.detail = (
                        f"the server {said}closed the connection after the first response (HTTP {status})"
                    )
                else:  # kept open but unanswered: not evidence either way
                    result.status = "failed"
                    result.detail = f"no response to a second request on the connection ({problem})"
            return result
        finally:
            conn.close()


def probe(target: Target, count: int = 10, progress: Progress | None = None) -> ProbeResult:
    return Prober(target, count, progress).run()
