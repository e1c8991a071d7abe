"""The engagements list: my engagements by status, with their clients, last session,
status and open alerts (from the one status function, like every other page)."""

from __future__ import annotations

from django.db.models import Count, Max, Prefetch
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.insights import status as st
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import Client, EngagementStatus
from harmonybridge.web.practice.scoping import clients_for, engagements_for


@require_GET
@staff_view
def engagement_list(request: PractitionerRequest) -> HttpResponse:
    """List engagements (filter by status with ?status=); htmx gets the table only."""
    status = request.GET.get("status", EngagementStatus.ACTIVE)
    if status not in EngagementStatus.values:
        status = EngagementStatus.ACTIVE
    qs = engagements_for(request.user).filter(status=status)
    states = st.states(qs, request.user)
    engagements = list(
        qs.select_related("service_line", "lead")
        .prefetch_related(Prefetch("clients", queryset=Client.objects.order_by("id")))
        .annotate(
            last_session=Max("sessions__starts_at"),
            n_sessions=Count("sessions", distinct=True),
        )
    )
    for e in engagements:
        e.state = states[e.pk]
    engagements.sort(
        key=lambda e: e.last_session.timestamp() if e.last_session else 0, reverse=True
    )
    engagements.sort(key=lambda e: e.state.urgency)
    unengaged = clients_for(request.user).filter(memberships__isnull=True)
    audit.record(request.user, "caseload.view", None, request=request, status=status)
    context = {
        "engagements": engagements,
        "unengaged": unengaged,
        "status": status,
        "statuses": EngagementStatus.choices,
    }
    template = "insights/engagements.html"
    if request.htmx:
        template += "#caseload-table"
    return render(request, template, context)
