"""Rupture episodes of an engagement from the stored scores and records."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.db import transaction
from django.utils.translation import gettext as _

from harmonybridge import instruments, schema
from harmonybridge.web import audit
from harmonybridge.web.checkins import frames
from harmonybridge.web.repairs import frames as repair_frames
from harmonybridge.web.repairs import markers
from harmonybridge.web.repairs.episodes import detect_episodes
from harmonybridge.web.repairs.forms import RepairRecordForm
from harmonybridge.web.repairs.models import RepairRecord


def alliance_instrument_ids() -> tuple[str, ...]:
    return tuple(
        i.id for i in instruments.all_instruments() if i.kind in ("alliance", "rupture")
    )


def episodes_for(
    engagement_id: int, scores: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Episodes of one engagement (pass its score frame when you already have it)."""
    if scores is None:
        scores = frames.stored_scores(engagement_ids=[engagement_id])
    records = repair_frames.repair_frame(engagement_ids=[engagement_id])
    return detect_episodes(
        scores, records, alliance_instruments=alliance_instrument_ids()
    )


_SOURCE_LABELS = {
    "statistical": "drop in the alliance scores",
    "client_report": "client's own report",
    "practitioner_report": "practitioner's check-in",
    "practitioner_record": "practitioner's record",
}


def episode_rows(
    episodes: pd.DataFrame, labels: dict[str, str]
) -> list[dict[str, Any]]:
    """Episodes as template rows with readable sources, markers and strategies."""

    out = []
    for row in episodes.to_dict("records"):
        who = [labels.get(str(r), str(r)) for r in row["respondents"]]
        out.append(
            {
                **{str(k): v for k, v in row.items()},
                "source_labels": [_(_SOURCE_LABELS.get(s, s)) for s in row["sources"]],
                "who": who,
                "marker_labels": markers.labels(row["markers"]),
                "strategy_labels": markers.labels(row["strategies"]),
                "has_repair": row["repair_session"] == row["repair_session"],
                "engagement_pk": int(str(row[schema.ENGAGEMENT_ID]).lstrip("E")),
            }
        )
    return out


def save_record(
    form: RepairRecordForm, session: Any, user: Any, request: Any = None
) -> RepairRecord:
    """Save a valid rupture–repair form as the session's record (create or update), audited.

    The record page and the JSON API both save through here."""
    existing = form.instance.pk is not None
    with transaction.atomic():
        obj: RepairRecord = form.save(commit=False)
        obj.session = session
        obj.recorded_by = user
        obj.save()
        audit.record(
            user,
            "repair.update" if existing else "repair.create",
            obj,
            request=request,
            session_id=session.pk,
        )
    return obj
