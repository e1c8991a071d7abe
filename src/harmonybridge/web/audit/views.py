"""The practice admin's read-only view of the audit log; there is no edit or delete view."""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.accounts.permissions import can_view_audit
from harmonybridge.web.audit.forms import AuditFilterForm
from harmonybridge.web.audit.models import AuditEvent

PAGE_SIZE = 50


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


@require_GET
@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """List the practice's audit events, newest first, filtered by the form."""
    if not can_view_audit(request.user):
        raise PermissionDenied
    events = AuditEvent.objects.filter(practice_id_ref=request.user.practice_id)
    form = AuditFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["action"]:
            events = events.filter(action=data["action"])
        if data["actor"]:
            events = events.filter(actor_label=data["actor"])
        if data["client_code"]:
            events = events.about_client(data["client_code"])
        if data["date_from"]:
            events = events.filter(created_at__gte=_day_start(data["date_from"]))
        if data["date_to"]:
            end = _day_start(data["date_to"]) + dt.timedelta(days=1)
            events = events.filter(created_at__lt=end)
    elif form.is_bound:
        events = events.none()
    if request.GET.get("download") == "csv":
        audit.record(request.user, "audit_exported", request=request)
        return _csv(events)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    actions = (
        AuditEvent.objects.filter(practice_id_ref=request.user.practice_id)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
    audit.record(request.user, "audit_viewed", request=request)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "actions": list(actions),
        "query": query.urlencode(),
    }
    return render(request, "audit/log.html", context)


#: A spreadsheet treats a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """The value as text a spreadsheet shows as text: a leading ``'`` before a formula."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv(events: object) -> HttpResponse:
    """The filtered events as CSV, e.g. for a breach register ("who saw what, when")."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "when_utc",
            "who",
            "action",
            "object_type",
            "object_id",
            "client_code",
            "clients_shown",
            "address",
        ]
    )
    for e in events.iterator():  # type: ignore[attr-defined]
        writer.writerow(
            [
                csv_cell(value)
                for value in (
                    e.created_at.astimezone(dt.UTC).isoformat(),
                    e.actor_label,
                    e.action,
                    e.target_type,
                    e.target_id,
                    e.client_code,
                    " ".join(e.client_code_list),
                    e.ip_address or "",
                )
            ]
        )
    return response
