"""Evaluate the core's alert rules on an engagement's history and store what they raise."""

from __future__ import annotations

import math
from typing import Any

from django.db import IntegrityError, transaction

from harmonybridge.web.alerts.models import StoredAlert
from harmonybridge.web.practice import frames
from harmonybridge.web.practice.models import Engagement


def call_engine(history: Any) -> list[Any]:
    """The one call into the core's alert engine (``harmonybridge.alerts``)."""
    try:
        from harmonybridge.alerts import AlertContext, evaluate_alerts
    except ImportError:  # the engine has not landed yet (issue 3)
        return []

    return list(evaluate_alerts(history, context=AlertContext()))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return _jsonable(value.item())
    return value


def evaluate_engagement(engagement_id: int) -> list[StoredAlert]:
    """Run the rules on one engagement's score history; store alerts not stored before."""
    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is None:
        return []
    history = frames.score_frame(engagement_ids=[engagement_id])
    if history.empty:
        return []
    sessions = {s.number: s for s in engagement.sessions.all()}
    stored = []
    for alert in call_engine(history):
        number = None if alert.session is None else int(alert.session)
        try:
            with transaction.atomic():
                obj, created = StoredAlert.objects.get_or_create(
                    engagement=engagement,
                    session_number=number,
                    rule_id=alert.rule_id,
                    respondent_id=str(alert.respondent_id or ""),
                    instrument=str(alert.instrument or ""),
                    defaults={
                        "session": sessions.get(number),
                        "rule_version": str(alert.rule_version),
                        "severity": alert.severity,
                        "rater_role": str(alert.rater_role or ""),
                        "params": _jsonable(dict(alert.params)),
                        "evidence": _jsonable(dict(alert.evidence)),
                        "message": alert.message,
                        "suggestions": _jsonable(list(alert.suggestions)),
                    },
                )
        except IntegrityError:
            continue
        if created:
            stored.append(obj)
    return stored
