"""Evaluate the alert rule table on canonical score frames, vectorised over engagements."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.alerts.context import Alert, AlertContext
from harmonybridge.alerts.messages import MESSAGES
from harmonybridge.alerts.rules import default_rules
from harmonybridge.alliance.dyadic import (
    _discrepancy,
    _low_early,
    _reported_tension,
    _split,
    _unrecognised,
)
from harmonybridge.change.ruptures import (
    RUPTURE_SUBSCALES,
    check_unique,
    detect_ruptures,
)
from harmonybridge.change.trajectories import TrajectoryFit, classify_progress
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

__all__ = [
    "ALERT_COLUMNS",
    "evaluate_alerts",
    "evaluate_alerts_frame",
    "instrument_table",
]

E, S, R, P, INS, SUB, SC = (
    schema.ENGAGEMENT_ID,
    schema.SESSION,
    schema.RATER_ROLE,
    schema.RESPONDENT_ID,
    schema.INSTRUMENT,
    schema.SUBSCALE,
    schema.SCORE,
)
KEY = [E, S, R, P, INS]
ALERT_COLUMNS: tuple[str, ...] = (
    "rule_id",
    "rule_version",
    "severity",
    E,
    S,
    R,
    P,
    INS,
    "params",
    "evidence",
    "message",
    "suggestions",
)
_EPS = 1e-9
_Part = tuple[
    str, pd.DataFrame, list[str]
]  # rule id, rows (KEY + evidence), evidence columns


def instrument_table(ids: Iterable[object]) -> pd.DataFrame:
    """Return instrument metadata used by the rules, indexed by instrument id.

    Unknown ids get ``kind`` missing and are ignored by the rules.
    """
    from harmonybridge.instruments import get

    rows = []
    for i in ids:
        try:
            inst = get(str(i))
        except DataValidationError:
            rows.append({INS: i, "kind": None})
            continue
        rows.append(
            {
                INS: i,
                "kind": inst.kind,
                "higher_is_better": inst.higher_is_better,
                "version": inst.version,
                "rc_value": inst.rc_value.value if inst.rc_value else np.nan,
                "sd": inst.sd.value if inst.sd else np.nan,
                "reliability": inst.reliability.value if inst.reliability else np.nan,
                "cutoff": inst.cutoff.value if inst.cutoff else np.nan,
                "clinical_when": inst.cutoff.clinical_when if inst.cutoff else None,
                "safety_items": inst.safety_items,
            }
        )
    cols = [
        INS,
        "kind",
        "higher_is_better",
        "version",
        "rc_value",
        "sd",
        "reliability",
        "cutoff",
        "clinical_when",
        "safety_items",
    ]
    return pd.DataFrame(rows, columns=cols).set_index(INS)


def evaluate_alerts(
    history: pd.DataFrame,
    *,
    context: AlertContext | None = None,
    items: pd.DataFrame | None = None,
    at: str = "current",
) -> list[Alert]:
    """Return the alerts raised by one engagement's history.

    Parameters
    ----------
    history : pandas.DataFrame
        Canonical score frame of ONE engagement, all raters and respondents,
        up to the current session (the latest session in the frame).
    context : AlertContext, optional
        Practice references and the rule table (default ``AlertContext()``,
        rational fallbacks).
    items : pandas.DataFrame, optional
        Item-level long frame (``engagement_id``, ``session``,
        ``respondent_id``, ``instrument``, ``item``, ``value``) for the
        ``safety.item`` rule.
    at : {"current", "all"}
        ``current`` (default): alerts concerning the latest session only, as
        the web app evaluates on each save; ``all``: every session, each
        judged with what was known at that session.

    Returns
    -------
    list of Alert
        Sorted by session, rule table order and respondent.

    References
    ----------
    See ``docs/alert-rules.md`` for each rule's source. Reference tests:
    ``tests/core/test_alerts.py``.

    Examples
    --------
    >>> from harmonybridge.datasets import simulate_practice
    >>> scores = simulate_practice(seed=0).scores
    >>> history = scores[(scores["engagement_id"] == "E0002") & (scores["session"] <= 10)]
    >>> alerts = evaluate_alerts(history, context=AlertContext())
    >>> sorted(a.rule_id for a in alerts if a.rule_id.startswith("rupture."))
    ['rupture.client', 'rupture.self_report', 'rupture.unrecognised']
    """
    schema.validate_long(history, required=[E], name="history")
    n = history[E].nunique(dropna=False)
    if n > 1:
        raise DataValidationError(
            f"history must hold one engagement, found {n} values of {E!r}; use evaluate_alerts_frame"
        )
    frame = evaluate_alerts_frame(history, context=context, items=items, at=at)
    return [
        Alert(**{str(k): _py(v) for k, v in row.items()})
        for row in frame.to_dict("records")
    ]


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def evaluate_alerts_frame(
    data: pd.DataFrame,
    *,
    context: AlertContext | None = None,
    items: pd.DataFrame | None = None,
    at: str = "current",
) -> pd.DataFrame:
    """Evaluate the rules for many engagements at once, one row per alert.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical score frame (``engagement_id``, ``session``, ``rater_role``,
        ``respondent_id``, ``instrument``, ``subscale``, ``score``).
    context : AlertContext, optional
        Default ``AlertContext()``.
    items : pandas.DataFrame, optional
        Item-level frame for ``safety.item``.
    at : {"current", "all"}
        Latest session of each engagement (default) or every session.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`ALERT_COLUMNS`; the same alerts as calling
        :func:`evaluate_alerts` on each engagement.

    References
    ----------
    Reference test: ``tests/core/test_alerts.py::test_frame_equals_per_engagement_loop``.
    """
    if at not in ("current", "all"):
        raise DataValidationError(f"at must be 'current' or 'all', got {at!r}")
    context = context or AlertContext()
    schema.validate_long(data, required=[*KEY, SUB, SC], numeric=[S, SC])
    check_unique(data, [E, S, P, INS, SUB])
    d = data[[*KEY, SUB, SC]].assign(**{SUB: data[SUB].fillna("")})
    current = _current_sessions(d, items) if at == "current" else None
    codes, uniq = pd.factorize(d[INS])
    meta = instrument_table(uniq)
    kind = meta["kind"].to_numpy(dtype=object)[codes]
    total = (d[SUB] == "").to_numpy()
    alliance = d[
        np.isin(kind, ["alliance", "rupture"])
        & (total | d[SUB].isin(RUPTURE_SUBSCALES).to_numpy())
    ]
    totals = alliance[
        (alliance[SUB] == "").to_numpy() & alliance[SC].notna().to_numpy()
    ]
    parts: list[_Part] = []
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", HarmonyBridgeWarning
        )  # short histories are normal here
        parts += _rupture_parts(alliance, totals, context, current)
        parts += _alliance_parts(_at(totals, current), context)
        parts += _outcome_parts(d[(kind == "outcome") & total], meta, context)
    if items is not None and context.rule("safety.item"):
        parts.append(_safety_part(items, meta))
    return _assemble(parts, context, current)


def _current_sessions(d: pd.DataFrame, items: pd.DataFrame | None) -> pd.Series:
    cur = d.groupby(E, sort=False)[S].max()
    if items is not None and len(items):
        cur = (
            pd.concat([cur, items.groupby(E, sort=False)[S].max()])
            .groupby(level=0)
            .max()
        )
    return cur


def _at(rows: pd.DataFrame, current: pd.Series | None, col: str = S) -> pd.DataFrame:
    """Keep the rows of each engagement's current session (all rows when ``current`` is None)."""
    if current is None or rows.empty:
        return rows
    return rows[rows[col].to_numpy() == rows[E].map(current).to_numpy()]


