"""Wide (series × position) layout of long score rows, key codes and event assembly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmonybridge.errors import DataValidationError

_TYPES = np.array(["V", "extended", "unrepaired", "censored"], dtype=object)


@dataclass(frozen=True)
class _Wide:
    """Series laid out as rows of a left-justified matrix (observed order)."""

    keys: pd.DataFrame  # one row per series: key columns (+ rater)
    values: np.ndarray  # (G, T) scores, NaN padded on the right
    times: np.ndarray  # (G, T) session values, NaN padded
    n_obs: np.ndarray  # (G,) observed sessions per series


def _to_wide(
    frame: pd.DataFrame,
    keys: list[str],
    time: str,
    cols: list[str],
    rows: np.ndarray | None = None,
) -> _Wide:
    """Lay out long rows as a (series × position) matrix without a per-series loop.

    A precomputed key code column ``_g`` is used when present; ``rows`` (row
    positions) selects a subset without copying the text key columns.
    """
    if rows is None:
        rows = np.arange(len(frame))

    def col(name: str) -> np.ndarray:
        return frame[name].to_numpy()[rows]

    codes = col("_g") if "_g" in frame.columns else _key_codes(frame, keys)[rows]
    gid, _ = pd.factorize(codes)
    t = col(time).astype(float)
    step = np.diff(gid)
    if len(gid) < 2 or ((step >= 0).all() and ((step > 0) | (np.diff(t) > 0)).all()):
        order = np.arange(len(gid))  # already grouped and in time order: no sort

        def take(x: np.ndarray) -> np.ndarray:
            return x

    else:
        order = np.lexsort((t, gid))

        def take(x: np.ndarray) -> np.ndarray:
            return x[order]

    gid = take(gid)
    n_groups = int(gid.max()) + 1 if len(gid) else 0
    n_obs = np.bincount(gid, minlength=n_groups)
    starts = (np.cumsum(n_obs) - n_obs).astype(np.int64)
    width = int(n_obs.max()) if n_groups else 0
    if n_groups and (n_obs == width).all():  # rectangular: a reshape, no scatter

        def lay(x: np.ndarray) -> np.ndarray:
            return take(x).reshape(n_groups, width)

    else:
        pos = np.arange(len(gid)) - starts[gid]

        def lay(x: np.ndarray) -> np.ndarray:
            m = np.full((n_groups, width), np.nan)
            m[gid, pos] = take(x)
            return m

    times = lay(t)
    mats = [lay(col(c).astype(float)) for c in cols]
    key_frame = frame[keys].iloc[rows[order[starts]]].reset_index(drop=True)
    values = mats[0] if len(mats) == 1 else np.stack(mats)
    return _Wide(key_frame, values, times, n_obs)


def _key_codes(
    frame: pd.DataFrame, cols: Sequence[str], codes: np.ndarray | None = None
) -> np.ndarray:
    """Return an int64 code per row identifying its combination of ``cols`` (not dense).

    ``codes`` (from an earlier call) is extended by further columns.
    """
    span = 1
    if codes is None:
        codes = np.zeros(len(frame), dtype=np.int64)
    else:
        span = int(codes.max()) + 1 if len(codes) else 1
    for c in cols:
        col, uniq = pd.factorize(frame[c], use_na_sentinel=False)
        k = len(uniq) + 1
        if span * k >= 2**62:  # compact before the combined code could overflow
            codes, uniq_codes = pd.factorize(codes)
            span = len(uniq_codes)
        codes = codes * k + col
        span *= k
    return codes


def check_unique(
    frame: pd.DataFrame,
    cols: Sequence[str],
    name: str = "data",
    codes: np.ndarray | None = None,
) -> None:
    """Raise DataValidationError if a combination of ``cols`` repeats.

    Sort-based on integer key codes (``codes`` if already computed), which is
    several times faster than :meth:`pandas.DataFrame.duplicated`.
    """
    if codes is None:
        codes = _key_codes(frame, cols)
    srt = np.sort(codes)
    if len(srt) > 1 and (srt[1:] == srt[:-1]).any():
        dup = pd.Series(codes).duplicated(keep=False).to_numpy()
        first = frame.loc[dup, list(cols)].iloc[0].to_dict()
        raise DataValidationError(
            f"duplicate rows for the key {list(cols)} in {name}: {first} appears more than once"
        )


def _assemble(
    w: _Wide,
    gi: np.ndarray,
    on: np.ndarray,
    na: np.ndarray,
    rep: np.ndarray,
    ty: np.ndarray,
    base: np.ndarray,
    thr: np.ndarray,
    depth: np.ndarray,
    sd: np.ndarray,
    source: str,
) -> pd.DataFrame:
    gi = gi.astype(np.int64)
    out = w.keys.iloc[gi].reset_index(drop=True)
    rep = rep.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        depth_sd = depth / sd
    cols = {
        "source": source,
        "onset_session": w.times[gi, on.astype(np.int64)],
        "nadir_session": w.times[gi, na.astype(np.int64)],
        "baseline": base,
        "threshold": thr,
        "depth": depth,
        "depth_sd": depth_sd,
        "repair_session": np.where(rep >= 0, w.times[gi, np.maximum(rep, 0)], np.nan),
        "type": _TYPES[ty.astype(np.int64)] if len(ty) else np.empty(0, dtype=object),
    }
    # one frame built at once (not ``assign``, a column at a time)
    return pd.DataFrame({**{c: out[c] for c in out.columns}, **cols}, index=out.index)
