"""score_frame: vectorised scoring agrees with Instrument.score and validates its input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmonybridge.errors import DataValidationError, HarmonyBridgeWarning
from harmonybridge.instruments import build_instrument, get, ids, score_frame


def to_long(responses: list[tuple[str, dict]]) -> pd.DataFrame:
    rows = [
        {"response_id": rid, "instrument": inst, "item": item, "value": value}
        for rid, (inst, answers) in enumerate(responses, start=100)
        for item, value in answers.items()
    ]
    return pd.DataFrame(rows, columns=["response_id", "instrument", "item", "value"])


def same(a, b) -> bool:
    a = None if a is None or (isinstance(a, float) and math.isnan(a)) else a
    b = None if b is None or (isinstance(b, float) and math.isnan(b)) else b
    return a == b


def assert_agrees(responses: list[tuple[str, dict]], frame: pd.DataFrame) -> None:
    scored = score_frame(frame).set_index("response_id")
    for rid, (inst_id, answers) in enumerate(responses, start=100):
        if not answers:
            continue
        res = get(inst_id).score(answers)
        row = scored.loc[rid]
        assert row["instrument"] == inst_id
        assert same(row["total"], res.total), (inst_id, answers)  # exact, not approx
        for name, value in {**res.subscales, **res.derived}.items():
            assert same(row[name], value), (inst_id, name, answers)
        assert row["n_missing"] == res.n_missing
        assert bool(row["prorated"]) is res.prorated
        assert same(None if pd.isna(row["band"]) else row["band"], res.band)
        assert same(
            None if pd.isna(row["clinical"]) else bool(row["clinical"]), res.clinical
        )
        assert bool(row["safety"]) is res.has_safety_flag


@st.composite
def questionnaires(draw):
    responses = []
    for _ in range(draw(st.integers(1, 6))):
        inst = get(draw(st.sampled_from(ids())))
        answers = {}
        for it in inst.items:
            values = inst.scales[it.scale].values
            kind = draw(st.sampled_from(["value", "value", "value", "nan", "absent"]))
            if kind == "value":
                answers[it.number] = float(draw(st.sampled_from(values)))
            elif kind == "nan":
                answers[it.number] = math.nan
        responses.append((inst.id, answers))
    return responses


@settings(max_examples=150, deadline=None)
@given(questionnaires(), st.randoms(use_true_random=False))
def test_score_frame_agrees_with_score(responses, rnd):
    frame = to_long(responses)
    assert_agrees(responses, frame)
    shuffled = frame.sample(frac=1.0, random_state=rnd.randint(0, 2**31))
    assert_agrees(responses, shuffled)


def test_score_frame_agrees_on_many_sorted_responses():
    rng = np.random.default_rng(7)
    responses = []
    for _ in range(600):
        inst = get(ids()[rng.integers(len(ids()))])
        answers = {}
        for it in inst.items:
            values = inst.scales[it.scale].values
            u = rng.random()
            if u < 0.85:
                answers[it.number] = float(values[rng.integers(len(values))])
            elif u < 0.93:
                answers[it.number] = math.nan
        responses.append((inst.id, answers))
    frame = to_long(responses)
    frame["instrument"] = frame["instrument"].astype("category")
    frame["item"] = frame["item"].astype("int8")
    assert_agrees(responses, frame)


def test_output_columns_and_carried_columns():
    frame = to_long(
        [("phq9", dict.fromkeys(range(1, 10), 1)), ("hb_checkin", {1: 4, 2: 4, 3: 5})]
    )
    frame["client_id"] = ["c1"] * 9 + ["c2"] * 3
    out = score_frame(frame)
    assert list(out.columns[:3]) == ["response_id", "client_id", "instrument"]
    for col in ("total", "goal", "task", "bond", "rupture_present", "n_missing", "prorated",
                "band", "safety"):  # fmt: skip
        assert col in out.columns
    assert out["client_id"].tolist() == ["c1", "c2"]
    assert out["total"].tolist() == [9.0, pytest.approx(13 / 3)]
    assert list(frame.columns) == [
        "response_id",
        "instrument",
        "item",
        "value",
        "client_id",
    ]


def test_column_varying_within_a_response_is_left_out_with_a_warning():
    frame = to_long([("who5", dict.fromkeys(range(1, 6), 2))])
    frame["answered_at"] = range(5)
    with pytest.warns(HarmonyBridgeWarning, match="answered_at"):
        out = score_frame(frame)
    assert "answered_at" not in out.columns


def test_reverse_keyed_items_via_a_custom_definition():
    data = {
        "id": "rev3", "version": "1", "title": "Reverse test", "citation": "test",
        "rater_role": "client", "kind": "outcome", "languages": ["en"],
        "higher_is_better": True,
        "licence": {"class": "C", "terms": "test", "source": "test"},
        "scales": {"s": {"min": 1, "max": 5}},
        "items": [{"number": 1, "scale": "s"}, {"number": 2, "scale": "s", "reverse": True},
                  {"number": 3, "scale": "s"}],
        "scoring": {"total": {"method": "sum", "min_answered": 2}},
    }  # fmt: skip
    inst = build_instrument(data, source="rev3.toml")
    # item 2 reversed: r' = (1 + 5) - r
    assert inst.score({1: 5, 2: 5, 3: 5}).total == 11  # 5 + 1 + 5
    assert inst.score({1: 1, 2: 2, 3: 3}).total == 8  # 1 + 4 + 3
    assert inst.score({1: 1, 2: 2}).total == 7.5  # (1 + 4) * 3 / 2
    frame = to_long([("rev3", {1: 5, 2: 5, 3: 5}), ("rev3", {1: 1, 2: 2})])
    assert score_frame(frame, instruments={"rev3": inst})["total"].tolist() == [11, 7.5]


def test_empty_frame_gives_empty_scores():
    out = score_frame(to_long([]))
    assert len(out) == 0
    assert {"response_id", "instrument", "total", "safety"} <= set(out.columns)


def _frame(**changes):
    frame = to_long([("phq9", dict.fromkeys(range(1, 10), 1))])
    for col, (row, value) in changes.items():
        frame[col] = frame[col].astype(object)
        frame.loc[row, col] = value
    return frame


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (_frame(instrument=(0, "phq8")), ["unknown instrument 'phq8'", "phq9"]),
        (_frame(item=(3, 12)), ["instrument 'phq9' has no item 12", "items are 1, 2"]),
        (_frame(value=(2, 4)), ["item 3", "value 4", "allowed: 0, 1, 2, 3"]),
        (_frame(value=(2, 1.5)), ["item 3", "1.5", "allowed"]),
        (_frame(value=(2, "often")), ["'value'", "numeric", "'often'"]),
        (_frame(item=(2, 2)), ["duplicate answers", "item 2"]),
        (_frame(item=(2, "two")), ["'item'", "'two'"]),
        (
            _frame(instrument=(3, "gad7")),
            ["response_id 100", "more than one instrument"],
        ),
    ],
)
def test_bad_frames_are_rejected(frame, words):
    with pytest.raises(DataValidationError) as err:
        score_frame(frame)
    for word in words:
        assert word in str(err.value)


def test_wrong_column_names_are_rejected():
    frame = to_long([("phq9", {1: 1})]).rename(columns={"value": "answer"})
    with pytest.raises(DataValidationError, match="no column 'value'"):
        score_frame(frame)


def test_string_response_ids_and_nullable_dtypes():
    frame = to_long(
        [("gad7", dict.fromkeys(range(1, 8), 2)), ("gad7", {1: 3, 2: None})]
    )
    frame["response_id"] = frame["response_id"].map({100: "r-b", 101: "r-a"})
    frame["item"] = frame["item"].astype("Int64")
    frame["value"] = frame["value"].astype("Float64")
    out = score_frame(frame)
    assert out["response_id"].tolist() == ["r-b", "r-a"]  # order of first appearance
    assert out["total"].iloc[0] == 14  # 7 x 2
    assert math.isnan(out["total"].iloc[1])  # 1 of 7 answered
    assert out["n_missing"].tolist() == [0, 6]


def test_other_column_names_by_keyword():
    frame = to_long([("who5", dict.fromkeys(range(1, 6), 3))]).rename(
        columns={
            "response_id": "rid",
            "instrument": "form",
            "item": "q",
            "value": "answer",
        }
    )
    out = score_frame(
        frame, response_id="rid", instrument="form", item="q", value="answer"
    )
    assert out["total"].tolist() == [60.0]  # 5 x 3 = 15, x 4
    assert list(out.columns[:2]) == ["response_id", "instrument"]
    assert list(frame.columns) == ["rid", "form", "q", "answer"]  # input untouched
