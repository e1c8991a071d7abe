"""fit_growth against lme4.

Reference: R 4.2.2, lme4 1.1.31 (nloptr 2.0.3), tests/core/reference/alliance/fit_lme4.R:

    lmer(outcome ~ alliance [+ baseline] + session + (1 + session | client_id)
         + (1 | practitioner_id), data = d, REML = TRUE / FALSE,
         control = lmerControl(optimizer = "nloptwrap", optCtrl = list(
             algorithm = "NLOPT_LN_BOBYQA", xtol_rel = 1e-14, ftol_rel = 1e-15,
             ftol_abs = 1e-15, xtol_abs = 1e-14, maxeval = 1e6)))

on three seeded synthetic data sets (make_data.py): balanced (40 clients x 8 sessions),
unbalanced (70 clients, 2-12 sessions, ~15 % of sessions missing, 12 practitioners of
unequal size) and boundary (practitioner variance and client slope factor at 0).
Output: lme4_fits.csv (fixef, sqrt(diag(vcov)), as.data.frame(VarCorr), getME(, "theta"),
logLik, REMLcrit / deviance, ranef(condVar = TRUE)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonybridge.alliance import _mixed, fit_growth
from harmonybridge.errors import DataValidationError

REF = Path(__file__).parent / "reference" / "alliance"
FIXED = {
    "balanced": ["alliance"],
    "unbalanced": ["alliance", "baseline"],
    "boundary": ["alliance"],
}
CASES = [(ds, reml) for ds in FIXED for reml in (True, False)]


def _lme4(ds: str, reml: bool) -> pd.DataFrame:
    ref = pd.read_csv(REF / "lme4_fits.csv", keep_default_na=False)
    ref = ref[
        (ref["dataset"] == ds)
        & (ref["reml"].astype(str).str.upper() == str(reml).upper())
    ]
    return ref.assign(value=ref["value"].astype(float))


def _value(ref: pd.DataFrame, kind: str, name: str, group: str = "") -> float:
    hit = ref[(ref["kind"] == kind) & (ref["name"] == name) & (ref["group"] == group)]
    assert len(hit) == 1, (kind, name, group)
    return float(hit["value"].iloc[0])


def _close(
    ours: float, theirs: float, rel: float = 1e-6, near_zero: float = 1e-8
) -> bool:
    if abs(theirs) < 1e-6:
        return abs(ours - theirs) <= near_zero
    return abs(ours - theirs) <= rel * abs(theirs)


@pytest.mark.parametrize(("ds", "reml"), CASES)
def test_matches_lme4_at_its_optimum(ds: str, reml: bool) -> None:
    data = pd.read_csv(REF / f"{ds}.csv")
    fit = fit_growth(data, outcome="outcome", fixed=FIXED[ds], reml=reml)
    ref = _lme4(ds, reml)
    assert fit.converged, fit.message
    assert fit.n_obs == _value(ref, "n", "n_obs")
    assert list(fit.fixed_effects["term"]) == ["Intercept", *FIXED[ds], "session"]
    for row in fit.fixed_effects.itertuples(index=False):
        assert _close(row.estimate, _value(ref, "estimate", row.term)), row
        assert _close(row.std_error, _value(ref, "std_error", row.term)), row
    for row in fit.variance_components.itertuples(index=False):
        name = row.name or "Residual"
        assert _close(row.variance, _value(ref, "variance", name, row.group)), row
    assert _close(fit.loglik, _value(ref, "loglik", "logLik"))
    # our optimum is at least as good as lme4's (the criterion is minimised)
    crit = "REML" if reml else "deviance"
    assert fit.deviance <= _value(ref, "deviance", crit) + 1e-7


@pytest.mark.parametrize(("ds", "reml"), CASES)
def test_our_deviance_at_lme4_theta(ds: str, reml: bool) -> None:
    """Evaluate the profiled criterion at lme4's θ: the same number to 1e-10 relative."""
    data = pd.read_csv(REF / f"{ds}.csv")
    ref = _lme4(ds, reml)
    theta = ref[ref["kind"] == "theta"]["value"].to_numpy()
    fit = fit_growth(data, outcome="outcome", fixed=FIXED[ds], reml=reml)
    s = _stats(data, FIXED[ds])
    ev = _mixed.evaluate(s, theta, reml)
    crit = "REML" if reml else "deviance"
    assert ev.deviance == pytest.approx(_value(ref, "deviance", crit), rel=1e-10)
    # and the optimum we found is the same point
    assert fit.theta == pytest.approx(theta, abs=2e-6)


