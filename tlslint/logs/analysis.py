"""One streaming pass over access logs, then LOG101 to LOG104.

Memory is constant in the number of lines, except for:

* per-window counters: one small list per window that has entries (a day of
  one-minute windows is 1,440 of them); the series adds the empty windows of gaps
  up to ``BREAK_SECONDS`` only (see ``series``);
* per-client counters, capped: full handshakes per client overall (``CLIENT_CAP``
  addresses) and per client per minute for the minutes still open (``MINUTE_CAP``
  addresses each, ``LAG + 1`` minutes open). When a map outgrows its cap, the
  addresses with the smallest counts (the lower half) are dropped, and the largest
  count ever dropped is reported as the error bound: the counts of the top clients
  are then lower bounds that may be short by at most that much. Below the caps
  every count is exact, and the report says which it is;
* per server name (``NAME_CAP`` names) and per offending client (``OFFENDER_CAP``),
  capped the same way.

Files are read together, merged by time (``heapq.merge``: each file in order, or
nearly), so rotated files can be given in any order and files of one period (one
per node) count as one log. Per client, minutes are closed as the log's time moves on
(``LAG`` minutes after). One line never moves that clock far: a full handshake more than
``LAG`` minutes ahead of it or in a closed minute moves it only when the next full
handshake agrees (a gap in the log, a clock stepped back); otherwise it is a stray line,
counted in its own minute (ahead), or, in a closed minute, still counted in its window
but no longer per client. The report counts both.

Server names are grouped case-insensitively (DNS names are; nginx logs ``$ssl_server_name`` as
the client sent it) and reported in lowercase.

Handshakes: a TLS entry with ``$ssl_session_reused`` ``.`` is a full handshake,
``r`` a resumed one. With ``$connection_requests`` only the first request of a
connection counts (the one that paid the handshake); without it, every request is
counted as a connection, and the report says that this overstates handshakes on
keep-alive traffic.
"""

from __future__ import annotations

import bisect
import contextlib
import heapq
import itertools
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tlslint.logs.formats import NO_FILTER_CHAIN, NON_SNI_RESET, Entry, LogFormat

CLIENT_CAP = 50_000
MINUTE_CAP = 100_000
NAME_CAP = 2_000
OFFENDER_CAP = 1_000
RESET_CLIENT_CAP = 10_000
LAG = 2  # minutes kept open for entries that arrive out of order
STRAY_MINUTES_CAP = 1_000  # open minutes, counting those of stray lines ahead of the clock
_NEVER = -(10**12)
HELD_LINES_CAP = 100  # lines not understood held behind a line far ahead while merging files
TOP = 20  # clients, names and offenders listed
BREAK_SECONDS = 3600  # a longer run of empty windows is a break in the log, not quiet traffic

# Window row: counts, then where its first entry is.
ENTRIES, CONNECTIONS, FULL, RESUMED, RESETS, FIRST_FILE, FIRST_LINE = range(7)


