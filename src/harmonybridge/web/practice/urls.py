"""URLs of the practice app (namespace ``practice``; ``web/urls.py`` adds the client page
from insights and the session screens from checkins to the same namespace)."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.practice import views

app_name = "practice"

urlpatterns = [
    path("clients/new", views.client_create, name="client_create"),
    path("clients/<int:pk>/edit", views.client_edit, name="client_edit"),
    path(
        "clients/<int:client_pk>/engagements/new",
        views.engagement_create,
        name="engagement_create",
    ),
    path("engagements/<int:pk>/edit", views.engagement_edit, name="engagement_edit"),
    path("engagements/<int:pk>/plan/add", views.plan_entry_add, name="plan_add"),
    path("engagements/<int:pk>/plan/brief", views.plan_brief, name="plan_brief"),
    path(
        "engagements/<int:pk>/plan/<int:entry_pk>/remove",
        views.plan_entry_remove,
        name="plan_remove",
    ),
    path(
        "engagements/<int:pk>/sessions/new", views.session_create, name="session_create"
    ),
    path("admin/", views.practice_admin, name="admin"),
    path("admin/service-lines", views.add_service_line, name="add_service_line"),
    path("admin/people", views.add_person, name="add_person"),
    path("admin/wording", views.save_wording, name="save_wording"),
    path("admin/settings", views.save_practice, name="save_practice"),
    path("admin/conventions", views.save_conventions, name="save_conventions"),
]
