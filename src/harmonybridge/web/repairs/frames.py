"""The practitioner's rupture-repair records as a frame (notes stay out of frames)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from harmonybridge import schema
from harmonybridge.web.repairs.models import RepairRecord


def repair_frame(*, engagement_ids: Iterable[int]) -> pd.DataFrame:
    """The practitioner's rupture–repair records: id, engagement_id, session, resolved,
    markers, strategies (notes stay out of frames)."""
    rows = list(
        RepairRecord.objects.filter(session__engagement_id__in=list(engagement_ids))
        .order_by("session__engagement_id", "session__number")
        .values_list(
            "id",
            "session__engagement_id",
            "session__number",
            "resolved",
            "markers",
            "strategies",
        )
    )
    frame = pd.DataFrame(
        rows,
        columns=[
            "id",
            schema.ENGAGEMENT_ID,
            schema.SESSION,
            "resolved",
            "markers",
            "strategies",
        ],
    )
    frame[schema.ENGAGEMENT_ID] = "E" + frame[schema.ENGAGEMENT_ID].astype(str)
    frame[schema.SESSION] = frame[schema.SESSION].astype("int64")
    return frame
