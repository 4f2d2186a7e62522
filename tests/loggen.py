"""Seeded access logs with a known ground truth, for tests/test_logs.py and the benchmark.

``generate_nginx(spec, stream)`` writes an nginx access log in one of tlslint's
built-in formats: steady background traffic (connections with 1 to 3 requests,
each connection resumed with a per-server-name probability), *spike* minutes with
many extra full handshakes spread over many clients, and *flooding* clients that
make a known number of full handshakes in known minutes. ``generate_envoy`` writes
Apigee hybrid / Envoy ingress JSON lines with known non-SNI resets.

The truth is counted from the lines as they are written, by the definitions the
analyser documents (a handshake is the first request of a connection, or every
request when the format has no ``$connection_requests``), so it is exact whatever
the random draws were. The spec's spikes and flooders are what the tests expect
the analyser to *find*; the generator keeps background traffic far from both
thresholds so that nothing else is found.

``python tests/loggen.py --size 1G OUT`` writes a large log (no truth kept beyond
totals), for ``tests/bench/bench_logs.py``.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple, TextIO

START = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
CIPHERS = {"TLSv1.3": "TLS_AES_128_GCM_SHA256", "TLSv1.2": "ECDHE-RSA-AES128-GCM-SHA256"}
AGENTS = (
    "okhttp/4.12.0",
    "curl/8.5.0",
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0",
    "python-requests/2.32",
)
PATHS = ("/", "/api/v1/orders", "/api/v1/orders/42", "/static/app.js", "/health")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass
class Spec:
    seed: int = 7
    start: datetime = START
    minutes: int = 60
    connections: tuple[int, int] = (300, 340)  # background TLS connections per minute
    requests: tuple[int, int] = (1, 3)  # requests per connection
    names: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {"api.example.com": (0.75, 0.75), "legacy.example.com": (0.25, 0.2)}
    )  # name -> (share of connections, probability of resuming)
    spikes: dict[int, int] = field(default_factory=lambda: {17: 800, 41: 700})  # minute -> extra full
    flooders: dict[str, dict[int, int]] = field(
        default_factory=lambda: {"203.0.113.66": {25: 40, 26: 35, 27: 12}, "198.51.100.99": {50: 18}}
    )  # client -> minute -> full handshakes
    pool: int = 4000  # background client addresses
    format: str = "tls+sni"  # tls+sni | tls | tls-compact
    keep_truth: bool = True
    max_bytes: int = 0  # stop after the minute that reaches this size (0: all minutes)


class Event(NamedTuple):
    when: float
    line: str
    client: str
    name: str
    reused: bool
    number: int  # request number on its connection


@dataclass
class Truth:
    lines: int = 0
    connections: int = 0  # handshake events (first requests, or every TLS request without reqs=)
    resumed: int = 0
    full_per_minute: list[int] = field(default_factory=list)
    names: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    client_minute: Counter[tuple[str, int]] = field(default_factory=Counter)
    client_full: Counter[str] = field(default_factory=Counter)
    first_full_line: int = 0
    bytes: int = 0
    minute_first_line: dict[int, int] = field(default_factory=dict)
    name_first_full_line: dict[str, int] = field(default_factory=dict)
    client_minute_lines: dict[tuple[str, int], list[int]] = field(default_factory=lambda: defaultdict(list))

    @property
    def full(self) -> int:
        return self.connections - self.resumed

    def offenders(self, limit: int) -> dict[str, tuple[int, int]]:
        """client -> (max per minute, minutes over the limit)."""
        found: dict[str, tuple[int, int]] = {}
        for (client, _minute), count in self.client_minute.items():
            if count > limit:
                peak, minutes = found.get(client, (0, 0))
                found[client] = (max(peak, count), minutes + 1)
        return found

    def crossing_line(self, client: str, limit: int) -> int:
        """The line of the client's full handshake number limit + 1 in its first minute over the limit."""
        minutes = sorted(m for (c, m), count in self.client_minute.items() if c == client and count > limit)
        return self.client_minute_lines[(client, minutes[0])][limit]


def _time_local(seconds: float) -> str:
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return f"{stamp.day:02d}/{MONTHS[stamp.month - 1]}/{stamp.year}:{stamp:%H:%M:%S} +0000"


