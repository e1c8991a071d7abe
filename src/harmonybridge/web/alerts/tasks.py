"""Background work of the alerts app: evaluate an engagement's alerts after a check-in."""

from __future__ import annotations

from django_tasks import task


@task()
def evaluate_engagement_task(engagement_id: int) -> int:
    """Evaluate and store alerts for one engagement; returns how many new alerts."""
    from harmonybridge.web.alerts.rules import evaluate_engagement

    return len(evaluate_engagement(engagement_id))


def enqueue_evaluation(engagement_id: int) -> None:
    """Queue the evaluation (the immediate backend runs it right after commit)."""
    evaluate_engagement_task.enqueue(engagement_id)
