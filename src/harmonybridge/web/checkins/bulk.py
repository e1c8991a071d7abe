"""Insert many plain rows (answers, scores) without building a model instance per row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone


def insert_rows(
    model: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Insert ``rows`` (plain values in ``columns`` order) into ``model``'s table.

    ``created_at`` and ``updated_at`` are set to now. Runs inside the caller's
    transaction; returns the number of rows.
    """
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(c) for c in [*columns, "created_at", "updated_at"])
    marks = ", ".join(["%s"] * (len(columns) + 2))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    records = [(*row, now, now) for row in rows]
    with connection.cursor() as cursor:
        for start in range(0, len(records), 10_000):
            cursor.executemany(sql, records[start : start + 10_000])
    return len(records)
