"""Access-log formats: an nginx ``log_format`` compiled to a parser, JSON lines, detection.

The recommended nginx format is NGX401's (``tlslint explain NGX401``), which
keeps ``combined``'s fields and adds what handshake measurement needs:

.. code-block:: nginx

    log_format tls '$remote_addr - $remote_user [$time_local] "$request" '
                   '$status $body_bytes_sent "$http_referer" "$http_user_agent" '
                   '$ssl_protocol $ssl_cipher $ssl_session_reused '
                   'conn=$connection reqs=$connection_requests rt=$request_time';

``$ssl_session_reused`` (``r`` resumed, ``.`` full) tells full handshakes from
resumed ones; ``$connection_requests`` tells the first request of a connection
(the one that paid the handshake) from later ones, so that handshakes are counted,
not requests. Appending ``sni=$ssl_server_name`` adds the per-server-name
breakdown of LOG102. Without ``$connection_requests`` every request on a TLS
connection is counted as a connection, which overstates handshakes on keep-alive
traffic; the report says so.

Any other format works with ``--log-format``: each variable becomes a capture, each
literal is matched as written (nginx escapes ``"`` in values as ``\\x22``, so a
variable before a ``"`` stops there, and no value runs across one); ``$time_local`` is
matched in its exact shape, so that free text before it (``$remote_user``) may hold
spaces and ``[``; ``escape=json`` formats are read as JSON.

JSON lines (Apigee hybrid / Envoy ingress access logs, and nginx JSON formats) are
read by field name, accepting the usual variants: time in ``start_time``,
``timestamp``, ``time``, ``@timestamp``, ``time_iso8601``, ``time_local``, ``msec`` or
``time_unix_nano``; client in ``downstream_remote_address``, ``remote_address``,
``downstream_direct_remote_address``, ``remote_addr``, ``client_ip`` (port removed);
SNI in ``sni_host``, ``requested_server_name``, ``ssl_server_name``; the failure in
``status_details``, ``response_code_details`` or ``connection_termination_details``.
A Google Cloud Logging export (``jsonPayload``) is unwrapped; a JSON array of entries
(``gcloud logging read --format=json``) is read entry by entry. nginx's ``\\xHH`` escapes
in a JSON-shaped format without ``escape=json`` are decoded. An entry whose details
are ``filter_chain_not_found`` and that has no SNI is a non-SNI reset (LOG101).
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any, NamedTuple

RECOMMENDED_LOG_FORMAT = (
    "log_format tls '$remote_addr - $remote_user [$time_local] \"$request\" '\n"
    '               \'$status $body_bytes_sent "$http_referer" "$http_user_agent" \'\n'
    "               '$ssl_protocol $ssl_cipher $ssl_session_reused '\n"
    "               'conn=$connection reqs=$connection_requests rt=$request_time';"
)
_COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
_NGX401 = (
    f"{_COMBINED} $ssl_protocol $ssl_cipher $ssl_session_reused "
    "conn=$connection reqs=$connection_requests rt=$request_time"
)
_SNI = " sni=$ssl_server_name"
_UCT = " uct=$upstream_connect_time"
# Tried in order when no --log-format is given; the first that reads most sample lines wins.
# A format that another one extends comes after it (a last variable would swallow the extension).
BUILTIN_FORMATS: dict[str, str] = {
    "tls+uct+sni": _NGX401 + _UCT + _SNI,
    "tls+sni": _NGX401 + _SNI,
    "tls+uct": _NGX401 + _UCT,
    "tls": _NGX401,
    "tls-compact": f"{_COMBINED} $ssl_protocol/$ssl_cipher $ssl_session_reused $ssl_server_name",
    "tls-short": (
        '$remote_addr [$time_local] "$request" $status $ssl_protocol $ssl_cipher $ssl_session_reused'
    ),
    "combined": _COMBINED,
}
DETECT_MIN_SHARE = 0.8  # a format must read this share of the sample lines

# Entry kinds
REQUEST = 0
NON_SNI_RESET = 1  # no SNI, filter_chain_not_found: the handshake was reset
NO_FILTER_CHAIN = 2  # SNI sent, but no filter chain for it


class Entry(NamedTuple):
    time: float  # seconds since the epoch, UTC
    client: str
    kind: int
    tls: bool | None  # None: the format does not say
    reused: bool | None  # None: unknown (no $ssl_session_reused, or not TLS)
    first_request: bool | None  # None: unknown (no $connection_requests)
    server_name: str  # "" when none


class FormatError(ValueError):
    """A log format that cannot be used, worded for the user."""


class LogFormat:
    """A parser for one file's lines."""

    name = ""
    kind = ""  # "nginx" or "json"
    has_reuse = False  # $ssl_session_reused or an equivalent field: full handshakes can be counted
    exact_connections = False  # $connection_requests: the first request of a connection is known
    has_server_name = False
    has_ingress = False  # ingress failures (filter_chain_not_found) can appear

    def read(self, lines: Iterable[str]) -> Iterator[tuple[int, Entry | None]]:
        """(line number, entry or None when the line does not parse); blank lines are skipped."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "session_reuse": self.has_reuse,
            "exact_connections": self.exact_connections,
            "server_name": self.has_server_name,
        }


# --------------------------------------------------------------------------- time


_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}  # fmt: skip
_CACHE_LIMIT = 200_000


FIRST_SECOND = -62135596800.0  # 0001-01-01T00:00:00Z
LAST_SECOND = 253402300800.0  # 10000-01-01T00:00:00Z: datetime (and the report) ends before


class TimeParser:
    """Timestamps to epoch seconds, with per-minute caches (log lines come in order)."""

    def __init__(self) -> None:
        self._local: dict[str, float] = {}

    def time_local(self, text: str) -> float | None:
        """``22/Nov/2026:10:00:00 +0000``."""
        key = text[:17] + text[20:]
        base = self._local.get(key)
        if base is None:
            try:
                day, month, year = int(text[0:2]), _MONTHS[text[3:6]], int(text[7:11])
                hour, minute = int(text[12:14]), int(text[15:17])
                sign, tz_h, tz_m = text[21], int(text[22:24]), int(text[24:26])
            except (KeyError, ValueError, IndexError):
                return None
            if text[2] != "/" or text[11] != ":" or sign not in "+-":
                return None
            offset = (tz_h * 3600 + tz_m * 60) * (1 if sign == "+" else -1)
            try:  # year 0 or 10000 is no time datetime can show
                base = float(calendar.timegm((year, month, day, hour, minute, 0)) - offset)
                datetime.fromtimestamp(base, tz=timezone.utc)
            except (ValueError, OverflowError):
                return None
            if len(self._local) > _CACHE_LIMIT:
                self._local.clear()
            self._local[key] = base
        seconds = text[18:20]
        if not seconds.isdigit():
            return None
        return base + int(seconds)

    @staticmethod
    def iso(text: str) -> float | None:
        """``2026-11-22T10:00:00+00:00``, ``...00.117Z``; no zone means UTC."""
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            return None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        moment = stamp.timestamp()
        return moment if FIRST_SECOND <= moment < LAST_SECOND else None  # the zone can pass year 1 or 9999

    @staticmethod
    def epoch(value: Any) -> float | None:
        """Seconds, milliseconds, microseconds or nanoseconds since the epoch (told apart by size).

        Each unit is read up to year 5138 (1e11 seconds); above that the next unit is meant.
        Not a number, infinite, negative or past year 9999 in nanoseconds: None (not understood).
        """
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
        if not 0 <= number < 1e20:  # also NaN
            return None
        if number > 1e17:
            number /= 1e9
        elif number > 1e14:
            number /= 1e6
        elif number > 1e11:
            number /= 1e3
        return number if number < LAST_SECOND else None

    def any(self, value: Any) -> float | None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self.epoch(value)
        if not isinstance(value, str) or not value or value == "-":
            return None
        if len(value) >= 26 and value[2] == "/" and value[6] == "/":
            return self.time_local(value)
        if value[0].isdigit() and len(value) >= 10 and value[4] == "-":
            return self.iso(value)
        return self.epoch(value)


def strip_port(address: str) -> str:
    """``10.1.2.3:5678`` → ``10.1.2.3``; ``[2001:db8::1]:443`` → ``2001:db8::1``."""
    if address.startswith("["):
        return address[1:].split("]", 1)[0]
    if address.count(":") == 1:
        return address.split(":", 1)[0]
    return address


# --------------------------------------------------------------------------- nginx text


_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
TIME_VARIABLES = ("time_local", "time_iso8601", "msec")
CLIENT_VARIABLES = ("remote_addr", "realip_remote_addr", "binary_remote_addr")
NAME_VARIABLES = ("ssl_server_name", "host", "server_name")
WANTED = frozenset(
    {*TIME_VARIABLES, *CLIENT_VARIABLES, *NAME_VARIABLES, "ssl_session_reused", "ssl_protocol",
     "connection_requests"}
)  # fmt: skip
# Values with no spaces (and none of the separators nginx logs put around them).
NO_SPACE = frozenset(
    {"remote_addr", "realip_remote_addr", "remote_port", "status", "body_bytes_sent", "bytes_sent",
     "request_length", "request_time", "msec", "time_iso8601", "ssl_protocol", "ssl_cipher",
     "ssl_session_reused", "ssl_session_id", "ssl_server_name", "ssl_early_data", "ssl_curve",
     "connection", "connection_requests", "connection_time", "pid", "pipe", "server_name",
     "server_port", "server_addr", "host", "scheme", "https", "request_method", "request_uri", "uri",
     "document_uri", "server_protocol", "request_id", "http2", "hostname", "proxy_protocol_addr"}
)  # fmt: skip


def parse_log_format(text: str) -> tuple[str, str]:
    """(format string, escape) from a ``log_format`` directive or a bare format string."""
    stripped = text.strip()
    if not re.match(r"log_format\s", stripped):
        return text, "default"
    from tlslint.sources.nginx.lexer import QUOTED, WORD, LexError, tokenize

    try:
        tokens = tokenize(stripped)
    except LexError as error:
        raise FormatError(f"cannot read the log_format directive: {error.message}") from None
    words = [t.value for t in tokens if t.kind in (WORD, QUOTED)]
    if len(words) < 3:
        raise FormatError("a log_format directive needs a name and a format string")
    rest = words[2:]
    escape = "default"
    if rest[0].startswith("escape="):
        escape = rest[0].removeprefix("escape=")
        rest = rest[1:]
    if not rest:
        raise FormatError("the log_format directive has no format string")
    return "".join(rest), escape


def split_format(format_string: str) -> list[tuple[bool, str]]:
    """[(is_variable, text)]: variables by name, literals as written."""
    parts: list[tuple[bool, str]] = []
    pos = 0
    for match in _VARIABLE.finditer(format_string):
        if match.start() > pos:
            parts.append((False, format_string[pos : match.start()]))
        parts.append((True, match.group(1) or match.group(2)))
        pos = match.end()
    if pos < len(format_string):
        parts.append((False, format_string[pos:]))
    return parts


# $time_local as nginx writes it (``07/Dec/2026:16:41:46 +0000``): the anchor that free text before
# it cannot fake, since that text cannot hold the ``"`` that follows in every built-in format.
TIME_LOCAL_SHAPE = r"\d\d/[A-Z][a-z][a-z]/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}"


def compile_text_format(format_string: str, escape: str = "default") -> tuple[re.Pattern[str], list[str]]:
    """A regex for lines of ``format_string`` and the variables it captures, in group order.

    With nginx's ``default`` (and ``json``) escaping no value holds a raw ``"`` (written ``\\x22``),
    but free text such as ``$remote_user`` (any client's ``Authorization: Basic`` user name, logged
    even without auth_basic) keeps spaces and ``[``: a value that may hold spaces is matched lazily,
    never across a ``"``, and ``$time_local`` only in its exact shape, so that ``x [y`` before
    ``[07/Dec/2026:16:41:46 +0000]`` is read as the user name it is.
    """
    parts = split_format(format_string)
    free = r"[^\r\n]" if escape == "none" else r'[^"\r\n]'
    pattern = ["^"]
    captured: list[str] = []
    for index, (is_variable, text) in enumerate(parts):
        if not is_variable:
            pattern.append(re.escape(text))
            continue
        following = parts[index + 1] if index + 1 < len(parts) else None
        if text == "time_local":
            value = TIME_LOCAL_SHAPE
        elif following is None:
            value = free + "*"
        elif following[0]:  # another variable right after: no separator to stop at
            value = free + "*?"
        else:
            stop = following[1][0]
            if stop == '"':  # nginx escapes " inside values
                value = r'[^"\r\n]*'
            elif text in NO_SPACE:
                value = "[^" + re.escape(stop) + (" " if stop != " " else "") + r"\r\n]*"
            else:
                value = free + "*?"
        if text in WANTED and text not in captured:
            captured.append(text)
            pattern.append(f"({value})")
        else:
            pattern.append(f"(?:{value})")
    pattern.append(r"\r?\n?\Z")
    return re.compile("".join(pattern)), captured


def _first(names: Iterable[str], captured: list[str]) -> int | None:
    return next((captured.index(n) for n in names if n in captured), None)


class NginxTextFormat(LogFormat):
    kind = "nginx"

    def __init__(self, format_string: str, name: str = "custom", escape: str = "default") -> None:
        self.name = name
        self.format_string = format_string
        self.pattern, captured = compile_text_format(format_string, escape)
        self.time_index = _first(TIME_VARIABLES, captured)
        if self.time_index is None:
            raise FormatError("the log format has no time variable ($time_local, $time_iso8601 or $msec)")
        self.time_variable = captured[self.time_index]
        self.client_index = _first(CLIENT_VARIABLES, captured)
        self.name_index = _first(NAME_VARIABLES, captured)
        self.reused_index = _first(("ssl_session_reused",), captured)
        self.protocol_index = _first(("ssl_protocol",), captured)
        self.requests_index = _first(("connection_requests",), captured)
        self.has_reuse = self.reused_index is not None
        self.exact_connections = self.requests_index is not None
        self.has_server_name = self.name_index is not None
        self.times = TimeParser()

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "log_format": self.format_string}

    def parse(self, line: str) -> Entry | None:
        match = self.pattern.match(line)
        if match is None:
            return None
        groups = match.groups()
        raw_time = groups[self.time_index]  # type: ignore[index]
        if self.time_variable == "time_local":
            moment = self.times.time_local(raw_time)
        elif self.time_variable == "msec":
            moment = TimeParser.epoch(raw_time)
        else:
            moment = TimeParser.iso(raw_time)
        if moment is None:
            return None
        client = groups[self.client_index] if self.client_index is not None else "-"
        tls: bool | None = None
        reused: bool | None = None
        if self.reused_index is not None:
            flag = groups[self.reused_index]
            if flag == "r":
                tls, reused = True, True
            elif flag == ".":
                tls, reused = True, False
            else:
                tls = False
        elif self.protocol_index is not None:
            tls = groups[self.protocol_index] not in ("", "-")
        first: bool | None = None
        if self.requests_index is not None:
            count = groups[self.requests_index]
            first = count == "1" if count.isdigit() else None
        name = groups[self.name_index] if self.name_index is not None else ""
        return Entry(moment, client, REQUEST, tls, reused, first, "" if name == "-" else name)

    def read(self, lines: Iterable[str]) -> Iterator[tuple[int, Entry | None]]:
        # parse(), inlined with local names: this loop runs once per line of a large file.
        match = self.pattern.match
        time_index, client_index, name_index = self.time_index, self.client_index, self.name_index
        reused_index, protocol_index, requests_index = (
            self.reused_index,
            self.protocol_index,
            self.requests_index,
        )
        time_local = self.times.time_local
        convert = {"time_local": time_local, "msec": TimeParser.epoch}.get(self.time_variable, TimeParser.iso)
        last_raw, last_moment = "", None
        for number, line in enumerate(lines, 1):
            found = match(line)
            if found is None:
                if line.strip():
                    yield number, None
                continue
            groups = found.groups()
            raw_time = groups[time_index]  # type: ignore[index]
            if raw_time != last_raw:
                last_raw, last_moment = raw_time, convert(raw_time)
            if last_moment is None:
                yield number, None
                continue
            tls: bool | None = None
            reused: bool | None = None
            if reused_index is not None:
                flag = groups[reused_index]
                if flag == ".":
                    tls, reused = True, False
                elif flag == "r":
                    tls, reused = True, True
                else:
                    tls = False
            elif protocol_index is not None:
                tls = groups[protocol_index] not in ("", "-")
            first: bool | None = None
            if requests_index is not None:
                count = groups[requests_index]
                first = count == "1" if count.isdigit() else None
            name = groups[name_index] if name_index is not None else ""
            yield (
                number,
                Entry(
                    last_moment,
                    groups[client_index] if client_index is not None else "-",
                    REQUEST,
                    tls,
                    reused,
                    first,
                    "" if name == "-" else name,
                ),
            )


# --------------------------------------------------------------------------- JSON lines


FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("start_time", "timestamp", "time", "@timestamp", "time_iso8601", "time_local", "msec",
             "time_unix_nano", "startTime", "ts"),
    "client": ("downstream_remote_address", "remote_address", "downstream_direct_remote_address",
               "remote_addr", "client_ip", "client_address", "clientIp"),
    "sni": ("sni_host", "requested_server_name", "ssl_server_name", "sni", "server_name"),
    "details": ("status_details", "response_code_details", "connection_termination_details"),
    "reused": ("ssl_session_reused", "tls_session_reused", "session_reused"),
    "protocol": ("tls_protocol", "ssl_protocol", "downstream_tls_version", "tls_version"),
    "requests": ("connection_requests",),
}  # fmt: skip
_TRUE = frozenset({"r", "true", "1", "yes", "y"})
_FALSE = frozenset({".", "false", "0", "no", "n"})
MULTILINE_LIMIT = 500  # lines of one pretty-printed object


class JsonFormat(LogFormat):
    """One JSON object per line (a pretty-printed object over several lines is read too)."""

    kind = "json"

    def __init__(self, name: str = "json", fields: dict[str, tuple[str, ...]] | None = None) -> None:
        self.name = name
        self.fields = fields or FIELDS
        self.times = TimeParser()
        self.has_ingress = True

    def learn(self, objects: list[dict[str, Any]]) -> None:
        """Which optional fields the sample has, and the key each one goes by (tried first)."""
        keys = set().union(*(self._flat(o).keys() for o in objects)) if objects else set()
        self.fields = {
            field: tuple(sorted(aliases, key=lambda alias: alias not in keys))
            for field, aliases in self.fields.items()
        }
        self.has_reuse = any(k in keys for k in self.fields["reused"])
        self.exact_connections = any(k in keys for k in self.fields["requests"])
        self.has_server_name = any(k in keys for k in self.fields["sni"])
        self.has_ingress = any(k in keys for k in self.fields["details"])

    @staticmethod
    def _flat(obj: dict[str, Any]) -> dict[str, Any]:
        payload = obj.get("jsonPayload")
        if isinstance(payload, dict):
            return {**obj, **payload}
        return obj

    def _get(self, obj: dict[str, Any], field: str) -> tuple[bool, Any]:
        for key in self.fields[field]:
            if key in obj:
                return True, obj[key]
        return False, None

    def entry(self, obj: Any) -> Entry | None:
        if not isinstance(obj, dict):
            return None
        obj = self._flat(obj)
        _, raw_time = self._get(obj, "time")
        moment = self.times.any(raw_time)
        if moment is None:
            return None
        _, raw_client = self._get(obj, "client")
        client = strip_port(str(raw_client)) if raw_client not in (None, "", "-") else "-"
        _, raw_sni = self._get(obj, "sni")
        sni = "" if raw_sni in (None, "", "-") else str(raw_sni)
        kind = REQUEST
        for key in self.fields["details"]:
            if obj.get(key) == "filter_chain_not_found":
                kind = NO_FILTER_CHAIN if sni else NON_SNI_RESET
                break
        present, raw_reused = self._get(obj, "reused")
        reused: bool | None = None
        if present and raw_reused is not None:
            text = str(raw_reused).strip().lower()
            reused = True if text in _TRUE else False if text in _FALSE else None
        present, raw_protocol = self._get(obj, "protocol")
        tls: bool | None = None
        if reused is not None:
            tls = True
        elif present:
            tls = raw_protocol not in (None, "", "-")
        _, raw_requests = self._get(obj, "requests")
        first: bool | None = None
        if raw_requests is not None and str(raw_requests).isdigit():
            first = str(raw_requests) == "1"
        return Entry(moment, client, kind, tls, reused, first, sni)

    def read(self, lines: Iterable[str]) -> Iterator[tuple[int, Entry | None]]:
        entry = self.entry
        for number, obj in objects(lines):
            yield number, None if obj is None else entry(obj)


def objects(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON value or None), streamed: one object a line, an object printed over
    several lines, or the entries of a top-level JSON array (``gcloud logging read --format=json``:
    ``[``, pretty-printed objects each followed by ``,``, ``]``), read entry by entry; an array on one
    line is read whole. A line nginx wrote from a JSON-shaped format without ``escape=json`` (``\\x22``
    for a quote inside a value: not JSON) is read with those escapes decoded."""
    loads = json.loads
    pending: list[str] = []
    pending_start = 0
    in_array = False
    for number, line in enumerate(lines, 1):
        if pending:
            pending.append(line)
            if line.lstrip().startswith("}"):
                obj = _closed("".join(pending), in_array)
                if obj is not None:
                    yield pending_start, obj
                    pending = []
            elif len(pending) > MULTILINE_LIMIT:
                yield pending_start, None
                pending = []
            continue
        if line.isspace() or not line:
            continue
        try:
            obj = loads(line)
        except ValueError:
            stripped = line.strip()
            if stripped == "[" or (in_array and stripped == "]"):
                in_array = stripped == "["
                continue
            if stripped.startswith("[") and stripped[1:].lstrip().startswith("{"):
                in_array, stripped = True, stripped[1:].lstrip()  # "[{" opens the array and its first entry
            obj = _closed(stripped, in_array)
            if obj is not None:
                yield number, obj
            elif stripped.startswith("{") and not stripped.rstrip(",]").endswith("}"):
                pending, pending_start = [stripped + "\n"], number  # a pretty-printed object
            else:
                yield number, None
            continue
        if isinstance(obj, list):  # a whole array on one line
            for item in obj:
                yield number, item
            continue
        yield number, obj
    if pending:
        yield pending_start, None


_NGINX_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})")


