"""One self-contained HTML page: an inline SVG chart of the windows, the findings, the clients.

No scripts, no external resources: the page opens from a file, a CI artifact or
an e-mail attachment the same way. Each window is one ``<rect class="bar">`` in
``<svg id="chart">`` (a spike is ``class="bar spike"``), with a ``<title>`` tooltip.
"""

from __future__ import annotations

import math
from html import escape

from tlslint import __version__
from tlslint.findings import Finding
from tlslint.logs.analysis import CLIENT_CAP, RESETS, Offender, Report, iso, ranked_offenders
from tlslint.logs.text import chart_series
from tlslint.units import format_time

WIDTH, HEIGHT = 1100, 300
LEFT, RIGHT, TOP_MARGIN, BOTTOM = 64, 16, 24, 44

CSS = """
:root { --text:#1f2328; --muted:#59636e; --line:#d1d9e0; --bar:#3572b0; --spike:#cf222e;
        --threshold:#9a6700; --bg:#ffffff; --panel:#f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text);
       font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
main { max-width: 1140px; margin: 0 auto; padding: 20px 20px 40px; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 16px; margin: 26px 0 8px; }
.sub { color: var(--muted); margin: 0 0 14px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 10px; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .value { font-size: 22px; font-weight: 650; font-variant-numeric: tabular-nums; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card.bad .value { color: var(--spike); }
.chart { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
svg { display: block; width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg .bar { fill: var(--bar); }
svg .bar.spike { fill: var(--spike); }
svg .reset-bar { fill: #8250df; }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .threshold { stroke: var(--threshold); stroke-width: 1.5; stroke-dasharray: 6 4; }
svg .threshold-label { fill: var(--threshold); font-weight: 600; }
svg .peak-label { fill: var(--spike); font-weight: 650; }
.legend { color: var(--muted); font-size: 12px; margin: 6px 4px 0; }
.legend span { display: inline-block; margin-right: 16px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px;
          vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; }
td.num, th.num { text-align: right; }
tr.over td { color: var(--spike); font-weight: 600; }
.findings { list-style: none; padding: 0; margin: 0; }
.findings li { border-left: 4px solid var(--threshold); background: var(--panel); padding: 8px 12px;
               margin-bottom: 8px; border-radius: 0 6px 6px 0; }
.findings li.error { border-color: var(--spike); }
.findings li.info { border-color: var(--bar); }
.code { font-weight: 700; margin-right: 6px; }
.where { color: var(--muted); font-size: 12px; }
.notes { color: var(--muted); font-size: 13px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
@media (max-width: 800px) { .two { grid-template-columns: 1fr; } }
footer { color: var(--muted); font-size: 12px; margin-top: 28px; }
"""


def _n(value: int) -> str:
    return f"{value:,}"


def _nice_max(value: int) -> int:
    """A round top for the y axis: 4 whole-number steps of 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 x 10^n."""
    quarter = max(value, 1) / 4
    magnitude = 10 ** math.floor(math.log10(quarter)) if quarter >= 1 else 1
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = factor * magnitude
        if step == int(step) and step >= quarter:
            return int(step) * 4
    return math.ceil(quarter) * 4


def _time_label(seconds: float, with_date: bool) -> str:
    stamp = iso(seconds) or ""
    return f"{stamp[:10]} {stamp[11:16]}" if with_date else stamp[11:16]


