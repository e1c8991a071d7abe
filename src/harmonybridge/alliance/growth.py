"""Growth model: random intercept and slope per client, random intercept per practitioner.

``fit_growth`` reproduces lme4's
``lmer(outcome ~ fixed + slope + (1 + slope | client) + (1 | practitioner), REML = reml)``
at its optimum (reference test: ``tests/core/test_alliance_growth.py``, fixtures made by
``tests/core/reference/alliance/fit_lme4.R``).  The engine is ``_mixed`` (why it is ours:
``docs/decisions/0010-own-mixed-model-engine.md``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harmonybridge.alliance import _mixed
from harmonybridge.errors import DataValidationError

__all__ = ["GrowthFit", "fit_growth", "parse_fixed"]

MIN_CLIENTS = 5
MIN_PRACTITIONERS = 2


@dataclass(frozen=True)
class GrowthFit:
    """Result of :func:`fit_growth` (numbers as lme4 reports them).

    ``fixed_effects``: ``term`` (``Intercept``, the fixed columns, the slope column),
    ``estimate``, ``std_error``.  ``variance_components``: ``group`` (the client or
    practitioner column's name, or ``Residual``), ``name`` (``Intercept``, the slope column,
    ``Intercept:<slope>`` for the covariance, whose value is in ``variance``; empty for the
    residual), ``variance``.  ``loglik`` is the REML log-likelihood when ``reml`` (lme4's
    ``logLik``), else the ML log-likelihood; ``deviance`` is lme4's ``REMLcrit`` or
    ``deviance`` respectively.  ``theta`` is lme4's ``getME(fit, "theta")``.
    """

    outcome: str
    slope: str
    client: str
    practitioner: str | None
    reml: bool
    fixed_effects: pd.DataFrame
    variance_components: pd.DataFrame
    loglik: float
    deviance: float
    theta: np.ndarray
    n_obs: int
    n_clients: int
    n_practitioners: int
    n_dropped: int
    converged: bool
    message: str
    _blups: dict[str, pd.DataFrame] = field(repr=False, default_factory=dict)

    def random_effects(self, group: str) -> pd.DataFrame:
        """Conditional modes (BLUPs) with conditional SDs for ``group`` (client or practitioner column).

        Columns: the group column, then per random term ``<term>`` and ``<term>_sd``
        (terms ``Intercept`` and, for clients, the slope column) — lme4's
        ``ranef(fit, condVar = TRUE)``; for practitioners also ``n_clients``, the
        clients (units) each one's estimate rests on.
        """
        if group not in self._blups:
            raise DataValidationError(
                f"no random effects for {group!r}; choose one of {sorted(self._blups)}"
            )
        return self._blups[group].copy()

    def summary(self) -> str:
        """A plain-text summary in the spirit of lme4's ``print(summary(fit))``."""
        crit = "REML" if self.reml else "ML"
        groups = f"{self.n_clients} {self.client}"
        if self.practitioner:
            groups += f", {self.n_practitioners} {self.practitioner}"
        lines = [
            f"Linear mixed model fit by {crit}: {self.outcome} ~ "
            + " + ".join(self.fixed_effects["term"].iloc[1:])
            + f" + (1 + {self.slope} | {self.client})"
            + (f" + (1 | {self.practitioner})" if self.practitioner else ""),
            f"n = {self.n_obs} observations ({groups}); {self.n_dropped} rows dropped for "
            "missing values",
            f"{crit} log-likelihood {self.loglik:.4f}; {self.message}",
        ]
        if not self.converged:
            lines.append("THE FIT DID NOT CONVERGE: do not use these estimates.")
        lines.append("Variance components:")
        for r in self.variance_components.itertuples(index=False):
            lines.append(f"  {r.group:<18} {r.name:<24} {r.variance:12.6g}")
        lines.append("Fixed effects:")
        for r in self.fixed_effects.itertuples(index=False):
            lines.append(f"  {r.term:<24} {r.estimate:12.6g} (SE {r.std_error:.6g})")
        return "\n".join(lines)


def parse_fixed(fixed: str | Sequence[str], outcome: str) -> list[str]:
    """Column names from a list or a simple formula ``"a + b"`` / ``"outcome ~ a + b"``."""
    if isinstance(fixed, str):
        rhs = fixed.split("~", 1)[1] if "~" in fixed else fixed
        if "~" in fixed and fixed.split("~", 1)[0].strip() not in ("", outcome):
            raise DataValidationError(
                f"the formula's outcome {fixed.split('~', 1)[0].strip()!r} differs from "
                f"outcome={outcome!r}"
            )
        terms = [t.strip() for t in rhs.split("+")]
        for t in terms:
            if not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*|1", t):
                raise DataValidationError(
                    f"fixed term {t!r} is not a column name; only sums of numeric columns "
                    "('a + b') are accepted"
                )
        return [t for t in terms if t != "1"]
    return [str(t) for t in fixed]


