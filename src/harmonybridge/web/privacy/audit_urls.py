"""Audit log URLs: read-only."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.privacy import audit_views as views

app_name = "audit"
urlpatterns = [path("", views.audit_log, name="log")]
