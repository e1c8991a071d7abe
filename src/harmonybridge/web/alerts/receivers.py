"""Alerts' answers to the check-ins app's signals (connected in ``AlertsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from harmonybridge.web.alerts.safety import raise_notice
from harmonybridge.web.alerts.tasks import enqueue_evaluation
from harmonybridge.web.checkins.signals import answers_stored, safety_item_answered


@receiver(answers_stored, dispatch_uid="alerts.enqueue_evaluation")
def queue_evaluation(sender: Any, engagement_id: int, **kwargs: Any) -> None:
    """Queue the evaluation of the engagement's alerts for the answers just stored."""
    enqueue_evaluation(engagement_id)


@receiver(safety_item_answered, dispatch_uid="alerts.raise_notice")
def notice_for_safety_item(
    sender: Any, checkin: Any, inst: Any = None, answers: Any = None, **kwargs: Any
) -> None:
    """Raise the check-in's safety card (once) with the answer that fired it."""
    raise_notice(checkin, inst, answers)
