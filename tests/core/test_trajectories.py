"""Tests of expected-treatment-response curves, bands and progress colours (Finch, Lambert & Schaalje 2001)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from harmonybridge.change.trajectories import (
    TrajectoryFit,
    classify_progress,
    fit_trajectories,
    predict_bands,
)
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

TRUE = {"g00": 12.0, "g01": 0.8, "g10": -3.0, "g11": -0.3}
TRUE_VAR = {"tau00": 4.0, "tau01": -0.5, "tau11": 1.0, "sigma2": 2.0}


def _fit_dict(**over):
    d = {
        "method": "mixedlm",
        "higher_is_better": False,
        "centre": 15.0,
        "coefficients": dict(TRUE),
        "variance": dict(TRUE_VAR),
        "n_clients": 1000,
        "n_observations": 7000,
        "converged": True,
        "fitted_on": "2026-01-01",
        "instrument": "phq9",
        "instrument_version": "1",
        "rc_value": 100.0,  # out of reach: these tests look at the bands only
        "sd": None,
        "reliability": None,
        "cutoff": None,
        "clinical_when": None,
        "library_version": "test",
    }
    d.update(over)
    return d


def _simulate(n, n_sessions, seed):
    rng = np.random.default_rng(seed)
    y1 = rng.normal(15, 4, n)
    c = np.median(y1)
    chol = np.linalg.cholesky(np.array([[4.0, -0.5], [-0.5, 1.0]]))
    u = (chol @ rng.normal(size=(2, n))).T
    lnt = np.log(np.arange(2, n_sessions + 1))
    yc = (y1 - c)[:, None]
    y = (
        TRUE["g00"]
        + TRUE["g01"] * yc
        + (TRUE["g10"] + TRUE["g11"] * yc) * lnt
        + u[:, :1]
        + u[:, 1:] * lnt
        + rng.normal(0, math.sqrt(TRUE_VAR["sigma2"]), (n, n_sessions - 1))
    )
    return pd.DataFrame(
        {
            "engagement_id": np.repeat(np.arange(n), n_sessions),
            "respondent_id": "c",
            "session": np.tile(np.arange(1, n_sessions + 1), n),
            "score": np.column_stack([y1, y]).ravel(),
        }
    )


@pytest.mark.slow
def test_recovers_known_parameters():
    # Data simulated from the Finch et al. (2001) model with the TRUE values above.
    fit = fit_trajectories(_simulate(1000, 8, seed=7), higher_is_better=False)
    assert fit.method == "mixedlm"
    assert fit.converged
    se = dict(zip(TRUE, np.asarray(fit.raw.bse_fe), strict=True))
    for k, v in TRUE.items():
        assert abs(fit.coefficients[k] - v) < 4 * se[k], k
    assert fit.variance["sigma2"] == pytest.approx(2.0, rel=0.1)
    assert fit.variance["tau00"] == pytest.approx(4.0, rel=0.35)
    assert fit.variance["tau11"] == pytest.approx(1.0, rel=0.35)
    assert fit.variance["tau01"] == pytest.approx(-0.5, abs=0.35)
    assert fit.n_clients == 1000


def test_band_boundaries():
    fit = TrajectoryFit.from_dict(_fit_dict())
    # Intake 17 (yc = 2), session 4 (ln 4 = 1.386294):
    # E = 12 + 0.8*2 + (-3 - 0.3*2) * 1.386294 = 13.6 - 4.990660 = 8.609340
    # V = 4 + 2*1.386294*(-0.5) + 1.386294^2*1 + 2 = 6.535518, sd = 2.556466
    # yellow = 8.609340 + 1.2816*2.556466 = 11.885707
    # red    = 8.609340 + 1.6449*2.556466 = 12.814471
    b = predict_bands(fit, 17, 4).iloc[0]
    assert b["expected"] == pytest.approx(8.609340, rel=1e-6)
    assert b["sd"] == pytest.approx(2.556466, rel=1e-6)
    assert b["yellow_bound"] == pytest.approx(11.885707, rel=1e-6)
    assert b["red_bound"] == pytest.approx(12.814471, rel=1e-6)
    yb, rb = b["yellow_bound"], b["red_bound"]
    eps = 1e-6
    cases = {"a": yb, "b": yb + eps, "c": rb, "d": rb + eps}
    rows = [
        {"engagement_id": k, "respondent_id": "c", "session": s, "score": v}
        for k, y in cases.items()
        for s, v in ((1, 17.0), (4, y))
    ]
    out = classify_progress(pd.DataFrame(rows), fit)
    got = dict(
        zip(
            out["engagement_id"][out["session"] == 4],
            out["status"][out["session"] == 4],
            strict=True,
        )
    )
    # Exactly on a boundary belongs to the better colour (<= as documented in classify_progress).
    assert got == {"a": "green", "b": "yellow", "c": "yellow", "d": "red"}
    assert out.loc[out["session"] == 1, "status"].isna().all()
    first = out.groupby("engagement_id")["first_not_session"].first()
    assert pd.isna(first["a"])
    assert first["b"] == 4


def test_higher_is_better_bands_are_mirrored():
    # Same curve set on a negated (wellbeing) scale: the yellow bound lies
    # below the expected score.
    fit = TrajectoryFit.from_dict(_fit_dict(higher_is_better=True))
    b = predict_bands(fit, -17, 4).iloc[0]
    assert b["expected"] == pytest.approx(-8.609340, rel=1e-6)
    assert b["yellow_bound"] == pytest.approx(-11.885707, rel=1e-6)


def test_rational_fallback_rules():
    df = pd.DataFrame(
        {
            "engagement_id": "e1",
            "respondent_id": "c1",
            "session": [1, 2, 3, 4, 5, 6],
            "score": [20, 27, 18, 15, 14, 9],
        }
    )
    with pytest.warns(HarmonyBridgeWarning, match="rational"):
        fit = fit_trajectories(df, instrument="phq9")
    assert fit.method == "rational"
    out = classify_progress(df, fit)
    # PHQ-9: reliable change 6 (inclusive), clinical at >= 10, check session 4.
    # s2: 27 - 20 = +7 worse -> red; s3: 18, session 3 < 4 -> green;
    # s4: 20 - 15 = 5 < 6 -> yellow; s5: 6 points better -> green;
    # s6: 9 is below the cut-off 10 -> white.
    assert pd.isna(out["status"].iloc[0])  # intake has no colour
    assert list(out["status"].iloc[1:]) == ["red", "green", "yellow", "green", "white"]
    assert set(out["first_not_session"]) == {2}


def test_curve_set_round_trips_through_json():
    fit = TrajectoryFit.from_dict(_fit_dict())
    again = TrajectoryFit.from_dict(json.loads(json.dumps(fit.to_dict())))
    assert again == fit
    rational = TrajectoryFit.from_dict(
        _fit_dict(
            method="rational",
            centre=float("nan"),
            coefficients=dict.fromkeys(TRUE, float("nan")),
        )
    )
    back = TrajectoryFit.from_dict(json.loads(json.dumps(rational.to_dict())))
    assert back.method == "rational"
    assert math.isnan(back.coefficients["g00"])
    assert "rational" in back.summary()


def test_bad_input():
    df = pd.DataFrame(
        {"engagement_id": [1], "respondent_id": [1], "session": [1], "score": [3]}
    )
    with pytest.raises(DataValidationError, match="higher_is_better"):
        fit_trajectories(df)
    with pytest.raises(DataValidationError, match="unknown field"):
        TrajectoryFit.from_dict({**_fit_dict(), "colour": 1})
    with pytest.raises(DataValidationError, match="rational"):
        predict_bands(TrajectoryFit.from_dict(_fit_dict(method="rational")), 10, 2)


def test_calibrate_bands_by_hand():
    from harmonybridge.change.trajectories import calibrate_bands

    fit = TrajectoryFit.from_dict(_fit_dict(rc_value=6.0))
    # Intake 17; session 4 bounds: yellow 11.885707, red 12.814471 (see
    # test_band_boundaries). Last session 5 decides the end result (PHQ-like
    # reliable change 6): A 17-13-12 flagged (both z), poor (-5);
    # B 17-12-10 flagged at z_yellow only, good (-7); C 17-11-16 not
    # flagged, poor; D 17-10-9 not flagged, good; E has 2 sessions: left out.
    seqs = {
        "A": [17, 13, 12],
        "B": [17, 12, 10],
        "C": [17, 11, 16],
        "D": [17, 10, 9],
        "E": [17, 20],
    }
    rows = [
        {"engagement_id": k, "respondent_id": "c", "session": s, "score": float(v)}
        for k, seq in seqs.items()
        for s, v in zip((1, 4, 5), seq, strict=False)  # E stops after session 4
    ]
    out = calibrate_bands(fit, pd.DataFrame(rows), z_values=(1.2816, 1.6449)).set_index(
        "z"
    )
    assert list(out["n_series"]) == [4, 4]
    assert list(out["n_poor"]) == [2, 2]
    assert list(out["n_flagged"]) == [2, 1]
    # z_yellow: sensitivity 1/2 (A of A, C), false alarms 1/2 (B of B, D), ppv 1/2.
    assert out.loc[1.2816, ["sensitivity", "false_alarm_rate", "ppv"]].tolist() == [
        0.5,
        0.5,
        0.5,
    ]
    # z_red: only A flagged: 1/2, 0/2, 1/1.
    assert out.loc[1.6449, ["sensitivity", "false_alarm_rate", "ppv"]].tolist() == [
        0.5,
        0.0,
        1.0,
    ]
    det = calibrate_bands(
        fit, pd.DataFrame(rows), z_values=(1.2816,), outcome="deterioration"
    )
    assert det.loc[0, "n_poor"] == 0
    assert np.isnan(det.loc[0, "sensitivity"])
