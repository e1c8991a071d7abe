"""Evaluate the alert rule table on canonical score frames, vectorised over engagements."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.alerts._alliance_rules import alliance_parts, rupture_parts
from harmonybridge.alerts._columns import (
    ALERT_COLUMNS,
    INS,
    KEY,
    SC,
    SUB,
    E,
    P,
    Part,
    R,
    S,
    at_current,
)
from harmonybridge.alerts._outcome_rules import outcome_parts
from harmonybridge.alerts.context import Alert, AlertContext
from harmonybridge.alerts.messages import MESSAGES
from harmonybridge.change._rupture_wide import check_unique
from harmonybridge.change.ruptures import RUPTURE_SUBSCALES
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

__all__ = [
    "ALERT_COLUMNS",
    "evaluate_alerts",
    "evaluate_alerts_frame",
    "instrument_table",
]


def instrument_table(
    ids: Iterable[object], conventions: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Return instrument metadata used by the rules, indexed by instrument id.

    Unknown ids get ``kind`` missing and are ignored by the rules. ``conventions``
    (``{instrument id: caseness convention}``) chooses the cut-off and reliable-change
    pair of instruments that declare several (default: the definition's default).
    """
    from harmonybridge.instruments import find

    rows = []
    for i in ids:
        inst = find(str(i))
        if inst is None:
            rows.append({INS: i, "kind": None})
            continue
        inst = inst.with_convention((conventions or {}).get(str(i)))
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
    d = _as_categories(data[[*KEY, SUB, SC]].assign(**{SUB: data[SUB].fillna("")}))
    check_unique(d, [E, S, P, INS, SUB])
    current = _current_sessions(d, items) if at == "current" else None
    codes, uniq = pd.factorize(d[INS])
    meta = instrument_table(uniq, context.conventions)
    kind = meta["kind"].to_numpy(dtype=object)[codes]
    total = (d[SUB] == "").to_numpy()
    alliance = d[
        np.isin(kind, ["alliance", "rupture"])
        & (total | d[SUB].isin(RUPTURE_SUBSCALES).to_numpy())
    ]
    totals = alliance[
        (alliance[SUB] == "").to_numpy() & alliance[SC].notna().to_numpy()
    ]
    parts: list[Part] = []
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", HarmonyBridgeWarning
        )  # short histories are normal here
        parts += rupture_parts(alliance, totals, context, current)
        parts += alliance_parts(at_current(totals, current), context)
        parts += outcome_parts(d[(kind == "outcome") & total], meta, context)
    if items is not None and context.rule("safety.item"):
        parts.append(_safety_part(items, meta))
    res = _assemble(parts, context, current)
    for c in KEY:  # back to the caller's dtypes (categories were for speed only)
        if len(res) and not isinstance(data[c].dtype, pd.CategoricalDtype):
            res[c] = res[c].astype(object).astype(data[c].dtype)
    return res


def _as_categories(d: pd.DataFrame) -> pd.DataFrame:
    """Encode text key columns once as categories: later grouping and selection are integer work."""
    text = [
        c
        for c in (E, R, P, INS, SUB)
        if not pd.api.types.is_numeric_dtype(d[c])
        and not isinstance(d[c].dtype, pd.CategoricalDtype)
    ]
    return d.assign(**{c: d[c].astype("category") for c in text})


def _current_sessions(d: pd.DataFrame, items: pd.DataFrame | None) -> pd.Series:
    cur = d.groupby(E, sort=False)[S].max()
    if items is not None and len(items):
        cur = (
            pd.concat([cur, items.groupby(E, sort=False)[S].max()])
            .groupby(level=0)
            .max()
        )
    return cur


def _safety_part(items: pd.DataFrame, meta: pd.DataFrame) -> Part:
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
    parts: list[Part], ctx: AlertContext, current: pd.Series | None
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
