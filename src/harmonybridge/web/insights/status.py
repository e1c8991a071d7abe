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
from types import SimpleNamespace
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet, Subquery
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


def statuses_of(row: Any) -> list[Status]:
    """The statuses of one annotated engagement (a ``values()`` dict), most urgent first."""
    e = SimpleNamespace(**row) if isinstance(row, dict) else row
    kinds = []
    if e.st_safety_alert or e.st_safety_notice:
        kinds.append("safety")
    rupture = e.st_rupture_session is not None and (
        e.st_repaired_session is None or e.st_repaired_session < e.st_rupture_session
    )
    if rupture or e.st_latest_record in (Resolved.NO, Resolved.PARTLY):
        kinds.append("rupture")
    if e.st_not_on_track:
        kinds.append("not_on_track")
    if e.st_gap:
        kinds.append("gap")
    if e.st_last_attended is not None and (e.st_n_answered or 0) < (
        e.st_n_members or 1
    ):
        kinds.append("checkin_missing")
    if not e.st_has_answers:  # nothing answered yet: not "on track", not "missing"
        kinds = [k for k in kinds if k != "checkin_missing"] + ["no_data"]
    if not kinds:
        kinds.append("on_track")
    return [_BY_KIND[k] for k in kinds]


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
    """The state of one annotated engagement (a ``values()`` dict or an instance)."""
    e = SimpleNamespace(**row) if isinstance(row, dict) else row
    return EngagementState(statuses_of(row), int(e.st_n_open or 0))


def states(qs: QuerySet[Engagement], user: Any) -> dict[int, EngagementState]:
    """The state of each engagement in ``qs``, by primary key (one query)."""
    rows = annotate(qs, user).values("pk", *FIELDS)
    return {r["pk"]: state_of(r) for r in rows}


def unresolved_alerts() -> QuerySet[StoredAlert]:
    """The alerts every page counts as open: not yet resolved (any earlier step)."""
    return StoredAlert.objects.exclude(status=AlertStatus.RESOLVED)
