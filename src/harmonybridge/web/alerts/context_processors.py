"""Put the open safety cards (one per client) on every page for signed-in staff."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def safety_notices(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if (
        user is None
        or not user.is_authenticated
        or not getattr(user, "practice_id", None)
    ):
        return {}
    from harmonybridge.web.alerts.models import SafetyAction
    from harmonybridge.web.alerts.safety import cards_for

    return {"safety_cards": cards_for(user), "safety_actions": SafetyAction.choices}
