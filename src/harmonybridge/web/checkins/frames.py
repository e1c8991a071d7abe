"""The one ORM→DataFrame seam: stored scores as the canonical long score frame."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from harmonybridge import schema
from harmonybridge.web.checkins.models import Score
from harmonybridge.web.practice.models import EngagementClient, TherapySession

COLUMNS = [
    schema.CLIENT_ID,
    schema.ENGAGEMENT_ID,
    schema.PRACTITIONER_ID,
    schema.SESSION,
    schema.DATE,
    schema.RATER_ROLE,
    schema.RESPONDENT_ID,
    schema.INSTRUMENT,
    schema.SUBSCALE,
    schema.SCORE,
]


def practitioner_code(user_id: int) -> str:
    return f"P{user_id}"


def naive_utc(values: Iterable[Any]) -> pd.Series:
    """Stored session times as the frame's ``date``: UTC wall time without a zone
    (None: NaT). The one conversion of ``starts_at``; applied once per session."""
    return pd.to_datetime(
        pd.Series(list(values), dtype=object), utc=True
    ).dt.tz_localize(None)


def session_dates(sessions: Iterable[tuple[int, Any]]) -> pd.Series:
    """``(session pk, starts_at)`` pairs as a Series of ``naive_utc`` dates by pk."""
    pairs = list(sessions)
    dates = naive_utc(starts for _, starts in pairs)
    dates.index = pd.Index([pk for pk, _ in pairs], dtype="int64")
    return dates


def stored_scores(
    *,
    engagement_ids: Iterable[int] | None = None,
    practice_id: int | None = None,
) -> pd.DataFrame:
    """Canonical score frame for some engagements (or a whole practice).

    One row per (engagement_id, session, respondent_id, instrument, subscale);
    ``client_id`` is the pseudonymous code (for a practitioner's rating: the
    engagement's first client), ``respondent_id`` the client code or ``P<user id>``.
    """
    qs = Score.objects.all()
    if engagement_ids is not None:
        ids = list(engagement_ids)
        qs = qs.filter(response__session__engagement_id__in=ids)
    if practice_id is not None:
        qs = qs.filter(response__session__engagement__practice_id=practice_id)
    rows = list(
        qs.values_list(
            "response__session__engagement_id",
            "response__session__engagement__lead_id",
            "response__session__number",
            "response__session_id",
            "response__session__starts_at",
            "response__rater_role",
            "response__respondent_client__code",
            "response__respondent_user_id",
            "response__instrument_id",
            "subscale",
            "value",
        )
    )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
    engagement_set = {r[0] for r in rows}
    first_client: dict[int, str] = {}
    for eid, code in (
        EngagementClient.objects.filter(engagement_id__in=engagement_set)
        .order_by("id")
        .values_list("engagement_id", "client__code")
    ):
        first_client.setdefault(eid, code)
    raw = pd.DataFrame(
        rows,
        columns=[
            "eid",
            "lead",
            "number",
            "session_pk",
            "starts_at",
            "role",
            "client_code",
            "user_id",
            "instrument",
            "subscale",
            "score",
        ],
    )
    # one conversion a session, not one a score row (same query, no extra one)
    first = ~raw["session_pk"].duplicated()
    dates = session_dates(
        zip(raw["session_pk"][first].tolist(), raw["starts_at"][first], strict=True)
    )
    is_client = raw["client_code"].notna()
    respondent = raw["client_code"].where(
        is_client, "P" + raw["user_id"].astype("Int64").astype(str)
    )
    frame = pd.DataFrame(
        {
            schema.CLIENT_ID: raw["client_code"].where(
                is_client, raw["eid"].map(first_client)
            ),
            schema.ENGAGEMENT_ID: "E" + raw["eid"].astype(str),
            schema.PRACTITIONER_ID: "P" + raw["lead"].astype(str),
            schema.SESSION: raw["number"].astype("int64"),
            schema.DATE: raw["session_pk"].map(dates),
            schema.RATER_ROLE: raw["role"].astype(str),
            schema.RESPONDENT_ID: respondent.astype(str),
            schema.INSTRUMENT: raw["instrument"].astype(str),
            schema.SUBSCALE: raw["subscale"].astype(str),
            schema.SCORE: raw["score"].astype("float64").fillna(np.nan),
        }
    )
    return frame.sort_values(
        [
            schema.ENGAGEMENT_ID,
            schema.SESSION,
            schema.RESPONDENT_ID,
            schema.INSTRUMENT,
            schema.SUBSCALE,
        ]
    ).reset_index(drop=True)


def engagement_code(engagement_id: int) -> str:
    return f"E{engagement_id}"


def session_frame(*, engagement_ids: Iterable[int]) -> pd.DataFrame:
    """Sessions of some engagements: engagement_id, session, date, attendance, modality,
    session_pk (the row's primary key, for links)."""

    rows = list(
        TherapySession.objects.filter(engagement_id__in=list(engagement_ids))
        .order_by("engagement_id", "number")
        .values_list(
            "engagement_id", "number", "starts_at", "attendance", "modality", "pk"
        )
    )
    frame = pd.DataFrame(
        rows,
        columns=[
            schema.ENGAGEMENT_ID,
            schema.SESSION,
            schema.DATE,
            "attendance",
            "modality",
            "session_pk",
        ],
    )
    frame[schema.ENGAGEMENT_ID] = "E" + frame[schema.ENGAGEMENT_ID].astype(str)
    frame[schema.SESSION] = frame[schema.SESSION].astype("int64")
    return frame
