"""Practice-level alliance figures, checked by hand calculations written out below."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harmonybridge.alliance import (
    alliance_by_modality,
    by_session,
    prediction_accuracy,
    reliable_change_summary,
    rupture_outcome,
)
from harmonybridge.errors import DataValidationError


def _row(e, p, s, role, inst, sub, score, **kw):
    return {
        "engagement_id": e,
        "client_id": f"c-{e}",
        "practitioner_id": p,
        "session": s,
        "rater_role": role,
        "respondent_id": p if role == "practitioner" else f"c-{e}",
        "instrument": inst,
        "subscale": sub,
        "score": score,
        **kw,
    }


def _checkins() -> pd.DataFrame:
    # practitioner A: predictions 4, 3, 5 against client totals 5, 3, 4
    #   bias = ((4-5) + (3-3) + (5-4)) / 3 = 0; r(pred, client) = corr([4,3,5],[5,3,4]) = .5
    #   client ruptures at sessions 2 (A predicted 3 <= 3: anticipated) and 3 (predicted 5,
    #   no practitioner rupture: missed) -> 1 of 2, sensitivity .5
    # practitioner B: prediction 5 vs client 3 (bias +2), client rupture, B reported one
    rows = []
    for s, (pred, cl, crupt, res) in enumerate(
        [(4, 5, 0, None), (3, 3, 1, 5), (5, 4, 1, 2)], start=1
    ):
        rows += [
            _row(
                "e1",
                "A",
                s,
                "practitioner",
                "hb_checkin_practitioner",
                "predicted_client_rating",
                pred,
            ),
            _row(
                "e1",
                "A",
                s,
                "practitioner",
                "hb_checkin_practitioner",
                "rupture_present",
                0,
            ),
            _row("e1", "A", s, "client", "hb_checkin", "", cl),
            _row("e1", "A", s, "client", "hb_checkin", "rupture_present", crupt),
            _row("e1", "A", s, "client", "hb_checkin", "rupture_resolution", res),
        ]
    rows += [
        _row(
            "e2",
            "B",
            1,
            "practitioner",
            "hb_checkin_practitioner",
            "predicted_client_rating",
            5,
        ),
        _row(
            "e2",
            "B",
            1,
            "practitioner",
            "hb_checkin_practitioner",
            "rupture_present",
            1,
        ),
        _row("e2", "B", 1, "client", "hb_checkin", "", 3),
        _row("e2", "B", 1, "client", "hb_checkin", "rupture_present", 1),
        _row("e2", "B", 1, "client", "hb_checkin", "rupture_resolution", 4),
    ]
    return pd.DataFrame(rows)


def test_prediction_accuracy_by_hand() -> None:
    out = prediction_accuracy(_checkins()).set_index("practitioner_id")
    a = out.loc["A"]
    assert a["n_sessions"] == 3
    assert a["bias"] == pytest.approx(0.0)
    assert a["r"] == pytest.approx(0.5)
    assert (a["n_client_ruptures"], a["n_anticipated"]) == (2, 1)
    assert a["sensitivity"] == 0.5
    b = out.loc["B"]
    assert b["bias"] == 2.0
    assert np.isnan(b["r"])  # one session: no correlation
    assert (b["n_client_ruptures"], b["n_anticipated"], b["sensitivity"]) == (1, 1, 1.0)


def test_prediction_accuracy_without_predictions_is_a_clear_error() -> None:
    d = _checkins()
    d = d[d["subscale"] != "predicted_client_rating"]
    with pytest.raises(DataValidationError, match="no practitioner predictions"):
        prediction_accuracy(d)


def test_rupture_outcome_groups_by_hand() -> None:
    long = _checkins()
    who = [
        _row("e1", "A", 1, "client", "who5", "", 40.0),
        _row(
            "e1", "A", 3, "client", "who5", "", 60.0
        ),  # change +20, rupture at 3 unresolved
        _row("e2", "B", 1, "client", "who5", "", 50.0),
        _row("e2", "B", 2, "client", "who5", "", 54.0),  # +4, rupture resolved (4 >= 4)
        _row("e3", "B", 1, "client", "who5", "", 30.0),
        _row("e3", "B", 2, "client", "who5", "", 36.0),  # +6, no rupture
        _row("e4", "B", 1, "client", "who5", "", 30.0),
        _row("e4", "B", 2, "client", "who5", "", 40.0),  # +10, no rupture
    ]
    long = pd.concat([long, pd.DataFrame(who)], ignore_index=True)
    wide = by_session(long, outcome="who5")
    out = rupture_outcome(long, wide, outcome="who5").set_index("group")
    assert out.loc["unrepaired", "mean_change"] == 20.0
    assert out.loc["repaired", "mean_change"] == 4.0
    # no rupture: mean (6 + 10)/2 = 8, sd = 2.828427, t(1, .975) = 12.7062 ->
    # half width 12.7062 * 2.828427 / sqrt(2) = 25.4124
    assert out.loc["no rupture", "mean_change"] == 8.0
    assert out.loc["no rupture", "ci_high"] == pytest.approx(8 + 25.4124, abs=1e-3)
    assert list(out["n_units"]) == [2, 1, 1]


def test_alliance_by_modality_by_hand() -> None:
    long = pd.DataFrame(
        [
            _row("e1", "A", 1, "client", "hb_checkin", "", 4.0, modality="video"),
            _row("e1", "A", 2, "client", "hb_checkin", "", 5.0, modality="video"),
            _row("e1", "A", 3, "client", "hb_checkin", "", 3.0, modality="phone"),
            _row("e1", "A", 1, "client", "who5", "", 40.0, modality="video"),
        ]
    )
    wide = by_session(long, outcome="who5")
    out = alliance_by_modality(wide, alliance="alliance_client").set_index("modality")
    assert out.loc["video", "mean"] == 4.5
    assert out.loc["video", "n_sessions"] == 2
    assert out.loc["phone", "n_sessions"] == 1
    with pytest.raises(DataValidationError, match="modality"):
        alliance_by_modality(wide.drop(columns=["modality"]))


def test_reliable_change_summary_counts_and_shrinks() -> None:
    # PHQ-9 (reliable change 6 points, caseness >= 10; lower is better):
    # e1 A 20 -> 5: recovered; e2 A 12 -> 11: unchanged; e3 B 8 -> 16: harmed (not
    # clinical at pre, clinical at post, reliably worse)
    rows = []
    for e, p, pre, post in (
        ("e1", "A", 20, 5),
        ("e2", "A", 12, 11),
        ("e3", "B", 8, 16),
    ):
        rows += [
            _row(e, p, 1, "client", "phq9", "", float(pre)),
            _row(e, p, 8, "client", "phq9", "", float(post)),
        ]
    out = reliable_change_summary(
        pd.DataFrame(rows),
        instrument="phq9",
        service_line=pd.Series({"e1": "x", "e2": "y", "e3": "x"}),
    )
    prac = out[out["level"] == "practice"].set_index("category")
    assert prac.loc["recovered", "n"] == 1
    assert prac.loc["harmed", "n"] == 1
    assert prac.loc["unchanged", "n"] == 1
    assert (prac["n_series"] == 3).all()
    sl = out[(out["level"] == "service_line") & (out["group"] == "x")].set_index(
        "category"
    )
    assert sl.loc["recovered", "n"] == 1
    assert sl.loc["harmed", "n"] == 1
    a = out[(out["level"] == "practitioner") & (out["group"] == "A")].set_index(
        "category"
    )
    # shrunken recovered for A: (1 + 10 * 1/3) / (2 + 10) = 0.361111
    assert a.loc["recovered", "shrunken"] == pytest.approx(0.361111, abs=1e-6)
    assert a.loc["recovered", "proportion"] == 0.5


def test_by_session_pivots_per_engagement_with_centring() -> None:
    # client c-1 has two engagements whose session numbers both start at 1
    rows = [
        _row("e1", "A", 1, "client", "who5", "", 40.0),
        _row("e1", "A", 1, "client", "hb_checkin", "", 4.0),
        _row("e1", "A", 1, "practitioner", "hb_checkin_practitioner", "", 3.0),
        _row("e1", "A", 1, "practitioner", "hb_checkin_practitioner", "goal", 1.0),
        _row("e1", "A", 2, "client", "who5", "", 50.0),
        _row("e1", "A", 2, "client", "hb_checkin", "", 5.0),
        _row("e9", "B", 1, "client", "who5", "", 70.0),
    ]
    long = pd.DataFrame(rows)
    long.loc[long["engagement_id"] == "e9", "client_id"] = "c-e1"
    wide = by_session(long, outcome="who5", center=True)
    assert list(zip(wide["engagement_id"], wide["session"], strict=True)) == [
        ("e1", 1),
        ("e1", 2),
        ("e9", 1),
    ]
    e1 = wide[wide["engagement_id"] == "e1"]
    assert e1["alliance_client"].tolist() == [4.0, 5.0]
    # the practitioner's goal subscale is not their total; mean needs both ratings
    assert e1["alliance_practitioner"].tolist()[0] == 3.0
    assert e1["alliance_mean"].tolist()[0] == 3.5
    assert np.isnan(e1["alliance_mean"].tolist()[1])
    assert e1["alliance_client_within"].tolist() == [-0.5, 0.5]
    assert e1["who5_between"].tolist() == [45.0, 45.0]
    with pytest.raises(DataValidationError, match="no scores for outcome"):
        by_session(long, outcome="phq9")


def test_by_session_refuses_two_totals_for_one_respondent_and_session() -> None:
    rows = [
        _row("e1", "A", 1, "client", "who5", "", 40.0),
        _row("e1", "A", 1, "client", "who5", "", 12.0),  # e.g. PHQ-9 filed as who5
    ]
    with pytest.raises(DataValidationError, match="mixed under one instrument"):
        by_session(pd.DataFrame(rows), outcome="who5")


def test_insights_with_one_practitioner_fit_without_that_level() -> None:
    from harmonybridge.alliance.insights import alliance_insights

    rng = np.random.default_rng(5)
    rows = []
    for e in range(12):
        for s in range(1, 7):
            a = 4 + rng.normal(0, 0.4)
            rows.append(_row(f"e{e}", "A", s, "client", "hb_checkin", "", a))
            rows.append(
                _row(
                    f"e{e}", "A", s, "client", "who5", "", 40 + 2 * s + rng.normal(0, 4)
                )
            )
    ins = alliance_insights(pd.DataFrame(rows), n_boot=0)
    who5 = ins.outcomes[0]
    assert who5.growth is not None
    assert who5.growth.practitioner is None
    assert any("one practitioner only" in n for n in ins.notes)
    assert any(
        "only 1 practitioner" in n for n in ins.notes
    )  # the ICC says why it is absent
