"""Alliance–outcome analyses on the one-row-per-unit-×-session frame of ``by_session``.

Every function states n (units, practitioners, sessions) beside each figure.  Reference
tests: ``tests/core/test_alliance_outcomes.py`` (R output from
``tests/core/reference/alliance/analyses_lme4.R`` and hand calculations).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from harmonybridge import schema
from harmonybridge.alliance import _mixed
from harmonybridge.alliance.frames import ALLIANCE_COLUMNS
from harmonybridge.alliance.growth import GrowthFit, fit_growth
from harmonybridge.errors import DataValidationError

__all__ = [
    "ENDOGENEITY_CAVEAT",
    "FLUCKIGER_2018",
    "IccResult",
    "LaggedResult",
    "agreement",
    "association",
    "lagged_model",
    "practitioner_icc",
    "response_surface",
]

_U, _P, _S = schema.ENGAGEMENT_ID, schema.PRACTITIONER_ID, schema.SESSION

#: Meta-analytic alliance–outcome correlation: Flückiger, C., Del Re, A. C., Wampold,
#: B. E., & Horvath, A. O. (2018). The alliance in adult psychotherapy: A meta-analytic
#: synthesis. Psychotherapy, 55(4), 316–340 (r = .278, 95 % CI [.256, .299], k = 295).
FLUCKIGER_2018 = (0.278, 0.256, 0.299)

ENDOGENEITY_CAVEAT = (
    "Observational data: the within-client coefficient says that sessions with a better "
    "alliance than the client's own average were followed by better outcomes, after "
    "the outcome at that session; it is not proof that the alliance caused the change "
    "(earlier improvement, unmeasured events or the practitioner can drive both)."
)


def _need(wide: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    if not isinstance(wide, pd.DataFrame):
        raise DataValidationError(f"{what}: expected a DataFrame from by_session()")
    missing = [c for c in cols if c not in wide.columns]
    if missing:
        raise DataValidationError(
            f"{what}: column(s) {missing} missing (columns present: {list(wide.columns)})"
        )


def fisher_ci(r: float, n: int, level: float = 0.95) -> tuple[float, float]:
    """Confidence interval of a Pearson r by Fisher's z, SE 1/√(n − 3) (as R's cor.test)."""
    if n < 4 or not np.isfinite(r):
        return (np.nan, np.nan)
    if abs(r) >= 1:
        return (r, r)
    z = np.arctanh(r)
    half = stats.norm.ppf(0.5 + level / 2) / np.sqrt(n - 3)
    return (float(np.tanh(z - half)), float(np.tanh(z + half)))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return np.nan
    return float(np.corrcoef(x, y)[0, 1])


def association(
    wide: pd.DataFrame,
    *,
    outcome: str,
    alliance: Sequence[str] = ALLIANCE_COLUMNS,
    unit: str = _U,
    practitioner: str = _P,
    early: int = 3,
    level: float = 0.95,
) -> pd.DataFrame:
    """Early alliance (mean over sessions 1..``early``) against final outcome and change.

    Per unit: ``early`` alliance = mean of the alliance column over sessions ≤ ``early``;
    final outcome = the outcome at the unit's last session with one; change = final −
    first outcome (units with outcomes at two different sessions).  r with a Fisher-z CI,
    r², beside Flückiger et al. (2018)'s r = .278 [.256, .299].

    Returns
    -------
    pandas.DataFrame
        ``alliance``, ``target`` (``final`` or ``change``), ``n_units``,
        ``n_practitioners``, ``r``, ``ci_low``, ``ci_high``, ``r2``, ``reference_r``,
        ``reference_low``, ``reference_high``.  r is missing (with n) when fewer than 4
        units qualify or a variable is constant.
    """
    alliance = [alliance] if isinstance(alliance, str) else list(alliance)
    _need(wide, [unit, practitioner, _S, outcome, *alliance], "association")
    o = wide.loc[wide[outcome].notna(), [unit, _S, outcome]].sort_values([unit, _S])
    g = o.groupby(unit)
    per = pd.DataFrame(
        {
            "first_s": g[_S].first(),
            "last_s": g[_S].last(),
            "first": g[outcome].first(),
            "final": g[outcome].last(),
        }
    )
    per["change"] = np.where(
        per["last_s"] > per["first_s"], per["final"] - per["first"], np.nan
    )
    prac = wide.groupby(unit)[practitioner].first()
    rows = []
    for col in alliance:
        e = wide[(wide[_S] <= early) & (wide[_S] >= 1)].groupby(unit)[col].mean()
        for target in ("final", "change"):
            m = pd.concat([e.rename("a"), per[target].rename("y")], axis=1).dropna()
            r = _pearson(m["a"].to_numpy(), m["y"].to_numpy())
            lo, hi = fisher_ci(r, len(m), level)
            rows.append(
                {
                    "alliance": col,
                    "target": target,
                    "n_units": len(m),
                    "n_practitioners": int(prac.reindex(m.index).nunique()),
                    "r": r,
                    "ci_low": lo,
                    "ci_high": hi,
                    "r2": r * r,
                    "reference_r": FLUCKIGER_2018[0],
                    "reference_low": FLUCKIGER_2018[1],
                    "reference_high": FLUCKIGER_2018[2],
                }
            )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class LaggedResult:
    """Within/between lagged model: ``within`` and ``between`` rows of ``coefficients``."""

    coefficients: pd.DataFrame  # term, estimate, std_error, ci_low, ci_high
    fit: GrowthFit
    n_pairs: int
    n_units: int
    n_practitioners: int
    detrended: bool
    caveat: str = ENDOGENEITY_CAVEAT


def lagged_frame(
    wide: pd.DataFrame,
    *,
    outcome: str,
    alliance: str = ALLIANCE_COLUMNS[0],
    unit: str = _U,
    practitioner: str = _P,
    detrend: bool = False,
) -> pd.DataFrame:
    """Pairs of consecutive sessions (t, t+1) with the person-mean centred alliance at t.

    Columns: ``unit``, ``practitioner``, ``session`` (t), ``outcome`` (at t),
    ``outcome_next`` (at t+1), ``alliance_within`` (alliance at t minus the unit's mean
    alliance over all its rated sessions; with ``detrend`` minus the unit's own OLS line
    over sessions instead) and ``alliance_between`` (the unit's mean alliance).
    """
    _need(wide, [unit, practitioner, _S, outcome, alliance], "lagged model")
    d = wide[[unit, practitioner, _S, outcome, alliance]].sort_values([unit, _S])
    a = d[d[alliance].notna()]
    mean_a = a.groupby(unit)[alliance].mean()
    d = d.assign(alliance_between=d[unit].map(mean_a))
    if detrend:
        ds = a[_S] - a.groupby(unit)[_S].transform("mean")
        da = a[alliance] - a.groupby(unit)[alliance].transform("mean")
        sxx = (ds * ds).groupby(a[unit]).sum()
        sxy = (ds * da).groupby(a[unit]).sum()
        slope = (sxy / sxx.where(sxx > 0)).fillna(0.0)
        mean_s = a.groupby(unit)[_S].mean()
        trend = d[unit].map(mean_a) + d[unit].map(slope) * (d[_S] - d[unit].map(mean_s))
        d = d.assign(alliance_within=d[alliance] - trend)
    else:
        d = d.assign(alliance_within=d[alliance] - d["alliance_between"])
    # d is sorted by unit and session: the next row is session t+1 of the same unit or
    # there is no pair (a shift, not a merge: one pass over the rows)
    u = d[unit].to_numpy()
    s = d[_S].to_numpy(float)
    same = np.zeros(len(d), dtype=bool)
    same[:-1] = (u[1:] == u[:-1]) & (s[1:] == s[:-1] + 1)
    if len(d) > 1 and np.any((u[1:] == u[:-1]) & (s[1:] == s[:-1])):
        raise DataValidationError(
            f"lagged model: a {unit} has the same session twice; use by_session() first"
        )
    y_next = np.full(len(d), np.nan)
    y_next[:-1] = d[outcome].to_numpy(float)[1:]
    pairs = d.assign(outcome_next=np.where(same, y_next, np.nan))[same]
    pairs = pairs.rename(columns={outcome: "outcome"})
    cols = [
        unit,
        practitioner,
        _S,
        "outcome",
        "outcome_next",
        "alliance_within",
        "alliance_between",
    ]
    return pairs[cols].dropna().reset_index(drop=True)


def lagged_model(
    wide: pd.DataFrame,
    *,
    outcome: str,
    alliance: str = ALLIANCE_COLUMNS[0],
    unit: str = _U,
    practitioner: str | None = _P,
    detrend: bool = False,
    reml: bool = True,
) -> LaggedResult:
    """Alliance at t (within and between units) predicting the outcome at t+1.

    ``outcome_next ~ outcome + alliance_within + alliance_between + session
    + (1 + session | unit) + (1 | practitioner)`` fitted by :func:`fit_growth`; the
    within coefficient is the session-to-session association inside a unit, the between
    coefficient the association of a unit's average alliance with its outcomes.  Read
    ``caveat`` before interpreting either (Falkenström, Finkel, Sandell, Rubel & Holmqvist
    2017, Dynamic models of individual change in psychotherapy process research, J.
    Consult. Clin. Psychol. 85(6), 537–549).
    """
    pairs = lagged_frame(
        wide,
        outcome=outcome,
        alliance=alliance,
        unit=unit,
        practitioner=practitioner or _P,
        detrend=detrend,
    )
    if pairs.empty:
        raise DataValidationError(
            "lagged model: no pairs of consecutive sessions with the outcome at both and "
            "the alliance at the first"
        )
    fit = fit_growth(
        pairs,
        outcome="outcome_next",
        fixed=["outcome", "alliance_within", "alliance_between"],
        slope=_S,
        client=unit,
        practitioner=practitioner,
        reml=reml,
    )
    fe = fit.fixed_effects.set_index("term")
    z = stats.norm.ppf(0.975)
    rows = []
    for label, term in (("within", "alliance_within"), ("between", "alliance_between")):
        est, se = fe.loc[term, "estimate"], fe.loc[term, "std_error"]
        rows.append(
            {
                "term": label,
                "estimate": est,
                "std_error": se,
                "ci_low": est - z * se,
                "ci_high": est + z * se,
            }
        )
    return LaggedResult(
        coefficients=pd.DataFrame(rows),
        fit=fit,
        n_pairs=fit.n_obs,
        n_units=fit.n_clients,
        n_practitioners=fit.n_practitioners,
        detrended=detrend,
    )


@dataclass(frozen=True)
class IccResult:
    """Share of variance at practitioner level, with a parametric-bootstrap CI."""

    column: str
    icc: float
    ci_low: float
    ci_high: float
    variance_practitioner: float
    variance_unit: float
    variance_residual: float
    n_obs: int
    n_units: int
    n_practitioners: int
    n_boot: int
    method: str
    converged: bool


def _intercepts_stats(
    y: np.ndarray, u_codes: np.ndarray, n_u: int, poc: np.ndarray, n_p: int
) -> _mixed.SuffStats:
    X = np.ones((len(y), 1))
    return _mixed.sufficient_statistics(
        X, y - y.mean(), np.zeros(len(y)), u_codes, n_u, poc, n_p, True
    )


def practitioner_icc(
    wide: pd.DataFrame,
    *,
    column: str,
    unit: str = _U,
    practitioner: str = _P,
    n_boot: int = 200,
    level: float = 0.95,
    seed: int = 2018,
) -> IccResult:
    """ICC of ``column`` at practitioner level from ``y ~ 1 + (1 | unit) + (1 | practitioner)``.

    ICC = σ²_practitioner / (σ²_practitioner + σ²_unit + σ²_residual), REML (as lme4).
    CI: parametric bootstrap, percentile method — ``n_boot`` data sets simulated from the
    fitted model (same units, practitioners and sessions), each refitted; the
    (1 − level)/2 and (1 + level)/2 quantiles of the ICCs.  Seeded, so repeatable.
    """
    _need(wide, [unit, practitioner, column], "practitioner ICC")
    d = wide[[unit, practitioner, column]].dropna()
    if d.empty or np.ptp(d[column].to_numpy(float)) == 0:
        raise DataValidationError(f"practitioner ICC: {column!r} is empty or constant")
    u_codes, u_levels = pd.factorize(d[unit], sort=True)
    p_codes, p_levels = pd.factorize(d[practitioner], sort=True)
    if len(p_levels) < 2:
        raise DataValidationError(
            f"practitioner ICC: only {len(p_levels)} practitioner, so there is no "
            "practitioner variance to estimate"
        )
    poc = np.zeros(len(u_levels), dtype=np.int64)
    poc[u_codes] = p_codes
    if pd.Series(p_codes).groupby(u_codes).nunique().max() > 1:
        raise DataValidationError(
            f"practitioner ICC: some {unit} values have more than one practitioner"
        )
    y = d[column].to_numpy(float)

    def fit(
        yv: np.ndarray, start: np.ndarray | None = None
    ) -> tuple[float, np.ndarray, bool]:
        s = _intercepts_stats(yv, u_codes, len(u_levels), poc, len(p_levels))
        ev, ok, _ = _mixed.optimise(s, True, free=(0, 3), start=start)
        v = ev.sigma2 * np.array([ev.theta[3] ** 2, ev.theta[0] ** 2, 1.0])
        return float(v[0] / v.sum()), v, ok

    icc, v, ok = fit(y)
    theta_hat = np.sqrt(np.array([v[1], 0.0, 0.0, v[0]]) / v[2])
    rng = np.random.default_rng(seed)
    boots = []
    mu = float(y.mean())
    for _ in range(n_boot):
        ys = (
            mu
            + rng.normal(0, np.sqrt(v[0]), len(p_levels))[p_codes]
            + rng.normal(0, np.sqrt(v[1]), len(u_levels))[u_codes]
            + rng.normal(0, np.sqrt(v[2]), len(y))
        )
        b, _, b_ok = fit(ys, np.maximum(theta_hat, 0.05))
        if b_ok:
            boots.append(b)
    if boots:
        lo, hi = np.quantile(boots, [(1 - level) / 2, (1 + level) / 2])
    else:
        lo = hi = np.nan
    return IccResult(
        column=column,
        icc=icc,
        ci_low=float(lo),
        ci_high=float(hi),
        variance_practitioner=float(v[0]),
        variance_unit=float(v[1]),
        variance_residual=float(v[2]),
        n_obs=len(y),
        n_units=len(u_levels),
        n_practitioners=len(p_levels),
        n_boot=len(boots),
        method=f"parametric bootstrap, percentile, {len(boots)} refits (REML)",
        converged=ok,
    )


def response_surface(
    wide: pd.DataFrame,
    *,
    outcome: str,
    client: str = ALLIANCE_COLUMNS[0],
    practitioner_rating: str = ALLIANCE_COLUMNS[1],
) -> pd.DataFrame:
    """Polynomial response-surface analysis of client–practitioner congruence.

    OLS ``outcome ~ C + P + C² + CP + P²`` with both ratings centred at their pooled mean
    (Shanock, Baran, Gentry, Pattison & Heggestad 2010, Polynomial regression with
    response surface analysis, J. Bus. Psychol. 25, 543–554):
    a1 = b1 + b2 (slope along the line of congruence), a2 = b3 + b4 + b5 (its curvature),
    a3 = b1 − b2 (slope along the line of incongruence), a4 = b3 − b4 + b5 (its curvature),
    a5 = b3 − b5; SEs from the OLS covariance (sessions treated as independent).

    Returns ``term`` (b1…b5, a1…a5), ``estimate``, ``std_error``, ``n_sessions``,
    ``n_units``.
    """
    _need(wide, [outcome, client, practitioner_rating], "response surface")
    d = wide[
        [c for c in (_U, outcome, client, practitioner_rating) if c in wide]
    ].dropna()
    if len(d) < 12:
        raise DataValidationError(
            f"response surface: {len(d)} sessions with both ratings and the outcome; at "
            "least 12 are needed for 6 coefficients"
        )
    mid = float(
        np.mean(
            np.r_[d[client].to_numpy(float), d[practitioner_rating].to_numpy(float)]
        )
    )
    C = d[client].to_numpy(float) - mid
    P = d[practitioner_rating].to_numpy(float) - mid
    X = np.column_stack([np.ones(len(C)), C, P, C * C, C * P, P * P])
    y = d[outcome].to_numpy(float)
    if np.linalg.matrix_rank(X) < 6:
        raise DataValidationError(
            "response surface: the ratings do not vary enough for a quadratic surface"
        )
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    s2 = float(resid @ resid) / (len(y) - 6)
    V = s2 * np.linalg.inv(X.T @ X)
    L = {
        "b1": [0, 1, 0, 0, 0, 0],
        "b2": [0, 0, 1, 0, 0, 0],
        "b3": [0, 0, 0, 1, 0, 0],
        "b4": [0, 0, 0, 0, 1, 0],
        "b5": [0, 0, 0, 0, 0, 1],
        "a1": [0, 1, 1, 0, 0, 0],
        "a2": [0, 0, 0, 1, 1, 1],
        "a3": [0, 1, -1, 0, 0, 0],
        "a4": [0, 0, 0, 1, -1, 1],
        "a5": [0, 0, 0, 1, 0, -1],
    }
    rows = []
    for term, c in L.items():
        c = np.asarray(c, float)
        rows.append(
            {
                "term": term,
                "estimate": float(c @ beta),
                "std_error": float(np.sqrt(c @ V @ c)),
            }
        )
    out = pd.DataFrame(rows)
    out["n_sessions"] = len(d)
    out["n_units"] = d[_U].nunique() if _U in d else np.nan
    return out


def agreement(
    wide: pd.DataFrame,
    *,
    client: str = ALLIANCE_COLUMNS[0],
    practitioner_rating: str = ALLIANCE_COLUMNS[1],
    unit: str = _U,
    discrepancy: pd.DataFrame | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Client vs practitioner alliance over sessions rated by both.

    One row per statistic (``statistic``, ``estimate``, ``ci_low``, ``ci_high``, ``n``,
    ``n_units``): ``r`` (Pearson, Fisher-z CI), ``mean_difference`` (client − practitioner,
    t CI), ``paired_d`` (mean difference / SD of differences, Cohen's d_z) and, when
    ``discrepancy`` (the frame of :func:`harmonybridge.alliance.dyadic_discrepancy`) is
    given, ``mean_standardised_discrepancy`` (mean of its ``discrepancy`` column, t CI).
    """
    _need(wide, [unit, client, practitioner_rating], "agreement")
    d = wide[[unit, client, practitioner_rating]].dropna()
    n = len(d)
    if n < 4:
        raise DataValidationError(
            f"agreement: {n} sessions rated by both client and practitioner; at least 4 "
            "are needed"
        )
    c = d[client].to_numpy(float)
    p = d[practitioner_rating].to_numpy(float)
    diff = c - p
    r = _pearson(c, p)
    lo, hi = fisher_ci(r, n, level)
    tq = stats.t.ppf(0.5 + level / 2, n - 1)
    md, sd = float(diff.mean()), float(diff.std(ddof=1))
    rows = [
        ("r", r, lo, hi, n, d[unit].nunique()),
        (
            "mean_difference",
            md,
            md - tq * sd / np.sqrt(n),
            md + tq * sd / np.sqrt(n),
            n,
            d[unit].nunique(),
        ),
        (
            "paired_d",
            md / sd if sd > 0 else np.nan,
            np.nan,
            np.nan,
            n,
            d[unit].nunique(),
        ),
    ]
    if discrepancy is not None:
        D = discrepancy["discrepancy"].dropna().to_numpy(float)
        if len(D) >= 2:
            m, s = float(D.mean()), float(D.std(ddof=1))
            t2 = stats.t.ppf(0.5 + level / 2, len(D) - 1)
            half = t2 * s / np.sqrt(len(D))
            rows.append(
                (
                    "mean_standardised_discrepancy",
                    m,
                    m - half,
                    m + half,
                    len(D),
                    discrepancy[_U].nunique() if _U in discrepancy else np.nan,
                )
            )
    return pd.DataFrame(
        rows, columns=["statistic", "estimate", "ci_low", "ci_high", "n", "n_units"]
    )
