"""Outcome rules: reliable deterioration and improvement, recovery, sudden loss, not on track."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge.alerts._columns import EPS, INS, SC, E, P, Part, R, S
from harmonybridge.alerts.context import AlertContext
from harmonybridge.change.reliable_change import ChangeCriterion, change_criterion
from harmonybridge.change.trajectories import classify_progress
from harmonybridge.errors import DataValidationError

__all__ = ["outcome_parts"]


def outcome_parts(
    out: pd.DataFrame, meta: pd.DataFrame, ctx: AlertContext
) -> list[Part]:
    if out[SC].notna().sum() == 0:
        return []
    sr = _series(out, meta)
    parts = _change_parts(sr, ctx)
    nt = ctx.rule("outcome.not_on_track")
    if nt:
        parts.append(_not_on_track_part(sr, ctx, nt.params))
    return parts


@dataclass(frozen=True)
class _Series:
    """Scores sorted by engagement, respondent, instrument and session, with what each
    rule compares them with (the first score, the previous one) as arrays."""

    o: pd.DataFrame
    m: pd.DataFrame  # the instrument's metadata per row of ``o``
    g: Any  # ``o``'s scores grouped by series
    x: np.ndarray
    intake: np.ndarray
    prev: np.ndarray
    first: np.ndarray  # the series' first score (no alert can fire on it)
    hib: np.ndarray
    instruments: np.ndarray

    def reliable(
        self, ctx: AlertContext, rule_id: str, delta: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(better, worse) by the core's one reliable-change rule, per instrument."""
        rule = ctx.rule(rule_id)
        z = rule.params.get("z", 1.96) if rule else 1.96
        better, worse_ = np.zeros(len(self.o), bool), np.zeros(len(self.o), bool)
        for inst in pd.unique(self.instruments):
            crit = _criterion(str(inst), float(z), ctx.conventions.get(str(inst)))
            if crit is None:
                continue
            rows = self.instruments == inst
            h = bool(self.hib[rows][0])
            better[rows] = crit.better(delta[rows], h)
            worse_[rows] = crit.worse(delta[rows], h)
        return better, worse_

    def first_in_series(self, mask: np.ndarray) -> np.ndarray:
        """``mask`` only where it holds for the first time in its series."""
        counts = pd.Series(mask).groupby(self.g.ngroup().to_numpy()).cumsum()
        return np.asarray(mask & (counts.to_numpy() == 1), dtype=bool)


def _series(out: pd.DataFrame, meta: pd.DataFrame) -> _Series:
    o = out.dropna(subset=[SC]).sort_values([E, P, INS, S], kind="stable")
    g = o.groupby([E, P, INS], sort=False)[SC]
    m = meta.reindex(o[INS])
    x, intake, prev = (
        o[SC].to_numpy(float),
        g.transform("first").to_numpy(float),
        g.shift(1).to_numpy(float),
    )
    o = o.assign(
        intake=intake,
        previous=prev,
        # Missed sessions (or the brief plan's short-form-only sessions) are skipped:
        # the evidence names the session the previous score is from.
        previous_session=o.groupby([E, P, INS], sort=False)[S].shift(1),
        change=x - intake,
        change_since_previous=x - prev,
        cutoff=m["cutoff"].to_numpy(float),
    )
    return _Series(
        o=o,
        m=m,
        g=g,
        x=x,
        intake=intake,
        prev=prev,
        first=(g.cumcount() == 0).to_numpy(),
        hib=m["higher_is_better"].to_numpy(dtype=bool),
        instruments=o[INS].to_numpy(dtype=object),
    )


def _change_parts(sr: _Series, ctx: AlertContext) -> list[Part]:
    """Reliable deterioration, recovery, reliable improvement and sudden loss."""
    parts: list[Part] = []
    o, x, m = sr.o, sr.x, sr.m
    change, step_change = x - sr.intake, x - sr.prev
    step = np.where(sr.hib, -1.0, 1.0) * step_change

    def add(rule_id: str, mask: np.ndarray, cols: list[str]) -> None:
        if ctx.rule(rule_id):
            parts.append((rule_id, o[mask & ~sr.first], cols))

    with np.errstate(invalid="ignore"):
        det = sr.reliable(ctx, "outcome.reliable_deterioration", change)[1]
        first_imp = sr.first_in_series(
            sr.reliable(ctx, "outcome.reliable_improvement", change)[0]
        )
        add("outcome.reliable_deterioration", det, ["intake", SC, "change"])
        rec = (
            _clinical(sr.intake, m)
            & ~_clinical(x, m)
            & ~np.isnan(x)
            & sr.reliable(ctx, "outcome.recovered", change)[0]
        )
        first_rec = sr.first_in_series(rec)
        add("outcome.recovered", first_rec, ["intake", SC, "change", "cutoff"])
        # One change, one alert: a score that is both a reliable improvement and a
        # recovery is reported once, with the stronger label (recovered).
        same = first_rec if ctx.rule("outcome.recovered") else np.zeros_like(first_imp)
        add("outcome.reliable_improvement", first_imp & ~same, ["intake", SC, "change"])
        sl = ctx.rule("outcome.sudden_loss")
        if sl:
            loss = sr.reliable(ctx, "outcome.sudden_loss", step_change)[1] & (
                step >= sl.params["min_pct"] * np.abs(sr.prev) - EPS
            )
            add(
                "outcome.sudden_loss",
                loss,
                ["previous_session", "previous", SC, "change_since_previous"],
            )
    return parts