def _closed(text: str, in_array: bool) -> Any:
    """The JSON value ``text`` holds, or None: with nginx's ``\\xHH`` escapes decoded (``\\x22`` is
    ``"``), and in an array without the ``,`` (or ``]``) after the entry."""
    candidates = [text]
    if in_array:
        trimmed = text.rstrip()
        trimmed = trimmed[:-1].rstrip() if trimmed.endswith("]") else trimmed
        candidates.append(trimmed[:-1] if trimmed.endswith(",") else trimmed)
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except ValueError:
            pass
        if "\\x" in candidate:
            try:
                return json.loads(_NGINX_ESCAPE.sub(r"\\u00\1", candidate))
            except ValueError:
                pass
    return None


def json_fields_for(format_string: str) -> dict[str, tuple[str, ...]]:
    """The JSON keys of an ``escape=json`` nginx format, by the variable each holds."""
    template = []
    in_string = False
    pos = 0
    for match in _VARIABLE.finditer(format_string):
        chunk = format_string[pos : match.start()]
        template.append(chunk)
        in_string = _toggle(in_string, chunk)
        token = f"\ue000{match.group(1) or match.group(2)}\ue001"
        template.append(token if in_string else f'"{token}"')
        pos = match.end()
    template.append(format_string[pos:])
    try:
        shape = json.loads("".join(template))
    except ValueError as error:
        raise FormatError(f"the escape=json log format is not a JSON object: {error}") from None
    if not isinstance(shape, dict):
        raise FormatError("the escape=json log format is not a JSON object")
    keys_of: dict[str, list[str]] = {}
    for key, value in shape.items():
        if isinstance(value, str) and value.startswith("\ue000") and value.endswith("\ue001"):
            keys_of.setdefault(value[1:-1], []).append(key)
    fields: dict[str, tuple[str, ...]] = {}
    wanted = {
        "time": TIME_VARIABLES,
        "client": CLIENT_VARIABLES,
        "sni": NAME_VARIABLES,
        "reused": ("ssl_session_reused",),
        "protocol": ("ssl_protocol",),
        "requests": ("connection_requests",),
        "details": (),
    }
    for field, variables in wanted.items():
        fields[field] = tuple(key for variable in variables for key in keys_of.get(variable, []))
    if not fields["time"]:
        raise FormatError("the log format has no time variable ($time_local, $time_iso8601 or $msec)")
    return fields