class CappedCounter:
    """A dict of counts that never holds more than ``capacity`` keys (see the module doc)."""

    __slots__ = ("capacity", "counts", "dropped_max", "pruned")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.counts: dict[str, int] = {}
        self.dropped_max = 0  # the largest count dropped: the error bound of every count
        self.pruned = 0

    def add(self, key: str, amount: int = 1) -> int:
        counts = self.counts
        value = counts.get(key, 0) + amount
        counts[key] = value
        if len(counts) > self.capacity:
            self._prune()
            return self.counts.get(key, 0)
        return value

    def _prune(self) -> None:
        values = sorted(self.counts.values())
        cut = values[len(values) // 2]
        self.counts = {key: value for key, value in self.counts.items() if value > cut}
        self.dropped_max = max(self.dropped_max, cut)
        self.pruned += 1

    @property
    def exact(self) -> bool:
        return self.pruned == 0

    def top(self, count: int) -> list[tuple[str, int]]:
        return sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[:count]

    def __len__(self) -> int:
        return len(self.counts)


@dataclass
class FileStats:
    path: Path
    format: dict[str, Any]
    compression: str | None = None
    lines: int = 0  # last line number read
    entries: int = 0  # parsed
    unparsed: int = 0
    before_since: int = 0
    first_time: float | None = None
    last_time: float | None = None
    first_unparsed_line: int = 0


@dataclass
class Offender:
    client: str
    minutes_over: int = 0
    max_per_minute: int = 0
    max_minute: int = 0  # minute index (epoch // 60)
    first_minute: int = 0
    handshakes_in_minutes_over: int = 0
    where: tuple[int, int] | None = None  # (file index, line) where it first went over


@dataclass
class NameStats:
    connections: int = 0
    resumed: int = 0
    first_full: tuple[int, int] | None = None


@dataclass
class Options:
    window: int = 60  # seconds
    since: float | None = None
    per_client_limit: int = 10  # full handshakes per client per minute
    count_clients: bool = True


class Analysis:
    """Feed it files (``consume``), then ``finish``."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.files: list[FileStats] = []
        self.windows: dict[int, list[int]] = {}
        self.connections = 0
        self.resumed = 0
        self.full = 0
        self.first_full: tuple[int, int] | None = None
        self.names: dict[str, NameStats] = {}
        self.names_dropped = 0
        self.clients = CappedCounter(CLIENT_CAP)
        self.open_minutes: dict[int, CappedCounter] = {}
        self.crossings: dict[tuple[int, str], tuple[int, int]] = {}
        self.newest_minute = _NEVER  # the clock (see _place)
        self.closed_before = _NEVER  # minutes below this are closed
        self.held: tuple[int, str, tuple[int, int]] | None = None  # (minute, client, where)
        self.late = 0  # full handshakes in closed minutes: not counted per client
        self.strays = 0  # full handshakes far from the clock that the next one did not follow
        self.stray_where: tuple[int, int] | None = None
        self.steps_back = 0  # times the log's time went back by more than LAG minutes
        self.step_back_where: tuple[int, int] | None = None
        self.offenders: dict[str, Offender] = {}
        self.offenders_dropped = 0
        self.minute_dropped_max = 0
        self.resets = 0
        self.reset_first: float | None = None
        self.reset_last: float | None = None
        self.reset_where: tuple[int, int] | None = None
        self.reset_clients = CappedCounter(RESET_CLIENT_CAP)
        self.unknown_sni = 0
        self.unknown_sni_names = CappedCounter(NAME_CAP)
        self.has_reuse = False
        self.exact_connections = True
        self.has_names = False
        self.has_ingress = False
        self.notes: list[str] = []
        self.elapsed = 0.0
        self.bytes_read = 0  # on disk (compressed files count compressed)
        self.breaks: list[tuple[int, int, int]] = []  # (window before, window after, entries before)

    # ------------------------------------------------------------------ the pass

    def consume(self, stats: FileStats, fmt: LogFormat, lines: Iterable[str]) -> None:
        self.consume_all([(stats, fmt, lines)])

    def consume_all(self, inputs: list[tuple[FileStats, LogFormat, Iterable[str]]]) -> None:
        """Read files together, merged by time: files of the same period (one per node) then count
        as one log, per client per minute too. Each file is taken to be in order (or nearly: see LAG)."""
        start = time.perf_counter()
        streams = []
        for stats, fmt, lines in inputs:
            index = len(self.files)
            self.files.append(stats)
            self.has_reuse |= fmt.has_reuse
            self.exact_connections &= fmt.exact_connections or not fmt.has_reuse
            self.has_names |= fmt.has_server_name
            self.has_ingress |= fmt.has_ingress
            streams.append((index, fmt.read(lines)))
        if len(streams) == 1:  # the common case, kept cheap: no merge
            self._consume(zip(itertools.repeat(streams[0][0]), streams[0][1]))
        else:
            merged = heapq.merge(*(_timed(index, entries) for index, entries in streams))
            self._consume((index, pair) for _, index, pair in merged)
        for stats, _, _ in inputs:
            with contextlib.suppress(OSError):
                self.bytes_read += stats.path.stat().st_size
        self.elapsed += time.perf_counter() - start

    def _consume(self, entries: Iterator[tuple[int, tuple[int, Entry | None]]]) -> None:
        window = self.options.window
        since = self.options.since
        limit = self.options.per_client_limit
        count_clients = self.options.count_clients
        windows = self.windows
        names = self.names
        clients = self.clients
        crossings = self.crossings
        files = self.files
        current_minute = None
        minute_counter: CappedCounter | None = None
        for index, (number, entry) in entries:
            stats = files[index]
            stats.lines = number  # the last number is the line count
            if entry is None:
                stats.unparsed += 1
                if not stats.first_unparsed_line:
                    stats.first_unparsed_line = number
                continue
            moment = entry[0]
            if since is not None and moment < since:
                stats.before_since += 1
                continue
            stats.entries += 1
            if stats.first_time is None or moment < stats.first_time:
                stats.first_time = moment
            if stats.last_time is None or moment > stats.last_time:
                stats.last_time = moment
            key = int(moment // window)
            row = windows.get(key)
            if row is None:
                row = windows[key] = [0, 0, 0, 0, 0, index, number]
            row[0] += 1
            kind = entry[2]
            if kind:
                if kind == NON_SNI_RESET:
                    row[RESETS] += 1
                    self._reset(entry, index, number)
                elif kind == NO_FILTER_CHAIN:
                    self.unknown_sni += 1
                    self.unknown_sni_names.add(entry[6].lower())
                continue
            reused = entry[4]
            if reused is None or entry[5] is False:  # no reuse information, or a later request
                continue
            row[CONNECTIONS] += 1
            self.connections += 1
            name = entry[6]
            if name:
                name = name.lower()  # as sent: "A.Test" and "a.test" are one DNS name
                stat = names.get(name)
                if stat is None:
                    if len(names) >= NAME_CAP:
                        self._prune_names()
                    stat = names[name] = NameStats()
                stat.connections += 1
                if reused:
                    stat.resumed += 1
                elif stat.first_full is None:
                    stat.first_full = (index, number)
            if reused:
                row[RESUMED] += 1
                self.resumed += 1
                continue
            row[FULL] += 1
            self.full += 1
            if self.first_full is None:
                self.first_full = (index, number)
            if not count_clients:
                continue
            client = entry[1]
            clients.add(client)
            minute = int(moment // 60)
            if minute == current_minute:  # the common case: the minute of the entry before
                if minute_counter.add(client) == limit + 1:  # type: ignore[union-attr]
                    crossings.setdefault((minute, client), (index, number))
                continue
            minute_counter = self._place(minute, client, (index, number))
            current_minute = minute if minute_counter is not None else None

    # Per-client minutes and the log's clock. The clock is the newest minute of the full
    # handshakes; minutes more than LAG before it are closed (judged, then forgotten). One entry
    # never moves the clock far: an entry more than LAG minutes ahead of it, or in a closed minute,
    # is held until the next full handshake, which tells a stray line (a line dated a day ahead, or
    # a late one) from a log whose time really moved on (a gap, a clock stepped back): the held
    # entry moves the clock only when the next one agrees with it. The first entry is held too, so
    # that a stray first line does not set the clock.

    def _place(self, minute: int, client: str, where: tuple[int, int]) -> CappedCounter | None:
        """Count one full handshake per client; the counter of its minute when the entry was counted
        in the clock's stretch (the caller's cache for the entries that follow), else None."""
        held = self.held
        if held is not None:
            self.held = None
            self._judge_held(held, minute)
        if minute > self.newest_minute + LAG or minute < self.closed_before:
            self.held = (minute, client, where)
            return None
        return self._add(minute, client, where)

    def _judge_held(self, held: tuple[int, str, tuple[int, int]], following: int) -> None:
        minute, client, where = held
        ahead = minute > self.newest_minute
        if ahead:  # the log went on there (the next entry is there or later), or a stray line from ahead
            agreed = following >= minute - LAG
        else:  # the clock was stepped back (the next entry is near it too), or a late line
            agreed = following < self.closed_before and abs(following - minute) <= LAG
        if agreed:
            if not ahead:
                self.steps_back += 1
                self.step_back_where = self.step_back_where or where
                self.closed_before = minute - LAG  # reopened: minutes from here on count again
            self.newest_minute = minute
            self._add(minute, client, where)
            return
        if ahead and len(self.open_minutes) < STRAY_MINUTES_CAP:
            self.strays += 1
            self.stray_where = self.stray_where or where
            self._add(minute, client, where, move=False)  # counted in its own minute, the clock stays
        else:
            self.late += 1

    def _add(self, minute: int, client: str, where: tuple[int, int], move: bool = True) -> CappedCounter:
        if move and minute > self.newest_minute:
            self.newest_minute = minute
        if move:
            self._close_minutes(self.newest_minute - LAG)
        counter = self.open_minutes.get(minute)
        if counter is None:
            counter = self.open_minutes[minute] = CappedCounter(MINUTE_CAP)
        if counter.add(client) == self.options.per_client_limit + 1:
            self.crossings.setdefault((minute, client), where)
        return counter

    def _close_minutes(self, before: int) -> None:
        if before <= self.closed_before:
            return
        self.closed_before = before
        for minute in sorted(m for m in self.open_minutes if m < before):
            self._close(minute, self.open_minutes.pop(minute))

    def _close(self, minute: int, counter: CappedCounter) -> None:
        limit = self.options.per_client_limit
        self.minute_dropped_max = max(self.minute_dropped_max, counter.dropped_max)
        for client, count in counter.counts.items():
            if count <= limit:
                continue
            where = self.crossings.pop((minute, client), None)
            offender = self.offenders.get(client)
            if offender is None:
                if len(self.offenders) >= OFFENDER_CAP:
                    self._prune_offenders()
                offender = self.offenders[client] = Offender(client, first_minute=minute, where=where)
            offender.minutes_over += 1
            offender.handshakes_in_minutes_over += count
            if count > offender.max_per_minute:
                offender.max_per_minute, offender.max_minute = count, minute
            if minute < offender.first_minute:
                offender.first_minute, offender.where = minute, where or offender.where
        for key in [k for k in self.crossings if k[0] == minute]:
            del self.crossings[key]

    def _prune_offenders(self) -> None:
        ranked = sorted(self.offenders.values(), key=lambda o: (o.max_per_minute, o.minutes_over))
        for offender in ranked[: len(ranked) // 2]:
            del self.offenders[offender.client]
            self.offenders_dropped += 1

    def _prune_names(self) -> None:
        ranked = sorted(self.names.items(), key=lambda item: item[1].connections)
        for name, _ in ranked[: len(ranked) // 2]:
            del self.names[name]
            self.names_dropped += 1

    def _reset(self, entry: Entry, index: int, number: int) -> None:
        self.resets += 1
        moment = entry[0]
        if self.reset_first is None or moment < self.reset_first:
            self.reset_first = moment
        if self.reset_last is None or moment > self.reset_last:
            self.reset_last = moment
        if self.reset_where is None:
            self.reset_where = (index, number)
        self.reset_clients.add(entry[1])

    def finish(self) -> None:
        if self.held is not None:  # nothing after it to tell: counted where it is
            minute, client, where = self.held
            self.held = None
            self._add(minute, client, where, move=False)
        self._close_minutes(10**12)

    # ------------------------------------------------------------------ results

    def series(self) -> tuple[list[int], list[list[int]]]:
        """(window keys, rows): the windows with entries, and the empty ones inside a stretch of activity.

        A run of empty windows lasting at most ``BREAK_SECONDS`` is quiet traffic and counts
        (as zeros); a longer one is a break in the log (a stray line from another day, a
        server that was off) and is left out, so that it neither costs memory nor swamps
        the baseline. ``breaks`` lists them for the report.
        """
        keys: list[int] = []
        rows: list[list[int]] = []
        self.breaks = []
        bridge = max(BREAK_SECONDS // self.options.window, 0)
        previous: int | None = None
        for key in sorted(self.windows):
            if previous is not None and key - previous > 1:
                if key - previous - 1 <= bridge:
                    for empty in range(previous + 1, key):
                        keys.append(empty)
                        rows.append([0, 0, 0, 0, 0, -1, 0])
                else:
                    self.breaks.append((previous, key, sum(row[ENTRIES] for row in rows)))
            keys.append(key)
            rows.append(self.windows[key])
            previous = key
        return keys, rows

    def location(self, where: tuple[int, int] | None) -> tuple[Path, int]:
        if where is None:
            return (self.files[0].path if self.files else Path("-")), 0
        return self.files[where[0]].path, where[1]


def _timed(
    index: int, entries: Iterator[tuple[int, Entry | None]]
) -> Iterator[tuple[float, int, tuple[int, Entry | None]]]:
    """(time, file index, (line, entry)) for heapq.merge; a line not understood keeps the time before it.

    A line more than ``LAG`` minutes ahead of the one before waits for the next line with a time,
    as in Analysis._place: when that one is back near the time before, the line is a stray and is
    merged where it stands in its file (at the time before it), not after every line of the other
    files up to its date, which would leave the rest of its file behind them, out of order.
    """
    moment = -math.inf
    jump = LAG * 60
    held: list[tuple[int, Entry | None]] = []  # a line far ahead, then lines not understood after it
    held_time = 0.0
    for pair in entries:
        entry = pair[1]
        if held:
            if entry is None and len(held) < HELD_LINES_CAP:
                held.append(pair)
                continue
            stray = entry is not None and entry[0] < held_time - jump
            if not stray:
                moment = held_time
            for waiting in held:
                yield moment, index, waiting
            held = []
        if entry is None:
            yield moment, index, pair
            continue
        when = entry[0]
        if when > moment + jump:  # the first line too (moment is -inf)
            held, held_time = [pair], when
            continue
        moment = when
        yield moment, index, pair
    if held:
        for waiting in held:
            yield held_time, index, waiting


# --------------------------------------------------------------------------- spikes


@dataclass
class Baseline:
    windows: int
    mean: float
    std: float
    p95: float
    threshold: float
    source: str  # "rest" (the analysed windows that are not spikes) or "file" (--baseline)


@dataclass
class Spike:
    window: int  # index into the series
    count: int
    threshold: float
    mean: float
    std: float
    p95: float


def percentile95(sorted_values: list[int]) -> float:
    """Nearest-rank 95th percentile of sorted values."""
    if not sorted_values:
        return 0.0
    rank = math.ceil(0.95 * len(sorted_values))
    return float(sorted_values[max(rank, 1) - 1])


def threshold(mean: float, std: float, p95: float, method: str) -> float:
    sigma, doubled = mean + 3 * std, 2 * p95
    return {
        "both": max(sigma, doubled),
        "either": min(sigma, doubled),
        "sigma": sigma,
        "p95": doubled,
    }[method]


def _stats(values: list[int]) -> tuple[float, float, float]:
    """(mean, population standard deviation, nearest-rank p95)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(max(sum(v * v for v in values) / n - mean * mean, 0.0))
    return mean, std, percentile95(sorted(values))


