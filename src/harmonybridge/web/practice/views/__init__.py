"""Views of the practice app, one module per screen group."""

from __future__ import annotations

from harmonybridge.web.practice.views.admin import (
    add_person,
    add_service_line,
    practice_admin,
    save_conventions,
    save_practice,
    save_wording,
)
from harmonybridge.web.practice.views.clients import client_create, client_edit
from harmonybridge.web.practice.views.engagements import (
    engagement_create,
    engagement_edit,
    plan_brief,
    plan_entry_add,
    plan_entry_remove,
)
from harmonybridge.web.practice.views.sessions import session_create

__all__ = [
    "add_person",
    "add_service_line",
    "client_create",
    "client_edit",
    "engagement_create",
    "engagement_edit",
    "plan_brief",
    "plan_entry_add",
    "plan_entry_remove",
    "practice_admin",
    "save_conventions",
    "save_practice",
    "save_wording",
    "session_create",
]
