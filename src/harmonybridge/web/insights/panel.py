"""The computed part of a dashboard, cached per data version of the engagement.

Charts, change summaries, rupture episodes and the session table only change when a
score, session, rupture record, the engagement itself or the practice's curve sets
change (or a client is renamed); one query reads that version (latest ``updated_at`` and row count of each) and
a hit skips all analytics. Writes that bypass ``save()`` (``QuerySet.update``) do not
move ``updated_at``: they must set it themselves, and the cache expires within the hour.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Max, OuterRef, Subquery
from django.urls import reverse
from django.utils import translation

from harmonybridge.web.alerts.models import CurveSet
from harmonybridge.web.checkins.models import Score
from harmonybridge.web.insights import figures as build
from harmonybridge.web.insights import tables
from harmonybridge.web.insights.views.context import load
from harmonybridge.web.ops.cache import engagement_key
from harmonybridge.web.practice import conventions as practice_conventions
from harmonybridge.web.practice.models import (
    Attendance,
    Client,
    Engagement,
    TherapySession,
)
from harmonybridge.web.repairs.models import RepairRecord
from harmonybridge.web.repairs.services import episode_rows

TIMEOUT = 3600


def _agg(qs: Any, group: str, fn: Any) -> Subquery:
    return Subquery(qs.order_by().values(group).annotate(v=fn).values("v")[:1])


def data_version(engagement: Engagement) -> str:
    """A hash of everything the panel is computed from (one query)."""
    return versions(engagement)[0]


def versions(engagement: Engagement) -> tuple[str, str]:
    """``(panel version, inputs version)`` in one query: the hash of everything the
    panel is computed from, and of what its stored derived results are computed from
    (scores, sessions, rupture records, curve sets; not names or goals)."""
    scores = Score.objects.filter(response__session__engagement=OuterRef("pk"))
    sessions = TherapySession.objects.filter(engagement=OuterRef("pk"))
    records = RepairRecord.objects.filter(session__engagement=OuterRef("pk"))
    curves = CurveSet.objects.filter(practice=OuterRef("practice"))
    g_score, g_rec = "response__session__engagement", "session__engagement"
    row = (
        Engagement.objects.filter(pk=engagement.pk)
        .annotate(
            a=_agg(scores, g_score, Max("updated_at")),
            b=_agg(scores, g_score, Count("pk")),
            c=_agg(sessions, "engagement", Max("updated_at")),
            d=_agg(sessions, "engagement", Count("pk")),
            e=_agg(records, g_rec, Max("updated_at")),
            f=_agg(records, g_rec, Count("pk")),
            g=_agg(curves, "practice", Max("updated_at")),
            h=Subquery(  # a client renamed: the labels change
                Client.objects.filter(memberships__engagement=OuterRef("pk"))
                .order_by("-updated_at")
                .values("updated_at")[:1]
            ),
        )
        .values_list(
            "updated_at", "service_line_id", "a", "b", "c", "d", "e", "f", "g", "h"
        )
        .get()
    )
    return _hash(row), _hash(row[2:9])


def _hash(values: Any) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()[:32]


def _chart(chart: build.Chart) -> dict[str, Any]:
    return {
        "key": chart.key,
        "title": chart.title,
        "svg": chart.svg,
        "note": chart.note,
        "table_html": tables.chart_table_html(chart.table),
    }


def _answers_url() -> Any:
    """The answers page URL of a session by its key (one ``reverse``, not one a row)."""
    head, tail = reverse("insights:answers", args=[0]).rsplit("/0/", 1)
    return lambda pk: f"{head}/{int(pk)}/{tail}"


def compute(
    engagement: Engagement, *, subscales: bool, version: str | None = None
) -> dict[str, Any]:
    """The panel; with the inputs ``version``, from the stored derived results."""
    data = load(engagement, version=version)
    built = data.build(subscales=subscales)
    columns, rows = data.session_table()
    charts = [_chart(c) for c in built.charts]
    last = data.sessions.iloc[-1] if len(data.sessions) else None
    return {
        "has_scores": built.has_scores,
        "alliance": next((c for c in charts if c["key"] == "alliance"), None),
        "charts": [c for c in charts if c["key"] != "alliance"],
        "changes": built.changes,
        "episodes": episode_rows(data.episodes, data.labels),
        "session_table": tables.session_table_html(
            columns,
            rows,
            _answers_url(),
            {value: str(label) for value, label in Attendance.choices},
        ),
        "last_session": None
        if last is None
        else {"number": int(last["session"]), "pk": int(last["session_pk"])},
    }


def panel_for(engagement: Engagement, *, subscales: bool) -> dict[str, Any]:
    """The cached panel, computed when the data changed since it was cached."""
    version, inputs = versions(engagement)
    key = engagement_key(  # erasing a client of the engagement drops it
        engagement.pk,
        "dashboard",
        version,
        "s" if subscales else "t",
        translation.get_language() or "",
        # the practice's caseness conventions decide the change categories shown
        practice_conventions.version(
            practice_conventions.for_practice(engagement.practice_id)
        ),
    )
    panel = cache.get(key)
    if panel is None:
        panel = compute(engagement, subscales=subscales, version=inputs)
        cache.set(key, panel, TIMEOUT)
    return panel
