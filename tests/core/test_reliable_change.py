"""Reliable and clinically significant change (Jacobson & Truax 1991; docs/references.md)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from harmonybridge import instruments, schema
from harmonybridge.change import reliable_change, s_diff
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

OUT_COLUMNS = [
    "client_id",
    "pre",
    "post",
    "rci",
    "s_diff",
    "category",
    "sd_source",
    "reliability_source",
    "criterion",
]


def _pairs(pairs, ids=None):
    """Long frame with sessions 1 and 2 for each (pre, post) pair."""
    rows = []
    for i, (pre, post) in enumerate(pairs):
        cid = ids[i] if ids else i + 1
        rows += [(cid, 1, pre), (cid, 2, post)]
    return pd.DataFrame(rows, columns=["client_id", "session", "score"])


# --- S_diff reference values ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sd", "rel", "se", "sdiff", "rc", "tol"),
    [
        # suddengains::define_crit1_cutoff (R suddengains 0.7.2) reference values:
        # SD of sgdata$bdi_s0 = 6.396073, r = .931 -> SE 1.680111, S_diff 2.376036, 1.96*S_diff 4.65703
        (6.396073, 0.931, 1.680111, 2.376036, 4.65703, 5e-6),
        # same function, SD 10.5, r .961 -> 2.073584, 2.93249, 5.747681
        (10.5, 0.961, 2.073584, 2.93249, 5.747681, 5e-6),
        # SWLS worked example (Diener et al. 1985 SD 6.43, retest .82):
        # SE = 6.43*sqrt(.18) = 2.728, S_diff = 3.858, reliable change >= 7.56
        (6.43, 0.82, 2.728, 3.858, 7.56, 5e-3),
    ],
)
def test_s_diff_matches_define_crit1_cutoff(sd, rel, se, sdiff, rc, tol):
    # tol: half a unit in the last published decimal place
    got = s_diff(sd, rel)
    assert got / math.sqrt(2) == pytest.approx(se, abs=tol)
    assert got == pytest.approx(sdiff, abs=tol)
    assert 1.96 * got == pytest.approx(rc, abs=tol)


def test_swls_worked_rci_example():
    # SWLS (higher is better), S_diff = 3.858 (Diener et al. 1985). A client moving 15 -> 23 changes by 8
    # points: RCI = 8 / 3.858 = 2.074 > 1.96 -> reliable improvement; 15 -> 22 (7 < 7.56
    # points): RCI = 1.814 -> unchanged. Cut-off 20 (hand-chosen): 15 is clinical, 23 functional.
    data = _pairs([(15, 23), (15, 22)])
    out = reliable_change(
        data, sd=6.43, reliability=0.82, cutoff=20, higher_is_better=True
    )
    assert out["rci"].tolist() == pytest.approx([8 / 3.858, 7 / 3.858], abs=1e-3)
    assert out["category"].tolist() == ["recovered", "unchanged"]
    assert out["s_diff"].iloc[0] == pytest.approx(3.858, abs=5e-4)


# --- categories, both directions ------------------------------------------------------------

# Hand-worked: sd = 1, reliability = .5 -> SE = sqrt(.5), S_diff = sqrt(2 * .5) = 1 exactly, so
# RCI = post - pre. Lower is better, cut-off 10 (clinical above 10, functional below 10).
LOWER_CASES = [
    (
        (20.0, 5.0),
        "recovered",
    ),  # RCI -15, clinical pre (20 > 10), functional post (5 < 10)
    ((20.0, 12.0), "improved"),  # RCI -8, still clinical after
    ((20.0, 19.0), "unchanged"),  # RCI -1
    ((12.0, 15.0), "deteriorated"),  # RCI +3, clinical before and after: not harmed
    ((5.0, 15.0), "harmed"),  # RCI +10, functional (5) -> clinical (15)
    ((5.0, 2.0), "improved"),  # reliable, but never clinical: not recovered
    (
        (20.0, 10.0),
        "improved",
    ),  # post exactly on the cut-off is not functional (clinicalsignificance convention)
    (
        (10.0, 15.0),
        "harmed",
    ),  # pre exactly on the cut-off is not clinical -> harmed rule holds
]


@pytest.mark.parametrize(("pair", "expected"), LOWER_CASES)
def test_categories_lower_is_better(pair, expected):
    out = reliable_change(
        _pairs([pair]), sd=1, reliability=0.5, cutoff=10, higher_is_better=False
    )
    assert out["s_diff"].iloc[0] == 1.0
    assert out["rci"].iloc[0] == pair[1] - pair[0]
    assert out["category"].iloc[0] == expected


@pytest.mark.parametrize(("pair", "expected"), LOWER_CASES)
def test_categories_mirror_higher_is_better(pair, expected):
    # The same cases on a mirrored scale (x -> -x, cut-off -10, higher is better) give the same
    # categories; the RCI changes sign.
    mirrored = (-pair[0], -pair[1])
    out = reliable_change(
        _pairs([mirrored]), sd=1, reliability=0.5, cutoff=-10, higher_is_better=True
    )
    assert out["rci"].iloc[0] == -(pair[1] - pair[0])
    assert out["category"].iloc[0] == expected


def test_output_columns_types_and_order():
    data = _pairs([(20, 5), (5, 15)], ids=["b", "a"])
    out = reliable_change(
        data, sd=1, reliability=0.5, cutoff=10, higher_is_better=False
    )
    assert list(out.columns) == OUT_COLUMNS
    assert out["client_id"].tolist() == ["a", "b"]  # sorted by the key
    assert isinstance(out["category"].dtype, pd.CategoricalDtype)
    assert out["category"].cat.ordered
    assert tuple(out["category"].cat.categories) == schema.CHANGE_CATEGORIES
    assert out["sd_source"].tolist() == ["argument", "argument"]
    assert out["reliability_source"].tolist() == ["argument", "argument"]


# --- boundaries -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("post", "expected"),
    [
        (1.96, "unchanged"),  # RCI = 1.96/1 = 1.96 exactly: |RCI| > z is strict (J&T)
        (2.0, "harmed"),  # RCI 2.0 > 1.96: reliable; functional 0 -> post 2 > cut-off 1
    ],
)
def test_rci_exactly_at_z_is_not_reliable(post, expected):
    # S_diff = 1 (sd 1, r .5); pre 0, lower is better, cut-off 1.
    out = reliable_change(
        _pairs([(0.0, post)]), sd=1, reliability=0.5, cutoff=1, higher_is_better=False
    )
    assert out["category"].iloc[0] == expected


def test_custom_z_boundary():
    # RCI = 2 exactly with z = 2 -> not reliable; 2.5 -> reliable deterioration (clinical both).
    out = reliable_change(
        _pairs([(20.0, 22.0), (20.0, 22.5)]),
        sd=1,
        reliability=0.5,
        cutoff=10,
        higher_is_better=False,
        z=2,
    )
    assert out["category"].tolist() == ["unchanged", "deteriorated"]


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        (
            (16.0, 10.0),
            "improved",
        ),  # drop of exactly 6 >= 6 (inclusive); 10 is not < 10
        ((16.0, 11.0), "unchanged"),  # drop of 5
        (
            (15.0, 9.0),
            "recovered",
        ),  # 6 points, from clinical (15 > 10) to functional (9)
        ((9.0, 15.0), "harmed"),  # rise of exactly 6
        ((11.0, 16.0), "unchanged"),  # rise of 5
    ],
)
def test_rc_value_is_inclusive(pair, expected):
    out = reliable_change(_pairs([pair]), rc_value=6, cutoff=10, higher_is_better=False)
    assert out["category"].iloc[0] == expected
    assert np.isnan(out["rci"].iloc[0])
    assert np.isnan(out["s_diff"].iloc[0])
    assert out["sd_source"].isna().all()


def test_pre_and_post_are_first_and_last_observed_sessions():
    data = pd.DataFrame(
        {
            "client_id": [1, 1, 1, 1, 1],
            "session": [4, 1, 2, 3, 5],
            "score": [12.0, np.nan, 20.0, 15.0, np.nan],
        }
    )
    out = reliable_change(
        data, sd=1, reliability=0.5, cutoff=10, higher_is_better=False
    )
    # first observed session 2 (20), last observed session 4 (12)
    assert out[["pre", "post"]].iloc[0].tolist() == [20.0, 12.0]


def test_list_id_and_custom_columns():
    data = pd.DataFrame(
        {
            "eng": ["e1", "e1", "e1", "e1"],
            "who": ["x", "x", "y", "y"],
            "t": [1, 2, 1, 2],
            "total": [20.0, 5.0, 20.0, 19.0],
        }
    )
    out = reliable_change(
        data,
        id=["eng", "who"],
        time="t",
        score="total",
        sd=1,
        reliability=0.5,
        cutoff=10,
        higher_is_better=False,
    )
    assert list(out.columns[:2]) == ["eng", "who"]
    assert out["category"].tolist() == ["recovered", "unchanged"]


def test_sd_pre_uses_sample_sd_of_pre_scores():
    # pre scores 10, 20 -> sample SD = 7.0711; r = .5 -> S_diff = 7.0711 * 1 = 7.0711
    data = _pairs([(10.0, 10.0), (20.0, 20.0)])
    out = reliable_change(
        data, sd="pre", reliability=0.5, cutoff=15, higher_is_better=False
    )
    assert out["s_diff"].iloc[0] == pytest.approx(math.sqrt(50.0))
    assert out["sd_source"].iloc[0].startswith("sample SD of the pre scores")


def test_missing_and_single_observation_series_are_reported():
    data = pd.DataFrame(
        {
            "client_id": [1, 1, 2, 2, 3],
            "session": [1, 2, 1, 2, 1],
            "score": [20.0, 5.0, np.nan, np.nan, 7.0],
        }
    )
    with pytest.warns(
        HarmonyBridgeWarning, match="1 series have no observed score and 1 only"
    ):
        out = reliable_change(
            data, sd=1, reliability=0.5, cutoff=10, higher_is_better=False
        )
    assert out["client_id"].tolist() == [1, 2, 3]
    assert out["category"].isna().tolist() == [False, True, True]
    assert out["pre"].iloc[2] == 7.0
    assert np.isnan(out["post"].iloc[2])


def test_input_not_mutated():
    data = _pairs([(20, 5)])
    before = data.copy()
    reliable_change(data, sd=1, reliability=0.5, cutoff=10, higher_is_better=False)
    pd.testing.assert_frame_equal(data, before)


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sd": 1, "reliability": 0.5, "cutoff": 10}, "higher_is_better"),
        ({"sd": 1, "cutoff": 10, "higher_is_better": False}, "reliability is missing"),
        ({"cutoff": 10, "higher_is_better": False}, "no reliable-change criterion"),
        (
            {"sd": 1, "reliability": 0.5, "higher_is_better": False},
            "cutoff is required",
        ),
        (
            {"sd": -1, "reliability": 0.5, "cutoff": 1, "higher_is_better": False},
            "sd must",
        ),
        (
            {"sd": 1, "reliability": 1.5, "cutoff": 1, "higher_is_better": False},
            "reliability",
        ),
        ({"rc_value": 0, "cutoff": 1, "higher_is_better": False}, "rc_value"),
        (
            {"sd": "post", "reliability": 0.5, "cutoff": 1, "higher_is_better": False},
            "'pre'",
        ),
    ],
)
def test_bad_parameters(kwargs, match):
    with pytest.raises(DataValidationError, match=match):
        reliable_change(_pairs([(1, 2)]), **kwargs)


def test_bad_data():
    good = {"sd": 1, "reliability": 0.5, "cutoff": 10, "higher_is_better": False}
    with pytest.raises(DataValidationError, match="'score'"):
        reliable_change(_pairs([(1, 2)]).drop(columns="score"), **good)
    bad = _pairs([(1, 2)]).astype({"score": object})
    bad.loc[1, "score"] = "ten"
    with pytest.raises(DataValidationError, match="'ten'"):
        reliable_change(bad, **good)
    dup = pd.concat([_pairs([(1, 2)]), _pairs([(1, 2)])])
    with pytest.raises(DataValidationError, match="duplicate"):
        reliable_change(dup, **good)


# --- instrument metadata (contract of harmonybridge.instruments) -----------------------------


def _fake_instrument(clinical_when):
    norm = SimpleNamespace
    return SimpleNamespace(
        id="fake",
        sd=norm(value=1.0, source="Fake et al. 2020"),
        reliability=norm(value=0.5, source="Fake et al. 2020, alpha"),
        rc_value=None,
        cutoff=SimpleNamespace(value=10.0, clinical_when=clinical_when, source="x"),
        higher_is_better=False,
    )


@pytest.mark.parametrize(
    ("clinical_when", "pair", "expected"),
    [
        # at_or_above: 10 is clinical, so 10 -> 14 stays clinical: deteriorated (RCI 4)
        ("at_or_above", (10.0, 14.0), "deteriorated"),
        # above: 10 is functional, 14 clinical: harmed
        ("above", (10.0, 14.0), "harmed"),
        # at_or_above: 14 -> 10 ends clinical: improved; above: 10 is functional: recovered
        ("at_or_above", (14.0, 10.0), "improved"),
        ("above", (14.0, 10.0), "recovered"),
    ],
)
def test_instrument_cutoff_inclusivity(monkeypatch, clinical_when, pair, expected):
    inst = _fake_instrument(clinical_when)
    monkeypatch.setattr(instruments, "get", lambda _id: inst, raising=False)
    out = reliable_change(_pairs([pair]), instrument="fake")
    assert out["category"].iloc[0] == expected
    assert out["sd_source"].iloc[0] == "instrument fake: Fake et al. 2020"
    assert (
        out["reliability_source"].iloc[0] == "instrument fake: Fake et al. 2020, alpha"
    )


def test_instrument_rc_value_used_unless_sd_given(monkeypatch):
    inst = _fake_instrument("at_or_above")
    inst.rc_value = SimpleNamespace(value=6.0, source="NHS Talking Therapies")
    monkeypatch.setattr(instruments, "get", lambda _id: inst, raising=False)
    # drop of 5: RCI -5 would be reliable, but the published rc_value 6 governs and is
    # not reached; no RCI is reported beside it (it would be a second, contrary verdict)
    out = reliable_change(_pairs([(20.0, 15.0)]), instrument="fake")
    assert out["category"].iloc[0] == "unchanged"
    assert np.isnan(out["rci"].iloc[0])
    assert np.isnan(out["s_diff"].iloc[0])
    assert out["criterion"].iloc[0].startswith("published reliable-change value 6 ")
    # explicit sd/reliability switch to the RCI criterion
    out = reliable_change(
        _pairs([(20.0, 15.0)]), instrument="fake", sd=1.0, reliability=0.5
    )
    assert out["category"].iloc[0] == "improved"


def test_real_phq9_definition():
    """Fails (never skips) when the PHQ-9 loses its published reliable-change value."""
    inst = instruments.get("phq9")
    assert inst.rc_value is not None
    assert inst.cutoff is not None
    # PHQ-9 (NHS Talking Therapies Manual): reliable change = 6 points, caseness >= 10.
    assert inst.rc_value.value == 6
    assert (inst.cutoff.value, inst.cutoff.clinical_when) == (10, "at_or_above")
    # 15 -> 9: drop 6 (inclusive), clinical -> not clinical: recovered
    # 15 -> 10: drop 5: unchanged; 9 -> 15: rise 6, not clinical -> clinical: harmed
    out = reliable_change(
        _pairs([(15.0, 9.0), (15.0, 10.0), (9.0, 15.0)]), instrument="phq9"
    )
    assert out["category"].tolist() == ["recovered", "unchanged", "harmed"]


def test_swls_worked_example_with_the_published_sd_and_reliability():
    """SWLS ships no SD (SDs come only from clinical samples), so its published ones are
    given as arguments; the definition must not silently gain one."""
    inst = instruments.get("swls")
    assert inst.sd is None
    # Diener et al. 1985: SD 6.43, retest .82 -> S_diff 3.858 by hand. SWLS has no clinical
    # cut-off, so nobody can be recovered/harmed (warned); 15 -> 23 (8 >= 7.56) is improved.
    with pytest.warns(HarmonyBridgeWarning, match="no clinical cut-off"):
        out = reliable_change(
            _pairs([(15.0, 23.0), (23.0, 15.0)]),
            instrument="swls",
            sd=6.43,
            reliability=0.82,
        )
    assert out["s_diff"].iloc[0] == pytest.approx(3.858, abs=5e-4)
    assert out["category"].tolist() == ["improved", "deteriorated"]
    assert out["sd_source"].iloc[0] == "argument"


def test_instrument_without_any_criterion_is_an_error():
    assert instruments.get("hb_checkin").sd is None  # our own check-in has no norms
    with pytest.raises(DataValidationError, match="no reliable-change criterion"):
        reliable_change(_pairs([(3.0, 4.0)]), instrument="hb_checkin")


# --- issue 11 item 1: one criterion decides rci and category ------------------------------


def test_phq9_12_to_7_rci_and_category_cannot_disagree():
    # Before: rci -3.05 from a general-population SD (3.5) beside the category
    # "unchanged" decided by the published 6-point value (NHS Talking Therapies Manual,
    # docs/references.md). Now the published value alone decides and no RCI is shown.
    out = reliable_change(_pairs([(12.0, 7.0)]), instrument="phq9")
    assert out["category"].iloc[0] == "unchanged"
    assert np.isnan(out["rci"].iloc[0])
    assert "published reliable-change value 6" in out["criterion"].iloc[0]
    assert "NHS Talking Therapies" in out["criterion"].iloc[0]


def test_phq9_user_reliability_alone_needs_a_clinical_sd():
    # Before: the general-population SD 3.5 was silently combined with a user's retest
    # reliability and 12 -> 7 became "recovered". The definition has no SD from a
    # help-seeking sample, so the user must give one.
    with pytest.raises(DataValidationError, match="sd is missing"):
        reliable_change(_pairs([(12.0, 7.0)]), instrument="phq9", reliability=0.84)


def test_every_definition_sd_comes_from_a_clinical_or_help_seeking_sample():
    # Jacobson & Truax (1991) use the SD of the clinical (pre-treatment) group.
    for inst in instruments.all_instruments():
        if inst.sd is not None:
            assert inst.sd.n, inst.id
            assert inst.sd.sample, inst.id
            words = ("clinical", "help-seeking", "patients", "outpatient")
            assert any(w in inst.sd.sample.lower() for w in words), inst.id
    assert instruments.get("phq9").sd is None


@pytest.mark.parametrize("rel", [0, 0.0, 1, 1.0])
def test_reliability_of_exactly_0_or_1_is_rejected(rel):
    # reliability 1 gave S_diff 0: 12 -> 7 became rci -inf and "recovered"
    with pytest.raises(DataValidationError, match="strictly between 0 and 1"):
        reliable_change(
            _pairs([(12.0, 7.0)]),
            sd=5.0,
            reliability=rel,
            cutoff=10,
            higher_is_better=False,
        )
    with pytest.raises(DataValidationError, match="strictly between 0 and 1"):
        s_diff(5.0, rel)


def test_computed_criterion_column_names_both_sources():
    with pytest.warns(HarmonyBridgeWarning, match="no clinical cut-off"):
        out = reliable_change(
            _pairs([(15.0, 23.0)]), instrument="swls", sd=6.43, reliability=0.82
        )
    crit = out["criterion"].iloc[0]
    assert crit.startswith("computed: |change| / S_diff > 1.96")
    assert "SD 6.43: argument" in crit
    assert "reliability 0.82: argument" in crit
    # hand calculation (Jacobson & Truax 1991): S_diff = 6.43 * sqrt(2 * .18) = 3.858
    assert out["rci"].iloc[0] == pytest.approx(8 / 3.858, abs=1e-3)
