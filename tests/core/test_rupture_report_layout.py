"""The self-reported rupture rows laid out one per series and session (issue 14 §3):
the integer-code layout must give what the pandas pivot gave, whatever the row order,
with unanswered questions missing and other subscales ignored."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmonybridge.change._rupture_report import RUPTURE_SUBSCALES, _by_session


def _pivot(d, gkeys, time, score, subscale):
    """The pivot the detector used before (the reference)."""
    d = d[d[subscale].isin(RUPTURE_SUBSCALES)]
    return (
        d.set_index([*gkeys, time, subscale])[score]
        .unstack(subscale)
        .reindex(columns=list(RUPTURE_SUBSCALES))
        .reset_index()
    )


def _rows():
    rng = np.random.default_rng(7)
    rows = []
    for client in ("C2", "C1"):
        for role in ("practitioner", "client"):
            for session in (3, 1, 2, 5):
                for sub in (*RUPTURE_SUBSCALES, "bond"):
                    if rng.random() < 0.3:  # a question left unanswered
                        continue
                    rows.append((client, role, session, sub, float(rng.integers(0, 5))))
    frame = pd.DataFrame(
        rows, columns=["client_id", "rater_role", "session", "subscale", "score"]
    )
    return frame.sample(frac=1, random_state=3).reset_index(drop=True)


def test_layout_equals_the_pivot_in_any_row_order():
    d = _rows()
    keys = ["client_id", "rater_role"]
    got = _by_session(d, keys, "session", "score", "subscale")
    want = _pivot(d, keys, "session", "score", "subscale")
    order = [*keys, "session"]
    got = got.sort_values(order).reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_names=False)
    assert got[list(RUPTURE_SUBSCALES)].isna().any().any()  # gaps stay missing


def test_layout_of_no_rows():
    d = _rows().iloc[:0]
    got = _by_session(d, ["client_id"], "session", "score", "subscale")
    assert got.empty
    assert list(got.columns) == ["client_id", "session", *RUPTURE_SUBSCALES]
