"""ORM queries of the check-in hot path, compiled to SQL once per database connection.

A check-in submit reads the check-in (with its session, engagement, practice, service
line and respondent) and the plan entries (with the practice's wordings). Django builds
the SQL of such a query anew on every call, and for these joins that costs more CPU
than the database spends answering (issue 14: about 3 ms of a submit's CPU each). A
:class:`Prepared` query is written with the ORM as usual; it is compiled once with
marker values in place of its parameters, and each call runs the stored SQL with the
real values and builds the model instances exactly as a queryset would (the same
converters, decryption and ``select_related`` caches).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

from harmonybridge.web.rowinsert import built_once

#: Marker values for the parameters: numbers and strings no real row holds.
_INT_MARK = -7_300_000_001
_STR_MARK = "\x00hb-prepared-"


def _mark(index: int, name: str, kind: type) -> Any:
    return _INT_MARK - index if kind is int else _STR_MARK + name


class _Compiled:
    def __init__(self, qs: QuerySet[Any], marks: dict[str, Any]) -> None:
        compiler = qs.query.get_compiler(using=qs.db)
        sql, params = compiler.as_sql()
        positions: dict[int, str] = {}
        for i, value in enumerate(params):
            for name, mark in marks.items():
                if value == mark:
                    positions[i] = name
        missing = set(marks) - set(positions.values())
        if missing:  # a marker was inlined or transformed: refuse rather than guess
            raise ValueError(f"parameters not found in the compiled SQL: {missing}")
        self.sql, self.params, self.positions = sql, list(params), positions
        self.compiler = compiler
        select, klass_info = compiler.select, compiler.klass_info
        assert klass_info is not None
        self.model: type[Model] = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        self.populators = get_related_populators(klass_info, select, qs.db)  # type: ignore[call-arg]  # Django 5.2: three arguments
        self.annotations = dict(compiler.annotation_col_map or {})
        self.converters = compiler.get_converters(
            [s[0] for s in select[0 : compiler.col_count]]
        )
        self.db = qs.db

    def run(self, values: dict[str, Any]) -> list[Any]:
        params = list(self.params)
        for i, name in self.positions.items():
            params[i] = values[name]
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, params)
            rows: Any = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        out = []
        for row in rows:
            obj = self.model.from_db(
                self.db, self.init_list, row[self.start : self.end]
            )
            for populator in self.populators:
                populator.populate(row, obj)
            for attr, pos in self.annotations.items():
                setattr(obj, attr, row[pos])
            out.append(obj)
        return out


class Prepared:
    """A queryset of ``model`` built by ``build(**markers)``, compiled once per connection.

    ``params`` names the parameters and their kinds (``int`` or ``str``); each must
    reach the SQL as a plain bound parameter (a filter value). Calling the object with
    the real values returns the model instances, as ``list(queryset)`` would.
    """

    def __init__(
        self, model: type[Model], build: Callable[..., QuerySet[Any]], **params: type
    ) -> None:
        self.model, self.build, self.kinds = model, build, params
        self.key = f"_hb_prepared_{id(self)}"

    def __call__(self, **values: Any) -> list[Any]:
        conn = connections[router.db_for_read(self.model)]
        return built_once(conn, self.key, self._compile).run(values)

    def _compile(self) -> _Compiled:
        marks = {
            name: _mark(i, name, kind)
            for i, (name, kind) in enumerate(self.kinds.items())
        }
        return _Compiled(self.build(**marks), marks)
