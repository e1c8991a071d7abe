"""Tokens: hashed, expiring, replaced when reissued; drafts survive a dropped connection."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import override_settings

from harmonybridge.web.checkins import tokens
from tests.web import factories
from tests.web.checkins.helpers import full_post, open_link

pytestmark = pytest.mark.django_db


def test_token_is_stored_only_as_its_hash(session):
    checkin, token = factories.make_checkin(session)
    assert len(token) >= 40
    assert checkin.token_hash != token
    assert len(checkin.token_hash) == 64
    assert tokens.lookup(token) == checkin


@override_settings(HB_CHECKIN_TOKEN_HOURS=2)
def test_expired_token_gets_the_invalid_page(client, session):
    with time_machine.travel(dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC), tick=False):
        _checkin, token = factories.make_checkin(session)
    with time_machine.travel(dt.datetime(2026, 5, 1, 11, 1, tzinfo=dt.UTC), tick=False):
        response = open_link(client, token)
    assert response.status_code == 404
    assert b"This link is not valid" in response.content


def test_reissuing_replaces_the_old_link_and_keeps_the_draft(client, session):
    checkin, old = factories.make_checkin(session)
    checkin.draft = {"hb_checkin": {"1": 4}}
    checkin.save()
    again, new = tokens.issue(session, checkin.respondent)
    assert again.pk == checkin.pk
    assert again.draft == {"hb_checkin": {"1": 4}}
    assert tokens.lookup(old) is None
    assert tokens.lookup(new) == checkin


def test_a_dropped_connection_loses_nothing(client, session):
    checkin, token = factories.make_checkin(session)
    open_link(client, token)
    client.post(
        "/c/",
        {
            "checkin": str(checkin.pk),
            "s": "1",
            "hb_checkin-i1": "2",
            "hb_checkin-i2": "3",
            "hb_checkin-i3": "4",
            "hb_checkin-i4": "0",
        },
    )
    client.cookies.clear()  # a new browser: the same link still works until submitted
    open_link(client, token)
    page = client.get("/c/?s=1")
    assert 'value="3" checked' in page.text or "checked" in page.text


def test_cookie_for_another_checkin_cannot_be_forged(client, session):
    s = client.session
    s[tokens.SESSION_KEY] = "1"  # not an int: ignored
    s.save()
    assert client.get("/c/").status_code == 404


def test_qr_code_opening_is_recorded_as_the_qr_channel(client, session):
    checkin, token = factories.make_checkin(session)
    client.get(f"/c/t/{token}?via=qr")
    checkin.refresh_from_db()
    assert checkin.channel == "qr"


def test_a_new_link_ends_every_browser_that_opened_an_earlier_one(session):
    """Issue 9, fault 4: the cookie's check-in id was trusted without the link generation."""
    from django.test import Client

    checkin, old = factories.make_checkin(session)
    earlier_browser = Client()
    assert open_link(earlier_browser, old).status_code == 302
    assert earlier_browser.get("/c/").status_code == 200
    _again, new = tokens.issue(session, checkin.respondent)
    response = earlier_browser.get("/c/")
    assert b"This link is not valid" in response.content
    assert response.status_code == 404
    assert earlier_browser.post("/c/", full_post(checkin)).status_code == 404
    checkin.refresh_from_db()
    assert checkin.submitted_at is None
    # The browser that opens the new link carries on.
    newer_browser = Client()
    assert open_link(newer_browser, new).status_code == 302
    assert newer_browser.get("/c/").status_code == 200


def test_a_reminder_does_not_extend_the_check_in(practitioner):
    from django.core import mail
    from django.core.management import call_command
    from django.utils import timezone

    client = factories.make_client(practitioner, email="r@example.org")
    session = factories.make_session(factories.make_engagement(practitioner, [client]))
    checkin, _ = tokens.issue(session, client, "email")
    checkin.email_sent_at = timezone.now() - dt.timedelta(hours=30)
    checkin.save()
    deadline = checkin.expires_at
    call_command("send_checkin_reminders")
    assert len(mail.outbox) == 1
    checkin.refresh_from_db()
    assert checkin.expires_at == deadline


def test_no_reminder_for_an_expired_check_in(practitioner):
    from django.core import mail
    from django.core.management import call_command
    from django.utils import timezone

    client = factories.make_client(practitioner, email="r@example.org")
    session = factories.make_session(factories.make_engagement(practitioner, [client]))
    checkin, _ = tokens.issue(session, client, "email")
    checkin.email_sent_at = timezone.now() - dt.timedelta(hours=80)
    checkin.expires_at = timezone.now() - dt.timedelta(hours=1)
    checkin.save()
    call_command("send_checkin_reminders")
    assert mail.outbox == []
    checkin.refresh_from_db()
    assert checkin.expires_at < timezone.now()
