"""Queued alert evaluations are coalesced per engagement (issue 14).

One evaluation covers every answer stored before it starts: while an engagement's task
waits in the queue, more answers queue nothing more; a task that starts claims its own
engagement and others waiting, and their tasks then do nothing.
"""

from __future__ import annotations

import pytest

from harmonybridge.web.alerts import rules, tasks
from harmonybridge.web.alerts.models import PendingEvaluation
from harmonybridge.web.checkins import storage
from harmonybridge.web.practice import catalogue
from tests.web import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects


@pytest.fixture
def evaluated(monkeypatch):
    calls: list[list[int]] = []
    monkeypatch.setattr(
        tasks, "evaluate_engagements", lambda ids, at="current": calls.append(ids) or []
    )
    monkeypatch.setattr(tasks, "_warm_dashboard", lambda pk: None)
    return calls


def _rate(practitioner, session):
    inst = catalogue.instrument_for(practitioner.practice, "hb_checkin_practitioner")
    stored = storage.store_practitioner_rating(
        session, inst, {1: 2, 2: 2, 3: 2, 4: 0}, practitioner, None
    )
    assert stored.created


def _run(task_row) -> int:
    return tasks.evaluate_engagement_task.call(
        *task_row.args_kwargs["args"], **task_row.args_kwargs["kwargs"]
    )


def test_answers_stored_while_a_task_waits_queue_nothing_more(
    practitioner, engagement, queue, evaluated
):
    for _ in range(3):
        _rate(practitioner, factories.make_session(engagement))
    assert queue.count() == 1
    assert PendingEvaluation.objects.filter(engagement=engagement).count() == 1
    _run(queue.get())
    assert evaluated == [[engagement.pk]]
    assert not PendingEvaluation.objects.exists()


def test_answers_stored_after_a_task_started_queue_a_new_one(
    practitioner, engagement, queue, evaluated
):
    _rate(practitioner, factories.make_session(engagement))
    _run(queue.get())  # started (and finished): its claim is gone
    _rate(practitioner, factories.make_session(engagement))
    assert queue.count() == 2
    _run(queue.order_by("enqueued_at").last())
    assert evaluated == [[engagement.pk], [engagement.pk]]


def test_one_task_evaluates_every_waiting_engagement_once(
    practitioner, queue, evaluated
):
    engagements = [factories.make_engagement(practitioner) for _ in range(3)]
    for e in engagements:
        _rate(practitioner, factories.make_session(e))
    rows = list(queue.order_by("enqueued_at"))
    assert len(rows) == 3
    _run(rows[0])
    assert len(evaluated) == 1
    assert sorted(evaluated[0]) == sorted(e.pk for e in engagements)
    assert evaluated[0][0] == engagements[0].pk  # its own engagement first
    assert [_run(r) for r in rows[1:]] == [0, 0]  # claimed already: nothing to do
    assert len(evaluated) == 1


def test_batch_is_bounded(practitioner, queue, evaluated, monkeypatch):
    monkeypatch.setattr(tasks, "BATCH", 2)
    engagements = [factories.make_engagement(practitioner) for _ in range(3)]
    for e in engagements:
        _rate(practitioner, factories.make_session(e))
    rows = list(queue.order_by("enqueued_at"))
    _run(rows[0])
    _run(rows[1])
    _run(rows[2])
    assert [len(ids) for ids in evaluated] == [2, 1]


def test_a_task_queued_before_coalescing_still_evaluates(engagement, evaluated):
    assert tasks.evaluate_engagement_task.call(engagement.pk) == 0
    assert evaluated == [[engagement.pk]]


def test_dashboard_warming_has_a_time_budget(practitioner, queue, monkeypatch):
    monkeypatch.setattr(rules, "evaluate_engagements", lambda ids, at="current": [])
    warmed: list[int] = []
    monkeypatch.setattr(tasks, "_warm_dashboard", warmed.append)
    monkeypatch.setattr(tasks, "WARM_BUDGET_S", 0.0)
    engagements = [factories.make_engagement(practitioner) for _ in range(3)]
    for e in engagements:
        _rate(practitioner, factories.make_session(e))
    _run(queue.order_by("enqueued_at").first())
    assert warmed == [engagements[0].pk]  # its own engagement, then out of time


def test_no_warming_while_other_engagements_wait(practitioner, queue, monkeypatch):
    """Issue 14 §2: evaluations come before the dashboards' convenience warming."""
    monkeypatch.setattr(tasks, "evaluate_engagements", lambda ids, at="current": [])
    warmed: list[int] = []
    monkeypatch.setattr(tasks, "_warm_dashboard", warmed.append)
    monkeypatch.setattr(tasks, "BATCH", 1)  # one engagement per task: others wait
    engagements = [factories.make_engagement(practitioner) for _ in range(2)]
    for e in engagements:
        _rate(practitioner, factories.make_session(e))
    first, second = queue.order_by("enqueued_at")
    _run(first)
    assert warmed == []  # the second engagement still waited
    _run(second)
    assert warmed == [engagements[1].pk]  # the queue is empty: warm now
