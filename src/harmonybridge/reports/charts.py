"""Server-side SVG charts of alliance, outcomes and goal progress, each with a table alternative.

Every chart is a pure function of the canonical score frame returning an SVG string:
no JavaScript, no ``style`` attributes, no external references (strict-CSP safe), an
``<svg role="img">`` with ``<title>`` and a ``<desc>`` text summary for screen readers,
and ``data-*`` attributes (``data-series``, ``data-session``, ``data-kind``) that tests
and pages can rely on. Each ``*_chart`` has a ``*_table`` twin returning the same data
as a :class:`ChartTable`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from harmonybridge.reports import _svg
from harmonybridge.reports._svg import ChartTable
from harmonybridge.reports._svg import specs as _specs
from harmonybridge.reports._svg.events import (
    markers_from_ruptures,
    markers_from_sessions,
    markers_from_sudden_gains,
)

__all__ = [
    "MARKER_KINDS",
    "ChartTable",
    "alliance_chart",
    "alliance_figure",
    "alliance_table",
    "goal_progress_chart",
    "goal_progress_figure",
    "goal_progress_table",
    "markers_from_ruptures",
    "markers_from_sessions",
    "markers_from_sudden_gains",
    "outcome_chart",
    "outcome_figure",
    "outcome_table",
]

MARKER_KINDS = _svg.MARKER_KINDS
ALLIANCE_SUBSCALES = _specs.ALLIANCE_SUBSCALES


def alliance_chart(
    scores: pd.DataFrame,
    *,
    instruments: Sequence[str] = ("hb_checkin", "hb_checkin_practitioner"),
    subscales: bool | Sequence[str] = False,
    markers: Iterable[Mapping[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Working alliance, client and practitioner views",
    sessions: tuple[int, int] | None = None,
    width: int = 640,
) -> str:
    """Return an SVG line chart of alliance over sessions, both raters on one chart.

    Parameters
    ----------
    scores : pandas.DataFrame
        Canonical score frame of one engagement (``session``, ``rater_role``,
        ``respondent_id``, ``instrument``, ``subscale``, ``score``).
    instruments : sequence of str
        Alliance instruments to draw (client and practitioner forms).
    subscales : bool or sequence of str
        ``True`` adds goal, task and bond lines per respondent; or name some of them.
    markers : iterable of mapping, optional
        Events on the session axis: ``kind`` (one of :data:`MARKER_KINDS`), ``session``,
        optional ``label`` and ``source`` (rupture source, e.g. ``client_report``).
    labels : mapping, optional
        Display name per ``respondent_id`` (each family member gets its own line).
    title : str
        Chart title (also the table caption).
    sessions : tuple of int, optional
        Session range to show even where nothing was scored.
    width : int
        Width in pixels (the SVG scales with its ``viewBox``).

    Returns
    -------
    str
        ``<svg role="img">`` with ``<title>``, ``<desc>`` and one ``g.series`` per line;
        an empty-state SVG (``data-empty="true"``) when there is nothing to draw.

    Raises
    ------
    DataValidationError
        Missing columns, several engagements, duplicate sessions in a line, an unknown
        subscale or marker kind.

    Examples
    --------
    >>> from harmonybridge.datasets import simulate_practice
    >>> p = simulate_practice(n_clients=12, seed=0)
    >>> one = p.scores[p.scores["engagement_id"] == "E0001"]
    >>> alliance_chart(one).startswith("<svg")
    True
    """
    spec = _specs.alliance_spec(
        scores,
        instruments=instruments,
        subscales=subscales,
        markers=markers,
        labels=labels,
        title=title,
        sessions=sessions,
    )
    return _svg.svg(spec, width=width)


def alliance_table(
    scores: pd.DataFrame,
    *,
    instruments: Sequence[str] = ("hb_checkin", "hb_checkin_practitioner"),
    subscales: bool | Sequence[str] = False,
    markers: Iterable[Mapping[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Working alliance, client and practitioner views",
    sessions: tuple[int, int] | None = None,
) -> ChartTable:
    """Return the table alternative of :func:`alliance_chart` (same arguments)."""
    spec = _specs.alliance_spec(
        scores,
        instruments=instruments,
        subscales=subscales,
        markers=markers,
        labels=labels,
        title=title,
        sessions=sessions,
    )
    return _svg.table(spec)


def outcome_chart(
    scores: pd.DataFrame,
    *,
    instrument: str,
    cutoff: float | None = None,
    rc_band: float | None = None,
    expected_band: pd.DataFrame | None = None,
    markers: Iterable[Mapping[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    y_range: tuple[float, float] | None = None,
    sessions: tuple[int, int] | None = None,
    width: int = 640,
) -> str:
    """Return an SVG line chart of one outcome instrument over sessions.

    Parameters
    ----------
    scores : pandas.DataFrame
        Canonical score frame of one engagement; total rows (``subscale == ""``) of
        ``instrument`` are drawn, one line per respondent.
    instrument : str
        Instrument id (``phq9``, ``who5`` ...).
    cutoff : float, optional
        Clinical cut-off, drawn as a horizontal line (e.g. ``get("phq9").cutoff.value``).
    rc_band : float, optional
        Reliable-change value: a band of ± this around each line's intake (first) score.
    expected_band : pandas.DataFrame, optional
        ``session`` with ``lower``/``upper``, or the output of
        :func:`harmonybridge.change.predict_bands` (band from ``expected`` to
        ``yellow_bound``, expected line dashed).
    markers, labels, title, sessions, width
        As :func:`alliance_chart`.
    y_range : tuple of float, optional
        Axis range; defaults to the instrument's score range.

    Returns
    -------
    str
        The SVG; the cut-off is ``line.cutoff[data-value]``, bands are ``[data-kind]``.

    Raises
    ------
    DataValidationError
        As :func:`alliance_chart`, or an ``expected_band`` without the needed columns.
    """
    spec = _specs.outcome_spec(
        scores,
        instrument=instrument,
        cutoff=cutoff,
        rc_band=rc_band,
        expected_band=expected_band,
        markers=markers,
        labels=labels,
        title=title,
        y_range=y_range,
        sessions=sessions,
    )
    return _svg.svg(spec, width=width)


def outcome_table(
    scores: pd.DataFrame,
    *,
    instrument: str,
    cutoff: float | None = None,
    rc_band: float | None = None,
    expected_band: pd.DataFrame | None = None,
    markers: Iterable[Mapping[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str | None = None,
    sessions: tuple[int, int] | None = None,
) -> ChartTable:
    """Return the table alternative of :func:`outcome_chart` (same arguments)."""
    spec = _specs.outcome_spec(
        scores,
        instrument=instrument,
        cutoff=cutoff,
        rc_band=rc_band,
        expected_band=expected_band,
        markers=markers,
        labels=labels,
        title=title,
        y_range=None,
        sessions=sessions,
    )
    return _svg.table(spec)


def goal_progress_chart(
    scores: pd.DataFrame,
    *,
    goals: Mapping[int, str] | None = None,
    markers: Iterable[Mapping[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Progress on agreed goals",
    sessions: tuple[int, int] | None = None,
    width: int = 640,
) -> str:
    """Return an SVG chart of each agreed goal's 0–10 progress rating over sessions.

    Parameters
    ----------
    scores : pandas.DataFrame
        One engagement's canonical scores (``goal_progress`` rows with subscales
        ``goal_1`` ... ``goal_3``) or its item-level answers (``item``, ``value``).
    goals : mapping of int to str, optional
        The agreed goal texts by goal number (shown in the legend, shortened).
    markers, labels, title, sessions, width
        As :func:`alliance_chart`.

    Returns
    -------
    str
        The SVG, one ``g.series`` per goal (and respondent, in family work).

    Raises
    ------
    DataValidationError
        As :func:`alliance_chart`.
    """
    spec = _specs.goal_spec(
        scores,
        goals=goals,
        markers=markers,
        labels=labels,
        title=title,
        sessions=sessions,
    )
    return _svg.svg(spec, width=width)


def goal_progress_table(
    scores: pd.DataFrame,
    *,
    goals: Mapping[int, str] | None = None,
    markers: Iterable[Mapping[str, Any]] | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Progress on agreed goals",
    sessions: tuple[int, int] | None = None,
) -> ChartTable:
    """Return the table alternative of :func:`goal_progress_chart` (same arguments)."""
    spec = _specs.goal_spec(
        scores,
        goals=goals,
        markers=markers,
        labels=labels,
        title=title,
        sessions=sessions,
    )
    return _svg.table(spec)


def alliance_figure(
    scores: pd.DataFrame, *, width: int = 640, **options: Any
) -> tuple[str, ChartTable]:
    """:func:`alliance_chart` and :func:`alliance_table` (same arguments) from one
    reading of the scores: a page that shows both builds the chart once."""
    spec = _specs.alliance_spec(
        scores,
        instruments=options.get(
            "instruments", ("hb_checkin", "hb_checkin_practitioner")
        ),
        subscales=options.get("subscales", False),
        markers=options.get("markers"),
        labels=options.get("labels"),
        title=options.get("title", "Working alliance, client and practitioner views"),
        sessions=options.get("sessions"),
    )
    return _svg.svg(spec, width=width), _svg.table(spec)


def outcome_figure(
    scores: pd.DataFrame, *, instrument: str, width: int = 640, **options: Any
) -> tuple[str, ChartTable]:
    """:func:`outcome_chart` and :func:`outcome_table` (same arguments) from one reading."""
    spec = _specs.outcome_spec(
        scores,
        instrument=instrument,
        cutoff=options.get("cutoff"),
        rc_band=options.get("rc_band"),
        expected_band=options.get("expected_band"),
        markers=options.get("markers"),
        labels=options.get("labels"),
        title=options.get("title"),
        y_range=None,
        sessions=options.get("sessions"),
    )
    return _svg.svg(spec, width=width), _svg.table(spec)


def goal_progress_figure(
    scores: pd.DataFrame, *, width: int = 640, **options: Any
) -> tuple[str, ChartTable]:
    """:func:`goal_progress_chart` and :func:`goal_progress_table` from one reading."""
    spec = _specs.goal_spec(
        scores,
        goals=options.get("goals"),
        markers=options.get("markers"),
        labels=options.get("labels"),
        title=options.get("title", "Progress on agreed goals"),
        sessions=options.get("sessions"),
    )
    return _svg.svg(spec, width=width), _svg.table(spec)
