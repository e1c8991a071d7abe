"""Top-level URL configuration: each app mounts its own urls module here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_GET

from harmonybridge.web.accounts import views as account_views
from harmonybridge.web.api.fhir import fhir_urls
from harmonybridge.web.api.v1 import api_urls
from harmonybridge.web.checkins import staff_urls as checkin_staff_urls
from harmonybridge.web.insights import urls as insights_urls
from harmonybridge.web.practice import urls as practice_urls

# The practitioner's screens under /practice/ come from three layers (docs/decisions):
# the practice's own, the session screens of checkins, the client page of insights.
# They share the ``practice`` namespace so their URLs and names stay as they were.
practice_screens = (
    practice_urls.urlpatterns
    + checkin_staff_urls.urlpatterns
    + insights_urls.practice_screens
)


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers and tools that ask for /favicon.ico get the site's SVG icon."""
    return HttpResponsePermanentRedirect(static("hb/favicon.svg"))


urlpatterns = [
    path("", account_views.home, name="home"),
    path("healthz", account_views.healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/", include("allauth.urls")),
    path("practice/", include((practice_screens, practice_urls.app_name))),
    path("c/", include("harmonybridge.web.checkins.urls")),
    path("alerts/", include("harmonybridge.web.alerts.urls")),
    path("insights/", include("harmonybridge.web.insights.urls")),
    path("repairs/", include("harmonybridge.web.repairs.urls")),
    path("audit/", include("harmonybridge.web.privacy.audit_urls")),
    path("privacy/", include("harmonybridge.web.privacy.urls")),
    path("research/", include("harmonybridge.web.research.urls")),
    path("api/tokens/", include("harmonybridge.web.api.urls")),
    path("api/v1/", api_urls()),
    path("fhir/", fhir_urls()),
]
