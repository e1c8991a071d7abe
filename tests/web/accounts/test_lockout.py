"""Login throttling locks one username from one address, never a whole practice."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.web.security.support import PASSWORD, make_practice, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    # allauth's own rate limit is looser and keyed the same way; keep it out of the way.
    settings.ACCOUNT_RATE_LIMITS = False
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.implementation = None
    yield
    AxesProxyHandler.implementation = None


def _attempt(username: str, password: str, ip: str):
    client = Client(REMOTE_ADDR=ip)
    return client.post("/accounts/login/", {"login": username, "password": password})


def _signed_in(response) -> bool:
    return response.status_code == 302 and "/accounts/" not in response["Location"]


def test_five_failures_lock_that_username_from_that_address(axes_on):
    user = make_staff()
    for _ in range(5):
        assert not _signed_in(_attempt(user.username, "wrong password!!", "10.0.0.1"))
    # Even the right password is refused from the same address now.
    assert not _signed_in(_attempt(user.username, PASSWORD, "10.0.0.1"))
    # The same account from another address still works.
    assert _signed_in(_attempt(user.username, PASSWORD, "10.0.0.2"))


def test_attacker_cannot_lock_out_the_whole_practice(axes_on):
    practice = make_practice()
    staff = [make_staff(practice) for _ in range(4)]
    for user in staff:
        for _ in range(6):
            _attempt(user.username, "wrong password!!", "10.6.6.6")
    # Every colleague signs in normally from their own address.
    for n, user in enumerate(staff):
        assert _signed_in(_attempt(user.username, PASSWORD, f"10.0.1.{n + 1}"))


def test_failed_login_is_audited_without_the_typed_password(axes_on):
    from harmonybridge.web.audit.models import AuditEvent

    user = make_staff()
    _attempt(user.username, "MARKER-typed-secret", "10.0.0.9")
    events = list(AuditEvent.objects.filter(action="login_failed"))
    assert len(events) == 1
    assert events[0].actor_id == user.pk
    assert events[0].ip_address == "10.0.0.9"
    assert "MARKER" not in repr(events[0].__dict__)


def test_unknown_user_and_wrong_password_look_the_same(axes_on):
    user = make_staff()
    a = _attempt(user.username, "wrong password!!", "10.0.0.3")
    b = _attempt("no-such-user", "wrong password!!", "10.0.0.4")
    assert a.status_code == b.status_code == 200
    assert a.context["form"].errors == b.context["form"].errors
