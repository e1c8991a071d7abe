"""Research mode in the demo practice: consent records, an information sheet, a project.

Every demo client gets care consent (their check-in links keep working); three in
five also gave research consent, so an export has clients left out to report.
Bulk inserts keep the demo loader fast.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Max, Min

from harmonybridge.web.checkins.models import Response
from harmonybridge.web.practice.models import Client, TherapySession
from harmonybridge.web.research.exports import new_secret_key
from harmonybridge.web.research.models import (
    ConsentRecord,
    Decision,
    ExportProject,
    InformationSheet,
    Purpose,
)

SHEET_VERSION = "2026-01"
SHEET_TEXT = (
    "We study how the working alliance relates to change. With your consent your "
    "answers, without your name or any contact detail, are shared with researchers "
    "under a code that cannot be traced back to you. You can withdraw at any time; "
    "later exports then leave you out. Saying no changes nothing about your care."
)


def add_demo_research(practice: Any, admin: Any) -> dict[str, int]:
    """Add consent, the information sheet and one export project to the demo practice."""
    sheet = InformationSheet.objects.create(
        practice=practice, version=SHEET_VERSION, text=SHEET_TEXT, created_by=admin
    )
    records = []
    clients = Client.objects.filter(practice=practice).order_by("pk")
    for i, (pk, practitioner_id) in enumerate(
        clients.values_list("pk", "practitioner_id")
    ):
        by = practitioner_id or admin.pk
        records.append(
            ConsentRecord(
                client_id=pk,
                purpose=Purpose.CARE,
                decision=Decision.GIVEN,
                sheet_version="care",
                recorded_by_id=by,
            )
        )
        if i % 5 < 3:
            records.append(
                ConsentRecord(
                    client_id=pk,
                    purpose=Purpose.RESEARCH,
                    decision=Decision.GIVEN,
                    sheet_version=sheet.version,
                    recorded_by_id=by,
                )
            )
    ConsentRecord.objects.bulk_create(records, batch_size=2000)
    used = sorted(
        set(
            Response.objects.filter(session__engagement__practice=practice)
            .values_list("instrument_id", flat=True)
            .distinct()
        )
    )
    span = TherapySession.objects.filter(engagement__practice=practice).aggregate(
        first=Min("starts_at"), last=Max("starts_at")
    )
    if not used or span["first"] is None:
        return {"consent records": len(records)}
    ExportProject.objects.create(
        practice=practice,
        slug="alliance-and-outcome",
        name="Alliance and outcome (demo)",
        purpose="Does the early working alliance predict change in wellbeing?",
        instruments=used,
        period_start=span["first"].date(),
        period_end=span["last"].date(),
        k=5,
        secret_key=new_secret_key(),
        created_by=admin,
    )
    return {"consent records": len(records), "export projects": 1}
