"""URLs of the rupture–repair record (namespace ``repairs``)."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.repairs import views

app_name = "repairs"

urlpatterns = [
    path(
        "engagements/<int:engagement_pk>/sessions/<int:session_pk>/",
        views.record,
        name="record",
    ),
    path("engagements/<int:engagement_pk>/episodes", views.episodes, name="episodes"),
]
