"""Consent: record an answer, read the latest one, and the care-consent check of check-ins.

A consent is a history of records per client and purpose; the latest record decides.
Withdrawing is a new record, so the history is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from harmonybridge.web import audit
from harmonybridge.web.practice.models import Client
from harmonybridge.web.research.models import (
    ConsentRecord,
    Decision,
    InformationSheet,
    Purpose,
)


def record_consent(
    client: Client,
    purpose: str,
    decision: str,
    sheet_version: str,
    recorded_by: Any,
    *,
    request: Any = None,
) -> ConsentRecord:
    """Append a consent record (audited)."""
    rec = ConsentRecord.objects.create(
        client=client,
        purpose=purpose,
        decision=decision,
        sheet_version=sheet_version,
        recorded_by=recorded_by,
    )
    audit.record(
        recorded_by,
        "consent.record",
        client,
        request=request,
        purpose=purpose,
        decision=decision,
        sheet_version=sheet_version,
    )
    return rec


def latest(client: Client, purpose: str) -> ConsentRecord | None:
    return (
        ConsentRecord.objects.filter(client=client, purpose=purpose)
        .order_by("-recorded_at", "-pk")
        .first()
    )


def is_given(client: Client, purpose: str) -> bool:
    rec = latest(client, purpose)
    return rec is not None and rec.decision == Decision.GIVEN


def with_latest_decision(clients: QuerySet[Client], purpose: str) -> QuerySet[Client]:
    """Annotate ``latest_decision`` (None when no record) for one purpose."""
    newest = ConsentRecord.objects.filter(
        client=OuterRef("pk"), purpose=purpose
    ).order_by("-recorded_at", "-pk")
    return clients.annotate(latest_decision=Subquery(newest.values("decision")[:1]))


def research_split(clients: QuerySet[Client]) -> tuple[list[int], dict[str, int]]:
    """The ids of the clients whose latest research consent is "given", and counts of the rest."""
    included: list[int] = []
    never = withdrawn = 0
    for pk, decision in with_latest_decision(clients, Purpose.RESEARCH).values_list(  # type: ignore[misc]
        "pk", "latest_decision"
    ):
        if decision == Decision.GIVEN:
            included.append(pk)
        elif decision == Decision.WITHDRAWN:
            withdrawn += 1
        else:
            never += 1
    left_out = {}
    if never:
        left_out["no research consent recorded"] = never
    if withdrawn:
        left_out["research consent withdrawn"] = withdrawn
    return included, left_out


def current_sheet(practice_id: int) -> InformationSheet | None:
    return InformationSheet.objects.filter(practice_id=practice_id).first()


def care_consent_refusal(respondent: Client, **_kwargs: Any) -> str | None:
    """Why no check-in link may be issued to this client, or None (receiver of
    ``checkins.signals.link_requested``)."""
    if is_given(respondent, Purpose.CARE):
        return None
    return _(
        "Record %(client)s's care consent (agreement to measurement as part of "
        "care) on the client page before issuing a check-in link."
    ) % {"client": respondent.code}


def missing_care_consent(clients: Iterable[Client]) -> list[Client]:
    return [c for c in clients if not is_given(c, Purpose.CARE)]
