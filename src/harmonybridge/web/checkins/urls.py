"""URLs of the client check-in (namespace ``checkins``); no login, token or cookie only."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.checkins import views

app_name = "checkins"

urlpatterns = [
    path("", views.step, name="step"),
    path("submit", views.submit, name="submit"),
    path("draft", views.draft, name="draft"),
    path("done", views.done, name="done"),
    path("t/<str:token>", views.start, name="start"),
]
