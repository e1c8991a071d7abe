"""Record a rupture and its repair on a session; list an engagement's rupture episodes."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from harmonybridge.web import audit
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.policy import (
    get_engagement_or_404,
    get_session_or_404,
)
from harmonybridge.web.repairs import markers, services
from harmonybridge.web.repairs.forms import RepairRecordForm
from harmonybridge.web.repairs.models import RepairRecord


@require_http_methods(["GET", "POST"])
@staff_view
def record(
    request: PractitionerRequest, engagement_pk: int, session_pk: int
) -> HttpResponse:
    """Show or save the session's rupture–repair record (one per session, editable)."""
    change = request.method == "POST"
    engagement = get_engagement_or_404(request, engagement_pk, change=change)
    session = get_session_or_404(request, session_pk, change=change)
    if session.engagement_id != engagement.pk:
        return render(
            request,
            "repairs/mismatch.html",
            {"engagement": engagement, "session": session},
            status=400,
        )
    existing = RepairRecord.objects.filter(session=session).first()
    form = RepairRecordForm(request.POST if change else None, instance=existing)
    if change and form.is_valid():
        services.save_record(form, session, request.user, request)
        messages.success(request, _("The rupture–repair record was saved."))
        return redirect("insights:dashboard", pk=engagement.pk)
    if not change:
        audit.record(
            request.user, "repair.view", session, request=request, session_id=session.pk
        )
    context = {
        "engagement": engagement,
        "session": session,
        "form": form,
        "existing": existing,
        "withdrawal": markers.WITHDRAWAL,
        "confrontation": markers.CONFRONTATION,
    }
    template = "repairs/record_form.html"
    if request.htmx:
        template += "#repair-form"
    return render(request, template, context, status=400 if change else 200)


@require_GET
@staff_view
def episodes(request: PractitionerRequest, engagement_pk: int) -> HttpResponse:
    """The engagement's rupture episodes, each once with all its sources."""
    engagement = get_engagement_or_404(request, engagement_pk)
    rows = services.episode_rows(services.episodes_for(engagement.pk), {})
    audit.record(request.user, "episodes.view", engagement, request=request)
    template = "repairs/episode_list.html"
    if request.htmx:
        template += "#episode-list"
    return render(request, template, {"engagement": engagement, "episodes": rows})
