"""Rupture and alliance rules: statistical and self-reported ruptures, unrecognised ruptures, gap, split, low early alliance."""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd

from harmonybridge.alerts._columns import (
    EPS,
    INS,
    SC,
    SUB,
    E,
    P,
    Part,
    R,
    S,
    at_current,
)
from harmonybridge.alerts.context import AlertContext
from harmonybridge.alerts.rules import default_rules
from harmonybridge.alliance.dyadic import (
    _discrepancy,
    _low_early,
    _reported_tension,
    _split,
    _unrecognised,
)
from harmonybridge.change.ruptures import RUPTURE_SUBSCALES, detect_ruptures
from harmonybridge.errors import DataValidationError
from harmonybridge.instruments import get as get_instrument
from harmonybridge.instruments import total_step

__all__ = ["alliance_parts", "rupture_parts"]


def rupture_parts(
    alliance: pd.DataFrame,
    totals: pd.DataFrame,
    ctx: AlertContext,
    current: pd.Series | None,
) -> list[Part]:
    if alliance.empty:
        return []
    sr = ctx.rule("rupture.self_report")
    events = []
    ref = ctx.pooled_sd or None
    common = {
        "mode": "prospective",
        "sd_source": "within_else_pooled",
        "reference_sd": ref,
        "self_report_tension_min": sr.params["tension_min"] if sr else 2,
        "self_report_resolved_min": sr.params["resolved_min"] if sr else 4,
    }
    # One pass per instrument (the smallest drop that can count is a number of
    # response steps of that instrument's total) and per rater role's parameters.
    is_client = (alliance[R] == "client").to_numpy()
    for inst, rows in alliance.groupby(INS, sort=True, observed=True):
        for role, mask in (("client", is_client), ("practitioner", ~is_client)):
            part = rows[mask[alliance.index.get_indexer(rows.index)]]
            if len(part):
                p = _rupture_params(ctx, role, str(inst))
                events.append(detect_ruptures(part, **common, **p))  # type: ignore[arg-type]
    if not events:
        return []
    ev = at_current(pd.concat(events, ignore_index=True), current, "onset_session")
    ev = ev.assign(**{S: ev["onset_session"]})
    # The score quoted for a session is the one observed in that session (the deepest
    # point of the episode can come later; it stays in the evidence as ``depth``).
    ev = _observed_score(ev, alliance)
    ev = ev.assign(drop=ev["baseline"] - ev["score"])
    parts: list[Part] = []
    stat_cols = ["baseline", "score", "drop", "threshold", "depth_sd"]
    for role in ("client", "practitioner"):
        rid = f"rupture.{role}"
        if ctx.rule(rid):
            rows = ev[(ev["source"] == "statistical") & (ev[R] == role)]
            parts.append((rid, rows, stat_cols))
    if sr:
        rep = ev[ev["source"].str.endswith("_report")]
        parts.append(
            (
                "rupture.self_report",
                _with_report_values(rep, alliance),
                ["tension", "resolution", "resolved_in_session"],
            )
        )
    un = ctx.rule("rupture.unrecognised")
    if un:
        cev = ev[ev[R] == "client"]
        involved = totals[totals[E].isin(cev[E]).to_numpy()]
        told = _reported_tension(alliance[alliance[E].isin(cev[E]).to_numpy()])
        u = _unrecognised(
            involved,
            told,
            cev.drop(columns=[S]),
            3,
            un.params["practitioner_drop_min"],
        )
        u = _observed_score(u.assign(**{S: u["onset_session"]}), alliance)
        u = u.sort_values(
            "source", key=lambda s: s != "statistical", kind="stable"
        ).drop_duplicates([E, S, P, INS])
        parts.append(
            (
                "rupture.unrecognised",
                u,
                [
                    "baseline",
                    "score",
                    "practitioner_score",
                    "practitioner_baseline",
                    "practitioner_drop",
                ],
            )
        )
    return parts


