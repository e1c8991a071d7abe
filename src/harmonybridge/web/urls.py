"""Top-level URL configuration: each app mounts its own urls module here."""

from __future__ import annotations

from django.urls import include, path

from harmonybridge.web.accounts import views as account_views
from harmonybridge.web.api.fhir import fhir_urls
from harmonybridge.web.api.v1 import api_urls

urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("practice/", include("harmonybridge.web.practice.urls")),
    path("c/", include("harmonybridge.web.checkins.urls")),
    path("alerts/", include("harmonybridge.web.alerts.urls")),
    path("insights/", include("harmonybridge.web.insights.urls")),
    path("repairs/", include("harmonybridge.web.repairs.urls")),
    path("audit/", include("harmonybridge.web.audit.urls")),
    path("privacy/", include("harmonybridge.web.privacy.urls")),
    path("api/tokens/", include("harmonybridge.web.api.urls")),
    path("api/v1/", api_urls()),
    path("fhir/", fhir_urls()),
]