def _line(fmt: str, client: str, when: float, path: str, agent: str, protocol: str, reused: bool,
          conn: int, reqs: int, name: str) -> str:  # fmt: skip
    flag = "r" if reused else "."
    head = f'{client} - - [{_time_local(when)}] "GET {path} HTTP/1.1" 200 {512 + len(path)} "-" "{agent}"'
    cipher = CIPHERS[protocol]
    if fmt == "tls-compact":
        return f"{head} {protocol}/{cipher} {flag} {name}\n"
    tail = f" {protocol} {cipher} {flag} conn={conn} reqs={reqs} rt=0.00{reqs}"
    if fmt == "tls+sni":
        tail += f" sni={name}"
    return head + tail + "\n"


class _Writer:
    def __init__(self, spec: Spec, stream: TextIO) -> None:
        self.spec = spec
        self.stream = stream
        self.truth = Truth(full_per_minute=[0] * spec.minutes if spec.keep_truth else [])
        self.exact = spec.format != "tls-compact"
        self.conn = 1000

    def connection(self, rng: random.Random, minute: int, client: str, name: str, reused: bool,
                   requests: int, events: list[Event]) -> None:  # fmt: skip
        base = self.spec.start.timestamp() + minute * 60
        self.conn += 1
        protocol = "TLSv1.3" if rng.random() < 0.8 else "TLSv1.2"
        agent = rng.choice(AGENTS)
        second = rng.randrange(0, 60 - requests)
        for number in range(1, requests + 1):
            line = _line(self.spec.format, client, base + second + number - 1, rng.choice(PATHS), agent,
                         protocol, reused, self.conn, number, name)  # fmt: skip
            events.append(Event(base + second + number - 1, line, client, name, reused, number))

    def flush(self, minute: int, events: list[Event]) -> None:
        events.sort(key=lambda event: event[0])
        truth = self.truth
        write = self.stream.write
        for _when, line, client, name, reused, number in events:
            write(line)
            truth.lines += 1
            truth.bytes += len(line)
            if self.spec.keep_truth:
                truth.minute_first_line.setdefault(minute, truth.lines)
            if self.exact and number != 1:
                continue
            truth.connections += 1
            if self.spec.keep_truth:
                stat = truth.names[name]
                stat[0] += 1
            if reused:
                truth.resumed += 1
                if self.spec.keep_truth:
                    truth.names[name][1] += 1
                continue
            if not truth.first_full_line:
                truth.first_full_line = truth.lines
            if self.spec.keep_truth:
                truth.full_per_minute[minute] += 1
                truth.client_minute[(client, minute)] += 1
                truth.client_minute_lines[(client, minute)].append(truth.lines)
                truth.client_full[client] += 1
                truth.name_first_full_line.setdefault(name, truth.lines)


def generate_nginx(spec: Spec, stream: TextIO) -> Truth:
    rng = random.Random(spec.seed)
    writer = _Writer(spec, stream)
    names = list(spec.names)
    weights = [spec.names[n][0] for n in names]
    pool = [f"10.{i // 62500 % 250}.{i // 250 % 250}.{i % 250 + 1}" for i in range(spec.pool)]
    for minute in range(spec.minutes):
        events: list[Event] = []
        # Background clients make at most 4 full handshakes a minute, far below any limit tested.
        budget: Counter[str] = Counter()
        for _ in range(rng.randint(*spec.connections)):
            name = rng.choices(names, weights)[0]
            reused = rng.random() < spec.names[name][1]
            client = rng.choice(pool)
            while not reused and budget[client] >= 4:
                client = rng.choice(pool)
            if not reused:
                budget[client] += 1
            writer.connection(rng, minute, client, name, reused, rng.randint(*spec.requests), events)
        for _ in range(spec.spikes.get(minute, 0)):
            client = rng.choice(pool)
            while budget[client] >= 4:
                client = rng.choice(pool)
            budget[client] += 1
            writer.connection(rng, minute, client, rng.choices(names, weights)[0], False, 1, events)
        for client, minutes in spec.flooders.items():
            for _ in range(minutes.get(minute, 0)):
                writer.connection(rng, minute, client, names[0], False, 1, events)
        writer.flush(minute, events)
        if spec.max_bytes and writer.truth.bytes >= spec.max_bytes:
            break
    return writer.truth


# --------------------------------------------------------------------------- Envoy / Apigee