def chart_svg(
    report: Report,
    values: list[int],
    *,
    label: str,
    element_id: str,
    bar_class: str = "bar",
    spikes: set[int] | None = None,
    threshold: float | None = None,
    height: int = HEIGHT,
) -> str:
    spikes = spikes or set()
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = height - TOP_MARGIN - BOTTOM
    peak = max(values, default=0)
    top = _nice_max(max(peak, math.ceil(threshold or 0)))
    n = max(len(values), 1)
    step = plot_w / n
    gap = step * 0.18 if step > 3 else 0.0
    parts = [
        f'<svg id="{element_id}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(label)} per window" xmlns="http://www.w3.org/2000/svg">'
    ]
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        y = TOP_MARGIN + plot_h * (1 - fraction)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{_n(round(top * fraction))}</text>'
        )
    window = format_time(report.window)
    for index, value in enumerate(values):
        h = plot_h * value / top
        x = LEFT + index * step
        spike = index in spikes
        css = f"{bar_class} spike" if spike else bar_class
        start = iso(report.window_start(index))
        note = " (spike)" if spike else ""
        parts.append(
            f'<rect class="{css}" x="{x + gap / 2:.2f}" y="{TOP_MARGIN + plot_h - h:.2f}" '
            f'width="{max(step - gap, 0.6):.2f}" height="{h:.2f}">'
            f"<title>{escape(str(start))} ({window}): {_n(value)} {escape(label)}{note}</title></rect>"
        )
    if threshold is not None and threshold > 0:
        y = TOP_MARGIN + plot_h * (1 - threshold / top)
        parts.append(f'<line class="threshold" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="threshold-label" x="{WIDTH - RIGHT - 4}" y="{y - 5:.1f}" text-anchor="end">'
            f"threshold {threshold:,.0f}</text>"
        )
    labelled = 0
    for index in sorted(spikes, key=lambda i: -values[i])[:8]:
        if index > 0 and index - 1 in spikes and values[index - 1] >= values[index]:
            continue
        x = LEFT + (index + 0.5) * step
        y = TOP_MARGIN + plot_h * (1 - values[index] / top)
        parts.append(
            f'<text class="peak-label" x="{x:.1f}" y="{max(y - 6, 12):.1f}" text-anchor="middle">'
            f"{_n(values[index])}</text>"
        )
        labelled += 1
    ticks = min(8, n)
    for k in range(ticks):
        index = round(k * (n - 1) / max(ticks - 1, 1)) if n > 1 else 0
        x = LEFT + (index + 0.5) * step
        text = _time_label(report.window_start(index), with_date=False)
        anchor = "start" if k == 0 else ("end" if k == ticks - 1 and ticks > 1 else "middle")
        parts.append(
            f'<text x="{x:.1f}" y="{height - BOTTOM + 18}" text-anchor="{anchor}">{escape(text)}</text>'
        )
    day = _time_label(report.window_start(0), with_date=True)[:10]
    parts.append(f'<text x="{LEFT}" y="{height - 6}" text-anchor="start">{escape(day)}, UTC</text>')
    parts.append(
        f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP_MARGIN + plot_h}" '
        f'y2="{TOP_MARGIN + plot_h}"/>'
    )
    parts.append("</svg>")
    return "".join(parts)


def _cards(report: Report, findings: list[Finding]) -> str:
    a = report.analysis
    entries = sum(f.entries for f in a.files)
    cards: list[tuple[str, str, bool]] = [("log entries", _n(entries), False)]
    if a.has_reuse:
        ratio = a.resumed / a.connections if a.connections else None
        unit = "TLS connections" if a.exact_connections else "TLS requests"
        cards += [
            (unit, _n(a.connections), False),
            (
                "resumed",
                f"{ratio:.1%}" if ratio is not None else "n/a",
                any(f.code == "LOG102" for f in findings),
            ),
            ("full handshakes", _n(a.full), False),
            ("spike windows", _n(len(report.spikes)), bool(report.spikes)),
            ("clients over limit", _n(len(a.offenders) + a.offenders_dropped), bool(a.offenders)),
        ]
    if a.has_ingress or a.resets:
        cards.append(("non-SNI resets", _n(a.resets), bool(a.resets)))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card{" bad" if bad else ""}"><div class="value">{escape(value)}</div>'
            f'<div class="label">{escape(label)}</div></div>'
            for label, value, bad in cards
        )
        + "</div>"
    )


def _findings(findings: list[Finding]) -> str:
    if not findings:
        return '<p class="notes">No findings.</p>'
    items = []
    for finding in findings:
        loc = finding.location
        where = f"{loc.path}:{loc.line}" if loc.line else str(loc.path)
        items.append(
            f'<li class="{finding.severity}"><span class="code">{finding.code}</span>'
            f"{escape(finding.name)} · {finding.severity}<br>{escape(finding.message)}"
            f'<div class="where">{escape(where)}</div></li>'
        )
    return '<ul class="findings">' + "".join(items) + "</ul>"


