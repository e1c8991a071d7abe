"""Validation and long-to-wide conversion for the sudden-gains functions."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge import instruments, schema
from harmonybridge.change._sg_core import ENGINES, SUDDENGAINS, TANG_DERUBEIS, Params
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning


@dataclass(frozen=True)
class Wide:
    """One row per series on the session grid (sorted distinct time values)."""

    keys: pd.DataFrame  # key columns, one row per series, sorted
    grid: pd.Index  # session values
    x: np.ndarray  # (n_series, n_grid) float64, NaN = missing


def _number(x: Any) -> bool:
    return (
        isinstance(x, (int, float, np.integer, np.floating))
        and not isinstance(x, (bool, np.bool_))
        and math.isfinite(float(x))
    )


def resolve_params(
    *,
    cutoff: float | None,
    pct: float | None,
    crit3: bool,
    alpha: float,
    adjust: bool,
    critical_value: float,
    losses: bool,
    engine: str,
    higher_is_better: bool,
    first_is_baseline: bool,
    instrument: str | None,
    stacklevel: int,
) -> Params:
    """Check the options and return them resolved (direction from the instrument)."""
    if engine not in ENGINES:
        raise DataValidationError(
            f"engine must be one of {', '.join(ENGINES)}; got {engine!r}"
        )
    if cutoff is not None and not _number(cutoff):
        raise DataValidationError(
            f"cutoff must be a number (or None to skip), got {cutoff!r}"
        )
    if pct is not None and (not _number(pct) or pct < 0):
        raise DataValidationError(
            f"pct must be a number >= 0 (or None to skip), got {pct!r}"
        )
    if cutoff is None and pct is None and not crit3:
        raise DataValidationError(
            "all three criteria are switched off; enable at least one"
        )
    if crit3 and adjust and (not _number(alpha) or not 0 < alpha < 1):
        raise DataValidationError(
            f"alpha must be a number between 0 and 1, got {alpha!r}"
        )
    if crit3 and not adjust and (not _number(critical_value) or critical_value <= 0):
        raise DataValidationError(
            f"critical_value must be a positive number, got {critical_value!r}"
        )
    if instrument is not None:
        inst_hib = bool(instruments.get(instrument).higher_is_better)
        if higher_is_better and not inst_hib:
            raise DataValidationError(
                f"higher_is_better=True contradicts instrument {instrument!r} "
                "(lower scores are better)"
            )
        higher_is_better = inst_hib
    if engine == SUDDENGAINS:
        _check_r_cutoff(cutoff, losses)
        if higher_is_better:
            warnings.warn(
                "the suddengains engine takes scores as they are (as the R package); "
                "higher_is_better is ignored there: use engine='tang-derubeis'",
                HarmonyBridgeWarning,
                stacklevel=stacklevel,
            )
    elif cutoff is not None and cutoff <= 0:
        raise DataValidationError(
            f"cutoff must be a positive size in the {TANG_DERUBEIS} engine, got {cutoff!r}; "
            "losses=True chooses the direction"
        )
    return Params(
        cutoff=None if cutoff is None else float(cutoff),
        pct=None if pct is None else float(pct),
        crit3=bool(crit3),
        alpha=float(alpha),
        adjust=bool(adjust),
        critical_value=float(critical_value),
        losses=bool(losses),
        engine=engine,
        higher_is_better=bool(higher_is_better),
        first_is_baseline=bool(first_is_baseline),
    )


def _check_r_cutoff(cutoff: float | None, losses: bool) -> None:
    if cutoff is None:
        return
    if losses and cutoff > 0:
        raise DataValidationError(
            f"cutoff must be negative for losses in the {SUDDENGAINS} engine (as R's "
            f"identify_sl, e.g. -7), got {cutoff!r}"
        )
    if not losses and cutoff < 0:
        raise DataValidationError(
            f"cutoff must be >= 0 for gains in the {SUDDENGAINS} engine, got {cutoff!r}; "
            "use losses=True for sudden losses"
        )


def to_wide(
    data: pd.DataFrame, keys: list[str], time: str, score: str, *, stacklevel: int
) -> Wide:
    """Validate long data and pivot it onto the session grid without a Python loop."""
    schema.validate_long(data, required=[*keys, time, score], numeric=[score])
    for col in [*keys, time]:
        if data[col].isna().any():
            raise DataValidationError(
                f"column {col!r} has missing values; every row needs a series key and a session"
            )
    tcodes, grid = pd.factorize(data[time], sort=True)
    if len(grid) < 4:
        raise DataValidationError(
            f"column {time!r} has {len(grid)} distinct sessions; sudden gains need at least 4 "
            "(each tested interval needs scores before and after it)"
        )
    codes, key_frame = _series_codes(data, keys)
    n, n_grid = len(key_frame), len(grid)
    cell = codes.astype("int64") * n_grid + tcodes
    # rows sorted by series then session (the usual file) cannot repeat a cell
    if not (cell[1:] > cell[:-1]).all():
        counts = np.bincount(cell, minlength=n * n_grid)
        if (counts > 1).any():
            row = int(np.flatnonzero(counts[cell] > 1)[0])
            first = data.iloc[row][[*keys, time]].to_dict()
            raise DataValidationError(
                f"duplicate rows for the key {[*keys, time]}: {first} appears more than once"
            )
    flat = np.full(n * n_grid, np.nan)
    flat[cell] = pd.to_numeric(data[score], errors="coerce").to_numpy(
        dtype="float64", na_value=np.nan
    )
    x = flat.reshape(n, n_grid)
    empty = int(np.isnan(x).all(axis=1).sum())
    if empty:
        warnings.warn(
            f"{empty} series have no observed {score!r}; they are kept (n_gains = 0, intervals "
            "missing)",
            HarmonyBridgeWarning,
            stacklevel=stacklevel,
        )
    return Wide(keys=key_frame, grid=pd.Index(grid), x=x)


def _series_codes(
    data: pd.DataFrame, keys: list[str]
) -> tuple[np.ndarray, pd.DataFrame]:
    """Each row's series number (keys in sorted order) and the keys, one row per series.

    One integer key already in order (the usual file) is numbered where it changes; one
    numeric or text key is factorised with sorting (hashing, several times cheaper than
    ``groupby`` on 2M rows); other keys go through ``groupby``. All give the keys in the
    same sorted order (a property test compares them).
    """
    column = data[keys[0]]
    plain = isinstance(column.dtype, np.dtype)  # not a nullable or categorical column
    if len(keys) == 1 and plain and column.dtype.kind in "iu" and len(column):
        values = column.to_numpy()
        if (values[1:] >= values[:-1]).all():
            new = np.empty(len(values), dtype=bool)
            new[0] = True
            np.not_equal(values[1:], values[:-1], out=new[1:])
            codes = np.cumsum(new) - 1
            return codes, pd.DataFrame({keys[0]: values[new]})
    if len(keys) == 1 and (
        (plain and column.dtype.kind in "iuf")
        or isinstance(column.dtype, pd.StringDtype)
    ):
        codes, uniques = pd.factorize(column, sort=True)
        return codes, pd.DataFrame({keys[0]: uniques})
    grouped = data.groupby(keys, sort=True, observed=True)
    return grouped.ngroup().to_numpy(), grouped.size().index.to_frame(index=False)


def grid_position(grid: pd.Index, value: Any, name: str, default: int) -> int:
    """Position of a session value in the grid (``default`` when ``value`` is None)."""
    if value is None:
        return default
    matches = np.flatnonzero(grid.isin([value]))
    if not len(matches):
        shown = ", ".join(map(str, grid[:8])) + (" ..." if len(grid) > 8 else "")
        raise DataValidationError(
            f"{name}={value!r} is not a session of the data ({shown})"
        )
    return int(matches[0])


def key_list(id: str | Sequence[str]) -> list[str]:
    """The series key as a list (``schema.as_key_list``)."""
    return schema.as_key_list(id)