@dataclass
class EnvoySpec:
    seed: int = 11
    start: datetime = START
    minutes: int = 30
    requests: tuple[int, int] = (20, 30)  # per minute, with SNI
    resets: dict[str, list[int]] = field(
        default_factory=lambda: {"10.138.0.28": [3, 3, 4, 9, 20], "10.138.0.41": [12], "172.16.5.9": [12, 13]}
    )  # client -> minutes with one non-SNI reset each (repeats allowed)
    unknown_sni: dict[str, int] = field(default_factory=lambda: {"old.example.com": 3})  # SNI, no chain


@dataclass
class EnvoyTruth:
    lines: int = 0
    resets: int = 0
    first: str = ""
    last: str = ""
    first_line: int = 0
    clients: Counter[str] = field(default_factory=Counter)
    unknown_sni: int = 0


def _iso_ms(seconds: float) -> str:
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def generate_envoy(spec: EnvoySpec, stream: TextIO) -> EnvoyTruth:
    rng = random.Random(spec.seed)
    truth = EnvoyTruth()
    base = spec.start.timestamp()
    events: list[tuple[float, dict[str, object]]] = []
    for minute in range(spec.minutes):
        for _ in range(rng.randint(*spec.requests)):
            when = base + minute * 60 + rng.randrange(60000) / 1000
            address = f"10.138.1.{rng.randrange(1, 200)}:{rng.randrange(20000, 60000)}"
            events.append((when, {
                "start_time": _iso_ms(when), "remote_address": address,
                "request": "GET /v1/orders HTTP/1.1", "status": 200, "status_details": "via_upstream",
                "upstream_response_flags": "-", "bytes_received": 0, "sni_host": "api-test.mydomain.com",
                "tls_protocol": "TLSv1.3",
            }))  # fmt: skip
    for client, minutes in spec.resets.items():
        for minute in minutes:
            when = base + minute * 60 + rng.randrange(60000) / 1000
            events.append((when, _reset(when, client, rng, None)))
    for name, count in spec.unknown_sni.items():
        for _ in range(count):
            when = base + rng.randrange(spec.minutes * 60000) / 1000
            events.append((when, _reset(when, "10.138.2.7", rng, name)))
    events.sort(key=lambda event: event[0])
    for when, entry in events:
        stream.write(json.dumps(entry, separators=(",", ":")) + "\n")
        truth.lines += 1
        if entry["status_details"] != "filter_chain_not_found":
            continue
        if entry["sni_host"] is not None:
            truth.unknown_sni += 1
            continue
        truth.resets += 1
        truth.first = truth.first or _iso_ms(when)
        truth.last = _iso_ms(when)
        truth.first_line = truth.first_line or truth.lines
        truth.clients[str(entry["remote_address"]).rsplit(":", 1)[0]] += 1
    return truth


def _reset(when: float, client: str, rng: random.Random, sni: str | None) -> dict[str, object]:
    return {
        "request_time": 1, "tls_protocol": None, "upstream_service_time": None, "request_method": None,
        "start_time": _iso_ms(when), "bytes_sent": 0, "bytes_received": 0, "host": None,
        "remote_address": f"{client}:{rng.randrange(20000, 60000)}", "request": "- - -",
        "status_details": "filter_chain_not_found", "status": 0, "x_forwarded_for": None,
        "upstream_response_flags": "NR", "sni_host": sni,
    }  # fmt: skip


# --------------------------------------------------------------------------- large files


def generate_size(path: Path, size: int, seed: int = 3) -> Truth:
    """A tls+sni log of at least ``size`` bytes (whole minutes); truth totals only."""
    minutes = 10**6  # an upper bound: generation stops at the size
    spec = Spec(seed=seed, minutes=minutes, keep_truth=False, spikes={}, flooders={}, max_bytes=size)
    with path.open("w", encoding="utf-8", buffering=1 << 20) as stream:
        return generate_nginx(spec, stream)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--size", default="1G", help="approximate size: 100M, 1G")
    args = parser.parse_args(argv)
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    size = (
        int(float(args.size[:-1]) * units[args.size[-1].upper()])
        if args.size[-1].isalpha()
        else int(args.size)
    )
    truth = generate_size(args.output, size)
    print(json.dumps({"lines": truth.lines, "bytes": truth.bytes, "connections": truth.connections,
                      "resumed": truth.resumed}), file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    main()
