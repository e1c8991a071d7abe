"""Template tags other apps' pages use to show alerts."""

from __future__ import annotations

from typing import Any

from django import template

from harmonybridge.web.alerts.evidence import evidence_rows as rows_of_evidence
from harmonybridge.web.alerts.models import StoredAlert
from harmonybridge.web.practice.policy import engagements_for

register = template.Library()


@register.inclusion_tag("alerts/_alert_history.html", takes_context=True)
def client_alert_history(context: Any, client: Any) -> dict[str, Any]:
    """Every alert of the client's engagements (open and resolved) with its workflow steps."""
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
    return rows_of_evidence(alert)
