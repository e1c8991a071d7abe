"""The command line's CSV writer gives, byte for byte, what ``DataFrame.to_csv`` gives."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonybridge._csv import _csv_bytes, write_csv
from harmonybridge.change import (
    sudden_gain_intervals,
    sudden_gains,
    sudden_gains_byperson,
)
from harmonybridge.errors import HarmonyBridgeWarning

# floats pandas writes in every layout: integral ("30.0"), shortest digits, exponents
# below 1e-4 and from 1e16, pyarrow's own exponent range (1e15), signed zero, inf
_EDGES = [30.0, 0.5, 1e-5, 1e-4, 9.99e-5, 1e15, 123456789012345.6, 1e16, 9999999999999998.0,
          -0.0, 0.0, 1.5e300, 5e-324, math.inf, -math.inf, 0.1 + 0.2, 2 / 3, -7.0]  # fmt: skip


def _pandas_bytes(frame: pd.DataFrame, tmp_path) -> bytes:
    path = tmp_path / "pandas.csv"
    frame.to_csv(path, index=False)
    return path.read_bytes()


def _ours(frame: pd.DataFrame, tmp_path) -> bytes:
    path = tmp_path / "ours.csv"
    write_csv(frame, str(path))
    return path.read_bytes()


def test_edge_floats_and_nullable_columns(tmp_path):
    n = len(_EDGES)
    frame = pd.DataFrame(
        {
            "x": _EDGES,
            "x_nan": [math.nan if i % 3 == 0 else v for i, v in enumerate(_EDGES)],
            "i": np.arange(n, dtype="int64") - 5,
            "n": pd.array([None if i % 4 == 0 else i for i in range(n)], dtype="Int64"),
            "b": pd.array([None if i % 5 == 0 else i % 2 == 0 for i in range(n)], dtype="boolean"),
            "flag": np.arange(n) % 2 == 0,
            "id": [f"c{i:03d}" for i in range(n)],
        }
    )  # fmt: skip
    assert _csv_bytes(frame) is not None  # the fast path, not pandas
    assert _ours(frame, tmp_path) == _pandas_bytes(frame, tmp_path)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.floats(width=64), st.sampled_from(_EDGES)), min_size=1, max_size=30
    ),
    text=st.lists(st.text(max_size=4), min_size=1, max_size=30),
)
def test_random_floats_and_text(tmp_path_factory, values, text):
    tmp_path = tmp_path_factory.mktemp("csv")
    n = min(len(values), len(text))
    frame = pd.DataFrame({"key": text[:n], "value": values[:n]})
    # text with a comma, quote or line break goes to pandas (it must be quoted)
    assert _ours(frame, tmp_path) == _pandas_bytes(frame, tmp_path)


def test_text_that_needs_quoting_and_other_types_fall_back_to_pandas(tmp_path):
    quoted = pd.DataFrame({"id": ["a,b", 'say "hi"'], "x": [1.0, 2.0]})
    dates = pd.DataFrame({"when": pd.to_datetime(["2024-01-01", "2024-02-01"])})
    mixed = pd.DataFrame({"id": ["a", 3], "x": [1.0, 2.0]})
    twice = pd.DataFrame([[1, 2.0]], columns=["x", "x"])
    for frame in (quoted, dates, mixed, twice):
        assert _csv_bytes(frame) is None
        assert _ours(frame, tmp_path) == _pandas_bytes(frame, tmp_path)


def test_empty_frame_writes_the_header(tmp_path):
    frame = pd.DataFrame({"client_id": pd.Series([], dtype="int64"), "x": []})
    assert _ours(frame, tmp_path) == _pandas_bytes(frame, tmp_path)


def test_standard_output(capsys):
    frame = pd.DataFrame({"client_id": ["a", "b"], "x": [30.0, math.nan]})
    write_csv(frame, None)
    assert capsys.readouterr().out == frame.to_csv(index=False)


@pytest.mark.parametrize("engine", ["suddengains", "tang-derubeis"])
@pytest.mark.parametrize("key", ["int", "text"])
def test_the_three_sudden_gains_tables(tmp_path, engine, key):
    rng = np.random.default_rng(3)
    n, k = 300, 12
    score = np.round(30 - np.cumsum(rng.normal(1, 4, (n, k)), axis=1))
    score[rng.random(score.shape) < 0.1] = np.nan
    ids = np.arange(n) if key == "int" else np.array([f"c{i}" for i in range(n)])
    data = pd.DataFrame(
        {
            "client_id": np.repeat(ids, k),
            "session": np.tile(np.arange(1, k + 1), n),
            "score": score.ravel(),
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HarmonyBridgeWarning)
        tables = [
            sudden_gains(data, cutoff=5, engine=engine),
            sudden_gains_byperson(data, cutoff=5, engine=engine, select="largest"),
            sudden_gain_intervals(data, cutoff=5, engine=engine),
        ]
    for table in tables:
        assert _csv_bytes(table) is not None
        assert _ours(table, tmp_path) == _pandas_bytes(table, tmp_path)
