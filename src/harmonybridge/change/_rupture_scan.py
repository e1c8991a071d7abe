"""Statistical rupture scan: prior statistics, baselines, reference SDs and the state machine."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from harmonybridge.change._rupture_params import RuptureParams
from harmonybridge.change._rupture_wide import _assemble, _to_wide
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

#: Slack for floating-point rounding in threshold and repair comparisons (item
#: means such as (4 + 4.2 + 4.1) / 3 are not exact in binary).
_EPS = 1e-9


def _prior_stats(a: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (mean, sd, n) of the observations used as 'the person's own' history.

    Prospective: positions before j. Retrospective: every observed position but j.
    """
    obs = ~np.isnan(a)
    ref = np.where(obs[:, :1], a[:, :1], 0.0)  # shift for numerical stability
    x = np.where(obs, a - ref, 0.0)
    if mode == "prospective":
        s1 = np.cumsum(x, axis=1) - x
        s2 = np.cumsum(x * x, axis=1) - x * x
        n = np.cumsum(obs, axis=1) - obs
    else:
        s1 = x.sum(axis=1, keepdims=True) - x
        s2 = (x * x).sum(axis=1, keepdims=True) - x * x
        n = obs.sum(axis=1, keepdims=True) - obs
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n + ref
        var = (s2 - s1 * s1 / n) / (n - 1)
    sd = np.sqrt(np.clip(var, 0.0, None))
    sd[n < 2] = np.nan
    return mean, sd, n


def _baseline(
    a: np.ndarray, kind: str, k: int, mode: str, mean: np.ndarray
) -> np.ndarray:
    g, t = a.shape
    if kind == "person_mean_excl_t":
        return mean
    lag = 1 if kind == "previous_session" else k
    out = np.full((g, t), np.nan)
    if t > lag:
        acc = np.zeros((g, t - lag))
        for i in range(1, lag + 1):
            acc += a[:, lag - i : t - i]
        out[:, lag:] = acc / lag
    return out


def _reference_sd(
    reference_sd: object, roles: np.ndarray | None, n: int
) -> np.ndarray | None:
    if reference_sd is None:
        return None
    if isinstance(reference_sd, Mapping):
        if roles is None:
            raise DataValidationError("reference_sd as a mapping needs a rater column")
        s = pd.Series(roles).map(dict(reference_sd)).to_numpy(dtype=float)
    else:
        try:
            s = np.full(n, float(reference_sd))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise DataValidationError(
                "reference_sd must be a number, a mapping {rater role: sd} or a "
                f"reference DataFrame, got {type(reference_sd).__name__}"
            ) from None
    if np.any(s[~np.isnan(s)] <= 0):
        raise DataValidationError("reference_sd must be positive")
    return s


def _scan(
    a: np.ndarray,
    base: np.ndarray,
    sdref: np.ndarray,
    thr: np.ndarray,
    eligible: np.ndarray,
    n_obs: np.ndarray,
    p: RuptureParams,
) -> dict[str, np.ndarray]:
    """Step through positions (not series) as a state machine over all series at once."""
    g, t = a.shape
    window, ext_l = p.repair_window, p.extended_window
    tol = p.repair_tolerance
    active = np.zeros(g, bool)
    ext = np.zeros(g, bool)
    onset = np.zeros(g, np.int64)
    nadir = np.zeros(g, np.int64)
    nadir_v = np.zeros(g)
    b_on, sd_on, thr_on = np.zeros(g), np.zeros(g), np.zeros(g)
    last_end = np.full(g, -1, np.int64)
    # Position-major copies: each step reads one contiguous row per array.
    a, base, thr, sdref = (np.ascontiguousarray(x.T) for x in (a, base, thr, sdref))
    eligible = eligible.T
    with np.errstate(invalid="ignore"):
        drop_ok = (base - a) >= thr - _EPS
        step_ok = np.zeros((t, g), bool)
        step_ok[1:] = a[1:] <= a[:-1]
    run = np.zeros((t, g), np.int64)
    for j in range(1, t):
        run[j] = np.where(step_ok[j], run[j - 1] + 1, 0)
    out: dict[str, list[np.ndarray]] = {
        k: [] for k in ("g", "on", "na", "rep", "ty", "b", "thr", "sd", "nv")
    }

    def close(mask: np.ndarray, rep: np.ndarray | int, ty: np.ndarray | int) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx) and out["g"]:
            return  # nothing ends here (most positions); the first call sets dtypes
        for key, arr in (
            ("g", idx),
            ("on", onset),
            ("na", nadir),
            ("b", b_on),
            ("thr", thr_on),
            ("sd", sd_on),
            ("nv", nadir_v),
        ):
            out[key].append(arr[idx] if key != "g" else arr)
        out["rep"].append(
            np.broadcast_to(rep, g)[idx] if np.ndim(rep) else np.full(len(idx), rep)
        )
        out["ty"].append(
            np.broadcast_to(ty, g)[idx] if np.ndim(ty) else np.full(len(idx), ty)
        )

    for j in range(t):
        valid = j < n_obs
        aj = a[j]
        act = active & valid
        with np.errstate(invalid="ignore"):
            rep = act & (aj >= b_on - tol * sd_on - _EPS)
        is_v = (nadir == onset) & ~ext & (onset + 1 == j)
        close(rep, j, np.where(is_v, 0, 1))
        low = act & ~rep & (aj < nadir_v)
        nadir = np.where(low, j, nadir)
        nadir_v = np.where(low, aj, nadir_v)
        gone = act & ~rep & ~low & (j - nadir >= window)
        close(gone, -1, 2)
        ended = rep | gone
        active &= ~ended
        last_end = np.where(ended, j, last_end)
        free = valid & ~active & (j > last_end)
        start = free & drop_ok[j] & eligible[j]
        src = np.full(g, j, np.int64)
        is_ext = np.zeros(g, bool)
        for ln in range(2, ext_l + 1):
            s = j - ln + 1
            if s < 0:
                break
            with np.errstate(invalid="ignore"):
                cand = free & ~start & (s > last_end) & eligible[s] & (run[j] >= ln)
                cand &= (base[s] - aj) >= thr[s] - _EPS
            src = np.where(cand, s, src)
            is_ext |= cand
            start |= cand
        rows = np.flatnonzero(start)
        active[rows] = True
        ext[rows] = is_ext[rows]
        onset[rows] = j
        nadir[rows] = j
        nadir_v[rows] = aj[rows]
        b_on[rows] = base[src[rows], rows]
        sd_on[rows] = sdref[src[rows], rows]
        thr_on[rows] = thr[src[rows], rows]
    close(active, -1, 3)
    return {k: np.concatenate(v) if v else np.empty(0) for k, v in out.items()}


