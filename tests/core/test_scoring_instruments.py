"""Exact scoring of every shipped instrument against hand-worked examples."""

from __future__ import annotations

import math

import pytest

from harmonybridge.errors import DataValidationError
from harmonybridge.instruments import get, ids


def spread(total: int, n: int, lo: int, hi: int) -> dict[int, int]:
    """Answers for items 1..n whose sum is ``total``: fill items up to ``hi`` in order."""
    answers, rest = {}, total - lo * n
    for number in range(1, n + 1):
        extra = min(hi - lo, rest)
        answers[number] = lo + extra
        rest -= extra
    assert rest == 0, "test helper asked for an impossible total"
    return answers


# --- PHQ-9: items 1-9 scored 0-3, sum 0-27, prorate with <= 2 missing (sum * 9 / n) ------


def test_phq9_minimum_and_maximum():
    low = get("phq9").score(dict.fromkeys(range(1, 10), 0))
    high = get("phq9").score(dict.fromkeys(range(1, 10), 3))
    assert (low.total, low.band, low.clinical, low.safety) == (0, "minimal", False, ())
    # 9 items x 3 = 27
    assert (high.total, high.band, high.clinical) == (27, "severe", True)
    assert [r.item for r in high.safety] == [9]


@pytest.mark.parametrize(
    ("answers", "expected", "n_missing", "prorated"),
    [
        # 8 answered (above the minimum of 7): 1+2+3+0+1+2+3+1 = 13; 13 * 9 / 8 = 14.625
        ({1: 1, 2: 2, 3: 3, 4: 0, 5: 1, 6: 2, 7: 3, 8: 1}, 14.625, 1, True),
        # 7 answered (at the minimum): 1+2+3+0+1+2+3 = 12; 12 * 9 / 7 = 15.428571...
        ({1: 1, 2: 2, 3: 3, 4: 0, 5: 1, 6: 2, 7: 3}, 12 * 9 / 7, 2, True),
        # 6 answered (one below the minimum): no score
        ({1: 1, 2: 2, 3: 3, 4: 0, 5: 1, 6: 2}, None, 3, False),
        # all 9 answered: plain sum 1+2+3+0+1+2+3+1+0 = 13
        ({1: 1, 2: 2, 3: 3, 4: 0, 5: 1, 6: 2, 7: 3, 8: 1, 9: 0}, 13, 0, False),
    ],
)
def test_phq9_prorating_boundaries(answers, expected, n_missing, prorated):
    res = get("phq9").score(answers)
    assert (
        res.total == pytest.approx(expected, abs=0, rel=1e-15)
        if expected
        else res.total is None
    )
    assert (res.n_missing, res.prorated) == (n_missing, prorated)
    if expected is None:
        assert "at least 7" in res.reason
        assert (res.band, res.clinical) == (None, None)


@pytest.mark.parametrize(
    ("total", "band", "clinical"),
    # Kroenke 2001 bands 0-4, 5-9, 10-14, 15-19, 20-27; >= 10 probable depression
    [(4, "minimal", False), (5, "mild", False), (9, "mild", False), (10, "moderate", True),
     (14, "moderate", True), (15, "moderately severe", True), (19, "moderately severe", True),
     (20, "severe", True), (24, "severe", True)],
)  # fmt: skip
def test_phq9_bands_at_boundaries(total, band, clinical):
    answers = spread(total, 8, 0, 3) | {9: 0}
    res = get("phq9").score(answers)
    assert (res.total, res.band, res.clinical, res.safety) == (
        total,
        band,
        clinical,
        (),
    )


def test_phq9_prorated_score_is_banded_unrounded():
    # 7 answered summing to 7: 7 * 9 / 7 = 9.0 -> mild; summing to 8: 72 / 7 = 10.29 -> moderate
    assert get("phq9").score(spread(7, 7, 0, 3)).band == "mild"
    res = get("phq9").score(spread(8, 7, 0, 3))
    assert (res.total, res.band, res.clinical) == (
        pytest.approx(72 / 7),
        "moderate",
        True,
    )


