"""The score frame's ``date`` comes from one lookup per session (issue 14 §3), and must
equal the conversion the frame used to make on every score row: UTC wall time without
a zone, NaT for a session without a date, whatever zone the time was given in."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from harmonybridge import schema
from harmonybridge.web.checkins import frames
from harmonybridge.web.checkins.models import Score
from harmonybridge.web.practice.models import ServiceKind
from tests.web import factories
from tests.web.insights import helpers

#: Times at the edges: a zone a day ahead of UTC, one behind it, the hour a clock went
#: back (the same wall time twice), midnight UTC, the last microsecond of a year.
EDGES = [
    dt.datetime(2026, 1, 1, 0, 30, tzinfo=ZoneInfo("Pacific/Kiritimati")),  # +14:00
    dt.datetime(2025, 12, 31, 23, 30, tzinfo=ZoneInfo("Etc/GMT+12")),  # -12:00
    dt.datetime(2025, 10, 26, 1, 30, fold=0, tzinfo=ZoneInfo("Europe/London")),
    dt.datetime(2025, 10, 26, 1, 30, fold=1, tzinfo=ZoneInfo("Europe/London")),
    dt.datetime(2026, 3, 29, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
]


def _per_row(values):
    """The conversion the frame made on each score row before (the reference)."""
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True).dt.tz_localize(
        None
    )


def test_the_session_lookup_equals_the_per_row_conversion():
    values = [*EDGES, None]  # a session without a date: NaT, as before
    dates = frames.session_dates(zip(range(10, 10 + len(values)), values, strict=True))
    assert list(dates.index) == list(range(10, 10 + len(values)))
    rows = [0, 0, 3, 6, 1, 2, 3, 5, 4, 6, 6]  # score rows point at sessions
    pks = pd.Series([10 + i for i in rows])
    pd.testing.assert_series_equal(
        pks.map(dates), _per_row([values[i] for i in rows]), check_names=False
    )
    assert pd.isna(dates[16])
    assert dates[10] == pd.Timestamp("2025-12-31 10:30")  # +14:00: the day before
    assert dates[11] == pd.Timestamp("2026-01-01 11:30")  # -12:00: the day after
    assert dates[12] == pd.Timestamp("2025-10-26 00:30")  # BST, first 01:30
    assert dates[13] == pd.Timestamp("2025-10-26 01:30")  # GMT, second 01:30


def test_no_session_and_no_date_give_the_per_row_dtype():
    pd.testing.assert_series_equal(
        frames.session_dates([]), _per_row([]), check_index_type=False
    )
    pd.testing.assert_series_equal(
        frames.session_dates([(1, None), (2, None)]).reset_index(drop=True),
        _per_row([None, None]),
    )


@pytest.fixture
def edged(practitioner):
    """Two engagements of a practice, sessions at the zone edges, two respondents
    each (scores at every session but one), and a session held without scores."""
    out = []
    for k in range(2):
        e = factories.make_engagement(practitioner, kind=ServiceKind.THERAPY)
        client = e.clients.first()
        for n, starts in enumerate(EDGES[k::2] + EDGES, start=1):
            helpers.session_at(e, n, starts_at=starts)
            if n == 2:
                continue
            helpers.add_response(e, n, client, "phq9", {"": float(n)})
            helpers.add_response(e, n, practitioner, "hb_checkin_practitioner", {"": 4})
        helpers.session_at(e, 20)  # held, nothing answered yet
        out.append(e)
    return out


def _reference(frame):
    """Each row's date converted from its own session's stored time (the old way)."""
    starts = dict(
        Score.objects.values_list("pk", "response__session__starts_at").order_by()
    )
    keyed = {
        (f"E{eid}", int(number), code or f"P{user}", inst, sub): starts[pk]
        for pk, eid, number, code, user, inst, sub in Score.objects.values_list(
            "pk",
            "response__session__engagement_id",
            "response__session__number",
            "response__respondent_client__code",
            "response__respondent_user_id",
            "response__instrument_id",
            "subscale",
        )
    }
    return _per_row(
        [
            keyed[(r[0], r[1], r[2], r[3], r[4])]
            for r in frame[
                [
                    schema.ENGAGEMENT_ID,
                    schema.SESSION,
                    schema.RESPONDENT_ID,
                    schema.INSTRUMENT,
                    schema.SUBSCALE,
                ]
            ].itertuples(index=False, name=None)
        ]
    )


def test_stored_scores_dates_equal_each_rows_own_session_time(edged, practitioner):
    for frame in (
        frames.stored_scores(engagement_ids=[e.pk for e in edged]),
        frames.stored_scores(engagement_ids=[edged[1].pk]),
        frames.stored_scores(practice_id=practitioner.practice_id),
    ):
        assert len(frame)
        assert frame[schema.DATE].notna().all()
        pd.testing.assert_series_equal(
            frame[schema.DATE], _reference(frame), check_names=False
        )
    # the frame has no row for the session held without scores, and gained no column
    one = frames.stored_scores(engagement_ids=[edged[0].pk])
    assert 20 not in set(one[schema.SESSION])
    assert 2 not in set(one[schema.SESSION])
    assert list(one.columns) == frames.COLUMNS
