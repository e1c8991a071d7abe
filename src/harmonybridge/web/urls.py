"""Top-level URL configuration: each app mounts its own urls module here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_GET

from harmonybridge.web.accounts import views as account_views


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers and tools that ask for /favicon.ico get the site's SVG icon."""
    return HttpResponsePermanentRedirect(static("hb/favicon.svg"))


urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include("allauth.urls")),
    path("practice/", include("harmonybridge.web.practice.urls")),
    path("c/", include("harmonybridge.web.checkins.urls")),
    path("alerts/", include("harmonybridge.web.alerts.urls")),
    path("insights/", include("harmonybridge.web.insights.urls")),
    path("repairs/", include("harmonybridge.web.repairs.urls")),
    path("audit/", include("harmonybridge.web.audit.urls")),
    path("privacy/", include("harmonybridge.web.privacy.urls")),
]