@pytest.mark.parametrize(
    ("item9", "fires"), [(0, False), (1, True), (3, True), (None, False)]
)
def test_phq9_item9_safety_flag_is_independent_of_total(item9, fires):
    res = get("phq9").score(dict.fromkeys(range(1, 9), 0) | {9: item9})
    assert res.has_safety_flag is fires
    assert res.band == "minimal"  # total 0 or 1 (or 0 * 9/8) stays minimal


def test_phq9_difficulty_item_is_not_scored():
    base = dict.fromkeys(range(1, 10), 1)
    assert get("phq9").score(base | {10: 3}).total == 9
    assert get("phq9").score(base).n_missing == 0


# --- GAD-7: items 1-7 scored 0-3, sum 0-21, prorate with <= 1 missing ------------------


@pytest.mark.parametrize(
    ("answers", "expected", "prorated"),
    [
        # 7 answered: 3*5 + 2 + 1 = 18
        ({1: 3, 2: 3, 3: 3, 4: 3, 5: 3, 6: 2, 7: 1}, 18, False),
        # 6 answered (at minimum): 3*5 + 2 = 17; 17 * 7 / 6 = 19.8333...
        ({1: 3, 2: 3, 3: 3, 4: 3, 5: 3, 6: 2}, 17 * 7 / 6, True),
        # 5 answered (below): no score
        ({1: 3, 2: 3, 3: 3, 4: 3, 5: 3}, None, False),
    ],
)
def test_gad7_prorating_boundaries(answers, expected, prorated):
    res = get("gad7").score(answers)
    assert (
        res.total == expected
        if expected is None
        else res.total == pytest.approx(expected)
    )
    assert res.prorated is prorated


@pytest.mark.parametrize(
    ("total", "band", "clinical"),
    # Spitzer 2006: 5/10/15 = mild/moderate/severe bands; caseness >= 8 (NHS Talking
    # Therapies Manual, paired with its reliable-change value 4; docs/references.md)
    [(0, "minimal", False), (4, "minimal", False), (5, "mild", False), (7, "mild", False),
     (8, "mild", True), (9, "mild", True),
     (10, "moderate", True), (14, "moderate", True), (15, "severe", True), (21, "severe", True)],
)  # fmt: skip
def test_gad7_bands_at_boundaries(total, band, clinical):
    res = get("gad7").score(spread(total, 7, 0, 3))
    assert (res.total, res.band, res.clinical) == (total, band, clinical)


def test_gad7_has_no_safety_item():
    assert get("gad7").score(dict.fromkeys(range(1, 8), 3)).safety == ()


# --- WHO-5: 5 items 0-5, raw sum x 4 = 0-100, all items required -------------------------


@pytest.mark.parametrize(
    ("answers", "expected", "band", "clinical"),
    [
        ({1: 0, 2: 0, 3: 0, 4: 0, 5: 0}, 0, "likely depression", True),
        ({1: 5, 2: 5, 3: 5, 4: 5, 5: 5}, 100, "adequate well-being", False),  # 25 x 4
        (
            {1: 3, 2: 3, 3: 3, 4: 3, 5: 1},
            52,
            "adequate well-being",
            False,
        ),  # raw 13 x 4
        (
            {1: 3, 2: 3, 3: 3, 4: 3, 5: 0},
            48,
            "poor well-being",
            True,
        ),  # raw 12 x 4 < 52
        (
            {1: 2, 2: 2, 3: 1, 4: 1, 5: 1},
            28,
            "likely depression",
            True,
        ),  # raw 7 x 4 <= 28
        ({1: 2, 2: 2, 3: 2, 4: 1, 5: 1}, 32, "poor well-being", True),  # raw 8 x 4
    ],
)
def test_who5_transform_bands_and_cutoff(answers, expected, band, clinical):
    res = get("who5").score(answers)
    assert (res.total, res.band, res.clinical, res.prorated) == (
        expected,
        band,
        clinical,
        False,
    )


def test_who5_needs_all_five_items():
    res = get("who5").score({1: 5, 2: 5, 3: 5, 4: 5})  # one below the minimum of 5
    assert res.total is None
    assert res.n_missing == 1
    assert "at least 5" in res.reason