def _not_on_track_part(sr: _Series, ctx: AlertContext, params: Any) -> Part:
    """Not on track: against expected-response curves where they apply, else the rule
    without curves."""
    o, m = sr.o, sr.m
    # An expected-response curve describes one person's course: where several
    # people of an engagement answer the instrument (couples, families) it does
    # not apply, so only the rule without curves can say "not on track".
    single = (
        o.groupby([E, INS], sort=False, observed=True)[P].transform("nunique") == 1
    ).to_numpy()
    curves = o[INS].isin(list(ctx.curve_sets)).to_numpy() & single
    with np.errstate(invalid="ignore"):
        # Rational rule (no curve set): session index >= check_session and
        # no reliable improvement, not in the functional range, not a
        # reliable deterioration (which has its own rule) -- as
        # classify_progress with a rational TrajectoryFit.
        nt_better, nt_worse = sr.reliable(ctx, "outcome.not_on_track", sr.x - sr.intake)
        index = o[S].to_numpy(float) - o.groupby([E, P, INS], sort=False)[S].transform(
            "first"
        ).to_numpy(float)
        functional = ~np.isnan(m["cutoff"].to_numpy(float)) & ~_clinical(sr.x, m)
        yellow = (
            (index + 1 >= params["check_session"])
            & ~nt_better
            & ~nt_worse
            & ~functional
            & ~curves
            & ~sr.first
        )
    rational = o[yellow].assign(
        expected=np.nan,
        yellow_bound=np.nan,
        red_bound=np.nan,
        status="yellow",
        curves=0,
    )
    fitted = _not_on_track(o[curves], ctx, params)
    rows = pd.concat([x for x in (rational, fitted) if len(x)] or [rational])
    return (
        "outcome.not_on_track",
        rows,
        ["intake", SC, "expected", "yellow_bound", "red_bound", "status", "curves"],
    )


def _criterion(inst: str, z: float, convention: str | None) -> ChangeCriterion | None:
    try:
        return change_criterion(inst, z=z, convention=convention)
    except DataValidationError:  # not in the registry: no reliable change
        return None


def _clinical(x: np.ndarray, m: pd.DataFrame) -> np.ndarray:
    c = m["cutoff"].to_numpy(float)
    w = m["clinical_when"].to_numpy(dtype=object)
    with np.errstate(invalid="ignore"):
        res = np.select(
            [w == "at_or_above", w == "above", w == "at_or_below", w == "below"],
            [x >= c, x > c, x <= c, x < c],
            default=False,
        )
    return res.astype(bool)


def _not_on_track(o: pd.DataFrame, ctx: AlertContext, params: Any) -> pd.DataFrame:
    """Yellow or red against the context's curve sets (instruments that have one)."""
    out = []
    for inst, rows in o.groupby(INS, sort=False, observed=True):
        fit = ctx.curve_sets[str(inst)]
        # the practice's convention decides the pair, whatever the fit stored
        fit = fit.with_convention(ctx.conventions.get(str(inst)))
        cp = classify_progress(
            rows[[E, P, S, SC]],
            fit,
            id=[E, P],
            z_yellow=params["z_yellow"],
            z_red=params["z_red"],
            check_session=params["check_session"],
            z_rc=params["z"],
        )
        band = cp["status"].isin(["yellow", "red"]).to_numpy()
        hit = band & ~cp["reliable_deterioration"].to_numpy(dtype=bool)
        out.append(cp[hit].assign(**{INS: inst, "curves": 1}))
    if not out:
        return o.iloc[:0]
    res = pd.concat(out, ignore_index=True)
    role = o.drop_duplicates([E, P, INS])[[E, P, INS, R]]
    result: pd.DataFrame = res.merge(role, on=[E, P, INS], how="left")
    return result
