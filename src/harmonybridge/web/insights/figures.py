"""Build one engagement's charts, markers, change summaries and session table from frames.

Everything here takes frames (from ``checkins/frames.py``) and plain values and calls
public ``harmonybridge`` names; the views load the data with a fixed number of queries.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.utils.translation import gettext as _

from harmonybridge import instruments, schema
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning
from harmonybridge.reports import charts
from harmonybridge.web.alerts import curves as curve_cache
from harmonybridge.web.practice import conventions as practice_conventions
from harmonybridge.web.practice import language


@dataclass
class Chart:
    key: str
    title: str
    svg: str
    table: Any
    note: str = ""


@dataclass
class DashboardData:
    charts: list[Chart] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    session_rows: list[dict[str, Any]] = field(default_factory=list)
    session_columns: list[dict[str, str]] = field(default_factory=list)
    has_scores: bool = False


def rc_value(inst: Any) -> float | None:
    """The size of the instrument's reliable-change criterion (the core's one rule),
    for the caseness convention ``inst`` carries (``conventions.instrument``)."""
    if inst is None:
        return None
    from harmonybridge.change import change_criterion

    crit = change_criterion(inst.id, convention=getattr(inst, "convention", None))
    return None if crit is None else crit.size


def session_markers(sessions: pd.DataFrame) -> list[dict[str, Any]]:
    if sessions.empty:
        return []
    return charts.markers_from_sessions(sessions)


def episode_markers(episodes: pd.DataFrame) -> list[dict[str, Any]]:
    """A rupture marker per source at the episode's first session, a repair marker where
    scores came back or the practitioner recorded it resolved."""
    out: list[dict[str, Any]] = []
    for ep in episodes.to_dict("records"):
        for source in ep["sources"]:
            out.append(
                {
                    "kind": "rupture",
                    "session": int(ep["first_session"]),
                    "source": source,
                    "label": f"rupture ({source.replace('_', ' ')})",
                }
            )
        repair = ep["repair_session"]
        if repair == repair and repair is not None:
            out.append({"kind": "repair", "session": int(repair), "label": "repair"})
        elif ep["status"] == "repaired" and ep["record_sessions"]:
            out.append(
                {
                    "kind": "repair",
                    "session": int(max(ep["record_sessions"])),
                    "source": "practitioner_record",
                    "label": "repair (practitioner's record)",
                }
            )
    return out


def observed(totals: pd.DataFrame, inst_id: str) -> pd.DataFrame:
    """The observed (not missing) total scores of one instrument: the rows reliable
    change, gains and the expected band start from. A frame holding only those rows
    is returned as it is (``derive`` passes one instrument's rows: no copy)."""
    keep = (totals[schema.INSTRUMENT] == inst_id).to_numpy() & totals[
        schema.SCORE
    ].notna().to_numpy()
    return totals if keep.all() else totals[keep]


def gain_markers(
    totals: pd.DataFrame, inst_id: str, conventions: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Sudden gains and losses of one instrument (Tang & DeRubeis criteria, core), the
    absolute criterion being the instrument's reliable-change value (of the practice's
    caseness convention)."""
    from harmonybridge.change import sudden_gains

    one = observed(totals, inst_id)
    if one[schema.SESSION].nunique() < 4:
        return []
    out = []
    for losses, kind in ((False, "sudden_gain"), (True, "sudden_loss")):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", HarmonyBridgeWarning)
                found = sudden_gains(
                    one,
                    id=schema.RESPONDENT_ID,
                    # criterion 1: at least the instrument's reliable-change value
                    cutoff=rc_value(
                        practice_conventions.instrument(inst_id, conventions or {})
                    ),
                    instrument=inst_id,
                    losses=losses,
                )
        except DataValidationError:
            continue
        for row in found.to_dict("records"):
            out.append(
                {
                    "kind": kind,
                    "session": int(row["postgain_session"]),
                    "label": kind.replace("_", " "),
                }
            )
    return out


def reliable_change_rows(
    totals: pd.DataFrame, inst_id: str, conventions: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """Reliable change from the first to the latest score, per respondent, under the
    practice's caseness convention (``conventions``; default: the definition's): plain
    values (``respondent``, ``pre``, ``post``, ``category`` or None), stored per
    engagement."""
    from harmonybridge.change import reliable_change

    one = observed(totals, inst_id)
    if one[schema.SESSION].nunique() < 2:
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HarmonyBridgeWarning)
            rc = reliable_change(
                one,
                id=schema.RESPONDENT_ID,
                instrument=inst_id,
                convention=(conventions or {}).get(inst_id),
            )
    except DataValidationError:
        return []
    return [
        {
            "respondent": str(r[schema.RESPONDENT_ID]),
            "pre": float(r["pre"]),
            "post": float(r["post"]),
            "category": str(r["category"]) if r["category"] == r["category"] else None,
        }
        for r in rc.to_dict("records")
    ]


def change_rows(
    totals: pd.DataFrame,
    inst_id: str,
    labels: Mapping[str, str],
    coaching: bool = False,
    conventions: Mapping[str, str] | None = None,
    stored: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Reliable change from the first to the latest score, per respondent, as shown
    (``stored``: the rows of :func:`reliable_change_rows` kept for the engagement)."""
    rows = (
        reliable_change_rows(totals, inst_id, conventions) if stored is None else stored
    )
    return [
        {
            "instrument": language.instrument_title(inst_id, coaching),
            "who": labels.get(r["respondent"], r["respondent"]),
            "pre": r["pre"],
            "post": r["post"],
            "category": r["category"] or "",
            "label": language.change_label(str(r["category"]), coaching),
        }
        for r in rows
    ]


