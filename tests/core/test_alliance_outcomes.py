"""Alliance–outcome analyses against R.

Reference: tests/core/reference/alliance/analyses_lme4.R (R 4.2.2, lme4 1.1.31) on the seeded
synthetic wide.csv (make_data.py), output analyses_reference.csv:
- association: cor.test(early, final) and cor.test(early, final - first), early = mean
  alliance over sessions 1-3 (Fisher z CI, as cor.test);
- lagged: lmer(who5_next ~ who5 + within + between + session + (1 + session | engagement_id)
  + (1 | practitioner_id), REML = TRUE) on consecutive-session pairs, within = alliance -
  engagement mean; BOBYQA tightened but not Newton-polished, hence 1e-5 relative here (the
  polished comparison is in test_alliance_growth.py);
- ICC: lmer(y ~ 1 + (1 | engagement_id) + (1 | practitioner_id), REML = TRUE) and bootMer
  (parametric, 400 simulations, percentile);
- response surface: lm(who5 ~ C + P + I(C^2) + I(C*P) + I(P^2)) with both ratings centred
  at their pooled mean, a1-a5 as linear combinations with SEs from vcov();
- agreement: cor.test(client, practitioner), t.test(client - practitioner), mean/sd (d_z).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonybridge.alliance import (
    agreement,
    association,
    lagged_model,
    practitioner_icc,
    response_surface,
)
from harmonybridge.alliance.outcomes import fisher_ci, lagged_frame
from harmonybridge.errors import DataValidationError

REF = Path(__file__).parent / "reference" / "alliance"


@pytest.fixture(scope="module")
def wide() -> pd.DataFrame:
    return pd.read_csv(REF / "wide.csv")


@pytest.fixture(scope="module")
def ref() -> dict[tuple[str, str], float]:
    r = pd.read_csv(REF / "analyses_reference.csv")
    return {(a, n): float(v) for a, n, v in r.itertuples(index=False)}


def test_fisher_ci_by_hand() -> None:
    # r = .5, n = 28: z = atanh(.5) = 0.549306, SE = 1/5 = 0.2, z ± 1.959964·0.2
    # = (0.157313, 0.941299) -> tanh = (0.156029, 0.735818)
    lo, hi = fisher_ci(0.5, 28)
    assert lo == pytest.approx(0.156029, abs=1e-6)
    assert hi == pytest.approx(0.735818, abs=1e-6)


def test_association_matches_cor_test(wide, ref) -> None:
    out = association(
        wide, outcome="who5", alliance=["alliance_client", "alliance_practitioner"]
    )
    for row in out.itertuples(index=False):
        key = f"association_{row.target}_{row.alliance}"
        assert row.n_units == ref[(key, "n")]
        assert row.r == pytest.approx(ref[(key, "r")], rel=1e-10)
        assert row.ci_low == pytest.approx(ref[(key, "ci_low")], rel=1e-10)
        assert row.ci_high == pytest.approx(ref[(key, "ci_high")], rel=1e-10)
        assert row.r2 == pytest.approx(row.r**2)
        assert row.n_practitioners == 10
    assert set(out["reference_r"]) == {0.278}


def test_lagged_model_matches_lmer(wide, ref) -> None:
    res = lagged_model(wide, outcome="who5", alliance="alliance_client")
    c = res.coefficients.set_index("term")
    assert res.n_pairs == ref[("lagged", "n_pairs")]
    assert res.fit.converged
    for term in ("within", "between"):
        assert c.loc[term, "estimate"] == pytest.approx(ref[("lagged", term)], rel=1e-5)
        assert c.loc[term, "std_error"] == pytest.approx(
            ref[("lagged", f"{term}_se")], rel=1e-5
        )
    assert res.fit.loglik == pytest.approx(ref[("lagged", "logLik")], rel=1e-9)
    assert "not proof" in res.caveat


def test_lagged_pairs_are_consecutive_sessions_only() -> None:
    w = pd.DataFrame(
        {
            "engagement_id": ["e1"] * 4,
            "practitioner_id": ["p1"] * 4,
            "session": [1, 2, 4, 5],
            "y": [10.0, 11.0, 13.0, 15.0],
            "alliance_client": [3.0, 4.0, 5.0, 4.0],
        }
    )
    pairs = lagged_frame(w, outcome="y")
    # (1,2) and (4,5) only; the mean alliance is 4, so within = -1 and +1
    assert list(pairs["session"]) == [1, 4]
    assert list(pairs["outcome_next"]) == [11.0, 15.0]
    assert list(pairs["alliance_within"]) == [-1.0, 1.0]
    detr = lagged_frame(w, outcome="y", detrend=True)
    # OLS of alliance on session: slope = Σ(s-3)(a-4)/Σ(s-3)² = (2·-1 + 1·... ) by hand:
    # s-3 = -2,-1,1,2; a-4 = -1,0,1,0 -> Sxy = 2+0+1+0 = 3, Sxx = 10, slope 0.3
    # trend at s=1: 4 + 0.3·(-2) = 3.4 -> within 3 - 3.4 = -0.4; at s=4: 4.3 -> 0.7
    assert detr["alliance_within"].tolist() == pytest.approx([-0.4, 0.7])


@pytest.mark.parametrize("column", ["who5", "alliance_client"])
def test_practitioner_icc_matches_lmer(wide, ref, column) -> None:
    res = practitioner_icc(wide, column=column, n_boot=400)
    key = f"icc_{column}"
    assert res.icc == pytest.approx(ref[(key, "icc")], rel=1e-5)
    assert res.variance_practitioner == pytest.approx(
        ref[(key, "var_practitioner")], rel=1e-5
    )
    assert res.variance_unit == pytest.approx(ref[(key, "var_unit")], rel=1e-5)
    assert res.n_practitioners == 10
    assert res.n_units == 80
    assert "parametric bootstrap" in res.method
    # Monte Carlo: our seeded bootstrap vs bootMer's with its own seed, 400 draws each
    assert res.ci_low == pytest.approx(ref[(key, "boot_low")], abs=0.04)
    assert res.ci_high == pytest.approx(ref[(key, "boot_high")], abs=0.06)
    assert res.ci_low <= res.icc <= res.ci_high


def test_response_surface_matches_lm(wide, ref) -> None:
    out = response_surface(wide, outcome="who5").set_index("term")
    for term in ("b1", "b2", "b3", "b4", "b5", "a1", "a2", "a3", "a4", "a5"):
        assert out.loc[term, "estimate"] == pytest.approx(ref[("rsa", term)], rel=1e-9)
        assert out.loc[term, "std_error"] == pytest.approx(
            ref[("rsa", f"{term}_se")], rel=1e-9
        )
    assert (out["n_sessions"] == 503).all()


def test_agreement_matches_cor_test_and_t_test(wide, ref) -> None:
    out = agreement(wide).set_index("statistic")
    assert out.loc["r", "estimate"] == pytest.approx(ref[("agreement", "r")], rel=1e-10)
    assert out.loc["r", "ci_low"] == pytest.approx(
        ref[("agreement", "r_low")], rel=1e-10
    )
    assert out.loc["mean_difference", "ci_high"] == pytest.approx(
        ref[("agreement", "md_high")], rel=1e-10
    )
    assert out.loc["paired_d", "estimate"] == pytest.approx(
        ref[("agreement", "paired_d")], rel=1e-10
    )
    assert out.loc["r", "n"] == ref[("agreement", "n")]


def test_agreement_summarises_dyadic_discrepancy(wide) -> None:
    disc = pd.DataFrame(
        {"engagement_id": ["a", "a", "b"], "discrepancy": [-1.0, 0.0, 1.0]}
    )
    out = agreement(wide, discrepancy=disc).set_index("statistic")
    # mean 0, SD 1, t(2, .975) = 4.302653 -> CI ±4.302653/√3 = ±2.484138
    row = out.loc["mean_standardised_discrepancy"]
    assert row["estimate"] == 0.0
    assert row["ci_high"] == pytest.approx(2.484138, abs=1e-6)
    assert row["n"] == 3


def test_bad_input_messages(wide) -> None:
    with pytest.raises(DataValidationError, match="missing"):
        association(wide.drop(columns=["who5"]), outcome="who5")
    with pytest.raises(DataValidationError, match="only 1 practitioner"):
        practitioner_icc(wide.assign(practitioner_id="p00"), column="who5", n_boot=0)
    with pytest.raises(DataValidationError, match="constant"):
        practitioner_icc(wide.assign(who5=1.0), column="who5", n_boot=0)
    with pytest.raises(DataValidationError, match="at least 12"):
        response_surface(wide.head(5), outcome="who5")
    few = association(wide.head(8), outcome="who5", alliance="alliance_client")
    assert few["r"].isna().all()
    assert np.all(few["n_units"] < 4)
