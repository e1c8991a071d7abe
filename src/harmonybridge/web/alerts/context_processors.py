"""Put the safety banner (the open safety cards waiting longest) on every page for
signed-in staff."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from harmonybridge.web.alerts.models import SafetyAction
from harmonybridge.web.alerts.safety import banner_for


def safety_notices(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if (
        user is None
        or not user.is_authenticated
        or not getattr(user, "practice_id", None)
    ):
        return {}

    # Lazy: read once when a template shows the banner, never by a page or an htmx
    # fragment that does not (the safety answers page lists every card itself).
    return {
        "safety_banner": SimpleLazyObject(lambda: banner_for(user)),
        "safety_actions": SafetyAction.choices,
    }
