"""Data-subject rights URLs (namespace ``privacy``)."""

from __future__ import annotations

from django.urls import path

from harmonybridge.web.privacy import views

app_name = "privacy"
urlpatterns = [
    path("clients/<int:pk>/export.json", views.export, name="export"),
    path("clients/<int:pk>/export.zip", views.export_bundle, name="export_bundle"),
    path("clients/<int:pk>/erase", views.erase, name="erase"),
]
