"""The engagement page: clients, sessions, measurement plan and the latest alerts.

It reads apps below it (alerts), so it lives in insights; its URL stays in the
``practice`` namespace (``practice:engagement``, see ``web/urls.py``).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.alerts.evidence import name_members
from harmonybridge.web.checkins import burden
from harmonybridge.web.practice import catalogue
from harmonybridge.web.practice.forms import PlanEntryForm, SessionForm
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import (
    EngagementClient,
    MeasurementPlan,
    PlanEntry,
)
from harmonybridge.web.practice.policy import get_engagement_or_404


@require_GET
@staff_view
def engagement_detail(request: PractitionerRequest, pk: int) -> HttpResponse:
    engagement = get_engagement_or_404(request, pk)
    # read only: the plan was made with the engagement (a GET never writes)
    plan_entries = PlanEntry.objects.filter(plan__engagement=engagement)
    entries = [
        {
            "entry": e,
            "title": catalogue.short_title(e.instrument_id),
            "problem": catalogue.unusable_reason(engagement.practice, e.instrument_id),
        }
        for e in plan_entries
    ]
    plan = MeasurementPlan.objects.filter(engagement=engagement).first()
    audit.record(request.user, "engagement.view", engagement, request=request)
    first = engagement.next_session_number()
    context = {
        "burden": burden.questions_per_session(engagement, range(first, first + 8)),
        "engagement": engagement,
        "memberships": EngagementClient.objects.filter(
            engagement=engagement
        ).select_related("client"),
        "sessions": engagement.sessions.order_by("-number"),
        "entries": entries,
        "plan_form": PlanEntryForm(
            practice=engagement.practice, coaching=engagement.is_coaching
        ),
        "session_form": SessionForm(initial={"starts_at": timezone.localtime()}),
        # members named, rule ids behind "Technical details" (as on the dashboard)
        "alerts": name_members(list(engagement.alerts.all()[:20])),
        "plan": plan,
        "brief_applies": any(
            e.instrument_id in catalogue.SCREENED and e.rater_role == "client"
            for e in plan_entries
        ),
        "full_every": catalogue.BRIEF_FULL_EVERY,
    }
    template = "insights/engagement_detail.html"
    if request.htmx:
        template += "#plan"
    return render(request, template, context)
