"""Helpers for check-in tests: complete answers for every instrument of a session."""

from __future__ import annotations

from typing import Any

from harmonybridge.web.checkins import storage
from harmonybridge.web.checkins.forms import shown_items
from harmonybridge.web.practice.models import RaterRole


def answers_for(inst: Any, goals: list[str], value: str = "low") -> dict[str, str]:
    """POST data answering every shown item (lowest, or highest, scale value)."""
    data = {}
    for it in shown_items(inst, goals):
        if it.condition is not None:
            continue
        values = inst.scales[it.scale].values
        data[f"{inst.id}-i{it.number}"] = str(
            values[0] if value == "low" else values[-1]
        )
    return data


def full_post(checkin: Any, value: str = "high") -> dict[str, str]:
    session = checkin.session
    data = {"checkin": str(checkin.pk)}
    for inst in storage.due_instruments(session, RaterRole.CLIENT):
        data.update(answers_for(inst, session.engagement.goals, value=value))
    return data


def open_link(client: Any, token: str) -> Any:
    return client.get(f"/c/t/{token}")
