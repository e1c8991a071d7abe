"""The practice admin reviews the expected-response curves and accepts them for alerts."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from harmonybridge import instruments
from harmonybridge.change import change_criterion
from harmonybridge.web import audit
from harmonybridge.web.alerts.context import refresh_alert_reference
from harmonybridge.web.alerts.curves import accept_curves
from harmonybridge.web.alerts.models import CurveSet
from harmonybridge.web.practice import conventions
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.policy import require_practice_admin


@require_GET
@staff_view
def curve_list(request: PractitionerRequest) -> HttpResponse:
    require_practice_admin(request.user)
    audit.record(request.user, "curves.view", None, request=request)
    curve_sets = list(CurveSet.objects.filter(practice=request.user.practice))
    chosen = conventions.for_practice(request.user.practice_id)
    for cs in curve_sets:
        cs.title = instruments.short_title(cs.instrument)  # type: ignore[attr-defined]
        # without a reliable-change criterion, deterioration cannot be judged
        cs.judged = (  # type: ignore[attr-defined]
            change_criterion(cs.instrument, convention=chosen.get(cs.instrument))
            is not None
        )
    return render(request, "insights/curves.html", {"curve_sets": curve_sets})


@require_POST
@staff_view
def curve_accept(request: PractitionerRequest, pk: int) -> HttpResponse:
    require_practice_admin(request.user)
    curve_set = get_object_or_404(
        CurveSet, pk=pk, practice=request.user.practice, converged=True
    )
    with transaction.atomic():
        accept_curves(curve_set, request.user)
        audit.record(
            request.user,
            "curves.accept",
            curve_set,
            request=request,
            instrument=curve_set.instrument,
        )
    refresh_alert_reference(curve_set.practice_id)
    messages.success(
        request, _("Curves accepted: the not-on-track alert now uses them.")
    )
    return redirect("insights:curves")
