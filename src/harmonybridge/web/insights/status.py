"""Caseload statuses a practitioner reads in a second, computed in one query.

Each active engagement gets every status that applies, most urgent first:
safety item > rupture open > not on track > gap between views > check-in missing;
``on track`` when none applies, ``no data yet`` before any answer. Every page that shows
an engagement's status or open-alert count calls :func:`states` (or :func:`state_of`):
"open" means not yet resolved. They come from the stored alerts not yet resolved,
the practitioner's rupture–repair records, unacknowledged safety notices and the
latest attended session's client check-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from harmonybridge.web.alerts.models import AlertStatus, SafetyNotice, StoredAlert
from harmonybridge.web.checkins.models import Response
from harmonybridge.web.practice.models import (
    Attendance,
    Engagement,
    EngagementClient,
    TherapySession,
)
from harmonybridge.web.repairs.models import RepairRecord, Resolved

#: Status kinds, most urgent first, with their label and pill class.
STATUSES: tuple[tuple[str, Any, str], ...] = (
    ("safety", _("safety item"), "urgent"),
    ("rupture", _("rupture open"), "urgent"),
    ("not_on_track", _("not on track"), "warning"),
    ("gap", _("gap between views"), "warning"),
    ("checkin_missing", _("check-in missing"), "info"),
    ("on_track", _("on track"), "ok"),
    ("no_data", _("no data yet"), "info"),
)
STATUS_KINDS: tuple[str, ...] = tuple(k for k, _l, _c in STATUSES)
NOT_ON_TRACK_RULES = (
    "outcome.not_on_track",
    "outcome.reliable_deterioration",
    "outcome.sudden_loss",
)
GAP_RULES = ("alliance.gap", "alliance.split", "rupture.unrecognised")


@dataclass(frozen=True)
class Status:
    kind: str
    label: str
    level: str


_BY_KIND = {k: Status(k, str(lab), lvl) for k, lab, lvl in STATUSES}


def annotate(qs: QuerySet[Engagement], user: Any) -> QuerySet[Engagement]:
    """Add the status inputs as annotations (subqueries: no row multiplication)."""
    unresolved = unresolved_alerts().filter(engagement=OuterRef("pk"))
    sessions = TherapySession.objects.filter(engagement=OuterRef("pk"))
    records = RepairRecord.objects.filter(session__engagement=OuterRef("pk")).order_by(
        "-session__number"
    )
    last_attended = (
        sessions.filter(attendance=Attendance.ATTENDED, starts_at__lte=timezone.now())
        .order_by("-number")
        .values("number")[:1]
    )
    return qs.annotate(
        st_safety_alert=Exists(unresolved.filter(rule_id__startswith="safety.")),
        st_safety_notice=Exists(
            SafetyNotice.objects.open().filter(engagement=OuterRef("pk"))
        ),
        st_rupture_session=Subquery(
            unresolved.filter(rule_id__startswith="rupture.")
            .exclude(rule_id__in=GAP_RULES)
            .order_by("-session_number")
            .values("session_number")[:1]
        ),
        st_repaired_session=Subquery(
            records.filter(resolved=Resolved.YES).values("session__number")[:1]
        ),
        st_latest_record=Subquery(records.values("resolved")[:1]),
        st_not_on_track=Exists(unresolved.filter(rule_id__in=NOT_ON_TRACK_RULES)),
        st_gap=Exists(unresolved.filter(rule_id__in=GAP_RULES)),
        st_last_attended=Subquery(last_attended),
        st_n_answered=Subquery(
            Response.objects.filter(
                session__engagement=OuterRef("pk"),
                session__number=OuterRef("st_last_attended"),
                rater_role="client",
            )
            .values("session__engagement")
            .order_by()
            .annotate(n=Count("respondent_key", distinct=True))
            .values("n")[:1]
        ),
        st_n_members=Subquery(
            EngagementClient.objects.filter(engagement=OuterRef("pk"))
            .values("engagement")
            .order_by()
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        st_last_date=Subquery(sessions.order_by("-number").values("starts_at")[:1]),
        st_has_answers=Exists(
            Response.objects.filter(session__engagement=OuterRef("pk"))
        ),
        st_n_open=Subquery(
            unresolved.values("engagement")
            .order_by()
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
    )


#: The annotations :func:`annotate` adds (read them with ``.values(*FIELDS)``).
FIELDS: tuple[str, ...] = (
    "st_safety_alert",
    "st_safety_notice",
    "st_rupture_session",
    "st_repaired_session",
    "st_latest_record",
    "st_not_on_track",
    "st_gap",
    "st_last_attended",
    "st_n_answered",
    "st_n_members",
    "st_last_date",
    "st_has_answers",
    "st_n_open",
)


#: The rule: each status (but ``on_track``) as SQL over the :data:`FIELDS` columns, most
#: urgent first. ``no_data`` (nothing answered yet) replaces ``checkin_missing``;
#: ``on_track`` is what an engagement with answers and none of these has. Every page
#: reads the statuses from these (:func:`state_rows`), the caseload sorts and counts
#: by them in SQL.
_FLAG_SQL: tuple[tuple[str, str], ...] = (
    ("safety", "(st_safety_alert OR st_safety_notice)"),
    (
        "rupture",
        "((st_rupture_session IS NOT NULL AND (st_repaired_session IS NULL"
        " OR st_repaired_session < st_rupture_session))"
        f" OR st_latest_record IN ('{Resolved.NO}', '{Resolved.PARTLY}'))",
    ),
    ("not_on_track", "st_not_on_track"),
    ("gap", "st_gap"),
    (
        "checkin_missing",
        "(st_last_attended IS NOT NULL AND COALESCE(st_n_answered, 0)"
        " < COALESCE(st_n_members, 1) AND st_has_answers)",
    ),
    ("no_data", "(NOT st_has_answers)"),
)
#: The flag columns :func:`state_sql` adds, one per status kind (``f_<kind>``: 0 or 1).
FLAGS: tuple[str, ...] = tuple(f"f_{k}" for k in STATUS_KINDS)


def state_sql(values: QuerySet[Any]) -> tuple[str, list[Any]]:
    """``values`` (a ``values()`` query with :data:`FIELDS`) wrapped with the status
    flags (:data:`FLAGS`), ``st_urgency`` (the most urgent status's rank) and
    ``st_n_statuses``: SQL and parameters (a ``WITH`` query), for ``FROM (...)``, a
    common table expression or a cursor."""
    inner, params = values.order_by().query.sql_with_params()
    flags = ", ".join(
        f"CASE WHEN {expr} THEN 1 ELSE 0 END AS f_{kind}" for kind, expr in _FLAG_SQL
    )
    others = " + ".join(f"f_{kind}" for kind, _e in _FLAG_SQL)
    ranks = " ".join(
        f"WHEN f_{kind} = 1 THEN {STATUS_KINDS.index(kind)}"
        for kind in STATUS_KINDS
        if kind != "no_data"
    )
    # MATERIALIZED: the inputs are computed once per engagement. Without it SQLite
    # flattens the inner query into the flags whenever it can (the admin's engagements,
    # a query without DISTINCT) and runs each correlated subquery again for every flag
    # that reads its column: 6x the time at 5,000 engagements.
    sql = (
        f"WITH st_inputs AS MATERIALIZED ({inner}) "
        f"SELECT v.*, CASE {ranks} ELSE {STATUS_KINDS.index('no_data')} END"
        f" AS st_urgency, ({others} + f_on_track) AS st_n_statuses FROM ("
        f"SELECT u.*, CASE WHEN ({others}) = 0 THEN 1 ELSE 0 END AS f_on_track FROM ("
        f"SELECT t.*, {flags} FROM st_inputs t) u) v"
    )
    return sql, list(params)


def statuses_of(row: Any) -> list[Status]:
    """The statuses of one row of :func:`state_sql` (a dict), most urgent first."""
    e = row if isinstance(row, dict) else vars(row)
    return [_BY_KIND[k] for k in STATUS_KINDS if e[f"f_{k}"]]


def urgency(statuses: list[Status]) -> int:
    return min(STATUS_KINDS.index(s.kind) for s in statuses)


@dataclass(frozen=True)
class EngagementState:
    """What every page shows about one engagement: its statuses and open-alert count."""

    statuses: list[Status]
    n_open: int

    @property
    def urgency(self) -> int:
        return urgency(self.statuses)


def state_of(row: Any) -> EngagementState:
    """The state of one row of :func:`state_sql` (a dict)."""
    return EngagementState(statuses_of(row), int(row["st_n_open"] or 0))


def dict_rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    """Run raw SQL and return its rows as dicts by column name."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def states(qs: QuerySet[Engagement], user: Any) -> dict[int, EngagementState]:
    """The state of each engagement in ``qs``, by primary key (one query)."""
    values = annotate(qs, user).annotate(st_pk=F("pk")).values("st_pk", *FIELDS)
    return {r["st_pk"]: state_of(r) for r in dict_rows(*state_sql(values))}


def unresolved_alerts() -> QuerySet[StoredAlert]:
    """The alerts every page counts as open: not yet resolved (any earlier step)."""
    return StoredAlert.objects.exclude(status=AlertStatus.RESOLVED)
