"""The safety answers page and the action taken on a safety card (the alert pages live
in ``insights``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from harmonybridge.web import audit
from harmonybridge.web.alerts import safety
from harmonybridge.web.alerts.models import (
    SafetyAction,
    SafetyNotice,
)
from harmonybridge.web.audit.recording import clients_shown
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.policy import engagements_for


class SafetyActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=SafetyAction.choices,
        error_messages={"required": gettext_lazy("Choose what you did.")},
    )
    note = forms.CharField(max_length=500, required=False)


@require_GET
@staff_view
def safety_cards(request: PractitionerRequest) -> HttpResponse:
    """Every open safety card of my engagements, the one waiting longest first, with the
    banner's card and action form (the banner shows the first few; ADR 0016)."""
    cards = safety.cards_for(request.user)
    audit.record(
        request.user,
        "safety_cards.view",
        None,
        request=request,
        clients=[c for card in cards for c in clients_shown(card.latest)],
        rows=len(cards),
    )
    return render(request, "alerts/safety_cards.html", {"cards": cards})


@require_POST
@staff_view
def safety_action(request: PractitionerRequest, pk: int) -> HttpResponse:
    """Record the action taken on a safety card: closes the client's open notices."""
    changeable = engagements_for(request.user, change=True).values("pk")
    notice = (
        SafetyNotice.objects.open().filter(engagement__in=changeable, pk=pk).first()
    )
    if notice is None:
        raise Http404
    form = SafetyActionForm(request.POST)
    card = next(
        (c for c in safety.cards_for(request.user) if notice in c.notices), None
    )
    if not form.is_valid() or card is None:
        error = " ".join(str(e) for errs in form.errors.values() for e in errs)
        if request.htmx and card is not None:
            return render(
                request,
                "alerts/_safety_card.html",
                {
                    "card": card,
                    "card_error": error,
                    "safety_actions": SafetyAction.choices,
                },
                status=400,
            )
        messages.error(request, error or _("This safety answer is already closed."))
        return _next(request)
    allowed = set(changeable.values_list("pk", flat=True))
    mine = [n for n in card.notices if n.engagement_id in allowed]
    safety.record_action(
        mine,
        request.user,
        form.cleaned_data["action"],
        form.cleaned_data["note"],
        request,
    )
    if request.htmx:
        return HttpResponse(
            '<p class="flash" role="status">{}</p>'.format(
                escape(_("Action recorded; the safety card is closed."))
            )
        )
    messages.success(request, _("Action recorded; the safety card is closed."))
    return _next(request)


def _next(request: PractitionerRequest) -> HttpResponse:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect("insights:caseload")
