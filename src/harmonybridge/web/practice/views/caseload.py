"""The caseload: my active engagements with their clients, last session and open alerts."""

from __future__ import annotations

from django.db.models import Count, Max, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.alerts.models import AlertStatus
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import Client, EngagementStatus
from harmonybridge.web.practice.policy import clients_for, engagements_for


@require_GET
@staff_view
def caseload(request: PractitionerRequest) -> HttpResponse:
    """List active engagements (filter by status with ?status=); htmx gets the table only."""
    status = request.GET.get("status", EngagementStatus.ACTIVE)
    if status not in EngagementStatus.values:
        status = EngagementStatus.ACTIVE
    engagements = (
        engagements_for(request.user)
        .filter(status=status)
        .select_related("service_line", "lead")
        .prefetch_related(Prefetch("clients", queryset=Client.objects.order_by("id")))
        .annotate(
            last_session=Max("sessions__starts_at"),
            n_sessions=Count("sessions", distinct=True),
            open_alerts=Count(
                "alerts", filter=Q(alerts__status=AlertStatus.OPEN), distinct=True
            ),
        )
        .order_by("-open_alerts", "-last_session")
    )
    unengaged = clients_for(request.user).filter(memberships__isnull=True)
    audit.record(request.user, "caseload.view", None, request=request, status=status)
    context = {
        "engagements": engagements,
        "unengaged": unengaged,
        "status": status,
        "statuses": EngagementStatus.choices,
    }
    template = "practice/caseload.html"
    if request.htmx:
        template += "#caseload-table"
    return render(request, template, context)
