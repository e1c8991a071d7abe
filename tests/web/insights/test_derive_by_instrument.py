"""``figures.derive`` reads each instrument's observed totals once (issue 14 §3); what it
stores must equal each analysis run on the whole score frame, as before: reliable
change, sudden gains and losses and the expected band, for every outcome instrument,
with missing scores, a second client and an instrument seen only once."""

from __future__ import annotations

import pandas as pd
import pytest

from harmonybridge import schema
from harmonybridge.web.alerts.curves import curve_sets_for
from harmonybridge.web.checkins import frames
from harmonybridge.web.insights import figures
from harmonybridge.web.practice.models import ServiceKind
from tests.web import factories
from tests.web.insights import helpers
from tests.web.insights.test_dashboard import fill


def _whole_frame(scores, sessions, curve_sets, conventions):
    """Each analysis given the whole totals frame (the reference)."""
    totals = scores[scores[schema.SUBSCALE] == ""]
    last = figures.span_last(scores, sessions)
    out = {"changes": {}, "gains": {}, "expected": {}}
    for inst_id in sorted(totals[schema.INSTRUMENT].unique()):
        if inst_id not in ("gad7", "phq9", "who5"):
            continue
        out["changes"][inst_id] = figures.reliable_change_rows(
            totals, inst_id, conventions
        )
        out["gains"][inst_id] = figures.gain_markers(totals, inst_id, conventions)
        band = figures._expected(curve_sets.get(inst_id), totals, inst_id, last)
        out["expected"][inst_id] = (
            None
            if band is None
            else [
                {str(k): float(v) for k, v in r.items()}
                for r in band.to_dict("records")
            ]
        )
    return out


@pytest.fixture
def varied(practitioner):
    e = factories.make_engagement(
        practitioner,
        clients=[
            factories.make_client(practitioner),
            factories.make_client(practitioner),
        ],
        kind=ServiceKind.THERAPY,
    )
    client = fill(e, practitioner)  # the client ``fill`` chose
    second = e.clients.exclude(pk=client.pk).get()
    helpers.outcome_series(e, client, "gad7", [16, 16, 15, 15, 7, 7, 6, 6])
    helpers.outcome_series(e, second, "gad7", [9, 12, 13, 15, 16, 8])
    helpers.add_response(e, 3, second, "phq9", {"": None})  # a missing score
    helpers.add_response(e, 4, second, "phq9", {"": 11.0})  # seen once
    return e


def test_derive_equals_each_analysis_on_the_whole_frame(varied):
    scores = frames.stored_scores(engagement_ids=[varied.pk])
    sessions = frames.session_frame(engagement_ids=[varied.pk])
    curve_sets = curve_sets_for(varied.practice_id)
    for conventions in ({}, {"gad7": "spitzer_2006"}):
        got = figures.derive(scores, sessions, curve_sets, conventions)
        want = _whole_frame(scores, sessions, curve_sets, conventions)
        assert repr(got) == repr(want)  # repr: NaN (one score seen) equals NaN
    assert set(got["changes"]) == {"gad7", "phq9", "who5"}
    assert {"kind": "sudden_gain", "session": 5, "label": "sudden gain"} in got[
        "gains"
    ]["gad7"]
    assert len(got["changes"]["gad7"]) == 2  # both clients


def test_observed_keeps_a_frame_of_one_instruments_scores_as_it_is():
    frame = pd.DataFrame(
        {
            schema.INSTRUMENT: pd.Series(["phq9", "phq9", "gad7"], dtype="str"),
            schema.SCORE: [3.0, None, 4.0],
        }
    )
    assert list(figures.observed(frame, "phq9").index) == [0]
    only = figures.observed(frame, "phq9")
    assert figures.observed(only, "phq9") is only
