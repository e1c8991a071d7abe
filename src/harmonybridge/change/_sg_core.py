"""Vectorised sudden-gain criteria on a wide (series x session grid) score matrix."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SUDDENGAINS = "suddengains"
TANG_DERUBEIS = "tang-derubeis"
ENGINES = (TANG_DERUBEIS, SUDDENGAINS)


@dataclass(frozen=True)
class Params:
    """Resolved options of one sudden-gains run (validated by the public functions)."""

    cutoff: float | None
    pct: float | None
    crit3: bool
    alpha: float
    adjust: bool
    critical_value: float
    losses: bool
    engine: str
    higher_is_better: bool
    first_is_baseline: bool

    @property
    def sign(self) -> float:
        """+1 when the event is a fall of the raw score, -1 when it is a rise.

        In the ``suddengains`` engine scores are taken as they are: gains are falls and
        losses rises. In the ``tang-derubeis`` engine the direction of the scale decides.
        """
        if self.engine == SUDDENGAINS:
            return -1.0 if self.losses else 1.0
        improvement_is_fall = not self.higher_is_better
        return 1.0 if improvement_is_fall != self.losses else -1.0


@dataclass(frozen=True)
class Criteria:
    """Per-interval results, each of shape (n_series, N - 3); NaN = missing.

    Interval ``k`` has its pre-gain score at grid position ``k + 1`` and its post-gain score at
    ``k + 2`` (0-based), i.e. the R package's column ``j = k + 3`` (1-based).
    """

    crit1: np.ndarray | None
    crit2: np.ndarray | None
    crit3: np.ndarray | None
    df: np.ndarray
    critical_value: np.ndarray
    mean_diff: np.ndarray
    threshold: np.ndarray
    result: np.ndarray


def _as_float(cond: np.ndarray, known: np.ndarray) -> np.ndarray:
    return np.where(known, cond.astype("float64"), np.nan)


def _window_stats(padded: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Count, mean and sum of squared deviations of every 3-wide window, ignoring NaN.

    Window ``w`` covers columns ``w .. w+2`` of ``padded``; computed from three shifted 2-D
    slices (contiguous arithmetic, two-pass deviations as R's ``sd``).
    """
    width = padded.shape[1] - 2
    valid = ~np.isnan(padded)
    filled = np.where(valid, padded, 0.0)
    parts = [slice(i, i + width) for i in range(3)]
    n = valid[:, parts[0]].astype("int64") + valid[:, parts[1]] + valid[:, parts[2]]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (filled[:, parts[0]] + filled[:, parts[1]] + filled[:, parts[2]]) / n
    ss = np.zeros_like(mean)
    for part in parts:
        dev = np.where(valid[:, part], filled[:, part] - mean, 0.0)
        ss += dev * dev
    return n, mean, ss


def _h3(phi: float) -> float:
    """``phi - sin(phi) cos(phi)`` without cancellation for small ``phi`` (its series)."""
    if phi >= 1.0:
        return phi - math.sin(phi) * math.cos(phi)
    total, term, square = 0.0, phi, phi * phi
    for k in range(1, 40):  # sum over k >= 1 of (-1)^(k+1) 4^k phi^(2k+1) / (2k+1)!
        term *= 4.0 * square / ((2 * k) * (2 * k + 1))
        total += term if k % 2 else -term
        if term < 1e-18 * total:
            break
    return total


def t_upper(alpha: float, df: int) -> float:
    """Two-tailed Student t critical value ``t(1 - alpha/2, df)`` for df 2, 3 and 4.

    Closed forms for df 2 and 4 (Shaw 2006, J. Computational Finance 9(4), 37-73); df 3
    inverts its closed-form distribution function (Abramowitz & Stegun 26.7.3:
    ``A(t|3) = 2/pi (theta + sin theta cos theta)``, ``theta = atan(t / sqrt 3)``) by Newton's
    method in ``phi = pi/2 - theta``, which converges monotonically from ``pi/2``. Equals
    ``scipy.stats.t.ppf(1 - alpha/2, df)`` to 1e-13 (tested) without importing scipy, which
    would double the start-up of ``harmonybridge sudden-gains``.
    """
    if df == 2:
        return (1.0 - alpha) / math.sqrt(alpha * (1.0 - alpha / 2.0))
    if df == 4:
        root = math.sqrt(alpha * (2.0 - alpha))  # sqrt(4 p (1 - p)), p = 1 - alpha/2
        return 2.0 * math.sqrt(math.cos(math.acos(root) / 3.0) / root - 1.0)
    if df != 3:
        raise ValueError(f"t_upper covers df 2, 3 and 4, got {df}")
    target, phi = math.pi / 2.0 * alpha, math.pi / 2.0
    for _ in range(200):  # h3 is convex and rising: Newton from the right only descends
        step = phi - (_h3(phi) - target) / (2.0 * math.sin(phi) ** 2)
        if not step < phi:
            break
        phi = step
    return math.sqrt(3.0) / math.tan(phi)


