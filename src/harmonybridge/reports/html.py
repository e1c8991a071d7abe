"""A standalone HTML analysis report: reliable change, sudden gains, ruptures and charts per series."""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any, TypeVar

import pandas as pd

from harmonybridge import __version__, schema
from harmonybridge.change import (
    TrajectoryFit,
    detect_ruptures,
    fit_trajectories,
    predict_bands,
    reliable_change,
    s_diff,
    sudden_gains,
)
from harmonybridge.errors import DataValidationError
from harmonybridge.instruments import Instrument, get
from harmonybridge.reports import charts

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
    """

    scores: pd.DataFrame
    reliable_change: pd.DataFrame
    sudden_gains: pd.DataFrame
    ruptures: pd.DataFrame
    notes: tuple[str, ...]
    curves: Mapping[str, TrajectoryFit] = field(default_factory=dict)


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


def _instrument(name: str, notes: list[str]) -> Instrument | None:
    try:
        return get(name)
    except DataValidationError:
        notes.append(
            f"Instrument {name!r} is not in the registry: drawn only, not analysed."
        )
        return None


def _rc_size(inst: Instrument) -> float | None:
    """Reliable-change size in points: the published value, else 1.96 · S_diff."""
    if inst.rc_value is not None:
        return float(inst.rc_value.value)
    if inst.sd is not None and inst.reliability is not None:
        return 1.96 * s_diff(inst.sd.value, inst.reliability.value)
    return None


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
        Series with follow-up needed before curves are fitted (300, §2.4.2).

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
        inst = _instrument(name, notes)
        if inst is None:
            continue
        if inst.kind == "alliance":
            alliance.append(name)
            continue
        d = totals[totals[schema.INSTRUMENT] == name]
        label = inst.short_title
        rc = _quiet(
            functools.partial(reliable_change, d, id=_SERIES, instrument=name),
            notes,
            f"{label} reliable change",
        )
        if rc is not None:
            rc_parts.append(rc.assign(instrument=name))
        if curves and inst.kind == "outcome":
            fit = _quiet(
                functools.partial(
                    fit_trajectories, d, instrument=name, min_clients=min_clients
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


# --- HTML -------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{margin-top:2.5rem;border-bottom:1px solid #ccc}h3{margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}th{background:#f3f3f3}
td.t,th.t{text-align:left}figure{margin:1rem 0}figcaption{font-weight:600}
svg.hb-chart{max-width:100%;height:auto}.note{color:#555}.notes li{margin:.2rem 0}
@media print{details{display:none}h2{page-break-before:always}}
"""


