"""The session store reads what Django's database store reads (accounts/sessions.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from harmonybridge.web.accounts.sessions import SessionStore

pytestmark = pytest.mark.django_db


def test_the_settings_use_this_store(settings):
    assert settings.SESSION_ENGINE == "harmonybridge.web.accounts.sessions"


def test_a_stored_session_loads_the_same_data():
    store = SessionStore()
    store["hb_checkin_id"] = 42
    store["note"] = "synthetic"
    store.create()
    ours, django = SessionStore(store.session_key), DjangoStore(store.session_key)
    assert (
        dict(ours.items())
        == dict(django.items())
        == {
            "hb_checkin_id": 42,
            "note": "synthetic",
        }
    )
    assert ours.session_key == store.session_key


@pytest.mark.parametrize("case", ["expired", "unknown", "none"])
def test_a_missing_or_expired_session_is_empty_and_forgets_its_key(case):
    store = SessionStore()
    store["hb_checkin_id"] = 42
    store.create()
    key = store.session_key
    if case == "expired":
        Session.objects.filter(session_key=key).update(
            expire_date=timezone.now() - timedelta(seconds=1)
        )
    elif case == "unknown":
        key = "x" * 32
    else:
        key = None
    ours, django = SessionStore(key), DjangoStore(key)
    assert dict(ours.items()) == dict(django.items()) == {}
    assert ours.session_key is None
    assert django.session_key is None
