"""Hand-worked tests of the dyadic alliance signals (docs/references.md; docs/alert-rules.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from harmonybridge.alliance import (
    alliance_norms,
    alliance_percentiles,
    dyadic_discrepancy,
    low_early_alliance,
    rupture_concordance,
    split_alliance,
    unrecognised_ruptures,
)
from harmonybridge.change import detect_ruptures


def _rows(engagement, respondent, role, scores, instrument=None, subscale=""):
    instrument = instrument or (
        "hb_checkin" if role == "client" else "hb_checkin_practitioner"
    )
    return [
        {
            "engagement_id": engagement,
            "respondent_id": respondent,
            "rater_role": role,
            "instrument": instrument,
            "subscale": subscale,
            "session": s,
            "score": v,
        }
        for s, v in enumerate(scores, start=1)
        if v is not None
    ]


def test_discrepancy_by_hand():
    # Reference: client 3, 4, 5 -> mean 4, SD 1; practitioner 3, 3.5, 4 ->
    # mean 3.5, SD 0.5.
    ref = pd.DataFrame(
        _rows("r1", "rc", "client", [3, 4, 5])
        + _rows("r1", "rp", "practitioner", [3, 3.5, 4])
    )
    norms = alliance_norms(ref)
    assert norms.set_index("rater_role").loc["client", "sd"] == pytest.approx(1.0)
    data = pd.DataFrame(
        _rows("e1", "c1", "client", [4.5, 3.0])
        + _rows("e1", "p1", "practitioner", [3.0, 4.0])
    )
    out = dyadic_discrepancy(data, norms=norms)
    # Session 1: z_client = (4.5 - 4) / 1 = 0.5, z_practitioner = (3 - 3.5) / .5
    # = -1, D = 1.5. Session 2: z_c = -1, z_p = (4 - 3.5) / .5 = 1, D = -2.
    assert list(out["discrepancy"]) == pytest.approx([1.5, -2.0])
    assert list(out["z_practitioner"]) == pytest.approx([-1.0, 1.0])
    assert list(out["respondent_id"]) == ["c1", "c1"]


def test_unrecognised_rupture_by_hand():
    client = [4.0, 4.2, 4.1, 3.0, 4.1]  # rupture at 4 (see test_ruptures V case)
    rows = (
        _rows("e1", "c1", "client", client)
        + _rows("e1", "p1", "practitioner", [4, 4, 4, 4, 4])  # no drop: unrecognised
        + _rows("e2", "c2", "client", client)
        + _rows("e2", "p2", "practitioner", [4, 4, 4, 3.5, 4])  # drop 4 - 3.5 = .5
        + _rows("e3", "c3", "client", client)
        + _rows("e3", "p3", "practitioner", [4, 4, 4, 4, 4])
        + _rows(
            "e3",
            "p3",
            "practitioner",
            [None, None, None, 1],
            subscale="rupture_present",
        )
    )
    data = pd.DataFrame(rows)
    ev = detect_ruptures(data, reference_sd=0.3)
    out = unrecognised_ruptures(data, ev)
    # Only e1: practitioner baseline (4 + 4 + 4) / 3 = 4, score 4, drop 0 <
    # 0.25 and no reported tension. e2 dropped 0.5; e3 reported tension.
    assert list(out["engagement_id"]) == ["e1"]
    assert out.loc[0, "onset_session"] == 4
    assert out.loc[0, "practitioner_drop"] == pytest.approx(0.0)


def test_split_alliance_by_hand():
    rows = (
        _rows("f1", "c1", "client", [4.5, 4.0])
        + _rows("f1", "c2", "client", [3.0, 3.5])
        + _rows("f1", "c3", "client", [4.0, None])
        + _rows("f2", "c9", "client", [1.0, 5.0])
    )
    out = split_alliance(pd.DataFrame(rows))
    # f1 session 1: 4.5 - 3.0 = 1.5 >= 1 -> split (3 members); session 2:
    # 4.0 - 3.5 = 0.5 -> no. f2 has one member -> never.
    assert len(out) == 1
    r = out.iloc[0]
    assert (r["engagement_id"], r["session"], r["n_members"]) == ("f1", 1, 3)
    assert (r["low_respondent_id"], r["high_respondent_id"]) == ("c2", "c1")
    assert r["gap"] == pytest.approx(1.5)
    assert split_alliance(pd.DataFrame(rows), min_gap=1.6).empty


def test_low_early_alliance_by_hand():
    ref = pd.DataFrame(
        [
            {
                "engagement_id": f"r{i}",
                "respondent_id": f"x{i}",
                "rater_role": "client",
                "instrument": "hb_checkin",
                "subscale": "",
                "session": 1,
                "score": float(i),
            }
            for i in range(1, 21)
        ]
    )
    pct = alliance_percentiles(ref)
    # Scores 1..20, linear quantile: position 19 * .25 = 4.75 -> 5 + .75 = 5.75.
    assert pct["quantile"].iloc[0] == pytest.approx(5.75)
    data = pd.DataFrame(
        _rows("e1", "c1", "client", [5.7])
        + _rows("e2", "c2", "client", [5.75])
        + _rows("e3", "c3", "client", [None, 1.0])  # session 2: no reference
    )
    out = low_early_alliance(data, percentiles=pct)
    assert list(out["engagement_id"]) == ["e1"]  # strictly below 5.75
    assert low_early_alliance(data, percentiles=pct, min_reference_n=21).empty


def test_rupture_concordance_by_hand():
    ev = pd.DataFrame(
        {
            "engagement_id": ["e1", "e1", "e1", "e1", "e2"],
            "rater": ["client", "client", "practitioner", "practitioner", "client"],
            "source": [
                "statistical",
                "client_report",
                "statistical",
                "practitioner_report",
                "statistical",
            ],
            "onset_session": [4, 9, 5, 12, 4],
        }
    )
    out = rupture_concordance(ev)
    # e1 client at 4: practitioner at 5 (|5 - 4| = 1 <= 1) -> flagged;
    # e1 client at 9: nearest practitioner onset 12 (3 > 1) -> not;
    # e2 has no practitioner events -> not.
    assert list(out["practitioner_flagged"]) == [True, False, False]
    assert out.loc[0, "practitioner_onset_session"] == 5
    assert pd.isna(out.loc[1, "practitioner_onset_session"])
    assert list(rupture_concordance(ev, window=3)["practitioner_flagged"]) == [
        True,
        True,
        False,
    ]
