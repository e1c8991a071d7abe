"""Issue 11 item 2: one reliable-change rule for the dashboard, the report, the alert
rules, the expected-response curves and ``reliable_change``.

The same (pre, post) changes go through all five; each must give the same category.
Boundaries are the published values, which are inclusive (NHS Talking Therapies
Manual: PHQ-9 >= 6 points, GAD-7 >= 4; WHO-5 guidance: 10 percentage points; see
docs/references.md).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from harmonybridge import schema
from harmonybridge.alerts import AlertContext, evaluate_alerts
from harmonybridge.change import reliable_change
from harmonybridge.change.trajectories import TrajectoryFit, classify_progress
from harmonybridge.reports.html import analyze_scores
from harmonybridge.web.insights.dashboard import change_rows

# (instrument, pre, post, category by hand from the published value and cut-off)
CASES = [
    ("phq9", 15.0, 9.0, "recovered"),  # -6 (inclusive), 15 clinical -> 9 not (>= 10)
    ("phq9", 15.0, 10.0, "unchanged"),  # -5 < 6
    ("phq9", 12.0, 7.0, "unchanged"),  # -5: the example
    ("phq9", 20.0, 14.0, "improved"),  # -6, still clinical
    ("phq9", 12.0, 18.0, "deteriorated"),  # +6 from clinical
    ("phq9", 3.0, 9.0, "deteriorated"),  # +6, not clinical at either end: not harmed
    ("phq9", 4.0, 10.0, "harmed"),  # +6, not clinical -> clinical
    ("gad7", 12.0, 7.0, "recovered"),  # -5 >= 4, 12 >= 8 -> 7 < 8
    ("gad7", 12.0, 9.0, "unchanged"),  # -3 < 4
    ("who5", 40.0, 52.0, "recovered"),  # +12, 40 < 52 -> 52 not below 52
    ("who5", 60.0, 50.0, "harmed"),  # -10 (inclusive)
    ("who5", 60.0, 52.0, "unchanged"),  # -8
    # computed criterion (no published value): SD 5, reliability .875 -> S_diff =
    # 5 * sqrt(2 * .125) = 2.5 exactly; reliable when |change| / 2.5 > 1.96 (strict,
    # Jacobson & Truax 1991), i.e. |change| > 4.9
    (
        "phq9_computed",
        15.0,
        10.0,
        "recovered",
    ),  # rci -2.0, 15 clinical -> 10 not (> 10)
    ("phq9_computed", 15.0, 10.2, "unchanged"),  # rci -1.92
    ("phq9_computed", 9.0, 14.0, "harmed"),  # rci +2.0, functional -> clinical
]


def _frame(cases):
    rows = []
    for i, (inst, pre, post, _) in enumerate(cases):
        for session, score in ((1, pre), (2, post)):
            rows.append(
                {
                    schema.ENGAGEMENT_ID: f"e{i}",
                    schema.SESSION: session,
                    schema.RATER_ROLE: "client",
                    schema.RESPONDENT_ID: f"r{i}",
                    schema.INSTRUMENT: inst,
                    schema.SUBSCALE: "",
                    schema.SCORE: score,
                }
            )
    return pd.DataFrame(rows)


def _from_alerts(ids):
    if "outcome.recovered" in ids:
        return "recovered"
    if "outcome.reliable_improvement" in ids:
        return "improved"
    if "outcome.reliable_deterioration" in ids:
        return "worse"
    return "unchanged"


def _worse(c):
    return "worse" if c in ("deteriorated", "harmed") else c


@pytest.fixture
def computed_instrument(monkeypatch):
    """A PHQ-9 twin without a published value, with SD 5 and reliability .875."""
    import dataclasses

    from harmonybridge import instruments
    from harmonybridge.instruments import Cutoff, Norm
    from harmonybridge.instruments._loader import _registry

    phq9 = instruments.get("phq9")
    twin = dataclasses.replace(
        phq9,
        id="phq9_computed",
        rc_value=None,
        sd=Norm(5.0, "test", sample="clinical test sample", n=100),
        reliability=Norm(0.875, "test"),
        cutoff=Cutoff(10.0, "above", "test"),
    )
    monkeypatch.setitem(_registry(), "phq9_computed", twin)


@pytest.mark.usefixtures("computed_instrument")
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0]}-{c[1]:g}-{c[2]:g}")
def test_same_category_everywhere(case):
    inst, _pre, _post, expected = case
    data = _frame([case])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        core = reliable_change(data, id=schema.RESPONDENT_ID, instrument=inst)
        report = analyze_scores(data, curves=False).reliable_change
        dash = change_rows(data, inst, {})
        alerts = evaluate_alerts(data, context=AlertContext(), at="all")
        fit = TrajectoryFit.from_dict(
            {
                "method": "rational",
                "higher_is_better": inst == "who5",
                "centre": None,
                "coefficients": {},
                "variance": {},
                "n_clients": 0,
                "n_observations": 0,
                "converged": True,
                "fitted_on": "test",
                "instrument": inst,
                "rc_value": {"phq9": 6.0, "gad7": 4.0, "who5": 10.0}.get(inst),
                "sd": 5.0 if inst == "phq9_computed" else None,
                "reliability": 0.875 if inst == "phq9_computed" else None,
            }
        )
        progress = classify_progress(data, fit)
    assert core["category"].iloc[0] == expected
    assert str(report["category"].iloc[0]) == expected
    assert dash[0]["category"] == expected
    assert _from_alerts({a.rule_id for a in alerts}) == _worse(expected)
    last = progress.iloc[-1]
    traj = (
        "better"
        if last["reliable_improvement"]
        else "worse"
        if last["reliable_deterioration"]
        else "unchanged"
    )
    assert (
        traj
        == {
            "recovered": "better",
            "improved": "better",
            "deteriorated": "worse",
            "harmed": "worse",
            "unchanged": "unchanged",
        }[expected]
    )
    if inst == "phq9_computed":
        assert core["s_diff"].iloc[0] == pytest.approx(2.5)
    else:
        assert np.isnan(core["rci"].iloc[0])  # published value governs: no 2nd verdict
