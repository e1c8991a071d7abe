"""Sudden gains and losses (Tang & DeRubeis 1999) with an R ``suddengains`` 0.7.2 engine."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.change import _sg_core as core
from harmonybridge.change._sg_input import (
    Wide,
    grid_position,
    key_list,
    resolve_params,
    to_wide,
)
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

__all__ = ["sudden_gain_intervals", "sudden_gains", "sudden_gains_byperson"]

#: Columns after the series key in the per-gain and per-person tables.
GAIN_COLUMNS: tuple[str, ...] = (
    "pregain_session",
    "postgain_session",
    "n_gains",
    "score_n_minus2",
    "score_n_minus1",
    "score_pregain",
    "score_postgain",
    "score_n_plus2",
    "score_n_plus3",
    "magnitude",
    "tx_change",
    "change_proportion",
    "reversal_value",
    "reversal",
)
#: Columns after the series key in the per-interval table.
INTERVAL_COLUMNS: tuple[str, ...] = (
    "pregain_session",
    "postgain_session",
    "crit1",
    "crit2",
    "crit3",
    "df",
    "critical_value",
    "result",
)
SELECT = ("first", "last", "smallest", "largest")

_REFERENCES = """
    References
    ----------
    Tang, T. Z., & DeRubeis, R. J. (1999). Sudden gains and critical sessions in
    cognitive-behavioral therapy for depression. Journal of Consulting and Clinical Psychology,
    67(6), 894-904. https://doi.org/10.1037/0022-006X.67.6.894

    Lutz, W., Ehrlich, T., Rubel, J., Hallwachs, N., Röttger, M.-A., Jorasz, C., Mocanu, S.,
    Vocks, S., Schulte, D., & Tschitsaz-Stucki, A. (2013). The ups and downs of psychotherapy:
    Sudden gains and sudden losses identified with session reports. Psychotherapy Research,
    23(1), 14-24. https://doi.org/10.1080/10503307.2012.693837

    Wiedemann, M., Thew, G. R., Stott, R., & Ehlers, A. (2020). suddengains: An R package to
    identify sudden gains in longitudinal data. PLOS ONE, 15(3), e0230276.
    https://doi.org/10.1371/journal.pone.0230276 (package version 0.7.2 reproduced by
    ``engine="suddengains"``).
"""


def _prepare(
    data: pd.DataFrame, opts: dict[str, Any], depth: int
) -> tuple[Wide, core.Params, list[str]]:
    """Validate; ``depth`` = frames from the public function down to this one."""
    keys = key_list(opts.pop("id"))
    time, score = opts.pop("time"), opts.pop("score")
    params = resolve_params(**opts, stacklevel=depth + 3)
    wide = to_wide(data, keys, time, score, stacklevel=depth + 3)
    return wide, params, keys


def _warn_none(params: core.Params, found: int, depth: int) -> None:
    if not found:
        what = "losses" if params.losses else "gains"
        warnings.warn(
            f"No sudden {what} were identified.",
            HarmonyBridgeWarning,
            stacklevel=depth + 2,
        )


def _gain_table(
    wide: Wide, params: core.Params, tx: tuple[int, int]
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per identified gain, sorted by series then session (row-major order)."""
    x, grid = wide.x, wide.grid
    rows, k = core.gain_positions(x, params)
    pos = k + 1  # grid position of the pre-gain session
    x_rows = x[rows]  # the gains' series only
    padded = np.pad(x_rows, ((0, 0), (2, 3)), constant_values=np.nan)
    at = np.arange(len(rows))
    around = {
        name: padded[at, pos + 2 + off]
        for name, off in (
            ("score_n_minus2", -2),
            ("score_n_minus1", -1),
            ("score_pregain", 0),
            ("score_postgain", 1),
            ("score_n_plus2", 2),
            ("score_n_plus3", 3),
        )
    }
    pre, post = around["score_pregain"], around["score_postgain"]
    raw = pre - post
    tx_change = x_rows[:, tx[0]] - x_rows[:, tx[1]]
    reversal_value = post + raw / 2.0
    magnitude, proportion = core.magnitude_and_proportion(raw, tx_change, params)
    keys = wide.keys.iloc[rows].reset_index(drop=True)
    rev = core.reversals(x_rows, pos, reversal_value, params)
    columns: dict[str, Any] = {name: keys[name] for name in keys.columns}
    columns["pregain_session"] = grid.take(pos).to_numpy()
    columns["postgain_session"] = grid.take(pos + 1).to_numpy()
    columns["n_gains"] = np.bincount(rows, minlength=len(x))[rows].astype("int64")
    columns.update(around)
    columns["magnitude"] = magnitude
    columns["tx_change"] = tx_change
    columns["change_proportion"] = proportion
    columns["reversal_value"] = reversal_value
    columns["reversal"] = pd.array(rev, dtype="Int64")
    # one frame built at once: a column assigned at a time cost most of a small call
    return pd.DataFrame(columns, index=keys.index), rows


