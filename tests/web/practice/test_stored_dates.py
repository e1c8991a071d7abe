"""Sessions stored with an impossible date before the 1900–2100 limit existed (issue 9).

Such a session (9999-12-31 shown in a +14:00 time zone) broke the caseload for everyone.
Migration practice.0007 gives each one the moment it was recorded and keeps the stored
value in the audit log.
"""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.urls import reverse

from harmonybridge.web.audit.models import AuditEvent
from harmonybridge.web.practice.models import TherapySession
from tests.web import factories

pytestmark = pytest.mark.django_db

repair = importlib.import_module(
    "harmonybridge.web.practice.migrations.0007_repair_out_of_range_session_dates"
).repair

EXTREMES = {
    "9999-12-31": dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.UTC),
    "0001-01-01": dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC),
    "1899-12-31": dt.datetime(1899, 12, 31, 23, 0, tzinfo=dt.UTC),
    "2101-01-01": dt.datetime(2101, 1, 1, 0, 0, tzinfo=dt.UTC),
}


def _pages(engagement, session) -> list[str]:
    return [
        reverse("insights:caseload"),
        reverse("insights:engagements"),
        reverse("practice:engagement", args=[engagement.pk]),
        reverse("practice:session", args=[session.pk]),
        reverse("insights:dashboard", args=[engagement.pk]),
    ]


@pytest.mark.parametrize("stored", list(EXTREMES), ids=list(EXTREMES))
def test_the_migration_repairs_the_date_and_keeps_the_stored_one(
    client, settings, stored
):
    settings.TIME_ZONE = "Pacific/Kiritimati"  # +14:00, the most extreme offset
    practitioner = factories.make_practitioner()
    engagement = factories.make_engagement(practitioner)
    fine = factories.make_session(
        engagement, starts_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    )
    session = factories.make_session(engagement)
    # written as old data was, past today's form validation
    TherapySession.objects.filter(pk=session.pk).update(starts_at=EXTREMES[stored])
    session.refresh_from_db()
    recorded = session.created_at

    repair(apps, None)

    session.refresh_from_db()
    assert session.starts_at == recorded
    fine.refresh_from_db()
    assert fine.starts_at == dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    (event,) = AuditEvent.objects.filter(action="practice.session_date_repaired")
    assert event.target_id == str(session.pk)
    assert event.practice_id_ref == engagement.practice_id
    assert event.detail["stored"] == EXTREMES[stored].isoformat()
    assert event.detail["now"] == recorded.isoformat()
    client.force_login(practitioner)
    for url in _pages(engagement, session):
        assert client.get(url).status_code == 200, url
