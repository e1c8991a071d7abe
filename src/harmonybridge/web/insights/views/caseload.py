"""Caseload overview: one row per active engagement with its status, most urgent first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.insights import status as st
from harmonybridge.web.insights import tables
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import (
    EngagementClient,
    EngagementStatus,
    ServiceKind,
)
from harmonybridge.web.practice.scoping import engagements_for

SORTS: dict[str, Any] = {
    "urgency": _("most urgent first"),
    "client": _("client"),
    "last_session": _("latest session"),
    "service": _("service"),
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _rows(request: PractitionerRequest) -> list[dict[str, Any]]:
    """One dict per active engagement (values, not model instances: 500 rows stay fast)."""
    qs = engagements_for(request.user).filter(status=EngagementStatus.ACTIVE)
    fields = ["pk", "service_line__name", "service_line__kind"]
    annotated = list(st.annotate(qs, request.user).values(*fields, *st.FIELDS))
    members: dict[int, list[str]] = {}
    for eid, code, name in (
        EngagementClient.objects.filter(engagement__in=[r["pk"] for r in annotated])
        .order_by("client_id")
        .values_list("engagement_id", "client__code", "client__name")
    ):
        members.setdefault(eid, []).append(f"{name} ({code})" if name else code)
    rows = []
    for r in annotated:
        state = st.state_of(r)
        statuses = state.statuses
        rows.append(
            {
                "pk": r["pk"],
                "names": ", ".join(members.get(r["pk"], [])),
                "service": r["service_line__name"],
                "kind": r["service_line__kind"],
                "statuses": statuses,
                "urgency": state.urgency,
                "last": r["st_last_date"],
                "open": state.n_open,
            }
        )
    return rows


def _sort(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    if key == "client":
        return sorted(rows, key=lambda r: r["names"].lower())
    if key == "service":
        return sorted(rows, key=lambda r: (r["service"], r["urgency"]))
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
        rows = [r for r in rows if r["kind"] == kind]
    rows = _sort(rows, sort)
    audit.record(
        request.user,
        "caseload_overview.view",
        None,
        request=request,
        status=show,
        sort=sort,
    )
    context = {
        "rows": rows,
        "rows_html": tables.caseload_rows_html(rows),
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