def _critical_values(p: Params, df: np.ndarray) -> np.ndarray:
    if not p.adjust:
        return np.full(df.shape, p.critical_value, dtype="float64")
    table = np.full(5, np.nan)
    table[2:] = [t_upper(p.alpha, k) for k in (2, 3, 4)]
    result: np.ndarray = table[np.clip(df, 0, 4)]
    return result


def _crit3_windows(
    pre: tuple[np.ndarray, ...], post: tuple[np.ndarray, ...], p: Params
) -> tuple[np.ndarray, ...]:
    """Criterion 3 from the (count, mean, squared deviations) of the windows either side."""
    n_pre, m_pre, ss_pre = pre
    n_post, m_post, ss_post = post
    enough = (n_pre >= 2) & (n_post >= 2)
    df = np.where(enough, n_pre + n_post - 2, 0)
    crit = np.where(enough, _critical_values(p, df), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        s_pooled = np.sqrt((ss_pre + ss_post) / df)
    diff = p.sign * (m_pre - m_post)
    threshold = crit * s_pooled
    with np.errstate(invalid="ignore"):
        met = _as_float(diff > threshold, enough)
    return (
        met,
        np.where(enough, df, -1),
        crit,
        np.where(enough, diff, np.nan),
        threshold,
    )


def _crit3(x: np.ndarray, p: Params) -> tuple[np.ndarray, ...]:
    """Criterion 3 with up to three scores either side (Lutz et al. 2013 df adjustment)."""
    n_grid = x.shape[1]
    padded = np.pad(x, ((0, 0), (1, 1)), constant_values=np.nan)
    n_win, m_win, ss_win = _window_stats(padded)  # window w covers grid w-1 .. w+1
    pre, post = slice(0, n_grid - 3), slice(3, n_grid)
    return _crit3_windows(
        (n_win[:, pre], m_win[:, pre], ss_win[:, pre]),
        (n_win[:, post], m_win[:, post], ss_win[:, post]),
        p,
    )


def _crit3_at(x: np.ndarray, rows: np.ndarray, k: np.ndarray, p: Params) -> np.ndarray:
    """Criterion 3 of interval ``k`` of series ``rows`` only, as :func:`_crit3` finds it.

    Gathers the six grid positions ``k - 1 .. k + 4`` of each interval (missing outside the
    grid, as :func:`_crit3`'s padding) and runs the same window arithmetic on them, so
    each value is the one the whole-grid computation gives, bit for bit.
    """
    cols = k[:, None] + np.arange(-1, 5)
    inside = (cols >= 0) & (cols < x.shape[1])
    six = np.where(inside, x[rows[:, None], np.clip(cols, 0, x.shape[1] - 1)], np.nan)
    n_win, m_win, ss_win = _window_stats(six)  # windows 0 (pre) .. 3 (post)
    met: np.ndarray = _crit3_windows(
        (n_win[:, 0], m_win[:, 0], ss_win[:, 0]),
        (n_win[:, 3], m_win[:, 3], ss_win[:, 3]),
        p,
    )[0]
    return met


def _crit12(x: np.ndarray, p: Params) -> list[np.ndarray]:
    """Criteria 1 and 2 (those enabled, in that order) of every tested interval."""
    n_grid = x.shape[1]
    pre, post = x[:, 1 : n_grid - 2], x[:, 2 : n_grid - 1]
    known = ~(np.isnan(pre) | np.isnan(post))
    change = p.sign * (pre - post)  # positive = in the direction of the event
    with np.errstate(invalid="ignore"):
        if p.engine == SUDDENGAINS and p.losses:
            # identify_sl: pre - post <= cutoff and (quirk) pre - post <= pct * pre
            c1 = None if p.cutoff is None else _as_float(pre - post <= p.cutoff, known)
            c2 = None if p.pct is None else _as_float(pre - post <= p.pct * pre, known)
        else:
            c1 = None if p.cutoff is None else _as_float(change >= p.cutoff, known)
            c2 = None if p.pct is None else _as_float(change >= p.pct * pre, known)
    return [c for c in (c1, c2) if c is not None]


def _combine(enabled: list[np.ndarray], p: Params) -> np.ndarray:
    """One interval result from the enabled criteria, as the engine combines them."""
    stacked = np.stack(enabled)
    any_missing = np.isnan(stacked).any(axis=0)
    if p.engine == SUDDENGAINS:
        # R multiplies the criteria: any NA gives NA, even next to a FALSE
        result: np.ndarray = np.where(any_missing, np.nan, np.prod(stacked, axis=0))
        return result
    # three-valued AND: a criterion known to fail decides the interval
    any_false = (stacked == 0).any(axis=0)
    return np.where(any_false, 0.0, np.where(any_missing, np.nan, 1.0))


def evaluate(x: np.ndarray, p: Params) -> Criteria:
    """Apply the enabled criteria to every tested interval of every series."""
    n_grid = x.shape[1]
    first = _crit12(x, p)
    c1 = first.pop(0) if p.cutoff is not None else None
    c2 = first.pop(0) if p.pct is not None else None
    if p.crit3:
        c3, df, crit, diff, threshold = _crit3(x, p)
    else:
        c3 = None
        nan = np.full((x.shape[0], n_grid - 3), np.nan)
        df, crit, diff, threshold = np.full(nan.shape, -1), nan, nan, nan
    enabled = [c for c in (c1, c2, c3) if c is not None]
    return Criteria(c1, c2, c3, df, crit, diff, threshold, _combine(enabled, p))


def gain_positions(x: np.ndarray, p: Params) -> tuple[np.ndarray, np.ndarray]:
    """(series, interval) of every interval whose result is 1, in row-major order.

    The same as ``np.nonzero(evaluate(x, p).result == 1)`` at a fraction of the cost: an
    interval is a gain in both engines exactly when every enabled criterion is met, so
    criterion 3 (the window statistics, most of the work) is computed only where criteria
    1 and 2 are met. The comparisons are :func:`_crit12`'s, on the same numbers (a missing
    score fails them, as it leaves the criterion missing there); a property test checks
    the equality.
    """
    n_grid = x.shape[1]
    pre, post = x[:, 1 : n_grid - 2], x[:, 2 : n_grid - 1]
    met: list[np.ndarray] = []
    with np.errstate(invalid="ignore"):
        if p.engine == SUDDENGAINS and p.losses:
            if p.cutoff is not None:
                met.append(pre - post <= p.cutoff)
            if p.pct is not None:
                met.append(pre - post <= p.pct * pre)
        else:
            change = p.sign * (pre - post)
            if p.cutoff is not None:
                met.append(change >= p.cutoff)
            if p.pct is not None:
                met.append(change >= p.pct * pre)
    if met:
        rows, k = np.nonzero(np.logical_and.reduce(met))
    else:  # criterion 3 alone
        rows, k = np.nonzero(np.ones(pre.shape, dtype=bool))
    if p.crit3:
        keep = _crit3_at(x, rows, k, p) == 1
        rows, k = rows[keep], k[keep]
    return rows, k


def magnitude_and_proportion(
    raw: np.ndarray, tx_change: np.ndarray, p: Params
) -> tuple[np.ndarray, np.ndarray]:
    """Magnitude and share of the change over treatment, from ``raw = pre - post``.

    ``suddengains``: magnitude = pre - post (negative for losses); proportion = magnitude
    (losses: its absolute value) / tx_change with only -Inf made missing (+Inf and NaN stay).
    ``tang-derubeis``: magnitude is the positive size in the event's direction; proportion =
    magnitude / change over treatment in that direction, non-finite values made missing.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        if p.engine == SUDDENGAINS:
            top = np.abs(raw) if p.losses else raw
            proportion = top / tx_change
            proportion[np.isneginf(proportion)] = np.nan
            return raw, proportion
        magnitude = p.sign * raw
        proportion = magnitude / (p.sign * tx_change)
        proportion[~np.isfinite(proportion)] = np.nan
        return magnitude, proportion


def reversal_start(p: Params) -> int:
    """Offset after the pre-gain position where the reversal scan starts."""
    if p.engine == SUDDENGAINS and not p.first_is_baseline:
        return 3  # R renumbers from 0: p - sg_session_n >= 2 skips session n+2 (quirk)
    return 2


def reversals(
    x_rows: np.ndarray, pos: np.ndarray, value: np.ndarray, p: Params
) -> np.ndarray:
    """1 when a later score is back at ``value`` (half the gain lost) or beyond.

    Tang & DeRubeis (1999) count a reversal when 50 % *or more* of the gain is lost
    (``>=``, the ``tang-derubeis`` engine); the R package suddengains 0.7.2 uses
    ``>`` and its engine keeps that for compatibility.
    """
    n_grid = x_rows.shape[1]
    z = p.sign * x_rows
    # suffix maximum ignoring NaN; one extra all-NaN column for scans past the end
    padded = np.concatenate([z, np.full((len(z), 1), np.nan)], axis=1)
    suffix = np.fmax.accumulate(padded[:, ::-1], axis=1)[:, ::-1]
    start = np.minimum(pos + reversal_start(p), n_grid)
    best = suffix[np.arange(len(z)), start]
    with np.errstate(invalid="ignore"):
        if p.engine == SUDDENGAINS:
            return np.asarray((best > p.sign * value).astype("int64"))
        return np.asarray((best >= p.sign * value - 1e-9).astype("int64"))
