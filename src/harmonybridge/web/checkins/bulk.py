"""Insert many plain rows (answers, scores) without building a model instance per row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

#: Bound parameters of one statement at most (SQLite's older limit is 999).
_MAX_PARAMS = 900


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
    row_marks = "(" + ", ".join(["%s"] * (len(columns) + 2)) + ")"
    if connection.vendor == "postgresql":
        return _insert_unnest(model, columns, rows, now)
    records = [(*row, now, now) for row in rows]
    # One multi-row INSERT per chunk: one statement and one round trip, where
    # ``executemany`` sent one statement per row (issue 14).
    per = max(1, _MAX_PARAMS // (len(columns) + 2))
    with connection.cursor() as cursor:
        for start in range(0, len(records), per):
            chunk = records[start : start + per]
            sql = f"INSERT INTO {table} ({names}) VALUES " + ", ".join(
                [row_marks] * len(chunk)
            )
            cursor.execute(sql, [v for record in chunk for v in record])
    return len(records)


def _insert_unnest(
    model: Any, columns: Sequence[str], rows: Iterable[Sequence[Any]], now: Any
) -> int:
    """PostgreSQL: one ``INSERT ... SELECT FROM unnest(arrays)`` whatever the number of
    rows; the statement's text does not change with it, so it is parsed once."""
    ops = connection.ops
    records = list(rows)
    if not records:
        return 0
    table = ops.quote_name(model._meta.db_table)
    names = ", ".join(ops.quote_name(c) for c in [*columns, "created_at", "updated_at"])
    types = [model._meta.get_field(c).db_type(connection) for c in columns]
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    sql = f"INSERT INTO {table} ({names}) SELECT *, %s, %s FROM unnest({arrays})"
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [now, now, *(list(col) for col in zip(*records, strict=True))]
        )
    return len(records)
