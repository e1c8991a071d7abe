"""URLs of the alerts app (namespace ``alerts``)."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.alerts import views, workflow

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="list"),
    path(
        "safety/<int:pk>/acknowledge",
        views.acknowledge_safety,
        name="acknowledge_safety",
    ),
    path("<int:pk>/<str:action>", workflow.act, name="act"),
]