def _toggle(in_string: bool, chunk: str) -> bool:
    escaped = False
    for char in chunk:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
    return in_string


# --------------------------------------------------------------------------- detection


def from_log_format(text: str) -> LogFormat:
    """The parser for a user's ``--log-format`` (a directive or a format string)."""
    format_string, escape = parse_log_format(text)
    if escape == "json" or format_string.lstrip().startswith("{"):
        fmt = JsonFormat("custom-json", json_fields_for(format_string))
        fmt.has_reuse = bool(fmt.fields["reused"])
        fmt.exact_connections = bool(fmt.fields["requests"])
        fmt.has_server_name = bool(fmt.fields["sni"])
        fmt.has_ingress = False
        return fmt
    return NginxTextFormat(format_string, escape=escape)


def _share(fmt: LogFormat, sample: list[str]) -> float:
    if isinstance(fmt, JsonFormat):
        return _json_share(fmt, sample)
    entries = [entry for _, entry in fmt.read(sample)]
    return sum(1 for e in entries if e is not None) / len(entries) if entries else 0.0


def _json_share(fmt: JsonFormat, sample: list[str]) -> float:
    """The share of the sample's lines that are in entries ``fmt`` reads (an object pretty-printed over
    25 lines weighs 25 lines); an object cut by the end of the sample is left out."""
    consumed = 0

    def counted() -> Iterator[str]:
        nonlocal consumed
        for line in sample:
            consumed += 1
            yield line

    read = unread = last = 0
    for number, obj in objects(counted()):
        span, last = consumed - last, consumed
        if obj is None and number < consumed == len(sample):
            break  # cut by the end of the sample, not unreadable
        if obj is not None and fmt.entry(obj) is not None:
            read += span
        else:
            unread += span
    return read / (read + unread) if read + unread else 0.0


