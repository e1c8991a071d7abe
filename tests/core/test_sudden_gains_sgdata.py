"""Sudden gains on the R package's example data ``sgdata`` (expected values from outside sources)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harmonybridge.change import (
    sudden_gain_intervals,
    sudden_gains,
    sudden_gains_byperson,
)
from harmonybridge.errors import HarmonyBridgeWarning

REF = Path(__file__).parent / "reference" / "sudden_gains"
R_TO_HB = {
    "id": "client_id",
    "sg_session_n": "pregain_session",
    "sg_freq_byperson": "n_gains",
    "sg_bdi_2n": "score_n_minus2",
    "sg_bdi_1n": "score_n_minus1",
    "sg_bdi_n": "score_pregain",
    "sg_bdi_n1": "score_postgain",
    "sg_bdi_n2": "score_n_plus2",
    "sg_bdi_n3": "score_n_plus3",
    "sg_magnitude": "magnitude",
    "sg_bdi_tx_change": "tx_change",
    "sg_change_proportion": "change_proportion",
    "sg_reversal_value": "reversal_value",
    "sg_reversal": "reversal",
}


def sgdata_long(
    first: int = 1, last: int = 12, ids: range | None = None
) -> pd.DataFrame:
    """``sgdata`` BDI sessions ``first``..``last`` as long data (missing scores kept as rows)."""
    wide = pd.read_csv(REF / "sgdata.csv", na_values="NA")
    if ids is not None:
        wide = wide[wide["id"].isin(ids)]
    columns = [f"bdi_s{s}" for s in range(first, last + 1)]
    long = wide.melt(
        id_vars="id", value_vars=columns, var_name="column", value_name="score"
    )
    long["session"] = long["column"].str.removeprefix("bdi_s").astype("int64")
    return long.rename(columns={"id": "client_id"})[["client_id", "session", "score"]]


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        return fn(*args, **kwargs)


# --- the R package's own unit-test expectations (create_bysg / create_byperson) ----------------


def test_create_bysg_unit_test_expectations():
    # tests/testthat/test-create_bysg.R: sgdata rows 1-18, cutoff 7, bdi_s1..bdi_s12,
    # tx_start bdi_s1, tx_end bdi_s12 (see reference/sudden_gains/README.md)
    expected = pd.read_csv(REF / "r_create_bysg_expected.csv", na_values="NA").rename(
        columns=R_TO_HB
    )
    got = sudden_gains(sgdata_long(ids=range(1, 19)), cutoff=7, engine="suddengains")
    assert (
        got["postgain_session"].tolist() == (expected["pregain_session"] + 1).tolist()
    )
    for col in expected.columns:
        np.testing.assert_allclose(
            got[col].astype("float64"),
            expected[col].astype("float64"),
            rtol=1e-12,
            err_msg=col,
        )


@pytest.mark.parametrize("select", ["first", "largest"])
def test_create_byperson_unit_test_expectations(select):
    # tests/testthat/test-create_byperson.R: which gain is selected, frequency, all 18 persons
    expected = pd.read_csv(REF / "r_create_byperson_expected.csv", na_values="NA")
    got = sudden_gains_byperson(
        sgdata_long(ids=range(1, 19)), cutoff=7, engine="suddengains", select=select
    )
    assert got["client_id"].tolist() == expected["id"].tolist()
    assert got["n_gains"].tolist() == expected["sg_freq_byperson"].tolist()
    np.testing.assert_array_equal(
        got["pregain_session"].astype("float64"), expected[f"{select}_sg_session_n"]
    )


# --- hand-checked clients ---------------------------------------------------------------------


def test_client_1_by_hand():
    # Client 1, bdi_s1..s12 = 35,37,34,23,24,21,29,17,11,11,10,7; cutoff 7, pct .25.
    # 2->3 37->34: d 3 < 7 F; crit3 pre (35,37) post (34,23,24): 36 - 27 = 9 vs
    #      3.182 * sqrt((2 + 74)/3) = 16.02 -> F => 0
    # 3->4 34->23: d 11 >= 7, 11 >= 8.5; crit3 (35,37,34) vs (23,24,21): 12.67 >
    #      2.776 * sqrt((4.667 + 4.667)/4) = 4.24 => GAIN, magnitude 11
    # 4->5, 5->6 (d 3), 6->7 (rise): crit1 F => 0
    # 7->8 29->17: d 12, 12 >= 7.25; crit3 (24,21,29) vs (17,11,11): 11.67 >
    #      2.776 * sqrt((32.67 + 24)/4) = 10.45 => GAIN, magnitude 12
    # 8->9 17->11: d 6 < 7 => 0; 9->10, 10->11: d 0, 1 => 0
    # tx_change = 35 - 7 = 28; proportions 11/28, 12/28; reversal values 23 + 5.5 = 28.5 and
    # 17 + 6 = 23. Reversal of 3->4: R scans from session 6 (21, 29, ...): 29 > 28.5 -> 1;
    # tang-derubeis from session 5 -> 1. Of 7->8: later scores 11, 11, 10, 7 -> 0 in both.
    data = sgdata_long(ids=range(1, 2))
    for engine in ("suddengains", "tang-derubeis"):
        out = sudden_gains(data, cutoff=7, engine=engine)
        assert out["pregain_session"].tolist() == [3, 7]
        assert out["magnitude"].tolist() == [11.0, 12.0]
        assert out["change_proportion"].tolist() == pytest.approx([11 / 28, 12 / 28])
        assert out["reversal_value"].tolist() == [28.5, 23.0]
        assert out["reversal"].tolist() == [1, 0]
    table = sudden_gain_intervals(data, cutoff=7, engine="suddengains")
    assert table["result"].tolist() == [0, 1, 0, 0, 0, 1, 0, 0, 0]


def test_client_2_near_misses_by_hand():
    # Client 2: 26,NA,26,NA,27,17,19,11,10,3,NA,7 -> no gain.
    # 2->3, 3->4, 4->5: a missing pre or post score -> NA (all engines: crit1 missing and
    #      crit3 also missing or not failing)
    # 5->6 27->17: d 10, 10 >= 6.75; crit3 pre (26, NA, 27) = 26.5, post (17,19,11) = 15.667:
    #      diff 10.833 vs 3.182 * sqrt((0.5 + 34.667)/3) = 10.896 -> F (a near miss) => 0
    # 7->8 19->11: d 8, 8 >= 4.75; crit3 (27,17,19) = 21 vs (11,10,3) = 8: 13 vs
    #      2.776 * sqrt((56 + 38)/4) = 13.457 -> F (near miss) => 0
    # 9->10 10->3: d 7, 7 >= 2.5; crit3 (19,11,10) = 13.33 vs (3, NA, 7) = 5: 8.33 vs
    #      3.182 * sqrt((48.67 + 8)/3) = 13.83 -> F => 0
    # 10->11: post missing => NA
    data = sgdata_long(ids=range(2, 3))
    with pytest.warns(HarmonyBridgeWarning, match="No sudden gains"):
        table = sudden_gain_intervals(data, cutoff=7, engine="suddengains")
    expected = [None, None, None, 0, 0, 0, 0, 0, None]
    assert [None if v is pd.NA else v for v in table["result"]] == expected
    five_six = table[table["pregain_session"] == 5].iloc[0]
    assert (five_six["crit1"], five_six["crit2"], five_six["crit3"]) == (
        True,
        True,
        False,
    )
    assert five_six["df"] == 3
    assert _quiet(sudden_gains, data, cutoff=7).empty


def test_client_5_byperson_by_hand():
    # Client 5: 39,37,36,26,26,23,21,19,6,7,8,8.
    # 3->4 36->26: d 10 >= 7, 10 >= 9; crit3 37.33 vs 25: 12.33 > 2.776*sqrt((4.667+6)/4) = 4.53
    # 8->9 19->6: d 13 >= 7, 13 >= 4.75; crit3 21 vs 7: 14 > 2.776*sqrt((8+2)/4) = 4.39
    # other intervals move by <= 3 points. first/smallest -> 3 (10 < 13), last/largest -> 8.
    data = sgdata_long(ids=range(5, 6))
    expected = {"first": 3, "last": 8, "smallest": 3, "largest": 8}
    for select, session in expected.items():
        out = sudden_gains_byperson(data, cutoff=7, select=select)
        assert out["pregain_session"].tolist() == [session]
        assert out["n_gains"].tolist() == [2]


def test_client_4_reversal_late_in_treatment_by_hand():
    # Client 4: 31,30,32,22,22,20,21,19,24,33,30,28: one gain 3->4 (d 10 >= 8;
    # crit3 31 vs 21.33: 9.67 > 2.776*sqrt((2+2.667)/4) = 3.00). tx_change 31 - 28 = 3,
    # proportion 10/3; reversal value 27: session 10 (33) is above -> reversal 1.
    out = sudden_gains(sgdata_long(ids=range(4, 5)), cutoff=7, engine="suddengains")
    assert out[
        ["pregain_session", "magnitude", "tx_change", "reversal_value", "reversal"]
    ].values.tolist() == [[3, 10, 3, 27, 1]]
    assert out["change_proportion"].iloc[0] == pytest.approx(10 / 3)


# --- whole data set ---------------------------------------------------------------------------


def test_engines_find_the_same_gains_on_sgdata():
    # For gains on a lower-is-better scale the engines differ only where a criterion is
    # missing (R: NA; tang-derubeis: 0 when another criterion fails) and in the reversal
    # window, so the gains themselves coincide.
    data = sgdata_long()
    r = sudden_gains(data, cutoff=7, engine="suddengains")
    t = sudden_gains(data, cutoff=7)
    cols = ["client_id", "pregain_session", "magnitude", "tx_change"]
    pd.testing.assert_frame_equal(r[cols], t[cols])
    ri = sudden_gain_intervals(data, cutoff=7, engine="suddengains")["result"]
    ti = sudden_gain_intervals(data, cutoff=7)["result"]
    assert (ri.fillna(-1) != ti.fillna(-1)).sum() > 0  # NA -> 0 corrections exist
    assert ((ri == 1) == (ti == 1)).all()
    assert (ti[ri.isna()].fillna(0) <= 0).all()  # NA intervals become 0 or stay NA


def test_baseline_session_enters_the_grid():
    # With bdi_s0 included and first_is_baseline, interval 1->2 becomes testable (R's
    # identify_sg_1to2). Client 10 (s0..s5 = 34,35,35,25,25,17) keeps its 2->3 gain, now
    # with a full pre window: 34.67 - 22.33 = 12.33 > 2.776 * sqrt((0.667 + 42.67)/4) = 9.14.
    # The baseline itself is never a pre-gain session (first tested interval: 1->2).
    with_s0 = sudden_gains(
        sgdata_long(first=0), cutoff=7, engine="suddengains", first_is_baseline=True
    )
    pairs = set(map(tuple, with_s0[["client_id", "pregain_session"]].values.tolist()))
    assert (10, 2) in pairs
    assert with_s0["pregain_session"].min() >= 1
