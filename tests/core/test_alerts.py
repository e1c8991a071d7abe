"""Hand-worked tests of every default alert rule (docs/alert-rules.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from harmonybridge.alerts import (
    RUPTURE_SUGGESTIONS,
    Alert,
    AlertContext,
    default_rules,
    evaluate_alerts,
    evaluate_alerts_frame,
    rules_from_records,
)
from harmonybridge.alliance import alliance_norms, alliance_percentiles
from harmonybridge.change.trajectories import TrajectoryFit
from harmonybridge.errors import DataValidationError

NAN = float("nan")


def _row(session, score, *, role="client", resp="c1", inst=None, sub="", eng="e1"):
    inst = inst or ("hb_checkin" if role == "client" else "hb_checkin_practitioner")
    return {
        "engagement_id": eng,
        "session": session,
        "rater_role": role,
        "respondent_id": resp,
        "instrument": inst,
        "subscale": sub,
        "score": score,
    }


def _dyad(client, practitioner, eng="e1"):
    rows = [_row(s, v, eng=eng) for s, v in enumerate(client, 1) if v is not None]
    rows += [
        _row(s, v, role="practitioner", resp="p1", eng=eng)
        for s, v in enumerate(practitioner, 1)
        if v is not None
    ]
    return rows


def _ids(alerts):
    return sorted(a.rule_id for a in alerts)


def _get(alerts, rule_id):
    found = [a for a in alerts if a.rule_id == rule_id]
    assert len(found) == 1, alerts
    return found[0]


def test_default_rule_table_ids_and_fields():
    ids = [r.rule_id for r in default_rules()]
    assert ids == [
        "rupture.client",
        "rupture.practitioner",
        "rupture.unrecognised",
        "rupture.self_report",
        "alliance.low_early",
        "alliance.gap",
        "alliance.split",
        "outcome.reliable_deterioration",
        "outcome.not_on_track",
        "outcome.sudden_loss",
        "outcome.reliable_improvement",
        "outcome.recovered",
        "safety.item",
    ]
    for r in default_rules():
        assert r.severity in ("info", "warning", "urgent")
        assert r.version >= 1
        assert r.enabled


def test_client_rupture_not_seen_by_practitioner():
    # Client: baseline (4 + 4.2 + 4.1) / 3 = 4.1; 3 earlier sessions (< 5), so the
    # practice's pooled SD 0.1 scales the drop: threshold max(2 * 0.1, two response
    # steps of the 3-item check-in = 2/3) = 0.667; drop 1.6 -> rupture.client.
    # Practitioner: baseline 4, score 4, drop 0 < 0.25 -> rupture.unrecognised. Raw
    # gap |2.5 - 4| = 1.5 >= fallback 1.5 -> alliance.gap (no norms in the context).
    hist = pd.DataFrame(_dyad([4, 4.2, 4.1, 2.5], [4, 4, 4, 4]))
    alerts = evaluate_alerts(hist, context=AlertContext(pooled_sd=0.1))
    assert _ids(alerts) == ["alliance.gap", "rupture.client", "rupture.unrecognised"]
    a = _get(alerts, "rupture.client")
    assert isinstance(a, Alert)
    assert (a.session, a.rater_role, a.respondent_id, a.instrument) == (
        4,
        "client",
        "c1",
        "hb_checkin",
    )
    assert a.severity == "warning"
    assert a.evidence["baseline"] == pytest.approx(4.1)
    assert a.evidence["score"] == pytest.approx(2.5)
    assert a.evidence["threshold"] == pytest.approx(2 / 3)
    assert a.suggestions == RUPTURE_SUGGESTIONS
    assert a.params["k_sd"] == 2.0
    assert a.message.endswith(".")
    assert "rupture" in a.message
    gap = _get(alerts, "alliance.gap")
    assert gap.evidence["discrepancy"] == pytest.approx(-1.5)
    assert gap.evidence["standardised"] == 0


def test_practitioner_also_drops():
    # Practitioner: baseline 4, score 3.0, drop 1.0 >= max(2 * 0.1, 2/3) ->
    # rupture.practitioner, so the client's rupture is recognised. Raw gap 0 < 1.
    hist = pd.DataFrame(_dyad([4, 4.2, 4.1, 3.0], [4, 4, 4, 3.0]))
    assert _ids(evaluate_alerts(hist, context=AlertContext(pooled_sd=0.1))) == [
        "rupture.client",
        "rupture.practitioner",
    ]


def test_alerts_concern_the_current_session_only():
    # The rupture of session 4 is not raised again when session 5 is saved.
    hist = pd.DataFrame(_dyad([4, 4.2, 4.1, 3.0, 4.1], [4, 4, 4, 3.5, 4]))
    ctx = AlertContext(pooled_sd=0.1)
    assert evaluate_alerts(hist, context=ctx) == []
    every = evaluate_alerts(hist, context=ctx, at="all")
    assert {a.session for a in every} == {4}


def test_self_reported_tension():
    rows = _dyad([4, 4, 4], [4, 4, 4])
    rows += [
        _row(3, 1, sub="rupture_present"),
        _row(3, 3, sub="rupture_intensity"),  # 3 >= tension_min 2
        _row(3, 2, sub="rupture_resolution"),  # 2 < resolved_min 4
    ]
    a = _get(evaluate_alerts(pd.DataFrame(rows)), "rupture.self_report")
    assert a.evidence == {"tension": 3.0, "resolution": 2.0, "resolved_in_session": 0}
    assert "not resolved" in a.message
    assert a.rater_role == "client"


def test_gap_standardised_with_norms():
    # Norms: client 3, 4, 5 -> mean 4, SD 1; practitioner 3, 3.5, 4 -> mean
    # 3.5, SD .5. Session 1: client 3.0 -> z = -1; practitioner 4.0 -> z = 1;
    # D = -2, |D| >= min_abs_z 2.0 -> alliance.gap. With client 3.6 (z = -.4)
    # D = -1.4 -> none.
    ref = pd.DataFrame(
        [_row(1, v, resp=f"r{v}", eng=f"r{v}") for v in (3, 4, 5)]
        + [
            _row(1, v, role="practitioner", resp=f"q{v}", eng=f"q{v}")
            for v in (3, 3.5, 4)
        ]
    )
    ctx = AlertContext(alliance_norms=alliance_norms(ref))
    a = _get(
        evaluate_alerts(pd.DataFrame(_dyad([3.0], [4.0])), context=ctx), "alliance.gap"
    )
    assert a.evidence["discrepancy"] == pytest.approx(-2.0)
    assert a.evidence["standardised"] == 1
    assert evaluate_alerts(pd.DataFrame(_dyad([3.6], [4.0])), context=ctx) == []


def test_split_alliance():
    rows = [_row(1, 4.5, resp="c1"), _row(1, 3.0, resp="c2")]
    a = _get(evaluate_alerts(pd.DataFrame(rows)), "alliance.split")
    # gap 4.5 - 3.0 = 1.5 >= 1.0; the alert names the lower-rating member.
    assert a.respondent_id == "c2"
    assert a.evidence["gap"] == pytest.approx(1.5)
    assert a.evidence["n_members"] == 2


def test_low_early_alliance_needs_reference():
    ref = pd.DataFrame(
        [_row(2, float(i), resp=f"x{i}", eng=f"x{i}") for i in range(1, 21)]
    )
    # Session 2 reference 1..20: 25th percentile 5.75 (see test_dyadic).
    ctx = AlertContext(alliance_percentiles=alliance_percentiles(ref))
    hist = pd.DataFrame([_row(1, 5.0), _row(2, 5.5)])
    a = _get(evaluate_alerts(hist, context=ctx), "alliance.low_early")
    assert a.evidence["reference_quantile"] == pytest.approx(5.75)
    assert evaluate_alerts(hist) == []  # no practice reference: no relative flag


def _phq(scores, eng="e1"):
    return pd.DataFrame(
        [_row(s, v, inst="phq9", eng=eng) for s, v in enumerate(scores, 1)]
    )


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        # PHQ-9 reliable change value 6 (inclusive), cut-off 10 (at or above).
        # +6 worse since intake, which is also the previous session (25% of 12 = 3)
        ([12, 18], ["outcome.reliable_deterioration", "outcome.sudden_loss"]),
        ([12, 17], []),  # +5: not reliable
        ([20, 14], ["outcome.reliable_improvement"]),  # -6, 14 still clinical
        # -6 and 9 < 10: one change, one alert with the stronger label
        ([15, 9], ["outcome.recovered"]),
        ([10, 6, 12], ["outcome.sudden_loss"]),  # 6 -> 12: +6 >= 6 and >= 25% of 6
        ([10, 16, 18], ["outcome.reliable_deterioration"]),  # 16 -> 18 only +2
        ([20, 18, 17, 16], ["outcome.not_on_track"]),  # session 4, only -4 since intake
        ([20, 18, 16], []),  # session 3 < check session 4
        ([20, 16, 12, 14], []),  # improvement first reached at 3, not repeated
    ],
)
def test_outcome_rules_phq9(scores, expected):
    assert _ids(evaluate_alerts(_phq(scores))) == sorted(expected)


def test_reliable_improvement_is_raised_once():
    got = [
        (a.session, a.rule_id)
        for a in evaluate_alerts(_phq([20, 16, 12, 14]), at="all")
    ]
    assert got == [(3, "outcome.reliable_improvement")]


def test_wellbeing_direction_who5():
    # WHO-5 (percentage, higher is better): reliable change 10 points;
    # 60 -> 48 is 12 points worse.
    hist = pd.DataFrame([_row(1, 60, inst="who5"), _row(2, 48, inst="who5")])
    assert _ids(evaluate_alerts(hist)) == ["outcome.reliable_deterioration"]


def test_not_on_track_with_curves():
    # Curve set of test_trajectories: intake 17, session 4: yellow bound
    # 11.885707, red bound 12.814471.
    fit = TrajectoryFit(
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
    ctx = AlertContext(curve_sets={"phq9": fit})
    a = _get(
        evaluate_alerts(_phq([17, 15, 13, 12.0]), context=ctx), "outcome.not_on_track"
    )
    assert a.evidence["status"] == "yellow"
    assert a.evidence["yellow_bound"] == pytest.approx(11.885707, rel=1e-6)
    assert a.evidence["curves"] == 1
    # 11.8 is within the expected band (and 5.2 better than intake: not reliable).
    assert evaluate_alerts(_phq([17, 15, 13, 11.8]), context=ctx) == []


def test_safety_item_from_item_level_data():
    hist = _phq([12, 11])
    items = pd.DataFrame(
        {
            "engagement_id": "e1",
            "session": 2,
            "respondent_id": "c1",
            "rater_role": "client",
            "instrument": "phq9",
            "item": [8, 9],
            "value": [2, 1],
        }
    )
    a = _get(evaluate_alerts(hist, items=items), "safety.item")
    assert a.severity == "urgent"
    assert a.evidence == {"item": 9, "value": 1}
    # Item 9 answered 0 (not > 0): no alert.
    assert evaluate_alerts(hist, items=items.assign(value=0)) == []


def test_rules_can_be_tuned_and_disabled():
    hist = pd.DataFrame(_dyad([4, 4.2, 4.1, 3.0], [4, 4, 4, 4]))
    rules = rules_from_records(
        [
            {"rule_id": "alliance.gap", "enabled": False},
            {"rule_id": "rupture.client", "severity": "urgent"},
            {
                "rule_id": "rupture.unrecognised",
                "params": {"practitioner_drop_min": 0.0},
            },
        ]
    )
    # 3 earlier sessions (< min_sd_history 5): the practice's pooled SD scales the drop
    alerts = evaluate_alerts(hist, context=AlertContext(rules=rules, pooled_sd=0.1))
    # practitioner drop 0 >= 0 now counts as noticing.
    assert _ids(alerts) == ["rupture.client"]
    assert alerts[0].severity == "urgent"
    with pytest.raises(DataValidationError, match="unknown rule_id"):
        rules_from_records([{"rule_id": "nope"}])
    with pytest.raises(DataValidationError, match="no parameter"):
        rules_from_records([{"rule_id": "alliance.gap", "params": {"zz": 1}}])


def test_one_engagement_only_and_bad_input():
    two = pd.DataFrame(_dyad([4], [4], eng="e1") + _dyad([4], [4], eng="e2"))
    with pytest.raises(DataValidationError, match="one engagement"):
        evaluate_alerts(two)
    with pytest.raises(DataValidationError, match="subscale"):
        evaluate_alerts(two[two["engagement_id"] == "e1"].drop(columns="subscale"))
    with pytest.raises(DataValidationError, match="at must be"):
        evaluate_alerts_frame(two, at="later")


def _practice(seed=3, n=25):
    rng = np.random.default_rng(seed)
    rows = []
    for e in range(n):
        t = int(rng.integers(2, 9))
        c = np.clip(4 + rng.normal(0, 0.4, t) - (rng.random(t) < 0.2) * 1.2, 1, 5)
        p = np.clip(4 + rng.normal(0, 0.4, t), 1, 5)
        rows += _dyad(list(c), list(p), eng=f"e{e}")
        if e % 5 == 0:  # a family engagement: a second client member
            rows += [
                _row(s, float(v), resp="c2", eng=f"e{e}") for s, v in enumerate(p, 1)
            ]
        phq = np.clip(np.round(15 + np.cumsum(rng.normal(-1, 3, t))), 0, 27)
        rows += [
            _row(s, float(v), inst="phq9", eng=f"e{e}") for s, v in enumerate(phq, 1)
        ]
        tension = rng.random(t) < 0.3
        rows += [
            _row(s, float(v), sub="rupture_present", eng=f"e{e}")
            for s, v in enumerate(tension, 1)
        ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("at", ["current", "all"])
def test_frame_equals_per_engagement_loop(at):
    data = _practice()
    ref = _practice(seed=9, n=60)
    ctx = AlertContext.from_reference(ref, fit_curves=False)
    frame = evaluate_alerts_frame(data, context=ctx, at=at)
    assert len(frame) > 20  # not vacuous
    assert frame["rule_id"].nunique() >= 5
    looped = [
        dataclasses.asdict(a)
        for _, h in data.groupby("engagement_id", sort=True)
        for a in evaluate_alerts(h, context=ctx, at=at)
    ]
    key = ["engagement_id", "session", "rule_id", "respondent_id"]
    got = frame.sort_values(key, ignore_index=True)
    want = pd.DataFrame(looped).sort_values(key, ignore_index=True)
    assert list(got.columns) == list(want.columns)
    for col in got.columns:
        assert [_plain(v) for v in got[col]] == [_plain(v) for v in want[col]], col


def _plain(v):
    """Compare NaN as None and numpy scalars as Python numbers."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, float | np.floating) and np.isnan(v):
        return None
    return v.item() if isinstance(v, np.generic) else v


