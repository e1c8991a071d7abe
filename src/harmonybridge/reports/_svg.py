"""SVG drawing primitives for the charts: scales, ticks, lines with gaps, markers, legend.

Everything is written with presentation attributes (``fill``, ``stroke``) and CSS
classes, never ``style=`` attributes, scripts or external references, so the output
passes a strict Content-Security-Policy.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from xml.sax.saxutils import escape, quoteattr

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
# Okabe & Ito colour-blind-safe palette.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#000000",
    "#F0E442",
)
PRACTITIONER_COLOUR = "#E69F00"
DASHES = {"": None, "goal": "6 3", "task": "2 3", "bond": "9 3 2 3"}
MARKER_KINDS: tuple[str, ...] = (
    "rupture",
    "repair",
    "sudden_gain",
    "sudden_loss",
    "missed_session",
    "modality_change",
)
_MARKER_STYLE = {  # kind -> (shape, fill, label)
    "rupture": ("down", "#D55E00", "rupture"),
    "repair": ("up", "#009E73", "repair"),
    "sudden_gain": ("diamond", "#0072B2", "sudden gain"),
    "sudden_loss": ("diamond", "#CC79A7", "sudden loss"),
    "missed_session": ("ring", "#666666", "missed session"),
    "modality_change": ("square", "#56B4E9", "modality change"),
}
_SOURCE_FILL = {
    "statistical": "#D55E00",
    "client_report": "#A63A00",
    "practitioner_report": "#E69F00",
}
_GUIDED = frozenset({"rupture", "repair", "sudden_gain", "sudden_loss"})


@dataclass(frozen=True)
class Series:
    """One line: a respondent's scores on one instrument/subscale (or one goal)."""

    key: str
    label: str
    points: tuple[tuple[int, float], ...]  # (session, score), sorted, no NaN
    colour: str
    dash: str | None = None
    width: float = 2.0
    attrs: tuple[tuple[str, str], ...] = ()  # extra data-* attributes
    step: int = 0  # sessions between scheduled scores; 0 = infer from the points


@dataclass(frozen=True)
class Band:
    """A shaded band: constant (``low``/``high``) or per session (``points``)."""

    kind: str
    label: str
    low: float = math.nan
    high: float = math.nan
    points: tuple[tuple[float, float, float], ...] = ()  # (session, low, high)
    series: str = ""
    fill: str = "#999999"


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line (clinical cut-off)."""

    kind: str
    value: float
    label: str


@dataclass(frozen=True)
class Marker:
    """An event on the session axis."""

    kind: str
    session: int
    label: str
    source: str = ""


@dataclass(frozen=True)
class Spec:
    """Everything a chart draws; the SVG and the table alternative both come from it."""

    chart: str
    title: str
    desc: str
    y_range: tuple[float, float]
    y_label: str
    series: tuple[Series, ...]
    bands: tuple[Band, ...] = ()
    lines: tuple[HLine, ...] = ()
    expected: tuple[tuple[float, float], ...] = ()
    markers: tuple[Marker, ...] = ()
    x_range: tuple[int, int] | None = None
    empty_message: str = ""
    decimals: int = 2
    extra: dict[str, str] = field(default_factory=dict)


def fmt(value: float, decimals: int = 2) -> str:
    """Format a score for text: integers without decimals, others rounded."""
    if value == int(value):
        return str(int(value))
    return f"{value:.{decimals}f}".rstrip("0").rstrip(".")


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def nice_step(span: float, max_ticks: int) -> float:
    """Return the smallest 1-2-2.5-5 × 10^k step giving at most ``max_ticks`` intervals."""
    if span <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(span / max(max_ticks, 1)))
    for m in (1, 2, 2.5, 5, 10):
        if span / (m * base) <= max_ticks:
            return m * base
    return 10 * base


def session_ticks(first: int, last: int, max_ticks: int) -> list[int]:
    """Integer session ticks, thinned to at most ``max_ticks``, always showing the first."""
    step = max(1, int(nice_step(last - first, max_ticks)))
    if step == 2.5:
        step = 2
    ticks = [s for s in range(first, last + 1) if s % step == 0]
    if first not in ticks:
        ticks = [first] + [t for t in ticks if t - first >= 0.6 * step]
    return ticks


@dataclass(frozen=True)
class Layout:
    """Pixel geometry of one chart."""

    width: int
    plot_height: int
    x0: float
    x1: float
    y0: float
    y1: float
    left: int = 52
    right: int = 18
    top: int = 12

    @property
    def plot_width(self) -> int:
        """Width of the plotting area."""
        return self.width - self.left - self.right

    @property
    def bottom(self) -> float:
        """Pixel y of the x axis."""
        return self.top + self.plot_height

    def sx(self, session: float) -> float:
        """Pixel x of a session."""
        return self.left + (session - self.x0) / (self.x1 - self.x0) * self.plot_width

    def sy(self, value: float) -> float:
        """Pixel y of a score (clamped to the plot)."""
        v = min(max(value, self.y0), self.y1)
        return self.bottom - (v - self.y0) / (self.y1 - self.y0) * self.plot_height


def chart_id(spec: Spec) -> str:
    """Return a stable id for the chart's title/desc (unique per content)."""
    digest = hashlib.sha1(
        repr((spec.title, spec.series, spec.markers)).encode()
    ).hexdigest()
    return f"hb-{spec.chart}-{digest[:10]}"


