"""Caseload overview: one row per active engagement with its status, most urgent first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
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
from harmonybridge.web.practice.policy import engagements_for

SORTS: dict[str, Any] = {
    "urgency": _("most urgent first"),
    "client": _("client"),
    "last_session": _("latest session"),
    "service": _("service"),
}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
#: Engagements per caseload page (a practice of 5,000 renders as fast as one of 100).
PAGE_SIZE = 100


def _rows(request: PractitionerRequest) -> list[dict[str, Any]]:
    """One dict per active engagement (values, not model instances: 5,000 rows stay fast).

    Client names are filled in later (:func:`_name`), for the shown page only unless
    the list is sorted by them.
    """
    qs = engagements_for(request.user).filter(status=EngagementStatus.ACTIVE)
    fields = ["pk", "service_line__name", "service_line__kind"]
    annotated = list(st.annotate(qs, request.user).values(*fields, *st.FIELDS))
    rows = []
    for r in annotated:
        state = st.state_of(r)
        statuses = state.statuses
        rows.append(
            {
                "pk": r["pk"],
                "names": "",
                "service": r["service_line__name"],
                "kind": r["service_line__kind"],
                "statuses": statuses,
                "urgency": state.urgency,
                "last": r["st_last_date"],
                "open": state.n_open,
            }
        )
    return rows


def _name(rows: list[dict[str, Any]]) -> None:
    """Fill in the clients of these rows (one query, names decrypted for them only)."""
    members: dict[int, list[str]] = {}
    for eid, code, name in (
        EngagementClient.objects.filter(engagement__in=[r["pk"] for r in rows])
        .order_by("client_id")
        .values_list("engagement_id", "client__code", "client__name")
    ):
        members.setdefault(eid, []).append(f"{name} ({code})" if name else code)
    for r in rows:
        r["names"] = ", ".join(members.get(r["pk"], []))


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
    if sort == "client":
        _name(rows)
    rows = _sort(rows, sort)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    if sort != "client":
        _name(rows)
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
        "page": page,
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