def test_context_from_reference():
    ref = _practice(seed=9, n=60)
    ctx = AlertContext.from_reference(ref, fit_curves=False)
    assert set(ctx.pooled_sd) == {"client", "practitioner"}
    assert ctx.alliance_norms is not None
    assert set(ctx.alliance_norms["rater_role"]) == {"client", "practitioner"}
    assert ctx.alliance_percentiles is not None


def test_missing_sessions_are_skipped_and_empty_history_is_quiet():
    # PHQ-9 20, (missed), 26: the previous observed score is 20, +6 >= 6 and
    # >= 25% of 20 -> sudden loss; +6 since intake -> reliable deterioration.
    assert _ids(evaluate_alerts(_phq([20, NAN, 26]))) == [
        "outcome.reliable_deterioration",
        "outcome.sudden_loss",
    ]
    # An intake that was not answered: the first answered session is the intake.
    assert evaluate_alerts(_phq([NAN, 20, 23])) == []
    empty = _phq([12]).iloc[:0]
    assert evaluate_alerts(empty) == []
    assert list(evaluate_alerts_frame(empty).columns) == [
        "rule_id",
        "rule_version",
        "severity",
        "engagement_id",
        "session",
        "rater_role",
        "respondent_id",
        "instrument",
        "params",
        "evidence",
        "message",
        "suggestions",
    ]