def detect(sample: list[str], log_format: str | None = None) -> LogFormat:
    """The format of a file from its first lines; raises FormatError when none fits.

    JSON (one object a line, pretty-printed objects, a JSON array of them) is tried when a line of
    the sample starts like JSON; like the nginx formats, it must read ``DETECT_MIN_SHARE`` of the
    sample's lines, so that a few other lines before it (a container's start-up lines in ``kubectl
    logs``) do not hide it; a file whose first line is JSON needs half.
    """
    lines = [line for line in sample if line.strip()]
    if log_format is not None:
        fmt = from_log_format(log_format)
        if isinstance(fmt, JsonFormat) and not fmt.fields.get("details"):
            fmt.fields = {**fmt.fields, "details": FIELDS["details"]}
        if lines and _share(fmt, lines) < 0.5:
            raise FormatError("most lines do not match --log-format")
        return fmt
    if not lines:
        raise FormatError("the file has no log lines")
    found: list[dict[str, Any]] = []
    json_share = 0.0
    if any(line.lstrip().startswith(("{", "[")) for line in lines):
        found = [obj for _, obj in objects(lines) if isinstance(obj, dict)]
        json_fmt = JsonFormat()
        json_fmt.learn(found)
        json_share = _share(json_fmt, lines) if found else 0.0
        first_json = lines[0].lstrip().startswith(("{", "["))
        if json_share >= DETECT_MIN_SHARE or (first_json and json_share >= 0.5):
            json_fmt.name = "envoy-json" if json_fmt.has_ingress else "json"
            return json_fmt
    for name, format_string in BUILTIN_FORMATS.items():
        fmt = NginxTextFormat(format_string, name)
        if _share(fmt, lines) >= DETECT_MIN_SHARE:
            return fmt
    if found:
        if not json_share:
            raise FormatError(
                "JSON lines without a time field (start_time, timestamp, time, time_iso8601, ...)"
            )
        raise FormatError(
            f"unknown log format: {json_share:.0%} of the first {len(lines)} lines are JSON log entries, "
            f"{DETECT_MIN_SHARE:.0%} are needed (one JSON object a line, objects printed over several "
            "lines, or a JSON array of them; JSON objects need a time field such as start_time or timestamp)"
        )
    raise FormatError(
        "unknown log format: give the nginx log_format with --log-format "
        "(tlslint explain NGX401 shows the recommended one)"
    )
