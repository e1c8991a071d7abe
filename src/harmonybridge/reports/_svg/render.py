"""Render a chart :class:`Spec` as an accessible, strict-CSP-safe SVG and as a table."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from harmonybridge.reports._svg.geometry import (
    Layout,
    attr,
    chart_id,
    is_guided,
    legend_rows,
    marker_fill,
    marker_name,
    marker_shape,
    nice_step,
    path_with_gaps,
    radius,
    session_ticks,
    text,
)
from harmonybridge.reports._svg.model import FONT, SVG_NS, ChartTable, Spec, fmt

PLOT_HEIGHT = 200


def sessions_of(spec: Spec) -> list[int]:
    """Every session the chart covers (data, markers and the requested range)."""
    found = {s for series in spec.series for s, _ in series.points}
    found |= {m.session for m in spec.markers}
    if spec.x_range:
        found |= set(range(spec.x_range[0], spec.x_range[1] + 1))
    if not found:
        return []
    return list(range(min(found), max(found) + 1))


def table(spec: Spec) -> ChartTable:
    """Return the table alternative of a chart."""
    sessions = sessions_of(spec)
    if not spec.series:
        sessions = sorted({m.session for m in spec.markers})
    columns = ("Session", *(s.label for s in spec.series), "Events")
    values = [dict(s.points) for s in spec.series]
    events: dict[int, list[str]] = {}
    for m in spec.markers:
        events.setdefault(m.session, []).append(m.label or marker_name(m.kind))
    rows = []
    for session in sessions:
        cells = [
            fmt(v[session], spec.decimals) if session in v else "–" for v in values
        ]
        rows.append((str(session), *cells, "; ".join(events.get(session, []))))
    return ChartTable(spec.title, columns, tuple(rows))


def svg(spec: Spec, *, width: int = 640, plot_height: int = PLOT_HEIGHT) -> str:
    """Return the chart as a standalone, accessible SVG string."""
    cid = chart_id(spec)
    sessions = sessions_of(spec)
    has_data = bool(spec.series) and any(s.points for s in spec.series)
    if not has_data:
        return _empty(spec, cid, width, plot_height)
    first, last = sessions[0], sessions[-1]
    pad = 0.5 if first == last else max(0.3, (last - first) * 0.02)
    lay = Layout(width, plot_height, first - pad, last + pad, *spec.y_range)
    legend = legend_rows([s.label for s in spec.series], width, lay.left)
    lane = 22 if spec.markers else 0
    height = int(lay.bottom + 40 + lane + 18 * len(legend) + 6)
    body = [
        _frame(lay, first, last, spec),
        *_bands(lay, spec),
        *_lines(lay, spec),
        *_series(lay, spec, last - first + 1),
        *_markers(lay, spec, lane),
        *_legend(lay, spec, legend, lay.bottom + 40 + lane),
    ]
    return _wrap(spec, cid, width, height, "".join(body), empty=False)


def _wrap(
    spec: Spec, cid: str, width: int, height: int, body: str, *, empty: bool
) -> str:
    root = attr(
        xmlns=SVG_NS,
        role="img",
        aria_labelledby=f"{cid}-title {cid}-desc",
        viewBox=f"0 0 {width} {height}",
        width=width,
        height=height,
        class_=f"hb-chart hb-chart-{spec.chart}",
        data_chart=spec.chart,
        data_empty="true" if empty else "false",
        font_family=FONT,
        font_size=12,
        **{f"data_{k}": v for k, v in spec.extra.items()},
    )
    return (
        f'<svg {root}><title id="{cid}-title">{escape(spec.title)}</title>'
        f'<desc id="{cid}-desc">{escape(spec.desc)}</desc>{body}</svg>'
    )


def _empty(spec: Spec, cid: str, width: int, plot_height: int) -> str:
    height = plot_height // 2 + 20
    spec = replace(spec, desc=f"{spec.title}. {spec.empty_message}")
    body = (
        f"<rect {attr(x=1, y=1, width=width - 2, height=height - 2, fill='#f7f7f7', stroke='#cccccc', rx=6, class_='empty-frame')}/>"
        + text(
            width / 2,
            height / 2 + 4,
            spec.empty_message,
            text_anchor="middle",
            fill="#555555",
            class_="empty-message",
        )
    )
    return _wrap(spec, cid, width, height, body, empty=True)


def _frame(lay: Layout, first: int, last: int, spec: Spec) -> str:
    out = [
        f"<rect {attr(x=lay.left, y=lay.top, width=lay.plot_width, height=lay.plot_height, fill='#ffffff', stroke='#bbbbbb', class_='plot-area')}/>"
    ]
    step = nice_step(lay.y1 - lay.y0, 6)
    v = math.ceil(lay.y0 / step) * step
    while v <= lay.y1 + 1e-9:
        y = lay.sy(v)
        out.append(
            f"<line {attr(x1=lay.left, x2=lay.left + lay.plot_width, y1=_n(y), y2=_n(y), stroke='#eeeeee', class_='grid')}/>"
        )
        out.append(
            text(
                lay.left - 6,
                y + 4,
                fmt(v),
                text_anchor="end",
                fill="#444444",
                class_="y-tick",
                data_value=fmt(v),
            )
        )
        v += step
    max_ticks = max(2, lay.plot_width // 36)
    for s in session_ticks(first, last, max_ticks):
        x = lay.sx(s)
        out.append(
            f"<line {attr(x1=_n(x), x2=_n(x), y1=_n(lay.bottom), y2=_n(lay.bottom + 4), stroke='#888888')}/>"
        )
        out.append(
            text(
                x,
                lay.bottom + 16,
                str(s),
                text_anchor="middle",
                fill="#444444",
                class_="x-tick",
                data_session=s,
            )
        )
    out.append(
        text(
            lay.left + lay.plot_width / 2,
            lay.bottom + 32,
            "Session",
            text_anchor="middle",
            fill="#444444",
            class_="x-label",
        )
    )
    out.append(
        text(
            14,
            lay.top + lay.plot_height / 2,
            spec.y_label,
            text_anchor="middle",
            fill="#444444",
            class_="y-label",
            transform=f"rotate(-90 14 {_n(lay.top + lay.plot_height / 2)})",
        )
    )
    return "".join(out)


def _n(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _inside(lay: Layout, session: float) -> bool:
    return lay.x0 <= session <= lay.x1


def _bands(lay: Layout, spec: Spec) -> list[str]:
    out = []
    for band in spec.bands:
        if band.points:  # only the sessions on the chart (curves may run further)
            band = replace(
                band, points=tuple(p for p in band.points if _inside(lay, p[0]))
            )
            if not band.points:
                continue
        common = {
            "class_": f"band {band.kind.replace('_', '-')}",
            "data_kind": band.kind,
            "data_series": band.series or None,
            "fill": band.fill,
            "fill_opacity": 0.18,
        }
        if band.points:
            upper = [f"{_n(lay.sx(s))},{_n(lay.sy(hi))}" for s, _, hi in band.points]
            lower = [
                f"{_n(lay.sx(s))},{_n(lay.sy(lo))}"
                for s, lo, _ in reversed(band.points)
            ]
            shape = f"<polygon {attr(points=' '.join(upper + lower), **common)}>"
        else:
            y_hi, y_lo = lay.sy(band.high), lay.sy(band.low)
            shape = f"<rect {attr(x=lay.left, y=_n(y_hi), width=lay.plot_width, height=_n(y_lo - y_hi), data_low=fmt(band.low), data_high=fmt(band.high), **common)}>"
            shape = shape.replace("<rect ", "<rect ", 1)
        tag = "polygon" if band.points else "rect"
        out.append(f"{shape}<title>{escape(band.label)}</title></{tag}>")
    expected = [(s, v) for s, v in spec.expected if _inside(lay, s)]
    if expected:
        d = " ".join(
            f"{'M' if i == 0 else 'L'}{_n(lay.sx(s))},{_n(lay.sy(v))}"
            for i, (s, v) in enumerate(expected)
        )
        out.append(
            f"<path {attr(d=d, fill='none', stroke='#777777', stroke_width=1.5, stroke_dasharray='5 4', class_='expected-line', data_kind='expected')}/>"
        )
    return out


def _lines(lay: Layout, spec: Spec) -> list[str]:
    out = []
    for line in spec.lines:
        if not lay.y0 <= line.value <= lay.y1:
            continue
        y = lay.sy(line.value)
        out.append(
            f"<line {attr(x1=lay.left, x2=lay.left + lay.plot_width, y1=_n(y), y2=_n(y), stroke='#B22222', stroke_width=1.5, stroke_dasharray='8 4', class_='cutoff', data_kind=line.kind, data_value=fmt(line.value))}><title>{escape(line.label)}</title></line>"
        )
        out.append(
            text(
                lay.left + lay.plot_width - 4,
                y - 4,
                line.label,
                text_anchor="end",
                fill="#B22222",
                class_="cutoff-label",
            )
        )
    return out


def _series(lay: Layout, spec: Spec, n_sessions: int) -> list[str]:
    out = []
    r = radius(n_sessions)
    for s in spec.series:
        extra = {f"data_{k}": v for k, v in s.attrs}
        d, segments = path_with_gaps(lay, s.points, s.step)
        # Hot loop (150 sessions x several lines): attributes escaped once per line.
        head = f'<circle r="{r}" fill={quoteattr(s.colour)} class="point" data-series={quoteattr(s.key)}'
        label = escape(s.label)
        points = [
            f'{head} cx="{_n(lay.sx(session))}" cy="{_n(lay.sy(value))}" '
            f'data-session="{session}" data-value="{float(value)!r}"><title>'
            f"{label}, session {session}: {fmt(value, spec.decimals)}</title></circle>"
            for session, value in s.points
        ]
        out.append(
            f"<g {attr(class_='series', data_series=s.key, data_label=s.label, data_points=len(s.points), **extra)}>"
            f"<path {attr(d=d, fill='none', stroke=s.colour, stroke_width=s.width, stroke_dasharray=s.dash, stroke_linejoin='round', class_='line', data_series=s.key, data_segments=segments)}/>"
            + "".join(points)
            + "</g>"
        )
    return out


def _markers(lay: Layout, spec: Spec, lane: int) -> list[str]:
    out = []
    y = lay.bottom + 40 + lane / 2 - 6
    for m in spec.markers:
        x = lay.sx(m.session)
        fill = marker_fill(m)
        label = m.label or f"{marker_name(m.kind)} at session {m.session}"
        guide = ""
        if is_guided(m.kind):
            guide = f"<line {attr(x1=_n(x), x2=_n(x), y1=lay.top, y2=_n(lay.bottom), stroke=fill, stroke_width=1, stroke_dasharray='2 3', class_='marker-guide')}/>"
        out.append(
            f"<g {attr(class_='marker marker-' + m.kind.replace('_', '-'), data_kind=m.kind, data_session=m.session, data_source=m.source or None)}>"
            f"<title>{escape(label)}</title>{guide}{marker_shape(m.kind, x, y, fill)}</g>"
        )
    return out


def _legend(lay: Layout, spec: Spec, rows: list[Any], top: float) -> list[str]:
    out = []
    for r, row in enumerate(rows):
        y = top + 18 * r + 8
        for i, x in row:
            s = spec.series[i]
            out.append(
                f"<g {attr(class_='legend-item', data_series=s.key)}>"
                f"<line {attr(x1=_n(x), x2=_n(x + 26), y1=_n(y - 4), y2=_n(y - 4), stroke=s.colour, stroke_width=s.width, stroke_dasharray=s.dash)}/>"
                + text(x + 32, y, s.label, fill="#222222")
                + "</g>"
            )
    return out
