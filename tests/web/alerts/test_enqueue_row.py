"""The alert task row written by ``tasks.enqueue_row`` is the row django-tasks writes.

Issue 14: the submit writes the task row with one INSERT built once per connection
(``harmonybridge.web.rowinsert``) instead of the database backend's ``enqueue``. The row
must stay one the ``db_worker`` picks up and runs.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict

from harmonybridge.web.alerts import tasks
from harmonybridge.web.alerts.models import PendingEvaluation

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects


def _fields(row) -> dict:
    out = model_to_dict(row)
    out.pop("id", None)
    return out


def test_the_row_is_the_backends_row(engagement, queue):
    tasks.enqueue_row(tasks.evaluate_engagement_task, engagement.pk, coalesced=True)
    ours = queue.get()
    queue.all().delete()
    tasks.evaluate_engagement_task.enqueue(engagement.pk, coalesced=True)
    theirs = queue.get()
    assert _fields(ours) == _fields(theirs)
    assert ours.status == "READY"
    assert ours.args_kwargs == {"args": [engagement.pk], "kwargs": {"coalesced": True}}
    assert ours.run_after == theirs.run_after  # the backend's pre_save receiver ran
    assert abs((ours.enqueued_at - theirs.enqueued_at).total_seconds()) < 60
    assert ours.task_result.task.func is tasks.evaluate_engagement_task.func


@pytest.mark.django_db(transaction=True)  # the worker closes the connection at the end
def test_the_worker_runs_the_queued_evaluation(engagement, queue, monkeypatch):
    evaluated: list[list[int]] = []
    monkeypatch.setattr(
        tasks,
        "evaluate_engagements",
        lambda ids, at="current": evaluated.append(ids) or [],
    )
    monkeypatch.setattr(tasks, "_warm_dashboard", lambda pk: None)
    tasks.enqueue_evaluation(engagement.pk)
    assert PendingEvaluation.objects.filter(engagement=engagement).exists()
    assert queue.count() == 1
    call_command("db_worker", "--batch", verbosity=0)
    assert queue.get().status == "SUCCESSFUL"
    assert evaluated == [[engagement.pk]]
    assert not PendingEvaluation.objects.exists()


def test_other_backends_get_the_plain_enqueue(engagement, settings, monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "_warm_dashboard", lambda pk: None)
    monkeypatch.setattr(
        tasks, "evaluate_engagements", lambda ids, at="current": calls.append(ids) or []
    )
    tasks.enqueue_row(
        tasks.evaluate_engagement_task, engagement.pk, coalesced=False
    )  # the immediate backend of the tests
    assert calls == [[engagement.pk]]


def test_the_safety_email_row_is_the_backends_row(queue):
    from harmonybridge.web.alerts.safety import send_safety_email

    tasks.enqueue_row(send_safety_email, 5)
    ours = queue.get()
    queue.all().delete()
    send_safety_email.enqueue(5)
    assert _fields(ours) == _fields(queue.get())
    assert ours.args_kwargs == {"args": [5], "kwargs": {}}