@pytest.mark.parametrize(("ds", "reml"), [("unbalanced", True), ("balanced", False)])
def test_blups_and_conditional_sds_match_ranef(ds: str, reml: bool) -> None:
    data = pd.read_csv(REF / f"{ds}.csv")
    ref = _lme4(ds, reml)
    fit = fit_growth(data, outcome="outcome", fixed=FIXED[ds], reml=reml)
    for group, terms in (
        ("client_id", ["Intercept", "session"]),
        ("practitioner_id", ["Intercept"]),
    ):
        re = fit.random_effects(group).set_index(group)
        for lev, row in re.iterrows():
            for term in terms:
                key = f"{lev}|{term}"
                assert row[term] == pytest.approx(
                    _value(ref, "blup", key, group), rel=1e-5, abs=1e-7
                )
                assert row[f"{term}_sd"] == pytest.approx(
                    _value(ref, "condsd", key, group), rel=1e-5
                )


def test_practitioner_effects_say_how_many_clients_they_rest_on() -> None:
    # The fixture's own count: distinct client_id per practitioner_id.
    data = pd.read_csv(REF / "unbalanced.csv")
    fit = fit_growth(data, outcome="outcome", fixed=FIXED["unbalanced"])
    re = fit.random_effects("practitioner_id").set_index("practitioner_id")
    expected = data.groupby("practitioner_id")["client_id"].nunique()
    assert re["n_clients"].to_dict() == expected.to_dict()
    assert "n_clients" not in fit.random_effects("client_id")


def _stats(data: pd.DataFrame, fixed: list[str]) -> _mixed.SuffStats:
    c, _ = pd.factorize(data["client_id"], sort=True)
    p, _ = pd.factorize(data["practitioner_id"], sort=True)
    poc = np.zeros(c.max() + 1, dtype=np.int64)
    poc[c] = p
    X = np.column_stack(
        [np.ones(len(data)), *(data[f] for f in fixed), data["session"]]
    )
    return _mixed.sufficient_statistics(
        X,
        data["outcome"].to_numpy(float),
        data["session"].to_numpy(float),
        c,
        c.max() + 1,
        poc,
        p.max() + 1,
        True,
    )


def test_slope_in_fixed_changes_nothing_and_formula_accepted() -> None:
    data = pd.read_csv(REF / "balanced.csv")
    a = fit_growth(data, outcome="outcome", fixed=["alliance"])
    b = fit_growth(data, outcome="outcome", fixed=["session", "alliance"])
    c = fit_growth(data, outcome="outcome", fixed="outcome ~ alliance")
    for other in (b, c):
        pd.testing.assert_frame_equal(a.fixed_effects, other.fixed_effects)
    assert "REML" in a.summary()
    assert "alliance" in a.summary()


def test_missing_rows_dropped_and_counted() -> None:
    data = pd.read_csv(REF / "unbalanced.csv")
    holes = data.copy()
    holes.loc[[3, 10, 50], "alliance"] = np.nan
    fit = fit_growth(holes, outcome="outcome", fixed=["alliance", "baseline"])
    assert fit.n_dropped == 3
    assert fit.n_obs == len(data) - 3
    assert fit.n_clients == data["client_id"].nunique()
    assert fit.n_practitioners == data["practitioner_id"].nunique()


def test_clients_seen_by_two_practitioners_are_refused() -> None:
    data = pd.read_csv(REF / "balanced.csv")
    data.loc[data.index[0], "practitioner_id"] = "p07"  # c000 is p00's client
    with pytest.raises(DataValidationError, match="more than one practitioner"):
        fit_growth(data, outcome="outcome", fixed=["alliance"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.assign(outcome=3.0), "constant"),
        (lambda d: d.assign(practitioner_id="p00"), "only 1 practitioner"),
        (lambda d: d[d["client_id"].isin(["c000", "c001", "c002"])], "3 client"),
        (lambda d: d.drop(columns=["alliance"]), "not in the data"),
        (lambda d: d.assign(alliance="high"), "must be numeric"),
        (lambda d: d.assign(alliance=1.0), "collinear"),
        # one session per client: lme4 says "number of observations <= number of random effects"
        (lambda d: d[d["session"] == 1], "cannot be told apart"),
    ],
)
def test_bad_input_is_named(change, message: str) -> None:
    data = pd.read_csv(REF / "balanced.csv")
    with pytest.raises(DataValidationError, match=message):
        fit_growth(change(data), outcome="outcome", fixed=["alliance"])