def _rupture_parts(
    alliance: pd.DataFrame,
    totals: pd.DataFrame,
    ctx: AlertContext,
    current: pd.Series | None,
) -> list[_Part]:
    if alliance.empty:
        return []
    sr = ctx.rule("rupture.self_report")
    events = []
    ref = ctx.pooled_sd or None
    common = {
        "mode": "prospective",
        "sd_source": "max" if ref else "within",
        "reference_sd": ref,
        "self_report_tension_min": sr.params["tension_min"] if sr else 2,
        "self_report_resolved_min": sr.params["resolved_min"] if sr else 4,
    }
    pc, pp = _rupture_params(ctx, "client"), _rupture_params(ctx, "practitioner")
    if pc == pp:  # one pass over both streams (they stay separate by rater)
        batches = [(alliance, pc)]
    else:
        batches = [(alliance[alliance[R] == "client"], pc)]
        batches.append((alliance[alliance[R] != "client"], pp))
    for rows, p in batches:
        if len(rows):
            events.append(detect_ruptures(rows, **common, **p))  # type: ignore[arg-type]
    if not events:
        return []
    ev = _at(pd.concat(events, ignore_index=True), current, "onset_session")
    ev = ev.assign(
        **{
            S: ev["onset_session"],
            "score": ev["baseline"] - ev["depth"],
            "drop": ev["depth"],
        }
    )
    parts: list[_Part] = []
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
        u = u.assign(**{S: u["onset_session"], "score": u["baseline"] - u["depth"]})
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


