"""Template tags other apps use to link to insights pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def client_progress_url(context: Any) -> str:
    """The client's own progress page after a check-in, or '' when it is switched off."""
    request = context.get("request")
    if request is None:
        return ""
    from harmonybridge.web.checkins import tokens

    checkin = tokens.current(request.session, allow_submitted=True)
    if checkin is None or not checkin.is_submitted:
        return ""
    if not checkin.session.engagement.client_sees_scores:
        return ""
    return reverse("insights:my_progress")


@register.inclusion_tag("insights/_alert_history.html", takes_context=True)
def client_alert_history(context: Any, client: Any) -> dict[str, Any]:
    """Every alert of the client's engagements (open and resolved) with its workflow steps."""
    from harmonybridge.web.alerts.models import StoredAlert
    from harmonybridge.web.practice.scoping import engagements_for

    request = context.get("request")
    if request is None or client is None:
        return {"alerts": []}
    alerts = (
        StoredAlert.objects.filter(
            engagement__in=engagements_for(request.user)
            .filter(clients=client)
            .values("pk")
        )
        .select_related("status_by")
        .prefetch_related("steps__user")
        .order_by("-session_number", "-created_at")
    )
    return {"alerts": list(alerts), "request": request}


@register.filter
def evidence_rows(alert: Any) -> list[tuple[str, str]]:
    """The alert's evidence with human labels and rounded numbers."""
    from harmonybridge.web.insights.evidence import evidence_rows as rows

    return rows(alert)
