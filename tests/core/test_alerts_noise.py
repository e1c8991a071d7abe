"""Less noise: one alert per change, and no expected-response curve where it does not
apply (several people of one engagement answer the instrument)."""

from __future__ import annotations

import pandas as pd

from harmonybridge.alerts import AlertContext, evaluate_alerts
from harmonybridge.change.trajectories import TrajectoryFit
from tests.core.test_alerts import _ids, _row

# The curve set of tests/core/test_alerts.py::test_not_on_track_with_curves: intake 17,
# session 4 -> yellow bound 11.885707 (hand-checked there against test_trajectories).
FIT = TrajectoryFit(
    method="mixedlm",
    higher_is_better=False,
    centre=15.0,
    coefficients={"g00": 12.0, "g01": 0.8, "g10": -3.0, "g11": -0.3},
    variance={"tau00": 4.0, "tau01": -0.5, "tau11": 1.0, "sigma2": 2.0},
    n_clients=1000,
    n_observations=7000,
    converged=True,
    fitted_on="2026-01-01",
    instrument="phq9",
    rc_value=6.0,
    cutoff=10.0,
    clinical_when="at_or_above",
)


def _phq(person: str, scores: list[float]) -> list[dict]:
    return [_row(s, v, inst="phq9", resp=person) for s, v in enumerate(scores, 1)]


def test_improved_and_recovered_for_one_score_is_one_alert():
    # PHQ-9 15 -> 9: a reliable improvement (-6 >= 6) that also crosses the cut-off 10.
    alerts = evaluate_alerts(pd.DataFrame(_phq("c1", [15, 9])), at="all")
    assert [(a.session, a.rule_id) for a in alerts] == [(2, "outcome.recovered")]


def test_improvement_before_recovery_stays_its_own_alert():
    # 20 -> 14 (reliable, still clinical) then 14 -> 8 (recovered): two changes.
    alerts = evaluate_alerts(pd.DataFrame(_phq("c1", [20, 14, 8])), at="all")
    assert [(a.session, a.rule_id) for a in alerts] == [
        (2, "outcome.reliable_improvement"),
        (3, "outcome.recovered"),
    ]


def test_a_curve_for_one_person_does_not_judge_a_family():
    ctx = AlertContext(curve_sets={"phq9": FIT})
    alone = evaluate_alerts(pd.DataFrame(_phq("c1", [17, 15, 13, 12.0])), context=ctx)
    assert _ids(alone) == ["outcome.not_on_track"]  # yellow against the curve
    both = pd.DataFrame(_phq("c1", [17, 15, 13, 12.0]) + _phq("c2", [17, 15, 13, 12.0]))
    alerts = evaluate_alerts(both, context=ctx)
    # 17 -> 12 is -5, short of reliable change 6, but session 4 >= the check session:
    # the rule without curves may still speak; the curve never does.
    assert all(a.evidence.get("curves") != 1 for a in alerts), alerts
