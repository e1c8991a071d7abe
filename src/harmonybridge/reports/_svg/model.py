"""What a chart draws (series, bands, lines, markers) and its table alternative."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from harmonybridge.formatting import fmt_score

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
    decimals: int = 1
    extra: dict[str, str] = field(default_factory=dict)


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
