"""Security middleware: session timeouts, two-factor enforcement and response headers."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers

#: Session keys written by this module.
AUTH_AT = "hb_auth_at"
LAST_SEEN = "hb_last_seen"
#: Only rewrite the session (one database write) when this many seconds have passed.
TOUCH_EVERY = 30

Handler = Callable[[HttpRequest], HttpResponse]


def mark_authenticated(request: HttpRequest) -> None:
    """Start the absolute and idle clocks of a freshly signed-in session."""
    now = int(time.time())
    request.session[AUTH_AT] = now
    request.session[LAST_SEEN] = now


def _login_redirect(request: HttpRequest) -> HttpResponse:
    url = (
        reverse(settings.LOGIN_URL) + "?" + urlencode({"next": request.get_full_path()})
    )
    response = HttpResponseRedirect(url)
    if request.headers.get("HX-Request"):
        response["HX-Redirect"] = url
    return response


class SessionTimeoutMiddleware:
    """Log a staff member out after idle time and after an absolute session lifetime.

    Idle: ``HB_SESSION_IDLE_SECONDS`` (15 minutes by default); absolute:
    ``SESSION_COOKIE_AGE`` (12 hours) counted from sign-in (ASVS 7.3.1, 7.3.2;
    HIPAA 164.312(a)(2)(iii) automatic logoff).
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            auth_at = session.get(AUTH_AT)
            last_seen = session.get(LAST_SEEN)
            if auth_at is None or last_seen is None:
                mark_authenticated(request)
            elif (
                now - int(last_seen) > settings.HB_SESSION_IDLE_SECONDS
                or now - int(auth_at) > settings.SESSION_COOKIE_AGE
            ):
                logout(request)
                return _login_redirect(request)
            elif now - int(last_seen) >= TOUCH_EVERY:
                session[LAST_SEEN] = now
        return self.get_response(request)


def _mfa_exempt_prefixes() -> tuple[str, ...]:
    # Everything allauth serves (sign-in, sign-out, password, two-factor set-up and
    # re-authentication) holds no client data, so a staff member without a second
    # factor may use it; static files and the health check hold none either.
    return ("/accounts/", settings.STATIC_URL, "/healthz")


def routed_path(request: HttpRequest) -> str:
    """The path Django routes on: every allow/refuse decision by path uses this.

    ``request.path`` includes ``SCRIPT_NAME``, which a server may take from a request
    header (gunicorn's ``forwarder_headers``); with ``SCRIPT_NAME: /accounts`` the
    request for ``/accounts/insights/`` is routed to ``/insights/`` while
    ``request.path`` still starts with the exempt ``/accounts/``. ``path_info`` is
    exactly what the URL resolver sees, so the decision and the view always agree.
    """
    return request.path_info


class RequireMFAMiddleware:
    """Send signed-in staff without an authenticator app to the set-up page.

    On whenever ``HB_REQUIRE_MFA`` is true, which is the production default (ASVS
    6.3.2); the demo of ``make run`` is the documented exception.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            getattr(settings, "HB_REQUIRE_MFA", False)
            and user is not None
            and user.is_authenticated
            and not routed_path(request).startswith(_mfa_exempt_prefixes())
            and not has_totp(user)
        ):
            url = reverse("mfa_activate_totp")
            response = HttpResponseRedirect(url)
            if request.headers.get("HX-Request"):
                response["HX-Redirect"] = url
            return response
        return self.get_response(request)


def has_totp(user: object) -> bool:
    """Return True when the user has an authenticator app set up."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(
        user_id=getattr(user, "pk", None), type=Authenticator.Type.TOTP
    ).exists()


class SecurityHeadersMiddleware:
    """Add Permissions-Policy everywhere and ``Cache-Control: no-store`` to staff pages.

    Check-in pages keep the site-wide ``Referrer-Policy: same-origin``: the token URL
    is exchanged for a cookie and redirected to a token-free URL at once, and
    ``no-referrer`` would make browsers post forms with ``Origin: null``, which the
    CSRF check refuses."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = getattr(settings, "PERMISSIONS_POLICY", "")
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        user = getattr(request, "user", None)
        static = routed_path(request).startswith(settings.STATIC_URL)
        if not static and user is not None and user.is_authenticated:
            # ASVS 14.3.2: pages with client data must not be kept by browsers or proxies.
            add_never_cache_headers(response)
            patch_vary_headers(response, ("Cookie",))
        return response
