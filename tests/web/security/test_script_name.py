"""A ``SCRIPT_NAME`` chosen by the sender never changes an access decision (issue 9, fault 1).

The probe's attack: a staff member signed in with the password only sends
``SCRIPT_NAME: /accounts`` and ``GET /accounts/insights/``. gunicorn (before the shipped
configuration) put the header into the WSGI environ, Django routed ``/insights/``
(``path_info``) while the two-factor middleware looked at ``request.path``
(``/accounts/insights/``, exempt) and let the page through. These tests build exactly
that WSGI environ for every middleware that allows or refuses by path; the test against
a real gunicorn is ``tests/web/security/test_gunicorn.py``.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests.web.security.support import give_totp, make_client_world, make_staff
from tests.web.security.test_route_walk import ROUTES, STAFF, _url

#: Every staff page that is not itself part of the (exempt) sign-in machinery.
GUARDED = sorted(
    name
    for name, (access, _) in ROUTES.items()
    if access == STAFF and not name.startswith(("account_", "mfa_"))
)
#: The prefixes the two-factor and header middlewares treat specially.
PREFIXES = ["/accounts", "/static", "/healthz"]

pytestmark = pytest.mark.django_db


def _admin_without_totp(world):
    return make_staff(world["practice"], role="admin")


@pytest.mark.parametrize("name", GUARDED)
def test_script_name_header_does_not_skip_two_factor_login(name, settings):
    settings.HB_REQUIRE_MFA = True
    world = make_client_world()
    client = Client()
    client.force_login(_admin_without_totp(world))
    path = _url(name, world)
    for prefix in PREFIXES:
        # What gunicorn builds for "GET {prefix}{path}" with "SCRIPT_NAME: {prefix}".
        response = client.get(path, SCRIPT_NAME=prefix)
        assert response.status_code == 302, (name, prefix, response.status_code)
        assert response["Location"].endswith("/accounts/2fa/totp/activate/"), (
            name,
            prefix,
            response["Location"],
        )


def test_without_script_name_the_exempt_pages_stay_reachable(settings):
    """The fix keys on the routed path, so the set-up page itself still opens."""
    settings.HB_REQUIRE_MFA = True
    world = make_client_world()
    client = Client()
    client.force_login(_admin_without_totp(world))
    assert client.get("/healthz").status_code == 200
    response = client.get("/accounts/2fa/totp/activate/")
    assert response.status_code in (200, 302)
    assert not response.get("Location", "").endswith("/totp/activate/")


def test_script_name_static_does_not_drop_no_store_from_staff_pages(settings):
    """SecurityHeadersMiddleware skips ``no-store`` for static files only, by routed path."""
    user = make_staff()
    give_totp(user)
    client = Client()
    client.force_login(user)
    response = client.get("/", SCRIPT_NAME="/static")
    assert response.status_code in (200, 302)
    assert "no-store" in response["Cache-Control"]
