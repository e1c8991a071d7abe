"""Evaluate the core's alert rules on an engagement's history and store what they raise."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace
from typing import Any

from django.db import IntegrityError, transaction

from harmonybridge import schema
from harmonybridge.alerts import evaluate_alerts_frame
from harmonybridge.web.alerts.context import json_safe, practice_context
from harmonybridge.web.alerts.models import StoredAlert
from harmonybridge.web.checkins import frames
from harmonybridge.web.practice import conventions
from harmonybridge.web.practice.models import Engagement, TherapySession


def call_engine(
    history: Any, at: str = "current", practice_id: int | None = None
) -> list[SimpleNamespace]:
    """The one call into the core's alert engine (``harmonybridge.alerts``).

    Uses the vectorised ``evaluate_alerts_frame`` (same alerts as ``evaluate_alerts``
    per engagement) so one call serves one engagement or a whole caseload. The rules
    use the practice's stored reference (``alerts.context.practice_context``: norms,
    pooled SDs and curve sets from its closed engagements); ``AlertContext()`` when
    it has none yet; the outcome rules use the practice's caseness conventions
    (``practice.conventions``), read at each call so a change applies at once.
    """

    context = dataclasses.replace(
        practice_context(practice_id),
        conventions=conventions.for_practice(practice_id),
    )
    frame = evaluate_alerts_frame(history, context=context, at=at)
    return [
        SimpleNamespace(**{str(k): v for k, v in row.items()})
        for row in frame.to_dict("records")
    ]


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


#: What makes an alert the same alert (the ``alert_once`` constraint).
_KEY_FIELDS = (
    "engagement_id",
    "session_number",
    "rule_id",
    "respondent_id",
    "instrument",
)


def _key(alert: StoredAlert) -> tuple[Any, ...]:
    return tuple(getattr(alert, f) for f in _KEY_FIELDS)


def _store_new(
    candidates: list[StoredAlert], engagement_ids: list[int]
) -> list[StoredAlert]:
    """Store the candidates not stored before: one read of the engagements' alert keys
    and one insert, whatever the number of alerts (was a savepoint and a look-up per
    alert). A concurrent evaluation that stored one of them first makes the insert
    fail; then each is stored on its own, as before."""
    if not candidates:
        return []
    known = set(
        StoredAlert.objects.filter(engagement_id__in=engagement_ids).values_list(
            *_KEY_FIELDS
        )
    )
    new = []
    for alert in candidates:
        key = _key(alert)
        if key not in known:  # a key given twice in one run is stored once
            known.add(key)
            new.append(alert)
    if not new:
        return []
    try:
        with transaction.atomic():
            return StoredAlert.objects.bulk_create(new)
    except IntegrityError:
        return [obj for alert in new if (obj := _store_one(alert)) is not None]


def _store_one(alert: StoredAlert) -> StoredAlert | None:
    """Store one alert unless stored already; the stored row when stored now."""
    fields = {
        f.attname: getattr(alert, f.attname)
        for f in StoredAlert._meta.concrete_fields
        if not f.primary_key and f.attname not in ("created_at", "updated_at")
    }
    lookup = dict(zip(_KEY_FIELDS, _key(alert), strict=True))
    try:
        with transaction.atomic():
            obj, created = StoredAlert.objects.get_or_create(
                **lookup,
                defaults={k: v for k, v in fields.items() if k not in lookup},
            )
    except IntegrityError:
        return None
    return obj if created else None


def evaluate_engagement(engagement_id: int) -> list[StoredAlert]:
    """Run the rules on one engagement's score history; store alerts not stored before."""
    return evaluate_engagements([engagement_id])


def evaluate_engagements(
    engagement_ids: list[int], at: str = "current"
) -> list[StoredAlert]:
    """Run the rules once over several engagements' histories (the core is vectorised).

    ``at="all"`` judges every session with what was known then (to backfill history).
    """
    engagements = {e.pk: e for e in Engagement.objects.filter(pk__in=engagement_ids)}
    if not engagements:
        return []
    history = frames.stored_scores(engagement_ids=list(engagements))
    if history.empty:
        return []
    by_code = {frames.engagement_code(pk): e for pk, e in engagements.items()}
    sessions = {
        (s.engagement_id, s.number): s
        for s in TherapySession.objects.filter(engagement_id__in=list(engagements))
    }
    stored = []
    alerts: list[SimpleNamespace] = []
    for practice_id in sorted({e.practice_id for e in engagements.values()}):
        codes = [
            frames.engagement_code(pk)
            for pk, e in engagements.items()
            if e.practice_id == practice_id
        ]
        one = history[history[schema.ENGAGEMENT_ID].astype(str).isin(codes)]
        if not one.empty:
            alerts.extend(call_engine(one, at=at, practice_id=practice_id))
    candidates: list[StoredAlert] = []
    for alert in alerts:
        engagement = by_code.get(str(alert.engagement_id))
        if engagement is None:
            continue
        number = None if _missing(alert.session) else int(alert.session)
        candidates.append(
            StoredAlert(
                engagement=engagement,
                session_number=number,
                rule_id=alert.rule_id,
                respondent_id=_text(alert.respondent_id),
                instrument=_text(alert.instrument),
                session=None
                if number is None
                else sessions.get((engagement.pk, number)),
                rule_version=str(alert.rule_version),
                severity=alert.severity,
                rater_role=_text(alert.rater_role),
                params=json_safe(dict(alert.params)),
                evidence=json_safe(dict(alert.evidence)),
                message=alert.message,
                suggestions=json_safe(list(alert.suggestions)),
            )
        )
    stored.extend(_store_new(candidates, list(engagements)))
    return stored