def _rupture_params(ctx: AlertContext, role: str) -> dict[str, Any]:
    rid = f"rupture.{role}"
    rule = ctx.rule(rid) or next(r for r in default_rules() if r.rule_id == rid)
    return dict(rule.params)


def _with_report_values(rep: pd.DataFrame, alliance: pd.DataFrame) -> pd.DataFrame:
    r = alliance[
        alliance[SUB].isin(RUPTURE_SUBSCALES).to_numpy()
        & alliance[E].isin(rep[E]).to_numpy()
    ]
    wide = r.pivot_table(index=[E, S, P, INS], columns=SUB, values=SC, aggfunc="first")
    wide = wide.reindex(columns=list(RUPTURE_SUBSCALES)).reset_index()
    m = rep.drop(columns=[SUB]).merge(wide, on=[E, S, P, INS], how="left")
    return m.assign(
        tension=m["rupture_intensity"],
        resolution=m["rupture_resolution"],
        resolved_in_session=(m["repair_session"] == m["onset_session"])
        .fillna(False)
        .astype(int),
    )


def _alliance_parts(totals: pd.DataFrame, ctx: AlertContext) -> list[_Part]:
    if totals.empty:
        return []
    parts: list[_Part] = []
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
        dd = dd[dd["discrepancy"].abs() >= lim - _EPS]
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