def _expected(
    fit: Any, totals: pd.DataFrame, inst_id: str, last_session: int
) -> pd.DataFrame | None:
    """Expected-response band for the engagement's (single) client series."""
    one = observed(totals, inst_id)
    if fit is None or one.empty or one[schema.RESPONDENT_ID].nunique() != 1:
        return None
    first = one.sort_values(schema.SESSION).iloc[0]
    return curve_cache.expected_band(
        fit, float(first[schema.SCORE]), int(first[schema.SESSION]), last_session
    )


def span_last(scores: pd.DataFrame, sessions: pd.DataFrame) -> int:
    """The last session number the charts show (sessions held or scored)."""
    return int(
        max(
            sessions[schema.SESSION].max() if not sessions.empty else 1,
            scores[schema.SESSION].max() if not scores.empty else 1,
        )
    )


def derive(
    scores: pd.DataFrame,
    sessions: pd.DataFrame,
    curve_sets: Mapping[str, Any] | None = None,
    conventions: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """What the charts derive from the scores by fitting or scanning, as plain values.

    Per outcome instrument present: the reliable-change rows, the sudden gain and loss
    markers and the expected-response band (records, or None). No names and no words:
    the same for every language and label, so it is stored once per engagement and data
    version (``insights.EngagementSummary``) and :func:`build` renders from it.
    """
    out: dict[str, Any] = {"changes": {}, "gains": {}, "expected": {}}
    if scores.empty:
        return out
    # the columns the analyses read, split by instrument once (each analysis used to
    # filter the whole frame again: most of the time on a dashboard's one client)
    totals = scores.loc[
        (scores[schema.SUBSCALE] == "").to_numpy(),
        [schema.RESPONDENT_ID, schema.SESSION, schema.INSTRUMENT, schema.SCORE],
    ]
    last = span_last(scores, sessions)
    for key, rows in totals.groupby(schema.INSTRUMENT, sort=True):
        inst_id = str(key)
        inst = instruments.find(inst_id)
        if inst is None or inst.kind != "outcome":
            continue
        one = observed(rows, inst_id)
        out["changes"][inst_id] = reliable_change_rows(one, inst_id, conventions)
        out["gains"][inst_id] = gain_markers(one, inst_id, conventions)
        band = _expected((curve_sets or {}).get(inst_id), one, inst_id, last)
        out["expected"][inst_id] = (
            None
            if band is None
            else [
                {str(k): float(v) for k, v in r.items()}
                for r in band.to_dict("records")
            ]
        )
    return out


def build(
    scores: pd.DataFrame,
    sessions: pd.DataFrame,
    episodes: pd.DataFrame,
    *,
    coaching: bool,
    goals: Mapping[int, str],
    labels: Mapping[str, str],
    chosen: tuple[str, ...] = (),
    curve_sets: Mapping[str, Any] | None = None,
    conventions: Mapping[str, str] | None = None,
    subscales: bool = False,
    include_alliance: bool = True,
    include_outcomes: bool = True,
    include_goals: bool = True,
    width: int = 640,
    derived: Mapping[str, Any] | None = None,
) -> DashboardData:
    """All charts and summaries of one engagement (``conventions``: the practice's
    caseness conventions, ``practice.conventions.for_practice``).

    ``derived``: the engagement's stored :func:`derive` results for these scores and
    conventions (the reliable-change rows, gains and expected bands are then not
    computed again).
    """
    conventions = conventions or {}
    out = DashboardData(has_scores=not scores.empty)
    if sessions.empty and scores.empty:
        return out
    if derived is None:
        derived = derive(scores, sessions, curve_sets, conventions)
    span = (1, span_last(scores, sessions))
    totals = scores[scores[schema.SUBSCALE] == ""] if not scores.empty else scores
    present = sorted(totals[schema.INSTRUMENT].unique()) if not scores.empty else []
    shown = language.shown_instruments(present, coaching=coaching, chosen=chosen)
    # rupture and repair markers are alliance information: left out with the alliance
    ruptures = episode_markers(episodes) if include_alliance else []
    common = session_markers(sessions) + ruptures
    w = language.words(coaching)
    if include_alliance:
        alliance_ids = [
            i for i in shown if getattr(instruments.find(i), "kind", "") == "alliance"
        ]
        if alliance_ids:
            title = _("Working alliance, client and %(who)s views") % {
                "who": w["practitioner"]
            }
            kw: dict[str, Any] = {
                "instruments": tuple(alliance_ids),
                "subscales": subscales,
                "markers": common,
                "labels": labels,
                "title": title,
                "sessions": span,
            }
            out.charts.append(
                Chart(
                    "alliance",
                    title,
                    *charts.alliance_figure(scores, width=width, **kw),
                )
            )
    if include_outcomes:
        for inst_id in shown:
            inst = practice_conventions.instrument(inst_id, conventions)
            if inst is None or inst.kind != "outcome":
                continue
            out.charts.append(
                _outcome_chart(
                    scores,
                    totals,
                    inst,
                    coaching,
                    common,
                    labels,
                    span,
                    derived,
                    width,
                )
            )
            out.changes += change_rows(
                totals,
                inst_id,
                labels,
                coaching,
                conventions,
                derived["changes"].get(inst_id, []),
            )
    if include_goals and "goal_progress" in present:
        kw = {
            "title": _("Progress on agreed goals"),
            "goals": dict(goals),
            "markers": common,
            "labels": labels,
            "sessions": span,
        }
        out.charts.append(
            Chart(
                "goals",
                _("Progress on agreed goals"),
                *charts.goal_progress_figure(scores, width=width, **kw),
            )
        )
    return out


def _outcome_chart(
    scores: pd.DataFrame,
    totals: pd.DataFrame,
    inst: Any,
    coaching: bool,
    common: list[dict[str, Any]],
    labels: Mapping[str, str],
    span: tuple[int, int],
    derived: Mapping[str, Any],
    width: int,
) -> Chart:
    cutoff = None if coaching or inst.cutoff is None else float(inst.cutoff.value)
    band = derived["expected"].get(inst.id)
    expected = None if band is None else pd.DataFrame(band)
    title = _("%(name)s over sessions") % {
        "name": language.instrument_title(inst.id, coaching)
    }
    kw = {
        "instrument": inst.id,
        "cutoff": cutoff,
        "rc_band": rc_value(inst),
        "expected_band": expected,
        "markers": common + list(derived["gains"].get(inst.id, [])),
        "labels": labels,
        "title": title,
        "sessions": span,
    }
    note = "" if expected is not None else "no_curves"
    svg, table = charts.outcome_figure(scores, width=width, **kw)
    return Chart(f"outcome-{inst.id}", title, svg, table, note=note)


def session_table(
    scores: pd.DataFrame,
    sessions: pd.DataFrame,
    *,
    coaching: bool,
    labels: Mapping[str, str],
    chosen: tuple[str, ...] = (),
) -> tuple[list[dict[str, str]], list[dict[str, Any]]]:
    """Columns (instrument × respondent) and one row per session with score and band."""
    totals = scores[scores[schema.SUBSCALE] == ""] if not scores.empty else scores
    present = sorted(totals[schema.INSTRUMENT].unique()) if not totals.empty else []
    shown = set(language.shown_instruments(present, coaching=coaching, chosen=chosen))
    totals = (
        totals[totals[schema.INSTRUMENT].isin(shown)] if not totals.empty else totals
    )
    keys = (
        totals[[schema.INSTRUMENT, schema.RESPONDENT_ID]]
        .drop_duplicates()
        .sort_values([schema.INSTRUMENT, schema.RESPONDENT_ID])
        .itertuples(index=False, name=None)
        if not totals.empty
        else []
    )
    columns = [
        {
            "key": f"{i}|{r}",
            "instrument": language.instrument_title(i, coaching),
            "who": labels.get(str(r), str(r)),
        }
        for i, r in keys
    ]
    cell: dict[tuple[int, str], dict[str, Any]] = {}
    for number, inst_id, who, value in zip(  # plain lists: 150 sessions stay fast
        totals[schema.SESSION].tolist(),
        totals[schema.INSTRUMENT].tolist(),
        totals[schema.RESPONDENT_ID].tolist(),
        totals[schema.SCORE].tolist(),
        strict=True,
    ):
        cell[(int(number), f"{inst_id}|{who}")] = {
            "score": value,
            "band": language.band_label(inst_id, value, coaching),
        }
    info = (
        {int(r[schema.SESSION]): r for r in sessions.to_dict("records")}
        if not sessions.empty
        else {}
    )
    numbers = sorted(set(info) | {k[0] for k in cell})
    rows = []
    for n in numbers:
        s = info.get(n, {})
        rows.append(
            {
                "number": n,
                "pk": s.get("session_pk"),
                "date": s.get(schema.DATE),
                "attendance": s.get("attendance", ""),
                "modality": s.get("modality", ""),
                "cells": [cell.get((n, c["key"])) for c in columns],
                "has_scores": any((n, c["key"]) in cell for c in columns),
            }
        )
    return columns, rows


def goal_rows(scores: pd.DataFrame, goals: Mapping[int, str]) -> list[dict[str, Any]]:
    """Each agreed goal with its first and latest 0–10 rating (first client respondent)."""
    if scores.empty:
        return [
            {"number": n, "text": t, "first": None, "latest": None}
            for n, t in goals.items()
        ]
    gp = scores[
        (scores[schema.INSTRUMENT] == "goal_progress")
        & scores[schema.SUBSCALE].str.startswith("goal_")
    ].dropna(subset=[schema.SCORE])
    out = []
    for n, text in goals.items():
        one = gp[gp[schema.SUBSCALE] == f"goal_{n}"].sort_values(schema.SESSION)
        out.append(
            {
                "number": n,
                "text": text,
                "first": float(one[schema.SCORE].iloc[0]) if len(one) else None,
                "latest": float(one[schema.SCORE].iloc[-1]) if len(one) else None,
            }
        )
    return out
