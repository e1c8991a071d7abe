"""Caseload overview: one row per active engagement with its status, most urgent first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
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
#: Engagements per caseload page (a practice of 5,000 renders as fast as one of 100).
PAGE_SIZE = 100


#: SQL order of each sort (the client sort needs the decrypted names: done in Python).
_ORDER = {
    "urgency": "st_urgency, st_n_statuses DESC, (r_last IS NULL), r_last DESC",
    "last_session": "(r_last IS NULL), r_last DESC",
    "service": "r_service, st_urgency",
}
_TIES = "r_start DESC, r_pk DESC"  # the engagements' own order (Meta.ordering)
_ALL = 10**9  # "no limit" that SQLite and PostgreSQL both take


def _datetime(value: Any) -> dt.datetime | None:
    """A raw cursor's datetime: SQLite gives text (UTC), PostgreSQL an aware value."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value


def _query(
    request: PractitionerRequest,
    *,
    show: str,
    kind: str,
    sort: str,
    limit: int,
    offset: int,
) -> tuple[dict[str, int], int, list[dict[str, Any]]]:
    """One query: the status counts of every active engagement, how many rows the
    filters keep, and those rows in the sort's order from ``offset`` (``limit`` of them).

    The statuses, their counts and the urgency order come from ``status.state_sql`` in
    the database: no row outside the page is loaded or decrypted.
    """
    qs = engagements_for(request.user).filter(status=EngagementStatus.ACTIVE)
    values = (
        st.annotate(qs, request.user)
        .annotate(
            r_pk=F("pk"),
            r_start=F("start_date"),
            r_service=F("service_line__name"),
            r_kind=F("service_line__kind"),
            r_last=F("st_last_date"),
        )
        .values("r_pk", "r_start", "r_service", "r_kind", "r_last", *st.FIELDS)
    )
    inner, params = st.state_sql(values)
    where, where_params = ["1 = 1"], []
    if show:
        where.append(f"f_{show} = 1")  # show is one of STATUS_KINDS (checked)
    if kind:
        where.append("r_kind = %s")
        where_params.append(kind)
    order = f"{_ORDER.get(sort, _ORDER['urgency'])}, {_TIES}"
    counts = ", ".join(f"SUM(f_{k}) AS n_{k}" for k in st.STATUS_KINDS)
    sql = (
        f"WITH s AS ({inner}), c AS (SELECT {counts} FROM s), "
        f"p AS (SELECT s.*, COUNT(*) OVER () AS n_rows, "
        f"ROW_NUMBER() OVER (ORDER BY {order}) AS n_order FROM s "
        f"WHERE {' AND '.join(where)} ORDER BY n_order LIMIT %s OFFSET %s) "
        "SELECT c.*, p.* FROM c LEFT JOIN p ON 1 = 1 ORDER BY p.n_order"
    )
    found = st.dict_rows(sql, [*params, *where_params, limit, offset])
    counts_of = {k: int(found[0][f"n_{k}"] or 0) for k in st.STATUS_KINDS}
    rows = [r for r in found if r["r_pk"] is not None]
    total = int(rows[0]["n_rows"]) if rows else 0
    out = []
    for r in rows:
        state = st.state_of(r)
        out.append(
            {
                "pk": r["r_pk"],
                "names": "",
                "service": r["r_service"],
                "kind": r["r_kind"],
                "statuses": state.statuses,
                "urgency": state.urgency,
                "last": _datetime(r["r_last"]),
                "open": state.n_open,
            }
        )
    return counts_of, total, out


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


class _Counted(list):  # type: ignore[type-arg]
    """One page's rows standing in for the whole filtered list (Paginator asks len)."""

    def __init__(self, rows: list[dict[str, Any]], offset: int, total: int) -> None:
        super().__init__(rows)
        self.offset, self.total = offset, total

    def count(self) -> int:  # type: ignore[override]
        return self.total

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return list(self)[key.start - self.offset : key.stop - self.offset]
        return super().__getitem__(key - self.offset)


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


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
    number = _page_number(request.GET.get("page"))
    if sort == "client":  # by decrypted names: every row of the filter, sorted here
        counts, total, rows = _query(
            request, show=show, kind=kind, sort="urgency", limit=_ALL, offset=0
        )
        _name(rows)
        rows.sort(key=lambda r: r["names"].lower())
        page = Paginator(rows, PAGE_SIZE).get_page(number)
    else:
        offset = (number - 1) * PAGE_SIZE
        counts, total, rows = _query(
            request, show=show, kind=kind, sort=sort, limit=PAGE_SIZE, offset=offset
        )
        if not rows and number > 1:  # past the end: the last page, as Paginator does
            total = _query(request, show=show, kind=kind, sort=sort, limit=1, offset=0)[
                1
            ]
            number = max(1, -(-total // PAGE_SIZE))
            offset = (number - 1) * PAGE_SIZE
            counts, total, rows = _query(
                request, show=show, kind=kind, sort=sort, limit=PAGE_SIZE, offset=offset
            )
        page = Paginator(_Counted(rows, offset, total), PAGE_SIZE).get_page(number)
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
