"""Expected treatment response: log-linear curves conditional on intake, bands and progress colours."""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

__all__ = [
    "PROGRESS_COLOURS",
    "TrajectoryFit",
    "calibrate_bands",
    "classify_progress",
    "fit_trajectories",
    "predict_bands",
]

#: Progress colours, in the order they take precedence when several apply.
PROGRESS_COLOURS: tuple[str, ...] = ("red", "white", "yellow", "green")
Z_YELLOW = 1.2816  # 90th percentile of the predictive distribution
Z_RED = 1.6449  # 95th percentile
_COEFS = ("g00", "g01", "g10", "g11")
_VARS = ("tau00", "tau01", "tau11", "sigma2")


@dataclass(frozen=True)
class TrajectoryFit:
    """A fitted expected-response curve set with its provenance.

    Coefficients and variance components are on the oriented scale (higher =
    worse: wellbeing scores are negated). ``method`` is ``"mixedlm"`` or
    ``"rational"`` (too few clients: no curves, rational rules only).
    """

    method: str
    higher_is_better: bool
    centre: float
    coefficients: Mapping[str, float]
    variance: Mapping[str, float]
    n_clients: int
    n_observations: int
    converged: bool
    fitted_on: str
    instrument: str | None = None
    instrument_version: str | None = None
    rc_value: float | None = None
    sd: float | None = None
    reliability: float | None = None
    cutoff: float | None = None
    clinical_when: str | None = None
    library_version: str = ""
    raw: Any = field(default=None, compare=False, repr=False)
    #: The instrument's caseness convention whose cut-off and change criterion the
    #: fields above hold (None: the definition's default or no instrument).
    convention: str | None = None

    def with_convention(self, convention: str | None) -> TrajectoryFit:
        """Return a copy whose cut-off and reliable-change criterion are the pair of
        the instrument's caseness ``convention`` (None: the definition's default).

        The curves themselves do not depend on the convention; only the judgement of
        reliable change and of the functional range does. A fit without an instrument
        is returned unchanged.
        """
        if self.instrument is None:
            return self
        from harmonybridge.instruments import find

        inst = find(self.instrument)
        if inst is None or not inst.conventions:
            return self
        meta = _meta(self.instrument, convention)
        meta.pop("instrument_version")
        meta.pop("higher_is_better")
        return replace(self, **meta)

    @property
    def fixed_effects(self) -> pd.DataFrame:
        """Return the fixed effects as a tidy frame (term, estimate)."""
        return pd.DataFrame(
            {
                "term": list(self.coefficients),
                "estimate": list(self.coefficients.values()),
            }
        )

    @property
    def random_effects(self) -> pd.DataFrame:
        """Return the variance components as a tidy frame (component, estimate)."""
        return pd.DataFrame(
            {"component": list(self.variance), "estimate": list(self.variance.values())}
        )

    def summary(self) -> str:
        """Return a short text summary of the curve set."""
        head = f"Expected-response curve set ({self.method}) for {self.instrument or 'unnamed instrument'}"
        lines = [
            head,
            f"fitted on {self.fitted_on}; {self.n_clients} clients, {self.n_observations} observations; converged: {self.converged}",
        ]
        if self.method == "mixedlm":
            lines.append(f"intake centre c = {self.centre:g}")
            lines += [
                f"  {k} = {v:.6g}"
                for k, v in {**self.coefficients, **self.variance}.items()
            ]
        else:
            lines.append(
                "rational rules only: reliable deterioration = red; no reliable improvement by the check session = yellow"
            )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Return the curve set as plain JSON-serialisable types (``raw`` dropped)."""
        d = asdict(self)
        d.pop("raw")
        d["coefficients"] = {k: _num(v) for k, v in self.coefficients.items()}
        d["variance"] = {k: _num(v) for k, v in self.variance.items()}
        d["centre"] = _num(self.centre)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrajectoryFit:
        """Rebuild a curve set stored with :meth:`to_dict`."""
        known = {f for f in cls.__dataclass_fields__ if f != "raw"}
        unknown = set(d) - known
        if unknown:
            raise DataValidationError(
                f"curve set has unknown field(s) {sorted(unknown)}"
            )
        kw = dict(d)
        kw["coefficients"] = {k: _den(v) for k, v in dict(d["coefficients"]).items()}
        kw["variance"] = {k: _den(v) for k, v in dict(d["variance"]).items()}
        kw["centre"] = _den(d["centre"])
        return cls(**kw)


def _num(v: float) -> float | None:
    return None if v is None or math.isnan(v) else float(v)


def _den(v: float | None) -> float:
    return float("nan") if v is None else float(v)


def _meta(instrument: str | None, convention: str | None = None) -> dict[str, Any]:
    if instrument is None:
        if convention is not None:
            raise DataValidationError("convention needs an instrument")
        return {}
    from harmonybridge.instruments import get

    inst = get(instrument).with_convention(convention)
    return {
        "convention": inst.convention,
        "instrument_version": inst.version,
        "higher_is_better": inst.higher_is_better,
        "rc_value": inst.rc_value.value if inst.rc_value else None,
        "sd": inst.sd.value if inst.sd else None,
        "reliability": inst.reliability.value if inst.reliability else None,
        "cutoff": inst.cutoff.value if inst.cutoff else None,
        "clinical_when": inst.cutoff.clinical_when if inst.cutoff else None,
    }


def _prepare(
    data: pd.DataFrame, keys: list[str], time: str, score: str, sign: float
) -> pd.DataFrame:
    """Return rows with intake, oriented score y, session index t and ln t."""
    schema.validate_long(
        data, required=[*keys, time, score], numeric=[time, score], unique=[*keys, time]
    )
    d = (
        data[[*keys, time, score]]
        .dropna(subset=[score])
        .sort_values([*keys, time], kind="stable")
    )
    g = d.groupby(keys, sort=False, dropna=False)
    first_t = g[time].transform("first").to_numpy(float)
    y = sign * d[score].to_numpy(float)
    out = d.assign(
        _y=y,
        _y1=sign * g[score].transform("first").to_numpy(float),
        _t=d[time].to_numpy(float) - first_t + 1,
        _grp=g.ngroup().to_numpy(),
    )
    return out.assign(_lnt=np.log(out["_t"].to_numpy(float)))


def fit_trajectories(
    data: pd.DataFrame,
    *,
    id: str | Sequence[str] = (schema.ENGAGEMENT_ID, schema.RESPONDENT_ID),
    time: str = schema.SESSION,
    score: str = schema.SCORE,
    instrument: str | None = None,
    higher_is_better: bool | None = None,
    min_clients: int = 300,
    fitted_on: str | _dt.date | None = None,
    convention: str | None = None,
) -> TrajectoryFit:
    """Fit expected-response curves conditional on intake (Finch et al. 2001).

    Parameters
    ----------
    data : pandas.DataFrame
        Long scores of one instrument (total) for a training cohort; each
        series' first observed session is its intake (session index 1).
    id : str or list of str
        Series key (default engagement and respondent).
    time, score : str
        Column names.
    instrument : str, optional
        Instrument id; direction, reliable-change value, SD, reliability and
        cut-off are read from its definition.
    higher_is_better : bool, optional
        Required when ``instrument`` is not given.
    min_clients : int
        Below this many series with an intake and a later score, no curves are
        fitted and the rational rules are used (300; project choice for a stable mixed model, see docs/alert-rules.md).
    fitted_on : str or date, optional
        Provenance date (default today, UTC).
    convention : str, optional
        The instrument's caseness convention whose cut-off and reliable-change
        criterion the curve set carries (default: the definition's default).

    Returns
    -------
    TrajectoryFit
        Frozen curve set (``to_dict``/``from_dict`` for storage as JSON).

    Notes
    -----
    With Y oriented so that higher = worse and intake Y1 centred at its
    median c, for sessions t ≥ 2 (REML, statsmodels MixedLM)::

        Y_ti = g00 + g01 (Y1_i − c) + (g10 + g11 (Y1_i − c)) ln t
               + u0_i + u1_i ln t + e_ti

    References
    ----------
    Finch, A. E., Lambert, M. J., & Schaalje, B. G. (2001). Psychotherapy
    quality control: the statistical generation of expected recovery curves
    for integration into an early warning system. Clinical Psychology &
    Psychotherapy, 8(4), 231–242. Reference test:
    ``tests/core/test_trajectories.py::test_recovers_known_parameters``.
    """
    meta = _meta(instrument, convention)
    if higher_is_better is not None:
        meta["higher_is_better"] = bool(higher_is_better)
    if "higher_is_better" not in meta:
        raise DataValidationError(
            "higher_is_better is required when no instrument is given"
        )
    keys = schema.as_key_list(id)
    d = _prepare(data, keys, time, score, -1.0 if meta["higher_is_better"] else 1.0)
    later = d[d["_t"] >= 2]
    n_clients = int(later["_grp"].nunique())
    date = str(fitted_on or _dt.datetime.now(_dt.UTC).date())
    from harmonybridge import __version__

    base = {
        "instrument": instrument,
        "fitted_on": date,
        "library_version": __version__,
        "n_clients": n_clients,
        "n_observations": len(later),
        **meta,
    }
    nan = {k: float("nan") for k in _COEFS}
    if n_clients < min_clients:
        warnings.warn(
            f"{n_clients} clients with follow-up (< {min_clients}): no curves fitted, rational rules only",
            HarmonyBridgeWarning,
            stacklevel=2,
        )
        return TrajectoryFit(
            method="rational",
            centre=float("nan"),
            coefficients=nan,
            variance={k: float("nan") for k in _VARS},
            converged=False,
            **base,
        )
    return _fit_mixedlm(later, float(np.median(d.groupby("_grp")["_y1"].first())), base)


def _fit_mixedlm(
    later: pd.DataFrame, centre: float, base: dict[str, Any]
) -> TrajectoryFit:
    import statsmodels.api as sm

    yc = later["_y1"].to_numpy(float) - centre
    lnt = later["_lnt"].to_numpy(float)
    exog = np.column_stack([np.ones_like(yc), yc, lnt, yc * lnt])
    exog_re = np.column_stack([np.ones_like(lnt), lnt])
    model = sm.MixedLM(
        later["_y"].to_numpy(float),
        exog,
        groups=later["_grp"].to_numpy(),
        exog_re=exog_re,
    )
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore"
        )  # statsmodels convergence chatter; `converged` records it
        res = model.fit(reml=True, method=["lbfgs", "powell"])
    cov = np.asarray(res.cov_re)
    variance = {
        "tau00": float(cov[0, 0]),
        "tau01": float(cov[0, 1]),
        "tau11": float(cov[1, 1]),
        "sigma2": float(res.scale),
    }
    coefficients = dict(zip(_COEFS, map(float, np.asarray(res.fe_params)), strict=True))
    return TrajectoryFit(
        method="mixedlm",
        centre=centre,
        coefficients=coefficients,
        variance=variance,
        converged=bool(res.converged),
        raw=res,
        **base,
    )


def _bands(
    fit: TrajectoryFit, y1: np.ndarray, t: np.ndarray, z_yellow: float, z_red: float
) -> tuple[np.ndarray, ...]:
    """Return (expected, sd, upper_yellow, upper_red) on the oriented scale."""
    c, v = fit.coefficients, fit.variance
    yc, lnt = y1 - fit.centre, np.log(t)
    expected = c["g00"] + c["g01"] * yc + (c["g10"] + c["g11"] * yc) * lnt
    var = v["tau00"] + 2 * lnt * v["tau01"] + lnt**2 * v["tau11"] + v["sigma2"]
    sd = np.sqrt(var)
    return expected, sd, expected + z_yellow * sd, expected + z_red * sd


def predict_bands(
    fit: TrajectoryFit,
    intake: float | Sequence[float],
    sessions: int | Sequence[int],
    *,
    z_yellow: float = Z_YELLOW,
    z_red: float = Z_RED,
) -> pd.DataFrame:
    """Return the expected score and the yellow/red boundaries per session.

    Parameters
    ----------
    fit : TrajectoryFit
        A fitted curve set (``method == "mixedlm"``).
    intake : float or sequence of float
        Intake score(s) on the instrument's own scale.
    sessions : int or sequence of int
        Session indices (intake = 1); broadcast against ``intake``.
    z_yellow, z_red : float
        Predictive-distribution quantiles (1.2816 = 90th, 1.6449 = 95th).

    Returns
    -------
    pandas.DataFrame
        ``intake``, ``session``, ``expected``, ``sd`` (predictive SD),
        ``yellow_bound``, ``red_bound`` on the instrument's scale: a score
        beyond ``yellow_bound`` on the worse side is yellow (a score exactly
        on it is green), beyond ``red_bound`` red.

    References
    ----------
    Finch, Lambert & Schaalje (2001), see :func:`fit_trajectories`.
    Reference test: ``tests/core/test_trajectories.py::test_band_boundaries``.
    """
    if fit.method != "mixedlm":
        raise DataValidationError(
            "this curve set has no curves (rational rules only); use classify_progress"
        )
    y1, t = np.broadcast_arrays(np.asarray(intake, float), np.asarray(sessions, float))
    sign = -1.0 if fit.higher_is_better else 1.0
    e, sd, uy, ur = _bands(fit, sign * y1, t, z_yellow, z_red)
    return pd.DataFrame(
        {
            "intake": y1.ravel(),
            "session": t.ravel(),
            "expected": sign * e.ravel(),
            "sd": sd.ravel(),
            "yellow_bound": sign * uy.ravel(),
            "red_bound": sign * ur.ravel(),
        }
    )


def classify_progress(
    data: pd.DataFrame,
    fit: TrajectoryFit,
    *,
    id: str | Sequence[str] = (schema.ENGAGEMENT_ID, schema.RESPONDENT_ID),
    time: str = schema.SESSION,
    score: str = schema.SCORE,
    z_yellow: float = Z_YELLOW,
    z_red: float = Z_RED,
    check_session: int = 4,
    z_rc: float = 1.96,
) -> pd.DataFrame:
    """Colour each session green, yellow, red or white against the curve set.

    Parameters
    ----------
    data : pandas.DataFrame
        Long scores (one instrument) of the series to classify.
    fit : TrajectoryFit
        Curve set; with ``method == "rational"`` the rational rules apply.
    id, time, score : str
        Column names.
    z_yellow, z_red : float
        Band quantiles.
    check_session : int
        Rational rule: no reliable improvement by this session index = yellow.
    z_rc : float
        Two-sided criterion for the RCI when no reliable-change value exists.

    Returns
    -------
    pandas.DataFrame
        The key, time and score columns plus ``session_index``, ``intake``,
        ``expected``, ``yellow_bound``, ``red_bound`` (missing for rational
        fits), ``reliable_improvement``, ``reliable_deterioration``,
        ``status`` (missing at intake) and ``first_not_session`` (first
        session that is yellow or red in that series, missing if none).

    Notes
    -----
    Oriented so that higher = worse: green if ``Y_t ≤ upper_t(z_yellow)``
    (a score exactly on the boundary is green), yellow if ``upper_t(z_yellow)
    < Y_t ≤ upper_t(z_red)``, red if ``Y_t > upper_t(z_red)`` or reliable
    deterioration since intake. White if the score is outside the clinical
    range (session index ≥ 2). Precedence: reliable deterioration (red),
    then white, then the band. Rational rules: red = reliable deterioration;
    white as above; yellow = no reliable improvement at session index ≥
    ``check_session``; otherwise green. Reliable change uses the published
    value when there is one (``|Δ| ≥ rc_value``, inclusive), else
    ``|Δ| / S_diff > z_rc`` (Jacobson & Truax 1991, strict).

    References
    ----------
    Lambert, M. J., Whipple, J. L., Bishop, M. J., et al. (2002). Comparison
    of empirically-derived and rationally-derived methods for identifying
    patients at risk for treatment failure. Clinical Psychology &
    Psychotherapy, 9(3), 149–164. Reference test:
    ``tests/core/test_trajectories.py``.
    """
    keys = schema.as_key_list(id)
    sign = -1.0 if fit.higher_is_better else 1.0
    d = _prepare(data, keys, time, score, sign)
    y, y1, t = (
        d["_y"].to_numpy(float),
        d["_y1"].to_numpy(float),
        d["_t"].to_numpy(float),
    )
    worse = y - y1  # oriented change: positive = worse
    imp, det = _reliable(fit, worse, z_rc)
    later = t >= 2
    if fit.method == "mixedlm":
        e, _, uy, ur = _bands(fit, y1, t, z_yellow, z_red)
        status = np.where(y > ur, "red", np.where(y > uy, "yellow", "green")).astype(
            object
        )
    else:
        e = uy = ur = np.full(len(d), np.nan)
        status = np.where(~imp & (t >= check_session), "yellow", "green").astype(object)
    white = _functional(fit, sign * y) & later
    status = np.where(det, "red", np.where(white, "white", status))
    status = np.where(later, status, np.array(None, dtype=object))
    out = d[[*keys, time, score]].assign(
        session_index=t,
        intake=sign * y1,
        expected=sign * e,
        yellow_bound=sign * uy,
        red_bound=sign * ur,
        reliable_improvement=imp,
        reliable_deterioration=det,
        status=status,
    )
    sess = d[time].where(np.isin(status, ["yellow", "red"]))
    out["first_not_session"] = (
        sess.groupby(d["_grp"].to_numpy()).transform("min").to_numpy()
    )
    return out.reset_index(drop=True)


def _reliable(
    fit: TrajectoryFit, worse: np.ndarray, z_rc: float
) -> tuple[np.ndarray, np.ndarray]:
    """(improved, deteriorated) by the core's one reliable-change rule."""
    from harmonybridge.change.reliable_change import change_criterion

    if fit.rc_value is not None:
        crit = change_criterion(rc_value=fit.rc_value, rc_source="curve set")
    else:
        crit = change_criterion(
            sd=fit.sd, reliability=fit.reliability, z=z_rc, sd_source="curve set",
            reliability_source="curve set",
        )  # fmt: skip
    if crit is None:
        warnings.warn(
            "no reliable-change value or SD/reliability: reliable change not assessed",
            HarmonyBridgeWarning,
            stacklevel=3,
        )
        false = np.zeros(len(worse), bool)
        return false, false.copy()
    # ``worse`` is oriented (positive = worse): as a lower-is-better change
    return crit.better(worse, False), crit.worse(worse, False)


def _functional(fit: TrajectoryFit, x: np.ndarray) -> np.ndarray:
    if fit.cutoff is None or fit.clinical_when is None:
        return np.zeros(len(x), bool)
    c = fit.cutoff
    clinical = {
        "at_or_above": x >= c,
        "above": x > c,
        "at_or_below": x <= c,
        "below": x < c,
    }[fit.clinical_when]
    result: np.ndarray = ~clinical & ~np.isnan(x)
    return result


def calibrate_bands(
    fit: TrajectoryFit,
    holdout: pd.DataFrame,
    *,
    id: str | Sequence[str] = (schema.ENGAGEMENT_ID, schema.RESPONDENT_ID),
    time: str = schema.SESSION,
    score: str = schema.SCORE,
    z_values: Sequence[float] = (1.0, Z_YELLOW, Z_RED, 1.96),
    outcome: str = "non_response",
    z_rc: float = 1.96,
) -> pd.DataFrame:
    """Report how well the bands predict a poor end result on hold-out data.

    Parameters
    ----------
    fit : TrajectoryFit
        Curve set to calibrate (``method == "mixedlm"``).
    holdout : pandas.DataFrame
        Long scores of series not used for fitting.
    id, time, score : str
        Column names.
    z_values : sequence of float
        Band quantiles to compare; a series is flagged when any session
        before its last is beyond ``upper_t(z)`` (the worse side).
    outcome : {"non_response", "deterioration"}
        The poor end result: no reliable improvement at the last session, or
        reliable deterioration there.
    z_rc : float
        RCI criterion when the curve set has no reliable-change value.

    Returns
    -------
    pandas.DataFrame
        One row per z: ``z``, ``n_series``, ``n_poor``, ``n_flagged``,
        ``sensitivity`` (flagged among poor), ``false_alarm_rate`` (flagged
        among the others), ``ppv`` (poor among flagged); missing when a
        denominator is 0. Series with fewer than 3 sessions are left out.

    References
    ----------
    Calibration before clinical use (docs/references.md); Lambert et al.
    (2002), see :func:`classify_progress`. Reference test:
    ``tests/core/test_trajectories.py::test_calibrate_bands_by_hand``.
    """
    if fit.method != "mixedlm":
        raise DataValidationError(
            "calibration needs a fitted curve set (method 'mixedlm')"
        )
    if outcome not in ("non_response", "deterioration"):
        raise DataValidationError(
            f"outcome must be 'non_response' or 'deterioration', got {outcome!r}"
        )
    keys = schema.as_key_list(id)
    sign = -1.0 if fit.higher_is_better else 1.0
    d = _prepare(holdout, keys, time, score, sign)
    grp = d["_grp"].to_numpy()
    n_obs = np.bincount(grp)
    last = d["_t"].to_numpy() == d.groupby("_grp")["_t"].transform("max").to_numpy()
    keep = n_obs[grp] >= 3
    imp, det = _reliable(fit, d["_y"].to_numpy(float) - d["_y1"].to_numpy(float), z_rc)
    end_poor = (det if outcome == "deterioration" else ~imp) & last & keep
    poor = np.bincount(grp, weights=end_poor, minlength=len(n_obs)) > 0
    series = np.flatnonzero(n_obs >= 3)
    rows = []
    for z in z_values:
        _, _, upper, _ = _bands(
            fit, d["_y1"].to_numpy(float), d["_t"].to_numpy(float), z, z
        )
        beyond = (
            (d["_y"].to_numpy(float) > upper) & (d["_t"].to_numpy() >= 2) & ~last & keep
        )
        flagged = np.bincount(grp, weights=beyond, minlength=len(n_obs)) > 0
        f, p = flagged[series], poor[series]
        rows.append(
            {
                "z": float(z),
                "n_series": len(series),
                "n_poor": int(p.sum()),
                "n_flagged": int(f.sum()),
                "sensitivity": _ratio((f & p).sum(), p.sum()),
                "false_alarm_rate": _ratio((f & ~p).sum(), (~p).sum()),
                "ppv": _ratio((f & p).sum(), f.sum()),
            }
        )
    return pd.DataFrame(rows)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else float("nan")