def _outcome_parts(
    out: pd.DataFrame, meta: pd.DataFrame, ctx: AlertContext
) -> list[_Part]:
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
        change=x - intake,
        change_since_previous=x - prev,
        cutoff=m["cutoff"].to_numpy(float),
    )
    worse, step = sign * (x - intake), sign * (x - prev)
    parts: list[_Part] = []

    def size(rule_id: str) -> np.ndarray:
        rule = ctx.rule(rule_id)
        z = rule.params.get("z", 1.96) if rule else 1.96
        sdiff = m["sd"].to_numpy(float) * np.sqrt(
            2 * (1 - m["reliability"].to_numpy(float))
        )
        rc = m["rc_value"].to_numpy(float)
        # A published value is inclusive; z * S_diff stands for the strict RCI rule.
        return np.where(np.isnan(rc), z * sdiff + _EPS, rc)

    def add(rule_id: str, mask: np.ndarray, cols: list[str]) -> None:
        if ctx.rule(rule_id):
            parts.append((rule_id, o[mask & ~first], cols))

    with np.errstate(invalid="ignore"):
        det = worse >= size("outcome.reliable_deterioration") - _EPS
        imp_size = size("outcome.reliable_improvement")
        imp = -worse >= imp_size - _EPS
        first_imp = imp & (
            pd.Series(imp).groupby(g.ngroup().to_numpy()).cumsum().to_numpy() == 1
        )
        add("outcome.reliable_deterioration", det, ["intake", SC, "change"])
        add("outcome.reliable_improvement", first_imp, ["intake", SC, "change"])
        clin_in = _clinical(intake, m)
        rec = (
            clin_in
            & ~_clinical(x, m)
            & ~np.isnan(x)
            & (-worse >= size("outcome.recovered") - _EPS)
        )
        first_rec = rec & (
            pd.Series(rec).groupby(g.ngroup().to_numpy()).cumsum().to_numpy() == 1
        )
        add("outcome.recovered", first_rec, ["intake", SC, "change", "cutoff"])
        sl = ctx.rule("outcome.sudden_loss")
        if sl:
            loss = (step >= size("outcome.sudden_loss") - _EPS) & (
                step >= sl.params["min_pct"] * np.abs(prev) - _EPS
            )
            add("outcome.sudden_loss", loss, ["previous", SC, "change_since_previous"])
    nt = ctx.rule("outcome.not_on_track")
    if nt:
        parts.append(
            (
                "outcome.not_on_track",
                _not_on_track(o, meta, ctx, nt.params),
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


def _not_on_track(
    o: pd.DataFrame, meta: pd.DataFrame, ctx: AlertContext, params: Any
) -> pd.DataFrame:
    out = []
    for inst, rows in o.groupby(INS, sort=False):
        fit = ctx.curve_sets.get(str(inst)) or _rational_fit(str(inst), meta.loc[inst])  # type: ignore[arg-type]
        cp = classify_progress(
            rows[[E, P, S, SC]],
            fit,
            id=[E, P],
            z_yellow=params["z_yellow"],
            z_red=params["z_red"],
            check_session=params["check_session"],
            z_rc=params["z"],
        )
        hit = cp["status"].isin(["yellow", "red"]).to_numpy() & ~cp[
            "reliable_deterioration"
        ].to_numpy(dtype=bool)
        out.append(
            cp[hit].assign(
                **{INS: inst, R: "client", "curves": int(fit.method == "mixedlm")}
            )
        )
    res = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=[*KEY])
    if R not in res:
        res[R] = "client"
    role = o.drop_duplicates([E, P, INS])[[E, P, INS, R]]
    return res.drop(columns=[R]).merge(role, on=[E, P, INS], how="left")


def _rational_fit(inst: str, m: pd.Series) -> TrajectoryFit:
    nan = float("nan")

    def num(v: Any) -> float | None:
        return (
            None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        )

    return TrajectoryFit(
        method="rational",
        higher_is_better=bool(m["higher_is_better"]),
        centre=nan,
        coefficients=dict.fromkeys(("g00", "g01", "g10", "g11"), nan),
        variance=dict.fromkeys(("tau00", "tau01", "tau11", "sigma2"), nan),
        n_clients=0,
        n_observations=0,
        converged=False,
        fitted_on="",
        instrument=inst,
        instrument_version=m["version"],
        rc_value=num(m["rc_value"]),
        sd=num(m["sd"]),
        reliability=num(m["reliability"]),
        cutoff=num(m["cutoff"]),
        clinical_when=m["clinical_when"],
    )


def _safety_part(items: pd.DataFrame, meta: pd.DataFrame) -> _Part:
    schema.validate_long(
        items,
        required=[E, S, P, INS, schema.ITEM, schema.VALUE],
        numeric=[schema.ITEM, schema.VALUE],
        name="items",
    )
    extra = instrument_table([i for i in pd.unique(items[INS]) if i not in meta.index])
    meta = pd.concat([meta, extra])
    fired = []
    for inst, rows in items.groupby(INS, sort=False):
        rules: Any = meta.at[inst, "safety_items"] if meta.at[inst, "kind"] else ()
        for rule in rules:
            v = rows[schema.VALUE].to_numpy(float)
            ok = {
                ">": v > rule.value,
                ">=": v >= rule.value,
                "==": v == rule.value,
                "<=": v <= rule.value,
                "<": v < rule.value,
            }[rule.op]
            fired.append(
                rows[(rows[schema.ITEM] == rule.item).to_numpy() & ok].assign(
                    message_key=rule.message_key
                )
            )
    cols = [E, S, P, INS, schema.ITEM, schema.VALUE]
    f = pd.concat(fired, ignore_index=True) if fired else pd.DataFrame(columns=cols)
    if R not in f:
        f[R] = "client"
    f = f.sort_values([E, S, P, INS, schema.ITEM], kind="stable").drop_duplicates(
        [E, S, P, INS]
    )
    return ("safety.item", f, [schema.ITEM, schema.VALUE])


def _assemble(
    parts: list[_Part], ctx: AlertContext, current: pd.Series | None
) -> pd.DataFrame:
    order = {r.rule_id: i for i, r in enumerate(ctx.rules)}
    frames = []
    for rid, rows, cols in parts:
        if current is not None and len(rows):
            rows = rows[rows[S].to_numpy() == rows[E].map(current).to_numpy()]
        if rows.empty:
            continue
        rule = ctx.rule(rid)
        if rule is None:
            continue
        ev: list[dict[str, Any]] = [
            {str(k): _py(v) for k, v in rec.items()}
            for rec in rows[cols].to_dict("records")
        ]
        keys = rows[KEY].reset_index(drop=True)
        fmt: Callable[[dict[str, Any], dict[str, Any]], str] = MESSAGES[rid]
        recs: list[dict[str, Any]] = keys.to_dict("records")  # type: ignore[assignment]
        msgs = [fmt(k, e) for k, e in zip(recs, ev, strict=True)]
        columns: dict[str, Any] = {
            "rule_id": rid,
            "rule_version": rule.version,
            "severity": rule.severity,
            "params": [dict(rule.params) for _ in ev],
            "evidence": ev,
            "message": msgs,
            "suggestions": [rule.suggestions] * len(ev),
            "_order": order[rid],
        }
        frames.append(keys.assign(**columns))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ALERT_COLUMNS})
    res = pd.concat(frames, ignore_index=True)
    res = res.sort_values([E, S, "_order", P], kind="stable", ignore_index=True)
    return res[list(ALERT_COLUMNS)]
