"""Views of the practice app, one module per screen group."""

from __future__ import annotations

from harmonybridge.web.practice.views.admin import (
    add_person,
    add_service_line,
    practice_admin,
    save_practice,
    save_wording,
)
from harmonybridge.web.practice.views.clients import (
    client_create,
    client_detail,
    client_edit,
)
from harmonybridge.web.practice.views.engagements import (
    engagement_create,
    engagement_detail,
    engagement_edit,
    plan_brief,
    plan_entry_add,
    plan_entry_remove,
)
from harmonybridge.web.practice.views.sessions import (
    checkin_links,
    session_create,
    session_detail,
    session_rate,
    session_rating_correct,
)

__all__ = [
    "add_person",
    "add_service_line",
    "checkin_links",
    "client_create",
    "client_detail",
    "client_edit",
    "engagement_create",
    "engagement_detail",
    "engagement_edit",
    "plan_brief",
    "plan_entry_add",
    "plan_entry_remove",
    "practice_admin",
    "save_practice",
    "save_wording",
    "session_create",
    "session_detail",
    "session_rate",
    "session_rating_correct",
]
