"""Put unacknowledged safety notices on every page for signed-in practitioners."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from harmonybridge.web.alerts.safety import unacknowledged_for


def safety_notices(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if (
        user is None
        or not user.is_authenticated
        or not getattr(user, "practice_id", None)
    ):
        return {}

    return {"safety_notices": list(unacknowledged_for(user)[:5])}