def fit_growth(
    data: pd.DataFrame,
    *,
    outcome: str,
    fixed: str | Sequence[str] = (),
    slope: str = "session",
    client: str = "client_id",
    practitioner: str | None = "practitioner_id",
    reml: bool = True,
) -> GrowthFit:
    """Fit ``outcome ~ fixed + slope + (1 + slope | client) + (1 | practitioner)``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per unit × session (see :func:`harmonybridge.alliance.by_session`).
    outcome : str
        Numeric outcome column.
    fixed : list of str or str
        Numeric predictor columns (or ``"a + b"``); ``slope`` is always a fixed effect too.
    slope : str
        Time column with a random slope per client.
    client, practitioner : str
        Grouping columns.  Clients must be nested in practitioners (each client seen by
        one practitioner); otherwise a :class:`DataValidationError` names the clients.
        ``practitioner=None`` fits the client-level model only.
    reml : bool
        REML (default) or maximum likelihood.

    Returns
    -------
    GrowthFit
        Fixed effects, variance components, log-likelihood, n and BLUPs; ``converged`` is
        False (and ``summary()`` says so) when the optimiser did not converge.

    Raises
    ------
    DataValidationError
        Missing or non-numeric columns, too few clients or practitioners, a constant
        outcome, collinear predictors, clients not nested in practitioners.

    References
    ----------
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
    models using lme4. Journal of Statistical Software, 67(1), 1–48.
    """
    terms = parse_fixed(fixed, outcome)
    terms = [t for t in dict.fromkeys(terms) if t != slope] + [slope]
    d, n_dropped = _complete_rows(data, outcome, terms, client, practitioner)
    y = d[outcome].to_numpy(float)
    g = _groups(d, client, practitioner)
    X = _design(d, y, terms, g.n_clients)
    # Centre y and the fixed columns (not the random-slope column in Z): the same model
    # with the intercept reparametrised, but far less cancellation in the cross-products.
    means = X.mean(axis=0)
    means[0] = 0.0
    y_mean = float(y.mean())
    s = _mixed.sufficient_statistics(
        X - means,
        y - y_mean,
        d[slope].to_numpy(float),
        g.c_codes,
        g.n_clients,
        g.prac_of_client,
        g.n_prac,
        bool(practitioner),
    )
    ev, converged, message = _mixed.optimise(s, reml)
    beta, vcov = _uncentre(ev.beta, ev.vcov_beta, means, y_mean)
    th = ev.theta
    fe = pd.DataFrame(
        {
            "term": ["Intercept", *terms],
            "estimate": beta,
            "std_error": np.sqrt(np.diag(vcov)),
        }
    )
    return GrowthFit(
        outcome=outcome,
        slope=slope,
        client=client,
        practitioner=practitioner,
        reml=reml,
        fixed_effects=fe,
        variance_components=_variance_components(
            th, ev.sigma2, client, slope, practitioner
        ),
        loglik=-ev.deviance / 2.0,
        deviance=ev.deviance,
        theta=th,
        n_obs=len(y),
        n_clients=g.n_clients,
        n_practitioners=g.n_prac if practitioner else 0,
        n_dropped=n_dropped,
        converged=converged,
        message=message,
        _blups=_blups(s, ev, g, client, slope, practitioner) if ev.ok else {},
    )


def _complete_rows(
    data: pd.DataFrame,
    outcome: str,
    terms: list[str],
    client: str,
    practitioner: str | None,
) -> tuple[pd.DataFrame, int]:
    """The model's columns, checked, without incomplete rows; and how many were dropped."""
    groups = [client] + ([practitioner] if practitioner else [])
    cols = list(dict.fromkeys([outcome, *terms, *groups]))
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataValidationError(
            f"growth model: column(s) {missing} not in the data (has {list(data.columns)})"
        )
    d = data[cols]
    for c in [outcome, *terms]:
        if not pd.api.types.is_numeric_dtype(d[c]) and not pd.api.types.is_bool_dtype(
            d[c]
        ):
            raise DataValidationError(
                f"growth model: column {c!r} must be numeric (got {d[c].dtype}); "
                "categorical predictors need coding as numeric columns first"
            )
    keep = d.notna().all(axis=1).to_numpy()
    d = d.loc[keep]
    y = d[outcome].to_numpy(float)
    if len(y) == 0:
        raise DataValidationError("growth model: no complete rows")
    if np.ptp(y) == 0:
        raise DataValidationError(
            f"growth model: the outcome {outcome!r} is constant ({y[0]:g}); nothing to model"
        )
    return d, int((~keep).sum())


@dataclass(frozen=True)
class _Groups:
    """Clients and practitioners as codes; each client's practitioner."""

    c_codes: np.ndarray
    c_levels: pd.Index
    n_clients: int
    p_levels: pd.Index
    n_prac: int
    prac_of_client: np.ndarray


