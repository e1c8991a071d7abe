"""Background work of the alerts app: evaluate an engagement's alerts after a check-in.

Evaluations are coalesced per engagement (``PendingEvaluation``): while one is queued
and not yet started, storing more answers for the engagement queues nothing more. A
task that starts claims its engagement's pending row and, in the same query round, the
rows of other engagements waiting in the queue (up to ``BATCH``), and evaluates them all
in one vectorised call; their own tasks then find nothing to do. One evaluation thus
covers every answer stored before it started, and the queue drains faster than answers
arrive (``benchmarks/checkin_load.py`` reports it).
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import normalize_json, task_enqueued

from harmonybridge.web.alerts.models import PendingEvaluation
from harmonybridge.web.alerts.rules import evaluate_engagements
from harmonybridge.web.alerts.signals import engagement_evaluated
from harmonybridge.web.rowinsert import insert

#: Engagements one task evaluates at most (one call into the vectorised core).
BATCH = 50
#: Seconds a task spends warming dashboards after its evaluation, own engagement first.
WARM_BUDGET_S = 1.0


@task()
def evaluate_engagement_task(engagement_id: int, coalesced: bool = False) -> int:
    """Evaluate and store alerts for the claimed engagements; returns how many new alerts.

    ``coalesced`` tasks (queued by :func:`enqueue_evaluation` with a pending row) do
    nothing when another task already claimed their engagement.
    """
    claimed = _claim(engagement_id) if coalesced else [engagement_id]
    if not claimed:
        return 0
    new = len(evaluate_engagements(claimed))
    # Warming is a convenience (the dashboard computes its panel on a cache miss): it
    # gets a time budget so that a large batch never holds the queue behind it, and
    # none while other engagements wait for their evaluation (alerts come first).
    if coalesced and PendingEvaluation.objects.exists():
        return new
    stop = time.monotonic() + WARM_BUDGET_S
    for i, pk in enumerate(claimed):
        if i and time.monotonic() > stop:
            break
        _warm_dashboard(pk)
    return new


def _claim(engagement_id: int) -> list[int]:
    """Delete (claim) this engagement's pending row and up to ``BATCH`` - 1 others.

    The own row is locked without skipping: a store that touched it and has not yet
    committed is waited for, so its answers are seen. Other rows held by such a store
    are skipped; their own task claims them later.
    """
    with transaction.atomic():
        pending = PendingEvaluation.objects.select_for_update()
        own = list(
            pending.filter(engagement_id=engagement_id).values_list("pk", flat=True)
        )
        others = list(
            pending.select_for_update(skip_locked=True)
            .exclude(engagement_id=engagement_id)
            .order_by("requested_at")
            .values_list("pk", flat=True)[: BATCH - 1]
        )
        claimed = own + others
        if claimed:
            PendingEvaluation.objects.filter(pk__in=claimed).delete()
    return claimed


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
    (the django-tasks database backend) the pending row and, when there was none, the
    task row commit atomically with them; the immediate backend runs the evaluation
    right after the commit instead.
    """
    if _runs_immediately():
        transaction.on_commit(lambda: evaluate_engagement_task.enqueue(engagement_id))
        return
    for _attempt in range(3):
        if _insert_pending(engagement_id):
            enqueue_row(evaluate_engagement_task, engagement_id, coalesced=True)
            return
        # A row exists: a queued task has not claimed it yet and will see these
        # answers. The update locks the row, so that claim waits for our commit.
        if _touch_pending(engagement_id):
            return
        # claimed between the two statements: that task may miss us; insert again
    evaluate_engagement_task.enqueue(engagement_id)  # never lose an evaluation


def enqueue_row(task: Any, *args: Any, **kwargs: Any) -> None:
    """``task.enqueue(*args, **kwargs)``, cheaper with the database backend.

    That backend's ``enqueue`` checks the task, builds the row and saves it through the
    ORM on every call (issue 14: more CPU than the rest of the alert queueing). Here the
    task is checked once per backend and the row, built field by field as the backend
    builds it (so the ``db_worker`` runs it like any other), is written by one INSERT
    whose SQL is built once per connection; ``task_enqueued`` is sent as the backend
    sends it. ``tests/web/alerts/test_enqueue_row.py`` compares the two rows and runs
    the worker on ours. Other backends get the plain ``enqueue``.
    """
    from django_tasks_db.models import DBTaskResult  # models load after the app

    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        task.enqueue(*args, **kwargs)
        return
    checked = backend.__dict__.setdefault("_hb_validated", set())
    if id(task) not in checked:
        backend.validate_task(task)
        checked.add(id(task))
    row: DBTaskResult[Any, Any] = DBTaskResult(
        id=backend._get_id(),
        args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after,
        backend_name=backend.alias,
    )
    insert(row)
    if task_enqueued.has_listeners(type(backend)):
        task_enqueued.send(type(backend), task_result=row.task_result)


def _insert_pending(engagement_id: int) -> bool:
    """Insert the engagement's pending row unless one exists; whether it was inserted.

    One statement, no savepoint: ``INSERT ... ON CONFLICT DO NOTHING RETURNING``
    (PostgreSQL, SQLite >= 3.35). A row another store inserted and has not committed
    yet is waited for (PostgreSQL), then counts as existing.
    """
    from django.db import connection

    table = connection.ops.quote_name(PendingEvaluation._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (engagement_id, requested_at) VALUES (%s, %s) "
            "ON CONFLICT (engagement_id) DO NOTHING RETURNING engagement_id",
            [engagement_id, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        return cursor.fetchone() is not None


def _touch_pending(engagement_id: int) -> bool:
    return bool(
        PendingEvaluation.objects.filter(engagement_id=engagement_id).update(
            requested_at=timezone.now()
        )
    )


def _runs_immediately() -> bool:
    from django_tasks import task_backends

    backend = task_backends[evaluate_engagement_task.backend]
    return type(backend).__name__ == "ImmediateBackend"