def _run(
    data: pd.DataFrame, opts: dict[str, Any]
) -> tuple[Wide, pd.DataFrame, np.ndarray]:
    tx_start, tx_end = opts.pop("tx_start"), opts.pop("tx_end")
    wide, params, _ = _prepare(data, opts, depth=2)
    tx = (
        grid_position(wide.grid, tx_start, "tx_start", 0),
        grid_position(wide.grid, tx_end, "tx_end", len(wide.grid) - 1),
    )
    gains, rows = _gain_table(wide, params, tx)
    _warn_none(params, len(gains), depth=2)
    return wide, gains, rows


def sudden_gains(
    data: pd.DataFrame,
    *,
    id: str | Sequence[str] = schema.CLIENT_ID,
    time: str = schema.SESSION,
    score: str = schema.SCORE,
    cutoff: float | None,
    pct: float | None = 0.25,
    crit3: bool = True,
    alpha: float = 0.05,
    adjust: bool = True,
    critical_value: float = 2.776,
    losses: bool = False,
    engine: str = core.TANG_DERUBEIS,
    higher_is_better: bool = False,
    first_is_baseline: bool = False,
    tx_start: Any = None,
    tx_end: Any = None,
    instrument: str | None = None,
) -> pd.DataFrame:
    """Identify sudden gains (or losses), one row per gain.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, unique per (id, time). The session grid is the sorted set of distinct
        ``time`` values; a series without a row, or with a missing score, at a grid session
        has a missing value there.
    id : str or list of str
        The series key (one column or several).
    time, score : str
        Session and score columns.
    cutoff : float or None
        Criterion 1 (absolute change). ``engine="suddengains"``: as R, ``pre - post >= cutoff``
        for gains (cutoff >= 0) and ``pre - post <= cutoff`` for losses (cutoff <= 0).
        ``engine="tang-derubeis"``: a positive size, applied in the direction of the event.
        ``None`` skips the criterion.
    pct : float or None
        Criterion 2: the change is at least ``pct`` of the pre-gain score (``None`` skips it).
        The ``suddengains`` engine keeps R's loss rule ``pre - post <= pct * pre``; the
        ``tang-derubeis`` engine mirrors the gain rule.
    crit3 : bool
        Criterion 3: mean of up to three scores before minus up to three after exceeds
        ``critical value * pooled SD`` (strict), with at least two scores on each side.
    alpha, adjust, critical_value : float, bool, float
        With ``adjust`` the critical value is the two-tailed t quantile at ``alpha`` with
        ``n_pre + n_post - 2`` df (2.776 / 3.182 / 4.303 at .05); otherwise ``critical_value``.
    losses : bool
        Identify sudden losses instead of gains.
    engine : {"tang-derubeis", "suddengains"}
        ``"suddengains"`` reproduces R ``suddengains`` 0.7.2 output for output (tested interval
        range, NA propagation, loss criterion 2, reversal window, +Inf/NaN proportions).
        ``"tang-derubeis"`` (default) is the corrected clinical definition: direction from
        ``higher_is_better``, mirrored loss criterion 2, a criterion known to fail decides the
        interval (three-valued AND), reversal scanned from session n+2, magnitudes positive.
    higher_is_better : bool
        Scale direction (``tang-derubeis`` only; the ``suddengains`` engine ignores it, warning).
    first_is_baseline : bool
        R's ``identify_sg_1to2``: the first grid session is a baseline. In the ``suddengains``
        engine it moves the reversal scan to start at n+2 (as R); it changes nothing else
        because sessions are reported by value.
    tx_start, tx_end : session value, optional
        Sessions for ``tx_change = score(tx_start) - score(tx_end)``; default the first and
        last grid sessions.
    instrument : str, optional
        Instrument id whose ``higher_is_better`` sets the direction.

    Returns
    -------
    pandas.DataFrame
        The key columns then ``pregain_session``, ``postgain_session`` (session values),
        ``n_gains``, ``score_n_minus2`` ... ``score_n_plus3``, ``magnitude``
        (``suddengains``: pre - post, negative for losses; ``tang-derubeis``: the positive size),
        ``tx_change``, ``change_proportion`` (``suddengains``: magnitude (losses: its absolute
        value) / tx_change, -Inf made missing, +Inf and NaN kept; ``tang-derubeis``: magnitude
        / change over treatment in the event's direction, non-finite made missing),
        ``reversal_value`` (midpoint of pre- and post-gain score) and ``reversal`` (0/1),
        sorted by key then session. No gain gives an empty frame with these columns and a
        ``HarmonyBridgeWarning`` (where R's ``create_bysg`` stops with an error).

    Raises
    ------
    DataValidationError
        Missing column, non-numeric score, duplicate (id, time), fewer than 4 sessions, a
        cut-off of the wrong sign, an unknown engine, or every criterion switched off.
    {references}
    Reference tests: ``tests/core/test_sudden_gains.py`` (worked examples of Tang & DeRubeis 1999 and suddengains 0.7.2,
    ``check_interval`` published outputs) and ``tests/core/test_sudden_gains_sgdata.py``
    (R package unit-test expectations on ``sgdata``).
    """
    return _run(data, _options(locals()))[1]