def _groups(d: pd.DataFrame, client: str, practitioner: str | None) -> _Groups:
    """Codes the grouping columns; refuses too few clients or practitioners and clients
    seen by more than one practitioner (the model needs them nested)."""
    c_codes, c_levels = pd.factorize(d[client], sort=True)
    n_clients = len(c_levels)
    if n_clients < MIN_CLIENTS:
        raise DataValidationError(
            f"growth model: {n_clients} client(s) with complete data; at least "
            f"{MIN_CLIENTS} are needed for a random intercept and slope per client"
        )
    prac_of_client = np.zeros(n_clients, dtype=np.int64)
    if not practitioner:
        return _Groups(
            c_codes, c_levels, n_clients, pd.Index(["all"]), 1, prac_of_client
        )
    p_codes, p_levels = pd.factorize(d[practitioner], sort=True)
    n_prac = len(p_levels)
    if n_prac < MIN_PRACTITIONERS:
        raise DataValidationError(
            f"growth model: only {n_prac} practitioner in the data, so there is no "
            "practitioner variance to estimate; fit with practitioner=None for the "
            "client-level model"
        )
    prac_of_client[c_codes] = p_codes
    mismatch = prac_of_client[c_codes] != p_codes
    if mismatch.any():
        crossed = np.unique(c_codes[mismatch])
        names = [str(c_levels[i]) for i in crossed[:5]]
        raise DataValidationError(
            f"growth model: {len(crossed)} client(s) seen by more than one practitioner "
            f"(e.g. {names}); this model needs clients nested in practitioners. Use "
            "the engagement as the unit (client='engagement_id') if each engagement "
            "has one practitioner"
        )
    return _Groups(c_codes, c_levels, n_clients, p_levels, n_prac, prac_of_client)


def _design(
    d: pd.DataFrame, y: np.ndarray, terms: list[str], n_clients: int
) -> np.ndarray:
    """The fixed-effects matrix ``[1, terms...]``; refuses data that cannot identify it."""
    if len(y) <= 2 * n_clients:
        # lme4 refuses the same: "number of observations <= number of random effects"
        raise DataValidationError(
            f"growth model: {len(y)} observations for {n_clients} clients, but a random "
            f"intercept and slope per client need more than {2 * n_clients} (clients need "
            "several sessions each); the variances cannot be told apart"
        )
    X = np.column_stack([np.ones(len(y)), *(d[c].to_numpy(float) for c in terms)])
    if np.linalg.matrix_rank(X.T @ X) < X.shape[1]:
        raise DataValidationError(
            f"growth model: the fixed effects {['Intercept', *terms]} are collinear "
            "(a constant column or one that is a sum of others); drop one"
        )
    if len(y) <= X.shape[1] + 4:
        raise DataValidationError(
            f"growth model: {len(y)} observations are too few for {X.shape[1]} fixed "
            "effects and 5 variance parameters"
        )
    return X


def _variance_components(
    th: np.ndarray, s2: float, client: str, slope: str, practitioner: str | None
) -> pd.DataFrame:
    """lme4's ``VarCorr`` rows from θ and σ² (Λθ's blocks times σ²)."""
    rows = [
        (client, "Intercept", s2 * th[0] ** 2),
        (client, slope, s2 * (th[1] ** 2 + th[2] ** 2)),
        (client, f"Intercept:{slope}", s2 * th[0] * th[1]),
    ]
    if practitioner:
        rows.append((practitioner, "Intercept", s2 * th[3] ** 2))
    rows.append(("Residual", "", s2))
    return pd.DataFrame(rows, columns=["group", "name", "variance"])


def _blups(
    s: _mixed.SuffStats,
    ev: _mixed.Evaluation,
    g: _Groups,
    client: str,
    slope: str,
    practitioner: str | None,
) -> dict[str, pd.DataFrame]:
    """Conditional modes and their SDs per client (and per practitioner)."""
    b_c, v_c, b_p, v_p = _mixed.conditional_modes(s, ev.theta, ev.beta, ev.sigma2)
    out = {
        client: pd.DataFrame(
            {
                client: g.c_levels,
                "Intercept": b_c[:, 0],
                "Intercept_sd": np.sqrt(v_c[:, 0, 0]),
                slope: b_c[:, 1],
                f"{slope}_sd": np.sqrt(v_c[:, 1, 1]),
            }
        )
    }
    if practitioner:
        out[practitioner] = pd.DataFrame(
            {
                practitioner: g.p_levels,
                "Intercept": b_p,
                "Intercept_sd": np.sqrt(v_p),
                "n_clients": np.bincount(g.prac_of_client, minlength=g.n_prac),
            }
        )
    return out


def _uncentre(
    beta_c: np.ndarray, vcov_c: np.ndarray, means: np.ndarray, y_mean: float
) -> tuple[np.ndarray, np.ndarray]:
    """Estimates on the original scale: β = Tβc + ȳe₀ with T = I except T[0, j] = −mⱼ."""
    T = np.eye(len(beta_c))
    T[0, 1:] = -means[1:]
    beta = T @ beta_c
    beta[0] += y_mean
    return beta, T @ vcov_c @ T.T