# --- SWLS: 5 items 1-7, sum 5-35, prorate with <= 1 missing ------------------------------


@pytest.mark.parametrize(
    ("answers", "expected", "band"),
    [
        (dict.fromkeys(range(1, 6), 1), 5, "extremely dissatisfied"),
        (dict.fromkeys(range(1, 6), 7), 35, "extremely satisfied"),
        # 4 answered (at minimum): 5+5+5+6 = 21; 21 * 5 / 4 = 26.25 -> satisfied (26-30)
        ({1: 5, 2: 5, 3: 5, 4: 6}, 26.25, "satisfied"),
        # 4 answered summing to 16: 16 * 5 / 4 = 20 -> neutral
        ({1: 4, 2: 4, 3: 4, 5: 4}, 20, "neutral"),
        # 3 answered (below): no score
        ({1: 5, 2: 5, 3: 5}, None, None),
    ],
)
def test_swls_scores_and_prorating(answers, expected, band):
    res = get("swls").score(answers)
    assert (res.total, res.band) == (expected, band)


@pytest.mark.parametrize(
    ("total", "band"),
    # Diener's classic bands: 5-9, 10-14, 15-19, 20, 21-25, 26-30, 31-35
    [(9, "extremely dissatisfied"), (10, "dissatisfied"), (14, "dissatisfied"),
     (15, "slightly dissatisfied"), (19, "slightly dissatisfied"), (20, "neutral"),
     (21, "slightly satisfied"), (25, "slightly satisfied"), (26, "satisfied"),
     (30, "satisfied"), (31, "extremely satisfied")],
)  # fmt: skip
def test_swls_bands_at_boundaries(total, band):
    assert get("swls").score(spread(total, 5, 1, 7)).band == band


# --- Flourishing Scale: 8 items 1-7, sum 8-56, prorate with <= 1 missing -----------------


@pytest.mark.parametrize(
    ("answers", "expected", "band"),
    [
        (dict.fromkeys(range(1, 9), 1), 8, "bottom 10%"),
        (dict.fromkeys(range(1, 9), 7), 56, "top 10%"),
        # 7 answered (at minimum): 6*6 + 5 = 41; 41 * 8 / 7 = 46.857 -> (43, 47]
        (
            {1: 6, 2: 6, 3: 6, 4: 6, 5: 6, 6: 6, 7: 5},
            41 * 8 / 7,
            "33rd to 60th percentile",
        ),
        # 6 answered (below): no score
        ({1: 6, 2: 6, 3: 6, 4: 6, 5: 6, 6: 6}, None, None),
    ],
)
def test_fs_scores_and_prorating(answers, expected, band):
    res = get("fs").score(answers)
    assert res.band == band
    assert (
        res.total == expected
        if expected is None
        else res.total == pytest.approx(expected)
    )


@pytest.mark.parametrize(
    ("total", "band"),
    # author percentiles: <=36 bottom 10%, <=43 bottom 33%, <=47 bottom 60%, <=52 bottom 90%
    [(36, "bottom 10%"), (37, "10th to 33rd percentile"), (43, "10th to 33rd percentile"),
     (44, "33rd to 60th percentile"), (47, "33rd to 60th percentile"),
     (48, "60th to 90th percentile"), (52, "60th to 90th percentile"), (53, "top 10%")],
)  # fmt: skip
def test_fs_bands_at_boundaries(total, band):
    assert get("fs").score(spread(total, 8, 1, 7)).band == band


# --- WAI-SR / WAI-SR-T: item means 1-5; task 1,2,10,12; bond 3,5,7,9; goal 4,6,8,11 ------


@pytest.mark.parametrize("instrument", ["wai_sr", "wai_sr_t"])
def test_wai_subscale_key(instrument):
    task, bond, goal = (1, 2, 10, 12), (3, 5, 7, 9), (4, 6, 8, 11)
    answers = dict.fromkeys(task, 5) | dict.fromkeys(bond, 1) | dict.fromkeys(goal, 3)
    res = get(instrument).score(answers)
    # total mean = (4*5 + 4*1 + 4*3) / 12 = 36 / 12 = 3
    assert res.total == 3.0
    assert dict(res.subscales) == {"goal": 3.0, "task": 5.0, "bond": 1.0}


