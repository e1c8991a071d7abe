"""The alliance insights page: does the alliance work pay off here?

The practice admin sees every figure of the practice; a practitioner the figures of the
engagements they lead (their prediction accuracy included); a researcher aggregates only,
with practitioners under pseudonyms and no client code or name anywhere.  What a person
may see is decided once, by :func:`harmonybridge.web.practice.policy.insights_scope`.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from harmonybridge.web import audit
from harmonybridge.web.accounts.models import User
from harmonybridge.web.insights import alliance_tasks as tasks
from harmonybridge.web.insights.analyses import FilterForm
from harmonybridge.web.practice.http import PractitionerRequest
from harmonybridge.web.practice.models import Engagement, ServiceLine
from harmonybridge.web.practice.policy import InsightsScope, insights_scope

_IDS = re.compile(r"\b(?:C-[A-Z0-9]{6}|[EP]\d+)\b")


def _leads(scope: InsightsScope) -> list[int]:
    """The practice's practitioners who lead an engagement, by id."""
    return sorted(
        set(
            Engagement.objects.filter(practice_id=scope.practice_id).values_list(
                "lead_id", flat=True
            )
        )
    )


def _practitioner_labels(scope: InsightsScope, leads: list[int]) -> dict[str, str]:
    """``P<id>`` → what this person sees: the name, or a pseudonym for researchers."""
    if scope.pseudonymised:
        return {f"P{pk}": f"Practitioner {i}" for i, pk in enumerate(leads, 1)}
    staff = User.objects.filter(practice_id=scope.practice_id, pk__in=leads)
    return {f"P{u.pk}": u.get_full_name() or u.get_username() for u in staff}


def _label(value: Any, labels: dict[str, str], scrub: bool) -> Any:
    if not isinstance(value, str):
        return value
    if value in labels:
        return labels[value]
    return _IDS.sub("…", value) if scrub else value


def _shown(
    result: dict[str, Any], scope: InsightsScope, labels: dict[str, str]
) -> dict:
    """The cached figures with names (or pseudonyms) put in and private rows left out."""
    scrub = scope.pseudonymised

    def fig(f: dict[str, Any]) -> dict[str, Any]:
        return {
            **f,
            "sentence": _label(f["sentence"], labels, scrub),
            "rows": [[_label(c, labels, scrub) for c in row] for row in f["rows"]],
        }

    own = f"P{scope.own_practitioner}" if scope.own_practitioner else None
    prediction = []
    if scope.predictions:
        prediction = [
            {
                "who": labels.get(p["practitioner"], p["practitioner"]),
                **fig(p["figure"]),
            }
            for p in result["prediction"]
            if own is None or p["practitioner"] == own
        ]
    return {
        **result,
        "general": [fig(f) for f in result["general"]],
        "outcomes": [
            {**o, "figures": [fig(f) for f in o["figures"]]} for o in result["outcomes"]
        ],
        "prediction": prediction,
        "notes": [_label(n, labels, scrub) for n in result["notes"]],
    }


@require_GET
@login_required
def alliance(request: PractitionerRequest) -> HttpResponse:
    """Filters in the query string; the figures come from the cache or the task worker."""
    scope = insights_scope(request.user)
    leads = _leads(scope)
    labels = _practitioner_labels(scope, leads)
    labels.update(
        {
            f"S{pk}": name
            for pk, name in ServiceLine.objects.filter(
                practice_id=scope.practice_id
            ).values_list("pk", "name")
        }
    )
    form = FilterForm(
        request.GET,
        scope=scope,
        practitioners=[(pk, labels.get(f"P{pk}", f"P{pk}")) for pk in leads],
    )
    context: dict[str, Any] = {"form": form, "scope": scope, "result": None}
    if form.is_valid():
        filters = form.filters()
        key, result = tasks.cached(scope, filters)
        if result is None:
            tasks.request_fit(key, scope, filters)
            result = tasks.cached(scope, filters)[1]  # the immediate backend ran it
        if result is None:
            context["progress"] = tasks.progress(key) or {"done": 0, "total": 0}
        elif result.get("failed"):
            context["failed"] = True
        else:
            context["result"] = _shown(result, scope, labels)
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
