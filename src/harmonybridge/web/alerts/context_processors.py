"""Put unacknowledged safety notices on every page for signed-in practitioners."""

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
    from harmonybridge.web.alerts.safety import unacknowledged_for

    return {"safety_notices": list(unacknowledged_for(user)[:5])}