sudden_gains.__doc__ = (sudden_gains.__doc__ or "").replace("{references}", _REFERENCES)


def _options(local: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in local.items() if k not in ("data", "select")}


def sudden_gains_byperson(
    data: pd.DataFrame,
    *,
    id: str | Sequence[str] = schema.CLIENT_ID,
    time: str = schema.SESSION,
    score: str = schema.SCORE,
    cutoff: float | None,
    pct: float | None = 0.25,
    crit3: bool = True,
    alpha: float = 0.05,
    adjust: bool = True,
    critical_value: float = 2.776,
    losses: bool = False,
    engine: str = core.TANG_DERUBEIS,
    higher_is_better: bool = False,
    first_is_baseline: bool = False,
    tx_start: Any = None,
    tx_end: Any = None,
    instrument: str | None = None,
    select: str = "first",
) -> pd.DataFrame:
    """One row per series: the selected gain, or ``n_gains = 0`` and missing values.

    Takes the options of :func:`sudden_gains` plus ``select``: ``"first"`` (earliest
    session), ``"last"``, ``"smallest"`` or ``"largest"`` (by ``magnitude``; ties go to the
    earliest session). In the ``suddengains`` engine loss magnitudes are negative, so
    ``"largest"`` picks the smallest absolute loss, as R's ``create_byperson`` does.
    Series with all scores missing are included (``n_gains = 0``). Columns as
    :func:`sudden_gains`, sorted by key.
    {references}
    Reference test: ``tests/core/test_sudden_gains_sgdata.py`` (R ``create_byperson``
    unit-test expectations).
    """
    if select not in SELECT:
        raise DataValidationError(
            f"select must be one of {', '.join(SELECT)}; got {select!r}"
        )
    wide, gains, rows = _run(data, _options(locals()))
    return _select(wide, gains, rows, select)


sudden_gains_byperson.__doc__ = (sudden_gains_byperson.__doc__ or "").replace(
    "{references}", _REFERENCES
)


