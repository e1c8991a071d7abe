"""Idle and absolute session timeouts (ASVS 7.3.1, 7.3.2; HIPAA automatic logoff)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client

from tests.web.security.support import PASSWORD, make_staff

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _login(client: Client, user) -> None:
    response = client.post(
        "/accounts/login/", {"login": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content


@pytest.mark.parametrize(
    ("minutes_idle", "still_in"),
    [
        (14, True),
        (16, False),
    ],  # idle limit is 15 minutes (settings.HB_SESSION_IDLE_SECONDS)
)
def test_idle_timeout(settings, minutes_idle, still_in):
    settings.HB_SESSION_IDLE_SECONDS = 15 * 60
    user = make_staff()
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        _login(client, user)
        assert (
            client.get("/").status_code != 302
            or "/accounts/login/" not in client.get("/")["Location"]
        )
        traveller.shift(dt.timedelta(minutes=minutes_idle))
        response = client.get("/")
    signed_out = response.status_code == 302 and response["Location"].startswith(
        "/accounts/login/"
    )
    assert signed_out is (not still_in)


def test_activity_keeps_session_until_absolute_limit(settings):
    settings.HB_SESSION_IDLE_SECONDS = 15 * 60
    settings.SESSION_COOKIE_AGE = 12 * 3600
    user = make_staff()
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        _login(client, user)
        # Active every 10 minutes for 11 h 50 min: never idle, still inside 12 h.
        for _ in range(71):
            traveller.shift(dt.timedelta(minutes=10))
            response = client.get("/")
            assert not (response.status_code == 302 and "login" in response["Location"])
        traveller.shift(dt.timedelta(minutes=11))  # 12 h 1 min after sign-in
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_timeout_logs_out_server_side(settings):
    settings.HB_SESSION_IDLE_SECONDS = 60
    user = make_staff()
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        _login(client, user)
        traveller.shift(dt.timedelta(minutes=2))
        client.get("/")
        traveller.shift(dt.timedelta(seconds=1))
        # The old session is gone: even a request within the idle window is anonymous now.
        response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_htmx_request_gets_hx_redirect(settings):
    settings.HB_SESSION_IDLE_SECONDS = 60
    user = make_staff()
    client = Client()
    with time_machine.travel(START, tick=False) as traveller:
        _login(client, user)
        traveller.shift(dt.timedelta(minutes=5))
        response = client.get("/", headers={"HX-Request": "true"})
    assert response["HX-Redirect"].startswith("/accounts/login/")


def test_session_key_changes_at_login():
    user = make_staff()
    client = Client()
    client.get("/accounts/login/")
    before = client.cookies.get("sessionid")
    _login(client, user)
    after = client.cookies["sessionid"].value
    assert before is None or before.value != after
