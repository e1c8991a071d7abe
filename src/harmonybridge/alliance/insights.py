"""Run every alliance–outcome analysis on one canonical score frame (CLI report, insights page).

Each step that cannot run on the data (too few clients, one practitioner, no second rater,
non-convergence, ...) becomes a plain-language note instead of a traceback; the other steps
still run.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harmonybridge import schema
from harmonybridge.alliance.dyadic import alliance_norms, dyadic_discrepancy
from harmonybridge.alliance.frames import ALLIANCE_COLUMNS, MODALITY, by_session
from harmonybridge.alliance.growth import GrowthFit, fit_growth
from harmonybridge.alliance.outcomes import (
    IccResult,
    LaggedResult,
    agreement,
    association,
    lagged_model,
    practitioner_icc,
    response_surface,
)
from harmonybridge.alliance.practice import (
    alliance_by_modality,
    prediction_accuracy,
    reliable_change_summary,
    rupture_outcome,
)
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

__all__ = ["OUTCOME_INSTRUMENTS", "AllianceInsights", "alliance_insights"]

#: Outcome instruments analysed when present (client-rated totals), in this order.
OUTCOME_INSTRUMENTS = ("who5", "swls", "fs", "phq9", "gad7", "goal_progress")
#: Alliance forms used together (client form, practitioner form), first pair present wins:
#: one pair only, so that one alliance column never mixes instruments of different scales.
_ALLIANCE_PAIRS = (
    ("hb_checkin", "hb_checkin_practitioner"),
    ("wai_sr", "wai_sr_t"),
    ("sai",),
)

Progress = Callable[[str, int, int], None]


@dataclass
class OutcomeInsights:
    """Everything computed for one outcome instrument (None/empty where it could not run)."""

    outcome: str
    n_units: int
    n_practitioners: int
    n_sessions: int
    association: pd.DataFrame = field(default_factory=pd.DataFrame)
    growth: GrowthFit | None = None
    lagged: LaggedResult | None = None
    icc: IccResult | None = None
    response_surface: pd.DataFrame = field(default_factory=pd.DataFrame)
    rupture_outcome: pd.DataFrame = field(default_factory=pd.DataFrame)
    reliable_change: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class AllianceInsights:
    """Results of :func:`alliance_insights`."""

    outcomes: list[OutcomeInsights]
    agreement: pd.DataFrame
    alliance_icc: IccResult | None
    prediction: pd.DataFrame
    modality: pd.DataFrame
    notes: list[str]


def _alliance_instruments(long: pd.DataFrame) -> list[str]:
    present = set(long[schema.INSTRUMENT].astype(str))
    for pair in _ALLIANCE_PAIRS:
        found = [i for i in pair if i in present]
        if found:
            return found
    return []


def alliance_insights(
    long: pd.DataFrame,
    *,
    outcomes: Sequence[str] | None = None,
    unit: str = schema.ENGAGEMENT_ID,
    n_boot: int = 200,
    progress: Progress | None = None,
    conventions: Mapping[str, str] | None = None,
) -> AllianceInsights:
    """Run the alliance–outcome analyses on a canonical score frame.

    ``outcomes`` defaults to the instruments of :data:`OUTCOME_INSTRUMENTS` found in the
    data.  ``progress(step, done, total)`` is called before each step (for a progress
    display).  Steps that cannot run add a note saying why.  ``conventions``
    (``{instrument id: caseness convention}``) chooses the cut-off and reliable-change
    pair of the reliable-change summary (default: each definition's default).
    """
    notes: list[str] = []
    try:
        schema.validate_long(
            long,
            required=[
                unit,
                schema.PRACTITIONER_ID,
                schema.SESSION,
                schema.RATER_ROLE,
                schema.INSTRUMENT,
                schema.SCORE,
            ],
            numeric=[schema.SESSION, schema.SCORE],
            name="scores",
        )
    except DataValidationError as exc:
        return AllianceInsights(
            [],
            pd.DataFrame(),
            None,
            pd.DataFrame(),
            pd.DataFrame(),
            [f"No alliance–outcome analyses: {exc}"],
        )
    present = set(long[schema.INSTRUMENT].astype(str))
    outs = [o for o in (outcomes or OUTCOME_INSTRUMENTS) if o in present]
    alliance_forms = _alliance_instruments(long)
    if not alliance_forms:
        notes.append(
            "No alliance instrument (hb_checkin, wai_sr, sai, ...) in the data: no "
            "alliance–outcome analyses."
        )
    if not outs:
        notes.append(
            f"No outcome instrument ({', '.join(OUTCOME_INSTRUMENTS)}) in the data: no "
            "alliance–outcome analyses."
        )
    steps_per = 6  # session table, association, growth, lagged, ICC, the rest
    total = len(outs) * steps_per + 3
    done = 0

    def step(name: str) -> None:
        nonlocal done
        if progress is not None:
            progress(name, done, total)
        done += 1

    def attempt(what: str, call: Callable[[], Any]) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", HarmonyBridgeWarning)
            try:
                out = call()
            except DataValidationError as exc:
                notes.append(f"{what}: not computed — {exc}")
                out = None
        for w in caught:
            if issubclass(w.category, HarmonyBridgeWarning):
                notes.append(f"{what}: {w.message}")
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return out

    results: list[OutcomeInsights] = []
    wide_any: pd.DataFrame | None = None
    for o in outs if alliance_forms else []:
        step(f"{o}: session table")
        wide = attempt(
            o,
            functools.partial(
                by_session, long, outcome=o, alliance=alliance_forms, unit=unit
            ),
        )
        if wide is None:
            continue
        wide_any = wide if wide_any is None else wide_any
        results.append(
            _one_outcome(
                long, wide, o, unit, n_boot, step, attempt, notes,
                (conventions or {}).get(o),
            )
        )  # fmt: skip
    step("agreement")
    agree = pd.DataFrame()
    a_icc = None
    modality = pd.DataFrame()
    if wide_any is not None:
        forms = long[long[schema.INSTRUMENT].isin(alliance_forms)]
        # The file is its own reference set here: each rater role standardised against
        # its own mean and SD in this file (a research file has no "history before it").
        disc = attempt(
            "standardised discrepancy",
            lambda: dyadic_discrepancy(forms, norms=alliance_norms(forms)),
        )
        agree = attempt(
            "client–practitioner agreement",
            lambda: agreement(wide_any, unit=unit, discrepancy=disc),
        )
        step("alliance: practitioner share of variance")
        a_icc = attempt(
            "alliance practitioner ICC",
            lambda: practitioner_icc(
                wide_any, column=ALLIANCE_COLUMNS[0], unit=unit, n_boot=n_boot
            ),
        )
        if MODALITY in wide_any:
            modality = attempt(
                "alliance by modality", lambda: alliance_by_modality(wide_any)
            )
    step("practitioners' predictions")
    pred = attempt("practitioners' predictions", lambda: prediction_accuracy(long))
    return AllianceInsights(
        outcomes=results,
        agreement=agree if agree is not None else pd.DataFrame(),
        alliance_icc=a_icc,
        prediction=pred if pred is not None else pd.DataFrame(),
        modality=modality if modality is not None else pd.DataFrame(),
        notes=list(dict.fromkeys(notes)),
    )


def _one_outcome(
    long: pd.DataFrame,
    wide: pd.DataFrame,
    o: str,
    unit: str,
    n_boot: int,
    step: Callable[[str], None],
    attempt: Callable[[str, Callable[[], Any]], Any],
    notes: list[str],
    convention: str | None = None,
) -> OutcomeInsights:
    with_o = wide[wide[o].notna()]
    res = OutcomeInsights(
        outcome=o,
        n_units=int(with_o[unit].nunique()),
        n_practitioners=int(with_o[schema.PRACTITIONER_ID].nunique()),
        n_sessions=len(with_o),
    )
    cols = [c for c in ALLIANCE_COLUMNS if wide[c].notna().sum() > 0]
    step(f"{o}: association")
    if cols:
        a = attempt(
            f"{o} association",
            lambda: association(wide, outcome=o, alliance=cols, unit=unit),
        )
        res.association = a if a is not None else pd.DataFrame()
    step(f"{o}: growth model")
    prac: str | None = schema.PRACTITIONER_ID
    if res.n_practitioners == 1:
        prac = None
        notes.append(
            f"{o}: one practitioner only, so there is no practitioner variance; the models "
            "are fitted without the practitioner level."
        )
    res.growth = attempt(
        f"{o} growth model",
        lambda: fit_growth(
            wide, outcome=o, fixed=[ALLIANCE_COLUMNS[0]], client=unit, practitioner=prac
        ),
    )
    if res.growth is not None and not res.growth.converged:
        notes.append(
            f"{o} growth model did not converge ({res.growth.message}); not shown."
        )
        res.growth = None
    step(f"{o}: lagged model")
    res.lagged = attempt(
        f"{o} lagged model",
        lambda: lagged_model(wide, outcome=o, unit=unit, practitioner=prac),
    )
    if res.lagged is not None and not res.lagged.fit.converged:
        notes.append(
            f"{o} lagged model did not converge ({res.lagged.fit.message}); not shown."
        )
        res.lagged = None
    step(f"{o}: practitioner share of variance")
    res.icc = attempt(
        f"{o} practitioner ICC",
        lambda: practitioner_icc(wide, column=o, unit=unit, n_boot=n_boot),
    )
    if res.icc is not None and not res.icc.converged:
        notes.append(f"{o} practitioner ICC did not converge; not shown.")
        res.icc = None
    step(f"{o}: congruence, ruptures, reliable change")
    for name, call, attr in (
        (
            "response surface",
            lambda: response_surface(wide, outcome=o),
            "response_surface",
        ),
        (
            "rupture–repair",
            lambda: rupture_outcome(long, wide, outcome=o),
            "rupture_outcome",
        ),
        (
            "reliable change",
            lambda: reliable_change_summary(
                long,
                instrument=o,
                convention=convention,
                service_line=(
                    long.groupby(unit)["service_line"].first()
                    if "service_line" in long.columns
                    else None
                ),
            ),
            "reliable_change",
        ),
    ):
        out = attempt(f"{o} {name}", call)
        setattr(res, attr, out if out is not None else pd.DataFrame())
    return res
