"""The alliance insights page: does the alliance work pay off here?

The practice admin sees every figure of the practice; a practitioner the figures of the
engagements they lead (their prediction accuracy included); a researcher aggregates only,
with practitioners under pseudonyms and no client code or name anywhere.  What a person
may see is decided once, by :func:`harmonybridge.web.practice.policy.insights_scope`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.insights import alliance_display
from harmonybridge.web.insights import alliance_tasks as tasks
from harmonybridge.web.practice.http import PractitionerRequest
from harmonybridge.web.practice.policy import insights_scope


@require_GET
@login_required
def alliance(request: PractitionerRequest) -> HttpResponse:
    """Filters in the query string; the figures come from the cache or the task worker."""
    scope = insights_scope(request.user)
    form, labels = alliance_display.filter_form(request.GET, scope)
    context: dict[str, Any] = {"form": form, "scope": scope, "result": None}
    if form.is_valid():
        filters = form.filters()
        fit = tasks.fit_state(scope, filters)
        if fit.state in ("queued", "running"):
            context["progress"] = {
                "done": fit.done,
                "total": fit.total,
                "step": fit.step,
            }
        elif fit.state == "failed":
            context["failed"] = True
        else:
            assert fit.result is not None
            context["result"] = alliance_display.shown(fit.result, scope, labels)
            # aggregates: no one client's data is shown, so no client codes are listed
            audit.record(
                request.user,
                "insights.alliance.view",
                request=request,
                clients=[],
                filters=filters.key[:64],
            )
    template = (
        "insights/_alliance_results.html"
        if request.htmx and not request.htmx.boosted
        else "insights/alliance.html"
    )
    return render(request, template, context)
