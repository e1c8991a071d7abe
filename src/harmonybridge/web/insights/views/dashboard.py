"""The client dashboard of one engagement, its editable goals and the item-level answers."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from harmonybridge import instruments
from harmonybridge.web import audit
from harmonybridge.web.checkins.forms import answer_label
from harmonybridge.web.checkins.models import CheckIn, Response
from harmonybridge.web.insights import status as st
from harmonybridge.web.insights.forms import ClientViewForm, GoalsForm
from harmonybridge.web.insights.models import ClientViewOptions
from harmonybridge.web.insights.panel import panel_for
from harmonybridge.web.insights.views.context import (
    alerts_of,
    split_current,
    view_options,
)
from harmonybridge.web.practice import language
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import Engagement
from harmonybridge.web.practice.policy import (
    engagements_for,
    get_engagement_or_404,
    get_session_or_404,
)


@require_GET
@staff_view
def dashboard(request: PractitionerRequest, pk: int) -> HttpResponse:
    """Charts, open alerts, rupture episodes, session table, goals (htmx: alliance chart)."""
    engagement = get_engagement_or_404(request, pk)
    subscales = request.GET.get("subscales") == "1"
    panel = panel_for(engagement, subscales=subscales)
    clients = [m.client for m in engagement.memberships.select_related("client")]
    unresolved, resolved = alerts_of(engagement)
    current, earlier = split_current(unresolved)
    options = view_options(engagement)
    # supervisors see their supervisees' dashboards but change nothing
    can_change = engagements_for(request.user, change=True).filter(pk=pk).exists()
    audit.record(request.user, "dashboard.view", engagement, request=request)
    context = {
        "engagement": engagement,
        "clients": clients,
        "coaching": engagement.is_coaching,
        "words": language.words(engagement.is_coaching),
        "panel": panel,
        "alliance": panel["alliance"],
        "episodes": panel["episodes"],
        "open_alerts": unresolved,
        "state": st.states(Engagement.objects.filter(pk=engagement.pk), request.user)[
            engagement.pk
        ],
        "current_alerts": current,
        "earlier_alerts": earlier,
        "resolved_alerts": resolved,
        "subscales": subscales,
        "can_change": can_change,
        "goals_form": GoalsForm(instance=engagement),
        "view_form": ClientViewForm(
            initial={
                "enabled": engagement.client_sees_scores,
                "goals": engagement.client_sees_goals,
                "alliance": options.show_alliance,
            }
        ),
        "last_session": panel["last_session"],
    }
    template = "insights/dashboard.html"
    if request.htmx:
        template += "#alliance-chart"
    return render(request, template, context)


@require_POST
@staff_view
def goals_edit(request: PractitionerRequest, pk: int) -> HttpResponse:
    engagement = get_engagement_or_404(request, pk, change=True)
    form = GoalsForm(request.POST, instance=engagement)
    if form.is_valid():
        with transaction.atomic():
            form.save()
            audit.record(
                request.user, "engagement.goals_update", engagement, request=request
            )
        if not request.htmx:
            messages.success(
                request, _("The agreed goals and way of working were saved.")
            )
    status = 200 if form.is_valid() else 400
    if request.htmx:
        return render(
            request,
            "insights/dashboard.html#goals",
            {"engagement": engagement, "goals_form": form, "saved": form.is_valid()},
            status=status,
        )
    if not form.is_valid():
        messages.error(request, _("The goals were not saved: please check the fields."))
    return redirect("insights:dashboard", pk=engagement.pk)


@require_POST
@staff_view
def client_view_settings(request: PractitionerRequest, pk: int) -> HttpResponse:
    """Switch the client's own view on or off (alliance stays off unless chosen)."""
    engagement = get_engagement_or_404(request, pk, change=True)
    form = ClientViewForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    with transaction.atomic():
        engagement.client_sees_scores = bool(data.get("enabled"))
        engagement.client_sees_goals = bool(data.get("enabled") and data.get("goals"))
        engagement.save(
            update_fields=["client_sees_scores", "client_sees_goals", "updated_at"]
        )
        ClientViewOptions.objects.update_or_create(
            engagement=engagement,
            defaults={
                "show_alliance": bool(data.get("enabled") and data.get("alliance"))
            },
        )
        audit.record(
            request.user,
            "engagement.client_view_update",
            engagement,
            request=request,
            enabled=engagement.client_sees_scores,
        )
    messages.success(request, _("The client's view was updated."))
    return redirect("insights:dashboard", pk=engagement.pk)


@require_GET
@staff_view
def session_answers(request: PractitionerRequest, pk: int) -> HttpResponse:
    """The item-level answers behind each score of one session (htmx: the list only)."""
    session = get_session_or_404(request, pk)
    responses = (
        Response.objects.filter(session=session)
        .select_related("respondent_client", "respondent_user")
        .prefetch_related("answers", "scores")
        .order_by("instrument_id", "respondent_key")
    )
    blocks = []
    for r in responses:
        inst = instruments.find(r.instrument_id)
        texts = {}
        if inst is not None:
            texts = {it.number: (it.text.get("en") or "") for it in inst.items}
        blocks.append(
            {
                "response": r,
                "title": (
                    language.instrument_title(r.instrument_id, True)
                    if session.engagement.is_coaching or inst is None
                    else inst.title
                ),
                "who": r.respondent_client.label
                if r.respondent_client
                else (
                    r.respondent_user.get_full_name()
                    or r.respondent_user.get_username()
                    if r.respondent_user
                    else ""
                ),
                "answers": [
                    (
                        a.item,
                        texts.get(a.item, ""),
                        answer_label(inst, a.item, a.value) if inst else a.value,
                    )
                    for a in r.answers.all()
                ],
                "scores": list(r.scores.all()),
            }
        )
    blocks = _unsent_safety_drafts(session) + blocks
    audit.record(
        request.user, "answers.view", session, request=request, session_id=session.pk
    )
    template = "insights/session_answers.html"
    if request.htmx:
        template += "#answers"
    return render(
        request,
        template,
        {"session": session, "engagement": session.engagement, "blocks": blocks},
    )


def _unsent_safety_drafts(session) -> list[dict]:
    """Draft answers not sent by the client whose safety answer opened a notice."""
    out = []
    drafts = CheckIn.objects.filter(
        session=session, submitted_at__isnull=True, safety_notice__isnull=False
    ).select_related("respondent")
    for checkin in drafts:
        for instrument_id, given in (checkin.draft or {}).items():
            inst = instruments.find(instrument_id)
            texts = {}
            if inst is not None:
                texts = {it.number: (it.text.get("en") or "") for it in inst.items}
            out.append(
                {
                    "title": inst.title if inst else instrument_id,
                    "who": checkin.respondent.label,
                    "draft": True,
                    "answers": [
                        (int(k), texts.get(int(k), ""), v)
                        for k, v in sorted(given.items(), key=lambda kv: int(kv[0]))
                    ],
                    "scores": [],
                }
            )
    return out