def _reset_clients(report: Report) -> str:
    a = report.analysis
    rows = "".join(
        f'<tr><td>{escape(client)}</td><td class="num">{_n(count)}</td></tr>'
        for client, count in a.reset_clients.top(15)
    )
    return (
        '<table><thead><tr><th>client</th><th class="num">handshakes without SNI reset</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _clients(report: Report) -> str:
    a = report.analysis
    offenders = {o.client: o for o in ranked_offenders(a)}
    rows: list[tuple[str, int, Offender | None]] = []
    listed = set()
    for client, count in a.clients.top(15):
        rows.append((client, count, offenders.get(client)))
        listed.add(client)
    for client, listed_offender in list(offenders.items())[:15]:
        if client not in listed:
            rows.append((client, a.clients.counts.get(client, 0), listed_offender))
    if not rows:
        return '<p class="notes">No full handshakes by client.</p>'
    body = []
    for client, count, offender in rows:
        peak = _n(offender.max_per_minute) if offender else "≤ " + _n(report.limit)
        minutes = _n(offender.minutes_over) if offender else "0"
        body.append(
            f'<tr class="{"over" if offender else ""}"><td>{escape(client)}</td>'
            f'<td class="num">{_n(count)}</td><td class="num">{peak}</td><td class="num">{minutes}</td></tr>'
        )
    exact = "" if a.clients.exact else f" (lower bounds, short by at most {_n(a.clients.dropped_max)})"
    return (
        f'<table><thead><tr><th>client</th><th class="num">full handshakes{exact}</th>'
        f'<th class="num">peak per minute</th><th class="num">minutes over {report.limit}/min</th>'
        "</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _names(report: Report) -> str:
    a = report.analysis
    if not a.names:
        return ""
    rows = "".join(
        f'<tr><td>{escape(name)}</td><td class="num">{_n(s.connections)}</td>'
        f'<td class="num">{s.resumed / s.connections:.1%}</td></tr>'
        for name, s in sorted(a.names.items(), key=lambda item: -item[1].connections)[:15]
    )
    return (
        "<div><h2>Resumption by server name</h2><table><thead><tr><th>server name (SNI)</th>"
        f'<th class="num">connections</th><th class="num">resumed</th></tr></thead><tbody>{rows}</tbody>'
        "</table></div>"
    )


def render_html(report: Report, findings: list[Finding]) -> str:
    a = report.analysis
    label, values = chart_series(report)
    window = format_time(report.window)
    spikes = {s.window for s in report.spikes}
    threshold = report.baseline.threshold if report.baseline is not None and a.has_reuse else None
    first = min((f.first_time for f in a.files if f.first_time is not None), default=None)
    last = max((f.last_time for f in a.files if f.last_time is not None), default=None)
    files = ", ".join(escape(f"{f.path.name} ({f.format['name']})") for f in a.files) or "no files"
    span = f"{iso(first)} to {iso(last)}" if first is not None else "no entries"
    chart = chart_svg(report, values, label=label, element_id="chart", spikes=spikes, threshold=threshold)
    legend = (
        f'<span><i class="swatch" style="background:#3572b0"></i>{escape(label)} per {window}</span>'
        '<span><i class="swatch" style="background:#cf222e"></i>spike</span>'
        if a.has_reuse
        else f'<span><i class="swatch" style="background:#3572b0"></i>{escape(label)} per {window}</span>'
    )
    if threshold is not None and report.baseline is not None:
        b = report.baseline
        basis = "the --baseline file" if b.source == "file" else "the windows without a spike"
        legend += (
            f'<span><i class="swatch" style="background:#9a6700"></i>threshold ({report.method}: '
            f"mean {b.mean:,.1f} + 3 × σ {b.std:,.1f}, p95 {b.p95:,.0f} × 2; "
            f"baseline: {basis})</span>"
        )
    resets = ""
    if a.has_reuse and a.resets:
        reset_values = [row[RESETS] for row in report.rows]
        resets = (
            f'<h2>Handshakes without SNI reset by the ingress, per {window}</h2><div class="chart">'
            + chart_svg(
                report,
                reset_values,
                label="non-SNI resets",
                element_id="resets",
                bar_class="reset-bar",
                height=160,
            )
            + "</div>"
        )
    notes = "".join(f"<li>{escape(note)}</li>" for note in report.notes)
    if values:
        chart_block = f'<div class="chart">{chart}<div class="legend">{legend}</div></div>'
    else:
        chart_block = '<p class="notes">No entries in the files (or after --since).</p>'
    if a.has_reuse or not a.resets:
        clients = f"<div><h2>Top clients by full handshakes</h2>{_clients(report)}</div>"
    else:
        clients = f"<div><h2>Top clients without SNI</h2>{_reset_clients(report)}</div>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tlslint logs: TLS handshakes</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>TLS handshakes in access logs</h1>
<p class="sub">{files} · {escape(span)} · {window} windows</p>
{_cards(report, findings)}
<h2>{escape(label[0].upper() + label[1:])} per {window} window</h2>
{chart_block}
{resets}
<h2>Findings</h2>
{_findings(findings)}
<div class="two">
{clients}
{_names(report)}
</div>
{f'<h2>Notes</h2><ul class="notes">{notes}</ul>' if notes else ""}
<footer>tlslint {escape(__version__)} logs report · times in UTC · counts per client are exact below
{_n(CLIENT_CAP)} addresses · <code>--format json</code> has every window.</footer>
</main>
</body>
</html>
"""
