"""Template tags other apps use to link to insights pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from harmonybridge.web.checkins import tokens

register = template.Library()


@register.simple_tag(takes_context=True)
def client_progress_url(context: Any) -> str:
    """The client's own progress page after a check-in, or '' when it is switched off."""
    request = context.get("request")
    if request is None:
        return ""
    checkin = tokens.current(request.session, allow_submitted=True)
    if checkin is None or not checkin.is_submitted:
        return ""
    if not checkin.session.engagement.client_sees_scores:
        return ""
    return reverse("insights:my_progress")
