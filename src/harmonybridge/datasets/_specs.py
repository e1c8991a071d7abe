"""Item layouts and scoring rules the generator uses for each simulated instrument.

These mirror the instrument contract (``harmonybridge.instruments``) so that the
generator stays importable on its own; ``tests/core/test_datasets.py`` rescores the
simulated items with the registry and checks that both agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SERVICE_LINES: tuple[str, ...] = (
    "individual_therapy",
    "couples_family_therapy",
    "health_wellness_coaching",
    "spiritual_life_coaching",
    "life_transition_coaching",
)
THERAPY_LINES: tuple[str, ...] = SERVICE_LINES[:2]
COACHING_LINES: tuple[str, ...] = SERVICE_LINES[2:]
ATTENDANCE: tuple[str, ...] = ("attended", "cancelled", "no_show")
MODALITIES: tuple[str, ...] = ("in_person", "video", "phone", "chat")
STATUSES: tuple[str, ...] = ("active", "closed")

#: Derived rupture scores of the check-in (contract: not part of the total).
RUPTURE_SUBSCALES: tuple[str, ...] = (
    "rupture_present",
    "rupture_intensity",
    "rupture_resolution",
)


@dataclass(frozen=True)
class InstrumentLayout:
    """What the generator needs to know about one instrument."""

    id: str
    n_items: int
    low: int
    high: int
    subscales: tuple[str, ...]  # score rows after the total ("")
    rater_role: str = "client"


LAYOUTS: dict[str, InstrumentLayout] = {
    "hb_checkin": InstrumentLayout(
        "hb_checkin", 6, 1, 5, ("goal", "task", "bond", *RUPTURE_SUBSCALES)
    ),
    "hb_checkin_practitioner": InstrumentLayout(
        "hb_checkin_practitioner",
        6,
        1,
        5,
        ("goal", "task", "bond", *RUPTURE_SUBSCALES),
        rater_role="practitioner",
    ),
    "phq9": InstrumentLayout("phq9", 9, 0, 3, ()),
    "gad7": InstrumentLayout("gad7", 7, 0, 3, ()),
    "who5": InstrumentLayout("who5", 5, 0, 5, ()),
    "swls": InstrumentLayout("swls", 5, 1, 7, ()),
    "fs": InstrumentLayout("fs", 8, 1, 7, ()),
    "goal_progress": InstrumentLayout(
        "goal_progress", 3, 0, 10, ("goal_1", "goal_2", "goal_3")
    ),
}

#: Order of instruments inside one session (client forms, then the practitioner's).
INSTRUMENT_ORDER: tuple[str, ...] = tuple(LAYOUTS)

#: Column order of the canonical score frame and of the item-level frame.
SCORE_COLUMNS: tuple[str, ...] = (
    "client_id",
    "engagement_id",
    "practitioner_id",
    "session",
    "date",
    "rater_role",
    "respondent_id",
    "instrument",
    "subscale",
    "score",
)
ITEM_COLUMNS: tuple[str, ...] = (
    "response_id",
    "client_id",
    "engagement_id",
    "practitioner_id",
    "session",
    "date",
    "rater_role",
    "respondent_id",
    "instrument",
    "item",
    "value",
)


def score_matrix(instrument: str, values: np.ndarray) -> np.ndarray:
    """Return the score rows (total first, then subscales) for an item matrix.

    ``values`` is ``(n, n_items)`` with NaN for an item not shown (the check-in's
    conditional rupture items, goals not agreed). The result is ``(n, 1 + n_sub)``.
    """
    if instrument.startswith("hb_checkin"):
        alliance = values[:, :3]
        return np.column_stack([alliance.mean(axis=1), alliance, values[:, 3:6]])
    if instrument == "goal_progress":
        return np.column_stack([np.nanmean(values, axis=1), values])
    total = values.sum(axis=1)
    if instrument == "who5":
        total = total * 4.0
    result: np.ndarray = total[:, None]
    return result