def _fmt(value: object) -> str:
    if (
        value is None
        or (isinstance(value, float) and math.isnan(value))
        or value is pd.NA
    ):
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _html_table(
    frame: pd.DataFrame, columns: Sequence[tuple[str, str]], caption: str
) -> str:
    if frame.empty:
        return f'<p class="note">{escape(caption)}: none.</p>'
    left = ' class="t"'
    text = [
        left if not pd.api.types.is_numeric_dtype(frame[c]) else "" for c, _ in columns
    ]
    head = "".join(
        f'<th scope="col"{t}>{escape(label)}</th>'
        for t, (_, label) in zip(text, columns, strict=True)
    )
    rows = []
    for row in frame.itertuples(index=False):
        cells = "".join(
            f"<td{t}>{escape(_fmt(getattr(row, col)))}</td>"
            for t, (col, _) in zip(text, columns, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    return (
        f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _chart_table(table: charts.ChartTable) -> str:
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
        for row in table.rows
    )
    return (
        f"<details><summary>Table of this chart</summary><table><caption>{escape(table.caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></details>"
    )


def _figure(svg: str, table: charts.ChartTable) -> str:
    caption = f"<figcaption>{escape(table.caption)}</figcaption>"
    return f"<figure>{caption}{svg}{_chart_table(table)}</figure>"


def _markers(
    analysis: Analysis, engagement: str, instrument: str | None
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    rup = analysis.ruptures
    if instrument is None and not rup.empty:
        out += charts.markers_from_ruptures(
            rup[rup[schema.ENGAGEMENT_ID] == engagement]
        )
    sg = analysis.sudden_gains
    if not sg.empty:
        mine = sg[
            (sg[schema.ENGAGEMENT_ID] == engagement)
            & ((sg["instrument"] == instrument) | (instrument is None))
        ]
        for row in mine.to_dict("records"):
            kind = str(row["kind"])
            what = (
                f"{kind.replace('_', ' ')} on {get(str(row['instrument'])).short_title}"
            )
            out.append(
                {
                    "kind": kind,
                    "session": int(row["postgain_session"]),
                    "label": f"{what} ({row[schema.RESPONDENT_ID]})",
                }
            )
    return out


def _engagement_section(analysis: Analysis, engagement: str) -> str:
    data = analysis.scores[analysis.scores[schema.ENGAGEMENT_ID] == engagement]
    parts = [
        f'<section id="{escape(engagement, quote=True)}"><h3>Engagement {escape(engagement)}</h3>'
    ]
    instruments = sorted(data[schema.INSTRUMENT].unique())
    alliance = [i for i in instruments if _kind(i) == "alliance"]
    if alliance:
        kw: dict[str, Any] = {
            "instruments": alliance,
            "markers": _markers(analysis, engagement, None),
        }
        parts.append(
            _figure(
                charts.alliance_chart(data, **kw), charts.alliance_table(data, **kw)
            )
        )
    for name in instruments:
        kind = _kind(name)
        if kind == "goals":
            parts.append(
                _figure(
                    charts.goal_progress_chart(data), charts.goal_progress_table(data)
                )
            )
        elif kind != "alliance":
            okw: dict[str, Any] = _outcome_kwargs(name) | {
                "markers": _markers(analysis, engagement, name),
                "expected_band": _band(analysis, data, name),
            }
            parts.append(
                _figure(
                    charts.outcome_chart(data, instrument=name, **okw),
                    charts.outcome_table(data, instrument=name, **okw),
                )
            )
    return "".join(parts) + "</section>"


def _band(analysis: Analysis, data: pd.DataFrame, name: str) -> pd.DataFrame | None:
    """Expected-response band of a one-respondent series, on the session axis."""
    fit = analysis.curves.get(name)
    d = data[(data[schema.INSTRUMENT] == name) & (data[schema.SUBSCALE] == "")]
    d = d.dropna(subset=[schema.SCORE]).sort_values(schema.SESSION)
    if fit is None or d.empty or d[schema.RESPONDENT_ID].nunique() != 1:
        return None
    first, last = int(d[schema.SESSION].iloc[0]), int(d[schema.SESSION].iloc[-1])
    band = predict_bands(
        fit, float(d[schema.SCORE].iloc[0]), list(range(1, last - first + 2))
    )
    return band.assign(**{schema.SESSION: band[schema.SESSION] + first - 1})


def _kind(name: str) -> str:
    try:
        return str(get(name).kind)
    except DataValidationError:
        return "outcome"


def _outcome_kwargs(name: str) -> dict[str, object]:
    try:
        inst = get(name)
    except DataValidationError:
        return {}
    return {
        "cutoff": inst.cutoff.value if inst.cutoff else None,
        "rc_band": _rc_size(inst),
    }


def analysis_report(
    scores: pd.DataFrame | Analysis,
    *,
    title: str = "HarmonyBridge analysis report",
    source: str | None = None,
    max_engagements: int = 50,
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


def _intro(analysis: Analysis, source: str | None, n_eng: int, n_shown: int) -> str:
    d = analysis.scores
    src = f" from <code>{escape(source)}</code>" if source else ""
    more = f" Charts are drawn for the first {n_shown}." if n_shown < n_eng else ""
    return (
        f"<p>Made with HarmonyBridge {escape(__version__)}{src}: {n_eng} engagements, "
        f"{d[schema.RESPONDENT_ID].nunique()} respondents, instruments "
        f"{escape(', '.join(sorted(d[schema.INSTRUMENT].unique())))}.{more}</p>"
        '<p class="note">Statistics support, and never replace, the practitioner\'s judgement. '
        "Check-in items of HarmonyBridge are not a validated instrument.</p>"
    )


def _summary(analysis: Analysis) -> str:
    items = []
    rc = analysis.reliable_change
    if not rc.empty:
        for name, block in rc.groupby("instrument"):
            counts = block["category"].value_counts()
            text = ", ".join(
                f"{int(counts[c])} {c}"
                for c in schema.CHANGE_CATEGORIES
                if counts.get(c, 0)
            )
            items.append(
                f"<li>{escape(get(str(name)).short_title)}: {len(block)} series; {escape(text or 'no change category')}.</li>"
            )
    sg = analysis.sudden_gains
    if not sg.empty:
        for kind, block in sg.groupby("kind"):
            n = len(block)
            what = str(kind).replace("_", " ")
            if n != 1:
                what = what + ("es" if what.endswith("loss") else "s")
            n_series = block[
                [schema.ENGAGEMENT_ID, schema.RESPONDENT_ID]
            ].drop_duplicates()
            items.append(f"<li>{n} {escape(what)} in {len(n_series)} series.</li>")
    rup = analysis.ruptures
    if not rup.empty:
        repaired = rup["repair_session"].notna().sum()
        by_source = ", ".join(
            f"{n} {str(source).replace('_', ' ')}"
            for source, n in rup["source"].value_counts().items()
        )
        items.append(
            f"<li>{len(rup)} rupture episodes ({escape(by_source)}); {repaired} repaired.</li>"
        )
    if analysis.curves:
        fitted = ", ".join(
            f"{get(name).short_title} ({fit.n_clients} series)"
            for name, fit in sorted(analysis.curves.items())
        )
        items.append(
            f"<li>Expected-response curves fitted on this file: {escape(fitted)}.</li>"
        )
    return (
        '<h2 id="summary">Summary</h2><ul>'
        + "".join(items or ["<li>No analysable series.</li>"])
        + "</ul>"
    )


def _notes(analysis: Analysis) -> str:
    refs = (
        "Jacobson, N. S., & Truax, P. (1991). Clinical significance. JCCP, 59(1), 12–19.",
        "Tang, T. Z., & DeRubeis, R. J. (1999). Sudden gains and critical sessions. JCCP, 67(6), 894–904.",
        "Gumz, A., Brähler, E., Geyer, M., & Erices, R. (2012). Crisis-repair sequences. BMC Med Res Methodol, 12, 10.",
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in analysis.notes)
    return (
        '<h2 id="notes">Notes and methods</h2>'
        + (f'<ul class="notes">{notes}</ul>' if notes else "<p>No warnings.</p>")
        + "<p>Reliable change compares each series' first and latest session; sudden gains use "
        "the instrument's reliable-change size as criterion 1, 25 % of the pre-gain score as "
        "criterion 2 and the adjusted t criterion 3; ruptures are screened against the larger "
        "of the series' own SD and the file's robust session-to-session SD per rater role.</p><ul>"
        + "".join(f"<li>{escape(r)}</li>" for r in refs)
        + "</ul>"
    )
