"""Caseload overview: one row per active engagement with its status, most urgent first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.insights import status as st
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import Client, EngagementStatus, ServiceKind
from harmonybridge.web.practice.scoping import engagements_for

SORTS: dict[str, Any] = {
    "urgency": _("most urgent first"),
    "client": _("client"),
    "last_session": _("latest session"),
    "service": _("service"),
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _rows(request: PractitionerRequest) -> list[dict[str, Any]]:
    qs = (
        engagements_for(request.user)
        .filter(status=EngagementStatus.ACTIVE)
        .select_related("service_line", "lead")
        .prefetch_related(Prefetch("clients", queryset=Client.objects.order_by("id")))
    )
    rows = []
    for e in st.annotate(qs, request.user):
        statuses = st.statuses_of(e)
        clients = list(e.clients.all())
        rows.append(
            {
                "e": e,
                "clients": clients,
                "names": ", ".join(c.label for c in clients),
                "statuses": statuses,
                "urgency": st.urgency(statuses),
                "last": e.st_last_date,
                "open": e.st_n_open or 0,
            }
        )
    return rows


def _sort(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    if key == "client":
        return sorted(rows, key=lambda r: r["names"].lower())
    if key == "service":
        return sorted(rows, key=lambda r: (str(r["e"].service_line), r["urgency"]))
    by_last = sorted(rows, key=lambda r: r["last"] or _EPOCH, reverse=True)
    if key == "last_session":
        return by_last
    return sorted(by_last, key=lambda r: (r["urgency"], -len(r["statuses"])))


@require_GET
@staff_view
def caseload(request: PractitionerRequest) -> HttpResponse:
    """Filter by status (?status=) and service kind (?kind=); sort with ?sort=."""
    show = request.GET.get("status", "")
    show = show if show in st.STATUS_KINDS else ""
    kind = request.GET.get("kind", "")
    kind = kind if kind in ServiceKind.values else ""
    sort = request.GET.get("sort", "urgency")
    sort = sort if sort in SORTS else "urgency"
    rows = _rows(request)
    counts = {
        k: sum(1 for r in rows if any(s.kind == k for s in r["statuses"]))
        for k in st.STATUS_KINDS
    }
    if show:
        rows = [r for r in rows if any(s.kind == show for s in r["statuses"])]
    if kind:
        rows = [r for r in rows if r["e"].service_line.kind == kind]
    audit.record(
        request.user,
        "caseload_overview.view",
        None,
        request=request,
        status=show,
        sort=sort,
    )
    context = {
        "rows": _sort(rows, sort),
        "statuses": [(k, lab, lvl, counts[k]) for k, lab, lvl in st.STATUSES],
        "show": show,
        "kind": kind,
        "kinds": ServiceKind.choices,
        "sort": sort,
        "sorts": SORTS.items(),
    }
    template = "insights/caseload.html"
    if request.htmx:
        template += "#caseload-rows"
    return render(request, template, context)