def find_spikes(
    counts: list[int],
    baseline: list[int] | None,
    *,
    method: str = "both",
    min_windows: int = 10,
    min_handshakes: int = 10,
) -> tuple[Baseline | None, list[Spike]]:
    """Windows above one threshold, computed from the baseline's windows.

    With ``baseline`` (another file's windows) the threshold comes from them. Without,
    from the analysed windows themselves, in two passes so that spikes do not raise
    the threshold they are judged by: first each window is tested against all the
    *other* windows (leave-one-out); then the threshold is computed from the windows
    that did not stand out, and every window is judged by it.
    """
    source = "file" if baseline is not None else "rest"
    if baseline is None:
        n = len(counts)
        if n < min_windows + 1:
            return None, []
        total = sum(counts)
        squares = sum(c * c for c in counts)
        ordered = sorted(counts)
        rest = n - 1
        candidates = set()
        for index, count in enumerate(counts):
            if count < min_handshakes:
                continue
            mean = (total - count) / rest
            std = math.sqrt(max((squares - count * count) / rest - mean * mean, 0.0))
            if count > threshold(mean, std, _p95_without(ordered, count), method):
                candidates.add(index)
        reference = [c for i, c in enumerate(counts) if i not in candidates]
    else:
        reference = baseline
    if len(reference) < min_windows:
        return None, []
    mean, std, p95 = _stats(reference)
    limit = threshold(mean, std, p95, method)
    summary = Baseline(len(reference), mean, std, p95, limit, source)
    spikes = [
        Spike(index, count, limit, mean, std, p95)
        for index, count in enumerate(counts)
        if count >= min_handshakes and count > limit
    ]
    return summary, spikes