def attr(**attrs: object) -> str:
    """Render attributes (``data_x`` → ``data-x``), skipping None."""
    parts = []
    for key, value in attrs.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        parts.append(f"{name}={quoteattr(str(value))}")
    return " ".join(parts)


def radius(n_sessions: int) -> float:
    """Point radius: large for few sessions, small for long series."""
    if n_sessions <= 30:
        return 3.5
    if n_sessions <= 80:
        return 2.5
    return 1.6


def schedule_step(points: Sequence[tuple[int, float]], step: int = 0) -> int:
    """The series' own spacing: the smallest step between its observed sessions.

    A weekly check-in has step 1; an instrument given every 4th session (SWLS, FS)
    has step 4, so its points are joined while a skipped administration is not.
    """
    if step > 0:
        return step
    steps = [b[0] - a[0] for a, b in itertools.pairwise(points)]
    return max(1, min(steps)) if steps else 1


def missing_sessions(points: Sequence[tuple[int, float]], step: int = 0) -> list[int]:
    """Sessions on the series' schedule (between its first and last) without a score."""
    if not points:
        return []
    step, have = schedule_step(points, step), {s for s, _ in points}
    return [s for s in range(points[0][0], points[-1][0] + 1, step) if s not in have]


def path_with_gaps(
    layout: Layout, points: Sequence[tuple[int, float]], step: int = 0
) -> tuple[str, int]:
    """Return an SVG path joining scheduled neighbours only, and its segment count.

    A missed session (a jump larger than the series' own step) starts a new segment,
    so the line is never drawn through a session that should have had a score.
    """
    step = schedule_step(points, step)
    d, segments, prev = [], 0, None
    for session, value in points:
        cmd = "L" if prev is not None and session - prev <= step else "M"
        segments += cmd == "M"
        d.append(f"{cmd}{_num(layout.sx(session))},{_num(layout.sy(value))}")
        prev = session
    return " ".join(d), segments


def marker_shape(kind: str, x: float, y: float, fill: str) -> str:
    """Return the SVG element drawing one marker symbol centred on (x, y)."""
    shape = _MARKER_STYLE[kind][0]
    s = 5.0
    if shape == "ring":
        return f"<circle {attr(cx=_num(x), cy=_num(y), r=4, fill='#ffffff', stroke=fill, stroke_width=1.5)}/>"
    if shape == "square":
        return f"<rect {attr(x=_num(x - 4), y=_num(y - 4), width=8, height=8, fill=fill)}/>"
    pts = {
        "down": [(x - s, y - s), (x + s, y - s), (x, y + s)],
        "up": [(x - s, y + s), (x + s, y + s), (x, y - s)],
        "diamond": [(x, y - s), (x + s, y), (x, y + s), (x - s, y)],
    }[shape]
    return f"<polygon {attr(points=' '.join(f'{_num(a)},{_num(b)}' for a, b in pts), fill=fill)}/>"


def marker_fill(marker: Marker) -> str:
    """Colour of a marker (ruptures coloured by their source)."""
    if marker.kind == "rupture" and marker.source in _SOURCE_FILL:
        return _SOURCE_FILL[marker.source]
    return _MARKER_STYLE[marker.kind][1]


def marker_name(kind: str) -> str:
    """Human-readable name of a marker kind."""
    return _MARKER_STYLE[kind][2]


def is_guided(kind: str) -> bool:
    """Whether the marker also draws a vertical guide line through the plot."""
    return kind in _GUIDED


def text(x: float, y: float, content: str, **attrs: object) -> str:
    """Return a ``<text>`` element with escaped content."""
    return f"<text {attr(x=_num(x), y=_num(y), **attrs)}>{escape(content)}</text>"


def legend_rows(
    labels: Sequence[str], width: int, left: int
) -> list[list[tuple[int, float]]]:
    """Lay legend entries out left to right, wrapping; returns (index, x) per row."""
    rows: list[list[tuple[int, float]]] = [[]]
    x = float(left)
    for i, label in enumerate(labels):
        w = 34 + 6.4 * len(label)
        if rows[-1] and x + w > width - 8:
            rows.append([])
            x = float(left)
        rows[-1].append((i, x))
        x += w + 14
    return rows if rows[0] else []


# --- rendering a Spec -------------------------------------------------------------

PLOT_HEIGHT = 200


@dataclass(frozen=True)
class ChartTable:
    """The table alternative of a chart: one row per session, cells as display text.

    Attributes
    ----------
    caption : str
        The chart's title (use as the table caption).
    columns : tuple of str
        ``"Session"``, one column per line of the chart, then ``"Events"``.
    rows : tuple of tuple of str
        One row per session shown on the chart; ``"–"`` where a line has no score.
    """

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


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


def _legend(lay: Layout, spec: Spec, rows: list, top: float) -> list[str]:
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
