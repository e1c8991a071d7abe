"""Builders for research-mode tests: clients with stored PHQ-9 answers and consent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from harmonybridge import instruments
from harmonybridge.web.checkins import storage
from harmonybridge.web.research.models import InformationSheet
from tests.web import factories

SESSION_DAY = dt.date(2026, 3, 2)


def phq9_answers(value: int = 1) -> dict[int, int]:
    inst = instruments.get("phq9")
    return {it.number: value for it in inst.items if it.condition is None}


def client_with_phq9(
    practitioner: Any,
    *,
    research: str | None = "given",
    sessions: int = 2,
    **client_fields: Any,
) -> Any:
    """A client in their own engagement with PHQ-9 answers in ``sessions`` sessions."""
    client = factories.make_client(practitioner, **client_fields)
    engagement = factories.make_engagement(
        practitioner, [client], kind="therapy", start_date=SESSION_DAY
    )
    phq9 = instruments.get("phq9")
    for n in range(sessions):
        day = SESSION_DAY + dt.timedelta(days=7 * n)
        session = factories.make_session(
            engagement,
            starts_at=timezone.make_aware(dt.datetime.combine(day, dt.time(10))),
        )
        checkin, _token = factories.make_checkin(session, client)
        storage.submit_checkin(
            checkin.pk, {"phq9": phq9_answers(n % 3)}, instruments=[phq9]
        )
    if research is not None:
        factories.give_consent(client, "research", practitioner, research)
    return client


def information_sheet(admin: Any, version: str = "1") -> InformationSheet:
    return InformationSheet.objects.create(
        practice_id=admin.practice_id,
        version=version,
        text="We would like to use your answers, without your name, in research.",
        created_by=admin,
    )
