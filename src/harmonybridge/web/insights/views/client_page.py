"""The client page: the client's engagements, sessions, latest scores and alert history.

It reads every app below (scores from check-ins, alerts), so it lives in insights; its URL
stays in the ``practice`` namespace (``practice:client``, see ``web/urls.py``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from harmonybridge import instruments
from harmonybridge.web import audit
from harmonybridge.web.checkins import frames
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.policy import engagements_for, get_client_or_404


def latest_scores(
    engagement_ids: list[int], client_code: str | None = None
) -> list[dict[str, Any]]:
    """The latest total per engagement, respondent and instrument (practitioners included)."""
    frame = frames.stored_scores(engagement_ids=engagement_ids)
    if frame.empty:
        return []
    totals = frame[frame["subscale"] == ""]
    if client_code is not None:
        keep = (totals["respondent_id"] == client_code) | (
            totals["rater_role"] == "practitioner"
        )
        totals = totals[keep]
    last = (
        totals.sort_values("session")
        .groupby(["engagement_id", "respondent_id", "instrument"], as_index=False)
        .tail(1)
    )
    rows = []
    for rec in last.sort_values(["engagement_id", "instrument", "rater_role"]).to_dict(
        "records"
    ):
        rows.append(
            {
                **{str(k): v for k, v in rec.items()},
                "title": instruments.short_title(rec["instrument"]),
            }
        )
    return rows


@require_GET
@staff_view
def client_detail(request: PractitionerRequest, pk: int) -> HttpResponse:
    client = get_client_or_404(request, pk)
    engagements = (
        engagements_for(request.user)
        .filter(clients=client)
        .select_related("service_line", "lead")
        .prefetch_related("sessions")
    )
    scores = latest_scores([e.pk for e in engagements], client.code)
    audit.record(request.user, "client.view", client, request=request)
    context = {"client": client, "engagements": engagements, "scores": scores}
    template = "insights/client_detail.html"
    if request.htmx:
        template += "#score-table"
    return render(request, template, context)
