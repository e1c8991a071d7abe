"""Property tests of rupture detection: invariants that hold for any series."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonybridge.change import detect_ruptures
from harmonybridge.errors import HarmonyBridgeWarning

scores = st.lists(
    st.one_of(
        st.none(), st.floats(1.0, 5.0, allow_nan=False).map(lambda v: round(v, 1))
    ),
    min_size=1,
    max_size=14,
)
options = st.fixed_dictionaries(
    {
        "baseline": st.sampled_from(
            ["rolling_mean", "previous_session", "rolling_mean(2)"]
        ),
        "extended_window": st.integers(1, 4),
        "repair_window": st.integers(1, 4),
        "k_sd": st.sampled_from([1.0, 2.0]),
        "min_abs_drop": st.sampled_from([0.0, 0.25, 0.5]),
        "reference_sd": st.sampled_from([0.1, 0.3, 0.6]),
    }
)


def _frame(series):
    rows = [
        {"client_id": f"c{i}", "session": s, "score": v, "rater_role": "client"}
        for i, seq in enumerate(series)
        for s, v in enumerate(seq, start=1)
    ]
    return pd.DataFrame(rows).astype({"score": float})


@settings(max_examples=150, deadline=None)
@given(st.lists(scores, min_size=1, max_size=4), options)
def test_event_invariants(series, opts):
    df = _frame(series)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        ev = detect_ruptures(df, id="client_id", **opts)
    for r in ev.itertuples():
        assert r.onset_session <= r.nadir_session
        if r.type in ("V", "extended"):
            assert r.repair_session > r.nadir_session
        else:
            assert pd.isna(r.repair_session)
        if r.type == "V":
            assert r.nadir_session == r.onset_session
        # depth is measured at the nadir, at least the drop that triggered it
        assert r.depth >= r.threshold - 1e-9
        assert r.threshold >= opts["min_abs_drop"] - 1e-12
    # Events of one series never overlap: the next onset comes after the end.
    for _, g in ev.groupby("client_id"):
        ends = g["repair_session"].fillna(g["nadir_session"]).to_numpy()
        onsets = g["onset_session"].to_numpy()
        assert np.all(onsets[1:] > ends[:-1])


@settings(max_examples=100, deadline=None)
@given(st.lists(scores, min_size=1, max_size=3), options, st.integers(1, 14))
def test_prospective_truncation_property(series, opts, cut):
    # What is known at session `cut` never changes when later sessions arrive.
    df = _frame(series)
    cols = ["client_id", "onset_session", "baseline", "threshold"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        full = detect_ruptures(df, id="client_id", **opts)
        part = detect_ruptures(df[df["session"] <= cut], id="client_id", **opts)
    want = full[full["onset_session"] <= cut][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(part[cols].reset_index(drop=True), want)
