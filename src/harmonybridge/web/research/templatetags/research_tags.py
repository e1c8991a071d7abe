"""Template tags of research mode shown on lower apps' pages (the client page)."""

from __future__ import annotations

from typing import Any

from django import template

from harmonybridge.web.research import consent
from harmonybridge.web.research.models import Purpose

register = template.Library()


@register.inclusion_tag("research/_client_consent.html")
def client_consent_summary(client: Any) -> dict[str, Any]:
    """The client's latest care and research consent, with a link to record an answer."""
    return {
        "client": client,
        "care": consent.latest(client, Purpose.CARE),
        "research": consent.latest(client, Purpose.RESEARCH),
    }