def _select(
    wide: Wide, gains: pd.DataFrame, rows: np.ndarray, select: str
) -> pd.DataFrame:
    n = len(wide.keys)
    order = np.arange(len(gains))  # gains are sorted by series then session
    if select == "last":
        order = order[::-1]
    elif select in ("smallest", "largest"):
        mag = gains["magnitude"].to_numpy(dtype="float64")
        order = np.lexsort((order, mag if select == "smallest" else -mag))
    first_seen = order[np.unique(rows[order], return_index=True)[1]]
    chosen = gains.iloc[first_seen][list(GAIN_COLUMNS)]
    chosen.index = rows[first_seen]
    out = pd.concat(
        [wide.keys, chosen.reindex(range(n)).reset_index(drop=True)], axis=1
    )
    out["n_gains"] = out["n_gains"].fillna(0).astype("int64")
    for col in ("pregain_session", "postgain_session"):
        if pd.api.types.is_integer_dtype(wide.grid.dtype):
            out[col] = out[col].astype("Int64")
    out["reversal"] = out["reversal"].astype("Int64")
    return out


def sudden_gain_intervals(
    data: pd.DataFrame,
    *,
    id: str | Sequence[str] = schema.CLIENT_ID,
    time: str = schema.SESSION,
    score: str = schema.SCORE,
    cutoff: float | None,
    pct: float | None = 0.25,
    crit3: bool = True,
    alpha: float = 0.05,
    adjust: bool = True,
    critical_value: float = 2.776,
    losses: bool = False,
    engine: str = core.TANG_DERUBEIS,
    higher_is_better: bool = False,
    first_is_baseline: bool = False,
    tx_start: Any = None,
    tx_end: Any = None,
    instrument: str | None = None,
) -> pd.DataFrame:
    """One row per series x tested interval with each criterion's result.

    Takes the options of :func:`sudden_gains`. The tested intervals are grid positions
    (j-1) -> j for j = 3 ... N-1 (1-based), as in R: the first and the last interval of the
    grid are never tested (each window needs two sessions). Columns: the key, then
    ``pregain_session``, ``postgain_session``, ``crit1``, ``crit2``, ``crit3`` (nullable
    booleans, all missing when that criterion is switched off), ``df`` and
    ``critical_value`` (criterion 3; missing when it is off or lacks data), ``result``
    (nullable integer 1/0/missing, combined as the engine does). ``tx_start``/``tx_end`` are
    checked but do not enter this table.
    {references}
    Reference test: ``tests/core/test_sudden_gains.py`` (Tang & DeRubeis 1999 worked examples).
    """
    opts = _options(locals())
    tx_start, tx_end = opts.pop("tx_start"), opts.pop("tx_end")
    wide, params, _ = _prepare(data, opts, depth=1)
    grid_position(wide.grid, tx_start, "tx_start", 0)
    grid_position(wide.grid, tx_end, "tx_end", 0)
    crit = core.evaluate(wide.x, params)
    n, n_int = crit.result.shape
    rows = np.repeat(np.arange(n), n_int)
    pos = np.tile(np.arange(1, n_int + 1), n)
    out = wide.keys.iloc[rows].reset_index(drop=True)
    out["pregain_session"] = wide.grid.take(pos).to_numpy()
    out["postgain_session"] = wide.grid.take(pos + 1).to_numpy()
    for name, values in (
        ("crit1", crit.crit1),
        ("crit2", crit.crit2),
        ("crit3", crit.crit3),
    ):
        out[name] = _nullable(values, n * n_int, "boolean")
    df = crit.df.ravel()
    out["df"] = pd.arrays.IntegerArray(np.maximum(df, 0).astype("int64"), df < 0)
    out["critical_value"] = crit.critical_value.ravel()
    out["result"] = _nullable(crit.result, n * n_int, "Int64")
    _warn_none(params, int((crit.result == 1).sum()), depth=1)
    return out


sudden_gain_intervals.__doc__ = (sudden_gain_intervals.__doc__ or "").replace(
    "{references}", _REFERENCES
)


def _nullable(values: np.ndarray | None, size: int, dtype: str) -> Any:
    flat = np.full(size, np.nan) if values is None else values.ravel()
    mask = np.isnan(flat)
    if dtype == "boolean":
        return pd.arrays.BooleanArray(flat == 1, mask)
    return pd.arrays.IntegerArray(np.where(mask, 0, flat).astype("int64"), mask)
