"""Alliance rupture–repair detection from session-by-session alliance scores."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from harmonybridge import schema
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

__all__ = [
    "RUPTURE_SUBSCALES",
    "detect_ruptures",
    "pooled_within_sd",
    "rupture_summary",
]

#: Derived subscale names carrying the self-reported rupture items (contracts.md).
RUPTURE_SUBSCALES: tuple[str, ...] = (
    "rupture_present",
    "rupture_intensity",
    "rupture_resolution",
)

_PRESETS: dict[str, dict[str, object]] = {
    # Stiles et al. (2004): retrospective, person mean, within-person SD, 2 SD.
    "stiles_like": {
        "mode": "retrospective",
        "baseline": "person_mean_excl_t",
        "sd_source": "within",
        "k_sd": 2.0,
    },
    # Strauss et al. (2006): as Stiles but the less strict 1 SD drop.
    "strauss_like": {
        "mode": "retrospective",
        "baseline": "person_mean_excl_t",
        "sd_source": "within",
        "k_sd": 1.0,
    },
}
_DEFAULTS: dict[str, object] = {
    "mode": "prospective",
    "baseline": "rolling_mean",
    "sd_source": "max",
    "k_sd": 2.0,
}
_BASELINES = ("rolling_mean", "person_mean_excl_t", "previous_session")
_SD_SOURCES = ("within", "pooled", "max", "sem")
#: Slack for floating-point rounding in threshold and repair comparisons (item
#: means such as (4 + 4.2 + 4.1) / 3 are not exact in binary).
_EPS = 1e-9
_TYPES = np.array(["V", "extended", "unrepaired", "censored"], dtype=object)

EVENT_COLUMNS: tuple[str, ...] = (
    "rater",
    "source",
    "onset_session",
    "nadir_session",
    "baseline",
    "threshold",
    "depth",
    "depth_sd",
    "repair_session",
    "type",
)


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


def pooled_within_sd(
    reference: pd.DataFrame,
    *,
    id: str | Sequence[str] = schema.SERIES_KEY,
    score: str = schema.SCORE,
    by: str | None = None,
) -> float | dict[object, float]:
    """Return the pooled within-series SD of a reference set of scores.

    Parameters
    ----------
    reference : pandas.DataFrame
        Long frame of a reference set fixed in advance (e.g. the practice's
        history before today), never the frame being screened.
    id : str or list of str
        Series key (default: the canonical series key).
    score : str
        Score column.
    by : str, optional
        Column to pool separately by (e.g. ``"rater_role"``); then a dict
        ``{value: sd}`` is returned.

    Returns
    -------
    float or dict
        ``sqrt(sum_i (n_i - 1) s_i^2 / sum_i (n_i - 1))`` over series with at
        least two scores; NaN when no series has two scores.

    References
    ----------
    Gumz, A., Brähler, E., Geyer, M., & Erices, R. (2012). Crisis-repair
    sequences — considerations on the assessment and classification of
    breaches in the therapeutic relationship. BMC Medical Research
    Methodology, 12, 10. Reference test:
    ``tests/core/test_ruptures.py::test_pooled_within_sd_by_hand``.
    """
    keys = schema.as_key_list(id)
    need = [*keys, score] + ([by] if by else [])
    schema.validate_long(reference, required=need, numeric=[score], name="reference")
    d = reference[need].dropna(subset=[score])
    group_keys = keys + ([by] if by and by not in keys else [])
    g = d.groupby(group_keys, dropna=False, sort=False)[score]
    per = pd.DataFrame({"n": g.count(), "var": g.var(ddof=1)}).reset_index()
    per = per[per["n"] >= 2]
    per["ss"] = (per["n"] - 1) * per["var"]
    per["df"] = per["n"] - 1

    def _pool(p: pd.DataFrame) -> float:
        df = p["df"].sum()
        return float(np.sqrt(p["ss"].sum() / df)) if df > 0 else float("nan")

    if by is None:
        return _pool(per)
    return {k: _pool(p) for k, p in per.groupby(by, sort=True)}


def _resolve(preset: str | None, given: dict[str, object]) -> dict[str, object]:
    if preset is not None and preset not in _PRESETS:
        raise DataValidationError(
            f"preset must be None, 'stiles_like' or 'strauss_like', got {preset!r}"
        )
    out = dict(_DEFAULTS)
    out.update(_PRESETS.get(preset or "", {}))
    out.update({k: v for k, v in given.items() if v is not None})
    return out


def _parse_baseline(baseline: object, baseline_k: int) -> tuple[str, int]:
    m = re.fullmatch(r"rolling_mean\((?:k=)?(\d+)\)", str(baseline))
    if m:
        return "rolling_mean", int(m.group(1))
    if baseline not in _BASELINES:
        raise DataValidationError(
            f"baseline must be one of {', '.join(_BASELINES)} or 'rolling_mean(k)', "
            f"got {baseline!r}"
        )
    return str(baseline), baseline_k


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
    p: dict[str, object],
) -> dict[str, np.ndarray]:
    """Step through positions (not series) as a state machine over all series at once."""
    g, t = a.shape
    window, ext_l = int(p["repair_window"]), int(p["extended_window"])  # type: ignore[call-overload]
    tol = float(p["repair_tolerance"])  # type: ignore[arg-type]
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


def _self_report_events(
    d: pd.DataFrame,
    gkeys: list[str],
    time: str,
    score: str,
    subscale: str,
    p: dict[str, object],
) -> pd.DataFrame:
    """Events from the rupture question: one per session reporting tension."""
    wide_rows = (
        d.set_index([*gkeys, time, subscale])[score]
        .unstack(subscale)
        .reindex(columns=list(RUPTURE_SUBSCALES))
        .reset_index()
    )
    w = _to_wide(wide_rows, gkeys, time, list(RUPTURE_SUBSCALES))
    pres, inten, res = w.values
    tmin = float(p["self_report_tension_min"])  # type: ignore[arg-type]
    rmin = float(p["self_report_resolved_min"])  # type: ignore[arg-type]
    window = int(p["repair_window"])  # type: ignore[call-overload]
    with np.errstate(invalid="ignore"):
        tension = ((pres == 1) & (np.isnan(inten) | (inten >= tmin))) | (
            np.isnan(pres) & (inten >= tmin)
        )
        calm = pres == 0
        resolved = res >= rmin
    t_ = tension.shape[1]
    found = np.where(resolved, 0, -1)
    for step in range(window, 0, -1):  # the smallest step wins
        shifted = np.zeros_like(calm)
        if step < t_:
            shifted[:, :-step] = calm[:, step:]
        found = np.where((found != 0) & shifted, step, found)
    gi, ji = np.nonzero(tension)
    steps = found[gi, ji]
    rep_pos = np.where(steps >= 0, ji + steps, -1)
    ty = np.where(steps == 0, 0, np.where(steps == 1, 0, np.where(steps > 1, 1, -1)))
    elapsed = ji + window < w.n_obs[gi]
    ty = np.where(ty >= 0, ty, np.where(elapsed, 2, 3))
    nan = np.full(len(gi), np.nan)
    return _assemble(w, gi, ji, ji, rep_pos, ty, nan, nan, nan, nan, "report")


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
    return out.assign(**cols)


def detect_ruptures(
    data: pd.DataFrame,
    *,
    id: str | Sequence[str] = schema.SERIES_KEY,
    time: str = schema.SESSION,
    score: str = schema.SCORE,
    rater: str | None = schema.RATER_ROLE,
    subscale: str = schema.SUBSCALE,
    mode: str | None = None,
    preset: str | None = None,
    baseline: str | None = None,
    baseline_k: int = 3,
    min_history: int = 3,
    sd_source: str | None = None,
    reference_sd: float | Mapping[object, float] | pd.DataFrame | None = None,
    k_sd: float | None = None,
    min_abs_drop: float = 0.25,
    rci_alpha: float = 0.05,
    sd_between: float | None = None,
    reliability: float | None = None,
    extended_window: int = 3,
    repair_window: int = 3,
    repair_tolerance: float = 0.0,
    self_report: bool = True,
    self_report_tension_min: float = 2,
    self_report_resolved_min: float = 4,
) -> pd.DataFrame:
    """Find alliance ruptures and their repair in session-by-session scores.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical long score frame of alliance scores (higher = better, in the
        item-mean metric). Rows whose ``subscale`` is one of
        :data:`RUPTURE_SUBSCALES` are the self-reported rupture items and form
        their own source; every other row is a score screened statistically.
        Missing scores are skipped (positions count observed sessions).
    id : str or list of str
        Series key (default: the canonical series key). The rater column is
        always added to it, so client and practitioner streams stay separate.
    time, score, rater, subscale : str
        Column names. ``rater=None`` when there is no rater column.
    mode : {"prospective", "retrospective"}
        Prospective (default) uses only sessions up to the one being judged;
        retrospective may use all of the series (research).
    preset : {None, "stiles_like", "strauss_like"}
        Retrospective, person mean excluding t, within-person SD and 2 SD
        (Stiles et al. 2004) or 1 SD (Strauss et al. 2006). Arguments given
        explicitly override the preset.
    baseline : {"rolling_mean", "person_mean_excl_t", "previous_session"}
        ``rolling_mean`` (default) is the mean of the previous ``baseline_k``
        observed scores; ``"rolling_mean(5)"`` is accepted too.
        ``person_mean_excl_t`` needs retrospective mode.
    baseline_k : int
        Window of the rolling-mean baseline (3).
    min_history : int
        Earlier observed sessions required before a statistical flag (3); in
        retrospective person-mean mode, other observed sessions.
    sd_source : {"within", "pooled", "max", "sem"}
        ``within`` the series' own SD (prior sessions, or all other sessions
        retrospectively), ``pooled`` the reference SD, ``max`` (default) the
        stricter of both (Gumz et al. 2012), ``sem`` the reliable-change
        criterion ``z·√2·SEM`` with ``SEM = sd_between·√(1 − reliability)``.
    reference_sd : float, mapping or DataFrame, optional
        Pooled within-person SD of a reference set fixed in advance: a number,
        ``{rater role: sd}``, or a reference frame passed to
        :func:`pooled_within_sd` (by rater). Never computed from ``data``.
    k_sd : float
        Drop threshold in SD units (2.0; 1.0 for ``strauss_like``).
    min_abs_drop : float
        Smallest raw drop that can count (0.25 item-mean points), so that a
        tiny dip in flat top scores (ceiling) is never a rupture.
    rci_alpha, sd_between, reliability : float
        For ``sd_source="sem"`` (two-sided z of ``rci_alpha``).
    extended_window : int
        A non-increasing decline over at most this many sessions also counts
        (3; 1 switches the extension off).
    repair_window : int
        Observed sessions after the nadir within which repair is searched (3).
    repair_tolerance : float
        Repair when the score is at least ``baseline − tolerance·SD_ref`` (0).
    self_report : bool
        Whether to report self-reported ruptures (True).
    self_report_tension_min, self_report_resolved_min : float
        Tension rating (2 on 1–5) that counts as a rupture, resolution rating
        (4 on 1–5) that counts as resolved in the session.

    Returns
    -------
    pandas.DataFrame
        One row per event: the series key columns, the rater column, ``rater``,
        ``source`` (``statistical``, ``client_report``, ``practitioner_report``),
        ``onset_session``, ``nadir_session``, ``baseline``, ``threshold``,
        ``depth`` (baseline − nadir score), ``depth_sd``, ``repair_session``
        (missing if none) and ``type`` (``V``, ``extended``, ``unrepaired``,
        ``censored``), sorted by key, rater, source and onset.

    Raises
    ------
    DataValidationError
        Missing or non-numeric columns, duplicate rows of the key and session,
        an unknown preset/baseline/sd_source, or missing reference values.

    Notes
    -----
    Onset is the session at which the criterion is first met:
    ``base_t − A_t ≥ max(k_sd·SD_ref, min_abs_drop)``, or (extended) a
    non-increasing run ``A_{s−1} ≥ A_s ≥ … ≥ A_t`` of at most
    ``extended_window`` sessions with ``base_s − A_t ≥ threshold_s`` (the
    baseline and threshold are then those of the run's first session ``s``).
    In prospective mode every quantity for session ``t`` is computed from
    sessions ``≤ t`` and the scan moves forward, so events detected by ``t``
    never change when later sessions are added. Repair is the first session in
    ``(nadir, nadir + repair_window]`` reaching the repair level; a new low
    moves the nadir. ``V`` = one-session dip repaired the next session;
    ``extended`` = any other repair; ``unrepaired`` = window elapsed;
    ``censored`` = series ended inside the window. A self-reported rupture is
    one session reporting tension (yes, with intensity missing or at least
    ``self_report_tension_min``); it is repaired in that session when the
    resolution rating reaches ``self_report_resolved_min`` (type ``V``, repair
    session = onset), else at the first later session in the window reporting
    no tension. Its baseline, threshold and depth are missing, and the
    subscale key (if any) is ``""``.

    References
    ----------
    Stiles, W. B., et al. (2004). Patterns of alliance development and the
    rupture-repair hypothesis. Journal of Counseling Psychology, 51(1), 81–92.
    Strauss, J. L., et al. (2006). Early alliance, alliance ruptures, and
    symptom change in a nonrandomized trial of cognitive therapy for avoidant
    and obsessive-compulsive personality disorders. Journal of Consulting and
    Clinical Psychology, 74(2), 337–345.
    Gumz, A., Brähler, E., Geyer, M., & Erices, R. (2012). BMC Medical
    Research Methodology, 12, 10.
    Reference tests: ``tests/core/test_ruptures.py``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame(
    ...     {"client_id": "a", "rater_role": "client", "session": [1, 2, 3, 4, 5],
    ...      "score": [4.0, 4.2, 4.1, 3.0, 4.1]}
    ... )
    >>> ev = detect_ruptures(df, id="client_id", reference_sd=0.3)
    >>> ev[["onset_session", "repair_session", "type"]].astype(object).to_dict("records")
    [{'onset_session': 4, 'repair_session': 5, 'type': 'V'}]
    """
    keys = schema.as_key_list(id)
    p = _resolve(
        preset,
        {"mode": mode, "baseline": baseline, "sd_source": sd_source, "k_sd": k_sd},
    )
    p.update(
        repair_window=repair_window,
        extended_window=extended_window,
        repair_tolerance=repair_tolerance,
        self_report_tension_min=self_report_tension_min,
        self_report_resolved_min=self_report_resolved_min,
    )
    _check_options(
        p, min_history, baseline_k, min_abs_drop, extended_window, repair_window
    )
    kind, k = _parse_baseline(p["baseline"], baseline_k)
    if p["mode"] == "prospective" and kind == "person_mean_excl_t":
        raise DataValidationError(
            "baseline 'person_mean_excl_t' uses later sessions; use mode='retrospective'"
        )
    gkeys = keys + ([rater] if rater and rater not in keys else [])
    has_sub = subscale in data.columns
    unique = list(dict.fromkeys([*gkeys, time] + ([subscale] if has_sub else [])))
    schema.validate_long(
        data,
        required=[*unique, score],
        numeric=[time, score],
        name="data",
    )
    gcodes = _key_codes(data, gkeys)
    check_unique(data, unique, codes=_key_codes(data, unique[len(gkeys) :], gcodes))
    required = [*unique, score]
    d = data[list(dict.fromkeys(required))].assign(_g=gcodes)
    is_sr = (
        d[subscale].isin(RUPTURE_SUBSCALES).to_numpy()
        if has_sub
        else np.zeros(len(d), bool)
    )
    stat_rows = np.flatnonzero(~is_sr & d[score].notna().to_numpy())
    n_empty = 0
    if len(stat_rows) < int((~is_sr).sum()):  # some missing scores: any empty series?
        no_score = gcodes[~is_sr & d[score].isna().to_numpy()]
        n_empty = len(np.setdiff1d(no_score, gcodes[stat_rows]))
    if n_empty:
        warnings.warn(
            f"{n_empty} series have no non-missing {score!r} values and cannot be screened",
            HarmonyBridgeWarning,
            stacklevel=2,
        )
    parts = [
        _statistical_events(
            d,
            stat_rows,
            gkeys,
            time,
            score,
            rater,
            p,
            kind,
            k,
            min_history,
            reference_sd,
            min_abs_drop,
            rci_alpha,
            sd_between,
            reliability,
        )
    ]
    if self_report and is_sr.any():
        sr = d.loc[is_sr].dropna(subset=[score]).drop(columns="_g")
        sr_keys = [c for c in gkeys if c != subscale]
        ev = _self_report_events(sr, sr_keys, time, score, subscale, p)
        if subscale in gkeys:
            ev[subscale] = ""
        role = ev[rater].astype(str) if rater else pd.Series("self", index=ev.index)
        ev["source"] = role + "_report"
        parts.append(ev)
    return _finish(parts, gkeys, rater, data[time])


def _check_options(
    p: dict[str, object],
    min_history: int,
    baseline_k: int,
    min_abs_drop: float,
    extended_window: int,
    repair_window: int,
) -> None:
    if p["mode"] not in ("prospective", "retrospective"):
        raise DataValidationError(
            f"mode must be 'prospective' or 'retrospective', got {p['mode']!r}"
        )
    if p["sd_source"] not in _SD_SOURCES:
        raise DataValidationError(
            f"sd_source must be one of {', '.join(_SD_SOURCES)}, got {p['sd_source']!r}"
        )
    for name, v, lo in (
        ("min_history", min_history, 1),
        ("baseline_k", baseline_k, 1),
        ("extended_window", extended_window, 1),
        ("repair_window", repair_window, 1),
    ):
        if int(v) != v or v < lo:
            raise DataValidationError(f"{name} must be an integer ≥ {lo}, got {v!r}")
    if not float(p["k_sd"]) > 0 or min_abs_drop < 0:  # type: ignore[arg-type]
        raise DataValidationError("k_sd must be > 0 and min_abs_drop ≥ 0")


def _statistical_events(
    stat: pd.DataFrame,
    rows: np.ndarray,
    gkeys: list[str],
    time: str,
    score: str,
    rater: str | None,
    p: dict[str, object],
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
    mode, src = str(p["mode"]), str(p["sd_source"])
    mean, within, _ = _prior_stats(a, mode)
    base = _baseline(a, kind, k, mode, mean)
    if isinstance(reference_sd, pd.DataFrame):
        reference_sd = pooled_within_sd(
            reference_sd,
            id=[c for c in gkeys if c in reference_sd.columns and c != rater] or gkeys,
            score=score,
            by=rater,
        )
    roles = w.keys[rater].to_numpy() if rater else None
    pooled = _reference_sd(reference_sd, roles, len(w.n_obs))
    mult = float(p["k_sd"])  # type: ignore[arg-type]
    if src == "sem":
        if sd_between is None or reliability is None:
            raise DataValidationError(
                "sd_source='sem' needs sd_between and reliability"
            )
        mult = float(stats.norm.ppf(1 - rci_alpha / 2))
        sdref = np.full_like(a, np.sqrt(2.0) * sd_between * np.sqrt(1 - reliability))
    elif src == "within":
        sdref = within
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


def _finish(
    parts: list[pd.DataFrame], gkeys: list[str], rater: str | None, tcol: pd.Series
) -> pd.DataFrame:
    ev = pd.concat([x for x in parts if len(x)] or parts[:1], ignore_index=True)
    ev["rater"] = ev[rater] if rater else pd.NA
    ev["source"] = ev["source"].astype(str)
    ev["type"] = ev["type"].astype(str)
    ev = ev.sort_values([*gkeys, "source", "onset_session"], kind="stable").reset_index(
        drop=True
    )
    if pd.api.types.is_integer_dtype(tcol):
        for c in ("onset_session", "nadir_session", "repair_session"):
            ev[c] = ev[c].astype("Int64")
    cols = list(dict.fromkeys([*gkeys, *EVENT_COLUMNS]))
    return ev[cols]


def rupture_summary(
    events: pd.DataFrame,
    *,
    id: str | Sequence[str] = schema.SERIES_KEY,
    rater: str | None = schema.RATER_ROLE,
) -> pd.DataFrame:
    """Summarise rupture events per series, rater and source (§2.3.2 step 6).

    Parameters
    ----------
    events : pandas.DataFrame
        The output of :func:`detect_ruptures`.
    id : str or list of str
        The series key used for detection.
    rater : str or None
        The rater column used for detection.

    Returns
    -------
    pandas.DataFrame
        One row per series, rater and source with at least one event:
        ``n_ruptures``, ``n_v``, ``n_extended``, ``n_unrepaired``,
        ``n_censored``, ``n_repaired`` (V + extended) and
        ``proportion_repaired`` = repaired / (repaired + unrepaired), missing
        when every event is censored. Series without events have no row.

    References
    ----------
    Eubanks, C. F., Muran, J. C., & Safran, J. D. (2018). Alliance rupture
    repair: a meta-analysis. Psychotherapy, 55(4), 508–519. Reference test:
    ``tests/core/test_ruptures.py::test_rupture_summary_by_hand``.
    """
    keys = schema.as_key_list(id)
    group = list(dict.fromkeys([*keys] + ([rater] if rater else []) + ["source"]))
    schema.validate_long(events, required=[*group, "type"], name="events")
    counts = pd.crosstab([events[c] for c in group], events["type"]).reindex(
        columns=list(_TYPES), fill_value=0
    )
    out = pd.DataFrame(
        {
            "n_ruptures": counts.sum(axis=1),
            "n_v": counts["V"],
            "n_extended": counts["extended"],
            "n_unrepaired": counts["unrepaired"],
            "n_censored": counts["censored"],
        }
    )
    out["n_repaired"] = out["n_v"] + out["n_extended"]
    decided = (out["n_repaired"] + out["n_unrepaired"]).astype(float)
    out["proportion_repaired"] = out["n_repaired"] / decided.where(decided > 0)
    return out.reset_index()
