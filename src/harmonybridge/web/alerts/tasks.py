"""Background work of the alerts app: evaluate an engagement's alerts after a check-in."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task


@task()
def evaluate_engagement_task(engagement_id: int) -> int:
    """Evaluate and store alerts for one engagement; returns how many new alerts."""
    from harmonybridge.web.alerts.rules import evaluate_engagement

    new = len(evaluate_engagement(engagement_id))
    _warm_dashboard(engagement_id)
    return new


def _warm_dashboard(engagement_id: int) -> None:
    """Compute the dashboard panel now, so the practitioner's first view is a cache hit.

    Only a queued (worker) evaluation warms it: there the work is off the client's
    request and the shared database cache carries the panel to the web processes.
    """
    if _runs_immediately():
        return
    from django.conf import settings
    from django.utils import translation

    from harmonybridge.web.insights.panel import panel_for
    from harmonybridge.web.practice.models import Engagement

    engagement = Engagement.objects.filter(pk=engagement_id).first()
    if engagement is not None:
        # the panel is cached per language; pages are served in the site's language
        with translation.override(settings.LANGUAGE_CODE):
            panel_for(engagement, subscales=False)


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
