"""The terminal summary of ``tlslint logs``: counts, a sparkline of the windows, top clients."""

from __future__ import annotations

import math

from tlslint.logs.analysis import FULL, RESETS, Report, iso
from tlslint.units import format_time

BLOCKS = "▁▂▃▄▅▆▇█"
WIDTH = 72


def chart_series(report: Report) -> tuple[str, list[int]]:
    """What the chart shows: full handshakes when known, else non-SNI resets, else entries."""
    a = report.analysis
    if a.has_reuse:
        return "full handshakes", [row[FULL] for row in report.rows]
    if a.has_ingress and a.resets:
        return "non-SNI resets", [row[RESETS] for row in report.rows]
    return "log entries", [row[0] for row in report.rows]


def sparkline(values: list[int], marks: set[int], width: int = WIDTH) -> tuple[str, str, int]:
    """(line, marker line, windows per character): each character is the max of its windows."""
    if not values:
        return "", "", 1
    per = max(1, math.ceil(len(values) / width))
    buckets = [values[i : i + per] for i in range(0, len(values), per)]
    peak = max(values) or 1
    line = "".join(
        " " if max(b) == 0 else BLOCKS[min(len(BLOCKS) - 1, max(0, math.ceil(max(b) / peak * 8) - 1))]
        for b in buckets
    )
    marker = "".join(
        "^" if any(i * per + j in marks for j in range(len(b))) else " " for i, b in enumerate(buckets)
    )
    return line, marker.rstrip(), per


def _count(number: int) -> str:
    return f"{number:,}"


def render_summary(report: Report) -> str:
    a = report.analysis
    files = ", ".join(
        f"{f.path} ({f.format['name']}{', ' + f.compression if f.compression else ''})" for f in a.files
    )
    lines = [f"tlslint logs: {files or 'no files'}"]
    entries = sum(f.entries for f in a.files)
    unparsed = sum(f.unparsed for f in a.files)
    first = min((f.first_time for f in a.files if f.first_time is not None), default=None)
    last = max((f.last_time for f in a.files if f.last_time is not None), default=None)
    span = f" from {iso(first)} to {iso(last)}" if first is not None else ""
    extra = f", {_count(unparsed)} lines not understood" if unparsed else ""
    lines.append(f"  {_count(entries)} entries{span}{extra}")
    if a.has_reuse:
        ratio = f"{a.resumed / a.connections:.1%}" if a.connections else "n/a"
        unit = "TLS connections" if a.exact_connections else "TLS requests"
        lines.append(f"  {unit} {_count(a.connections)}: resumed {ratio}, full handshakes {_count(a.full)}")
    if a.has_ingress or a.resets:
        lines.append(
            f"  non-SNI resets {_count(a.resets)}"
            + (f", SNI without a filter chain {_count(a.unknown_sni)}" if a.unknown_sni else "")
        )
    label, values = chart_series(report)
    if values:
        marks = {s.window for s in report.spikes}
        line, marker, per = sparkline(values, marks)
        peak = max(values)
        peak_at = iso(report.window_start(values.index(peak)))
        threshold = f", threshold {report.baseline.threshold:.0f}" if report.baseline and a.has_reuse else ""
        scale = f"; one character = {per} windows (max)" if per > 1 else ""
        spikes = "; ^ marks a spike" if marker.strip() else ""
        lines.append(
            f"  {label} per {format_time(report.window)} window ({len(values)} windows, peak {_count(peak)} "
            f"at {peak_at}{threshold}{scale}{spikes}):"
        )
        lines.append(f"  |{line}|")
        if marker.strip():
            lines.append(f"   {marker}")
    top = a.clients.top(5)
    if a.has_reuse and top:
        lines.append(
            "  top clients by full handshakes: " + " · ".join(f"{client} {_count(n)}" for client, n in top)
        )
    if a.resets:
        top_resets = " · ".join(f"{client} {_count(n)}" for client, n in a.reset_clients.top(5))
        lines.append(f"  top clients without SNI: {top_resets}")
    lines += [f"  note: {note}" for note in report.notes]
    return "\n".join(lines) + "\n\n"
