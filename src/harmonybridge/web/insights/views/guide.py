"""The in-app guide: what the markers, strategies, statuses and chart symbols mean."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.insights import status
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.repairs import markers


@require_GET
@staff_view
def guide(request: PractitionerRequest) -> HttpResponse:
    audit.record(request.user, "guide.view", None, request=request)
    return render(
        request,
        "insights/guide.html",
        {
            "withdrawal": markers.WITHDRAWAL,
            "confrontation": markers.CONFRONTATION,
            "strategies": markers.STRATEGIES,
            "statuses": status.STATUSES,
        },
    )
