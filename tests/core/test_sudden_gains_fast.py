"""The fast paths of the sudden-gains engine equal the full computations they replace.

Issue 14 made ``harmonybridge sudden-gains`` fast on 2M rows by (1) computing criterion 3
only where criteria 1 and 2 are met (:func:`gain_positions`), (2) numbering series without
``groupby`` and (3) a t quantile without scipy. Each is checked here against the plain
computation on random data with missing scores.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from harmonybridge.change import _sg_core as core
from harmonybridge.change._sg_input import resolve_params, to_wide
from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning


@pytest.mark.parametrize("df", [2, 3, 4])
def test_t_upper_equals_scipy(df):
    # scipy's lower tail is exact for small alpha (1 - alpha/2 rounds for the upper one)
    for alpha in [*np.geomspace(1e-12, 0.999, 400), 0.05, 0.01, 0.1]:
        expected = -float(special.stdtrit(df, alpha / 2))
        assert core.t_upper(float(alpha), df) == pytest.approx(expected, rel=1e-13)


def test_t_upper_textbook_values():
    # t tables (two-tailed .05): 4.303, 3.182, 2.776; (.01): 9.925, 5.841, 4.604
    assert [round(core.t_upper(0.05, k), 3) for k in (2, 3, 4)] == [4.303, 3.182, 2.776]
    assert [round(core.t_upper(0.01, k), 3) for k in (2, 3, 4)] == [9.925, 5.841, 4.604]


cells = st.one_of(st.none(), st.integers(min_value=0, max_value=30))


@st.composite
def grids(draw):
    n_grid = draw(st.integers(min_value=4, max_value=9))
    rows = draw(st.lists(st.lists(cells, min_size=n_grid, max_size=n_grid), max_size=8))
    return np.array(
        [[np.nan if v is None else float(v) for v in row] for row in rows],
        dtype="float64",
    ).reshape(len(rows), n_grid)


@settings(max_examples=300, deadline=None)
@given(
    x=grids(),
    engine=st.sampled_from(["suddengains", "tang-derubeis"]),
    losses=st.booleans(),
    hib=st.booleans(),
    cutoff=st.sampled_from([None, 3.0, 7.0]),
    pct=st.sampled_from([None, 0.0, 0.25]),
    crit3=st.booleans(),
    adjust=st.booleans(),
    alpha=st.sampled_from([0.05, 0.2]),
)
def test_gain_positions_equal_the_full_evaluation(
    x, engine, losses, hib, cutoff, pct, crit3, adjust, alpha
):
    if cutoff is None and pct is None and not crit3:
        crit3 = True
    if cutoff is not None and engine == "suddengains" and losses:
        cutoff = -cutoff
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        p = resolve_params(
            cutoff=cutoff,
            pct=pct,
            crit3=crit3,
            alpha=alpha,
            adjust=adjust,
            critical_value=1.5,
            losses=losses,
            engine=engine,
            higher_is_better=hib,
            first_is_baseline=False,
            instrument=None,
            stacklevel=1,
        )
    rows, k = core.gain_positions(x, p)
    expected_rows, expected_k = np.nonzero(core.evaluate(x, p).result == 1)
    assert rows.tolist() == expected_rows.tolist()
    assert k.tolist() == expected_k.tolist()


key_values = {
    "int": st.integers(min_value=-3, max_value=40),
    "float": st.floats(min_value=-5, max_value=5, allow_nan=False).map(
        lambda v: v or 0.0
    ),
    "text": st.sampled_from(["a", "b", "B", "c10", "c9", "é"]),
}


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(sorted(key_values)),
    data=st.data(),
    order=st.sampled_from(["sorted", "as drawn", "shuffled"]),
    two_keys=st.booleans(),
)
def test_to_wide_equals_a_pandas_pivot(kind, data, order, two_keys):
    # "sorted": the usual file, rows by series then session (to_wide's quickest path)
    ids = data.draw(st.lists(key_values[kind], min_size=1, max_size=6, unique=True))
    ids = sorted(ids) if order == "sorted" else ids
    sessions = sorted(
        data.draw(st.lists(st.integers(0, 12), min_size=4, max_size=7, unique=True))
    )
    rows = [
        (cid, cid if kind != "float" else 0, s, data.draw(cells))
        for cid in ids
        for s in sessions
        if data.draw(st.booleans()) or s == sessions[0]
    ]
    frame = pd.DataFrame(rows, columns=["client_id", "site", "session", "score"])
    frame["score"] = frame["score"].astype("float64")
    if kind == "int":
        frame["client_id"] = frame["client_id"].astype("int64")
    if order == "shuffled":
        frame = frame.sample(frac=1.0, random_state=0)
    keys = ["client_id", "site"] if two_keys else ["client_id"]
    if frame["session"].nunique() < 4:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        wide = to_wide(frame, keys, "session", "score", stacklevel=1)
    expected = frame.set_index([*keys, "session"])["score"].unstack("session")
    expected = expected.sort_index()
    expected_keys = expected.index.to_frame(index=False)
    pd.testing.assert_frame_equal(wide.keys, expected_keys)
    assert wide.grid.tolist() == list(expected.columns)
    np.testing.assert_array_equal(wide.x, expected.to_numpy(dtype="float64"))


def test_to_wide_reports_a_duplicate_in_sorted_or_shuffled_rows():
    frame = pd.DataFrame(
        {
            "client_id": [1, 1, 1, 1, 1, 2, 2, 2, 2],
            "session": [1, 2, 3, 4, 4, 1, 2, 3, 4],
            "score": [20.0, 18, 17, 10, 11, 20, 19, 18, 17],
        }
    )
    for data in (frame, frame.iloc[::-1]):
        with pytest.raises(DataValidationError, match="appears more than once"):
            to_wide(data, ["client_id"], "session", "score", stacklevel=1)
