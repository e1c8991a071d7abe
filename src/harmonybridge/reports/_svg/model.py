"""What a chart draws (series, bands, lines, markers) and its table alternative."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from harmonybridge.formatting import fmt_score

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
# Okabe & Ito's colour-blind-safe hues, darkened where needed so every line has at
# least 3:1 contrast against the white plot (WCAG 2.2, 1.4.11): blue, bluish green,
# reddish purple, wine (for sky blue, 2.3:1), vermillion, black, dark yellow (for
# yellow, 1.3:1). Lines also differ by dash pattern (see Spec), never by colour alone.
PALETTE: tuple[str, ...] = (
    "#0072B2",
    "#007A5A",
    "#AA4499",
    "#882255",
    "#C2410C",
    "#000000",
    "#7A5C00",
)
PRACTITIONER_COLOUR = "#B35900"  # Okabe & Ito orange darkened (was #E69F00, 2.25:1)
DASHES = {"": None, "goal": "6 3", "task": "2 3", "bond": "9 3 2 3"}
#: Dash patterns given to a line whose pattern and width another line of the chart
#: already has (family members, several goals), in this order.
SPARE_DASHES: tuple[str, ...] = (
    "12 4",
    "3 3",
    "12 3 3 3",
    "1 3",
    "8 3 1 3 1 3",
    "16 4 4 4",
    "5 5",
    "2 6",
)
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
    "sudden_loss": ("diamond", "#AA4499", "sudden loss"),
    "missed_session": ("ring", "#666666", "missed session"),
    "modality_change": ("square", "#006D8F", "modality change"),
}
_SOURCE_FILL = {
    "statistical": "#D55E00",
    "client_report": "#A63A00",
    "practitioner_report": "#B35900",
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
    decimals: int = 1
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "series", distinct_styles(self.series))


def distinct_styles(series: tuple[Series, ...]) -> tuple[Series, ...]:
    """Give each line a dash pattern and width no other line has (WCAG 1.4.1).

    The first line keeping a style keeps it; a later one with the same style gets the
    next spare dash pattern, so the legend tells the lines apart without colour.
    """
    used = {(s.dash, s.width) for s in series}
    seen: set[tuple[str | None, float]] = set()
    spare = (d for d in SPARE_DASHES)
    out = []
    for s in series:
        if (s.dash, s.width) in seen:
            dash = next((d for d in spare if (d, s.width) not in used), s.dash)
            s = replace(s, dash=dash)
            used.add((dash, s.width))
        seen.add((s.dash, s.width))
        out.append(s)
    return tuple(out)


def fmt(value: float, decimals: int = 1) -> str:
    """Format a score for text with the one score formatter (chart tables, titles)."""
    return fmt_score(value, decimals)


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


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
