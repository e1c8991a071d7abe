"""The practice's data stamp: one counter per practice, raised by every write of the data
its analyses read (ADR 0017).

Figures computed from a whole practice (the Insights page) are cached under
:func:`version`, one primary-key read, instead of a hash of aggregates over every score,
response, session, engagement and engagement client of the practice (which grew with the
practice: 1.1 s a page at 1,455 engagements).

Two ways in, one counter:

* ORM saves and deletes of the watched models raise it through the receivers that
  :func:`watch` connects (the practice app watches engagements, engagement clients and
  sessions; the check-ins app, above it, watches responses and scores).
* Writes that send no signal (``bulk_create``, ``QuerySet.update()``, the raw
  ``INSERT`` of ``checkins.bulk.insert_rows``) call :func:`touch` or
  :func:`touch_engagements` themselves, as the last statement of their transaction
  where that is possible: the raise locks the practice's row until the commit.

The raise is part of the writing transaction, so a reader sees the new version exactly
when it sees the new rows; a rolled-back write leaves the version as it was.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from harmonybridge.web.practice.models import DataStamp, Engagement


def _raise(select: str, params: list[Any]) -> None:
    """``INSERT ... ON CONFLICT DO UPDATE``: one statement, whether the row exists or not.

    ``select`` yields the practice ids, each once (PostgreSQL refuses to update a row
    twice in one statement). ``WHERE true`` lets SQLite parse the upsert after a SELECT.
    """
    ops = connection.ops
    table = ops.quote_name(DataStamp._meta.db_table)
    now = ops.adapt_datetimefield_value(timezone.now())
    sql = (
        f"INSERT INTO {table} (practice_id, version, changed_at) "
        f"SELECT touched.practice_id, 1, %s FROM ({select}) AS touched WHERE true "
        "ON CONFLICT (practice_id) DO UPDATE SET "
        f"version = {table}.version + 1, changed_at = excluded.changed_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, *params])


def touch(practice_id: int) -> None:
    """Raise the practice's data version (one statement; inside the caller's transaction)."""
    _raise("SELECT CAST(%s AS BIGINT) AS practice_id", [practice_id])


def touch_engagements(engagements: QuerySet[Engagement]) -> None:
    """Raise the data version of every practice with an engagement in ``engagements``.

    One statement: the engagements' query is a sub-select of the raise, so a caller that
    knows a session, response or score but not its practice reads nothing first.
    """
    query = engagements.order_by().values("practice_id").distinct().query
    select, params = query.sql_with_params()
    _raise(select, list(params))


def touch_engagement(engagement_id: int) -> None:
    """Raise the data version of the engagement's practice."""
    touch_engagements(Engagement.objects.filter(pk=engagement_id))


def version(practice_id: int) -> str:
    """The practice's data version (one primary-key read): the counter and the time of
    its last raise, ``"0"`` before the first write.

    The time is there because the counter can be rewound while a cache outside the
    database keeps its entries (a restored backup; a test's rolled-back transaction):
    the next raise then repeats a counter value, never the time.
    """
    found = DataStamp.objects.filter(practice_id=practice_id).values_list(
        "version", "changed_at"
    )
    for counter, changed_at in found:
        return f"{counter}@{changed_at.isoformat()}"
    return "0"


def watch(model: type[Model], lookup: str | None, attname: str) -> None:
    """Raise the stamp when an instance of ``model`` is saved or deleted through the ORM.

    ``attname`` is the instance's attribute that leads to its practice: the practice id
    itself (``lookup`` None) or the value to find its engagement by, with ``lookup``
    the engagement's field path (``"sessions__responses"`` for a score's
    ``response_id``). Deletes cascade children first, so a child's engagement is
    still there when the child's receiver runs.
    """

    def changed(sender: Any, instance: Any, **kwargs: Any) -> None:
        value = getattr(instance, attname)
        if value is None:
            return
        if lookup is None:
            touch(value)
        else:
            touch_engagements(Engagement.objects.filter(**{lookup: value}))

    uid = f"datastamp.{model._meta.label_lower}"
    post_save.connect(changed, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(changed, sender=model, weak=False, dispatch_uid=uid)