def _statistical_events(
    stat: pd.DataFrame,
    rows: np.ndarray,
    gkeys: list[str],
    time: str,
    score: str,
    rater: str | None,
    p: RuptureParams,
    kind: str,
    k: int,
    min_history: int,
    reference_sd: object,
    min_abs_drop: float,
    rci_alpha: float,
    sd_between: float | None,
    reliability: float | None,
) -> pd.DataFrame:
    w = _to_wide(stat, gkeys, time, [score], rows)
    a = w.values
    mode, src = p.mode, p.sd_source
    mean, within, n_prior = _prior_stats(a, mode)
    base = _baseline(a, kind, k, mode, mean)
    if isinstance(reference_sd, pd.DataFrame):
        # Deferred: the public module imports this one.
        from harmonybridge.change.ruptures import pooled_within_sd

        reference_sd = pooled_within_sd(
            reference_sd,
            id=[c for c in gkeys if c in reference_sd.columns and c != rater] or gkeys,
            score=score,
            by=rater,
        )
    roles = w.keys[rater].to_numpy() if rater else None
    pooled = _reference_sd(reference_sd, roles, len(w.n_obs))
    mult = p.k_sd
    if src == "sem":
        if sd_between is None or reliability is None:
            raise DataValidationError(
                "sd_source='sem' needs sd_between and reliability"
            )
        mult = float(stats.norm.ppf(1 - rci_alpha / 2))
        sdref = np.full_like(a, np.sqrt(2.0) * sd_between * np.sqrt(1 - reliability))
    elif src == "within":
        sdref = within
    elif src == "within_else_pooled":
        # The series' own SD once it has min_sd_history earlier observed sessions,
        # else the practice's pooled reference (none: no statistical flag).
        col = (
            np.full(a.shape, np.nan)
            if pooled is None
            else np.array(np.broadcast_to(pooled[:, None], a.shape))
        )
        sdref = np.where(n_prior >= p.min_sd_history, within, col)
    else:
        if pooled is None:
            if src == "pooled":
                raise DataValidationError(
                    "sd_source='pooled' needs reference_sd (a number or a reference frame)"
                )
            warnings.warn(
                "no reference_sd given: sd_source='max' uses the within-person SD only",
                HarmonyBridgeWarning,
                stacklevel=3,
            )
            sdref = within
        else:
            col = np.broadcast_to(pooled[:, None], a.shape)
            sdref = np.array(col) if src == "pooled" else np.fmax(within, col)
    thr = np.maximum(mult * sdref, min_abs_drop)
    if kind == "person_mean_excl_t":
        eligible = np.broadcast_to((w.n_obs - 1 >= min_history)[:, None], a.shape)
    else:
        eligible = np.broadcast_to(np.arange(a.shape[1]) >= min_history, a.shape)
    if len(w.n_obs) and not (w.n_obs > min_history).any():
        warnings.warn(
            f"no series has more than min_history={min_history} observed sessions: no statistical ruptures can be found",
            HarmonyBridgeWarning,
            stacklevel=3,
        )
    r = _scan(a, base, sdref, thr, eligible, w.n_obs, p)
    gi = r["g"].astype(np.int64)
    return _assemble(
        w,
        gi,
        r["on"],
        r["na"],
        r["rep"],
        r["ty"],
        r["b"],
        r["thr"],
        r["b"] - r["nv"],
        r["sd"],
        "statistical",
    )
