"""Sudden gains and losses: worked examples (Tang & DeRubeis 1999) and both engines' rules."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from harmonybridge import instruments
from harmonybridge.change import _sg_core as core
from harmonybridge.change import (
    sudden_gain_intervals,
    sudden_gains,
    sudden_gains_byperson,
)
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning

NA = np.nan
ENGINES = ["suddengains", "tang-derubeis"]
GAIN_COLUMNS = [
    "client_id",
    "pregain_session",
    "postgain_session",
    "n_gains",
    "score_n_minus2",
    "score_n_minus1",
    "score_pregain",
    "score_postgain",
    "score_n_plus2",
    "score_n_plus3",
    "magnitude",
    "tx_change",
    "change_proportion",
    "reversal_value",
    "reversal",
]
INTERVAL_COLUMNS = [
    "client_id",
    "pregain_session",
    "postgain_session",
    "crit1",
    "crit2",
    "crit3",
    "df",
    "critical_value",
    "result",
]


def _long(series: dict, start: int = 1) -> pd.DataFrame:
    """Long frame from {client_id: [score per session, NaN = missing]}; sessions from ``start``.

    Missing scores stay as rows with a missing score (so the session is on the grid).
    """
    rows = [
        (cid, start + i, v)
        for cid, values in series.items()
        for i, v in enumerate(values)
    ]
    return pd.DataFrame(rows, columns=["client_id", "session", "score"]).astype(
        {"score": float}
    )


def _interval(table: pd.DataFrame, client, pre: int) -> pd.Series:
    row = table[(table["client_id"] == client) & (table["pregain_session"] == pre)]
    assert len(row) == 1
    return row.iloc[0]


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        return fn(*args, **kwargs)


# --- Tang & DeRubeis (1999) worked examples ---------------------------------------------------

WORKED = {
    "A": [20, 21, 20, 10, 9, 10, 11],
    "B": [NA, 24, 22, 12, 11, 13],
    "C": [30, 14, 30, 20, 28, 12],
    "D": [15, 16, 15, 14, NA, 13],
}
# (series, pre-gain session, crit1, crit2, crit3, df, critical value, result) with cutoff 7,
# pct .25, crit3 adjusted at alpha .05, identify_sg_1to2 = FALSE. Critical values are scipy t
# quantiles (df 4 -> 2.776, df 3 -> 3.182).
WORKED_ROWS = [
    ("A", 3, True, True, True, 4, 2.776, 1),  # 10.667 > 1.603
    ("A", 2, False, False, False, 3, 3.182, 0),  # pre window (20, 21): 2 values, df 3
    ("A", 4, False, False, False, 4, 2.776, 0),
    ("A", 5, False, False, False, 3, 3.182, 0),  # post window (10, 11): 2 values, df 3
    ("B", 3, True, True, True, 3, 3.182, 1),  # 11.000 > 3.675
    ("C", 3, True, True, False, 4, 2.776, 0),  # 4.667 < 23.991: unstable
    ("D", 4, None, None, None, None, None, None),  # post-gain score missing
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("name", "pre", "c1", "c2", "c3", "df", "crit", "result"), WORKED_ROWS
)
def test_worked_example_rows(engine, name, pre, c1, c2, c3, df, crit, result):
    table = _quiet(
        sudden_gain_intervals, _long({name: WORKED[name]}), cutoff=7, engine=engine
    )
    row = _interval(table, name, pre)
    assert row["postgain_session"] == pre + 1
    for col, expected in (
        ("crit1", c1),
        ("crit2", c2),
        ("crit3", c3),
        ("result", result),
    ):
        assert (row[col] is pd.NA) if expected is None else (row[col] == expected), col
    if df is None:
        assert row["df"] is pd.NA
        assert np.isnan(row["critical_value"])
    else:
        assert row["df"] == df
        assert row["critical_value"] == pytest.approx(crit, abs=5e-4)


def test_worked_example_b_na_propagation_differs_between_engines():
    # B 2->3 (24 -> 22): crit1 F, crit2 F, crit3 NA (one pre value). R multiplies: NA.
    # tang-derubeis: a failed criterion decides the interval: 0.
    data = _long({"B": WORKED["B"]})
    r = _interval(
        _quiet(sudden_gain_intervals, data, cutoff=7, engine="suddengains"), "B", 2
    )
    t = _interval(_quiet(sudden_gain_intervals, data, cutoff=7), "B", 2)
    assert (r["crit1"], r["crit2"], r["crit3"]) == (False, False, pd.NA)
    assert r["result"] is pd.NA
    assert t["result"] == 0


@pytest.mark.parametrize(
    ("values", "k", "diff", "threshold"),
    [
        # Tang & DeRubeis worked example: "diff vs threshold" column, k = pre-gain grid position - 1
        (WORKED["A"], 1, 10.667, 1.603),  # A 3->4
        (WORKED["B"], 1, 11.000, 3.675),  # B 3->4
        (WORKED["C"], 1, 4.667, 23.991),  # C 3->4
    ],
)
def test_worked_example_crit3_numbers(values, k, diff, threshold):
    params = core.Params(
        7.0, 0.25, True, 0.05, True, 2.776, False, "suddengains", False, False
    )
    crit = core.evaluate(np.array([values], dtype=float), params)
    assert crit.mean_diff[0, k] == pytest.approx(diff, abs=5e-4)
    assert crit.threshold[0, k] == pytest.approx(threshold, abs=5e-4)


def test_worked_example_f_loss_and_crit2_quirk():
    # F = 10,11,12,30,28,33, losses with cutoff -7 (R). 3->4: T, T, 19.333 > 5.316 -> 1.
    # 2->3 (11 -> 12): crit1 F; crit2 quirk pre - post = -1 <= .25 * 11 -> T; crit3 F -> 0.
    data = _long({"F": [10, 11, 12, 30, 28, 33]})
    table = _quiet(
        sudden_gain_intervals, data, cutoff=-7, losses=True, engine="suddengains"
    )
    row = _interval(table, "F", 3)
    assert (row["crit1"], row["crit2"], row["crit3"], row["result"]) == (
        True,
        True,
        True,
        1,
    )
    row = _interval(table, "F", 2)
    assert (row["crit1"], row["crit2"], row["crit3"], row["result"]) == (
        False,
        True,
        False,
        0,
    )
    params = core.Params(
        -7.0, 0.25, True, 0.05, True, 2.776, True, "suddengains", False, False
    )
    crit = core.evaluate(np.array([[10, 11, 12, 30, 28, 33]], dtype=float), params)
    assert crit.mean_diff[0, 1] == pytest.approx(19.333, abs=5e-4)
    assert crit.threshold[0, 1] == pytest.approx(5.316, abs=5e-4)
    # tang-derubeis (positive cutoff, lower is better): 3->4 is a loss, and the mirrored
    # criterion 2 (post - pre = 1 >= .25 * 11 = 2.75?) is False at 2->3.
    table = _quiet(sudden_gain_intervals, data, cutoff=7, losses=True)
    assert _interval(table, "F", 3)["result"] == 1
    assert not _interval(table, "F", 2)["crit2"]
    gains = sudden_gains(data, cutoff=7, losses=True)
    # magnitude is the positive size in tang-derubeis (30 - 12), pre - post in R (-18)
    assert gains["magnitude"].tolist() == [18.0]
    r_gains = _quiet(sudden_gains, data, cutoff=-7, losses=True, engine="suddengains")
    assert r_gains["magnitude"].tolist() == [-18.0]


# --- reversal window (series E) -----------------------------------------------------------------

E = [30, 31, 30, 10, 22, 10, 10, 10]


def test_series_e_reversal_differs_by_engine_and_baseline():
    # One gain at 3->4 (magnitude 20, reversal value 10 + 20/2 = 20). Session 5 (22) exceeds
    # 20, later sessions do not. R (identify_sg_1to2 = FALSE) scans from n+3 = session 6: 0.
    r = sudden_gains(_long({"E": E}), cutoff=7, engine="suddengains")
    assert r[["pregain_session", "magnitude", "reversal_value"]].values.tolist() == [
        [3, 20, 20]
    ]
    assert r["reversal"].tolist() == [0]
    # tang-derubeis scans from n+2 = session 5: 1
    t = sudden_gains(_long({"E": E}), cutoff=7)
    assert t["reversal"].tolist() == [1]
    # baseline prepended as session 0 and first_is_baseline: gain still 3->4, R scans n+2: 1
    with_baseline = _long({"E": [25, *E]}, start=0)
    rb = sudden_gains(
        with_baseline, cutoff=7, engine="suddengains", first_is_baseline=True
    )
    assert rb[["pregain_session", "reversal"]].values.tolist() == [[3, 1]]
    # same data without first_is_baseline: R's window is one session later again: 0
    rn = sudden_gains(with_baseline, cutoff=7, engine="suddengains")
    assert rn[["pregain_session", "reversal"]].values.tolist() == [[3, 0]]


# --- check_interval published outputs (suddengains tutorial) ------------------------------------


@pytest.mark.parametrize(("alpha", "crit"), [(0.05, 2.776), (0.01, 4.604)])
def test_check_interval_full_windows(alpha, crit):
    # pre (32, 31, 33), post (5, 6, 7): critical value 2.776 (alpha .05), 4.604 (.01); gain YES
    data = _long({1: [32, 31, 33, 5, 6, 7]})
    for engine in ENGINES:
        row = _interval(
            sudden_gain_intervals(data, cutoff=7, alpha=alpha, engine=engine), 1, 3
        )
        assert row["critical_value"] == pytest.approx(crit, abs=5e-4)
        assert row["result"] == 1


def test_check_interval_missing_values_crit3_only():
    # pre (NA, 31, 33), post (5, NA, 7), alpha .01, crit3 only: critical value 9.925, gain YES
    data = _long({1: [NA, 31, 33, 5, NA, 7]})
    for engine in ENGINES:
        table = sudden_gain_intervals(
            data, cutoff=None, pct=None, alpha=0.01, engine=engine
        )
        row = _interval(table, 1, 3)
        assert row["df"] == 2
        assert row["critical_value"] == pytest.approx(9.925, abs=5e-4)
        assert row["result"] == 1
        assert row["crit1"] is pd.NA
        assert row["crit2"] is pd.NA


def test_check_interval_loss():
    # loss check pre (5, NA, 7), post (16, 12, 14), cutoff -7: critical value 3.182, all met
    data = _long({1: [5, NA, 7, 16, 12, 14]})
    table = sudden_gain_intervals(data, cutoff=-7, losses=True, engine="suddengains")
    row = _interval(table, 1, 3)
    assert row["critical_value"] == pytest.approx(3.182, abs=5e-4)
    assert (row["crit1"], row["crit2"], row["crit3"], row["result"]) == (
        True,
        True,
        True,
        1,
    )
    row = _interval(sudden_gain_intervals(data, cutoff=7, losses=True), 1, 3)
    assert row["result"] == 1


# --- identify_sg / identify_sl unit tests of the R package --------------------------------------

# tests/testthat/test-identify_sg.R (suddengains), df1: columns x_2n ... x_n3 = sessions 1..6,
# expected sg_2to3, sg_3to4, sg_4to5 with cutoff 7.
IDENTIFY_SG_DF1 = [
    ([28, 19, 23, 12, 13, NA], [0, 0, NA]),
    ([28, 19, 23, 11, 12, NA], [0, 1, NA]),
    ([28, 19, NA, 12, 13, NA], [NA, NA, NA]),
    ([28, 19, 23, 12, 14, NA], [0, 0, NA]),
    ([28, 25, 28, 11, 12, NA], [0, 1, NA]),
    ([28, 26, 28, 11, 12, NA], [0, 1, NA]),
    ([NA, 26, 28, NA, 12, 11], [NA, NA, NA]),
]
# df2 of the same file
IDENTIFY_SG_DF2 = [
    ([35, 37, 23, 23, 24, 21], [1, 0, 0]),
    ([35, 37, 34, 24, 24, 21], [0, 1, 0]),
    ([35, 37, 34, 34, 24, 21], [0, 0, 1]),
    ([35, 37, 34, 37, 37, 37], [0, 0, 0]),
]
# tests/testthat/test-identify_sl.R, df2 with cutoff -7
IDENTIFY_SL_DF2 = [
    ([10, 11, 12, 30, 28, 33], [0, 1, 0]),
    ([10, 11, 12, 10, 28, 33], [0, 0, 1]),
    ([10, 11, 30, 30, 28, 33], [1, 0, 0]),
    ([35, 37, 34, 23, 24, 21], [0, 0, 0]),
]


def _results(values, **kwargs):
    table = _quiet(sudden_gain_intervals, _long({1: values}), **kwargs)
    return [np.nan if v is pd.NA else float(v) for v in table["result"]]


@pytest.mark.parametrize(("values", "expected"), [*IDENTIFY_SG_DF1, *IDENTIFY_SG_DF2])
def test_r_identify_sg_unit_tests(values, expected):
    got = _results(values, cutoff=7, engine="suddengains")
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(("values", "expected"), IDENTIFY_SL_DF2)
def test_r_identify_sl_unit_tests(values, expected):
    got = _results(values, cutoff=-7, losses=True, engine="suddengains")
    np.testing.assert_array_equal(got, expected)


# --- direction (tang-derubeis) ------------------------------------------------------------------


def test_higher_is_better_mirrors_lower_is_better():
    # Series A negated is the same story on a higher-is-better scale: one gain at 3->4.
    lower = sudden_gains(_long({1: WORKED["A"]}), cutoff=7)
    higher = sudden_gains(
        _long({1: [-v for v in WORKED["A"]]}), cutoff=7, higher_is_better=True
    )
    assert (
        higher["pregain_session"].tolist() == lower["pregain_session"].tolist() == [3]
    )
    assert higher["magnitude"].tolist() == lower["magnitude"].tolist() == [10.0]
    assert higher["score_pregain"].tolist() == [-20.0]  # original scale kept
    # tx_change = score(first) - score(last): 20 - 11 = 9; negated -20 - (-11) = -9
    assert lower["tx_change"].tolist() == [9.0]
    assert higher["tx_change"].tolist() == [-9.0]
    # proportion = magnitude / improvement over treatment in the gain's direction: 10 / 9
    assert higher["change_proportion"].tolist() == pytest.approx([10 / 9])
    assert lower["change_proportion"].tolist() == pytest.approx([10 / 9])


def test_wellbeing_gain_is_a_rise():
    # WHO-5-like scale, higher is better: 40,42,40,60,62,61 -> rise of 20 at 3->4
    # crit2: 20 >= .25 * 40 = 10; crit3: means 60.67 vs 40.67 with small SDs.
    data = _long({1: [40, 42, 40, 60, 62, 61]})
    assert sudden_gains(data, cutoff=10, higher_is_better=True)[
        "pregain_session"
    ].tolist() == [3]
    assert _quiet(
        sudden_gains, data, cutoff=10
    ).empty  # read as lower-is-better: a loss
    assert sudden_gains(data, cutoff=10, losses=True)["pregain_session"].tolist() == [3]


def test_instrument_sets_direction(monkeypatch):
    monkeypatch.setattr(
        instruments,
        "get",
        lambda _id: type("I", (), {"higher_is_better": True}),
        raising=False,
    )
    data = _long({1: [40, 42, 40, 60, 62, 61]})
    assert len(sudden_gains(data, cutoff=10, instrument="who5")) == 1


def test_suddengains_engine_ignores_direction_with_warning():
    with pytest.warns(HarmonyBridgeWarning, match="higher_is_better is ignored"):
        out = sudden_gains(
            _long({1: WORKED["A"]}),
            cutoff=7,
            engine="suddengains",
            higher_is_better=True,
        )
    assert out["pregain_session"].tolist() == [3]


# --- per-gain values, proportions ---------------------------------------------------------------


def test_proportion_infinities_suddengains_engine():
    # Gains 3->4 and 6->7 with tx_start = tx_end (tx_change 0): R keeps +Inf (10 / 0).
    data = _long({1: [30, 30, 30, 20, 20, 20, 10, 10, 10]})
    out = sudden_gains(data, cutoff=7, engine="suddengains", tx_start=1, tx_end=1)
    assert out["tx_change"].tolist() == [0.0, 0.0]
    assert np.isposinf(out["change_proportion"]).all()
    # tang-derubeis reports a proportion of nothing as missing
    out = sudden_gains(data, cutoff=7, tx_start=1, tx_end=1)
    assert out["change_proportion"].isna().all()


def test_proportion_nan_kept_and_neg_inf_dropped_in_r_engine():
    # cutoff 0, pct 0, no crit3: a flat series 5,5,5,5 has a "gain" of 0 at 2->3;
    # tx_change 0 -> 0/0 = NaN (R keeps NaN; pandas shows it as missing).
    flat = sudden_gains(
        _long({1: [5, 5, 5, 5]}), cutoff=0, pct=0, crit3=False, engine="suddengains"
    )
    assert flat["magnitude"].tolist() == [0.0]
    assert flat["change_proportion"].isna().all()
    # crit3 only with a tiny fixed critical value 0.01: 40,40,40,41,1,1 passes crit3 at every
    # tested interval (2->3: 40 vs 27.33, 3->4: 40 vs 14.33, 4->5: 40.33 vs 1). With
    # tx_change 0: 2->3 magnitude 0 -> 0/0 = NaN (kept); 3->4 magnitude 40 - 41 = -1 ->
    # -1/0 = -Inf -> NA; 4->5 magnitude 40 -> +Inf (kept).
    neg = sudden_gains(
        _long({1: [40, 40, 40, 41, 1, 1]}),
        cutoff=None,
        pct=None,
        adjust=False,
        critical_value=0.01,
        engine="suddengains",
        tx_start=2,
        tx_end=2,
    )
    assert neg["magnitude"].tolist() == [0.0, -1.0, 40.0]
    proportion = neg["change_proportion"].to_numpy()
    assert np.isnan(proportion[:2]).all()
    assert np.isposinf(proportion[2])


def test_gain_table_columns_and_sort():
    data = _long({"b": WORKED["A"], "a": [30, 30, 30, 20, 20, 20, 10, 10, 10]})
    out = sudden_gains(data, cutoff=7)
    assert list(out.columns) == GAIN_COLUMNS
    assert out[["client_id", "pregain_session"]].values.tolist() == [
        ["a", 3],
        ["a", 6],
        ["b", 3],
    ]
    assert out["n_gains"].tolist() == [2, 2, 1]
    # a 3->4: scores around the gain 30,30,[30 -> 20],20,20
    row = out.iloc[0]
    assert [row[c] for c in GAIN_COLUMNS[4:10]] == [30, 30, 30, 20, 20, 20]


def test_session_grid_is_union_of_time_values():
    # Client 2 has no row at session 2: it is missing there (not shifted).
    data = _long({1: [20, 21, 20, 10, 9, 10, 11], 2: [20, 21, 20, 10, 9, 10, 11]})
    data = data[~((data["client_id"] == 2) & (data["session"] == 2))]
    table = sudden_gain_intervals(data, cutoff=7, engine="suddengains")
    row = _interval(table, 2, 2)
    assert row["result"] is pd.NA  # pre-gain score of 2->3 is missing
    assert _interval(table, 2, 3)["df"] == 3  # one pre value fewer


def test_list_id_keeps_key_columns():
    data = _long({1: WORKED["A"]}).rename(columns={"client_id": "engagement_id"})
    data["respondent_id"] = "r1"
    out = sudden_gains(data, id=["engagement_id", "respondent_id"], cutoff=7)
    assert list(out.columns[:3]) == [
        "engagement_id",
        "respondent_id",
        "pregain_session",
    ]


# --- byperson ---------------------------------------------------------------------------------

TIES = [30, 30, 30, 20, 20, 20, 10, 10, 10]  # gains 3->4 and 6->7, both magnitude 10


@pytest.mark.parametrize(
    ("select", "session"), [("first", 3), ("last", 6), ("smallest", 3), ("largest", 3)]
)
def test_byperson_selection_with_ties(select, session):
    data = _long({1: TIES, 2: [20, 20, 20, 20, 20, 20, 20, 20, 20]})
    for engine in ENGINES:
        out = _quiet(
            sudden_gains_byperson, data, cutoff=7, engine=engine, select=select
        )
        assert list(out.columns) == GAIN_COLUMNS
        assert out["client_id"].tolist() == [1, 2]
        assert out["pregain_session"].tolist()[0] == session
        assert out["pregain_session"].iloc[1] is pd.NA
        assert out["n_gains"].tolist() == [2, 0]


def test_byperson_losses_largest_quirk():
    # losses 10 -> 20 at 3->4 and 20 -> 35 at 6->7. R magnitudes are -10 and -15, so
    # "largest" picks -10 (the smaller loss); tang-derubeis sizes 10 and 15 -> 6->7.
    data = _long({1: [10, 10, 10, 20, 20, 20, 35, 35, 35]})
    r = sudden_gains_byperson(
        data, cutoff=-7, losses=True, engine="suddengains", select="largest"
    )
    assert r[["pregain_session", "magnitude"]].values.tolist() == [[3, -10]]
    t = sudden_gains_byperson(data, cutoff=7, losses=True, select="largest")
    assert t[["pregain_session", "magnitude"]].values.tolist() == [[6, 15]]
    r = sudden_gains_byperson(
        data, cutoff=-7, losses=True, engine="suddengains", select="smallest"
    )
    assert r["pregain_session"].tolist() == [6]


# --- intervals table --------------------------------------------------------------------------


def test_interval_table_columns_and_types():
    out = sudden_gain_intervals(_long({1: WORKED["A"]}), cutoff=7, crit3=False)
    assert list(out.columns) == INTERVAL_COLUMNS
    # N = 7 sessions -> intervals 2->3 ... 5->6 (j = 3 ... N-1)
    assert out["pregain_session"].tolist() == [2, 3, 4, 5]
    assert str(out["crit1"].dtype) == "boolean"
    assert str(out["crit3"].dtype) == "boolean"
    assert out["crit3"].isna().all()  # switched off
    assert out["df"].isna().all()
    assert str(out["result"].dtype) == "Int64"
    assert out["result"].tolist() == [0, 1, 0, 0]


# --- warnings and bad input -------------------------------------------------------------------


def test_no_gains_warns_and_returns_empty_frame():
    with pytest.warns(HarmonyBridgeWarning, match="No sudden gains were identified"):
        out = sudden_gains(
            _long({1: [20, 20, 20, 20, 20]}), cutoff=7, engine="suddengains"
        )
    assert out.empty
    assert list(out.columns) == GAIN_COLUMNS
    with pytest.warns(HarmonyBridgeWarning, match="No sudden losses were identified"):
        sudden_gains(_long({1: [20, 20, 20, 20, 20]}), cutoff=7, losses=True)


def test_all_missing_clients_are_reported_not_dropped():
    data = _long({1: WORKED["A"]})
    empty = pd.DataFrame({"client_id": [2, 2], "session": [1, 2], "score": [NA, NA]})
    data = pd.concat([data, empty], ignore_index=True)
    with pytest.warns(HarmonyBridgeWarning, match="1 series have no observed 'score'"):
        out = sudden_gains_byperson(data, cutoff=7)
    assert out["client_id"].tolist() == [1, 2]
    assert out["n_gains"].tolist() == [1, 0]
    with pytest.warns(HarmonyBridgeWarning, match="1 series"):
        table = sudden_gain_intervals(data, cutoff=7)
    assert table.loc[table["client_id"] == 2, "result"].isna().all()


@pytest.mark.parametrize(
    ("mutate", "kwargs", "match"),
    [
        (lambda d: d.drop(columns="score"), {}, "'score'"),
        (
            lambda d: d.astype({"score": object}).assign(score=["x", *d["score"][1:]]),
            {},
            "'x'",
        ),
        (lambda d: pd.concat([d, d.iloc[[0]]]), {}, "duplicate"),
        (lambda d: d[d["session"] <= 3], {}, "at least 4"),
        (lambda d: d, {"cutoff": -7}, "positive size"),
        (lambda d: d, {"cutoff": -7, "engine": "suddengains"}, "must be >= 0"),
        (
            lambda d: d,
            {"cutoff": 7, "engine": "suddengains", "losses": True},
            "negative",
        ),
        (lambda d: d, {"engine": "R"}, "engine must be"),
        (lambda d: d, {"cutoff": None, "pct": None, "crit3": False}, "switched off"),
        (lambda d: d, {"tx_start": 99}, "tx_start=99"),
        (lambda d: d, {"alpha": 1.5}, "alpha"),
        (
            lambda d: d.assign(session=[NA, *d["session"][1:]]),
            {},
            "'session' has missing",
        ),
    ],
)
def test_bad_input(mutate, kwargs, match):
    data = mutate(_long({1: WORKED["A"]}))
    options = {"cutoff": 7, **kwargs}
    for fn in (sudden_gains, sudden_gains_byperson, sudden_gain_intervals):
        with pytest.raises(DataValidationError, match=match):
            fn(data, **options)


def test_bad_select():
    with pytest.raises(DataValidationError, match="select must be one of"):
        sudden_gains_byperson(_long({1: WORKED["A"]}), cutoff=7, select="biggest")


def test_input_not_mutated():
    data = _long({1: WORKED["A"]})
    before = data.copy()
    sudden_gains(data, cutoff=7)
    pd.testing.assert_frame_equal(data, before)


def test_reversal_on_higher_is_better_scale():
    # 10,11,10,30,19,30,30 higher is better: rise of 20 at 3->4 (crit3 on -x: 26.33 - 10.33 =
    # 16 > 2.776 * sqrt((0.667 + 80.67)/4) = 12.5). Reversal value 30 + (10 - 30)/2 = 20;
    # session 5 (19) falls strictly below it -> reversal 1 (scan from n+2). 5->6 (19 -> 30) fails
    # crit3: 30 - 19.67 = 10.33 < 3.182 * sqrt(200.67/3) = 26.0.
    out = sudden_gains(
        _long({1: [10, 11, 10, 30, 19, 30, 30]}), cutoff=7, higher_is_better=True
    )
    assert out[
        ["pregain_session", "magnitude", "reversal_value", "reversal"]
    ].values.tolist() == [[3, 20, 20, 1]]


def test_dates_as_time_axis():
    data = _long({1: WORKED["A"]})
    data["session"] = pd.Timestamp("2026-01-05") + pd.to_timedelta(
        7 * data["session"], "D"
    )
    out = sudden_gains(data, cutoff=7, tx_start=data["session"].iloc[0])
    assert out["pregain_session"].tolist() == [
        pd.Timestamp("2026-01-05") + pd.Timedelta(days=21)
    ]
