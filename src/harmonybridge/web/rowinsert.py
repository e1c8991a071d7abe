"""Insert one new model row with its SQL built once per database connection.

``Model.save()`` of a new row builds an ``InsertQuery`` and compiles it on every call;
on the check-in submit (issue 14) the audit row and the task row spent more CPU there
than the database spent storing them. :func:`insert` does what that save does for a
new row of a model without parents: ``pre_save``/``post_save`` signals when any
receiver listens, each field's ``pre_save`` (``auto_now_add``, defaults already on the
instance) and ``get_db_prep_save`` (JSON, UUIDs, datetimes per database), the primary
key read back when the database assigns it; only the SQL text is kept, per model and
connection. The app models stay the one place that names the columns.

Sits outside the layered web apps (like ``clientaddress``): the audit log, at the
bottom, and the alerts' task queue both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Model
from django.db.models.signals import post_save, pre_save

T = TypeVar("T")


def built_once(conn: Any, key: str, build: Callable[[], T]) -> T:
    """What ``build()`` returns for this database connection, built on first use and
    kept on the connection (SQL text, compiled queries): a new connection, or a test's
    other database, builds its own."""
    try:
        return conn.__dict__[key]  # type: ignore[no-any-return]
    except KeyError:
        value = conn.__dict__[key] = build()
        return value


def columns(model: type[Model], conn: Any) -> dict[str, str]:
    """Attribute name -> quoted column of the model's concrete fields, for ``conn``."""
    qn = conn.ops.quote_name
    return {
        f.attname: qn(f.column)
        for f in model._meta.concrete_fields
        if f.column is not None
    }


class _Statement:
    def __init__(self, model: type[Model], alias: str) -> None:
        conn = connections[alias]
        meta = model._meta
        qn = conn.ops.quote_name
        pk = meta.pk
        assert pk is not None
        #: Columns the database fills (an auto primary key) are left out, as save does.
        self.returns = pk if pk in meta.db_returning_fields else None
        self.fields = [f for f in meta.local_concrete_fields if f is not self.returns]
        odd = [f.name for f in self.fields if f.generated or f.has_db_default()]
        if odd:  # values the database computes: save() knows how, this does not
            raise TypeError(f"{model.__name__}: fields {odd} need save()")
        col = columns(model, conn)
        names = ", ".join(col[f.attname] for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.table = meta.db_table
        self.sql = f"INSERT INTO {qn(self.table)} ({names}) VALUES ({marks})"
        if self.returns is not None and conn.features.can_return_columns_from_insert:
            self.sql += f" RETURNING {col[self.returns.attname]}"


def insert(obj: Model) -> Model:
    """Store ``obj`` (a new row: no primary key assigned by the database yet) and
    return it, as ``obj.save()`` would; runs inside the caller's transaction."""
    model = type(obj)
    if model._meta.parents:
        raise TypeError(f"{model.__name__}: multi-table inheritance needs save()")
    if model._meta.pk in model._meta.db_returning_fields and obj.pk is not None:
        raise ValueError(f"{model.__name__}: the database assigns the primary key")
    alias = router.db_for_write(model, instance=obj)
    conn = connections[alias]
    stmt = built_once(
        conn,
        f"_hb_rowinsert_{model._meta.label_lower}",
        lambda: _Statement(model, alias),
    )
    if pre_save.has_listeners(model):
        pre_save.send(
            sender=model, instance=obj, raw=False, using=alias, update_fields=None
        )
    params: list[Any] = [
        f.get_db_prep_save(f.pre_save(obj, True), connection=conn) for f in stmt.fields
    ]
    with conn.cursor() as cursor:
        cursor.execute(stmt.sql, params)
        if stmt.returns is not None:
            if conn.features.can_return_columns_from_insert:
                value = cursor.fetchone()[0]
            else:  # pragma: no cover - every supported database returns it
                value = conn.ops.last_insert_id(
                    cursor, stmt.table, str(stmt.returns.column)
                )
            setattr(obj, stmt.returns.attname, value)
    obj._state.adding = False
    obj._state.db = alias
    if post_save.has_listeners(model):
        post_save.send(
            sender=model,
            instance=obj,
            created=True,
            update_fields=None,
            raw=False,
            using=alias,
        )
    return obj
