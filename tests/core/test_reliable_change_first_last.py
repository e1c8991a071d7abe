"""First and last observed score of each series (issue 14 §3: integer codes instead of
``groupby`` and ``merge``): the same rows, order, values and warnings as the pandas
steps it replaced, for shuffled rows, two key columns, missing scores and short series."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from harmonybridge.change.reliable_change import _first_last
from harmonybridge.errors import HarmonyBridgeWarning


def _reference(data, keys, time, score):
    """The pandas steps used before (kept here as the reference)."""
    df = data[[*keys, time]].copy()
    df["_score"] = pd.to_numeric(data[score], errors="coerce").astype("float64")
    all_keys = df[keys].drop_duplicates().sort_values(keys, kind="stable")
    obs = df[df["_score"].notna()].sort_values([*keys, time], kind="stable")
    grouped = obs.groupby(keys, sort=False)["_score"]
    summary = pd.DataFrame(
        {"pre": grouped.first(), "post": grouped.last(), "_n": grouped.size()}
    ).reset_index()
    out = all_keys.merge(summary, on=keys, how="left")
    n = out["_n"].fillna(0).to_numpy()
    out.loc[n < 2, "post"] = np.nan
    return out.drop(columns="_n").reset_index(drop=True)


def _data(seed, time_kind):
    rng = np.random.default_rng(seed)
    rows = []
    for site in ("b", "a", "c"):
        for person in (12, 3, 7):
            for session in rng.permutation(8)[: rng.integers(0, 6)]:
                value = None if rng.random() < 0.25 else float(rng.integers(0, 27))
                rows.append((site, person, int(session) + 1, value))
    frame = pd.DataFrame(rows, columns=["site", "person", "session", "score"])
    frame["site"] = frame["site"].astype("str")
    if time_kind == "float":
        frame["session"] = frame["session"] / 2
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("time_kind", ["int", "float"])
@pytest.mark.parametrize("keys", [["site", "person"], ["person"], ["site"]])
def test_first_last_equals_the_pandas_steps(seed, time_kind, keys):
    data = _data(seed, time_kind)
    if keys != ["site", "person"]:
        data = data.drop_duplicates([*keys, "session"]).reset_index(drop=True)
    with warnings.catch_warnings(record=True) as got_warnings:
        warnings.simplefilter("always", HarmonyBridgeWarning)
        got = _first_last(data, keys, "session", "score")
    with warnings.catch_warnings(record=True) as want_warnings:
        warnings.simplefilter("always", HarmonyBridgeWarning)
        want = _reference(data, keys, "session", "score")
        n = data.assign(o=data["score"].notna()).groupby(keys)["o"].sum()
        if (n < 2).any():
            warnings.warn(
                f"{int((n == 0).sum())} series have no observed score and "
                f"{int((n == 1).sum())} only one; they are reported with a missing "
                "category",
                HarmonyBridgeWarning,
                stacklevel=1,
            )
    pd.testing.assert_frame_equal(got, want)
    assert [str(w.message) for w in got_warnings] == [
        str(w.message) for w in want_warnings
    ]
