"""Scales, ticks, lines with gaps, marker symbols and legend layout (pure SVG text).

Everything is written with presentation attributes (``fill``, ``stroke``) and CSS
classes, never ``style=`` attributes, so the output passes a strict
Content-Security-Policy.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from harmonybridge.reports._svg.model import (
    _GUIDED,
    _MARKER_STYLE,
    _SOURCE_FILL,
    Marker,
    Spec,
    _num,
)


def nice_step(span: float, max_ticks: int) -> float:
    """Return the smallest 1-2-2.5-5 × 10^k step giving at most ``max_ticks`` intervals."""
    if span <= 0:
        return 1.0
    base = 10 ** math.floor(math.log10(span / max(max_ticks, 1)))
    for m in (1, 2, 2.5, 5, 10):
        if span / (m * base) <= max_ticks:
            return float(m * base)
    return float(10 * base)


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