# --- issue 11 item 3: the rupture floor follows the instrument's resolution ----------


def test_one_step_dip_at_the_ceiling_is_not_a_rupture():
    # 5, 5, 5, 5, 4.67 on the 3-item check-in: a drop of one response step (1/3).
    # Before: own SD 0 -> threshold max(0, 0.25) = 0.25 and a rupture.client warning
    # with depth "inf". Now the smallest drop that counts is two steps (2/3), and with
    # 4 earlier sessions (< 5) the SD is the practice's pooled reference.
    hist = pd.DataFrame(_dyad([5, 5, 5, 5, 14 / 3], [5, 5, 5, 5, 5]))
    assert evaluate_alerts(hist, context=AlertContext(), at="all") == []
    assert evaluate_alerts(hist, context=AlertContext(pooled_sd=0.1), at="all") == []


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        # Earlier 4, 4, 4.333, 4, 4, 4: mean 4.0556, squared deviations 5 x .00309 +
        # .0772 = .0926, own SD sqrt(.0926 / 5) = 0.136 (6 sessions >= 5); threshold
        # max(2 x 0.136, 2/3) = 2/3. Baseline mean(4, 4, 4) = 4; 3.333: drop 2/3 -> yes.
        ([4.0, 4.0, 13 / 3, 4.0, 4.0, 4.0, 10 / 3], ["rupture.client"]),
        # Earlier 3, 4.333, 3.667, 4.667, 3.333, 4: mean 3.8333, squared deviations
        # .6944 + .25 + .0278 + .6944 + .25 + .0278 = 1.9444, SD sqrt(1.9444 / 5) =
        # 0.624; threshold max(1.247, 2/3) = 1.247. Baseline mean(4.667, 3.333, 4) = 4;
        # 3.333: the same two-step drop is within this client's normal variation.
        ([3.0, 13 / 3, 11 / 3, 14 / 3, 10 / 3, 4.0, 10 / 3], []),
    ],
)
def test_two_step_drop_after_a_variable_baseline(client, expected):
    # No pooled reference: sessions with fewer than 5 earlier ones are not judged.
    hist = pd.DataFrame(_dyad(client, [4.0] * len(client)))
    alerts = evaluate_alerts(hist, context=AlertContext(), at="all")
    assert [a.rule_id for a in alerts if a.rule_id == "rupture.client"] == expected
    if expected:
        a = _get(alerts, "rupture.client")
        assert a.session == 7
        assert a.evidence["threshold"] == pytest.approx(2 / 3)
