"""Alert list and safety-notice acknowledgement (the alert workflow is in ``workflow.py``)."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from harmonybridge.web import audit
from harmonybridge.web.alerts import safety
from harmonybridge.web.alerts.models import AlertStatus, SafetyNotice, StoredAlert
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.policy import engagements_for


@require_GET
@staff_view
def alert_list(request: PractitionerRequest) -> HttpResponse:
    status = request.GET.get("status", AlertStatus.OPEN)
    if status not in AlertStatus.values:
        status = AlertStatus.OPEN
    alerts = (
        StoredAlert.objects.filter(
            engagement__in=engagements_for(request.user).values("pk")
        )
        .filter(status=status)
        .select_related("engagement__service_line")
        .prefetch_related("engagement__clients")
    )
    audit.record(request.user, "alerts.view", None, request=request, status=status)
    template = "alerts/alert_list.html"
    if request.htmx:
        template += "#alert-table"
    return render(
        request,
        template,
        {"alerts": alerts, "status": status, "statuses": AlertStatus.choices},
    )


@require_POST
@staff_view
def acknowledge_safety(request: PractitionerRequest, pk: int) -> HttpResponse:
    notice = (
        SafetyNotice.objects.filter(
            engagement__in=engagements_for(request.user).values("pk")
        )
        .filter(pk=pk)
        .first()
    )
    if notice is None:
        raise Http404
    safety.acknowledge(notice, request.user, request)
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect(notice)