def test_one_practitioner_can_be_fitted_without_the_practitioner_term() -> None:
    data = pd.read_csv(REF / "balanced.csv").assign(practitioner_id="p00")
    fit = fit_growth(data, outcome="outcome", fixed=["alliance"], practitioner=None)
    assert fit.converged
    assert "practitioner_id" not in set(fit.variance_components["group"])


@pytest.mark.parametrize("reml", [True, False])
def test_exact_gradient_matches_central_differences(reml: bool) -> None:
    s = _stats(pd.read_csv(REF / "unbalanced.csv"), FIXED["unbalanced"])
    theta = np.array([1.3, 0.2, 0.3, 0.7])
    grad = _mixed.evaluate(s, theta, reml, gradient=True).gradient
    h = 1e-5
    for i in range(4):
        e = np.eye(4)[i] * h
        num = (
            _mixed.evaluate(s, theta + e, reml).deviance
            - _mixed.evaluate(s, theta - e, reml).deviance
        ) / (2 * h)
        assert grad[i] == pytest.approx(num, rel=1e-6)


def test_a_fit_that_did_not_converge_says_so(monkeypatch) -> None:
    import dataclasses

    from harmonybridge.alliance import insights

    data = pd.read_csv(REF / "balanced.csv")
    fit = fit_growth(data, outcome="outcome", fixed=["alliance"])
    bad = dataclasses.replace(fit, converged=False, message="no convergence: test")
    assert "DID NOT CONVERGE" in bad.summary()
    assert "DID NOT CONVERGE" not in fit.summary()
    # the insights never pass a non-converged growth model on to be shown
    monkeypatch.setattr(insights, "fit_growth", lambda *a, **k: bad)
    long = pd.DataFrame(
        {
            "engagement_id": data["client_id"],
            "client_id": data["client_id"],
            "practitioner_id": data["practitioner_id"],
            "session": data["session"],
            "rater_role": "client",
            "respondent_id": data["client_id"],
            "instrument": "who5",
            "subscale": "",
            "score": data["outcome"],
        }
    )
    alliance = long.assign(instrument="hb_checkin", score=data["alliance"])
    res = insights.alliance_insights(pd.concat([long, alliance]), n_boot=0)
    assert res.outcomes[0].growth is None
    assert any("did not converge" in n for n in res.notes)


def test_the_blas_libraries_are_searched_once_per_process(monkeypatch) -> None:
    """A bootstrap refits the model ~200 times per figure; finding the BLAS libraries
    (reading /proc/self/maps, opening each library) on every fit cost about a fifth of
    the whole Insights fit. It is done once; each fit still runs BLAS on one thread."""
    import threadpoolctl

    searches = []
    real = threadpoolctl.ThreadpoolController._load_libraries
    monkeypatch.setattr(
        threadpoolctl.ThreadpoolController,
        "_load_libraries",
        lambda self: searches.append(1) or real(self),
    )
    _mixed._blas.cache_clear()
    s = _stats(pd.read_csv(REF / "balanced.csv"), FIXED["balanced"])
    threads = []
    real_optimise = _mixed._optimise

    def spy(*args):
        threads.append(
            {i["internal_api"]: i["num_threads"] for i in _mixed._blas().info()}
        )
        return real_optimise(*args)

    monkeypatch.setattr(_mixed, "_optimise", spy)
    fits = [_mixed.optimise(s, reml=True) for _ in range(3)]
    assert all(converged for _ev, converged, _msg in fits)
    assert len(searches) == 1
    blas = {"openblas", "mkl", "blis", "flexiblas"}
    assert len(threads) == 3
    assert all(blas & set(t) for t in threads)  # numpy's own OpenBLAS at least
    assert all(n == 1 for t in threads for api, n in t.items() if api in blas)
