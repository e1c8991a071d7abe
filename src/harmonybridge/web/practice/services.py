"""Actions on the practice's data that several views and commands share."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from harmonybridge.web import audit
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
    # no datastamp.touch for these: the save above raised the practice's data stamp
    # (its receiver, ADR 0017) in this transaction, which commits them too
    EngagementClient.objects.bulk_create(
        EngagementClient(engagement=engagement, client=c) for c in clients
    )
    apply_default_plan(engagement)
    return engagement


def save_plan_entry(engagement: Engagement, form: Any, user: Any, request: Any) -> Any:
    """Add a valid plan-entry form to the engagement's plan, or save the entry it edits.

    Audited; an instrument already in the plan for that rater raises ``IntegrityError``
    (the page and the API say so)."""
    plan, _created = MeasurementPlan.objects.get_or_create(engagement=engagement)
    adding = form.instance.pk is None
    with transaction.atomic():
        entry = form.save(commit=False)
        entry.plan = plan
        if adding:
            entry.position = plan.entries.count()
        entry.save()
        audit.record(
            user,
            "plan.add" if adding else "plan.update",
            engagement,
            request=request,
            instrument=entry.instrument_id,
        )
    return entry


def remove_plan_entry(
    engagement: Engagement, entry: PlanEntry, user: Any, request: Any
) -> None:
    with transaction.atomic():
        audit.record(
            user,
            "plan.remove",
            engagement,
            request=request,
            instrument=entry.instrument_id,
        )
        entry.delete()


def set_brief_plan(
    engagement: Engagement, brief: bool, user: Any, request: Any
) -> MeasurementPlan:
    """Switch the opt-in brief plan on or off (audited)."""
    plan, _created = MeasurementPlan.objects.get_or_create(engagement=engagement)
    plan.brief = brief
    with transaction.atomic():
        plan.save(update_fields=["brief", "updated_at"])
        audit.record(
            user,
            "plan.brief",
            engagement,
            request=request,
            brief="on" if plan.brief else "off",
        )
    return plan
