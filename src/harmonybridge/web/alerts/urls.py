"""URLs of the alerts app (namespace ``alerts``)."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.alerts import views

app_name = "alerts"

urlpatterns = [
    path("safety/", views.safety_cards, name="safety_cards"),
    path(
        "safety/<int:pk>/action",
        views.safety_action,
        name="safety_action",
    ),
]