@pytest.mark.parametrize("value", [1, 5])
def test_wai_sr_minimum_and_maximum(value):
    res = get("wai_sr").score(dict.fromkeys(range(1, 13), value))
    assert (res.total, *res.subscales.values()) == (value, value, value, value)


def test_wai_sr_prorating_boundaries():
    inst = get("wai_sr")
    full = {n: (n % 5) + 1 for n in range(1, 13)}  # 2,3,4,5,1,2,3,4,5,1,2,3
    # 11 answered (drop item 1, value 2): (sum 35 - 2) / 11 = 3.0
    above = inst.score({k: v for k, v in full.items() if k != 1})
    assert (above.total, above.n_missing, above.prorated) == (33 / 11, 1, True)
    # task without item 1: items 2, 10, 12 = 3, 1, 3 -> 7 / 3 (3 of 4 is enough)
    assert above.subscales["task"] == pytest.approx(7 / 3)
    # 10 answered (drop items 1 and 3, values 2 and 4): (35 - 6) / 10 = 2.9
    at = inst.score({k: v for k, v in full.items() if k not in (1, 3)})
    assert at.total == pytest.approx(2.9)
    # 9 answered: no total
    below = inst.score({k: v for k, v in full.items() if k not in (1, 3, 5)})
    assert below.total is None
    assert "at least 10" in below.reason
    # bond lost items 3 and 5 -> 2 of 4 answered: no bond score; goal intact
    assert below.subscales["bond"] is None
    assert below.subscales["goal"] == pytest.approx((5 + 2 + 4 + 2) / 4)


# --- SAI: 6 items (scale 0-6, unverified), composite = item mean, >= 5 answered ----------


def test_sai_composite_and_prorating():
    inst = get("sai")
    assert inst.score(dict.fromkeys(range(1, 7), 0)).total == 0
    assert inst.score(dict.fromkeys(range(1, 7), 6)).total == 6
    # 5 answered (at minimum): (6+5+4+3+2) / 5 = 4
    assert inst.score({1: 6, 2: 5, 3: 4, 4: 3, 5: 2}).total == 4
    assert inst.score({1: 6, 2: 5, 3: 4, 4: 3}).total is None


# --- check-ins and rupture items ---------------------------------------------------------


@pytest.mark.parametrize("instrument", ["hb_checkin", "hb_checkin_practitioner"])
def test_checkin_total_is_mean_of_goal_task_bond(instrument):
    inst = get(instrument)
    res = inst.score({1: 4, 2: 5, 3: 3, 4: 1, 5: 2, 6: 4})
    assert res.total == 4.0  # (4 + 5 + 3) / 3
    assert dict(res.subscales) == {"goal": 4.0, "task": 5.0, "bond": 3.0}
    ruptures = {k: v for k, v in res.derived.items() if k.startswith("rupture_")}
    assert ruptures == {
        "rupture_present": 1, "rupture_intensity": 2, "rupture_resolution": 4,
    }  # fmt: skip
    assert inst.score(dict.fromkeys((1, 2, 3), 1)).total == 1
    assert inst.score(dict.fromkeys((1, 2, 3), 5)).total == 5


def test_practitioner_prediction_item_is_optional_and_unscored():
    inst = get("hb_checkin_practitioner")
    item = inst.items[6]
    assert item.number == 7
    assert "How do you think your client rated" in item.text["en"]
    assert item.required is False
    assert item.scale == inst.items[0].scale  # the client's 1-5 agreement scale
    without = inst.score({1: 4, 2: 5, 3: 3, 4: 0})
    with_low = inst.score({1: 4, 2: 5, 3: 3, 4: 0, 7: 1})
    with_high = inst.score({1: 4, 2: 5, 3: 3, 4: 0, 7: 5})
    # (4 + 5 + 3) / 3 = 4 whatever the prediction: not part of the total or subscales
    assert without.total == with_low.total == with_high.total == 4.0
    assert dict(without.subscales) == dict(with_high.subscales)
    assert without.derived["predicted_client_rating"] is None
    assert with_low.derived["predicted_client_rating"] == 1
    assert "predicted_client_rating" not in get("hb_checkin").derived_items


