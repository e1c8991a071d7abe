"""Outcome rules: reliable deterioration and improvement, recovery, sudden loss, not on track."""

from __future__ import annotations

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
    o = out.dropna(subset=[SC]).sort_values([E, P, INS, S], kind="stable")
    g = o.groupby([E, P, INS], sort=False)[SC]
    m = meta.reindex(o[INS])
    sign = np.where(m["higher_is_better"].to_numpy(dtype=bool), -1.0, 1.0)
    x, intake, prev = (
        o[SC].to_numpy(float),
        g.transform("first").to_numpy(float),
        g.shift(1).to_numpy(float),
    )
    first = (g.cumcount() == 0).to_numpy()
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
    step = sign * (x - prev)
    parts: list[Part] = []

    change, step_change = x - intake, x - prev
    hib = m["higher_is_better"].to_numpy(dtype=bool)
    groups = o[INS].to_numpy(dtype=object)

    def reliable(rule_id: str, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(better, worse) by the core's one reliable-change rule, per instrument."""
        rule = ctx.rule(rule_id)
        z = rule.params.get("z", 1.96) if rule else 1.96
        better, worse_ = np.zeros(len(o), bool), np.zeros(len(o), bool)
        for inst in pd.unique(groups):
            crit = _criterion(str(inst), float(z), ctx.conventions.get(str(inst)))
            if crit is None:
                continue
            rows = groups == inst
            h = bool(hib[rows][0])
            better[rows] = crit.better(delta[rows], h)
            worse_[rows] = crit.worse(delta[rows], h)
        return better, worse_

    def add(rule_id: str, mask: np.ndarray, cols: list[str]) -> None:
        if ctx.rule(rule_id):
            parts.append((rule_id, o[mask & ~first], cols))

    with np.errstate(invalid="ignore"):
        det = reliable("outcome.reliable_deterioration", change)[1]
        imp = reliable("outcome.reliable_improvement", change)[0]
        first_imp = imp & (
            pd.Series(imp).groupby(g.ngroup().to_numpy()).cumsum().to_numpy() == 1
        )
        add("outcome.reliable_deterioration", det, ["intake", SC, "change"])
        clin_in = _clinical(intake, m)
        rec = (
            clin_in
            & ~_clinical(x, m)
            & ~np.isnan(x)
            & reliable("outcome.recovered", change)[0]
        )
        first_rec = rec & (
            pd.Series(rec).groupby(g.ngroup().to_numpy()).cumsum().to_numpy() == 1
        )
        add("outcome.recovered", first_rec, ["intake", SC, "change", "cutoff"])
        # One change, one alert: a score that is both a reliable improvement and a
        # recovery is reported once, with the stronger label (recovered).
        same = first_rec if ctx.rule("outcome.recovered") else np.zeros_like(first_imp)
        add("outcome.reliable_improvement", first_imp & ~same, ["intake", SC, "change"])
        sl = ctx.rule("outcome.sudden_loss")
        if sl:
            loss = reliable("outcome.sudden_loss", step_change)[1] & (
                step >= sl.params["min_pct"] * np.abs(prev) - EPS
            )
            add(
                "outcome.sudden_loss",
                loss,
                ["previous_session", "previous", SC, "change_since_previous"],
            )
    nt = ctx.rule("outcome.not_on_track")
    if nt:
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
            nt_better, nt_worse = reliable("outcome.not_on_track", change)
            index = o[S].to_numpy(float) - o.groupby([E, P, INS], sort=False)[
                S
            ].transform("first").to_numpy(float)
            functional = ~np.isnan(m["cutoff"].to_numpy(float)) & ~_clinical(x, m)
            yellow = (
                (index + 1 >= nt.params["check_session"])
                & ~nt_better
                & ~nt_worse
                & ~functional
                & ~curves
                & ~first
            )
        rational = o[yellow].assign(
            expected=np.nan,
            yellow_bound=np.nan,
            red_bound=np.nan,
            status="yellow",
            curves=0,
        )
        fitted = _not_on_track(o[curves], ctx, nt.params)
        rows = pd.concat([x for x in (rational, fitted) if len(x)] or [rational])
        parts.append(
            (
                "outcome.not_on_track",
                rows,
                [
                    "intake",
                    SC,
                    "expected",
                    "yellow_bound",
                    "red_bound",
                    "status",
                    "curves",
                ],
            )
        )
    return parts


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
