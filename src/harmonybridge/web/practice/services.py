"""Actions on the practice's data that several views and commands share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from harmonybridge.web.accounts.models import Practice
from harmonybridge.web.practice import catalogue
from harmonybridge.web.practice.models import (
    DEFAULT_SERVICE_LINES,
    Client,
    Engagement,
    EngagementClient,
    MeasurementPlan,
    PlanEntry,
    ServiceLine,
)


def ensure_service_lines(practice: Practice) -> list[ServiceLine]:
    """Give a practice the default service lines when it has none."""
    if not practice.service_lines.exists():
        ServiceLine.objects.bulk_create(
            ServiceLine(practice=practice, name=name, kind=kind)
            for name, kind in DEFAULT_SERVICE_LINES
        )
    return list(practice.service_lines.all())


def apply_default_plan(engagement: Engagement) -> MeasurementPlan:
    """Create the engagement's plan with the defaults for its service line."""
    plan, _ = MeasurementPlan.objects.get_or_create(engagement=engagement)
    if not plan.entries.exists():
        rows = catalogue.default_plan_rows(
            engagement.practice, engagement.service_line.kind
        )
        PlanEntry.objects.bulk_create(
            PlanEntry(
                plan=plan,
                instrument_id=inst,
                rater_role=role,
                every_n=every,
                starting_session=start,
                position=i,
            )
            for i, (inst, role, every, start) in enumerate(rows)
        )
    return plan


@transaction.atomic
def create_engagement(
    form: Any,
    user: Any,
    clients: Iterable[Client],
    co_practitioners: Iterable[Any] = (),
) -> Engagement:
    engagement = form.save(commit=False)
    engagement.practice_id = user.practice_id
    engagement.lead = user
    engagement.save()
    engagement.practitioners.set([user, *co_practitioners])
    EngagementClient.objects.bulk_create(
        EngagementClient(engagement=engagement, client=c) for c in clients
    )
    apply_default_plan(engagement)
    return engagement
