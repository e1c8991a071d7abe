"""A standalone HTML analysis report: reliable change, sudden gains, ruptures and charts per series."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import TypeVar

import pandas as pd

from harmonybridge import schema
from harmonybridge.alliance.insights import AllianceInsights
from harmonybridge.change import (
    TrajectoryFit,
    change_criterion,
    detect_ruptures,
    fit_trajectories,
    reliable_change,
    sudden_gains,
)
from harmonybridge.errors import DataValidationError
from harmonybridge.instruments import Instrument, find
from harmonybridge.reports._alliance_html import alliance_section
from harmonybridge.reports._html_render import (
    _CSS,
    _engagement_section,
    _html_table,
    _intro,
    _notes,
    _summary,
)

__all__ = ["Analysis", "analysis_report", "analyze_scores"]

_T = TypeVar("_T")
_SERIES = [schema.ENGAGEMENT_ID, schema.RESPONDENT_ID]
_ALLIANCE_KEEP = ("", "rupture_present", "rupture_intensity", "rupture_resolution")


@dataclass(frozen=True)
class Analysis:
    """The results an analysis report shows.

    Attributes
    ----------
    scores : pandas.DataFrame
        The canonical score frame analysed (``subscale`` and ``rater_role`` filled in).
    reliable_change : pandas.DataFrame
        :func:`harmonybridge.change.reliable_change` rows with an ``instrument`` column.
    sudden_gains : pandas.DataFrame
        :func:`harmonybridge.change.sudden_gains` rows with ``instrument`` and
        ``kind`` (``sudden_gain`` or ``sudden_loss``).
    ruptures : pandas.DataFrame
        :func:`harmonybridge.change.detect_ruptures` rows for the alliance instruments.
    notes : tuple of str
        Warnings and analyses skipped, in words.
    curves : mapping of str to TrajectoryFit
        Expected-response curves fitted on the file, by outcome instrument.
    conventions : mapping of str to str
        Caseness conventions used (``{instrument id: name}``); instruments not named
        use their definition's default.
    """

    scores: pd.DataFrame
    reliable_change: pd.DataFrame
    sudden_gains: pd.DataFrame
    ruptures: pd.DataFrame
    notes: tuple[str, ...]
    curves: Mapping[str, TrajectoryFit] = field(default_factory=dict)
    conventions: Mapping[str, str] = field(default_factory=dict)


def _prepare(scores: object) -> pd.DataFrame:
    data = schema.validate_long(
        scores,
        required=[
            schema.ENGAGEMENT_ID,
            schema.SESSION,
            schema.RESPONDENT_ID,
            schema.INSTRUMENT,
            schema.SCORE,
        ],
        numeric=[schema.SESSION, schema.SCORE],
        name="scores",
    ).copy()
    if schema.SUBSCALE not in data.columns:
        data[schema.SUBSCALE] = ""
    data[schema.SUBSCALE] = data[schema.SUBSCALE].fillna("").astype(str)
    if schema.RATER_ROLE not in data.columns:
        data[schema.RATER_ROLE] = "client"
    for col in (schema.ENGAGEMENT_ID, schema.RESPONDENT_ID, schema.INSTRUMENT):
        data[col] = data[col].astype(str)
    schema.validate_long(
        data,
        required=[],
        unique=[
            schema.ENGAGEMENT_ID,
            schema.SESSION,
            schema.RESPONDENT_ID,
            schema.INSTRUMENT,
            schema.SUBSCALE,
        ],
        name="scores",
    )
    return data


def _instrument(
    name: str, notes: list[str], conventions: Mapping[str, str] | None = None
) -> Instrument | None:
    """The instrument with its caseness convention applied (None: not in the registry)."""
    inst = find(name)
    if inst is None:
        notes.append(
            f"Instrument {name!r} is not in the registry: drawn only, not analysed."
        )
        return None
    return inst.with_convention((conventions or {}).get(name))


def _rc_size(inst: Instrument) -> float | None:
    """Size of the instrument's reliable-change criterion (the core's one rule), for
    the caseness convention it carries."""
    crit = change_criterion(inst.id, convention=inst.convention)
    return None if crit is None else crit.size


def _quiet(call: Callable[[], _T], notes: list[str], what: str) -> _T | None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = call()
        except DataValidationError as exc:
            notes.append(f"{what}: not computed ({exc}).")
            return None
    notes.extend(f"{what}: {w.message}" for w in caught)
    return out


def analyze_scores(
    scores: pd.DataFrame,
    *,
    rupture_mode: str = "prospective",
    curves: bool = True,
    min_clients: int = 300,
    conventions: Mapping[str, str] | None = None,
) -> Analysis:
    """Run the per-series analyses of a canonical score frame.

    Parameters
    ----------
    scores : pandas.DataFrame
        Canonical score frame (``engagement_id``, ``session``, ``respondent_id``,
        ``instrument``, ``score``; ``subscale`` and ``rater_role`` optional).
    rupture_mode : {"prospective", "retrospective"}
        Mode of :func:`harmonybridge.change.detect_ruptures`: prospective (default)
        flags each session as it would have been seen at the time; retrospective
        judges each session against all others (finds V-shaped dips, not lasting
        drops). The reference SD per rater role is the file's robust session-to-session
        noise (median absolute successive difference / (0.6745·√2)).
    curves : bool
        Fit expected-response curves per outcome instrument on the file
        (:func:`harmonybridge.change.fit_trajectories`) and draw their bands.
    min_clients : int
        Series with follow-up needed before curves are fitted (300; project choice for a stable mixed model, see docs/alert-rules.md).
    conventions : mapping of str to str, optional
        ``{instrument id: caseness convention}`` (e.g. ``{"gad7": "spitzer_2006"}``):
        the cut-off and reliable-change pair used for that instrument (default: each
        definition's default).

    Returns
    -------
    Analysis
        Reliable change (first to last session) per outcome series, sudden gains and
        losses (criterion 1 = the instrument's reliable-change size), ruptures.

    Raises
    ------
    DataValidationError
        Missing or non-numeric columns, or a repeated canonical key.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical approach
    to defining meaningful change in psychotherapy research. Journal of Consulting and
    Clinical Psychology, 59(1), 12–19.

    Tang, T. Z., & DeRubeis, R. J. (1999). Sudden gains and critical sessions in
    cognitive-behavioral therapy for depression. Journal of Consulting and Clinical
    Psychology, 67(6), 894–904.

    Reference test: ``tests/core/test_cli_analyze.py``.
    """
    data = _prepare(scores)
    notes: list[str] = []
    totals = data[data[schema.SUBSCALE] == ""]
    rc_parts: list[pd.DataFrame] = []
    sg_parts: list[pd.DataFrame] = []
    fits: dict[str, TrajectoryFit] = {}
    alliance: list[str] = []
    for name in sorted(totals[schema.INSTRUMENT].unique()):
        inst = _instrument(name, notes, conventions)
        if inst is None:
            continue
        if inst.kind == "alliance":
            alliance.append(name)
            continue
        d = totals[totals[schema.INSTRUMENT] == name]
        label = inst.short_title
        rc = _quiet(
            functools.partial(
                reliable_change,
                d,
                id=_SERIES,
                instrument=name,
                convention=inst.convention,
            ),
            notes,
            f"{label} reliable change",
        )
        if rc is not None:
            rc_parts.append(rc.assign(instrument=name))
        if curves and inst.kind == "outcome":
            fit = _quiet(
                functools.partial(
                    fit_trajectories,
                    d,
                    instrument=name,
                    min_clients=min_clients,
                    convention=inst.convention,
                ),
                notes,
                f"{label} expected-response curves",
            )
            if isinstance(fit, TrajectoryFit) and fit.method == "mixedlm":
                fits[name] = fit
        size = _rc_size(inst)
        if size is None or d[schema.SESSION].nunique() < 4:
            notes.append(
                f"{label}: no sudden-gain analysis (needs a reliable-change size and 4 sessions)."
            )
            continue
        for losses, kind in ((False, "sudden_gain"), (True, "sudden_loss")):
            sg = _quiet(
                functools.partial(
                    sudden_gains,
                    d,
                    id=_SERIES,
                    cutoff=size,
                    instrument=name,
                    losses=losses,
                ),
                notes,
                f"{label} {'sudden losses' if losses else 'sudden gains'}",
            )
            if sg is not None and len(sg):
                sg_parts.append(sg.assign(instrument=name, kind=kind))
    ruptures = _ruptures(data, alliance, rupture_mode, notes)
    return Analysis(
        scores=data,
        reliable_change=pd.concat(rc_parts, ignore_index=True)
        if rc_parts
        else pd.DataFrame(),
        sudden_gains=pd.concat(sg_parts, ignore_index=True)
        if sg_parts
        else pd.DataFrame(),
        ruptures=ruptures,
        notes=tuple(dict.fromkeys(notes)),
        curves=fits,
        conventions=dict(conventions or {}),
    )


def _ruptures(
    data: pd.DataFrame, alliance: list[str], mode: str, notes: list[str]
) -> pd.DataFrame:
    if not alliance:
        return pd.DataFrame()
    al = data[
        data[schema.INSTRUMENT].isin(alliance)
        & data[schema.SUBSCALE].isin(_ALLIANCE_KEEP)
    ]
    key = [schema.ENGAGEMENT_ID, schema.RESPONDENT_ID, schema.INSTRUMENT]
    reference = _robust_within_sd(al[al[schema.SUBSCALE] == ""], key)
    out = _quiet(
        lambda: detect_ruptures(al, id=key, mode=mode, reference_sd=reference),
        notes,
        "Ruptures",
    )
    return out if out is not None else pd.DataFrame()


def _robust_within_sd(
    totals: pd.DataFrame, key: list[str]
) -> dict[object, float] | None:
    """Session-to-session noise per rater role, robust to the ruptures themselves.

    The median absolute successive difference divided by 0.6745·√2 estimates the
    within-person SD of a stable series; a rupture adds only one or two large
    differences, so the file's own ruptures barely inflate it (unlike the pooled
    SD of the raw scores).
    """
    d = totals.dropna(subset=[schema.SCORE]).sort_values([*key, schema.SESSION])
    diffs = d.groupby(key, sort=False)[schema.SCORE].diff().abs()
    out: dict[object, float] = {}
    for role, values in diffs.groupby(d[schema.RATER_ROLE]):
        sd = (
            float(values.median()) / (0.6745 * math.sqrt(2))
            if values.notna().any()
            else 0.0
        )
        if sd > 0:
            out[str(role)] = sd
    return out or None


def analysis_report(
    scores: pd.DataFrame | Analysis,
    *,
    title: str = "HarmonyBridge analysis report",
    source: str | None = None,
    max_engagements: int = 50,
    alliance: AllianceInsights | None = None,
) -> str:
    """Return a standalone HTML report of :func:`analyze_scores` with charts.

    Parameters
    ----------
    scores : pandas.DataFrame or Analysis
        A canonical score frame (analysed first) or a finished :class:`Analysis`.
    title : str
        Report title.
    source : str, optional
        Where the data came from (shown, e.g. the file name).
    max_engagements : int
        Engagements drawn as charts (the tables always cover every series).
    alliance : AllianceInsights, optional
        Results of :func:`harmonybridge.alliance.insights.alliance_insights`, shown as
        the "Alliance and outcome" section.

    Returns
    -------
    str
        An HTML5 document with its CSS in one ``<style>`` element, SVG charts inline,
        each chart with a table alternative; no scripts and no external resources.
    """
    analysis = scores if isinstance(scores, Analysis) else analyze_scores(scores)
    data = analysis.scores
    engagements = sorted(data[schema.ENGAGEMENT_ID].unique())
    shown = engagements[: max(0, int(max_engagements))]
    body = [
        f"<header><h1>{escape(title)}</h1>{_intro(analysis, source, len(engagements), len(shown))}</header>",
        _summary(analysis),
        '<h2 id="reliable-change">Reliable change</h2>',
        _html_table(
            analysis.reliable_change,
            [
                ("engagement_id", "Engagement"),
                ("respondent_id", "Respondent"),
                ("instrument", "Instrument"),
                ("pre", "First"),
                ("post", "Latest"),
                ("rci", "RCI"),
                ("category", "Change"),
            ],
            "Change from the first to the latest session per series",
        ),
        '<h2 id="sudden-gains">Sudden gains and losses</h2>',
        _html_table(
            analysis.sudden_gains,
            [
                ("engagement_id", "Engagement"),
                ("respondent_id", "Respondent"),
                ("instrument", "Instrument"),
                ("kind", "Event"),
                ("pregain_session", "Before"),
                ("postgain_session", "After"),
                ("magnitude", "Size"),
                ("reversal", "Reversed"),
            ],
            "Sudden gains and losses (Tang & DeRubeis criteria)",
        ),
        '<h2 id="ruptures">Alliance ruptures</h2>',
        _html_table(
            analysis.ruptures,
            [
                ("engagement_id", "Engagement"),
                ("respondent_id", "Respondent"),
                ("source", "Source"),
                ("onset_session", "Onset"),
                ("nadir_session", "Lowest"),
                ("depth", "Depth"),
                ("repair_session", "Repaired"),
                ("type", "Type"),
            ],
            "Rupture episodes and their repair",
        ),
        alliance_section(alliance) if alliance is not None else "",
        '<h2 id="engagements">Engagements</h2>',
        *(_engagement_section(analysis, e) for e in shown),
        _notes(analysis),
    ]
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        + "".join(body)
        + "</body></html>"
    )