def _p95_without(ordered: list[int], value: int) -> float:
    """The nearest-rank p95 of ``ordered`` with one occurrence of ``value`` removed."""
    size = len(ordered) - 1
    rank = max(math.ceil(0.95 * size), 1) - 1
    position = bisect.bisect_left(ordered, value)
    return float(ordered[rank] if rank < position else ordered[rank + 1])


def episodes(spikes: list[Spike], keys: list[int] | None = None) -> list[list[Spike]]:
    """Consecutive spike windows, grouped (``keys``: rows on both sides of a break are not consecutive)."""
    groups: list[list[Spike]] = []
    for spike in spikes:
        last = groups[-1][-1].window if groups else None
        if last == spike.window - 1 and (keys is None or keys[last] == keys[spike.window] - 1):
            groups[-1].append(spike)
        else:
            groups.append([spike])
    return groups


def iso(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc)
    text = stamp.isoformat(timespec="milliseconds" if seconds % 1 else "seconds")
    return text.replace("+00:00", "Z")


@dataclass
class Report:
    """Everything measured, for every format (``as_dict`` is the JSON ``logs`` member)."""

    analysis: Analysis
    window: int
    keys: list[int]  # the window (epoch // window) of each row
    rows: list[list[int]]
    baseline: Baseline | None
    spikes: list[Spike]
    method: str
    limit: int
    notes: list[str] = field(default_factory=list)
    baseline_files: list[str] = field(default_factory=list)

    def window_start(self, index: int) -> float:
        return float(self.keys[index] * self.window)

    def as_dict(self) -> dict[str, Any]:
        a = self.analysis
        spikes_at = {s.window: s for s in self.spikes}
        elapsed = a.elapsed or 1e-9
        return {
            "files": [
                {
                    "path": str(f.path),
                    "format": f.format,
                    "compression": f.compression,
                    "lines": f.lines,
                    "entries": f.entries,
                    "unparsed": f.unparsed,
                    "first_unparsed_line": f.first_unparsed_line or None,
                    "before_since": f.before_since,
                    "first": iso(f.first_time),
                    "last": iso(f.last_time),
                }
                for f in a.files
            ],
            "window_seconds": self.window,
            "since": iso(a.options.since),
            "handshakes_known": a.has_reuse,
            "exact_connections": a.exact_connections,
            "connections": a.connections,
            "resumed": a.resumed,
            "full_handshakes": a.full,
            "resumed_ratio": a.resumed / a.connections if a.connections else None,
            "server_names": [
                {
                    "name": name,
                    "connections": s.connections,
                    "resumed": s.resumed,
                    "resumed_ratio": s.resumed / s.connections,
                }
                for name, s in sorted(a.names.items(), key=lambda item: -item[1].connections)[:TOP]
            ],
            "server_names_total": len(a.names) + a.names_dropped,
            "windows": [
                {
                    "start": iso(self.window_start(i)),
                    "entries": row[ENTRIES],
                    "connections": row[CONNECTIONS],
                    "full_handshakes": row[FULL],
                    "resumed": row[RESUMED],
                    "non_sni_resets": row[RESETS],
                    "spike": i in spikes_at,
                }
                for i, row in enumerate(self.rows)
            ],
            "breaks": [
                {
                    "from": iso((before + 1) * self.window),
                    "to": iso(after * self.window),
                    "entries_before": entries,
                }
                for before, after, entries in a.breaks
            ],
            "baseline": None
            if self.baseline is None
            else {
                "source": self.baseline.source,
                "files": self.baseline_files,
                "windows": self.baseline.windows,
                "mean": round(self.baseline.mean, 3),
                "std": round(self.baseline.std, 3),
                "p95": self.baseline.p95,
                "threshold": round(self.baseline.threshold, 3),
                "method": self.method,
            },
            "spikes": [
                {
                    "start": iso(self.window_start(s.window)),
                    "full_handshakes": s.count,
                    "threshold": round(s.threshold, 3),
                    "mean": round(s.mean, 3),
                    "std": round(s.std, 3),
                    "p95": s.p95,
                }
                for s in self.spikes
            ],
            "clients": {
                "top": [{"client": c, "full_handshakes": n} for c, n in a.clients.top(TOP)],
                "exact": a.clients.exact,
                "error_bound": a.clients.dropped_max,
                "per_client_limit": self.limit,
                "late_entries": a.late,
                "stray_entries": a.strays,
                "clock_steps_back": a.steps_back,
                "offenders": [
                    {
                        "client": o.client,
                        "minutes_over": o.minutes_over,
                        "max_per_minute": o.max_per_minute,
                        "max_minute": iso(o.max_minute * 60.0),
                        "first_minute": iso(o.first_minute * 60.0),
                        "handshakes_in_minutes_over": o.handshakes_in_minutes_over,
                    }
                    for o in ranked_offenders(a)
                ],
                "offenders_total": len(a.offenders) + a.offenders_dropped,
                "per_minute_exact": a.minute_dropped_max == 0,
            },
            "non_sni_resets": {
                "count": a.resets,
                "first": iso(a.reset_first),
                "last": iso(a.reset_last),
                "top_clients": [{"client": c, "count": n} for c, n in a.reset_clients.top(TOP)],
                "exact": a.reset_clients.exact,
            },
            "unknown_sni_resets": {
                "count": a.unknown_sni,
                "top_names": [{"name": c, "count": n} for c, n in a.unknown_sni_names.top(TOP)],
            },
            "notes": self.notes,
            "elapsed_s": round(a.elapsed, 3),
            "bytes": a.bytes_read,
            "lines_per_s": round(sum(f.lines for f in a.files) / elapsed),
            "mb_per_s": round(a.bytes_read / elapsed / 1e6, 2),
        }


def ranked_offenders(analysis: Analysis) -> list[Offender]:
    return sorted(
        analysis.offenders.values(),
        key=lambda o: (-o.max_per_minute, -o.minutes_over, o.client),
    )
