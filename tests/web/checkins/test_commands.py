"""Management commands: recompute_scores and send_checkin_reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from harmonybridge.web.checkins import storage, tokens
from harmonybridge.web.checkins.models import Score
from harmonybridge.web.practice import catalogue
from tests.web import factories

pytestmark = pytest.mark.django_db


def test_recompute_scores_rebuilds_deleted_scores(practitioner, session):
    inst = catalogue.instrument_for(practitioner.practice, "hb_checkin_practitioner")
    storage.store_practitioner_rating(
        session, inst, {1: 5, 2: 4, 3: 3, 4: 0}, practitioner, None
    )
    Score.objects.all().delete()
    call_command("recompute_scores")
    # (5 + 4 + 3) / 3 = 4.0
    assert Score.objects.get(subscale="").value == pytest.approx(4.0)


def test_one_reminder_with_a_fresh_link(practitioner):
    client = factories.make_client(practitioner, email="r@example.org")
    session = factories.make_session(factories.make_engagement(practitioner, [client]))
    checkin, old = tokens.issue(session, client, "email")
    checkin.email_sent_at = timezone.now() - dt.timedelta(hours=30)
    checkin.save()
    call_command("send_checkin_reminders")
    call_command("send_checkin_reminders")
    assert len(mail.outbox) == 1
    assert "Reminder" in mail.outbox[0].subject
    assert tokens.lookup(old) is None


def test_load_demo_twice_is_harmless(monkeypatch):
    from harmonybridge.web.demo import loader as demo

    calls = []

    def tiny(as_of):
        from harmonybridge.datasets import simulate_practice

        calls.append(as_of)
        sim = simulate_practice(n_practitioners=2, n_clients=12, n_sessions=8, seed=3)
        return sim

    monkeypatch.setattr(demo, "_simulate", tiny)
    first = demo.load()
    second = demo.load()
    assert first.created
    assert not second.created
    assert len(calls) == 1
    assert first.counts["responses"] > 0
