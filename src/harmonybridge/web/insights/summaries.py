"""Per-engagement derived results (``EngagementSummary``): stored, read, refreshed.

The dashboard's first view after new data renders from the stored results instead of
refitting: reliable change, sudden gains, expected-response bands and rupture episodes
are computed once per data version of their inputs, in the worker when the engagement
is evaluated (``receivers``) or else by the first page that finds them out of date.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from django.db import IntegrityError, transaction

from harmonybridge.web.alerts.curves import curve_sets_for
from harmonybridge.web.insights import figures
from harmonybridge.web.insights.models import EngagementSummary
from harmonybridge.web.practice import conventions as practice_conventions
from harmonybridge.web.practice.models import Engagement
from harmonybridge.web.repairs.episodes import EPISODE_COLUMNS
from harmonybridge.web.repairs.services import episodes_for

#: Episode columns holding session numbers (NaN when absent, as detection gives them).
_NUMERIC = ("episode", "first_session", "last_session", "repair_session")


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python numbers, NaN as None, sequences as lists."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    return value


def episodes_to_records(episodes: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _plain(v) for k, v in row.items()}
        for row in episodes.to_dict("records")
    ]


def episodes_from_records(records: list[dict[str, Any]]) -> pd.DataFrame:
    if not records:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EPISODE_COLUMNS})
    rows = [
        {k: tuple(v) if isinstance(v, list) else v for k, v in r.items()}
        for r in records
    ]  # detection gives sequences as tuples; JSON gave them back as lists
    frame = pd.DataFrame(rows, columns=list(EPISODE_COLUMNS))
    for column in _NUMERIC:
        frame[column] = pd.to_numeric(frame[column])
    return frame


def compute(
    engagement: Engagement,
    scores: pd.DataFrame,
    sessions: pd.DataFrame,
    conventions: Mapping[str, str],
) -> dict[str, Any]:
    """The derived results of one engagement from its score and session frames, under
    the practice's caseness ``conventions``."""
    payload = figures.derive(
        scores, sessions, curve_sets_for(engagement.practice_id), conventions
    )
    payload["episodes"] = episodes_to_records(episodes_for(engagement.pk, scores))
    return payload


def store(engagement_id: int, version: str, payload: dict[str, Any]) -> None:
    try:
        with transaction.atomic():
            EngagementSummary.objects.update_or_create(
                engagement_id=engagement_id,
                defaults={"version": version, "payload": payload},
            )
    except IntegrityError:
        pass  # another process stored it at the same moment: theirs will do


def stored(engagement_id: int, version: str) -> dict[str, Any] | None:
    """The stored results when they were computed from this data version (one query)."""
    return (
        EngagementSummary.objects.filter(engagement_id=engagement_id, version=version)
        .values_list("payload", flat=True)
        .first()
    )


def version_of(inputs: str, conventions: Mapping[str, str]) -> str:
    """The stored version: the inputs' data version and the caseness conventions."""
    text = f"{inputs}|{practice_conventions.version(dict(conventions))}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def derived_for(
    engagement: Engagement,
    inputs: str,
    scores: pd.DataFrame,
    sessions: pd.DataFrame,
    conventions: Mapping[str, str],
) -> dict[str, Any]:
    """The stored results for the inputs' data version and these conventions, or
    computed now and stored."""
    version = version_of(inputs, conventions)
    payload = stored(engagement.pk, version)
    if payload is None:
        payload = compute(engagement, scores, sessions, conventions)
        store(engagement.pk, version, payload)
    return payload
