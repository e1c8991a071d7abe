"""The alerts list and the alert workflow's actions (acknowledge, discussed, resolve).

They live here, with every other page that counts open alerts, so the count an htmx
action sends back is the one the caseload, the engagements list and the dashboard show
(:func:`harmonybridge.web.insights.status.states`).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from harmonybridge.web import audit
from harmonybridge.web.alerts.models import Severity, StoredAlert
from harmonybridge.web.alerts.workflow import ACTIONS, AlertStepForm, apply_step
from harmonybridge.web.insights import status as st
from harmonybridge.web.insights.evidence import name_members
from harmonybridge.web.practice.http import PractitionerRequest, staff_view
from harmonybridge.web.practice.models import Engagement
from harmonybridge.web.practice.scoping import engagements_for

SHOW = {"open": _("open (not yet resolved)"), "all": _("all")}
SORTS = {"newest": _("newest first"), "severity": _("most severe first")}
_SEVERITY_RANK = Case(
    When(severity=Severity.URGENT, then=Value(0)),
    When(severity=Severity.WARNING, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


@require_GET
@staff_view
def alert_list(request: PractitionerRequest) -> HttpResponse:
    """My alerts with date, clients (link to the dashboard) and inline actions."""
    show = request.GET.get("show", "open")
    show = show if show in SHOW else "open"
    sort = request.GET.get("sort", "newest")
    sort = sort if sort in SORTS else "newest"
    mine = engagements_for(request.user)
    alerts = st.unresolved_alerts() if show == "open" else StoredAlert.objects.all()
    alerts = (
        alerts.filter(engagement__in=mine.values("pk"))
        .select_related("engagement__service_line", "status_by")
        .prefetch_related("engagement__clients", "steps__user")
    )
    if sort == "severity":
        alerts = alerts.annotate(rank=_SEVERITY_RANK).order_by(
            "rank", "-created_at", "-pk"
        )
    else:
        alerts = alerts.order_by("-created_at", "-pk")
    changeable = set(
        engagements_for(request.user, change=True).values_list("pk", flat=True)
    )
    audit.record(
        request.user, "alerts.view", None, request=request, show=show, sort=sort
    )
    template = "insights/alert_list.html"
    if request.htmx:
        template += "#alert-table"
    return render(
        request,
        template,
        {
            "alerts": name_members(list(alerts[:500])),
            "show": show,
            "shows": SHOW.items(),
            "sort": sort,
            "sorts": SORTS.items(),
            "changeable": changeable,
        },
    )


def _alert_or_404(request: PractitionerRequest, pk: int) -> StoredAlert:
    alert = (
        StoredAlert.objects.filter(
            engagement__in=engagements_for(request.user, change=True).values("pk")
        )
        .filter(pk=pk)
        .first()
    )
    if alert is None:
        raise Http404
    return alert


def _back(request: PractitionerRequest, alert: StoredAlert) -> HttpResponse:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect(reverse("insights:dashboard", args=[alert.engagement_id]))


@require_POST
@staff_view
def act(request: PractitionerRequest, pk: int, action: str) -> HttpResponse:
    """Acknowledge, mark discussed or resolve one alert (htmx: the card and the counts)."""
    if action not in ACTIONS:
        raise Http404
    alert = _alert_or_404(request, pk)
    form = AlertStepForm(request.POST, action=action)
    if not form.is_valid():
        if request.htmx:
            _audit_card_read(request, alert, action)
            return _card(request, alert, form=form, status=400)
        for error in form.errors.get("note", []):
            messages.error(request, error)
        return _back(request, alert)
    result = apply_step(
        alert.pk, action, request.user, form.cleaned_data["note"], request
    )
    if not result.done and request.htmx:
        # Nothing changed, so apply_step wrote no row; the card still shows the notes.
        _audit_card_read(request, result.alert, action)
    if request.htmx:
        return _card(request, result.alert, note=result.message, status=200)
    level = messages.SUCCESS if result.done else messages.INFO
    messages.add_message(request, level, result.message)
    return _back(request, result.alert)


def _audit_card_read(
    request: PractitionerRequest, alert: StoredAlert, action: str
) -> None:
    """The alert card shows its steps' (decrypted) notes: that read is audited."""
    audit.record(
        request.user,
        "alert.view",
        alert,
        request=request,
        engagement_id=alert.engagement_id,
        rule=alert.rule_id,
        tried=action,
    )


def _card(
    request: PractitionerRequest,
    alert: StoredAlert,
    *,
    form: AlertStepForm | None = None,
    note: str = "",
    status: int = 200,
) -> HttpResponse:
    alert = (
        StoredAlert.objects.select_related("status_by", "engagement__service_line")
        .prefetch_related("steps__user", "engagement__clients")
        .get(pk=alert.pk)
    )
    name_members([alert])
    state = st.states(Engagement.objects.filter(pk=alert.engagement_id), request.user)
    context: dict[str, Any] = {
        "a": alert,
        "form_error": form.errors.get("note") if form else None,
        "flash": note,
        "oob_state": state[alert.engagement_id],
        "in_list": request.POST.get("in_list") == "1",
        "changeable": {alert.engagement_id},  # _alert_or_404 checked the right
    }
    return render(request, "insights/_alert_card.html", context, status=status)