def _observed_score(ev: pd.DataFrame, alliance: pd.DataFrame) -> pd.DataFrame:
    """``ev`` with ``score`` = the respondent's total alliance score in session ``S``."""
    keys = [E, S, P, INS]
    tot = alliance[(alliance[SUB].astype(str) == "").to_numpy()][[*keys, SC]]
    tot = tot.drop_duplicates(keys).rename(columns={SC: "score"})
    ev = ev.drop(columns=["score"], errors="ignore")
    if ev.empty:
        return ev.assign(score=pd.Series(dtype=float))
    cast = {k: tot[k].dtype for k in keys if k in ev and ev[k].dtype != tot[k].dtype}
    with contextlib.suppress(TypeError, ValueError):
        ev = ev.astype(cast)
    return ev.merge(tot, on=keys, how="left")


def _rupture_params(ctx: AlertContext, role: str, inst: str) -> dict[str, Any]:
    """detect_ruptures arguments of a role's rule for one instrument."""
    rid = f"rupture.{role}"
    rule = ctx.rule(rid) or next(r for r in default_rules() if r.rule_id == rid)
    p = dict(rule.params)
    steps = p.pop("min_drop_steps")
    try:
        step = total_step(get_instrument(inst))
    except DataValidationError:  # not in the registry (or no total): no floor known
        step = 0.0
    p["min_abs_drop"] = float(steps) * step
    return p


def _with_report_values(rep: pd.DataFrame, alliance: pd.DataFrame) -> pd.DataFrame:
    r = alliance[
        alliance[SUB].isin(RUPTURE_SUBSCALES).to_numpy()
        & alliance[E].isin(rep[E]).to_numpy()
    ]
    wide = r.pivot_table(
        index=[E, S, P, INS], columns=SUB, values=SC, aggfunc="first", observed=True
    )
    wide = wide.reindex(columns=list(RUPTURE_SUBSCALES)).reset_index()
    m = rep.drop(columns=[SUB]).merge(wide, on=[E, S, P, INS], how="left")
    return m.assign(
        tension=m["rupture_intensity"],
        resolution=m["rupture_resolution"],
        resolved_in_session=(m["repair_session"] == m["onset_session"])
        .fillna(False)
        .astype(int),
    )


def alliance_parts(totals: pd.DataFrame, ctx: AlertContext) -> list[Part]:
    if totals.empty:
        return []
    parts: list[Part] = []
    gap = ctx.rule("alliance.gap")
    if gap:
        norms = ctx.alliance_norms
        standardised = norms is not None
        if norms is None:  # raw fallback: z = raw score
            norms = totals[[INS, R]].drop_duplicates().assign(mean=0.0, sd=1.0)
        dd = _discrepancy(totals, norms)
        lim = (
            gap.params["min_abs_z"] if standardised else gap.params["fallback_raw_gap"]
        )
        dd = dd[dd["discrepancy"].abs() >= lim - EPS]
        dd = dd.assign(
            **{
                R: "client",
                INS: dd["client_instrument"],
                "standardised": int(standardised),
            }
        )
        dd = dd.reindex(
            dd["discrepancy"].abs().sort_values(ascending=False).index
        ).drop_duplicates([E, S, P])
        parts.append(
            (
                "alliance.gap",
                dd,
                [
                    "client_score",
                    "practitioner_score",
                    "z_client",
                    "z_practitioner",
                    "discrepancy",
                    "standardised",
                ],
            )
        )
    split = ctx.rule("alliance.split")
    if split:
        sp = _split(totals, split.params["min_gap"])
        extra: dict[str, Any] = {R: "client", P: sp["low_respondent_id"].to_numpy()}
        sp = sp.assign(**extra)
        parts.append(
            ("alliance.split", sp, ["low_score", "high_score", "gap", "n_members"])
        )
    low = ctx.rule("alliance.low_early")
    if low and ctx.alliance_percentiles is not None:
        pct = ctx.alliance_percentiles
        cli = totals[(totals[R] == "client") & (totals[S] <= low.params["max_session"])]
        le = _low_early(cli, pct, low.params["min_reference_n"])
        parts.append(
            ("alliance.low_early", le, [SC, "reference_quantile", "reference_n"])
        )
    return parts