def test_checkin_needs_all_three_alliance_items():
    res = get("hb_checkin").score({1: 4, 2: 5, 4: 0})
    assert res.total is None
    assert res.subscales["bond"] is None
    assert res.subscales["goal"] == 4
    assert res.derived["rupture_present"] == 0


def test_rupture_follow_ups_are_ignored_without_a_rupture():
    res = get("hb_checkin").score({1: 4, 2: 4, 3: 4, 4: 0, 5: 5, 6: 1})
    assert dict(res.derived) == {
        "rupture_present": 0, "rupture_intensity": None, "rupture_resolution": None,
    }  # fmt: skip


def test_psq_rupture_has_derived_scores_only():
    res = get("psq_rupture").score({1: 1, 2: 4, 3: 2})
    assert res.total is None
    assert dict(res.derived) == {
        "rupture_present": 1, "rupture_intensity": 4, "rupture_resolution": 2,
    }  # fmt: skip
    assert get("psq_rupture").score({}).derived["rupture_present"] is None


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({1: 7}, 7.0),
        ({1: 7, 2: 4, 3: None}, 5.5),
        ({1: 0, 2: 10, 3: 5}, 5.0),
        ({}, None),
    ],
)
def test_goal_progress_is_mean_of_rated_goals(answers, expected):
    res = get("goal_progress").score(answers)
    assert res.total == expected
    assert (res.n_missing, res.prorated) == (0, False)
    assert res.derived["goal_1"] == answers.get(1)


# --- reverse keys -------------------------------------------------------------------------


@pytest.mark.parametrize("instrument", ids())
def test_shipped_instruments_have_no_reverse_keyed_items(instrument):
    # docs/references.md: PHQ-9, GAD-7, WHO-5, SWLS, FS, WAI-SR (MEM) have none; ours neither
    assert not any(it.reverse for it in get(instrument).items)


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({11: 1}, ["item 11", "items are 1, 2"]),
        ({1: 4}, ["item 1", "4", "allowed: 0, 1, 2, 3"]),
        ({1: -1}, ["item 1", "-1", "allowed"]),
        ({1: 1.5}, ["item 1", "1.5", "allowed"]),
        ({2: "often"}, ["item 2", "'often'", "not a number"]),
        ({2: True}, ["item 2", "True", "not a number"]),
        ({"x": 1}, ["item 'x'"]),
    ],
)
def test_bad_answers_are_rejected_with_item_and_value(answers, words):
    with pytest.raises(DataValidationError) as err:
        get("phq9").score(answers)
    for word in words:
        assert word in str(err.value)


def test_missing_values_may_be_none_nan_or_empty():
    res = get("who5").score({1: 5, 2: None, 3: math.nan, 4: "", 5: "5"})
    assert (res.total, res.n_missing) == (None, 3)


@pytest.mark.parametrize(
    ("instrument", "lowest", "highest"),
    [
        ("phq9", 0, 27),  # 9 items x 0..3
        ("gad7", 0, 21),  # 7 items x 0..3
        ("who5", 0, 100),  # 5 items x 0..5, x 4
        ("swls", 5, 35),  # 5 items x 1..7
        ("fs", 8, 56),  # 8 items x 1..7
        ("wai_sr", 1, 5),  # item mean of 1..5
        ("wai_sr_t", 1, 5),
        ("sai", 0, 6),  # item mean of 0..6 (scale unverified)
        ("psq_rupture", None, None),  # no total, derived scores only
        ("hb_checkin", 1, 5),  # mean of items 1-3 on 1..5
        ("hb_checkin_practitioner", 1, 5),
        ("goal_progress", 0, 10),  # mean of goals rated 0..10
    ],
)
def test_minimum_and_maximum_of_every_instrument(instrument, lowest, highest):
    inst = get(instrument)
    low = {it.number: inst.scales[it.scale].min for it in inst.items}
    high = {it.number: inst.scales[it.scale].max for it in inst.items}
    assert inst.score(low).total == lowest
    assert inst.score(high).total == highest
