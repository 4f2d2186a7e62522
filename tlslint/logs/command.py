"""``tlslint logs``: read, measure, judge (LOG101 to LOG104), report; returns the exit status."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlslint.findings import Finding, Location
from tlslint.live.adapter import (
    RuleSettings,
    UsageError,
    check_output,
    emit,
    findings_text,
    load_rule_settings,
    make_finding,
    make_result,
    summary_line,
)
from tlslint.logs.analysis import (
    BREAK_SECONDS,
    FIRST_FILE,
    FIRST_LINE,
    TOP,
    Analysis,
    Baseline,
    FileStats,
    Options,
    Report,
    Spike,
    episodes,
    find_spikes,
    iso,
    ranked_offenders,
)
from tlslint.logs.formats import FormatError, LogFormat, detect
from tlslint.logs.reader import LogFile

if TYPE_CHECKING:
    from tlslint.selection import Given

MAX_SPIKE_FINDINGS = 20
MAX_CLIENT_FINDINGS = 20
SAMPLE_LINES = 50
METHODS = ("both", "either", "sigma", "p95")


@dataclass
class Prepared:
    file: LogFile
    format: LogFormat
    first_time: float


def prepare(
    paths: list[Path],
    log_format: str | None,
    problems: list[str],
    missing: list[Path],
    notes: list[str] | None = None,
) -> list[Prepared]:
    """Open each file, detect its format, and order the files by their first timestamp.

    A file without a log line (a just-rotated access.log) is a note, not a problem: it was
    read, and there was nothing in it.
    """
    ready: list[Prepared] = []
    for path in paths:
        if not path.is_file():
            if path.exists():
                problems.append(f"{path}: not a log file (a directory? give the files)")
            else:
                missing.append(path)
            continue
        try:
            log = LogFile.open(path)
            head = log.head(SAMPLE_LINES)
            if not head and not log.notes:
                if notes is not None:
                    notes.append(f"{path}: empty (no log lines), nothing to read")
                continue
            fmt = detect(head, log_format)
        except FormatError as error:
            problems.append(f"{path}: {error}")
            continue
        except OSError as error:
            problems.append(f"{path}: cannot read: {error.strerror or error}")
            continue
        times = [entry.time for _, entry in fmt.read(head) if entry is not None]
        ready.append(Prepared(log, fmt, min(times) if times else float("inf")))
    ready.sort(key=lambda p: p.first_time)
    return ready


def analyse(prepared: list[Prepared], options: Options) -> Analysis:
    analysis = Analysis(options)
    if prepared:
        analysis.consume_all(
            [
                (
                    FileStats(item.file.path, item.format.describe(), item.file.compression),
                    item.format,
                    item.file.lines(),
                )
                for item in prepared
            ]
        )
    for item in prepared:
        analysis.notes.extend(item.file.notes)
    analysis.finish()
    return analysis


def build_report(
    analysis: Analysis, baseline: Analysis | None, rules: RuleSettings, baseline_files: list[str]
) -> Report:
    options = rules.options("LOG103")
    method = str(options["method"])
    keys, rows = analysis.series()
    counts = [row[2] for row in rows]
    reference = None
    if baseline is not None:
        reference = [row[2] for row in baseline.series()[1]]
    summary: Baseline | None = None
    spikes: list[Spike] = []
    if analysis.has_reuse:
        summary, spikes = find_spikes(
            counts,
            reference,
            method=method,
            min_windows=int(options["min-windows"]),
            min_handshakes=int(options["min-handshakes"]),
        )
    report = Report(
        analysis, analysis.options.window, keys, rows, summary, spikes, method,
        analysis.options.per_client_limit, baseline_files=baseline_files,
    )  # fmt: skip
    notes = report.notes
    notes.extend(analysis.notes)
    if not analysis.files:
        return report
    notes[:0] = unread_notes(analysis)
    if not analysis.has_reuse:
        notes.append(
            "the log has no session-reuse field ($ssl_session_reused in nginx; Envoy access logs have "
            "none): full handshakes cannot be counted, so LOG102, LOG103 and LOG104 are not checked "
            "(tlslint explain NGX401 shows an nginx format that has it)"
        )
    elif not analysis.exact_connections:
        notes.append(
            "the log format has no $connection_requests: every request on a TLS connection is counted "
            "as a connection, which overstates handshakes on keep-alive traffic (add "
            "conn=$connection reqs=$connection_requests, as NGX401's format does)"
        )
    notes.extend(break_notes(analysis, baseline))
    if analysis.has_reuse and summary is None and rows:
        need = int(options["min-windows"])
        notes.append(f"too few windows for a baseline (LOG103 needs at least {need} besides the one tested)")
    if analysis.late:
        notes.append(
            f"{analysis.late} full handshakes arrived more than 2 minutes out of order and were not counted "
            "per client"
        )
    if analysis.strays:
        path, line = analysis.location(analysis.stray_where)
        one = analysis.strays == 1
        notes.append(
            f"{_count(analysis.strays, 'full handshake')} dated more than 2 minutes ahead of the lines "
            f"around {'it' if one else 'them'} (first at {path}:{line}) {'was' if one else 'were'} counted "
            f"per client in {'its' if one else 'their'} own minute, without moving the log's time on"
        )
    if analysis.steps_back:
        path, line = analysis.location(analysis.step_back_where)
        notes.append(
            f"the log's time went back by more than 2 minutes {_count(analysis.steps_back, 'time')} "
            f"(first at {path}:{line}): per-client minutes were counted again from there"
        )
    if not analysis.clients.exact:
        notes.append(
            f"more than {len(analysis.clients)} client addresses: per-client totals are lower bounds, "
            f"short by at most {analysis.clients.dropped_max}"
        )
    return report


def unread_notes(analysis: Analysis) -> list[str]:
    """One note per file with lines not understood: they are in no count, so no rule sees them.

    A client whose lines are not read is not judged at all (a flood hidden in unread lines is
    no LOG104), so this is said first, in every output, and on stderr (see run_logs).
    """
    notes = []
    for stats in analysis.files:
        if not stats.unparsed:
            continue
        if stats.format.get("kind") == "json":  # an object may span lines: count, not share
            what = f"{stats.unparsed:,} lines or objects (of {stats.lines:,} lines) not understood"
            hint = "JSON objects with a time field are read, other lines are not"
        else:
            share = stats.unparsed / stats.lines if stats.lines else 1.0
            what = f"{stats.unparsed:,} of {stats.lines:,} lines ({share:.1%}) not understood"
            hint = (
                "check that --log-format is the log_format the file was written with"
                if stats.format.get("name") == "custom"
                else "give the nginx log_format with --log-format if the file has another format"
            )
        notes.append(
            f"{stats.path}: {what}, first at line {stats.first_unparsed_line}: they are left out of "
            f"every count, so the clients on them are not judged (LOG101 to LOG104); {hint}"
        )
    return notes


MAX_BREAK_NOTES = 5


def break_notes(analysis: Analysis, baseline: Analysis | None) -> list[str]:
    """One note per break in the log (see Analysis.series), with the entries on its early side."""
    from tlslint.units import format_time

    window = analysis.options.window
    notes = []
    total = sum(row[0] for row in analysis.windows.values())
    for before, after, entries in analysis.breaks[:MAX_BREAK_NOTES]:
        start, end = (before + 1) * window, after * window
        notes.append(
            f"no entries from {iso(start)} to {iso(end)} ({_span(end - start)}): a gap of more than "
            f"{format_time(BREAK_SECONDS)} is a break in the log, not quiet traffic, so its empty windows "
            f"are left out of the windows and the baseline ({_entries(entries)} before it, "
            f"{_entries(total - entries)} after)"
        )
    if len(analysis.breaks) > MAX_BREAK_NOTES:
        notes.append(f"{len(analysis.breaks) - MAX_BREAK_NOTES} more breaks in the log (JSON report)")
    if baseline is not None and baseline.breaks:
        count = len(baseline.breaks)
        notes.append(
            f"the --baseline logs have {count} break{'s' if count != 1 else ''} "
            f"of more than {format_time(BREAK_SECONDS)} without entries, left out of the baseline"
        )
    return notes


def _span(seconds: int) -> str:
    from tlslint.units import format_time

    return f"{seconds // 86400:,} days" if seconds >= 2 * 86400 else format_time(seconds)


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'s' if count != 1 else ''}"


def _entries(count: int) -> str:
    return f"{count:,} entr{'y' if count == 1 else 'ies'}"


def evaluate(report: Report, rules: RuleSettings) -> list[Finding]:
    a = report.analysis
    found: list[Finding] = []
    found += _non_sni(report)
    if a.has_reuse:
        found += _reuse(report, rules)
        found += _spikes(report)
        found += _floods(report)
    return [f for f in found if rules.keep(f)]


def _location(report: Report, where: tuple[int, int] | None) -> Location:
    path, line = report.analysis.location(where)
    return Location(path, line, 1 if line else 0)


def _non_sni(report: Report) -> list[Finding]:
    a = report.analysis
    if not a.resets:
        return []
    top = ", ".join(f"{client} ({count})" for client, count in a.reset_clients.top(3))
    plural = "s" if a.resets != 1 else ""
    return [
        make_finding(
            "LOG101",
            f"{a.resets} TLS connection{plural} without SNI reset by the ingress "
            f"(filter_chain_not_found, sni_host null) from {iso(a.reset_first)} to {iso(a.reset_last)}; "
            f"top clients: {top}",
            _location(report, a.reset_where),
            anchor="non-sni-resets",
            fix_note="Apigee hybrid: a wildcard ApigeeRoute with `enableNonSniClient: true`, listed in the "
            "virtual host's additionalGateways (APG101, APG103), or clients that send SNI "
            "(`tlslint probe HOST` shows what a client without SNI gets: LIV101)",
        )
    ]


def _reuse(report: Report, rules: RuleSettings) -> list[Finding]:
    a = report.analysis
    options = rules.options("LOG102")
    minimum = float(options["min-ratio"])
    least = int(options["min-connections"])
    found = []
    unit = "connections" if a.exact_connections else "requests on TLS connections"
    if a.connections >= least and a.resumed / a.connections < minimum:
        ratio = a.resumed / a.connections
        found.append(
            make_finding(
                "LOG102",
                f"{1 - ratio:.0%} of {a.connections} TLS {unit} were full handshakes "
                f"(resumed {ratio:.0%}, minimum {minimum:.0%})",
                _location(report, a.first_full),
                anchor="session-reuse[all]",
                fix_note="nginx: a shared ssl_session_cache at http{} level (NGX101) and managed ticket "
                "keys (NGX105); `tlslint probe HOST` measures resumption directly (LIV102)",
            )
        )
    if len(a.names) > 1:
        for name, stat in sorted(a.names.items()):
            if stat.connections < least or stat.resumed / stat.connections >= minimum:
                continue
            ratio = stat.resumed / stat.connections
            found.append(
                make_finding(
                    "LOG102",
                    f"{name}: {1 - ratio:.0%} of {stat.connections} TLS {unit} were full handshakes "
                    f"(resumed {ratio:.0%}, minimum {minimum:.0%})",
                    _location(report, stat.first_full),
                    anchor=f"session-reuse[{name}]",
                    fix_note="the session cache of the default server of the socket decides resumption "
                    "(NGX107); check this server's socket",
                )
            )
    return found


def _spikes(report: Report) -> list[Finding]:
    if report.baseline is None or not report.spikes:
        return []
    from tlslint.units import format_time

    window = format_time(report.window)
    found = []
    groups = episodes(report.spikes, report.keys)
    for group in groups[:MAX_SPIKE_FINDINGS]:
        peak = max(group, key=lambda s: s.count)
        row = report.rows[group[0].window]
        where = (row[FIRST_FILE], row[FIRST_LINE]) if row[FIRST_FILE] >= 0 else None
        start = iso(report.window_start(group[0].window))
        basis = (
            f"threshold {peak.threshold:.0f}: baseline mean {peak.mean:.1f}, σ {peak.std:.1f}, "
            f"p95 {peak.p95:g}, method {report.method}"
        )
        if len(group) == 1:
            message = f"{peak.count} full handshakes in the {window} window at {start} ({basis})"
        else:
            end = iso(report.window_start(group[-1].window))
            message = (
                f"full handshakes above the baseline for {len(group)} windows of {window} from {start} to "
                f"{end}, peak {peak.count} at {iso(report.window_start(peak.window))} ({basis})"
            )
        if len(groups) > MAX_SPIKE_FINDINGS and group is groups[MAX_SPIKE_FINDINGS - 1]:
            message += f"; {len(groups) - MAX_SPIKE_FINDINGS} more spikes are in the JSON report"
        found.append(
            make_finding(
                "LOG103",
                message,
                _location(report, where),
                anchor=f"spike[{start}]",
                fix_note="look for a reload (ticket keys lost), a deploy, a load-balancer change or one "
                "client (LOG104) at that time; `tlslint check` finds the configuration causes",
            )
        )
    return found


def _floods(report: Report) -> list[Finding]:
    a = report.analysis
    offenders = ranked_offenders(a)
    total = len(a.offenders) + a.offenders_dropped
    found = []
    for rank, offender in enumerate(offenders[:MAX_CLIENT_FINDINGS]):
        minutes = f"{offender.minutes_over} minute{'s' if offender.minutes_over != 1 else ''}"
        message = (
            f"client {offender.client} made {offender.max_per_minute} full handshakes in one minute "
            f"({iso(offender.max_minute * 60.0)}), above the limit of {report.limit}; over the limit "
            f"in {minutes}"
        )
        if rank == MAX_CLIENT_FINDINGS - 1 and total > MAX_CLIENT_FINDINGS:
            message += f"; {total - MAX_CLIENT_FINDINGS} more clients are over the limit (JSON report)"
        found.append(
            make_finding(
                "LOG104",
                message,
                _location(report, offender.where),
                anchor=f"client[{offender.client}]",
                fix_note="nginx: limit_req / limit_conn keyed on $binary_remote_addr; ask why this client "
                "neither keeps its connection nor resumes its session",
            )
        )
    return found


# --------------------------------------------------------------------------- options


def parse_window(text: str) -> int:
    from tlslint.units import parse_time

    seconds = parse_time(text)
    if seconds is None or seconds < 1 or seconds != int(seconds):
        raise UsageError(f"--window: '{text}' is not a whole number of seconds like 30s, 1m or 5m")
    return int(seconds)


def parse_since(text: str, now: float | None = None) -> float:
    from tlslint.logs.formats import TimeParser
    from tlslint.units import parse_time

    moment = TimeParser.iso(text.strip())
    if moment is not None:
        return moment
    seconds = parse_time(text.strip())
    if seconds is None:
        raise UsageError(f"--since: '{text}' is neither an ISO 8601 time nor a duration like 2h")
    return (time.time() if now is None else now) - seconds


def run_logs(
    files: list[Path],
    *,
    since: str | None,
    window: str,
    baseline: list[Path],
    log_format: str | None,
    per_client_limit: int | None,
    output_format: str,
    output: Path | None,
    fail_on: str | None,
    config: Path | None,
    select: Given,
    ignore: Given,
    quiet: bool,
    extend_select: Given = None,
) -> int:
    try:
        if not files:
            raise UsageError("no log files given")
        seconds = parse_window(window)
        start = parse_since(since) if since else None
        if per_client_limit is not None and per_client_limit < 1:
            raise UsageError("--per-client-limit must be at least 1")
        check_output(output)
        overrides = {"LOG104": {"per-client-limit": per_client_limit}} if per_client_limit else None
        rules = load_rule_settings(config, select, ignore, fail_on, overrides, extend_select)
        method = str(rules.options("LOG103")["method"])
        if method not in METHODS:
            raise UsageError(f"rules.LOG103.method: '{method}' is not one of {', '.join(METHODS)}")
    except UsageError as error:
        print(f"tlslint: {error}", file=sys.stderr)
        return 2
    limit = int(rules.options("LOG104")["per-client-limit"])
    problems: list[str] = []
    missing: list[Path] = []
    empty: list[str] = []
    prepared = prepare(files, log_format, problems, missing, empty)
    analysis = analyse(prepared, Options(seconds, start, limit))
    analysis.notes[:0] = empty
    reference = None
    if baseline:
        base_empty: list[str] = []
        base_prepared = prepare(baseline, log_format, problems, missing, base_empty)
        analysis.notes += [f"--baseline {note}" for note in base_empty]
        reference = analyse(base_prepared, Options(seconds, None, limit, count_clients=False))
        if reference.files and not reference.has_reuse and analysis.has_reuse:
            # It counts no full handshake: as a baseline of zeros it flagged every window.
            problems.append(
                "--baseline: the log has no session-reuse field ($ssl_session_reused in nginx), so it "
                "counts no full handshake and cannot be the baseline; LOG103 was judged against the "
                "checked logs themselves"
            )
            reference = None
    report = build_report(analysis, reference, rules, [str(p) for p in baseline])
    findings = evaluate(report, rules)
    run = make_result(findings, [p.file.path for p in prepared], missing)
    text = render(output_format, report, run, quiet=quiet)
    try:
        emit(text, output)
    except UsageError as error:
        print(f"tlslint: {error}", file=sys.stderr)
        return 2
    for path in missing:
        print(f"tlslint: {path}: no such file or directory", file=sys.stderr)
    for problem in problems:
        print(f"tlslint: {problem}", file=sys.stderr)
    for note in unread_notes(analysis):  # every output format, --quiet too: nothing is judged on them
        print(f"tlslint: warning: {note}", file=sys.stderr)
    if problems or missing:
        return 2
    return run.exit_code(rules.fail_on)


def render(output_format: str, report: Report, run: Any, *, quiet: bool) -> str:
    if output_format == "json":
        from tlslint.report.json_format import document

        payload: dict[str, Any] = document(run)
        payload["logs"] = report.as_dict()
        return json.dumps(payload, indent=2) + "\n"
    if output_format == "html":
        from tlslint.logs.html import render_html

        return render_html(report, run.findings)
    if output_format == "text":
        from tlslint.logs.text import render_summary

        out = "" if quiet else render_summary(report)
        out += findings_text(run, quiet=quiet)
        if not quiet:
            files = len(report.analysis.files)
            where = f"in {files} log file{'s' if files != 1 else ''}"
            out += ("\n" if run.findings else "") + summary_line(run.findings, where) + "\n"
        return out
    from tlslint.report import render as render_run

    return render_run(output_format, run, quiet=quiet)


__all__ = ["TOP", "run_logs"]
