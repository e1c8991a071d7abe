"""Put score histories into the database for dashboard, caseload and report tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils import timezone

from harmonybridge.web.checkins.models import Answer, Channel, Response, Score
from harmonybridge.web.practice.models import Engagement, TherapySession

START = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)


def session_at(engagement: Engagement, number: int, **kw: Any) -> TherapySession:
    kw.setdefault("starts_at", START + dt.timedelta(days=7 * (number - 1)))
    obj, _ = TherapySession.objects.get_or_create(
        engagement=engagement, number=number, defaults=kw
    )
    return obj


def add_response(
    engagement: Engagement,
    number: int,
    respondent: Any,
    instrument: str,
    scores: Mapping[str, float | None],
    answers: Mapping[int, float] | None = None,
) -> Response:
    """One response with its scores ({"": total, "goal": ...}) and optional answers."""
    session = session_at(engagement, number)
    is_client = type(respondent).__name__ == "Client"
    resp = Response.objects.create(
        session=session,
        instrument_id=instrument,
        instrument_version="1",
        rater_role="client" if is_client else "practitioner",
        respondent_client=respondent if is_client else None,
        respondent_user=None if is_client else respondent,
        respondent_key=(
            Response.key_for_client(respondent.pk)
            if is_client
            else Response.key_for_user(respondent.pk)
        ),
        channel=Channel.LINK if is_client else Channel.WEB,
        submitted_at=session.starts_at,
    )
    Score.objects.bulk_create(
        Score(response=resp, subscale=k, value=v, library_version="test")
        for k, v in scores.items()
    )
    if answers:
        Answer.objects.bulk_create(
            Answer(response=resp, item=k, value=v) for k, v in answers.items()
        )
    return resp


def alliance_series(
    engagement: Engagement,
    respondent: Any,
    values: Iterable[float | None],
    *,
    instrument: str = "hb_checkin",
    tension_at: Iterable[int] = (),
) -> None:
    """A total per session (None = no check-in); tension_at reports a rupture."""
    tension = set(tension_at)
    for n, v in enumerate(values, start=1):
        if v is None:
            session_at(engagement, n)
            continue
        scores: dict[str, float | None] = {"": v, "goal": v, "task": v, "bond": v}
        scores["rupture_present"] = 1.0 if n in tension else 0.0
        if n in tension:
            scores["rupture_intensity"] = 4.0
            scores["rupture_resolution"] = 2.0
        add_response(engagement, n, respondent, instrument, scores)


def outcome_series(
    engagement: Engagement, respondent: Any, instrument: str, values: Iterable[float]
) -> None:
    for n, v in enumerate(values, start=1):
        add_response(engagement, n, respondent, instrument, {"": v})


def now() -> dt.datetime:
    return timezone.now()
