"""Background work of the alerts app: evaluate an engagement's alerts after a check-in."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from harmonybridge.web.alerts.rules import evaluate_engagement
from harmonybridge.web.alerts.signals import engagement_evaluated


@task()
def evaluate_engagement_task(engagement_id: int) -> int:
    """Evaluate and store alerts for one engagement; returns how many new alerts."""
    new = len(evaluate_engagement(engagement_id))
    _warm_dashboard(engagement_id)
    return new


def _warm_dashboard(engagement_id: int) -> None:
    """Let the apps above warm their caches (the insights dashboard panel) now.

    Only a queued (worker) evaluation sends this: there the work is off the client's
    request and the shared database cache carries the panel to the web processes.
    """
    if _runs_immediately():
        return
    engagement_evaluated.send(
        sender=evaluate_engagement_task, engagement_id=engagement_id
    )


def enqueue_evaluation(engagement_id: int) -> None:
    """Queue the evaluation of an engagement's alerts for the answers just stored.

    Called inside the transaction that stores the answers: with a queueing backend
    (the django-tasks database backend) the task row commits atomically with them; the
    immediate backend runs the evaluation right after the commit instead.
    """
    if _runs_immediately():
        transaction.on_commit(lambda: evaluate_engagement_task.enqueue(engagement_id))
    else:
        evaluate_engagement_task.enqueue(engagement_id)


def _runs_immediately() -> bool:
    from django_tasks import task_backends

    backend = task_backends[evaluate_engagement_task.backend]
    return type(backend).__name__ == "ImmediateBackend"
