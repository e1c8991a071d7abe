"""Token pages (namespace ``api_tokens``); the API itself is mounted in the root urls."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.api import views

app_name = "api_tokens"
urlpatterns = [
    path("", views.token_list, name="list"),
    path("revoke", views.token_revoke, name="revoke"),
]
