"""Database sessions, read with SQL built once per connection (``SESSION_ENGINE``).

Every request with a session cookie reads its row first; Django's database store reads
it with ``Session.objects.get(...)``, which builds the same query anew on every
request (issue 14: a tenth of a check-in submit's CPU). This store reads the same row
(by key, not expired) with a fixed statement; writing, cycling and deleting stay
Django's. ``tests/web/accounts/test_session_store.py`` compares it with Django's store.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from harmonybridge.web.rowinsert import built_once, columns


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Any:
        model = self.model
        alias = router.db_for_read(model)
        conn = connections[alias]

        def build() -> str:
            col = columns(model, conn)
            return (
                f"SELECT {col['session_key']}, {col['session_data']} "
                f"FROM {conn.ops.quote_name(model._meta.db_table)} "
                f"WHERE {col['session_key']} = %s AND {col['expire_date']} > %s"
            )

        sql = built_once(conn, "_hb_session_sql", build)
        now = conn.ops.adapt_datetimefield_value(timezone.now())
        with conn.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        return model.from_db(alias, ["session_key", "session_data"], row)
